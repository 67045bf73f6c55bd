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


def test_purge_without_an_age_uses_the_retention_setting(app):
    with app.app_context(), session_scope() as session:
        log_request(session, "lama", "open", age_days=200)
        log_request(session, "baru", "open", age_days=1)
    app.config["LOG_RETENTION_DAYS"] = 0
    refused = app.test_cli_runner().invoke(args=["tipline", "purge"])
    assert refused.exit_code != 0 and "--older-than" in refused.output
    app.config["LOG_RETENTION_DAYS"] = 30
    result = app.test_cli_runner().invoke(args=["tipline", "purge"])
    assert result.exit_code == 0 and "Deleted 1 requests" in result.output
    with app.app_context():
        assert get_session().scalars(select(RequestLog.text)).all() == ["baru"]


def test_purge_takes_what_hangs_on_a_request_with_it(app):
    """Reply addresses, inbox membership and answers sent back go with their request; an
    inbox group left empty goes too; a group that still has a recent member stays."""
    from editors.models import InboxGroup, InboxMember, OutboxMessage
    from tipline import reply_addresses
    from tipline.models import RateWindow, ReplyAddress

    with app.app_context(), session_scope() as session:
        for text, age in (("lama", 200), ("lama juga", 200), ("baru", 1)):
            log_request(session, text, "open", age_days=age)
        session.flush()
        old, old2, new = session.scalars(select(RequestLog.id).order_by(RequestLog.id)).all()
        lonely, shared = InboxGroup(label="lama"), InboxGroup(label="campur")
        session.add_all([lonely, shared])
        session.flush()
        session.add_all([InboxMember(request_id=old, group_id=lonely.id),
                         InboxMember(request_id=old2, group_id=shared.id),
                         InboxMember(request_id=new, group_id=shared.id),
                         OutboxMessage(request_id=old, claim_id="c-1", status="sent"),
                         OutboxMessage(request_id=new, claim_id="c-1", status="pending"),
                         RateWindow(sender_hash="f" * 64, window_start=0, count=3)])
        reply_addresses.keep(session, old, "whatsapp:+628111", asked_at=utcnow())
        reply_addresses.keep(session, new, "whatsapp:+628222")
    result = app.test_cli_runner().invoke(args=["tipline", "purge", "--older-than", "180"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 requests" in result.output
    with app.app_context():
        session = get_session()
        assert session.scalars(select(RequestLog.id)).all() == [new]
        assert session.scalars(select(OutboxMessage.request_id)).all() == [new]
        assert session.scalars(select(ReplyAddress.request_id)).all() == [new]
        assert session.scalars(select(InboxMember.request_id)).all() == [new]
        assert session.scalars(select(InboxGroup.label)).all() == ["campur"]
        assert session.scalars(select(RateWindow.sender_hash)).all() == []
