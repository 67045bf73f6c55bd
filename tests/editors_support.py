"""Helpers for the editors' tests: accounts, logging in, CSRF tokens and a fake Twilio API."""
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import claims.db
from editors.auth import create_account

PASSWORD = "kata-sandi-rahasia-123"
ACCOUNT_SID = "AC" + "0" * 32
WHATSAPP_FROM = "whatsapp:+14155238886"


def editors_config(**overrides):
    """Settings for an app whose outbox is driven by the test (no background thread)."""
    return {"OUTBOX_INTERVAL": 0, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM, **overrides}


def add_account(app, username="redaksi", role="admin", password=PASSWORD):
    """Create an account directly in the database."""
    with claims.db.session_scope(app) as session:
        return create_account(session, username, password, role).id


def token_of(html: str) -> str:
    """The CSRF token in a page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username="redaksi", password=PASSWORD):
    """Log in through the form, as a browser would; return the response."""
    page = client.get("/editors/login")
    return client.post("/editors/login", data={
        "username": username, "password": password, "csrf_token": token_of(page.text)})


def csrf(client) -> str:
    """The CSRF token of the client's current session."""
    with client.session_transaction() as session:
        return session["csrf"]


class FakeTwilio:
    """Twilio's Messages API on a loopback port: records what it is sent, answers like Twilio."""

    def __init__(self, fail_with: int | None = None):
        self.messages: list[dict] = []
        self.fail_with = fail_with
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                match = re.fullmatch(r"/2010-04-01/Accounts/(AC\w+)/Messages\.json", self.path)
                if match is None or not self.headers.get("Authorization", "").startswith("Basic "):
                    return self._json(404, {"code": 20404, "message": "not found", "status": 404})
                if fake.fail_with:
                    return self._json(fake.fail_with, {"code": 20500, "message": "boom",
                                                       "status": fake.fail_with})
                sid = "SM" + secrets.token_hex(16)
                fake.messages.append({"sid": sid, "account": match.group(1), **form})
                return self._json(201, {
                    "sid": sid, "account_sid": match.group(1), "to": form.get("To"),
                    "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                    "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                    "date_created": "Thu, 01 Jan 2026 00:00:00 +0000", "price": None,
                    "error_code": None, "error_message": None,
                    "uri": f"/2010-04-01/Accounts/{match.group(1)}/Messages/{sid}.json"})

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
