import re
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_rank import Data, fuse, evaluate, c  # noqa
from tune_store import get  # noqa

TAG = re.compile(r"^\s*\[[^\]]{2,20}\]\s*")
d = Data("id_tbh_2024_2025", ("dev",))
H, HS = d.field_texts("head"), d.field_texts("headsum")
qv = d.qvecs(False)
lex = d.lex(weights={"title": 2, "claim": 0, "summary": 1})
head, hs = qv @ get(H, "d").T, qv @ get([t or H[i] for i, t in enumerate(HS)], "d").T
print("ref", evaluate(d, fuse(lex, 0.3 * head + 0.7 * hs, 0.4)))
# untagged title (claim) and claim+summary
U = [c(TAG.sub("", doc["title"])) for doc in d.docs]
US = [f"{u}. {c(doc['summary'])}" if doc.get("summary") else u for u, doc in zip(U, d.docs)]
SU = [c(doc["summary"]) if doc.get("summary") else u for u, doc in zip(U, d.docs)]
u, us, su = qv @ get(U, "d").T, qv @ get(US, "d").T, qv @ get(SU, "d").T
for name, m in (("untag", u), ("untag+sum", us), ("sum", su)):
    print(name, "vec", evaluate(d, m))
for a, b_, g in ((0.3, 0.7, 0), (0.3, 0, 0.7), (0.2, 0.5, 0.3), (0, 0.7, 0.3), (0.3, 0.4, 0.3)):
    s = a * u + b_ * us + g * su
    print("untag combos", a, b_, g, "vec", evaluate(d, s), "fused .4", evaluate(d, fuse(lex, s, 0.4)), ".5", evaluate(d, fuse(lex, s, 0.5)))
for a, g in ((0.3, 0.3), (0.2, 0.3)):
    s = a * head + (1 - a - g) * hs + g * su
    print("tagged+sum", a, g, "vec", evaluate(d, s), "fused .4", evaluate(d, fuse(lex, s, 0.4)))
# symmetric: docs with the query prefix
qh, qus = qv @ get(U, "q").T, qv @ get(US, "q").T
print("q-prefix docs untag", evaluate(d, qh), "untag+sum", evaluate(d, qus))
s = 0.3 * qh + 0.7 * qus
print("q-prefix combo vec", evaluate(d, s), "fused .4", evaluate(d, fuse(lex, s, 0.4)), ".5", evaluate(d, fuse(lex, s, 0.5)))
