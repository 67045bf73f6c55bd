"""Pictures, links, voice notes and videos through the signed webhook, media served by the fake
Twilio and pages by a local server (the test-only allow-list)."""

import io
import json
import random
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

import claims.db
from bench.screenshots import screenshot
from claims.images import image_hash
from claims.store import save_claim
from scripts.fake_twilio import FakeTwilio
from tests.conftest import add_claims, make_app, sign
from tests.pages_server import PagesServer
from tests.test_tipline_webhook import message, post, twiml_reply
from tipline.models import RequestLog

pytestmark = pytest.mark.db

ACCOUNT = "AC" + "1" * 32
DEMO = [json.loads(line) for line in
        (Path(__file__).resolve().parents[1] / "demo" / "claims.jsonl").read_text().splitlines()]
CHIP = next(c for c in DEMO if c["id"] == "demo-001")
BANSOS = next(c for c in DEMO if c["id"] == "demo-002")


@pytest.fixture
def twilio():
    """The fake Twilio, serving media only to this account's credentials."""
    with FakeTwilio() as fake:
        fake.credentials = (ACCOUNT, "test-twilio-token-0123456789abcdef")
        yield fake


@pytest.fixture
def pages():
    """A local web server for linked pages."""
    with PagesServer() as server:
        yield server


@pytest.fixture
def media_app(tmp_path, twilio, pages):
    """An app that reads pictures from the fake Twilio and pages from the local server."""
    app = make_app(tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE=twilio.url,
                   FETCH_ALLOW=[twilio.url.removeprefix("http://"), pages.host])
    add_claims(app, DEMO)
    yield app
    stop(app)


def stop(app):
    """Stop what an app runs in the background and close its database."""
    app.extensions["tipline"].reading.stop()
    app.extensions["cekfakta"].searcher.stop()
    app.extensions["factcheck.db"].engine.dispose()


def send(app, sid, body="", media=(), sender="whatsapp:+6281200000001"):
    """Post a signed webhook with attachments [(url, content type)]; give the reply text."""
    params = message(body, sid=sid, From=sender, NumMedia=str(len(media)))
    for n, (url, kind) in enumerate(media):
        params[f"MediaUrl{n}"], params[f"MediaContentType{n}"] = url, kind
    return twiml_reply(post(app.test_client(), sign, params))


def logged(app, sid) -> RequestLog:
    with claims.db.session_scope(app) as session:
        row = session.scalars(select(RequestLog).where(RequestLog.message_sid == sid)).one()
        session.expunge(row)
        return row


def chip_screenshot(seed=7) -> bytes:
    return screenshot(CHIP["claim"], random.Random(seed), font="DejaVu Sans")


def test_a_screenshot_of_a_library_hoax_gets_its_fact_check_and_says_what_was_read(media_app, twilio):
    url = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
    reply = send(media_app, "SM" + "a" * 32, media=[(url, "image/jpeg")])
    assert reply.startswith("📷 Teks di gambar: “")
    assert "Vaksin COVID-19 Mengandung Microchip" in reply
    row = logged(media_app, "SM" + "a" * 32)
    assert (row.decision, row.claim_id, row.via, row.media_kind) == ("match", "demo-001", "ocr", "image")
    assert "chip" in row.text.lower() and "Diteruskan" not in row.text
    assert row.image_hash == image_hash(chip_screenshot())
    # Fetched with the account's credentials, then from the "CDN" it redirected to.
    api, cdn = twilio.media_requests
    assert api["auth"] and api["path"] in url and cdn["path"].startswith("/cdn/ME")


def _blank() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 220, 240)).save(out, "PNG")
    return out.getvalue()


def test_every_picture_of_a_message_is_read_not_only_the_first(media_app, twilio):
    """A hoax in two screenshots, the first without words: the second's words find it."""
    first = twilio.add_media(_blank(), "image/png", account=ACCOUNT)
    second = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
    reply = send(media_app, "SM" + "7" * 32, media=[(first, "image/png"), (second, "image/jpeg")])
    assert "Vaksin COVID-19 Mengandung Microchip" in reply
    row = logged(media_app, "SM" + "7" * 32)
    assert (row.decision, row.claim_id, row.via) == ("match", "demo-001", "ocr")
    assert "chip" in row.text.lower()
    assert row.image_hash == image_hash(Image.open(io.BytesIO(_blank())))  # the first groups it
    assert len([r for r in twilio.media_requests if r["path"].startswith("/cdn/")]) == 2  # both fetched


