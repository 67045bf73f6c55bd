"""`flask editors …`: the first admin, answering back, and purging reply addresses."""

import click
from flask import current_app
from flask.cli import AppGroup

from claims.db import session_scope

from .auth import AccountError, create_account

editors_cli = AppGroup("editors", help="The editors' workspace: accounts and answering back.")


@editors_cli.command("create-admin")
@click.argument("username")
@click.password_option("--password", prompt="Password (kata sandi)",
                       confirmation_prompt="Repeat (ulangi)")
def create_admin(username, password):
    """Create an admin account; the password is asked twice and never echoed.

    Example: flask --app app editors create-admin redaksi
    """
    try:
        with session_scope() as session:
            create_account(session, username, password, role="admin")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Admin {username!r} created: log in at /editors/.")


@editors_cli.command("send")
def send():
    """Send every pending answer now (what the background worker does every few seconds).

    Example: flask --app app editors send
    """
    from .outbox import run_pass

    report = run_pass(current_app)
    click.echo(f"sent {report['sent']}, failed {report['failed']}, outside 24 h "
               f"{report['skipped_window']}, addresses purged {report['purged']}")


@editors_cli.command("group")
def group():
    """Group the open questions that have no inbox group yet (questions group as they arrive;
    this catches up on those that could not, e.g. logged before an upgrade).

    Example: flask --app app editors group
    """
    from .grouping import catch_up
    from .wiring import wiring

    with session_scope() as session:
        count = catch_up(session, lambda: wiring().searcher.encoder)
    click.echo(f"{count} question(s) grouped.")


@editors_cli.command("purge")
def purge():
    """Delete reply addresses whose 24-hour window has closed.

    Example: flask --app app editors purge
    """
    from tipline.reply_addresses import purge_expired

    with session_scope() as session:
        count = purge_expired(session)
    click.echo(f"{count} expired reply address(es) deleted.")
