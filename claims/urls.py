"""Links as the library compares them: found in text, normalised, and keyed.

Two links to the same page rarely match as typed: one has `https://m.` and `?utm_source=wa`,
the other `http://www.` and `?fbclid=…`. `url_key` gives both the same key, so a link someone
forwards finds the fact-check whose article, text or "where it circulated" list holds it.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Prefixes that name the same site for another device or out of habit.
_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.", "web.")
# Query parameters that say who shared a link or how, never which page it is.
_TRACKING = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|msclkid|igshid|igsh|mc_cid|mc_eid|mkt_tok|_ga|_gl|yclid|"
    r"si|ref|ref_src|ref_url|referrer|feature|"
    r"__twitter_impression|twclid|ttclid|cmpid|spm|rdt|mibextid|sfnsn|xmt|_rdr)$",
    re.IGNORECASE,
)
# A link in a message: with a scheme, or starting with www. (people paste both).
_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»”’'\"…"


def find_urls(text: str) -> list[str]:
    """Give the links written in a text, in order, without the punctuation around them."""
    found = []
    for match in _URL_IN_TEXT.finditer(text or ""):
        url = match.group(0).rstrip(_TRAILING)
        if url.count("(") < url.count(")"):  # "(lihat https://x.id/a)" keeps no ")"
            url = url.rstrip(")")
        if url.lower().startswith("www."):
            url = "http://" + url
        if url not in found:
            found.append(url)
    return found


def normalize_url(url: str) -> str | None:
    """Give the comparable form of a link, or None when it is not an http(s) link to a host.

    No scheme difference, no `www.`/`m.`/`mobile.`, no default port, no fragment, no tracking
    parameters, the remaining parameters sorted, no trailing slash.
    """
    text = (url or "").strip()
    if not re.match(r"^https?://", text, re.IGNORECASE):
        if not text.lower().startswith("www."):
            return None
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:
        return None
    if not host or "." not in host and host != "localhost" and not host.startswith("["):
        return None
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    if host == "youtu.be" and parts.path.strip("/"):  # the short link of a YouTube video
        host, parts = "youtube.com", parts._replace(
            path="/watch", query=f"v={parts.path.strip('/')}&{parts.query}")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%") or "/"
    path = re.sub(r"/{2,}", "/", path)
    if path != "/":
        path = path.rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _TRACKING.match(k))
    return urlunsplit(("", host, path if path != "/" else "", urlencode(query), "")).lstrip("/")


def url_key(url: str) -> str | None:
    """Give the fixed-length key of a link's normalised form (what the library indexes)."""
    normal = normalize_url(url)
    if normal is None:
        return None
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()
