"""An editor confirms a hoax group and splits a fact-check out of it, in a real browser."""
import pytest
from playwright.sync_api import expect

import claims.db
from app import parts
from claims.groups import HoaxMember, group_ids
from tests.conftest import LiveServer, make_app
from tests.test_browser_editors import create_admin, log_in, shot
from tests.test_hoax_groups import BANSOS, NEW, OLD, THRESHOLD, import_rows

pytestmark = [pytest.mark.browser, pytest.mark.db]


def test_confirm_a_hoax_group_then_split_and_join_again(tmp_path, browser):
    app = make_app(tmp_path, HOAX_GROUP_THRESHOLD=THRESHOLD)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    try:
        import_rows(app, tmp_path, [OLD, BANSOS, NEW])  # NEW joins OLD's group by itself
        create_admin(app)
        with LiveServer(app) as server:
            page = context.new_page()
            log_in(page, server.url)
            page.goto(server.url + "/editors/claims/sim-new/edit")
            section = page.locator("#hoax-group")
            rows = section.locator("table.hoax-members tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.nth(0)).to_contain_text("halaman ini")
            expect(rows.nth(1)).to_contain_text(OLD["title"])
            for n in range(2):
                expect(section.locator(".grouping").nth(n)).to_contain_text("otomatis")
                expect(section.locator(".grouping").nth(n)).to_contain_text("kemiripan 0.9", use_inner_text=True)
            section.scroll_into_view_if_needed()
            shot(page, "hoax-group-automatic")

            section.locator("button[value=confirm]").click()
            expect(page.locator(".flash.ok")).to_contain_text("Grup dikonfirmasi")
            expect(section.locator(".grouping").first).to_contain_text("dikonfirmasi")
            expect(section.locator(".grouping").nth(1)).to_contain_text("redaksi")
            expect(section.locator("button[value=confirm]")).to_have_count(0)
            shot(page, "hoax-group-confirmed")

            # OLD turns out to be another hoax: split it out from this page
            section.locator(f"tr[data-claim='{OLD['id']}'] button[value=split]").click()
            expect(page.locator(".flash.ok")).to_contain_text("Dipisahkan")
            expect(section).to_contain_text("berdiri sendiri")
            expect(section.locator("table.hoax-members")).to_have_count(0)
            suggestion = section.locator("ul.suggestions li").filter(has_text=OLD["title"])
            expect(suggestion).to_have_count(1)  # still similar: offered to join again
            shot(page, "hoax-group-split")

            suggestion.locator("button[value=join]").click()
            expect(page.locator(".flash.ok")).to_contain_text("Digabungkan")
            expect(rows).to_have_count(2)
            shot(page, "hoax-group-joined")
        with claims.db.session_scope(app) as session:
            groups = group_ids(session, [OLD["id"], NEW["id"], BANSOS["id"]])
            assert groups[OLD["id"]] == groups[NEW["id"]] != groups[BANSOS["id"]]
            joined = session.get(HoaxMember, NEW["id"])
            assert joined.confirmed and joined.actor == "redaksi"
    finally:
        context.close()
        parts(app).searcher.stop()
        app.extensions["factcheck.db"].engine.dispose()
