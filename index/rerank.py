"""Second-stage re-ranking of the fused candidates with a small linear model.

The first stage (HybridIndex._rank) fuses max-normalised BM25 with min-max cosines. That
fusion sees one number per side; the re-ranker looks at the best candidates once more with
finer evidence that is cheap to get at query time: the cosine of each stored vector, how much
of the query's vocabulary (weighted by idf) and its numbers a document holds, which of the
query's terms (above all its rare names) the title and claim hold and how much of the title
and claim the query holds, where the candidate stands in each first-stage list. The weights were
fitted pairwise on the dev/train splits (`python bench/fit/rerank.py`) and are plain constants:
no learning library at run time.

The head features need the title+claim term counts of each document (HeadTerms), kept by the
index beside its BM25 postings; an index without them (a snapshot made before) skips this stage.
"""
from dataclasses import dataclass

import numpy as np

from .lexical import COMPACT_MIN, COMPACT_SHARE, STATE_FORMAT
from .vocabulary import Vocabulary, counts_dtype

FEATURES = (
    "fused", "lex_norm", "sem_norm", "cos_head", "cos_full",
    "coverage", "idf_share", "term_share", "number_share", "lex_rank", "sem_rank",
    "short_lex", "short_sem", "short_idf_share",
    "head_lex_norm", "head_max_idf", "head_rare_terms", "head_lex_log", "head_recall",
)
K1 = 1.2


@dataclass(frozen=True)
class Candidates:
    """What the re-ranker knows of the first stage's best candidates (C of them, T query terms)."""

    fused: np.ndarray  # (C,) fused first-stage score
    lexical: np.ndarray  # (C,) raw BM25
    cosines: np.ndarray  # (C, V) cosine to each stored vector of the document (-1 when absent)
    tf: np.ndarray  # (C, T) how often each distinct query term occurs in the document
    idf: np.ndarray  # (T,) idf of each distinct query term
    numeric: np.ndarray  # (T,) whether the term is a number
    max_lexical: float  # BM25 a perfect, average-length document would get
    short: bool  # a keyword query (few words)
    head_tf: np.ndarray | None = None  # (C, T) the same counts in the title and claim only
    documents: int = 0  # documents in the index (what makes a term rare)
    head_recall: np.ndarray | None = None  # (C,) idf share of each head's terms the query holds


def features(c: Candidates) -> np.ndarray:
    """Give the (C, len(FEATURES)) feature matrix of the candidates."""
    n = len(c.fused)
    lex = np.asarray(c.lexical, np.float64)
    lex_max = lex.max() if n else 0.0
    lex_norm = lex / lex_max if lex_max > 0 else np.zeros(n)
    cos = np.asarray(c.cosines, np.float64).reshape(n, -1)
    if cos.shape[1] < 2:  # documents with one vector: the full text is the head
        cos = np.concatenate([cos, cos], 1) if cos.shape[1] else np.zeros((n, 2))
    cos_head = cos[:, 0]
    cos_full = np.where(cos[:, 1] > -1, cos[:, 1], cos[:, 0])
    sem = 0.3 * cos_head + 0.7 * cos_full
    low, high = (sem.min(), sem.max()) if n else (0.0, 0.0)
    sem_norm = (sem - low) / (high - low) if high > low else np.ones(n)
    present = np.asarray(c.tf) > 0
    idf = np.asarray(c.idf, np.float64)
    idf_share = present @ idf / idf.sum() if idf.sum() > 0 else np.zeros(n)
    term_share = present.mean(1) if present.shape[1] else np.zeros(n)
    numeric = np.asarray(c.numeric, bool)
    number_share = present[:, numeric].mean(1) if numeric.any() else np.zeros(n)
    coverage = np.minimum(1.0, lex / c.max_lexical) if c.max_lexical > 0 else np.zeros(n)
    short = float(c.short)
    x = np.stack([
        np.asarray(c.fused, np.float64), lex_norm, sem_norm, cos_head, cos_full,
        coverage, idf_share, term_share, number_share,
        np.log1p(_ranks(lex)), np.log1p(_ranks(sem)),
        short * lex_norm, short * sem_norm, short * idf_share,
        *_head_features(c, idf, n),
        np.zeros(n) if c.head_recall is None else np.asarray(c.head_recall, np.float64),
    ], 1)
    return x


