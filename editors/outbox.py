"""Answering back: queue a fact-check for everyone in a group, send it through Twilio's API.

A row goes pending -> sending -> sent (or failed / skipped_window). "sending" is committed before
Twilio is called and "sent" only after Twilio answered with a Message SID, so a crash in between
leaves a "sending" row: it is never sent again automatically but turns "uncertain" for a person
to check in Twilio's log (a second copy is worse than a late one). UNIQUE(request_id, claim_id)
and one row per sender and fact-check mean nobody gets the same answer twice.
"""

import logging
import threading
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from flask_babel import gettext as _
from sqlalchemy import case, func, select, update
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from claims.db import session_scope
from claims.models import Claim, utcnow
from tipline import replies, reply_addresses
from tipline.models import ReplyAddress, RequestLog

from .models import InboxGroup, InboxMember, OutboxMessage

log = logging.getLogger(__name__)
_twilio_log = logging.getLogger("cekfakta.twilio")
_twilio_log.setLevel(logging.WARNING)  # twilio logs every request at INFO

MAX_ATTEMPTS = 3
LIVE = ("pending", "sending", "sent", "uncertain")  # rows that mean the sender has or gets it
RETRYABLE = ("failed", "uncertain")
SENDING_STALE = timedelta(minutes=2)  # a "sending" row this old belongs to a process that died
BATCH = 50
TIMEOUT = 15


class _BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's HTTP client, sending to another base URL (a local fake in tests)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        """Send to the same path on base_url."""
        parts = urlsplit(url)
        url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


def twilio_client(app) -> Client:
    """A Twilio REST client from the settings (TWILIO_API_BASE redirects it)."""
    config = app.config
    base = (config.get("TWILIO_API_BASE") or "").strip()
    options = {"timeout": TIMEOUT, "logger": _twilio_log}
    http = _BaseUrlHttpClient(base, **options) if base else TwilioHttpClient(**options)
    return Client(config.get("TWILIO_ACCOUNT_SID") or None, config.get("TWILIO_AUTH_TOKEN"),
                  http_client=http)


def window_open(db, request_id: int) -> bool:
    """Whether the request's sender may still be answered (an unexpired reply address)."""
    row = db.get(ReplyAddress, request_id)
    return row is not None and row.expires_at > utcnow()


def enqueue_group(db, group_id: int, claim_id: str, actor: str = "") -> Counter:
    """Queue a fact-check for each WhatsApp sender of a group (their latest question).

    Senders outside the 24-hour window get a "skipped_window" row: recorded, counted, not sent.
    """
    counts: Counter = Counter()
    rows = db.scalars(
        select(RequestLog).join(InboxMember, InboxMember.request_id == RequestLog.id)
        .where(InboxMember.group_id == group_id, RequestLog.channel == "whatsapp")
        .order_by(RequestLog.created_at.desc(), RequestLog.id.desc())).all()
    done_senders = set(db.scalars(
        select(RequestLog.sender_hash).join(OutboxMessage, OutboxMessage.request_id == RequestLog.id)
        .where(OutboxMessage.claim_id == claim_id,
               OutboxMessage.status.in_(("pending", "sending", "sent", "uncertain")))))
    now = utcnow()
    for request in rows:
        if request.sender_hash in done_senders:
            continue
        done_senders.add(request.sender_hash)
        status = "pending" if window_open(db, request.id) else "skipped_window"
        error = "" if status == "pending" else "not sent (outside 24 h)"
        existing = db.scalar(select(OutboxMessage).where(
            OutboxMessage.request_id == request.id, OutboxMessage.claim_id == claim_id))
        if existing is not None and existing.status not in ("cancelled", "skipped_window", "failed"):
            continue
        if existing is not None:  # cancelled by an unlink, or not sent before: this link decides again
            existing.status, existing.error, existing.group_id = status, error, group_id
            existing.actor, existing.updated_at, existing.attempts = actor, now, 0
        else:
            db.add(OutboxMessage(request_id=request.id, claim_id=claim_id, group_id=group_id,
                                 status=status, actor=actor, created_at=now, updated_at=now,
                                 error=error))
        counts[status] += 1
    db.flush()
    return counts


def cancel_group(db, group_id: int, why: str) -> int:
    """Cancel a group's answers that did not reach Twilio (waiting or failed); give how many.

    Uncertain ones stay as they are: they may have been delivered.
    """
    result = db.execute(update(OutboxMessage)
                        .where(OutboxMessage.group_id == group_id,
                               OutboxMessage.status.in_(("pending", "failed")))
                        .values(status="cancelled", updated_at=utcnow(), error=case(
                            (OutboxMessage.error == "", why[:200]),
                            else_=why[:200] + "; before: " + OutboxMessage.error)))
    return result.rowcount


class NotRetryable(ValueError):
    """An outbox row a person may not send again (sent, pending, or past the 24-hour window)."""


def retry(db, row_id: int, who: str, checked: bool = False) -> OutboxMessage:
    """Queue a failed or uncertain answer again, as a person decided after seeing why.

    An uncertain row may have reached the sender: only when checked (the person looked at
    Twilio's message log and found it not delivered).
    """
    row = db.get(OutboxMessage, row_id)
    if row is None or row.status not in RETRYABLE:
        raise NotRetryable(_("Only failed or uncertain answers can be retried."))
    if row.status == "uncertain" and not checked:
        raise NotRetryable(_("Check Twilio's message log first: it may have been delivered."))
    group = db.get(InboxGroup, row.group_id) if row.group_id else None
    if group is not None and (group.status != "linked" or group.claim_id != row.claim_id):
        raise NotRetryable(_("The group is no longer linked to this fact-check."))
    if not window_open(db, row.request_id):
        raise NotRetryable(_("Outside 24 h: WhatsApp no longer allows this message."))
    row.status, row.attempts, row.updated_at = "pending", 0, utcnow()
    row.error = f"retried by {who} after: {row.error}"[:500]
    row.actor = who
    return row


