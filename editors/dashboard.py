"""The dashboard: questions per day, share answered, reply time, top groups and fact-checks."""

import statistics
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

from flask import render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from claims.db import get_session
from claims.groups import count_open_pairs
from claims.models import Claim
from tipline.models import RequestLog

from .auth import bp
from .inbox import group_summaries
from .models import InboxMember, OutboxMessage

# A message that asked something (not a greeting, menu or thanks): voice notes, videos and
# pictures not read count too (unanswered), and a picture whose reading never finished.
QUESTIONS = ("match", "choices", "no_match", "error", "media_only", "reading")
PERIODS = (7, 30, 90)
# How a desk answer on WhatsApp went, best first: only a sent one makes its question answered.
SEND_OUTCOMES = {"sent": (0, "sent"), "sending": (1, "waiting"), "pending": (1, "waiting"),
                 "uncertain": (2, "failed"), "failed": (2, "failed"),
                 "skipped_window": (3, "outside_window")}


def _period():
    """The chosen period as (first day, last day), both inclusive, in UTC."""
    today = datetime.now(timezone.utc).date()
    try:
        start, end = date.fromisoformat(request.args["from"]), date.fromisoformat(request.args["to"])
    except (KeyError, ValueError):
        days = request.args.get("days", 30, type=int)
        days = days if days in PERIODS else 30
        start, end = today - timedelta(days=days - 1), today
    if end < start:
        start, end = end, start
    return start, min(end, start + timedelta(days=366))


def stats(db, start: date, end: date) -> dict:
    """Every number the dashboard shows for a period."""
    since = datetime.combine(start, time(), timezone.utc)
    until = datetime.combine(end + timedelta(days=1), time(), timezone.utc)
    rows = db.execute(select(RequestLog.id, RequestLog.created_at, RequestLog.decision, RequestLog.status,
                             RequestLog.elapsed_ms)
                      .where(RequestLog.created_at >= since, RequestLog.created_at < until,
                             RequestLog.decision.in_(QUESTIONS))).all()
    per_day = Counter()
    answered_day = Counter()
    unsent = Counter()
    sends = _desk_sends(db, since, until)
    for request_id, created, decision, status, _ in rows:
        day = created.date()
        per_day[day] += 1
        if status != "answered":
            continue
        outcome = sends.get(request_id, "sent")  # none: answered at once, or on the web page
        if outcome == "sent":  # by the tipline at once, or later by the desk
            answered_day[day] += 1
        else:
            unsent[outcome] += 1
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    total = len(rows)
    answered = sum(answered_day.values())
    top_claims = db.execute(
        select(OutboxMessage.claim_id, Claim.title, func.count())
        .join(Claim, Claim.id == OutboxMessage.claim_id)
        .where(OutboxMessage.status == "sent", OutboxMessage.sent_at >= since,
               OutboxMessage.sent_at < until)
        .group_by(OutboxMessage.claim_id, Claim.title).order_by(func.count().desc()).limit(10)).all()
    top_matched = db.execute(
        select(RequestLog.claim_id, Claim.title, func.count())
        .join(Claim, Claim.id == RequestLog.claim_id)
        .where(RequestLog.created_at >= since, RequestLog.created_at < until,
               RequestLog.decision.in_(("match", "choice")))
        .group_by(RequestLog.claim_id, Claim.title).order_by(func.count().desc()).limit(10)).all()
    rejected = _rejected(db, since, until)
    skipped = db.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == "skipped_window", OutboxMessage.created_at >= since,
        OutboxMessage.created_at < until)) or 0
    return {
        "days": [(d, per_day[d], answered_day[d]) for d in days],
        "max_day": max([per_day[d] for d in days] + [1]),
        "total": total,
        "answered": answered,
        "share": (answered / total) if total else None,
        "unsent": unsent,  # questions the desk answered whose WhatsApp answer did not go (yet)
        "median_ms": statistics.median([r[4] for r in rows]) if rows else None,
        # Open groups only: a linked or dismissed topic needs nothing more from the desk.
        "top_groups": group_summaries(db, status="open", limit=10, since=since, until=until),
        "top_sent": top_claims,
        "top_matched": top_matched,
        "rejected": rejected,
        "skipped": skipped,
    }


def _desk_sends(db, since: datetime, until: datetime) -> dict[int, str]:
    """Give how the desk's WhatsApp answer went for each question of the period it answered:
    sent, waiting, failed (or uncertain) or outside_window.

    The desk sends one answer per sender, to their latest question in the group; their earlier
    questions in the group are answered by that same send. A question answered at once (by the
    search, or from a linked group) has no send of its own and is left out."""
    asked = aliased(RequestLog)
    period = (asked.created_at >= since, asked.created_at < until, asked.status == "answered",
              asked.decision.in_(QUESTIONS))
    own = select(asked.id, OutboxMessage.status).join(OutboxMessage, OutboxMessage.request_id == asked.id)
    later = aliased(RequestLog)
    same_send = (select(asked.id, OutboxMessage.status)
                 .join(InboxMember, InboxMember.request_id == asked.id)
                 .join(OutboxMessage, OutboxMessage.group_id == InboxMember.group_id)
                 .join(later, later.id == OutboxMessage.request_id)
                 .where(asked.channel == "whatsapp", later.sender_hash == asked.sender_hash,
                        later.created_at >= asked.created_at, later.id != asked.id))
    best = {}
    for query in (own, same_send):
        for request_id, status in db.execute(query.where(*period)):
            if status in SEND_OUTCOMES and (request_id not in best or SEND_OUTCOMES[status] < best[request_id]):
                best[request_id] = SEND_OUTCOMES[status]
    return {request_id: outcome for request_id, (_, outcome) in best.items()}


def _rejected(db, since: datetime, until: datetime) -> list[tuple[str, str, int, int]]:
    """Give the fact-checks whose single matches were most often answered "0" (not this one):
    (id, title, matches, rejections), most rejected first."""
    counts = {}
    for decision in ("match", "rejected"):
        rows = db.execute(select(RequestLog.claim_id, func.count())
                          .where(RequestLog.decision == decision, RequestLog.claim_id.is_not(None),
                                 RequestLog.created_at >= since, RequestLog.created_at < until)
                          .group_by(RequestLog.claim_id)).all()
        counts[decision] = dict(rows)
    worst = sorted(counts["rejected"], key=lambda cid: (-counts["rejected"][cid], cid))[:10]
    titles = dict(db.execute(select(Claim.id, Claim.title).where(Claim.id.in_(worst))).all()) if worst else {}
    return [(cid, titles.get(cid, cid), counts["match"].get(cid, 0), counts["rejected"][cid])
            for cid in worst]


@bp.get("/dashboard")
def dashboard():
    """Charts an editor can read at a glance (SVG drawn on the server: no script)."""
    start, end = _period()
    db = get_session()
    return render_template("editors/dashboard.html", s=stats(db, start, end), pairs=count_open_pairs(db),
                           start=start, end=end, periods=PERIODS)
