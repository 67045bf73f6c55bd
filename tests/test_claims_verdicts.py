"""The verdict vocabulary: published labels to codes, reply labels, the VERDICTS_FILE extension."""

import json

import pytest
from flask import Flask

import claims
from claims.verdicts import (
    BUILTIN_VERDICTS, DEFAULT_VOCABULARY, VocabularyError, is_known_verdict, load_vocabulary,
    normalize_verdict, verdict_emoji, verdict_label,
)
from tests.conftest import database_url


@pytest.mark.parametrize("label, code", [
    # Indonesian labels as fact-checkers publish them
    ("HOAKS", "false"),
    ("HOAX", "false"),
    ("SALAH", "false"),
    ("[SALAH]", "false"),
    ("[HOAKS]", "false"),
    ("Keliru", "false"),
    ("DISINFORMASI", "disinformation"),
    ("[DISINFORMASI]", "disinformation"),
    ("MISINFORMASI", "false"),
    ("MENYESATKAN", "misleading"),
    ("PENIPUAN", "scam"),
    ("SATIRE", "satire"),
    ("PARODI", "satire"),
    ("BELUM TERBUKTI", "unproven"),
    ("FAKTA", "true"),
    ("BENAR", "true"),
    ("SEBAGIAN BENAR", "partly_true"),
    ("KLARIFIKASI", "clarification"),
    ("konten yang menyesatkan", "misleading"),
    ("konten yang menyesatkan (misleading content)", "misleading"),
    ("konten palsu", "false"),
    ("konten palsu (fabricated content)", "false"),
    ("konten yang dimanipulasi", "false"),
    ("konteks yang salah", "misleading"),
    ("konten dengan konteks yang salah (false context)", "misleading"),
    # English, Snopes and IFCN ratings
    ("False", "false"),
    ("Fake", "false"),
    ("Pants on Fire!", "false"),
    ("Misattributed", "false"),
    ("Mostly False", "misleading"),
    ("Misleading", "misleading"),
    ("Miscaptioned", "misleading"),
    ("Outdated", "misleading"),
    ("Mixture", "mixture"),
    ("Half True", "partly_true"),
    ("Half-True", "partly_true"),
    ("Mostly True", "partly_true"),
    ("True", "true"),
    ("Correct Attribution", "true"),
    ("Satire", "satire"),
    ("Labeled Satire", "satire"),
    ("Satire/Parody", "satire"),
    ("Scam", "scam"),
    ("Unproven", "unproven"),
    ("Legend", "unproven"),
    # Codes map to themselves, so exported files import back
    ("partly_true", "partly_true"),
    ("unrated", "unrated"),
    ("disinformation", "disinformation"),
])
def test_published_labels_map_to_codes(label, code):
    assert normalize_verdict(label) == code
    assert is_known_verdict(label)


@pytest.mark.parametrize("label", ["salah", "  Salah ", "[ SALAH ]", "SALAH!", "(Salah)",
                                   "ＳＡＬＡＨ", "hoaks", "Hoaks"])
def test_normalizing_ignores_case_brackets_spaces_and_width(label):
    assert normalize_verdict(label) == "false"


@pytest.mark.parametrize("label", ["", None, "   ", "BERITA", "rumour has it",
                                   "KLARIFIKASI TERHADAP KONTEN YANG DIMANIP"])
def test_empty_or_unknown_labels_are_unrated(label):
    assert normalize_verdict(label) == "unrated"


def test_unknown_label_is_reported_as_unknown_but_empty_is_known():
    assert not is_known_verdict("BERITA")
    assert is_known_verdict("")


@pytest.mark.parametrize("label, code", [
    ("BERITA / KLARIFIKASI", "clarification"),  # the only known part wins
    ("HOAKS / SALAH", "false"),                  # parts that agree
    ("SALAH / BENAR", "unrated"),                # parts that disagree are not guessed
])
def test_labels_with_several_parts(label, code):
    assert normalize_verdict(label) == code


@pytest.mark.parametrize("code, lang, label", [
    ("false", "id", "HOAKS"),
    ("false", "en", "FALSE"),
    ("false", "id-ID", "HOAKS"),
    ("misleading", "id", "MENYESATKAN"),
    ("misleading", "en", "MISLEADING"),
    ("scam", "id", "PENIPUAN"),
    ("unproven", "id", "BELUM TERBUKTI"),
    ("clarification", "en", "CLARIFICATION"),
    ("true", "id", "BENAR"),
])
def test_reply_labels(code, lang, label):
    assert verdict_label(code, lang) == label


