"""Normalisation and tokens of chat messages."""
import pytest

from index.normalize import clean_for_embedding, normalize_text
from index.text import (
    CHAT_TERMS,
    Query,
    detect_language,
    guess_language,
    language_confidence,
    tokenize,
)


@pytest.mark.parametrize("raw, expected", [
    ("VAKSIN ada Chip", "vaksin ada chip"),
    ("hoaxxx bangettt!!!", "hoaks banget"),
    ("yg bener aja, gak mungkin", "yang benar saja tidak mungkin"),
    ("anak2 diculik di jkt", "anak diculik di jakarta"),
    ("#VaksinChip #hoaks", "vaksin chip hoaks"),
    ("cek ini 😱🙏 https://bit.ly/abc123", "cek ini bit abc"),
    ("@budi tolong cek", "tolong cek"),
    ("", ""),
    ("\u200b\u200f", ""),
])
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_clean_for_embedding_keeps_case_and_drops_noise():
    assert clean_for_embedding("Vaksin  ada CHIP? 😱 https://x.co/a") == "Vaksin ada CHIP?"


@pytest.mark.parametrize("text, lang", [
    ("is the video of the flood real and was it taken this year", "en"),
    ("apakah video banjir itu benar dan diambil tahun ini", "id"),
    ("vaksin chip", "id"),
])
def test_guess_language(text, lang):
    assert guess_language(text.split()) == lang


@pytest.mark.parametrize("text, lang, with_chat", [
    ("apakah video banjir itu benar dan diambil tahun ini", "id", "id"),
    ("is the video of the flood real and was it taken this year", "en", "en"),
    ("vaksin chip", None, None),  # no clue
    ("the vaksin di", None, None),  # a tie
    ("halo kak", None, "id"),  # chat words tell a greeting's language, not a question's
    ("thanks a lot", None, "en"),
    ("thanks min", None, None),
])
def test_detect_language_says_none_without_a_clue(text, lang, with_chat):
    assert detect_language(text.split()) == lang
    assert detect_language(text.split(), chat=True) == with_chat
    assert guess_language(text.split()) == (lang or "id")


def test_language_confidence_sees_english_the_markers_miss():
    tweet = "ini video of my dog at pantai kuta lol".split()
    assert guess_language(tweet) == "id"  # one marker each: a tie goes to Indonesian
    assert language_confidence(tweet, "id") < 0.5 < language_confidence(tweet, "en")
    assert Query.parse(" ".join(tweet)).lang_confidence < 0.5


@pytest.mark.parametrize("text, lang, low, high", [
    ("apakah video banjir itu benar dan diambil tahun ini", "id", 0.8, 1.0),
    ("is the video of the flood real and was it taken this year", "en", 0.8, 1.0),
    ("vaksin chip", "id", 0.5, 0.5),  # no stopword of either language
    ("no hp penipu", "id", 0.5, 0.5),  # "no" (nomor) says nothing about the language
    ("the vaksin di", "id", 0.5, 0.5),  # as many of each
])
def test_language_confidence(text, lang, low, high):
    words = text.split()
    assert low <= language_confidence(words, lang) <= high
    assert abs(language_confidence(words, "id") + language_confidence(words, "en") - 1) < 1e-9


@pytest.mark.parametrize("text, tokens", [
    ("Apakah benar vaksin ada chip?", ["vaksin", "chip"]),
    ("Is the 5G covid video real?", ["5g", "covid", "video"]),
    ("halo min", ["halo"]),
    ("pembagian bantuan sosial", ["bagi", "bantu", "sosial"]),
])
def test_tokenize_stems_and_drops_stopwords(text, tokens):
    assert tokenize(text) == tokens


@pytest.mark.parametrize("a, b", [("menyebarkan", "penyebaran"), ("bantuan", "dibantu"), ("diculik", "penculikan")])
def test_affixed_forms_share_a_stem(a, b):
    assert tokenize(a) == tokenize(b)


@pytest.mark.parametrize("text, content_terms", [
    ("halo", 0), ("selamat pagi kak", 0), ("terima kasih min", 0), ("menu", 0), ("hi there", 0),
    ("halo, vaksin chip", 2), ("is the 5g video real", 2), ("makasi kak", 0), ("tq min", 0),
    ("salam sehat", 2),  # a greeting to the tipline, but forwarded claims open with it too
])
def test_query_counts_content_beyond_chat_words(text, content_terms):
    assert Query.parse(text).content_terms == content_terms


def test_chat_words_are_listed_by_kind():
    from index import text
    kinds = (text.GREETING_WORDS, text.THANKS_WORDS, text.MENU_WORDS, text.HELP_WORDS,
             text.ASKING_WORDS, text.FILLER_WORDS)
    assert CHAT_TERMS == frozenset().union(*kinds)
    assert sum(map(len, kinds)) == len(CHAT_TERMS)  # each word in one kind only


@pytest.mark.parametrize("raw, expected", [
    ("122 tahanan dan 2000 orang", "122 tahanan dan 2000 orang"),
    ("Rp 1.000.000", "rp 1 000 000"),
])
def test_numbers_keep_their_repeated_digits(raw, expected):
    assert normalize_text(raw) == expected
    assert "000" in clean_for_embedding(raw) or "2000" in clean_for_embedding(raw)


def test_a_query_knows_its_english_words():
    q = Query.parse("bulog job vacancy")
    assert q.lang == "id"  # no stopword gives English away
    assert q.words == 3 and q.english_stems == ("job", "vacancy")
    assert Query.parse("lowongan kerja bulog").english_stems == ()
    assert Query.parse("a 2 di").words == 0
