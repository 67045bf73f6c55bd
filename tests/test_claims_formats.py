"""Import and export: JSONL, CSV, ClaimReview; all-or-nothing imports; round trips."""

import io
import json

import pytest
from flask import Flask
from sqlalchemy import func, select

import claims
from claims.errors import ClaimsRejected
from claims.formats import (
    UnknownFormat, detect_format, export_file, import_file, read_claimreview, read_csv, read_jsonl,
)
from claims.models import Claim, ClaimHistory
from claims.store import get_claim, library_revision, save_claim
from tests.conftest import database_url


def row(claim_id, **fields):
    """An invented fact-check row in the JSONL corpus shape."""
    base = {"id": claim_id, "title": f"Judul {claim_id}", "claim": f"Narasi {claim_id}",
            "verdict": "SALAH", "summary": f"Penjelasan {claim_id}.",
            "url": f"https://cekfakta.example.org/{claim_id}", "date": "2025-01-15",
            "lang": "id", "source_dataset": "ignored extra"}
    base.update(fields)
    return base


def jsonl(*rows):
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                     for r in rows) + "\n"


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def snapshot(session):
    """Everything an import could change: claims, history, revision."""
    session.expire_all()
    claims = [c.to_dict() for c in session.scalars(select(Claim).order_by(Claim.id))]
    history = session.scalar(select(func.count()).select_from(ClaimHistory))
    return claims, history, library_revision(session)


# ---------------------------------------------------------------------------------------------
# JSONL


def test_jsonl_import_creates_claims_and_ignores_extras(session, tmp_path):
    path = write(tmp_path, "a.jsonl", jsonl(row("a"), "", row("b", verdict="")))
    report = import_file(session, path)
    session.commit()
    assert (report.created, report.updated, report.unchanged, report.skipped) == (2, 0, 0, [])
    a, b = get_claim(session, "a"), get_claim(session, "b")
    assert (a.verdict, a.verdict_raw, a.url) == ("false", "SALAH", "https://cekfakta.example.org/a")
    assert (b.verdict, b.verdict_raw) == ("unrated", "")
    assert report.claim_ids == ["a", "b"]


def test_reader_numbers_lines_across_blank_ones(tmp_path):
    path = write(tmp_path, "a.jsonl", jsonl(row("a"), "", "   ", row("b"), "[1, 2]", "{oops"))
    rows = read_jsonl(path)
    assert [(r.line, r.data["id"] if r.data else None) for r in rows] == [
        (1, "a"), (4, "b"), (5, None), (6, None)]
    assert "JSON object" in rows[2].problem.message
    assert "invalid JSON" in rows[3].problem.message


BAD_JSONL = [
    # (the bad line, field, words in the message)
    ("{not json", None, "invalid JSON"),
    ('["a", "list"]', None, "expected a JSON object"),
    ('"just text"', None, "expected a JSON object"),
    (json.dumps(row("x", title="", claim="")), "title", "title or the claim"),
    (json.dumps(row("x", title=None, claim=None)), "title", "title or the claim"),
    (json.dumps(row("x", date="31-01-2025")), "date", "2025-01-31"),
    (json.dumps(row("x", date="2025-13-01")), "date", "date"),
    (json.dumps(row("x" * 201)), "id", "at most 200"),
    (json.dumps(row("x", url="www.example.org/x")), "url", "http(s)"),
    (json.dumps(row("x", url="mailto:desk@example.org")), "url", "http(s)"),
    (json.dumps(row("x", verdict=["SALAH"])), "verdict", "must be text"),
    (json.dumps(row("x", status="archived")), "status", "draft, published, retired"),
    (json.dumps(row("x", lang="bahasa daerah")), "lang", "language code"),
    (json.dumps(row("x", summary={"text": "x"})), "summary", "must be text"),
    (json.dumps(row("x", tags={"a": 1})), "tags", "list"),
    (json.dumps(row("a", url="https://cekfakta.example.org/other")), "id", "line 1"),
    (json.dumps(row("x", url="https://cekfakta.example.org/a")), "url", "line 1"),
]


