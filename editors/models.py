"""The editors' tables: accounts, failed logins, inbox groups and the outbox of answers."""

from datetime import datetime

from sqlalchemy import (JSON, Boolean, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from claims.db import Base
from claims.models import BigId, UTCDateTime, utcnow

ROLES = ("editor", "admin")
GROUP_STATUSES = ("open", "linked", "dismissed")
# "cancelled": still pending when the group was unlinked or linked to another fact-check.
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "skipped_window", "uncertain", "cancelled")


class EditorAccount(Base):
    """Someone who may log in to the editors' workspace."""

    __tablename__ = "editor_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="editor")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session cookie: bumping it logs the account out everywhere.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """Failed logins for one username from one address, and how long that pair must wait."""

    __tablename__ = "editor_login_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(username, ip)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class InboxGroup(Base):
    """Open requests that ask the same thing, so the desk checks it once."""

    __tablename__ = "inbox_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(Text, default="")  # the first question: the representative
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    claim_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    # Sum of the members' normalised vectors (the centroid's direction) and who made them.
    vector: Mapped[list[float]] = mapped_column(JSON, default=list)
    encoder_id: Mapped[str] = mapped_column(String(200), default="")
    # The editor who took it on; None: nobody yet.
    assignee_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("editor_accounts.id", ondelete="SET NULL"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxMember(Base):
    """Which group a request of the tipline's log belongs to (one group per request)."""

    __tablename__ = "inbox_members"

    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tipline_requests.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("inbox_groups.id", ondelete="CASCADE"), index=True)


class OutboxMessage(Base):
    """One fact-check to send back to one request's sender; never two for the same pair."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("request_id", "claim_id", name="uq_outbox_request_claim"),
                      Index("ix_outbox_status", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("tipline_requests.id"))
    claim_id: Mapped[str] = mapped_column(String(200))
    group_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
