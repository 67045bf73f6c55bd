"""One answer per hoax: the search's matches turned into fact-checks to offer, one per hoax group.

The search (index/) knows nothing of hoax groups (claims/groups.py); here its ranking meets
them. A list never offers two fact-checks of one group: the best-ranked member stands for its
group, and the next groups fill the list. A single match shows its group's best member
(claims.groups.best_member), but only among fact-checks an editor confirmed in the group: an
automatic grouping can be wrong, and swapping a confident answer on its word could turn a right
answer into a wrong one, while collapsing a list only shortens it.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from claims.groups import best_member, confirmed_ids, groups_of
from claims.store import PublishedClaim, read_published
from index import Match

# Candidates asked of the search per fact-check shown, so that groups collapsed away leave
# enough distinct ones to fill the list.
CANDIDATES_PER_SHOWN = 3

# Gives the published claims among some ids, by id (claims.store.read_published, or a process's
# copy of them: tipline/shown.py).
Load = Callable[[Iterable[str]], dict[str, PublishedClaim]]


@dataclass(frozen=True)
class Found:
    """A fact-check to offer: the search's match, its claim, and its group's other published ones.

    confirmed: the ids an editor confirmed in its group, when read with it (None: not read)."""

    match: Match
    claim: PublishedClaim
    others: tuple[PublishedClaim, ...] = ()
    confirmed: frozenset[str] | None = None


def candidates(k: int) -> int:
    """Give how many matches to ask the search for when k fact-checks are to be shown."""
    return k * CANDIDATES_PER_SHOWN


def collapse(session: Session, matches: Sequence[Match], k: int, load: Load | None = None) -> list[Found]:
    """Give at most k published fact-checks for ranked matches, one per hoax group, in rank order.

    Two reads in all: the matches' groups with their members, then the published claims among
    the matches and members (`load`, by default from the database)."""
    groups = groups_of(session, [m.id for m in matches])
    wanted = [m.id for m in matches] + [member for g in groups.values() for member, _ in g.members]
    claims = (load or (lambda ids: read_published(session, ids)))(wanted)
    seen: set = set()
    found: list[Found] = []
    for match in matches:
        claim = claims.get(match.id)
        if claim is None:
            continue
        group = groups.get(claim.id)
        key = group.group_id if group is not None else claim.id  # never grouped: a group of its own
        if key in seen:
            continue
        seen.add(key)
        members = group.members if group is not None else ()
        others = tuple(claims[m] for m, _ in members if m != claim.id and m in claims)
        confirmed = frozenset(m for m, yes in members if yes)
        found.append(Found(match, claim, others, confirmed))
        if len(found) == k:
            break
    return found


def answer(session: Session, found: Found) -> PublishedClaim:
    """Give the fact-check a single match shows: its confirmed group's best member."""
    if not found.others:
        return found.claim
    confirmed = found.confirmed
    if confirmed is None:
        confirmed = confirmed_ids(session, [found.claim.id, *(c.id for c in found.others)])
    if found.claim.id not in confirmed:
        return found.claim
    return best_member([found.claim, *(c for c in found.others if c.id in confirmed)])
