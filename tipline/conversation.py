"""The conversation: one incoming message in, one reply out, and a line in the request log.

Order of business: a replayed MessageSid gets its first answer again; then empty messages and
attachments without a caption; then commands (greetings, menu, help, thanks, and "is this
true?" with nothing to look up); then a number picking from the last list; everything else is
searched in the library. Reading the message is tipline/reading.py, the rate limit
tipline/ratelimit.py, the request log's lines tipline/requestlog.py.
"""

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from claims.store import load_published

from . import replies
from .models import RequestLog, SenderState, as_utc, utcnow
from .ratelimit import count_message, rate_limited
from .reading import choice_number, clean_text, command_for, language_of, readable
from .requestlog import OPEN_DECISIONS, Reply, earlier_reply, log_request, stored_sid
from .wiring import wiring

log = logging.getLogger(__name__)

CHOICE_TTL = timedelta(minutes=30)  # how long "reply 1, 2 or 3" (or "0") stays valid
ANSWERED_WITH_CHOICES = ("choices", "match")  # what a "0" can reject
EXTRA_CANDIDATES = 2  # fetch a few more in case some ids are gone from the library


def sender_hash(key: str, sender: str) -> str:
    """Keyed hash of a sender (a WhatsApp number or a web session): the only form we keep."""
    if not key:
        raise RuntimeError("SENDER_HASH_KEY is not set: refusing to hash senders without a key")
    message = (sender or "").encode("utf-8", "replace")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def respond(
    session,
    searcher,
    *,
    text,
    sender_key: str,
    channel: str,
    message_sid: str | None = None,
    num_media: int = 0,
    media_types=(),
) -> Reply:
    """Answer one message, remember what the sender needs next, and log it."""
    started = time.perf_counter()
    message_sid = stored_sid(message_sid)
    if message_sid and (earlier := earlier_reply(session, message_sid)) is not None:
        log.info("tipline %s message %s replayed", channel, message_sid)
        return earlier

    config = current_app.config
    who = sender_hash(config["SENDER_HASH_KEY"], sender_key)
    limit = int(config.get("RATE_LIMIT_MESSAGES") or 0)
    if limit > 0:
        window = max(1, int(config.get("RATE_LIMIT_WINDOW") or 60))
        sent = count_message(session, who, window)
        if sent > limit:
            return rate_limited(session, who, sent == limit + 1, window, channel, message_sid,
                                started, config.get("DEFAULT_LANG", "id"))
    state = session.get(SenderState, who)
    body = clean_text(text)
    detected = language_of(body)
    lang = replies.pick_lang(detected or (state.lang if state else None)
                             or config.get("DEFAULT_LANG", "id"))
    settings = _Settings(
        newsroom=config.get("NEWSROOM_NAME", "Cek Fakta"),
        k=max(1, int(config.get("SEARCH_K", 3))),
    )

    reply = _answer(session, searcher, body, lang, state, settings, num_media, media_types)

    now = utcnow()
    if state is None and (detected or reply.decision in ("choices", "match")):
        state = SenderState(sender_hash=who, last_choices=[])
        session.add(state)
    if state is not None:
        if detected:
            state.lang = detected
        if reply.decision == "choices":
            state.last_choices, state.choices_at = list(reply.choices), now
        elif reply.decision == "match":  # "0" next says it was not this one
            state.last_choices, state.choices_at = [reply.claim_id], now
        elif reply.decision in ("no_match", "choice_none", "rejected"):
            state.last_choices, state.choices_at = [], None

    entry = dict(
        message_sid=message_sid or None,
        channel=channel,
        sender_hash=who,
        text=body,
        lang=reply.lang,
        decision=reply.decision,
        claim_id=reply.claim_id,
        score=reply.score,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        reply=reply.text,
        created_at=now,
        status="open" if reply.decision in OPEN_DECISIONS else "answered",
    )
    try:
        log_request(session, entry, reply, channel, sender_key)
    except IntegrityError:
        # Two deliveries of one message, or two first messages of one sender, at once.
        session.rollback()
        if message_sid and (earlier := earlier_reply(session, message_sid)) is not None:
            return earlier
        # keep the log line, drop the sender-state change
        log_request(session, entry, reply, channel, sender_key)
    log.info(
        "tipline %s message %s: %s in %.0f ms",
        channel, message_sid or "-", reply.decision, entry["elapsed_ms"],
    )
    return reply