def send_whatsapp(app, to: str, body: str) -> str:
    """Send one WhatsApp message; return Twilio's Message SID."""
    sender = app.config.get("TWILIO_WHATSAPP_FROM") or ""
    if not sender:
        raise RuntimeError("TWILIO_WHATSAPP_FROM is not set")
    message = twilio_client(app).messages.create(to=to, from_=sender, body=body)
    return message.sid


def _recover_stale(db) -> int:
    """Turn rows left "sending" by a process that died into "uncertain" (never auto-resent)."""
    result = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.updated_at < utcnow() - SENDING_STALE)
        .values(status="uncertain", updated_at=utcnow(),
                error="interrupted while sending: check Twilio's message log before resending"))
    return result.rowcount


def _close_windows(db) -> int:
    """Mark pending rows whose sender's window has closed, then forget expired addresses."""
    pending = db.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
    closed = 0
    for row in pending:
        if not window_open(db, row.request_id):
            row.status, row.error, row.updated_at = "skipped_window", "not sent (outside 24 h)", utcnow()
            closed += 1
    return closed


def _claim_row(app, row_id: int):
    """Mark a pending row "sending" (committed) and give what to send, or None if not ours."""
    with session_scope(app) as db:
        taken = db.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
            .values(status="sending", attempts=OutboxMessage.attempts + 1, updated_at=utcnow()))
        if taken.rowcount != 1:
            return None
        row = db.get(OutboxMessage, row_id)
        request = db.get(RequestLog, row.request_id)
        claim = db.get(Claim, row.claim_id)
        address = reply_addresses.read(db, row.request_id, app)
        if address is None:
            row.status, row.error = "skipped_window", "not sent (outside 24 h)"
            return "skipped_window"
        if claim is None or claim.status != "published":
            row.status, row.error = "failed", "the fact-check is not published"
            return "failed"
        return address, replies.match(claim, request.lang or "id"), row.attempts


def _finish(app, row_id: int, status: str, sid: str | None = None, error: str = "") -> None:
    with session_scope(app) as db:
        row = db.get(OutboxMessage, row_id)
        row.status, row.error, row.updated_at = status, error[:500], utcnow()
        if sid:
            row.twilio_sid, row.sent_at = sid, utcnow()
        if status == "sent":
            still = db.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.request_id == row.request_id,
                OutboxMessage.status.in_(("pending", "sending"))))
            if not still:
                reply_addresses.forget(db, row.request_id)


def run_pass(app) -> Counter:
    """One pass of the outbox: recover, close windows, purge, then send what is pending."""
    report: Counter = Counter()
    with session_scope(app) as db:
        report["uncertain"] += _recover_stale(db)
        report["skipped_window"] += _close_windows(db)
        report["purged"] += reply_addresses.purge_expired(db)
        ids = list(db.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending")
                              .order_by(OutboxMessage.id).limit(BATCH)))
    for row_id in ids:
        job = _claim_row(app, row_id)
        if job is None:
            continue
        if isinstance(job, str):
            report[job] += 1
            continue
        address, body, attempts = job
        try:
            sid = send_whatsapp(app, address, body)
        except TwilioRestException as exc:
            retry = (exc.status >= 500 or exc.status == 429) and attempts < MAX_ATTEMPTS
            _finish(app, row_id, "pending" if retry else "failed", error=f"Twilio {exc.status}: {exc.msg}")
            report["retry" if retry else "failed"] += 1
        except (requests.ConnectionError, RuntimeError) as exc:
            # Twilio never got the request (refused, no sender configured): safe to try again.
            retry = attempts < MAX_ATTEMPTS and isinstance(exc, requests.ConnectionError) \
                and not isinstance(exc, requests.ReadTimeout)
            _finish(app, row_id, "pending" if retry else "failed", error=str(exc))
            report["retry" if retry else "failed"] += 1
        except Exception as exc:  # a timeout or worse: Twilio may have sent it
            log.exception("outbox row %s: unknown outcome", row_id)
            _finish(app, row_id, "uncertain", error=f"unknown outcome: {exc}")
            report["uncertain"] += 1
        else:
            _finish(app, row_id, "sent", sid=sid)
            log.info("outbox row %s sent as %s", row_id, sid)
            report["sent"] += 1
    return report


class OutboxWorker:
    """Runs `run_pass` in a background thread of each process, started on first use."""

    def __init__(self, app, interval: float, before_pass=None):
        self.app, self.interval, self.before_pass = app, interval, before_pass
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the loop once per process (after any fork); no-op when the interval is 0."""
        if self.interval <= 0:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        """Ask for a pass now (something was queued)."""
        self.start()
        self._wake.set()

    def stop(self) -> None:
        """Stop the loop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.before_pass is not None:
                    self.before_pass()
                run_pass(self.app)
            except Exception:
                log.exception("outbox pass failed; pending answers stay queued")
            self._wake.wait(self.interval)
            self._wake.clear()
