"""Rate limiting per sender: a shared counter per time window, one polite notice, then silence."""

import logging
import time

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from . import replies
from .models import RateWindow, RequestLog, SenderState, utcnow
from .requestlog import Reply, earlier_reply

log = logging.getLogger(__name__)


def count_message(session, who: str, window: int) -> int:
    """Count a message against its sender's current window and commit; give the count so far.

    One upsert of one small row, committed at once (before any search) so that a flood costs
    a single short write per message and every worker shares the counter.
    """
    now = int(time.time())
    start = now - now % window
    table = RateWindow.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = insert(table).values(sender_hash=who, window_start=start, count=1)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.sender_hash],
            set_={"count": case((table.c.window_start == start, table.c.count + 1), else_=1),
                  "window_start": start},
        ).returning(table.c.count)
        count = session.execute(statement).scalar_one()
    else:  # another database: read and write under the row's lock, less cheaply
        row = session.get(RateWindow, who, with_for_update=True)
        if row is None:
            row = RateWindow(sender_hash=who, window_start=start, count=0)
            session.add(row)
        if row.window_start != start:
            row.window_start, row.count = start, 0
        row.count += 1
        count = row.count
    session.commit()
    return count


def rate_limited(session, who: str, first: bool, window: int, channel: str,
                 message_sid: str | None, started: float, default_lang: str,
                 client: str | None = None, asked_lang: str | None = None) -> Reply:
    """Answer a message over the limit: one polite notice, then nothing; no search, no body kept."""
    state = session.get(SenderState, who)
    lang = replies.pick_lang(asked_lang or (state.lang if state else None) or default_lang)
    text = replies.rate_limited(lang, window) if first else ""
    reply = Reply(text, "rate_limited", lang=lang)
    # Counted in the log (the dashboard and the desk can see a flood), but its bodies are not kept.
    session.add(RequestLog(
        message_sid=message_sid or None, channel=channel, sender_hash=who, client_hash=client,
        text="", lang=lang,
        decision="rate_limited", elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        reply=text, created_at=utcnow(), status="dismissed"))
    try:
        session.commit()
    except IntegrityError:  # the same message delivered twice at once
        session.rollback()
        if message_sid and (earlier := earlier_reply(session, message_sid)) is not None:
            return earlier
        raise
    log.info("tipline %s message %s: rate_limited", channel, message_sid or "-")
    return reply
