"""POST /whatsapp: Twilio signatures, TwiML replies, replays and the privacy of senders."""

import logging
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import MetaData, Table, func, inspect, select
from twilio.request_validator import RequestValidator

from claims.db import get_session, session_scope
from claims.store import save_claim
from index import Match, SearchResult
from tipline.models import RequestLog
from tipline.whatsapp import MAX_CHARS, wa_len
from app import parts

URL = "http://localhost/whatsapp"
DIGITS = "6281234567890"
NUMBER = "whatsapp:+" + DIGITS
PROFILE = "Budi Santoso Kusumo"


class FakeSearcher:
    """Returns a fixed ranking for every text."""

    def __init__(self, decision, ids):
        self.decision, self.ids = decision, ids

    def search(self, text, k=5, embed=True):
        return SearchResult(self.decision, [Match(i, 0.8) for i in self.ids][:k])


def message(body="halo", sid="SM00000000000000000000000000000001", **extra):
    """The form fields Twilio posts for an incoming WhatsApp message."""
    return {
        "SmsMessageSid": sid, "MessageSid": sid, "AccountSid": "AC" + "0" * 32,
        "From": NUMBER, "To": "whatsapp:+14155238886", "Body": body, "NumMedia": "0",
        "ProfileName": PROFILE, "WaId": DIGITS, "NumSegments": "1", **extra,
    }


def post(client, sign, params, url=URL, path="/whatsapp", signature=None):
    headers = {"X-Twilio-Signature": sign(url, params) if signature is None else signature}
    return client.post(path, data=params, headers=headers)


def twiml_reply(response) -> str:
    """The text of the one <Message> in a TwiML response (parsing fails on invalid XML)."""
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    [reply] = root.findall("Message")
    return reply.text


@pytest.fixture
def fake_search(app, monkeypatch):
    """Put a fixed ranking in place of the index, with a few claims behind it."""
    with app.app_context(), session_scope() as session:
        for n in range(3):
            save_claim(session, {
                "id": f"long-{n}", "verdict": "HOAKS", "claim": "klaim",
                "title": f"Judul {n} <b>&amp;</b> " + "sangat panjang " * 200,
                "summary": "Ringkasan yang panjang sekali. " * 200,
                "url": f"https://cekfakta.example.org/{n}/" + "x" * 500,
            })

    def use(decision, ids=("long-0", "long-1", "long-2")):
        monkeypatch.setattr(app.extensions["tipline"], "searcher", FakeSearcher(decision, ids))
    return use


def count_requests(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(RequestLog))


def test_a_signed_message_gets_a_twiml_reply(client, sign, app):
    text = twiml_reply(post(client, sign, message("halo")))
    assert text.startswith("Halo! 👋")
    assert count_requests(app) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda params, sign: ({"X-Twilio-Signature": None}, params),
        lambda params, sign: ({"X-Twilio-Signature": ""}, params),
        lambda params, sign: ({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, params),
        lambda params, sign: ({"X-Twilio-Signature": sign("https://other.example/whatsapp",
                                                           params)}, params),
        lambda params, sign: ({"X-Twilio-Signature": RequestValidator("wrong-token")
                              .compute_signature(URL, params)}, params),
        lambda params, sign: ({"X-Twilio-Signature": sign(URL, params)},
                              {**params, "Body": "vaksin chip"}),
    ],
    ids=["missing", "empty", "garbage", "other_url", "other_token", "body_changed"],
)
def test_a_bad_signature_is_refused_and_not_logged(client, sign, app, tamper):
    headers, params = tamper(message("halo"), sign)
    headers = {k: v for k, v in headers.items() if v is not None}
    response = client.post("/whatsapp", data=params, headers=headers)
    assert response.status_code == 403
    assert count_requests(app) == 0


@pytest.mark.parametrize(
    "base, public",
    [
        ("https://cekfakta.example.org/", "https://cekfakta.example.org/whatsapp?source=wa"),
        ("https://example.org/tipline", "https://example.org/tipline/whatsapp?source=wa"),
    ],
)
def test_behind_a_proxy_the_public_url_is_what_twilio_signed(client, sign, app, base, public):
    app.config["PUBLIC_URL"] = base
    params = message("halo")
    internal = "http://localhost/whatsapp?source=wa"
    assert post(client, sign, params, url=internal, path="/whatsapp?source=wa",
                ).status_code == 403
    assert twiml_reply(post(client, sign, params, url=public, path="/whatsapp?source=wa"))


