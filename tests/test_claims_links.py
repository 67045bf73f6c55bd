"""Where claims circulated: link normalisation, appearances, claim_links, look-ups, formats."""

import io
import json

import pytest
from PIL import Image, ImageDraw

from claims.errors import InvalidClaim
from claims.formats import export_file, import_file
from claims.images import hash_distance, image_hash
from claims.models import ClaimLink
from claims.store import claims_for_image, claims_for_url, get_claim, save_claim, set_status
from claims.urls import find_urls, normalize_url, url_key
from claims.validation import clean_claim_data


@pytest.mark.parametrize("url, normal", [
    ("https://www.Example.com/a/b/?utm_source=wa&id=3&fbclid=x#top", "example.com/a/b?id=3"),
    ("http://m.example.com/a/b?id=3", "example.com/a/b?id=3"),
    ("https://mobile.example.com/a/b?igshid=abc&id=3", "example.com/a/b?id=3"),
    ("https://example.com/a/b?b=2&a=1", "example.com/a/b?a=1&b=2"),
    ("https://youtu.be/abc123?si=share", "youtube.com/watch?v=abc123"),
    ("https://www.youtube.com/watch?v=abc123&feature=share", "youtube.com/watch?v=abc123"),
    ("www.detik.com/berita/", "detik.com/berita"),
    ("https://example.com:443/", "example.com"),
    ("http://example.com:8080/x", "example.com:8080/x"),
    ("https://m.id/x", "m.id/x"),  # a two-label host keeps its first label
    ("ftp://example.com/x", None),
    ("javascript:alert(1)", None),
    ("https://", None),
    ("https://exa mple.com:99999/", None),
])
def test_links_normalise_to_one_form(url, normal):
    assert normalize_url(url) == normal


def test_the_same_page_shared_differently_has_one_key():
    assert url_key("https://www.kompas.com/read/1?utm_medium=social") == url_key("http://m.kompas.com/read/1/")
    assert url_key("https://kompas.com/read/1") != url_key("https://kompas.com/read/2")


def test_links_are_found_in_text_without_their_punctuation():
    text = "Cek (https://x.id/a?b=1). Lalu www.kompas.com/x, dan https://t.co/Z! https://x.id/a?b=1"
    assert find_urls(text) == ["https://x.id/a?b=1", "http://www.kompas.com/x", "https://t.co/Z"]


def picture(seed: int, size=(320, 480)) -> Image.Image:
    """A picture with shapes of its own (different seeds make unrelated pictures)."""
    image = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for n in range(12):
        x, y = (seed * 37 + n * 53) % size[0], (seed * 91 + n * 71) % size[1]
        draw.rectangle((x, y, x + 40 + n * 5, y + 25 + (seed * n) % 60), fill=((seed * 50 + n * 20) % 255, 80, 160))
    return image


def jpeg(image: Image.Image, quality=85) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_a_recompressed_resized_picture_keeps_its_hash_close_and_others_do_not():
    original = image_hash(jpeg(picture(1)))
    resent = image_hash(jpeg(picture(1).resize((240, 360)), quality=55))
    other = image_hash(jpeg(picture(2)))
    assert hash_distance(original, resent) <= 8 < hash_distance(original, other)


@pytest.mark.parametrize("value, stored", [
    ("https://a.id/x\nhttps://b.id/y  image:00FF00FF00FF00FF",
     [{"url": "https://a.id/x"}, {"url": "https://b.id/y"}, {"image": "00ff00ff00ff00ff"}]),
    (["https://a.id/x", "https://a.id/x"], [{"url": "https://a.id/x"}]),
    ([{"image": "0123456789abcdef", "name": "poster.jpg", "url": "https://fb.com/p/1"}],
     [{"image": "0123456789abcdef", "url": "https://fb.com/p/1", "name": "poster.jpg"}]),
    ("", []),
    (None, []),
])
def test_appearances_are_cleaned(value, stored):
    assert clean_claim_data({"appearances": value})["appearances"] == stored


@pytest.mark.parametrize("value", [
    "ftp://a.id/x", "image:xyz", ["not a link"], [{"name": "only a name"}], 42, [["nested"]],
])
def test_bad_appearances_are_refused_naming_the_field(value):
    with pytest.raises(InvalidClaim) as refused:
        clean_claim_data({"appearances": value})
    assert refused.value.field == "appearances"


HOAX = {"id": "chip", "title": "Vaksin berisi chip", "claim": "Lihat https://hoaks.example/vaksin-chip?utm_source=wa",
        "verdict": "HOAKS", "url": "https://cekfakta.example.org/chip",
        "appearances": ["https://www.facebook.com/groups/1/posts/2?mibextid=x", "image:0f0f0f0f0f0f0f0f"]}


