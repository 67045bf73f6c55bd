"""The pages speak one language at a time, and every word they say is in the catalog.

Three doors are watched: the catalog against what the code says (`pybabel extract`), the
templates and the editors' Python against words written outside gettext, and every page as
rendered in Indonesian and in English against the other language's words.
"""
import ast
import io
import json
import os
import re
import shutil
from html.parser import HTMLParser

import pytest
from babel.messages.mofile import read_mo
from jinja2 import Environment, nodes
from sqlalchemy import text as sa_text

import claims.db
from app import StartupError, compile_translations
from claims.groups import HoaxPair
from claims.models import Claim
from editors.models import InboxGroup
from tests.editors_support import (CHIP_CLAIM, PASSWORD, add_account, confirm_link, csrf, editors_app,
                                   login, logged_in)
from tests.languages import ROOT, catalog, extracted, foreign_words, visible_text

TEMPLATES = sorted([*ROOT.glob("editors/templates/**/*.html"), *ROOT.glob("tipline/templates/**/*.html")])
GETTEXT = {"_", "gettext", "ngettext", "lazy_gettext", "_l", "pgettext", "npgettext"}


# --- the catalog ------------------------------------------------------------------------------


def test_every_message_the_pages_say_is_in_the_catalog_and_translated():
    said, kept = extracted(), catalog()
    assert len(said) > 250  # the extraction read the templates and the Python, not nothing
    missing = [f"{m!r} ({where[0]})" for m, where in said.items() if kept.get(m) is None]
    assert not missing, "not in the catalog (run pybabel extract + update): " + "; ".join(missing)
    untranslated = [m.id for m in kept if m.id and (m.fuzzy or not all(
        m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert not untranslated, f"no Indonesian for: {untranslated}"
    stale = [m.id for m in kept if m.id and m.id not in said]
    assert not stale, f"in the catalog but said nowhere (run pybabel update): {stale}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in kept.check()]
    assert not problems, problems  # placeholders of msgid and msgstr agree


def test_a_missing_or_stale_compiled_catalog_is_compiled_at_start(tmp_path):
    folder = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", folder, ignore=shutil.ignore_patterns("*.mo"))
    po = folder / "id" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    compile_translations(folder)
    with mo.open("rb") as compiled:
        assert read_mo(compiled).get("Log in").string == "Masuk"
    po.write_text(po.read_text().replace('msgstr "Masuk"', 'msgstr "Masuk sekarang"'))
    stamp = mo.stat().st_mtime
    os.utime(po, (stamp + 10, stamp + 10))
    compile_translations(folder)
    with mo.open("rb") as compiled:
        assert read_mo(compiled).get("Log in").string == "Masuk sekarang"


def test_a_catalog_that_cannot_be_compiled_stops_start_up_with_the_command(tmp_path):
    folder = tmp_path / "translations"
    (folder / "id" / "LC_MESSAGES").mkdir(parents=True)
    (folder / "id" / "LC_MESSAGES" / "messages.po").write_text('msgid "x"\nmsgstr "y"\n')
    (folder / "id" / "LC_MESSAGES" / "messages.mo").mkdir()  # in the way: cannot be replaced
    os.utime(folder / "id" / "LC_MESSAGES" / "messages.mo", (0, 0))  # and older than the .po
    with pytest.raises(StartupError, match="pybabel compile -d translations"):
        compile_translations(folder)


# --- the templates: no words outside gettext --------------------------------------------------

_ENV = Environment(extensions=["jinja2.ext.i18n"])
_EXPRESSION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
_TAG = re.compile(r"\{%-?.*?-?%\}|\{#.*?#\}", re.S)
_MARK = re.compile(r"@@(\d+)@@")
_FORMAT = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")
# Not words: an attribute a macro writes into a tag (` aria-invalid="true"`), a link's address.
_NOT_WORDS = re.compile(r'[\w-]+="[^"]*"|https?://\S*')


def _printed(node):
    """Yield the string literals an expression prints as they are (not through gettext), and
    "_(…)" for a gettext call whose message is not a literal (extraction cannot see it)."""
    if isinstance(node, nodes.Const):
        if isinstance(node.value, str):
            yield _FORMAT.sub("", node.value)
    elif isinstance(node, nodes.CondExpr):
        yield from _printed(node.expr1)
        if node.expr2 is not None:
            yield from _printed(node.expr2)
    elif isinstance(node, nodes.Concat):
        for item in node.nodes:
            yield from _printed(item)
    elif isinstance(node, (nodes.Mod, nodes.Add)):
        yield from _printed(node.left)
        yield from _printed(node.right)
    elif isinstance(node, nodes.Filter):
        if node.node is not None and node.name in ("upper", "lower", "title", "capitalize", "e",
                                                     "escape", "safe", "trim", "string", "format"):
            yield from _printed(node.node)
    elif isinstance(node, nodes.Getitem) and isinstance(node.node, nodes.Dict):
        for pair in node.node.items:
            yield from _printed(pair.value)
    elif isinstance(node, nodes.Call):
        callee = node.node
        if isinstance(callee, nodes.Name) and callee.name in GETTEXT:
            if not node.args or not isinstance(node.args[0], nodes.Const):
                yield "gettext of a variable: extraction cannot see its words"
        elif isinstance(callee, nodes.Getattr) and isinstance(callee.node, nodes.Dict):
            for pair in callee.node.items:
                yield from _printed(pair.value)


class _Words(HTMLParser):
    """Collects a template skeleton's text and shown attributes, with the marks of expressions."""

    SHOWN = ("placeholder", "title", "aria-label", "alt", "label")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.raw = [], 0  # (text with marks); inside <script>/<style>

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.raw += 1
        attributes = dict(attrs)
        self.found += [attributes[name] for name in self.SHOWN if attributes.get(name)]
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.found.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.raw -= 1

    def handle_data(self, data):
        if not self.raw:
            self.found.append(data)


def unwrapped_words(source: str) -> list[str]:
    """Give what a template shows that is not from gettext or a variable: literal text of the
    page (HTML text nodes, shown attributes) and string literals printed by its expressions."""
    expressions = []

    def mark(match):
        expressions.append(match.group(1))
        return f"@@{len(expressions) - 1}@@"

    skeleton = _EXPRESSION.sub(mark, _TAG.sub("", source))
    parser = _Words()
    parser.feed(skeleton)
    problems = []
    for text in parser.found:
        bare = _NOT_WORDS.sub(" ", _MARK.sub(" ", text))
        if any(c.isalpha() for c in bare):
            problems.append(" ".join(bare.split()))
        for number in _MARK.findall(text):
            tree = _ENV.parse("{{ " + expressions[int(number)] + " }}")
            for output in tree.find_all(nodes.Output):
                for expression in output.nodes:
                    problems += [f"{{{{ {expressions[int(number)].strip()} }}}}"
                                 for literal in _printed(expression) if any(c.isalpha() for c in literal)]
    return problems


@pytest.mark.parametrize("source, flagged", [
    ("<p>Hello</p>", True),
    ("<p>{{ _('Hello') }}</p>", False),
    ("<p>{{ claim.title }} · {{ _('Hello') }}: “{{ group.label }}”</p>", False),
    ('<input name="q" placeholder="Cari">', True),
    ('<input name="url" placeholder="https://example.org/…"{{ invalid("url") }}>', False),
    ('{% macro invalid(name) %}{% if name in missing %} aria-invalid="true"{% endif %}{% endmacro %}', False),
    ('<input name="q" placeholder="{{ _(\'Search\') }}" class="{{ \'wide\' if q }}">', False),
    ("<option>— {{ 'tidak ada' }} —</option>", True),
    ("<title>{{ 'Ubah' if claim else 'Baru' }}</title>", True),
    ("<td>{{ {'id': 'Bahasa Indonesia', 'en': 'English'}.get(lang) }}</td>", True),
    ("<td>{{ t(label_id, label_en) }}</td>", False),  # a helper's words: caught by the catalog test
    ("<td>{{ _(label) }}</td>", True),
    ("<td>{{ '%.3f'|format(score) }} {{ '✓' if ok else '—' }}</td>", False),
    ("<script>var words = 'Hello';</script>", False),
    ('<button type="submit">{% if a %}{{ _("Save") }}{% else %}Simpan{% endif %}</button>', True),
])
def test_the_template_check_catches_words_outside_gettext(source, flagged):
    assert bool(unwrapped_words(source)) == flagged, unwrapped_words(source)


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_no_template_says_a_word_outside_gettext(path):
    assert unwrapped_words(path.read_text()) == []


# --- the editors' Python: what reaches a page goes through gettext ----------------------------

# Calls whose text an editor reads: the first argument of these, and the error or message
# handed to a page (render_template, the form's renderer) or to its script (jsonify).
SHOWN_CALLS = {"flash", "AccountError", "NotRetryable", "abort"}
SHOWN_KEYWORDS = {"error", "message"}
PAGE_CALLS = {"render_template", "_render_form", "jsonify"}


def _literal_text(node) -> bool:
    """Tell whether an expression is (or is built from) words written in the code."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and any(c.isalpha() for c in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_literal_text(part) for part in node.values)
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) or _literal_text(node.right)
    if isinstance(node, ast.IfExp):
        return _literal_text(node.body) or _literal_text(node.orelse)
    return False


def unwrapped_in_python(source: str) -> list[int]:
    """Give the lines where words written in the code reach a page without gettext."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        shown = list(node.args[:1]) if name in SHOWN_CALLS else []
        if name in PAGE_CALLS:
            shown += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        lines += [node.lineno for value in shown if _literal_text(value)]
    return lines


@pytest.mark.parametrize("source, flagged", [
    ('flash("Akun dibuat. (Account created.)", "ok")', True),
    ('flash(f"{n} grup diabaikan.", "ok")', True),
    ('flash(_("Account created."), "ok")', False),
    ('flash(ngettext("%(num)d group", "%(num)d groups", n) if n else _("None."), "ok")', False),
    ('flash(str(exc), "error")', False),
    ('raise AccountError("Peran tidak dikenal.")', True),
    ('render_template("x.html", error="Pilih berkas dulu.")', True),
    ('jsonify(error="CSRF token missing.")', True),
    ('OutboxMessage(error="not sent (outside 24 h)")', False),  # a record: why_shown words it
    ('render_template("x.html", error=csrf_message() + " " + _("Again."))', False),
    ('flash(_("Saved.") + (" Grouped." if grouped else ""), "ok")', True),
])
def test_the_python_check_catches_words_outside_gettext(source, flagged):
    assert bool(unwrapped_in_python(source)) == flagged


@pytest.mark.parametrize("path", sorted(ROOT.glob("editors/*.py")), ids=lambda p: p.name)
def test_the_editors_python_shows_no_word_outside_gettext(path):
    assert unwrapped_in_python(path.read_text()) == []


# --- the pages, rendered ----------------------------------------------------------------------


@pytest.fixture
def desk(tmp_path):
    """A desk with something on every page: labels as published, history, an inbox, sends."""
    # Data words differ from the catalog's ("vaksin chip" is a chip's words, "Tidak ada" a word
    # of the pages): what a page shows of the data is no part of its wording.
    app = editors_app(tmp_path, [{**CHIP_CLAIM, "claim": "vaksin covid berisi chip", "verdict": "[SALAH]"},
                                 {"id": "c2", "title": "Gerhana bikin hamil", "verdict": "[FAKTA]",
                                  "summary": "S.", "url": "https://example.org/c2"}],
                      NEWSROOM_NAME="Kabar Benar", INBOX_GROUP_THRESHOLD=0.75)
    add_account(app, "penyunting", role="editor")
    client = logged_in(app)
    client.post("/editors/claims/save", data={
        "csrf_token": csrf(client), "id": "c1", "title": CHIP_CLAIM["title"], "verdict": "SALAH",
        "claim": "vaksin covid berisi chip", "summary": "Vaksin COVID-19 bebas chip.",
        "url": CHIP_CLAIM["url"], "tags": "vaksin, chip",
        "lang": "id", "action": "save"})
    web = app.test_client()
    for text, session in (("tsunami padang besok pagi", "s1"), ("tsunami padang besok pagi?", "s2")):
        web.post("/api/messages", json={"text": text, "session": session})
    code = web.post("/api/messages", json={"text": "tsunami padang besok pagi!", "session": "s3"}).json["followup"]
    client.get("/editors/inbox")
    with claims.db.session_scope(app) as session:
        group_id = session.query(InboxGroup).one().id
    confirm_link(client, group_id, "c1")
    client.get("/editors/")  # shows (and so drops) the flash, said in the language of its request
    with claims.db.session_scope(app) as session:  # a pair for the desk to review
        session.add(HoaxPair(claim_id="c1", other_id="c2", similarity=0.93, numbers_differ=False, status="open"))
    assert 'data-pair="c1 c2"' in client.get("/editors/pairs").text
    yield app, client, group_id, code
    app.extensions["factcheck.db"].engine.dispose()


def pages(group_id, code):
    return ["/editors/", "/editors/?q=vaksin&verdict=false", "/editors/claims/new",
            "/editors/claims/c1/edit", "/editors/claims/c2/edit", "/editors/inbox",
            "/editors/inbox?status=linked", f"/editors/inbox/{group_id}",
            f"/editors/inbox/{group_id}/link?claim_id=c2", "/editors/outbox?status=all",
            "/editors/dashboard", "/editors/accounts", "/editors/import", "/editors/pairs", "/",
            f"/jawaban/{code}"]


@pytest.mark.db
@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_is_in_one_language_with_no_word_of_the_other(desk, lang):
    app, client, group_id, code = desk
    for url in pages(group_id, code):
        page = client.get(url, headers={"Accept-Language": lang})
        assert page.status_code == 200, url
        assert f'<html lang="{lang}">' in page.text, url
        assert foreign_words(page.text, lang) == [], url
    login_page = app.test_client().get("/editors/login", headers={"Accept-Language": lang}).text
    assert foreign_words(login_page, lang) == []


@pytest.mark.db
def test_pages_show_the_publishers_labels_and_names_never_codes(desk):
    app, client, group_id, _ = desk
    for lang, label_of_c1, status in (("id", "SALAH", "terbit"), ("en", "SALAH", "published")):
        library = visible_text(client.get("/editors/", headers={"Accept-Language": lang}).text)
        assert f"{label_of_c1}\n{status}" in library  # the publisher's label, unwrapped
        assert "FAKTA" in library and "[FAKTA]" not in library
        assert "\nfalse\n" not in library and "\ntrue\n" not in library  # codes stay codes
        group = visible_text(client.get(f"/editors/inbox/{group_id}",
                                        headers={"Accept-Language": lang}).text)
        assert "\nweb\n" not in group and "\nopen\n" not in group and "skipped_window" not in group
    english = visible_text(client.get("/editors/?verdict=false", headers={"Accept-Language": "en"}).text)
    assert "All labels" in english and "FALSE" in english and "Semua label" not in english


@pytest.mark.db
def test_the_history_shows_labels_and_names_not_codes_or_lists(desk):
    _, client, _, _ = desk
    page = client.get("/editors/claims/c1/edit", headers={"Accept-Language": "en"}).text
    history = visible_text(page.split('class="list history"', 1)[1])
    assert "SALAH" in history and "[SALAH]" not in history  # the label, unwrapped
    assert "vaksin, chip" in history  # a list as words
    assert "['" not in history and "verdict_raw" not in history and "\nfalse\n" not in history
    assert "Label" in history and "Tags" in history and "updated" in history


# --- choosing the language --------------------------------------------------------------------


@pytest.mark.db
@pytest.mark.parametrize("header, lang", [
    ("en-US,en;q=0.9", "en"), ("id-ID,id;q=0.9,en;q=0.8", "id"), ("fr-FR,de;q=0.8", "id"),
    ("fr,en;q=0.5", "en"), (None, "id")])
def test_the_browsers_language_is_the_default(desk, header, lang):
    app = desk[0]
    headers = {"Accept-Language": header} if header else {}
    page = app.test_client().get("/", headers=headers)
    assert f'<html lang="{lang}">' in page.text
    assert "Accept-Language" in page.headers["Vary"]  # no shared cache serves it in another


@pytest.mark.db
def test_the_chosen_language_is_kept_in_the_session_over_the_browsers(desk):
    app = desk[0]
    client = app.test_client()
    switched = client.post("/lang", data={"lang": "en", "next": "/editors/login?next=%2Feditors%2F"},
                           headers={"Accept-Language": "id", "Origin": "http://localhost"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/editors/login?next=%2Feditors%2F"
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "id"}).text
    login(client)  # a new session keeps the language chosen before
    library = client.get("/editors/", headers={"Accept-Language": "id"}).text
    assert '<html lang="en">' in library and "Fact-check library" in library
    client.post("/editors/logout", data={"csrf_token": csrf(client)})
    assert '<html lang="en">' in client.get("/editors/login").text
    assert client.post("/lang", data={"lang": "id"}, headers={"Accept": "application/json"}).json == {"lang": "id"}
    assert '<html lang="id">' in client.get("/").text


@pytest.mark.db
@pytest.mark.parametrize("data, headers, status, location", [
    ({"lang": "en", "next": "//evil.example/x"}, {}, 302, "/"),
    ({"lang": "en", "next": "https://evil.example/"}, {}, 302, "/"),
    ({"lang": "en", "next": "/\\evil.example"}, {}, 302, "/"),
    ({"lang": "en", "next": "/\t/evil.example"}, {}, 302, "/"),
    ({"lang": "en", "next": "/editors/inbox?status=linked"}, {}, 302, "/editors/inbox?status=linked"),
    ({"lang": "fr"}, {}, 400, None),
    ({"lang": "en"}, {"Origin": "https://evil.example"}, 403, None),
    ({"lang": "en"}, {"Sec-Fetch-Site": "cross-site"}, 403, None),
])
def test_the_switch_goes_nowhere_else_and_takes_no_order_from_other_sites(desk, data, headers, status,
                                                                          location):
    client = desk[0].test_client()
    response = client.post("/lang", data=data, headers=headers)
    assert response.status_code == status
    assert response.headers.get("Location") == location
    if status != 302:  # another site's form starts no session (that would log an editor out)
        assert "Set-Cookie" not in response.headers


@pytest.mark.db
def test_the_chat_page_asks_for_replies_in_the_chosen_language_only(desk):
    app = desk[0]
    client = app.test_client()
    data = lambda: json.loads(re.search(r'id="page-data" type="application/json">(.*?)</script>',  # noqa: E731
                                        client.get("/", headers={"Accept-Language": "en"}).text).group(1))
    assert data()["chosen"] is None  # the browser's language: replies follow each message
    client.post("/lang", data={"lang": "en"})
    assert data()["chosen"] == "en" and data()["words"]["typing"] == "typing…"
    client.post("/lang", data={"lang": "id"})
    assert data()["chosen"] == "id" and data()["words"]["typing"] == "mengetik…"


@pytest.mark.db
def test_a_login_error_and_the_import_are_in_the_editors_language(desk):
    app = desk[0]
    client = app.test_client()
    client.post("/lang", data={"lang": "en"})
    page = client.get("/editors/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    wrong = client.post("/editors/login", data={"username": "redaksi", "password": "salah-sekali-1",
                                                "csrf_token": token})
    assert "Wrong username or password." in wrong.text and "salah." not in wrong.text
    login(client, password=PASSWORD)
    bad = client.post("/editors/import", data={
        "csrf_token": csrf(client), "file": (io.BytesIO(b"title,claim\n\"unclosed,x\n"), "rows.csv")},
        content_type="multipart/form-data")
    assert bad.status_code == 400 and "Nothing imported" in bad.text
    assert foreign_words(bad.text, "en") == []
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).count() == 2


@pytest.mark.db
@pytest.mark.parametrize("lang, forbidden, missing", [
    ("id", "Hanya admin", "Tidak ada apa-apa di sini"),
    ("en", "Only an admin", "There is nothing here")])
def test_refusals_and_missing_pages_are_in_the_editors_language(desk, lang, forbidden, missing):
    app = desk[0]
    editor = app.test_client()
    login(editor, "penyunting")
    refused = editor.get("/editors/accounts", headers={"Accept-Language": lang})
    assert refused.status_code == 403 and forbidden in refused.text
    gone = editor.get("/editors/claims/no-such-claim/edit", headers={"Accept-Language": lang})
    assert gone.status_code == 404 and missing in gone.text
    assert foreign_words(refused.text, lang) == foreign_words(gone.text, lang) == []


@pytest.mark.db
def test_the_catalog_words_the_checks_look_for_are_real(desk):
    """The page checks are not hollow: an English page does hold English catalog words, and a
    page with an Indonesian word left in it is caught."""
    _, client, _, _ = desk
    english = client.get("/editors/", headers={"Accept-Language": "en"}).text
    assert foreign_words(english, "id") != []  # English words found when looking for them
    assert "Pustaka cek fakta" in foreign_words(
        english.replace("Fact-check library", "Pustaka cek fakta"), "en")


# --- what claims/ refuses, said on the pages in the editor's language ----------------------------

BAD_FILES = {
    # an unclosed quote on line 2: the csv module cannot read past it
    "quote.csv": b'title,claim,verdict,url\n"Judul tanpa tutup,klaim,HOAKS,https://x\n',
    # line 3 has fewer values than the header: the first missing column is named
    "short.csv": b"id,title,claim\na,A,x\nb,B\n",
    # line 2's link is not a link
    "link.jsonl": (json.dumps({"title": "Satu", "url": "https://example.org/1"}) + "\n"
                   + json.dumps({"title": "Dua", "url": "bukan tautan"}) + "\n").encode(),
    # line 2 is not JSON: the json module's own words ("Expecting ':' delimiter") stay out
    "colon.jsonl": (json.dumps({"title": "Satu"}) + "\n" + '{"title" "Dua"}' + "\n").encode(),
}
SAID = {
    "id": {"quote.csv": "Tidak ada yang diimpor: baris 2: ada tanda kutip yang tidak ditutup",
           "short.csv": "Tidak ada yang diimpor: baris 3, kolom Klaim: ada 2 nilai, padahal baris "
                        "judul punya 3 kolom",
           "link.jsonl": "Tidak ada yang diimpor: baris 2, kolom Tautan artikel: harus URL lengkap "
                         "http(s), tertulis 'bukan tautan'",
           "colon.jsonl": "Tidak ada yang diimpor: baris 2: JSON tidak sah: tidak ada titik dua setelah "
                          "sebuah nama, di kolom karakter 10"},
    "en": {"quote.csv": "Nothing imported: line 2: a quoted value is never closed",
           "short.csv": "Nothing imported: line 3, field Claim: has 2 values but the header has 3 "
                        "columns",
           "link.jsonl": "Nothing imported: line 2, field Article link: must be an absolute http(s) "
                         "URL, got 'bukan tautan'",
           "colon.jsonl": "Nothing imported: line 2: invalid JSON: a colon is missing after a name, "
                          "at column 10"},
}
CLI_SAID = {"quote.csv": "line 2: a quoted value is never closed",
            "short.csv": "line 3, field 'claim': has 2 values but the header has 3 columns",
            "link.jsonl": "line 2, field 'url': must be an absolute http(s) URL, got 'bukan tautan'",
            "colon.jsonl": "line 2: invalid JSON: a colon is missing after a name, at column 10"}


@pytest.mark.db
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_an_import_refused_by_claims_is_explained_in_the_editors_language(desk, tmp_path, lang, name):
    app, client, _, _ = desk
    refused = client.post("/editors/import", headers={"Accept-Language": lang}, data={
        "csrf_token": csrf(client), "file": (io.BytesIO(BAD_FILES[name]), name)},
        content_type="multipart/form-data")
    assert refused.status_code == 400
    assert SAID[lang][name] in visible_text(refused.text).split("\n")
    assert foreign_words(refused.text, lang) == []
    # The CLI says the same refusal as it always did, in English (drafts, as the page imports).
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    result = app.test_cli_runner().invoke(args=["claims", "import", str(path), "--status", "draft"])
    assert result.exit_code == 1
    assert result.output == (f"Error: {CLI_SAID[name]}. Nothing was imported; --skip-invalid imports "
                             "the valid rows.\n")
    with claims.db.session_scope(app) as session:
        assert session.query(Claim).count() == 2


@pytest.mark.db
@pytest.mark.parametrize("lang, said", [
    ("id", ["2", "Tanggal", "harus tanggal seperti 2025-01-31, tertulis 'kemarin'",
            "3", "Tautan artikel", "Belum bisa terbit: isi tautan artikel. Draf boleh belum lengkap."]),
    ("en", ["2", "Date", "must be a date like 2025-01-31, got 'kemarin'",
            "3", "Article link", "Cannot publish yet: fill in the article link. A draft may be incomplete."])])
def test_skipped_rows_are_explained_in_the_editors_language(desk, lang, said):
    _, client, _, _ = desk
    rows = [{"title": "Baik", "verdict": "HOAKS", "summary": "S.", "url": "https://example.org/b1"},
            {"title": "Tanggal keliru", "date": "kemarin"},
            {"title": "Tanpa tautan", "verdict": "HOAKS", "summary": "S."}]
    page = client.post("/editors/import", headers={"Accept-Language": lang}, data={
        "csrf_token": csrf(client), "status": "published", "skip_invalid": "1",
        "file": (io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode()), "rows.jsonl")},
        content_type="multipart/form-data")
    assert page.status_code == 200
    table = visible_text(page.text.split('<tbody>', 1)[1].split("</tbody>", 1)[0]).split("\n")
    assert table == said
    assert foreign_words(page.text, lang) == []


