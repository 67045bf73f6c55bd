"""The language guess: function words decide, a tie or no clue gives None."""

import pytest

from tipline.lang import detect_lang


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
    ],
)
def test_detect_lang_counts_function_words(text, lang):
    assert detect_lang(text) == lang