@pytest.mark.parametrize("bad, field, words", BAD_JSONL)
def test_a_bad_line_fails_the_whole_import_and_changes_nothing(scratch, tmp_path, bad, field,
                                                               words):
    save_claim(scratch, row("old", url="https://cekfakta.example.org/old"))
    before = snapshot(scratch)
    path = write(tmp_path, "bad.jsonl", jsonl(row("a"), row("b"), "", bad, row("c")))
    with pytest.raises(ClaimsRejected) as caught:
        import_file(scratch, path)
    # nothing was written, not even inside the still-open transaction
    assert snapshot(scratch) == before
    error = caught.value
    assert (error.line, error.field) == (4, field)
    assert words in error.message
    expected_prefix = f"line 4, field '{field}': " if field else "line 4: "
    assert str(error).startswith(expected_prefix)


def test_the_first_bad_line_is_reported_whatever_the_kind_of_problem(session, tmp_path):
    # line 2 is only found bad once compared with line 1; line 3 is unreadable
    path = write(tmp_path, "bad.jsonl", jsonl(row("a"), row("a"), "{oops", row("d", date="x")))
    with pytest.raises(ClaimsRejected) as caught:
        import_file(session, path)
    assert caught.value.line == 2
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (2, "id"), (3, None), (4, "date")]


def test_url_already_owned_by_another_stored_claim_is_refused(session, tmp_path):
    save_claim(session, row("old"))
    path = write(tmp_path, "a.jsonl", jsonl(row("new", url="https://cekfakta.example.org/old")))
    with pytest.raises(ClaimsRejected) as caught:
        import_file(session, path)
    assert caught.value.field == "url" and "'old'" in caught.value.message


def test_skip_invalid_imports_the_good_rows_and_reports_the_rest(session, tmp_path):
    before = library_revision(session)
    path = write(tmp_path, "a.jsonl", jsonl(row("a"), "{oops", row("b", date="kemarin"), row("c")))
    report = import_file(session, path, skip_invalid=True)
    session.commit()
    assert (report.created, report.updated) == (2, 0)
    assert [(p.line, p.field) for p in report.skipped] == [(2, None), (3, "date")]
    assert str(report.skipped[1]).startswith("line 3, field 'date': ")
    assert sorted(c.id for c in session.scalars(select(Claim))) == ["a", "c"]
    assert library_revision(session) == before + 1


def test_upsert_by_id_and_by_url(session, tmp_path):
    import_file(session, write(tmp_path, "one.jsonl", jsonl(row("a"), row("b"), row("c"))))
    second = jsonl(
        row("a", verdict="BENAR"),                                   # changed, by id
        {"url": "https://cekfakta.example.org/b", "summary": "Baru."},  # changed, by url
        row("c"),                                                    # identical
        {"title": "Tanpa id", "url": "https://cekfakta.example.org/new"},  # new, id generated
    )
    report = import_file(session, write(tmp_path, "two.jsonl", second))
    session.commit()
    assert (report.created, report.updated, report.unchanged) == (1, 2, 1)
    assert get_claim(session, "a").verdict == "true"
    b = get_claim(session, "b")
    assert b.summary == "Baru." and b.title == "Judul b"  # fields not given are kept
    new_id = report.claim_ids[3]
    assert new_id.startswith("tanpa-id-")
    assert get_claim(session, new_id).url == "https://cekfakta.example.org/new"
    changed = {c.id for c in session.scalars(select(Claim).where(Claim.revision == 2))}
    assert changed == {"a", "b", new_id}


def test_reimporting_the_same_file_changes_nothing(session, tmp_path):
    path = write(tmp_path, "a.jsonl", jsonl(row("a"), row("b")))
    import_file(session, path)
    session.commit()
    before = snapshot(session)
    report = import_file(session, path)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert snapshot(session) == before


def test_a_url_can_move_to_a_new_claim_in_the_same_import(session, tmp_path):
    import_file(session, write(tmp_path, "one.jsonl", jsonl(row("a"))))
    moved = jsonl(row("a", url="https://cekfakta.example.org/a-v2"),
                  row("fresh", url="https://cekfakta.example.org/a"))
    report = import_file(session, write(tmp_path, "two.jsonl", moved))
    session.commit()
    assert (report.created, report.updated) == (1, 1)
    assert get_claim(session, "fresh").url == "https://cekfakta.example.org/a"
    assert get_claim(session, "a").url == "https://cekfakta.example.org/a-v2"


