"""Reading a message: cleaning its text, and telling commands and list numbers from questions."""

import re
import unicodedata

from .whatsapp import CONTROL

MAX_TEXT_CHARS = 4000  # longer bodies are cut before searching and logging

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
_BLANK_LINES = re.compile(r"\n{3,}")

GREETING_WORDS = frozenset(
    """
    halo hallo haloo hello helo hellow hai haii hay hi hii hei hey hy ping p tes test testing
    assalamualaikum asalamualaikum assalamualaikom assalamu alaikum salam selamat pagi siang
    sore malam morning afternoon evening shalom swastiastu permisi punten
    """.split()
)
THANKS_WORDS = frozenset(
    """
    makasih makasi maksih kasih terimakasih trims trimakasih thanks thank thx tq ty tengkyu
    nuhun suwun ok oke okay okey sip siap mantap
    """.split()
)
MENU_WORDS = frozenset({"menu", "mulai", "start"})
HELP_WORDS = frozenset(
    {"bantuan", "bantu", "help", "info", "informasi", "petunjuk", "panduan", "cara", "caranya",
     "how"}
)
# "tolong cek, ini benar gak?": a question with nothing in it to look up.
UNCLEAR_WORDS = frozenset(
    """
    cek check periksa benar bener betul beneran hoaks hoax hoak fake true real asli palsu
    """.split()
)
# Words that may surround a command without making it a question about a claim.
FILLER_WORDS = frozenset(
    """
    min admin mimin kak kakak ka bang pak bu ibu bapak mas mbak mba gan sis bro semua all
    there everyone team tim redaksi fakta cekfakta wr wb warahmatullahi wabarakatuh
    warahmatullah wabarakatuhu good terima banyak you very much so dong ya yah nih deh pakai
    memakai menggunakan use this does it work works to do i can minta ini itu gimana
    bagaimana saya aku tolong gak ga nggak ngga enggak apa apakah bukan atau kah sih tidak
    please is that or not news berita
    """.split()
)
THANKS_EMOJI = frozenset("👍🙏👌❤♥😊🙂")
COMMANDS = (  # checked in this order: "halo, menu" is a menu request
    ("menu", MENU_WORDS),
    ("help", HELP_WORDS),
    ("thanks", THANKS_WORDS),
    ("greeting", GREETING_WORDS),
    ("unclear", UNCLEAR_WORDS),
    ("help", frozenset({"tolong"})),  # "tolong" alone is a cry for help
)
_ANY_COMMAND_WORD = (
    MENU_WORDS | HELP_WORDS | THANKS_WORDS | GREETING_WORDS | UNCLEAR_WORDS | FILLER_WORDS
)

_CHOICE = re.compile(
    r"^(?:no|nomor|nomer|number|pilih|pilihan|opsi|option|#)?\.?\s*(\d{1,2})\s*[.)!]?$"
)
_NUMBER_WORDS = {"satu": 1, "dua": 2, "tiga": 3, "one": 1, "two": 2, "three": 3}


def clean_text(text) -> str:
    """Make any incoming body safe to search and store: valid UTF-8, no control characters,
    at most MAX_TEXT_CHARS."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from JSON
    text = unicodedata.normalize("NFC", text[: MAX_TEXT_CHARS * 2])
    text = CONTROL.sub(" ", text.replace("\r\n", "\n"))
    text = _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n")))
    return text[:MAX_TEXT_CHARS].strip()


def readable(text: str) -> bool:
    """Say whether a message has a letter or a digit in it, something that could be looked up."""
    return _ALNUM.search(text) is not None


def command_for(text: str) -> str | None:
    """Name the command a message is ("greeting", "menu", "help", "thanks", "unclear"), or None."""
    if text.strip() in {"?", "??", "???"}:
        return "help"
    words = _WORDS.findall(text.lower())
    if not words:
        return "thanks" if set(text) & THANKS_EMOJI else None
    if len(words) > 8 or not set(words) <= _ANY_COMMAND_WORD:
        return None
    for name, core in COMMANDS:
        if core.intersection(words):
            return name
    return None


def choice_number(text: str) -> int | None:
    """Read a reply such as "2", "2️⃣", "no. 2" or "dua" as a list number."""
    text = text.lower().replace("\ufe0f", "").replace("\u20e3", "").strip()
    if text in _NUMBER_WORDS:
        return _NUMBER_WORDS[text]
    found = _CHOICE.match(text)
    return int(found.group(1)) if found else None
