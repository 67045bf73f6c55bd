"""What every fit shares: the bench sets (dev/train only), cached embeddings, and the product's
first stage, re-ranker features and decision inputs over a whole split at once.

The ranking is the product's (index/hybrid.py HybridIndex._rank, index/rerank.py reorder) over
dense (queries x documents) score matrices, so that a weight can be swept in seconds; its
constants come from the product's own classes (Ranking, index.rerank, Decider).
"""
import copy
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from embcache import CachedEncoder  # noqa: E402
from index import Document, Ranking  # noqa: E402
from index import rerank as rr  # noqa: E402
from index.decision import Decider  # noqa: E402
from index.hybrid import Match, _clip, foreign  # noqa: E402
from index.lexical import LexicalIndex  # noqa: E402
from index.normalize import query_for_embedding  # noqa: E402
from index.text import Query, tokenize  # noqa: E402

BENCH = Path(os.environ.get("CEKFAKTA_BENCH", ROOT.parent / "shared" / "bench"))
# The tuning splits of each language (../shared/bench/README.md: never tune on test).
SETS = {"id": ("id_tbh_2024_2025", ("dev",)), "en": ("en_clef2020_t2", ("train", "dev"))}
TUNING_SPLITS = {"dev", "train"}

_encoder = None


def encoder():
    """Give the shipped encoder behind the on-disk cache (bench/fit/embcache.py)."""
    global _encoder
    if _encoder is None:
        _encoder = CachedEncoder()
    return _encoder


def setting(name):
    """Give the default of one of the app's settings (app.py SETTINGS)."""
    from app import SETTINGS
    return next(s.default for s in SETTINGS if s.name == name)


def read_set(name):
    """Load a bench set: corpus, queries, qrels (qid -> set of doc ids)."""
    folder = BENCH / name
    docs = [json.loads(line) for line in open(folder / "corpus.jsonl")]
    queries = [json.loads(line) for line in open(folder / "queries.jsonl")]
    qrels = {}
    for line in open(folder / "qrels.tsv"):
        qid, doc = line.rstrip("\n").split("\t")
        qrels.setdefault(qid, set()).add(doc)
    return docs, queries, qrels


def document(d):
    """Give the product's Document for a corpus line."""
    return Document(d["id"], d.get("title") or "", d.get("claim") or "", d.get("summary") or "", d.get("lang"))


class BenchSet:
    """One set's corpus and the queries of some tuning splits, with their targets."""

    def __init__(self, name, splits):
        if set(splits) - TUNING_SPLITS:
            raise ValueError(f"fits tune on {sorted(TUNING_SPLITS)} only, not {splits}")
        docs, queries, qrels = read_set(name)
        self.name, self.splits, self.docs = name, tuple(splits), docs
        self.lang = docs[0].get("lang") or "id"
        self.ids = [d["id"] for d in docs]
        pos = {d: i for i, d in enumerate(self.ids)}
        self.queries = [q for q in queries if q["split"] in splits and q["qid"] in qrels]
        # sorted: a set's order changes from one run to the next (the first target picks keywords)
        self.rel = [np.array(sorted(pos[d] for d in qrels[q["qid"]] if d in pos)) for q in self.queries]
        self.qtexts = [q["text"] for q in self.queries]
        self.qtok = [tokenize(t) for t in self.qtexts]
        self.N, self.Q = len(docs), len(self.queries)

    @classmethod
    def of(cls, lang):
        """Give the tuning set of a language ("id" or "en")."""
        name, splits = SETS[lang]
        return cls(name, splits)

    def with_queries(self, texts, rel):
        """Give a copy whose queries are these texts (rel: one array of doc indexes per text)."""
        new = copy.copy(self)
        new.queries = [{"qid": f"x{i}", "text": t} for i, t in enumerate(texts)]
        new.qtexts = list(texts)
        new.qtok = [tokenize(t) for t in texts]
        new.rel, new.Q = rel, len(texts)
        return new


def embedded_query(text, ranking=None):
    """Give the text of a query the product embeds (HybridIndex.search): as sent, clipped."""
    ranking = ranking or Ranking()
    return _clip(query_for_embedding(text), ranking.query_embed_chars) or "?"


