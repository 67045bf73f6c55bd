"""Hoax groups: fact-checks that debunk the same claim, so the tipline gives one answer per hoax.

The same hoax is often debunked several times (it circulates again, or another desk checks it).
Each fact-check that has been grouped has one membership row: the group it belongs to, whether
an editor confirmed it, and who put it there. A fact-check without a row has not been grouped
yet (a draft, or one from before groups existed): it stands alone.

Grouping is automatic when a fact-check is published (``assign_groups``): it joins the group
of its most similar published fact-check when the two are similar enough, else it starts a
group of its own, unless each of the two states a number the other does not (``numbers_differ``:
another year, another amount, another variant), which is how near-identical claims of one
template differ. How similar two fact-checks are is not known here (claims/ knows nothing of
search): the caller hands a ``Similar`` function in. Editors confirm a group, split a
fact-check out of one, or join it to another fact-check's group; an editor's choice is never
undone by the automatic grouping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, bindparam, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from claims.db import Base
from claims.errors import ClaimNotFound
from claims.models import ID_MAX, Claim, UTCDateTime, utcnow
from claims.verdicts import UNRATED

AUTO = "auto"  # the actor of a membership the library made by itself
# A number as a claim states it: digits, with any thousands or decimal marks between them.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CHUNK = 500  # ids per IN (...) lookup

# For each fact-check asked about: other fact-checks and how similar they are (cosine, 0..1),
# most similar first. The app builds it from the search index.
Similar = Callable[[Sequence[Claim]], dict[str, list[tuple[str, float]]]]


class GroupNew(Protocol):
    """What the app hands the library's doors: grouping bound to its search index and threshold."""

    def __call__(self, session: Session, claim_ids: Sequence[str]) -> GroupReport:
        """Group these newly published claims (assign_groups), after they were committed."""

    def similar(self, claims: Sequence[Claim], fresh: bool = True) -> dict[str, list[tuple[str, float]]]:
        """Give the published claims most similar to each of these (a ``Similar``); fresh: after
        the search index caught up with the library (False: as it stands, which is quicker)."""


class HoaxGroup(Base):
    """A hoax: the fact-checks that debunk the same claim."""

    __tablename__ = "hoax_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HoaxMember(Base):
    """One fact-check's place in a hoax group, and whether an editor confirmed it."""

    __tablename__ = "hoax_members"

    claim_id: Mapped[str] = mapped_column(
        String(ID_MAX), ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("hoax_groups.id", ondelete="CASCADE"), index=True)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The similarity with the fact-check it was grouped with automatically (None: by an editor).
    similarity: Mapped[float | None] = mapped_column(Float, nullable=True)
    actor: Mapped[str] = mapped_column(String(200), default=AUTO)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        state = "confirmed" if self.confirmed else "auto"
        return f"<HoaxMember {self.claim_id!r} group {self.group_id} {state}>"


@dataclass
class GroupReport:
    """What a grouping pass did."""

    grouped: int = 0  # fact-checks that joined another one's group
    alone: int = 0  # fact-checks that started a group of their own
    joined: list[tuple[str, str, float]] = field(default_factory=list)  # (claim, matched, similarity)


# ---------------------------------------------------------------------------------------------
# Reading


def _memberships(session: Session, claim_ids: Iterable[str]) -> dict[str, HoaxMember]:
    """Give the membership rows of these claims, by claim id."""
    wanted = list(dict.fromkeys(claim_ids))
    found: dict[str, HoaxMember] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found.update((m.claim_id, m) for m in session.scalars(
            select(HoaxMember).where(HoaxMember.claim_id.in_(chunk))))
    return found


def group_ids(session: Session, claim_ids: Iterable[str]) -> dict[str, int]:
    """Give the group of each of these claims that has one."""
    return {claim_id: m.group_id for claim_id, m in _memberships(session, claim_ids).items()}


def members(session: Session, claim_id: str) -> list[tuple[Claim, HoaxMember | None]]:
    """Give a claim's group: every member with its membership, the claim itself first.

    A claim never grouped stands alone: itself, without a membership.
    """
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise ClaimNotFound(claim_id)
    own = session.get(HoaxMember, claim_id)
    if own is None:
        return [(claim, None)]
    rows = session.execute(
        select(Claim, HoaxMember).join(HoaxMember, HoaxMember.claim_id == Claim.id)
        .where(HoaxMember.group_id == own.group_id)
        .order_by(Claim.published.desc().nulls_last(), Claim.id)).all()
    return sorted(((c, m) for c, m in rows), key=lambda row: row[0].id != claim_id)


