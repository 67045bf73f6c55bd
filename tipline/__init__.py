"""The tipline: the conversation with the public over WhatsApp and the web chat."""

from claims.db import Base

from . import models  # noqa: F401  (the tables must be known to Base before create_all)
from .cli import tipline_cli
from .views import bp
from .wiring import KEY, Wiring


def init_app(app, searcher, backlog=None, after_purge=()):
    """Register the tipline's routes and `flask tipline` commands, and make its tables.

    searcher answers messages (index.searcher.Searcher); backlog tells how many wait for a
    worker; after_purge runs in the purge's transaction (other rooms' clean-up).
    """
    app.extensions[KEY] = Wiring(searcher, backlog, list(after_purge))
    app.register_blueprint(bp)
    app.cli.add_command(tipline_cli)
    database = app.extensions.get("factcheck.db")
    if database is not None:  # create_all is idempotent; this covers a late import
        Base.metadata.create_all(
            database.engine,
            tables=[models.RequestLog.__table__, models.SenderState.__table__,
                    models.ReplyAddress.__table__, models.RateWindow.__table__],
        )