def test_status_applies_to_new_claims_only_unless_the_row_names_one(session, tmp_path):
    import_file(session, write(tmp_path, "one.jsonl", jsonl(row("a"))))
    path = write(tmp_path, "two.jsonl", jsonl(row("a", title="t2"), row("b"),
                                              row("c", status="retired")))
    import_file(session, path, status="draft")
    assert [get_claim(session, i).status for i in "abc"] == ["published", "draft", "retired"]


def test_stream_import_needs_a_format(session):
    with pytest.raises(UnknownFormat):
        import_file(session, io.StringIO(jsonl(row("a"))))
    report = import_file(session, io.BytesIO(jsonl(row("a")).encode()), fmt="jsonl")
    assert report.created == 1


def test_non_utf8_file_names_the_line(session, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(jsonl(row("a")).encode() + '{"title": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(ClaimsRejected) as caught:
        import_file(session, path)
    assert caught.value.line == 2 and "UTF-8" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# CSV


def test_csv_import_with_tags_bom_and_multiline_cells(session, tmp_path):
    content = (
        "\ufeffID,Title,Claim,Verdict,Summary,URL,Date,Lang,Tags,Extra\r\n"
        'a,Judul A,"Narasi\r\nbaris dua",HOAKS,Ringkas,https://x.example.org/a,2025-01-02,id,'
        '"banjir|foto",z\r\n'
        "\r\n"
        "b,Judul B,,Satire,,,,en,\"politik, pemilu\",z\r\n"
    )
    report = import_file(session, write(tmp_path, "a.csv", content))
    assert (report.created, report.skipped) == (2, [])
    a, b = get_claim(session, "a"), get_claim(session, "b")
    assert a.claim == "Narasi\r\nbaris dua" and a.tags == ["banjir", "foto"]
    assert (b.verdict, b.lang, b.tags, b.url) == ("satire", "en", ["politik", "pemilu"], None)


def test_csv_with_semicolons_as_spreadsheets_in_indonesia_write_it(session, tmp_path):
    content = "id;title;verdict\na;Judul A;PENIPUAN\n"
    import_file(session, write(tmp_path, "a.csv", content))
    assert get_claim(session, "a").verdict == "scam"


@pytest.mark.parametrize("content, line, field, words", [
    ("id,title,date\na,A,2025-01-01\nb,B,01/02/2025\n", 3, "date", "2025-01-31"),
    ('id,title,claim\na,"two\nlines",x\nb,,\n', 4, "title", "title or the claim"),
    ("id,title\na,A\nb,B,extra\n", 3, None, "3 values"),
    ("id,title,claim\na,A,x\nb,B\n", 3, "claim", "2 values but the header has 3"),
    ('title,claim,verdict,url\n"Judul tanpa tutup,klaim,HOAKS,https://x\n', 2, None, "never closed"),
    ('title,claim,verdict,url\nA,a,HOAKS,https://x.example.org/a\n"B,b,HOAKS,https://x\nC,c,SALAH,'
     'https://x.example.org/c\n', 3, None, "never closed"),
    ("id,title,title\na,A,B\n", 1, "title", "twice"),
    ("verdict,summary\nSALAH,x\n", 1, None, "title, claim, id, url"),
    ("id,title,url\na,A,not-a-url\n", 2, "url", "http(s)"),
])
def test_bad_csv_names_line_and_field_and_changes_nothing(scratch, tmp_path, content, line,
                                                          field, words):
    before = snapshot(scratch)
    with pytest.raises(ClaimsRejected) as caught:
        import_file(scratch, write(tmp_path, "bad.csv", content))
    assert (caught.value.line, caught.value.field) == (line, field)
    assert words in str(caught.value)
    assert snapshot(scratch) == before


@pytest.mark.parametrize("line, said", [
    ('{"title" "Dua"}', "invalid JSON: a colon is missing after a name, at column 10"),
    ('{"title": "Dua" "claim": "x"}', "invalid JSON: a comma is missing, at column 17"),
    ("{title: 'Dua'}", "invalid JSON: a name is not in double quotes, or a comma is left before the "
                       "closing brace, at column 2"),
    ('{"title": "Dua}', "invalid JSON: a quoted text is never closed, at column 11"),
    ('{"title": "D\tua"}', "invalid JSON: a quoted text holds a control character such as a line break, "
                            "at column 13"),
    ('{"title": "D\\qua"}', "invalid JSON: a backslash escape is not valid, at column 13"),
    ('{"title": "D\\u12"}', "invalid JSON: a \\u escape is not valid, at column 14"),
    ('{"title": "Dua"} lagi', "invalid JSON: something follows the end of the JSON, at column 18"),
    ('{"title": tidak}', "invalid JSON: a value is missing or is not JSON, at column 11"),
    ('["Dua"]', "expected a JSON object, got a list"),
    ('"Dua"', "expected a JSON object, got a text"),
    ("null", "expected a JSON object, got an empty value (null)"),
])
def test_a_line_that_is_not_json_is_explained_in_our_words(line, said):
    """The json module's English ("Expecting ':' delimiter", "str") never reaches the message."""
    problem = read_jsonl(io.StringIO(line))[0].problem
    assert (problem.line, str(problem.reason)) == (1, said)


@pytest.mark.parametrize("content, said", [
    ('title,url\n"Satu"x,https://example.org/1\n', "line 2: a quote inside a quoted value is not doubled"),
    ('"tit"le,url\nSatu,https://example.org/1\n', "line 1: unreadable CSV header: a quote inside a quoted "
                                                  "value is not doubled"),
    ('title,url\n"' + "x" * 200_000 + '",https://example.org/1\n',
     "line 2: a value is longer than 131072 characters"),
])
def test_a_csv_the_csv_module_refuses_is_explained_in_our_words(content, said):
    try:
        problems = [row.problem for row in read_csv(io.StringIO(content)) if row.problem]
    except ClaimsRejected as exc:  # a header that cannot be read: nothing further is read
        problems = [exc.problem]
    assert [str(problem) for problem in problems] == [said]


def test_csv_columns_left_out_of_the_header_are_left_unchanged(session, tmp_path):
    save_claim(session, row("a"))
    report = import_file(session, write(tmp_path, "a.csv", "id,verdict\na,BENAR\n"))
    claim = get_claim(session, "a")
    assert report.updated == 1
    assert (claim.verdict, claim.summary) == ("true", "Penjelasan a.")


def test_read_csv_of_an_empty_file_is_empty(tmp_path):
    assert read_csv(write(tmp_path, "empty.csv", "")) == []


# ---------------------------------------------------------------------------------------------
# ClaimReview


def claimreview(n, **extra):
    node = {
        "@context": "https://schema.org", "@type": "ClaimReview",
        "url": f"https://cekfakta.example.org/cr-{n}",
        "claimReviewed": f"Narasi nomor {n}",
        "headline": f"[SALAH] Judul nomor {n}",
        "description": f"Penjelasan nomor {n}.",
        "datePublished": "2025-02-03T08:00:00+07:00",
        "inLanguage": "id-ID",
        "author": {"@type": "Organization", "name": "Cek Fakta Contoh"},
        "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5,
                         "alternateName": "Salah"},
        "itemReviewed": {"@type": "Claim", "appearance": [{"url": "https://social.example/p/1"}],
                         "firstAppearance": {"url": "https://social.example/p/0"}},
    }
    node.update(extra)
    return node


def test_claimreview_fields_map_onto_claims(session, tmp_path):
    report = import_file(session, write(tmp_path, "cr.json", json.dumps(claimreview(1))))
    assert report.created == 1
    claim = get_claim(session, report.claim_ids[0])
    assert claim.claim == "Narasi nomor 1" and claim.title == "[SALAH] Judul nomor 1"
    assert claim.summary == "Penjelasan nomor 1."
    assert (claim.verdict, claim.verdict_raw) == ("false", "Salah")
    assert claim.url == "https://cekfakta.example.org/cr-1"
    assert str(claim.published) == "2025-02-03" and claim.lang == "id"
    assert claim.publisher == "Cek Fakta Contoh"


@pytest.mark.parametrize("document", [
    [claimreview(1), claimreview(2)],
    {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "name": "Cek Fakta"}, claimreview(1),
        {"@type": ["schema:ClaimReview"], **{k: v for k, v in claimreview(2).items()
                                             if k != "@type"}},
        {"@type": "Organization", "name": "Cek Fakta Contoh"}]},
    {"@type": "WebPage", "mainEntity": [claimreview(1), claimreview(2)]},
])
def test_claimreview_lists_graphs_and_nested_nodes(session, tmp_path, document):
    report = import_file(session, write(tmp_path, "cr.jsonld", json.dumps(document)))
    assert report.created == 2
    assert {get_claim(session, i).url for i in report.claim_ids} == {
        "https://cekfakta.example.org/cr-1", "https://cekfakta.example.org/cr-2"}


