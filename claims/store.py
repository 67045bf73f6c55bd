"""Domain functions over the library: read, upsert, change status, follow revisions.

Every function takes a SQLAlchemy session and leaves committing to the caller (a request, a
``session_scope()`` block, a CLI command). Writes bump the library revision in the same
transaction and stamp the changed claims with it, so ``changes_since()`` is exact.
Claims are never deleted: retiring one keeps the revision trail (and the search index) whole.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, false, func, insert, or_, select, update
from sqlalchemy.orm import Session

from claims.errors import (N_, ClaimNotFound, ClaimsRejected, ImportProblem, IncompleteClaim,
                           InvalidClaim)
from claims.images import SAME_PICTURE_BITS, hash_distance
from claims.models import (CONTENT_FIELDS, STATUSES, Claim, ClaimHistory, ClaimLink, LibraryState,
                           utcnow)
from claims.urls import find_urls, url_key
from claims.validation import check_publishable, clean_claim_data, clean_status
from claims.verdicts import UNRATED, current_vocabulary

DEFAULT_LANG = "id"
TITLE_FROM_CLAIM_MAX = 160
# SQLite allows 32766 bound parameters per statement; stay far below for IN (...) lookups.
_CHUNK = 500
# A row that repeats an earlier one, by the unit rows are counted in (a whole message each, for
# the pages' translations).
_UNIT_SEEN = {
    "line": {"id": N_("claim %(claim)s already appears on line %(number)s"),
             "url": N_("the same url already appears on line %(number)s")},
    "item": {"id": N_("claim %(claim)s already appears on item %(number)s"),
             "url": N_("the same url already appears on item %(number)s")},
}


@dataclass
class ImportReport:
    """What a batch upsert did: counts, the refused rows, the library revision afterwards."""

    created: int = 0
    updated: int = 0
    skipped: list[ImportProblem] = field(default_factory=list)
    unchanged: int = 0
    revision: int = 0
    claim_ids: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Reading


def get_claim(session: Session, claim_id: str) -> Claim:
    """Return the claim with this id or raise ClaimNotFound."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise ClaimNotFound(claim_id)
    return claim


def _filters(q: str | None, status: str | None, verdict: str | None, lang: str | None) -> list:
    """Build the WHERE clauses shared by list_claims and count_claims."""
    clauses = []
    if status:
        clauses.append(Claim.status == status)
    if verdict:
        clauses.append(Claim.verdict == verdict)
    if lang:
        clauses.append(Claim.lang == lang)
    if q and q.strip():
        text = q.strip()
        clauses.append(or_(*(text_contains(column, text) for column in (
            Claim.id, Claim.title, Claim.claim, Claim.summary, Claim.url, Claim.publisher))))
    return clauses


def text_contains(column: Any, text: str) -> Any:
    """Test a column for a substring, ignoring case, the same way on SQLite and PostgreSQL.

    No stored text holds a NUL (validation refuses it; PostgreSQL could not store it), so a
    query with one matches nothing instead of failing on PostgreSQL.
    """
    if "\x00" in text:
        return false()
    return column.icontains(text, autoescape=True)


def list_claims(session: Session, q: str | None = None, status: str | None = None,
                verdict: str | None = None, lang: str | None = None, limit: int = 50,
                offset: int = 0) -> list[Claim]:
    """Return claims matching the filters (``q`` is a case-insensitive substring), newest first."""
    statement = (select(Claim).where(*_filters(q, status, verdict, lang))
                 .order_by(Claim.updated_at.desc(), Claim.id).limit(limit).offset(offset))
    return list(session.scalars(statement))


def count_claims(session: Session, q: str | None = None, status: str | None = None,
                 verdict: str | None = None, lang: str | None = None) -> int:
    """Return how many claims match the same filters as list_claims."""
    statement = select(func.count()).select_from(Claim).where(
        *_filters(q, status, verdict, lang))
    return session.scalar(statement) or 0


def published_claims(session: Session) -> list[Claim]:
    """Return every published claim, by id (what a fresh search index is built from)."""
    return list(session.scalars(
        select(Claim).where(Claim.status == "published").order_by(Claim.id)))


def load_published(session: Session, claim_ids: Iterable[str]) -> list[Claim]:
    """Give the published claims for these ids, in the order given; missing or unpublished ones skipped."""
    wanted = list(dict.fromkeys(i for i in claim_ids if i))
    if not wanted:
        return []
    found = session.scalars(select(Claim).where(Claim.id.in_(wanted))).all()
    by_id = {claim.id: claim for claim in found if claim.status == "published"}
    return [by_id[i] for i in wanted if i in by_id]


