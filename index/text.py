"""Tokens for the lexical index: normalised, stopwords out, stemmed by language."""
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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

# Words that tell the two languages apart, each listed once. The search's guess counts the first
# pair only: it picks the stemmer, the stopwords, the decision's model and the re-ranker's
# language gate, which were fitted on its guesses, so a word joins that pair only if no bench
# message's guess changes. Left out of it: English chat words ("thanks a lot" would turn English),
# and words normalize_text also makes of English ("hoax", "bs", "km", "lg").
_ENGLISH_MARKERS = frozenset("""
the is are was were of and to in that this with for it be have not any being does had he she our
their them those where which would
""".split())
_INDONESIAN_MARKERS = frozenset("""
yang dan di ke dari ini itu tidak dengan untuk ada akan pada juga sudah anda apa apakah atau
bagaimana bahwa banyak benar beneran berita betul bukan cek dalam dia dimana dong iya kami kapan
karena katanya kenapa kita kok lebih mana masih mau mengapa mereka nya oleh punya semua siapa
sih tapi tersebut tolong ya
""".split())
# The rest tell a chat message's language (the tipline answers in it): greetings, thanks,
# addressing the desk, pronouns.
_ENGLISH_CHAT_MARKERS = frozenset("""
hello hey good morning afternoon evening thanks thank please help check news true real fake
really a an i me my you your we us they these there as at on by from about but if its just can
could will should did do has been how what when who why
""".split())
_INDONESIAN_CHAT_MARKERS = frozenset("""
halo hai selamat pagi siang sore malam assalamualaikum terima kasih makasih bantuan min kak
bapak bu mas mbak saya kamu bisa harus jadi kalau lagi sama sangat belum adalah hoaks
""".split())
_MARKERS = {False: (_ENGLISH_MARKERS, _INDONESIAN_MARKERS),
            True: (_ENGLISH_MARKERS | _ENGLISH_CHAT_MARKERS,
                   _INDONESIAN_MARKERS | _INDONESIAN_CHAT_MARKERS)}


# English stopwords that Indonesian messages use too ("no" for nomor, "a" and "i" in numbering):
# they say nothing about which language a message is in.
_SHARED_SHORT_WORDS = frozenset("a i no".split())


def detect_language(words: list[str], chat: bool = False) -> str | None:
    """Say "en" or "id" from the marker words among normalised words, None on a tie or no clue.

    The search counts its own markers; chat counts every marker, for the language of a reply.
    """
    english, indonesian = _MARKERS[chat]
    en = sum(w in english for w in words)
    idn = sum(w in indonesian for w in words)
    if en == idn:
        return None
    return "en" if en > idn else "id"


def guess_language(words: list[str]) -> str:
    """Say "en" or "id" from the search's markers in normalised words; Indonesian when in doubt."""
    return detect_language(words) or "id"


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


# Chat words, by what they say. A message made only of chat words asks nothing searchable, even
# when one of them happens to appear in a fact-check's title (Query.content_terms); the tipline
# answers greetings, thanks, menu and help requests with fixed replies (tipline/reading.py).
# Chat spellings are listed as people type them: the tipline reads messages before
# normalize_text, the search after it. A word joins only if no bench message's content count
# changes: "salam", "bantu" or "bapak" also open forwarded claims.
GREETING_WORDS = frozenset("""
halo hallo haloo hello hellow helo hai haii hay hi hii hey p tes test selamat pagi siang
sore malam morning evening permisi punten swastiastu assalamualaikum asalamualaikum
assalamualaikom assalamu alaikum
""".split())
THANKS_WORDS = frozenset("""
kasih makasih makasi maksih trims thanks thank thx tq ty tengkyu nuhun ok oke okay okey
siap sip mantap
""".split())
MENU_WORDS = frozenset("menu mulai start".split())
HELP_WORDS = frozenset("bantuan help info informasi cara caranya how".split())
# "Is it true?" without saying what.
ASKING_WORDS = frozenset("cek benar bener betul beneran hoaks hoax hoak".split())
# Words around a request that add nothing to it: addressing the desk, small talk, pronouns.
FILLER_WORDS = frozenset("""
terima min admin kak gan bro sis pak wr wb warahmatullah wabarakatuhu waalaikumsalam fakta
berita banyak semua so much very good night bye dah you this there who what are can do does work
please pakai tanya nanya coba bot stop berhenti unsubscribe verify saya aku kamu siapa apa
apakah bagaimana gimana ini itu atau bukan kah tidak gak ga nggak ngga enggak iya ya dong deh
nih sih mau kabar tolong wkwk wkwkwk haha hmm i
""".split())
CHAT_TERMS = (GREETING_WORDS | THANKS_WORDS | MENU_WORDS | HELP_WORDS | ASKING_WORDS
              | FILLER_WORDS)


@lru_cache(maxsize=1)
def english_words() -> frozenset:
    """Give a lexicon of English words: the whole words (three letters or more) of the English
    MiniLM's WordPiece vocabulary, read once from index/english_words.txt.

    Keyword queries carry no stopwords, so the markers above cannot tell "bulog job vacancy"
    from Indonesian; whether its words are English and unknown to the library can
    (Query.english_stems, HybridIndex._rank).
    """
    return frozenset((Path(__file__).with_name("english_words.txt")).read_text("ascii").split())


@dataclass(frozen=True)
class Query:
    """What search needs to know of a message: its tokens, language and searchable content."""

    tokens: list[str]
    lang: str
    content_terms: int  # tokens left once chat words (CHAT_TERMS) are dropped
    lang_confidence: float = 0.5  # how surely the message is in lang (language_confidence)
    # Content words of three letters or more (no stopword), and the stems of those among them that
    # are English words (english_words): with the library's vocabulary they tell a query in
    # another language.
    words: int = 0
    english_stems: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, text: str) -> "Query":
        """Read a message once for ranking and for the no-match decision."""
        words = normalize_text(text).split()  # once: this runs on every message
        lang = guess_language(words)
        content = [w for w in words if w not in CHAT_TERMS]
        # Stopwords say nothing here: no library indexes them, so each would pass for unknown.
        long_words = [w for w in words if len(w) >= 3 and w.isalpha()
                      and w not in STOPWORDS_EN and w not in STOPWORDS_ID]
        english = [w for w in long_words if w in english_words()]
        stems = _stemmer(lang).stemWords(english) if english else []
        return cls(_stem_words(words, lang), lang, len(_stem_words(content, lang)),
                   language_confidence(words, lang), len(long_words), tuple(stems))
