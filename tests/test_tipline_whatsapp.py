"""WhatsApp text arithmetic: UTF-16 lengths, cuts at a boundary, never over one message; and
WhatsApp's formatting rendered as it shows it."""

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tipline import whatsapp
from tipline.whatsapp import MAX_CHARS, plain, to_html, wa_len


def test_shorten_cuts_at_a_word_when_no_sentence_ends_nearby():
    text = whatsapp.shorten("satu dua tiga empat lima enam tujuh delapan", 20)
    assert text == "satu dua tiga empat…"


@given(st.text(max_size=3000), st.integers(min_value=8, max_value=600))
def test_shorten_never_goes_over_its_limit(text, limit):
    assert wa_len(whatsapp.shorten(text, limit)) <= limit


@given(st.text(max_size=4000))
def test_fit_never_goes_over_one_whatsapp_message(text):
    assert wa_len(whatsapp.fit(text)) <= MAX_CHARS


# --- rendering WhatsApp formatting (the web chat and the editors' preview) --------------------

LINK = '<a href="{0}" target="_blank" rel="noopener noreferrer nofollow">{0}</a>'


@pytest.mark.parametrize("text, html", [
    ("*HOAKS*", "<strong>HOAKS</strong>"),
    ("❌ *HOAKS*\n*Judul*", "❌ <strong>HOAKS</strong>\n<strong>Judul</strong>"),
    ("_miring_ dan ~coret~", "<em>miring</em> dan <s>coret</s>"),
    ("```kode *bukan tebal*```", "<code>kode *bukan tebal*</code>"),
    ("*tebal _dan miring_*", "<strong>tebal <em>dan miring</em></strong>"),
    ("{{7*7}}", "{{7*7}}"),  # a marker needs a word boundary outside
    ("2*3*4 dan snake_case_name", "2*3*4 dan snake_case_name"),
    ("* bukan* dan *bukan *", "* bukan* dan *bukan *"),  # and a non-space inside
    ("*dua\nbaris*", "*dua\nbaris*"),  # and stays on one line
    ("(*tebal*).", "(<strong>tebal</strong>)."),
    ("<b>*x*</b> & co", "&lt;b&gt;<strong>x</strong>&lt;/b&gt; &amp; co"),
    ("Selengkapnya: https://x.org/a_b_?q=1&r=*2*.",
     "Selengkapnya: " + LINK.format("https://x.org/a_b_?q=1&amp;r=*2*") + "."),
    ('https://x.org/"><script>', LINK.format("https://x.org/") + "&#34;&gt;&lt;script&gt;"),
])
def test_formatting_renders_as_whatsapp_shows_it(text, html):
    assert to_html(text) == html


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@given(st.lists(st.sampled_from(list("ab *_~`<>&\"'=/:.\n") + ["https://", "```", "&amp;"]),
                max_size=40).map("".join) | st.text(max_size=80))
def test_rendering_adds_only_formatting_tags_and_keeps_every_other_character(text):
    parser = _Tags()
    parser.feed(str(to_html(text)))
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ("strong", "em", "s", "code", "a")
        if tag == "a":
            assert attrs["href"].startswith(("http://", "https://")) and '"' not in attrs["href"]
            assert set(attrs) == {"href", "target", "rel"}
        else:
            assert not attrs
    # What shows is the text without the marks WhatsApp acts on: plain() of it.
    assert "".join(parser.text) == plain(text)
