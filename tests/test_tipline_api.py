"""The JSON API (/api/search, /api/messages) and the chat page's HTML."""

import http.client
import io
import json
import re

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from claims.db import get_session, session_scope
from claims.store import save_claim
from index import Match, SearchResult
from tipline import hoaxes
from tests.conftest import LiveServer
from tipline.models import RequestLog, SenderState

CLAIMS = [
    {"id": "vaksin-chip", "title": "Vaksin COVID-19 mengandung chip pelacak", "verdict": "HOAKS",
     "claim": "Vaksin COVID-19 berisi microchip untuk melacak orang",
     "summary": "Vaksin tidak berisi chip.", "url": "https://cekfakta.example.org/vaksin-chip"},
    {"id": "bansos-wa", "title": "Pendaftaran bansos lewat tautan WhatsApp", "verdict": "PENIPUAN",
     "claim": "Daftar bansos 600 ribu lewat tautan ini", "summary": "Tautan itu mencuri data.",
     "url": "https://cekfakta.example.org/bansos-wa"},
    {"id": "banjir-video", "title": "Video banjir Jakarta hari ini", "verdict": "MENYESATKAN",
     "claim": "Video banjir besar di Jakarta hari ini", "summary": "Video lama dari 2020.",
     "url": "https://cekfakta.example.org/banjir-video"},
]


class FakeSearcher:
    """A fixed ranking; records the k it was asked for."""

    def __init__(self, decision="choices", ids=()):
        self.decision, self.ids, self.asked = decision, list(ids), []

    def search(self, text, k=5, embed=True):
        self.asked.append(k)
        matches = [Match(i, round(1 - n / 100, 2)) for n, i in enumerate(self.ids)]
        return SearchResult(self.decision, matches[:k])


@pytest.fixture
def saved(app):
    with app.app_context(), session_scope() as session:
        for row in CLAIMS:
            save_claim(session, row)
    return app


@pytest.fixture
def fake(app, saved, monkeypatch):
    searcher = FakeSearcher()
    monkeypatch.setattr(app.extensions["tipline"], "searcher", searcher)
    return searcher


def count(app, model):
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model))


