import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_rank import Data, fuse, evaluate, topk_mask, norm  # noqa
from tune_store import get  # noqa
from index.lexical import LexicalIndex  # noqa
from index.text import tokenize  # noqa

d = Data("id_tbh_2024_2025", ("dev",))
H, HS = d.field_texts("head"), d.field_texts("headsum")
head = d.cos_field(H, encode=False)
hs = d.cos_field(HS, encode=False)
s = 0.3 * head + 0.7 * hs
lex = d.lex(weights={"title": 2, "claim": 0, "summary": 1})
print("ref", evaluate(d, fuse(lex, s, 0.4)))
# lexical weight by query length
ql = np.array([len(t) for t in d.qtok])
for cut in (8, 12, 20, 30):
    for ws, wl in ((0.5, 0.3), (0.3, 0.5), (0.5, 0.4), (0.4, 0.5)):
        w = np.where(ql <= cut, ws, wl)[:, None]
        print("len cut", cut, ws, wl, evaluate(d, fuse(lex, s, w)))
# absolute lexical normalisation: lex / perfect score
li = LexicalIndex()
for i, doc in enumerate(d.docs):
    li.add(i, tokenize(" ".join(doc.get(f) or "" for f in ("title", "summary")), doc.get("lang")))
mx = np.array([li.max_score(t) for t in d.qtok], np.float32)[:, None]
for w in (0.3, 0.4, 0.5, 0.6):
    mask = topk_mask(lex, 100) | topk_mask(s, 100)
    ln = lex / np.maximum(mx * 3, 1e-6)
    f = np.where(mask, w * ln + (1 - w) * norm(s, mask, "minmax"), -np.inf)
    print("lex/maxscore", w, evaluate(d, f))
    f = np.where(mask, w * norm(lex, mask, "max") + (1 - w) * (s - 0.75) / 0.15, -np.inf)
    print("sem fixed scale", w, evaluate(d, f))
# PRF Rocchio in vector space
qv = d.qvecs(False)
DH = get([t for t in H], "d", False)
DHS = get([t if t else H[i] for i, t in enumerate(HS)], "d", False)
base = fuse(lex, s, 0.4)
order = np.argsort(-base, axis=1)
for m in (1, 2, 3, 5):
    for beta in (0.2, 0.4, 0.7):
        top = order[:, :m]
        fb = (0.3 * DH[top] + 0.7 * DHS[top]).mean(1)
        q2 = qv + beta * fb
        q2 /= np.linalg.norm(q2, axis=1, keepdims=True)
        s2 = 0.3 * (q2 @ DH.T) + 0.7 * (q2 @ DHS.T)
        print("prf", m, beta, evaluate(d, fuse(lex, s2, 0.4)))
