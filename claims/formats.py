"""Import and export of the library: JSONL, CSV and schema.org ClaimReview (JSON-LD).

Readers turn a file into numbered rows (or row problems) without touching the database;
``import_file`` hands them to ``store.upsert_claims``, which validates everything before it
writes anything, in the caller's transaction.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claims.errors import N_, ClaimsRejected, ImportProblem, Reason
from claims.models import Claim
from claims.store import ImportReport, upsert_claims
from claims.validation import kind_of
from claims.verdicts import UNRATED, current_vocabulary

FORMATS = ("jsonl", "csv", "claimreview")
CSV_COLUMNS = ("id", "title", "claim", "verdict", "verdict_raw", "summary", "url", "date",
               "lang", "tags", "publisher", "status", "appearances", "created_at", "updated_at")
_EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonlines": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".json": "claimreview", ".jsonld": "claimreview", ".html": "claimreview",
    ".htm": "claimreview",
}
# Where a stored field comes from in a ClaimReview, for error messages.
CLAIMREVIEW_FIELDS = {
    "id": "identifier", "title": "headline", "claim": "claimReviewed",
    "verdict": "reviewRating.alternateName", "summary": "description", "url": "url",
    "date": "datePublished", "lang": "inLanguage", "publisher": "author.name",
    "tags": "keywords", "status": "creativeWorkStatus", "appearances": "itemReviewed.appearance",
}
# How a picture's perceptual hash travels in a ClaimReview: schema.org has no property for it.
PHASH_PROPERTY = "phash"
_LD_SCRIPT_RE = re.compile(
    r"<script[^>]*type\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script>",
    re.IGNORECASE | re.DOTALL)

Source = str | os.PathLike[str] | IO[str] | IO[bytes]


class UnknownFormat(ValueError):
    """A file whose format could not be told from its name or its first bytes."""

    def __init__(self, message: str, **values: Any):
        self.reason = Reason(message, values)
        super().__init__(str(self.reason))


# The json module's reasons (its own words are English) and ours, marked for the pages.
JSON_REASONS = {
    "Expecting value": N_("a value is missing or is not JSON"),
    "Expecting ',' delimiter": N_("a comma is missing"),
    "Expecting ':' delimiter": N_("a colon is missing after a name"),
    "Expecting property name enclosed in double quotes":
        N_("a name is not in double quotes, or a comma is left before the closing brace"),
    "Unterminated string starting at": N_("a quoted text is never closed"),
    "Invalid control character at": N_("a quoted text holds a control character such as a line break"),
    "Invalid \\escape": N_("a backslash escape is not valid"),
    "Invalid \\uXXXX escape": N_("a \\u escape is not valid"),
    "Extra data": N_("something follows the end of the JSON"),
}


def _bad_json(exc: json.JSONDecodeError) -> Reason:
    """Say why a line is not JSON, and at which column, in our marked words."""
    why = JSON_REASONS.get(exc.msg)
    if why is None:
        return Reason(N_("invalid JSON at column %(column)s"), {"column": exc.colno})
    return Reason(N_("invalid JSON: %(why)s, at column %(column)s"), {"why": Reason(why), "column": exc.colno})


def _bad_csv(exc: csv.Error) -> Reason:
    """Say why the csv module stopped, in our marked words (its own are English)."""
    said = str(exc)
    if "end of data" in said:
        return Reason(N_("a quoted value is never closed"))
    if "expected after" in said:
        return Reason(N_("a quote inside a quoted value is not doubled"))
    if "field limit" in said:
        return Reason(N_("a value is longer than %(most)s characters"), {"most": csv.field_size_limit()})
    return Reason(N_("the CSV cannot be read here"))


@dataclass
class SourceRow:
    """One row read from a file: its data, or the reason it could not be read."""

    line: int
    data: dict[str, Any] | None = None
    problem: ImportProblem | None = None


# ---------------------------------------------------------------------------------------------
# Reading


_UNREADABLE = {  # the system's own words for these are English: ours are translated
    errno.ENOENT: N_("%(path)s: no such file"),
    errno.EACCES: N_("%(path)s: not allowed to read it"),
    errno.EPERM: N_("%(path)s: not allowed to read it"),
    errno.EISDIR: N_("%(path)s is a folder, not a file"),
}


def _cannot_read(path, exc: OSError) -> tuple[str, dict]:
    """Give the message and its values for a file that could not be opened."""
    message = _UNREADABLE.get(exc.errno)
    if message is not None:
        return message, {"path": path}
    return N_("cannot read %(path)s: %(error)s"), {"path": path, "error": exc.strerror or exc}


def _read_text(source: Source) -> str:
    """Return a file's text (UTF-8, BOM allowed); a decoding error names its line."""
    if isinstance(source, (str, os.PathLike)):
        try:
            payload: str | bytes = Path(source).read_bytes()
        except OSError as exc:
            raise ClaimsRejected(ImportProblem(0, None, Reason(*_cannot_read(source, exc)))) from None
    else:
        payload = source.read()
    if isinstance(payload, str):
        return payload.removeprefix("\ufeff")
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = payload.count(b"\n", 0, exc.start) + 1
        raise ClaimsRejected(ImportProblem(line, None, N_("is not UTF-8 text"))) from None


