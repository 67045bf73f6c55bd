"""Short-lived, encrypted reply addresses: how the desk can answer a question later.

The request log keeps only a keyed hash of the sender, which cannot be turned back into a
number. To send a fact-check published after the question, the tipline keeps the WhatsApp
address of a request that got no answer (no_match, or "none of these") encrypted with Fernet
(AES-128-CBC + HMAC) under REPLY_KEY (or a key derived from SECRET_KEY), for at most
WhatsApp's 24-hour reply window. It is deleted as soon as the answer is sent, and expired rows
are purged on every outbox pass. Anyone with the database alone learns nothing; anyone with the
database and the key learns the numbers of those who asked in the last 24 hours.
"""

import base64
import hashlib
import hmac
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import delete

from .models import ReplyAddress, utcnow

WINDOW = timedelta(hours=24)  # WhatsApp's customer-service window for free-form replies


def _fernet(app=None) -> Fernet:
    """The Fernet of this app: REPLY_KEY if set, else derived from SECRET_KEY."""
    config = (app or current_app).config
    secret = config.get("REPLY_KEY") or config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError("REPLY_KEY or SECRET_KEY must be set to keep reply addresses")
    raw = hmac.new(str(secret).encode("utf-8"), b"cekfakta reply-address v1", hashlib.sha256)
    return Fernet(base64.urlsafe_b64encode(raw.digest()))


def keep(session, request_id: int, address: str, asked_at=None) -> None:
    """Store a request's sender address, encrypted, until the reply window closes."""
    asked_at = asked_at or utcnow()
    token = _fernet().encrypt(address.encode("utf-8")).decode("ascii")
    session.merge(ReplyAddress(request_id=request_id, ciphertext=token,
                               expires_at=asked_at + WINDOW))


def seal(address: str, app=None) -> str:
    """Encrypt an address to keep outside the database (tipline/spool.py)."""
    return _fernet(app).encrypt(address.encode("utf-8")).decode("ascii")


def unseal(token: str, app=None) -> str | None:
    """Decrypt what seal gave; None when the key changed since."""
    try:
        return _fernet(app).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        return None


def read(session, request_id: int, app=None) -> str | None:
    """The address of a request's sender, or None when gone, expired or unreadable."""
    row = session.get(ReplyAddress, request_id)
    if row is None or row.expires_at <= utcnow():
        return None
    try:
        return _fernet(app).decrypt(row.ciphertext.encode("ascii")).decode("utf-8")
    except InvalidToken:  # the key changed since: the address is lost, by design
        return None


def forget(session, request_id: int) -> None:
    """Delete a request's address (after the answer went out)."""
    session.execute(delete(ReplyAddress).where(ReplyAddress.request_id == request_id))


def purge_expired(session) -> int:
    """Delete every address whose window has closed; return how many."""
    return session.execute(delete(ReplyAddress).where(ReplyAddress.expires_at <= utcnow())).rowcount
