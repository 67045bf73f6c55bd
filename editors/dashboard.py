"""The dashboard: questions per day, share answered, reply time, top groups and fact-checks."""

import statistics
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

from flask import render_template, request
from sqlalchemy import func, select

from claims.db import get_session
from claims.models import Claim
from tipline.models import RequestLog

from .auth import bp
from .inbox import group_summaries
from .models import OutboxMessage

# A message that asked something (not a greeting, menu or thanks): voice notes, videos and
# pictures not read count too (unanswered), and a picture whose reading never finished.
QUESTIONS = ("match", "choices", "no_match", "error", "media_only", "reading")
PERIODS = (7, 30, 90)


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
    rows = db.execute(select(RequestLog.created_at, RequestLog.decision, RequestLog.status,
                             RequestLog.elapsed_ms)
                      .where(RequestLog.created_at >= since, RequestLog.created_at < until,
                             RequestLog.decision.in_(QUESTIONS))).all()
    per_day = Counter()
    answered_day = Counter()
    for created, decision, status, _ in rows:
        day = created.date()
        per_day[day] += 1
        if status == "answered":  # by the tipline at once, or later by the desk
            answered_day[day] += 1
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
        "median_ms": statistics.median([r[3] for r in rows]) if rows else None,
        # Open groups only: a linked or dismissed topic needs nothing more from the desk.
        "top_groups": group_summaries(db, status="open", limit=10, since=since, until=until),
        "top_sent": top_claims,
        "top_matched": top_matched,
        "rejected": rejected,
        "skipped": skipped,
    }


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
    return render_template("editors/dashboard.html", s=stats(get_session(), start, end),
                           start=start, end=end, periods=PERIODS)