def read_jsonl(source: Source) -> list[SourceRow]:
    """Read JSON Lines: one object per line; blank lines are skipped, others must parse."""
    rows = []
    # Split on "\n" only: JSON strings may hold U+2028, which str.splitlines() breaks on.
    for number, line in enumerate(_read_text(source).split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(SourceRow(number, problem=ImportProblem(number, None, _bad_json(exc))))
            continue
        if not isinstance(data, dict):
            rows.append(SourceRow(number, problem=ImportProblem(number, None, Reason(
                N_("expected a JSON object, got %(type)s"), {"type": kind_of(data)}))))
            continue
        rows.append(SourceRow(number, data))
    return rows


def _sniff_delimiter(header: str) -> str:
    """Pick the delimiter the header line uses most (spreadsheets in id-ID write ";")."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(source: Source) -> list[SourceRow]:
    """Read CSV with a header row naming the columns (id, title, claim, verdict, …)."""
    text = _read_text(source)
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    # strict: a quote left open is an error, not a value that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise ClaimsRejected(ImportProblem(1, None, Reason(N_("unreadable CSV header: %(why)s"),
                                                           {"why": _bad_csv(exc)}))) from None
    columns = [name.strip().lower() for name in header]
    duplicates = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicates:
        raise ClaimsRejected(ImportProblem(1, duplicates[0],
                                           N_("column appears twice in the header")))
    if not {"title", "claim", "id", "url"} & set(columns):
        raise ClaimsRejected(ImportProblem(
            1, None, N_("the header needs at least one of the columns title, claim, id, url")))
    rows = []
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The csv module cannot resynchronise after a broken quote; stop here.
            rows.append(SourceRow(start, problem=ImportProblem(start, None, _bad_csv(exc))))
            break
        last_line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(columns):
            # A misplaced delimiter or quote shifts every value after it: refuse, never guess.
            # (To update only some columns, name only those in the header.)
            missing = columns[len(values)] if len(values) < len(columns) else None
            rows.append(SourceRow(start, problem=ImportProblem(start, missing or None, Reason(
                N_("has %(values)s values but the header has %(columns)s columns"),
                {"values": len(values), "columns": len(columns)}))))
            continue
        rows.append(SourceRow(start, {name: value for name, value in zip(columns, values)
                                      if name}))
    return rows


def _is_claimreview(node: dict[str, Any]) -> bool:
    """Tell whether a JSON-LD node is typed ClaimReview (also "schema:…", full IRIs)."""
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and re.split(r"[/:#]", t)[-1] == "ClaimReview" for t in types)


def _find_claimreviews(node: Any, found: list[dict[str, Any]]) -> None:
    """Collect ClaimReview nodes anywhere in a JSON-LD document (graph, list, nested)."""
    if isinstance(node, list):
        for item in node:
            _find_claimreviews(item, found)
    elif isinstance(node, dict):
        if _is_claimreview(node):
            found.append(node)
            return
        for value in node.values():
            _find_claimreviews(value, found)


def _first(value: Any) -> Any:
    """Return the first of a JSON-LD multi-value, or the value itself."""
    return (value[0] if value else None) if isinstance(value, list) else value


def _name(value: Any) -> Any:
    """Return the name of a JSON-LD thing given as text or as an object with a name."""
    value = _first(value)
    return value.get("name") if isinstance(value, dict) else value


def _claimreview_row(node: dict[str, Any]) -> dict[str, Any]:
    """Map one ClaimReview node onto claim fields; only keys the node has are set."""
    row: dict[str, Any] = {}
    if "identifier" in node:
        identifier = _first(node["identifier"])
        row["id"] = identifier.get("value") if isinstance(identifier, dict) else identifier
    for key in ("headline", "name"):
        if key in node:
            row["title"] = _first(node[key])
            break
    if "claimReviewed" in node:
        row["claim"] = _first(node["claimReviewed"])
    if "reviewRating" in node:
        rating = _first(node["reviewRating"])
        if isinstance(rating, dict):
            row["verdict"] = rating.get("alternateName", rating.get("name"))
        else:
            row["verdict"] = rating
    for key in ("description", "reviewBody"):
        if key in node:
            row["summary"] = _first(node[key])
            break
    if "url" in node:
        url = _first(node["url"])
        row["url"] = url.get("@id") if isinstance(url, dict) else url
    if "datePublished" in node:
        row["date"] = _first(node["datePublished"])
    if "inLanguage" in node:
        lang = _first(node["inLanguage"])
        if isinstance(lang, dict):
            lang = lang.get("alternateName") or lang.get("name")
        row["lang"] = lang
    for key in ("author", "publisher"):
        if key in node:
            row["publisher"] = _name(node[key])
            break
    if "keywords" in node:
        row["tags"] = node["keywords"]
    if "creativeWorkStatus" in node:
        row["status"] = _first(node["creativeWorkStatus"])
    reviewed = _first(node.get("itemReviewed"))
    if isinstance(reviewed, dict) and ("appearance" in reviewed or "firstAppearance" in reviewed):
        row["appearances"] = [
            _appearance(item) for key in ("firstAppearance", "appearance")
            for item in (reviewed.get(key) if isinstance(reviewed.get(key), list)
                         else [reviewed.get(key)])
            if item]
    return row


def _appearance(item: Any) -> Any:
    """Map one ClaimReview appearance (a URL, a CreativeWork, an ImageObject) onto ours."""
    if not isinstance(item, dict):
        return item  # a bare URL; validation refuses anything else
    url = item.get("url") or item.get("contentUrl") or item.get("@id")
    url = _first(url)
    entry: dict[str, Any] = {"url": url} if isinstance(url, str) else {}
    identifiers = item.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else [identifiers]:
        if isinstance(identifier, dict) and identifier.get("propertyID") == PHASH_PROPERTY:
            entry["image"] = identifier.get("value")
    if entry.get("image") and item.get("name"):
        entry["name"] = _first(item["name"])
    return entry or item


def read_claimreview(source: Source) -> list[SourceRow]:
    """Read schema.org ClaimReview JSON-LD: one object, a list, a page's @graph, or HTML.

    Rows are numbered by item (the n-th ClaimReview found). ``itemReviewed.appearance`` and
    ``firstAppearance`` become the claim's appearances (links; pictures by an ImageObject's
    "phash" identifier); ``identifier`` becomes the claim id and ``creativeWorkStatus`` its status.
    """
    text = _read_text(source)
    if text.lstrip().startswith("<"):
        documents = []
        for block in _LD_SCRIPT_RE.findall(text):
            try:
                documents.append(json.loads(block))
            except json.JSONDecodeError:
                continue  # other scripts on the page are none of our business
    else:
        try:
            documents = [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise ClaimsRejected(ImportProblem(exc.lineno, None, _bad_json(exc))) from None
    found: list[dict[str, Any]] = []
    _find_claimreviews(documents, found)
    if not found:
        raise ClaimsRejected(ImportProblem(0, None, N_("no ClaimReview object found in the file")))
    return [SourceRow(number, _claimreview_row(node)) for number, node in enumerate(found, 1)]


READERS = {"jsonl": read_jsonl, "csv": read_csv, "claimreview": read_claimreview}


def detect_format(path: str | os.PathLike[str]) -> str:
    """Tell a file's format from its extension, else from its first bytes."""
    suffix = Path(path).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536).decode("utf-8-sig", errors="replace").lstrip()
    except OSError as exc:
        message, params = _cannot_read(path, exc)
        raise UnknownFormat(message, **params) from None
    if not head:
        raise UnknownFormat(N_("%(path)s is empty; pass the format explicitly"), path=path)
    if head[0] in "<[":
        return "claimreview"
    if head[0] == "{":
        try:
            first = json.loads(head.split("\n", 1)[0])
        except json.JSONDecodeError:
            return "claimreview"  # a pretty-printed JSON document
        is_ld = isinstance(first, dict) and ("@context" in first or "@type" in first)
        return "claimreview" if is_ld else "jsonl"
    return "csv"


