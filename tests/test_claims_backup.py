"""`flask claims backup` and `flask claims restore`: a consistent copy of a live database."""
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select

import claims.db
from claims.models import Claim
from claims.store import library_revision, save_claim
from tests.conftest import add_claims
from app import parts


def rows(prefix, n):
    return [{"id": f"{prefix}-{i}", "title": f"Klaim {prefix} nomor {i}", "claim": f"isi {prefix} {i}",
             "verdict": "HOAKS", "url": f"https://example.org/{prefix}/{i}"} for i in range(n)]


def counts(path):
    with sqlite3.connect(path) as db:
        return (db.execute("SELECT count(*) FROM claims").fetchone()[0],
                db.execute("SELECT revision FROM library_state").fetchone()[0],
                db.execute("SELECT max(revision) FROM claims").fetchone()[0])


@pytest.mark.sqlite_only(reason="SQLite's online backup API, and a restore of its file")
def test_backup_while_writing_then_restore(app, runner, tmp_path):
    add_claims(app, rows("base", 20))
    stop, written = threading.Event(), []

    def writer():
        n = 0
        while not stop.is_set():
            with claims.db.session_scope(app) as session:
                save_claim(session, {**rows("busy", n + 1)[n], "status": "published"})
            written.append(n)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            time.sleep(0.01)
        copy = tmp_path / "backup.db"
        result = runner.invoke(args=["claims", "backup", str(copy)])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    total, revision, newest = counts(copy)
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert total >= 25 and newest == revision  # one commit's state: no claim newer than it
    assert f"backed up {total} claims at library revision {revision}" in result.output

    add_claims(app, [{"id": "after", "title": "Vaksin mengandung microchip", "claim": "vaksin chip",
                      "verdict": "HOAKS", "url": "https://example.org/after"}])
    searcher = parts(app).searcher
    assert searcher.search("vaksin microchip", k=1).matches[0].id == "after"
    restored = runner.invoke(args=["claims", "restore", str(copy), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert restored.output.startswith(f"restored {copy}: {total} published claims at library "
                                      f"revision {revision}\n")
    assert f"index rebuilt at library revision {revision}: snapshot " in restored.output
    with claims.db.session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Claim)) == total
        assert library_revision(session) == revision
        assert session.get(Claim, "after") is None
    parts(app).searcher.sync_once()
    ids = [m.id for m in searcher.search("vaksin microchip", k=5).matches]
    assert "after" not in ids
    assert parts(app).searcher.service.revision == revision


@pytest.mark.sqlite_only(reason="a restore takes a SQLite file")
def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path):
    add_claims(app, rows("keep", 3))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["claims", "restore", str(junk), "--yes"])
    assert result.exit_code == 1 and "not a SQLite database" in result.output
    with claims.db.session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Claim)) == 3


def test_backup_of_a_server_database_says_to_use_its_tools(app, runner, tmp_path):
    from claims.db import BackupUnsupported, _sqlite_file

    if claims.db.get_engine(app).dialect.name == "postgresql":  # the PostgreSQL pass: for real
        copy = tmp_path / "copy.db"
        result = runner.invoke(args=["claims", "backup", str(copy)])
        assert result.exit_code == 1 and "pg_dump" in result.output and not copy.exists()
        copy.write_bytes(b"")
        result = runner.invoke(args=["claims", "restore", str(copy), "--yes"])
        assert result.exit_code == 1 and "pg_restore" in result.output

    class Pg:
        class dialect:
            name = "postgresql"

    try:
        _sqlite_file(Pg)
    except BackupUnsupported as exc:
        assert "pg_dump" in str(exc)
    else:
        raise AssertionError("a PostgreSQL engine was accepted")
