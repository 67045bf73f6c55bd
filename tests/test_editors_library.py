"""The library pages: list and filters, the form and its preview, status, import, history, XSS."""
import io
import json
import re

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
    ("verdict=scam", {"bansos"}),
    ("publisher=tempo", {"bansos", "hostile"}),
    ("lang=en", {"hostile"}),
    ("from=2025-01-01", {"vaksin-chip"}),
    ("to=2024-12-31", {"bansos"}),
    ("status=draft", set()),
    ("q=chip&status=draft", set()),
    ("q=tautan&verdict=false", set()),
    ("q=daftar&publisher=tempo&lang=id", {"bansos"}),
    ("publisher=tempo%00", set()),
])
def test_the_list_filters(client, query, expected):
    page = client.get(f"/editors/?{query}").text
    shown = {claim_id for claim_id in ("vaksin-chip", "bansos", "hostile")
             if f"/editors/claims/{claim_id}/edit" in page}
    assert shown == expected


def shown_ids(page: str) -> list[str]:
    """The fact-checks a list page shows, in order."""
    return re.findall(r'href="/editors/claims/([^"/]+)/edit"', page)


# A NUL is dropped from the search (PostgreSQL refuses one in a query; no stored text has one).
@pytest.mark.parametrize("q", ["chip", "vaksin chip", "chip%00"])
def test_the_search_ranks_as_the_tipline_does(client, q):
    response = client.get(f"/editors/?q={q}")
    assert response.status_code == 200
    assert shown_ids(response.text)[0] == "vaksin-chip"


def test_the_search_finds_drafts_and_retired_ones_by_every_word(app, client):
    add_claims(app, [{"id": "draf-garam", "title": "Air garam sembuhkan covid", "claim": "garam"}],
               status="draft")
    add_claims(app, [{"id": "lama-garam", "title": "Garam beryodium langka", "claim": "garam"}],
               status="retired")
    assert set(shown_ids(client.get("/editors/?q=garam").text)) == {"draf-garam", "lama-garam"}
    both = shown_ids(client.get("/editors/?q=covid+garam").text)
    assert "draf-garam" in both and "lama-garam" not in both  # a draft needs every word
    assert shown_ids(client.get("/editors/?q=garam&status=retired").text) == ["lama-garam"]


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
        "verdict": "HOAKS", "summary": "Tidak ada buktinya.", "url": "https://example.org/gerhana",
        "lang": "id", "action": "publish"})
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
    assert response.status_code == 400
    assert "baris 2, kolom Tautan artikel: harus URL lengkap http(s)" in response.text
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
        "verdict": "HOAKS", "lang": "id", "action": "save", "summary": "Tidak ada chip di vaksin.",
        "url": "https://cekfakta.example.org/vaksin-chip",
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
        "summary": "Tidak ada chip di vaksin.", "url": "https://cekfakta.example.org/vaksin-chip",
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
@pytest.mark.parametrize("given, missing", [
    ({"verdict": "HOAKS", "summary": "S.", "url": ""}, {"url"}),
    ({"verdict": "", "summary": "", "url": ""}, {"verdict", "summary", "url"}),
    ({"verdict": "kabar burung", "summary": "S.", "url": "https://example.org/k"}, {"verdict"}),
    ({"verdict": "BELUM DINILAI", "summary": "  ", "url": "https://example.org/k"},
     {"verdict", "summary"}),
])
def test_publishing_names_what_is_missing_in_place_and_keeps_what_was_typed(app, client, given,
                                                                             missing):
    typed = {"title": "Gerhana bikin hamil <b>", "claim": "gerhana matahari", "publisher": "Kami",
             "tags": "langit, mitos", **given}
    response = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "lang": "id", "action": "publish", **typed})
    assert response.status_code == 400
    page = response.text
    assert "Belum bisa terbit" in page and "Cannot publish yet" not in page  # one language a page
    english = client.post("/editors/claims/save", headers={"Accept-Language": "en"}, data={
        "csrf_token": csrf(client), "lang": "id", "action": "publish", **typed})
    assert "Cannot publish yet" in english.text and "Belum bisa terbit" not in english.text
    labels = {re.search(r'name="(\w+)"', body).group(1): (css, body)
              for css, body in re.findall(r'<label class="([^"]*)">(.*?)</label>', page, re.S)}
    for name in ("verdict", "summary", "url"):
        css, body = labels[name]
        assert (css == "missing") == (name in missing), name
        assert ('class="need"' in body) == (name in missing), name
        assert ('aria-invalid="true"' in body) == (name in missing), name
    assert 'value="Gerhana bikin hamil &lt;b&gt;"' in page and ">gerhana matahari</textarea>" in page
    assert 'value="Kami"' in page and 'value="langit, mitos"' in page
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).count() == 3  # nothing saved, not even a draft