def topk_mask(m, k):
    """Mark the k largest of each row."""
    k = min(k, m.shape[1])
    idx = np.argpartition(-m, k - 1, axis=1)[:, :k]
    mask = np.zeros_like(m, bool)
    np.put_along_axis(mask, idx, True, axis=1)
    return mask


def fuse(lex, sem, weight, candidates):
    """Fuse as HybridIndex._rank: BM25 / its best, min-max cosines, over both top lists.

    weight may be a scalar or a (Q, 1) array; non-candidates get -inf.
    """
    mask = topk_mask(lex, candidates) | topk_mask(sem, candidates)
    x = np.where(mask, lex, np.nan)
    best = np.nanmax(x, axis=1, keepdims=True)
    lex_norm = np.where(best > 0, lex / np.where(best > 0, best, 1), 0)
    y = np.where(mask, sem, np.nan)
    lo, hi = np.nanmin(y, 1, keepdims=True), np.nanmax(y, 1, keepdims=True)
    sem_norm = np.where(hi > lo, (sem - lo) / np.where(hi > lo, hi - lo, 1), 1)
    return np.where(mask, weight * lex_norm + (1 - weight) * sem_norm, -np.inf)


def lexical_weights(qtok, ranking):
    """Give each query's lexical weight (Q, 1) as HybridIndex._rank picks it."""
    n = np.array([len(t) for t in qtok])[:, None]
    return np.where(n <= ranking.short_query_words, ranking.lexical_weight_short, ranking.lexical_weight_long)


def measures(rel, order):
    """R@1, R@5, MRR@10, MAP@5 of rankings (order: (Q, >=10) doc indexes, best first)."""
    tot = np.zeros(4)
    for qi, r in enumerate(rel):
        pos = np.sort(np.nonzero(np.isin(order[qi][:10], r))[0])
        first = pos[0] if len(pos) else 99
        tot[0] += first == 0
        tot[1] += first < 5
        tot[2] += 1 / (first + 1) if first < 10 else 0
        tot[3] += sum((j + 1) / (x + 1) for j, x in enumerate(pos) if x < 5) / min(len(r), 5)
    return np.round(tot / len(rel), 4)


class Scores:
    """BM25 and the per-field cosines of every query against every document of a set."""

    def __init__(self, bset, ranking=None):
        self.b, self.ranking = bset, ranking or Ranking()
        docs = [document(d) for d in bset.docs]
        self.li = LexicalIndex()
        for i, doc in enumerate(docs):
            self.li.add(i, tokenize(doc.lexical_text(), doc.lang))
        self.head_terms = [Counter(tokenize(rr.head_text(doc.title, doc.claim), doc.lang)) for doc in docs]
        qv = encoder().encode_queries([embedded_query(t, self.ranking) for t in bset.qtexts])
        texts = [doc.vector_texts() for doc in docs]
        flat = encoder().encode_documents([t for group in texts for t in group])
        fields = len(self.ranking.field_weights)
        self.cos = np.full((bset.Q, bset.N, fields), -1.0, np.float32)  # -1: the field is absent
        at = 0
        for i, group in enumerate(texts):
            self.cos[:, i, :len(group)] = qv @ flat[at:at + len(group)].T
            at += len(group)
        self.lex = np.zeros((bset.Q, bset.N), np.float32)
        for qi, toks in enumerate(bset.qtok):
            s = self.li.scores(toks)
            if s:
                self.lex[qi, list(s)] = list(s.values())
        self.qvecs = qv

    def semantic(self, field_weights=None):
        """Give each document's weighted mean of its field cosines (HybridIndex._cosines)."""
        w = np.asarray(field_weights or self.ranking.field_weights, np.float32)
        present = self.cos > -1
        total = (present * w).sum(2)
        return np.where(total > 0, (np.where(present, self.cos, 0) * w).sum(2) / np.where(total > 0, total, 1), 0)


