"""The editors' workspace: accounts, the library, the inbox, answering back, the dashboard, and the
pairs of fact-checks that may debunk one hoax."""

from flask import Flask

# The tables join claims.db.Base here, before any app connects: claims creates an empty
# database from Base and claims/migrations/ carries every later change.
from . import models  # noqa: F401
from .grouping import Desk  # noqa: F401  (the app hands it to the tipline)


def init_app(app: Flask, searcher, group_new=None) -> None:
    """Register /editors/…, `flask editors …`, cookie settings and the outbox worker.

    searcher: the tipline's search (index.searcher.Searcher), for suggestions and inbox grouping;
    group_new: groups fact-checks the editors publish by hoax (claims.groups.GroupNew).
    """
    from . import dashboard, inbox, library, pairs  # noqa: F401  (their routes join the blueprint)
    from .auth import ScriptSafeSessions, bp
    from .cli import editors_cli
    from .outbox import OutboxWorker
    from .wiring import KEY, Wiring

    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = ScriptSafeSessions()
    if app.config.get("ENV") == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
    app.register_blueprint(bp)
    app.cli.add_command(editors_cli)
    worker = OutboxWorker(app, float(app.config["OUTBOX_INTERVAL"]),
                          before_pass=lambda: _group_stragglers(app, searcher))
    app.extensions[KEY] = Wiring(searcher, worker, group_new)
    # Any request (a webhook, a search, an editor's page) starts this process's outbox loop, so
    # that after a restart pending answers go out without waiting for an editor to log in.
    # Lazily, not here: `flask` commands create the app too, and a preloaded app is forked after.
    app.before_request(worker.start)


def drop_empty_groups(session) -> None:
    """After `flask tipline purge`: inbox groups whose every request is gone go too."""
    from sqlalchemy import delete, select

    members = select(models.InboxMember.group_id)
    session.execute(delete(models.InboxGroup).where(models.InboxGroup.id.not_in(members)))


def _group_stragglers(app, searcher) -> None:
    """Group some of the questions that arrived without a group (the encoder failed at the time,
    or they came late: tipline/late.py), a few each pass (grouping.CATCH_UP_PER_PASS)."""
    from claims.db import session_scope

    from .grouping import CATCH_UP_PER_PASS, catch_up

    with app.app_context(), session_scope(app) as session:
        catch_up(session, lambda: searcher.encoder, limit=CATCH_UP_PER_PASS)
