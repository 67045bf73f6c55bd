"""The conversation: one incoming message in, one reply out, and a line in the request log.

Order of business: a replayed MessageSid gets its first answer again; then empty messages and
attachments without a caption; then commands (greetings, menu, help, thanks, and "is this
true?" with nothing to look up); then a number picking from the last list; everything else is
searched in the library.
"""

import hashlib
import hmac
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from claims.store import load_published

from . import replies, reply_addresses, whatsapp
from .lang import detect_lang
from .models import RateWindow, RequestLog, SenderState, as_utc, utcnow
from .wiring import wiring

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4000  # longer bodies are cut before searching and logging
CHOICE_TTL = timedelta(minutes=30)  # how long "reply 1, 2 or 3" stays valid
EXTRA_CANDIDATES = 2  # fetch a few more in case some ids are gone from the library
OPEN_DECISIONS = frozenset({"no_match", "error"})  # what lands in the editors' queue


@dataclass(frozen=True)
class Reply:
    """What the tipline answers, and how it decided."""

    text: str
    decision: str
    claim_id: str | None = None
    score: float | None = None
    lang: str = "id"
    choices: tuple[str, ...] = field(default=(), compare=False, repr=False)


# --- reading the message -------------------------------------------------------------------

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
_BLANK_LINES = re.compile(r"\n{3,}")

GREETING_WORDS = frozenset(
    """
    halo hallo haloo hello helo hellow hai haii hay hi hii hei hey hy ping p tes test testing
    assalamualaikum asalamualaikum assalamualaikom assalamu alaikum salam selamat pagi siang
    sore malam morning afternoon evening shalom swastiastu permisi punten
    """.split()
)
THANKS_WORDS = frozenset(
    """
    makasih makasi maksih kasih terimakasih trims trimakasih thanks thank thx tq ty tengkyu
    nuhun suwun ok oke okay okey sip siap mantap
    """.split()
)
MENU_WORDS = frozenset({"menu", "mulai", "start"})
HELP_WORDS = frozenset(
    {"bantuan", "bantu", "help", "info", "informasi", "petunjuk", "panduan", "cara", "caranya",
     "how"}
)
# "tolong cek, ini benar gak?": a question with nothing in it to look up.
UNCLEAR_WORDS = frozenset(
    """
    cek check periksa benar bener betul beneran hoaks hoax hoak fake true real asli palsu
    """.split()
)
# Words that may surround a command without making it a question about a claim.
FILLER_WORDS = frozenset(
    """
    min admin mimin kak kakak ka bang pak bu ibu bapak mas mbak mba gan sis bro semua all
    there everyone team tim redaksi fakta cekfakta wr wb warahmatullahi wabarakatuh
    warahmatullah wabarakatuhu good terima banyak you very much so dong ya yah nih deh pakai
    memakai menggunakan use this does it work works to do i can minta ini itu gimana
    bagaimana saya aku tolong gak ga nggak ngga enggak apa apakah bukan atau kah sih tidak
    please is that or not news berita
    """.split()
)
THANKS_EMOJI = frozenset("👍🙏👌❤♥😊🙂")
COMMANDS = (  # checked in this order: "halo, menu" is a menu request
    ("menu", MENU_WORDS),
    ("help", HELP_WORDS),
    ("thanks", THANKS_WORDS),
    ("greeting", GREETING_WORDS),
    ("unclear", UNCLEAR_WORDS),
    ("help", frozenset({"tolong"})),  # "tolong" alone is a cry for help
)
_ANY_COMMAND_WORD = (
    MENU_WORDS | HELP_WORDS | THANKS_WORDS | GREETING_WORDS | UNCLEAR_WORDS | FILLER_WORDS
)

_CHOICE = re.compile(
    r"^(?:no|nomor|nomer|number|pilih|pilihan|opsi|option|#)?\.?\s*(\d{1,2})\s*[.)!]?$"
)
_NUMBER_WORDS = {"satu": 1, "dua": 2, "tiga": 3, "one": 1, "two": 2, "three": 3}


