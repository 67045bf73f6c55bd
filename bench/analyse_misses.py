"""Why the product's ranking misses: each query whose fact-check is not first, sorted into buckets.

The product's order is reproduced as bench/tune_rerank.py does it (fused first stage, then the
re-ranker's adopted weights, index/rerank.py, with the language gate). For every query whose
target is not ranked first:

  near-duplicate  the top hit is another fact-check of the same hoax. Test (doc to doc, both
                  from corpus fields only): cosine of the two title+claim vectors >= NEAR_COS,
                  or token Jaccard of the two title+claim token sets >= NEAR_JAC. Tuned by eye
                  on a sample (see --sample), never on the labels.
  rank            where the target is: 2-3, 4-5, 6-30, beyond 30 (not re-ranked at all)
  query length    tokens after normalisation: <= 5 short, > 60 long (and characters)
  verdict         the target's verdict (PENIPUAN = scam, SALAH = false, ...)

    python bench/analyse_misses.py                       # id_tbh_2024_2025 dev
    python bench/analyse_misses.py --set id_tbh_2018 --split test   # counting only
    python bench/analyse_misses.py --sample 20 > /tmp/sample.txt   # eyeball (data text: keep out of the repo)
"""
import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tune_rerank import TOPK, Split, product_scores
from tune_store import get

from index.text import tokenize

NEAR_COS = 0.93
NEAR_JAC = 0.5


def product_order(S):
    scores = product_scores(S)
    order = S.order.copy()
    for qi in range(S.d.Q):
        order[qi, :TOPK] = order[qi, :TOPK][np.argsort(-scores[qi], kind="stable")]
    return order


def analyse(S, order=None):
    d = S.d
    order = product_order(S) if order is None else order
    H = d.field_texts("head")
    hv = get(H, "d", True)
    heads = [set(tokenize(" ".join(p for p in (doc.get("title"), doc.get("claim")) if p), doc.get("lang")))
             for doc in d.docs]
    rows = []
    for qi in range(d.Q):
        rel = d.rel[qi]
        pos = np.nonzero(np.isin(order[qi], rel))[0]
        rank = int(pos[0]) if len(pos) else 10 ** 6
        top = int(order[qi, 0])
        tgt = int(order[qi, rank]) if len(pos) else int(rel[0])
        cos = float(hv[top] @ hv[tgt])
        a, b = heads[top], heads[tgt]
        jac = len(a & b) / max(1, len(a | b))
        qset = set(d.qtok[qi])
        hr = _recall(heads[tgt], qset, S.li.idf)
        rows.append(dict(qi=qi, rank=rank, top=top, tgt=tgt, cos=cos, jac=jac, tgt_recall=hr,
                         top_newer=(d.docs[top].get("date") or "") > (d.docs[tgt].get("date") or ""),
                         ntok=len(d.qtok[qi]), nchar=len(d.qtexts[qi]),
                         verdict=(d.docs[tgt].get("verdict") or "?").upper(),
                         top_verdict=(d.docs[top].get("verdict") or "?").upper(),
                         same_verdict=(d.docs[top].get("verdict") or "") == (d.docs[tgt].get("verdict") or ""),
                         date_gap=_gap(d.docs[top].get("date"), d.docs[tgt].get("date"))))
    return rows


def _recall(terms, qset, idf):
    tot = sum(idf(t) for t in terms)
    return sum(idf(t) for t in terms if t in qset) / tot if tot else 0.0


