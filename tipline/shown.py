"""The published fact-checks this process has shown, kept between messages while they are current.

A reply shows a few fact-checks: verdict, title, summary, link. Reading them costs a database
round trip per message, though they change only when an editor changes them. They are kept here
and served while the library is at the revision they were read at and the search index is the
snapshot it was then: the revision is read once per message anyway (the reply's language is
read by the library's words, tipline/conversation.py), and when it moves on only the claims
changed since are forgotten (one query on the revision index). A new index snapshot (a rebuild,
and so a restore from a backup, which rebuilds) or a revision going back forgets everything.
"""
import threading
from collections import OrderedDict
from collections.abc import Iterable

from claims.store import PublishedClaim, changed_ids, read_published

SIZE = 4096  # fact-checks kept per process: a few MB (the summaries are most of it)


class ShownClaims:
    """Published claims by id, as read at one library revision and index snapshot."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._claims: "OrderedDict[str, PublishedClaim]" = OrderedDict()
        self._at: tuple[int, object] | None = None  # (library revision, index snapshot)
        self._lock = threading.Lock()

    def load(self, session, claim_ids: Iterable[str], revision: int, snapshot: object = None
             ) -> dict[str, PublishedClaim]:
        """Give the published claims among these ids, by id, at the library revision given
        (read for this message); those not kept are read and kept."""
        wanted = list(dict.fromkeys(i for i in claim_ids if i))
        with self._lock:
            self._catch_up(session, revision, snapshot)
            found = {i: self._claims[i] for i in wanted if i in self._claims}
        missing = [i for i in wanted if i not in found]
        if not missing:
            return found
        read = read_published(session, missing)
        with self._lock:
            if self._at == (revision, snapshot):  # no other thread moved it on meanwhile
                for claim_id, claim in read.items():
                    self._claims[claim_id] = claim
                    self._claims.move_to_end(claim_id)
                while len(self._claims) > self.size:
                    self._claims.popitem(last=False)
        found.update(read)
        return found

    def _catch_up(self, session, revision: int, snapshot: object) -> None:
        """Bring the kept claims to a revision and snapshot (the caller holds the lock)."""
        if self._at == (revision, snapshot):
            return
        if self._at is not None and self._at[1] == snapshot and revision > self._at[0]:
            for claim_id in changed_ids(session, self._at[0]):
                self._claims.pop(claim_id, None)
        else:  # first use, another snapshot, or a library that went back (a restored backup)
            self._claims.clear()
        self._at = (revision, snapshot)

    def clear(self) -> None:
        """Forget every kept claim."""
        with self._lock:
            self._claims.clear()
            self._at = None
