"""An incremental BM25 index over stemmed tokens."""
import math
from collections import Counter

import numpy as np


class LexicalIndex:
    """BM25 (Okapi) over documents that can be added and removed one at a time."""

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self._postings: dict[str, dict[int, int]] = {}
        self._lengths: dict[int, int] = {}
        self._terms: dict[int, tuple[str, ...]] = {}
        self._total_length = 0
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._length_array: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._lengths)

    def __contains__(self, key: int) -> bool:
        return key in self._lengths

    def add(self, key: int, tokens: list[str]) -> None:
        """Index a document's tokens under an integer key, replacing what it had."""
        if key in self._lengths:
            self.remove(key)
        counts = Counter(tokens)
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[key] = tf
            self._arrays.pop(term, None)
        self._terms[key] = tuple(counts)
        self._lengths[key] = len(tokens)
        self._total_length += len(tokens)
        self._length_array = None

    def remove(self, key: int) -> None:
        """Forget a document; unknown keys are ignored."""
        length = self._lengths.pop(key, None)
        if length is None:
            return
        self._total_length -= length
        self._length_array = None
        for term in self._terms.pop(key, ()):
            docs = self._postings[term]
            docs.pop(key, None)
            self._arrays.pop(term, None)
            if not docs:
                del self._postings[term]

    def idf(self, term: str) -> float:
        """Give the BM25 idf of a term (0 for unknown terms)."""
        df = len(self._postings.get(term, ()))
        if not df:
            return 0.0
        n = len(self._lengths)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _term_arrays(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Give a term's posting list as (keys, tfs) arrays, cached until it changes."""
        arrays = self._arrays.get(term)
        if arrays is None:
            docs = self._postings[term]
            arrays = (np.fromiter(docs.keys(), np.int64, len(docs)),
                      np.fromiter(docs.values(), np.float32, len(docs)))
            self._arrays[term] = arrays
        return arrays

    def scores(self, tokens: list[str]) -> dict[int, float]:
        """Score every document that shares a term with the query."""
        keys, values = self.score_arrays(tokens)
        return dict(zip(keys.tolist(), values.tolist()))

    def score_arrays(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Score every document that shares a term with the query, as (sorted keys, scores).

        Arrays rather than a dict: at 100,000 documents a common word matches tens of thousands
        of them, and building Python objects for each would cost more than the scoring.
        """
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float64))
        if not self._lengths:
            return empty
        if self._length_array is None:  # every add and remove resets it
            size = max(self._lengths) + 1
            self._length_array = np.zeros(size, np.float32)
            keys = np.fromiter(self._lengths.keys(), np.int64, len(self._lengths))
            self._length_array[keys] = np.fromiter(self._lengths.values(), np.float32, len(keys))
        avg = self._total_length / len(self._lengths) or 1.0
        acc_keys, acc_vals = [], []
        for term, qtf in Counter(tokens).items():
            if term not in self._postings:
                continue
            keys, tfs = self._term_arrays(term)
            norm = self.k1 * (1 - self.b + self.b * self._length_array[keys] / avg)
            acc_keys.append(keys)
            acc_vals.append(self.idf(term) * tfs * (self.k1 + 1) / (tfs + norm))
        if not acc_keys:
            return empty
        if len(acc_keys) == 1:  # one posting list: keys are unique already
            order = np.argsort(acc_keys[0], kind="stable")
            return acc_keys[0][order], acc_vals[0][order].astype(np.float64)
        keys = np.concatenate(acc_keys)
        vals = np.concatenate(acc_vals)
        if len(keys) * 8 > len(self._length_array):
            # Long posting lists (common words, long messages, big libraries): add into one slot
            # per document key, O(postings + keys), rather than sorting every posting.
            sums = np.bincount(keys, weights=vals, minlength=len(self._length_array))
            hit = np.flatnonzero(sums)
            return hit.astype(np.int64), sums[hit]
        uniq, inverse = np.unique(keys, return_inverse=True)
        return uniq, np.bincount(inverse, weights=vals)

    def max_score(self, tokens: list[str]) -> float:
        """Give the score a perfect, average-length document would reach for these tokens.

        A term no document has counts as the rarest possible term: "resep rendang padang" is
        not covered by a document that only shares "padang".
        """
        unseen = self.unseen_idf()
        return sum(self.idf(t) or unseen for t in set(tokens))

    def unseen_idf(self) -> float:
        """Give the idf a term no document holds would have: the most any term can have."""
        n = len(self._lengths)
        return math.log(1 + (n + 0.5) / 0.5) if n else 0.0

    def state(self) -> dict:
        """Give the index as plain data for persistence."""
        return {"k1": self.k1, "b": self.b, "postings": self._postings, "lengths": self._lengths}

    @classmethod
    def from_state(cls, state: dict) -> "LexicalIndex":
        """Rebuild an index from `state()`."""
        index = cls(state["k1"], state["b"])
        index._postings = state["postings"]
        index._lengths = state["lengths"]
        index._terms = {}
        for term, docs in index._postings.items():
            for key in docs:
                index._terms.setdefault(key, []).append(term)
        index._terms = {key: tuple(terms) for key, terms in index._terms.items()}
        index._total_length = sum(index._lengths.values())
        return index
