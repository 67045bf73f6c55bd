"""Follow-up codes: how a web asker comes back for the desk's answer.

WhatsApp askers are answered back through the outbox; the web chat has no address to write to.
A web question left to the desk gets a short random code instead. The chat page keeps it and
asks for the answer when it is opened again; on another device, /jawaban/<code> shows it.
The code is the only key: whoever has it sees that one question and its answer, nothing else.
"""

import secrets

from sqlalchemy import select

from claims.store import load_published

from .models import RequestLog

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
LENGTH = 10  # 50 bits: not guessable by trying


def new_code() -> str:
    """A fresh code, e.g. "K7Q2F-9XF4M"."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def clean(code: str) -> str:
    """A code as typed ("k7q2f 9xf4m") in its stored form, or "" when it cannot be one."""
    raw = "".join(c for c in (code or "").upper() if c.isalnum())
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        return ""
    return f"{raw[:5]}-{raw[5:]}"


def look_up(session, code: str, desk) -> tuple[RequestLog | None, object | None]:
    """The request behind a code and the published fact-check answering it (None: not yet)."""
    code = clean(code)
    if not code:
        return None, None
    row = session.scalar(select(RequestLog).where(RequestLog.followup == code))
    if row is None:
        return None, None
    claim_id = desk.answer_of(session, row.id) if desk is not None else None
    found = load_published(session, [claim_id]) if claim_id else []
    return row, (found[0] if found else None)