@dataclass(frozen=True)
class PublishedClaim:
    """A published fact-check as a reply shows it: read with SQLAlchemy Core, no ORM object.

    Light and immutable, so a process can keep it between messages (tipline/shown.py)."""

    id: str
    title: str
    claim: str
    verdict: str
    summary: str
    url: str | None
    published: date | None
    lang: str


_COLUMNS = Claim.__table__.c
# The status is checked here, not in SQL: with `status = 'published'` in the WHERE clause SQLite
# walks the status index (every published claim) instead of looking the ids up.
_READ_PUBLISHED = select(_COLUMNS.id, _COLUMNS.title, _COLUMNS.claim, _COLUMNS.verdict, _COLUMNS.summary,
                         _COLUMNS.url, _COLUMNS.published, _COLUMNS.lang, _COLUMNS.status
                         ).where(_COLUMNS.id.in_(bindparam("ids", expanding=True)))
_CHUNK = 500  # ids per IN (...) look-up


def read_published(session: Session, claim_ids: Iterable[str]) -> dict[str, PublishedClaim]:
    """Give the published claims among these ids, by id; missing or unpublished ones left out."""
    wanted = list(dict.fromkeys(i for i in claim_ids if i))
    found: dict[str, PublishedClaim] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(_READ_PUBLISHED, {"ids": wanted[start:start + _CHUNK]})
        found.update((row[0], PublishedClaim(*row[:-1])) for row in rows if row[-1] == "published")
    return found


def changed_ids(session: Session, revision: int) -> list[str]:
    """Give the ids of the claims changed after a revision (any status)."""
    return list(session.scalars(select(Claim.id).where(Claim.revision > revision)))


_REVISION = select(LibraryState.__table__.c.revision).where(LibraryState.__table__.c.id == 1)


def library_revision(session: Session) -> int:
    """Return the library revision: it grows with every committed change to any claim."""
    return session.scalar(_REVISION) or 0


def changes_since(session: Session, revision: int) -> list[Claim]:
    """Return every claim changed after ``revision`` (any status), ordered by revision.

    Callers should remember ``max(c.revision for c in result)`` rather than a separate
    ``library_revision()`` read, which may already include a later commit.
    """
    return list(session.scalars(
        select(Claim).where(Claim.revision > revision).order_by(Claim.revision, Claim.id)))


def claim_history(session: Session, claim_id: str) -> list[ClaimHistory]:
    """Return a claim's recorded changes, oldest first."""
    return list(session.scalars(
        select(ClaimHistory).where(ClaimHistory.claim_id == claim_id)
        .order_by(ClaimHistory.revision, ClaimHistory.id)))


# ---------------------------------------------------------------------------------------------
# Writing


def new_claim_id(title: str) -> str:
    """Make an id from the title's slug and a short random suffix."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(slug) > 60:
        slug = slug[:60].rsplit("-", 1)[0] or slug[:60]
    return f"{slug or 'claim'}-{secrets.token_hex(3)}"


def _title_from_claim(claim: str) -> str:
    """Shorten a circulated text into a display title, cut on a word boundary."""
    text = " ".join(claim.split())
    if len(text) <= TITLE_FROM_CLAIM_MAX:
        return text
    return text[:TITLE_FROM_CLAIM_MAX].rsplit(" ", 1)[0] + "…"


def _blank(status: str) -> dict[str, Any]:
    """Return the stored values of a new claim before its data is applied."""
    return {"title": "", "claim": "", "verdict": UNRATED, "verdict_raw": "", "summary": "",
            "url": None, "published": None, "lang": DEFAULT_LANG, "tags": [], "publisher": "",
            "status": status, "appearances": []}


def _merge(current: Mapping[str, Any] | None, data: Mapping[str, Any],
           status: str) -> dict[str, Any]:
    """Return the claim's content fields after applying data; checks what needs the whole."""
    merged = {name: current[name] for name in CONTENT_FIELDS} if current else _blank(status)
    merged.update((name, data[name]) for name in CONTENT_FIELDS if name in data)
    merged["tags"] = list(merged["tags"] or [])
    merged["appearances"] = [dict(item) for item in merged["appearances"] or []]
    if not merged["title"] and not merged["claim"]:
        raise InvalidClaim("title", N_("a claim needs a title or the claim text"))
    if not merged["title"]:
        merged["title"] = _title_from_claim(merged["claim"])
    return merged


