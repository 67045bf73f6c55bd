"""What the tipline answered, as the conversation writes it to the request log and reads it back."""

from dataclasses import dataclass, field

from sqlalchemy import select

from . import reply_addresses
from .models import RequestLog

# What lands in the editors' queue: no answer, a failure, and attachments not read (voice
# notes, videos, pictures without words) so the desk sees how many arrive.
# "reading": a picture whose words come later (its line is updated then; open meanwhile, so that
# the desk sees it if the reading never ends).
OPEN_DECISIONS = frozenset({"no_match", "error", "media_only", "reading"})


@dataclass(frozen=True)
class Reply:
    """What the tipline answers, and how it decided."""

    text: str
    decision: str
    claim_id: str | None = None
    score: float | None = None
    lang: str = "id"
    choices: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # What the message carried and how its text was had (tipline.models.RequestLog's columns),
    # and the text searched when it is not the body (a picture's words, a page's title).
    media_kind: str | None = field(default=None, compare=False, repr=False)
    image_hash: str | None = field(default=None, compare=False, repr=False)
    via: str | None = field(default=None, compare=False, repr=False)
    searched: str | None = field(default=None, compare=False, repr=False)
    later: object = field(default=None, compare=False, repr=False)  # a picture still being read


def earlier_reply(session, message_sid: str) -> Reply | None:
    """Give the answer already logged for a MessageSid (Twilio retries), or None."""
    row = session.scalars(
        select(RequestLog).where(RequestLog.message_sid == message_sid)
    ).first()
    if row is None:
        return None
    return Reply(row.reply, row.decision, row.claim_id, row.score, row.lang)


def log_request(session, entry: dict, reply: Reply, channel: str, sender_key: str) -> int:
    """Write the request log line and, for a WhatsApp question left open, its reply address;
    give the line's id."""
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
    return row.id
