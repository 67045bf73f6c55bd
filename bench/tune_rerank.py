"""Second-stage re-ranker experiments (index/rerank.py): features over the top fused candidates,
pairwise logistic regression, cross-validated on dev/train.

    python bench/tune_rerank.py cv            # CV on id dev and en train+dev, ablations
    python bench/tune_rerank.py fit           # fit on dev/train, print WEIGHTS for index/rerank.py
    python bench/tune_rerank.py test          # the adopted weights on the test splits (report only)
    python bench/tune_rerank.py gate          # the language gate (rr.MIN_CONFIDENCE) on dev/train
    python bench/tune_rerank.py decide        # the no-match decision's rates with the re-ranker
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tune_rank import Data, fuse  # noqa: E402
from tune_store import get  # noqa: E402
from index import rerank as rr  # noqa: E402
from index.hybrid import Ranking, _clip  # noqa: E402
from index.lexical import LexicalIndex  # noqa: E402
from index.normalize import query_for_embedding  # noqa: E402
from index.text import Query, tokenize  # noqa: E402
from collections import Counter  # noqa: E402

TOPK = 30


def embedded_query(text):
    """The query text the product embeds (index/hybrid.py search): as sent, its first 300 chars."""
    return _clip(query_for_embedding(text), Ranking().query_embed_chars) or "?"


class Split:
    """One set's split: the product's first stage, then per-query candidate features."""

    def __init__(self, name, splits, encode=True, vector_texts=None, data=None):
        d = self.d = data or Data(name, splits)  # data: other queries (tune_rank.with_texts)
        d._qv = get([embedded_query(t) for t in d.qtexts], "q", encode)  # as the product embeds it
        self.li = LexicalIndex()
        for i, doc in enumerate(d.docs):
            text = " ".join(p for p in (doc.get("title"), doc.get("claim"), doc.get("summary")) if p)
            self.li.add(i, tokenize(text, doc.get("lang")))
        # separate field term sets (an ablation: the product does not keep these)
        self.head_terms = [Counter(tokenize(" ".join(p for p in (doc.get("title"), doc.get("claim")) if p),
                                        doc.get("lang"))) for doc in d.docs]
        qv = d.qvecs(encode)
        H, HS = d.field_texts("head"), d.field_texts("headsum")
        if vector_texts is not None:
            H, HS = vector_texts
        self.cos_h = qv @ get(H, "d", encode).T
        has = np.array([t is not None for t in HS])
        hs = qv @ get([t or H[i] for i, t in enumerate(HS)], "d", encode).T
        self.cos_hs = np.where(has[None, :], hs, -1.0)
        sem = 0.3 * self.cos_h + 0.7 * np.where(has[None, :], hs, self.cos_h)
        lex = np.zeros((d.Q, d.N), np.float32)
        for qi, toks in enumerate(d.qtok):
            s = self.li.scores(toks)
            if s:
                lex[qi, list(s)] = list(s.values())
        self.lex, self.sem = lex, sem
        ql = np.array([len(t) for t in d.qtok])[:, None]
        self.short = ql[:, 0] <= 3
        self.fused = fuse(lex, sem, np.where(ql <= 3, 0.5, 0.35))
        self.order = np.argsort(-self.fused, axis=1, kind="stable")
        self.build()

    def build(self):
        d, li = self.d, self.li
        X, Xextra, labels = [], [], []
        for qi in range(d.Q):
            cand = self.order[qi, :TOPK]
            terms = list(dict.fromkeys(d.qtok[qi]))
            tf = np.array([[li._postings.get(t, {}).get(int(k), 0) for t in terms] for k in cand], float).reshape(len(cand), len(terms))
            c = rr.Candidates(
                fused=self.fused[qi, cand], lexical=self.lex[qi, cand],
                cosines=np.stack([self.cos_h[qi, cand], self.cos_hs[qi, cand]], 1),
                tf=tf, idf=np.array([li.idf(t) for t in terms]),
                numeric=np.array([t.isdigit() for t in terms], bool),
                max_lexical=li.max_score(d.qtok[qi]), short=bool(self.short[qi]),
                head_tf=np.array([[self.head_terms[int(k)].get(t, 0) for t in terms] for k in cand], float).reshape(len(cand), len(terms)),
                documents=len(li),
                head_recall=np.array([rr.idf_recall(self.head_terms[int(k)], set(terms), li.idf) for k in cand]))
            X.append(rr.features(c))
            idf = c.idf
            head = np.array([[t in self.head_terms[int(k)] for t in terms] for k in cand], float).reshape(len(cand), len(terms))
            hshare = head @ idf / idf.sum() if idf.sum() > 0 else np.zeros(len(cand))
            Xextra.append(np.stack([hshare, np.log1p(self.lex[qi, cand])], 1))
            labels.append(np.isin(cand, d.rel[qi]))
        self.X, self.Xextra, self.y = np.stack(X), np.stack(Xextra), np.stack(labels)

    def evaluate(self, scores=None):
        """R@1, R@5, MRR@10, MAP@5 with the top TOPK reordered by `scores` (Q, TOPK)."""
        tot = np.zeros(4)
        for qi, rel in enumerate(self.d.rel):
            order = self.order[qi].copy()
            if scores is not None:
                order[:TOPK] = order[:TOPK][np.argsort(-scores[qi], kind="stable")]
            pos = np.sort(np.nonzero(np.isin(order[:10], rel))[0])
            first = pos[0] if len(pos) else 99
            tot[0] += first == 0
            tot[1] += first < 5
            tot[2] += 1 / (first + 1) if first < 10 else 0
            tot[3] += sum((j + 1) / (x + 1) for j, x in enumerate(pos) if x < 5) / min(len(rel), 5)
        return np.round(tot / self.d.Q, 4)


def pairs(X, y):
    """Pairwise differences (relevant minus each irrelevant candidate), both orientations."""
    diffs = []
    for q in range(len(X)):
        pos, neg = X[q][y[q]], X[q][~y[q]]
        if len(pos) and len(neg):
            diffs.append((pos[:, None, :] - neg[None, :, :]).reshape(-1, X.shape[2]))
    D = np.concatenate(diffs)
    return np.concatenate([D, -D]), np.concatenate([np.ones(len(D)), np.zeros(len(D))])


def fit(X, y, C=1.0):
    """Pairwise logistic regression; give the weights in the features' own units."""
    from sklearn.linear_model import LogisticRegression
    D, t = pairs(X, y)
    scale = D.std(0) + 1e-9
    lr = LogisticRegression(C=C, fit_intercept=False, max_iter=5000).fit(D / scale, t)
    return lr.coef_[0] / scale