def import_file(session: Session, path: Source, fmt: str | None = None,
                skip_invalid: bool = False, status: str = "published",
                actor: str = "cli", require_complete: bool = False) -> ImportReport:
    """Upsert every claim of a file (by id, else by url) in the session's transaction.

    A bad row raises ClaimsRejected naming its line and field and nothing is written; with
    ``skip_invalid`` the good rows go in and ``report.skipped`` lists the others. ``status``
    is given to new claims whose row names none. ``require_complete``: a row left published
    without a verdict, a summary and a url is a bad row. The caller commits.
    """
    if fmt is None:
        if not isinstance(path, (str, os.PathLike)):
            raise UnknownFormat(N_("reading from a stream needs an explicit format"))
        fmt = detect_format(path)
    if fmt not in READERS:
        raise UnknownFormat(N_("unknown format %(format)s (expected one of %(formats)s)"),
                            format=repr(fmt), formats=", ".join(FORMATS))
    source_rows = READERS[fmt](path)
    claimreview = fmt == "claimreview"
    return upsert_claims(
        session,
        [(row.line, row.data) for row in source_rows if row.problem is None],
        problems=[row.problem for row in source_rows if row.problem is not None],
        status=status, actor=actor, skip_invalid=skip_invalid,
        unit="item" if claimreview else "line",
        field_names=CLAIMREVIEW_FIELDS if claimreview else None,
        require_complete=require_complete,
    )


