"""``flask claims add|import|export|list|status|backup|restore`` through Flask's CLI test runner."""

import json

import pytest

import claims
from claims.db import session_scope
from claims.models import Claim
from claims.store import claim_history, get_claim, library_revision
from tests.conftest import bare_app


@pytest.fixture
def cli(claims_app):
    """Run ``flask claims …`` and return the result."""
    runner = claims_app.test_cli_runner()

    def run(*args, input=None):
        return runner.invoke(args=["claims", *args], input=input)

    return run


def stored(app, claim_id):
    with session_scope(app) as session:
        return get_claim(session, claim_id)


def sourced(claim_id):
    """The options that, with a verdict, make a fact-check publishable: a summary and a link."""
    return ("--summary", "Penjelasan singkat.", "--url", f"https://example.org/{claim_id}")


def write_jsonl(path, *rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_add_creates_then_updates_only_the_options_given(cli, claims_app):
    result = cli("add", "--id", "banjir", "--title", "Foto banjir lama", "--claim",
                 "Banjir hari ini", "--verdict", "SALAH", "--url",
                 "https://cekfakta.example.org/banjir", "--summary", "Foto lama.",
                 "--date", "2025-01-31", "--tags",
                 "banjir,foto", "--publisher", "Cek Fakta Contoh", "--lang", "id")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created banjir (library revision 1)")
    result = cli("add", "--id", "banjir", "--summary", "Foto dari 2019.")
    assert result.exit_code == 0 and result.output.startswith("updated banjir")
    claim = stored(claims_app, "banjir")
    assert (claim.title, claim.verdict, claim.summary) == ("Foto banjir lama", "false",
                                                           "Foto dari 2019.")
    assert claim.tags == ["banjir", "foto"] and claim.publisher == "Cek Fakta Contoh"
    assert cli("add", "--id", "banjir", "--summary", "Foto dari 2019.").output.startswith(
        "unchanged banjir")


def test_add_without_an_id_makes_one(cli, claims_app):
    result = cli("add", "--title", "Pesan Hadiah Pulsa", "--verdict", "PENIPUAN",
                 "--status", "draft")
    assert result.exit_code == 0
    claim_id = result.output.split()[1]
    assert claim_id.startswith("pesan-hadiah-pulsa-")
    claim = stored(claims_app, claim_id)
    assert (claim.verdict, claim.status) == ("scam", "draft")
    with session_scope(claims_app) as session:
        assert claim_history(session, claim_id)[0].actor == "cli"


@pytest.mark.parametrize("args, words", [
    (("--title", "t", "--date", "kemarin"), "--date: must be a date"),
    (("--title", "t", "--url", "cekfakta.example.org"), "--url: must be an absolute http(s)"),
    (("--summary", "no title"), "--title: a claim needs a title"),
    (("--title", "t", "--id", "x" * 201), "--id: is 201 characters"),
])
def test_add_reports_bad_values_without_a_traceback(cli, claims_app, args, words):
    result = cli("add", *args)
    assert result.exit_code == 1
    assert f"Error: {words}" in result.output
    assert "Traceback" not in result.output
    with session_scope(claims_app) as session:
        assert library_revision(session) == 0


def test_add_with_no_option_is_a_usage_error(cli):
    result = cli("add")
    assert result.exit_code == 2 and "--title" in result.output


def test_import_prints_counts_and_upserts(cli, claims_app, tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl",
                        {"id": "a", "title": "A", "verdict": "HOAKS"},
                        {"id": "b", "title": "B", "verdict": ""})
    result = cli("import", str(first), "--allow-incomplete")
    assert result.exit_code == 0, result.output
    assert "created 2, updated 0, unchanged 0, skipped 0 (library revision 1)" in result.output
    second = write_jsonl(tmp_path / "b.jsonl", {"id": "a", "title": "A", "verdict": "BENAR"},
                         {"id": "b", "title": "B", "verdict": ""}, {"id": "c", "title": "C"})
    result = cli("import", str(second), "--status", "draft", "--allow-incomplete")
    assert "created 1, updated 1, unchanged 1, skipped 0 (library revision 2)" in result.output
    assert stored(claims_app, "a").verdict == "true"
    assert stored(claims_app, "c").status == "draft"


def test_failed_import_names_the_line_and_imports_nothing(cli, claims_app, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "title": "A"}\n{"id": "b", "title": "B", "date": "x"}\n'
                    "{oops\n", encoding="utf-8")
    result = cli("import", str(path), "--allow-incomplete")
    assert result.exit_code == 1
    assert "Error: line 2, field 'date': must be a date" in result.output
    assert "(and 1 more problem)" in result.output
    assert "Nothing was imported" in result.output
    with session_scope(claims_app) as session:
        assert library_revision(session) == 0

    result = cli("import", str(path), "--skip-invalid", "--allow-incomplete")
    assert result.exit_code == 0
    assert "skipped line 2, field 'date': must be a date" in result.output
    assert "skipped line 3: invalid JSON" in result.output
    assert "created 1, updated 0, unchanged 0, skipped 2" in result.output


