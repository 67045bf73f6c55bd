"""Messages that arrive while the database is down: kept on this node's disk, answered once it is back.

Without the database the tipline can neither search the library's claims nor log the message,
and Twilio does not send a webhook again after a 200. So a WhatsApp message whose answer fails on
a database error is written here (one file each, synced to disk before the webhook answers), the
sender is told the answer follows, and the first webhook answered normally afterwards starts a
thread that answers each kept message as if it had just arrived, logs it, and sends the reply
through Twilio's REST API.

The sender's address is kept encrypted, as reply addresses are (tipline/reply_addresses.py); the
text is kept as the request log keeps it. Several workers share the folder: a file is taken by
renaming it, so one worker answers it; a file taken by a process that died is taken again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

KEPT = ".json"
_TAKEN = re.compile(r"^(?P<name>.+\.json)\.taken-(?P<pid>\d+)$")


def database_down(exc: BaseException) -> bool:
    """Say whether an error is the database's (unreachable, refusing, out of connections)."""
    return isinstance(exc, (DBAPIError, PoolTimeout))


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Spool:
    """A folder of messages kept while the database was down, oldest first."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._state = threading.Lock()
        self._running = False  # a thread answers kept messages
        self._again = False  # asked to look again while it ran
        self._checked, self._found = 0.0, False

    def put(self, record: dict) -> str:
        """Keep one message, on disk before returning; give its file's name."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}{KEPT}"
        partial = self.folder / f".{name}.partial"
        with open(partial, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.rename(partial, self.folder / name)
        _sync_folder(self.folder)
        return name

    def waiting(self, every: float = 1.0) -> bool:
        """Say whether messages wait to be answered (or are being answered). The folder is
        looked at once a second while it was empty, at every call while it was not."""
        now = time.monotonic()
        if not self._found and now - self._checked < every:
            return False
        self._checked = now
        try:
            with os.scandir(self.folder) as entries:
                self._found = any(e.name.endswith(KEPT) or _TAKEN.match(e.name) for e in entries)
        except FileNotFoundError:
            self._found = False
        return self._found

    def take(self) -> list[tuple[Path, dict]]:
        """Take every waiting message for this process (and those of processes that died)."""
        taken = []
        try:
            names = sorted(os.listdir(self.folder))
        except FileNotFoundError:
            return []
        for name in names:
            dead = _TAKEN.match(name)
            if not name.endswith(KEPT) and not (dead and not _alive(int(dead["pid"]))):
                continue
            original = dead["name"] if dead else name
            mine = self.folder / f"{original}.taken-{os.getpid()}"
            try:
                os.rename(self.folder / name, mine)
            except FileNotFoundError:  # another worker took it first
                continue
            try:
                taken.append((mine, json.loads(mine.read_text(encoding="utf-8"))))
            except (OSError, ValueError):
                log.exception("a kept message could not be read: %s", mine.name)
                os.rename(mine, self.folder / f"{original}.unreadable")
        return taken

    def release(self, path: Path) -> None:
        """Give a taken message back, to be answered later."""
        original = _TAKEN.match(path.name)["name"]
        os.rename(path, self.folder / original)

    def fail(self, path: Path) -> None:
        """Set aside a message that could not be answered for another reason than the database
        (kept for a person to look at, never taken again)."""
        original = _TAKEN.match(path.name)["name"]
        os.rename(path, self.folder / f"{original}.failed")

    def done(self, path: Path) -> None:
        """Forget a message that was answered and logged."""
        path.unlink(missing_ok=True)

    def start(self, answer) -> bool:
        """Run answer(spool) on a thread of its own; if one runs already, it runs answer once
        more when done (what it took may not be all there is). Say if a thread started."""
        with self._state:
            self._again = True
            if self._running:
                return False
            self._running = True

        def run():
            while True:
                with self._state:
                    if not self._again:
                        self._running = False
                        return
                    self._again = False
                try:
                    answer(self)
                except Exception:
                    log.exception("tipline could not answer the messages kept while the database was down")

        threading.Thread(target=run, name="spool", daemon=True).start()
        return True
