"""Migrations (claims/migrate.py, claims/migrations/): start-up, `flask db …`, and upgrading the
databases of earlier releases with nothing lost, on SQLite and on PostgreSQL."""
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text

from app import parts
from claims import migrate
from tests import first_release
from tests.conftest import database_url, make_app, sign
from tests.test_tipline_webhook import message, post, twiml_reply
from tipline.models import RequestLog

pytestmark = pytest.mark.db

# A later revision, for the tests of a database behind the newest one: it follows this code's
# newest revision, whichever that is. On SQLite it copies tipline_requests into a new table, as
# most changes to a SQLite table do: the table three others point at, two of them with ON
# DELETE CASCADE.
TEST_REVISION = "9999"
SECOND_REVISION = '''"""Add a note to each request (a test's revision)."""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("tipline_requests", recreate=recreate) as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("tipline_requests") as batch:
        batch.drop_column("note")
'''


FAILING_REVISION = SECOND_REVISION.replace(
    '        batch.add_column(sa.Column("note", sa.Text(), nullable=True))\n',
    '        batch.add_column(sa.Column("note", sa.Text(), nullable=True))\n'
    '    op.create_table("scratch", sa.Column("id", sa.Integer(), primary_key=True))\n'
    '    raise RuntimeError("the revision broke half-way")\n')


@pytest.fixture
def engines():
    """Engines made by a test, disposed after it."""
    made = []

    def make(url):
        engine = create_engine(url)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


@pytest.fixture
def revisions(tmp_path, monkeypatch):
    """Make this code's revisions and a test's TEST_REVISION after them, in a copy of claims/migrations/."""
    def use(source):
        folder = tmp_path / "migrations"
        shutil.copytree(migrate.MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
        (folder / "versions" / "9999_note.py").write_text(source.replace("{head}", migrate.head()))
        monkeypatch.setattr(migrate, "MIGRATIONS", folder)
        migrate.scripts.cache_clear()

    yield use
    monkeypatch.undo()
    migrate.scripts.cache_clear()


@pytest.fixture
def second_revision(revisions):
    """Make this code's revisions and a test's TEST_REVISION, which adds a column."""
    revisions(SECOND_REVISION)
    return TEST_REVISION


def stamp(engine, revision):
    """Stamp a database as `flask db upgrade` of a release whose newest revision that was."""
    with engine.begin() as connection:
        MigrationContext.configure(connection).stamp(migrate.scripts(), revision)


def make_first_release_database(engine):
    """Make a database as the last release without migrations left it, rows and all."""
    first_release.metadata.create_all(engine)
    with engine.begin() as connection:
        for table in first_release.metadata.sorted_tables:
            rows = first_release.ROWS[table.name]
            if "id" in table.c and table.c.id.autoincrement is True:
                # The release let the database number them (a PostgreSQL sequence moves on).
                rows = [{k: v for k, v in row.items() if k != "id"} for row in rows]
            connection.execute(table.insert(), rows)


def read_first_release_rows(engine):
    """Read every row of the release's tables back, through the release's own schema."""
    found = {}
    with engine.connect() as connection:
        for table in first_release.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            found[table.name] = [dict(row._mapping) for row in
                                 connection.execute(select(table).order_by(*order))]
    return found


def expected_rows():
    """Give the fixture's rows as the release's schema reads them back."""
    expected = {}
    for name, rows in first_release.ROWS.items():
        table = first_release.metadata.tables[name]
        order = [column.name for column in table.primary_key.columns]
        expected[name] = sorted(rows, key=lambda row: [row[column] for column in order])
    return expected


def test_the_revisions_and_create_all_make_the_schema_the_models_describe(tmp_path, engines):
    revised = engines(database_url(tmp_path, "revised"))
    before, after = migrate.upgrade(revised)  # every revision, run on an empty database
    assert before.empty and after.current and after.revision == migrate.head()

    created = engines(database_url(tmp_path, "created"))
    state = migrate.prepare(created)  # what start-up does: create_all, stamped at head
    assert state.current

    for engine in (revised, created):
        with engine.connect() as connection:
            assert migrate.differences(connection) == []
            assert migrate.schema_state(connection).current
            assert connection.scalar(text("SELECT revision FROM library_state WHERE id = 1")) == 0
    shapes = []
    for engine in (revised, created):
        inspector = inspect(engine)
        shapes.append({name: (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)),
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                   for i in inspector.get_indexes(name)),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
            sorted((tuple(f["constrained_columns"]), f["referred_table"],
                    (f.get("options") or {}).get("ondelete")) for f in inspector.get_foreign_keys(name)),
        ) for name in inspector.get_table_names()})
    assert shapes[0] == shapes[1]


