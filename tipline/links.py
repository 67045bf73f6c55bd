"""Reading the page behind a forwarded link that no fact-check knows (tipline/fetch.py fetches)."""

from __future__ import annotations

import time

from .fetch import FetchFailed, FetchRefused, SafeFetcher
from .pages import Page, decode, read_page

PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


class LinkUnread(Exception):
    """A link whose page was not read; `via` says why for the request log."""

    def __init__(self, message: str, via: str):
        super().__init__(message)
        self.via = via  # "refused": not allowed to fetch; "unreachable": tried and failed


class LinkReader:
    """Fetches a page within the fetcher's limits and gives its title, description and text."""

    def __init__(self, fetcher: SafeFetcher):
        self.fetcher = fetcher

    def read(self, url: str) -> Page:
        """Read one page; LinkUnread when it must not or could not be read."""
        started = time.perf_counter()
        try:
            got = self.fetcher.fetch(url, accept=PAGE_TYPES)
        except FetchRefused as exc:
            raise LinkUnread(f"refused: {exc}", "refused") from None
        except FetchFailed as exc:
            raise LinkUnread(f"failed after {time.perf_counter() - started:.1f} s: {exc}",
                             "unreachable") from None
        text = decode(got.body, got.charset)
        if got.content_type == "text/plain":
            return Page(text=" ".join(text.split())[:3000])
        page = read_page(text, got.url)
        if not (page.title or page.description or page.text):
            raise LinkUnread("the page has no words to read", "unreachable")
        return page
