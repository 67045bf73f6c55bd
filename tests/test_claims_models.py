"""The claim model and store: validation, upserts, statuses, history, revisions, SQLite setup."""

import json
import sqlite3
import threading
from datetime import date, timezone

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text

import claims
from claims.db import get_session, session_scope
from claims.errors import ClaimNotFound, IncompleteClaim, InvalidClaim
from claims.models import Claim, ClaimHistory
from claims.store import (
    changes_since, claim_history, count_claims, get_claim, library_revision, list_claims,
    published_claims, save_claim, set_status, upsert_claims,
)
from claims.validation import clean_claim_data, missing_for_publishing
from tests.conftest import database_url


VAKSIN = {"title": "Vaksin disebut mengandung chip pelacak", "claim": "Vaksin berisi chip",
          "verdict": "SALAH", "summary": "Tidak ada chip dalam vaksin.",
          "url": "https://cekfakta.example.org/vaksin-chip", "date": "2025-01-31", "lang": "id",
          "tags": "kesehatan|vaksin", "publisher": "Cek Fakta Contoh"}


def test_save_claim_stores_every_field(session):
    claim = save_claim(session, dict(VAKSIN, id="vaksin-chip"))
    session.commit()
    stored = session.get(Claim, "vaksin-chip")
    assert stored is claim
    assert (stored.title, stored.claim, stored.summary) == (
        VAKSIN["title"], "Vaksin berisi chip", "Tidak ada chip dalam vaksin.")
    assert (stored.verdict, stored.verdict_raw) == ("false", "SALAH")
    assert stored.url == VAKSIN["url"]
    assert stored.published == date(2025, 1, 31)
    assert (stored.lang, stored.tags, stored.publisher) == ("id", ["kesehatan", "vaksin"],
                                                          "Cek Fakta Contoh")
    assert stored.status == "published"
    assert stored.revision == library_revision(session) == 1


def test_timestamps_are_aware_utc_after_a_round_trip_through_sqlite(claims_app, session):
    save_claim(session, dict(VAKSIN, id="a"))
    session.commit()
    with session_scope(claims_app) as other:
        claim = get_claim(other, "a")
        assert claim.created_at.tzinfo == timezone.utc
        assert claim.updated_at.tzinfo == timezone.utc
        assert claim.created_at == claim.updated_at


def test_generated_id_is_a_slug_of_the_title_with_a_suffix(session):
    claim = save_claim(session, {"title": "Foto Banjir Jakarta, 2025!", "claim": "x"})
    slug, suffix = claim.id.rsplit("-", 1)
    assert slug == "foto-banjir-jakarta-2025"
    assert len(suffix) == 6
    other = save_claim(session, {"title": "Foto Banjir Jakarta, 2025!", "claim": "y"})
    assert other.id != claim.id
    long = save_claim(session, {"title": "Beredar pesan berantai tentang pembagian bantuan "
                                         "sosial tunai lewat tautan pendaftaran"})
    slug = long.id.rsplit("-", 1)[0]
    assert slug == "beredar-pesan-berantai-tentang-pembagian-bantuan-sosial"


def test_title_defaults_to_the_claim_text(session):
    claim = save_claim(session, {"claim": "Pesan berantai: " + "sangat panjang " * 30})
    assert claim.title.startswith("Pesan berantai: sangat panjang")
    assert len(claim.title) <= 161 and claim.title.endswith("…")
    assert claim.claim.startswith("Pesan berantai")


def test_update_by_id_changes_only_the_fields_given(session):
    save_claim(session, dict(VAKSIN, id="a"))
    claim = save_claim(session, {"id": "a", "verdict": "Menyesatkan"})
    assert (claim.verdict, claim.verdict_raw) == ("misleading", "Menyesatkan")
    assert claim.title == VAKSIN["title"] and claim.tags == ["kesehatan", "vaksin"]
    assert claim.revision == 2
    assert session.scalar(select(Claim.verdict).where(Claim.id == "a")) == "misleading"