class FirstStage:
    """The product's fused ranking of a split, and the re-ranker's features of its top candidates.

    drop_rel: each query's targets are taken out first (leave-the-target-out).
    weights: each query's lexical weight, (Q, 1); None: as Ranking picks it by query length.
    """

    def __init__(self, scores, drop_rel=False, weights=None):
        s, self.b, self.ranking = scores, scores.b, scores.ranking
        self.li, self.head_terms = s.li, s.head_terms
        self.lex, self.sem = s.lex.copy(), s.semantic()
        self.cos = s.cos
        if drop_rel:
            for qi, rel in enumerate(self.b.rel):
                self.lex[qi, rel], self.sem[qi, rel] = 0, -9
        self.short = np.array([len(t) <= self.ranking.short_query_words for t in self.b.qtok])
        self.parsed = [Query.parse(t) for t in self.b.qtexts]
        self.foreign = np.array([foreign(q, self.li, self.ranking) for q in self.parsed])
        if weights is None:
            weights = np.where(self.foreign[:, None], self.ranking.lexical_weight_foreign,
                               lexical_weights(self.b.qtok, self.ranking))
        self.fused = fuse(self.lex, self.sem, weights, self.ranking.candidates)
        if drop_rel:
            for qi, rel in enumerate(self.b.rel):
                self.fused[qi, rel] = -np.inf
        self.order = np.argsort(-self.fused, axis=1, kind="stable")
        self.top = self.ranking.rerank_top
        self.X, self.y = self._features()

    def _features(self):
        """Give the re-ranker's features (Q, top, F) and which candidates are targets (Q, top)."""
        b, li = self.b, self.li
        X, labels = [], []
        for qi in range(b.Q):
            cand = self.order[qi, :self.top]
            terms = list(dict.fromkeys(b.qtok[qi]))
            shape = (len(cand), len(terms))
            c = rr.Candidates(
                fused=self.fused[qi, cand], lexical=self.lex[qi, cand],
                cosines=self.cos[qi, cand],
                tf=li.tf([int(k) for k in cand], terms),
                idf=np.array([li.idf(t) for t in terms]),
                numeric=np.array([t.isdigit() for t in terms], bool),
                max_lexical=li.max_score(b.qtok[qi]), short=bool(self.short[qi]),
                head_tf=np.array([[self.head_terms[int(k)].get(t, 0) for t in terms] for k in cand], float).reshape(shape),
                documents=len(li),
                head_recall=np.array([rr.idf_recall(self.head_terms[int(k)], set(terms), li.idf) for k in cand]))
            X.append(rr.features(c))
            labels.append(np.isin(cand, b.rel[qi]))
        return np.stack(X), np.stack(labels)

    def reranked(self, scores=None):
        """Give the order with the top candidates re-ordered by scores (Q, top); None: as fused."""
        order = self.order.copy()
        if scores is not None:
            for qi in range(len(order)):
                order[qi, :self.top] = order[qi, :self.top][np.argsort(-scores[qi], kind="stable")]
        return order

    def product_scores(self, models=None, min_confidence=None):
        """Give the re-ranker's scores as the product gives them (index/rerank.py applies):
        the model of the query's language when the query is surely in it, else the fused order."""
        models = rr.MODELS if models is None else models
        gate = rr.MIN_CONFIDENCE if min_confidence is None else min_confidence
        out = []
        for x, q, foreign_query in zip(self.X, self.parsed, self.foreign):
            on = q.lang in models and q.lang_confidence >= gate and not foreign_query
            out.append(rr.blend(x @ models[q.lang], x, len(q.tokens)) if on
                       else -np.arange(len(x), dtype=float))
        return np.stack(out)

    def measures(self, scores=None):
        """R@1, R@5, MRR@10, MAP@5, re-ranked by scores (None: the fused order)."""
        return measures(self.b.rel, self.reranked(scores))

    def evidences(self, shown=3):
        """What the no-match decision sees for each query, ranked as the product ranks it.

        Gives (Evidence, top 1 right, right one among the `shown` first: what a "choices" reply
        lists, the tipline's SEARCH_K).
        """
        decider, out = Decider(), []
        order = self.reranked(self.product_scores())
        for qi, text in enumerate(self.b.qtexts):
            q = Query.parse(text)
            ms = [Match(str(i), float(self.fused[qi, i]), float(self.lex[qi, i]), float(self.sem[qi, i]))
                  for i in order[qi, :2]]
            rel = set(self.b.rel[qi].tolist())
            head = self.head_terms[int(order[qi, 0])]
            out.append((decider.evidence(q, ms, self.li, bool(self.foreign[qi]), head), order[qi, 0] in rel,
                        bool(rel & set(order[qi, :shown].tolist()))))
        return out


