"""Terms and their ids in NumPy arrays, for indexes that processes share.

A dict of terms is a Python object per term: reading it updates reference counts, and a
process forked from the one that built it (a gunicorn worker) gets a private copy of every page
it reads. Arrays are read without writing, and arrays loaded from .npy files with mmap_mode="r"
are shared through the page cache by every process that loads the same snapshot.
"""
import hashlib

import numpy as np

# Lookups asked again and again (a query's terms, the heads of the best candidates) skip the hash
# and the binary search, or the decoding; past this many remembered terms the memory starts over.
REMEMBERED = 1 << 15


def term_hash(raw: bytes) -> int:
    """Give a term's stable 64-bit hash (the same in every process, unlike hash())."""
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little", signed=True)


class Vocabulary:
    """Distinct terms sorted by term_hash; a term's id is its place in that order."""

    def __init__(self, hashes: np.ndarray, starts: np.ndarray, blob: np.ndarray):
        self.hashes = hashes  # (n,) int64, sorted
        self.starts = starts  # (n + 1,) int64: term i's UTF-8 bytes are blob[starts[i]:starts[i + 1]]
        self.blob = blob  # (bytes,) uint8
        self._bytes = memoryview(blob).cast("B") if len(blob) else memoryview(b"")
        self._known: dict[str, int] = {}
        self._names: dict[int, str] = {}

    @classmethod
    def build(cls, terms: list[str]) -> tuple["Vocabulary", np.ndarray]:
        """Make the vocabulary of distinct terms; give it and each given term's id."""
        encoded = [t.encode() for t in terms]
        hashes = np.fromiter((term_hash(raw) for raw in encoded), np.int64, len(encoded))
        order = np.argsort(hashes, kind="stable")
        ids = np.empty(len(terms), np.int64)
        ids[order] = np.arange(len(terms))
        sizes = np.fromiter((len(encoded[i]) for i in order.tolist()), np.int64, len(terms))
        starts = np.zeros(len(terms) + 1, np.int64)
        np.cumsum(sizes, out=starts[1:])
        blob = np.frombuffer(b"".join(encoded[i] for i in order.tolist()), np.uint8).copy()
        return cls(hashes[order], starts, blob), ids

    @classmethod
    def of_used(cls, terms: list[str], term_ids: np.ndarray) -> tuple["Vocabulary", np.ndarray]:
        """Make the vocabulary of the terms that term_ids (indexes into terms) use; give it and
        term_ids renumbered as its ids."""
        held = np.bincount(term_ids, minlength=len(terms)) > 0
        vocab, ids = cls.build([t for t, h in zip(terms, held.tolist()) if h])
        renumber = np.cumsum(held) - 1
        return vocab, (ids[renumber[term_ids]] if len(term_ids) else term_ids.astype(np.int64))

    @classmethod
    def empty(cls) -> "Vocabulary":
        """Give a vocabulary without terms."""
        return cls(np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.uint8))

    def __len__(self) -> int:
        return len(self.hashes)

    def id(self, term: str) -> int:
        """Give a term's id, -1 when the vocabulary lacks it."""
        found = self._known.get(term)
        if found is None:
            found = self._search(term)
            if len(self._known) >= REMEMBERED:
                self._known = {}
            self._known[term] = found
        return found

    def _search(self, term: str) -> int:
        """Find a term by its hash (neighbours with the same hash compared byte for byte)."""
        raw = term.encode()
        wanted = term_hash(raw)
        hashes, starts = self.hashes, self.starts
        at = int(hashes.searchsorted(wanted))
        while at < len(hashes) and int(hashes[at]) == wanted:
            if self._bytes[int(starts[at]):int(starts[at + 1])] == raw:
                return at
            at += 1
        return -1

    def term(self, i: int) -> str:
        """Give the term with an id."""
        name = self._names.get(i)
        if name is None:
            name = bytes(self._bytes[int(self.starts[i]):int(self.starts[i + 1])]).decode()
            if len(self._names) >= REMEMBERED:
                self._names = {}
            self._names[i] = name
        return name

    def terms(self) -> list[str]:
        """Give every term, in id order."""
        raw = self.blob.tobytes()
        starts = self.starts.tolist()
        return [raw[a:b].decode() for a, b in zip(starts, starts[1:])]

    def state(self, prefix: str) -> dict:
        """Give the arrays, named with a prefix, for persistence."""
        return {f"{prefix}hashes": self.hashes, f"{prefix}starts": self.starts, f"{prefix}blob": self.blob}

    @classmethod
    def from_state(cls, state: dict, prefix: str) -> "Vocabulary":
        """Rebuild a vocabulary from `state(prefix)`."""
        return cls(state[f"{prefix}hashes"], state[f"{prefix}starts"], state[f"{prefix}blob"])


def counts_dtype(values: np.ndarray):
    """Give the smallest unsigned type that holds these counts (uint16 nearly always)."""
    return np.uint16 if not len(values) or int(values.max()) < 1 << 16 else np.uint32


def keys_dtype(values: np.ndarray):
    """Give int32 for document keys that fit it, else int64."""
    return np.int32 if not len(values) or int(values.max()) < 1 << 31 else np.int64
