"""The conversation: one incoming message in, one reply out, and a line in the request log.

Order of business: a replayed MessageSid gets its first answer again; then a picture (one the
library knows is answered at once, else its words and the caption are searched); then empty
messages and other attachments without a caption; then commands (greetings, menu, help, thanks,
and "is this true?" with nothing to look up); then a number picking from the last list; then
links (a link the library knows is answered at once, else the page's words are searched);
everything else is searched in the library. Reading the message is tipline/reading.py, pictures
tipline/media.py, pages tipline/links.py, the rate limit tipline/ratelimit.py, the request
log's lines tipline/requestlog.py. A message whose sender's webhook gave up waiting goes the same
way, cheaply, its answer sent through Twilio's REST API (tipline/late.py).
"""

import hashlib
import hmac
import logging
import time
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, replace
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from claims.db import session_scope
from claims.models import Claim
from claims.store import claims_for_image, claims_for_url, library_revision, load_published
from claims.urls import find_urls

from . import followup, hoaxes, replies, reply_addresses
from .late import LATER, send_late
from .links import LinkUnread
from .media import Attachment, MediaUnavailable
from .models import RequestLog, SenderState, as_utc, save_sender, utcnow
from .ratelimit import counted, over_limit, rate_limited
from .reading import choice_number, clean_text, command_for, language_of, readable, vocabulary_of
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
    client_key: str | None = None,
    reply_lang: str | None = None,
    followup_url=None,
    media: tuple[Attachment, ...] = (),
    late: bool = False,
    by_api: bool = False,
) -> Reply:
    """Answer one message, remember what the sender needs next, and log it.

    client_key: the web client's address (its sessions are the client's to pick): counted
    against RATE_LIMIT_PER_ADDRESS and kept as a keyed hash. reply_lang: the language the asker
    chose (the web page's switch), over the one read from the message. followup_url(code): the
    page where a web asker comes back for the desk's answer (tipline/followup.py). late: the
    sender's webhook gave up waiting (tipline/late.py): the message is answered cheaply (keywords
    alone, no linked page fetched, a picture's words not waited for, grouped for the desk later) and its answer sent through
    Twilio's REST API; the Reply says so (delivery "later"). A replay is never sent again.
    by_api: the caller sends the reply through the REST API itself (a message kept while the
    database was down): logged as delivered later too, so a retry of it is answered with silence.
    """
    started = time.perf_counter()
    message_sid = stored_sid(message_sid)
    if message_sid and (earlier := earlier_reply(session, message_sid)) is not None:
        log.info("tipline %s message %s replayed", channel, message_sid)
        return earlier

    config = current_app.config
    who = sender_hash(config["SENDER_HASH_KEY"], sender_key)
    client = sender_hash(config["SENDER_HASH_KEY"], "addr:" + client_key) if client_key else None
    window = max(1, int(config.get("RATE_LIMIT_WINDOW") or 60))
    limits = [(key, limit) for key, limit in ((who, int(config.get("RATE_LIMIT_MESSAGES") or 0)),
                                              (client, int(config.get("RATE_LIMIT_PER_ADDRESS") or 0)))
              if key is not None and limit > 0]
    state = read_sender(session, who)

    def limited(over: tuple[int, int]) -> Reply:
        limit, sent = over
        lang = replies.pick_lang(reply_lang or (state.lang if state else None)
                                 or config.get("DEFAULT_LANG", "id"))
        return rate_limited(session, who, sent == limit + 1, window, channel, message_sid, started,
                            lang, client)

    # One transaction per message, written at the end: here the counters are only read. A
    # message past a limit is counted and logged at once, with no search.
    counted_already = False
    for key, limit in limits:
        if counted(session, key, window) >= limit:
            over = over_limit(session, limits, window)
            if over is not None:
                return limited(over)
            session.commit()  # a new window began meanwhile: counted, and within the limits
            counted_already = True
            break
    revision = library_revision(session)  # read once: the library's words and the claims shown
    body = clean_text(text)
    detected = language_of(body, _library_words(session, revision))
    lang = replies.pick_lang(reply_lang or detected or (state.lang if state else None)
                             or config.get("DEFAULT_LANG", "id"))
    settings = _Settings(
        newsroom=config.get("NEWSROOM_NAME", "Cek Fakta"),
        k=max(1, int(config.get("SEARCH_K", 3))),
        revision=revision,
        late=late,
    )

    reply = _answer(session, searcher, body, lang, state, settings, num_media, media_types, media)
    # A late message is filed in the inbox by the editors' outbox loop, not here: the desk's
    # grouping embeds the text, which is what a late message is spared.
    desk = None if late else wiring().desk
    if reply.decision == "no_match" and desk is not None:
        reply = _desk_answer(session, desk, body, lang) or reply
    if channel == "web" and followup_url is not None and \
            reply.decision in ("no_match", "choice_none", "rejected"):
        code = followup.new_code()
        reply = Reply(replies.no_match(lang, settings.newsroom, (code, followup_url(code))),
                      reply.decision, reply.claim_id, reply.score, reply.lang,
                      reopened=reply.reopened, followup=code)
        if reply.reopened is not None:
            session.get(RequestLog, reply.reopened).followup = code

    # The message's one transaction: its count, the sender's memory, its log line, one commit.
    over = None if counted_already else over_limit(session, limits, window)
    if over is not None:  # other workers counted this sender meanwhile: past the limit after all
        session.rollback()
        return limited(over_limit(session, limits, window) or over)
    now = utcnow()
    _remember(session, state, who, reply, detected, now)

    entry = dict(
        message_sid=message_sid or None,
        channel=channel,
        sender_hash=who,
        client_hash=client,
        followup=reply.followup if reply.reopened is None else None,
        text=clean_text(reply.searched) if reply.searched else body,
        lang=reply.lang,
        decision=reply.decision,
        claim_id=reply.claim_id,
        score=reply.score,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        reply=reply.text,
        created_at=now,
        status="open" if reply.decision in OPEN_DECISIONS else "answered",
        media_kind=reply.media_kind or (replies.media_kind(media_types) if num_media else None),
        image_hash=reply.image_hash,
        via=reply.via,
    )
    # A late message's answer goes through the REST API, after a line saying sorry; a picture
    # still being read sends only its answer, once read (no "reading…" first, nor after it).
    sent_later = late and bool(reply.text) and reply.later is None
    if (late or by_api) and reply.text:
        reply = replace(reply, delivery=LATER)
        entry["delivery"] = LATER
    if sent_later:
        reply = replace(reply, text=replies.late(reply.text, reply.lang))
        entry["reply"] = reply.text
    try:
        row_id = log_request(session, entry, reply, channel, sender_key, desk)
    except IntegrityError:
        # Two deliveries of one message at once.
        session.rollback()
        if message_sid and (earlier := earlier_reply(session, message_sid)) is not None:
            return earlier
        # keep the count and the log line, drop the sender-state change
        if not counted_already:
            over_limit(session, limits, window)
        row_id = log_request(session, entry, reply, channel, sender_key, desk)
    if reply.later is not None:
        _answer_later(current_app._get_current_object(), reply.later, row_id, who, sender_key, settings)
    if sent_later:
        send_late(current_app._get_current_object(), wiring().outgoing, wiring().send, row_id,
                  sender_key, reply.text)
    log.info(
        "tipline %s message %s: %s in %.0f ms",
        channel, message_sid or "-", reply.decision, entry["elapsed_ms"],
    )
    return reply


