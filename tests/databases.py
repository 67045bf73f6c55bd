"""Which database the test apps get: a SQLite file each, or a PostgreSQL schema each.

FACTCHECK_TEST_DATABASE_URL names a PostgreSQL database (scripts/test.sh's second pass sets it,
inside scripts/postgres.sh). Kept out of conftest.py, which pytest imports under another name
than the test modules do: the schemas handed out must be counted in one place.
"""
import itertools
import os
import threading
import uuid
import weakref

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool

TEST_DATABASE_URL = os.environ.get("FACTCHECK_TEST_DATABASE_URL", "")
ON_POSTGRESQL = bool(TEST_DATABASE_URL)
# The fixtures that give a test a database: a test using one is marked `db`.
DATABASE_FIXTURES = frozenset({"app", "app_real", "claims_app", "shared_db", "template_db"})
_schemas: dict[str, str] = {}
_numbers = itertools.count(1)
_run = uuid.uuid4().hex[:6]  # keeps this run's schemas apart from an earlier run's
_admin = None


def database_url(directory, name="test"):
    """Give the URL of a test app's database: a SQLite file in directory, or a schema of its own.

    The same directory and name give the same database, so two apps made on one folder share
    it as two processes on one server would.
    """
    if not ON_POSTGRESQL:
        return f"sqlite:///{directory}/{name}.db"
    global _admin
    key = f"{os.path.abspath(directory)}/{name}"
    if key not in _schemas:
        if _admin is None:
            _admin = create_engine(TEST_DATABASE_URL, pool_size=1)
        schema = f"test_{_run}_{next(_numbers)}"
        with _admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        _schemas[key] = schema
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={_schemas[key]}"})
    return url.render_as_string(hide_password=False)


checkouts = []  # (engine's driver module) for each connection the test's own thread took
_engines = weakref.WeakSet()  # every engine that connected, to close its idle connections


@event.listens_for(Pool, "checkout")
def _note_checkout(dbapi_connection, _record, _proxy):
    if threading.current_thread() is threading.main_thread():
        checkouts.append(type(dbapi_connection).__module__)


@event.listens_for(Engine, "engine_connect")
def _note_engine(connection):
    _engines.add(connection.engine)


def close_idle_connections():
    """Close the pooled connections no one holds.

    A test app left to the garbage collector would otherwise close its PostgreSQL connections
    there, which psycopg warns about (and filterwarnings makes an error).
    """
    for engine in list(_engines):
        engine.dispose()
