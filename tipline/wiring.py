"""What the tipline is handed by the app (the search door, the socket backlog, purge hooks) and
makes for itself (the readers of pictures and links)."""
from dataclasses import dataclass, field

from flask import current_app

from index.searcher import Searcher

from .backlog import Backlog
from .links import LinkReader
from .media import MediaReader, ReadingQueue

KEY = "tipline"


@dataclass
class Wiring:
    """The objects the tipline's views, conversation and commands work with."""

    searcher: Searcher
    backlog: Backlog | None = None  # how many messages wait for a worker
    after_purge: list = field(default_factory=list)  # callables(session) run after `tipline purge`
    media: MediaReader | None = None  # fetches and reads pictures (None: pictures are not read)
    links: LinkReader | None = None  # reads the pages of unknown links (None: searched as words)
    reading: ReadingQueue = field(default_factory=ReadingQueue)  # pictures read on their own thread
    send: object = None  # callable(to, body) -> SID: a WhatsApp message through Twilio's REST API


def wiring() -> Wiring:
    """Give the current app's tipline wiring."""
    return current_app.extensions[KEY]