def test_search_finds_the_claim_in_the_real_index(app, client, add_claims):
    add_claims(app, CLAIMS)
    response = client.get("/api/search", query_string={"q": "vaksin chip"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["decision"] in ("match", "choices", "no_match")
    assert body["matches"][0] == {
        "id": "vaksin-chip", "title": "Vaksin COVID-19 mengandung chip pelacak",
        "verdict": "false", "url": "https://cekfakta.example.org/vaksin-chip",
        "score": body["matches"][0]["score"], "also": [],  # no other fact-check of its hoax
    }
    assert 0 <= body["matches"][0]["score"] <= 1
    scores = [m["score"] for m in body["matches"]]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 5


def test_quick_search_through_the_api_uses_keywords_until_the_query_has_a_vector(app, client, add_claims):
    add_claims(app, CLAIMS)
    query = {"q": "chip pelacak vaksin covid", "quick": "1"}
    quick = client.get("/api/search", query_string=query).get_json()
    assert quick["quick"] is True and quick["decision"] in ("choices", "no_match")
    assert quick["matches"][0]["id"] == "vaksin-chip" and quick["matches"][0]["score"] == 1.0
    full = client.get("/api/search", query_string={"q": query["q"]}).get_json()
    assert full["quick"] is False and full["matches"][0]["id"] == "vaksin-chip"
    assert client.get("/api/search", query_string=query).get_json()["quick"] is False  # vector at hand


@pytest.mark.parametrize("decision", ["match", "choices", "no_match"])
def test_search_returns_the_top_k_in_rank_order_whatever_the_decision(client, fake, decision):
    fake.decision, fake.ids = decision, ["banjir-video", "gone", "vaksin-chip", "bansos-wa"]
    body = client.get("/api/search?q=video&k=3").get_json()
    assert body["decision"] == decision
    # "gone" is no longer in the library: the next candidate fills its place
    assert [m["id"] for m in body["matches"]] == ["banjir-video", "vaksin-chip", "bansos-wa"]
    assert [m["score"] for m in body["matches"]] == [1.0, 0.98, 0.97]


@pytest.mark.parametrize("k, shown", [(None, 5), ("1", 1), ("50", 50), ("500", 50)])
def test_search_k_defaults_to_5_and_stops_at_50(client, fake, k, shown):
    query = {"q": "vaksin"} if k is None else {"q": "vaksin", "k": k}
    assert client.get("/api/search", query_string=query).status_code == 200
    # more candidates than shown, so that groups collapsed into one entry leave enough
    assert fake.asked == [hoaxes.candidates(shown)]


@pytest.mark.parametrize(
    "query",
    [{}, {"q": ""}, {"q": "   "}, {"q": "vaksin", "k": "lima"}, {"q": "vaksin", "k": "0"},
     {"q": "vaksin", "k": "-3"}],
    ids=["no_q", "empty_q", "blank_q", "k_word", "k_zero", "k_negative"],
)
def test_search_refuses_bad_requests_with_a_json_error(client, fake, query):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"]
    assert fake.asked == []


def test_search_is_not_written_to_the_request_log(app, client, fake):
    for _ in range(3):
        client.get("/api/search?q=vaksin+chip")
    assert count(app, RequestLog) == 0 and count(app, SenderState) == 0


def test_search_without_an_index_says_so(app, client, saved, monkeypatch):
    monkeypatch.setattr(app.extensions["tipline"], "searcher", None)
    response = client.get("/api/search?q=vaksin")
    assert response.status_code == 503 and response.get_json()["error"]


def test_messages_is_the_same_conversation_as_whatsapp(app, client, fake):
    fake.decision, fake.ids = "choices", ["banjir-video", "vaksin-chip"]
    first = client.post("/api/messages", json={"text": "video viral", "session": "s-123"})
    assert first.status_code == 200
    assert first.get_json()["decision"] == "choices"
    assert "Balas 1 atau 2" in first.get_json()["reply"]
    second = client.post("/api/messages", json={"text": "2", "session": "s-123"}).get_json()
    assert second["decision"] == "choice" and second["claim_id"] == "vaksin-chip"
    assert second["reply"].startswith("❌ *HOAKS*")
    other = client.post("/api/messages", json={"text": "2", "session": "s-999"}).get_json()
    assert other["decision"] == "choice_expired"
    with app.app_context():
        rows = get_session().scalars(select(RequestLog)).all()
    assert {r.channel for r in rows} == {"web"} and len(rows) == 3
    assert all("s-123" not in r.sender_hash for r in rows)


@pytest.mark.parametrize(
    "text, decision",
    [("halo", "greeting"), ("", "empty"), (None, "empty"), ("\x00", "empty"),
     ("help", "help"), ("x" * 10_000, "choices")],
)
def test_messages_answers_anything_a_client_sends(client, fake, text, decision):
    fake.ids = ["vaksin-chip"]
    response = client.post("/api/messages", json={"text": text, "session": "abc"})
    assert response.status_code == 200
    assert response.get_json()["decision"] == decision


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"data": "not json", "content_type": "text/plain"}, 400),
        ({"data": "{broken", "content_type": "application/json"}, 400),
        ({"json": ["a", "list"]}, 400),
        ({"json": {"text": "halo"}}, 400),
        ({"json": {"text": "halo", "session": ""}}, 400),
        ({"json": {"text": "halo", "session": 12}}, 400),
        ({"json": {"text": "halo", "session": "s" * 201}}, 400),
        ({"json": {"text": ["halo"], "session": "abc"}}, 400),
        ({"json": {"text": "x" * 70_000, "session": "abc"}}, 413),
    ],
    ids=["text_plain", "broken_json", "list", "no_session", "empty_session", "number_session",
         "long_session", "list_text", "too_large"],
)
def test_messages_refuses_malformed_requests(app, client, fake, kwargs, status):
    response = client.post("/api/messages", **kwargs)
    assert response.status_code == status and response.get_json()["error"]
    assert count(app, RequestLog) == 0


