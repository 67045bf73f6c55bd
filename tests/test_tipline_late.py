"""Messages whose sender's webhook already gave up (tipline/late.py): read from the real
connection, logged as any other, answered by keywords alone through (the fake) Twilio's REST API
with a line saying sorry, and never sent twice."""
import logging
import os
import signal
import socket
import urllib.parse
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from sqlalchemy import select

import claims.db
from scripts.fake_twilio import FakeTwilio
from tests.conftest import add_claims, make_app, sign
from tests.databases import database_url
from tests.nodes import PUBLIC_URL, SECRETS, Node, wait_for
from tests.test_tipline_media import ACCOUNT, DEMO, chip_screenshot, stop
from tests.test_tipline_webhook import DIGITS, NUMBER, URL, message
from tipline import replies, reply_addresses
from tipline.backlog import arrival
from tipline.models import RequestLog

pytestmark = pytest.mark.db

FROM = "whatsapp:+14155238886"
CHIP = "vaksin covid chip pelacak"


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


def late_app(tmp_path, twilio, **settings):
    """An app with the demo library whose answers go out through the fake Twilio."""
    app = make_app(tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE=twilio.url,
                   TWILIO_WHATSAPP_FROM=FROM, **settings)
    add_claims(app, DEMO)
    return app


def finish(app):
    """Let the app's late answers go out (the sending thread drains), then stop it."""
    app.extensions["tipline"].outgoing.stop()
    stop(app)


def connection(listener, close: bool):
    """A request's connection as a worker takes it up: (client, the server's side)."""
    client = socket.create_connection(listener.getsockname())
    client.sendall(b"POST /whatsapp HTTP/1.1\r\nHost: localhost\r\n\r\n")
    if close:  # the client gave up: Twilio stops waiting after 15 s
        client.close()
    server, _ = listener.accept()
    return client, server


def webhook(app, params, sock=None):
    """Post a signed webhook as gunicorn would hand it over, with its connection; give the
    <Message> texts of the TwiML."""
    environ = {"gunicorn.socket": sock} if sock is not None else {}
    response = app.test_client().post("/whatsapp", data=params, environ_base=environ,
                                      headers={"X-Twilio-Signature": sign(URL, params)})
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text for m in root.findall("Message")]


def logged(app, sid):
    with claims.db.session_scope(app) as session:
        rows = session.scalars(select(RequestLog).where(RequestLog.message_sid == sid)).all()
        session.expunge_all()
        return rows


def test_a_message_whose_client_closed_is_answered_through_the_rest_api_once(tmp_path, twilio,
                                                                          listener, caplog):
    app = late_app(tmp_path, twilio)
    caplog.set_level(logging.DEBUG)
    sid = "SM" + "a" * 32
    try:
        _, server = connection(listener, close=True)
        with server:
            assert arrival(server).gone
            assert webhook(app, message(CHIP, sid=sid), server) == []  # nobody reads the TwiML
        app.extensions["tipline"].outgoing.stop()  # the sending thread drains
        [sent] = twilio.messages
        [row] = logged(app, sid)
        assert sent["To"] == NUMBER and sent["From"] == FROM and sent["Body"] == row.reply
        assert row.reply.startswith(replies.TEXT["id"]["late"] + "\n\n")
        assert row.delivery == "later" and row.channel == "whatsapp" and "chip" in row.text
        # Keywords alone: a list to pick from, never a single match.
        assert row.decision == "choices" and "Balas *0*" in row.reply
        assert "searched by keywords alone: its sender stopped waiting" in caplog.text

        # Twilio's retry of it, fresh or late: nothing sent again, nothing answered inline.
        assert webhook(app, message(CHIP, sid=sid)) == []
        _, again = connection(listener, close=True)
        with again:
            assert webhook(app, message(CHIP, sid=sid), again) == []
        app.extensions["tipline"].outgoing.stop()
        assert len(twilio.messages) == 1 and len(logged(app, sid)) == 1
        assert DIGITS not in caplog.text  # the number is never logged
    finally:
        finish(app)


def test_a_message_that_waited_past_the_setting_is_late_even_with_its_client_there(
        tmp_path, twilio, listener):
    app = late_app(tmp_path, twilio, LATE_AFTER_SECONDS=0.2)
    sid = "SM" + "b" * 32
    try:
        client, server = connection(listener, close=False)
        with client, server:
            deadline_reached = wait_for(lambda: (arrival(server).waited or 0) >= 0.2, 5,
                                        what="the message waiting 0.2 s")
            assert deadline_reached and not arrival(server).gone
            assert webhook(app, message("bansos lewat whatsapp", sid=sid), server) == []
        app.extensions["tipline"].outgoing.stop()
        [sent] = twilio.messages
        [row] = logged(app, sid)
        assert sent["Body"] == row.reply and row.delivery == "later"
    finally:
        finish(app)


def test_a_fresh_message_is_answered_inline_as_before(tmp_path, twilio, listener):
    app = late_app(tmp_path, twilio)  # LATE_AFTER_SECONDS: its default, far above this wait
    sid = "SM" + "c" * 32
    try:
        client, server = connection(listener, close=False)
        with client, server:
            [answer] = webhook(app, message(CHIP, sid=sid), server)
        # Without a connection to read (Flask's own server): fresh too.
        [other] = webhook(app, message(CHIP, sid="SM" + "d" * 32))
        app.extensions["tipline"].outgoing.stop()
        assert twilio.messages == []
        [row] = logged(app, sid)
        assert row.reply == answer == other and row.delivery is None
        assert not answer.startswith(replies.TEXT["id"]["late"])
    finally:
        finish(app)