def test_update_by_url_when_no_id_is_given(session):
    first = save_claim(session, VAKSIN)
    second = save_claim(session, {"url": VAKSIN["url"], "summary": "Penjelasan baru."})
    assert second.id == first.id
    assert second.summary == "Penjelasan baru."
    assert session.scalar(select(Claim.id).where(Claim.url == VAKSIN["url"])) == first.id
    assert count_claims(session) == 1


def test_saving_identical_data_does_not_bump_the_revision(session):
    save_claim(session, dict(VAKSIN, id="a"))
    before = library_revision(session)
    claim = save_claim(session, dict(VAKSIN, id="a"))
    assert library_revision(session) == before
    assert claim.revision == before
    assert len(claim_history(session, "a")) == 1


def test_a_url_belongs_to_one_claim(session):
    save_claim(session, dict(VAKSIN, id="a"))
    with pytest.raises(InvalidClaim) as caught:
        save_claim(session, dict(VAKSIN, id="b"))
    assert caught.value.field == "url"
    assert "'a'" in caught.value.message
    assert count_claims(session) == 1


@pytest.mark.parametrize("data, field", [
    ({"title": "", "claim": ""}, "title"),
    ({"summary": "only a summary"}, "title"),
    ({"title": "t", "date": "31/01/2025"}, "date"),
    ({"title": "t", "date": "2025-02-30"}, "date"),
    ({"title": "t", "published": "soon"}, "published"),
    ({"title": "t", "id": "x" * 201}, "id"),
    ({"title": "t", "id": "a\nb"}, "id"),
    ({"title": "t", "url": "ftp://example.org/x"}, "url"),
    ({"title": "t", "url": "javascript:alert(1)"}, "url"),
    ({"title": "t", "url": "example.org/no-scheme"}, "url"),
    ({"title": "t", "url": "https://exa mple.org/"}, "url"),
    ({"title": "t", "verdict": 3}, "verdict"),
    ({"title": "t", "verdict": "x" * 201}, "verdict"),
    ({"title": ["a list"]}, "title"),
    ({"title": "t", "claim": "nul\x00byte"}, "claim"),
    ({"title": "t", "status": "deleted"}, "status"),
    ({"title": "t", "lang": "Klingon language"}, "lang"),
    ({"title": "t", "tags": 5}, "tags"),
    ({"title": "t", "tags": ["ok", 7]}, "tags"),
    ({"title": "t", "publisher": "p" * 201}, "publisher"),
])
def test_invalid_data_names_the_field_and_writes_nothing(scratch, data, field):
    with pytest.raises(InvalidClaim) as caught:
        save_claim(scratch, data)
    assert caught.value.field == field
    assert count_claims(scratch) == 0
    assert library_revision(scratch) == 0


@pytest.mark.parametrize("url, said", [
    ("http://example.org:abc/x", "has a port that is not a number from 0 to 65535, got 'http://example.org:abc/x'"),
    ("http://example.org:99999/", "has a port that is not a number from 0 to 65535, got 'http://example.org:99999/'"),
    ("http://[::1/x", "has square brackets that do not hold an IPv6 address, got 'http://[::1/x'"),
    ("http://[example]/x", "has square brackets that do not hold an IPv6 address, got 'http://[example]/x'"),
    ("http://example\u2100.org/x", "is not a valid URL, got 'http://example\u2100.org/x'"),
])
@pytest.mark.parametrize("field", ["url", "appearances"])
def test_a_url_python_cannot_split_is_refused_in_our_own_words(scratch, field, url, said):
    """urlsplit's own English ("Port could not be cast …") never reaches the message: the pages
    translate the marked message, and a Python detail in it would stay English."""
    with pytest.raises(InvalidClaim) as caught:
        save_claim(scratch, {"title": "t", field: url if field == "url" else [url]})
    assert (caught.value.field, caught.value.message) == (field, said)
    assert list(caught.value.reason.values.values()) == [repr(url)]
    assert count_claims(scratch) == 0