def test_a_draft_may_be_partial_and_is_published_once_complete(app, client):
    response = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "title": "Hanya judul", "action": "save"})
    assert response.status_code == 302
    claim_id = response.headers["Location"].split("/claims/")[1].split("/edit")[0]
    refused = client.post(f"/editors/claims/{claim_id}/status",
                          data={"csrf_token": csrf(client), "action": "publish"})
    assert refused.status_code == 400 and "Belum bisa terbit" in refused.text
    assert 'value="Hanya judul"' in refused.text
    client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "id": claim_id, "title": "Hanya judul", "verdict": "SALAH",
        "summary": "Sudah diperiksa.", "url": "https://example.org/judul", "action": "save"})
    published = client.post(f"/editors/claims/{claim_id}/status",
                            data={"csrf_token": csrf(client), "action": "publish"})
    assert published.status_code == 302
    with claims.db.session_scope(app) as session:
        assert session.get(Claim, claim_id).status == "published"
    # Saving a published fact-check may not empty what publishing needs.
    emptied = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "id": claim_id, "title": "Hanya judul", "verdict": "SALAH",
        "summary": "", "url": "https://example.org/judul", "action": "save"})
    assert emptied.status_code == 400 and "ringkasan" in emptied.text
    with claims.db.session_scope(app) as session:
        assert session.get(Claim, claim_id).summary == "Sudah diperiksa."


def test_the_form_shows_the_closest_fact_checks(app, client):
    typed = {"title": "Benarkah vaksin covid ada chip?", "claim": "vaksin ada chip pelacak"}
    found = client.post("/editors/claims/similar", data=typed,
                        headers={"X-CSRF-Token": csrf(client)})
    assert found.status_code == 200
    assert found.json["items"][0]["id"] == "vaksin-chip"
    assert found.json["items"][0]["label"] == "HOAKS"
    assert found.json["items"][0]["edit"] == "/editors/claims/vaksin-chip/edit"
    assert found.json["decision"] in ("match", "choices", "no_match")
    assert client.post("/editors/claims/similar", data=typed).status_code == 400  # CSRF
    # Without script: the form's "check for duplicates" button shows them and saves nothing.
    page = client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "action": "similar", **typed})
    assert page.status_code == 200 and 'href="/editors/claims/vaksin-chip/edit"' in page.text
    assert 'value="Benarkah vaksin covid ada chip?"' in page.text
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).count() == 3
    # An edited fact-check is not its own duplicate.
    own = client.post("/editors/claims/similar", headers={"X-CSRF-Token": csrf(client)},
                      data={"id": "vaksin-chip", "title": "Vaksin COVID-19 mengandung chip"})
    assert "vaksin-chip" not in [item["id"] for item in own.json["items"]]
    assert client.post("/editors/claims/similar", data={"title": " "},
                       headers={"X-CSRF-Token": csrf(client)}).json == {"decision": None,
                                                                        "items": []}


def post_import(client, body: bytes, name: str, **form):
    return client.post("/editors/import", data={
        "csrf_token": csrf(client), "file": (io.BytesIO(body), name), **form},
        content_type="multipart/form-data")


def test_the_import_page_says_drafts_by_default(client):
    page = client.get("/editors/import").text
    assert re.search(r'name="status" value="draft"\s+checked', page)
    assert not re.search(r'name="status" value="published"\s+checked', page)
    assert 'name="skip_invalid"' in page


def test_import_arrives_as_drafts_unless_published_is_chosen(app, client):
    body = "title,claim,verdict,url\nDari CSV,klaim csv,SALAH,https://example.org/csv\n".encode()
    response = post_import(client, body, "x.csv")
    assert response.status_code == 200 and "sebagai draf" in response.text
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).filter_by(url="https://example.org/csv").one().status == "draft"
    # Published rows need a verdict, a summary and a link: this one has no summary.
    body = body.replace(b"/csv", b"/csv2")
    refused = post_import(client, body, "x.csv", status="published")
    assert refused.status_code == 400 and "Belum bisa terbit: isi ringkasan" in refused.text
    assert re.search(r'name="status" value="published"\s+checked', refused.text)
    body = ("title,claim,verdict,summary,url\nTerbit,klaim,SALAH,Sudah dicek.,"
            "https://example.org/terbit\n").encode()
    assert post_import(client, body, "y.csv", status="published").status_code == 200
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).filter_by(url="https://example.org/terbit").one().status == \
            "published"


