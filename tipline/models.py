"""The request log (the editors' queue) and what the tipline remembers about each sender."""

from datetime import datetime, timezone

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from claims.db import Base
from claims.models import BigId, UTCDateTime

STATUSES = ("open", "answered", "dismissed")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime | None) -> datetime | None:
    """Read a stored time as UTC (SQLite gives back naive datetimes)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


class RequestLog(Base):
    """One incoming message and how the tipline answered it."""

    __tablename__ = "tipline_requests"
    # The followup code's constraint is named as revision 0003 names it (PostgreSQL would name an
    # unnamed one tipline_requests_followup_key, and a database made by create_all would differ).
    __table_args__ = (Index("ix_tipline_requests_status_created", "status", "created_at"),
                      UniqueConstraint("followup", name="uq_tipline_requests_followup"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Twilio's id for the message; unique so a redelivered webhook is answered, not re-logged.
    message_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    # HMAC-SHA256 of the sender with SENDER_HASH_KEY: never the number itself.
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The same HMAC of the web client's address ("addr:<ip>"), so that sessions the client
    # rotates still count as one client; None for WhatsApp, whose sender is the client.
    client_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A web asker's code to come back for the desk's answer (tipline/followup.py); None elsewhere.
    followup: Mapped[str | None] = mapped_column(String(24), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str] = mapped_column(String(32), index=True)
    claim_id: Mapped[str | None] = mapped_column(String(200), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    elapsed_ms: Mapped[float] = mapped_column(Float, default=0.0)
    reply: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # no_match requests start "open": the editors' queue of claims to check.
    status: Mapped[str] = mapped_column(String(16), default="answered")
    # What came besides text: "image", "audio", "video", "other", "link"; None for plain text.
    media_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The first picture's perceptual hash (claims/images.py): repeats group in the inbox.
    image_hash: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    # Where the searched text came from: "text", "ocr", "image" (a known picture), "link" (a
    # known link), "page" (the linked page's words), "refused" (a link not fetched).
    via: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # How the reply reached the sender: None in the webhook's own reply (TwiML); "later" through
    # Twilio's REST API, for a message that waited past Twilio's timeout (tipline/late.py).
    delivery: Mapped[str | None] = mapped_column(String(8), nullable=True)

    def __repr__(self) -> str:
        return f"<RequestLog {self.id} {self.channel} {self.decision} {self.status}>"


class SenderState(Base):
    """Per-sender memory: their language and the numbered list they were last shown."""

    __tablename__ = "tipline_senders"

    sender_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str | None] = mapped_column(String(8))
    last_choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    # When last_choices was set: a digit only picks from a list younger than CHOICE_TTL.
    choices_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    def __repr__(self) -> str:
        return f"<SenderState {self.sender_hash[:8]}… {self.lang}>"


_SAVE_SENDER = {}  # dialect name -> the upsert, built once


def save_sender(session, values: dict) -> None:
    """Write what the tipline remembers of a sender (every SenderState column): one upsert."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        session.merge(SenderState(**values))
        return
    if dialect not in _SAVE_SENDER:
        table = SenderState.__table__
        statement = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(table)
        _SAVE_SENDER[dialect] = statement.on_conflict_do_update(
            index_elements=[table.c.sender_hash],
            set_={column.name: statement.excluded[column.name]
                  for column in table.columns if column.name != "sender_hash"})
    session.execute(_SAVE_SENDER[dialect], values)


class ReplyAddress(Base):
    """A WhatsApp sender's address, encrypted, kept only while the desk may still answer.

    Written only for WhatsApp requests that land in the editors' queue, deleted once the answer
    is sent or when WhatsApp's 24-hour reply window closes (see tipline/reply_addresses.py).
    """

    __tablename__ = "reply_addresses"

    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tipline_requests.id", ondelete="CASCADE"), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RateWindow(Base):
    """How many messages a sender sent in the current rate-limit window (one row per sender).

    Kept in the database so that every gunicorn worker counts against the same limit.
    """

    __tablename__ = "tipline_rate"

    sender_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Unix seconds, a multiple of the window: 64-bit, since 32 bits end in January 2038.
    window_start: Mapped[int] = mapped_column(BigId)
    count: Mapped[int] = mapped_column(Integer, default=0)
