"""Refit the inbox's grouping threshold (app.py SETTINGS INBOX_GROUP_THRESHOLD, editors/inbox.py).

    python bench/fit/inbox.py

Unanswered questions about the same hoax should share a group; others should not. The tuning
questions with a known "same hoax": CLEF train+dev tweets (several tweets per verified claim)
and id dev narratives (one per fact-check; two are the same hoax when one's fact-check is
judged a twin of the other's, id_tbh_2024_2025/twins_dev.tsv). Each set's questions are grouped
as editors/grouping.py does it as questions arrive (greedy, in order, against each group's centroid,
texts embedded as sent); then pairwise precision and recall of "same group" against "same hoax".
Kept: the threshold, on a 0.01 grid, with the best F1 averaged over the two sets.
"""
import numpy as np

from common import BENCH, BenchSet, Timer, encoder, setting

THRESHOLDS = tuple(np.round(np.arange(0.80, 0.961, 0.01), 2))


def assign(vectors, threshold):
    """Group vectors as editors/grouping.py does; give each one's group number."""
    sums, labels = np.zeros((0, vectors.shape[1]), np.float32), []
    for v in vectors:
        if len(sums):
            scores = sums @ v / np.maximum(np.linalg.norm(sums, axis=1), 1e-12)
            best = int(np.argmax(scores))
        if not len(sums) or scores[best] < threshold:
            sums = np.vstack([sums, np.zeros_like(v)])
            best = len(sums) - 1
        sums[best] += v
        labels.append(best)
    return np.array(labels)


def pair_scores(groups, truth):
    """Give pairwise precision, recall and F1 of "same group" against "same hoax"."""
    same_group = groups[:, None] == groups[None, :]
    same_hoax = truth[:, None] == truth[None, :]
    upper = np.triu(np.ones_like(same_group), 1)
    tp = (same_group & same_hoax & upper).sum()
    pred, true = (same_group & upper).sum(), (same_hoax & upper).sum()
    p, r = tp / max(pred, 1), tp / max(true, 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)


def hoaxes(bset):
    """Give each query a hoax number: its target, with twins (twins_dev.tsv) joined in one."""
    parent = list(range(bset.N))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    twins = BENCH / bset.name / "twins_dev.tsv"
    if twins.exists():
        pos = {d: i for i, d in enumerate(bset.ids)}
        target = {q["qid"]: int(r[0]) for q, r in zip(bset.queries, bset.rel)}
        for line in open(twins):
            qid, doc = line.rstrip("\n").split("\t")
            if qid in target and doc in pos:
                parent[find(target[qid])] = find(pos[doc])
    return np.array([find(int(r[0])) for r in bset.rel])


def main():
    shipped = setting("INBOX_GROUP_THRESHOLD")
    curves = {}
    for lang in ("en", "id"):
        b = BenchSet.of(lang)
        truth = hoaxes(b)
        vectors = encoder().encode_queries(b.qtexts)
        print(f"{lang} ({b.name} {'+'.join(b.splits)}): {b.Q} questions, {len(set(truth))} hoaxes, "
              f"{int((np.triu(truth[:, None] == truth[None, :], 1)).sum())} same-hoax pairs")
        for t in THRESHOLDS:
            groups = assign(vectors, t)
            p, r, f = pair_scores(groups, truth)
            curves.setdefault(t, []).append(f)
            mark = " <- shipped" if abs(t - shipped) < 1e-9 else ""
            print(f"  {t:.2f}: {len(set(groups))} groups, the largest {np.bincount(groups).max()}; "
                  f"pairs: precision {p:.3f} recall {r:.3f} F1 {f:.3f}{mark}")
    refit = max(THRESHOLDS, key=lambda t: (np.mean(curves[t]), -t))
    at_shipped = curves[min(THRESHOLDS, key=lambda t: abs(t - shipped))]
    print(f"\nINBOX_GROUP_THRESHOLD: shipped {shipped}  refit {refit} "
          f"(mean F1 {np.mean(curves[refit]):.3f}; at the shipped one {np.mean(at_shipped):.3f})")


if __name__ == "__main__":
    with Timer():
        main()
