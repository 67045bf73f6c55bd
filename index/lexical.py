"""An incremental BM25 index over stemmed tokens.

The bulk of it is a frozen base in NumPy arrays (postings by term, compressed sparse rows), made
when a snapshot is written or loaded, which every process of a server shares (index/vocabulary.py
says why arrays); documents added or removed since sit in a small overlay of dicts, folded into a
new base once it grows past a share of it (COMPACT_SHARE).
"""
import math
from collections import Counter

import numpy as np

from .vocabulary import REMEMBERED, Vocabulary, counts_dtype, keys_dtype

# The overlay is folded into the base once it holds more documents than this share of the
# base's, and at least COMPACT_MIN: a fold rewrites every array, so it happens a few dozen
# times while a library of 100,000 is indexed from nothing, not once per document.
COMPACT_SHARE = 0.1
COMPACT_MIN = 2048
STATE_FORMAT = 2  # state() as arrays; 1 was dicts of postings (still read)


class LexicalIndex:
    """BM25 (Okapi) over documents that can be added and removed one at a time.

    Keys are small non-negative integers: document lengths sit in an array indexed by key.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self._set_base(Vocabulary.empty(), np.zeros(1, np.int64), np.zeros(0, np.int32),
                       np.zeros(0, np.uint16), np.zeros(0, np.float32))

    def _set_base(self, vocab: Vocabulary, offsets: np.ndarray, keys: np.ndarray, tfs: np.ndarray,
                  lengths: np.ndarray) -> None:
        """Make these arrays the base and empty the overlay.

        lengths: each key's token count, -1 for keys the base lacks.
        """
        self._vocab, self._offsets, self._keys, self._tfs = vocab, offsets, keys, tfs
        self._base_lengths = lengths
        self._span = len(lengths)  # keys below this, for scoring into one slot per key
        present = lengths >= 0
        self._base_count = int(np.count_nonzero(present))
        self._total_length = int(lengths[present].sum(dtype=np.int64))
        self._removed: set[int] = set()  # base documents removed or replaced since
        self._removed_mask: np.ndarray | None = None  # the same as a boolean array, made on demand
        self._removed_df: dict[int, int] = {}  # base term id -> removed documents holding it
        self._added: dict[int, tuple[str, ...]] = {}  # overlay: key -> its distinct terms
        self._added_lengths: dict[int, int] = {}
        self._added_postings: dict[str, dict[int, int]] = {}  # overlay postings: term -> {key: tf}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._idf: dict[str, float] = {}  # idf by term, asked many times a query; any change empties it

    def __len__(self) -> int:
        return self._base_count - len(self._removed) + len(self._added)

    def __contains__(self, key: int) -> bool:
        return key in self._added or (self._in_base(key) and key not in self._removed)

    def _in_base(self, key: int) -> bool:
        """Say whether the base holds a key (removed since or not)."""
        return 0 <= key < len(self._base_lengths) and self._base_lengths[key] >= 0

    def add(self, key: int, tokens: list[str]) -> None:
        """Index a document's tokens under an integer key, replacing what it had."""
        if key < 0:
            raise ValueError(f"document keys are non-negative integers, not {key}")
        if key in self:
            self.remove(key)
        self._idf = {}
        counts = Counter(tokens)
        for term, tf in counts.items():
            self._added_postings.setdefault(term, {})[key] = tf
            self._arrays.pop(term, None)
        self._added[key] = tuple(counts)
        self._added_lengths[key] = len(tokens)
        self._span = max(self._span, key + 1)
        self._total_length += len(tokens)
        if len(self._added) > max(COMPACT_MIN, COMPACT_SHARE * self._base_count):
            self.compact()

    def remove(self, key: int) -> None:
        """Forget a document; unknown keys are ignored."""
        self._idf = {}
        if key in self._added:
            self._total_length -= self._added_lengths.pop(key)
            for term in self._added.pop(key):
                docs = self._added_postings[term]
                docs.pop(key, None)
                self._arrays.pop(term, None)
                if not docs:
                    del self._added_postings[term]
        elif self._in_base(key) and key not in self._removed:
            self._removed.add(key)
            self._removed_mask = None
            self._removed_df.clear()
            self._total_length -= int(self._base_lengths[key])

    def compact(self) -> None:
        """Fold the overlay into a new base (state() does it first)."""
        if not self._added and not self._removed:
            return
        terms = self._vocab.terms()
        term_ids = np.repeat(np.arange(len(terms), dtype=np.int64), np.diff(self._offsets))
        keys = self._keys.astype(np.int64)
        tfs = self._tfs.astype(np.uint32)
        if self._removed:
            keep = ~self._mask()[keys]
            term_ids, keys, tfs = term_ids[keep], keys[keep], tfs[keep]
        size = max([len(self._base_lengths), *(k + 1 for k in self._added)])
        lengths = np.full(size, -1, np.float32)
        lengths[:len(self._base_lengths)] = self._base_lengths
        if self._removed:
            lengths[np.fromiter(self._removed, np.int64, len(self._removed))] = -1
        for key, length in self._added_lengths.items():
            lengths[key] = length
        numbers = {term: i for i, term in enumerate(terms)}
        new_ids, new_keys, new_tfs = [], [], []
        for term, docs in self._added_postings.items():
            tid = numbers.setdefault(term, len(numbers))
            new_ids.append(np.full(len(docs), tid, np.int64))
            new_keys.append(np.fromiter(docs.keys(), np.int64, len(docs)))
            new_tfs.append(np.fromiter(docs.values(), np.uint32, len(docs)))
        self._set_base(*_postings_base(list(numbers), np.concatenate([term_ids, *new_ids]),
                                       np.concatenate([keys, *new_keys]), np.concatenate([tfs, *new_tfs])),
                       lengths)

    def _mask(self) -> np.ndarray:
        """Give the removed base documents as a boolean array by key."""
        if self._removed_mask is None:
            mask = np.zeros(len(self._base_lengths), bool)
            mask[np.fromiter(self._removed, np.int64, len(self._removed))] = True
            self._removed_mask = mask
        return self._removed_mask

    def _df(self, term: str) -> int:
        """Give how many documents hold a term."""
        df = len(self._added_postings.get(term, ()))
        tid = self._vocab.id(term)
        if tid >= 0:
            start, end = int(self._offsets[tid]), int(self._offsets[tid + 1])
            df += end - start
            if self._removed:
                gone = self._removed_df.get(tid)
                if gone is None:
                    gone = int(np.count_nonzero(self._mask()[self._keys[start:end]]))
                    self._removed_df[tid] = gone
                df -= gone
        return df

    def idf(self, term: str) -> float:
        """Give the BM25 idf of a term (0 for unknown terms)."""
        idf = self._idf.get(term)
        if idf is None:
            df = self._df(term)
            n = len(self)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0
            if len(self._idf) >= REMEMBERED:
                self._idf = {}
            self._idf[term] = idf
        return idf

    def _base_postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Give a term's live postings in the base as (keys, tfs), sorted by key."""
        tid = self._vocab.id(term)
        if tid < 0:
            return self._keys[:0], self._tfs[:0]
        start, end = int(self._offsets[tid]), int(self._offsets[tid + 1])
        keys, tfs = self._keys[start:end], self._tfs[start:end]
        if self._removed:
            keep = ~self._mask()[keys]
            keys, tfs = keys[keep], tfs[keep]
        return keys, tfs

    def _term_arrays(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Give a term's posting list as (keys, tfs, document lengths) arrays; None: no document."""
        keys, tfs = self._base_postings(term)
        lengths = self._base_lengths[keys]
        docs = self._added_postings.get(term)
        if docs:
            added = self._arrays.get(term)
            if added is None:  # cached until the term's overlay postings change
                added_keys = np.fromiter(docs.keys(), np.int64, len(docs))
                added = (added_keys, np.fromiter(docs.values(), np.float32, len(docs)),
                         np.fromiter((self._added_lengths[k] for k in docs), np.float32, len(docs)))
                self._arrays[term] = added
            keys = np.concatenate([keys.astype(np.int64), added[0]])
            tfs = np.concatenate([tfs.astype(np.float32), added[1]])
            lengths = np.concatenate([lengths, added[2]])
        elif not len(keys):
            return None
        return keys.astype(np.int64), tfs.astype(np.float32), lengths

    def tf(self, keys: list[int], terms: list[str]) -> np.ndarray:
        """Give the (len(keys), len(terms)) counts of the terms in the documents."""
        wanted = np.asarray(keys, np.int64).reshape(-1)
        out = np.zeros((len(wanted), len(terms)), np.float64)
        for j, term in enumerate(terms):
            base_keys, base_tfs = self._base_postings(term)
            if len(base_keys):
                at = np.minimum(np.searchsorted(base_keys, wanted), len(base_keys) - 1)
                hit = base_keys[at] == wanted
                out[hit, j] = base_tfs[at[hit]]
            docs = self._added_postings.get(term)
            if docs:
                for i, key in enumerate(wanted.tolist()):
                    if key in docs:
                        out[i, j] = docs[key]
        return out

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
        n = len(self)
        if not n:
            return empty
        avg = self._total_length / n or 1.0
        acc_keys, acc_vals = [], []
        for term, qtf in Counter(tokens).items():
            found = self._term_arrays(term)
            if found is None:
                continue
            keys, tfs, lengths = found
            norm = self.k1 * (1 - self.b + self.b * lengths / avg)
            acc_keys.append(keys)
            acc_vals.append(self.idf(term) * tfs * (self.k1 + 1) / (tfs + norm))
        if not acc_keys:
            return empty
        if len(acc_keys) == 1:  # one posting list: keys are unique already
            order = np.argsort(acc_keys[0], kind="stable")
            return acc_keys[0][order], acc_vals[0][order].astype(np.float64)
        keys = np.concatenate(acc_keys)
        vals = np.concatenate(acc_vals)
        span = self._span
        if len(keys) * 8 > span:
            # Long posting lists (common words, long messages, big libraries): add into one slot
            # per document key, O(postings + keys), rather than sorting every posting.
            sums = np.bincount(keys, weights=vals, minlength=span)
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
        n = len(self)
        return math.log(1 + (n + 0.5) / 0.5) if n else 0.0

    def state(self) -> dict:
        """Give the index as arrays for persistence (the overlay folded in first)."""
        self.compact()
        return {"format": STATE_FORMAT, "k1": self.k1, "b": self.b, **self._vocab.state("vocab_"),
                "offsets": self._offsets, "keys": self._keys, "tfs": self._tfs,
                "lengths": self._base_lengths}

    @classmethod
    def from_state(cls, state: dict) -> "LexicalIndex":
        """Rebuild an index from `state()`, or from the dicts of postings older versions gave."""
        index = cls(state["k1"], state["b"])
        if state.get("format") == STATE_FORMAT:
            index._set_base(Vocabulary.from_state(state, "vocab_"), state["offsets"], state["keys"],
                            state["tfs"], state["lengths"])
            return index
        postings, doc_lengths = state["postings"], state["lengths"]
        terms = list(postings)
        sizes = np.fromiter((len(docs) for docs in postings.values()), np.int64, len(terms))
        total = int(sizes.sum())
        keys = np.fromiter((k for docs in postings.values() for k in docs), np.int64, total)
        tfs = np.fromiter((tf for docs in postings.values() for tf in docs.values()), np.uint32, total)
        size = max(doc_lengths, default=-1) + 1
        lengths = np.full(size, -1, np.float32)
        lengths[np.fromiter(doc_lengths.keys(), np.int64, len(doc_lengths))] = \
            np.fromiter(doc_lengths.values(), np.float32, len(doc_lengths))
        term_ids = np.repeat(np.arange(len(terms), dtype=np.int64), sizes)
        index._set_base(*_postings_base(terms, term_ids, keys, tfs), lengths)
        return index


def _postings_base(terms: list[str], term_ids: np.ndarray, keys: np.ndarray,
                   tfs: np.ndarray) -> tuple[Vocabulary, np.ndarray, np.ndarray, np.ndarray]:
    """Give (vocabulary, offsets, keys, tfs) of postings given as (term index, key, tf) triples.

    Terms without any posting are left out; each term's postings are sorted by key.
    """
    vocab, term_ids = Vocabulary.of_used(terms, term_ids)
    # One sort by (term, key) as one number; a stable sort merges the runs that are sorted
    # already (the old base's postings keep their order under the new term ids) in linear time.
    span = int(keys.max()) + 1 if len(keys) else 1
    order = np.argsort(term_ids * span + keys, kind="stable")
    offsets = np.zeros(len(vocab) + 1, np.int64)
    np.cumsum(np.bincount(term_ids, minlength=len(vocab)), out=offsets[1:])
    return (vocab, offsets, keys[order].astype(keys_dtype(keys)),
            tfs[order].astype(counts_dtype(tfs)))
