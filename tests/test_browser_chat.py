"""The web chat page in a real browser: ask, read the answer, never run a claim's HTML."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
HOSTILE_TITLE = (
    'Pesan berantai <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
)

CLAIMS = [
    {"id": "vaksin-chip", "title": "Vaksin COVID-19 mengandung chip pelacak", "verdict": "HOAKS",
     "claim": "Vaksin COVID-19 berisi microchip untuk melacak orang",
     "summary": "Vaksin COVID-19 tidak berisi chip. Komposisinya terbuka dan sudah diperiksa "
                "BPOM; chip pelacak juga butuh antena dan baterai.",
     "url": "https://cekfakta.example.org/vaksin-chip"},
    {"id": "pesan-berantai", "title": HOSTILE_TITLE, "verdict": "MENYESATKAN",
     "claim": "Pesan berantai tentang skrip rahasia di WhatsApp",
     "summary": "Ringkasan dengan <b>tag</b> yang harus tampil sebagai teks.",
     "url": "https://cekfakta.example.org/pesan-berantai"},
]


@pytest.fixture
def chat(app, live_server, browser, add_claims):
    add_claims(app, CLAIMS)
    context = browser.new_context(viewport={"width": 412, "height": 860}, locale="id-ID")
    page = context.new_page()
    page.goto(live_server.url + "/")
    yield page
    context.close()


def send(page, text):
    """Type a message, send it, and return the tipline's answer bubble."""
    answers = page.locator(".msg.in:not(.typing)")
    before = answers.count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    expect(answers).to_have_count(before + 1)
    return answers.last


def test_ask_by_keyword_and_read_the_fact_check(chat):
    expect(chat.locator(".msg.in").first).to_contain_text("Halo! 👋")
    chat.get_by_role("button", name="vaksin chip").click()
    expect(chat.locator(".msg.out .body").last).to_have_text("vaksin chip")
    answer = chat.locator(".msg.in:not(.typing)").last
    expect(answer).to_contain_text("Vaksin COVID-19 mengandung chip pelacak")
    expect(answer.locator("strong", has_text="HOAKS")).to_be_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    chat.screenshot(path=str(SCREENSHOTS / "chat.png"))


def test_a_greeting_gets_the_greeting(chat):
    answer = send(chat, "halo")
    expect(answer).to_contain_text("layanan cek fakta lewat WhatsApp")
    expect(answer.locator("strong").first).to_be_visible()  # *bold* became bold


def test_a_hostile_title_shows_as_text_and_never_runs(chat):
    answer = send(chat, "pesan berantai skrip rahasia")
    expect(answer).to_contain_text("<script>window.pwned = 1</script>")
    assert chat.evaluate("window.pwned") is None
    assert chat.locator("#chat script, #chat img, #chat b").count() == 0
    link = answer.locator("a[href='https://cekfakta.example.org/pesan-berantai']")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")


def test_the_page_switches_to_english_and_remembers_it(chat):
    chat.click("#lang-toggle")
    expect(chat.locator("#message")).to_have_attribute("placeholder", "Type a message")
    expect(chat.locator(".msg.in").first).to_contain_text("Hello! 👋")
    chat.reload()
    expect(chat.locator("html")).to_have_attribute("lang", "en")
    session = chat.evaluate("localStorage.getItem('cekfakta.session')")
    assert len(session) == 32
