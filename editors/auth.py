"""Logging in and out, sessions, CSRF, the failed-login slow-down, and managing accounts."""

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import wraps

from flask import (Blueprint, Response, abort, flash, g, has_request_context, jsonify,
                   make_response, redirect, render_template, request, session, url_for)
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from claims.db import get_session
from claims.models import utcnow
from tipline.whatsapp import MAX_CHARS, to_html, wa_len

from .models import ROLES, EditorAccount, LoginFailure
from .words import name_of, problem_reason_shown, verdict_shown, why_shown
from .wiring import wiring

bp = Blueprint("editors", __name__, url_prefix="/editors", template_folder="templates",
               static_folder="static", static_url_path="/static")

PASSWORD_METHOD = "scrypt"
MIN_PASSWORD = 10
FREE_ATTEMPTS = 3  # failures before the first wait
BASE_DELAY = timedelta(seconds=5)  # doubled with every further failure
MAX_DELAY = timedelta(minutes=15)
FORGET_FAILURES = timedelta(hours=24)  # a quiet day resets the counter
PUBLIC_ENDPOINTS = {"editors.login", "editors.static"}
# Never echoed back after a CSRF failure: a secret, and the token that failed.
UNECHOED_FIELDS = {"password", "csrf_token"}
# Compared against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD)


class AccountError(ValueError):
    """An account that cannot be created or changed as asked."""


# --- accounts ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Hash a password for storage (scrypt, salted)."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


def check_new_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD))


def create_account(db, username: str, password: str, role: str = "editor") -> EditorAccount:
    """Create an account; raises AccountError on a taken name, a bad role or a short password."""
    username = (username or "").strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise AccountError(_("Give a username, without spaces."))
    if role not in ROLES:
        raise AccountError(_("The role must be one of: %(roles)s.",
                             roles=", ".join(name_of("role", r) for r in ROLES)))
    check_new_password(password)
    if db.scalar(select(EditorAccount).where(EditorAccount.username == username)):
        raise AccountError(_("The username %(name)s is taken.", name=username))
    account = EditorAccount(username=username, password_hash=hash_password(password), role=role,
                            active=True, session_version=1, created_at=utcnow())
    db.add(account)
    db.flush()
    return account


def _failure_key(username: str, ip: str) -> str:
    return hashlib.sha256(f"{username.lower()}\x00{ip}".encode("utf-8")).hexdigest()


def locked_for(db, username: str, ip: str) -> int:
    """Seconds this username must wait before trying again from this address (0: may try)."""
    row = db.get(LoginFailure, _failure_key(username, ip))
    if row is None or row.locked_until is None:
        return 0
    left = (row.locked_until - utcnow()).total_seconds()
    return max(0, int(left + 0.999))


def record_failure(db, username: str, ip: str) -> None:
    """Count a failed login; past FREE_ATTEMPTS, lock the pair for a doubling delay."""
    key = _failure_key(username, ip)
    now = utcnow()
    row = db.get(LoginFailure, key)
    if row is None or now - row.last_at > FORGET_FAILURES:
        row = db.merge(LoginFailure(key=key, count=0, last_at=now, locked_until=None))
    row.count += 1
    row.last_at = now
    if row.count >= FREE_ATTEMPTS:
        delay = min(BASE_DELAY * (2 ** (row.count - FREE_ATTEMPTS)), MAX_DELAY)
        row.locked_until = now + delay


def clear_failures(db, username: str, ip: str) -> None:
    """Forget failures after a successful login."""
    row = db.get(LoginFailure, _failure_key(username, ip))
    if row is not None:
        db.delete(row)


def authenticate(db, username: str, password: str) -> EditorAccount | None:
    """Return the active account with this username and password, else None."""
    account = db.scalar(select(EditorAccount).where(EditorAccount.username == username))
    if account is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(account.password_hash, password) or not account.active:
        return None
    return account


# --- sessions and CSRF ------------------------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _csrf_ok() -> bool:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    kept = session.get("csrf") or ""
    return bool(kept) and hmac.compare_digest(sent.encode("utf-8"), kept.encode("utf-8"))


