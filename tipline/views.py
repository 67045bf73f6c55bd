"""The tipline's doors: the Twilio webhook, the web chat page and its JSON API, and search."""

import logging

import json

from flask import (Blueprint, Response, abort, current_app, jsonify, render_template, request,
                   url_for)
from flask_babel import get_locale, gettext as _
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import RequestEntityTooLarge

from claims.db import get_session

from . import followup, hoaxes, replies, reply_addresses
from .backlog import arrival
from .conversation import Reply, answer_kept, clean_text, respond
from .whatsapp import to_html
from .media import Attachment
from .reading import language_of
from .spool import database_down
from .wiring import wiring

log = logging.getLogger(__name__)

bp = Blueprint(
    "tipline",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/tipline/static",
)

SEARCH_K_DEFAULT = 5
SEARCH_K_MAX = 50  # a larger k is served as this many (the response says which k it used)
MAX_JSON_BYTES = 64 * 1024  # a JSON body to the API; a forwarded message is far smaller
MAX_SESSION_CHARS = 200
MAX_MEDIA = 10  # WhatsApp sends at most 10 attachments with one message


def _searcher():
    return wiring().searcher


def _signed_url() -> str:
    """The URL Twilio signed: PUBLIC_URL when we sit behind a proxy, else what we received."""
    public = (current_app.config.get("PUBLIC_URL") or "").strip()
    if not public:
        return request.url
    url = public.rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("utf-8", "replace")
    return url


def _signed_by_twilio() -> bool:
    token = current_app.config.get("TWILIO_AUTH_TOKEN") or ""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token:
        log.warning("TWILIO_AUTH_TOKEN is not set: refusing every webhook")
        return False
    return bool(signature) and RequestValidator(token).validate(
        _signed_url(), request.form, signature
    )


def _count(value, limit: int) -> int:
    try:
        return min(max(int(value), 0), limit)
    except (TypeError, ValueError):
        return 0


def _answer(**message) -> Reply:
    """Run the conversation; if anything below fails, still give the sender a polite reply.

    A WhatsApp message that fails on the database is kept on disk (tipline/spool.py) and
    answered once the database is back; the first message answered normally after that sets
    the kept ones going."""
    session = get_session()
    spool = wiring().spool
    try:
        reply = respond(session, _searcher(), **message)
    except Exception as exc:
        log.exception("tipline could not answer message %s", message.get("message_sid") or "-")
        session.rollback()
        lang = replies.pick_lang(language_of(clean_text(message.get("text") or ""))
                                 or current_app.config.get("DEFAULT_LANG", "id"))
        if spool is not None and message.get("channel") == "whatsapp" and database_down(exc):
            try:
                spool.put(_kept(message))
                return Reply(replies.kept(lang), "error", lang=lang)
            except Exception:
                log.exception("tipline could not keep message %s either", message.get("message_sid") or "-")
        return Reply(replies.search_error(lang), "error", lang=lang)
    if spool is not None and spool.waiting():
        app = current_app._get_current_object()
        spool.start(lambda kept: answer_kept(app, kept))
    return reply


def _kept(message: dict) -> dict:
    """What a message kept while the database is down holds: its sender sealed (encrypted)."""
    return {"message_sid": message.get("message_sid"), "channel": message.get("channel"),
            "sender": reply_addresses.seal(message.get("sender_key") or ""),
            "text": message.get("text") or "", "num_media": message.get("num_media", 0),
            "media_types": list(message.get("media_types") or ()),
            "media": [[a.url, a.content_type] for a in message.get("media") or ()]}


def _late() -> bool:
    """Say whether this message's sender stopped waiting for the reply: Twilio closed the
    connection, or the message waited LATE_AFTER_SECONDS for a worker (tipline/backlog.py; read
    under gunicorn only, elsewhere every message is fresh)."""
    came = arrival(request.environ.get("gunicorn.socket"))
    late = came.late(float(current_app.config.get("LATE_AFTER_SECONDS") or 0))
    if late:
        log.info("tipline message %s is late: %s", request.form.get("MessageSid") or "-",
                 "its connection is closed" if came.gone else f"it waited {came.waited:.1f} s")
    return late


