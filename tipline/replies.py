"""Every word the tipline says, Indonesian first and English second, in WhatsApp formatting.

Functions here take plain values and return the reply text; they never touch the database.
Every reply goes through `whatsapp.fit`, so none is longer than one WhatsApp message.
"""

import re

from claims.verdicts import current_vocabulary, is_known_verdict, verdict_emoji, verdict_label

from .whatsapp import MAX_CHARS, fit, plain, shorten, wa_len

TITLE_CHARS = 200
CHOICE_TITLE_CHARS = 110
SUMMARY_CHARS = 300
URL_CHARS = 1000  # a longer link is more likely junk than a page worth opening

DEFAULT_EMOJI = "🔎"  # for a code the vocabulary gives no emoji

TEXT = {
    "id": {
        "greeting": (
            "Halo! 👋 Anda terhubung dengan *{newsroom}*, layanan cek fakta lewat WhatsApp.\n\n"
            "Ragu dengan pesan yang beredar? Kirim kata kuncinya (misalnya _vaksin chip_) "
            "atau teruskan pesannya ke sini. Kami balas dengan cek fakta yang paling cocok.\n\n"
            "Ketik *menu* untuk petunjuk."
        ),
        "menu": (
            "*Cara memakai {newsroom}*\n"
            "1. Ketik kata kunci, misalnya _vaksin chip_.\n"
            "2. Atau teruskan (forward) pesan yang ingin Anda cek.\n"
            "3. Atau kirim tautan beritanya.\n\n"
            "Kami balas dengan cek fakta yang paling cocok. Jika ada beberapa, "
            "balas dengan nomornya.\n\n"
            "Ketik *bantuan* untuk arti label."
        ),
        "help": (
            "*Bantuan*\n"
            "Kami mencari pesan Anda di kumpulan cek fakta yang sudah diperiksa redaksi "
            "{newsroom}.\n\n"
            "Arti label:\n{labels}\n\n"
            "Belum ada cek faktanya? Pesan Anda kami teruskan ke redaksi.\n"
            "Nomor Anda tidak kami simpan."
        ),
        # Every label a reply can carry (the vocabulary's codes), explained by "bantuan".
        "label_meaning": {
            "false": "klaimnya salah",
            "disinformation": "salah, dan sengaja disebarkan untuk menipu",
            "misleading": "ada benarnya, tetapi menyesatkan",
            "scam": "upaya menipu, jangan klik atau transfer",
            "satire": "lelucon atau parodi, bukan berita",
            "unproven": "belum ada cukup bukti",
            "true": "klaimnya benar",
            "partly_true": "benar sebagian, tidak seluruhnya",
            "mixture": "campuran yang benar dan yang salah",
            "clarification": "penjelasan untuk meluruskan",
            "unrated": "redaksi belum memberi label",
        },
        "other_lang": "_English? Just write your message in English._",
        "thanks": (
            "Sama-sama! 🙏 Kirim lagi kapan saja jika Anda menerima pesan yang meragukan."
        ),
        "media": {
            "image": "Maaf, kami belum bisa membaca gambar.",
            "video": "Maaf, kami belum bisa menonton video.",
            "audio": "Maaf, kami belum bisa mendengarkan pesan suara.",
            "other": "Maaf, kami belum bisa membuka lampiran.",
        },
        "media_ask": (
            "Tolong ketik isi klaimnya dalam beberapa kata, atau kirim ulang dengan "
            "keterangan (caption) yang berisi klaimnya."
        ),
        "media_ask_audio": "Tolong ketik isi klaimnya dalam beberapa kata.",
        "picture_words": "📷 Teks di gambar: “{words}”",
        "picture_known": "📷 Gambar ini sudah pernah kami periksa.",
        "picture_unread": "Maaf, kami tidak menemukan tulisan yang terbaca di gambar ini.",
        "picture_reading": "📷 Sedang membaca gambar… Jawabannya kami kirim sebentar lagi.",
        "link_read": "🔗 Dari tautan: “{title}”",
        "link_known": "🔗 Tautan ini sudah pernah kami periksa.",
        "unclear": (
            "Pesan mana yang ingin Anda cek? Teruskan (forward) pesannya ke sini, kirim "
            "tautannya, atau ketik kata kuncinya, misalnya _vaksin chip_."
        ),
        "empty": (
            "Pesan Anda kosong atau tidak terbaca. Ketik kata kunci klaim yang ingin Anda "
            "cek, atau ketik *menu*."
        ),
        "choice_expired": (
            "Pilihan itu sudah tidak berlaku. Kirim lagi kata kunci atau pesannya, "
            "kami carikan lagi."
        ),
        "rate_limited": (
            "Anda mengirim banyak pesan dalam waktu singkat. Kami jeda dulu: pesan berikutnya "
            "kami jawab lagi dalam {minutes} menit. Terima kasih atas pengertiannya 🙏"
        ),
        "search_error": (
            "Maaf, pencarian sedang bermasalah. Coba kirim lagi pesan Anda beberapa menit lagi."
        ),
        "late": "_Maaf, balasan ini terlambat: tadi banyak sekali pesan masuk._ 🙏",
        "kept": (
            "Maaf, layanan kami sedang terganggu. Pesan Anda sudah kami simpan; jawabannya "
            "kami kirim ke sini begitu layanan pulih."
        ),
        "no_match": (
            "Maaf, kami belum punya cek fakta tentang ini. Pesan Anda sudah kami teruskan "
            "ke redaksi {newsroom}.\n\n"
            "Bantu kami dengan detail lebih lengkap:\n"
            "• teruskan pesan aslinya secara utuh,\n"
            "• kirim tautan beritanya, atau\n"
            "• kirim tangkapan layar dengan keterangan (caption).\n\n"
            "Sebelum jelas, sebaiknya jangan disebarkan dulu."
        ),
        "followup": (
            "Chat web ini tidak bisa kami hubungi lagi. Buka halaman ini nanti di peramban yang "
            "sama: jika redaksi sudah menjawab, jawabannya muncul di sini. Dari perangkat lain: "
            "{url} (kode *{code}*)."
        ),
        "read_more": "Selengkapnya: {url}",
        "choices_intro": "Ada beberapa cek fakta yang mirip:",
        "choices_one": "Ada cek fakta yang mungkin cocok:",
        "choices_none": "Tidak ada yang cocok? Balas *0*, pertanyaan Anda kami teruskan ke redaksi.",
        "not_this": "Bukan ini yang Anda tanyakan? Balas *0*.",
        "reply_with": {1: "Balas 1 untuk membaca selengkapnya.",
                       2: "Balas 1 atau 2 untuk membaca selengkapnya."},
        "reply_with_many": "Balas {first} atau {last} untuk membaca selengkapnya.",
    },
    "en": {
        "greeting": (
            "Hello! 👋 You have reached *{newsroom}*, a fact-check service on WhatsApp.\n\n"
            "Not sure about a message going around? Send a few key words (for example "
            "_vaccine chip_) or forward the message here. We reply with the closest "
            "fact-check.\n\n"
            "Type *menu* for help."
        ),
        "menu": (
            "*How to use {newsroom}*\n"
            "1. Type a few key words, for example _vaccine chip_.\n"
            "2. Or forward the message you want checked.\n"
            "3. Or send a link to the story.\n\n"
            "We reply with the closest fact-check. If there are several, reply with "
            "the number.\n\n"
            "Type *help* for what the labels mean."
        ),
        "help": (
            "*Help*\n"
            "We look up your message among the fact-checks the {newsroom} desk has "
            "already published.\n\n"
            "What the labels mean:\n{labels}\n\n"
            "No fact-check yet? We pass your message to the desk.\n"
            "We do not keep your phone number."
        ),
        "label_meaning": {
            "false": "the claim is wrong",
            "disinformation": "wrong, and spread on purpose to deceive",
            "misleading": "partly right, but misleading",
            "scam": "a scam, do not click or pay",
            "satire": "a joke or parody, not news",
            "unproven": "not enough evidence yet",
            "true": "the claim is right",
            "partly_true": "true in part, not in full",
            "mixture": "a mix of true and false",
            "clarification": "an explanation that sets things straight",
            "unrated": "the desk has not rated it",
        },
        "other_lang": "_Bahasa Indonesia? Tulis saja pesan Anda dalam bahasa Indonesia._",
        "thanks": "You're welcome! 🙏 Send us anything that looks doubtful, any time.",
        "media": {
            "image": "Sorry, we can't read images yet.",
            "video": "Sorry, we can't watch videos yet.",
            "audio": "Sorry, we can't listen to voice messages yet.",
            "other": "Sorry, we can't open attachments yet.",
        },
        "media_ask": (
            "Please type what it claims in a few words, or send it again with a caption "
            "saying what it claims."
        ),
        "media_ask_audio": "Please type what it claims in a few words.",
        "picture_words": "📷 Text in the picture: “{words}”",
        "picture_known": "📷 We have checked this picture before.",
        "picture_unread": "Sorry, we found no text we could read in this picture.",
        "picture_reading": "📷 Reading the picture… We will send the answer shortly.",
        "link_read": "🔗 From the link: “{title}”",
        "link_known": "🔗 We have checked this link before.",
        "unclear": (
            "Which message would you like us to check? Forward it here, send the link, or "
            "type a few key words, for example _vaccine chip_."
        ),
        "empty": (
            "Your message was empty or we couldn't read it. Type a few key words about the "
            "claim you want checked, or type *menu*."
        ),
        "choice_expired": (
            "That choice has expired. Send the key words or the message again and we'll "
            "look it up."
        ),
        "rate_limited": (
            "You have sent many messages in a short time, so we are taking a short break: we "
            "will answer again in {minutes} minute(s). Thank you for understanding 🙏"
        ),
        "search_error": (
            "Sorry, our search is having trouble. Please send your message again in a few "
            "minutes."
        ),
        "late": "_Sorry this reply is late: a great many messages came in at once._ 🙏",
        "kept": (
            "Sorry, our service is having trouble. We have kept your message and will send the "
            "answer here as soon as it is back."
        ),
        "no_match": (
            "Sorry, we don't have a fact-check on this yet. We have passed your message to "
            "the {newsroom} desk.\n\n"
            "You can help with more detail:\n"
            "• forward the original message in full,\n"
            "• send a link to the story, or\n"
            "• send a screenshot with a caption.\n\n"
            "Until it is clear, please don't share it further."
        ),
        "followup": (
            "We cannot message this web chat later. Open this page again in the same browser: "
            "once the desk has answered, the answer shows here. From another device: {url} "
            "(code *{code}*)."
        ),
        "read_more": "Read more: {url}",
        "choices_intro": "We found several similar fact-checks:",
        "choices_one": "This fact-check may be what you mean:",
        "choices_none": "None of these? Reply *0* and we pass your question to the desk.",
        "not_this": "Not what you asked about? Reply *0*.",
        "reply_with": {1: "Reply 1 to read it.",
                       2: "Reply 1 or 2 to read more."},
        "reply_with_many": "Reply {first} or {last} to read more.",
    },
}

