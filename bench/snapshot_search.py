"""Search alone on a library's live index snapshot, in one process: this code and an earlier copy.

Each code loads the snapshot with its own IndexStore (as a server worker does), embeds every
message once (the query vectors are then at hand, as for a message asked again), and times
`search` on each message, several rounds, the kept results emptied before every search; BM25
scoring alone is timed too. The codes take turns, round by round, so both see the same load.

    python bench/snapshot_search.py --index /tmp/cekfakta-speed/lib-100000/index \\
        --code /tmp/base --code-index /tmp/cekfakta-speed-old/lib-100000/index

--code-index: the earlier code's snapshot of the same library (an earlier code may not read this
code's snapshot format). Messages are speed.py's message_pool of the library's library.jsonl.
Results go to bench/results/snapshot-search.json and a table in BENCHMARKS.md (between the
snapshot-search markers): each turn's p50 / p95, in milliseconds.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "snapshot-search.json"


def run(code: Path, index: Path, texts: Path, rounds: int) -> dict:
    """Time the searches in a process of its own that imports `code`."""
    out = subprocess.run([sys.executable, __file__, "--worker", str(code), "--index", str(index),
                          "--texts", str(texts), "--rounds", str(rounds)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def worker(code: Path, index_dir: Path, texts_file: Path, rounds: int) -> None:
    """In the subprocess: load, embed, time; print one JSON line."""
    sys.path.insert(0, str(code))
    import numpy as np

    from index.encoders import configure_threads
    from index.store import IndexStore
    from index.text import Query

    configure_threads(1)
    started = time.perf_counter()
    _, index = IndexStore(index_dir).load()
    loaded = time.perf_counter() - started
    texts = json.loads(texts_file.read_text())
    for text in texts:  # embeds each once
        index.search(text)
    search, bm25 = [], []
    for _ in range(rounds):
        for text in texts:
            index._results.clear()
            t = time.perf_counter()
            index.search(text)
            search.append(time.perf_counter() - t)
            tokens = Query.parse(text).tokens
            t = time.perf_counter()
            index._lexical.score_arrays(tokens)
            bm25.append(time.perf_counter() - t)

    def pct(values):
        return {f"p{p}_ms": round(float(np.percentile(values, p)) * 1000, 2) for p in (50, 95)}

    print(json.dumps({"load_s": round(loaded, 2), "searches": len(search), "search": pct(search),
                      "bm25": pct(bm25)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="This code's index folder.")
    parser.add_argument("--code", type=Path, help="An earlier commit's copy to compare with.")
    parser.add_argument("--code-index", type=Path, help="The earlier code's index folder (default: --index).")
    parser.add_argument("--library", type=Path, help="The library's JSONL (default: beside --index).")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--turns", type=int, default=2, help="Turns each code takes.")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.index, args.texts, args.rounds)
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    from speed import message_pool
    library = args.library or args.index.parent / "library.jsonl"
    texts = list(dict.fromkeys(m["body"] for m in message_pool(library, args.queries * 2, seed=5)))
    texts_file = RESULTS.parent / "snapshot-search-texts.json"
    RESULTS.parent.mkdir(exist_ok=True)
    texts_file.write_text(json.dumps(texts[:args.queries], ensure_ascii=False))
    codes = [("this", ROOT, args.index)] + ([("earlier", args.code, args.code_index or args.index)]
                                            if args.code else [])
    found = {}
    for turn in range(args.turns):
        for label, code, index in codes:
            result = run(code, index, texts_file, args.rounds)
            print(label, code, json.dumps(result), flush=True)
            found.setdefault(label, []).append(result)
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    report = {"at": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "load_average": load,
              "queries": len(texts[:args.queries]), "rounds": args.rounds,
              "codes": [{"code": _name(code), "index": str(index), "turns": found[label]}
                        for label, code, index in codes]}
    RESULTS.write_text(json.dumps(report, indent=1))
    texts_file.unlink()
    write_table(report)


def _name(code: Path) -> str:
    """Give a code's commit: this checkout's HEAD, or an earlier copy's COMMIT file."""
    if code == ROOT:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    named = code / "COMMIT"
    return named.read_text().strip() if named.exists() else code.name


def write_table(report: dict) -> None:
    """Put the run's table between the markers in BENCHMARKS.md."""
    def turns(runs, part):
        return ", ".join(f"{r[part]['p50_ms']:.2f} / {r[part]['p95_ms']:.2f}" for r in runs)

    lines = ["| code | snapshot loaded in | search p50 / p95 ms, each turn | BM25 scoring p50 / p95 ms, each turn |",
             "| --- | --- | --- | --- |"]
    for c in report["codes"]:
        loads = sorted(r["load_s"] for r in c["turns"])
        lines.append(f"| {c['code']} | {loads[0]:.1f}–{loads[-1]:.1f} s | {turns(c['turns'], 'search')} "
                     f"| {turns(c['turns'], 'bm25')} |")
    lines.append(f"\n{report['queries']} messages × {report['rounds']} rounds a turn; measured "
                 f"{report['at']} UTC, load average {' '.join(report['load_average'])} at the end.")
    from report import write_block  # bench/report.py (bench/ is on sys.path in main)
    write_block("snapshot-search", lines)


if __name__ == "__main__":
    main()
