"""The index's documents: id <-> key, content digest and vector count, in NumPy arrays.

Stored as the lexical index is (index/lexical.py, index/vocabulary.py says why arrays): a frozen
base that the processes of a server share, memory-mapped from a snapshot, and an overlay of
dicts for the documents added or removed since, folded into a new base past a share of it and
by state(). Every search reads it (a key's id for each match), so a dict here would be copied
into each worker by the reference counts it writes.
"""
import numpy as np

from .lexical import COMPACT_MIN, COMPACT_SHARE
from .vocabulary import Vocabulary

DIGEST_BYTES = 20  # Document.digest(): a SHA-1, kept as raw bytes and given back as hex


class DocumentTable:
    """Documents by id and by key (a small positive integer), with their digest and vector count.

    Base arrays: the ids in a Vocabulary (an id's place there is its row), keys[row],
    digests[row] (raw bytes), and by key: rows[key] (-1: the base lacks the key) and
    vectors[key].
    """

    def __init__(self):
        self._set_base(Vocabulary.empty(), np.zeros(0, np.int64), np.zeros((0, DIGEST_BYTES), np.uint8),
                       np.zeros(0, np.int32), np.zeros(0, np.uint8))

    def _set_base(self, ids: Vocabulary, keys: np.ndarray, digests: np.ndarray, rows: np.ndarray,
                  vectors: np.ndarray) -> None:
        """Make these arrays the base and empty the overlay."""
        self._ids, self._keys, self._digests, self._rows, self._vectors = ids, keys, digests, rows, vectors
        self._removed: set[int] = set()  # keys of base documents removed or replaced since
        # Overlay: id -> (key, digest, vectors), and key -> id.
        self._added: dict[str, tuple[int, str, int]] = {}
        self._added_ids: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._keys) - len(self._removed) + len(self._added)

    def __contains__(self, doc_id: str) -> bool:
        return self.key(doc_id) is not None

    def _base_row(self, doc_id: str) -> int:
        """Give a live base document's row, -1 when the base lacks it or it was removed."""
        row = self._ids.id(doc_id)
        if row >= 0 and int(self._keys[row]) in self._removed:
            return -1
        return row

    def key(self, doc_id: str) -> int | None:
        """Give a document's key, None when unknown."""
        added = self._added.get(doc_id)
        if added is not None:
            return added[0]
        row = self._base_row(doc_id)
        return int(self._keys[row]) if row >= 0 else None

    def id(self, key: int) -> str:
        """Give the id of a live document's key (KeyError when unknown)."""
        found = self._added_ids.get(key)
        if found is not None:
            return found
        if 0 <= key < len(self._rows) and key not in self._removed:
            row = int(self._rows[key])
            if row >= 0:
                return self._ids.term(row)
        raise KeyError(key)

    def digest(self, doc_id: str) -> str | None:
        """Give the content hash a document was indexed with."""
        added = self._added.get(doc_id)
        if added is not None:
            return added[1]
        row = self._base_row(doc_id)
        return self._digests[row].tobytes().hex() if row >= 0 else None

    def vectors(self, key: int) -> int:
        """Give how many vectors a live document's key has (0 when unknown)."""
        found = self._added_ids.get(key)
        if found is not None:
            return self._added[found][2]
        if 0 <= key < len(self._rows) and key not in self._removed:
            return int(self._vectors[key])
        return 0

    def vector_counts(self, keys: list[int]) -> np.ndarray:
        """Give the vector counts of keys, as an int64 array."""
        wanted = np.asarray(keys, np.int64)
        inside = (wanted >= 0) & (wanted < len(self._vectors))
        counts = np.zeros(len(wanted), np.int64)
        counts[inside] = self._vectors[wanted[inside]]
        if self._removed or self._added_ids:
            for i, key in enumerate(keys):
                if key in self._added_ids or key in self._removed:
                    counts[i] = self.vectors(key)
        return counts

    def ids(self) -> list[str]:
        """Give every live id, by key (the order they were added in)."""
        live = self._keys
        if self._removed:
            live = live[~np.isin(live, np.fromiter(self._removed, np.int64, len(self._removed)))]
        base = _decode(self._ids, self._rows[np.sort(live)])
        return base + [self._added_ids[k] for k in sorted(self._added_ids)]

    def add(self, doc_id: str, key: int, digest: str, vectors: int) -> None:
        """Record a document under a new key, replacing the id's earlier one."""
        self.remove(doc_id)
        self._added[doc_id] = (key, digest, vectors)
        self._added_ids[key] = doc_id
        if len(self._added) > max(COMPACT_MIN, COMPACT_SHARE * len(self._keys)):
            self.compact()

    def remove(self, doc_id: str) -> int | None:
        """Forget a document; give the key it had (None when unknown)."""
        added = self._added.pop(doc_id, None)
        if added is not None:
            del self._added_ids[added[0]]
            return added[0]
        row = self._base_row(doc_id)
        if row < 0:
            return None
        key = int(self._keys[row])
        self._removed.add(key)
        return key

    def compact(self) -> None:
        """Fold the overlay into a new base (state() does it first)."""
        if not self._added and not self._removed:
            return
        live = np.ones(len(self._keys), bool)
        if self._removed:
            live = ~np.isin(self._keys, np.fromiter(self._removed, np.int64, len(self._removed)))
        rows = np.flatnonzero(live)
        ids = _decode(self._ids, rows) + list(self._added)
        keys = np.concatenate([self._keys[rows].astype(np.int64),
                               np.fromiter((a[0] for a in self._added.values()), np.int64, len(self._added))])
        digests = np.concatenate([self._digests[rows], np.frombuffer(
            b"".join(bytes.fromhex(a[1]) for a in self._added.values()), np.uint8).reshape(-1, DIGEST_BYTES)])
        counts = np.concatenate([self._vectors[keys[:len(rows)]].astype(np.int64),
                                 np.fromiter((a[2] for a in self._added.values()), np.int64, len(self._added))])
        self._set_base(*_base(ids, keys, digests, counts))

    def state(self) -> dict:
        """Give the table as arrays for persistence (the overlay folded in first)."""
        self.compact()
        return {**self._ids.state("ids_"), "keys": self._keys, "digests": self._digests,
                "rows": self._rows, "vectors": self._vectors}

    @classmethod
    def from_state(cls, state: dict) -> "DocumentTable":
        """Rebuild a table from `state()`."""
        table = cls()
        table._set_base(Vocabulary.from_state(state, "ids_"), state["keys"], state["digests"],
                        state["rows"], state["vectors"])
        return table

    @classmethod
    def from_dicts(cls, keys: dict[str, int], digests: dict[str, str], vectors: dict[int, int]) -> "DocumentTable":
        """Build a table from the dicts older snapshots kept (id -> key, id -> digest, key -> count)."""
        table = cls()
        ids = list(keys)
        key_array = np.fromiter(keys.values(), np.int64, len(ids))
        raw = np.frombuffer(b"".join(bytes.fromhex(digests[i]) for i in ids), np.uint8).reshape(-1, DIGEST_BYTES)
        counts = np.fromiter((vectors.get(k, 0) for k in keys.values()), np.int64, len(ids))
        table._set_base(*_base(ids, key_array, raw, counts))
        return table


def _base(ids: list[str], keys: np.ndarray, digests: np.ndarray,
          counts: np.ndarray) -> tuple[Vocabulary, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Give the base arrays of documents given in parallel lists (ids unique)."""
    vocab, rows = Vocabulary.build(ids)
    order = np.argsort(rows)  # from each document's place in the lists to its row
    span = int(keys.max()) + 1 if len(keys) else 0
    by_key = np.full(span, -1, np.int32)
    by_key[keys] = rows
    vectors = np.zeros(span, np.uint8)
    vectors[keys] = counts
    return vocab, keys[order].astype(np.int64), np.ascontiguousarray(digests[order]), by_key, vectors


def _decode(vocab: Vocabulary, rows: np.ndarray) -> list[str]:
    """Give the ids at many rows of a vocabulary at once."""
    raw, starts = vocab.blob.tobytes(), vocab.starts
    return [raw[a:b].decode() for a, b in zip(starts[rows].tolist(), starts[rows + 1].tolist())]