def published_groups(session: Session, claim_ids: Iterable[str]) -> dict[str, list[Claim]]:
    """Give, for each of these claims that is grouped, the published claims of its group."""
    own = _memberships(session, claim_ids)
    wanted = sorted({m.group_id for m in own.values()})
    by_group: dict[int, list[Claim]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        # The status is checked here: in SQL, SQLite would walk every published claim for it.
        for claim, group_id in session.execute(
                select(Claim, HoaxMember.group_id).join(HoaxMember, HoaxMember.claim_id == Claim.id)
                .where(HoaxMember.group_id.in_(chunk))
                .order_by(Claim.id)):
            if claim.status == "published":
                by_group.setdefault(group_id, []).append(claim)
    return {claim_id: by_group.get(m.group_id, []) for claim_id, m in own.items()}


_OWN, _OTHER = HoaxMember.__table__.alias("own"), HoaxMember.__table__.alias("other")
_GROUPS_OF = (select(_OWN.c.claim_id, _OWN.c.group_id, _OTHER.c.claim_id, _OTHER.c.confirmed)
              .join(_OTHER, _OTHER.c.group_id == _OWN.c.group_id)
              .where(_OWN.c.claim_id.in_(bindparam("ids", expanding=True)))
              .order_by(_OWN.c.claim_id, _OTHER.c.claim_id))  # Core, built once: every message runs it


@dataclass(frozen=True)
class GroupOf:
    """A grouped claim's hoax group: its id and every member (claim id, confirmed by an editor),
    by claim id."""

    group_id: int
    members: tuple[tuple[str, bool], ...]


def groups_of(session: Session, claim_ids: Iterable[str]) -> dict[str, GroupOf]:
    """Give the group of each of these claims that is grouped, with all its members (any status).

    One query per 500 claims, from the claims' own memberships to their groups' (both by index):
    what the tipline needs to offer one fact-check per hoax."""
    wanted = list(dict.fromkeys(claim_ids))
    rows: dict[str, tuple[int, list[tuple[str, bool]]]] = {}
    for start in range(0, len(wanted), _CHUNK):
        for claim_id, group_id, member, confirmed in session.execute(
                _GROUPS_OF, {"ids": wanted[start:start + _CHUNK]}):
            rows.setdefault(claim_id, (group_id, []))[1].append((member, bool(confirmed)))
    return {claim_id: GroupOf(group_id, tuple(members)) for claim_id, (group_id, members) in rows.items()}


def confirmed_ids(session: Session, claim_ids: Iterable[str]) -> set[str]:
    """Give which of these claims an editor confirmed in their group."""
    return {claim_id for claim_id, m in _memberships(session, claim_ids).items() if m.confirmed}


def best_member(claims: Sequence[Claim]) -> Claim:
    """Pick the fact-check that best answers for its group.

    Best: one with a verdict (not unrated), then one with a link to read, then the most
    recently published (a hoax that circulates again is checked again with what is known
    now); on a tie, the first given (the search's order).
    """
    def key(pair: tuple[int, Claim]):
        rank, claim = pair
        return (claim.verdict not in ("", None, UNRATED), bool((claim.url or "").strip()),
                claim.published or date.min, -rank)

    return max(enumerate(claims), key=key)[1]


# ---------------------------------------------------------------------------------------------
# Writing


def _new_group(session: Session) -> int:
    group = HoaxGroup(created_at=utcnow())
    session.add(group)
    session.flush()
    return group.id


def _put(session: Session, found: dict[str, HoaxMember], claim_id: str, group_id: int, *,
         confirmed: bool, actor: str, similarity: float | None = None) -> HoaxMember:
    """Place a claim in a group, creating or moving its membership."""
    member = found.get(claim_id)
    if member is None:
        member = HoaxMember(claim_id=claim_id)
        session.add(member)
        found[claim_id] = member
    member.group_id, member.confirmed, member.actor = group_id, confirmed, actor
    member.similarity, member.updated_at = similarity, utcnow()
    return member


def _drop_empty_groups(session: Session, group_ids: Iterable[int]) -> None:
    session.flush()
    empty = [g for g in set(group_ids) if session.scalar(
        select(HoaxMember.claim_id).where(HoaxMember.group_id == g).limit(1)) is None]
    if empty:
        session.execute(delete(HoaxGroup).where(HoaxGroup.id.in_(empty)))


def numbers_of(claim: Claim) -> set[str]:
    """Give the numbers a fact-check's title and claim state, marks left out ("3.500" -> "3500")."""
    text = " ".join(part for part in (claim.title, claim.claim) if part)
    return {re.sub(r"[.,]", "", number).lstrip("0") or "0" for number in _NUMBER.findall(text)}


def numbers_differ(a: Claim, b: Claim) -> bool:
    """Say whether each of two fact-checks states a number the other does not.

    Near-identical claims of one template differ by their number: another year's Darwin Awards,
    a $100 coupon against a $75 one, bansos of Rp 600 ribu against Rp 3,5 juta. A number only
    one of them states (a date in one title) says nothing: both must hold one of their own.
    """
    return stated_apart(numbers_of(a), numbers_of(b))


def stated_apart(mine: set[str], theirs: set[str]) -> bool:
    """Say whether each of two sets of numbers (numbers_of) holds one the other lacks."""
    return bool(mine - theirs) and bool(theirs - mine)


def assign_groups(session: Session, claim_ids: Iterable[str], similar: Similar,
                  threshold: float) -> GroupReport:
    """Group published claims that are not grouped yet: each joins its most similar one's group.

    In the order given (an import's order): a claim whose most similar published claim reaches
    the threshold joins that claim's group (a claim not grouped yet gets a group with it);
    otherwise it starts a group of its own. A neighbour whose numbers differ from the claim's
    (``numbers_differ``) is passed over for the next one. Claims already grouped, drafts and retired claims
    are left as they are. One call of ``similar`` for the whole batch.
    """
    wanted = list(dict.fromkeys(claim_ids))
    found = _memberships(session, wanted)
    todo = _published(session, [i for i in wanted if i not in found])
    report = GroupReport()
    if not todo:
        return report
    neighbours = similar(todo)
    candidates = {other for pairs in neighbours.values() for other, _ in pairs}
    published = {c.id: c for c in _published(session, candidates)}
    found.update(_memberships(session, candidates))
    for claim in todo:
        if claim.id in found:  # an earlier claim of this batch took it into its group
            continue
        best = next(((other, score) for other, score in neighbours.get(claim.id, [])
                     if other != claim.id and other in published
                     and not numbers_differ(claim, published[other])), None)
        if best is None or best[1] < threshold:
            _put(session, found, claim.id, _new_group(session), confirmed=False, actor=AUTO)
            report.alone += 1
            continue
        other, score = best[0], round(float(best[1]), 4)
        if other not in found:
            _put(session, found, other, _new_group(session), confirmed=False, actor=AUTO,
                 similarity=score)
        _put(session, found, claim.id, found[other].group_id, confirmed=False, actor=AUTO,
             similarity=score)
        report.grouped += 1
        report.joined.append((claim.id, other, score))
    session.flush()
    return report


def ungrouped_published(session: Session) -> list[str]:
    """Give the published claims never grouped, oldest publication first (what to group)."""
    grouped = select(HoaxMember.claim_id)
    return list(session.scalars(
        select(Claim.id).where(Claim.status == "published", Claim.id.not_in(grouped))
        .order_by(Claim.published, Claim.created_at, Claim.id)))


def _published(session: Session, claim_ids: Iterable[str]) -> list[Claim]:
    wanted = list(dict.fromkeys(claim_ids))
    found: dict[str, Claim] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found.update((c.id, c) for c in session.scalars(select(Claim).where(Claim.id.in_(chunk)))
                     if c.status == "published")  # checked here: see published_groups
    return [found[i] for i in wanted if i in found]


def confirm_group(session: Session, claim_id: str, *, actor: str) -> int:
    """Confirm a claim's group as an editor sees it: every member is confirmed; give how many."""
    rows = members(session, claim_id)
    found = _memberships(session, [c.id for c, _ in rows])
    group_id = found[claim_id].group_id if claim_id in found else _new_group(session)
    for claim, _ in rows:
        _put(session, found, claim.id, group_id, confirmed=True, actor=actor)
    session.flush()
    return len(rows)


def split_out(session: Session, claim_id: str, *, actor: str) -> None:
    """Take a claim out of its group: it stands alone, and the automatic grouping leaves it so."""
    if session.get(Claim, claim_id) is None:
        raise ClaimNotFound(claim_id)
    found = _memberships(session, [claim_id])
    old = found[claim_id].group_id if claim_id in found else None
    _put(session, found, claim_id, _new_group(session), confirmed=True, actor=actor)
    if old is not None:
        _drop_empty_groups(session, [old])
    session.flush()


def join_group(session: Session, claim_id: str, other_id: str, *, actor: str) -> int:
    """Move a claim into another claim's group, both confirmed by the editor; give the group."""
    if claim_id == other_id:
        raise ValueError("a fact-check cannot join its own group")
    for wanted in (claim_id, other_id):
        if session.get(Claim, wanted) is None:
            raise ClaimNotFound(wanted)
    found = _memberships(session, [claim_id, other_id])
    old = found[claim_id].group_id if claim_id in found else None
    if other_id in found:
        group_id = found[other_id].group_id
        found[other_id].confirmed, found[other_id].actor = True, actor
        found[other_id].updated_at = utcnow()
    else:
        group_id = _new_group(session)
        _put(session, found, other_id, group_id, confirmed=True, actor=actor)
    _put(session, found, claim_id, group_id, confirmed=True, actor=actor)
    if old is not None and old != group_id:
        _drop_empty_groups(session, [old])
    session.flush()
    return group_id


__all__ = [
    "AUTO", "GroupNew", "GroupReport", "HoaxGroup", "HoaxMember", "Similar", "assign_groups", "best_member",
    "confirm_group", "confirmed_ids", "group_ids", "join_group", "members", "published_groups",
    "split_out", "ungrouped_published",
]
