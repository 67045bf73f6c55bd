"""Two app nodes on one PostgreSQL behave as one tipline.

Real processes: two gunicorn masters with a worker each, separate instance and index folders,
one database (this test's PostgreSQL schema), on loopback. The tests run in scripts/test.sh's
PostgreSQL pass only (marker `nodes`): several machines cannot share a SQLite file.
"""
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from xml.etree import ElementTree

import pytest
import requests
from sqlalchemy import select, update

import claims.db
from app import IndexBuild, parts
from index.store import IndexStore
from editors.models import OutboxMessage
from editors.outbox import SENDING_STALE
from scripts.fake_twilio import FakeTwilio
from tests.conftest import add_claims, database_url, make_app, sign
from tests.editors_support import ACCOUNT_SID, PASSWORD, WHATSAPP_FROM, add_account, token_of
from tests.nodes import PUBLIC_URL, SECRETS, Node, wait_for
from tests.test_tipline_webhook import message
from tipline import replies, reply_addresses
from tipline.models import RequestLog, utcnow

pytestmark = [pytest.mark.db, pytest.mark.nodes]

RATE_LIMIT = 5
TWILIO = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM}
CLAIMS = [
    {"id": "vaksin-chip", "title": "Vaksin berisi microchip pelacak", "verdict": "HOAKS",
     "claim": "Vaksin COVID berisi microchip untuk melacak orang", "url": "https://example.org/chip"},
    {"id": "bansos-wa", "title": "Pendaftaran bansos lewat tautan WhatsApp", "verdict": "HOAKS",
     "claim": "Daftar bansos Rp 3 juta lewat tautan WhatsApp", "url": "https://example.org/bansos"},
]


class Cluster:
    """Two running nodes on one database, and an app of the test's own on it (set-up, checks)."""

    def __init__(self, folder, twilio, start=True, **settings):
        self.url = database_url(folder, "nodes")
        # The nodes' own secrets: the reply addresses queued here are read by their senders.
        self.app = make_app(folder, DATABASE_URL=self.url, **TWILIO, **SECRETS)  # creates the schema
        add_claims(self.app, CLAIMS)
        add_account(self.app)
        self.nodes = [Node(folder / name, self.url, TWILIO_API_BASE=twilio.url, **TWILIO, **settings)
                      for name in ("a", "b")]
        self.starting = start

    def __enter__(self):
        if self.starting:  # both at once: their start-up is most of a test's time
            for node in self.nodes:
                node.start()
            for node in self.nodes:
                node.ready()
        return self

    def __exit__(self, *exc):
        for node in self.nodes:
            node.stop()
        parts(self.app).searcher.stop()
        claims.db.get_engine(self.app).dispose()

    def session(self):
        """A session on the shared database, committed at the end of the block."""
        return claims.db.session_scope(self.app)


@pytest.fixture(scope="module")
def twilio():
    with FakeTwilio(delay=(0.02, 0.08)) as fake:
        yield fake


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, twilio):
    """Nodes a and b, both sending answers, both limiting senders to RATE_LIMIT a minute."""
    with Cluster(tmp_path_factory.mktemp("cluster"), twilio, OUTBOX_INTERVAL=0.2,
                 RATE_LIMIT_MESSAGES=RATE_LIMIT, RATE_LIMIT_WINDOW=600) as cluster:
        yield cluster