def test_claimreview_inside_an_html_page(session, tmp_path):
    page = ("<!doctype html><html><head><script type=\"application/ld+json\">{broken</script>"
            "<script type='application/ld+json'>" + json.dumps(claimreview(7)) +
            "</script></head><body>artikel</body></html>")
    report = import_file(session, write(tmp_path, "artikel.html", page))
    assert report.created == 1
    assert get_claim(session, report.claim_ids[0]).url.endswith("cr-7")


def test_claimreview_upserts_by_url(session, tmp_path):
    import_file(session, write(tmp_path, "cr.json", json.dumps([claimreview(1)])))
    updated = claimreview(1, reviewRating={"@type": "Rating", "alternateName": "Menyesatkan"})
    report = import_file(session, write(tmp_path, "cr2.json", json.dumps([updated])))
    assert (report.created, report.updated) == (0, 1)
    assert get_claim(session, report.claim_ids[0]).verdict == "misleading"


@pytest.mark.parametrize("content, line, field, words", [
    ('{"@type": "ClaimReview",\n "url": oops}', 2, None, "invalid JSON"),
    ('{"@type": "WebPage"}', 0, None, "no ClaimReview"),
    (json.dumps([claimreview(1), claimreview(2, datePublished="kemarin")]), 2,
     "datePublished", "item 2, field 'datePublished'"),
    (json.dumps([claimreview(1, url="/relative/path")]), 1, "url", "http(s)"),
])
def test_bad_claimreview_names_the_item_and_its_property(scratch, tmp_path, content, line,
                                                         field, words):
    before = snapshot(scratch)
    with pytest.raises(ClaimsRejected) as caught:
        import_file(scratch, write(tmp_path, "bad.json", content))
    assert (caught.value.line, caught.value.field) == (line, field)
    assert words in str(caught.value)
    assert snapshot(scratch) == before


