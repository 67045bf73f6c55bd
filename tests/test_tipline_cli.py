"""`flask tipline requests` and `flask tipline purge`."""

from datetime import timedelta

from sqlalchemy import select

from claims.db import get_session, session_scope
from tipline.models import RequestLog, SenderState, utcnow


def log_request(session, text, status, age_days=0, decision="no_match"):
    session.add(RequestLog(
        channel="whatsapp", sender_hash="f" * 64, text=text, lang="id", decision=decision,
        reply="…", status=status, created_at=utcnow() - timedelta(days=age_days),
    ))


def test_requests_lists_the_open_queue_newest_first(app):
    with app.app_context(), session_scope() as session:
        log_request(session, "harga cabai naik", "open", age_days=2)
        log_request(session, "vaksin chip", "answered", decision="match")
        log_request(session, "gempa besok\npukul 9", "open")
    result = app.test_cli_runner().invoke(args=["tipline", "requests"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split("\t")[-1] for line in lines] == ["gempa besok pukul 9", "harga cabai naik"]
    assert "f" * 64 not in result.output


def test_requests_says_so_when_the_queue_is_empty(app):
    result = app.test_cli_runner().invoke(args=["tipline", "requests", "--status", "dismissed"])
    assert result.exit_code == 0 and result.output.strip() == "No dismissed requests."


def test_purge_forgets_only_what_is_older_than_asked(app):
    with app.app_context(), session_scope() as session:
        log_request(session, "lama", "open", age_days=200)
        log_request(session, "baru", "open", age_days=1)
        session.add(SenderState(sender_hash="a" * 64, lang="en",
                                updated_at=utcnow() - timedelta(days=400)))
        session.add(SenderState(sender_hash="b" * 64, lang="id"))
    result = app.test_cli_runner().invoke(args=["tipline", "purge", "--older-than", "180"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 requests and 1 sender records" in result.output
    with app.app_context():
        session = get_session()
        assert session.scalars(select(RequestLog.text)).all() == ["baru"]
        assert session.scalars(select(SenderState.sender_hash)).all() == ["b" * 64]


def test_purge_needs_an_age(app):
    result = app.test_cli_runner().invoke(args=["tipline", "purge"])
    assert result.exit_code != 0 and "--older-than" in result.output