def test_every_builtin_verdict_has_labels_an_emoji_and_is_its_own_alias():
    codes = [v.code for v in BUILTIN_VERDICTS]
    assert len(codes) == len(set(codes))
    assert {"false", "disinformation", "misleading", "scam", "satire", "unproven", "true",
            "partly_true", "mixture", "clarification", "unrated"} <= set(codes)
    for verdict in BUILTIN_VERDICTS:
        assert verdict.label_id and verdict.label_en and verdict.emoji
        assert normalize_verdict(verdict.code) == verdict.code
        assert normalize_verdict(verdict.label_id) == verdict.code
        assert normalize_verdict(verdict.label_en) == verdict.code


def test_emoji_for_false_and_true():
    assert verdict_emoji("false") == "❌"
    assert verdict_emoji("true") == "✅"


def test_unknown_code_gets_a_readable_fallback_label():
    assert verdict_label("made_up", "en") == "MADE UP"
    assert verdict_emoji("made_up") == verdict_emoji("unrated")


def test_no_alias_maps_to_two_codes_in_the_builtin_table():
    owners = {}
    from claims.verdicts import label_key
    for verdict in BUILTIN_VERDICTS:
        for alias in verdict.aliases:
            key = label_key(alias)
            assert owners.setdefault(key, verdict.code) == verdict.code, alias


def write_json(path, document):
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_verdicts_file_adds_codes_overrides_labels_and_moves_aliases(tmp_path):
    path = write_json(tmp_path / "verdicts.json", {
        "manipulated": {"label_id": "DIMANIPULASI", "label_en": "MANIPULATED",
                        "aliases": ["konten yang dimanipulasi", "edited video"], "emoji": "✂️"},
        "false": {"label_id": "SALAH", "aliases": ["ngibul"]},
    })
    vocabulary = load_vocabulary(path)
    assert vocabulary.normalize("konten yang dimanipulasi") == "manipulated"
    assert vocabulary.normalize("Edited Video") == "manipulated"
    assert vocabulary.label("manipulated", "id") == "DIMANIPULASI"
    assert vocabulary.emoji("manipulated") == "✂️"
    assert vocabulary.normalize("ngibul") == "false"
    assert vocabulary.normalize("HOAKS") == "false"  # built-in aliases stay
    assert vocabulary.label("false", "id") == "SALAH"
    assert vocabulary.label("false", "en") == "FALSE"  # not given: kept
    assert "konten yang dimanipulasi" not in vocabulary.get("false").aliases
    # the built-in table is untouched
    assert DEFAULT_VOCABULARY.normalize("konten yang dimanipulasi") == "false"


def test_verdicts_file_as_a_list_and_replacing_aliases(tmp_path):
    path = write_json(tmp_path / "verdicts.json", [
        {"code": "satire", "aliases": ["lelucon"], "replace_aliases": True},
    ])
    vocabulary = load_vocabulary(path)
    assert vocabulary.normalize("lelucon") == "satire"
    assert vocabulary.normalize("satire") == "satire"  # code and labels always stay
    assert vocabulary.normalize("parodi") == "unrated"


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('"a string"', "expected an object or a list"),
    ('[{"label_id": "X"}]', "'code'"),
    ('{"Bad Code": {"label_id": "X"}}', "'code'"),
    ('{"false": {"aliases": "salah"}}', "'aliases'"),
    ('{"false": {"label_id": 3}}', "'label_id'"),
    ('["false"]', "expected an object"),
])
def test_bad_verdicts_files_are_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "verdicts.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError, match=message):
        load_vocabulary(path)


def test_missing_verdicts_file_is_an_error(tmp_path):
    with pytest.raises(VocabularyError, match="cannot read"):
        load_vocabulary(tmp_path / "nope.json")


@pytest.mark.db
def test_app_uses_its_verdicts_file_inside_its_context_only(tmp_path):
    path = write_json(tmp_path / "verdicts.json", {"scam": {"aliases": ["investasi bodong"]}})
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(DATABASE_URL=database_url(tmp_path, "t"), VERDICTS_FILE=str(path))
    database = claims.init_app(app)
    try:
        with app.app_context():
            assert normalize_verdict("Investasi Bodong") == "scam"
        assert normalize_verdict("Investasi Bodong") == "unrated"
    finally:
        database.engine.dispose()


def test_app_with_a_missing_verdicts_file_does_not_start(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
                      VERDICTS_FILE=str(tmp_path / "missing.json"))
    with pytest.raises(VocabularyError):
        claims.init_app(app)
    assert "factcheck.db" not in app.extensions