def _gap(a, b):
    import datetime as dt
    try:
        return abs((dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days)
    except Exception:
        return None


def near(r):
    return r["cos"] >= NEAR_COS or r["jac"] >= NEAR_JAC


def rank_bucket(rank):
    return "2-3" if rank < 3 else "4-5" if rank < 5 else "6-10" if rank < 10 else "11-30" if rank < 30 else ">30"


def len_bucket(n):
    return "<=5 tok" if n <= 5 else "6-15" if n <= 15 else "16-60" if n <= 60 else ">60 tok"


def pct(n, total):
    return f"{n} ({100 * n / total:.1f} %)"


def report(S, rows):
    Q = len(rows)
    miss = [r for r in rows if r["rank"] > 0]
    M = len(miss)
    print(f"## {S.d.name} {S.d.queries[0]['split']}: {Q} queries, R@1 {1 - M / Q:.4f}, misses {M}")
    print(f"near-duplicate test: head cosine >= {NEAR_COS} or head-token Jaccard >= {NEAR_JAC}\n")
    nd = [r for r in miss if near(r)]
    print(f"near-duplicate top hit: {pct(len(nd), M)} of misses; R@1 if counted right: {(Q - M + len(nd)) / Q:.4f}")
    print(f"  of which same verdict: {sum(r['same_verdict'] for r in nd)}; in top 3: {sum(r['rank'] < 3 for r in nd)}")
    print("\n| rank of the target | misses | near-dup top hit | not near-dup |")
    print("| --- | --- | --- | --- |")
    for b in ("2-3", "4-5", "6-10", "11-30", ">30"):
        sel = [r for r in miss if rank_bucket(r["rank"]) == b]
        print(f"| {b} | {pct(len(sel), M)} | {sum(near(r) for r in sel)} | {sum(not near(r) for r in sel)} |")
    print("\n| query tokens | queries | R@1 | misses | share of misses | near-dup |")
    print("| --- | --- | --- | --- | --- | --- |")
    for b in ("<=5 tok", "6-15", "16-60", ">60 tok"):
        sel = [r for r in rows if len_bucket(r["ntok"]) == b]
        m = [r for r in sel if r["rank"] > 0]
        if sel:
            print(f"| {b} | {len(sel)} | {1 - len(m) / len(sel):.3f} | {len(m)} | {100 * len(m) / M:.1f} % | {sum(near(r) for r in m)} |")
    print("\n| target verdict | queries | R@1 | misses | share of misses | near-dup | in top 3 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for v, _ in Counter(r["verdict"] for r in rows).most_common():
        sel = [r for r in rows if r["verdict"] == v]
        m = [r for r in sel if r["rank"] > 0]
        print(f"| {v} | {len(sel)} | {1 - len(m) / len(sel):.3f} | {len(m)} | {100 * len(m) / M:.1f} % | "
              f"{sum(near(r) for r in m)} | {sum(r['rank'] < 3 for r in m)} |")
    print("\n| idf share of the target's title+claim terms in the query | queries | R@1 | misses | target >30 |")
    print("| --- | --- | --- | --- | --- |")
    for lo, hi in ((0, 1e-9), (1e-9, 0.25), (0.25, 0.5), (0.5, 1.01)):
        sel = [r for r in rows if lo <= r["tgt_recall"] < hi]
        m = [r for r in sel if r["rank"] > 0]
        if sel:
            print(f"| {'0' if hi < 1e-6 else f'{lo:.2f}-{min(hi, 1):.2f}'} | {len(sel)} | {1 - len(m) / len(sel):.3f} | {len(m)} | {sum(r['rank'] >= 30 for r in m)} |")
    print(f"near-dup misses whose top hit is newer than the target: {sum(r['top_newer'] for r in nd)} of {len(nd)}")
    # the rest: what is left after near-duplicates, by rank
    rest = [r for r in miss if not near(r)]
    print(f"\nnot near-duplicate misses: {len(rest)}; target at 2-3: {sum(r['rank'] < 3 for r in rest)}, "
          f"4-30: {sum(3 <= r['rank'] < 30 for r in rest)}, >30: {sum(r['rank'] >= 30 for r in rest)}")
    print(f"top-3 share {np.mean([r['rank'] < 3 for r in rows]):.4f}, top-5 {np.mean([r['rank'] < 5 for r in rows]):.4f}, "
          f"top-30 {np.mean([r['rank'] < 30 for r in rows]):.4f}")
    cs = np.array([r["cos"] for r in miss])
    js = np.array([r["jac"] for r in miss])
    print("head cosine top-hit vs target over misses: quantiles 10/25/50/75/90",
          np.round(np.quantile(cs, [.1, .25, .5, .75, .9]), 3).tolist())
    print("head Jaccard over misses: quantiles", np.round(np.quantile(js, [.1, .25, .5, .75, .9]), 3).tolist())
    for t in (0.85, 0.88, 0.9, 0.93, 0.95):
        print(f"  cos >= {t}: {int((cs >= t).sum())}", end=";")
    print()
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        print(f"  jac >= {t}: {int((js >= t).sum())}", end=";")
    print()
    return miss


def sample(S, rows, n, seed=0):
    """Print n misses with the query, the top hit and the target (for eyeballing; data text)."""
    rng = np.random.default_rng(seed)
    miss = [r for r in rows if r["rank"] > 0]
    # half from around / above the threshold, half from below, to check both sides
    hi = [r for r in miss if near(r)]
    mid = [r for r in miss if not near(r) and (r["cos"] >= 0.88 or r["jac"] >= 0.3)]
    lo = [r for r in miss if not near(r) and r not in mid]
    picks = []
    for group, k in ((hi, n // 2), (mid, n // 4), (lo, n - n // 2 - n // 4)):
        picks += [group[i] for i in rng.permutation(len(group))[:k]]
    d = S.d
    for r in picks:
        print("=" * 100)
        print(f"qi {r['qi']} rank {r['rank']} cos {r['cos']:.3f} jac {r['jac']:.2f} near {near(r)} "
              f"verdicts {r['top_verdict']}/{r['verdict']} gap {r['date_gap']}")
        print("Q  :", d.qtexts[r["qi"]][:400])
        for tag, k in (("TOP", r["top"]), ("TGT", r["tgt"])):
            doc = d.docs[k]
            print(f"{tag}: {doc.get('date')} {doc.get('title')} || {doc.get('claim')}")
            print("     ", (doc.get("summary") or "")[:300])


def hand(S, rows, path):
    """Hand labels (qi lists under Y: same hoax, P: same scam template / query names nobody,
    N: different) of the misses in the near-duplicate zone; kept outside the repo."""
    import json
    lab = json.load(open(path))
    Q, M = len(rows), sum(r["rank"] > 0 for r in rows)
    auto = {r["qi"] for r in rows if r["rank"] > 0 and near(r)}
    for k in ("Y", "P", "N"):
        print(f"hand {k}: {len(lab[k])}, of which the automatic test says near: {len(auto & set(lab[k]))}")
    y, p = len(lab["Y"]), len(lab["P"])
    print(f"R@1 {1 - M / Q:.4f}; + Y accepted {(Q - M + y) / Q:.4f}; + Y and P accepted {(Q - M + y + p) / Q:.4f}")


def collapse(S, shown=3, depth=10):
    """The choices list with near-duplicates of a higher candidate skipped (same test as above).

    Strict: the target itself is among the `shown`; lenient: the target or a near-duplicate of it.
    """
    d = S.d
    order = product_order(S)
    hv = get(d.field_texts("head"), "d", True)
    heads = [set(tokenize(" ".join(p for p in (doc.get("title"), doc.get("claim")) if p), doc.get("lang")))
             for doc in d.docs]

    def nd(a, b):
        return float(hv[a] @ hv[b]) >= NEAR_COS or len(heads[a] & heads[b]) / max(1, len(heads[a] | heads[b])) >= NEAR_JAC

    tot = Counter()
    for qi in range(d.Q):
        rel = set(d.rel[qi].tolist())
        plain = [int(k) for k in order[qi, :shown]]
        kept = []
        for k in order[qi, :depth]:
            k = int(k)
            if not any(nd(k, j) for j in kept):
                kept.append(k)
            if len(kept) == shown:
                break
        kept += [int(k) for k in order[qi, :depth] if int(k) not in kept][:shown - len(kept)]
        for tag, lst in (("plain", plain), ("collapsed", kept)):
            tot[tag + " strict"] += bool(rel & set(lst))
            tot[tag + " lenient"] += bool(rel & set(lst)) or any(nd(k, t) for k in lst for t in rel)
        tot["changed"] += plain != kept
    print(f"{d.name} {d.queries[0]['split']}: choices lists changed by collapsing {tot['changed']} of {d.Q}")
    for tag in ("plain", "collapsed"):
        print(f"  {tag:9s}: target among {shown} shown {tot[tag + ' strict'] / d.Q:.4f} "
              f"({tot[tag + ' strict']}); target or a near-duplicate of it {tot[tag + ' lenient'] / d.Q:.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="id_tbh_2024_2025")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--labels", help="hand labels json (outside the repo)")
    ap.add_argument("--collapse", action="store_true", help="near-duplicate collapsing of the 3 choices")
    a = ap.parse_args()
    S = Split(a.set, (a.split,), encode=True)
    if a.collapse:
        return collapse(S)
    rows = analyse(S)
    if a.sample:
        sample(S, rows, a.sample)
    else:
        report(S, rows)
    if a.labels:
        hand(S, rows, a.labels)


if __name__ == "__main__":
    main()