# The library's words by language, that language_of reads a message of keywords by: per process
# and database, (the revision read up to, the words). Read first from the newest LIBRARY_WORDS_FROM
# fact-checks, then only from those changed since: a library of a million would otherwise be read
# whole by every worker on its first message and after every change (minutes each). A word stays
# once seen (a fact-check unpublished since still tells which language its words are).
LIBRARY_WORDS_FROM = 5_000
_WORDS_CACHE: dict = {}
_WORDS_COLUMNS = (Claim.lang, Claim.title, Claim.claim, Claim.status)


def _library_words(session, revision: int) -> dict:
    """The library's words by language at a revision, brought up to it when the library changes."""
    url = str(session.get_bind().url)
    kept = _WORDS_CACHE.get(url)
    if kept is not None and kept[0] == revision:
        return kept[1]
    if kept is None:  # by the revision index, newest first; the status is checked here
        query = select(*_WORDS_COLUMNS).order_by(Claim.revision.desc()).limit(LIBRARY_WORDS_FROM)
    else:
        query = select(*_WORDS_COLUMNS).where(Claim.revision > kept[0])
    rows = session.execute(query).all()
    found = vocabulary_of(((lang, f"{title} {claim}") for lang, title, claim, status in rows
                           if status == "published"), kept[1] if kept is not None else None)
    _WORDS_CACHE.clear()  # one library per process
    _WORDS_CACHE[url] = (revision, found)
    return found


