"""Rate limiting per sender: a shared counter per time window, one polite notice, then silence."""

import logging
import time

from sqlalchemy import bindparam, case, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from . import replies
from .models import RateWindow, utcnow
from .requestlog import Reply, earlier_reply, insert_log

log = logging.getLogger(__name__)


def _window_start(window: int) -> int:
    now = int(time.time())
    return now - now % window


_RATE = RateWindow.__table__
_COUNTED = select(_RATE.c.window_start, _RATE.c.count).where(_RATE.c.sender_hash == bindparam("who"))
_UPSERTS = {}  # dialect name -> the counting upsert, built once


def _upsert(dialect: str):
    """The counting upsert of a dialect: a new row, or one more in the current window."""
    if dialect not in _UPSERTS:
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        start = bindparam("start")
        statement = insert(_RATE).values(sender_hash=bindparam("who"), window_start=start, count=1)
        _UPSERTS[dialect] = statement.on_conflict_do_update(
            index_elements=[_RATE.c.sender_hash],
            set_={"count": case((_RATE.c.window_start == start, _RATE.c.count + 1), else_=1),
                  "window_start": start},
        ).returning(_RATE.c.count)
    return _UPSERTS[dialect]


def counted(session, who: str, window: int) -> int:
    """Give how many messages a sender has sent in the current window so far (a read, no write)."""
    row = session.execute(_COUNTED, {"who": who}).first()
    return row.count if row is not None and row.window_start == _window_start(window) else 0


def count_message(session, who: str, window: int) -> int:
    """Count a message against its sender's current window; give the count so far.

    One upsert of one small row, in the caller's transaction: the conversation writes it with
    the message's log line, in the one commit of each message, and every worker shares the
    counter (the row's lock orders two workers counting one sender).
    """
    start = _window_start(window)
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        return session.execute(_upsert(dialect), {"who": who, "start": start}).scalar_one()
    # another database: read and write under the row's lock, less cheaply
    row = session.get(RateWindow, who, with_for_update=True)
    if row is None:
        row = RateWindow(sender_hash=who, window_start=start, count=0)
        session.add(row)
    if row.window_start != start:
        row.window_start, row.count = start, 0
    row.count += 1
    session.flush()
    return row.count


def over_limit(session, limits, window: int) -> tuple[int, int] | None:
    """Count a message against each (key, limit) in turn, up to the first it is over; give that
    (limit, count), or None when it is within them all. Not committed."""
    for key, limit in limits:
        sent = count_message(session, key, window)
        if sent > limit:
            return limit, sent
    return None


def rate_limited(session, who: str, first: bool, window: int, channel: str,
                 message_sid: str | None, started: float, lang: str,
                 client: str | None = None) -> Reply:
    """Answer a message over the limit: one polite notice, then nothing; no search, no body kept.

    Commits the caller's transaction (the message's count) with the log line."""
    text = replies.rate_limited(lang, window) if first else ""
    reply = Reply(text, "rate_limited", lang=lang)
    # Counted in the log (the dashboard and the desk can see a flood), but its bodies are not kept.
    line = dict(
        message_sid=message_sid or None, channel=channel, sender_hash=who, client_hash=client,
        text="", lang=lang,
        decision="rate_limited", elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        reply=text, created_at=utcnow(), status="dismissed")
    try:
        insert_log(session, line)
        session.commit()
    except IntegrityError:  # the same message delivered twice at once
        session.rollback()
        if message_sid and (earlier := earlier_reply(session, message_sid)) is not None:
            return earlier
        raise
    log.info("tipline %s message %s: rate_limited", channel, message_sid or "-")
    return reply
