"""Guess whether a message is Indonesian or English from its function words."""

import re

# Short, frequent words that mark a language. Words that both languages use in chat
# ("hi", "ok", "test", "link", "hoax") are left out on purpose: they are no clue.
INDONESIAN = frozenset(
    """
    yang dan di ke dari ini itu dengan untuk tidak tak ada akan pada juga saya aku kami kita
    kamu anda dia mereka apa apakah benar betul bisa sudah udah belum atau karena jadi kalau
    kalo oleh dalam tersebut adalah bahwa ya iya nggak ngga gak ga enggak dong sih kok mau
    bagaimana gimana kenapa mengapa siapa kapan dimana mana berita katanya tolong cek halo hai
    terima kasih makasih selamat pagi siang sore malam bantuan beneran hoaks lagi sama tapi
    assalamualaikum
    punya bukan banyak semua harus masih lebih sangat nya min kak pak bu mas mbak
    """.split()
)
ENGLISH = frozenset(
    """
    the a an is are was were be been being of to in on at for with that this these those it
    its and not do does did i you he she we they my your our their me us them what how
    why who when where which can could will would should have has had there about from by as
    true real fake really hello hey thanks thank please help check news if but just any
    good morning afternoon evening
    """.split()
)

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_lang(text: str) -> str | None:
    """Return "id" or "en" when the function words say so, None when there is no clue."""
    words = _WORD.findall(text.lower())
    id_score = sum(word in INDONESIAN for word in words)
    en_score = sum(word in ENGLISH for word in words)
    if en_score > id_score:
        return "en"
    if id_score > en_score:
        return "id"
    return None