def test_without_an_auth_token_every_webhook_is_refused(client, sign, app):
    params = message("halo")
    signature = sign(URL, params)
    app.config["TWILIO_AUTH_TOKEN"] = ""
    response = client.post("/whatsapp", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


@pytest.mark.parametrize("decision", ["match", "choices", "no_match"])
@pytest.mark.parametrize(
    "body",
    ["vaksin chip", "x" * 20_000, "kata " * 3000, "vaksin 😀 " * 1000,
     "<Response>&amp;</Response>"],
    ids=["short", "one_long_word", "many_words", "emoji", "xml"],
)
def test_every_reply_fits_one_whatsapp_message(client, sign, fake_search, decision, body):
    fake_search(decision)
    text = twiml_reply(post(client, sign, message(body)))
    assert 0 < wa_len(text) <= MAX_CHARS
    if decision == "match":
        assert text.startswith("❌ *HOAKS*\n*Judul 0 <b>&amp;</b> sangat panjang")


def test_choices_then_a_digit_over_whatsapp(client, sign, fake_search):
    fake_search("choices")
    listing = twiml_reply(post(client, sign, message("hoaks viral", sid="SM" + "a" * 32)))
    assert "Balas 1, 2 atau 3" in listing
    picked = twiml_reply(post(client, sign, message("2", sid="SM" + "b" * 32)))
    assert picked.startswith("❌ *HOAKS*\n*Judul 1")


@pytest.mark.parametrize(
    "media, marker",
    [({"MediaContentType0": "image/jpeg"}, "gambar"),
     ({"MediaContentType0": "audio/ogg; codecs=opus"}, "pesan suara")],
)
def test_an_attachment_without_a_caption(client, sign, media, marker):
    params = message("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1", **media)
    assert marker in twiml_reply(post(client, sign, params))


def test_a_redelivered_message_is_answered_again_and_logged_once(client, sign, fake_search, app):
    fake_search("match")
    params = message("vaksin chip", sid="SM" + "c" * 32)
    first = post(client, sign, params)
    fake_search("no_match", ())
    second = post(client, sign, params)
    assert twiml_reply(second) == twiml_reply(first)
    assert count_requests(app) == 1


def test_an_unexpected_failure_still_answers_politely(client, sign, app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("tipline.views.respond", broken)
    assert "bermasalah" in twiml_reply(post(client, sign, message("vaksin chip")))


def test_no_phone_number_or_profile_name_ever_reaches_the_database(client, sign, fake_search,
                                                                  app):
    fake_search("choices")
    for n, body in enumerate(["halo", "vaksin chip", "1", "", "makasih"]):
        twiml_reply(post(client, sign, message(body, sid=f"SM{n:032d}")))
    with app.app_context():
        get_session().close()
    engine = app.extensions["factcheck.db"].engine
    if engine.dialect.name == "sqlite":  # every byte of the files, freed pages included
        engine.dispose()  # the last connection closing checkpoints the WAL into the file
        database = Path(engine.url.database)
        files = [p for p in database.parent.glob(database.name + "*") if p.is_file()]
        data = b"".join(p.read_bytes() for p in files)
        assert database in files
    else:  # every value of every table
        with engine.connect() as connection:
            tables = [Table(name, MetaData(), autoload_with=connection)
                      for name in inspect(connection).get_table_names()]
            data = repr([connection.execute(select(table)).all() for table in tables]).encode()
        assert b"SM00000000000000000000000000000001" in data
    assert count_requests(app) == 5
    for secret in (DIGITS, DIGITS[2:], PROFILE):
        assert secret.encode() not in data
        assert secret.encode("utf-16-le") not in data


def test_info_logs_name_the_message_but_never_the_sender_or_the_text(client, sign, caplog):
    caplog.set_level(logging.INFO)
    post(client, sign, message("rahasia pribadi vaksin", sid="SM" + "d" * 32))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "SM" + "d" * 32 in logged
    for secret in (DIGITS, "rahasia pribadi", PROFILE):
        assert secret not in logged


# --- hardening: proxies, body size, concurrent redelivery, the per-sender rate limit ----------


@pytest.mark.parametrize("forwarded", [
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cekfakta.example.org"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "443",
     "X-Forwarded-Prefix": "/x", "Forwarded": "host=evil.example;proto=https"},
])
def test_forwarded_headers_never_decide_the_signed_url(client, sign, app, forwarded):
    """PUBLIC_URL decides; X-Forwarded-* (which anyone can send) are ignored either way."""
    params = message("halo")
    public = "https://cekfakta.example.org/whatsapp"
    signed_public = {"X-Twilio-Signature": sign(public, params), **forwarded}
    # Without PUBLIC_URL the headers do not make the public URL the signed one ...
    assert client.post("/whatsapp", data=params, headers=signed_public).status_code == 403
    # ... and with it, they cannot point the check at another URL.
    app.config["PUBLIC_URL"] = "https://cekfakta.example.org"
    assert twiml_reply(client.post("/whatsapp", data=params, headers=signed_public))
    evil = {"X-Twilio-Signature": sign("https://evil.example/x/whatsapp", params), **forwarded}
    assert client.post("/whatsapp", data=params, headers=evil).status_code == 403
    assert count_requests(app) == 1


@pytest.mark.parametrize("path", ["/whatsapp", "/api/messages"])
def test_a_one_megabyte_post_gets_413_not_500(client, sign, app, path):
    params = message("x" * (1024 * 1024))
    headers = {"X-Twilio-Signature": sign(URL, params)}
    if path == "/whatsapp":
        response = client.post(path, data=params, headers=headers)
    else:
        response = client.post(path, json={"text": "x" * (1024 * 1024), "session": "s"})
    assert response.status_code == 413
    assert count_requests(app) == 0


def test_two_deliveries_of_one_message_at_once_are_logged_once(app, sign, live_server):
    """Twilio may retry while the first delivery is still being answered."""
    import threading

    import requests

    params = message("vaksin chip", sid="SM" + "e" * 32)
    headers = {"X-Twilio-Signature": sign(live_server.url + "/whatsapp", params)}
    barrier, answers = threading.Barrier(4), []

    def deliver():
        barrier.wait()
        answers.append(requests.post(live_server.url + "/whatsapp", data=params, headers=headers,
                                     timeout=30))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.text for a in answers}) == 1
    assert count_requests(app) == 1