def test_a_first_release_database_is_upgraded_with_nothing_lost(tmp_path, engines, caplog):
    url = database_url(tmp_path, "release")
    engine = engines(url)
    make_first_release_database(engine)
    assert read_first_release_rows(engine) == expected_rows()

    with caplog.at_level(logging.ERROR, logger="claims.migrate"):
        app = make_app(tmp_path, DATABASE_URL=url)  # starts, and says what to do once used
        assert "made before migrations" not in caplog.text
        app.test_client().get("/api/search", query_string={"q": "vaksin"})
    try:
        assert "made before migrations" in caplog.text and "flask --app app db upgrade" in caplog.text
        runner = app.test_cli_runner()
        current = runner.invoke(args=["db", "current"])
        assert current.exit_code == 1 and "made before migrations" in current.output

        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"upgraded from no revision (made before migrations) to {migrate.head()}" in result.output
        assert runner.invoke(args=["db", "upgrade"]).output.startswith("Database already at")
        assert runner.invoke(args=["db", "check"]).exit_code == 0

        assert read_first_release_rows(engine) == expected_rows()  # every row, every value

        # And the app works on it: the old claim is found, a webhook is logged and answered.
        parts(app).searcher.sync_once()
        found = app.test_client().get("/api/search", query_string={"q": "vaksin microchip"})
        assert "vaksin-chip" in [m["id"] for m in found.get_json()["matches"]]
        client = app.test_client()
        reply = twiml_reply(post(client, sign, message("vaksin chip", sid="SM" + "9" * 32)))
        assert reply
        with engine.connect() as connection:
            logged = connection.execute(select(RequestLog.id, RequestLog.channel).where(
                RequestLog.message_sid == "SM" + "9" * 32)).all()
            assert len(logged) == 1 and logged[0].id == 3 and logged[0].channel == "whatsapp"
            assert connection.scalar(select(func.count()).select_from(RequestLog)) == 3
    finally:
        parts(app).searcher.stop()


def test_a_database_behind_the_newest_revision_is_upgraded_by_the_cli(
        tmp_path, engines, caplog, second_revision):
    url = database_url(tmp_path, "behind")
    engine = engines(url)
    make_first_release_database(engine)
    stamp(engine, "0001")

    with caplog.at_level(logging.ERROR, logger="claims.migrate"):
        app = make_app(tmp_path, DATABASE_URL=url)
    try:
        runner = app.test_cli_runner()
        # `flask db …` does not open with the advice to run `flask db upgrade`.
        assert runner.invoke(args=["db", "current"]).exit_code == 1
        assert "db upgrade" not in caplog.text
        with caplog.at_level(logging.ERROR, logger="claims.migrate"):
            runner.invoke(args=["claims", "list"])  # any other command, or a request, gets it
        assert f"0001, behind the newest revision {TEST_REVISION}" in caplog.text
        assert "flask --app app db upgrade" in caplog.text
        history = runner.invoke(args=["db", "history"]).output.splitlines()
        assert history[0].startswith(f"{TEST_REVISION} (head): Add a note")
        assert history[-1].startswith("0001 (current): ")

        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0 and f"upgraded from 0001 to {TEST_REVISION} (head)" in result.output
        assert "note" in {c["name"] for c in inspect(engine).get_columns("tipline_requests")}
        # The table was copied on SQLite: its children, cascading ones included, are all there.
        assert read_first_release_rows(engine) == expected_rows()
        if engine.dialect.name == "sqlite":  # off for the copy, and on again for the app
            with app.extensions["factcheck.db"].engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        parts(app).searcher.stop()


@pytest.mark.parametrize("revision", [None, "0001"])  # stamped in the same transaction, or before
def test_a_revision_that_fails_half_way_changes_nothing(tmp_path, engines, revisions, revision):
    revisions(FAILING_REVISION)
    url = database_url(tmp_path, "broken")
    engine = engines(url)
    make_first_release_database(engine)
    if revision:
        stamp(engine, revision)  # so the upgrade starts with DDL, which SQLite's driver would commit
    tables = set(inspect(engine).get_table_names())
    app = make_app(tmp_path, DATABASE_URL=url)
    try:
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 1
        assert "rolled back: RuntimeError: the revision broke half-way" in result.output
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) == tables  # no scratch, no copy left behind
        assert "note" not in {c["name"] for c in inspector.get_columns("tipline_requests")}
        assert read_first_release_rows(engine) == expected_rows()
        with engine.connect() as connection:
            assert migrate.schema_state(connection).revision == revision  # not even the stamp
    finally:
        parts(app).searcher.stop()