@pytest.mark.parametrize("data, expected", [
    ({"verdict": ""}, ("unrated", "")),
    ({"verdict": None}, ("unrated", "")),
    ({"verdict": "Kabar Burung"}, ("unrated", "Kabar Burung")),
    ({"verdict": "[HOAKS]"}, ("false", "[HOAKS]")),
    ({"verdict": "false", "verdict_raw": "SALAH"}, ("false", "SALAH")),
    ({"verdict": "true", "verdict_raw": "SALAH"}, ("true", "true")),
    ({"verdict_raw": "PENIPUAN"}, ("scam", "PENIPUAN")),
])
def test_verdict_code_and_label_as_published(scratch, data, expected):
    claim = save_claim(scratch, dict(data, title="t"))
    assert (claim.verdict, claim.verdict_raw) == expected


@pytest.mark.parametrize("data, expected", [
    ({"lang": "id-ID"}, "id"),
    ({"lang": "EN"}, "en"),
    ({"lang": "Indonesian"}, "id"),
    ({"lang": ""}, "id"),
    ({}, "id"),
    ({"date": "2025-03-04T23:30:00+07:00"}, date(2025, 3, 4)),
    ({"tags": "a, b ,a"}, ["a", "b"]),
    ({"tags": ["x", " y ", ""]}, ["x", "y"]),
    ({"id": 42}, "42"),
    ({"status": "Draft"}, "draft"),
])
def test_lenient_inputs_are_normalised(scratch, data, expected):
    claim = save_claim(scratch, dict(data, title="t"))
    key = next(iter(data), "lang")
    value = {"date": claim.published, "id": claim.id}.get(key, getattr(claim, key, None))
    assert value == expected


def test_set_status_bumps_the_revision_and_records_history(session):
    save_claim(session, dict(VAKSIN, id="a"))
    claim = set_status(session, "a", "retired", actor="editor:rina")
    assert claim.status == "retired" and claim.revision == 2
    assert library_revision(session) == 2
    again = set_status(session, "a", "retired")
    assert again.revision == 2 and library_revision(session) == 2
    history = claim_history(session, "a")
    assert [(h.action, h.revision, h.actor) for h in history] == [
        ("created", 1, "cli"), ("status", 2, "editor:rina")]
    assert history[1].changes == {"status": ["published", "retired"]}


@pytest.mark.parametrize("claim_id, status, error", [
    ("missing", "retired", ClaimNotFound),
    ("a", "gone", InvalidClaim),
])
def test_set_status_errors(session, claim_id, status, error):
    save_claim(session, dict(VAKSIN, id="a"))
    with pytest.raises(error):
        set_status(session, claim_id, status)
    assert get_claim(session, "a").status == "published"


def test_get_claim_raises_claim_not_found(session):
    with pytest.raises(ClaimNotFound) as caught:
        get_claim(session, "nope")
    assert caught.value.claim_id == "nope"


def test_history_records_changed_fields_as_old_and_new(session):
    save_claim(session, dict(VAKSIN, id="a"), actor="import")
    save_claim(session, {"id": "a", "summary": "Baru.", "date": "2025-02-01"}, actor="editor:ana")
    created, updated = claim_history(session, "a")
    assert created.action == "created" and created.actor == "import"
    assert created.changes["title"] == [None, VAKSIN["title"]]
    assert created.changes["published"] == [None, "2025-01-31"]
    assert updated.action == "updated" and updated.actor == "editor:ana"
    assert updated.changes == {"summary": ["Tidak ada chip dalam vaksin.", "Baru."],
                               "published": ["2025-01-31", "2025-02-01"]}
    assert updated.at.tzinfo == timezone.utc
    json.dumps(updated.changes)


def test_changes_since_returns_exactly_the_claims_changed_after_a_revision(session):
    save_claim(session, {"id": "a", "title": "A"})                      # r1
    save_claim(session, {"id": "b", "title": "B", "status": "draft"})   # r2
    save_claim(session, {"id": "c", "title": "C"})                      # r3
    session.commit()
    assert [c.id for c in changes_since(session, 0)] == ["a", "b", "c"]
    assert [c.id for c in changes_since(session, 1)] == ["b", "c"]
    assert changes_since(session, 3) == []

    set_status(session, "a", "retired")                                 # r4
    save_claim(session, {"id": "b", "title": "B2"})                     # r5
    save_claim(session, {"id": "c", "title": "C"})                      # unchanged
    session.commit()
    changed = changes_since(session, 3)
    assert [(c.id, c.revision, c.status) for c in changed] == [
        ("a", 4, "retired"), ("b", 5, "draft")]
    assert max(c.revision for c in changed) == library_revision(session) == 5


