"""Property-based tests of the whole message path: whatever arrives, a valid short reply.

Hypothesis writes the messages (any Unicode, control and zero-width characters, right-to-left
text, emoji, empty and very long bodies, attachments without captions, garbage NumMedia and
every field Twilio may add); the real Flask test client, the real Twilio signature check, the
real SQLite request log and index (fake encoder) answer them.
"""
import itertools
import json
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import claims.db
from claims.models import Claim
from claims.store import count_claims, list_claims
from tests.conftest import add_claims, make_app, sign
from tipline.whatsapp import MAX_CHARS, wa_len

URL = "http://localhost/whatsapp"
PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
RTL = "\u202e\u202b\u200f\u061c مرحبا שלום"
CONTROL = "".join(map(chr, range(0, 32))) + "\x7f\x85\u2028\u2029"
EMOJI = "😀👍🏽🇮🇩👨‍👩‍👧‍👦❤️‍🔥🙏2️⃣#️⃣"
INDONESIAN = "vaksin chip bansos banjir hoaks gempa air kelapa covid halo menu 1 2 0 dua"
HOSTILE = ["' OR 1=1 --", '"vaksin" NEAR chip', "*", "%", "\\", "_", "%' --", "vaksin*",
           "NOT vaksin", "vaksin OR 1", "'; DROP TABLE claims; --", "<script>alert(1)</script>",
           "]]><Message>x</Message>", "&amp;&lt;", "{{7*7}}", "${jndi:ldap://x}", "\x00",
           "%00", "../../etc/passwd"]

bodies = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(ZERO_WIDTH + RTL + CONTROL + EMOJI + " \n\t"), max_size=50),
    st.text(alphabet=st.sampled_from(INDONESIAN), max_size=80),
    st.sampled_from(HOSTILE + ["", " ", "\n\n", ZERO_WIDTH, EMOJI]),
    st.builds(lambda s, n: Repeated(s * n), st.text(min_size=1, max_size=8), st.integers(500, 6000)),
)
TWILIO_FIELDS = ["AccountSid", "MessagingServiceSid", "NumSegments", "ProfileName", "WaId",
                 "SmsStatus", "ApiVersion", "Latitude", "Longitude", "Address", "Label",
                 "ButtonText", "ButtonPayload", "ReferralBody", "ReferralHeadline",
                 "ReferralSourceId", "ReferralSourceType", "ReferralSourceUrl", "ReferralMediaId",
                 "ReferralMediaContentType", "ReferralMediaUrl", "ReferralNumMedia",
                 "ReferralCtwaClid", "OriginalRepliedMessageSender", "OriginalRepliedMessageSid",
                 "ForwardedCount", "FrequentlyForwarded", "ChannelMetadata", "FromCity",
                 "FromState", "FromZip", "FromCountry", "ToCity", "ToCountry", "SmsSid",
                 "MediaUrl0", "MediaContentType0", "MediaContentType1", "MediaContentType9",
                 "MediaContentType10", "Body2", "Unknown-Field"]
extras = st.dictionaries(st.sampled_from(TWILIO_FIELDS),
                         st.one_of(st.text(max_size=40), st.sampled_from(
                             ["image/jpeg", "audio/ogg; codecs=opus", "video/mp4", "", "-1",
                              "1e309", "NaN", '{"a": [1]}', "true"])), max_size=8)
num_media = st.one_of(st.none(), st.integers(-3, 50).map(str),
                      st.sampled_from(["", "x", "1.5", "٣", "1e3", " 2 ", "-0", "99999999999999999999"]),
                      st.text(max_size=4))
senders = st.one_of(st.just("whatsapp:+6281234567890"), st.just(""), st.text(max_size=30),
                    st.integers(10**9, 10**13).map(lambda n: f"whatsapp:+{n}"))
_sids = (f"SM{n:032x}" for n in itertools.count(1))


