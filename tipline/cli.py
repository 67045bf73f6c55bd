"""`flask tipline …`: look at the request queue and forget old requests."""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete, select

from claims.db import Base, session_scope

from .models import STATUSES, RateWindow, RequestLog, SenderState, utcnow
from .wiring import wiring

tipline_cli = AppGroup("tipline", help="The tipline's request log.")


@tipline_cli.command("requests")
@click.option("--status", type=click.Choice(STATUSES), default="open", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def list_requests(status, limit):
    """List the latest requests with a status, newest first (default: the open queue).

    Example: flask tipline requests --status open --limit 50
    """
    with session_scope() as session:
        rows = session.scalars(
            select(RequestLog)
            .where(RequestLog.status == status)
            .order_by(RequestLog.created_at.desc(), RequestLog.id.desc())
            .limit(limit)
        ).all()
        for row in rows:
            text = " ".join(row.text.split())
            text = text if len(text) <= 80 else text[:79] + "…"
            click.echo(
                f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M}\t{row.channel}\t{row.decision}\t{text}"
            )
        if not rows:
            click.echo(f"No {status} requests.")


def purge_requests(session, cutoff, hooks=()) -> tuple[int, int]:
    """Delete requests and sender memory older than cutoff, with every row that refers to them.

    Rows of other tables that point at a purged request (reply addresses, inbox membership,
    answers sent back) go in the same transaction, found through their foreign keys so the
    tipline need not know those tables; then each hook tidies up after them (the editors'
    workspace drops inbox groups left empty). Give (requests, senders) deleted.
    """
    doomed = select(RequestLog.id).where(RequestLog.created_at < cutoff).scalar_subquery()
    for table in reversed(Base.metadata.sorted_tables):
        for key in table.foreign_keys:
            if key.column.table is RequestLog.__table__ and table is not RequestLog.__table__:
                session.execute(delete(table).where(key.parent.in_(doomed)))
    requests = session.execute(delete(RequestLog).where(RequestLog.created_at < cutoff)).rowcount
    senders = session.execute(delete(SenderState).where(SenderState.updated_at < cutoff)).rowcount
    stale = int(cutoff.timestamp())
    session.execute(delete(RateWindow).where(RateWindow.window_start < stale))
    for hook in hooks:
        hook(session)
    return requests, senders


@tipline_cli.command("purge")
@click.option(
    "--older-than", "days", type=click.IntRange(min=1), default=None,
    help="Delete requests and sender memory older than this many days "
         "(default: the LOG_RETENTION_DAYS setting).",
)
def purge(days):
    """Forget requests and sender memory older than DAYS days (a retention policy).

    Without --older-than, LOG_RETENTION_DAYS decides; run it daily from cron. Inbox membership,
    reply addresses and answers sent back for the purged requests go with them.

    Example: flask tipline purge --older-than 180
    """
    if days is None:
        days = int(current_app.config.get("LOG_RETENTION_DAYS") or 0)
        if days <= 0:
            raise click.UsageError("LOG_RETENTION_DAYS is 0 (keep for ever): give --older-than")
    cutoff = utcnow() - timedelta(days=days)
    hooks = wiring().after_purge
    with session_scope() as session:
        requests, senders = purge_requests(session, cutoff, hooks)
    click.echo(f"Deleted {requests} requests and {senders} sender records older than {days} days.")
