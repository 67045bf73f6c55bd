"""Refit the hoax-grouping threshold (app.py SETTINGS HOAX_GROUP_THRESHOLD, claims/groups.py).

    python bench/fit/groups.py
    python bench/fit/groups.py --show 0.955     # also list the links made at this threshold

A newly published fact-check joins the hoax group of its most similar published one when the
two are similar enough. This replays that on the id dev library as it grew: fact-checks added
one by one in publication order, each compared the way the product compares it
(index/searcher.py Searcher.similar: BM25 candidates from its title and claim, scored by the
cosine of the two fact-checks' fullest vectors), and it also reports the closest one by vectors
over the whole library, to check that the BM25 candidates miss nothing.

The truth is the hand-judged pairs of id_tbh_2024_2025 (twins_dev_judged.tsv: a dev target and
a fact-check ranked high for its narrative, judged SAME or DIFF; twins_dev.tsv holds the SAME
ones). Most links the replay makes were never judged: precision is over the judged links, and
the unjudged ones are counted (read them with --show before trusting a threshold). Recall is
the share of SAME pairs that end in one group. A wrong grouping hides an answer from the
tipline's list, so precision comes first: kept is the lowest threshold, on a 0.005 grid, whose
judged precision reaches PRECISION over at least MIN_JUDGED judged links.

A second table replays the English CLEF library the same way (no dates: in id order) against
bench/sets/clef_twins_dev.tsv, where every link the product's grouping makes at the shipped
threshold was judged SAME or DIFF claim (bench/sets/README.md). It is reported, not fitted on:
CLEF's near-duplicates are short one-sentence claims, unlike the tipline's library.

Both replays pass over a neighbour whose numbers differ from the new fact-check's
(claims.groups.numbers_differ), as the product does; --no-numbers replays without that guard.
"""
import argparse
import hashlib
from pathlib import Path

import numpy as np

from common import BENCH, Timer, document, encoder, read_set, setting  # first: puts the repo on sys.path
from claims.groups import numbers_of, stated_apart  # noqa: I001
from index.lexical import LexicalIndex
from index.searcher import SIMILAR_CANDIDATES
from index.text import tokenize

SET = "id_tbh_2024_2025"
CLEF = "en_clef2020_t2"
CLEF_PAIRS = Path(__file__).resolve().parents[1] / "sets" / "clef_twins_dev.tsv"
CLEF_THRESHOLDS = (0.955, 0.96, 0.965, 0.97, 0.975, 0.98, 0.985, 0.99, 0.995, 0.999)
THRESHOLDS = tuple(np.round(np.arange(0.93, 0.9751, 0.005), 3))
PRECISION = 0.9
MIN_JUDGED = 10


def fullest_vectors(docs):
    """Give each fact-check's last vector (every field), as Searcher.similar compares them."""
    texts = [document(d).vector_texts() for d in docs]
    flat = encoder().encode_documents([t for group in texts for t in group])
    ends = np.cumsum([len(group) for group in texts]) - 1
    return flat[ends]


def judged_pairs(ids, qrels):
    """Give {frozenset of two doc indexes: True (SAME) or False (DIFF)} from the judged dev pairs."""
    pos = {d: i for i, d in enumerate(ids)}
    labels = {}
    for line in (BENCH / SET / "twins_dev_judged.tsv").read_text().splitlines():
        qid, doc, label = line.split("\t")
        for target in qrels[qid]:
            if target != doc and target in pos and doc in pos:
                pair = frozenset((pos[target], pos[doc]))
                labels[pair] = labels.get(pair, False) or label == "SAME"
    return labels


def clef_pairs(ids):
    """Give {frozenset of two doc indexes: True (SAME) or False (DIFF)} from clef_twins_dev.tsv."""
    # The file names fact-checks by a digest of their ids (bench/quality.py twin_key).
    pos = {hashlib.sha1(d.encode("utf-8")).hexdigest()[:16]: i for i, d in enumerate(ids)}
    labels = {}
    for line in CLEF_PAIRS.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        a, b, _, label = line.split("\t")[:4]
        labels[frozenset((pos[a], pos[b]))] = label == "SAME"
    return labels


