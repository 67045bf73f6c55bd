"""Twilio's Messages API on a loopback port, for the tests and scripts/faults.py (never product code).

It records every message it is sent (the SID it gave, the account, To, From, Body) and answers as
Twilio does (201 and the message resource). `fail_with` makes every send fail with that status;
`delay=(low, high)` makes each send take that many seconds (split randomly before and after the
message is recorded, so a client killed mid-request may or may not have had its message taken,
as with the real API).
"""
import json
import random
import re
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeTwilio:
    """Twilio's Messages API on a loopback port: records what it is sent, answers like Twilio."""

    def __init__(self, fail_with: int | None = None, delay: tuple[float, float] = (0.0, 0.0),
                 seed: int | None = None):
        self.messages: list[dict] = []
        self.fail_with = fail_with
        self.delay = delay
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                match = re.fullmatch(r"/2010-04-01/Accounts/(AC\w+)/Messages\.json", self.path)
                if match is None or not self.headers.get("Authorization", "").startswith("Basic "):
                    return self._json(404, {"code": 20404, "message": "not found", "status": 404})
                before, after = fake._delays()
                time.sleep(before)
                if fake.fail_with:
                    return self._json(fake.fail_with, {"code": 20500, "message": "boom",
                                                       "status": fake.fail_with})
                sid = "SM" + secrets.token_hex(16)
                with fake._lock:
                    fake.messages.append({"sid": sid, "account": match.group(1), **form})
                time.sleep(after)
                return self._json(201, {
                    "sid": sid, "account_sid": match.group(1), "to": form.get("To"),
                    "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                    "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                    "date_created": "Thu, 01 Jan 2026 00:00:00 +0000", "price": None,
                    "error_code": None, "error_message": None,
                    "uri": f"/2010-04-01/Accounts/{match.group(1)}/Messages/{sid}.json"})

            def _json(self, status, body):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client died while we were "sending" (a fault run kills it)
                    pass

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _delays(self) -> tuple[float, float]:
        low, high = self.delay
        with self._lock:
            total = self._random.uniform(low, high) if high > 0 else 0.0
            split = self._random.random()
        return total * split, total * (1 - split)

    def per_recipient(self) -> Counter:
        """How many messages each recipient (To) was sent."""
        with self._lock:
            return Counter(m.get("To") for m in self.messages)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
