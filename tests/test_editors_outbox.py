"""Answering back: queue per group, send through Twilio's API (a loopback fake), never twice."""
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

import claims.db
from editors.models import InboxGroup, OutboxMessage
from editors.outbox import run_pass
from tests.conftest import make_app
from tests.editors_support import (
    CHIP_CLAIM, editors_app, logged_in, WHATSAPP_FROM, FakeTwilio, add_account, confirm_link, csrf,
    editors_config, link_preview, login,
)
from tests.test_editors_inbox import ask
from tipline import replies
from tipline.models import ReplyAddress, RequestLog, utcnow
from tipline.whatsapp import to_html, wa_len

NUMBERS = ["whatsapp:+6281200000001", "whatsapp:+6281200000002", "whatsapp:+6281200000003"]
QUESTIONS = ["gempa besar jakarta minggu depan", "gempa besar jakarta minggu depan?",
             "gempa besar di jakarta minggu depan"]


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, twilio):
    app = editors_app(tmp_path, [CHIP_CLAIM], INBOX_GROUP_THRESHOLD=0.75, TWILIO_API_BASE=twilio.url)
    yield app
    app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture
def client(app):
    return logged_in(app)


def make_group(app, client, questions=QUESTIONS, numbers=NUMBERS, web=True):
    for text, number in zip(questions, numbers):
        assert ask(app, text, number).decision == "no_match"
    if web:
        ask(app, QUESTIONS[0], "web:abc", channel="web")  # no address: never messaged back
    client.get("/editors/inbox")
    with claims.db.session_scope(app) as session:
        return session.query(InboxGroup).one().id


def publish_for_group(client, group_id):
    """Publish a fact-check from a group, then confirm answering its askers (a separate step)."""
    saved = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "group_id": group_id, "title": "Gempa besar Jakarta minggu depan",
        "claim": QUESTIONS[0], "verdict": "HOAKS", "summary": "Gempa tidak bisa diramal.",
        "url": "https://example.org/gempa", "lang": "id", "action": "publish"})
    assert saved.status_code == 302 and f"/editors/inbox/{group_id}/link" in saved.location
    claim_id = parse_qs(urlsplit(saved.location).query)["claim_id"][0]
    with claims.db.session_scope(client.application) as session:
        assert session.query(OutboxMessage).count() == 0  # nothing is sent before confirming
    return confirm_link(client, group_id, claim_id)


def test_addresses_are_kept_encrypted_only_for_open_whatsapp_questions(app):
    ask(app, "gempa besar jakarta minggu depan", NUMBERS[0])
    ask(app, "vaksin chip", NUMBERS[1])  # answered: no address
    ask(app, "gempa besar jakarta minggu depan", "web:xyz", channel="web")
    with claims.db.session_scope(app) as session:
        rows = session.query(ReplyAddress).all()
        assert len(rows) == 1 and "6281200000001" not in rows[0].ciphertext
        assert timedelta(hours=23) < rows[0].expires_at - utcnow() <= timedelta(hours=24)


def test_publishing_for_a_group_answers_everyone_once(app, client, twilio):
    group_id = make_group(app, client)
    assert publish_for_group(client, group_id).status_code == 302
    report = run_pass(app)
    assert report["sent"] == 3
    assert sorted(m["To"] for m in twilio.messages) == NUMBERS
    with claims.db.session_scope(app) as session:
        claim = session.query(InboxGroup).one().claim_id
        from claims.models import Claim
        expected = replies.match(session.get(Claim, claim), "id")
        rows = session.query(OutboxMessage).all()
        assert {r.status for r in rows} == {"sent"} and all(r.twilio_sid.startswith("SM") for r in rows)
        assert session.query(ReplyAddress).count() == 0  # forgotten once sent
        assert {r.status for r in session.query(RequestLog).all() if r.channel == "whatsapp"} == {"answered"}
    assert {m["Body"] for m in twilio.messages} == {expected}
    assert {m["From"] for m in twilio.messages} == {WHATSAPP_FROM}
    # Publishing again, linking again, another pass: nobody gets it twice.
    client.post(f"/editors/claims/{claim}/status", data={"csrf_token": csrf(client), "action": "unpublish"})
    client.post(f"/editors/claims/{claim}/status", data={"csrf_token": csrf(client), "action": "publish"})
    confirm_link(client, group_id, claim)
    run_pass(app)
    assert len(twilio.messages) == 3
    page = client.get(f"/editors/inbox/{group_id}").text
    assert 'id="sent-count">3<' in page


def test_one_sender_asking_twice_gets_one_answer(app, client, twilio):
    group_id = make_group(app, client, numbers=[NUMBERS[0]] * 3, web=False)
    publish_for_group(client, group_id)
    run_pass(app)
    assert len(twilio.messages) == 1


