"""The app factory, its settings, and the index following the library."""
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

import claims.db
from app import SETTINGS, StartupError, create_app, parts
from index.store import FORMAT
from claims.store import set_status
from tests.conftest import add_claims, database_url, make_app

ROWS = [
    {"id": "c-chip", "title": "[HOAKS] Vaksin mengandung microchip pelacak", "claim": "vaksin ada chip",
     "verdict": "HOAKS", "summary": "Tidak ada chip dalam vaksin.", "url": "https://example.org/chip"},
    {"id": "c-bansos", "title": "[PENIPUAN] Tautan daftar bansos", "claim": "daftar bansos di link ini",
     "verdict": "PENIPUAN", "summary": "Tautan itu palsu.", "url": "https://example.org/bansos"},
]


def search_ids(app, text):
    """Give the ids the app's searcher ranks for a text."""
    return [m.id for m in parts(app).searcher.search(text, k=5).matches]


def test_production_refuses_to_start_without_secrets(tmp_path, monkeypatch):
    for setting in SETTINGS:
        monkeypatch.delenv(f"FACTCHECK_{setting.name}", raising=False)
    with pytest.raises(StartupError, match="FACTCHECK_SECRET_KEY.*FACTCHECK_SENDER_HASH_KEY.*FACTCHECK_TWILIO_AUTH_TOKEN"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


@pytest.mark.sqlite_only(reason="SQLite's synchronous pragma")
@pytest.mark.parametrize("value, pragma", [("FULL", 2), ("normal", 1), ("fast", None)])
def test_sqlite_synchronous_is_a_setting_and_a_wrong_one_stops_start_up(tmp_path, value, pragma):
    from sqlalchemy import text

    from tests.conftest import make_app

    if pragma is None:
        with pytest.raises(StartupError, match="FACTCHECK_SQLITE_SYNCHRONOUS must be FULL or NORMAL"):
            make_app(tmp_path, SQLITE_SYNCHRONOUS=value)
        return
    app = make_app(tmp_path, SQLITE_SYNCHRONOUS=value)
    try:
        with app.extensions["factcheck.db"].engine.connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == pragma
    finally:
        parts(app).searcher.stop()
        app.extensions["factcheck.db"].engine.dispose()


@pytest.mark.parametrize("demo_instance, advice", [
    (False, "or FACTCHECK_ENV=demo to try the tipline"),
    (True, "This instance runs the demo: prefix the command with FACTCHECK_ENV=demo."),
])
def test_a_flask_command_without_secrets_says_what_to_set_in_one_line(tmp_path, monkeypatch,
                                                                       demo_instance, advice):
    for setting in SETTINGS:
        monkeypatch.delenv(f"FACTCHECK_{setting.name}", raising=False)
    instance = tmp_path / "instance"
    instance.mkdir()
    if demo_instance:  # what scripts/run.sh leaves behind
        (instance / "demo-secrets.json").write_text("{}")
    cli = FlaskGroup(create_app=lambda: create_app(
        {"DATABASE_URL": f"sqlite:///{instance}/x.db"}, instance_path=str(instance)))
    result = CliRunner().invoke(cli, ["claims", "list"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if "FACTCHECK_SECRET_KEY" in line]
    assert len(errors) == 1 and errors[0].startswith("Error: Missing secret setting(s)")
    assert advice in errors[0]


@pytest.mark.db
def test_demo_generates_secrets_once_and_keeps_them(tmp_path):
    first = make_app(tmp_path, ENV="demo", SECRET_KEY=None, TWILIO_AUTH_TOKEN=None, SENDER_HASH_KEY=None)
    kept = Path(first.instance_path) / "demo-secrets.json"
    second = make_app(tmp_path, ENV="demo", SECRET_KEY=None, TWILIO_AUTH_TOKEN=None, SENDER_HASH_KEY=None)
    assert first.config["SECRET_KEY"] and len(first.config["SECRET_KEY"]) >= 32
    assert second.config["TWILIO_AUTH_TOKEN"] == first.config["TWILIO_AUTH_TOKEN"]
    assert kept.stat().st_mode & 0o077 == 0


@pytest.mark.db
def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("FACTCHECK_SEARCH_K", "5")
    monkeypatch.setenv("FACTCHECK_PUBLIC_URL", "https://cekfakta.example.org")
    app = make_app(tmp_path)
    assert app.config["SEARCH_K"] == 5 and app.config["PUBLIC_URL"] == "https://cekfakta.example.org"


def test_readme_lists_every_setting():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    documented = set(re.findall(r"^\| `FACTCHECK_(\w+)` \|", readme, re.M))
    assert documented == {s.name for s in SETTINGS}


def test_publishing_editing_and_retiring_reach_search(app):
    add_claims(app, ROWS)
    assert search_ids(app, "vaksin chip")[0] == "c-chip"
    add_claims(app, [{**ROWS[0], "title": "[HOAKS] Air kelapa sembuhkan covid", "claim": "air kelapa obat covid"}])
    assert search_ids(app, "air kelapa covid")[0] == "c-chip"
    with claims.db.session_scope(app) as session:
        set_status(session, "c-chip", "retired")
    assert "c-chip" not in search_ids(app, "air kelapa covid")


def test_drafts_are_not_searchable(app):
    add_claims(app, ROWS[:1], status="draft")
    assert search_ids(app, "vaksin chip") == []


@pytest.mark.db
def test_every_worker_follows_the_library_within_two_seconds(tmp_path):
    """Two apps on one database and index folder play two gunicorn workers."""
    first = make_app(tmp_path, SYNC_INTERVAL=0.2)
    second = make_app(tmp_path, SYNC_INTERVAL=0.2)
    try:
        assert search_ids(second, "vaksin chip") == []  # starts its background loop
        published = time.monotonic()
        add_claims(first, ROWS)
        while "c-chip" not in search_ids(second, "vaksin chip"):
            assert time.monotonic() - published < 2, "not searchable in the other worker within 2 s"
            time.sleep(0.05)
    finally:
        for app in (first, second):
            parts(app).searcher.stop()


def test_rebuild_swaps_in_while_the_old_index_answers(app, runner):
    add_claims(app, ROWS)
    result = runner.invoke(args=["index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "2 documents" in result.output and "2 embedded" in result.output
    service = parts(app).searcher.service
    old = service.index
    result = runner.invoke(args=["index", "rebuild", "--full"])
    assert "2 embedded, 0 reused" in result.output
    assert service.index is old  # nothing changes until the worker's sync picks the snapshot
    parts(app).searcher.sync_once()
    assert service.index is not old and search_ids(app, "daftar bansos")[0] == "c-bansos"


def test_index_status_and_query_commands(app, runner):
    assert "flask index rebuild" in runner.invoke(args=["index", "status"]).output
    add_claims(app, ROWS)
    runner.invoke(args=["index", "rebuild"])
    add_claims(app, [{**ROWS[1], "id": "c-new", "url": "https://example.org/new"}])
    status = runner.invoke(args=["index", "status"]).output
    assert "fake-trigram-v1" in status and "1 to add or update" in status and "behind" in status
    query = runner.invoke(args=["index", "query", "vaksin chip"]).output
    assert "Decision:" in query and "c-chip" in query and "Vaksin mengandung microchip" in query


def test_rebuild_with_another_encoder_is_used_by_workers(app, runner):
    add_claims(app, ROWS)
    result = runner.invoke(args=["index", "rebuild", "--encoder", "fake:32"])
    assert result.exit_code == 0, result.output
    parts(app).searcher.sync_once()
    assert parts(app).searcher.service.index.encoder.dim == 32
    assert search_ids(app, "vaksin chip")[0] == "c-chip"
    assert "ENCODER setting is 'fake'" in runner.invoke(args=["index", "status"]).output


def test_init_db_loads_the_demo_library_once(app, runner):
    first = runner.invoke(args=["init-db", "--demo"])
    assert "Loaded the demo library" in first.output
    again = runner.invoke(args=["init-db", "--demo"])
    assert "Loaded" not in again.output and "Database ready" in again.output
    assert search_ids(app, "vaksin chip")[0].startswith("demo-")


def test_a_rebuild_killed_half_way_leaves_the_old_index_answering(app, runner, tmp_path):
    """SIGKILL a real `flask index rebuild` process in the middle of embedding."""
    import os
    import signal
    import subprocess
    import sys

    add_claims(app, ROWS + [{"id": f"c-{i}", "title": f"Klaim nomor {i}", "claim": f"isi klaim {i}"}
                            for i in range(300)])
    assert runner.invoke(args=["index", "rebuild"]).exit_code == 0
    store = parts(app).searcher.service.store
    live = store.current_name()
    env = {**os.environ, **{f"FACTCHECK_{k}": str(app.config[k]) for k in (
        "SECRET_KEY", "SENDER_HASH_KEY", "TWILIO_AUTH_TOKEN", "DATABASE_URL", "INDEX_DIR")},
        "FACTCHECK_ENV": "testing", "FACTCHECK_ENCODER": "fake:64:20"}
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "index", "rebuild", "--full"],
                            cwd=Path(__file__).resolve().parents[1], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    with proc.stdout:
        assert b"Indexing with fake:64:20" in proc.stdout.readline()  # embedding has begun
        time.sleep(1.0)  # well inside the ~6 s of embedding
        assert proc.poll() is None, "the rebuild ended too soon"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert store.current_name() == live
    parts(app).searcher.sync_once()
    assert search_ids(app, "vaksin chip")[0] == "c-chip"


@pytest.mark.parametrize("spec", ["word2vec", "sentence-transformers:/no/such/model/folder"])
def test_rebuild_with_an_unloadable_encoder_is_a_clear_error(app, runner, spec):
    add_claims(app, ROWS)
    result = runner.invoke(args=["index", "rebuild", "--encoder", spec])
    assert result.exit_code == 1 and f"Cannot load encoder {spec!r}" in result.output
    assert parts(app).searcher.service.store.current_name() is None


def test_rebuild_if_needed_skips_an_index_that_follows_the_library(app, runner):
    add_claims(app, ROWS)
    assert "2 embedded" in runner.invoke(args=["index", "rebuild", "--if-needed"]).output
    assert "up to date" in runner.invoke(args=["index", "rebuild", "--if-needed"]).output
    add_claims(app, [{**ROWS[0], "claim": "vaksin ada chip 5g"}])
    assert "1 embedded, 1 reused" in runner.invoke(args=["index", "rebuild", "--if-needed"]).output
    assert "0 reused" in runner.invoke(args=["index", "rebuild", "--if-needed", "--encoder", "fake:32"]).output


def test_rebuild_if_needed_rebuilds_a_snapshot_of_an_older_format(app, runner):
    add_claims(app, ROWS)
    store = parts(app).searcher.service.store
    runner.invoke(args=["index", "rebuild"])
    assert "up to date" in runner.invoke(args=["index", "rebuild", "--if-needed"]).output
    meta = store.snapshots / store.current_name() / "meta.json"
    meta.write_text(meta.read_text().replace(f'"format": {FORMAT}', f'"format": {FORMAT - 1}'))
    output = runner.invoke(args=["index", "rebuild", "--if-needed"]).output
    assert "2 documents" in output and "up to date" not in output
    assert store.meta()["format"] == FORMAT and len(store.load()[1]) == 2


STRONG = "0123456789abcdef0123456789abcdef"


@pytest.mark.db
@pytest.mark.parametrize("name", ["SECRET_KEY", "SENDER_HASH_KEY", "TWILIO_AUTH_TOKEN"])
@pytest.mark.parametrize("weak, why", [
    ("dev", "placeholder"), ("changeme", "placeholder"), ("secret", "placeholder"),
    ("CHANGE_ME", "placeholder"), ("your-secret-key", "placeholder"),
    ("aaaaaaaaaaaaaaaaaaaaaaaa", "placeholder"), ("s3cr3t-but-short", None),
    ("only15charsxxyz", "shorter than 16"),
])
def test_production_refuses_weak_secrets(tmp_path, monkeypatch, name, weak, why):
    for setting in SETTINGS:
        monkeypatch.delenv(f"FACTCHECK_{setting.name}", raising=False)
    config = {"DATABASE_URL": database_url(tmp_path, "x"), "SECRET_KEY": STRONG,
              "SENDER_HASH_KEY": STRONG[::-1], "TWILIO_AUTH_TOKEN": STRONG.upper(), name: weak}
    if why is None:  # 16 characters and not a placeholder: accepted
        app = create_app(config, instance_path=str(tmp_path / "instance"))
        assert app.config[name] == weak
        app.extensions["factcheck.db"].engine.dispose()
        return
    with pytest.raises(StartupError, match=f"FACTCHECK_{name} is (a )?{why}") as refused:
        create_app(config, instance_path=str(tmp_path / "instance"))
    if len(weak) > 8:  # the message names the setting, never its value
        assert weak not in str(refused.value)


@pytest.mark.db
def test_weak_secrets_are_fine_outside_production(tmp_path):
    app = make_app(tmp_path, SECRET_KEY="dev")
    assert app.config["SECRET_KEY"] == "dev"