def test_a_known_picture_among_several_answers_without_ocr(media_app, twilio):
    url = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
    send(media_app, "SM" + "8" * 32, media=[(url, "image/jpeg")])
    blank = twilio.add_media(_blank(), "image/png", account=ACCOUNT)
    again = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
    reply = send(media_app, "SM" + "9" * 32, media=[(blank, "image/png"), (again, "image/jpeg")],
                 sender="whatsapp:+6281200000003")
    assert reply.startswith("📷 Gambar ini sudah pernah kami periksa.")
    row = logged(media_app, "SM" + "9" * 32)
    assert (row.decision, row.claim_id, row.via) == ("match", "demo-001", "image")


def test_the_same_picture_again_is_answered_from_its_fact_check_without_ocr(media_app, twilio):
    url = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
    send(media_app, "SM" + "b" * 32, media=[(url, "image/jpeg")])
    again = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
    reply = send(media_app, "SM" + "c" * 32, media=[(again, "image/jpeg")], sender="whatsapp:+6281200000002")
    assert reply.startswith("📷 Gambar ini sudah pernah kami periksa.")
    assert "Teks di gambar" not in reply
    row = logged(media_app, "SM" + "c" * 32)
    assert (row.decision, row.claim_id, row.via, row.text) == ("match", "demo-001", "image", "")


def test_a_picture_an_editor_attached_is_recognised_recompressed(media_app, twilio):
    original = Image.open(io.BytesIO(chip_screenshot(seed=11)))
    with claims.db.session_scope(media_app) as session:
        save_claim(session, {"id": "demo-001", "appearances": [f"image:{image_hash(original)}"]})
    smaller = io.BytesIO()
    original.resize((original.width * 3 // 4, original.height * 3 // 4)).save(smaller, "JPEG", quality=50)
    url = twilio.add_media(smaller.getvalue(), "image/jpeg", account=ACCOUNT)
    reply = send(media_app, "SM" + "d" * 32, media=[(url, "image/jpeg")])
    assert reply.startswith("📷 Gambar ini sudah pernah kami periksa.") and "Microchip" in reply
    assert logged(media_app, "SM" + "d" * 32).via == "image"


def test_caption_and_picture_words_are_searched_together(media_app, twilio):
    words = screenshot("Bantuan tunai Rp 3.500.000 utk semua warga yg punya KTP", random.Random(1),
                       font="Liberation Sans")
    url = twilio.add_media(words, "image/jpeg", account=ACCOUNT)
    send(media_app, "SM" + "e" * 32, body="bansos kemensos daftar link", media=[(url, "image/jpeg")])
    row = logged(media_app, "SM" + "e" * 32)
    assert row.text.startswith("bansos kemensos daftar link\n") and "3.500.000" in row.text
    assert row.claim_id == "demo-002" or row.decision == "choices"


def test_a_picture_without_words_goes_to_the_inbox_with_a_request_to_type(media_app, twilio):
    blank = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 220, 240)).save(blank, "PNG")
    url = twilio.add_media(blank.getvalue(), "image/png", account=ACCOUNT)
    reply = send(media_app, "SM" + "f" * 32, media=[(url, "image/png")])
    assert reply.startswith("Maaf, kami tidak menemukan tulisan yang terbaca di gambar ini.")
    row = logged(media_app, "SM" + "f" * 32)
    assert (row.decision, row.status, row.media_kind, row.via) == ("media_only", "open", "image", "ocr")


@pytest.mark.parametrize("kind, says", [("audio/ogg", "pesan suara"), ("video/mp4", "menonton video")])
def test_voice_notes_and_videos_are_not_fetched_ask_for_words_and_stay_in_the_inbox(media_app, twilio, kind, says):
    url = twilio.add_media(b"\x00" * 100, kind, account=ACCOUNT)
    reply = send(media_app, "SM" + "1" * 32, media=[(url, kind)])
    assert says in reply and "ketik" in reply.lower()
    row = logged(media_app, "SM" + "1" * 32)
    assert (row.decision, row.status, row.media_kind) == ("media_only", "open", kind.split("/")[0])
    assert twilio.media_requests == []