def test_outside_the_24_hour_window_is_recorded_not_sent(app, client, twilio):
    group_id = make_group(app, client)
    with claims.db.session_scope(app) as session:
        late = session.query(ReplyAddress).order_by(ReplyAddress.request_id).first()
        late.expires_at = utcnow() - timedelta(minutes=1)
    publish_for_group(client, group_id)
    assert run_pass(app)["sent"] == 2
    with claims.db.session_scope(app) as session:
        statuses = sorted(r.status for r in session.query(OutboxMessage).all())
        assert statuses == ["sent", "sent", "skipped_window"]
    page = client.get(f"/editors/inbox/{group_id}").text
    assert 'id="skipped-count">1<' in page
    assert "di luar 24 jam" in client.get("/editors/dashboard").text


def test_window_closing_while_queued_is_not_sent(app, client, twilio):
    group_id = make_group(app, client, web=False)
    publish_for_group(client, group_id)
    with claims.db.session_scope(app) as session:
        for row in session.query(ReplyAddress).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
    report = run_pass(app)
    assert report["sent"] == 0 and report["skipped_window"] == 3 and twilio.messages == []
    with claims.db.session_scope(app) as session:
        assert session.query(ReplyAddress).count() == 0  # purged


@pytest.mark.db
def test_pending_answers_survive_a_restart_and_a_dead_sender_is_never_resent(tmp_path, twilio):
    config = editors_config(INBOX_GROUP_THRESHOLD=0.75, TWILIO_API_BASE=twilio.url)
    first = make_app(tmp_path, **config)
    add_account(first)
    client = first.test_client()
    login(client)
    group_id = make_group(first, client, web=False)
    publish_for_group(client, group_id)
    with claims.db.session_scope(first) as session:
        crashed = session.query(OutboxMessage).order_by(OutboxMessage.id).first()
        crashed.status, crashed.updated_at = "sending", utcnow() - timedelta(minutes=10)
    first.extensions["factcheck.db"].engine.dispose()

    second = make_app(tmp_path, **config)  # the process came back
    report = run_pass(second)
    assert report["sent"] == 2 and report["uncertain"] == 1
    with claims.db.session_scope(second) as session:
        assert sorted(r.status for r in session.query(OutboxMessage).all()) == ["sent", "sent", "uncertain"]
    assert run_pass(second)["sent"] == 0 and len(twilio.messages) == 2
    second.extensions["factcheck.db"].engine.dispose()


