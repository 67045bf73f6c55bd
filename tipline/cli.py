"""`flask tipline …`: look at the request queue and forget old requests."""

from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import delete, select

from claims.db import session_scope

from .models import STATUSES, RequestLog, SenderState, utcnow

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


@tipline_cli.command("purge")
@click.option(
    "--older-than", "days", type=click.IntRange(min=1), required=True,
    help="Delete requests and sender memory older than this many days.",
)
def purge(days):
    """Forget requests and sender memory older than DAYS days (a retention policy).

    Example: flask tipline purge --older-than 180
    """
    cutoff = utcnow() - timedelta(days=days)
    with session_scope() as session:
        requests = session.execute(delete(RequestLog).where(RequestLog.created_at < cutoff))
        senders = session.execute(delete(SenderState).where(SenderState.updated_at < cutoff))
        click.echo(
            f"Deleted {requests.rowcount} requests and {senders.rowcount} sender records "
            f"older than {days} days."
        )
