"""WhatsApp text arithmetic: UTF-16 lengths, cuts at a boundary, never over one message."""

from hypothesis import given
from hypothesis import strategies as st

from tipline import whatsapp
from tipline.whatsapp import MAX_CHARS, wa_len


def test_shorten_cuts_at_a_word_when_no_sentence_ends_nearby():
    text = whatsapp.shorten("satu dua tiga empat lima enam tujuh delapan", 20)
    assert text == "satu dua tiga empat…"


@given(st.text(max_size=3000), st.integers(min_value=8, max_value=600))
def test_shorten_never_goes_over_its_limit(text, limit):
    assert wa_len(whatsapp.shorten(text, limit)) <= limit


@given(st.text(max_size=4000))
def test_fit_never_goes_over_one_whatsapp_message(text):
    assert wa_len(whatsapp.fit(text)) <= MAX_CHARS