def cv(X, y, C=1.0, folds=5, seed=0):
    """Out-of-fold scores (Q, TOPK)."""
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(X)) % folds
    out = np.zeros(X.shape[:2])
    for f in range(folds):
        w = fit(X[fold != f], y[fold != f], C)
        out[fold == f] = X[fold == f] @ w
    return out


def cols(S, which):
    names = list(rr.FEATURES)
    if which == "all":
        return S.X
    if which == "all+field":
        return np.concatenate([S.X, S.Xextra], 2)
    keep = [names.index(n) for n in which]
    return S.X[:, :, keep]


HEAD = [n for n in rr.FEATURES if n.startswith("head")]
ABLATIONS = {
    "no-head": [n for n in rr.FEATURES if n not in HEAD],
    "all": "all",

    "no-ranks": [n for n in rr.FEATURES if n not in ("lex_rank", "sem_rank")],
    "no-short": [n for n in rr.FEATURES if not n.startswith("short")],
    "scores-only": ["fused", "lex_norm", "sem_norm", "cos_head", "cos_full"],
    "no-lexstats": [n for n in rr.FEATURES if n not in ("idf_share", "term_share", "number_share", "short_idf_share")],
}


def main_cv():
    idd = Split("id_tbh_2024_2025", ("dev",))
    en_tr = Split("en_clef2020_t2", ("train",))
    en_dv = Split("en_clef2020_t2", ("dev",))
    print("baseline  id dev", idd.evaluate(), " en train", en_tr.evaluate(), " en dev", en_dv.evaluate())
    for name, which in ABLATIONS.items():
        for C in (0.1, 1.0):
            a = idd.evaluate(cv(cols(idd, which), idd.y, C))
            Xen = np.concatenate([cols(en_tr, which), cols(en_dv, which)])
            yen = np.concatenate([en_tr.y, en_dv.y])
            b = Split.evaluate(_cat(en_tr, en_dv), cv(Xen, yen, C))
            w = fit(cols(en_tr, which), en_tr.y, C)
            c = en_dv.evaluate(cols(en_dv, which) @ w)
            # pooled languages: one model for both
            Xp = np.concatenate([cols(idd, which), Xen])
            yp = np.concatenate([idd.y, yen])
            pooled = cv(Xp, yp, C)
            pa = idd.evaluate(pooled[:idd.d.Q])
            pb = Split.evaluate(_cat(en_tr, en_dv), pooled[idd.d.Q:])
            print(f"{name:12s} C={C}: id dev CV {a} | en tr+dev CV {b} | en train->dev {c} | pooled CV id {pa} en {pb}", flush=True)