@bp.post("/whatsapp")
def whatsapp():
    """Twilio's incoming-message webhook: answer with TwiML (a late message: through the REST
    API, tipline/late.py, and an empty TwiML here)."""
    if not _signed_by_twilio():
        log.warning("rejected a webhook with a missing or bad X-Twilio-Signature")
        abort(403)
    late = _late()
    form = request.form
    num_media = _count(form.get("NumMedia"), MAX_MEDIA)
    reply = _answer(
        text=form.get("Body", ""),
        sender_key=form.get("From", ""),
        channel="whatsapp",
        message_sid=form.get("MessageSid") or form.get("SmsMessageSid") or None,
        num_media=num_media,
        media_types=tuple(form.get(f"MediaContentType{i}", "") for i in range(num_media)),
        media=tuple(Attachment(form.get(f"MediaUrl{i}", ""), form.get(f"MediaContentType{i}", ""))
                    for i in range(num_media) if form.get(f"MediaUrl{i}")),
        late=late,
    )
    twiml = MessagingResponse()
    # Past the rate limit's one notice, or an answer sent through the REST API (now, or when this
    # MessageSid first came): an empty <Response/>, Twilio sends nothing.
    if reply.text and reply.delivery is None:
        twiml.message(reply.text)
    return Response(str(twiml), mimetype="application/xml")


def _json_error(message: str, status: int):
    return jsonify(error=message), status


class BadRequest(ValueError):
    """A request the API refuses; the message says what to send instead."""