def clef_table(numbers=True):
    """Print the judged precision of the links CLEF's replay makes at each threshold."""
    docs, _, _ = read_set(CLEF)
    labels = clef_pairs([d["id"] for d in docs])
    by_bm25, _ = replay(docs, fullest_vectors(docs), numbers)
    print(f"\n{CLEF}: {len(docs)} fact-checks, {len(labels)} judged links ({sum(labels.values())} SAME)\n")
    print("| threshold | links | judged SAME | judged DIFF | unjudged | precision (judged) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for t in CLEF_THRESHOLDS:
        made, same, diff, unjudged, precision, _ = measure(by_bm25, labels, len(docs), t)
        print(f"| {t:.3f} | {made} | {same} | {diff} | {unjudged} | {precision:.3f} |")


def replay(docs, vectors, numbers=True):
    """Add the fact-checks in publication order; give each one's closest earlier one, twice:
    (new, closest among its BM25 candidates, cosine) and (new, closest by vectors, cosine).

    numbers: pass over the earlier ones whose numbers differ (claims.groups.numbers_differ),
    as the product does."""
    by_bm25, by_vectors, _ = replay_all(docs, vectors, numbers)
    return by_bm25, by_vectors


def replay_all(docs, vectors, numbers=True):
    """replay, and also every (new, candidate, cosine) among each one's BM25 candidates, whatever
    their numbers: what the product records for the desk's review of close calls
    (claims.groups hoax_pairs, /editors/pairs)."""
    order = sorted(range(len(docs)), key=lambda i: (docs[i].get("date") or "", docs[i]["id"]))
    lexical, added, by_bm25, by_vectors, near = LexicalIndex(), [], [], [], []
    heads = [document(d) for d in docs]
    stated = [numbers_of(h) for h in heads]

    def allowed(i, k):  # claims.groups.numbers_differ, on the numbers read once
        return not numbers or not stated_apart(stated[i], stated[k])
    for i in order:
        doc = heads[i]
        if added:
            scores = lexical.scores(tokenize(" ".join(p for p in (doc.title, doc.claim) if p), doc.lang))
            nearest = sorted(scores, key=lambda k: -scores[k])[:SIMILAR_CANDIDATES]
            near += [(i, k, float(vectors[i] @ vectors[k])) for k in nearest]
            candidates = [k for k in nearest if allowed(i, k)]
            if candidates:
                best = max(candidates, key=lambda k: float(vectors[i] @ vectors[k]))
                by_bm25.append((i, best, float(vectors[i] @ vectors[best])))
            earlier = np.array(added)
            cosines = vectors[earlier] @ vectors[i]
            best = next((int(earlier[j]) for j in np.argsort(-cosines) if allowed(i, int(earlier[j]))), None)
            if best is not None:
                by_vectors.append((i, best, float(vectors[i] @ vectors[best])))
        lexical.add(i, tokenize(doc.lexical_text(), doc.lang))
        added.append(i)
    return by_bm25, by_vectors, near


def review_table(near, by_bm25, labels, n, threshold):
    """Print what the desk's review of close calls holds after the replay, by its lower bound
    (PAIR_REVIEW_FROM): pairs of fact-checks left in different groups whose cosine reaches it,
    and how many of the judged ones are the same hoax."""
    group = groups_of(by_bm25, n, threshold)
    print(f"\nPairs left for the desk's review (/editors/pairs) on {n} fact-checks, groups at {threshold}:\n")
    print("| PAIR_REVIEW_FROM | pairs | per 1,000 fact-checks | judged SAME | judged DIFF | unjudged "
          "| SAME share (judged) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for low in (0.85, 0.88, 0.90, 0.92, 0.94):
        pairs = {frozenset((a, b)) for a, b, score in near if score >= low and group[a] != group[b]}
        judged = [labels.get(pair) for pair in pairs]
        same, diff = judged.count(True), judged.count(False)
        print(f"| {low:.2f} | {len(pairs)} | {1000 * len(pairs) / n:.0f} | {same} | {diff} | "
              f"{judged.count(None)} | {same / max(same + diff, 1):.3f} |")


def groups_of(links, n, threshold):
    """Give each fact-check's group when every link at or above the threshold joins two groups."""
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for a, b, score in links:
        if score >= threshold:
            parent[find(a)] = find(b)
    return [find(i) for i in range(n)]


def measure(links, labels, n, threshold):
    """Give links made, judged SAME, judged DIFF, unjudged, judged precision, pair recall."""
    made = [(a, b) for a, b, score in links if score >= threshold]
    judged = [labels.get(frozenset(pair)) for pair in made]
    same, diff = judged.count(True), judged.count(False)
    group = groups_of(links, n, threshold)
    twins = [tuple(pair) for pair, is_same in labels.items() if is_same]
    recall = sum(group[a] == group[b] for a, b in twins) / max(len(twins), 1)
    return len(made), same, diff, judged.count(None), same / max(same + diff, 1), recall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=float, help="list the links made at this threshold")
    parser.add_argument("--no-numbers", action="store_true",
                        help="join fact-checks whose numbers differ too (the product before the guard)")
    args = parser.parse_args()
    numbers = not args.no_numbers
    docs, _, qrels = read_set(SET)
    ids = [d["id"] for d in docs]
    vectors = fullest_vectors(docs)
    labels = judged_pairs(ids, qrels)
    print(f"{SET}: {len(docs)} fact-checks, {len(labels)} judged pairs "
          f"({sum(labels.values())} SAME)\n")
    by_bm25, by_vectors, near = replay_all(docs, vectors, numbers)
    print("| threshold | links | judged SAME | judged DIFF | unjudged | precision (judged) | recall (SAME pairs) "
          "| links, closest by vectors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    kept = None
    for t in THRESHOLDS:
        made, same, diff, unjudged, precision, recall = measure(by_bm25, labels, len(docs), t)
        dense = measure(by_vectors, labels, len(docs), t)
        print(f"| {t:.3f} | {made} | {same} | {diff} | {unjudged} | {precision:.3f} | {recall:.3f} | "
              f"{dense[0]} ({dense[1]} SAME, {dense[2]} DIFF) |")
        if kept is None and precision >= PRECISION and same + diff >= MIN_JUDGED:
            kept = t
    shipped = setting("HOAX_GROUP_THRESHOLD")
    print(f"\nHOAX_GROUP_THRESHOLD: shipped {shipped}  refit {kept} "
          f"(lowest with judged precision >= {PRECISION} over >= {MIN_JUDGED} judged links)")
    review_table(near, by_bm25, labels, len(docs), shipped)
    if args.show is not None:
        names = {True: "SAME", False: "DIFF", None: "----"}
        print(f"\nLinks at {args.show} (new || the earlier one it joins):")
        for a, b, score in sorted(by_bm25, key=lambda link: -link[2]):
            if score >= args.show:
                print(f"{score:.3f} {names[labels.get(frozenset((a, b)))]} | {docs[a]['title'][:70]} || "
                      f"{docs[b]['title'][:70]}")
    clef_table(numbers)


if __name__ == "__main__":
    with Timer():
        main()
