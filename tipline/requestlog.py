"""What the tipline answered, as the conversation writes it to the request log and reads it back."""

import hashlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, select

from . import reply_addresses
from .models import RequestLog

log = logging.getLogger(__name__)

# What lands in the editors' queue: no answer, a failure, and attachments not read (voice
# notes, videos, pictures without words) so the desk sees how many arrive.
# "reading": a picture whose words come later (its line is updated then; open meanwhile, so that
# the desk sees it if the reading never ends).
OPEN_DECISIONS = frozenset({"no_match", "error", "media_only", "reading"})
SID_CHARS = RequestLog.message_sid.type.length  # 64: Twilio's own are 34
SID_DIGEST = "sha256:"


def stored_sid(message_sid: str | None) -> str | None:
    """Give the form a MessageSid is logged and looked up under: itself, or a digest of it when
    it is too long or not printable ASCII (Twilio's own are 34 letters and digits).

    The same on every database: PostgreSQL would refuse an over-long one or a NUL (the message
    then got the error reply and no log line) where SQLite kept it whole.
    """
    if not message_sid:
        return None
    if len(message_sid) <= SID_CHARS and message_sid.isascii() and message_sid.isprintable():
        return message_sid
    digest = hashlib.sha256(message_sid.encode("utf-8", "surrogatepass")).hexdigest()
    return SID_DIGEST + digest[:SID_CHARS - len(SID_DIGEST)]


@dataclass(frozen=True)
class Reply:
    """What the tipline answers, and how it decided."""

    text: str
    decision: str
    claim_id: str | None = None
    score: float | None = None
    lang: str = "id"
    choices: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # The earlier request a "0" sent back to the desk, and whether the desk's own answer (a group
    # it linked) gave this reply.
    reopened: int | None = field(default=None, compare=False, repr=False)
    from_desk: bool = field(default=False, compare=False, repr=False)
    followup: str | None = field(default=None, compare=False, repr=False)
    # What the message carried and how its text was had (tipline.models.RequestLog's columns),
    # and the text searched when it is not the body (a picture's words, a page's title).
    media_kind: str | None = field(default=None, compare=False, repr=False)
    image_hash: str | None = field(default=None, compare=False, repr=False)
    via: str | None = field(default=None, compare=False, repr=False)
    searched: str | None = field(default=None, compare=False, repr=False)
    later: object = field(default=None, compare=False, repr=False)  # a picture still being read
    # "later": sent through Twilio's REST API, not in the webhook's reply (tipline/late.py).
    delivery: str | None = field(default=None, compare=False, repr=False)


_LOG = RequestLog.__table__
# Built once (SQLAlchemy Core, bound parameters): every message runs them.
_EARLIER = (select(_LOG.c.reply, _LOG.c.decision, _LOG.c.claim_id, _LOG.c.score, _LOG.c.lang,
                   _LOG.c.delivery)
            .where(_LOG.c.message_sid == bindparam("sid")).limit(1))
_INSERT = insert(_LOG)


def earlier_reply(session, message_sid: str) -> Reply | None:
    """Give the answer already logged for a MessageSid (Twilio retries), or None."""
    row = session.execute(_EARLIER, {"sid": message_sid}).first()
    if row is None:
        return None
    return Reply(row.reply, row.decision, row.claim_id, row.score, row.lang, delivery=row.delivery)


def insert_log(session, entry: dict) -> int:
    """Write one request log line (SQLAlchemy Core: no ORM object); give its id."""
    return session.execute(_INSERT, entry).inserted_primary_key[0]


def log_request(session, entry: dict, reply: Reply, channel: str, sender_key: str,
                desk=None) -> int:
    """Write the request log line and, for a WhatsApp question left open, its reply address;
    commit the message's transaction and give the line's id.

    desk (tipline.wiring.Desk): files the question in the inbox in the same transaction.
    """
    row_id = insert_log(session, entry)
    status = entry["status"]
    if desk is not None:
        _file(session, desk, row_id, status, entry["text"], reply)
    if channel == "whatsapp" and sender_key:
        if status == "open":
            reply_addresses.keep(session, row_id, sender_key)
        elif reply.decision in ("choice_none", "rejected"):
            # The sender reopened the question the list or match answered: the desk may answer it later.
            asked = session.scalars(
                select(RequestLog)
                .where(RequestLog.sender_hash == entry["sender_hash"],
                       RequestLog.decision.in_(("choices", "match")),
                       RequestLog.status == "open", RequestLog.id != row_id)
                .order_by(RequestLog.created_at.desc(), RequestLog.id.desc())
            ).first()
            if asked is not None:
                reply_addresses.keep(session, asked.id, sender_key)
    session.commit()
    return row_id


def _file(session, desk, row_id: int, status: str, text: str, reply: Reply) -> None:
    """Hand the desk what it must group: this question, or the one a "0" sent back."""
    try:
        if status == "open":
            desk.file(session, row_id, text)
        elif reply.from_desk:
            desk.file(session, row_id, text, answered_with=reply.claim_id)
        if reply.reopened is not None and (asked := session.get(RequestLog, reply.reopened)):
            desk.file(session, asked.id, asked.text)
    except Exception:  # the inbox catches up later (editors' outbox loop); the reply still goes
        log.exception("request %s: not grouped now", row_id)