class Repeated(str):
    """A long body made of one short text repeated; shown short when Hypothesis reports it."""

    def __repr__(self):
        return f"Repeated({len(self)} characters starting {str.__repr__(self[:16])})"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app for every example (a fresh database per example would dominate the run)."""
    app = make_app(tmp_path_factory.mktemp("properties"), RATE_LIMIT_MESSAGES=0)
    add_claims(app, [
        {"id": "c-chip", "title": "[HOAKS] Vaksin mengandung microchip", "claim": "vaksin ada chip",
         "verdict": "HOAKS", "summary": "Tidak ada chip.", "url": "https://example.org/chip"},
        {"id": "c-bansos", "title": "[PENIPUAN] Tautan daftar bansos", "claim": "daftar bansos",
         "verdict": "PENIPUAN", "summary": "Palsu.", "url": "https://example.org/bansos"},
        {"id": "c-pct", "title": "Diskon 100% untuk 'semua' <b>warga</b> \\ _", "claim": "diskon %",
         "verdict": "SALAH", "summary": "Salah.", "url": "https://example.org/pct"},
    ])
    yield app
    app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def assert_twiml(response) -> str | None:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    if not messages:
        return None
    text = messages[0].text or ""
    assert 0 < wa_len(text) <= MAX_CHARS
    return text


@PROPERTY
@given(body=bodies, extra=extras, media=num_media, sender=senders)
def test_any_webhook_message_gets_a_valid_twiml_reply(app, client, body, extra, media, sender):
    params = {**extra, "Body": body, "From": sender, "To": "whatsapp:+14155238886",
              "MessageSid": next(_sids)}
    if media is not None:
        params["NumMedia"] = media
    form = urlencode(params).encode()  # exactly the bytes sent, so their size is known
    response = client.post("/whatsapp", data=form, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": sign(URL, params)})
    if len(form) > app.config["MAX_CONTENT_LENGTH"]:
        # The one answer other than 200 a signed webhook may get: its body is over the limit.
        assert response.status_code == 413, (len(form), response.status_code)
    else:
        assert assert_twiml(response) is not None  # the rate limit is off: always an answer


def test_a_signed_webhook_over_the_size_limit_gets_413(app, client):
    params = {"Body": "😀" * 30_000, "From": "whatsapp:+628111", "MessageSid": next(_sids)}
    form = urlencode(params).encode()
    assert len(form) > app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/whatsapp", data=form, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": sign(URL, params)})
    assert response.status_code == 413


@PROPERTY
@given(media=st.integers(1, 12), types=st.lists(st.text(max_size=30), max_size=12))
def test_media_without_a_caption_is_answered(client, media, types):
    params = {"Body": "", "From": "whatsapp:+628111", "MessageSid": next(_sids),
              "NumMedia": str(media), **{f"MediaContentType{i}": t for i, t in enumerate(types)}}
    text = assert_twiml(client.post("/whatsapp", data=params,
                                    headers={"X-Twilio-Signature": sign(URL, params)}))
    assert text


@PROPERTY
@given(q=st.one_of(bodies, st.sampled_from(HOSTILE)), k=st.one_of(
    st.none(), st.integers(-5, 100).map(str), st.text(max_size=5)))
def test_api_search_always_answers_json(client, q, k):
    args = {"q": q} if k is None else {"q": q, "k": k}
    response = client.get("/api/search", query_string=args)
    assert response.status_code in (200, 400), response.data[:300]
    data = json.loads(response.data)
    if response.status_code == 200:
        assert data["decision"] in ("match", "choices", "no_match")
        assert all(isinstance(m["id"], str) for m in data["matches"])
    else:
        assert data["error"]


def _nested(inner):
    """Give lists and objects of what `inner` draws (Hypothesis reads this function's source)."""
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(), _nested,
    max_leaves=8)


@PROPERTY
@given(payload=st.one_of(
    st.fixed_dictionaries({"text": st.one_of(bodies, json_values), "session": st.one_of(
        st.text(max_size=210), json_values)}),
    json_values))
def test_api_messages_always_answers_json(client, payload):
    response = client.post("/api/messages", json=payload)
    assert response.status_code in (200, 400, 413), response.data[:300]
    data = json.loads(response.data)
    if response.status_code == 200:
        assert isinstance(data["reply"], str) and 0 < wa_len(data["reply"]) <= MAX_CHARS
    else:
        assert data["error"]


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00garbage", b"{", b'{"text": "\\ud800", "session": "s"}',
                                 b"[]", b"null", b'"text"'])
def test_api_messages_survives_broken_json(client, raw):
    response = client.post("/api/messages", data=raw, content_type="application/json")
    assert response.status_code in (200, 400)
    json.loads(response.data)


@pytest.mark.parametrize("query", HOSTILE)
def test_sql_and_fts_syntax_is_just_text(app, client, query):
    response = client.get("/api/search", query_string={"q": query, "k": 50})
    assert response.status_code in (200, 400)
    with claims.db.session_scope(app) as session:
        assert count_claims(session) == 3  # nothing was dropped or changed
        found = {c.id for c in list_claims(session, q=query)}
    # The library's substring filter matches the characters themselves, never "everything".
    assert found <= {"c-pct", "c-chip", "c-bansos"}
    if query in ("%", "_", "\\", "' OR 1=1 --", "*"):
        expected = {cid for cid, text in (("c-pct", "Diskon 100% untuk 'semua' <b>warga</b> \\ _ diskon %"),)
                    if query in text}
        assert found == expected
    with claims.db.session_scope(app) as session:
        assert session.get(Claim, "c-chip").title == "[HOAKS] Vaksin mengandung microchip"
