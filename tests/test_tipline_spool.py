"""Messages that arrive while the database is down (tipline/spool.py): kept on disk, answered and
logged once it is back, the answer sent through (the fake) Twilio's REST API."""
import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import select

import claims.db
from scripts.fake_twilio import FakeTwilio
from tests.conftest import add_claims, make_app, sign
from tests.test_tipline_media import ACCOUNT, DEMO, stop
from tests.test_tipline_webhook import NUMBER, message, post, twiml_reply
from tipline import replies
from tipline.models import RequestLog
from tipline.spool import Spool


def test_a_kept_message_is_taken_by_one_process_and_given_back_or_forgotten(tmp_path):
    spool = Spool(tmp_path / "spool")
    assert not spool.waiting() and spool.take() == []
    first = spool.put({"text": "vaksin chip"})
    spool.put({"text": "bansos"})
    assert Spool(tmp_path / "spool").waiting()
    taken = spool.take()
    assert [r["text"] for _, r in taken] == ["vaksin chip", "bansos"]  # oldest first
    assert spool.take() == []  # taken: nobody takes them again
    (path, _), (other, _) = taken
    spool.release(path)
    spool.done(other)
    assert [r["text"] for _, r in spool.take()] == ["vaksin chip"] and path.name.startswith(first)


def test_a_message_taken_by_a_process_that_died_is_taken_again(tmp_path):
    spool = Spool(tmp_path / "spool")
    name = spool.put({"text": "gempa"})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    os.rename(spool.folder / name, spool.folder / f"{name}.taken-{dead.stdout.strip()}")
    [(path, record)] = spool.take()
    assert record == {"text": "gempa"} and path.name == f"{name}.taken-{os.getpid()}"


def _logged(app, sid):
    with claims.db.session_scope(app) as session:
        return session.scalars(select(RequestLog).where(RequestLog.message_sid == sid)).all()


def _database_down(app):
    """Make the SQLite file unreachable: a folder where the file was."""
    claims.db.get_engine(app).dispose()
    path = claims.db.get_engine(app).url.database
    kept = [(p, p + ".away") for p in (path, path + "-wal", path + "-shm") if os.path.exists(p)]
    for p, away in kept:
        os.rename(p, away)
    os.mkdir(path)

    def back():
        os.rmdir(path)
        for p, away in kept:
            os.rename(away, p)
        claims.db.get_engine(app).dispose()
    return back


@pytest.fixture
def kept(tmp_path):
    """An app whose answers go out through the fake Twilio, with the demo library: (app, twilio)."""
    with FakeTwilio() as twilio:
        app = make_app(tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE=twilio.url,
                       TWILIO_WHATSAPP_FROM="whatsapp:+14155238886")
        add_claims(app, DEMO)
        try:
            yield app, twilio
        finally:
            stop(app)


def _wait(condition, seconds=30):
    """Wait for the kept messages' thread to bring a condition about (or give up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.05)


def _sent_while_down(app, client, text, sid):
    """Take the database away, send a message, check it was kept; give it and the way back."""
    back = _database_down(app)
    sent = message(text, sid=sid)
    assert twiml_reply(post(client, sign, sent)) == replies.kept("id")
    return sent, back


@pytest.mark.sqlite_only("takes the database away by moving its SQLite file")
def test_a_message_that_arrives_while_the_database_is_down_is_answered_once_it_is_back(tmp_path, kept):
    app, twilio = kept
    client = app.test_client()
    down, back = _sent_while_down(app, client, "apakah benar vaksin covid berisi microchip pelacak?",
                                  "SM" + "d" * 32)
    files = list((tmp_path / "instance" / "spool").glob("*.json"))
    assert len(files) == 1
    assert NUMBER not in files[0].read_text() and NUMBER.removeprefix("whatsapp:") not in files[0].read_text()
    back()
    assert _logged(app, "SM" + "d" * 32) == [] and twilio.messages == []

    later = message("halo", sid="SM" + "e" * 32)
    assert twiml_reply(post(client, sign, later))  # answered as usual, and sets the kept going
    _wait(lambda: twilio.messages)
    [sent] = twilio.messages
    [row] = _logged(app, "SM" + "d" * 32)
    assert sent["To"] == NUMBER and sent["Body"] == row.reply
    assert "microchip" in row.text.lower() and row.channel == "whatsapp"
    assert not any((tmp_path / "instance" / "spool").iterdir())
    # Twilio's own retry of the kept message, now: silence, since its answer went out already.
    retried = post(client, sign, down)
    assert retried.status_code == 200 and b"<Message" not in retried.data
    assert row.delivery == "later" and len(_logged(app, "SM" + "d" * 32)) == 1
    assert len(twilio.messages) == 1


@pytest.mark.sqlite_only("takes the database away by moving its SQLite file")
def test_a_kept_message_already_logged_elsewhere_is_forgotten_without_a_second_answer(tmp_path, kept):
    app, twilio = kept
    client = app.test_client()
    first, back = _sent_while_down(app, client, "vaksin chip", "SM" + "f" * 32)
    back()
    spool = app.extensions["tipline"].spool
    [(path, record)] = spool.take()  # as if another worker held it while Twilio retried
    assert twiml_reply(post(client, sign, first)) != replies.kept("id")
    spool.release(path)
    post(client, sign, message("halo", sid="SM" + "1" * 32))
    _wait(lambda: not any((tmp_path / "instance" / "spool").iterdir()))
    assert not any((tmp_path / "instance" / "spool").iterdir())
    assert len(_logged(app, "SM" + "f" * 32)) == 1 and twilio.messages == []
    assert record["text"] == "vaksin chip"


@pytest.mark.sqlite_only("takes the database away by moving its SQLite file")
def test_when_the_message_cannot_be_kept_either_the_sender_is_asked_to_send_it_again(tmp_path):
    app = make_app(tmp_path)
    try:
        (tmp_path / "instance" / "spool").write_text("not a folder")
        back = _database_down(app)
        reply = twiml_reply(post(app.test_client(), sign, message("vaksin chip", sid="SM" + "2" * 32)))
        back()
        assert reply == replies.search_error("id")
    finally:
        stop(app)


def test_a_start_asked_while_answering_runs_one_more_pass(tmp_path):
    spool = Spool(tmp_path / "spool")
    passes, inside, release = [], threading.Event(), threading.Event()

    def answer(_):
        passes.append(1)
        inside.set()
        release.wait(10)

    assert spool.start(answer)
    assert inside.wait(10)
    assert not spool.start(answer) and not spool.start(answer)  # asked twice meanwhile: one more pass
    release.set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (len(passes) < 2 or spool._running):
        time.sleep(0.01)
    assert len(passes) == 2 and not spool._running


def test_the_folder_is_looked_at_every_time_while_it_holds_something(tmp_path):
    spool = Spool(tmp_path / "spool")
    assert not spool.waiting()
    spool.put({"text": "a"})
    assert not spool.waiting()  # empty a moment ago: looked at again only after a second
    spool._checked -= 2
    assert spool.waiting()
    [(path, _)] = spool.take()
    assert spool.waiting()  # taken, not done: still looked at
    spool.done(path)
    assert not spool.waiting()
