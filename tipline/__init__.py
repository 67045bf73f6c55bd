"""The tipline: the conversation with the public over WhatsApp and the web chat."""

from claims.db import Base

from . import models  # noqa: F401  (the tables must be known to Base before create_all)
from .cli import tipline_cli
from .views import bp


def init_app(app):
    """Register the tipline's routes and `flask tipline` commands, and make its tables."""
    app.register_blueprint(bp)
    app.cli.add_command(tipline_cli)
    database = app.extensions.get("factcheck.db")
    if database is not None:  # create_all is idempotent; this covers a late import
        Base.metadata.create_all(
            database.engine,
            tables=[models.RequestLog.__table__, models.SenderState.__table__,
                    models.ReplyAddress.__table__, models.RateWindow.__table__],
        )