@pytest.mark.db
@pytest.mark.parametrize("lang, url, said", [
    ("id", "ftp://example.org/x", "Tautan artikel: harus URL lengkap http(s), tertulis 'ftp://example.org/x'"),
    ("en", "ftp://example.org/x", "Article link: must be an absolute http(s) URL, got 'ftp://example.org/x'"),
    # A link Python cannot read: our own words, not Python's English in brackets.
    ("id", "https://example.org:80a/x",
     "Tautan artikel: punya port yang bukan angka 0 sampai 65535, tertulis 'https://example.org:80a/x'"),
    ("en", "https://example.org:80a/x",
     "Article link: has a port that is not a number from 0 to 65535, got 'https://example.org:80a/x'")])
def test_the_forms_refusal_of_a_link_is_in_the_editors_language(desk, lang, url, said):
    _, client, _, _ = desk
    page = client.post("/editors/claims/save", headers={"Accept-Language": lang}, data={
        "csrf_token": csrf(client), "title": "Tautan aneh", "url": url, "lang": "id", "action": "save"})
    assert page.status_code == 400
    assert said in visible_text(page.text).split("\n")
    assert 'value="Tautan aneh"' in page.text  # what was typed is kept
    assert foreign_words(page.text, lang) == []
    assert "cast to integer" not in page.text
    assert foreign_words(page.text, lang) == []