def rate_limited(app, limit=3):
    app.config.update(RATE_LIMIT_MESSAGES=limit, RATE_LIMIT_WINDOW=60)


def test_a_flood_gets_one_notice_then_silence_and_no_search(client, sign, app, monkeypatch):
    rate_limited(app)
    searched = []
    real = parts(app).searcher
    monkeypatch.setattr(real, "search", lambda text, k=5, embed=True: searched.append(text) or
                        SearchResult("no_match", []))
    replies_seen = []
    for n in range(8):
        response = post(client, sign, message(f"rahasia banjir {n}", sid=f"SM{n:032d}"))
        assert response.status_code == 200
        root = ElementTree.fromstring(response.data)
        replies_seen.append([m.text for m in root.findall("Message")])
    assert all(len(r) == 1 for r in replies_seen[:4])
    assert "banyak pesan" in replies_seen[3][0] and "1 menit" in replies_seen[3][0]
    assert replies_seen[4:] == [[]] * 4  # empty TwiML: Twilio sends nothing
    assert len(searched) == 3
    with app.app_context():
        rows = get_session().scalars(select(RequestLog).order_by(RequestLog.id)).all()
    assert len(rows) == 8  # countable ...
    assert [r.decision for r in rows[3:]] == ["rate_limited"] * 5
    assert all(r.text == "" for r in rows[3:])  # ... but a flood's bodies are not kept
    # A replay of a silenced message stays silent and is not logged again.
    again = post(client, sign, message("rahasia banjir 7", sid=f"SM{7:032d}"))
    assert ElementTree.fromstring(again.data).findall("Message") == []
    assert count_requests(app) == 8