def test_read_claimreview_keeps_where_the_claim_appeared_first_appearance_first(tmp_path):
    rows = read_claimreview(write(tmp_path, "cr.json", json.dumps(claimreview(1))))
    assert rows[0].data["appearances"] == [{"url": "https://social.example/p/0"},
                                           {"url": "https://social.example/p/1"}]
    assert rows[0].line == 1


# ---------------------------------------------------------------------------------------------
# Detection, export, round trips


@pytest.mark.parametrize("name, content, fmt", [
    ("x.jsonl", "", "jsonl"),
    ("x.ndjson", "", "jsonl"),
    ("x.csv", "", "csv"),
    ("x.json", "", "claimreview"),
    ("x.html", "", "claimreview"),
    ("x.txt", '{"id": "a", "title": "t"}\n{"id": "b", "title": "u"}\n', "jsonl"),
    ("x.txt", '{"@context": "https://schema.org", "@type": "ClaimReview"}', "claimreview"),
    ("x.txt", '{\n  "@type": "ClaimReview"\n}', "claimreview"),
    ("x.txt", "[]", "claimreview"),
    ("x.txt", "<html></html>", "claimreview"),
    ("x.txt", "id,title\na,b\n", "csv"),
])
def test_detect_format(tmp_path, name, content, fmt):
    assert detect_format(write(tmp_path, name, content)) == fmt


def test_detect_format_of_an_empty_unknown_file_asks_for_a_format(tmp_path):
    with pytest.raises(UnknownFormat):
        detect_format(write(tmp_path, "x.txt", ""))


