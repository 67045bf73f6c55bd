"""Possible same-hoax pairs for the desk: two published fact-checks in different groups, side by side.

The hoax grouping records the pairs as it groups (claims/groups.py ``HoaxPair``): the page only
reads the open ones, most similar first, a page at a time. "Same hoax" joins them (confirmed by
this editor), "Different" closes the pair for good; both are written in the two fact-checks'
history.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from claims.db import get_session
from claims.groups import (PairNotOpen, count_open_pairs, decide_pair, groups_of, numbers_apart,
                          open_pairs)

from .auth import actor, bp

PAGE_SIZE = 30
DECISIONS = {"same": True, "different": False}


@bp.get("/pairs")
def pairs():
    """The pairs waiting for a decision, most similar first."""
    db = get_session()
    total = count_open_pairs(db)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)  # the last one, once cleared
    found = open_pairs(db, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    groups = groups_of(db, [c.id for _, a, b in found for c in (a, b)])
    others = {claim_id: len(group.members) - 1 for claim_id, group in groups.items()}
    rows = [(pair, a, b, numbers_apart(a, b) if pair.numbers_differ else None) for pair, a, b in found]
    return render_template("editors/pairs.html", rows=rows, others=others, total=total, page=page,
                           pages=pages)


@bp.post("/pairs/decide")
def pair_decide():
    """Decide one pair: the same hoax (joined) or different (never listed again)."""
    db = get_session()
    decision = request.form.get("decision", "")
    claim_id, other_id = request.form.get("claim", ""), request.form.get("other", "")
    if decision not in DECISIONS or not claim_id or not other_id:
        abort(400)
    try:
        decide_pair(db, claim_id, other_id, DECISIONS[decision], actor=actor())
        db.commit()
    except PairNotOpen:
        db.rollback()
        flash(_("This pair no longer waits: decided already, or a fact-check was unpublished or joined."),
              "error")
    else:
        flash(_("Joined: one hoax.") if DECISIONS[decision] else _("Marked as different hoaxes."), "ok")
    return redirect(url_for("editors.pairs", page=request.form.get("page", type=int) or None))
