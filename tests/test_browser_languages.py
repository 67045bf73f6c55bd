"""One language at a time, in a real browser: the switch on the editors' pages and on the chat.

Each page comes in the browser's language until the switch is used; the choice then holds
across pages, logging in and out, and reloads. A page in one language shows none of the other
language's catalog words (tests/languages.py).
"""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app import parts
from tests.editors_support import CHIP_CLAIM, PASSWORD, editors_app
from tests.languages import foreign_words

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 412, "height": 860}


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"languages-{name}.png"), full_page=True)


def in_one_language(page, lang):
    """Assert the page is in `lang` and shows no catalog word of the other language."""
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert foreign_words(page.content(), lang) == [], page.url


@pytest.fixture
def app(tmp_path):
    """A desk with a fact-check labelled as its publisher wrote it, and a question in the inbox."""
    app = editors_app(tmp_path, [{**CHIP_CLAIM, "claim": "vaksin covid berisi chip", "verdict": "[SALAH]",
                                  "summary": "Vaksin COVID-19 bebas chip."}],
                      NEWSROOM_NAME="Kabar Benar")
    app.test_client().post("/api/messages", json={"text": "tsunami padang besok pagi", "session": "s1"})
    yield app
    parts(app).searcher.stop()
    app.extensions["factcheck.db"].engine.dispose()


def test_the_editors_switch_language_and_every_page_shows_one(live_server, browser):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    base = live_server.url
    page.goto(base + "/editors/")
    expect(page.locator("h1")).to_have_text("Log in to the editors' workspace")  # the browser's
    in_one_language(page, "en")
    page.fill("input[name=username]", "redaksi")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_contain_text("Fact-check library")
    expect(page.locator("table.list .verdict").first).to_have_text("SALAH")  # as published
    expect(page.locator("select[name=verdict] option").first).to_have_text("All labels")
    in_one_language(page, "en")
    shot(page, "library-en")

    page.click("#lang-toggle")  # a form: the server renders the page again, in Indonesian
    expect(page).to_have_url(base + "/editors/")
    expect(page.locator("h1")).to_contain_text("Pustaka cek fakta")
    expect(page.locator("select[name=verdict] option").first).to_have_text("Semua label")
    expect(page.locator("#lang-toggle")).to_have_text("English")
    in_one_language(page, "id")
    shot(page, "library-id")
    for path in ("/editors/claims/c1/edit", "/editors/claims/new", "/editors/inbox",
                 "/editors/dashboard", "/editors/outbox?status=all", "/editors/accounts",
                 "/editors/import", "/editors/pairs"):
        page.goto(base + path)
        in_one_language(page, "id")
    page.goto(base + "/editors/inbox")
    page.locator("article.group h2 a").first.click()
    expect(page.locator("table.list").last).to_contain_text("chat web")  # the channel, named
    in_one_language(page, "id")

    page.goto(base + "/editors/claims/c1/edit")
    page.click("#lang-toggle")  # back to English, on the same page
    expect(page).to_have_url(base + "/editors/claims/c1/edit")
    expect(page.locator("h1")).to_have_text("Edit fact-check")
    expect(page.locator(".history")).to_contain_text("SALAH")
    in_one_language(page, "en")
    shot(page, "claim-en")
    page.click("header form button.link[type=submit]:not(#lang-toggle)")  # log out
    expect(page.locator("h1")).to_have_text("Log in to the editors' workspace")  # the choice stays
    context.close()


def test_the_editors_switch_works_without_script(live_server, browser):
    context = browser.new_context(viewport=DESKTOP, locale="id-ID", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/editors/login")
    expect(page.locator("h1")).to_have_text("Masuk ke ruang redaksi")
    page.click("#lang-toggle")
    expect(page.locator("h1")).to_have_text("Log in to the editors' workspace")
    in_one_language(page, "en")
    context.close()


def send(page, text):
    """Type a message, send it, and return the tipline's answer bubble."""
    answers = page.locator(".msg.in:not(.typing)")
    before = answers.count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    expect(answers).to_have_count(before + 1)
    return answers.last


def test_the_chat_switches_language_and_keeps_the_conversation(live_server, browser):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(live_server.url + "/")
    expect(page.locator("#message")).to_have_attribute("placeholder", "Type a message")
    expect(page.locator(".msg.in").first).to_contain_text("Hello! 👋")
    in_one_language(page, "en")
    asked = send(page, "tsunami padang besok pagi")  # not chosen: the reply follows the message
    expect(asked).to_contain_text("Maaf")
    shot(page, "chat-en")

    page.click("#lang-toggle")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("#message")).to_have_attribute("placeholder", "Ketik pesan")
    expect(page.get_by_role("button", name="vaksin chip")).to_be_visible()
    expect(page.locator(".msg.in").first).to_contain_text("Halo! 👋")
    expect(page.locator(".msg.out .body")).to_have_text(["tsunami padang besok pagi"])  # kept
    in_one_language(page, "id")
    answer = send(page, "is it true that the tsunami hits tomorrow?")  # chosen: Indonesian replies
    expect(answer).to_contain_text("Maaf")
    expect(answer).not_to_contain_text("Sorry")
    shot(page, "chat-id")

    page.reload()
    expect(page.locator("#message")).to_have_attribute("placeholder", "Ketik pesan")  # kept
    page.click("#lang-toggle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#lang-toggle")).to_have_text("ID")
    in_one_language(page, "en")
    context.close()


def test_the_chat_switch_works_without_script(live_server, browser):
    context = browser.new_context(viewport=PHONE, locale="id-ID", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    expect(page.locator("#message")).to_have_attribute("placeholder", "Ketik pesan")
    page.click("#lang-toggle")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#message")).to_have_attribute("placeholder", "Type a message")
    in_one_language(page, "en")
    context.close()