@dataclass(frozen=True)
class _Settings:
    newsroom: str
    k: int


def _behind() -> bool:
    """Say whether QUICK_WHEN_WAITING messages or more wait for a worker (tipline/backlog.py):
    then a message no worker has embedded yet is searched by its keywords alone."""
    limit = int(current_app.config.get("QUICK_WHEN_WAITING") or 0)
    backlog = wiring().backlog
    return limit > 0 and backlog is not None and backlog.waiting() >= limit


def _answer(session, searcher, body, lang, state, settings, num_media, media_types) -> Reply:
    if not body and num_media:
        return Reply(replies.media_only(lang, media_types), "media_only", lang=lang)
    command = command_for(body) if body else None
    if command == "greeting":
        return Reply(replies.greeting(lang, settings.newsroom), command, lang=lang)
    if command == "menu":
        return Reply(replies.menu(lang, settings.newsroom), command, lang=lang)
    if command == "help":
        return Reply(replies.help_text(lang, settings.newsroom), command, lang=lang)
    if command == "thanks":
        return Reply(replies.thanks(lang), command, lang=lang)
    if command == "unclear":
        return Reply(replies.unclear(lang), command, lang=lang)
    if not readable(body):
        if num_media:
            return Reply(replies.media_only(lang, media_types), "media_only", lang=lang)
        return Reply(replies.empty(lang), "empty", lang=lang)

    number = choice_number(body)
    if number is not None:
        return _choose(session, state, number, lang, settings)

    return _search(session, searcher, body, lang, settings)


def _choose(session, state, number: int, lang: str, settings: "_Settings") -> Reply:
    expired = Reply(replies.choice_expired(lang), "choice_expired", lang=lang)
    ids = list(state.last_choices or []) if state else []
    if not ids or state.choices_at is None or utcnow() - as_utc(state.choices_at) > CHOICE_TTL:
        return expired
    if number == 0:
        # None of the choices fit, or the single match was not it: the question it answered goes
        # to the editors' queue. A rejected match is logged with its fact-check (the dashboard
        # counts them).
        asked = session.scalars(
            select(RequestLog)
            .where(RequestLog.sender_hash == state.sender_hash,
                   RequestLog.decision.in_(ANSWERED_WITH_CHOICES))
            .order_by(RequestLog.created_at.desc(), RequestLog.id.desc())
        ).first()
        if asked is not None:
            asked.status = "open"
        if asked is not None and asked.decision == "match":
            return Reply(replies.no_match(lang, settings.newsroom), "rejected", asked.claim_id, lang=lang)
        return Reply(replies.no_match(lang, settings.newsroom), "choice_none", lang=lang)
    if not 1 <= number <= len(ids):
        still_there = load_published(session, ids)
        if not still_there:
            return expired
        return Reply(
            replies.choices(still_there, lang), "choices", lang=lang,
            choices=tuple(c.id for c in still_there),
        )
    picked = load_published(session, [ids[number - 1]])
    if not picked:
        return expired
    return Reply(replies.match(picked[0], lang), "choice", picked[0].id, lang=lang)


def _search(session, searcher, body: str, lang: str, settings: _Settings) -> Reply:
    try:
        if searcher is None:
            raise LookupError("no searcher configured")
        result = searcher.search(body, k=settings.k + EXTRA_CANDIDATES, embed=not _behind())
        if result.quick:
            log.info("tipline searched by keywords alone: workers are behind")
        matches = list(result.matches)
        claims = {c.id: c for c in load_published(session, [m.id for m in matches])}
    except Exception:
        log.exception("tipline search failed")
        return Reply(replies.search_error(lang), "error", lang=lang)

    ranked = [(m, claims[m.id]) for m in matches if m.id in claims]
    if result.decision == "match" and ranked and ranked[0][0] is matches[0]:
        best, claim = ranked[0]
        return Reply(replies.match(claim, lang, not_this=True), "match", claim.id, float(best.score), lang)
    if result.decision in ("match", "choices") and ranked:
        shown = [claim for _, claim in ranked[: settings.k]]
        return Reply(
            replies.choices(shown, lang), "choices", None, float(ranked[0][0].score), lang,
            choices=tuple(c.id for c in shown),
        )
    top = float(matches[0].score) if matches else None
    return Reply(replies.no_match(lang, settings.newsroom), "no_match", None, top, lang)
