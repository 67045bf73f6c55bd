"""The one door to search: a process's live index, kept in step with the library it is handed."""
import logging
import threading
import time
from typing import Protocol

from .hybrid import Document, SearchResult
from .service import Changes, RebuildReport, SearchService, rebuild

log = logging.getLogger(__name__)


class Library(Protocol):
    """What the index needs of a library of documents (the app hands one over)."""

    def revision(self) -> int:
        """Give the library's revision: it grows with every change."""

    def documents(self) -> tuple[int, list[Document]]:
        """Give the revision and every searchable document, read at that revision."""

    def changes(self, since: int) -> Changes:
        """Give what changed after a revision: documents to (re)index and ids to drop."""

    def titles(self, ids: list[str]) -> dict[str, str]:
        """Give the titles of some documents."""


class Searcher:
    """Searches the live index, keeping it in step with the library and with rebuilt snapshots.

    interval > 0: a background thread (started lazily, after any fork) catches up every
    `interval` seconds; interval <= 0: every search catches up first.
    """

    def __init__(self, service: SearchService, library: Library, interval: float):
        self.service, self.library, self.interval = service, library, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def encoder(self):
        """Give the encoder of the live index (what its vectors mean)."""
        return self.service.index.encoder

    def search(self, text: str, k: int = 5, embed: bool = True) -> SearchResult:
        """Rank the library for a text and decide whether the best answers it.

        embed=False: the quick search for a server that is behind (HybridIndex.search)."""
        if self.interval <= 0:
            self.sync_once()
        else:
            self.start()
            if not self.service.loaded:
                self.sync_once()
        return self.service.index.search(text, k, embed)

    def sync_once(self) -> None:
        """Swap in a newer snapshot if one was built, then apply library changes since."""
        with self._lock:
            self.service.reload()
            if self.library.revision() != self.service.revision:
                self.service.apply(self.library.changes(self.service.revision))

    def rebuild(self, encoder_spec: str | None = None, reuse: bool = True, progress=None,
                library: tuple[int, list[Document]] | None = None) -> RebuildReport:
        """Index the whole library anew into a new snapshot and swap it in (every process follows).

        library: the (revision, documents) to index when the caller has read them already."""
        revision, documents = library or self.library.documents()
        return rebuild(self.service.store, revision, documents, encoder_spec or self.service.encoder_spec,
                       self.service.index_options, reuse=reuse, progress=progress)

    def warm(self) -> None:
        """Load the index, the encoder and the recent query vectors before the first message."""
        started = time.perf_counter()
        self.search("cek fakta", 1)
        index = self.service.index
        warmed = self.service.query_vectors.warm(index.encoder)
        log.info("search ready in %.1f s: %d fact-checks, %d recent query vectors",
                 time.perf_counter() - started, len(index), warmed)

    def start(self) -> None:
        """Start the background catch-up loop (once per process)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="index-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the background loop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        """Catch up every interval; a failure is logged and retried, never fatal."""
        while not self._stop.is_set():
            try:
                self.sync_once()
            except Exception:
                log.exception("index sync failed; the last good index keeps answering")
            self._stop.wait(self.interval)
