"""Grouping as questions arrive, and questions answered from a group the desk already linked."""
import pytest

import claims.db
from claims.store import set_status
from editors.models import InboxGroup, InboxMember
from tests.editors_support import CHIP_CLAIM, confirm_link, editors_app, logged_in
from tests.test_editors_inbox import ask
from tipline.models import RequestLog

GEMPA = ["gempa besar jakarta minggu depan", "gempa besar jakarta minggu depan?"]


@pytest.fixture
def app(tmp_path):
    app = editors_app(tmp_path, [CHIP_CLAIM], INBOX_GROUP_THRESHOLD=0.75)
    yield app
    app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture
def client(app):
    return logged_in(app)


def membership(app):
    """{question: (group label, group status)} for every grouped request."""
    with claims.db.session_scope(app) as session:
        rows = session.query(RequestLog.text, InboxGroup.label, InboxGroup.status) \
            .join(InboxMember, InboxMember.request_id == RequestLog.id) \
            .join(InboxGroup, InboxGroup.id == InboxMember.group_id).all()
        return {text: (label, status) for text, label, status in rows}


def group_id_of(app, label):
    with claims.db.session_scope(app) as session:
        return session.query(InboxGroup).filter_by(label=label).one().id


def test_a_question_is_grouped_when_it_arrives_not_when_the_inbox_opens(app):
    ask(app, GEMPA[0])
    assert membership(app) == {GEMPA[0]: (GEMPA[0], "open")}  # nobody opened the inbox
    ask(app, GEMPA[1], "whatsapp:+6281200000002")
    ask(app, "harga cabai naik tiga kali lipat", "whatsapp:+6281200000003")
    found = membership(app)
    assert found[GEMPA[1]] == (GEMPA[0], "open")
    assert found["harga cabai naik tiga kali lipat"][0] == "harga cabai naik tiga kali lipat"


def test_a_question_on_a_linked_topic_is_answered_from_the_group_and_joins_it(app, client):
    ask(app, GEMPA[0])
    group_id = group_id_of(app, GEMPA[0])
    confirm_link(client, group_id, "c1")
    later = ask(app, "gempa besar jakarta minggu depan!!", "web:later", channel="web")
    assert (later.decision, later.claim_id) == ("match", "c1")
    assert "Vaksin mengandung chip" in later.text and "*0*" in later.text  # "not this one?" offered
    assert membership(app)["gempa besar jakarta minggu depan!!"] == (GEMPA[0], "linked")
    with claims.db.session_scope(app) as session:
        row = session.query(RequestLog).filter_by(text="gempa besar jakarta minggu depan!!").one()
        assert row.status == "answered"
    # "0": not this one. The question goes back to the desk, in an open group of its own.
    assert ask(app, "0", "web:later", channel="web").decision == "rejected"
    assert membership(app)["gempa besar jakarta minggu depan!!"] == \
        ("gempa besar jakarta minggu depan!!", "open")


def test_a_linked_group_whose_fact_check_was_retired_answers_nobody(app, client):
    ask(app, GEMPA[0])
    confirm_link(client, group_id_of(app, GEMPA[0]), "c1")
    with claims.db.session_scope(app) as session:
        set_status(session, "c1", "retired", actor="test")
    later = ask(app, GEMPA[1], "whatsapp:+6281200000009")
    assert later.decision == "no_match"
    assert membership(app)[GEMPA[1]] == (GEMPA[1], "open")


def test_an_unrelated_question_next_to_a_linked_group_still_goes_to_the_desk(app, client):
    ask(app, GEMPA[0])
    confirm_link(client, group_id_of(app, GEMPA[0]), "c1")
    other = ask(app, "harga cabai naik tiga kali lipat", "whatsapp:+6281200000004")
    assert other.decision == "no_match"
    assert membership(app)["harga cabai naik tiga kali lipat"][1] == "open"


def test_a_failing_encoder_still_answers_and_the_question_is_grouped_later(app, monkeypatch):
    from app import parts

    encoder = parts(app).searcher.encoder

    def broken(texts):
        raise RuntimeError("encoder down")

    real = encoder.encode_queries
    monkeypatch.setattr(encoder, "encode_queries", broken)
    reply = ask(app, "ada virus baru dari kelelawar di bandung")
    assert reply.decision in ("no_match", "error")
    assert membership(app) == {}
    monkeypatch.setattr(encoder, "encode_queries", real)
    result = app.test_cli_runner().invoke(args=["editors", "group"])
    assert result.exit_code == 0 and "1 question(s) grouped" in result.output
    assert list(membership(app)) == ["ada virus baru dari kelelawar di bandung"]