def test_import_csv_and_claimreview_by_extension_and_from_stdin(cli, claims_app, tmp_path):
    (tmp_path / "a.csv").write_text("id,title,verdict,tags\na,A,SATIRE,x|y\n", encoding="utf-8")
    assert cli("import", str(tmp_path / "a.csv"), "--allow-incomplete").exit_code == 0
    assert stored(claims_app, "a").tags == ["x", "y"]
    review = {"@type": "ClaimReview", "identifier": "cr", "claimReviewed": "Narasi",
              "reviewRating": {"alternateName": "Misleading"}}
    result = cli("import", "-", "--format", "claimreview", "--allow-incomplete",
                 input=json.dumps(review))
    assert result.exit_code == 0, result.output
    assert stored(claims_app, "cr").verdict == "misleading"
    result = cli("import", "-", input="{}")
    assert result.exit_code == 2 and "--format" in result.output


def test_import_of_a_missing_file_fails_cleanly(cli, tmp_path):
    result = cli("import", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 1
    assert "missing.jsonl: no such file" in result.output and "Traceback" not in result.output
    assert "Errno" not in result.output


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "claimreview"])
def test_export_to_a_file_imports_back_unchanged(cli, tmp_path, fmt):
    cli("add", "--id", "a", "--title", "A", "--verdict", "HOAKS", "--tags", "x,y", *sourced("a"))
    cli("add", "--id", "b", "--title", "B", "--status", "retired")
    path = tmp_path / f"out.{fmt}"
    result = cli("export", str(path))
    assert result.exit_code == 0, result.output
    assert f"exported 2 claims to {path}" in result.output
    result = cli("import", str(path))
    assert "created 0, updated 0, unchanged 2, skipped 0" in result.output


def test_export_to_stdout_with_a_status_filter(cli):
    cli("add", "--id", "a", "--title", "A", "--verdict", "HOAKS", *sourced("a"))
    cli("add", "--id", "b", "--title", "B", "--status", "draft")
    result = cli("export", "-", "--status", "published")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a"]
    result = cli("export", "-", "--format", "claimreview")
    assert [n["identifier"] for n in json.loads(result.stdout)["@graph"]] == ["a", "b"]


def test_list_filters_by_verdict_label_status_and_text(cli):
    cli("add", "--id", "a", "--title", "Gempa Bali", "--verdict", "SALAH", "--date", "2025-01-02",
        *sourced("a"))
    cli("add", "--id", "b", "--title", "Gempa Lombok", "--verdict", "BENAR", *sourced("b"))
    cli("add", "--id", "c", "--title", "Pulsa gratis", "--verdict", "HOAKS", "--status", "draft")
    result = cli("list", "--verdict", "HOAKS")
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert sorted(r[0] for r in rows) == ["a", "c"]
    assert ["a", "published", "false", "2025-01-02", "Gempa Bali"] in rows
    assert [line.split("\t")[0] for line in cli("list", "--q", "gempa").stdout.splitlines()] == [
        "b", "a"]
    assert cli("list", "--status", "draft").stdout.split("\t")[0] == "c"
    limited = cli("list", "--limit", "1")
    assert len(limited.stdout.splitlines()) == 1 and "1 of 3 claims" in limited.output


