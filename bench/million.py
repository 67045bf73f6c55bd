"""Search alone at 1,000,000 claims: the product's HybridIndex in one process, no web server.

The library is bench/synth.py's (the same seed, so the 100k library is its first tenth); the
vectors are the 10k library's real ones, recombined as in speed.py (embedding a million claims
would take about eleven hours on 2 cores). The lexical index is built from the synthetic texts.
Queries are the speed benchmark's messages, each embedded by the real encoder on one thread.

    python bench/million.py [--size 1000000] [--queries 600]

Needs the 10k library built first (python bench/speed.py --sizes 10000 --build-only).
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from index import Document, HybridIndex  # noqa: E402
from index.encoders import configure_threads  # noqa: E402
from index.store import IndexStore  # noqa: E402
from index.text import Query  # noqa: E402
from speed import RESULTS, Recombiner, message_pool  # noqa: E402
from synth import synthesize  # noqa: E402


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--base", type=Path, default=Path("/tmp/cekfakta-speed/lib-10000"))
    args = parser.parse_args()
    configure_threads(1)
    _, base = IndexStore(args.base / "index").load()
    recombine = Recombiner(base)
    index = HybridIndex(base.encoder)
    started = time.perf_counter()
    batch, vectors = [], []
    for row in synthesize(args.size):
        doc = Document(row["id"], row["title"], row["claim"], row["summary"], row["lang"])
        vectors.append(recombine.vectors_for(doc))
        batch.append(doc)
        if len(batch) == 20_000:
            index.add(batch, vectors)
            batch, vectors = [], []
            print(f"  {len(index):,} indexed, {time.perf_counter() - started:.0f} s, RSS {rss_mb():.0f} MB", flush=True)
    if batch:
        index.add(batch, vectors)
    built = time.perf_counter() - started
    configure_threads(2)
    started = time.perf_counter()
    index.partition()
    partitioned = time.perf_counter() - started
    configure_threads(1)
    print(f"  built in {built:.0f} s, partitioned in {partitioned:.0f} s, RSS {rss_mb():.0f} MB", flush=True)

    library = args.base / "library.jsonl"
    messages = [m for m in message_pool(library, args.queries * 2, seed=5) if m["kind"] != "greeting"]
    messages = list({m["body"]: m for m in messages}.values())[:args.queries]
    result = {"size": args.size, "documents": len(index), "vectors": index.vector_count,
              "build_s": round(built, 1), "partition_s": round(partitioned, 1),
              "rss_mb": round(rss_mb()), "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    for phase in ("embedding and search", "search only (query vector cached)", "BM25 scoring alone"):
        timings: dict[str, list[float]] = {}
        for message in messages:
            index._results.clear()  # time the search, not the kept result
            tokens = Query.parse(message["body"]).tokens
            t = time.perf_counter()
            if phase == "BM25 scoring alone":
                index._lexical.score_arrays(tokens)
            else:
                index.search(message["body"], k=5)
            timings.setdefault(message["kind"], []).append((time.perf_counter() - t) * 1000)
        every = np.concatenate([np.array(v) for v in timings.values()])
        result[phase] = {"all": _pct(every), **{k: _pct(np.array(v)) for k, v in timings.items()}}
        print(f"  {phase}: p50 {result[phase]['all']['p50_ms']} p95 {result[phase]['all']['p95_ms']} "
              f"p99 {result[phase]['all']['p99_ms']} ms", flush=True)
    result["query_cache"] = {"hits": index.query_vectors.hits, "misses": index.query_vectors.misses}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"million-{args.size}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}, indent=1))


def _pct(values: np.ndarray) -> dict:
    return {"count": int(len(values)),
            **{f"p{p}_ms": round(float(np.percentile(values, p)), 1) for p in (50, 95, 99)}}


if __name__ == "__main__":
    main()