def test_every_reason_claims_gives_is_marked_for_the_catalog():
    """claims/ refuses data only with messages `pybabel extract` sees (N_): a literal handed
    to InvalidClaim, ImportProblem, Reason or UnknownFormat unmarked would reach a page in English."""
    where = {"InvalidClaim": 1, "ImportProblem": 2, "Reason": 0, "UnknownFormat": 0}
    unmarked = []
    for path in sorted(ROOT.glob("claims/*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in where:
                position = where[node.func.id]
                if len(node.args) > position and _literal_text(node.args[position]):
                    unmarked.append(f"{path.name}:{node.lineno}")
    assert unmarked == []
    said = extracted()
    assert "a quoted value is never closed" in said and "must be text, not %(kind)s" in said


# --- errors no view answers: a page in the reader's language, JSON on the API ---------------------

ERRORS = {
    "id": {400: "Permintaan ini tidak bisa dipakai. Kembali, muat ulang halaman, lalu coba lagi.",
           405: "Alamat ini tidak bisa dipakai dengan cara itu. Kembali dan pakai tautan dan tombol di halaman.",
           413: "Terlalu besar: paling banyak 256 KB sekali kirim.",
           500: "Ada yang salah di pihak kami. Coba lagi sebentar lagi."},
    "en": {400: "This request could not be used. Go back, reload the page and try again.",
           405: "This address cannot be used that way. Go back and use the page's links and buttons.",
           413: "Too large: at most 256 KB can be sent at once.",
           500: "Something went wrong on our side. Try again in a moment."},
}
WERKZEUG = ("Bad Request", "Method Not Allowed", "Request Entity Too Large", "Internal Server Error",
            "The browser (or proxy)", "The method is not allowed")
BIG = "x" * (300 * 1024)


def _is_editors_layout(html: str) -> bool:
    return 'class="brand"' in html and "editors.css" in html


@pytest.mark.db
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("case", ["lang-refused", "lang-get", "editors-put", "editors-too-large",
                                  "public-too-large", "editors-broken", "public-broken"])
def test_an_error_no_view_answers_is_a_page_in_the_readers_language(desk, lang, case):
    app, client, group_id, code = desk
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a failure is a 500 page
    headers = {"Accept-Language": lang}
    visitor = app.test_client()
    if case.endswith("broken"):  # the library's table is gone: every page reading it fails
        with claims.db.session_scope(app) as session:
            session.execute(sa_text("ALTER TABLE claims RENAME TO claims_gone"))  # either engine
    response = {
        "lang-refused": lambda: visitor.post("/lang", data={"lang": "fr"}, headers=headers),
        "lang-get": lambda: visitor.get("/lang", headers=headers),
        "editors-put": lambda: client.put("/editors/import", headers=headers),
        "editors-too-large": lambda: visitor.post("/editors/login", headers=headers,
                                                  data={"username": "redaksi", "password": BIG}),
        "public-too-large": lambda: visitor.post("/lang", data={"lang": "en", "next": BIG}, headers=headers),
        "editors-broken": lambda: client.get("/editors/", headers=headers),
        "public-broken": lambda: visitor.get(f"/jawaban/{code}", headers=headers),
    }[case]()
    status = {"lang-refused": 400, "lang-get": 405, "editors-put": 405, "editors-too-large": 413,
              "public-too-large": 413, "editors-broken": 500, "public-broken": 500}[case]
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f'<html lang="{lang}">' in response.text
    assert ERRORS[lang][status] in visible_text(response.text).split("\n")
    assert not any(words in response.text for words in WERKZEUG)
    assert foreign_words(response.text, lang) == []
    assert _is_editors_layout(response.text) == case.startswith("editors")
    if status == 405:
        assert "POST" in response.headers["Allow"]
    if case == "editors-put":  # a logged-in editor keeps the desk's menu and security headers
        assert 'href="/editors/inbox"' in response.text
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    if case == "editors-broken":  # the account is not looked up in a failing database
        assert 'href="/editors/inbox"' not in response.text


@pytest.mark.db
@pytest.mark.parametrize("method, url, kwargs, status, error", [
    ("delete", "/api/messages", {}, 405, "method not allowed"),
    ("get", "/api/no-such-thing", {}, 404, "not found"),
    ("post", "/lang", {"data": {"lang": "fr"}, "headers": {"Accept": "application/json"}}, 400, "bad request"),
])
def test_the_json_api_keeps_json_errors(desk, method, url, kwargs, status, error):
    response = getattr(desk[0].test_client(), method)(url, **kwargs)
    assert response.status_code == status
    assert response.is_json and response.json == {"error": error}


@pytest.mark.db
@pytest.mark.parametrize("lang, recorded, shown", [
    ("id", "TWILIO_WHATSAPP_FROM is not set",
     "tidak terkirim: belum ada pengirim WhatsApp yang diatur (TWILIO_WHATSAPP_FROM)"),
    ("en", "TWILIO_WHATSAPP_FROM is not set",
     "not sent: no WhatsApp sender is set up (TWILIO_WHATSAPP_FROM)"),
    ("id", "retried by redaksi after: TWILIO_WHATSAPP_FROM is not set",
     "dikirim ulang oleh redaksi setelah: tidak terkirim: belum ada pengirim WhatsApp yang diatur "
     "(TWILIO_WHATSAPP_FROM)"),
    ("id", "Twilio 400: Invalid 'To' Phone Number", "Twilio 400: Invalid 'To' Phone Number"),
])
def test_the_outboxs_recorded_reasons_are_said_in_the_page_language(desk, lang, recorded, shown):
    from editors.words import why_shown
    with desk[0].test_request_context("/editors/outbox", headers={"Accept-Language": lang}):
        assert why_shown(recorded) == shown


@pytest.mark.db
@pytest.mark.parametrize("lang, said", [
    ("id", "“AGAK SALAH” bukan label yang dikenal tipline. Belum bisa terbit: isi label. Draf boleh "
           "belum lengkap."),
    ("en", "“AGAK SALAH” is not a label the tipline knows. Cannot publish yet: fill in the label. "
           "A draft may be incomplete.")])
def test_a_label_the_tipline_does_not_know_is_named_when_publishing_is_refused(desk, lang, said):
    _, client, _, _ = desk
    form = {"csrf_token": csrf(client), "title": "Label aneh", "verdict": "AGAK SALAH", "summary": "S.",
            "url": "https://example.org/aneh", "lang": "id", "action": "publish"}
    page = client.post("/editors/claims/save", headers={"Accept-Language": lang}, data=form)
    assert page.status_code == 400 and said in visible_text(page.text).split("\n")
    row = json.dumps({k: v for k, v in form.items() if k in ("title", "verdict", "summary", "url")})
    imported = client.post("/editors/import", headers={"Accept-Language": lang}, data={
        "csrf_token": csrf(client), "status": "published", "skip_invalid": "1",
        "file": (io.BytesIO(row.encode()), "rows.jsonl")}, content_type="multipart/form-data")
    assert said in visible_text(imported.text).split("\n")