def deliver(node, params):
    """POST a webhook signed for the public URL (both nodes sit behind it); give the reply text."""
    headers = {"X-Twilio-Signature": sign(f"{PUBLIC_URL}/whatsapp", params)}
    response = requests.post(f"{node.url}/whatsapp", data=params, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    found = ElementTree.fromstring(response.content).findall("Message")
    return found[0].text if found else ""


def at_once(calls):
    """Run the calls in threads released together; give their results in order."""
    gate = threading.Barrier(len(calls))

    def run(call):
        gate.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def log_lines(cluster, **where):
    with cluster.session() as session:
        query = select(RequestLog)
        for name, value in where.items():
            query = query.where(getattr(RequestLog, name) == value)
        return [(row.message_sid, row.decision, row.reply) for row in session.scalars(query)]


def test_a_fact_check_published_on_one_node_is_found_on_the_other_within_2_s(cluster):
    a, b = cluster.nodes
    editor = requests.Session()
    page = editor.get(f"{a.url}/editors/login", timeout=10)
    editor.post(f"{a.url}/editors/login", timeout=10, data={
        "username": "redaksi", "password": PASSWORD, "csrf_token": token_of(page.text)})
    form = editor.get(f"{a.url}/editors/claims/new", timeout=10)
    assert form.ok and "login" not in form.url
    query = "gerhana matahari membuat ponsel meledak"
    assert "gerhana-ponsel" not in b.search(query)
    published = editor.post(f"{a.url}/editors/claims/save", timeout=10, allow_redirects=False, data={
        "csrf_token": token_of(form.text), "id": "gerhana-ponsel", "title": "Gerhana matahari membuat ponsel meledak",
        "claim": "Ponsel meledak jika dipakai saat gerhana matahari", "verdict": "HOAKS",
        "summary": "Tidak ada hubungannya.", "url": "https://example.org/gerhana", "lang": "id",
        "action": "publish"})
    assert published.status_code == 302, published.text
    done = time.monotonic()
    wait_for(lambda: "gerhana-ponsel" in b.search(query), 2.0, every=0.05,
             what="node b finding the fact-check published on node a")
    assert time.monotonic() - done < 2.0
    assert "gerhana-ponsel" in a.search(query)


def test_four_deliveries_of_one_message_split_across_nodes_get_one_answer_and_one_log_line(cluster):
    a, b = cluster.nodes
    sid = "SM" + "4" * 32
    params = message("vaksin berisi microchip pelacak", sid=sid, From="whatsapp:+6281100000004")
    answers = at_once([lambda node=node: deliver(node, params) for node in (a, b, a, b)])
    assert len(set(answers)) == 1 and answers[0]  # the same answer, whichever node took it
    [(logged_sid, decision, reply)] = log_lines(cluster, message_sid=sid)
    assert reply == answers[0] and decision not in ("error", "rate_limited")
    assert deliver(b, params) == answers[0]  # a later redelivery too
    assert len(log_lines(cluster, message_sid=sid)) == 1


def test_the_rate_limit_is_shared_by_the_nodes(cluster):
    a, b = cluster.nodes
    number = "whatsapp:+6281100000005"
    sent = [message("halo", sid=f"SM{n:032d}", From=number) for n in range(500, 508)]
    answers = at_once([lambda node=node, params=params: deliver(node, params)
                       for node, params in zip([a, b] * 4, sent)])
    counted = Counter(answers)
    notice = replies.rate_limited("id", 600)
    assert counted[notice] == 1 and counted[""] == 8 - RATE_LIMIT - 1
    assert counted[replies.greeting("id", "Cek Fakta")] == RATE_LIMIT
    decisions = Counter(decision for sid, decision, _ in log_lines(cluster)
                        if sid in {params["MessageSid"] for params in sent})
    assert decisions == {"greeting": RATE_LIMIT, "rate_limited": 8 - RATE_LIMIT}


def queue_answers(cluster, numbers, claim_id="vaksin-chip"):
    """Queue one answer for each number, as publishing for an inbox group does; give the row ids."""
    ids = []
    with cluster.app.app_context(), cluster.session() as session:
        for n, number in enumerate(numbers):
            request = RequestLog(message_sid=None, channel="whatsapp", sender_hash=f"queued-{number}",
                                 text="pertanyaan", lang="id", decision="no_match", reply="",
                                 created_at=utcnow(), status="open")
            session.add(request)
            session.flush()
            reply_addresses.keep(session, request.id, number)
            row = OutboxMessage(request_id=request.id, claim_id=claim_id, status="pending",
                                created_at=utcnow(), updated_at=utcnow())
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def outbox_rows(cluster, ids):
    with cluster.session() as session:
        return {row.id: row for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))}


