"""The dashboard: counts per day, share answered, median reply time, top lists, escaped."""
from datetime import date

import pytest

import claims.db
from editors.dashboard import stats
from tests.conftest import add_claims, make_app
from tests.editors_support import add_account, editors_config, login
from tests.test_editors_inbox import ask

HOSTILE = "<script>alert(1)</script>"


@pytest.mark.db
def test_dashboard_counts_and_escapes(tmp_path):
    app = make_app(tmp_path, **editors_config(INBOX_GROUP_THRESHOLD=0.75))
    try:
        add_claims(app, [{"id": "c1", "title": HOSTILE + " vaksin chip", "claim": "vaksin chip",
                          "verdict": "HOAKS", "url": "https://example.org/c1"}])
        add_account(app)
        if ask(app, "vaksin chip").decision == "choices":  # the fake encoder's cosines are low
            assert ask(app, "1").decision == "choice"  # the asker picks it from the list
        assert ask(app, "gempa besar jakarta minggu depan").decision == "no_match"
        ask(app, "halo")  # a greeting is not a question
        with app.app_context(), claims.db.session_scope(app) as session:
            today = date.today()
            numbers = stats(session, today, today)
            assert numbers["total"] == 2 and numbers["answered"] == 1 and numbers["share"] == 0.5
            assert numbers["median_ms"] is not None
        client = app.test_client()
        login(client)
        client.get("/editors/inbox")
        page = client.get("/editors/dashboard?days=7").text
        assert "50%" in page and "<svg" in page
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
        assert client.get("/editors/dashboard?from=2025-01-01&to=2025-01-31").status_code == 200
    finally:
        app.extensions["factcheck.db"].engine.dispose()
