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

Review pairs (``HoaxPair``): many fact-checks of one hoax are a little less similar than the
automatic grouping asks, where joining them automatically would also join different hoaxes; and
the automatic grouping refuses near-identical ones whose numbers differ. Only an editor can tell
those apart, so the grouping records them as it goes: each published fact-check's neighbours from
``review_from`` up that end in another group become a pair to review. An editor says "same hoax"
(the two are joined, confirmed) or "different" (the pair, and every other pair between the two
groups, is closed for good, whatever later edits change). ``find_pairs`` records them for a library
grouped before pairs existed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import (Boolean, Float, ForeignKey, Index, Integer, String, and_, bindparam, delete,
                        func, or_, select, tuple_)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from claims.db import Base
from claims.errors import ClaimNotFound
from claims.models import ID_MAX, Claim, ClaimHistory, LibraryState, UTCDateTime, utcnow
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

    def pairs(self, session: Session, claim_ids: Sequence[str], fresh: bool = True) -> int:
        """Record the review pairs of these published claims (find_pairs); give how many are new."""


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


OPEN, SAME, DIFFERENT = "open", "same", "different"  # a review pair's states


class HoaxPair(Base):
    """Two published fact-checks in different groups that may debunk the same hoax: for an editor.

    Each pair once: ``claim_id`` is the smaller id. ``numbers_differ``: the automatic grouping
    would not join them because each states a number the other does not.
    """

    __tablename__ = "hoax_pairs"
    __table_args__ = (Index("ix_hoax_pairs_status_similarity", "status", "similarity"),)

    claim_id: Mapped[str] = mapped_column(
        String(ID_MAX), ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[str] = mapped_column(
        String(ID_MAX), ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True, index=True)
    similarity: Mapped[float] = mapped_column(Float)
    numbers_differ: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)  # open | same | different
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)  # who decided
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<HoaxPair {self.claim_id!r} {self.other_id!r} {self.status}>"


class PairNotOpen(LookupError):
    """The pair is not waiting for a decision: decided already, or one side is gone or joined."""


@dataclass
class GroupReport:
    """What a grouping pass did."""

    grouped: int = 0  # fact-checks that joined another one's group
    alone: int = 0  # fact-checks that started a group of their own
    joined: list[tuple[str, str, float]] = field(default_factory=list)  # (claim, matched, similarity)
    pairs: int = 0  # new pairs for an editor to review


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