def test_a_rolled_back_change_leaves_the_revision_alone(claims_app):
    with session_scope(claims_app) as session:
        save_claim(session, {"id": "a", "title": "A"})
    with pytest.raises(RuntimeError):
        with session_scope(claims_app) as session:
            save_claim(session, {"id": "a", "title": "A changed"})
            save_claim(session, {"id": "b", "title": "B"})
            raise RuntimeError("editor closed the tab")
    with session_scope(claims_app) as session:
        assert library_revision(session) == 1
        assert [c.id for c in changes_since(session, 0)] == ["a"]
        assert get_claim(session, "a").title == "A"


def test_one_batch_is_one_revision(session):
    report = upsert_claims(session, [(1, {"id": "a", "title": "A"}),
                                     (2, {"id": "b", "title": "B"})])
    assert (report.created, report.updated, report.revision) == (2, 0, 1)
    assert {c.revision for c in changes_since(session, 0)} == {1}


def test_loaded_objects_see_a_later_bulk_update(session):
    claim = save_claim(session, {"id": "a", "title": "Old"})
    upsert_claims(session, [(1, {"id": "a", "title": "New"})])
    assert claim.title == "New"


def test_list_claims_filters_and_searches(session):
    upsert_claims(session, [
        (1, {"id": "a", "title": "Gempa di Bali", "verdict": "HOAKS", "lang": "id"}),
        (2, {"id": "b", "title": "Earthquake video", "verdict": "False", "lang": "en"}),
        (3, {"id": "c", "title": "Diskon 100% pulsa", "verdict": "PENIPUAN", "status": "draft"}),
        (4, {"id": "d", "title": "Diskon pulsa gratis", "verdict": "PENIPUAN"}),
    ])
    assert {c.id for c in list_claims(session, verdict="false")} == {"a", "b"}
    assert [c.id for c in list_claims(session, lang="en")] == ["b"]
    assert [c.id for c in list_claims(session, status="draft")] == ["c"]
    assert {c.id for c in list_claims(session, q="GEMPA")} == {"a"}
    # "%" is a literal character, not a wildcard
    assert [c.id for c in list_claims(session, q="100%")] == ["c"]
    assert {c.id for c in list_claims(session, q="diskon")} == {"c", "d"}
    assert len(list_claims(session, limit=2)) == 2
    assert len(list_claims(session, limit=2, offset=3)) == 1
    assert count_claims(session, verdict="scam") == 2
    assert [c.id for c in published_claims(session)] == ["a", "b", "d"]


def test_to_dict_is_json_safe(session):
    claim = save_claim(session, dict(VAKSIN, id="a"))
    data = json.loads(json.dumps(claim.to_dict()))
    assert data["date"] == "2025-01-31" and data["verdict"] == "false"
    assert data["verdict_raw"] == "SALAH" and data["tags"] == ["kesehatan", "vaksin"]
    assert data["status"] == "published" and data["revision"] == 1


@pytest.mark.sqlite_only(reason="SQLite's pragmas: WAL, foreign keys, busy timeout")
def test_sqlite_runs_in_wal_mode_with_foreign_keys(claims_app, tmp_path):
    engine = claims_app.extensions["factcheck.db"].engine
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        # FULL (2): every commit is on disk before the reply that acknowledges it goes out
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2
    indexes = {tuple(i["column_names"]) for i in inspect(engine).get_indexes("claims")}
    assert ("revision",) in indexes


@pytest.mark.sqlite_only(reason="WAL readers beside a writer, read with the sqlite3 module")
def test_readers_are_not_blocked_by_an_open_write(claims_app, tmp_path):
    database = claims_app.extensions["factcheck.db"]
    with database.sessionmaker() as writer:
        save_claim(writer, {"id": "a", "title": "A"})  # holds the write lock, uncommitted
        raw = sqlite3.connect(tmp_path / "t.db", timeout=0.1)
        try:
            assert raw.execute("SELECT revision FROM library_state").fetchone() == (0,)
        finally:
            raw.close()
        writer.commit()
    with database.sessionmaker() as reader:
        assert library_revision(reader) == 1