def _json_value(value: Any) -> Any:
    """Make a field value JSON-safe for the history table."""
    return value.isoformat() if isinstance(value, date) else value


def _diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Return {field: [old, new]} for every content field that differs."""
    changes = {}
    for name in CONTENT_FIELDS:
        before = old[name] if old else None
        if old is None and new[name] in (None, "", []):
            continue
        if old is None or before != new[name]:
            changes[name] = [_json_value(before), _json_value(new[name])]
    return changes


def bump_revision(session: Session) -> int:
    """Increase the library revision in the current transaction and return the new value.

    The UPDATE takes the write lock (SQLite) or the row lock (PostgreSQL) until commit, so
    revisions become visible in the order they were handed out.
    """
    table = LibraryState.__table__
    result = session.execute(
        update(table).where(table.c.id == 1).values(revision=table.c.revision + 1))
    if result.rowcount == 0:
        session.execute(insert(table).values(id=1, revision=1))
        return 1
    return session.scalar(select(table.c.revision).where(table.c.id == 1))


def _unbump_revision(session: Session) -> int:
    """Undo this transaction's bump_revision() when it ends up writing nothing."""
    table = LibraryState.__table__
    session.execute(update(table).where(table.c.id == 1).values(revision=table.c.revision - 1))
    return library_revision(session)


def _fetch(session: Session, column: Any, values: Iterable[str]) -> list[dict[str, Any]]:
    """Return the stored rows whose column is in values, as plain dicts, in chunks."""
    values = list(values)
    rows: list[dict[str, Any]] = []
    table = Claim.__table__
    for start in range(0, len(values), _CHUNK):
        chunk = values[start:start + _CHUNK]
        rows.extend(dict(row) for row in session.execute(
            select(table).where(column.in_(chunk))).mappings())
    for row in rows:  # claims stored before appearances existed hold NULL
        row["appearances"] = row.get("appearances") or []
    return rows


@dataclass
class _Plan:
    """The writes a batch needs, worked out before anything is written."""

    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    order: list[str] = field(default_factory=list)


def _plan(session: Session, rows: Sequence[tuple[int, dict[str, Any]]], status: str,
          unit: str, require_complete: bool = False) -> _Plan:
    """Match cleaned rows to stored claims (by id, else by url) and work out the writes.

    require_complete: a row that leaves its claim published must make it publishable.
    """
    table = Claim.__table__
    known: dict[str, dict[str, Any]] = {}
    for row in _fetch(session, table.c.id, {d["id"] for _, d in rows if "id" in d}):
        known[row["id"]] = row
    for row in _fetch(session, table.c.url, {d["url"] for _, d in rows if d.get("url")}):
        known[row["id"]] = row
    url_owner = {row["url"]: claim_id for claim_id, row in known.items() if row["url"]}
    seen: dict[str, int] = {}
    seen_urls: dict[str, int] = {}
    plan = _Plan()
    for line, data in rows:
        try:
            url = data.get("url")
            if "id" in data:
                claim_id = data["id"]
                current = known.get(claim_id)
            else:
                owner = url_owner.get(url) if url else None
                current = known.get(owner) if owner else None
                claim_id = current["id"] if current else ""
            if claim_id and claim_id in seen:
                raise InvalidClaim("id", _UNIT_SEEN[unit]["id"], claim=repr(claim_id),
                                   number=seen[claim_id])
            if url and url in seen_urls:
                raise InvalidClaim("url", _UNIT_SEEN[unit]["url"], number=seen_urls[url])
            merged = _merge(current, data, status)
            if require_complete and merged["status"] == "published":
                check_publishable(merged)
            if not claim_id:
                claim_id = new_claim_id(merged["title"])
            owner = url_owner.get(merged["url"]) if merged["url"] else None
            if owner is not None and owner != claim_id:
                raise InvalidClaim("url", N_("is already the url of claim %(claim)s"), claim=repr(owner))
        except InvalidClaim as exc:
            plan.problems.append(ImportProblem(line, exc.field, exc.reason, unit,
                                               getattr(exc, "missing", ())))
            continue
        seen[claim_id] = line
        if url:
            seen_urls[url] = line
        if current and current["url"] and current["url"] != merged["url"]:
            url_owner.pop(current["url"], None)
        if merged["url"]:
            url_owner[merged["url"]] = claim_id
        plan.order.append(claim_id)
        if current is None:
            plan.creates.append({"id": claim_id, **merged})
        elif _diff(current, merged):
            plan.updates.append((current, {"id": claim_id, **merged}))
        else:
            plan.unchanged.append(claim_id)
    _dedupe_generated_ids(session, plan, {d["id"] for _, d in rows if "id" in d})
    return plan


