"""One answer per hoax: the search's matches turned into fact-checks to offer, one per hoax group.

The search (index/) knows nothing of hoax groups (claims/groups.py); here its ranking meets
them. A list never offers two fact-checks of one group: the best-ranked member stands for its
group, and the next groups fill the list. A single match shows its group's best member
(claims.groups.best_member), but only among fact-checks an editor confirmed in the group: an
automatic grouping can be wrong, and swapping a confident answer on its word could turn a right
answer into a wrong one, while collapsing a list only shortens it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from claims.groups import best_member, confirmed_ids, group_ids, published_groups
from claims.models import Claim
from claims.store import load_published
from index import Match

# Candidates asked of the search per fact-check shown, so that groups collapsed away leave
# enough distinct ones to fill the list.
CANDIDATES_PER_SHOWN = 3


@dataclass(frozen=True)
class Found:
    """A fact-check to offer: the search's match, its claim, and its group's other published ones."""

    match: Match
    claim: Claim
    others: tuple[Claim, ...] = ()


def candidates(k: int) -> int:
    """Give how many matches to ask the search for when k fact-checks are to be shown."""
    return k * CANDIDATES_PER_SHOWN


def collapse(session: Session, matches: Sequence[Match], k: int) -> list[Found]:
    """Give at most k published fact-checks for ranked matches, one per hoax group, in rank order."""
    claims = {c.id: c for c in load_published(session, [m.id for m in matches])}
    ranked = [(m, claims[m.id]) for m in matches if m.id in claims]
    ids = [claim.id for _, claim in ranked]
    groups, members = group_ids(session, ids), published_groups(session, ids)
    seen: set = set()
    found: list[Found] = []
    for match, claim in ranked:
        key = groups.get(claim.id, claim.id)  # a claim never grouped is a group of its own
        if key in seen:
            continue
        seen.add(key)
        others = tuple(c for c in members.get(claim.id, ()) if c.id != claim.id)
        found.append(Found(match, claim, others))
        if len(found) == k:
            break
    return found


def answer(session: Session, found: Found) -> Claim:
    """Give the fact-check a single match shows: its confirmed group's best member."""
    if not found.others:
        return found.claim
    confirmed = confirmed_ids(session, [found.claim.id, *(c.id for c in found.others)])
    if found.claim.id not in confirmed:
        return found.claim
    return best_member([found.claim, *(c for c in found.others if c.id in confirmed)])
