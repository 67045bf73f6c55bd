"""Quality experiments: dense score matrices over a bench split, then vectorised fusion sweeps."""
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tune_store import get, read_set  # noqa: E402
from index import Document  # noqa: E402
from index.lexical import LexicalIndex  # noqa: E402
from index.normalize import clean_for_embedding  # noqa: E402
from index.text import tokenize  # noqa: E402


def c(t):
    return clean_for_embedding(t)[:2000]


class Data:
    def __init__(self, name, splits, qclean=None):
        docs, queries, qrels = read_set(name)
        self.name = name
        self.docs = docs
        self.lang = docs[0].get("lang") or "id"
        self.ids = [d["id"] for d in docs]
        pos = {d: i for i, d in enumerate(self.ids)}
        self.queries = [q for q in queries if q["split"] in splits and q["qid"] in qrels]
        self.rel = [np.array([pos[d] for d in qrels[q["qid"]] if d in pos]) for q in self.queries]
        self.qclean = qclean or (lambda t: t)
        self.qtexts = [self.qclean(q["text"]) for q in self.queries]
        self.qtok = [tokenize(t) for t in self.qtexts]
        self.N, self.Q = len(docs), len(self.queries)
        self._qv = None

    def qvecs(self, encode=True):
        if self._qv is None:
            self._qv = get([c(t) or "?" for t in self.qtexts], "q", encode)
        return self._qv

    def cos_field(self, texts, encode=True):
        """texts: per-doc text (None -> -1 cos). Returns (Q, N) cosines."""
        have = [i for i, t in enumerate(texts) if t]
        dv = get([texts[i] for i in have], "d", encode)
        out = np.full((self.Q, self.N), -1.0, np.float32)
        out[:, have] = self.qvecs(encode) @ dv.T
        return out

    def field_texts(self, which):
        out = []
        for d in self.docs:
            doc = Document(d["id"], d.get("title", ""), d.get("claim", ""), d.get("summary", ""), d.get("lang"))
            vt = doc.vector_texts()
            if which == "head":
                out.append(vt[0])
            elif which == "headsum":
                out.append(vt[1] if len(vt) > 1 else None)
            elif which == "summary":
                out.append(c(d["summary"]) if d.get("summary") else None)
            elif which in ("title", "claim"):
                out.append(c(d[which]) if d.get(which) else None)
        return out

    def lex(self, fields=("title", "claim", "summary"), k1=1.2, b=0.75, weights=None, tok=None):
        """Dense BM25 (Q, N). weights: per-field separate indexes summed; else one concatenated text."""
        tok = tok or self.qtok
        if weights is None:
            groups = [("all", 1.0, [" ".join(d.get(f, "") or "" for f in fields if d.get(f)) for d in self.docs])]
        else:
            groups = [(f, w, [d.get(f, "") or "" for d in self.docs]) for f, w in weights.items() if w]
        out = np.zeros((self.Q, self.N), np.float32)
        for _, w, texts in groups:
            li = LexicalIndex(k1, b)
            for i, t in enumerate(texts):
                li.add(i, tokenize(t, self.docs[i].get("lang")))
            for qi, toks in enumerate(tok):
                s = li.scores(toks)
                if s:
                    out[qi, list(s)] += w * np.array(list(s.values()), np.float32)
        return out


def topk_mask(m, k):
    k = min(k, m.shape[1])
    idx = np.argpartition(-m, k - 1, axis=1)[:, :k]
    mask = np.zeros_like(m, bool)
    np.put_along_axis(mask, idx, True, axis=1)
    return mask


def norm(m, mask, how):
    x = np.where(mask, m, np.nan)
    if how == "max":
        mx = np.nanmax(x, axis=1, keepdims=True)
        return np.where(mx > 0, m / np.where(mx > 0, mx, 1), 0)
    if how == "minmax":
        lo, hi = np.nanmin(x, 1, keepdims=True), np.nanmax(x, 1, keepdims=True)
        return np.where(hi > lo, (m - lo) / np.where(hi > lo, hi - lo, 1), 1)
    if how == "z":
        mu, sd = np.nanmean(x, 1, keepdims=True), np.nanstd(x, 1, keepdims=True)
        return (m - mu) / np.maximum(sd, 1e-6)
    if how == "raw":
        return m
    raise ValueError(how)


def ranks_of(m):
    """rank (0-based) of every column in every row, descending."""
    order = np.argsort(-m, axis=1, kind="stable")
    r = np.empty_like(order)
    np.put_along_axis(r, order, np.arange(m.shape[1])[None, :].repeat(m.shape[0], 0), axis=1)
    return r


def fuse(lex, sem, w, lnorm="max", snorm="minmax", cand=100, rrf_k=None):
    """w may be scalar or (Q,1) array. Returns fused (Q,N) with non-candidates = -inf."""
    mask = topk_mask(lex, cand) | topk_mask(sem, cand)
    if rrf_k is not None:
        f = w / (rrf_k + 1 + ranks_of(np.where(mask, lex, -1e9))) + (1 - w) / (rrf_k + 1 + ranks_of(np.where(mask, sem, -1e9)))
    else:
        f = w * norm(lex, mask, lnorm) + (1 - w) * norm(sem, mask, snorm)
    return np.where(mask, f, -np.inf)


def evaluate(data, fused):
    """R@1, R@5, MRR@10, MAP@5."""
    r = ranks_of(fused)
    tot = np.zeros(4)
    for qi, rel in enumerate(data.rel):
        rk = np.sort(r[qi, rel])
        tot[0] += rk[0] == 0
        tot[1] += rk[0] < 5
        tot[2] += 1 / (rk[0] + 1) if rk[0] < 10 else 0
        ap = sum((j + 1) / (x + 1) for j, x in enumerate(rk) if x < 5)
        tot[3] += ap / min(len(rel), 5)
    return np.round(tot / data.Q, 4)


def with_texts(data, texts, rel):
    """A copy of `data` whose queries are the given texts (rel: list of doc-index arrays)."""
    import copy
    new = copy.copy(data)
    new.queries = [{"qid": f"x{i}", "text": t} for i, t in enumerate(texts)]
    new.qtexts = [data.qclean(t) for t in texts]
    new.qtok = [tokenize(t) for t in new.qtexts]
    new.rel = rel
    new.Q = len(texts)
    new._qv = None
    return new