def test_the_chat_page_is_self_contained_and_indonesian_first(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "/tipline/static/chat.js" in html and "/tipline/static/chat.css" in html
    assert "vaksin chip" in html
    assert re.findall(r'(?:src|href)="(?!/|data:)', html) == []  # nothing from elsewhere
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for asset in ("chat.js", "chat.css"):
        with client.get(f"/tipline/static/{asset}") as static:
            assert static.status_code == 200


@pytest.mark.parametrize("path, status, indexed", [
    ("/", 200, True), ("/jawaban/AAAAA-AAAAA", 404, False), ("/no-such-page", 404, False)])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_public_pages_share_one_frame(client, path, status, indexed, lang):
    """tipline/base.html: one head and header; only the chat page is for search engines."""
    response = client.get(path, headers={"Accept-Language": lang})
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert html.startswith(f'<!doctype html>\n<html lang="{lang}">')
    assert html.count('<link rel="icon" href="data:image/svg+xml') == 1
    assert html.count('href="/tipline/static/chat.css"') == 1
    assert re.search(r'<header class="bar">\s*<div class="avatar"', html)
    assert ('<meta name="robots" content="noindex">' in html) is not indexed


@pytest.mark.parametrize("env, shown", [("demo", True), ("testing", False)])
def test_the_demo_note_shows_only_in_demo(app, client, env, shown):
    app.config["ENV"] = env
    html = client.get("/").get_data(as_text=True)
    assert ("data demo" in html) is shown


# --- the web chat: rendered replies, the chosen language, coming back for the desk's answer ----


def test_messages_come_rendered_as_whatsapp_shows_them(client, fake):
    fake.decision, fake.ids = "match", ["vaksin-chip"]
    data = client.post("/api/messages", json={"text": "vaksin chip", "session": "s1"}).get_json()
    assert data["reply"].startswith("❌ *HOAKS*")
    assert data["html"].startswith("❌ <strong>HOAKS</strong>")
    assert '<a href="https://cekfakta.example.org/vaksin-chip"' in data["html"]


@pytest.mark.parametrize("lang, marker", [("en", "Sorry"), ("id", "Maaf"), (None, "Maaf")])
def test_the_page_switch_asks_for_the_reply_language(client, fake, lang, marker):
    fake.decision, fake.ids = "no_match", []
    payload = {"text": "vaksin chip", "session": "s1"} | ({"lang": lang} if lang else {})
    assert client.post("/api/messages", json=payload).get_json()["reply"].startswith(marker)


def test_an_unknown_language_is_refused(app, client, fake):
    response = client.post("/api/messages", json={"text": "halo", "session": "s1", "lang": "fr"})
    assert response.status_code == 400 and count(app, RequestLog) == 0


@pytest.mark.parametrize("steps", [["gempa besok di jakarta"], ["video viral", "0"]],
                         ids=["no_match", "none_of_these"])
def test_a_web_question_left_to_the_desk_gets_a_code_to_come_back_with(app, client, fake, steps):
    fake.decision, fake.ids = ("no_match", []) if len(steps) == 1 else ("choices", ["banjir-video"])
    for text in steps:
        data = client.post("/api/messages", json={"text": text, "session": "s1"}).get_json()
    code = data["followup"]
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code)
    assert "tidak bisa kami hubungi" in data["reply"] and f"*{code}*" in data["reply"]
    assert f"/jawaban/{code}" in data["reply"]
    waiting = client.get(f"/api/followup/{code}").get_json()
    assert waiting["status"] == "waiting" and waiting["question"] == steps[0] and waiting["reply"] == ""
    page = client.get(f"/jawaban/{code.lower().replace('-', ' ')}")  # as typed by hand
    assert page.status_code == 200 and "belum menjawab" in page.text and steps[0] in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_followup_shows_the_desk_answer_once_the_group_is_linked(app, client, fake):
    from editors.models import InboxGroup
    from tests.editors_support import add_account, confirm_link, login

    fake.decision, fake.ids = "no_match", []
    code = client.post("/api/messages", json={"text": "gempa besok di jakarta",
                                              "session": "s1"}).get_json()["followup"]
    add_account(app)
    editor = app.test_client()
    login(editor)
    with session_scope(app) as session:
        group_id = session.scalars(select(InboxGroup.id)).one()
    confirm_link(editor, group_id, "vaksin-chip")
    answered = client.get(f"/api/followup/{code}").get_json()
    assert answered["status"] == "answered" and answered["reply"].startswith("❌ *HOAKS*")
    assert "<strong>HOAKS</strong>" in answered["html"]
    assert "Vaksin COVID-19 mengandung chip pelacak" in client.get(f"/jawaban/{code}").text
    assert client.get(f"/api/followup/{code}?lang=en").get_json()["reply"].startswith("❌ *FALSE*")


