"""Helpers for the editors' tests: accounts, logging in, CSRF tokens and a fake Twilio API."""
import re

import claims.db
from editors.auth import create_account
from scripts.fake_twilio import FakeTwilio  # noqa: F401  (the tests import it from here)

PASSWORD = "kata-sandi-rahasia-123"
ACCOUNT_SID = "AC" + "0" * 32
WHATSAPP_FROM = "whatsapp:+14155238886"


def editors_config(**overrides):
    """Settings for an app whose outbox is driven by the test (no background thread)."""
    return {"OUTBOX_INTERVAL": 0, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM, **overrides}


def add_account(app, username="redaksi", role="admin", password=PASSWORD):
    """Create an account directly in the database."""
    with claims.db.session_scope(app) as session:
        return create_account(session, username, password, role).id


def token_of(html: str) -> str:
    """The CSRF token in a page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username="redaksi", password=PASSWORD):
    """Log in through the form, as a browser would; return the response."""
    page = client.get("/editors/login")
    return client.post("/editors/login", data={
        "username": username, "password": password, "csrf_token": token_of(page.text)})


# One published fact-check, unrelated to the questions the inbox tests ask.
CHIP_CLAIM = {"id": "c1", "title": "Vaksin mengandung chip", "claim": "vaksin chip",
              "verdict": "HOAKS", "url": "https://example.org/c1"}


def editors_app(tmp_path, rows, **overrides):
    """A testing app with these claims published and an admin account."""
    from tests.conftest import add_claims, make_app

    app = make_app(tmp_path, **editors_config(**overrides))
    add_claims(app, rows)
    add_account(app)
    return app


def logged_in(app):
    """A test client logged in as the admin."""
    client = app.test_client()
    login(client)
    return client


def csrf(client) -> str:
    """The CSRF token of the client's current session."""
    with client.session_transaction() as session:
        return session["csrf"]


def link_preview(client, group_id, claim_id):
    """The confirmation page of linking a group, and the number of askers it says it sends to."""
    page = client.get(f"/editors/inbox/{group_id}/link", query_string={"claim_id": claim_id})
    assert page.status_code == 200, page.status_code
    return page.text, int(re.search(r'name="send" value="(\d+)"', page.text).group(1))


def confirm_link(client, group_id, claim_id):
    """Link a group as an editor does: open the confirmation, then confirm what it shows."""
    _, send = link_preview(client, group_id, claim_id)
    return client.post(f"/editors/inbox/{group_id}/link",
                       data={"csrf_token": csrf(client), "claim_id": claim_id, "send": send})
