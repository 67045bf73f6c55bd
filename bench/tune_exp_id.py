import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_rank import Data, fuse, evaluate  # noqa

d = Data("id_tbh_2024_2025", ("dev",))
head = d.cos_field(d.field_texts("head"), encode=False)
hs = d.cos_field(d.field_texts("headsum"), encode=False)
semmax = np.maximum(head, hs)
lex = d.lex()
print("vector head", evaluate(d, head), "headsum", evaluate(d, hs), "max", evaluate(d, semmax), "mean", evaluate(d, (head + hs) / 2))
print("bm25", evaluate(d, lex))
for w in (0.3, 0.4, 0.5, 0.6):
    print("baseline w", w, evaluate(d, fuse(lex, semmax, w)))
# semantic combos
for a in (0.3, 0.5, 0.7):
    s = a * head + (1 - a) * hs
    print("sem a*head+(1-a)*hs", a, "vec", evaluate(d, s), "fused .5", evaluate(d, fuse(lex, s, 0.5)), ".4", evaluate(d, fuse(lex, s, 0.4)))
# normalisations
for ln, sn in (("minmax", "minmax"), ("z", "z"), ("max", "z"), ("max", "raw")):
    for w in (0.3, 0.5, 0.7):
        print("norm", ln, sn, w, evaluate(d, fuse(lex, semmax, w, ln, sn)))
for k in (10, 30, 60):
    for w in (0.4, 0.5):
        print("rrf", k, w, evaluate(d, fuse(lex, semmax, w, rrf_k=k)))
# BM25 params
for k1 in (0.9, 1.2, 1.6):
    for b in (0.5, 0.75, 0.9):
        l2 = d.lex(k1=k1, b=b)
        print("bm25 k1 b", k1, b, evaluate(d, l2), "fused", evaluate(d, fuse(l2, semmax, 0.5)))
# fields
for wt in ({"title": 1, "claim": 0, "summary": 1}, {"title": 2, "claim": 0, "summary": 1}, {"title": 1, "claim": 1, "summary": 1}, {"title": 3, "claim": 0, "summary": 1}, {"title": 1, "claim": 0, "summary": 0.5}):
    l2 = d.lex(weights=wt)
    print("bm25 fields", wt, evaluate(d, l2), "fused", evaluate(d, fuse(l2, semmax, 0.5)))
l2 = d.lex(fields=("title", "claim"))
print("bm25 title+claim", evaluate(d, l2), "fused", evaluate(d, fuse(l2, semmax, 0.5)))
