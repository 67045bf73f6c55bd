"""The schema of the last release without migrations, frozen, and a few rows for every table.

tests/test_migrations.py makes a database of that release from it (no Alembic version table,
as the release left them) and upgrades it. Never edit this to follow the models: it stands for
databases already out there.
"""
from datetime import date, datetime, timezone

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer,
                        MetaData, String, Table, Text, TypeDecorator, UniqueConstraint)

metadata = MetaData()


class UTCDateTime(TypeDecorator):
    """The release's aware UTC datetime: UTC without offset on SQLite, timestamptz elsewhere."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store UTC, as the release did."""
        if value is None:
            return None
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        """Read aware UTC back."""
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


Table(
    "claims", metadata,
    Column("id", String(200), primary_key=True),
    Column("title", Text, nullable=False),
    Column("claim", Text, nullable=False),
    Column("verdict", String(40), nullable=False, index=True),
    Column("verdict_raw", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("url", String(2048), unique=True, nullable=True),
    Column("published", Date, nullable=True),
    Column("lang", String(16), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("publisher", String(200), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
    Column("revision", Integer, nullable=False, index=True),
)
Table(
    "library_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", Integer, nullable=False),
)
Table(
    "claim_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_id", String(200), ForeignKey("claims.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("revision", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("changes", JSON, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)
Table(
    "tipline_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_sid", String(64), unique=True, nullable=True),
    Column("channel", String(16), nullable=False),
    Column("sender_hash", String(64), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("decision", String(32), nullable=False, index=True),
    Column("claim_id", String(200), nullable=True, index=True),
    Column("score", Float, nullable=True),
    Column("elapsed_ms", Float, nullable=False),
    Column("reply", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_tipline_requests_status_created", "status", "created_at"),
)
Table(
    "tipline_senders", metadata,
    Column("sender_hash", String(64), primary_key=True),
    Column("lang", String(8), nullable=True),
    Column("last_choices", JSON, nullable=False),
    Column("choices_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)
Table(
    "reply_addresses", metadata,
    Column("request_id", Integer, ForeignKey("tipline_requests.id", ondelete="CASCADE"),
           primary_key=True),
    Column("ciphertext", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)
Table(
    "tipline_rate", metadata,
    Column("sender_hash", String(64), primary_key=True),
    Column("window_start", Integer, nullable=False),
    Column("count", Integer, nullable=False),
)
Table(
    "editor_accounts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(80), unique=True, nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("session_version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Table(
    "editor_login_failures", metadata,
    Column("key", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)
Table(
    "inbox_groups", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("claim_id", String(200), nullable=True, index=True),
    Column("vector", JSON, nullable=False),
    Column("encoder_id", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Table(
    "inbox_members", metadata,
    Column("request_id", Integer, ForeignKey("tipline_requests.id", ondelete="CASCADE"),
           primary_key=True),
    Column("group_id", Integer, ForeignKey("inbox_groups.id", ondelete="CASCADE"), nullable=False,
           index=True),
)
Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("tipline_requests.id"), nullable=False),
    Column("claim_id", String(200), nullable=False),
    Column("group_id", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("twilio_sid", String(64), nullable=True),
    Column("error", Text, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    UniqueConstraint("request_id", "claim_id", name="uq_outbox_request_claim"),
    Index("ix_outbox_status", "status"),
)

T0 = datetime(2025, 1, 31, 8, 30, tzinfo=timezone.utc)
T1 = datetime(2025, 2, 1, 12, 0, 15, 250000, tzinfo=timezone.utc)
SENDER = "a" * 64  # an HMAC of the sender, never the number

# A few rows for every table, as the release wrote them; ids given, so that reading them back
# can be compared row by row.
ROWS = {
    "claims": [
        {"id": "vaksin-chip", "title": "Vaksin COVID-19 berisi microchip pelacak",
         "claim": "Vaksin COVID-19 mengandung microchip untuk melacak penduduk",
         "verdict": "false", "verdict_raw": "SALAH", "summary": "Tidak ada chip dalam vaksin.",
         "url": "https://cekfakta.example.org/vaksin-chip", "published": date(2025, 1, 31),
         "lang": "id", "tags": ["kesehatan", "vaksin"], "publisher": "Cek Fakta",
         "status": "published", "created_at": T0, "updated_at": T0, "revision": 1},
        {"id": "banjir-foto-lama", "title": "Foto banjir lama disebut banjir hari ini",
         "claim": "Banjir besar melanda kota pagi ini", "verdict": "misleading",
         "verdict_raw": "MENYESATKAN", "summary": "Foto dari tahun 2019.", "url": None,
         "published": None, "lang": "id", "tags": [], "publisher": "",
         "status": "draft", "created_at": T0, "updated_at": T1, "revision": 2},
    ],
    "library_state": [{"id": 1, "revision": 2}],
    "claim_history": [
        {"id": 1, "claim_id": "vaksin-chip", "revision": 1, "action": "created",
         "changes": {"title": [None, "Vaksin COVID-19 berisi microchip pelacak"]},
         "actor": "cli", "at": T0},
        {"id": 2, "claim_id": "banjir-foto-lama", "revision": 2, "action": "created",
         "changes": {"status": [None, "draft"]}, "actor": "editor:ani", "at": T1},
    ],
    "tipline_requests": [
        {"id": 1, "message_sid": "SM" + "1" * 32, "channel": "whatsapp", "sender_hash": SENDER,
         "text": "vaksin chip", "lang": "id", "decision": "match", "claim_id": "vaksin-chip",
         "score": 0.91, "elapsed_ms": 12.5, "reply": "SALAH: Vaksin COVID-19 ...",
         "created_at": T0, "status": "answered"},
        {"id": 2, "message_sid": None, "channel": "web", "sender_hash": SENDER,
         "text": "apakah air kelapa menyembuhkan covid", "lang": "id", "decision": "no_match",
         "claim_id": None, "score": None, "elapsed_ms": 8.0, "reply": "Belum ada ...",
         "created_at": T1, "status": "open"},
    ],
    "tipline_senders": [
        {"sender_hash": SENDER, "lang": "id", "last_choices": ["vaksin-chip"], "choices_at": T0,
         "updated_at": T1},
    ],
    "reply_addresses": [
        {"request_id": 2, "ciphertext": "gAAAAAB-not-a-real-token", "expires_at": T1},
    ],
    "tipline_rate": [{"sender_hash": SENDER, "window_start": 1738312200, "count": 3}],
    "editor_accounts": [
        {"id": 1, "username": "ani", "password_hash": "scrypt:32768:8:1$salt$hash", "role": "admin",
         "active": True, "session_version": 1, "created_at": T0},
        {"id": 2, "username": "budi", "password_hash": "scrypt:32768:8:1$salt$hash2",
         "role": "editor", "active": False, "session_version": 3, "created_at": T1},
    ],
    "editor_login_failures": [
        {"key": "b" * 64, "count": 2, "last_at": T1, "locked_until": None},
    ],
    "inbox_groups": [
        {"id": 1, "label": "apakah air kelapa menyembuhkan covid", "status": "open",
         "claim_id": None, "vector": [0.25, -0.5, 0.125], "encoder_id": "fake:3",
         "created_at": T1, "updated_at": T1},
    ],
    "inbox_members": [{"request_id": 2, "group_id": 1}],
    "outbox": [
        {"id": 1, "request_id": 2, "claim_id": "vaksin-chip", "group_id": 1, "status": "sent",
         "attempts": 1, "twilio_sid": "SM" + "2" * 32, "error": "", "actor": "editor:ani",
         "created_at": T1, "updated_at": T1, "sent_at": T1},
    ],
}