def test_both_nodes_senders_send_each_answer_exactly_once(cluster, twilio):
    numbers = [f"whatsapp:+62812200{n:05d}" for n in range(40)]
    ids = queue_answers(cluster, numbers)
    wait_for(lambda: all(r.status == "sent" for r in outbox_rows(cluster, ids).values()), 30,
             what="every queued answer sent")
    sent = twilio.per_recipient()
    assert {number: sent[number] for number in numbers} == {number: 1 for number in numbers}
    rows = outbox_rows(cluster, ids).values()
    assert sorted(r.twilio_sid for r in rows) == sorted(
        m["sid"] for m in twilio.messages if m["To"] in numbers)


def test_a_node_killed_mid_send_leaves_the_answer_uncertain_never_sent_twice(tmp_path, twilio):
    """A node is killed while Twilio (slow here) has its request; another node takes over."""
    number = "whatsapp:+6281300000001"
    with FakeTwilio(delay=(4.0, 4.0)) as slow, Cluster(tmp_path, twilio, start=False, OUTBOX_INTERVAL=0.1) as cluster:
        victim = Node(tmp_path / "victim", cluster.url, OUTBOX_INTERVAL=0.1, TWILIO_API_BASE=slow.url,
                      **TWILIO)
        try:
            victim.start().ready()
            [row_id] = queue_answers(cluster, [number])
            wait_for(lambda: outbox_rows(cluster, [row_id])[row_id].status == "sending", 20,
                     what="the victim taking the row")
        finally:
            victim.kill()
        survivor = cluster.nodes[0].start().ready()  # sends through the fast fake
        # Time passes (SENDING_STALE) without waiting for it: the row's clock is moved back.
        with cluster.session() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                            .values(updated_at=utcnow() - SENDING_STALE - timedelta(seconds=1)))
        wait_for(lambda: outbox_rows(cluster, [row_id])[row_id].status == "uncertain", 10,
                 what=f"node {survivor.url} marking the row uncertain")
        # The survivor keeps sending (a later answer goes out) and never sends that one again.
        [later] = queue_answers(cluster, ["whatsapp:+6281300000002"])
        wait_for(lambda: outbox_rows(cluster, [later])[later].status == "sent", 15, what="a later answer sent")
        row = outbox_rows(cluster, [row_id])[row_id]
        assert row.status == "uncertain" and row.twilio_sid is None
        assert slow.per_recipient()[number] <= 1 and twilio.per_recipient()[number] == 0


def test_a_rebuild_on_one_node_is_followed_by_the_other(cluster):
    a, b = cluster.nodes
    result = a.flask("index", "rebuild", "--encoder", "fake:48")
    assert result.returncode == 0, result.stderr
    with cluster.session() as session:
        build = session.get(IndexBuild, 1)
        assert build.encoder_spec == "fake:48"
    for node in (a, b):
        store = IndexStore(node.index)
        wait_for(lambda: store.current_name() and store.meta().get("build") == build.build, 30,
                 every=0.2, what=f"node {node.url} serving the new build")
        assert store.meta()["encoder_spec"] == "fake:48"
    for node in (a, b):  # both answer from the new index (fake:48 vectors for the queries too)
        assert "vaksin-chip" in node.search("vaksin berisi microchip pelacak")


def test_faults_across_two_nodes_lose_nothing_and_send_nothing_twice(tmp_path):
    """scripts/faults.py --nodes, small: 4 random SIGKILLs and a database restart (the full runs
    are in RELIABILITY.md). Its own PostgreSQL cluster, since it restarts it."""
    from argparse import Namespace
    import random

    from scripts.faults_nodes import run

    figures = {}
    args = Namespace(kills=4, rate=6, workers=1, encoder="fake:64:2", twilio_ms=[50, 150])
    assert run(tmp_path, args, random.Random(7), figures) == []
    assert figures["sigkills"]["total"] == 4 and figures["database_restarts"] == 1
    assert figures["acknowledged"] > 20 and figures["acknowledged_lost_or_duplicated"] == 0
    assert figures["recipients_twice"] == 0 and figures["published_during_run"] > 0
