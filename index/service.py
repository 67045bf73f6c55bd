"""The search service of one process: the live index, kept in step by its owner."""
import logging
import threading
from dataclasses import dataclass

from .encoders import load_encoder
from .hybrid import Document, HybridIndex
from .query_vectors import QueryCache
from .store import IndexStore, SnapshotUnusable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changes:
    """What changed in the library since a revision: documents to (re)index and ids to drop."""

    revision: int
    upserts: list[Document]
    removals: list[str]


class SearchService:
    """Holds the live index of this process, swaps in new snapshots and applies changes."""

    def __init__(self, store: IndexStore, encoder_spec: str, index_options: dict | None = None,
                 query_vectors: QueryCache | None = None):
        self.store = store
        self.encoder_spec = encoder_spec
        self.index_options = index_options or {}
        # One for every index this process loads: a query's vector outlives snapshots.
        self.query_vectors = query_vectors or QueryCache()
        self.snapshot: str | None = None
        self.build: str | None = None  # the rebuild the live snapshot belongs to (store.save)
        self._refused: str | None = None  # a snapshot this process cannot load, reported once
        self._index: HybridIndex | None = None
        self._write_lock = threading.Lock()  # one writer at a time; searches never wait on it

    @property
    def index(self) -> HybridIndex:
        """Give the live index, loading it on first use."""
        if self._index is None:
            self.reload()
        return self._index

    @property
    def loaded(self) -> bool:
        """Say whether an index is live in this process yet."""
        return self._index is not None

    @property
    def revision(self) -> int:
        """Give the library revision the live index reflects."""
        return self.index.revision

    def reload(self) -> bool:
        """Swap in the snapshot CURRENT names if it is not the one live; say if it changed."""
        with self._write_lock:
            name = self.store.current_name()
            if self._index is not None and name in (self.snapshot, self._refused):
                return False
            index = None
            if name is not None and name != self._refused:
                try:
                    _, index = self.store.load(name, **self.index_options)
                except SnapshotUnusable as exc:
                    # Keep answering: build in memory from the library (the owner's sync
                    # applies every change since revision 0) until someone rebuilds.
                    log.error("%s Indexing the library in memory meanwhile.", exc)
                    self._refused = name
            if index is None:
                if self._index is None:
                    self._index = HybridIndex(load_encoder(self.encoder_spec), **self.index_options,
                                              query_vectors=self.query_vectors)
                return False
            index.query_vectors = self.query_vectors
            self._index, self.snapshot = index, name
            self.build = self.store.meta(name).get("build")
            log.info("index snapshot %s live: %d documents at revision %d", name, len(index), index.revision)
            return True

    def apply(self, changes: Changes) -> int:
        """Bring the live index up to a library revision; give how many documents were embedded."""
        with self._write_lock:
            index = self.index
            # The digest covers every indexed field: an unchanged one needs no work at all.
            fresh = [d for d in changes.upserts if index.digest(d.id) != d.digest()]
            vectors = index.embed(fresh)  # the slow part; searches go on meanwhile
            index.add(fresh, vectors)
            index.remove(changes.removals)
            index.revision = max(index.revision, changes.revision)
            return len(fresh)


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did."""

    snapshot: str
    documents: int
    embedded: int
    reused: int
    revision: int
    encoder_id: str


def rebuild(store: IndexStore, revision: int, documents: list[Document], encoder_spec: str,
            index_options: dict | None = None, reuse: bool = True, batch: int = 128,
            progress=None, build: str | None = None) -> RebuildReport:
    """Index every document anew in a new snapshot, then swap it in.

    Vectors of unchanged documents are taken from the live snapshot when it was built with the
    same encoder (embedding is the slow part); `reuse=False` embeds everything again. build:
    the rebuild the snapshot belongs to (None: the live snapshot's).
    """
    encoder = load_encoder(encoder_spec)
    new = HybridIndex(encoder, **(index_options or {}))
    new.revision = revision
    old = None
    if reuse and store.current_name():
        try:
            _, old = store.load()
        except Exception as exc:  # an unreadable old snapshot only costs us the reuse
            log.warning("not reusing the old snapshot: %s", exc)
        if old is not None and old.encoder.id != encoder.id:
            old = None
    embedded = reused = 0
    for start in range(0, len(documents), batch):
        chunk = documents[start:start + batch]
        known = [d for d in chunk if old is not None and old.digest(d.id) == d.digest()]
        fresh = [d for d in chunk if not (old is not None and old.digest(d.id) == d.digest())]
        if known:
            new.add(known, [old.vectors_of(d.id) for d in known], encoder_id=old.encoder.id)
        if fresh:
            new.add(fresh, new.embed(fresh))
        embedded, reused = embedded + len(fresh), reused + len(known)
        if progress:
            progress(len(chunk))
    new.partition()
    name = store.save(new, build=build)
    store.prune()
    return RebuildReport(name, len(new), embedded, reused, revision, encoder.id)