# endpoint -> a view that shows its form again with what was submitted (after a CSRF failure)
_AGAIN: dict = {}


def on_csrf_failure(endpoint: str):
    """Register the view that re-renders an endpoint's form with the submitted values and
    the message to submit again (it runs for a logged-in editor only)."""
    def register(view):
        _AGAIN[endpoint] = view
        return view
    return register


def csrf_message() -> str:
    """Why the form came back, and what to do, in the page's language."""
    return _("This form had expired (the session changed or the page was open too long). "
             "What you typed is still here: check it and submit again.")


def _csrf_failed():
    """Answer a POST whose CSRF token is missing or wrong: the form again, nothing done."""
    if request.accept_mimetypes.best == "application/json" or request.headers.get("X-CSRF-Token"):
        return jsonify(error=_("CSRF token missing or wrong: reload the page and try again.")), 400
    again = _AGAIN.get(request.endpoint)
    if again is not None and (current_account() is not None or request.endpoint == "editors.login"):
        return again()
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in UNECHOED_FIELDS]
    return render_template("editors/csrf.html", fields=fields, message=csrf_message(),
                           action=request.path, logged_in=current_account() is not None), 400


class ScriptSafeSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions that a page's background request never writes back unchanged.

    The cookie holds the whole session, and a permanent one is sent again with every response:
    a preview or duplicate check (sent by the page's script, with X-CSRF-Token) answered after a
    save would put back the cookie it was sent with, losing the save's message or bringing
    back one already shown. Such a request sets the cookie only when it changed the session.
    """

    def should_set_cookie(self, app, session) -> bool:
        if has_request_context() and request.headers.get("X-CSRF-Token") and not session.modified:
            return False
        return super().should_set_cookie(app, session)


def current_account() -> EditorAccount | None:
    """The logged-in account of this request, checked against the database, or None."""
    if "account" not in g:
        g.account = None
        account_id = session.get("uid")
        if account_id is not None:
            account = get_session().get(EditorAccount, account_id)
            if account is not None and account.active and \
                    account.session_version == session.get("ver"):
                g.account = account
    return g.account


# Forms that may carry more than MAX_CONTENT_LENGTH, for a logged-in editor only: the claim
# form's pictures (hashed, never kept; several phone photos are megabytes) and an imported
# library (a CSV of a thousand fact-checks passes 256 KB).
LARGE_BODIES = {"editors.claim_save": 25 * 1024 * 1024, "editors.claim_import": 25 * 1024 * 1024}


@bp.before_request
def _guard():
    """Every page needs a login; every POST needs the session's CSRF token."""
    wiring().outbox.start()
    if request.endpoint in LARGE_BODIES and current_account() is not None:
        request.max_content_length = LARGE_BODIES[request.endpoint]  # before the form is read
    if request.method == "POST" and not _csrf_ok():
        return _csrf_failed()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_account() is None:
        session.pop("uid", None)
        return redirect(url_for("editors.login", next=request.full_path))
    return None


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _template_helpers():
    return {"csrf_token": csrf_token, "me": current_account, "max_chars": MAX_CHARS,
            "name_of": name_of, "verdict_shown": verdict_shown, "why_shown": why_shown,
            "problem_reason_shown": problem_reason_shown}


def error_page(message: str, status: int) -> Response:
    """A refused or failed request on an editors' path, in the desk's layout and language.

    Also for requests no editors' view took (a wrong method, an unknown path): the helpers the
    layout needs are handed over here. After a server error the account is not looked up (the
    database may be what failed), so the page shows no menu."""
    helpers = _template_helpers()
    if status >= 500:
        helpers["me"] = lambda: None
    response = make_response(render_template("editors/message.html", message=message, **helpers),
                             status)
    return _headers(response)


@bp.errorhandler(403)
def _forbidden(error):
    return render_template("editors/message.html", message=_("Only an admin can do this.")), 403


@bp.errorhandler(404)
def _not_found(error):
    return render_template("editors/message.html", message=_("There is nothing here: it may have been "
                                                              "deleted, or the link is wrong.")), 404


# WhatsApp text as the sender sees it, rendered as the web chat renders it.
bp.add_app_template_filter(to_html, "whatsapp")
bp.add_app_template_filter(wa_len, "wa_len")


def admin_required(view):
    """Let only admins in; editors get 403."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        account = current_account()
        if account is None or account.role != "admin":
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def actor() -> str:
    """The username recorded as the author of a change."""
    return current_account().username


def _safe_next(target: str | None) -> str:
    # Only a page of this workspace: no other host, no "..", no backslash a browser may read as /.
    if target and target.startswith("/editors/") and ".." not in target and "\\" not in target:
        return target
    return url_for("editors.library")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a success starts a fresh session."""
    error, status = None, 200
    if request.method == "POST":
        db = get_session()
        username = (request.form.get("username") or "").strip()[:80]
        password = request.form.get("password") or ""
        ip = request.remote_addr or "-"
        wait = locked_for(db, username, ip)
        if wait:
            error = _("Too many failed attempts: try again in %(n)d s.", n=wait)
            status = 429
        else:
            account = authenticate(db, username, password)
            if account is None:
                record_failure(db, username, ip)
                db.commit()
                error = _("Wrong username or password.")
                status = 401
            else:
                clear_failures(db, username, ip)
                db.commit()
                lang = session.get("lang")  # the language chosen with the switch carries over
                session.clear()  # a new session: nothing else of the anonymous one carries over
                if lang:
                    session["lang"] = lang
                session.permanent = True
                session["uid"], session["ver"] = account.id, account.session_version
                session["csrf"] = secrets.token_urlsafe(32)
                return redirect(_safe_next(request.args.get("next")))
    return render_template("editors/login.html", error=error,
                           username=request.form.get("username", "")), status


@on_csrf_failure("editors.login")
def _login_again():
    return render_template("editors/login.html", error=csrf_message(),
                           username=(request.form.get("username") or "")[:80]), 400


@bp.post("/logout")
def logout():
    """End the session (the language chosen with the switch stays)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("editors.login"))


# --- account management (admins) --------------------------------------------------------------


@bp.get("/accounts")
@admin_required
def accounts():
    """Every account, with the admin's actions."""
    rows = get_session().scalars(select(EditorAccount).order_by(EditorAccount.username)).all()
    return render_template("editors/accounts.html", accounts=rows, roles=ROLES)


@bp.post("/accounts")
@admin_required
def account_create():
    """Create an account."""
    db = get_session()
    try:
        create_account(db, request.form.get("username", ""), request.form.get("password", ""),
                       request.form.get("role", "editor"))
        db.commit()
        flash(_("Account created."), "ok")
    except AccountError as exc:
        db.rollback()
        flash(str(exc), "error")
    return redirect(url_for("editors.accounts"))


@bp.post("/accounts/<int:account_id>")
@admin_required
def account_update(account_id: int):
    """Deactivate, reactivate, reset the password of, or change the role of an account."""
    db = get_session()
    account = db.get(EditorAccount, account_id) or abort(404)
    action = request.form.get("action")
    me = current_account()
    try:
        if action in ("deactivate", "role") and account.id == me.id:
            raise AccountError(_("You cannot deactivate or demote yourself."))
        if action == "deactivate":
            account.active = False
            account.session_version += 1
        elif action == "activate":
            account.active = True
        elif action == "password":
            password = request.form.get("password", "")
            check_new_password(password)
            account.password_hash = hash_password(password)
            account.session_version += 1
        elif action == "role":
            role = request.form.get("role")
            if role not in ROLES:
                raise AccountError(_("Unknown role."))
            account.role = role
            account.session_version += 1
        else:
            abort(400)
        db.commit()
        flash(_("Account updated."), "ok")
    except AccountError as exc:
        db.rollback()
        flash(str(exc), "error")
    return redirect(url_for("editors.accounts"))
