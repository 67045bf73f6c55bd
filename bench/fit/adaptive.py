"""Refit how the ranking adapts to the query: the foreign-language gate (Ranking.foreign_share,
lexical_weight_foreign) and the blend of keyword queries with their cosines (index/rerank.py
BLEND_WORDS, BLEND_STRENGTH).

    python bench/fit/adaptive.py

Measured on id dev's narratives, on bench/sets/id_tbh_keywords.jsonl (plain, slang, synonym,
English and paraphrase keywords written for dev targets) and on generated keyword queries
(common.keyword_queries), each by R@1 of the product's whole ranking (fusion, re-ranker, blend).
A setting is eligible when no kind ends below the better of the dense and the lexical side
alone; of those, the one with the best mean over the kinds (each kind weighing the same) wins.
"""
import itertools
import json
from dataclasses import replace

import numpy as np

from common import ROOT, BenchSet, FirstStage, Scores, Timer, message_sets, rr
from index import Ranking

KINDS = ("plain", "slang", "synonym", "english", "paraphrase")
STRENGTHS = (0.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0)
SHARES = (0.25, 0.34, 0.5, 1.01)  # 1.01: no query is foreign
FOREIGN_WEIGHTS = (0.0, 0.1, 0.2)


def kind_sets(b):
    """Give the tuning sets by name: id dev, each keyword kind, generated keywords."""
    pos = {d: i for i, d in enumerate(b.ids)}
    lines = [json.loads(x) for x in (ROOT / "bench" / "sets" / "id_tbh_keywords.jsonl").read_text().splitlines()]
    sets = {"dev": Scores(b)}
    for kind in KINDS:
        mine = [q for q in lines if q["kind"] == kind]
        sets[kind] = Scores(b.with_queries([q["text"] for q in mine], [np.array([pos[q["target"]]]) for q in mine]))
    sets["generated"] = Scores(message_sets(b)[0])
    return sets


def r1(scores, ranking):
    """Give R@1 of the product's ranking with these settings (Scores keep their ranking)."""
    scores.ranking = ranking
    stage = FirstStage(scores)
    return stage.measures(stage.product_scores())[0]


def alone(scores, weight):
    """Give R@1 of one side alone (weight 1: lexical, 0: dense), without the re-ranker."""
    stage = FirstStage(scores, weights=np.full((scores.b.Q, 1), float(weight)))
    return stage.measures()[0]


def main():
    sets = kind_sets(BenchSet.of("id"))
    floors = {name: max(alone(s, 0.0), alone(s, 1.0)) for name, s in sets.items()}
    print("floors (better of dense and lexical alone):", {k: round(v, 3) for k, v in floors.items()})
    shipped = (Ranking().foreign_share, Ranking().lexical_weight_foreign, rr.BLEND_STRENGTH)
    results = {}
    for share, weight, strength in itertools.product(SHARES, FOREIGN_WEIGHTS, STRENGTHS):
        rr.BLEND_STRENGTH = strength
        ranking = replace(Ranking(), foreign_share=share, lexical_weight_foreign=weight)
        row = {name: r1(s, ranking) for name, s in sets.items()}
        results[share, weight, strength] = row
        ok = all(row[k] >= floors[k] - 1e-9 for k in KINDS[:4])
        print(f"share {share:4.2f} weight {weight:.1f} strength {strength:4.1f} "
              + " ".join(f"{k} {v:.3f}" for k, v in row.items()) + ("" if ok else "  (below a floor)"), flush=True)
    rr.BLEND_STRENGTH = shipped[2]

    def mean(row):
        return float(np.mean([row[k] for k in ("dev", *KINDS, "generated")]))
    eligible = [key for key, row in results.items() if all(row[k] >= floors[k] - 1e-9 for k in KINDS[:4])]
    best = max(eligible or results, key=lambda key: mean(results[key]))
    print(f"\nshipped (foreign_share, lexical_weight_foreign, BLEND_STRENGTH) {shipped}: {results.get(shipped)}")
    print(f"refit {best}: {results[best]} (mean {mean(results[best]):.4f};"
          f" {len(eligible)} of {len(results)} settings keep every floor of plain, slang, synonym, english)")


if __name__ == "__main__":
    with Timer():
        main()
