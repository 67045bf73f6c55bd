"""Validation: claim data as it arrives (files, forms, the CLI) checked and put in stored form."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from claims.errors import N_, IncompleteClaim, InvalidClaim, Reason
from claims.images import clean_hash
from claims.models import ID_MAX, STATUSES, URL_MAX
from claims.verdicts import UNRATED, Vocabulary, current_vocabulary

VERDICT_MAX = 200
PUBLISHER_MAX = 200
TAG_MAX = 100
APPEARANCES_MAX = 100
APPEARANCE_NAME_MAX = 200
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_LANG_NAMES = {
    "indonesian": "id", "indonesia": "id", "bahasa indonesia": "id", "bahasa": "id",
    "english": "en", "inggris": "en", "bahasa inggris": "en", "in": "id", "ind": "id",
    "eng": "en",
}


def _text(value: Any, name: str, max_len: int | None = None) -> str:
    """Return a stripped string field; None is empty; anything else than text is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidClaim(name, N_("must be text, not %(kind)s"), kind=kind_of(value))
    if "\x00" in value:
        raise InvalidClaim(name, N_("contains a NUL character"))
    value = value.strip()
    if max_len is not None and len(value) > max_len:
        raise _too_long(name, value, max_len)
    return value


def _too_long(name: str, text: str, most: int) -> InvalidClaim:
    return InvalidClaim(name, N_("is %(length)s characters long (at most %(most)s)"),
                        length=len(text), most=most)


def kind_of(value: Any) -> Reason | str:
    """Name a JSON-ish type for error messages."""
    if value is None:
        return Reason(N_("an empty value (null)"))
    if isinstance(value, str):
        return Reason(N_("a text"))
    if isinstance(value, bool):
        return Reason(N_("true/false"))
    if isinstance(value, (int, float)):
        return Reason(N_("a number"))
    if isinstance(value, (list, tuple)):
        return Reason(N_("a list"))
    if isinstance(value, Mapping):
        return Reason(N_("an object"))
    return type(value).__name__


