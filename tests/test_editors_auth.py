"""Editors' accounts: login required everywhere, sessions, CSRF, slow-down, roles, the CLI."""
import re

import pytest

import claims.db
from editors.models import EditorAccount
from tests.conftest import make_app
from tests.editors_support import PASSWORD, add_account, csrf, editors_config, login, token_of


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path, **editors_config())
    yield app
    app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def _url(rule) -> str:
    """A concrete URL for a rule, with dummy values for its arguments."""
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", rule.rule)


def test_no_editors_page_is_reachable_without_login(app, client):
    rules = [r for r in app.url_map.iter_rules()
             if r.rule.startswith("/editors") and r.endpoint not in ("editors.login", "editors.static")]
    assert len(rules) >= 14
    for rule in rules:
        url = _url(rule)
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302, url
            assert "/editors/login" in response.headers["Location"]
        if "POST" in rule.methods:
            # Without a session there is no CSRF token, let alone a login.
            assert client.post(url, data={"csrf_token": "x"}).status_code in (302, 400), url


def test_posts_need_login_even_with_a_valid_csrf_token(app, client):
    client.get("/editors/login")
    token = csrf(client)
    response = client.post("/editors/claims/save", data={"csrf_token": token, "title": "x"})
    assert response.status_code == 302 and "/editors/login" in response.headers["Location"]


def test_create_admin_asks_the_password_twice_and_hides_it(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["editors", "create-admin", "redaksi"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and "Repeat" in result.output
    with claims.db.session_scope(app) as session:
        account = session.query(EditorAccount).one()
        assert account.role == "admin" and account.password_hash.startswith("scrypt:")
    mismatch = runner.invoke(args=["editors", "create-admin", "other"], input=f"{PASSWORD}\nxyz\n" * 1)
    assert mismatch.exit_code != 0
    short = runner.invoke(args=["editors", "create-admin", "third"], input="short\nshort\n")
    assert short.exit_code != 0 and "10" in short.output


def test_login_rotates_the_session_and_logout_ends_it(app, client):
    add_account(app)
    client.get("/editors/login")
    anonymous_token = csrf(client)
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/editors/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert csrf(client) != anonymous_token
    assert client.get("/editors/").status_code == 200
    client.post("/editors/logout", data={"csrf_token": csrf(client)})
    assert client.get("/editors/").status_code == 302


def test_the_pages_background_requests_never_put_an_old_session_back(app, client):
    add_account(app)
    login(client)
    page = client.get("/editors/")
    assert "session=" in page.headers.get("Set-Cookie", "")  # a page refreshes the session
    token = csrf(client)
    preview = client.post("/editors/preview", data={"title": "x"}, headers={"X-CSRF-Token": token})
    similar = client.post("/editors/claims/similar", data={"title": "x"}, headers={"X-CSRF-Token": token})
    assert preview.status_code == similar.status_code == 200
    # A background answer arriving after a save would otherwise undo the save's message.
    assert "Set-Cookie" not in preview.headers and "Set-Cookie" not in similar.headers


@pytest.mark.db
def test_production_cookies_are_secure(tmp_path):
    app = make_app(tmp_path, ENV="production", **editors_config())
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600


def test_wrong_password_and_unknown_user_fail_the_same_way(app, client):
    add_account(app)
    assert login(client, password="wrong-password-x").status_code == 401
    assert login(client, username="nobody").status_code == 401
    assert client.get("/editors/").status_code == 302


def test_post_without_or_with_a_wrong_csrf_token_is_refused(app, client):
    add_account(app)
    login(client)
    assert client.post("/editors/claims/save", data={"title": "x"}).status_code == 400
    assert client.post("/editors/claims/save", data={"title": "x", "csrf_token": "forged"}).status_code == 400
    page = client.get("/editors/login")
    assert client.post("/editors/login", data={"username": "redaksi", "password": PASSWORD,
                                               "csrf_token": "forged"}).status_code == 400
    assert token_of(page.text)


def test_repeated_failures_lock_the_username_for_a_growing_while(app, client):
    add_account(app)
    for _ in range(3):
        assert login(client, password="wrong-password-x").status_code == 401
    locked = login(client)  # even the right password must wait now
    assert locked.status_code == 429 and "detik" in locked.text
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert login(other).status_code == 302  # the lock is per username and address


def test_the_lock_runs_out(app, client, monkeypatch):
    from datetime import timedelta

    import editors.auth as auth
    add_account(app)
    for _ in range(3):
        login(client, password="wrong-password-x")
    later = auth.utcnow() + timedelta(seconds=6)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    assert login(client).status_code == 302


def test_editors_cannot_manage_accounts(app, client):
    add_account(app, "editor1", role="editor")
    login(client, "editor1")
    assert client.get("/editors/accounts").status_code == 403
    assert client.post("/editors/accounts", data={"csrf_token": csrf(client), "username": "x",
                                                  "password": PASSWORD}).status_code == 403
    assert client.get("/editors/").status_code == 200


def test_admin_creates_resets_and_deactivates_accounts(app, client):
    add_account(app)
    login(client)
    response = client.post("/editors/accounts", data={
        "csrf_token": csrf(client), "username": "wartawan", "password": PASSWORD, "role": "editor"})
    assert response.status_code == 302
    with claims.db.session_scope(app) as session:
        target = session.query(EditorAccount).filter_by(username="wartawan").one().id
    other = app.test_client()
    assert login(other, "wartawan").status_code == 302
    client.post(f"/editors/accounts/{target}", data={"csrf_token": csrf(client), "action": "password",
                                                     "password": "another-password-1"})
    assert other.get("/editors/").status_code == 302  # the reset logged them out
    assert login(other, "wartawan", "another-password-1").status_code == 302
    client.post(f"/editors/accounts/{target}", data={"csrf_token": csrf(client), "action": "role",
                                                     "role": "admin"})
    client.post(f"/editors/accounts/{target}", data={"csrf_token": csrf(client), "action": "deactivate"})
    assert other.get("/editors/").status_code == 302
    assert login(other, "wartawan", "another-password-1").status_code == 401
    with claims.db.session_scope(app) as session:
        account = session.get(EditorAccount, target)
        assert account.role == "admin" and not account.active


def test_an_admin_cannot_lock_themselves_out(app, client):
    me = add_account(app)
    login(client)
    client.post(f"/editors/accounts/{me}", data={"csrf_token": csrf(client), "action": "deactivate"})
    assert client.get("/editors/accounts").status_code == 200


def test_pages_carry_a_strict_content_security_policy(app, client):
    add_account(app)
    login(client)
    response = client.get("/editors/")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


# --- hardening: reflected XSS, open redirects, session fixation, brute force, roles -----------

REFLECTED = '"><script>alert(1)</script>'


@pytest.mark.parametrize("path", [
    "/editors/?q={x}&verdict={x}&status={x}&lang={x}&publisher={x}&from={x}&to={x}&page={x}",
    "/editors/inbox?status={x}", "/editors/inbox/1?q={x}", "/editors/dashboard?days={x}",
    "/editors/dashboard?from={x}&to={x}", "/editors/claims/new?group={x}",
    "/editors/claims/{x}/edit", "/editors/login?next={x}",
])
def test_query_strings_are_never_reflected_unescaped(app, client, path):
    from urllib.parse import quote

    add_account(app)
    login(client)
    response = client.get(path.format(x=quote(REFLECTED)))
    assert response.status_code in (200, 302, 400, 404)
    assert "<script>alert(1)" not in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "/editors/../../evil"])
