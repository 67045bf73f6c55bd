"""A load generator for the tipline: signed Twilio webhook POSTs at a fixed rate, open loop.

It runs as its own process (speed.py starts it), prepares and signs every request before the
clock starts, then sends request i at start + i / rate whether or not earlier ones have been
answered (open loop: a slow server cannot slow the load down and hide its own latency).
Latency is counted from the moment a request was due, so queueing in the generator counts too.

    python bench/loadgen.py --url http://127.0.0.1:5000 --token T --messages msgs.json \
        --rate 120 --duration 60 --out result.json [--distinct] [--zipf 1.0] [--senders 500]

Several --url (app nodes behind one load balancer): request i goes to the (i mod n)th, as a
round-robin balancer sends them, each signed for --public-url (the address Twilio calls, which
every node is configured with); the summary then has each node's figures too.

`msgs.json` is a list of {"kind": ..., "body": ...}. By default messages are drawn with Zipf
popularity (a few keywords asked by many, a long tail asked once); --distinct sends each
message at most once, in order, so no cache can help.
"""
import argparse
import asyncio
import json
import random
import secrets
import time
import urllib.parse

import numpy as np
from twilio.request_validator import RequestValidator


def prepare(urls, token, messages, count, distinct, zipf, senders, seed, run_id, skip=0, public_url=None):
    """Build `count` signed HTTP requests (bytes), the (host, port) each goes to, and the kind of each."""
    rng = random.Random(seed)
    order = list(range(len(messages)))
    rng.shuffle(order)
    if distinct:
        if count > len(messages):
            raise SystemExit(f"--distinct needs {count} messages, the pool has {len(messages)}")
        picks = order[:count]
    else:
        weights = 1.0 / np.arange(1, len(order) + 1) ** zipf
        # The same seed gives the same stream; skip starts later in it (the next minute of traffic).
        draws = np.random.default_rng(seed).choice(len(order), skip + count, p=weights / weights.sum())
        picks = [order[i] for i in draws[skip:]]
    validator = RequestValidator(token)
    targets = [urllib.parse.urlsplit(url.rstrip("/") + "/whatsapp") for url in urls]
    requests, kinds, addresses = [], [], []
    for i, pick in enumerate(picks):
        message = messages[pick]
        params = {"MessageSid": f"SM{run_id}{i:09d}", "AccountSid": "ACbench", "NumMedia": "0",
                  "From": f"whatsapp:+62812{rng.randrange(senders):07d}", "To": "whatsapp:+14155238886",
                  "Body": message["body"]}
        body = urllib.parse.urlencode(params).encode()
        parsed = targets[i % len(targets)]
        signature = validator.compute_signature((public_url.rstrip("/") + "/whatsapp") if public_url
                                                else parsed.geturl(), params)
        head = (f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                f"X-Twilio-Signature: {signature}\r\nConnection: close\r\n\r\n").encode()
        requests.append(head + body)
        kinds.append(message["kind"])
        addresses.append((parsed.hostname, parsed.port))
    return addresses, requests, kinds


async def one(host, port, payload, due, timeout):
    """Send one request at its due time; give (latency from due, status, error)."""
    delay = due - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.write(payload)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
        status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
        ok = status == 200 and b"<Response" in response
        return time.perf_counter() - due, status, None if ok else f"status {status}"
    except (OSError, asyncio.TimeoutError) as exc:
        return time.perf_counter() - due, 0, type(exc).__name__


async def run(addresses, requests, rate, timeout):
    start = time.perf_counter() + 0.2
    tasks = [asyncio.create_task(one(host, port, r, start + i / rate, timeout))
             for i, ((host, port), r) in enumerate(zip(addresses, requests))]
    results = await asyncio.gather(*tasks)
    return results, time.perf_counter() - start


def summarize(results, kinds, elapsed, rate, duration, nodes=None):
    """Percentiles, errors and answers a second, overall, by kind and (given each request's node) by node."""
    lat = np.array([r[0] for r in results]) * 1000
    errors = [r[2] for r in results if r[2]]
    ok = lat[[not r[2] for r in results]]

    def pct(values):
        if not len(values):
            return {}
        return {f"p{p}_ms": round(float(np.percentile(values, p)), 1) for p in (50, 95, 99)} | \
               {"max_ms": round(float(values.max()), 1)}

    by_kind = {}
    for kind in sorted(set(kinds)):
        mask = np.array([k == kind for k in kinds])
        by_kind[kind] = {"count": int(mask.sum()), **pct(lat[mask])}
    summary = {"target_rate": rate, "duration_s": duration, "sent": len(results),
               "answered": int(len(ok)), "errors": len(errors), "error_kinds": sorted(set(errors))[:5],
               "throughput": round(len(ok) / elapsed, 1), **pct(lat), "by_kind": by_kind}
    if nodes and len(set(nodes)) > 1:
        summary["by_node"] = {}
        for node in dict.fromkeys(nodes):
            mine = [i for i, n in enumerate(nodes) if n == node]
            part = summarize([results[i] for i in mine], [kinds[i] for i in mine], elapsed,
                             rate * len(mine) / len(results), duration)
            part.pop("by_kind")
            summary["by_node"][node] = part
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, action="append",
                        help="Where to send; given several times, round robin over them.")
    parser.add_argument("--public-url", help="The URL to sign for (default: each --url).")
    parser.add_argument("--token", required=True)
    parser.add_argument("--messages", required=True)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--distinct", action="store_true")
    parser.add_argument("--zipf", type=float, default=1.0)
    parser.add_argument("--senders", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1, help="Which messages, in which order (default 1).")
    parser.add_argument("--skip", type=int, default=0,
                        help="Start this many messages into the Zipf stream (a later stretch of the same traffic).")
    parser.add_argument("--run-id", default=secrets.token_hex(8),
                        help="Makes this run's MessageSids unique (a repeated one is a replay).")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--out")
    args = parser.parse_args()
    messages = json.load(open(args.messages, encoding="utf-8"))
    count = int(args.rate * args.duration)
    addresses, requests, kinds = prepare(args.url, args.token, messages, count, args.distinct, args.zipf,
                                         args.senders, args.seed, args.run_id, args.skip, args.public_url)
    results, elapsed = asyncio.run(run(addresses, requests, args.rate, args.timeout))
    nodes = [args.url[i % len(args.url)] for i in range(len(results))]
    summary = summarize(results, kinds, elapsed, args.rate, args.duration, nodes)
    text = json.dumps(summary, indent=1)
    if args.out:
        # Every request too: (due second, latency ms, kind, error), for timelines.
        samples = [(round(i / args.rate, 3), round(r[0] * 1000, 1), k, r[2])
                   for i, (r, k) in enumerate(zip(results, kinds))]
        open(args.out, "w").write(json.dumps({**summary, "samples": samples}))
    print(text)


if __name__ == "__main__":
    main()
