"""The vectors of asked queries: kept per process, and shared by the workers of a machine.

A tipline hears the same keyword from many people at once when a hoax goes round, and the
query embedding is most of a search's cost; a vector depends only on the encoder and the text,
so a kept one is never stale, whatever happens to the library.
"""
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .encoders import Encoder


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

    def after_fork(self) -> None:
        """Open this process's own connection (a SQLite connection must not cross a fork)."""
        with self._lock:
            try:
                self._db = self._open(self.path)
            except (OSError, sqlite3.Error):
                self._db = self._open(":memory:")

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

    With a SharedVectors store, a miss here looks there before embedding: the workers share
    what they embedded, and a restarted worker starts warm (`warm()`).
    """

    def __init__(self, size: int = 4096, shared: SharedVectors | None = None):
        self.size = size
        self._vectors: "OrderedDict[bytes, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()
        self.shared = shared
        self.hits = self.shared_hits = self.misses = 0

    def after_fork(self) -> None:
        """In a forked process: give it its own handle on the shared store."""
        if self.shared is not None:
            self.shared.after_fork()

    def clear(self) -> None:
        """Forget this process's vectors (not the shared store's)."""
        with self._lock:
            self._vectors.clear()

    def warm(self, encoder: Encoder) -> int:
        """Fill this process's cache with the shared store's most recently used vectors."""
        if self.shared is None or self.size <= 0:
            return 0
        rows = self.shared.recent(encoder.id, encoder.dim, self.size)
        with self._lock:
            for key, vector in rows:
                self._remember(key, vector)
        return len(rows)

    def query_vector(self, encoder: Encoder, text: str, embed: bool = True) -> np.ndarray | None:
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
