"""Reading a web page someone forwarded: its title, description and main text (trafilatura)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import trafilatura
from trafilatura.metadata import extract_metadata

log = logging.getLogger(__name__)

TEXT_CHARS = 1500  # the opening of the main text says what the page claims; the rest dilutes it
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """What a page says about itself and the opening of its main text."""

    title: str = ""
    description: str = ""
    text: str = ""

    def query(self) -> str:
        """Give the words to search the library with: title, description, main text's opening."""
        parts = [self.title, self.description if self.description not in self.text else "",
                 self.text[:TEXT_CHARS]]
        return "\n".join(part for part in parts if part).strip()


def decode(body: bytes, charset: str | None) -> str:
    """Decode a page with its declared charset, its <meta charset>, else UTF-8."""
    meta = _META_CHARSET.search(body[:4096])
    for candidate in (charset, meta.group(1).decode("ascii") if meta else None, "utf-8"):
        if not candidate:
            continue
        try:
            return body.decode(candidate, errors="replace")
        except LookupError:
            continue
    return body.decode("utf-8", errors="replace")


def read_page(html: str, url: str | None = None) -> Page:
    """Extract a page's title, description and main text; empty parts when there are none."""
    if not html.strip():
        return Page()
    try:
        found = trafilatura.bare_extraction(html, url=url, with_metadata=True, fast=True,
                                            include_comments=False, include_tables=False)
        if found is None:
            found = extract_metadata(html, default_url=url)
    except Exception:  # a page is outside input: whatever breaks the parser only loses the page
        log.warning("could not read a page's text", exc_info=True)
        return Page()
    return Page(title=_clean(getattr(found, "title", None)),
                description=_clean(getattr(found, "description", None)),
                text=(getattr(found, "text", None) or "").strip())


def _clean(value) -> str:
    return " ".join(str(value or "").split())