def test_init_app_twice_on_the_same_file_keeps_the_data(claims_app, tmp_path):
    with session_scope(claims_app) as session:
        save_claim(session, {"id": "a", "title": "A"})
    again = Flask(__name__, instance_path=str(tmp_path))
    again.config.update(DATABASE_URL=database_url(tmp_path, "t"))
    database = claims.init_app(again)
    try:
        with session_scope(again) as session:
            assert library_revision(session) == 1
            assert get_claim(session, "a").title == "A"
    finally:
        database.engine.dispose()


@pytest.mark.sqlite_only(reason="the default database is a SQLite file in the instance folder")
def test_default_database_lives_in_the_instance_folder(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    database = claims.init_app(app)
    try:
        assert (tmp_path / "instance" / "factcheck.db").exists()
    finally:
        database.engine.dispose()


def test_request_session_is_shared_within_a_context_and_closed_after(claims_app):
    with claims_app.app_context():
        session = get_session()
        assert get_session() is session
        save_claim(session, {"id": "a", "title": "uncommitted"})
    with claims_app.app_context():
        assert count_claims(get_session()) == 0


def test_session_scope_commits_on_success(claims_app):
    with session_scope(claims_app) as session:
        save_claim(session, {"id": "a", "title": "A"})
    with session_scope(claims_app) as session:
        assert session.scalar(select(ClaimHistory.action)) == "created"


def test_concurrent_writers_of_the_same_new_claim_do_not_collide(claims_app):
    """The second writer waits for the first and then updates, instead of inserting twice."""
    database = claims_app.extensions["factcheck.db"]
    outcome = {}

    def second_writer():
        with database.sessionmaker() as session:
            try:
                report = upsert_claims(session, [(1, {"id": "a", "title": "from B"})])
                session.commit()
                outcome["report"] = report
            except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
                outcome["error"] = exc

    with database.sessionmaker() as first:
        save_claim(first, {"id": "a", "title": "from A"})  # holds the library lock
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=0.3)
        assert thread.is_alive()  # waiting for the lock, not failing
        first.commit()
    thread.join(timeout=10)
    assert "error" not in outcome, outcome.get("error")
    assert (outcome["report"].created, outcome["report"].updated) == (0, 1)
    with session_scope(claims_app) as session:
        assert get_claim(session, "a").title == "from B"
        assert library_revision(session) == 2


@pytest.mark.parametrize("change, missing", [
    ({}, []),
    ({"verdict": ""}, ["verdict"]),
    ({"verdict": "kabar burung"}, ["verdict"]),  # not a label the vocabulary knows
    ({"verdict": "belum dinilai"}, ["verdict"]),
    ({"summary": "  "}, ["summary"]),
    ({"url": ""}, ["url"]),
    ({"verdict": "", "summary": "", "url": ""}, ["verdict", "summary", "url"]),
])
def test_publishing_needs_a_verdict_a_summary_and_a_url(session, change, missing):
    data = {**VAKSIN, "id": "a", **change}
    assert missing_for_publishing(clean_claim_data(data)) == missing
    if missing:
        with pytest.raises(IncompleteClaim) as refused:
            save_claim(session, data, require_complete=True)
        assert list(refused.value.missing) == missing and refused.value.field == missing[0]
        assert library_revision(session) == 0
        draft = save_claim(session, {**data, "status": "draft"}, require_complete=True)
        with pytest.raises(IncompleteClaim):
            set_status(session, draft.id, "published", require_complete=True)
        assert get_claim(session, "a").status == "draft" and library_revision(session) == 1
        assert set_status(session, "a", "retired", require_complete=True).status == "retired"
    else:
        assert save_claim(session, data, require_complete=True).status == "published"
    # Without require_complete (archives loaded for search alone) the store takes it.
    assert save_claim(session, {**data, "id": "b", "url": None}).status == "published"