def _desk_answer(session, desk, body: str, lang: str) -> Reply | None:
    """The fact-check the desk linked to questions like this one, as the reply, or None."""
    try:
        claim_id = desk.answer_for(session, body)
    except Exception:
        log.exception("the desk's answers could not be read; the question goes to the inbox")
        return None
    found = load_published(session, [claim_id]) if claim_id else []
    if not found:
        return None
    return Reply(replies.match(found[0], lang, not_this=True), "match", found[0].id, None, lang,
                 from_desk=True)


@dataclass(frozen=True)
class _Settings:
    newsroom: str
    k: int
    revision: int | None = None  # the library revision read for this message (None: read it)
    late: bool = False  # nobody waits for the webhook's reply: answer cheaply (tipline/late.py)


@dataclass(frozen=True)
class Sender:
    """What the tipline remembers of a sender (tipline.models.SenderState), read with Core."""

    sender_hash: str
    lang: str | None
    last_choices: list
    choices_at: object  # datetime or None


_SENDERS = SenderState.__table__
_SENDER = (select(_SENDERS.c.lang, _SENDERS.c.last_choices, _SENDERS.c.choices_at)
           .where(_SENDERS.c.sender_hash == bindparam("who")))


def read_sender(session, who: str) -> Sender | None:
    """Give what the tipline remembers of a sender, or None for a sender it never kept."""
    row = session.execute(_SENDER, {"who": who}).first()
    return Sender(who, row.lang, list(row.last_choices or []), row.choices_at) if row else None


def _remember(session, state: Sender | None, who: str, reply: Reply, detected: str | None, now) -> None:
    """Keep what the sender needs next: their language, the list a number picks from."""
    if state is None and not (detected or reply.decision in ("choices", "match")):
        return
    lang, choices, at = (state.lang, state.last_choices, state.choices_at) if state else (None, [], None)
    if detected:
        lang = detected
    if reply.decision == "choices":
        choices, at = list(reply.choices), now
    elif reply.decision == "match":  # "0" next says it was not this one
        choices, at = [reply.claim_id], now
    elif reply.decision in ("no_match", "choice_none", "rejected"):
        choices, at = [], None
    if state is not None and (lang, choices, at) == (state.lang, state.last_choices, state.choices_at):
        return  # nothing new to keep
    save_sender(session, dict(sender_hash=who, lang=lang, last_choices=choices, choices_at=at,
                              updated_at=now))


@dataclass(frozen=True)
class _Later:
    """A picture whose words were not ready in time: what answering it later needs."""

    job: object  # concurrent.futures.Future giving the words
    caption: str
    lang: str
    image_hash: str


def _all_words(reader, pictures) -> str:
    """Read the words of a message's pictures in turn, one block each."""
    return "\n".join(words for words in (_words(reader, p) for p in pictures) if words)