# "[HOAKS] Vaksin …": many desks put the verdict in the title; the reply already shows it.
_TITLE_TAG = re.compile(r"^\s*[\[(]([^\])]{1,40})[\])]\s*[:\-–—]?\s*")


def pick_lang(lang: str | None) -> str:
    """Return a language the replies exist in ("id" unless "en" was asked for)."""
    return lang if lang in TEXT else "id"


def title_text(title: str) -> str:
    """A title as replies show it: no format marks, no leading "[HOAKS]"-style verdict tag."""
    title = plain(title).strip()
    tag = _TITLE_TAG.match(title)
    if tag and tag.group(1).strip() and is_known_verdict(tag.group(1)) and title[tag.end():]:
        title = title[tag.end():]
    return title


def verdict_line(code: str, lang: str) -> str:
    """The verdict as the reply shows it: emoji and bold label, e.g. "❌ *HOAKS*"."""
    label = plain(verdict_label(code, lang)) or plain(verdict_label("unrated", lang))
    return f"{verdict_emoji(code) or DEFAULT_EMOJI} *{label}*"


def _t(lang: str, key: str):
    return TEXT[pick_lang(lang)][key]


def _with_other_lang(text: str, lang: str) -> str:
    return f"{text}\n\n{_t(lang, 'other_lang')}"