C_ADOPTED = 0.1


def main_fit():
    """Fit on id dev (the Indonesian model) and en train+dev; print the constants."""
    idd = Split("id_tbh_2024_2025", ("dev",))
    w = fit(idd.X, idd.y, C_ADOPTED)
    print("id dev before", idd.evaluate(), "CV", idd.evaluate(cv(idd.X, idd.y, C_ADOPTED)),
          "in-sample", idd.evaluate(idd.X @ w))
    print("WEIGHTS_ID =", np.round(w, 4).tolist())
    en_tr, en_dv = Split("en_clef2020_t2", ("train",)), Split("en_clef2020_t2", ("dev",))
    we = fit(np.concatenate([en_tr.X, en_dv.X]), np.concatenate([en_tr.y, en_dv.y]), C_ADOPTED)
    print("en dev before", en_dv.evaluate(), "train->dev", en_dv.evaluate(en_dv.X @ fit(en_tr.X, en_tr.y, C_ADOPTED)))
    print("WEIGHTS_EN =", np.round(we, 4).tolist(), "(not adopted: no gain in CV, see cv)")


def main_test():
    """The adopted weights (index/rerank.py) on the test splits: report, never tune."""
    for name in sys.argv[2:] or ("id_tbh_2024_2025", "id_tbh_2018", "en_clef2020_t2"):
        S = Split(name, ("test",))
        scores = product_scores(S)
        print(name, "test: first stage", S.evaluate(), "re-ranked", S.evaluate(scores), flush=True)


def product_scores(S, threshold=None):
    """The re-ranker's scores as the product gives them: the model of the query's language, only
    when the query is surely in it (rr.applies); otherwise the first-stage order."""
    threshold = rr.MIN_CONFIDENCE if threshold is None else threshold
    out = []
    for x, text in zip(S.X, S.d.qtexts):
        q = Query.parse(text)
        on = q.lang in rr.MODELS and q.lang_confidence >= threshold
        out.append(x @ rr.MODELS[q.lang] if on else -np.arange(TOPK, dtype=float))
    return np.stack(out)


def main_gate():
    """The language gate (rr.MIN_CONFIDENCE) on id dev and CLEF train/dev: queries re-ranked, measures."""
    splits = [Split("id_tbh_2024_2025", ("dev",)), Split("en_clef2020_t2", ("train",)),
              Split("en_clef2020_t2", ("dev",))]
    for S in splits:
        print(S.d.name, S.d.queries[0]["split"], "first stage", S.evaluate(), flush=True)
    for threshold in (0.0, 0.4, 0.45, 0.5, 0.55):
        row = []
        for S in splits:
            on = sum(rr.applies(q.lang) and q.lang_confidence >= threshold
                     for q in map(Query.parse, S.d.qtexts))
            row.append(f"{S.d.name[:2]} {S.d.queries[0]['split']}: {on} re-ranked {S.evaluate(product_scores(S, threshold))}")
        print(f"gate {threshold:.2f}:", " | ".join(row), flush=True)


