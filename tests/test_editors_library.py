"""The library pages: list and filters, the form and its preview, status, import, history, XSS."""
import io
import json

import pytest

import claims.db
from claims.models import Claim
from claims.store import claim_history
from tests.conftest import add_claims
from tests.editors_support import editors_app, logged_in, csrf

HOSTILE = "<script>alert(1)</script>"
ROWS = [
    {"id": "vaksin-chip", "title": "Vaksin COVID-19 mengandung chip", "verdict": "HOAKS",
     "claim": "vaksin ada chip", "summary": "Tidak ada chip.", "url": "https://example.org/chip",
     "publisher": "Kompas", "date": "2025-03-01", "lang": "id"},
    {"id": "bansos", "title": "Tautan daftar bansos", "verdict": "PENIPUAN", "claim": "daftar bansos",
     "summary": "Tautan palsu.", "url": "https://example.org/bansos", "publisher": "Tempo",
     "date": "2024-01-10", "lang": "id"},
    {"id": "hostile", "title": HOSTILE, "verdict": "MENYESATKAN", "claim": "skrip",
     "summary": "<b>tebal</b>", "url": "https://example.org/x", "publisher": "Tempo", "lang": "en"},
]


@pytest.fixture
def app(tmp_path):
    app = editors_app(tmp_path, ROWS)
    yield app
    app.extensions["factcheck.db"].engine.dispose()


@pytest.fixture
def client(app):
    return logged_in(app)


@pytest.mark.parametrize("query, expected", [
    ("", {"vaksin-chip", "bansos", "hostile"}),
    ("q=chip", {"vaksin-chip"}),
    ("verdict=scam", {"bansos"}),
    ("publisher=tempo", {"bansos", "hostile"}),
    ("lang=en", {"hostile"}),
    ("from=2025-01-01", {"vaksin-chip"}),
    ("to=2024-12-31", {"bansos"}),
    ("status=draft", set()),
    ("q=chip%00", set()),  # no stored text holds a NUL (and PostgreSQL refuses one in a query)
    ("publisher=tempo%00", set()),
])
def test_the_list_filters(client, query, expected):
    page = client.get(f"/editors/?{query}").text
    shown = {claim_id for claim_id in ("vaksin-chip", "bansos", "hostile")
             if f"/editors/claims/{claim_id}/edit" in page}
    assert shown == expected


def test_the_list_pages(app, client):
    add_claims(app, [{"title": f"Klaim nomor {i}", "claim": f"klaim {i}"} for i in range(30)])
    first, second = client.get("/editors/").text, client.get("/editors/?page=2").text
    assert "1 / 2" in first and "2 / 2" in second
    assert first.count("/edit\"") == 25 and second.count("/edit\"") == 8


def test_a_hostile_title_is_escaped_on_list_form_and_preview(app, client):
    assert HOSTILE not in client.get("/editors/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/editors/").text
    form = client.get("/editors/claims/hostile/edit").text
    assert HOSTILE not in form and "&lt;script&gt;" in form
    preview = client.post("/editors/preview", data={"title": HOSTILE, "verdict": "HOAKS"},
                          headers={"X-CSRF-Token": csrf(client)})
    assert preview.is_json and HOSTILE in preview.json["text"]  # JSON text, shown with textContent


def test_preview_is_exactly_the_whatsapp_reply(app, client):
    from tipline import replies
    with app.app_context(), claims.db.session_scope(app) as session:
        expected = replies.match(session.get(Claim, "vaksin-chip"), "id")
    data = {"title": "Vaksin COVID-19 mengandung chip", "verdict": "HOAKS", "summary": "Tidak ada chip.",
            "url": "https://example.org/chip", "lang": "id"}
    got = client.post("/editors/preview", data=data, headers={"X-CSRF-Token": csrf(client)}).json["text"]
    assert got == expected and "HOAKS" in got
    assert client.post("/editors/preview", data=data).status_code == 400  # CSRF


def test_create_publish_unpublish_retire_and_history(app, client):
    response = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "title": "Air garam obat covid", "claim": "air garam sembuhkan covid",
        "verdict": "HOAKS", "summary": "Tidak terbukti.", "url": "https://example.org/garam",
        "lang": "id", "action": "save"})
    assert response.status_code == 302
    claim_id = response.headers["Location"].split("/claims/")[1].split("/edit")[0]
    with claims.db.session_scope(app) as session:
        assert session.get(Claim, claim_id).status == "draft"
    for action, status in (("publish", "published"), ("unpublish", "draft"), ("retire", "retired")):
        client.post(f"/editors/claims/{claim_id}/status", data={"csrf_token": csrf(client), "action": action})
        with claims.db.session_scope(app) as session:
            assert session.get(Claim, claim_id).status == status
    with claims.db.session_scope(app) as session:
        history = claim_history(session, claim_id)
        assert [h.actor for h in history] == ["redaksi"] * 4
        assert [h.action for h in history] == ["created", "status", "status", "status"]
    page = client.get(f"/editors/claims/{claim_id}/edit").text
    assert "Riwayat" in page and "redaksi" in page