def test_the_limit_is_per_sender_and_per_window(client, sign, app, monkeypatch):
    import time as time_module

    rate_limited(app, limit=2)
    for n in range(3):
        post(client, sign, message("halo", sid=f"SMa{n:031d}"))
    other = twiml_reply(post(client, sign, message("halo", sid="SMb" + "0" * 31,
                                                   From="whatsapp:+628999")))
    assert other.startswith("Halo!")
    later = time_module.time() + 61
    monkeypatch.setattr("tipline.ratelimit.time.time", lambda: later)
    assert twiml_reply(post(client, sign, message("halo", sid="SMc" + "0" * 31))).startswith("Halo!")


@pytest.mark.db
def test_the_counter_is_shared_by_workers(tmp_path, sign):
    """Two apps on one database play two gunicorn workers: the limit holds across them."""
    from tests.conftest import make_app

    first, second = make_app(tmp_path), make_app(tmp_path)
    try:
        for app in (first, second):
            rate_limited(app, limit=4)
        answered = []
        for n in range(8):
            client = (first if n % 2 else second).test_client()
            root = ElementTree.fromstring(post(client, sign, message("halo", sid=f"SM{n:032d}")).data)
            answered.append(len(root.findall("Message")))
        assert answered == [1, 1, 1, 1, 1, 0, 0, 0]
    finally:
        for app in (first, second):
            app.extensions["factcheck.db"].engine.dispose()


def test_the_web_chat_is_rate_limited_per_session(client, app):
    rate_limited(app, limit=2)
    decisions = [client.post("/api/messages", json={"text": "halo", "session": "s1"}).json["decision"]
                 for _ in range(4)]
    assert decisions == ["greeting", "greeting", "rate_limited", "rate_limited"]
    assert client.post("/api/messages", json={"text": "halo", "session": "s2"}).json["decision"] == \
        "greeting"


def test_a_whole_conversation_leaves_no_number_in_any_table_or_debug_log(client, sign, app,
                                                                         fake_search, caplog):
    """DEBUG logging of every library (werkzeug, sqlalchemy, twilio …) included."""
    from sqlalchemy import inspect, text

    caplog.set_level(logging.DEBUG)
    for n, (decision, body) in enumerate([("match", "halo"), ("choices", "vaksin chip"),
                                          ("choices", "2"), ("no_match", "gempa besok"),
                                          ("no_match", "0"), ("match", "")]):
        fake_search(decision)
        twiml_reply(post(client, sign, message(body, sid=f"SM{n:032d}", MediaUrl0="")))
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "SM" + "0" * 31 + "1" in logged
    for secret in (DIGITS, DIGITS[2:], PROFILE, "test-sender-hash-key", "test-secret-key"):
        assert secret not in logged
    with app.app_context():
        session = get_session()
        for table in inspect(session.get_bind()).get_table_names():
            dump = repr(session.execute(text(f'SELECT * FROM "{table}"')).all())
            assert DIGITS[2:] not in dump and PROFILE not in dump, table


def test_info_logs_of_a_conversation_hold_no_body_number_or_secret(client, sign, fake_search,
                                                                   app, caplog):
    caplog.set_level(logging.INFO)
    for n, (decision, body) in enumerate([("choices", "rahasia pribadi vaksin"),
                                          ("no_match", "1"), ("no_match", "rahasia gempa"),
                                          ("match", "makasih")]):
        fake_search(decision)
        post(client, sign, message(body, sid=f"SM{n:032d}"))
    app.config["RATE_LIMIT_MESSAGES"] = 1
    post(client, sign, message("rahasia banjir", sid="SM" + "f" * 32))
    info = [r for r in caplog.records if r.levelno >= logging.INFO]
    logged = "\n".join(r.getMessage() for r in info)
    assert "rate_limited" in logged
    for secret in (DIGITS, DIGITS[2:], "rahasia", PROFILE, "test-sender-hash-key",
                   "test-secret-key", app.config["TWILIO_AUTH_TOKEN"]):
        assert secret not in logged


