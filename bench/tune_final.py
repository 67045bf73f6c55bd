"""Before/after of the recommended ranking change on id dev and en dev/train."""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_rank import Data, fuse, evaluate  # noqa
from tune_store import get  # noqa
for name, splits in (("id_tbh_2024_2025", ("dev",)), ("en_clef2020_t2", ("dev",)), ("en_clef2020_t2", ("train",))):
    d = Data(name, splits)
    qv = d.qvecs(False)
    H, HS = d.field_texts("head"), d.field_texts("headsum")
    head = qv @ get(H, "d", False).T
    hs = qv @ get([t or H[i] for i, t in enumerate(HS)], "d", False).T
    lex = d.lex()  # current lexical_text: title + claim + summary
    ql = np.array([len(t) for t in d.qtok])[:, None]
    cur_w = np.where(ql <= 3, 0.5, 0.3)
    print(name, splits, "current (max of fields, w .5/.3)", evaluate(d, fuse(lex, np.maximum(head, hs), cur_w)))
    for w in (0.3, 0.35, 0.4):
        ww = np.where(ql <= 3, 0.5, w)
        print("   weighted .3/.7 w_long", w, evaluate(d, fuse(lex, 0.3 * head + 0.7 * hs, ww)))
