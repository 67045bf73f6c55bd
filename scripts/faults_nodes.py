"""scripts/faults.py --nodes: two app nodes on one PostgreSQL, under random SIGKILLs.

Two gunicorn nodes (their own index folders, the same secrets and public URL, as behind one load
balancer) serve one PostgreSQL cluster of the run's own. A stream of signed webhooks goes to a
node drawn at random (to the other when that one refuses the connection, as a load balancer
would); an editor publishes through either node's pages; answers are queued all along and sent
by both nodes' workers through a slow fake Twilio. Meanwhile, at random moments, one of: a worker
of a node, a whole node (restarted after), a running `flask index rebuild --full` on a node, or a
worker while answers are being sent is SIGKILLed; once, half way, the database is restarted.

The checks afterwards: every acknowledged message (HTTP 200 with the tipline's answer) is in the
request log exactly once and every replay got the same answer; no one got an answer twice, and
every queued answer ends sent (or uncertain, for a row a kill interrupted mid-send); every
published fact-check is searchable on both nodes; both nodes serve the last recorded build.
"""
import os
from collections import Counter
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xml.etree import ElementTree

import requests
from twilio.request_validator import RequestValidator

from scripts.fake_twilio import FakeTwilio
from scripts.faults import (ACCOUNT_SID, PASSWORD, ROOT, SENDING_STALE_S, TOKEN, WHATSAPP_FROM,
                            Stream, free_port, log)

PUBLIC_URL = "https://tipline.example.org"


def _apologies() -> tuple[set[str], set[str]]:
    from tipline import replies
    return ({replies.search_error(lang) for lang in ("id", "en")},
            {replies.kept(lang) for lang in ("id", "en")})


# "Try again" (nothing logged), and "kept: the answer follows" (tipline/spool.py: logged and
# answered through Twilio's REST API once the database is back).
APOLOGIES, KEPT = _apologies()


def _reply(twiml: str) -> str | None:
    """Give the text of a TwiML reply's first message (None when it has none)."""
    found = ElementTree.fromstring(twiml).findall("Message")
    return found[0].text if found else None


