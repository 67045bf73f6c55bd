"""The schema's revisions (Alembic, in claims/migrations/): the start-up check and `flask db …`.

A database is in one of four states: empty (start-up creates it at the newest revision), at
the newest revision, behind it (`flask db upgrade` runs what is missing), or made before
migrations existed: the first release's tables without Alembic's version table, which
`flask db upgrade` stamps with revision FIRST and then brings up to date.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import click
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask.cli import AppGroup
from sqlalchemy import Connection, Engine, MetaData, event, inspect, text

from claims.db import Base, get_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
FIRST = "0001"  # the schema of the release that had no migrations
# Any fixed number: the key of the PostgreSQL advisory lock that serialises schema changes.
LOCK_KEY = 0x43454B46  # "CEKF"
UPGRADE_HINT = "run `flask --app app db upgrade` (back the database up first)"


class SchemaError(RuntimeError):
    """The database's schema is not one this code can bring up to date."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: its revision (None: unversioned) and the newest one known."""

    revision: str | None
    head: str
    tables: frozenset[str]  # the project's tables it holds

    @property
    def empty(self) -> bool:
        """Say whether the database holds none of the project's tables."""
        return self.revision is None and not self.tables

    @property
    def current(self) -> bool:
        """Say whether the database is at the newest revision."""
        return self.revision == self.head

    def describe(self) -> str:
        """Say in a line where the database stands."""
        if self.empty:
            return "empty: starting the app creates it at the newest revision"
        if self.revision is None:
            return f"made before migrations (no revision): {UPGRADE_HINT}"
        if self.current:
            return f"{self.revision} (head)"
        if not _known(self.revision):
            return (f"{self.revision}, a revision this code does not know (a newer release "
                    f"migrated it?); this code's newest is {self.head}")
        return f"{self.revision}, behind the newest revision {self.head}: {UPGRADE_HINT}"


def alembic_config(connection: Connection | None = None) -> Config:
    """Give Alembic's configuration, built in code: the revisions folder and a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def scripts() -> ScriptDirectory:
    """Give the revisions (read once per process: they do not change while it runs)."""
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """Give the newest revision."""
    return scripts().get_current_head()


def _known(revision: str) -> bool:
    try:
        return scripts().get_revision(revision) is not None
    except CommandError:
        return False


def schema_state(connection: Connection) -> SchemaState:
    """Read where the database stands."""
    outside = not connection.in_transaction()
    with _quiet():
        revision = MigrationContext.configure(connection).get_current_revision()
    tables = frozenset(inspect(connection).get_table_names()) & frozenset(Base.metadata.tables)
    if outside:
        connection.rollback()  # end the read, so that callers can begin their own transaction
    return SchemaState(revision, head(), tables)


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep Alembic from logging its set-up lines at every start of every worker."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """Give a connection while holding the lock that lets one process at a time change the schema.

    Several gunicorn workers start at once: without it, two could both find an empty database
    and both create it. PostgreSQL has advisory locks; SQLite gets a lock file beside it.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            connection.commit()
            try:
                yield connection
            finally:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                connection.commit()
            return
        database = engine.url.database or ""
        if engine.dialect.name != "sqlite" or database in ("", ":memory:") or \
                database.startswith("file:"):
            yield connection  # one process, or a database we know no lock for
            return
        try:
            lock = open(f"{os.path.abspath(database)}-migrate.lock", "a")
        except OSError:  # a read-only folder: no one can change the schema there anyway
            yield connection
            return
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield connection
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def prepare(engine: Engine, metadata: MetaData = Base.metadata) -> SchemaState:
    """At start-up: create an empty database at the newest revision; give where it stands.

    Never changes a database that holds data: that is `flask db upgrade`'s job, run on purpose
    (warn_when_used says so).
    """
    with schema_lock(engine) as connection:
        state = schema_state(connection)
        if state.empty or state.current:
            with connection.begin(), _quiet():
                empty = state.empty
                if empty:
                    # Faster than running every revision, and the same schema
                    # (tests/test_migrations.py). The stamp goes first: should the tables not
                    # all be made, the next start finds the database at head and fills them in.
                    MigrationContext.configure(connection).stamp(scripts(), "head")
                    state = SchemaState(state.head, state.head, state.tables)
                # At head, checks first: creates only the tables of a room whose models came late.
                metadata.create_all(connection, checkfirst=not empty)
            _ensure_library_state(connection)
        return state


def warn_when_used(engine: Engine, state: SchemaState) -> None:
    """Log once that the database needs `flask db upgrade`, when the process first uses it; never
    in `flask db …` itself, which is there to fix it (and would open with the advice)."""
    said = []

    def warn(*_connection) -> None:
        if said or _in_db_command():
            return
        said.append(True)
        log.error("The database is %s", state.describe())

    event.listen(engine, "checkout", warn)


def _in_db_command() -> bool:
    """Say whether the running click command is one of `flask db …`."""
    context = click.get_current_context(silent=True)
    while context is not None:
        if context.command is db_cli:
            return True
        context = context.parent
    return False