@pytest.mark.parametrize("code", ["AAAAA-AAAAA", "nope", "00000-00000", "A" * 200])
def test_an_unknown_code_shows_nothing(client, code):
    assert client.get(f"/api/followup/{code}").status_code == 404
    assert client.get(f"/jawaban/{code}").status_code == 404


def test_whatsapp_questions_get_no_code(app, client, fake):
    from tests.test_editors_inbox import ask

    fake.decision, fake.ids = "no_match", []
    reply = ask(app, "gempa besok di jakarta", searcher=fake)
    assert reply.followup is None and "kode" not in reply.text


@pytest.mark.parametrize("k, asked", [(None, 5), (1, 1), ("2", 2), (50, 50), (500, 50)])
def test_search_by_post_takes_a_json_body_and_clamps_k_as_get_does(client, fake, k, asked):
    fake.ids = ["banjir-video", "vaksin-chip", "bansos-wa"]
    body = {"q": "video banjir " * 1000} if k is None else {"q": "video", "k": k}
    response = client.post("/api/search", json=body)
    assert response.status_code == 200
    # the search is asked for more, so that the list still fills once one hoax's twins collapse
    assert fake.asked == [hoaxes.candidates(asked)] and response.get_json()["k"] == asked
    if k is not None:
        got = client.get("/api/search", query_string={"q": "video", "k": k}).get_json()
        assert got == response.get_json()


@pytest.mark.parametrize("body", [
    {}, {"q": ""}, {"q": 12}, {"q": ["vaksin"]}, {"q": "vaksin", "k": 0}, {"q": "vaksin", "k": 2.5},
    {"q": "vaksin", "k": True}, {"q": "vaksin", "k": "lima"}, {"q": "vaksin", "quick": "yes"},
    ["vaksin"], "vaksin"])
def test_search_by_post_refuses_bad_bodies_with_a_json_error(client, fake, body):
    response = client.post("/api/search", json=body)
    assert response.status_code == 400 and response.get_json()["error"]
    assert fake.asked == []
    broken = client.post("/api/search", data="{broken", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"]


def chunks(body: bytes):
    """A body sent in pieces, with Transfer-Encoding: chunked and no Content-Length."""
    for start in range(0, len(body), 16 * 1024):
        yield body[start:start + 16 * 1024]


def post_chunked(server, path, body: bytes):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("POST", path, body=chunks(body), encode_chunked=True,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


# Beyond the API's 64 KB, and beyond MAX_CONTENT_LENGTH (256 KB), where werkzeug would cut the
# stream short and the JSON would look broken (a 400) rather than too large.
@pytest.mark.parametrize("size", [70_000, 300_000])
@pytest.mark.parametrize("path, field", [("/api/search", "q"), ("/api/messages", "text")])
def test_an_oversized_chunked_body_gets_413_from_a_real_server(app, saved, size, path, field):
    body = json.dumps({field: "x" * size, "session": "s1"}).encode()
    with LiveServer(app) as server:
        status, answer = post_chunked(server, path, body)
        assert status == 413 and answer["error"]
        small = json.dumps({field: "vaksin chip", "session": "s1"}).encode()
        status, answer = post_chunked(server, path, small)  # chunked but small: served
        assert status == 200
    assert count(app, RequestLog) == (1 if path == "/api/messages" else 0)


def test_an_oversized_streamed_body_gets_413_through_the_test_client(client, fake):
    body = json.dumps({"q": "x" * 70_000}).encode()
    environ = EnvironBuilder(path="/api/search", method="POST", input_stream=io.BytesIO(body),
                             content_type="application/json").get_environ()
    # What a server does with a chunked body: no Content-Length, the stream ends by itself.
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    response = client.open(environ)
    assert response.status_code == 413 and response.get_json()["error"]
    assert fake.asked == []
