"""Reply wording: short, in the sender's language, WhatsApp-formatted, never over one message."""

from types import SimpleNamespace

import pytest

from claims.verdicts import current_vocabulary
from tipline import replies
from tipline.whatsapp import to_html, MAX_CHARS, wa_len


def fact_check(title="Vaksin COVID-19 mengandung chip pelacak", verdict="false",
               summary="Klaim itu keliru. Vaksin tidak berisi chip.",
               url="https://cekfakta.example.org/vaksin-chip"):
    """A stand-in for claims.models.Claim with only what the replies read."""
    return SimpleNamespace(title=title, verdict=verdict, summary=summary, url=url)


LONG = "Kata " * 2000
EMOJI = "😀" * 2000  # counts twice in UTF-16, as Twilio counts
NO_SPACES = "x" * 5000


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize(
    "make",
    [
        lambda lang: replies.greeting(lang, "Cek Fakta"),
        lambda lang: replies.menu(lang, "Cek Fakta"),
        lambda lang: replies.help_text(lang, "Cek Fakta"),
        lambda lang: replies.thanks(lang),
        lambda lang: replies.media_only(lang, ["image/jpeg"]),
        lambda lang: replies.unclear(lang),
        lambda lang: replies.empty(lang),
        lambda lang: replies.choice_expired(lang),
        lambda lang: replies.search_error(lang),
        lambda lang: replies.no_match(lang, "Cek Fakta"),
        lambda lang: replies.no_match(lang, LONG),
        lambda lang: replies.greeting(lang, EMOJI),
    ],
    ids=["greeting", "menu", "help", "thanks", "media", "unclear", "empty", "expired", "error",
         "no_match", "no_match_long_name", "greeting_emoji_name"],
)
def test_fixed_replies_fit_one_message(make, lang):
    text = make(lang)
    assert text.strip() == text and text
    assert wa_len(text) <= MAX_CHARS


@pytest.mark.parametrize(
    "title, summary, url",
    [
        (LONG, LONG, "https://example.org/" + "a" * 300),
        (EMOJI, EMOJI, "https://example.org/x"),
        (NO_SPACES, NO_SPACES, None),
        ("Pendek", "", ""),
        (LONG, "Satu kalimat. " * 300, "https://example.org/" + "b" * 3000),
    ],
    ids=["long_words", "emoji", "no_spaces", "short_no_url", "huge_url"],
)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_match_and_choices_fit_whatever_the_claim(title, summary, url, lang):
    claim = fact_check(title=title, summary=summary, url=url)
    for text in (replies.match(claim, lang), replies.match(claim, lang, not_this=True),
                 replies.choices([claim] * 3, lang)):
        assert wa_len(text) <= MAX_CHARS
        assert text.splitlines()[0]  # the verdict or the intro comes first, never cut away


@pytest.mark.parametrize(
    "lang, label, read_more",
    [("id", "❌ *HOAKS*", "Selengkapnya: "), ("en", "❌ *FALSE*", "Read more: ")],
)
def test_match_shows_verdict_title_summary_and_link(lang, label, read_more):
    text = replies.match(fact_check(), lang)
    lines = text.splitlines()
    assert lines[0] == label
    assert lines[1] == "*Vaksin COVID-19 mengandung chip pelacak*"
    assert "Klaim itu keliru. Vaksin tidak berisi chip." in text
    assert lines[-1] == read_more + "https://cekfakta.example.org/vaksin-chip"


def test_match_trims_a_long_summary_to_a_few_lines_at_a_boundary():
    summary = "Ini kalimat pertama yang cukup panjang untuk ringkasan. " * 20
    text = replies.match(fact_check(summary=summary), "id")
    body = text.split("\n\n")[1]
    assert len(body) <= replies.SUMMARY_CHARS
    assert body.endswith("ringkasan. …")


@pytest.mark.parametrize("lang, line", [("id", "Bukan ini yang Anda tanyakan? Balas *0*."),
                                        ("en", "Not what you asked about? Reply *0*.")])
@pytest.mark.parametrize("title", [EMOJI, LONG, NO_SPACES])
def test_a_searched_match_ends_inviting_0_and_keeps_its_link(title, lang, line):
    url = "https://cekfakta.example.org/" + "a" * 950
    text = replies.match(fact_check(title=title, summary=EMOJI + LONG, url=url), lang, not_this=True)
    assert text.endswith("\n\n" + line) and url in text
    assert wa_len(text) <= MAX_CHARS


@pytest.mark.parametrize("title", [EMOJI, LONG, NO_SPACES])
def test_the_link_is_never_cut_even_when_title_and_summary_are_huge(title):
    url = "https://cekfakta.example.org/" + "a" * 950
    text = replies.match(fact_check(title=title, summary=EMOJI + LONG, url=url), "en")
    assert text.endswith("Read more: " + url)
    assert wa_len(text) <= MAX_CHARS