def test_media_is_fetched_only_from_twilio_and_only_with_good_credentials(media_app, twilio, pages):
    pages.routes["/pic.jpg"] = (200, {"Content-Type": "image/jpeg"}, chip_screenshot())
    reply = send(media_app, "SM" + "2" * 32, media=[(pages.url + "/pic.jpg", "image/jpeg")])
    assert reply.startswith("Maaf, kami tidak menemukan tulisan")
    assert pages.hits == []
    twilio.credentials = (ACCOUNT, "another-token")
    url = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
    assert send(media_app, "SM" + "3" * 32, media=[(url, "image/jpeg")]).startswith("Maaf, kami tidak")


def test_a_picture_over_the_size_cap_is_not_read(tmp_path, twilio):
    app = make_app(tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE=twilio.url,
                   FETCH_ALLOW=[twilio.url.removeprefix("http://")], IMAGE_MAX_BYTES=1000)
    try:
        url = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
        assert send(app, "SM" + "4" * 32, media=[(url, "image/jpeg")]).startswith("Maaf, kami tidak")
        assert logged(app, "SM" + "4" * 32).image_hash is None
    finally:
        stop(app)


def test_a_known_link_is_answered_at_once_without_fetching(media_app, pages):
    reply = send(media_app, "SM" + "5" * 32,
                 body="ini benar? https://m.cekfakta.example.org/demo/vaksin-covid-microchip/?utm_source=whatsapp")
    assert reply.startswith("🔗 Tautan ini sudah pernah kami periksa.") and "Microchip" in reply
    row = logged(media_app, "SM" + "5" * 32)
    assert (row.decision, row.claim_id, row.via, row.media_kind) == ("match", "demo-001", "link", "link")
    assert pages.hits == []


def test_a_link_where_the_hoax_circulated_is_known_too(media_app):
    with claims.db.session_scope(media_app) as session:
        save_claim(session, {"id": "demo-002", "appearances": ["https://www.facebook.com/groups/7/posts/99"]})
    reply = send(media_app, "SM" + "6" * 32, body="https://m.facebook.com/groups/7/posts/99?mibextid=abc")
    assert reply.startswith("🔗 Tautan ini sudah pernah kami periksa.") and "Bansos" in reply


def test_an_unknown_link_is_read_and_its_page_searched(media_app, pages):
    pages.page("/berita", """<html><head><title>Bansos Rp 3,5 juta cair, daftar sekarang</title>
        <meta name="description" content="Isi NIK dan nomor rekening untuk bantuan tunai Kemensos."></head>
        <body><article><p>Bantuan tunai Rp 3.500.000 untuk semua warga yang punya KTP. Daftar
        sebelum kuota habis, isi NIK dan nomor rekening di tautan ini.</p></article></body></html>""")
    reply = send(media_app, "SM" + "7" * 32, body=f"{pages.url}/berita")
    assert reply.startswith("🔗 Dari tautan: “Bansos Rp 3,5 juta cair, daftar sekarang”")
    row = logged(media_app, "SM" + "7" * 32)
    assert row.via == "page" and row.claim_id == "demo-002"
    assert pages.hits == ["/berita"]


def test_private_address_links_are_refused_and_searched_by_their_words(tmp_path):
    # FETCH_ALLOW empty: the production rules, with no exemption.
    app = make_app(tmp_path, FETCH_ALLOW=[])
    try:
        add_claims(app, DEMO)
        with PagesServer() as inside:
            inside.page("/", "<title>rahasia</title>")
            for n, link in enumerate(("http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/vaksin-chip",
                                      "http://127.0.0.1/", f"http://127.0.0.1:{inside.port}/")):
                sid = f"SM{n:032d}"
                reply = send(app, sid, body=f"vaksin chip {link}")
                assert "Dari tautan" not in reply
                row = logged(app, sid)
                assert row.via == "refused" and row.media_kind == "link", link
            assert inside.hits == []
    finally:
        stop(app)