def test_rotating_web_sessions_are_limited_by_the_client_address(client, app):
    app.config.update(RATE_LIMIT_MESSAGES=2, RATE_LIMIT_PER_ADDRESS=5, RATE_LIMIT_WINDOW=60)
    decisions = [client.post("/api/messages", json={"text": "halo", "session": f"rotating-{n}"},
                             environ_base={"REMOTE_ADDR": "203.0.113.7"}).json
                 for n in range(8)]
    assert [d["decision"] for d in decisions] == ["greeting"] * 5 + ["rate_limited"] * 3
    assert decisions[5]["reply"] and decisions[6]["reply"] == decisions[7]["reply"] == ""
    other = client.post("/api/messages", json={"text": "halo", "session": "rotating-0"},
                        environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert other.json["decision"] == "greeting"
    with app.app_context():
        rows = get_session().scalars(select(RequestLog)).all()
    assert len({r.client_hash for r in rows}) == 2 and all(len(r.client_hash) == 64 for r in rows)
    assert not any("203.0.113.7" in (r.client_hash + r.sender_hash) for r in rows)


@pytest.mark.db
@pytest.mark.parametrize("proxies, limited", [(0, True), (1, False)])
def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path, proxies, limited):
    """Off by default: a client's own X-Forwarded-For changes nothing."""
    from tests.conftest import make_app

    app = make_app(tmp_path, TRUSTED_PROXIES=proxies, RATE_LIMIT_MESSAGES=0, RATE_LIMIT_PER_ADDRESS=2)
    try:
        client = app.test_client()
        decisions = [client.post("/api/messages", json={"text": "halo", "session": f"s{n}"},
                                 headers={"X-Forwarded-For": f"192.0.2.{n}"},
                                 environ_base={"REMOTE_ADDR": "10.0.0.1"}).json["decision"]
                     for n in range(4)]
        assert ("rate_limited" in decisions) is limited
    finally:
        app.extensions["factcheck.db"].engine.dispose()


@pytest.mark.parametrize("decision, limit", [("match", 0), ("no_match", 0), ("choices", 1)])
def test_each_message_is_one_transaction(client, sign, fake_search, app, decision, limit):
    """The count, the sender's memory and the log line are written in one commit per message,
    a message past the limit included (one fsync per message under synchronous=FULL)."""
    from sqlalchemy import event

    from tipline.models import RateWindow

    fake_search(decision)
    app.config.update(RATE_LIMIT_MESSAGES=limit or 20)
    engine = app.extensions["factcheck.db"].engine
    commits = []

    def count(connection):
        commits.append(connection)

    event.listen(engine, "commit", count)
    try:
        for n in range(2):  # with limit 1, the second is past it
            post(client, sign, message("vaksin chip", sid=f"SMtx{n:030d}"))
            assert len(commits) == n + 1
    finally:
        event.remove(engine, "commit", count)
    with app.app_context():
        session = get_session()
        assert session.get(RateWindow, session.scalar(select(RequestLog.sender_hash))).count == 2
        decisions = session.scalars(select(RequestLog.decision).order_by(RequestLog.id)).all()
    assert decisions == ([decision, "rate_limited"] if limit else [decision] * 2)


def test_a_fact_check_edited_after_it_was_shown_is_shown_as_edited(client, sign, fake_search, app):
    """Replies show fact-checks this process keeps between messages (tipline/shown.py): an
    editor's change, or a fact-check withdrawn, shows in the very next reply."""
    from claims.store import set_status

    fake_search("match")
    assert "Judul 0" in twiml_reply(post(client, sign, message("vaksin", sid="SM" + "1" * 32)))
    with app.app_context(), session_scope() as session:
        save_claim(session, {"id": "long-0", "verdict": "HOAKS", "claim": "klaim", "title": "Judul baru",
                             "summary": "Ringkasan baru.", "url": "https://cekfakta.example.org/0/"})
    again = twiml_reply(post(client, sign, message("vaksin", sid="SM" + "2" * 32)))
    assert "Judul baru" in again and "Ringkasan baru." in again and "Judul 0" not in again
    with app.app_context(), session_scope() as session:
        set_status(session, "long-0", "draft")
    fake_search("choices")
    listed = twiml_reply(post(client, sign, message("vaksin", sid="SM" + "3" * 32)))
    assert "Judul baru" not in listed and "Judul 1" in listed


def test_a_question_nobody_answers_is_embedded_once(client, sign, app):
    """Its search and the desk's grouping of it in the inbox share one query vector."""
    encoder = parts(app).searcher.encoder
    encoder.calls.clear()
    body = "zebra ungu menari di monas"
    post(client, sign, message(body))
    with app.app_context():
        assert get_session().scalar(select(RequestLog.decision)) == "no_match"
    assert encoder.calls.count(body) == 1
