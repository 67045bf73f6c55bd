"""Twilio's Messages API on a loopback port, for the tests and scripts/faults.py (never product code).

It records every message it is sent (the SID it gave, the account, To, From, Body) and answers as
Twilio does (201 and the message resource). `fail_with` makes every send fail with that status;
`delay=(low, high)` makes each send take that many seconds (split randomly before and after the
message is recorded, so a client killed mid-request may or may not have had its message taken,
as with the real API).

It also serves media as Twilio does for an incoming message's `MediaUrl0`: `add_media(bytes,
content_type)` gives the URL; a GET with the account's Basic credentials is redirected to a
"CDN" path that serves the bytes (a GET without them gets 401). `media_requests` records each
GET (path and whether it carried credentials).
"""
import base64
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
        self.media: dict[str, tuple[str, bytes]] = {}  # media id -> (content type, bytes)
        self.media_requests: list[dict] = []
        self.credentials: tuple[str, str] | None = None  # (account SID, token) media needs
        self.fail_with = fail_with
        self.delay = delay
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                auth = self.headers.get("Authorization", "")
                with fake._lock:
                    fake.media_requests.append({"path": self.path, "auth": bool(auth)})
                api = re.fullmatch(r"/2010-04-01/Accounts/(AC\w+)/Messages/MM\w+/Media/(ME\w+)", self.path)
                cdn = re.fullmatch(r"/cdn/(ME\w+)", self.path)
                if api is not None:
                    if not fake._authorised(auth):
                        return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    if api.group(2) not in fake.media:
                        return self._json(404, {"code": 20404, "message": "not found", "status": 404})
                    self.send_response(307)
                    self.send_header("Location", f"/cdn/{api.group(2)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if cdn is not None and cdn.group(1) in fake.media:
                    content_type, data = fake.media[cdn.group(1)]
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return None
                return self._json(404, {"code": 20404, "message": "not found", "status": 404})

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

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"

    def add_media(self, data: bytes, content_type: str = "image/jpeg",
                  account: str = "AC" + "0" * 32) -> str:
        """Serve a file as an incoming message's media; give its MediaUrl."""
        media_id = "ME" + secrets.token_hex(16)
        with self._lock:
            self.media[media_id] = (content_type, data)
        return f"{self.url}/2010-04-01/Accounts/{account}/Messages/MM{secrets.token_hex(16)}/Media/{media_id}"

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