@pytest.mark.db
def test_after_a_restart_any_request_resumes_pending_answers(tmp_path, twilio):
    """No editor needs to log in: a webhook or a search starts the new process's sender."""
    import time
    config = editors_config(INBOX_GROUP_THRESHOLD=0.75, TWILIO_API_BASE=twilio.url)
    first = make_app(tmp_path, **config)  # queues the answers, then "dies" before sending
    add_account(first)
    client = first.test_client()
    login(client)
    publish_for_group(client, make_group(first, client, web=False))
    first.extensions["factcheck.db"].engine.dispose()
    assert twilio.messages == []

    second = make_app(tmp_path, **{**config, "OUTBOX_INTERVAL": 0.2})
    try:
        assert second.test_client().get("/api/search", query_string={"q": "halo"}).status_code == 200
        deadline = time.monotonic() + 10
        while len(twilio.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(m["To"] for m in twilio.messages) == NUMBERS
    finally:
        second.extensions["editors"].outbox.stop()
        second.extensions["factcheck.db"].engine.dispose()


@pytest.mark.db
@pytest.mark.parametrize("status, outcome", [(500, "pending"), (400, "failed")])
def test_twilio_errors_retry_or_fail(tmp_path, status, outcome):
    with FakeTwilio(fail_with=status) as fake:
        app = make_app(tmp_path, **editors_config(INBOX_GROUP_THRESHOLD=0.75, TWILIO_API_BASE=fake.url))
        add_account(app)
        client = app.test_client()
        login(client)
        group_id = make_group(app, client, questions=QUESTIONS[:1], numbers=NUMBERS[:1], web=False)
        publish_for_group(client, group_id)
        run_pass(app)
        with claims.db.session_scope(app) as session:
            row = session.query(OutboxMessage).one()
            assert row.status == outcome and str(status) in row.error
        if outcome == "pending":
            run_pass(app)
            run_pass(app)
            with claims.db.session_scope(app) as session:
                assert session.query(OutboxMessage).one().status == "failed"  # after 3 attempts
        app.extensions["factcheck.db"].engine.dispose()


@pytest.mark.db
def test_the_background_worker_sends_by_itself(tmp_path, twilio):
    import time
    app = make_app(tmp_path, **editors_config(INBOX_GROUP_THRESHOLD=0.75, TWILIO_API_BASE=twilio.url,
                                              OUTBOX_INTERVAL=0.2))
    try:
        add_account(app)
        client = app.test_client()
        login(client)
        group_id = make_group(app, client, web=False)
        publish_for_group(client, group_id)
        deadline = time.monotonic() + 10
        while len(twilio.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(twilio.messages) == 3
    finally:
        app.extensions["editors"].outbox.stop()
        app.extensions["factcheck.db"].engine.dispose()


def test_send_command(app, client, twilio):
    group_id = make_group(app, client, web=False)
    publish_for_group(client, group_id)
    result = app.test_cli_runner().invoke(args=["editors", "send"])
    assert result.exit_code == 0 and "sent 3" in result.output
    assert "6281200000001" not in result.output


# --- confirming a link, changing it, undoing it, retrying by hand -------------------------------

SECOND_CLAIM = {"id": "c2", "title": "Video tsunami Aceh itu *rekaman lama*", "claim": "video tsunami",
                "verdict": "SALAH", "summary": "Rekaman dari 2004.", "url": "https://example.org/c2"}


def test_linking_shows_who_gets_what_and_sends_nothing_until_confirmed(app, client, twilio):
    group_id = make_group(app, client)  # three WhatsApp askers and one web asker
    with claims.db.session_scope(app) as session:
        late = session.query(ReplyAddress).order_by(ReplyAddress.request_id).first()
        late.expires_at = utcnow() - timedelta(minutes=1)
    page, send = link_preview(client, group_id, "c1")
    assert send == 2
    assert 'id="plan-send"><b>2</b>' in page and 'id="plan-outside">1<' in page
    assert 'id="plan-already">0<' in page and 'id="plan-web">1<' in page
    with claims.db.session_scope(app) as session:
        from claims.models import Claim
        message = replies.match(session.get(Claim, "c1"), "id")
        assert session.query(OutboxMessage).count() == 0
        assert session.get(InboxGroup, group_id).status == "open"
    assert str(to_html(message)) in page and "<strong>HOAKS</strong>" in page
    assert f"{wa_len(message)} / 1600" in page
    # A stale confirmation (someone asked since) is shown again, not sent.
    stale = client.post(f"/editors/inbox/{group_id}/link",
                        data={"csrf_token": csrf(client), "claim_id": "c1", "send": 1})
    assert stale.status_code == 409 and 'id="changed"' in stale.text
    with claims.db.session_scope(app) as session:
        assert session.query(OutboxMessage).count() == 0
    confirm_link(client, group_id, "c1")
    assert run_pass(app)["sent"] == 2 and {m["Body"] for m in twilio.messages} == {message}


def test_unlink_cancels_what_waits_and_keeps_what_was_sent(app, client, twilio):
    group_id = make_group(app, client, web=False)
    confirm_link(client, group_id, "c1")
    with claims.db.session_scope(app) as session:  # one went out before the editor changed their mind
        first = session.query(OutboxMessage).order_by(OutboxMessage.id).first()
        first.status, first.twilio_sid = "sent", "SM" + "1" * 32
    client.post(f"/editors/inbox/{group_id}/unlink", data={"csrf_token": csrf(client)})
    assert run_pass(app)["sent"] == 0 and twilio.messages == []
    with claims.db.session_scope(app) as session:
        assert sorted(r.status for r in session.query(OutboxMessage)) == ["cancelled", "cancelled", "sent"]
        group = session.get(InboxGroup, group_id)
        assert (group.status, group.claim_id) == ("open", None)
        assert sorted(r.status for r in session.query(RequestLog)) == ["answered", "open", "open"]
    page = client.get(f"/editors/inbox/{group_id}").text
    assert 'id="sent-count">1<' in page and 'id="cancelled-count">2<' in page
    assert "SM" + "1" * 32 in page  # what was sent stays listed
    # Linked again later: the two who got nothing get it now, the first not twice.
    _, send = link_preview(client, group_id, "c1")
    assert send == 2
    confirm_link(client, group_id, "c1")
    assert run_pass(app)["sent"] == 2


def test_relinking_cancels_what_waits_and_sends_the_new_fact_check(app, client, twilio, add_claims):
    add_claims(app, [SECOND_CLAIM])
    group_id = make_group(app, client, web=False)
    confirm_link(client, group_id, "c1")  # queued, not sent yet: the editor picked the wrong one
    page, send = link_preview(client, group_id, "c2")
    assert send == 3 and 'id="relink"' in page and "Vaksin mengandung chip" in page
    assert "<strong>Video tsunami Aceh itu rekaman lama</strong>" in page
    confirm_link(client, group_id, "c2")
    assert run_pass(app)["sent"] == 3
    assert all("Video tsunami Aceh" in m["Body"] for m in twilio.messages)
    with claims.db.session_scope(app) as session:
        assert session.get(InboxGroup, group_id).claim_id == "c2"
        assert sorted((r.claim_id, r.status) for r in session.query(OutboxMessage)) == \
            [("c1", "cancelled")] * 3 + [("c2", "sent")] * 3


def test_relinking_after_sending_says_who_can_no_longer_be_written_to(app, client, twilio, add_claims):
    add_claims(app, [SECOND_CLAIM])
    group_id = make_group(app, client, web=False)
    confirm_link(client, group_id, "c1")
    assert run_pass(app)["sent"] == 3  # and the addresses are gone with the answers
    page, send = link_preview(client, group_id, "c2")
    assert send == 0 and 'id="plan-answered">3<' in page and 'id="plan-outside">0<' in page
    assert 'id="relink"' in page
    confirm_link(client, group_id, "c2")
    assert run_pass(app)["sent"] == 0 and len(twilio.messages) == 3
    page = client.get(f"/editors/inbox/{group_id}").text
    assert 'id="sent-count">3<' in page and page.count("Vaksin mengandung chip") >= 3


@pytest.mark.db
@pytest.mark.parametrize("status", ["failed", "uncertain"])
def test_a_failed_or_uncertain_send_is_retried_by_a_person_who_sees_why(tmp_path, status):
    with FakeTwilio(fail_with=400) as fake:
        app = editors_app(tmp_path, [CHIP_CLAIM], INBOX_GROUP_THRESHOLD=0.75, TWILIO_API_BASE=fake.url)
        try:
            client = logged_in(app)
            group_id = make_group(app, client, questions=QUESTIONS[:1], numbers=NUMBERS[:1], web=False)
            confirm_link(client, group_id, "c1")
            run_pass(app)
            with claims.db.session_scope(app) as session:
                row = session.query(OutboxMessage).one()
                if status == "uncertain":
                    row.status, row.error = "uncertain", "unknown outcome: read timed out"
                row_id, why = row.id, row.error
            # The recorded reason, in the page's language; Twilio's own words as they came.
            assert why.replace("unknown outcome:", "hasil tidak diketahui:") in client.get("/editors/outbox").text
            assert 'id="troubled">1 ' in client.get("/editors/inbox").text
            fake.fail_with = None
            retry = client.post(f"/editors/outbox/{row_id}/retry", data={"csrf_token": csrf(client)})
            assert retry.status_code == 302
            if status == "uncertain":  # may have arrived: only after the person checked Twilio's log
                assert run_pass(app)["sent"] == 0
                client.post(f"/editors/outbox/{row_id}/retry", data={"csrf_token": csrf(client), "checked": "1"})
            assert run_pass(app)["sent"] == 1 and len(fake.messages) == 1
            with claims.db.session_scope(app) as session:
                row = session.get(OutboxMessage, row_id)
                assert row.status == "sent" and row.actor == "redaksi"
        finally:
            app.extensions["factcheck.db"].engine.dispose()


def test_a_send_outside_the_window_cannot_be_retried(app, client):
    group_id = make_group(app, client, questions=QUESTIONS[:1], numbers=NUMBERS[:1], web=False)
    confirm_link(client, group_id, "c1")
    with claims.db.session_scope(app) as session:
        row = session.query(OutboxMessage).one()
        row.status, row.error = "failed", "Twilio 400: boom"
        session.query(ReplyAddress).one().expires_at = utcnow() - timedelta(minutes=1)
        row_id = row.id
    assert "Di luar 24 jam" in client.get("/editors/outbox").text
    client.post(f"/editors/outbox/{row_id}/retry", data={"csrf_token": csrf(client)})
    with claims.db.session_scope(app) as session:
        assert session.get(OutboxMessage, row_id).status == "failed"


def test_a_group_linked_to_a_draft_is_answered_after_publishing_and_confirming(app, client, twilio,
                                                                                add_claims):
    add_claims(app, [SECOND_CLAIM], status="draft")
    group_id = make_group(app, client, web=False)
    page, _ = link_preview(client, group_id, "c2")
    assert 'id="draft"' in page and 'id="plan-send"><b>0</b>' in page
    confirm_link(client, group_id, "c2")
    assert run_pass(app)["sent"] == 0
    published = client.post("/editors/claims/c2/status", data={"csrf_token": csrf(client), "action": "publish"})
    assert published.location.endswith(f"/editors/inbox/{group_id}/link?claim_id=c2")
    assert run_pass(app)["sent"] == 0  # publishing alone answers nobody
    confirm_link(client, group_id, "c2")
    assert run_pass(app)["sent"] == 3