def _dedupe_generated_ids(session: Session, plan: _Plan, given: set[str]) -> None:
    """Re-roll generated ids that collide with stored ids, given ids or each other."""
    generated = [row for row in plan.creates if row["id"] not in given]
    while generated:
        ids = [row["id"] for row in generated]
        taken = {row["id"] for row in _fetch(session, Claim.__table__.c.id, ids)}
        taken |= {claim_id for claim_id, n in Counter(ids).items() if n > 1}
        taken |= given.intersection(ids)
        clashes = [row for row in generated if row["id"] in taken]
        if not clashes:
            return
        for row in clashes:
            old = row["id"]
            row["id"] = new_claim_id(row["title"])
            plan.order[plan.order.index(old)] = row["id"]


def _apply(session: Session, plan: _Plan, actor: str, revision: int) -> None:
    """Write a plan with bulk statements, stamping every change with the revision."""
    now = utcnow()
    # Updates run in row order and before inserts: the planner let a row take a url only
    # once an earlier row gave it up, so the unique index never sees two owners.
    # (ORM bulk UPDATE by primary key also refreshes Claim objects already loaded.)
    if plan.updates:
        session.execute(update(Claim), [
            {**new, "updated_at": now, "revision": revision} for _, new in plan.updates])
    if plan.creates:
        session.execute(insert(Claim), [
            {**new, "created_at": now, "updated_at": now, "revision": revision}
            for new in plan.creates])
    history = [{"claim_id": new["id"], "revision": revision, "action": "created",
                "changes": _diff(None, new), "actor": actor, "at": now} for new in plan.creates]
    history += [{"claim_id": new["id"], "revision": revision, "action": "updated",
                 "changes": _diff(old, new), "actor": actor, "at": now}
                for old, new in plan.updates]
    session.execute(insert(ClaimHistory), history)
    _relink(session, [new for new in plan.creates] + [new for _, new in plan.updates])


def links_of(claim: Mapping[str, Any]) -> list[dict[str, str]]:
    """Give the ways to recognise a claim: its article's link, links in its text, appearances."""
    found: dict[tuple[str, str], str] = {}
    if claim.get("url") and (key := url_key(claim["url"])):
        found[("url", key)] = "article"
    for text in (claim.get("claim") or "", claim.get("summary") or ""):
        for link in find_urls(text):
            if key := url_key(link):
                found.setdefault(("url", key), "text")
    for item in claim.get("appearances") or []:
        if item.get("image"):
            found.setdefault(("image", item["image"]), "appearance")
        elif item.get("url") and (key := url_key(item["url"])):
            found.setdefault(("url", key), "appearance")
    return [{"kind": kind, "key": key, "source": source} for (kind, key), source in found.items()]


def _relink(session: Session, claims: Sequence[Mapping[str, Any]]) -> None:
    """Rewrite the claim_links rows of the claims just written."""
    ids = [claim["id"] for claim in claims]
    for start in range(0, len(ids), _CHUNK):
        session.execute(delete(ClaimLink).where(ClaimLink.claim_id.in_(ids[start:start + _CHUNK])))
    rows = [{"claim_id": claim["id"], **link} for claim in claims for link in links_of(claim)]
    if rows:
        session.execute(insert(ClaimLink), rows)


def claims_for_url(session: Session, url: str) -> list[Claim]:
    """Give the published claims that know this link (as written or in any normalised form)."""
    key = url_key(url)
    if key is None:
        return []
    ids = session.scalars(select(ClaimLink.claim_id).where(
        ClaimLink.kind == "url", ClaimLink.key == key).order_by(ClaimLink.id))
    return load_published(session, ids)


def claims_for_image(session: Session, image: str,
                     max_bits: int = SAME_PICTURE_BITS) -> list[tuple[Claim, int]]:
    """Give the published claims with a picture within max_bits of this hash, closest first."""
    near = sorted(
        (hash_distance(image, key), claim_id) for claim_id, key in session.execute(
            select(ClaimLink.claim_id, ClaimLink.key).where(ClaimLink.kind == "image"))
        if hash_distance(image, key) <= max_bits)
    claims = {c.id: c for c in load_published(session, [claim_id for _, claim_id in near])}
    out: dict[str, tuple[Claim, int]] = {}
    for bits, claim_id in near:
        if claim_id in claims and claim_id not in out:
            out[claim_id] = (claims[claim_id], bits)
    return list(out.values())