def _words(reader, picture) -> str:
    """Read a picture's words on the reading thread; "" when Tesseract fails."""
    started = time.perf_counter()
    try:
        words = reader.words(picture)
    except MediaUnavailable as exc:
        log.warning("tipline could not read a picture: %s", exc)
        return ""
    log.info("tipline read a picture in %.0f ms (fetched in %.0f ms): %d characters",
             (time.perf_counter() - started) * 1000, picture.fetch_ms, len(words))
    return words


def _answer_later(app, later: _Later, row_id: int, who: str, sender_key: str, settings: _Settings):
    """When a picture's words are read, search them, update its log line and send the answer."""
    queue = wiring().reading

    def finish(job) -> None:
        with app.app_context(), session_scope(app) as session:
            try:
                reply = _read_reply(session, wiring().searcher, later.caption, job.result(),
                                    later.lang, replace(settings, revision=None), later.image_hash)
                if settings.late:  # its sender's webhook gave up: the answer says sorry first
                    reply = replace(reply, text=replies.late(reply.text, reply.lang))
                row = session.get(RequestLog, row_id)
                if row is not None:
                    row.text, row.decision, row.claim_id, row.score = (
                        clean_text(reply.searched or ""), reply.decision, reply.claim_id, reply.score)
                    row.reply, row.via, row.lang = reply.text, reply.via, reply.lang
                    row.delivery = LATER  # sent below: a retry of the message gets silence
                    row.status = "open" if reply.decision in OPEN_DECISIONS else "answered"
                    _remember(session, read_sender(session, who), who, reply, None, utcnow())
                    session.commit()
                send = wiring().send
                if send is None:
                    raise RuntimeError("no sender: the tipline was handed no way to send")
                sid = send(sender_key, reply.text)
                log.info("tipline sent a picture's answer later as %s", sid)
                if row is not None and row.status == "answered":
                    reply_addresses.forget(session, row_id)
                    session.commit()
            except Exception:
                # The line stays open with its reply address: the desk can answer it.
                log.exception("tipline could not answer a picture later (request %s)", row_id)
                session.rollback()
                row = session.get(RequestLog, row_id)
                if row is not None:
                    row.status = "open"
                    session.commit()

    # On the reading thread, after the words: never on the webhook's own thread.
    later.job.add_done_callback(lambda job: queue.submit(finish, job))


def _read_reply(session, searcher, caption, words, lang, settings, image_hash) -> Reply:
    """Answer a picture's words and caption as a typed message, saying what was read."""
    seen = dict(media_kind="image", image_hash=image_hash)
    text = clean_text("\n".join(part for part in (caption, words) if part))
    if not readable(text):
        return Reply(replies.picture_unread(lang), "media_only", lang=lang, via="ocr", **seen)
    lang = replies.pick_lang(language_of(text) or lang)
    reply = _search(session, searcher, text, lang, settings)
    shown = replies.with_words(reply.text, words, lang) if words else reply.text
    return replace(reply, text=shown, via="ocr" if words else "text", searched=text, **seen)


def _behind() -> bool:
    """Say whether QUICK_WHEN_WAITING messages or more wait for a worker (tipline/backlog.py):
    then a message no worker has embedded yet is searched by its keywords alone."""
    limit = int(current_app.config.get("QUICK_WHEN_WAITING") or 0)
    backlog = wiring().backlog
    return limit > 0 and backlog is not None and backlog.waiting() >= limit


# Pictures of one message that are read: a screenshot in parts is two or three, and each costs
# about half a second of a core (BENCHMARKS.md, "Screenshots").
MAX_PICTURES = 3


def _answer(session, searcher, body, lang, state, settings, num_media, media_types, media) -> Reply:
    pictures = [a for a in media if a.kind == "image"][:MAX_PICTURES]
    if pictures and wiring().media is not None:
        return _picture(session, searcher, body, lang, settings, pictures)
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

    links = find_urls(body)
    if links:
        return _link(session, searcher, body, links, lang, settings)
    return _search(session, searcher, body, lang, settings)