def idf_recall(doc_terms, query_terms: set, idf) -> float:
    """Give the share of a document's terms, weighted by idf, that the query holds.

    The other features ask how much of the query a document holds; a fact-check's title and
    claim restate the hoax in few words, and the message that spreads it tends to hold nearly
    all of them (what this one feature adds: BENCHMARKS.md).
    """
    total = held = 0.0
    for term in doc_terms:
        weight = idf(term)
        total += weight
        if term in query_terms:
            held += weight
    return held / total if total > 0 else 0.0


def _head_features(c: Candidates, idf: np.ndarray, n: int) -> list[np.ndarray]:
    """Evidence from the title and claim alone: a rare name of the query in a title says a lot.

    BM25 without length normalisation (heads are all short), its max-normalised and log forms,
    the highest idf among the query terms the head holds (relative to the query's highest), and
    how many rare query terms (in at most about 5 documents) it holds.
    """
    if c.head_tf is None or not len(idf):
        return [np.zeros(n)] * 4
    tf = np.asarray(c.head_tf, np.float64)
    score = (tf * (K1 + 1) / (tf + K1)) @ idf
    top = score.max() if n else 0.0
    norm = score / top if top > 0 else np.zeros(n)
    held = tf > 0
    max_idf = (held * idf).max(1) / idf.max() if idf.max() > 0 else np.zeros(n)
    rare = idf >= np.log1p(max(c.documents - 5.5, 0.0) / 5.5) if c.documents else np.zeros(len(idf), bool)
    rare_held = held[:, rare].sum(1) if rare.any() else np.zeros(n)
    return [norm, max_idf, np.log1p(rare_held), np.log1p(score)]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Give each value's 0-based rank, highest first."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.arange(len(values))
    return ranks


# Pairwise logistic weights by FEATURES, per query language, fitted on id_tbh_2024_2025 dev with
# the queries embedded as the product embeds them: `python bench/fit/rerank.py`. English has none:
# a model fitted on en_clef2020_t2 train+dev gains too little in cross-validation to add a second
# model on the strength of it, so English keeps the fused order.
MODELS = {
    "id": np.array([2.0811, 0.8722, -0.7851, 18.0536, 36.6825, 0.9917, 2.5292, -1.0096, -1.1764, -0.3821,
                    -0.2878, 0.8924, 5.1639, 1.389, -0.8994, 3.0012, 0.7732, -0.323, 4.3602]),
}


# A language's model runs only on queries at least this surely in that language
# (index.text.language_confidence; 0.5: no more of the other language's stopwords than of its
# own). The function-word guess takes some English tweets for Indonesian, and the Indonesian
# model cost them MAP@5; the gate keeps nearly all of them out while id dev loses none of its
# re-ranked R@1 (`python bench/fit/rerank.py`; figures in BENCHMARKS.md). An English tweet has no
# business with a model fitted on Indonesian narratives either way.
MIN_CONFIDENCE = 0.5


# A keyword query (up to BLEND_WORDS tokens) that no candidate covers, synonyms or slang for the
# fact-check's words, gives the lexical features little to go on: the model's score is blended
# with the candidates' cosine, each standardised over the candidates, the cosine weighing
# BLEND_STRENGTH * (1 - the best candidate's idf_share). A candidate holding every query term
# keeps the model's order. Fitted on the keyword kinds of bench/sets with id dev
# (`python bench/fit/adaptive.py`; figures in BENCHMARKS.md).
BLEND_WORDS = 5
BLEND_STRENGTH = 24.0
_IDF_SHARE, _COS_HEAD, _COS_FULL = (FEATURES.index(f) for f in ("idf_share", "cos_head", "cos_full"))


def blend(scores: np.ndarray, x: np.ndarray, query_tokens: int) -> np.ndarray:
    """Give the model's scores of a keyword query blended with the cosines (BLEND_STRENGTH)."""
    if query_tokens > BLEND_WORDS or len(scores) < 2:
        return scores
    strength = BLEND_STRENGTH * max(0.0, 1.0 - float(x[:, _IDF_SHARE].max()))
    if strength <= 0:
        return scores
    cosine = 0.3 * x[:, _COS_HEAD] + 0.7 * x[:, _COS_FULL]
    return _standard(scores) + strength * _standard(cosine)


def _standard(values: np.ndarray) -> np.ndarray:
    """Centre values on their mean, in units of their spread."""
    return (values - values.mean()) / (values.std() + 1e-9)