# --- Messages that are not answerable queries -------------------------------------------------

# What people send a tipline that names no claim: greetings, thanks, menu and bot words, then
# (after the blank line) off-topic questions. Written for these fits.
CHITCHAT = """halo
hai
hallo min
selamat pagi
selamat siang min
selamat malam
assalamualaikum
assalamu'alaikum wr wb
waalaikumsalam
pagi kak
permisi
terima kasih
makasih ya
makasih min
trims
terima kasih banyak atas infonya
ok
oke siap
sip
iya
tidak
ya benar
menu
bantuan
help
mulai
start
info
cek fakta
cara pakai
gimana caranya cek berita?
ini bot ya?
siapa ini?
tes
test
p
hmm
wkwkwk
😂😂
🙏
mantap
apa kabar
kamu siapa
saya mau tanya
mau tanya dong min
tolong cek ini
ini hoaks bukan?
bener gak ini
hello
hi there
good morning
thanks
thank you so much
ok thanks
bye
what can you do
how does this work
who are you
is this true?
please check this
can you verify this
stop
unsubscribe

resep rendang padang
harga cabai hari ini
jadwal kereta besok
cuaca jakarta besok
skor bola semalam
cara bikin kue lapis
nomor telepon pln
promo tiket pesawat
lirik lagu dangdut terbaru
jam buka bank
how to cook fried rice
weather tomorrow
football score last night
best phone 2026
cara daftar sekolah
harga emas hari ini
info loker
film bioskop minggu ini
rekomendasi tempat wisata bandung
kurs dollar hari ini""".strip().splitlines()

TAG = re.compile(r"^\s*\[[^\]]{2,20}\]\s*")  # "[SALAH] " before a TurnBackHoax title


def keyword_queries(bset, n=300, seed=0):
    """Give n keyword queries (1-3 rarest words of a target's title, in title order) and targets."""
    rng = np.random.default_rng(seed)
    li = LexicalIndex()
    for i, doc in enumerate(bset.docs):
        li.add(i, tokenize(doc["title"] + " " + doc.get("claim", ""), doc.get("lang")))
    texts, rel = [], []
    for qi in rng.permutation(bset.Q)[:n]:
        tgt = bset.rel[qi][-1]  # of several targets, the last (as the shipped fit happened to take)
        title = TAG.sub("", bset.docs[tgt]["title"])
        words = [w for w in re.findall(r"\w+", title) if tokenize(w, bset.lang)]
        if not words:
            continue
        idf = [li.idf(tokenize(w, bset.lang)[0]) for w in words]
        k = int(rng.integers(1, 4))
        keep = sorted(np.argsort(idf)[::-1][:k])
        texts.append(" ".join(words[j] for j in keep))
        rel.append(np.array([tgt]))
    return texts, rel


def library_words(bset, n=12, seed=1):
    """Give single title words found in 3 to 40 titles: ambiguous in this library."""
    rng = np.random.default_rng(seed)
    cnt = Counter()
    for doc in bset.docs:
        cnt.update(set(w.lower() for w in re.findall(r"[A-Za-z]{4,}", TAG.sub("", doc["title"]))
                       if tokenize(w, bset.lang)))
    pool = sorted(w for w, k in cnt.items() if 3 <= k <= 40)
    return list(rng.choice(pool, n, replace=False))


def message_sets(bset):
    """Give the keyword set and the chit-chat set (CHITCHAT then library words) of a set."""
    kt, kr = keyword_queries(bset)
    chat = CHITCHAT + library_words(bset)
    return bset.with_queries(kt, kr), bset.with_queries(chat, [np.array([], int)] * len(chat))


class Timer:
    """Say how long the fit took."""

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        print(f"\n(took {time.perf_counter() - self.started:.0f} s)")


def warm():
    """Embed every text the fits read, so that each fit then runs from the cache."""
    for lang in SETS:
        b = BenchSet.of(lang)
        print(b.name, b.splits, b.Q, "queries", b.N, "documents", flush=True)
        k, c = message_sets(b)
        for s in (b, k, c):
            encoder().encode_queries([embedded_query(t) for t in s.qtexts])
        encoder().encode_documents([t for d in b.docs for t in document(d).vector_texts()])
        encoder().encode_queries(b.qtexts)  # as sent, unclipped: the inbox embeds them so