def test_published_edits_reach_search(app, client):
    client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "title": "Gerhana bikin hamil", "claim": "gerhana matahari hamil",
        "verdict": "HOAKS", "lang": "id", "action": "publish"})
    answer = client.post("/api/messages", json={"text": "gerhana matahari hamil", "session": "s1"}).json
    assert answer["decision"] in ("match", "choices") and "Gerhana" in answer["reply"]


def test_an_invalid_form_shows_the_field_and_saves_nothing(app, client):
    response = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "title": "Judul", "url": "ftp://bad", "action": "save"})
    assert response.status_code == 400 and "url" in response.text
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).count() == 3


def test_import_all_or_nothing_with_the_line_and_field(app, client):
    good = {"title": "Impor satu", "claim": "impor", "verdict": "HOAKS", "url": "https://example.org/i1"}
    bad = {"title": "Impor dua", "url": "not a url"}
    body = (json.dumps(good) + "\n" + json.dumps(bad) + "\n").encode()
    response = client.post("/editors/import", data={
        "csrf_token": csrf(client), "file": (io.BytesIO(body), "batch.jsonl")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "line 2" in response.text and "url" in response.text
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).count() == 3
    response = client.post("/editors/import", data={
        "csrf_token": csrf(client), "file": (io.BytesIO(json.dumps(good).encode()), "batch.jsonl")},
        content_type="multipart/form-data")
    assert response.status_code == 200 and "1" in response.text
    with claims.db.session_scope(app) as session:
        imported = session.query(Claim).filter_by(url="https://example.org/i1").one()
        assert claim_history(session, imported.id)[0].actor == "redaksi"


def test_import_csv(app, client):
    body = "title,claim,verdict,url\nDari CSV,klaim csv,SALAH,https://example.org/csv\n".encode()
    response = client.post("/editors/import", data={
        "csrf_token": csrf(client), "file": (io.BytesIO(body), "x.csv"), "status": "draft"},
        content_type="multipart/form-data")
    assert response.status_code == 200
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).filter_by(url="https://example.org/csv").one().status == "draft"


def _jpeg(size=(640, 480), noise=False) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (240, 236, 226))
    draw = ImageDraw.Draw(image)
    for n in range(0, size[0], 37):
        draw.rectangle((n, (n * 7) % size[1], n + 20, (n * 7) % size[1] + 90), fill=(n % 255, 90, 140))
    if noise:  # a photo's grain: big, as phone pictures are
        image = Image.frombytes("RGB", size, bytes(random_bytes(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def random_bytes(n: int) -> bytes:
    import random

    return random.Random(4).randbytes(n)


def test_the_form_keeps_where_a_claim_circulated_links_and_pictures(app, client):
    from claims.images import image_hash
    from claims.store import claims_for_image, claims_for_url

    photo = _jpeg(noise=True)
    assert len(photo) > 256 * 1024  # larger than any other request may be
    response = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "id": "vaksin-chip", "title": "Vaksin COVID-19 mengandung chip",
        "verdict": "HOAKS", "lang": "id", "action": "save",
        "appearances": "https://www.facebook.com/groups/9/posts/1\nhttps://t.me/kanal/5",
        "images": [(io.BytesIO(photo), "poster.jpg"), (io.BytesIO(_jpeg()), "tangkapan.png")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with claims.db.session_scope(app) as session:
        claim = session.get(Claim, "vaksin-chip")
        assert claim.appearances == [
            {"url": "https://www.facebook.com/groups/9/posts/1"}, {"url": "https://t.me/kanal/5"},
            {"image": image_hash(photo), "name": "poster.jpg"}, {"image": image_hash(_jpeg()), "name": "tangkapan.png"}]
        assert [c.id for c in claims_for_url(session, "https://m.facebook.com/groups/9/posts/1")] == ["vaksin-chip"]
        assert [c.id for c, _ in claims_for_image(session, image_hash(_jpeg()))] == ["vaksin-chip"]
    page = client.get("/editors/claims/vaksin-chip/edit").text
    assert "https://t.me/kanal/5</textarea>" in page and "poster.jpg" in page and image_hash(photo) in page

    # Untick one picture: it is forgotten; the other stays.
    client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "id": "vaksin-chip", "title": "Vaksin COVID-19 mengandung chip",
        "verdict": "HOAKS", "lang": "id", "action": "save", "appearances": "",
        "keep_image": image_hash(_jpeg())}, content_type="multipart/form-data")
    with claims.db.session_scope(app) as session:
        assert session.get(Claim, "vaksin-chip").appearances == [{"image": image_hash(_jpeg()), "name": "tangkapan.png"}]


def test_an_upload_that_is_not_a_picture_saves_nothing(app, client):
    response = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "id": "bansos", "title": "Tautan daftar bansos diubah", "verdict": "PENIPUAN",
        "lang": "id", "action": "save", "images": [(io.BytesIO(b"%PDF-1.4 not a picture"), "surat.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "surat.pdf" in response.text
    with claims.db.session_scope(app) as session:
        assert session.get(Claim, "bansos").title == "Tautan daftar bansos"


def test_only_a_logged_in_editor_may_send_a_large_form(app):
    response = app.test_client().post("/editors/claims/save", data={
        "title": "x", "images": [(io.BytesIO(_jpeg(noise=True)), "poster.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 413