def test_import_can_skip_bad_rows_and_report_each(app, client):
    rows = [{"title": "Baik", "verdict": "HOAKS", "summary": "S.", "url": "https://example.org/b1"},
            {"title": "Tanggal salah", "date": "kemarin"},
            {"title": "Tanpa tautan", "verdict": "HOAKS", "summary": "S."}]
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    response = post_import(client, body, "rows.jsonl", status="published", skip_invalid="1")
    assert response.status_code == 200
    problems = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", response.text)
    assert [(line, field) for line, field, _ in problems] == [("2", "Tanggal"), ("3", "Tautan artikel")]
    assert "Belum bisa terbit: isi tautan artikel" in problems[1][2]
    assert "1 baru" in response.text and "2 dilewati" in response.text
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).count() == 4
        assert session.query(Claim).filter_by(url="https://example.org/b1").one().status == "published"


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_csrf_failure_gives_the_form_back_with_what_was_typed(app, client, token):
    typed = {"title": "Judul yang panjang diketik", "claim": "klaim <i>penting</i>",
             "summary": "Ringkasan yang lama ditulis.", "verdict": "HOAKS", "action": "publish"}
    data = typed if token is None else {**typed, "csrf_token": token}
    response = client.post("/editors/claims/save", data=data)
    assert response.status_code == 400
    page = response.text
    assert "kedaluwarsa" in page and "had expired" not in page
    assert 'value="Judul yang panjang diketik"' in page
    assert ">klaim &lt;i&gt;penting&lt;/i&gt;</textarea>" in page
    assert ">Ringkasan yang lama ditulis.</textarea>" in page
    assert f'name="csrf_token" value="{csrf(client)}"' in page  # a fresh token to submit again
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).count() == 3


@pytest.mark.parametrize("lang, words, other", [("id", "Kirim lagi", "Submit again"),
                                                 ("en", "Submit again", "Kirim lagi")])
def test_a_csrf_failure_elsewhere_keeps_the_values_on_a_page_in_the_editors_language(
        app, client, lang, words, other):
    response = client.post("/editors/accounts", headers={"Accept-Language": lang}, data={
        "username": "baru", "password": "rahasia-sekali-123", "role": "editor"})
    assert response.status_code == 400
    page = response.text
    assert words in page and other not in page
    assert 'name="username" value="baru"' in page and "rahasia-sekali-123" not in page
    assert f'name="csrf_token" value="{csrf(client)}"' in page
    assert client.post("/editors/preview", data={"title": "x"},
                       headers={"X-CSRF-Token": "forged"}).json["error"].startswith("Token CSRF")


def test_a_csrf_failure_after_the_session_ended_shows_what_was_typed(app):
    anonymous = app.test_client()
    response = anonymous.post("/editors/claims/save", data={"title": "Diketik sebelum keluar",
                                                            "csrf_token": "old"})
    assert response.status_code == 400
    assert "Diketik sebelum keluar" in response.text and 'href="/editors/login"' in response.text
    login = anonymous.post("/editors/login", data={"username": "redaksi", "password": "x"})
    assert login.status_code == 400 and 'value="redaksi"' in login.text
    assert "kedaluwarsa" in login.text


class BrokenSearcher:
    """A search that fails, as a corrupt index or a missing encoder would."""

    def search(self, text, k=5, embed=True):
        raise RuntimeError("index unreadable")


def test_without_the_tipline_search_the_desk_still_finds_by_words(app, client, caplog):
    from editors.wiring import KEY, Wiring
    app.extensions[KEY] = Wiring(BrokenSearcher(), app.extensions[KEY].outbox)
    page = client.get("/editors/?q=bansos+tautan")
    assert page.status_code == 200 and shown_ids(page.text) == ["bansos"]
    found = client.post("/editors/claims/similar", data={"title": "bansos"},
                        headers={"X-CSRF-Token": csrf(client)})
    assert found.json == {"decision": "error", "items": []}
    assert "could not use the tipline's search" in caplog.text
