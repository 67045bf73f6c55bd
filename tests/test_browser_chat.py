"""The web chat page in a real browser: ask, read the answer, never run a claim's HTML."""

import re
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
def app(app_real):
    """The page answers with the shipped encoder: the no-match decision reads real cosines."""
    return app_real


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


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"chat-{name}.png"), full_page=True)


def test_past_the_rate_limit_the_page_says_so_instead_of_empty_bubbles(app, chat):
    app.config.update(RATE_LIMIT_MESSAGES=2, RATE_LIMIT_WINDOW=60)
    send(chat, "halo")
    send(chat, "bantuan")
    notice = send(chat, "vaksin chip")
    expect(notice).to_contain_text("banyak pesan")
    answers = chat.locator(".msg.in:not(.typing)")
    before = answers.count()
    chat.fill("#message", "vaksin chip lagi")
    chat.press("#message", "Enter")
    expect(chat.locator(".notice.paused")).to_have_count(1)
    expect(chat.locator(".notice.paused")).to_contain_text("Dijeda")
    assert answers.count() == before  # no bubble without words
    for body in chat.locator(".msg .body").all_inner_texts():
        assert body.strip()
    shot(chat, "rate-limit")


def test_a_title_with_stars_keeps_them_and_bold_stays_bold(app, chat, add_claims):
    add_claims(app, [{"id": "template", "title": "Formulir {{7*7}} mencuri data bank", "verdict": "PENIPUAN",
                      "claim": "formulir template injection mencuri data bank",
                      "summary": "Jangan isi formulir itu.", "url": "https://cekfakta.example.org/template"}])
    answer = send(chat, "formulir mencuri data bank")
    expect(answer).to_contain_text("{{7*7}}")
    expect(answer.locator("strong", has_text="Formulir {{7*7}} mencuri data bank")).to_be_visible()
    shot(chat, "stars")


def test_each_message_is_answered_in_its_own_language_and_the_switch_asks_for_english(app, chat, add_claims):
    add_claims(app, [{"id": "beras", "title": "Harga beras naik 50 persen besok", "verdict": "HOAKS",
                      "claim": "harga beras naik", "summary": "Tidak ada kenaikan.",
                      "url": "https://cekfakta.example.org/beras"}])
    english = send(chat, "is it true that this video is from today?")
    expect(english).not_to_contain_text("Maaf")
    expect(english).to_contain_text(re.compile("Sorry|We found|This fact-check|Reply"))
    indonesian = send(chat, "harga cabai naik")  # no marker word: the library's words tell
    expect(indonesian).to_contain_text(re.compile("Maaf|Ada beberapa|Ada cek fakta|HOAKS"))
    expect(indonesian).not_to_contain_text(re.compile("Sorry|We found|FALSE"))
    chat.click("#lang-toggle")
    expect(chat.locator("html")).to_have_attribute("lang", "en")  # the switch has answered
    asked = send(chat, "vaksin chip")
    expect(asked).to_contain_text("FALSE")
    expect(asked).not_to_contain_text("HOAKS")
    shot(chat, "language")


@pytest.mark.db
def test_zero_on_the_web_gives_a_code_and_the_page_shows_the_desk_answer_later(app, chat):
    from editors.models import InboxGroup
    from claims.db import session_scope
    from sqlalchemy import select
    from tests.editors_support import add_account, confirm_link, login

    matched = send(chat, "vaksin chip")
    expect(matched).to_contain_text("Balas 0")
    passed = send(chat, "0")
    expect(passed).to_contain_text("tidak bisa kami hubungi")
    code = re.search(r"[A-Z2-9]{5}-[A-Z2-9]{5}", passed.inner_text()).group(0)
    expect(passed.locator(f"a[href$='/jawaban/{code}']")).to_have_count(1)
    shot(chat, "followup-code")

    add_account(app)  # the desk answers the group the question joined
    editor = app.test_client()
    login(editor)
    with session_scope(app) as session:
        group_id = session.scalars(select(InboxGroup.id)).one()
    confirm_link(editor, group_id, "pesan-berantai")

    chat.reload()
    expect(chat.locator(".notice", has_text="Jawaban redaksi")).to_contain_text("vaksin chip")
    answer = chat.locator(".msg.in.followup")
    expect(answer).to_contain_text("MENYESATKAN")
    assert chat.evaluate("window.pwned") is None  # the hostile title stays text here too
    shot(chat, "followup-answer")
    chat.reload()  # shown once, then forgotten
    expect(chat.locator(".msg.in").first).to_be_visible()
    expect(chat.locator(".msg.in.followup")).to_have_count(0)

    chat.goto(chat.url.rstrip("/") + f"/jawaban/{code}")
    expect(chat.locator("#followup-answer")).to_contain_text("MENYESATKAN")
    shot(chat, "followup-page")