def _clean_id(value: Any) -> str | None:
    """Return a usable claim id, or None when absent."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _text(value, "id")
    if not text:
        return None
    if len(text) > ID_MAX:
        raise _too_long("id", text, ID_MAX)
    if _CONTROL_RE.search(text):
        raise InvalidClaim("id", N_("contains control characters"))
    return text


def _clean_url(value: Any, name: str = "url") -> str | None:
    """Return an absolute http(s) URL, or None when empty."""
    text = _text(value, name)
    if not text:
        return None
    if len(text) > URL_MAX:
        raise _too_long(name, text, URL_MAX)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise InvalidClaim(name, _url_problem(exc), value=repr(_short(text))) from None
    if (parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or re.search(r"\s", text) or _CONTROL_RE.search(text)):
        raise InvalidClaim(name, N_("must be an absolute http(s) URL, got %(value)s"),
                           value=repr(_short(text)))
    return text


def _url_problem(exc: ValueError) -> str:
    """Give the marked message for a URL urlsplit refused (its own words are Python's English)."""
    said = str(exc)
    if "Port" in said:
        return N_("has a port that is not a number from 0 to 65535, got %(value)s")
    if "IPv" in said:
        return N_("has square brackets that do not hold an IPv6 address, got %(value)s")
    return N_("is not a valid URL, got %(value)s")


def _clean_appearance(item: Any) -> dict[str, str]:
    """Return one appearance: {"url": …} or {"image": hash[, "url": …][, "name": …]}."""
    name = "appearances"
    if isinstance(item, str):
        text = item.strip()
        if text.lower().startswith("image:"):
            return {"image": clean_hash(text[6:], name)}
        return {"url": _clean_url(text, name) or ""}
    if not isinstance(item, Mapping):
        raise InvalidClaim(name, N_("each item must be a link or an object, not %(kind)s"),
                           kind=kind_of(item))
    out: dict[str, str] = {}
    if item.get("image"):
        out["image"] = clean_hash(item["image"], name)
    url = _clean_url(item.get("url"), name) if item.get("url") else None
    if url:
        out["url"] = url
    if out.get("image") and item.get("name"):
        out["name"] = _text(item["name"], name, APPEARANCE_NAME_MAX)
    if not out:
        raise InvalidClaim(name, N_("each item needs a url or an image hash"))
    return out


def _clean_appearances(value: Any) -> list[dict[str, str]]:
    """Return where a claim circulated: links and picture hashes, each once.

    Takes a list (of links, "image:<hash>" or objects) or text of such items separated by
    spaces or new lines (a form's text area, a CSV cell).
    """
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[Any] = value.split()
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise InvalidClaim("appearances", N_("must be a list or text, not %(kind)s"),
                           kind=kind_of(value))
    if len(items) > APPEARANCES_MAX:
        raise InvalidClaim("appearances", N_("has %(count)s items (at most %(most)s)"),
                           count=len(items), most=APPEARANCES_MAX)
    cleaned: dict[tuple, dict[str, str]] = {}
    for item in items:
        entry = _clean_appearance(item)
        cleaned.setdefault((entry.get("image"), entry.get("url") if not entry.get("image") else None), entry)
    return list(cleaned.values())


def _clean_date(value: Any, name: str) -> date | None:
    """Return a date from an ISO date or datetime (its own calendar day), None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InvalidClaim(name, N_("must be a date like 2025-01-31, not %(kind)s"),
                           kind=kind_of(value))
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) <= 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise InvalidClaim(name, N_("must be a date like 2025-01-31, got %(value)s"),
                           value=repr(_short(text))) from None


def _clean_lang(value: Any) -> str | None:
    """Return a lowercase primary language code ("id-ID" -> "id"), None when empty."""
    text = _text(value, "lang").lower()
    if not text:
        return None
    if text in _LANG_NAMES:
        return _LANG_NAMES[text]
    primary = re.split(r"[-_]", text)[0]
    primary = _LANG_NAMES.get(primary, primary)
    if not _LANG_RE.match(primary):
        raise InvalidClaim("lang", N_("must be a language code such as 'id' or 'en', got %(value)s"),
                           value=repr(_short(text)))
    return primary


def _clean_tags(value: Any) -> list[str]:
    """Return tags as a list: a list of strings, or one string split on "|" (else ",")."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.split("|") if "|" in value else value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise InvalidClaim("tags", N_("must be a list or text, not %(kind)s"), kind=kind_of(value))
    tags = []
    for item in items:
        tag = _text(item, "tags", TAG_MAX)
        if tag:
            tags.append(tag)
    return list(dict.fromkeys(tags))


def clean_status(value: Any) -> str | None:
    """Return a valid status, None when empty."""
    text = _text(value, "status").lower()
    if not text:
        return None
    if text not in STATUSES:
        raise InvalidClaim("status", N_("must be one of %(choices)s, got %(value)s"),
                           choices=", ".join(STATUSES), value=repr(_short(text)))
    return text


def _short(text: str, limit: int = 60) -> str:
    """Shorten a value for an error message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_claim_data(data: Any, vocabulary: Vocabulary | None = None) -> dict[str, Any]:
    """Validate claim data and return only the fields it sets, in their stored form.

    Keys: id, title, claim, verdict (a label or a code), verdict_raw, summary, url,
    date (or published), lang, tags, publisher, status, appearances; anything else is ignored.
    Raises InvalidClaim naming the first bad field.
    """
    if not isinstance(data, Mapping):
        raise InvalidClaim(None, N_("expected an object with claim fields, not %(kind)s"),
                           kind=kind_of(data))
    vocabulary = vocabulary or current_vocabulary()
    out: dict[str, Any] = {}
    claim_id = _clean_id(data.get("id"))
    if claim_id is not None:
        out["id"] = claim_id
    for name in ("title", "claim"):
        if name in data:
            out[name] = _text(data[name], name)
    if "verdict" in data or "verdict_raw" in data:
        out.update(_clean_verdict(data, vocabulary))
    if "summary" in data:
        out["summary"] = _text(data["summary"], "summary")
    if "url" in data:
        out["url"] = _clean_url(data["url"])
    for name in ("date", "published"):
        if name in data:
            out["published"] = _clean_date(data[name], name)
            break
    if "lang" in data:
        lang = _clean_lang(data["lang"])
        if lang:
            out["lang"] = lang
    if "tags" in data:
        out["tags"] = _clean_tags(data["tags"])
    if "publisher" in data:
        out["publisher"] = _text(data["publisher"], "publisher", PUBLISHER_MAX)
    if "appearances" in data:
        out["appearances"] = _clean_appearances(data["appearances"])
    if "status" in data:
        status = clean_status(data["status"])
        if status:
            out["status"] = status
    return out


def _clean_verdict(data: Mapping, vocabulary: Vocabulary) -> dict[str, str]:
    """Return the verdict code and the label as published.

    ``verdict`` may be a label or a code; an exported ``verdict_raw`` is kept only when it
    still means the same code (so that editing ``verdict`` in a file wins).
    """
    raw = _text(data["verdict_raw"], "verdict_raw", VERDICT_MAX) if "verdict_raw" in data else None
    if "verdict" not in data:
        return {"verdict": vocabulary.normalize(raw), "verdict_raw": raw or ""}
    given = _text(data["verdict"], "verdict", VERDICT_MAX)
    code = vocabulary.normalize(given)
    if raw is not None and vocabulary.normalize(raw) == code:
        return {"verdict": code, "verdict_raw": raw}
    return {"verdict": code, "verdict_raw": given}


# What a fact-check must carry before the tipline may serve it as an answer.
PUBLISH_REQUIRES = ("verdict", "summary", "url")


def missing_for_publishing(fields: Mapping[str, Any]) -> list[str]:
    """Name the fields a published fact-check needs that these (cleaned) fields lack.

    A verdict is a label the vocabulary knows other than "unrated": the tipline's answer leads
    with it. ``fields`` is the stored form (``clean_claim_data``'s output, or a stored claim).
    """
    missing = []
    if (fields.get("verdict") or UNRATED) == UNRATED:
        missing.append("verdict")
    if not (fields.get("summary") or "").strip():
        missing.append("summary")
    if not fields.get("url"):
        missing.append("url")
    return missing


def check_publishable(fields: Mapping[str, Any], vocabulary: Vocabulary | None = None) -> None:
    """Raise IncompleteClaim when these fields cannot be published (see missing_for_publishing)."""
    missing = missing_for_publishing(fields)
    if missing:
        raw = (fields.get("verdict_raw") or "").strip()
        unknown = "verdict" in missing and raw and \
            (vocabulary or current_vocabulary()).lookup(raw) is None
        raise IncompleteClaim(missing, _short(raw) if unknown else "")


__all__ = ["PUBLISHER_MAX", "PUBLISH_REQUIRES", "TAG_MAX", "VERDICT_MAX", "check_publishable",
           "clean_claim_data", "clean_status", "missing_for_publishing"]