def applies(lang: str, confidence: float = 1.0) -> bool:
    """Say whether a query in lang, guessed with this confidence, gets re-ranked."""
    return lang in MODELS and confidence >= MIN_CONFIDENCE


def rerank(c: Candidates, lang: str = "id", query_tokens: int | None = None) -> np.ndarray | None:
    """Give the re-ranker's score of each candidate (higher is better); None: no model for lang.

    query_tokens: the query's token count, for the blend of keyword queries (blend); None: none.
    """
    weights = MODELS.get(lang)
    if weights is None:
        return None
    if not len(c.fused):
        return np.zeros(0)
    x = features(c)
    scores = x @ weights
    return scores if query_tokens is None else blend(scores, x, query_tokens)


class HeadTerms:
    """Term counts of each document's title and claim, kept beside the lexical index.

    The lexical index sees title, claim and summary as one text; the re-ranker also wants to
    know which query terms the head itself holds. Stored as the lexical index is (arrays that
    the processes of a server share, index/lexical.py): a frozen base with each document's terms
    in a row, in the order they first occur, and an overlay of dicts for the documents added or
    removed since, folded in past a share of the base and by state().
    """

    def __init__(self, counts: dict[int, dict[str, int]] | None = None):
        self._set_base(Vocabulary.empty(), np.zeros(1, np.int64), np.zeros(0, bool),
                       np.zeros(0, np.int32), np.zeros(0, np.uint16))
        if counts:
            self._added = {key: dict(terms) for key, terms in counts.items()}
            self.compact()

    def _set_base(self, vocab: Vocabulary, starts: np.ndarray, present: np.ndarray,
                  term_ids: np.ndarray, counts: np.ndarray) -> None:
        """Make these arrays the base and empty the overlay.

        Document k's terms are term_ids[starts[k]:starts[k + 1]] (counts alike); present[k]: the
        base holds document k (its row may be empty).
        """
        self._vocab, self._starts, self._present = vocab, starts, present
        self._term_ids, self._counts = term_ids, counts
        self._base_count = int(np.count_nonzero(present))
        self._removed: set[int] = set()  # base documents removed or replaced since
        self._added: dict[int, dict[str, int]] = {}

    def __len__(self) -> int:
        return self._base_count - len(self._removed) + len(self._added)

    def _in_base(self, key: int) -> bool:
        """Say whether the base holds a document that is still live."""
        return 0 <= key < len(self._present) and bool(self._present[key]) and key not in self._removed

    def add(self, key: int, tokens: list[str]) -> None:
        """Record a document's head tokens under its key, replacing what it had."""
        if key < 0:
            raise ValueError(f"document keys are non-negative integers, not {key}")
        counts: dict[str, int] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        if self._in_base(key):
            self._removed.add(key)
        self._added[key] = counts
        if len(self._added) > max(COMPACT_MIN, COMPACT_SHARE * self._base_count):
            self.compact()

    def remove(self, key: int) -> None:
        """Forget a document; unknown keys are ignored."""
        if self._added.pop(key, None) is None and self._in_base(key):
            self._removed.add(key)

    def _row(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        """Give a base document's (term ids, counts)."""
        start, end = int(self._starts[key]), int(self._starts[key + 1])
        return self._term_ids[start:end], self._counts[start:end]

    def terms(self, key: int) -> dict[str, int]:
        """Give a document's head terms and their counts (empty when unknown)."""
        if key in self._added:
            return self._added[key]
        if not self._in_base(key):
            return {}
        ids, counts = self._row(key)
        return {self._vocab.term(i): c for i, c in zip(ids.tolist(), counts.tolist())}

    def tf(self, keys: list[int], terms: list[str]) -> np.ndarray:
        """Give the (len(keys), len(terms)) counts of the terms in the documents' heads."""
        ids = [self._vocab.id(t) for t in terms]
        out = np.zeros((len(keys), len(terms)), np.float64)
        for i, key in enumerate(keys):
            if key in self._added:
                added = self._added[key]
                out[i] = [added.get(t, 0) for t in terms]
            elif self._in_base(key):
                row = dict(zip(*(a.tolist() for a in self._row(key))))
                out[i] = [row.get(t, 0) for t in ids]
        return out

    def recall(self, keys: list[int], query_terms: set, idf) -> np.ndarray:
        """Give each document's idf_recall of its head terms by the query (0 when unknown)."""
        return np.array([idf_recall(self.terms(k), query_terms, idf) for k in keys], np.float64)

    def compact(self) -> None:
        """Fold the overlay into a new base (state() does it first)."""
        if not self._added and not self._removed:
            return
        terms = self._vocab.terms()
        live = self._present.copy()
        if self._removed:
            live[np.fromiter(self._removed, np.int64, len(self._removed))] = False
        row_keys = np.repeat(np.arange(len(self._present), dtype=np.int64), np.diff(self._starts))
        keep = live[row_keys]
        keys, term_ids, counts = [row_keys[keep]], [self._term_ids[keep].astype(np.int64)], [
            self._counts[keep].astype(np.uint32)]
        numbers = {term: i for i, term in enumerate(terms)}
        for key, added in self._added.items():
            ids = [numbers.setdefault(term, len(numbers)) for term in added]
            keys.append(np.full(len(added), key, np.int64))
            term_ids.append(np.array(ids, np.int64))
            counts.append(np.fromiter(added.values(), np.uint32, len(added)))
        size = max([len(self._present), *(k + 1 for k in self._added)])
        present = np.zeros(size, bool)
        present[:len(live)] = live
        present[np.fromiter(self._added, np.int64, len(self._added))] = True
        keys, term_ids, counts = np.concatenate(keys), np.concatenate(term_ids), np.concatenate(counts)
        order = np.argsort(keys, kind="stable")  # rows by key, each in its own order
        vocab, term_ids = Vocabulary.of_used(list(numbers), term_ids[order])
        starts = np.zeros(size + 1, np.int64)
        np.cumsum(np.bincount(keys, minlength=size), out=starts[1:])
        self._set_base(vocab, starts, present, term_ids.astype(np.int32),
                       counts[order].astype(counts_dtype(counts)))

    def state(self) -> dict:
        """Give the counts as arrays for persistence (the overlay folded in first)."""
        self.compact()
        return {"format": STATE_FORMAT, **self._vocab.state("vocab_"), "starts": self._starts,
                "present": self._present, "term_ids": self._term_ids, "counts": self._counts}

    @classmethod
    def from_state(cls, state: dict) -> "HeadTerms":
        """Rebuild from `state()`, or from the dict of counts by key older versions gave."""
        if state.get("format") != STATE_FORMAT:
            return cls(state)
        heads = cls()
        heads._set_base(Vocabulary.from_state(state, "vocab_"), state["starts"], state["present"],
                        state["term_ids"], state["counts"])
        return heads


def head_text(title: str, claim: str) -> str:
    """Give the text whose terms HeadTerms keeps: the title and the claim."""
    return " ".join(p for p in (title, claim) if p)


def lexical_tf(lexical, keys: list[int], terms: list[str]) -> np.ndarray:
    """Give the (len(keys), len(terms)) counts of the terms in the documents' lexical text."""
    return lexical.tf(keys, terms)


def _cached(fn):
    """Give fn remembering its answers: the candidates' heads share many terms."""
    seen: dict = {}

    def cached(arg):
        if arg not in seen:
            seen[arg] = fn(arg)
        return seen[arg]
    return cached


def reorder(order: np.ndarray, keys: list[int], fused: np.ndarray, lexical: np.ndarray,
            cosines: np.ndarray, tokens: list[str], lang: str, short: bool, index_lexical,
            heads: HeadTerms, max_lexical: float, top: int = 30,
            confidence: float = 1.0) -> np.ndarray:
    """Give the first stage's order (indexes into keys) with its best `top` re-ranked.

    confidence: how surely the query is in lang (index.text.language_confidence); too unsure,
    and the order stays the first stage's.
    """
    head = order[:top]
    if len(head) < 2 or not tokens or not applies(lang, confidence):
        return order
    terms = list(dict.fromkeys(tokens))
    cand = [keys[i] for i in head]
    c = Candidates(
        fused=fused[head], lexical=lexical[head], cosines=cosines[head],
        tf=lexical_tf(index_lexical, cand, terms),
        idf=np.array([index_lexical.idf(t) for t in terms]),
        numeric=np.array([t.isdigit() for t in terms], bool),
        max_lexical=max_lexical, short=short, head_tf=heads.tf(cand, terms),
        documents=len(index_lexical), head_recall=heads.recall(cand, set(terms), _cached(index_lexical.idf)))
    scores = rerank(c, lang, len(tokens))
    if scores is None:
        return order
    return np.concatenate([head[np.argsort(-scores, kind="stable")], order[top:]])
