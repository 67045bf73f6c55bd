"""Answering a message whose sender's webhook already gave up: through Twilio's REST API.

Twilio waits 15 s for the webhook's reply. A message that waited longer for a worker (a burst
the workers fell behind on; tipline/backlog.py reads how long, and whether Twilio closed the
connection) would be answered to nobody and the asker never hear back. Such a message is logged
as any other, answered cheaply (keywords alone, tipline/conversation.py) and its answer sent
here, on threads of this process: the worker goes on to the next message instead of waiting
on Twilio's API. The send goes through the `send` the app hands the tipline (wiring.Wiring),
the same that answers pictures read late and messages kept while the database was down.

A send that fails leaves the question open, with its reply address, for the desk to answer (a
send whose outcome is unknown, a timeout, counts as failed: better a second answer from the desk
than none). A process that dies before its queued sends went out loses them: their log lines say
what they would have been (delivery "later"). A message past the rate limit is not sent later:
its one notice goes in the webhook's reply, as for any message.
"""

import logging
from concurrent.futures import Future

from claims.db import session_scope

from . import reply_addresses
from .models import RequestLog, as_utc
from .threads import Threads

log = logging.getLogger(__name__)

LATER = "later"  # RequestLog.delivery of a reply sent through the REST API
# Sends at once per process: each mostly waits on Twilio's API (a round trip across the Pacific),
# so one thread alone would let a burst's late answers trickle out long after the worker caught up
# (python bench/late.py).
SENDING_THREADS = 8


class Outgoing(Threads):
    """Sends late answers on a few threads of this process (made on first use, after any fork).
    Sends left in the queue when the process exits normally still go out first."""

    def __init__(self, threads: int = SENDING_THREADS):
        super().__init__(threads, "late-answers")


def send_late(app, outgoing: Outgoing, send, row_id: int, sender_key: str, text: str) -> Future:
    """Queue a late message's answer for the REST API; if it cannot go, reopen the question."""
    def deliver() -> None:
        try:
            if send is None:
                raise RuntimeError("no sender: the tipline was handed no way to send")
            sid = send(sender_key, text)
            log.info("tipline sent the answer to late request %s as %s", row_id, sid)
        except Exception:
            log.exception("tipline could not send the answer to late request %s: left to the desk", row_id)
            _reopen(app, row_id, sender_key)

    return outgoing.submit(deliver)


def _reopen(app, row_id: int, sender_key: str) -> None:
    """Put a question whose late answer did not go out in the desk's queue, answerable for 24 h."""
    try:
        with app.app_context(), session_scope(app) as session:
            row = session.get(RequestLog, row_id)
            if row is None:  # purged meanwhile
                return
            row.status = "open"
            reply_addresses.keep(session, row_id, sender_key, as_utc(row.created_at))
    except Exception:
        log.exception("tipline could not reopen late request %s either", row_id)