def _json_body(limit: int = MAX_JSON_BYTES):
    """Read and parse a JSON body of at most limit bytes; None when it is not JSON.

    A chunked body has no Content-Length, and werkzeug cuts a stream short at
    MAX_CONTENT_LENGTH instead of refusing it: read past the limit here, so that an
    oversized body is refused (413) rather than parsed truncated (a 400 that blames the JSON).
    """
    if (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    stream, body = request.stream, bytearray()
    while chunk := stream.read(min(64 * 1024, limit + 1 - len(body))):
        body += chunk
        if len(body) > limit:
            raise RequestEntityTooLarge()
    try:
        return json.loads(body)
    except ValueError:
        return None


def _search_k(value) -> int:
    """The k to search with: a whole number from 1; above SEARCH_K_MAX, SEARCH_K_MAX."""
    if value is None:
        return SEARCH_K_DEFAULT
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadRequest(f"k must be a whole number from 1 (at most {SEARCH_K_MAX} are returned)")
    try:
        k = int(value)
    except ValueError:
        raise BadRequest(f"k must be a whole number from 1 (at most {SEARCH_K_MAX} are "
                         f"returned)") from None
    if k < 1:
        raise BadRequest(f"k must be a whole number from 1 (at most {SEARCH_K_MAX} are returned)")
    return min(k, SEARCH_K_MAX)


def _search_request() -> tuple[str, int, bool]:
    """The (q, k, quick) of a search: query string for GET, a JSON object for POST."""
    if request.method == "POST":
        data = _json_body()
        if not isinstance(data, dict):
            raise BadRequest('send JSON like {"q": "vaksin chip", "k": 3}')
        q, k, quick = data.get("q"), data.get("k"), data.get("quick", False)
        if q is not None and not isinstance(q, str):
            raise BadRequest("q must be a string")
        if not isinstance(quick, bool):
            raise BadRequest("quick must be true or false")
    else:
        q, k = request.args.get("q"), request.args.get("k")
        quick = request.args.get("quick", "0") in ("1", "true", "yes")
    query = clean_text(q or "")
    if not query:
        raise BadRequest('missing q, e.g. /api/search?q=vaksin+chip or POST {"q": "vaksin chip"}')
    return query, _search_k(k), quick


@bp.route("/api/search", methods=["GET", "POST"])
def api_search():
    """Search the library: the top k fact-checks for q, and the tipline's decision.

    GET ?q=…&k=…, or POST a JSON object {"q": …, "k": …} (a long forwarded message does not
    fit in a URL). Not written to the request log: this is a search API (the benchmark calls
    it), not a conversation with a sender.
    """
    try:
        query, k, quick = _search_request()
    except BadRequest as exc:
        return _json_error(str(exc), 400)
    except RequestEntityTooLarge:
        return _json_error(f"request body larger than {MAX_JSON_BYTES} bytes", 413)
    # quick: the search a busy tipline falls back to (keywords alone, choices at most)
    embed = not quick
    searcher = _searcher()
    if searcher is None:
        return _json_error("the search index is not ready", 503)
    try:
        result = searcher.search(query, k=hoaxes.candidates(k), embed=embed)
    except Exception:
        log.exception("search failed")
        return _json_error("the search failed; try again shortly", 503)
    # One entry per hoax group, as the tipline offers them; the group's other fact-checks under it.
    session = get_session()
    found = hoaxes.collapse(session, result.matches, k)
    shown = [f.claim for f in found]
    if result.decision == "match" and found and found[0].match is result.matches[0]:
        shown[0] = hoaxes.answer(session, found[0])
    matches = [
        {
            **_brief(claim),
            "score": float(f.match.score),
            "also": [_brief(c) for c in (f.claim, *f.others) if c.id != claim.id],
        }
        for f, claim in zip(found, shown)
    ]
    return jsonify(decision=result.decision, matches=matches[:k], quick=result.quick, k=k)


def _brief(claim) -> dict:
    """Give what the search API tells of a fact-check."""
    return {"id": claim.id, "title": claim.title, "verdict": claim.verdict, "url": claim.url}


@bp.post("/api/messages")
def api_messages():
    """The web chat: the same conversation as WhatsApp, as JSON."""
    try:
        data = _json_body()
    except RequestEntityTooLarge:
        return _json_error("message too large", 413)
    if not isinstance(data, dict):
        return _json_error('send JSON like {"text": "vaksin chip", "session": "abc123"}', 400)
    session_id, text = data.get("session"), data.get("text", "")
    if not isinstance(session_id, str) or not session_id.strip():
        return _json_error("session is required: any random string kept by the client", 400)
    if len(session_id) > MAX_SESSION_CHARS:
        return _json_error(f"session is longer than {MAX_SESSION_CHARS} characters", 400)
    if text is not None and not isinstance(text, str):
        return _json_error("text must be a string", 400)
    lang = data.get("lang")
    if lang is not None and lang not in replies.TEXT:
        return _json_error(f"lang must be one of {', '.join(replies.TEXT)}", 400)
    # "web:" keeps a web session from ever sharing state with a WhatsApp sender. The session is
    # the client's to pick: the rate limit counts its address too (TRUSTED_PROXIES behind a proxy).
    reply = _answer(text=text or "", sender_key="web:" + session_id, channel="web",
                    client_key=request.remote_addr or "-", reply_lang=lang,
                    followup_url=_followup_url)
    return jsonify(reply=reply.text, html=str(to_html(reply.text)), decision=reply.decision,
                   claim_id=reply.claim_id, followup=reply.followup)


def _followup_url(code: str) -> str:
    public = (current_app.config.get("PUBLIC_URL") or "").strip()
    if public:
        return public.rstrip("/") + url_for("tipline.followup_page", code=code)
    return url_for("tipline.followup_page", code=code, _external=True)


def _followup(code: str, lang: str | None) -> dict | None:
    """What a follow-up code shows: the question, and the desk's answer when there is one."""
    row, claim = followup.look_up(get_session(), code, wiring().desk)
    if row is None:
        return None
    lang = replies.pick_lang(lang or row.lang)
    if claim is not None:
        status, text = "answered", replies.match(claim, lang)
    elif row.status == "dismissed":
        status, text = "closed", ""
    else:
        status, text = "waiting", ""
    return {"code": followup.clean(code), "question": row.text, "status": status, "reply": text,
            "html": str(to_html(text)), "lang": lang}


@bp.get("/api/followup/<code>")
def api_followup(code: str):
    """A web asker's question and the desk's answer, if any, by its follow-up code."""
    found = _followup(code, request.args.get("lang"))
    if found is None:
        return _json_error("no question has this code", 404)
    return jsonify(found)


@bp.get("/jawaban/<code>")
def followup_page(code: str):
    """The page a follow-up code opens on any device: the question and the desk's answer."""
    found = _followup(code, request.args.get("lang"))
    newsroom = current_app.config.get("NEWSROOM_NAME", "Cek Fakta")
    response = Response(render_template(
        "tipline/followup.html", found=found, words=page_words(newsroom),
        newsroom=newsroom), status=200 if found else 404)
    _page_headers(response)
    return response


@bp.get("/")
def chat():
    """The web chat page: the tipline in a browser, looking like WhatsApp."""
    newsroom = current_app.config.get("NEWSROOM_NAME", "Cek Fakta")
    demo = current_app.config.get("ENV") == "demo"
    words = page_words(newsroom)
    greeting = replies.greeting(words["html_lang"], newsroom)
    # What the page's script needs: the words it shows itself, the greeting as WhatsApp shows
    # it, and the language chosen with the switch (replies come in it; None: as each message).
    page = {"words": {key: words[key] for key in SCRIPT_WORDS}, "greeting_html": str(to_html(greeting)),
            "chosen": wiring().chosen_lang()}
    response = Response(
        render_template("tipline/chat.html", page=page, words=words, newsroom=newsroom, demo=demo)
    )
    _page_headers(response)
    return response


# The words of page_words the chat page's script shows (the template prints the others).
SCRIPT_WORDS = ("typing", "error", "paused", "answer_intro")


def page_words(newsroom: str) -> dict:
    """The chat and follow-up pages' own words, in the page's language (gettext)."""
    return {
        "html_lang": replies.pick_lang(str(get_locale())),
        "title": _("%(newsroom)s: ask in the chat", newsroom=newsroom),
        "status": _("usually replies within seconds"),
        "intro": _("Not sure about a message going around? Type a few key words or paste the "
                   "message here. We find the closest fact-check."),
        "try": _("Try:"),
        "examples": [_("vaccine chip"), _("hello"), _("help")],
        "placeholder": _("Type a message"),
        "send": _("Send"),
        "error": _("Not sent. Check your connection and try again."),
        "typing": _("typing…"),
        "paused": _("Paused: this message was not answered. Try again in a little while."),
        "answer_intro": _("The desk's answer to your question “{question}”:"),
        "followup_code": _("Your question's code:"),
        "to_chat": _("To the chat"),
        "followup_waiting": _("The desk has not answered yet. Open this page again later."),
        "followup_closed": _("The desk is not writing a fact-check for this question."),
        "followup_unknown": _("We do not know this code. Please check it again."),
        "footer": _("This is the %(newsroom)s tipline. Our WhatsApp number answers the same way.",
                    newsroom=newsroom),
        "demo": _("The fact-check library here is demo data."),
    }


def _page_headers(response: Response) -> None:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.vary.add("Accept-Language")  # the page's language is the browser's, unless chosen


def error_page(message: str, status: int) -> Response:
    """A refused or failed request on the public pages: one line in the reader's language."""
    newsroom = current_app.config.get("NEWSROOM_NAME", "Cek Fakta")
    response = Response(render_template("tipline/error.html", message=message, newsroom=newsroom),
                        status=status)
    _page_headers(response)
    return response
