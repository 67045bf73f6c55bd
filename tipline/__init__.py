"""The tipline: the conversation with the public over WhatsApp and the web chat."""

import os

# The tables join claims.db.Base here, before any app connects: claims creates an empty
# database from Base and claims/migrations/ carries every later change.
from . import models  # noqa: F401
from .cli import tipline_cli
from .fetch import SafeFetcher
from .links import LinkReader
from .media import MediaReader
from .spool import Spool
from .views import bp
from .wiring import KEY, Wiring


def init_app(app, searcher, backlog=None, after_purge=(), desk=None, send=None, chosen_lang=None):
    """Register the tipline's routes and `flask tipline` commands.

    searcher answers messages (index.searcher.Searcher); backlog tells how many wait for a
    worker; after_purge runs in the purge's transaction (other rooms' clean-up); desk
    (wiring.Desk) groups unanswered questions and gives the answers the desk already linked;
    send(to, body) sends a WhatsApp message through Twilio's REST API (the answer to a picture
    read late); chosen_lang() gives the language the person chose with the pages' switch, or
    None (the chat page then asks for replies in it).
    """
    media, links = _readers(app.config)
    app.extensions[KEY] = Wiring(searcher, backlog, list(after_purge), desk, media=media, links=links,
                                 send=send, chosen_lang=chosen_lang or (lambda: None),
                                 spool=Spool(os.path.join(app.instance_path, "spool")))
    app.register_blueprint(bp)
    app.cli.add_command(tipline_cli)


def _readers(config):
    """Make the readers of pictures and links the settings ask for.

    Tests fetch nothing unless they name the local servers they may fetch from (FETCH_ALLOW,
    "host:port" pairs, read only when ENV is testing); outside tests every fetch is checked
    against public addresses (tipline/fetch.py).
    """
    testing = config.get("ENV") == "testing"
    allow = config.get("FETCH_ALLOW") if testing else ()
    if testing and allow is None:
        return None, None
    fetcher = SafeFetcher(timeout=float(config["LINK_TIMEOUT"]), max_bytes=int(config["LINK_MAX_BYTES"]),
                          allow=allow or ())
    media = links = None
    if config.get("READ_IMAGES"):
        media = MediaReader(fetcher, config.get("TWILIO_ACCOUNT_SID") or "",
                            config.get("TWILIO_AUTH_TOKEN") or "", config.get("TWILIO_API_BASE") or "",
                            max_bytes=int(config["IMAGE_MAX_BYTES"]),
                            ocr_timeout=float(config["OCR_TIMEOUT"]))
    if config.get("READ_LINKS"):
        links = LinkReader(fetcher)
    return media, links