def test_login_never_redirects_off_site(app, client, target):
    add_account(app)
    page = client.get("/editors/login", query_string={"next": target})
    response = client.post("/editors/login", query_string={"next": target}, data={
        "username": "redaksi", "password": PASSWORD, "csrf_token": token_of(page.text)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/editors/"


def test_a_cookie_planted_before_login_is_worth_nothing_after_it(app, client):
    """Session fixation: the attacker's pre-login cookie does not become a logged-in session."""
    add_account(app)
    attacker = app.test_client()
    attacker.get("/editors/login")
    planted = attacker.get_cookie("session").value
    client.set_cookie("session", planted)  # the victim is made to use the attacker's cookie
    assert login(client).status_code == 302
    assert client.get_cookie("session").value != planted
    assert client.get("/editors/").status_code == 200
    assert attacker.get("/editors/").status_code == 302  # the planted cookie is still anonymous


def test_a_forged_session_cookie_is_refused(app, client):
    from flask.sessions import SecureCookieSessionInterface

    add_account(app)
    forger = SecureCookieSessionInterface().get_signing_serializer(
        type("A", (), {"secret_key": "another-secret-key-0123456789", "config": app.config})())
    client.set_cookie("session", forger.dumps({"uid": 1, "ver": 1, "csrf": "x"}))
    assert client.get("/editors/").status_code == 302


def test_brute_force_is_not_reset_by_case_or_forwarded_headers(app, client):
    add_account(app)
    for _ in range(3):
        login(client, password="wrong-password-x")
    assert login(client, username="REDAKSI").status_code == 429
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    assert login(client).status_code == 429  # the address is the socket's, not a header's


def test_editors_cannot_reach_any_admin_action(app, client):
    target = add_account(app, "korban", role="admin")
    add_account(app, "editor1", role="editor")
    login(client, "editor1")
    token = csrf(client)
    for action in ({"action": "deactivate"}, {"action": "role", "role": "editor"},
                   {"action": "password", "password": "hijacked-password-1"}, {"action": "activate"}):
        response = client.post(f"/editors/accounts/{target}", data={"csrf_token": token, **action})
        assert response.status_code == 403
    with claims.db.session_scope(app) as session:
        account = session.get(EditorAccount, target)
        assert account.active and account.role == "admin"
    assert login(app.test_client(), "korban").status_code == 302


def test_a_demoted_admin_loses_admin_pages_at_once(app, client):
    boss = add_account(app, "boss")
    victim = add_account(app, "wakil", role="admin")
    other = app.test_client()
    login(other, "wakil")
    assert other.get("/editors/accounts").status_code == 200
    login(client, "boss")
    client.post(f"/editors/accounts/{victim}", data={"csrf_token": csrf(client), "action": "role",
                                                     "role": "editor"})
    assert other.get("/editors/accounts").status_code in (302, 403)
    assert boss