def test_init_db_upgrades_too(tmp_path, engines):
    url = database_url(tmp_path, "release")
    make_first_release_database(engines(url))
    app = make_app(tmp_path, DATABASE_URL=url)
    try:
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert f"Database upgraded from before migrations to {migrate.head()}." in result.output
        assert "Database ready: 2 fact-checks in the library." in result.output
    finally:
        parts(app).searcher.stop()


def test_workers_starting_at_once_on_an_empty_database_do_not_race(tmp_path, engines):
    url = database_url(tmp_path, "race")
    workers = [engines(url) for _ in range(4)]
    barrier, states, errors = threading.Barrier(len(workers)), [], []

    def start(engine):
        barrier.wait()
        try:
            states.append(migrate.prepare(engine))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(states) == 4 and all(state.current for state in states)
    with workers[0].connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        assert connection.scalar(text("SELECT count(*) FROM library_state")) == 1
        assert migrate.differences(connection) == []


def test_a_database_from_a_newer_release_is_refused_not_changed(tmp_path, engines, caplog):
    url = database_url(tmp_path, "newer")
    engine = engines(url)
    migrate.prepare(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with caplog.at_level(logging.ERROR, logger="claims.migrate"):
        app = make_app(tmp_path, DATABASE_URL=url)
        app.test_client().get("/api/search", query_string={"q": "vaksin"})
    try:
        assert "9999, a revision this code does not know" in caplog.text
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 1 and "does not know" in result.output
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "9999"
    finally:
        parts(app).searcher.stop()


def test_db_commands_on_an_up_to_date_database(app, runner):
    assert runner.invoke(args=["db", "current"]).output == f"{migrate.head()} (head)\n"
    history = runner.invoke(args=["db", "history"]).output
    assert history.startswith(f"{migrate.head()} (head, current): ")
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0 and "matches the models" in check.output
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0 and upgrade.output == f"Database already at {migrate.head()} (head).\n"
    for command in ("upgrade", "current", "history", "check"):
        assert "Example:" in runner.invoke(args=["db", command, "--help"]).output


def test_check_names_a_model_change_without_a_revision(app, runner):
    with app.extensions["factcheck.db"].engine.begin() as connection:
        connection.execute(text("CREATE INDEX ix_by_hand ON claims (title)"))
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 1 and "ix_by_hand" in check.output and "1 difference" in check.output



def test_flask_db_upgrade_does_not_open_with_the_advice_to_run_it(tmp_path, engines):
    url = database_url(tmp_path, "cli")
    engine = engines(url)
    make_first_release_database(engine)
    env = {**os.environ, "FACTCHECK_ENV": "testing", "FACTCHECK_DATABASE_URL": url,
           "FACTCHECK_SECRET_KEY": "k" * 32, "FACTCHECK_SENDER_HASH_KEY": "h" * 32,
           "FACTCHECK_TWILIO_AUTH_TOKEN": "t" * 32}
    factory = f"app:create_app(instance_path={str(tmp_path / 'instance')!r})"
    done = subprocess.run([sys.executable, "-m", "flask", "--app", factory, "db", "upgrade"],
                          cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"upgraded from no revision (made before migrations) to {migrate.head()}" in done.stdout
    assert "db upgrade`" not in done.stdout + done.stderr  # the start-up advice


def test_the_review_pairs_revision_goes_down_and_up_again(tmp_path, engines):
    from alembic import command

    engine = engines(database_url(tmp_path, "pairs"))
    migrate.upgrade(engine)
    now = "2026-12-03 12:00:00"
    with engine.begin() as connection:
        for claim_id in ("a", "b"):
            connection.execute(text(
                "INSERT INTO claims (id, title, claim, verdict, verdict_raw, summary, lang, tags, publisher, "
                "status, created_at, updated_at, revision) VALUES (:id, 't', 'c', 'false', '', '', 'id', '[]', "
                "'', 'published', :now, :now, 1)"), {"id": claim_id, "now": now})
        connection.execute(text(
            "INSERT INTO hoax_pairs (claim_id, other_id, similarity, numbers_differ, status, created_at) "
            "VALUES ('a', 'b', 0.93, false, 'open', :now)"), {"now": now})
    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "0006")
    assert "hoax_pairs" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert migrate.schema_state(connection).revision == "0006"
        assert connection.scalar(text("SELECT count(*) FROM claims")) == 2  # the library stays
    before, after = migrate.upgrade(engine)
    assert before.revision == "0006" and after.current
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM hoax_pairs")) == 0
        assert migrate.differences(connection) == []