def _ensure_library_state(connection: Connection) -> None:
    """Create the library's revision counter row if it is missing."""
    from claims.models import LibraryState

    table = LibraryState.__table__
    with connection.begin():
        if connection.execute(table.select().where(table.c.id == 1)).first() is None:
            connection.execute(table.insert().values(id=1, revision=0))


def upgrade(engine: Engine, target: str = "head") -> tuple[SchemaState, SchemaState]:
    """Bring the database to a revision, all or nothing; give where it stood before and after.

    A database made before migrations is stamped FIRST, then upgraded: its tables are the first
    revision's. On SQLite the driver's own transaction handling is set aside for the upgrade,
    so that the DDL is inside the transaction too, and the foreign keys are off while revisions
    copy tables (dropping the old table would fire its cascades), then checked before commit.
    """
    with schema_lock(engine) as connection:
        before = schema_state(connection)
        if before.revision is not None and not _known(before.revision):
            raise SchemaError(f"the database is at {before.describe()}")
        with _transactional_ddl(connection):
            with connection.begin():
                if connection.dialect.name == "sqlite":
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                if before.revision is None and before.tables:
                    MigrationContext.configure(connection).stamp(scripts(), FIRST)
                command.upgrade(alembic_config(connection), target)
                if connection.dialect.name == "sqlite" and (broken := connection.exec_driver_sql(
                        "PRAGMA foreign_key_check").fetchall()):
                    raise SchemaError(f"the upgrade would leave rows whose parent is gone "
                                      f"(table, row, parent): {broken[:5]}; it was rolled back")
        after = schema_state(connection)
        if after.current:
            _ensure_library_state(connection)
        return before, after


@contextmanager
def _transactional_ddl(connection: Connection) -> Iterator[None]:
    """On SQLite, let the caller's BEGIN cover DDL, with the foreign keys off; elsewhere, nothing.

    Python's sqlite3 opens transactions by itself, and only before INSERT, UPDATE and DELETE:
    a CREATE or DROP before the first of those would commit on its own.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    isolation = driver.isolation_level
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
    connection.commit()
    driver.isolation_level = None  # the driver stops opening transactions: BEGIN is ours
    try:
        yield
    finally:
        driver.isolation_level = isolation
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def differences(connection: Connection, metadata: MetaData = Base.metadata) -> list:
    """Give how the database's schema differs from the models (Alembic's autogenerate diff)."""
    with _quiet():
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        found = compare_metadata(context, metadata)
    return [diff for diff in found
            if not (diff[0] == "remove_table" and diff[1].name == "alembic_version")]


db_cli = AppGroup("db", help="Keep the database's schema up to date (migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision):
    """Bring the database up to date: run the revisions it lacks.

    A database made before migrations existed is recognised and stamped first; an up-to-date
    database is left alone, so this is safe to run at every deployment. Back the database up
    before upgrading one that holds data.

    \b
    Example:
      flask --app app db upgrade
    """
    try:
        before, after = upgrade(get_engine(), revision)
    except (SchemaError, CommandError) as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        log.exception("the upgrade failed")
        raise click.ClickException(f"the upgrade failed and was rolled back: "
                                   f"{type(exc).__name__}: {exc}") from None
    if before.revision == after.revision:
        click.echo(f"Database already at {after.revision}" + (" (head)." if after.current else "."))
    else:
        start = "an empty database" if before.empty else before.revision or "no revision (made before migrations)"
        click.echo(f"Database upgraded from {start} to {after.revision}"
                   + (" (head)." if after.current else "."))


@db_cli.command("current")
def current_command():
    """Show the database's revision, and whether it is the newest.

    Exits with status 1 when the database needs `flask db upgrade`.

    \b
    Example:
      flask --app app db current
    """
    with get_engine().connect() as connection:
        state = schema_state(connection)
    click.echo(state.describe())
    if not state.current:
        raise SystemExit(1)


@db_cli.command("history")
def history_command():
    """List the revisions, newest first, marking the database's own.

    \b
    Example:
      flask --app app db history
    """
    with get_engine().connect() as connection:
        state = schema_state(connection)
    for script in scripts().walk_revisions():
        marks = [mark for mark, on in (("head", script.revision == state.head),
                                       ("current", script.revision == state.revision)) if on]
        suffix = f" ({', '.join(marks)})" if marks else ""
        click.echo(f"{script.revision}{suffix}: {script.doc}")


@db_cli.command("check")
def check_command():
    """Check that the database's schema is what the models describe.

    Exits with status 1 and lists the differences otherwise: a model changed without a
    revision in claims/migrations/versions/, or a database changed by hand.

    \b
    Example:
      flask --app app db check
    """
    with get_engine().connect() as connection:
        found = differences(connection)
    if found:
        for diff in found:
            click.echo(f"  {diff}")
        raise click.ClickException(f"{len(found)} difference(s) between the models and the database")
    click.echo("The database's schema matches the models.")
