"""Reading a message: cleaning its text, its language, and telling commands and list numbers
from questions."""

import re
import unicodedata

from index import text as index_text
from index.normalize import normalize_text

from .whatsapp import CONTROL

MAX_TEXT_CHARS = 4000  # longer bodies are cut before searching and logging

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
_BLANK_LINES = re.compile(r"\n{3,}")

# Command words beyond the search's chat words (index.text), which count as content there: some
# open forwarded claims too ("salam sehat", "bantu sebarkan", "video asli", "bapak presiden"), and
# the search's no-match decision was fitted without the others.
GREETING_WORDS = index_text.GREETING_WORDS | frozenset(
    "salam hei hy ping shalom afternoon testing".split()
)
THANKS_WORDS = index_text.THANKS_WORDS | frozenset("terimakasih trimakasih suwun".split())
MENU_WORDS = index_text.MENU_WORDS
HELP_WORDS = index_text.HELP_WORDS | frozenset("bantu petunjuk panduan".split())
# "tolong cek, ini benar gak?": a question with nothing in it to look up.
UNCLEAR_WORDS = index_text.ASKING_WORDS | frozenset(
    "check periksa fake real true asli palsu".split()
)
# Words that may surround a command without making it a question about a claim.
FILLER_WORDS = index_text.FILLER_WORDS | frozenset(
    """
    cekfakta mimin kakak ka bang bu ibu bapak mas mbak mba all everyone team tim redaksi
    warahmatullahi wabarakatuh yah memakai menggunakan use works to is it that or not minta news
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
)  # every chat word of index.text among them

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


def language_of(text: str, vocabulary: dict | None = None) -> str | None:
    """Say which language a message is written in ("id" or "en"), None when its words do not tell.

    First the search's own guess (index.text.detect_language), counting every marker word rather
    than the search's only ("hello", "makasih", "you"), and without its default. A message of
    keywords has no marker ("harga cabai naik"): then the words of the library (vocabulary,
    {"id": words, "en": words}) decide when most of them belong to one language only. A message
    with no clue keeps the language the sender used before.
    """
    words = normalize_text(text).split()
    found = index_text.detect_language(words, chat=True)
    if found or not vocabulary:
        return found
    content = [w for w in words if len(w) > 2 and not w.isdigit()]
    if not content:
        return None
    indonesian, english = vocabulary.get("id", frozenset()), vocabulary.get("en", frozenset())
    only_id = sum(w in indonesian and w not in english for w in content)
    only_en = sum(w in english and w not in indonesian for w in content)
    if only_id * 2 > len(content) and not only_en:
        return "id"
    if only_en * 2 > len(content) and not only_id:
        return "en"
    return None


def vocabulary_of(texts_by_lang, known: dict | None = None) -> dict:
    """The words of each language's texts, with its stopwords: what language_of reads keywords by.

    texts_by_lang: (lang, text) pairs, e.g. the published fact-checks' titles and claims.
    known: an earlier vocabulary these texts' words are added to (it is left as it was).
    """
    words = {"id": set(index_text.STOPWORDS_ID), "en": set(index_text.STOPWORDS_EN)}
    for lang, found in (known or {}).items():
        words.setdefault(lang, set()).update(found)
    for lang, text in texts_by_lang:
        if lang in words:
            words[lang].update(normalize_text(text or "").split())
    return {lang: frozenset(found) for lang, found in words.items()}


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
