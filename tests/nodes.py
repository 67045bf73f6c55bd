"""App nodes as real processes: a gunicorn master and its workers each, on loopback, one database.

Each node has its own instance and index folders, as a node on another machine would; they
share only the database (a PostgreSQL schema of the test's, tests/databases.py) and the
secrets. The tests in tests/test_nodes.py start them.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import TEST_TOKEN

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "https://tipline.example.org"  # the load balancer in front of every node
SECRETS = {"SECRET_KEY": "nodes-secret-key-0123456789abcdef",
           "SENDER_HASH_KEY": "nodes-sender-hash-key-0123456789",
           "TWILIO_AUTH_TOKEN": TEST_TOKEN}


def free_port() -> int:
    """Give a loopback port no one listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, every: float = 0.05, what: str = "the condition"):
    """Poll check() until it gives something true, and give that; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(every)


class Node:
    """One app node: `gunicorn app:create_app(...)` in a process group of its own."""

    def __init__(self, folder: Path, database_url: str, workers: int = 1, **settings):
        self.folder = folder
        self.instance, self.index = folder / "instance", folder / "index"
        self.instance.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        config = {"ENV": "testing", **SECRETS, "DATABASE_URL": database_url,
                  "INDEX_DIR": str(self.index), "ENCODER": "fake", "PUBLIC_URL": PUBLIC_URL,
                  "OUTBOX_INTERVAL": 0, "QUICK_WHEN_WAITING": 0, **settings}
        self.env = {**os.environ, **{f"FACTCHECK_{k}": str(v) for k, v in config.items()}}
        self.process: subprocess.Popen | None = None

    def start(self) -> "Node":
        """Start the node's gunicorn (do not wait for it)."""
        factory = f"app:create_app(instance_path={str(self.instance)!r})"
        log = open(self.folder / "node.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind",
             f"127.0.0.1:{self.port}", "--graceful-timeout", "2", factory],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    def ready(self, timeout: float = 60) -> "Node":
        """Wait until a worker answers (a request also starts its outbox sender)."""
        def answers():
            if self.process.poll() is not None:
                raise AssertionError(f"node on port {self.port} exited: {self.log()[-2000:]}")
            try:
                return requests.get(f"{self.url}/api/search", params={"q": "cek"}, timeout=5).ok
            except requests.ConnectionError:
                return False
        wait_for(answers, timeout, every=0.1, what=f"node {self.url} answering")
        return self

    def log(self) -> str:
        """Give what the node has logged so far."""
        return (self.folder / "node.log").read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the node: its master and every worker, at once."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the node as an operator would (SIGTERM), killing it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a `flask` command on this node (its settings, its index folder)."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", f"app:create_app(instance_path={str(self.instance)!r})",
             *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)

    def search(self, text: str) -> list[str]:
        """Give the ids /api/search finds for a text on this node."""
        found = requests.get(f"{self.url}/api/search", params={"q": text}, timeout=10)
        found.raise_for_status()
        return [m["id"] for m in found.json()["matches"]]
