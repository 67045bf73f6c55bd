"""What the tipline is handed by the app (the search door, the socket backlog, purge hooks) and
makes for itself (the readers of pictures and links)."""
from dataclasses import dataclass, field
from typing import Protocol

from flask import current_app

from index.searcher import Searcher

from .backlog import Backlog
from .late import Outgoing
from .links import LinkReader
from .media import MediaReader, ReadingQueue
from .shown import ShownClaims
from .spool import Spool

KEY = "tipline"


class Desk(Protocol):
    """What the tipline asks of the editors' desk as questions arrive (the app hands one over)."""

    def answer_for(self, session, text: str) -> str | None:
        """Give the published fact-check the desk gave questions like this one, or None."""

    def file(self, session, request_id: int, text: str, answered_with: str | None = None) -> None:
        """Put a request in its inbox group (the linked group whose answer it got, if any)."""

    def answer_of(self, session, request_id: int) -> str | None:
        """Give the published fact-check the desk answered a request with later, or None."""


@dataclass
class Wiring:
    """The objects the tipline's views, conversation and commands work with."""

    searcher: Searcher
    backlog: Backlog | None = None  # how many messages wait for a worker
    after_purge: list = field(default_factory=list)  # callables(session) run after `tipline purge`
    desk: Desk | None = None  # the editors' inbox: grouping, and answers the desk already gave
    media: MediaReader | None = None  # fetches and reads pictures (None: pictures are not read)
    links: LinkReader | None = None  # reads the pages of unknown links (None: searched as words)
    reading: ReadingQueue = field(default_factory=ReadingQueue)  # pictures read on their own thread
    send: object = None  # callable(to, body) -> SID: a WhatsApp message through Twilio's REST API
    chosen_lang: object = None  # callable() -> "id", "en" or None: the language chosen with the switch
    shown: ShownClaims = field(default_factory=ShownClaims)  # the fact-checks replies show, kept
    spool: Spool | None = None  # messages kept while the database is down (None: not kept)
    outgoing: Outgoing = field(default_factory=Outgoing)  # late messages' answers, being sent


def wiring() -> Wiring:
    """Give the current app's tipline wiring."""
    return current_app.extensions[KEY]