def _picture(session, searcher, caption: str, lang: str, settings: _Settings,
             attachments: list[Attachment]) -> Reply:
    """Answer pictures (a hoax often comes as a screenshot in two or three parts): from the
    fact-check of one of the same pictures, else by all their words and the caption. Fetching
    stops once the first picture's time cap is spent, so a slow host cannot eat Twilio's wait."""
    reader = wiring().media
    pictures, deadline = [], time.monotonic() + reader.timeout
    for attachment in attachments:
        if pictures and time.monotonic() > deadline:
            break
        try:
            pictures.append(reader.fetch(attachment))
        except MediaUnavailable as exc:
            log.warning("tipline could not fetch a picture: %s", exc)
    if not pictures:
        if readable(caption):
            return replace(_search(session, searcher, caption, lang, settings), media_kind="image")
        return Reply(replies.picture_unread(lang), "media_only", lang=lang, media_kind="image")
    picture = pictures[0]  # its hash groups the message in the inbox
    seen = dict(media_kind="image", image_hash=picture.hash)
    for each in pictures:
        known = _known_picture(session, each.hash)
        if known is not None:
            claim, bits = known
            return Reply(replies.known_picture(claim, lang), "match", claim.id, 1.0 - bits / 64, lang,
                         via="image", media_kind="image", image_hash=each.hash)
    job = wiring().reading.submit(_all_words, reader, pictures)
    wait = 0.0 if settings.late else float(current_app.config.get("OCR_WAIT") or 0)
    try:
        words = job.result(timeout=wait)
    except FuturesTimeout:
        log.info("tipline answers a picture later: its words are not read yet")
        return Reply(replies.reading(lang), "reading", lang=lang, via="ocr",
                     later=_Later(job, caption, lang, picture.hash), **seen)
    return _read_reply(session, searcher, caption, words, lang, settings, picture.hash)


def _known_picture(session, image: str):
    """Give the fact-check of a picture, and how many bits its hash is off, or None.

    A picture an editor attached to a fact-check, within a few bits (claims/images.py); else
    the very same picture answered before with a match nobody turned down.
    """
    attached = claims_for_image(session, image)
    if attached:
        return attached[0]
    answered = session.scalars(
        select(RequestLog.claim_id)
        .where(RequestLog.image_hash == image, RequestLog.claim_id.is_not(None),
               RequestLog.decision.in_(("match", "choice")), RequestLog.status == "answered")
        .order_by(RequestLog.created_at.desc(), RequestLog.id.desc()).limit(5)).all()
    found = load_published(session, answered)
    return (found[0], 0) if found else None


def _link(session, searcher, body: str, links: list[str], lang: str, settings: _Settings) -> Reply:
    """Answer a message with links: a link the library knows at once, else with the page's words."""
    for link in links[:3]:
        known = claims_for_url(session, link)
        if known:
            return Reply(replies.known_link(known[0], lang), "match", known[0].id, 1.0, lang,
                         media_kind="link", via="link")
    reader = None if settings.late else wiring().links  # late: no page fetched, its words searched
    if reader is None:
        return replace(_search(session, searcher, body, lang, settings), media_kind="link")
    try:
        page = reader.read(links[0])
    except LinkUnread as exc:
        log.info("tipline did not read a link: %s", exc)
        return replace(_search(session, searcher, body, lang, settings), media_kind="link",
                       via=exc.via)
    rest = body
    for link in links:
        rest = rest.replace(link, " ").replace(link.removeprefix("http://"), " ")
    text = clean_text("\n".join(part for part in (rest.strip(), page.query()) if part))
    if not readable(text):
        return replace(_search(session, searcher, body, lang, settings), media_kind="link")
    reply = _search(session, searcher, text, lang, settings)
    shown = replies.with_page(reply.text, page.title, lang) if page.title else reply.text
    # The log keeps the message and the page's title, not the page.
    logged = "\n".join(part for part in (body, page.title) if part)
    return replace(reply, text=shown, media_kind="link", via="page", searched=logged)


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
        reopened = asked.id if asked is not None else None
        if asked is not None and asked.decision == "match":
            return Reply(replies.no_match(lang, settings.newsroom), "rejected", asked.claim_id,
                         lang=lang, reopened=reopened)
        return Reply(replies.no_match(lang, settings.newsroom), "choice_none", lang=lang,
                     reopened=reopened)
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