def test_the_same_picture_groups_in_the_inbox_and_linking_it_teaches_the_tipline(media_app, twilio):
    from editors.inbox import assign_groups
    from editors.models import InboxGroup, InboxMember
    from tests.editors_support import add_account, confirm_link, logged_in

    unknown = "Beredar foto hiu raksasa terdampar di pantai Anyer pagi tadi, warga diminta menjauh"
    first = screenshot(unknown, random.Random(21), font="DejaVu Sans")
    resent = io.BytesIO()
    Image.open(io.BytesIO(first)).save(resent, "JPEG", quality=55)  # forwarded again: recompressed
    sids = ["SM" + "8" * 31 + str(n) for n in range(5)]
    # No two texts are close enough at this threshold: only the picture can group them.
    media_app.config["INBOX_GROUP_THRESHOLD"] = 1.01
    for n, (data, kind) in enumerate([(first, "image/jpeg"), (resent.getvalue(), "image/jpeg"),
                                      (b"ogg", "audio/ogg"), (b"ogg", "audio/ogg")]):
        sender = f"whatsapp:+62812000001{n}"
        send(media_app, sids[n], media=[(twilio.add_media(data, kind, account=ACCOUNT), kind)], sender=sender)
        if logged(media_app, sids[n]).decision == "choices":  # none of these: back to the desk
            send(media_app, sids[n] + "x", body="0", sender=sender)
    assert {logged(media_app, sid).status for sid in sids[:4]} == {"open"}
    with media_app.app_context():
        from claims.db import get_session
        db = get_session()
        assert assign_groups(db, threshold=1.01) == 0  # each was grouped as it arrived
        db.commit()
        groups = {g.id: g.label for g in db.query(InboxGroup)}
        members = {}
        for member in db.query(InboxMember):
            members.setdefault(groups[member.group_id], set()).add(member.request_id)
    ids = {sid: logged(media_app, sid).id for sid in sids[:4]}
    assert sorted(map(sorted, members.values())) == sorted([sorted({ids[sids[0]], ids[sids[1]]}),
                                                           sorted({ids[sids[2]], ids[sids[3]]})])
    assert "🎤 Pesan suara (voice note)" in members
    picture_group = next(g for g, label in groups.items() if "hiu" in label.lower())

    add_account(media_app)
    client = logged_in(media_app)
    confirm_link(client, picture_group, "demo-011")
    reply = send(media_app, sids[4], media=[(twilio.add_media(first, "image/jpeg", account=ACCOUNT), "image/jpeg")],
                 sender="whatsapp:+6281200000099")
    assert reply.startswith("📷 Gambar ini sudah pernah kami periksa.")
    assert logged(media_app, sids[4]).claim_id == "demo-011"


def test_a_picture_read_too_slowly_is_answered_at_once_and_its_answer_sent_later(tmp_path, twilio):
    import time

    app = make_app(tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE=twilio.url,
                   FETCH_ALLOW=[twilio.url.removeprefix("http://")], OCR_WAIT=0,
                   TWILIO_WHATSAPP_FROM="whatsapp:+14155238886")
    try:
        add_claims(app, DEMO)
        url = twilio.add_media(chip_screenshot(), "image/jpeg", account=ACCOUNT)
        reply = send(app, "SM" + "9" * 32, media=[(url, "image/jpeg")], sender="whatsapp:+6281200000077")
        assert reply == "📷 Sedang membaca gambar… Jawabannya kami kirim sebentar lagi."
        deadline = time.monotonic() + 60
        while not twilio.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        [sent] = twilio.messages
        assert sent["To"] == "whatsapp:+6281200000077" and sent["From"] == "whatsapp:+14155238886"
        assert sent["Body"].startswith("📷 Teks di gambar: “") and "Microchip" in sent["Body"]
        app.extensions["tipline"].reading.stop()  # the line is updated before the send
        row = logged(app, "SM" + "9" * 32)
        assert (row.decision, row.claim_id, row.via, row.status) == ("match", "demo-001", "ocr", "answered")
        assert row.reply == sent["Body"] and "chip" in row.text.lower()
        # Twilio's retry of the picture now gets silence: its answer went out already.
        params = message("", sid="SM" + "9" * 32, From="whatsapp:+6281200000077", NumMedia="1",
                         MediaUrl0=url, MediaContentType0="image/jpeg")
        retried = post(app.test_client(), sign, params)
        assert retried.status_code == 200 and b"<Message" not in retried.data
        assert row.delivery == "later" and len(twilio.messages) == 1
        # "0" now turns down that answer, as after any match.
        assert send(app, "SM" + "9" * 31 + "8", body="0", sender="whatsapp:+6281200000077").startswith("Maaf")
    finally:
        stop(app)