LIBRARY = [
    row("a", verdict="[SALAH]", tags=["banjir", "foto"], publisher="Cek Fakta Contoh"),
    row("b", verdict="", url="", date="", summary=""),
    row("c", verdict="Kabar Burung", lang="en", tags=["satu, dua"], status="draft"),
    row("d", verdict="false", verdict_raw="SALAH", claim='Pesan "berantai"\nbaris dua, tiga'),
    row("e", verdict="PENIPUAN", status="retired", title="Hadiah ✨ gratis", tags=[]),
]


def stable(claim_dict):
    """A claim's content, without what the library itself stamps."""
    return {k: v for k, v in claim_dict.items()
            if k not in ("created_at", "updated_at", "revision")}


@pytest.mark.db
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "claimreview"])
def test_export_then_import_round_trips(tmp_path, fmt):
    def make_app(name):
        app = Flask(__name__, instance_path=str(tmp_path))
        app.config.update(DATABASE_URL=database_url(tmp_path, name))
        return app, claims.init_app(app)

    source_app, source_db = make_app("source")
    target_app, target_db = make_app("target")
    try:
        with source_db.sessionmaker() as source:
            import_file(source, write(tmp_path, "lib.jsonl", jsonl(*LIBRARY)))
            source.commit()
            path = tmp_path / f"export.{fmt}"
            assert export_file(source, path, fmt=fmt) == len(LIBRARY)
            expected = [stable(c.to_dict()) for c in source.scalars(
                select(Claim).order_by(Claim.id))]
            again = import_file(source, path)
            assert (again.created, again.updated, again.unchanged) == (0, 0, len(LIBRARY))
        with target_db.sessionmaker() as target:
            report = import_file(target, path)
            target.commit()
            assert report.created == len(LIBRARY) and not report.skipped
            actual = [stable(c.to_dict()) for c in target.scalars(
                select(Claim).order_by(Claim.id))]
        assert actual == expected
    finally:
        source_db.engine.dispose()
        target_db.engine.dispose()


def test_export_filters_by_status_and_writes_to_streams(session, tmp_path):
    import_file(session, write(tmp_path, "lib.jsonl", jsonl(*LIBRARY)))
    out = io.StringIO()
    assert export_file(session, out, fmt="jsonl", status="draft") == 1
    assert json.loads(out.getvalue())["id"] == "c"
    out = io.StringIO()
    export_file(session, out, fmt="claimreview", status="published")
    graph = json.loads(out.getvalue())["@graph"]
    assert {n["identifier"] for n in graph} == {"a", "b", "d"}
    node = next(n for n in graph if n["identifier"] == "a")
    assert node["@type"] == "ClaimReview" and node["reviewRating"]["alternateName"] == "[SALAH]"
    assert node["author"]["name"] == "Cek Fakta Contoh"
    assert "reviewRating" not in next(n for n in graph if n["identifier"] == "b")


def test_csv_export_has_a_header_and_pipe_joined_tags(session, tmp_path):
    import_file(session, write(tmp_path, "lib.jsonl", jsonl(*LIBRARY)))
    out = io.StringIO()
    export_file(session, out, fmt="csv")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("id,title,claim,verdict,verdict_raw,summary,url,date,lang,tags")
    assert "banjir|foto" in out.getvalue()


def test_a_file_that_cannot_be_opened_is_named_in_our_own_words(tmp_path):
    """The system's reasons are English; ours are in the catalog (Indonesian on the pages)."""
    for path, words in ((tmp_path / "missing.jsonl", "%(path)s: no such file"),
                        (tmp_path, "%(path)s is a folder, not a file")):
        with pytest.raises(ClaimsRejected) as rejected:
            read_jsonl(path)
        [problem] = rejected.value.problems
        assert (problem.reason.message, dict(problem.reason.values)) == (words, {"path": path})
        with pytest.raises(UnknownFormat) as unknown:
            detect_format(path.with_suffix(".unknown") if path.suffix else path)
        assert "Errno" not in str(unknown.value)
    assert str(unknown.value) == f"{tmp_path} is a folder, not a file"