def clean_text(text) -> str:
    """Make any incoming body safe to search and store: valid UTF-8, no control characters,
    at most MAX_TEXT_CHARS."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from JSON
    text = unicodedata.normalize("NFC", text[: MAX_TEXT_CHARS * 2])
    text = whatsapp.CONTROL.sub(" ", text.replace("\r\n", "\n"))
    text = _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n")))
    return text[:MAX_TEXT_CHARS].strip()


def command_for(text: str) -> str | None:
    """Name the command a message is ("greeting", "menu", "help", "thanks", "unclear"), or None."""
    if text.strip() in {"?", "??", "???"}:
        return "help"
    words = _WORDS.findall(text.lower())
    if not words:
        return "thanks" if set(text) & THANKS_EMOJI else None
    if len(words) > 8 or not set(words) <= _ANY_COMMAND_WORD:
        return None
    for name, core in COMMANDS:
        if core.intersection(words):
            return name
    return None


def choice_number(text: str) -> int | None:
    """Read a reply such as "2", "2️⃣", "no. 2" or "dua" as a list number."""
    text = text.lower().replace("\ufe0f", "").replace("\u20e3", "").strip()
    if text in _NUMBER_WORDS:
        return _NUMBER_WORDS[text]
    found = _CHOICE.match(text)
    return int(found.group(1)) if found else None


def sender_hash(key: str, sender: str) -> str:
    """Keyed hash of a sender (a WhatsApp number or a web session): the only form we keep."""
    if not key:
        raise RuntimeError("SENDER_HASH_KEY is not set: refusing to hash senders without a key")
    message = (sender or "").encode("utf-8", "replace")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


# --- answering -------------------------------------------------------------------------------


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
    if message_sid and (earlier := _logged(session, message_sid)) is not None:
        log.info("tipline %s message %s replayed", channel, message_sid)
        return earlier

    config = current_app.config
    who = sender_hash(config["SENDER_HASH_KEY"], sender_key)
    limit = int(config.get("RATE_LIMIT_MESSAGES") or 0)
    if limit > 0:
        window = max(1, int(config.get("RATE_LIMIT_WINDOW") or 60))
        sent = count_message(session, who, window)
        if sent > limit:
            return _rate_limited(session, who, sent == limit + 1, window, channel, message_sid,
                                 started)
    state = session.get(SenderState, who)
    body = clean_text(text)
    detected = detect_lang(body)
    lang = replies.pick_lang(detected or (state.lang if state else None)
                             or config.get("DEFAULT_LANG", "id"))
    settings = _Settings(
        newsroom=config.get("NEWSROOM_NAME", "Cek Fakta"),
        k=max(1, int(config.get("SEARCH_K", 3))),
    )

    reply = _answer(session, searcher, body, lang, state, settings, num_media, media_types)

    now = utcnow()
    if state is None and (detected or reply.decision == "choices"):
        state = SenderState(sender_hash=who, last_choices=[])
        session.add(state)
    if state is not None:
        if detected:
            state.lang = detected
        if reply.decision == "choices":
            state.last_choices, state.choices_at = list(reply.choices), now
        elif reply.decision in ("match", "no_match", "choice_none"):
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
        _log_request(session, entry, reply, channel, sender_key)
    except IntegrityError:
        # Two deliveries of one message, or two first messages of one sender, at once.
        session.rollback()
        if message_sid and (earlier := _logged(session, message_sid)) is not None:
            return earlier
        # keep the log line, drop the sender-state change
        _log_request(session, entry, reply, channel, sender_key)
    log.info(
        "tipline %s message %s: %s in %.0f ms",
        channel, message_sid or "-", reply.decision, entry["elapsed_ms"],
    )
    return reply


def count_message(session, who: str, window: int) -> int:
    """Count a message against its sender's current window and commit; give the count so far.

    One upsert of one small row, committed at once (before any search) so that a flood costs
    a single short write per message and every worker shares the counter.
    """
    now = int(time.time())
    start = now - now % window
    table = RateWindow.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = insert(table).values(sender_hash=who, window_start=start, count=1)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.sender_hash],
            set_={"count": case((table.c.window_start == start, table.c.count + 1), else_=1),
                  "window_start": start},
        ).returning(table.c.count)
        count = session.execute(statement).scalar_one()
    else:  # another database: read and write under the row's lock, less cheaply
        row = session.get(RateWindow, who, with_for_update=True)
        if row is None:
            row = RateWindow(sender_hash=who, window_start=start, count=0)
            session.add(row)
        if row.window_start != start:
            row.window_start, row.count = start, 0
        row.count += 1
        count = row.count
    session.commit()
    return count


def _rate_limited(session, who: str, first: bool, window: int, channel: str,
                  message_sid: str | None, started: float) -> Reply:
    """Answer a message over the limit: one polite notice, then nothing; no search, no body kept."""
    state = session.get(SenderState, who)
    lang = replies.pick_lang((state.lang if state else None)
                             or current_app.config.get("DEFAULT_LANG", "id"))
    text = replies.rate_limited(lang, window) if first else ""
    reply = Reply(text, "rate_limited", lang=lang)
    # Counted in the log (the dashboard and the desk can see a flood), but its bodies are not kept.
    session.add(RequestLog(
        message_sid=message_sid or None, channel=channel, sender_hash=who, text="", lang=lang,
        decision="rate_limited", elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        reply=text, created_at=utcnow(), status="dismissed"))
    try:
        session.commit()
    except IntegrityError:  # the same message delivered twice at once
        session.rollback()
        if message_sid and (earlier := _logged(session, message_sid)) is not None:
            return earlier
        raise
    log.info("tipline %s message %s: rate_limited", channel, message_sid or "-")
    return reply


def _log_request(session, entry: dict, reply: Reply, channel: str, sender_key: str) -> None:
    """Write the request log line and, for a WhatsApp question left open, its reply address."""
    row = RequestLog(**entry)
    session.add(row)
    session.flush()
    if channel == "whatsapp" and sender_key:
        if row.status == "open":
            reply_addresses.keep(session, row.id, sender_key)
        elif reply.decision == "choice_none":
            # _choose reopened the question the list answered: the desk may answer it later.
            asked = session.scalars(
                select(RequestLog)
                .where(RequestLog.sender_hash == row.sender_hash, RequestLog.decision == "choices",
                       RequestLog.status == "open", RequestLog.id != row.id)
                .order_by(RequestLog.created_at.desc(), RequestLog.id.desc())
            ).first()
            if asked is not None:
                reply_addresses.keep(session, asked.id, sender_key)
    session.commit()


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


def _logged(session, message_sid: str) -> Reply | None:
    row = session.scalars(
        select(RequestLog).where(RequestLog.message_sid == message_sid)
    ).first()
    if row is None:
        return None
    return Reply(row.reply, row.decision, row.claim_id, row.score, row.lang)


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
    if not _ALNUM.search(body):
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
        # None of the choices fit: the question the list answered goes to the editors' queue.
        asked = session.scalars(
            select(RequestLog)
            .where(RequestLog.sender_hash == state.sender_hash, RequestLog.decision == "choices")
            .order_by(RequestLog.created_at.desc(), RequestLog.id.desc())
        ).first()
        if asked is not None:
            asked.status = "open"
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
        return Reply(replies.match(claim, lang), "match", claim.id, float(best.score), lang)
    if result.decision in ("match", "choices") and ranked:
        shown = [claim for _, claim in ranked[: settings.k]]
        return Reply(
            replies.choices(shown, lang), "choices", None, float(ranked[0][0].score), lang,
            choices=tuple(c.id for c in shown),
        )
    top = float(matches[0].score) if matches else None
    return Reply(replies.no_match(lang, settings.newsroom), "no_match", None, top, lang)