def test_publishing_needs_a_verdict_a_summary_and_a_link(cli, claims_app, tmp_path):
    result = cli("add", "--id", "a", "--title", "Foto banjir lama", "--verdict", "SALAH")
    assert result.exit_code == 1
    assert ("Error: a published fact-check needs --verdict, --summary and --url; missing: "
            "--summary, --url. Give them, or save a draft with --status draft.") in result.output
    assert cli("add", "--id", "a", "--title", "Foto banjir lama", "--verdict", "SALAH",
               "--status", "draft").exit_code == 0
    result = cli("status", "a", "published")
    assert result.exit_code == 1 and "a cannot be published" in result.output
    assert "missing: summary, url" in result.output and "--summary, --url" in result.output
    assert stored(claims_app, "a").status == "draft"
    assert cli("add", "--id", "a", *sourced("a")).exit_code == 0
    assert cli("status", "a", "published").exit_code == 0
    # A label the vocabulary does not know is no verdict: the reply could not lead with it.
    result = cli("add", "--id", "b", "--title", "B", "--verdict", "kabar burung", *sourced("b"))
    assert result.exit_code == 1 and "missing: --verdict" in result.output

    sheet = write_jsonl(tmp_path / "sheet.jsonl",
                        {"id": "c", "title": "C", "verdict": "HOAKS", **dict(zip(
                            ("summary", "url"), sourced("c")[1::2]))},
                        {"id": "d", "title": "D", "verdict": "HOAKS"},
                        {"id": "e", "title": "E", "status": "draft"})
    result = cli("import", str(sheet))
    assert result.exit_code == 1 and "line 2, field 'summary'" in result.output
    assert "missing: summary, url" in result.output and "Nothing was imported" in result.output
    result = cli("import", str(sheet), "--skip-invalid")
    assert "skipped line 2, field 'summary'" in result.output
    assert "created 2, updated 0, unchanged 0, skipped 1" in result.output
    result = cli("import", str(sheet), "--allow-incomplete")
    assert "created 1, updated 0, unchanged 2, skipped 0" in result.output
    assert stored(claims_app, "d").status == "published"


def test_list_refuses_an_unknown_verdict(cli):
    result = cli("list", "--verdict", "kabar burung")
    assert result.exit_code == 1 and "unknown verdict" in result.output


def test_status_command_retires_a_claim(cli, claims_app):
    cli("add", "--id", "a", "--title", "A", "--verdict", "HOAKS", *sourced("a"))
    result = cli("status", "a", "retired")
    assert result.exit_code == 0 and "a is retired (library revision 2)" in result.output
    assert stored(claims_app, "a").status == "retired"
    result = cli("status", "nope", "retired")
    assert result.exit_code == 1 and "no claim with id 'nope'" in result.output


@pytest.mark.sqlite_only(reason="flask claims backup and restore copy a SQLite file")
def test_restore_puts_a_backup_back_then_runs_the_apps_hook(tmp_path):
    seen = []

    def on_restore():
        with session_scope() as session:
            seen.append(library_revision(session))
        return "the app followed"

    app = bare_app(tmp_path)
    database = claims.init_app(app, on_restore=on_restore)
    try:
        runner = app.test_cli_runner()

        def run(*args, input=None):
            return runner.invoke(args=["claims", *args], input=input)

        assert run("add", "--id", "a", "--title", "A", "--verdict", "HOAKS",
                   *sourced("a")).exit_code == 0
        copy = tmp_path / "copy.db"
        assert run("backup", str(copy)).exit_code == 0
        assert run("add", "--id", "b", "--title", "B", "--verdict", "HOAKS",
                   *sourced("b")).exit_code == 0
        junk = tmp_path / "junk.db"
        junk.write_bytes(b"not a database at all" * 100)
        refused = run("restore", str(junk), "--yes")
        assert refused.exit_code == 1 and "not a SQLite database" in refused.output
        declined = run("restore", str(copy), input="n\n")
        assert declined.exit_code == 1 and "Aborted" in declined.output
        assert seen == []  # no hook after a restore that did not happen
        result = run("restore", str(copy), "--yes")
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            f"restored {copy}: 1 published claim at library revision 1", "the app followed"]
        assert seen == [1]  # the hook reads the restored library
        with session_scope(app) as session:
            assert session.get(Claim, "a") is not None and session.get(Claim, "b") is None
    finally:
        database.engine.dispose()


@pytest.mark.sqlite_only(reason="flask claims backup and restore copy a SQLite file")
def test_restore_without_a_hook_only_restores(cli, claims_app, tmp_path):
    assert cli("add", "--id", "a", "--title", "A", "--status", "draft", "--verdict", "HOAKS",
               *sourced("a")).exit_code == 0
    copy = tmp_path / "copy.db"
    assert cli("backup", str(copy)).exit_code == 0
    assert cli("status", "a", "published").exit_code == 0
    result = cli("restore", str(copy), "--yes")
    assert result.exit_code == 0, result.output
    assert result.output == f"restored {copy}: 0 published claims at library revision 1\n"
    assert stored(claims_app, "a").status == "draft"


@pytest.mark.parametrize("command", ["add", "import", "export", "list", "status", "backup",
                                     "restore"])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output and f"flask claims {command}" in result.output
