"""The hybrid index: BM25 and FAISS vectors over the same documents, fused into one ranking."""
import hashlib
import threading
from collections import OrderedDict
from dataclasses import astuple, dataclass, field

import faiss
import numpy as np

from .decision import Decider, Evidence
from .documents import DocumentTable
from .encoders import Encoder
from .lexical import LexicalIndex
from .normalize import clean_for_embedding, query_for_embedding
from .query_vectors import QueryCache
from .rerank import HeadTerms, head_text, reorder
from .text import Query, tokenize
from .vectors import VectorStore

# Each document may have several vectors (one per field); a vector's FAISS id is
# document key * FIELD_SLOTS + field number.
FIELD_SLOTS = 4
RESULTS_KEPT = 2048


class EncoderMismatch(ValueError):
    """Vectors from one encoder were about to be mixed with another's."""


@dataclass(frozen=True)
class Document:
    """A text to be found, with its fields kept apart so each can be weighed."""

    id: str
    title: str = ""
    claim: str = ""
    summary: str = ""
    lang: str | None = None

    def lexical_text(self) -> str:
        """Give the text the lexical index sees."""
        return " ".join(p for p in (self.title, self.claim, self.summary) if p)

    def vector_texts(self) -> list[str]:
        """Give the texts embedded for this document, one vector each."""
        head = self.title if self.claim in self.title else f"{self.title}. {self.claim}".strip(". ")
        texts = [head]
        if self.summary:
            texts.append(f"{head}. {self.summary}")
        return [clean_for_embedding(t)[:2000] for t in texts if t]

    def digest(self) -> str:
        """Give a hash of everything embedded, to skip re-embedding unchanged text."""
        return hashlib.sha1("\x1f".join(self.vector_texts()).encode()).hexdigest()


@dataclass(frozen=True)
class Match:
    """One found document: its id, the fused score (0..1) and the two scores it came from."""

    id: str
    score: float
    lexical: float = 0.0
    semantic: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    """The ranking for a query and what to do with it: "match", "choices" or "no_match"."""

    decision: str
    matches: list[Match]
    evidence: Evidence | None = None
    quick: bool = False  # ranked by BM25 alone, without embedding the query (search(embed=False))


@dataclass
class Ranking:
    """How lexical and vector scores are fused (tuned on dev: `python bench/fit/fusion.py`)."""

    candidates: int = 100
    lexical_weight_short: float = 0.5  # queries of one to three words: keywords
    lexical_weight_long: float = 0.35  # forwarded messages and questions
    short_query_words: int = 3
    # A query whose words are mostly English words the library has never seen ("bulog job
    # vacancy" against an Indonesian library) is in another language than the library: from
    # this share of its words (Query.words) it leans on the vectors with this lexical weight,
    # and the re-ranker, fitted on the library's language, leaves it alone.
    foreign_share: float = 0.34
    lexical_weight_foreign: float = 0.1
    field_weights: tuple[float, ...] = (0.3, 0.7)  # by vector: title+claim, title+claim+summary
    rerank_top: int = 30  # fused candidates the second stage re-orders (index/rerank.py); 0: off
    # Characters of a query that are embedded (BM25 reads them all): a long forward costs the
    # encoder several times a short one's time and ranks hardly better (BENCHMARKS.md).
    query_embed_chars: int = 300