def greeting(lang: str, newsroom: str) -> str:
    """Answer a hello: what this number is and how to use it."""
    return fit(_with_other_lang(_t(lang, "greeting").format(newsroom=newsroom), lang))


def menu(lang: str, newsroom: str) -> str:
    """Answer "menu": the three ways to ask."""
    return fit(_with_other_lang(_t(lang, "menu").format(newsroom=newsroom), lang))


def help_text(lang: str, newsroom: str) -> str:
    """Answer "bantuan"/"help": how it works and what every label a reply can carry means.

    The labels are the vocabulary's (a VERDICTS_FILE may add some): a code with no meaning
    written here is listed by its label alone."""
    meanings = _t(lang, "label_meaning")
    labels = "\n".join(
        f"{verdict_line(code, lang)}: {meanings[code]}" if code in meanings else verdict_line(code, lang)
        for code in current_vocabulary().codes
    )
    return fit(_t(lang, "help").format(newsroom=newsroom, labels=labels))


def thanks(lang: str) -> str:
    """Answer a thank-you."""
    return fit(_t(lang, "thanks"))


def media_kind(media_types) -> str:
    """Name the kind of attachment: "image", "video", "audio" or "other"."""
    kinds = {(t or "").split("/", 1)[0].lower() for t in media_types} or {"other"}
    if len(kinds) == 1 and (kind := kinds.pop()) in ("image", "video", "audio"):
        return kind
    return "other"


def media_only(lang: str, media_types=()) -> str:
    """Answer an attachment without a caption: we can't read it, please type the claim."""
    kind = media_kind(media_types)
    ask = _t(lang, "media_ask_audio" if kind == "audio" else "media_ask")
    return fit(f"{_t(lang, 'media')[kind]} 🙏\n{ask}")


WORDS_SHOWN = 120  # what was read, shown so the sender sees why: short, it is not the answer


