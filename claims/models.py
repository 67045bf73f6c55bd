"""The library's tables: claims, the library revision counter, and each claim's history."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Date, DateTime, ForeignKey, Integer, String, Text,
                        TypeDecorator)
from sqlalchemy.orm import Mapped, mapped_column

from claims.db import Base

ID_MAX = 200
URL_MAX = 2048
STATUSES = ("draft", "published", "retired")
# The fields an editor or an import can set; everything else is kept by the library itself.
CONTENT_FIELDS = (
    "title", "claim", "verdict", "verdict_raw", "summary", "url", "published", "lang", "tags",
    "publisher", "status", "appearances",
)


# Ids of tables that grow with traffic (the request log, its children, the claims' history):
# 64-bit. A 32-bit id runs out after 2**31 rows, some 200 days at 120 messages a second. SQLite's
# INTEGER is 64-bit already, and only INTEGER itself is the rowid that numbers new rows.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite keeps no offset, so store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store UTC; naive values are refused because their zone is unknown."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use datetime.now(timezone.utc)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return aware UTC whatever the backend handed back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Claim(Base):
    """A verified fact-check: the claim as it circulated, the verdict and the explanation."""

    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(ID_MAX), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    claim: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str] = mapped_column(String(40), default="unrated", index=True)
    verdict_raw: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(URL_MAX), unique=True, nullable=True)
    published: Mapped[date | None] = mapped_column(Date, nullable=True)
    lang: Mapped[str] = mapped_column(String(16), default="id")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    publisher: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="published", index=True)
    # Where the claim circulated: [{"url": …}, {"image": <16 hex pHash>, "name": …, "url": …}]
    # (ClaimReview's itemReviewed.appearance); claim_links indexes them for look-ups.
    appearances: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The library revision of this claim's last change: what changes_since() filters on.
    revision: Mapped[int] = mapped_column(Integer, default=0, index=True)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict in the JSONL export shape."""
        return {
            "id": self.id,
            "title": self.title or "",
            "claim": self.claim or "",
            "verdict": self.verdict or "unrated",
            "verdict_raw": self.verdict_raw or "",
            "summary": self.summary or "",
            "url": self.url or "",
            "date": self.published.isoformat() if self.published else "",
            "lang": self.lang or "",
            "tags": list(self.tags or []),
            "publisher": self.publisher or "",
            "status": self.status,
            "appearances": [dict(item) for item in self.appearances or []],
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "revision": self.revision,
        }

    def __repr__(self) -> str:
        return f"<Claim {self.id!r} {self.status} {self.verdict} r{self.revision}>"


class ClaimLink(Base):
    """One way to recognise a claim when it is forwarded: a link's key or a picture's hash.

    Derived, never edited: written with every change to a claim (claims/store.py) from its
    article URL, the links in its text and summary, and its appearances.
    """

    __tablename__ = "claim_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(
        String(ID_MAX), ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "url" | "image"
    # "url": sha256 of the normalised link (claims/urls.py); "image": the 16-hex pHash.
    key: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))  # "article" | "text" | "appearance"


class LibraryState(Base):
    """The single row holding the library revision, bumped in every transaction that writes."""

    __tablename__ = "library_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class ClaimHistory(Base):
    """One change to a claim: who, when, at which revision, and the fields as [old, new]."""

    __tablename__ = "claim_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(
        String(ID_MAX), ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # "created" | "updated" | "status"
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(200), default="cli")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ClaimHistory {self.claim_id!r} {self.action} r{self.revision}>"


def _iso(value: datetime | None) -> str:
    """Format an aware datetime as ISO 8601, empty for None."""
    return value.isoformat() if value else ""
