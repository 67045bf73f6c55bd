"""Where the two databases differ in size: MessageSids longer than their column, ids past 32 bits."""
import pytest
from sqlalchemy import create_engine, func, inspect, select, text

import claims.db
from claims import migrate
from claims.models import Claim
from editors.models import OutboxMessage
from tests.conftest import add_claims, database_url, make_app, sign
from tests.test_migrations import make_first_release_database
from tests.test_tipline_webhook import message, post, twiml_reply
from tipline import replies
from tipline.models import RequestLog
from tipline.requestlog import stored_sid

pytestmark = pytest.mark.db

CHIP = {"id": "vaksin-chip", "title": "Vaksin berisi microchip", "verdict": "HOAKS",
        "claim": "Vaksin COVID berisi microchip pelacak", "summary": "Tidak ada microchip.",
        "url": "https://cekfakta.example.org/vaksin-chip"}


@pytest.mark.parametrize("sid", [
    "SM" + "a1" * 60,  # longer than the column
    "SM" + "é" * 30,  # short, not ASCII
    "SM\x00" + "0" * 31,  # a NUL, which PostgreSQL's text cannot hold
])
def test_an_odd_message_sid_is_answered_logged_once_and_replayed(app, client, sid):
    first = twiml_reply(post(client, sign, message("halo", sid=sid)))
    assert first == replies.greeting("id", "Cek Fakta")  # not the polite error reply
    again = twiml_reply(post(client, sign, message("halo", sid=sid)))
    assert again == first
    with claims.db.session_scope(app) as session:
        logged = session.execute(select(RequestLog.message_sid, RequestLog.decision)).all()
    assert logged == [(stored_sid(sid), "greeting")] and len(logged[0][0]) <= 64
    assert stored_sid(sid) != stored_sid(sid + "x")  # two long ones stay two messages


def test_twilio_s_own_message_sids_are_kept_as_they_are():
    assert stored_sid("SM" + "0123456789abcdef" * 2) == "SM" + "0123456789abcdef" * 2
    assert stored_sid(None) is None and stored_sid("") is None


def _next_ids_past_32_bits(engine):
    """Make the next request-log and outbox ids larger than a 32-bit integer holds."""
    big = 2**31 + 7
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in ("tipline_requests", "outbox"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {big})"))
        else:  # SQLite numbers a new row after the largest rowid there is
            connection.execute(text(
                "INSERT INTO tipline_requests (id, message_sid, channel, sender_hash, text, lang, "
                "decision, elapsed_ms, reply, created_at, status) VALUES (:id, NULL, 'web', 'x', '', "
                "'id', 'greeting', 0, '', '2026-01-01 00:00:00', 'answered')"), {"id": big})
            connection.execute(text(
                "INSERT INTO outbox (id, request_id, claim_id, status, attempts, error, actor, "
                "created_at, updated_at) VALUES (:id, :id, 'gone', 'failed', 0, '', '', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"id": big})
    return big


@pytest.mark.parametrize("made", ["new", "upgraded from the first release"])
def test_ids_go_past_32_bits(tmp_path, made):
    url = database_url(tmp_path, "big")
    if made != "new":
        engine = create_engine(url)
        make_first_release_database(engine)
        migrate.upgrade(engine)
        engine.dispose()
    app = make_app(tmp_path, DATABASE_URL=url)
    try:
        engine = claims.db.get_engine(app)
        big = _next_ids_past_32_bits(engine)
        add_claims(app, [CHIP])
        client = app.test_client()
        twiml_reply(post(client, sign, message("vaksin chip", sid="SM" + "7" * 32)))
        with claims.db.session_scope(app) as session:
            request = session.scalars(select(RequestLog).where(
                RequestLog.message_sid == "SM" + "7" * 32)).one()
            assert request.id > big
            session.add(OutboxMessage(request_id=request.id, claim_id=session.get(Claim, "vaksin-chip").id))
            session.flush()
            assert session.scalar(select(func.max(OutboxMessage.id))) > 2**31
        if engine.dialect.name == "postgresql":
            columns = {c["name"]: str(c["type"]) for c in inspect(engine).get_columns("tipline_requests")}
            assert columns["id"] == "BIGINT"
    finally:
        from app import parts
        parts(app).searcher.stop()
        claims.db.get_engine(app).dispose()


def test_the_pool_settings_size_a_server_s_pool(tmp_path):
    app = make_app(tmp_path, DATABASE_POOL_SIZE=2, DATABASE_POOL_OVERFLOW=1)
    try:
        pool = claims.db.get_engine(app).pool
        if claims.db.get_engine(app).dialect.name == "postgresql":
            assert (pool.size(), pool._max_overflow) == (2, 1)
        else:  # a file, opened as needed: the settings are for servers
            assert pool.size() == 5
    finally:
        from app import parts
        parts(app).searcher.stop()
        claims.db.get_engine(app).dispose()


def test_an_app_starts_while_its_database_server_is_down_and_says_so(tmp_path, caplog):
    """A worker restarting during a database outage must start (gunicorn would stop the node)."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(tmp_path, DATABASE_URL=f"postgresql+psycopg://nobody@127.0.0.1:{port}/none")
    try:
        assert "cannot reach the database, starting without it" in caplog.text
        from app import prepare_worker
        prepare_worker(app, [])  # a gunicorn worker booting now: no exception, or gunicorn stops
        assert "could not load the index before the first message" in caplog.text
        response = app.test_client().get("/api/search", query_string={"q": "vaksin"})
        assert response.status_code == 503  # and answers again once the server is back
    finally:
        from app import parts
        parts(app).searcher.stop()
        claims.db.get_engine(app).dispose()