@dataclass
class HybridIndex:
    """Documents searchable by BM25 and by their encoder's vectors."""

    encoder: Encoder
    ranking: Ranking = field(default_factory=Ranking)
    decider: Decider = field(default_factory=Decider)
    revision: int = 0  # the library revision this index reflects (set by its owner)
    # From this many vectors a rebuild partitions them (an inverted file, IVF) so a search scans
    # a few percent of them instead of all (what a flat scan costs: BENCHMARKS.md).
    ivf_from: int = 60_000
    nprobe: int = 48  # lists visited per search (of about 4 * sqrt(vectors))
    # The vectors of asked queries; an owner that swaps indexes hands each the same one.
    query_vectors: QueryCache = field(default_factory=QueryCache)

    def __post_init__(self):
        self._docs = DocumentTable()  # id <-> key, digest, vectors per key
        self._next_key = 1
        self._lexical = LexicalIndex()
        self._heads = HeadTerms()  # title+claim terms, for the re-ranker
        self._vectors = VectorStore(self.encoder.dim)
        self._lock = threading.RLock()
        self._results: OrderedDict = OrderedDict()  # recent searches; emptied by any change

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._docs

    @property
    def ids(self) -> list[str]:
        """Give the ids of every indexed document, in the order they were indexed."""
        return self._docs.ids()

    def key_of(self, doc_id: str) -> int:
        """Give a document's key (KeyError when unknown)."""
        key = self._docs.key(doc_id)
        if key is None:
            raise KeyError(doc_id)
        return key

    def digest(self, doc_id: str) -> str | None:
        """Give the content hash a document was indexed with."""
        return self._docs.digest(doc_id)

    @property
    def vector_count(self) -> int:
        """Give how many vectors the index holds."""
        return self._vectors.ntotal

    def vectors_of(self, doc_id: str) -> np.ndarray:
        """Give the vectors stored for a document, to reuse them instead of embedding again."""
        key = self.key_of(doc_id)
        count = self._docs.vectors(key)
        if not count:
            return np.zeros((0, self.encoder.dim), np.float32)
        return self._vectors.reconstruct_batch(np.arange(count, dtype=np.int64) + key * FIELD_SLOTS)

    def primary_vectors_of(self, doc_id: str) -> np.ndarray:
        """Give a document's vectors as its primary encoder made them (a blend's first part):
        what cosine thresholds such as hoax grouping's were fitted on."""
        vectors = self.vectors_of(doc_id)
        part = getattr(self.encoder, "primary_part", None)
        return part(vectors) if part is not None else vectors

    def embed(self, docs: list[Document]) -> list[np.ndarray]:
        """Embed documents' texts (slow: do it outside any lock), one array per document."""
        texts = [d.vector_texts() for d in docs]
        flat = [t for group in texts for t in group]
        vectors = self.encoder.encode_documents(flat) if flat else np.zeros((0, self.encoder.dim), np.float32)
        out, at = [], 0
        for group in texts:
            out.append(vectors[at:at + len(group)])
            at += len(group)
        return out

    def add(self, docs: list[Document], vectors: list[np.ndarray] | None = None,
            encoder_id: str | None = None) -> None:
        """Index documents (replacing any with the same id), embedding them unless given vectors."""
        if encoder_id is not None and encoder_id != self.encoder.id:
            raise EncoderMismatch(
                f"These vectors come from {encoder_id!r} but the index uses {self.encoder.id!r}: "
                "rebuild the index (flask index rebuild) instead of mixing them."
            )
        if vectors is None:
            vectors = self.embed(docs)
        with self._lock:
            self._results.clear()
            for doc, vecs in zip(docs, vectors):
                vecs = np.asarray(vecs, np.float32).reshape(-1, self.encoder.dim)
                self._remove_one(doc.id)
                key = self._next_key
                self._next_key += 1
                self._docs.add(doc.id, key, doc.digest(), len(vecs))
                self._lexical.add(key, tokenize(doc.lexical_text(), doc.lang))
                self._heads.add(key, tokenize(head_text(doc.title, doc.claim), doc.lang))
                if len(vecs):
                    ids = np.arange(len(vecs), dtype=np.int64) + key * FIELD_SLOTS
                    self._vectors.add(vecs, ids)

    def remove(self, doc_ids: list[str]) -> None:
        """Forget documents; unknown ids are ignored."""
        with self._lock:
            self._results.clear()
            for doc_id in doc_ids:
                self._remove_one(doc_id)

    def _remove_one(self, doc_id: str) -> None:
        """Forget one document (caller holds the lock)."""
        key = self._docs.key(doc_id)
        if key is None:
            return
        count = self._docs.vectors(key)
        self._docs.remove(doc_id)
        self._lexical.remove(key)
        self._heads.remove(key)
        if count:
            self._vectors.remove(np.arange(count, dtype=np.int64) + key * FIELD_SLOTS)

    def search(self, text: str, k: int = 5, embed: bool = True) -> SearchResult:
        """Rank documents for a query and decide whether the best one answers it.

        The same text asked again before the index changes gets the result computed the first
        time (the last RESULTS_KEPT are kept): when a hoax goes round, many people send the same
        words within minutes.

        embed=False is the quick search for a server that is behind: when no worker has embedded
        this text yet, rank by BM25 alone (no encoder, a few milliseconds) and never answer with
        a single match, only with choices (Decider.decide_quick). A vector at hand is still used.
        """
        key = (text, k, astuple(self.ranking), id(self.decider))
        with self._lock:
            if (hit := self._results.get(key)) is not None:
                self._results.move_to_end(key)
                return SearchResult(hit.decision, list(hit.matches), hit.evidence)
        query = Query.parse(text)
        query_vec = self.query_vectors.query_vector(
            self.encoder, _clip(query_for_embedding(text), self.ranking.query_embed_chars) or "?",
            embed=embed)
        if query_vec is None:
            with self._lock:
                return self._rank_quick(query, k)
        with self._lock:  # ranked and kept under one lock: no change can slip in between
            result = self._rank(query, query_vec, k)
            self._results[key] = result
            if len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
            return SearchResult(result.decision, list(result.matches), result.evidence)

    def _rank_quick(self, query: "Query", k: int) -> SearchResult:
        """Rank by BM25 alone; the decision offers choices at most (see search)."""
        tokens = query.tokens
        if not len(self._docs):
            return SearchResult("no_match", [], self.decider.evidence_for_empty(tokens), quick=True)
        lex_keys, lex_scores = self._lexical.score_arrays(tokens)
        keys = _top(lex_keys, lex_scores, max(k, 2))
        lex = _lookup(lex_keys, lex_scores, keys).astype(np.float32)
        best = float(lex.max()) if lex.size else 0.0
        matches = [Match(self._docs.id(key), float(score) / best if best > 0 else 0.0, float(score), 0.0)
                   for key, score in zip(keys, lex) if score > 0]
        evidence = self.decider.evidence(query, matches, self._lexical)
        return SearchResult(self.decider.decide_quick(evidence), matches[:k], evidence, quick=True)

    def _rank(self, query: "Query", query_vec: np.ndarray, k: int) -> SearchResult:
        """Fuse lexical and vector scores over the union of both candidate lists."""
        tokens = query.tokens
        if not len(self._docs):
            return SearchResult("no_match", [], self.decider.evidence_for_empty(tokens))
        n = self.ranking.candidates
        lex_keys, lex_scores = self._lexical.score_arrays(tokens)
        lex_top = _top(lex_keys, lex_scores, n)
        _, vector_ids = self._vectors.search(query_vec, min(n * FIELD_SLOTS, self._vectors.ntotal))
        nearest = dict.fromkeys(int(v) // FIELD_SLOTS for v in vector_ids[0] if v >= 0)
        keys = list(dict.fromkeys(lex_top + list(nearest)[:n]))
        lex = _lookup(lex_keys, lex_scores, keys).astype(np.float32)
        ranked, sem, per_field = self._cosines(keys, query_vec[0])
        lex_norm = lex / lex.max() if lex.size and lex.max() > 0 else lex
        sem_norm = _minmax(ranked)
        foreign = self._foreign(query)
        if foreign:
            weight = self.ranking.lexical_weight_foreign
        elif len(tokens) <= self.ranking.short_query_words:
            weight = self.ranking.lexical_weight_short
        else:
            weight = self.ranking.lexical_weight_long
        fused = weight * lex_norm + (1 - weight) * sem_norm
        order = np.argsort(-fused, kind="stable")
        max_lexical = self._lexical.max_score(tokens)
        if not foreign:
            order = self._rerank(query, keys, order, fused, lex, per_field, max_lexical)
        matches = [Match(self._docs.id(keys[i]), float(fused[i]), float(lex[i]), float(sem[i]))
                   for i in order[:max(k, 2)]]
        head = self._heads.terms(self._docs.key(matches[0].id)) if matches else None
        evidence = self.decider.evidence(query, matches, self._lexical, foreign, head)
        return SearchResult(self.decider.decide(evidence), matches[:k], evidence)

    def _foreign(self, query: "Query") -> bool:
        """Say whether a query is in another language than the library (Ranking.foreign_share)."""
        return foreign(query, self._lexical, self.ranking)

    def _rerank(self, query: "Query", keys: list[int], order: np.ndarray, fused: np.ndarray,
                lex: np.ndarray, per_field: np.ndarray, max_lexical: float) -> np.ndarray:
        """Re-order the best fused candidates with the second stage (index/rerank.py)."""
        if self.ranking.rerank_top < 2:
            return order
        short = len(query.tokens) <= self.ranking.short_query_words
        return reorder(order, keys, fused, lex, per_field, query.tokens, query.lang, short,
                       self._lexical, self._heads, max_lexical,
                       self.ranking.rerank_top, query.lang_confidence)

    def _cosines(self, keys: list[int], query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Give each document's weighted mean of its field cosines (Ranking.field_weights).

        The max over fields lets short title vectors win too often; a weighted mean that leans
        on the vector with the summary ranks better (`python bench/fit/fusion.py`). Gives the
        means the ranking fuses, the primary encoder's means (the same unless the encoder is a
        blend, index/encoders.py BlendEncoder: what the decision and the re-ranker were fitted
        on), and the primary (len(keys), FIELD_SLOTS) cosines of each vector, -1 where a field
        is absent.
        """
        counts = self._docs.vector_counts(keys)
        fields = np.full((len(keys), FIELD_SLOTS), -1.0, np.float32)
        if not counts.sum():
            zeros = np.zeros(len(keys), np.float32)
            return zeros, zeros, fields
        rows = np.repeat(np.arange(len(keys)), counts)
        slots = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        ids = np.asarray(keys, np.int64)[rows] * FIELD_SLOTS + slots
        vectors = self._vectors.reconstruct_batch(ids)
        fields[rows, slots] = vectors @ query
        present = np.arange(FIELD_SLOTS)[None, :] < counts[:, None]
        weights = np.zeros(FIELD_SLOTS, np.float32)
        given = np.asarray(self.ranking.field_weights[:FIELD_SLOTS], np.float32)
        weights[:len(given)] = given
        total = (present * weights).sum(axis=1)

        def mean(cosines):
            weighted = (np.where(present, cosines, 0) * weights).sum(axis=1)
            return np.where(total > 0, weighted / np.where(total > 0, total, 1), 0).astype(np.float32)

        ranked = mean(fields)
        part = getattr(self.encoder, "primary_part", None)
        if part is None:
            return ranked, ranked, fields
        primary = np.full_like(fields, -1.0)
        primary[rows, slots] = part(vectors) @ part(query)
        return ranked, mean(primary), primary

    @property
    def partitioned(self) -> bool:
        """Say whether vector search uses an inverted file rather than a flat scan."""
        return self._vectors.partitioned

    def partition(self, force: bool = False) -> bool:
        """Move the vectors into an inverted file (IVF) when there are enough of them.

        k-means on the vectors picks about 4 * sqrt(n) cells; a search visits `nprobe` of them.
        The exact cosines of the candidates are still computed from the stored vectors, so the
        ranking only changes when a document would have been missed altogether. Documents added
        later go into the nearest cell. Returns whether the index is now partitioned.
        """
        with self._lock:
            total = self._vectors.ntotal
            if self.partitioned or (total < self.ivf_from and not force) or total < 64:
                return self.partitioned
            ids, vectors = self._vectors.everything()
            nlist = max(1, min(int(4 * np.sqrt(total)), total // 39))
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.encoder.dim), self.encoder.dim, nlist,
                                     faiss.METRIC_INNER_PRODUCT)
            ivf.cp.niter = 12
            sample = vectors[np.random.default_rng(0).permutation(total)[:nlist * 64]]
            ivf.train(sample)
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            ivf.add_with_ids(vectors, ids)
            ivf.nprobe = self.nprobe
            self._vectors = VectorStore(self.encoder.dim, ivf)
            self._results.clear()
            return True

    def state(self) -> dict:
        """Give the index for persistence: arrays, plain data and the FAISS index (its changes
        folded in first: a changed mapped index then becomes this process's own)."""
        with self._lock:
            if self._vectors.changed:
                self._vectors.own()
            return {
                "documents": self._docs.state(), "next_key": self._next_key,
                "lexical": self._lexical.state(), "revision": self.revision,
                "heads": self._heads.state(),
                "vectors": self._vectors.index,
            }

    def restore(self, state: dict) -> None:
        """Load what `state()` gave, or what older versions gave (dicts, serialized vectors).

        A FAISS index given as such (a snapshot's, memory-mapped) is never changed: changes go
        to an overlay (index/vectors.py)."""
        with self._lock:
            if "documents" in state:
                self._docs = DocumentTable.from_state(state["documents"])
            else:
                self._docs = DocumentTable.from_dicts(state["keys"], state["digests"], state["nvec"])
            self._next_key = state["next_key"]
            self._lexical = LexicalIndex.from_state(state["lexical"])
            self._heads = HeadTerms.from_state(state["heads"])
            vectors = state["vectors"]
            if isinstance(vectors, faiss.Index):
                self._vectors = VectorStore(self.encoder.dim, vectors, mapped=True)
            else:
                self._vectors = VectorStore(self.encoder.dim, faiss.deserialize_index(np.asarray(vectors)))
            self._results.clear()
            if self._vectors.partitioned:
                self._vectors.nprobe = self.nprobe
            self.revision = state["revision"]


def foreign(query: "Query", lexical: LexicalIndex, ranking: Ranking) -> bool:
    """Say whether most of a query's words are English words a library has never seen."""
    if not query.words or not query.english_stems:
        return False
    unknown = sum(not lexical.idf(stem) for stem in query.english_stems)
    return unknown >= ranking.foreign_share * query.words


def _clip(text: str, chars: int) -> str:
    """Cut a text to at most `chars` characters, at a space when there is one."""
    if len(text) <= chars:
        return text
    cut = text[:chars + 1].rsplit(" ", 1)[0]
    return cut if cut and len(cut) <= chars else text[:chars]


def _top(keys: np.ndarray, scores: np.ndarray, n: int) -> list[int]:
    """Give the keys of the n best scores, best first, ties by key."""
    if len(keys) > 2 * n:
        part = np.argpartition(-scores, n - 1)[:n]
        keys, scores = keys[part], scores[part]
    order = np.lexsort((keys, -scores))[:n]
    return keys[order].tolist()


def _lookup(keys: np.ndarray, scores: np.ndarray, wanted: list[int]) -> np.ndarray:
    """Give the scores of the wanted keys (0 where absent) from sorted keys."""
    wanted = np.asarray(wanted, np.int64)
    if not len(keys) or not len(wanted):
        return np.zeros(len(wanted), np.float64)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, scores[at], 0.0)


def _minmax(values: np.ndarray) -> np.ndarray:
    """Scale values to 0..1 (all ones when they are equal)."""
    if not values.size:
        return values
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.ones_like(values)