def test_a_late_answer_that_cannot_be_sent_is_left_to_the_desk(tmp_path, listener):
    with FakeTwilio(fail_with=400) as refusing:
        app = late_app(tmp_path, refusing)
        sid = "SM" + "e" * 32
        try:
            _, server = connection(listener, close=True)
            with server:
                assert webhook(app, message(CHIP, sid=sid), server) == []
            app.extensions["tipline"].outgoing.stop()
            [row] = logged(app, sid)
            assert row.status == "open" and row.delivery == "later"  # the desk's queue
            with app.app_context(), claims.db.session_scope(app) as session:
                assert reply_addresses.read(session, row.id) == NUMBER  # so it can answer
        finally:
            finish(app)


def test_a_late_picture_gets_one_message_its_answer_once_read(tmp_path, twilio, listener):
    """No "reading the picture…" first: its answer, when read, is the one message, sorry first."""
    app = late_app(tmp_path, twilio, FETCH_ALLOW=[twilio.url.removeprefix("http://")])
    sid = "SM" + "7" * 32
    try:
        picture = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
        params = message("", sid=sid, NumMedia="1", MediaUrl0=picture, MediaContentType0="image/jpeg")
        _, server = connection(listener, close=True)
        with server:
            assert webhook(app, params, server) == []
        wait_for(lambda: twilio.messages, 60, what="the picture's answer sent")
        app.extensions["tipline"].reading.stop()  # the line is updated before the send
        app.extensions["tipline"].outgoing.stop()
        [sent] = twilio.messages
        [row] = logged(app, sid)
        late, read = replies.TEXT["id"]["late"], replies.TEXT["id"]["picture_words"].split("{")[0]
        assert sent["Body"] == row.reply and sent["Body"].startswith(f"{late}\n\n{read}")
        assert row.delivery == "later" and row.via == "ocr" and "chip" in row.text.lower()
    finally:
        finish(app)


# --- a real gunicorn worker ----------------------------------------------------------------------


def raw_webhook(port: int, params: dict) -> bytes:
    """A whole signed webhook request, as bytes on the wire."""
    body = urllib.parse.urlencode(params).encode()
    signature = sign(PUBLIC_URL + "/whatsapp", params)
    return (f"POST /whatsapp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"X-Twilio-Signature: {signature}\r\nConnection: close\r\n\r\n").encode() + body


def closed_waiting_on(port: int) -> bool:
    """Whether the server's side of a connection to this port is in CLOSE_WAIT (/proc/net/tcp):
    its client closed it while it waits in the accept queue."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if int(local.rsplit(":", 1)[1], 16) == port and state == "08":
                return True
    return False


def test_a_real_worker_answers_a_message_twilio_gave_up_on_through_the_rest_api(tmp_path, twilio):
    """One gunicorn worker, stopped while two messages queue: one whose client closes (Twilio gave
    up), one still waited for. The first is answered through the REST API once, the second inline."""
    url = database_url(tmp_path, "node")
    setup = make_app(tmp_path, DATABASE_URL=url, **SECRETS)
    add_claims(setup, DEMO)
    node = Node(tmp_path / "node", url, TWILIO_API_BASE=twilio.url, TWILIO_ACCOUNT_SID=ACCOUNT,
                TWILIO_WHATSAPP_FROM=FROM).start()
    gone_sid, fresh_sid = "SM" + "f" * 32, "SM" + "1" * 32
    try:
        node.ready()
        [worker] = [int(p) for p in
                    Path(f"/proc/{node.process.pid}/task/{node.process.pid}/children").read_text().split()]
        os.kill(worker, signal.SIGSTOP)  # busy: both messages wait in the accept queue
        try:
            gone = socket.create_connection(("127.0.0.1", node.port), timeout=30)
            gone.sendall(raw_webhook(node.port, message(CHIP, sid=gone_sid)))
            gone.close()
            wait_for(lambda: closed_waiting_on(node.port), 10, what="the closed connection queued")
            fresh = socket.create_connection(("127.0.0.1", node.port), timeout=30)
            fresh.sendall(raw_webhook(node.port, message("bansos lewat whatsapp", sid=fresh_sid,
                                                         From="whatsapp:+6281200000002")))
        finally:
            os.kill(worker, signal.SIGCONT)
        with fresh:
            chunks = []
            while chunk := fresh.recv(65536):
                chunks.append(chunk)
        inline = b"".join(chunks).decode("utf-8")
        assert inline.startswith("HTTP/1.1 200") and "<Message>" in inline

        wait_for(lambda: twilio.messages, 30, what="the late answer sent")
        [sent] = twilio.messages
        rows = {row.message_sid: row for row in
                logged(setup, gone_sid) + logged(setup, fresh_sid)}
        assert sent["To"] == NUMBER and sent["Body"] == rows[gone_sid].reply
        assert rows[gone_sid].delivery == "later" and rows[fresh_sid].delivery is None
        assert sent["Body"].startswith(replies.TEXT["id"]["late"])
        assert "is late: its connection is closed" in node.log()

        # Twilio's retry of the late one, now answered at once: an empty reply, no second send.
        retry = message(CHIP, sid=gone_sid)
        answer = requests.post(node.url + "/whatsapp", data=retry, timeout=30,
                               headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/whatsapp", retry)})
        assert answer.ok and ElementTree.fromstring(answer.content).findall("Message") == []
        node.stop()  # a worker that exits sends what it queued first
        assert len(twilio.messages) == 1 and len(logged(setup, gone_sid)) == 1
        assert DIGITS not in node.log()
    finally:
        node.stop()
        stop(setup)