def picture_unread(lang: str) -> str:
    """Answer a picture with no words we could read (and no caption): please type the claim."""
    return fit(f"{_t(lang, 'picture_unread')} 🙏\n{_t(lang, 'media_ask')}")


def reading(lang: str) -> str:
    """Answer a picture whose words take longer than the webhook may wait: the answer follows."""
    return fit(_t(lang, "picture_reading"))


def with_words(reply: str, words: str, lang: str) -> str:
    """Put what was read in a picture above the reply ("Teks di gambar: …", shortened)."""
    shown = shorten(plain(words), WORDS_SHOWN)
    return fit(f"{_t(lang, 'picture_words').format(words=shown)}\n\n{reply}") if shown else reply


def with_page(reply: str, title: str, lang: str) -> str:
    """Put the title of the linked page above the reply, so the sender sees what was read."""
    shown = shorten(plain(title), WORDS_SHOWN)
    return fit(f"{_t(lang, 'link_read').format(title=shown)}\n\n{reply}") if shown else reply


def known_picture(claim, lang: str) -> str:
    """Answer a picture the library knows: it was checked, and the fact-check."""
    return fit(f"{_t(lang, 'picture_known')}\n\n{match(claim, lang, not_this=True)}")


def known_link(claim, lang: str) -> str:
    """Answer a link the library knows: it was checked, and the fact-check."""
    return fit(f"{_t(lang, 'link_known')}\n\n{match(claim, lang, not_this=True)}")


def unclear(lang: str) -> str:
    """Answer "is this true?" sent with nothing to look up: ask for the message itself."""
    return fit(_t(lang, "unclear"))


def empty(lang: str) -> str:
    """Answer a message with nothing we can read."""
    return fit(_t(lang, "empty"))


def choice_expired(lang: str) -> str:
    """Answer a number when there is no list to choose from."""
    return fit(_t(lang, "choice_expired"))


def search_error(lang: str) -> str:
    """Answer when the search itself failed."""
    return fit(_t(lang, "search_error"))


def kept(lang: str) -> str:
    """Answer when the database is down and the message was kept to be answered later."""
    return fit(_t(lang, "kept"))


def late(reply: str, lang: str) -> str:
    """Put a line saying sorry above a reply sent after Twilio stopped waiting for it."""
    return fit(f"{_t(lang, 'late')}\n\n{reply}")


def rate_limited(lang: str, seconds: int) -> str:
    """The one notice a sender gets when they pass the rate limit; after it, silence."""
    return fit(_t(lang, "rate_limited").format(minutes=max(1, -(-int(seconds) // 60))))


def no_match(lang: str, newsroom: str, followup: tuple[str, str] | None = None) -> str:
    """Say honestly there is no fact-check yet, that the desk knows, and how to help.

    followup: (code, url) for a web asker, who cannot be answered back: how to come back.
    """
    text = _t(lang, "no_match").format(newsroom=newsroom)
    if followup:
        code, url = followup
        text += "\n\n" + _t(lang, "followup").format(code=code, url=url)
    return fit(text)


def match(claim, lang: str, not_this: bool = False) -> str:
    """The fact-check: verdict, title, a few lines of summary and the link.

    not_this: end with the line inviting "0" when the search, not the asker, picked it."""
    head = f"{verdict_line(claim.verdict, lang)}\n*{shorten(title_text(claim.title), TITLE_CHARS)}*"
    url = (claim.url or "").strip()
    tail = _t(lang, "read_more").format(url=url) if url and len(url) <= URL_CHARS else ""
    last = _t(lang, "not_this") if not_this else ""
    room = MAX_CHARS - wa_len(head) - wa_len(tail) - wa_len(last) - 6  # the blank lines between parts
    summary = shorten(claim.summary or "", min(SUMMARY_CHARS, room)) if room >= 40 else ""
    return fit("\n\n".join(part for part in (head, summary, tail, last) if part))


def _reply_with(count: int, lang: str) -> str:
    fixed = _t(lang, "reply_with")
    if count in fixed:
        return fixed[count]
    numbers = ", ".join(str(n) for n in range(1, count))
    return _t(lang, "reply_with_many").format(first=numbers, last=count)


def choices(claims, lang: str) -> str:
    """A short numbered list of close fact-checks and how to pick one."""
    intro = _t(lang, "choices_intro" if len(claims) > 1 else "choices_one")
    lines = [
        f"{n}. {verdict_line(claim.verdict, lang)} · "
        f"{shorten(title_text(claim.title), CHOICE_TITLE_CHARS)}"
        for n, claim in enumerate(claims, start=1)
    ]
    return fit(f"{intro}\n\n" + "\n".join(lines) + f"\n\n{_reply_with(len(claims), lang)}\n"
               + _t(lang, "choices_none"))
