"""What the editors' workspace is handed by the app, and the outbox worker it runs."""
from dataclasses import dataclass

from claims.groups import GroupNew

from flask import current_app

from index.searcher import Searcher

from .outbox import OutboxWorker

KEY = "editors"


@dataclass(frozen=True)
class Wiring:
    """The objects the editors' pages and commands work with."""

    searcher: Searcher  # the tipline's own search: suggestions, and the encoder that groups the inbox
    outbox: OutboxWorker  # this process's answering-back loop
    group_new: GroupNew | None = None  # groups newly published fact-checks by hoax (claims/groups.py)


def wiring() -> Wiring:
    """Give the current app's editors' wiring."""
    return current_app.extensions[KEY]