class Postgres:
    """A PostgreSQL cluster of the run's own, in a temporary folder, that can be restarted."""

    def __init__(self):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise SystemExit("PostgreSQL is not installed: bash scripts/postgres.sh installs it")
        self.bin = found[-1].parent
        # A folder of its own, as scripts/postgres.sh makes: root hands the server to `postgres`.
        folder = Path(tempfile.mkdtemp(prefix="cekfakta-faults-pg-"))
        folder.chmod(0o755)
        self.data = folder / "pgdata"
        self.port = free_port()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if self.as_owner:
            shutil.chown(folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-locale",
                  "--encoding=UTF8", "--no-instructions")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.restarts = 0

    def _run(self, tool: str, *args: str):
        subprocess.run([*self.as_owner, str(self.bin / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.data.parent / "pg.log"),
                  "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent} "
                  "-c max_connections=200", "start")

    def restart(self):
        """Stop at once (open transactions are cut off, as a crash would) and start again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.start()
        self.restarts += 1

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.data.parent, ignore_errors=True)


class Node:
    """One app node: gunicorn in a process group of its own, its own index folder."""

    def __init__(self, folder: Path, env: dict, workers: int):
        self.folder, self.workers = folder, workers
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "FACTCHECK_INDEX_DIR": str(folder / "index")}
        self.factory = f"app:create_app(instance_path={str(folder / 'instance')!r})"
        self.server: subprocess.Popen | None = None

    def flask(self, *args, input=None, check=True, timeout=300) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "flask", "--app", self.factory, *args], cwd=ROOT,
                                env=self.env, input=input, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def popen_flask(self, *args) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", self.factory, *args], cwd=ROOT,
                                env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        with open(self.folder / "gunicorn.log", "a") as output:
            self.server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--graceful-timeout", "5", "--timeout", "30", self.factory],
                cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/search", params={"q": "halo"}, timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"node {self.url} did not come up; see {self.folder / 'gunicorn.log'}")

    def up(self) -> bool:
        return self.server is not None and self.server.poll() is None

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in children.split()]

    def kill(self):
        os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait()

    def stop(self):
        if self.up():
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class NodesStream(Stream):
    """The webhook stream, to a node drawn at random: the other when that one is down."""

    def __init__(self, nodes, rate: float, seed: int):
        super().__init__(nodes[0], rate, seed)
        self.nodes = nodes
        self.validator = RequestValidator(TOKEN)
        self.apologies: set[str] = set()  # acknowledged with the "try again" reply (nothing logged)
        self.kept: set[str] = set()  # acknowledged with "kept, the answer follows"
        self.replays_with_apology = 0
        self.replays_kept = 0
        self.apology_times: list[float] = []
        self._pick = random.Random(seed)

    def _post(self, sid: str, body: str, sender: str):
        params = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32,
                  "From": sender, "To": WHATSAPP_FROM, "Body": body, "NumMedia": "0"}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(PUBLIC_URL + "/whatsapp", params)}
        with self._lock:
            first = self._pick.randrange(len(self.nodes))
        started = time.perf_counter()
        for node in (self.nodes[first], self.nodes[1 - first]):
            try:
                response = requests.post(node.url + "/whatsapp", data=params, headers=headers, timeout=30)
                break
            except requests.ConnectionError:  # refused: a load balancer tries the other node
                continue
            except requests.RequestException as exc:
                return self._count(type(exc).__name__)
        else:
            return self._count("refused by both")
        self._count(str(response.status_code))
        if response.status_code != 200:
            return None
        found = ElementTree.fromstring(response.content).findall("Message")
        with self._lock:
            self.latencies.append(time.perf_counter() - started)
            if found and found[0].text in APOLOGIES:  # the reply when the tipline could not answer
                self.apologies.add(sid)
                self.apology_times.append(time.monotonic())
            elif found and found[0].text in KEPT and sid not in self.acked:
                self.kept.add(sid)
        return response.text

    def _run(self, worker: int):
        """The base stream's loop, replaying only messages that got a real answer: one that got
        the apology was not logged, and Twilio's retry of it is answered afresh."""
        rnd = random.Random(self.random.random())
        while not self._stop.is_set():
            with self._lock:
                self._n += 1
                n = self._n
                answered = [sid for sid in self.acked if sid not in self.apologies and sid not in self.kept] \
                    if rnd.random() < 0.05 else []
                old = rnd.choice(answered) if answered else None
            if old:
                answer = self._post(old, "replayed", "whatsapp:+6280000000000")
                if answer is not None:
                    with self._lock:
                        self.replays += 1
                        if old in self.apologies:  # this replay came while the database was down
                            self.apologies.discard(old)
                            self.replays_with_apology += 1
                        elif _reply(answer) in KEPT:
                            # Also while the database was down: the node kept the retry on disk
                            # without the log to tell it was one (tipline/spool.py forgets it
                            # once the database is back and shows it logged).
                            self.replays_kept += 1
                        else:
                            self.replay_mismatch += answer != self.acked[old]
            else:
                sid = f"SM{worker:02d}{n:030d}"
                sender = f"whatsapp:+628{rnd.randrange(10**8, 10**8 + 400)}"
                answer = self._post(sid, rnd.choice(self.words), sender)
                with self._lock:
                    (self.failed.append(sid) if answer is None else self.acked.__setitem__(sid, answer))
            self._stop.wait(rnd.expovariate(self.rate / len(self.threads)))

    def _count(self, key: str):
        with self._lock:
            self.statuses[key] = self.statuses.get(key, 0) + 1
        return None


class Desk:
    """The run's own view of the database: queues answers, reads the log, as the app's models do."""

    def __init__(self, env: dict, folder: Path):
        settings = {k[len("FACTCHECK_"):]: v for k, v in env.items() if k.startswith("FACTCHECK_")}
        settings.update(ENV="testing", SYNC_INTERVAL=0, OUTBOX_INTERVAL=0, INDEX_DIR=str(folder / "index"))
        from app import create_app
        self.app = create_app(settings, instance_path=str(folder / "instance"))

    def sql(self, query: str, **params):
        import claims.db
        from sqlalchemy import text
        with claims.db.get_engine(self.app).begin() as connection:
            return connection.execute(text(query), params).all()

    def queue_answers(self, numbers: list[str], claim_id: str) -> list[int]:
        """Queue one answer for each number, as publishing for an inbox group does."""
        import claims.db
        from editors.models import OutboxMessage
        from tipline import reply_addresses
        from tipline.models import RequestLog, utcnow
        ids = []
        with self.app.app_context(), claims.db.session_scope(self.app) as session:
            for number in numbers:
                request = RequestLog(channel="whatsapp", sender_hash=f"faults-{number}", text="?",
                                     lang="id", decision="no_match", reply="", created_at=utcnow(),
                                     status="open")
                session.add(request)
                session.flush()
                reply_addresses.keep(session, request.id, number)
                row = OutboxMessage(request_id=request.id, claim_id=claim_id, status="pending",
                                    created_at=utcnow(), updated_at=utcnow())
                session.add(row)
                session.flush()
                ids.append(row.id)
        return ids

    def age_sending(self, seconds: float) -> list[int]:
        """Move the rows left "sending" back in time, as if `seconds` had passed; give their ids."""
        rows = self.sql("UPDATE outbox SET updated_at = updated_at - make_interval(secs => CAST(:s AS double precision)) "
                        "WHERE status = 'sending' RETURNING id", s=seconds)
        return sorted(r[0] for r in rows)


def _editor(node: Node) -> tuple[requests.Session, str]:
    web = requests.Session()
    page = web.get(node.url + "/editors/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = web.post(node.url + "/editors/login", timeout=30, allow_redirects=False,
                        data={"username": "beban", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text[:300]
    page = web.get(node.url + "/editors/claims/new", timeout=30).text
    return web, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _wait(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def run(folder: Path, args, rnd: random.Random, figures: dict) -> list[str]:
    """The two-node run; give the problems found (none: every check passed)."""
    database = Postgres()
    database.start()
    secrets = {"FACTCHECK_SECRET_KEY": os.urandom(24).hex(), "FACTCHECK_SENDER_HASH_KEY": os.urandom(24).hex()}
    twilio = FakeTwilio(delay=(args.twilio_ms[0] / 1000, args.twilio_ms[1] / 1000), seed=rnd.randrange(1 << 30))
    twilio.__enter__()
    # demo: production's cookies are https-only, and the nodes serve plain http on loopback.
    env = {**os.environ, "FACTCHECK_ENV": "demo", **secrets, "FACTCHECK_TWILIO_AUTH_TOKEN": TOKEN,
           "FACTCHECK_DATABASE_URL": database.url, "FACTCHECK_ENCODER": args.encoder,
           "FACTCHECK_PUBLIC_URL": PUBLIC_URL, "FACTCHECK_SYNC_INTERVAL": "1.0",
           "FACTCHECK_OUTBOX_INTERVAL": "0.5", "FACTCHECK_RATE_LIMIT_MESSAGES": "1000",
           "FACTCHECK_TWILIO_API_BASE": twilio.url, "FACTCHECK_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
           "FACTCHECK_TWILIO_WHATSAPP_FROM": WHATSAPP_FROM, "FACTCHECK_DATABASE_POOL_SIZE": "2",
           "FACTCHECK_DATABASE_POOL_OVERFLOW": "3", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    nodes = [Node(folder / name, env, args.workers) for name in ("node-a", "node-b")]
    desk = None
    try:
        nodes[0].flask("db", "upgrade")
        nodes[0].flask("init-db", "--demo")
        nodes[0].flask("editors", "create-admin", "beban", input=f"{PASSWORD}\n{PASSWORD}\n")
        nodes[0].flask("index", "rebuild")
        for node in nodes:
            node.start()
        for node in nodes:
            node.ready()
        desk = Desk(env, folder / "desk")
        return _faults(nodes, database, desk, twilio, args, rnd, figures)
    finally:
        for node in nodes:
            node.stop()
        if desk is not None:
            import claims.db
            claims.db.get_engine(desk.app).dispose()
        twilio.__exit__(None, None, None)
        database.stop()


def _faults(nodes, database, desk, twilio, args, rnd, figures) -> list[str]:
    stream = NodesStream(nodes, args.rate, rnd.randrange(1 << 30))
    stream.start()
    stream_started = time.monotonic()
    kills = {"worker": 0, "node": 0, "rebuild": 0, "sender_mid_send": 0}
    rebuilds_finished = stopped_by_itself = 0
    published, queued, n = [], [], 0
    editors = {}
    restart_at = max(1, args.kills // 2)
    while sum(kills.values()) < args.kills:
        n += 1
        time.sleep(rnd.uniform(0.3, 1.2))
        # A node whose gunicorn stopped by itself (a worker that cannot boot stops it) is counted
        # and started again, as its supervisor would.
        for node in nodes:
            if not node.up():
                stopped_by_itself += 1
                log(f"node {node.url} stopped by itself; starting it again")
                node.start()
                node.ready()
        # Between faults: an editor publishes on a node that is up, and a few answers are queued.
        live = [node for node in nodes if node.up()]
        node = rnd.choice(live)
        try:
            if node.url not in editors:
                editors[node.url] = _editor(node)
            web, token = editors[node.url]
            word = f"simpul{n}x{rnd.randrange(10**6)}"
            response = web.post(node.url + "/editors/claims/save", timeout=30, allow_redirects=False, data={
                "csrf_token": token, "action": "publish", "title": f"Kabar {word} tidak benar",
                "claim": f"{word} disebut terjadi", "verdict": "SALAH", "summary": "Uji dua simpul.",
                "url": f"https://example.org/nodes/{n}", "lang": "id", "date": "", "tags": "", "publisher": ""})
            if response.status_code == 302:
                published.append((desk.sql("SELECT id FROM claims WHERE url = :u",
                                           u=f"https://example.org/nodes/{n}")[0][0], word))
        except (requests.RequestException, AssertionError, IndexError) as exc:
            log("publishing failed:", type(exc).__name__, str(exc)[:200])
            editors.pop(node.url, None)  # the node went down mid-publish: the claim may or may not exist
        try:
            queued += desk.queue_answers([f"whatsapp:+62877{n:04d}{i}" for i in range(3)], "demo-001")
        except Exception as exc:  # the database restarting
            log("queueing answers failed:", type(exc).__name__)
        if n == restart_at and not database.restarts:
            log("restarting the database")
            began = time.monotonic()
            database.restart()
            figures["database_down_s"] = [round(began - stream_started, 1),
                                          round(time.monotonic() - stream_started, 1)]
            continue
        fault = rnd.choice(["worker", "node", "rebuild", "sender_mid_send", "sender_mid_send"])
        victim = rnd.choice(nodes)
        if fault == "worker" and victim.up() and (pids := victim.worker_pids()):
            os.kill(rnd.choice(pids), signal.SIGKILL)
            kills["worker"] += 1
        elif fault == "node" and victim.up() and all(node.up() for node in nodes):
            victim.kill()
            kills["node"] += 1
            time.sleep(rnd.uniform(0, 1))
            victim.start()  # comes up while the stream goes on (the other node takes it meanwhile)
        elif fault == "rebuild":
            process = victim.popen_flask("index", "rebuild", "--full")
            time.sleep(rnd.uniform(0.3, 3.0))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills["rebuild"] += 1
            else:
                rebuilds_finished += 1
            process.wait()
        elif fault == "sender_mid_send" and victim.up():
            # A worker of a node that has rows in flight with Twilio right now.
            if _wait(lambda: desk.sql("SELECT count(*) FROM outbox WHERE status = 'sending'")[0][0], 3, 0.02) \
                    and (pids := victim.worker_pids()):
                os.kill(rnd.choice(pids), signal.SIGKILL)
                kills["sender_mid_send"] += 1
    stream.stop()
    figures["database_restarts"] = database.restarts
    figures["nodes_stopped_by_themselves"] = stopped_by_itself
    figures["apologies_s"] = [round(t - stream_started, 1) for t in stream.apology_times]
    for node in nodes:
        if not node.up():
            node.start()
    for node in nodes:
        node.ready()
    _answer_kept(nodes, desk, stream, figures)
    return _check(nodes, desk, twilio, stream, published, queued, kills, rebuilds_finished, figures)


def _answer_kept(nodes, desk, stream, figures) -> None:
    """Wait for the messages kept while the database was down to be logged: each node answers
    its kept ones after the next message it answers normally, so send each a greeting now and then."""
    kept = sorted(stream.kept)
    started, n = time.monotonic(), 0

    def logged() -> int:
        if not kept:
            return 0
        marks = ",".join(f":s{i}" for i in range(len(kept)))
        return desk.sql(f"SELECT count(DISTINCT message_sid) FROM tipline_requests WHERE message_sid IN ({marks})",
                        **{f"s{i}": sid for i, sid in enumerate(kept)})[0][0]

    while logged() < len(kept) and time.monotonic() - started < 60:
        for node in nodes:
            n += 1
            stream._post(f"SMpoke{n:028d}", "halo", "whatsapp:+6280000000001")
        time.sleep(0.5)
    figures["kept_while_database_down"] = len(kept)
    figures["kept_logged_after_s"] = round(time.monotonic() - started, 1)


def _check(nodes, desk, twilio, stream, published, queued, kills, rebuilds_finished, figures) -> list[str]:
    problems = []
    # Answers: the live workers drain what is pending; rows a kill left "sending" turn "uncertain"
    # once SENDING_STALE old (their clock is moved back rather than waited for).
    drained = _wait(lambda: not desk.sql("SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0], 180)
    time.sleep(2)  # rows in flight now are the live workers': they finish
    interrupted = desk.age_sending(SENDING_STALE_S + 1)
    settled = _wait(lambda: not desk.sql("SELECT count(*) FROM outbox WHERE status = 'sending'")[0][0], 30)
    time.sleep(2)  # a few more passes: none may send anything again
    status = dict(desk.sql("SELECT status, count(*) FROM outbox GROUP BY status"))
    # The answers to messages kept while the database was down went through Twilio too: count
    # only the desk's answers (the outbox's own rows) here.
    kept = sorted(stream.kept)
    kept_replies = {r[0] for r in desk.sql(
        "SELECT reply FROM tipline_requests WHERE message_sid IN ("
        + ",".join(f":s{i}" for i in range(len(kept))) + ")", **{f"s{i}": sid for i, sid in enumerate(kept)})} \
        if kept else set()
    per_recipient = Counter(m.get("To") for m in twilio.messages if m.get("Body") not in kept_replies)
    twice = {to: count for to, count in per_recipient.items() if count > 1}
    sent_sids = {r[0] for r in desk.sql("SELECT twilio_sid FROM outbox WHERE status = 'sent'")}
    taken = {m["sid"] for m in twilio.messages}
    if not drained or not settled:
        problems.append(f"answers left pending or sending: {status}")
    if set(status) - {"sent", "uncertain"}:
        problems.append(f"answers in other states: {status}")
    if sum(status.values()) != len(queued):
        problems.append(f"{len(queued)} answers queued, {sum(status.values())} rows")
    if twice:
        problems.append(f"{len(twice)} recipients got an answer more than once")
    if not sent_sids <= taken:
        problems.append("a row is marked sent with a SID Twilio never gave")
    # Each process sends one answer at a time: a kill leaves at most one row in mid-send. Rows a
    # kill left early in the run turn uncertain by themselves (SENDING_STALE) before the end.
    senders_killed = kills["worker"] + kills["sender_mid_send"] + kills["node"] * nodes[0].workers
    why = dict(desk.sql("SELECT left(error, 32), count(*) FROM outbox WHERE status = 'uncertain' GROUP BY 1"))
    if status.get("uncertain", 0) > senders_killed:
        problems.append(f"{status.get('uncertain', 0)} uncertain rows, more than the {senders_killed} senders killed")
    # The request log: what was acknowledged with an answer is there exactly once.
    counts = dict(desk.sql("SELECT message_sid, count(*) FROM tipline_requests "
                           "WHERE message_sid IS NOT NULL GROUP BY message_sid"))
    apologies = set(stream.apologies)
    missing = [sid for sid in stream.acked if sid not in apologies and counts.get(sid, 0) != 1]
    # Kept ones included: answered "kept", then logged once the database was back.
    if missing:
        problems.append(f"{len(missing)} acknowledged messages not logged exactly once: {missing[:5]}")
    if any(count > 1 for count in counts.values()):
        problems.append("a MessageSid is logged twice")
    if stream.replay_mismatch:
        problems.append(f"{stream.replay_mismatch} replays got another answer")
    # Search: every claim published during the run, on both nodes.
    unsearchable = []
    for node in nodes:
        for claim_id, word in published:
            if not _wait(lambda: claim_id in [m["id"] for m in requests.get(
                    node.url + "/api/search", params={"q": word, "k": 10}, timeout=30).json()["matches"]], 15):
                unsearchable.append((node.url, claim_id))
    if unsearchable:
        problems.append(f"{len(unsearchable)} published fact-checks not searchable: {unsearchable[:5]}")
    build = desk.sql("SELECT build FROM index_build WHERE id = 1")
    from index.store import IndexStore
    behind = [node.url for node in nodes if not _wait(
        lambda: IndexStore(node.folder / "index").current_build() == (build[0][0] if build else None), 60, 0.5)]
    if behind:
        problems.append(f"nodes not serving the last recorded build: {behind}")
    lat = sorted(stream.latencies)
    figures.update({
        "sigkills": dict(kills, total=sum(kills.values())), "rebuilds_finished_before_kill": rebuilds_finished,
        "webhooks_sent": len(stream.acked) + len(stream.failed) + stream.replays,
        "acknowledged": len(stream.acked), "not_acknowledged": len(stream.failed),
        "acknowledged_with_apology_not_logged": len([s for s in apologies if counts.get(s, 0) == 0]),
        "replays": stream.replays, "replay_mismatch": stream.replay_mismatch,
        "replays_answered_with_apology": stream.replays_with_apology,
        "replays_kept_while_the_database_was_down": stream.replays_kept,
        "acknowledged_lost_or_duplicated": len(missing), "http_statuses": stream.statuses,
        "latency_ms_p50": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
        "answers_queued": len(queued), "answers_status": status, "answers_left_sending_at_the_end": len(interrupted),
        "uncertain_why": why, "sender_processes_killed": senders_killed,
        "messages_at_twilio": len(twilio.messages), "recipients_twice": len(twice),
        "published_during_run": len(published), "published_unsearchable": len(unsearchable),
        "problems": problems})
    return problems
