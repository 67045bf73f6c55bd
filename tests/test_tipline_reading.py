"""Reading a message: clean text, its language, commands, list numbers."""

import pytest

from tipline.reading import MAX_TEXT_CHARS, choice_number, clean_text, command_for, language_of


@pytest.mark.parametrize(
    "text, command",
    [
        ("halo", "greeting"), ("Hai kak!", "greeting"), ("selamat malam", "greeting"),
        ("ping", "greeting"), ("tes", "greeting"), ("assalamualaikum wr wb", "greeting"),
        ("halo, menu", "menu"), ("MENU", "menu"), ("bantuan dong", "help"), ("?", "help"),
        ("how does this work", "help"), ("terima kasih banyak", "thanks"), ("thx", "thanks"),
        ("vaksin chip", None), ("halo, vaksin chip benar?", None), ("selamat", "greeting"),
        ("tolong cek video banjir", None), ("pagi ini ada gempa", None), ("", None),
        ("tolong cek, ini benar gak?", "unclear"), ("Is this true?", "unclear"),
        ("hoaks", "unclear"), ("cek fakta", "unclear"), ("hoaks vaksin", None),
        ("tolong", "help"), ("halo cek fakta", "greeting"),
        ("halo min, mau tanya", "greeting"),  # every chat word of the search may surround one
        ("siapa kamu", None),
    ],
)
def test_command_for(text, command):
    assert command_for(text) == command


@pytest.mark.parametrize(
    "text, number",
    [("1", 1), (" 2 ", 2), ("3.", 3), ("no. 2", 2), ("nomor 3", 3), ("#1", 1), ("2️⃣", 2),
     ("dua", 2), ("two", 2), ("12", 12), ("2024", None), ("1 2", None), ("covid 19", None)],
)
def test_choice_number(text, number):
    assert choice_number(text) == number


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("  vaksin\r\nchip  ", "vaksin\nchip"),
        ("a\x00b\x1bc", "a b c"),
        ("baris\n\n\n\n\nbaris", "baris\n\nbaris"),
        ("\ud800x", "?x"),
        (None, ""),
        ("x" * (MAX_TEXT_CHARS + 10), "x" * MAX_TEXT_CHARS),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    "text, lang",
    [
        ("apakah benar vaksin ini mengandung chip?", "id"),
        ("Katanya ada bansos dari pemerintah, itu hoaks atau bukan ya", "id"),
        ("halo", "id"),
        ("selamat pagi", "id"),
        ("is it true that the vaccine has a chip in it?", "en"),
        ("hello", "en"),
        ("thanks", "en"),
        ("vaksin chip", None),
        ("covid 19", None),
        ("2", None),
        ("", None),
        ("the itu", None),  # a tie is no clue
        ("thanks min", None),  # an Indonesian thank-you in English
        ("gak tau", "id"),  # chat spellings count once normalised ("tidak")
    ],
)
def test_language_of_counts_marker_words(text, lang):
    assert language_of(text) == lang
