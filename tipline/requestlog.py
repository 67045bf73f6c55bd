"""What the tipline answered, as the conversation writes it to the request log and reads it back."""

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select

from . import reply_addresses
from .models import RequestLog

OPEN_DECISIONS = frozenset({"no_match", "error"})  # what lands in the editors' queue
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


def earlier_reply(session, message_sid: str) -> Reply | None:
    """Give the answer already logged for a MessageSid (Twilio retries), or None."""
    row = session.scalars(
        select(RequestLog).where(RequestLog.message_sid == message_sid)
    ).first()
    if row is None:
        return None
    return Reply(row.reply, row.decision, row.claim_id, row.score, row.lang)


def log_request(session, entry: dict, reply: Reply, channel: str, sender_key: str) -> None:
    """Write the request log line and, for a WhatsApp question left open, its reply address."""
    row = RequestLog(**entry)
    session.add(row)
    session.flush()
    if channel == "whatsapp" and sender_key:
        if row.status == "open":
            reply_addresses.keep(session, row.id, sender_key)
        elif reply.decision in ("choice_none", "rejected"):
            # The sender reopened the question the list or match answered: the desk may answer it later.
            asked = session.scalars(
                select(RequestLog)
                .where(RequestLog.sender_hash == row.sender_hash,
                       RequestLog.decision.in_(("choices", "match")),
                       RequestLog.status == "open", RequestLog.id != row.id)
                .order_by(RequestLog.created_at.desc(), RequestLog.id.desc())
            ).first()
            if asked is not None:
                reply_addresses.keep(session, asked.id, sender_key)
    session.commit()