@pytest.mark.parametrize("title, shown", [
    ("*Viral* _video_ ~banjir~ ```Jakarta```", "*Viral video banjir Jakarta*"),
    ("{{7*7}} = 49", "*{{7*7}} = 49*"),  # marks WhatsApp leaves alone stay
    ("Harga 2*3 naik_turun ~ 5 * 4", "*Harga 2*3 naik_turun ~ 5 * 4*"),
    ("Video `lama`", "*Video `lama`*"),
])
def test_titles_lose_the_format_marks_whatsapp_would_act_on_and_keep_the_rest(title, shown):
    text = replies.match(fact_check(title=title), "id")
    assert text.splitlines()[1] == shown
    assert "<strong>" + shown.strip("*").replace("&", "&amp;") + "</strong>" in to_html(text)


def test_control_characters_never_reach_the_reply():
    text = replies.match(fact_check(title="Judul\x00\x0b\x1b aneh", summary="a\x08b"), "id")
    assert not any(ord(c) < 32 and c not in "\n\t" for c in text)


@pytest.mark.parametrize(
    "count, lang, instruction",
    [
        (3, "id", "Balas 1, 2 atau 3 untuk membaca selengkapnya."),
        (2, "id", "Balas 1 atau 2 untuk membaca selengkapnya."),
        (1, "id", "Balas 1 untuk membaca selengkapnya."),
        (3, "en", "Reply 1, 2 or 3 to read more."),
        (5, "en", "Reply 1, 2, 3, 4 or 5 to read more."),
    ],
)
def test_choices_are_a_numbered_list_with_how_to_pick(count, lang, instruction):
    claims = [fact_check(title=f"Judul {n}", verdict="misleading") for n in range(1, count + 1)]
    lines = replies.choices(claims, lang).splitlines()
    listed = [line for line in lines if line[:1].isdigit()]
    label = "MENYESATKAN" if lang == "id" else "MISLEADING"
    assert listed == [f"{n}. ⚠️ *{label}* · Judul {n}" for n in range(1, count + 1)]
    assert lines[-2] == instruction and "*0*" in lines[-1]


@pytest.mark.parametrize(
    "lang, words",
    [
        ("id", ["belum punya cek fakta", "redaksi", "teruskan pesan aslinya", "tautan",
                "tangkapan layar"]),
        ("en", ["don't have a fact-check", "desk", "forward the original message", "link",
                "screenshot"]),
    ],
)
def test_no_match_is_honest_and_says_how_to_help(lang, words):
    text = replies.no_match(lang, "Cek Fakta")
    for word in words:
        assert word in text


@pytest.mark.parametrize(
    "types, lang, says, asks_caption",
    [
        (["image/jpeg"], "id", "gambar", True),
        (["video/mp4"], "id", "video", True),
        (["audio/ogg"], "id", "pesan suara", False),
        (["image/jpeg", "video/mp4"], "id", "lampiran", True),
        (["image/webp"], "en", "images", True),
        (["audio/ogg"], "en", "voice messages", False),
        ([], "en", "attachments", True),
    ],
)
def test_media_only_says_what_we_cannot_read(types, lang, says, asks_caption):
    text = replies.media_only(lang, types)
    assert says in text
    assert (("caption" in text)) is asks_caption


@pytest.mark.parametrize("lang, other", [("id", "English"), ("en", "Bahasa Indonesia")])
def test_greeting_and_menu_point_to_the_other_language(lang, other):
    assert other in replies.greeting(lang, "Cek Fakta")
    assert other in replies.menu(lang, "Cek Fakta")


def test_help_explains_labels_from_the_vocabulary():
    text = replies.help_text("id", "Cek Fakta")
    for label in ("HOAKS", "MENYESATKAN", "PENIPUAN"):
        assert f"*{label}*:" in text


def test_unknown_verdict_codes_still_get_a_label_and_an_emoji():
    line = replies.verdict_line("made_up_code", "id")
    assert line.endswith("*MADE UP CODE*")
    assert not line.startswith(" ")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_help_explains_every_label_a_reply_can_carry(lang):
    text = replies.help_text(lang, "Kabar Benar")
    meanings = replies.TEXT[lang]["label_meaning"]
    for code in current_vocabulary().codes:
        line = f"{replies.verdict_line(code, lang)}: {meanings[code]}"
        assert line in text.splitlines(), line
    assert wa_len(text) <= MAX_CHARS
    assert text.endswith(replies.TEXT[lang]["help"].splitlines()[-1])  # whole, not cut to fit


@pytest.mark.parametrize(
    "title, shown",
    [
        ("[HOAKS] Vaksin mengandung chip", "Vaksin mengandung chip"),
        ("[SALAH]: Video banjir Jakarta", "Video banjir Jakarta"),
        ("(Satire) Presiden pindah ke Mars", "Presiden pindah ke Mars"),
        ("[VIDEO] Banjir di Jakarta", "[VIDEO] Banjir di Jakarta"),  # not a verdict
        ("[HOAKS]", "[HOAKS]"),  # nothing would be left
        ("Judul [HOAKS]", "Judul [HOAKS]"),
    ],
)
def test_a_verdict_tag_at_the_start_of_a_title_is_not_repeated(title, shown):
    assert replies.match(fact_check(title=title), "id").splitlines()[1] == f"*{shown}*"
