"""The one door to search: a process's live index, kept in step with the library it is handed."""
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

from .encoders import primary_encoder
from .hybrid import Document, SearchResult
from .service import Changes, RebuildReport, SearchService, rebuild

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Build:
    """A rebuild that every node's index follows: its id, its encoder, whether nothing was reused."""

    id: str
    encoder_spec: str
    full: bool = False


class _Stopped(Exception):
    """The searcher was stopped while it rebuilt as another node did."""


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

    # Optional, for several nodes (each with its own index folder) on one library:
    # def wanted_build(self) -> Build | None: the last rebuild recorded, which every node follows
    # def record_build(self, build: Build) -> None: record a rebuild for every node to follow


@dataclass(frozen=True)
class Similar:
    """A document close to another one: its id and the cosine of their fullest vectors."""

    id: str
    similarity: float


# Candidates looked at for a document's closest ones: BM25 on its title and claim finds them
# (what `python bench/fit/groups.py` checks against the closest by vectors over the library).
SIMILAR_CANDIDATES = 10


class Searcher:
    """Searches the live index, keeping it in step with the library and with rebuilt snapshots.

    interval > 0: a background thread (started lazily, after any fork) catches up every
    `interval` seconds; interval <= 0: every search catches up first.

    Several nodes, each with its own index folder, share one library: a rebuild on one is
    recorded with the library (Library.record_build), and every other node rebuilds its own
    index as that build (same encoder, vectors reused) when it next catches up. So does a node
    whose library went back to an earlier revision (a database restored from a backup).
    """

    def __init__(self, service: SearchService, library: Library, interval: float):
        self.service, self.library, self.interval = service, library, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._follower: threading.Thread | None = None  # rebuilding as another node did
        self._given_up: str | None = None  # a build this process failed to follow: not retried
        self._unfollowable = False  # the recorded build could not be read (said once)

    @property
    def encoder(self):
        """Give the encoder whose cosines the callers' thresholds were fitted on: the live
        index's, or its primary one when the index blends two (index/encoders.py)."""
        return primary_encoder(self.service.index.encoder)

    @property
    def snapshot(self) -> str | None:
        """Give the name of the live index snapshot (None: built in memory): it changes with
        every rebuild, so what was read beside one index can tell it is still current."""
        return self.service.snapshot

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

    def query_vector(self, text: str):
        """Give the (1, dim) query vector of a text by the live index's encoder, through the
        process's query vectors (embedded at most once, shared with the search)."""
        return self.service.query_vectors.query_vector(self.encoder, text)

    def similar(self, document: Document, k: int = SIMILAR_CANDIDATES) -> list[Similar]:
        """Give the indexed documents closest to an indexed one, most similar first.

        Candidates come from BM25 on the document's title and claim (no embedding: the
        document's own vectors are already in the index); each is scored by the cosine of the
        two documents' last vectors, the one with every field (HybridIndex.vectors_of). A
        document not in the index has none.
        """
        with self._lock:  # no sync swaps or changes the index meanwhile
            index = self.service.index
            if document.id not in index:
                return []
            mine = index.primary_vectors_of(document.id)
            if not len(mine):
                return []
            text = " ".join(part for part in (document.title, document.claim) if part)
            found = []
            for match in index.search(text, k + 1, embed=False).matches:
                if match.id == document.id or match.id not in index:
                    continue
                theirs = index.primary_vectors_of(match.id)
                if len(theirs):
                    found.append(Similar(match.id, float(mine[-1] @ theirs[-1])))
        return sorted(found, key=lambda s: -s.similarity)[:k]

    def sync_once(self, follow: bool = True) -> None:
        """Swap in a newer snapshot if one was built, then apply library changes since.

        follow: also start rebuilding in the background when another node's rebuild is to be
        followed (False: start no thread, e.g. in a server's master before it forks)."""
        with self._lock:
            self.service.reload()
            revision = self.library.revision()
            if revision != self.service.revision:
                self.service.apply(self.library.changes(self.service.revision))
        if follow:
            self._follow(revision)

    def catch_up(self, snapshot_from: int) -> None:
        """Bring this process's index up to the library now.

        When `snapshot_from` documents or more are new or changed, they are indexed into a new
        snapshot (every process then loads it instead of embedding them once each)."""
        with self._lock:
            self.service.reload()
            behind = self.library.revision() != self.service.revision
            many = behind and len(self.library.changes(self.service.revision).upserts) >= snapshot_from
        if many:
            self.rebuild()
        self.sync_once()

    def rebuild(self, encoder_spec: str | None = None, reuse: bool = True, progress=None,
                library: tuple[int, list[Document]] | None = None,
                everywhere: bool = True) -> RebuildReport:
        """Index the whole library anew into a new snapshot and swap it in (every process follows).

        library: the (revision, documents) to index when the caller has read them already.
        everywhere: record the rebuild, so that every node rebuilds too; False: catch this node
        up with the recorded build when it has the same encoder (a node starting), else record.
        """
        spec = encoder_spec or self.service.encoder_spec
        store = self.service.store
        # Held while recording too: this node's other processes see the new build at once and
        # must wait for this snapshot, not start their own.
        with store.rebuild_lock():
            wanted = self.wanted_build()
            if not everywhere and wanted is not None and wanted.encoder_spec == spec:
                build = wanted
            else:
                build = Build(uuid.uuid4().hex, spec, full=not reuse)
                if hasattr(self.library, "record_build"):
                    self.library.record_build(build)
            revision, documents = library or self.library.documents()
            return rebuild(store, revision, documents, spec, self.service.index_options,
                           reuse=reuse, progress=progress, build=build.id)

    def wanted_build(self) -> Build | None:
        """Give the build every node should serve, or None (none recorded, or a lone library)."""
        wanted_build = getattr(self.library, "wanted_build", None)
        return wanted_build() if wanted_build is not None else None

    def _follow(self, revision: int) -> None:
        """Rebuild this node's index in the background when it serves another build than the
        recorded one, or when the library went back behind it (a restored database)."""
        try:
            wanted = self.wanted_build()
        except Exception:  # say, a database not upgraded yet: following is not worth failing for
            if not self._unfollowable:
                log.exception("cannot read which index build to follow; this node keeps its own")
            self._unfollowable = True
            return
        self._unfollowable = False
        stale = wanted is not None and wanted.id not in (self.service.build, self._given_up)
        # Revision 0 is an empty library, or one pg_restore is still filling: not worth indexing.
        went_back = 0 < revision < self.service.revision
        if not (stale or went_back) or (self._follower is not None and self._follower.is_alive()):
            return
        self._follower = threading.Thread(target=self._rebuild_as, args=(wanted,),
                                          name="index-follow", daemon=True)
        self._follower.start()

    def _rebuild_as(self, wanted: Build | None) -> None:
        """Rebuild this node's index as a recorded build, unless another process of it does."""
        store = self.service.store
        try:
            with store.rebuild_lock(wait=False) as mine:
                if not mine:  # another process of this node is at it: its snapshot will do
                    return
                revision, documents = self.library.documents()
                try:
                    meta = store.meta()
                except LookupError:
                    meta = {}
                if store.current_name() != self.service.snapshot and meta.get("revision", -1) <= revision \
                        and (wanted is None or meta.get("build") == wanted.id):
                    return  # built meanwhile; this process loads it at its next catch-up
                spec = wanted.encoder_spec if wanted is not None else self.service.encoder_spec
                report = rebuild(store, revision, documents, spec, self.service.index_options,
                                 reuse=not (wanted is not None and wanted.full),
                                 build=wanted.id if wanted is not None else meta.get("build"),
                                 progress=self._unless_stopped)
            log.info("index rebuilt as build %s: snapshot %s, %d documents at library revision %d",
                     wanted.id if wanted is not None else "-", report.snapshot, report.documents,
                     report.revision)
        except _Stopped:
            return
        except Exception:
            log.exception("could not rebuild the index as build %s; the current index keeps "
                          "answering", wanted.id if wanted is not None else "-")
            self._given_up = wanted.id if wanted is not None else None

    def load(self) -> None:
        """Load the index, its encoder and the recent query vectors, starting no thread: what a
        server's master does before it forks its workers, which then share those pages."""
        started = time.perf_counter()
        self.sync_once(follow=False)  # each worker follows other nodes' rebuilds itself
        index = self.service.index
        warmed = self.service.query_vectors.warm(index.encoder)
        log.info("search loaded before the workers start in %.1f s: %d fact-checks, %d query vectors",
                 time.perf_counter() - started, len(index), warmed)

    def after_fork(self) -> None:
        """In a forked worker: open its own handles (the shared query vectors' file)."""
        self.service.query_vectors.after_fork()

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
        """Stop the background loop, and a rebuild that follows another node (left unfinished)."""
        self._stop.set()
        for thread in (self._thread, self._follower):
            if thread is not None:
                thread.join(timeout=10)

    def _unless_stopped(self, _done: int) -> None:
        """Between batches of a following rebuild: give up when the searcher is stopped."""
        if self._stop.is_set():
            raise _Stopped

    def _loop(self) -> None:
        """Catch up every interval; a failure is logged and retried, never fatal."""
        while not self._stop.is_set():
            try:
                self.sync_once()
            except Exception:
                log.exception("index sync failed; the last good index keeps answering")
            self._stop.wait(self.interval)