def upsert_claims(session: Session, rows: Iterable[tuple[int, Any]], *,
                  status: str = "published", actor: str = "cli", skip_invalid: bool = False,
                  problems: Iterable[ImportProblem] = (), unit: str = "line",
                  field_names: Mapping[str, str] | None = None,
                  require_complete: bool = False) -> ImportReport:
    """Create or update many claims (by id, else by url) under one library revision.

    ``rows`` are (line number, data) pairs; ``problems`` are rows a reader already refused.
    ``status`` is given to new claims whose data names none. Without ``skip_invalid`` the
    first problem raises ClaimsRejected and nothing is written; with it the good rows go in
    and the report lists the rest. Unchanged rows are counted but not written.
    ``require_complete``: a row that leaves its claim published without a verdict, a summary
    and a url is a problem like any other (the doors people publish through ask for this;
    archives loaded for search alone may not).
    """
    if status not in STATUSES:
        raise InvalidClaim("status", N_("must be one of %(choices)s, got %(value)s"),
                           choices=", ".join(STATUSES), value=repr(status))
    vocabulary = current_vocabulary()
    rename = dict(field_names or {})
    found = list(problems)
    cleaned: list[tuple[int, dict[str, Any]]] = []
    for line, data in rows:
        try:
            cleaned.append((line, clean_claim_data(data, vocabulary)))
        except InvalidClaim as exc:
            found.append(ImportProblem(line, exc.field, exc.reason, unit))
    session.flush()
    # Bump first: the write lock (SQLite) or row lock (PostgreSQL) on the library state is
    # held from here to commit, so the plan reads claims no other writer can change meanwhile.
    revision = bump_revision(session)
    plan = _plan(session, cleaned, status, unit, require_complete)
    found = sorted(
        (replace(p, field=rename.get(p.field, p.field) if p.field else None)
         for p in found + plan.problems),
        key=lambda p: p.line)
    refused = bool(found) and not skip_invalid
    if refused or not (plan.creates or plan.updates):
        # Nothing to write: give the revision back (nobody could see it, we hold the lock).
        revision = _unbump_revision(session)
        if refused:
            raise ClaimsRejected(found[0], found)
    else:
        _apply(session, plan, actor, revision)
    return ImportReport(created=len(plan.creates), updated=len(plan.updates), skipped=found,
                        unchanged=len(plan.unchanged), revision=revision,
                        claim_ids=plan.order)


def save_claim(session: Session, data: Mapping[str, Any], *, actor: str = "cli",
               status: str = "published", require_complete: bool = False) -> Claim:
    """Create or update one claim (by id, else by url) and return it; raises InvalidClaim.

    Only the fields present in ``data`` change on an existing claim. ``status`` is the
    status of a new claim whose data names none.
    """
    try:
        report = upsert_claims(session, [(1, data)], status=status, actor=actor,
                               require_complete=require_complete)
    except ClaimsRejected as exc:
        if exc.problem.missing:
            raise IncompleteClaim(exc.problem.missing) from None
        raise InvalidClaim(exc.field, exc.reason) from None
    return session.get(Claim, report.claim_ids[0], populate_existing=True)


def set_status(session: Session, claim_id: str, status: str, *, actor: str = "cli",
               require_complete: bool = False) -> Claim:
    """Publish, unpublish (draft) or retire a claim; a real change bumps the revision.

    require_complete: publishing a claim without a verdict, a summary and a url raises
    IncompleteClaim and changes nothing.
    """
    new_status = clean_status(status)
    if new_status is None:
        raise InvalidClaim("status", N_("must be one of %(choices)s"), choices=", ".join(STATUSES))
    revision = bump_revision(session)  # lock first, then read the claim as it now stands
    claim = session.get(Claim, claim_id, populate_existing=True)
    if claim is None or claim.status == new_status:
        _unbump_revision(session)
        if claim is None:
            raise ClaimNotFound(claim_id)
        return claim
    if require_complete and new_status == "published":
        try:
            check_publishable({name: getattr(claim, name) for name in CONTENT_FIELDS})
        except InvalidClaim:
            _unbump_revision(session)
            raise
    now = utcnow()
    session.add(ClaimHistory(claim_id=claim.id, revision=revision, action="status",
                             changes={"status": [claim.status, new_status]}, actor=actor, at=now))
    claim.status = new_status
    claim.updated_at = now
    claim.revision = revision
    session.flush()
    return claim
