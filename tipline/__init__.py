"""The tipline: the conversation with the public over WhatsApp and the web chat."""

# The tables join claims.db.Base here, before any app connects: claims creates an empty
# database from Base and claims/migrations/ carries every later change.
from . import models  # noqa: F401
from .cli import tipline_cli
from .views import bp
from .wiring import KEY, Wiring


def init_app(app, searcher, backlog=None, after_purge=(), desk=None):
    """Register the tipline's routes and `flask tipline` commands.

    searcher answers messages (index.searcher.Searcher); backlog tells how many wait for a
    worker; after_purge runs in the purge's transaction (other rooms' clean-up); desk
    (wiring.Desk) groups unanswered questions and gives the answers the desk already linked.
    """
    app.extensions[KEY] = Wiring(searcher, backlog, list(after_purge), desk)
    app.register_blueprint(bp)
    app.cli.add_command(tipline_cli)
