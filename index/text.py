"""Tokens for the lexical index: normalised, stopwords out, stemmed by language."""
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from .normalize import normalize_text

STOPWORDS_ID = frozenset("""
ada adalah adanya agar akan akankah aku al amat anda antara apa apakah apalagi atas atau
awal bagai bagaimana bagi bahkan bahwa baik banget banyak baru bawah beberapa begini begitu
belum benar berapa berbagai bersama beserta betul bila bisa boleh bukan bukankah buat cukup
cuma dalam dan dapat dari daripada dengan di dia diri dong dulu guna hal hampir hanya harus
hingga ia ialah ini itu jadi jangan jika juga justru kah kalau kami kamu kan kapan karena
kata ke kemudian kenapa kepada ketika kini kita lagi lah lain lalu lama lebih maka mana
masih mau melalui memang mengapa menjadi mereka meski mohon mungkin nah namun nanti nya oleh
orang pada padahal para pernah pula pun punya saat saja sama sambil sampai sang sangat saya
se sebab sebagai sebelum sebuah secara sedang sedangkan sehingga sejak sekali sekarang
selalu seluruh semua sempat seperti serta setelah siapa sih silakan supaya sudah tadi tak
tapi telah tentang terhadap terus tersebut tetapi tiap tidak toh tuh untuk wah walau yaitu
yakni yang ya yg deh dong kok loh lho kak min admin gan sis bro nih tuh
cek tolong info informasi berita kabar apakah benarkah beneran valid hoaks hoax fakta
""".split())

STOPWORDS_EN = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers him his how i if in into is it its itself just me more
most my no nor not now of off on once only or other our out over own same she should so some
such than that the their them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
is it true real fake check please hi hello hey
""".split())

_ENGLISH_MARKERS = frozenset("the is are was were of and to in that this with for it be have not".split())
_INDONESIAN_MARKERS = frozenset("yang dan di ke dari ini itu tidak dengan untuk ada akan pada juga sudah".split())


# English stopwords that Indonesian messages use too ("no" for nomor, "a" and "i" in numbering):
# they say nothing about which language a message is in.
_SHARED_SHORT_WORDS = frozenset("a i no".split())


def guess_language(words: list[str]) -> str:
    """Say "en" or "id" from function words; Indonesian when in doubt."""
    en = sum(w in _ENGLISH_MARKERS for w in words)
    idn = sum(w in _INDONESIAN_MARKERS for w in words)
    return "en" if en > idn else "id"


def language_confidence(words: list[str], lang: str) -> float:
    """Say how surely normalised words are in lang ("id" or "en"), from 0 to 1.

    The share of the stopwords found that are lang's, smoothed: 0.5 with none of either or as
    many of each. guess_language looks at a few markers only, so an English tweet without them
    ("my dog at kuta beach lol") passes for Indonesian; its English stopwords give it away
    here. Headlines without any stopword are mostly Indonesian on the bench sets, so the
    callers treat 0.5 as sure enough.
    """
    en = sum(w in STOPWORDS_EN and w not in _SHARED_SHORT_WORDS for w in words)
    idn = sum(w in STOPWORDS_ID for w in words)
    mine = en if lang == "en" else idn
    return (mine + 1) / (en + idn + 2)


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    """Make a Snowball stemmer once per language."""
    return Stemmer.Stemmer("english" if lang == "en" else "indonesian", 100_000)


def tokenize(text: str, lang: str | None = None) -> list[str]:
    """Turn a text into stemmed lexical tokens, guessing its language when not given."""
    words = normalize_text(text).split()
    return _stem_words(words, lang if lang in ("id", "en") else guess_language(words))


def _stem_words(words: list[str], lang: str) -> list[str]:
    """Drop stopwords from normalised words and stem the rest."""
    stop = STOPWORDS_EN if lang == "en" else STOPWORDS_ID
    kept = [w for w in words if w not in stop and w not in STOPWORDS_ID and (len(w) > 1 or w.isdigit())]
    return _stemmer(lang).stemWords(kept)


# Greetings, thanks and menu words: a message made only of these asks nothing searchable, even
# when one of them happens to appear in a fact-check's title.
CHAT_TERMS = frozenset("""
halo hai hallo helo hello hi hey pagi siang sore malam selamat assalamualaikum assalamu alaikum
waalaikumsalam wr wb permisi terima kasih makasih trims thanks thank thx ok oke okay siap sip mantap
menu bantuan help mulai start stop tes test coba bot admin min kak gan tanya nanya caranya cara pakai
so much bye dah good morning evening night there you who are what can do how does work this verify
please unsubscribe berhenti wkwk wkwkwk haha hmm p iya ya tidak benar bener apa kabar siapa kamu mau dong
""".split())


@dataclass(frozen=True)
class Query:
    """What search needs to know of a message: its tokens, language and searchable content."""

    tokens: list[str]
    lang: str
    content_terms: int  # tokens left once greetings, thanks and menu words are dropped
    lang_confidence: float = 0.5  # how surely the message is in lang (language_confidence)

    @classmethod
    def parse(cls, text: str) -> "Query":
        """Read a message once for ranking and for the no-match decision."""
        words = normalize_text(text).split()  # once: this runs on every message
        lang = guess_language(words)
        content = [w for w in words if w not in CHAT_TERMS]
        return cls(_stem_words(words, lang), lang, len(_stem_words(content, lang)),
                   language_confidence(words, lang))