def _shown(session, searcher, settings: _Settings) -> hoaxes.Load:
    """Give how this message reads published claims: from this process's copy at the library
    revision read for it (tipline/shown.py)."""
    revision = library_revision(session) if settings.revision is None else settings.revision
    snapshot = getattr(searcher, "snapshot", None)
    return lambda ids: wiring().shown.load(session, ids, revision, snapshot)


def _search(session, searcher, body: str, lang: str, settings: _Settings) -> Reply:
    try:
        if searcher is None:
            raise LookupError("no searcher configured")
        result = searcher.search(body, k=hoaxes.candidates(settings.k) + EXTRA_CANDIDATES,
                                 embed=not (settings.late or _behind()))
        if result.quick:
            log.info("tipline searched by keywords alone: %s",
                     "its sender stopped waiting" if settings.late else "workers are behind")
        matches = list(result.matches)
        # One per hoax group: two fact-checks of one hoax are never offered side by side.
        found = hoaxes.collapse(session, matches, settings.k, _shown(session, searcher, settings))
    except Exception:
        log.exception("tipline search failed")
        return Reply(replies.search_error(lang), "error", lang=lang)

    if result.decision == "match" and found and found[0].match is matches[0]:
        claim = hoaxes.answer(session, found[0])
        return Reply(replies.match(claim, lang, not_this=True), "match", claim.id,
                     float(found[0].match.score), lang)
    if result.decision in ("match", "choices") and found:
        shown = [f.claim for f in found]
        return Reply(
            replies.choices(shown, lang), "choices", None, float(found[0].match.score), lang,
            choices=tuple(c.id for c in shown),
        )
    top = float(matches[0].score) if matches else None
    return Reply(replies.no_match(lang, settings.newsroom), "no_match", None, top, lang)


def answer_kept(app, spool) -> None:
    """Answer the messages kept while the database was down (tipline/spool.py), oldest first:
    each as if it had just arrived (logged, counted, queued for the desk if unanswered), its
    reply sent through Twilio's REST API. Stops, giving the rest back, if the database is still
    down; a message already logged (Twilio or another node got it through) is only forgotten."""
    from .spool import database_down

    with app.app_context():
        for path, record in spool.take():
            with session_scope(app) as session:
                try:
                    sid = stored_sid(record.get("message_sid"))
                    if sid and earlier_reply(session, sid) is not None:
                        spool.done(path)
                        continue
                    sender = reply_addresses.unseal(record["sender"], app)
                    if sender is None:  # the key changed since: nobody to answer, nothing to log
                        log.error("tipline dropped a kept message: its sender cannot be read")
                        spool.done(path)
                        continue
                    reply = respond(session, wiring().searcher, text=record.get("text", ""),
                                    sender_key=sender, channel=record.get("channel", "whatsapp"),
                                    message_sid=record.get("message_sid"),
                                    num_media=int(record.get("num_media", 0)),
                                    media_types=tuple(record.get("media_types", ())),
                                    media=tuple(Attachment(url, kind) for url, kind in record.get("media", ())),
                                    by_api=True)
                except Exception as exc:
                    session.rollback()
                    if database_down(exc):
                        spool.release(path)
                        log.warning("tipline: the database is still down; the kept messages wait")
                        for rest, _ in spool.take():
                            spool.release(rest)
                        return
                    log.exception("tipline could not answer a kept message: set aside as %s", path.name)
                    spool.fail(path)
                    continue
                spool.done(path)
                if not reply.text:
                    continue
                try:
                    send = wiring().send
                    if send is None:
                        raise RuntimeError("no sender: the tipline was handed no way to send")
                    log.info("tipline answered a message kept while the database was down as %s",
                             send(sender, reply.text))
                except Exception:
                    log.exception("tipline could not send the answer to a kept message (it is logged)")