def test_a_claim_is_found_by_its_article_its_text_and_where_it_circulated(session):
    save_claim(session, HOAX)
    session.commit()
    for link in ("http://cekfakta.example.org/chip/", "https://hoaks.example/vaksin-chip",
                 "https://m.facebook.com/groups/1/posts/2"):
        assert [c.id for c in claims_for_url(session, link)] == ["chip"], link
    assert claims_for_url(session, "https://hoaks.example/lain") == []
    sources = {(row.kind, row.source) for row in session.query(ClaimLink)}
    assert sources == {("url", "article"), ("url", "text"), ("url", "appearance"), ("image", "appearance")}


def test_pictures_match_within_a_few_bits_and_only_published_claims(session):
    save_claim(session, HOAX)
    session.commit()
    near = "0f0f0f0f0f0f0f0e"  # one bit off
    assert [(c.id, bits) for c, bits in claims_for_image(session, near)] == [("chip", 1)]
    assert claims_for_image(session, "f0f0f0f0f0f0f0f0") == []
    set_status(session, "chip", "draft")
    session.commit()
    assert claims_for_image(session, near) == [] and claims_for_url(session, HOAX["url"]) == []


def test_editing_a_claim_rewrites_its_links(session):
    save_claim(session, HOAX)
    save_claim(session, {"id": "chip", "appearances": [], "claim": "tanpa tautan"})
    session.commit()
    assert claims_for_url(session, "https://hoaks.example/vaksin-chip") == []
    assert claims_for_url(session, "https://facebook.com/groups/1/posts/2") == []
    assert [c.id for c in claims_for_url(session, HOAX["url"])] == ["chip"]  # the article stays


def test_claimreview_appearances_import_and_export(session, tmp_path):
    document = {"@context": "https://schema.org", "@type": "ClaimReview", "identifier": "cr-1",
                "headline": "Foto banjir lama", "claimReviewed": "Banjir hari ini",
                "reviewRating": {"alternateName": "SALAH"},
                "itemReviewed": {"@type": "Claim",
                                 "firstAppearance": {"@type": "CreativeWork", "url": "https://x.com/a/status/1"},
                                 "appearance": [
                                     "https://t.me/channel/9",
                                     {"@type": "ImageObject", "contentUrl": "https://img.example/b.jpg",
                                      "identifier": {"@type": "PropertyValue", "propertyID": "phash",
                                                     "value": "AAAABBBBCCCCDDDD"}}]}}
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document))
    import_file(session, path)
    session.commit()
    assert get_claim(session, "cr-1").appearances == [
        {"url": "https://x.com/a/status/1"}, {"url": "https://t.me/channel/9"},
        {"image": "aaaabbbbccccdddd", "url": "https://img.example/b.jpg"}]
    assert [c.id for c, _ in claims_for_image(session, "aaaabbbbccccdddd")] == ["cr-1"]

    out = io.StringIO()
    export_file(session, out, fmt="claimreview")
    [node] = json.loads(out.getvalue())["@graph"]
    assert node["itemReviewed"]["appearance"] == [
        {"@type": "CreativeWork", "url": "https://x.com/a/status/1"},
        {"@type": "CreativeWork", "url": "https://t.me/channel/9"},
        {"@type": "ImageObject", "identifier": {"@type": "PropertyValue", "propertyID": "phash",
                                                "value": "aaaabbbbccccdddd"},
         "url": "https://img.example/b.jpg"}]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "claimreview"])
def test_appearances_survive_an_export_and_import(session, tmp_path, fmt):
    save_claim(session, HOAX)
    session.commit()
    path = tmp_path / f"out.{ 'json' if fmt == 'claimreview' else fmt}"
    export_file(session, path, fmt=fmt)
    save_claim(session, {"id": "chip", "appearances": []})
    session.commit()
    assert get_claim(session, "chip").appearances == []
    import_file(session, path, fmt=fmt)
    session.commit()
    session.expire_all()
    assert get_claim(session, "chip").appearances == [
        {"url": "https://www.facebook.com/groups/1/posts/2?mibextid=x"}, {"image": "0f0f0f0f0f0f0f0f"}]
    assert [c.id for c in claims_for_url(session, "https://facebook.com/groups/1/posts/2")] == ["chip"]


@pytest.mark.parametrize("data", [b"", b"not a picture", b"\x89PNG\r\n\x1a\n broken"])
def test_what_is_not_a_picture_is_refused(data):
    from claims.images import UnreadableImage

    with pytest.raises(UnreadableImage):
        image_hash(data)


def test_a_small_file_claiming_a_huge_canvas_is_refused_before_decoding():
    from claims.images import UnreadableImage

    out = io.BytesIO()
    Image.new("1", (9000, 5000)).save(out, "PNG")  # a few KB, 45 million pixels
    assert len(out.getvalue()) < 100_000
    with pytest.raises(UnreadableImage, match="too large"):
        image_hash(out.getvalue())