def numbers_apart(a: Claim, b: Claim) -> tuple[list[str], list[str]]:
    """Give the numbers each of two fact-checks states and the other does not, as stated."""
    def stated(claim: Claim) -> dict[str, str]:
        text = " ".join(part for part in (claim.title, claim.claim) if part)
        return {re.sub(r"[.,]", "", n).lstrip("0") or "0": n for n in reversed(_NUMBER.findall(text))}

    mine, theirs = stated(a), stated(b)
    return ([mine[k] for k in sorted(mine.keys() - theirs.keys())],
            [theirs[k] for k in sorted(theirs.keys() - mine.keys())])


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
                  threshold: float, review_from: float | None = None) -> GroupReport:
    """Group published claims that are not grouped yet: each joins its most similar one's group.

    In the order given (an import's order): a claim whose most similar published claim reaches
    the threshold joins that claim's group (a claim not grouped yet gets a group with it);
    otherwise it starts a group of its own. A neighbour whose numbers differ from the claim's
    (``numbers_differ``) is passed over for the next one. Claims already grouped, drafts and retired claims
    are left as they are. One call of ``similar`` for the whole batch. review_from: the
    neighbours from this similarity that end in another group become pairs to review (None: none).
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
    if review_from is not None:
        report.pairs = _record_pairs(session, todo, neighbours, published, found, review_from)
    return report


def _record_pairs(session: Session, claims: Sequence[Claim], neighbours: dict[str, list[tuple[str, float]]],
                  published: dict[str, Claim], found: dict[str, HoaxMember], review_from: float) -> int:
    """Record as pairs to review the neighbours from review_from in another group; give how many
    are new. A pair already recorded stays as it is (open, or as an editor decided it)."""
    seen: dict[tuple[str, str], dict] = {}
    for claim in claims:
        for other, score in neighbours.get(claim.id, []):
            if other == claim.id or other not in published or score < review_from:
                continue
            mine, theirs = found.get(claim.id), found.get(other)
            if mine is not None and theirs is not None and mine.group_id == theirs.group_id:
                continue
            key = (min(claim.id, other), max(claim.id, other))
            if key not in seen:
                seen[key] = {"claim_id": key[0], "other_id": key[1], "similarity": round(float(score), 4),
                             "numbers_differ": numbers_differ(claim, published[other]),
                             "status": OPEN, "created_at": utcnow()}
    if not seen:
        return 0
    keys = list(seen)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        for known in session.execute(select(HoaxPair.claim_id, HoaxPair.other_id).where(
                tuple_(HoaxPair.claim_id, HoaxPair.other_id).in_(chunk))):
            seen.pop(tuple(known), None)
    if seen:
        # Two publications at once may record one pair each: the second one's row is skipped.
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(HoaxPair).on_conflict_do_nothing(), list(seen.values()))
    return len(seen)


def find_pairs(session: Session, claim_ids: Iterable[str], similar: Similar, review_from: float) -> int:
    """Record the pairs to review of these published claims, grouped or not; give how many are new.

    For a library grouped before pairs existed (`flask claims pairs`): one call of ``similar``."""
    claims = _published(session, claim_ids)
    if not claims:
        return 0
    neighbours = similar(claims)
    candidates = {other for pairs in neighbours.values() for other, _ in pairs}
    published = {c.id: c for c in _published(session, candidates)}
    published.update((c.id, c) for c in claims)
    found = _memberships(session, [*published])
    return _record_pairs(session, claims, neighbours, published, found, review_from)


_A, _B = aliased(Claim, name="a"), aliased(Claim, name="b")
_MA, _MB = aliased(HoaxMember, name="ma"), aliased(HoaxMember, name="mb")


def _open_pairs(*columns):
    """The open pairs whose two sides are published and in different groups (or ungrouped)."""
    return (select(*(columns or (HoaxPair, _A, _B))).select_from(HoaxPair)
            .join(_A, _A.id == HoaxPair.claim_id).join(_B, _B.id == HoaxPair.other_id)
            .outerjoin(_MA, _MA.claim_id == HoaxPair.claim_id)
            .outerjoin(_MB, _MB.claim_id == HoaxPair.other_id)
            .where(HoaxPair.status == OPEN, _A.status == "published", _B.status == "published",
                   or_(_MA.group_id.is_(None), _MB.group_id.is_(None), _MA.group_id != _MB.group_id)))


def open_pairs(session: Session, limit: int, offset: int = 0) -> list[tuple[HoaxPair, Claim, Claim]]:
    """Give the pairs waiting for an editor, most similar first: (pair, its claim, the other)."""
    query = _open_pairs().order_by(HoaxPair.similarity.desc(), HoaxPair.claim_id, HoaxPair.other_id)
    return [tuple(row) for row in session.execute(query.limit(limit).offset(offset))]


def count_open_pairs(session: Session) -> int:
    """Give how many pairs wait for an editor."""
    return session.scalar(_open_pairs(func.count())) or 0


def log_hoax_change(session: Session, claim_id: str, action: str, other_id: str, *, actor: str,
                    left: bool = False) -> None:
    """Write an editor's hoax decision into a fact-check's history: "same_hoax" or "other_hoax"
    as other_id, or "split_out" of other_id's group (left). The library's revision stays: the
    fact-check's text did not change."""
    revision = session.scalar(select(LibraryState.revision).where(LibraryState.id == 1)) or 0
    session.add(ClaimHistory(claim_id=claim_id, revision=revision, action=action, actor=actor, at=utcnow(),
                             changes={"other": [other_id, None] if left else [None, other_id]}))


def decide_pair(session: Session, claim_id: str, other_id: str, same: bool, *, actor: str) -> int | None:
    """Decide a pair as an editor: the same hoax (joined, confirmed) or different; give the group
    when joined. The history of both fact-checks says so.

    Same: the one whose group is smaller joins the other's group (join_group), so a group of
    several is not broken up; its open pairs with that group are closed too. Different: every
    open pair between the two groups is closed too.
    Raises PairNotOpen when the pair waits for no decision any more.
    """
    key = (min(claim_id, other_id), max(claim_id, other_id))
    row = session.execute(_open_pairs().where(HoaxPair.claim_id == key[0],
                                              HoaxPair.other_id == key[1])).first()
    if row is None:
        raise PairNotOpen(f"{key[0]} / {key[1]}")
    now = utcnow()
    sides = {key[0]: [c.id for c, _ in members(session, key[0])],
             key[1]: [c.id for c, _ in members(session, key[1])]}
    group, mine, theirs = None, sides[key[0]], sides[key[1]]
    if same:
        mover, stayer = sorted(key, key=lambda side: (len(sides[side]), side != key[1]))
        group = join_group(session, mover, stayer, actor=actor)
        mine, theirs = [mover], sides[stayer]  # the mover's old group-mates stay apart
    closed = list(session.scalars(select(HoaxPair).where(HoaxPair.status == OPEN, or_(
        and_(HoaxPair.claim_id.in_(mine), HoaxPair.other_id.in_(theirs)),
        and_(HoaxPair.claim_id.in_(theirs), HoaxPair.other_id.in_(mine))))))
    for done in closed:
        done.status, done.actor, done.decided_at = (SAME if same else DIFFERENT), actor, now
    for me, you in (key, key[::-1]):
        log_hoax_change(session, me, "same_hoax" if same else "other_hoax", you, actor=actor)
    session.flush()
    return group


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
    "AUTO", "DIFFERENT", "OPEN", "SAME", "GroupNew", "GroupReport", "HoaxGroup", "HoaxMember", "HoaxPair",
    "PairNotOpen", "Similar", "assign_groups", "best_member", "confirm_group", "confirmed_ids",
    "count_open_pairs", "decide_pair", "find_pairs", "group_ids", "join_group", "log_hoax_change", "members",
    "numbers_apart", "open_pairs", "published_groups", "split_out", "ungrouped_published",
]