# ---------------------------------------------------------------------------------------------
# Writing


def write_jsonl(claims: Iterable[Claim], out: IO[str]) -> int:
    """Write claims as JSON Lines (``Claim.to_dict()`` per line); return how many."""
    count = 0
    for claim in claims:
        out.write(json.dumps(claim.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count


def _csv_tags(tags: list[str]) -> str:
    """Join tags with "|"; a lone tag holding a comma gets a trailing "|" to stay whole."""
    joined = "|".join(tags)
    return joined + "|" if len(tags) == 1 and "," in joined else joined


def write_csv(claims: Iterable[Claim], out: IO[str]) -> int:
    """Write claims as CSV with a header row (tags joined by "|"); return how many."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for claim in claims:
        row = claim.to_dict()
        row["tags"] = _csv_tags(row["tags"])
        row["appearances"] = " ".join(
            f"image:{item['image']}" if item.get("image") else item["url"]
            for item in row["appearances"])
        writer.writerow([row[name] for name in CSV_COLUMNS])
        count += 1
    return count


def claimreview_node(claim: Claim) -> dict[str, Any]:
    """Return a schema.org ClaimReview object for a claim."""
    vocabulary = current_vocabulary()
    rating = claim.verdict_raw
    if vocabulary.normalize(rating) != claim.verdict:
        rating = "" if claim.verdict == UNRATED else vocabulary.label(claim.verdict, claim.lang)
    node: dict[str, Any] = {"@type": "ClaimReview", "identifier": claim.id}
    if claim.url:
        node["url"] = claim.url
    node["headline"] = claim.title
    node["claimReviewed"] = claim.claim
    if rating:
        node["reviewRating"] = {"@type": "Rating", "alternateName": rating}
    node["description"] = claim.summary
    if claim.published:
        node["datePublished"] = claim.published.isoformat()
    node["inLanguage"] = claim.lang
    if claim.publisher:
        node["author"] = {"@type": "Organization", "name": claim.publisher}
    if claim.tags:
        node["keywords"] = list(claim.tags)
    node["itemReviewed"] = {"@type": "Claim"}
    appearances = [_appearance_node(item) for item in claim.appearances or []]
    if appearances:
        node["itemReviewed"]["appearance"] = appearances
    node["creativeWorkStatus"] = claim.status
    return node


def _appearance_node(item: dict[str, str]) -> dict[str, Any]:
    """Give one appearance as schema.org: a CreativeWork at a URL, or an ImageObject."""
    if not item.get("image"):
        return {"@type": "CreativeWork", "url": item["url"]}
    node: dict[str, Any] = {"@type": "ImageObject", "identifier": {
        "@type": "PropertyValue", "propertyID": PHASH_PROPERTY, "value": item["image"]}}
    if item.get("url"):
        node["url"] = item["url"]
    if item.get("name"):
        node["name"] = item["name"]
    return node


def write_claimreview(claims: Iterable[Claim], out: IO[str]) -> int:
    """Write claims as one JSON-LD document with a ClaimReview per claim in @graph."""
    nodes = [claimreview_node(claim) for claim in claims]
    json.dump({"@context": "https://schema.org", "@graph": nodes}, out, ensure_ascii=False,
              indent=1)
    out.write("\n")
    return len(nodes)


WRITERS = {"jsonl": write_jsonl, "csv": write_csv, "claimreview": write_claimreview}


def export_file(session: Session, dest: str | os.PathLike[str] | IO[str], fmt: str | None = None,
                status: str | None = None) -> int:
    """Write the library (or the claims with one status) to a path or a text stream."""
    if fmt is None:
        if not isinstance(dest, (str, os.PathLike)):
            fmt = "jsonl"
        else:
            fmt = _EXTENSIONS.get(Path(dest).suffix.lower(), "jsonl")
    if fmt not in WRITERS:
        raise UnknownFormat(N_("unknown format %(format)s (expected one of %(formats)s)"),
                            format=repr(fmt), formats=", ".join(FORMATS))
    statement = select(Claim).order_by(Claim.id).execution_options(yield_per=1000)
    if status:
        statement = statement.where(Claim.status == status)
    claims = session.scalars(statement)
    if not isinstance(dest, (str, os.PathLike)):
        return WRITERS[fmt](claims, dest)
    with open(dest, "w", encoding="utf-8", newline="") as handle:
        return WRITERS[fmt](claims, handle)


__all__ = [
    "CLAIMREVIEW_FIELDS", "CSV_COLUMNS", "FORMATS", "SourceRow", "UnknownFormat",
    "claimreview_node", "detect_format", "export_file", "import_file", "read_claimreview",
    "read_csv", "read_jsonl", "write_claimreview", "write_csv", "write_jsonl",
]