def evidences(S, rerank=True, drop_rel=False, shown=3):
    """What the product's no-match decision (index/decision.py) sees for each query of a split.

    Gives (Evidence, top-1 correct, correct among the `shown` first: what a "choices" reply
    lists, the tipline's SEARCH_K), the order re-ranked as the product does.
    With drop_rel, the targets are taken out first (leave-the-target-out): any "match" is then a
    confident wrong answer.
    """
    from index.decision import Decider
    from index.hybrid import Match
    import copy
    if drop_rel:
        S = copy.copy(S)
        S.lex, S.sem, S.cos_h, S.cos_hs = S.lex.copy(), S.sem.copy(), S.cos_h.copy(), S.cos_hs.copy()
        for qi, rel in enumerate(S.d.rel):
            S.lex[qi, rel], S.sem[qi, rel] = 0, -9
        ql = np.array([len(t) for t in S.d.qtok])[:, None]
        S.fused = fuse(S.lex, S.sem, np.where(ql <= 3, 0.5, 0.35))
        for qi, rel in enumerate(S.d.rel):
            S.fused[qi, rel] = -np.inf
        S.order = np.argsort(-S.fused, axis=1, kind="stable")
        S.build()
    decider, out = Decider(), []
    for qi, text in enumerate(S.d.qtexts):
        order = S.order[qi].copy()
        q = Query.parse(text)
        if rerank and rr.applies(q.lang, q.lang_confidence):
            order[:TOPK] = order[:TOPK][np.argsort(-(S.X[qi] @ rr.MODELS[q.lang]), kind="stable")]
        ms = [Match(str(i), float(S.fused[qi, i]), float(S.lex[qi, i]), float(S.sem[qi, i])) for i in order[:2]]
        rel = set(S.d.rel[qi].tolist())
        out.append((decider.evidence(q, ms, S.li.max_score(q.tokens)), order[0] in rel,
                    bool(rel & set(order[:shown].tolist()))))
    return out


def decisions(S, rerank=True, drop_rel=False):
    """The product's decision on each query of a split: (decision, top-1 correct, in top 3)."""
    from index.decision import Decider
    decider = Decider()
    return [(decider.decide(ev), c1, c3) for ev, c1, c3 in evidences(S, rerank, drop_rel)]


def main_decide():
    """Answered / leave-the-target-out confident wrong, before and after re-ranking (dev/train)."""
    for name, splits in (("id_tbh_2024_2025", ("dev",)), ("en_clef2020_t2", ("dev",)), ("en_clef2020_t2", ("train",))):
        S = Split(name, splits)
        for rerank in (False, True):
            a = decisions(S, rerank)
            answered = np.mean([(d == "match" and c1) or (d == "choices" and c3) for d, c1, c3 in a])
            loo = np.mean([d == "match" for d, _, _ in decisions(S, rerank, drop_rel=True)])
            print(f"{name} {splits[0]} rerank={rerank}: answered {answered:.3f} "
                  f"(match {np.mean([d == 'match' for d, _, _ in a]):.3f}) LOO confident wrong {loo:.3f}", flush=True)


def _cat(a, b):
    """An object that evaluates the concatenation of two splits of one set."""
    import copy
    s = copy.copy(a)
    s.d = copy.copy(a.d)
    s.d.rel = a.d.rel + b.d.rel
    s.d.Q = a.d.Q + b.d.Q
    s.order = np.concatenate([a.order, b.order])
    return s


if __name__ == "__main__":
    {"cv": main_cv, "fit": main_fit, "test": main_test, "decide": main_decide, "gate": main_gate}[sys.argv[1]]()
