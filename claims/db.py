"""Database wiring: the declarative base, the engine per app, sessions per request or per job."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

EXTENSION_KEY = "factcheck.db"
_SESSION_KEY = "factcheck_db_session"


class Base(DeclarativeBase):
    """Declarative base shared by every table in the project."""


@dataclass
class Database:
    """Per-app database handles, kept in ``app.extensions["factcheck.db"]``."""

    engine: Engine
    sessionmaker: sessionmaker[Session]


def default_database_url(app: Flask) -> str:
    """Return the embedded default: a SQLite file in the instance folder."""
    return f"sqlite:///{os.path.join(app.instance_path, 'factcheck.db')}"


SYNCHRONOUS = ("FULL", "NORMAL")  # what SQLITE_SYNCHRONOUS may be (app.SETTINGS)


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 10,
                synchronous: str = "FULL") -> Engine:
    """Create an engine; SQLite gets WAL, `synchronous`, foreign keys and a 30 s busy timeout.

    A server's connections are pooled (pool_size kept, max_overflow more at a peak) and tested
    before use, so that a restarted server costs a reconnection, not an error.
    """
    synchronous = str(synchronous).upper()
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS)}, not {synchronous!r}")
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        # One shared connection, otherwise every pooled connection sees its own empty database.
        engine = create_engine(url, poolclass=StaticPool,
                               connect_args={"check_same_thread": False, "timeout": 30})
    else:
        directory = os.path.dirname(os.path.abspath(database))
        os.makedirs(directory, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection, _record):  # noqa: ANN001 - DB-API objects
        """Let gunicorn workers and the CLI share the file: WAL readers never block writers."""
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL by default, not NORMAL: a reply is sent once its log line is committed, and the
        # request log may lose nothing acknowledged. In WAL, NORMAL syncs only at checkpoints, so
        # a power cut (not a killed process: that loses nothing either way) loses the last
        # commits; FULL syncs the WAL at every commit. That costs one fsync per commit, so one per
        # message (the conversation writes each message in a single transaction); its price on
        # this machine's disk is in BENCHMARKS.md (bench/webhook.py). NORMAL is for a disk with a
        # battery-backed cache or whoever accepts that loss (SQLITE_SYNCHRONOUS).
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def connect(app: Flask) -> Database:
    """Connect the app to its database: the engine, the schema, a session per app context.

    An empty database is created at the newest revision; one that is behind is left as it is,
    with an error in the log naming `flask db upgrade` when it is first used (claims/migrate.py):
    that command itself needs the app to start.
    """
    from claims import groups, migrate, models  # noqa: F401 - they register the library's tables

    url = app.config.get("DATABASE_URL") or default_database_url(app)
    engine = make_engine(url, int(app.config.get("DATABASE_POOL_SIZE", 5)),
                         int(app.config.get("DATABASE_POOL_OVERFLOW", 10)),
                         app.config.get("SQLITE_SYNCHRONOUS") or "FULL")
    try:
        state = migrate.prepare(engine)
    except OperationalError as exc:
        # A server down (restarting, failing over) must not stop a gunicorn worker from starting:
        # gunicorn would take the whole node down with it. Requests fail until it is back.
        log.error("cannot reach the database, starting without it: %s", str(exc.orig).strip())
    else:
        if not (state.empty or state.current):
            migrate.warn_when_used(engine, state)
    database = Database(engine, sessionmaker(engine, expire_on_commit=False))
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(close_session)
    return database


def get_database(app: Flask | None = None) -> Database:
    """Return the Database of an app (the current one by default)."""
    app = app or current_app
    try:
        return app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("claims.init_app(app) has not been called for this app") from None


def get_engine(app: Flask | None = None) -> Engine:
    """Return the engine of an app (the current one by default)."""
    return get_database(app).engine


def get_session() -> Session:
    """Return the session of the current app context, opening it on first use."""
    if _SESSION_KEY not in g:
        setattr(g, _SESSION_KEY, get_database().sessionmaker())
    return getattr(g, _SESSION_KEY)


def close_session(_exc: BaseException | None = None) -> None:
    """Close the app context's session; anything not committed is rolled back."""
    session = g.pop(_SESSION_KEY, None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """Give a fresh session that commits on success and rolls back on error (threads, CLI)."""
    factory = get_database(app).sessionmaker
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class BackupUnsupported(RuntimeError):
    """The database is not a SQLite file: use the database's own tools."""


def _sqlite_file(engine: Engine) -> str:
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        raise BackupUnsupported(
            f"{engine.dialect.name} database: back it up with its own tools "
            "(PostgreSQL: pg_dump -Fc, restore with pg_restore --clean), then `flask index "
            "rebuild` after a restore.")
    return engine.url.database


def backup_database(engine: Engine, path: str | os.PathLike) -> None:
    """Copy a live SQLite database to path, consistently, while others go on writing.

    SQLite's online backup API copies every page in one step under a read transaction: in WAL
    mode writers are not blocked, and the copy is the database as of one commit. The copy is
    written beside the target and renamed into place, so a failed backup leaves no half file.
    """
    import sqlite3

    _sqlite_file(engine)
    target = os.path.abspath(path)
    tmp = f"{target}.tmp-{os.getpid()}"
    source = engine.raw_connection()
    try:
        copy = sqlite3.connect(tmp)
        try:
            source.driver_connection.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise RuntimeError("the copy failed SQLite's integrity check")
        finally:
            copy.close()
        os.replace(tmp, target)
    finally:
        source.close()
        if os.path.exists(tmp):
            os.remove(tmp)


def restore_database(engine: Engine, path: str | os.PathLike) -> None:
    """Replace the live SQLite database's content with a backup, in one transaction.

    Other processes may stay connected: they see the old content or the restored one.
    """
    import sqlite3

    _sqlite_file(engine)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no backup at {path}")
    backup = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
    try:
        try:
            check = backup.execute("PRAGMA integrity_check").fetchone()[0]
            has_library = backup.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='library_state'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{path} is not a SQLite database: {exc}") from None
        if check != "ok" or not has_library:
            raise ValueError(f"{path} is not an intact backup of this tipline's database")
        live = engine.raw_connection()
        try:
            backup.backup(live.driver_connection, pages=-1)
        finally:
            live.close()
    finally:
        backup.close()
