"""The conversation: commands, choices, search decisions, the request log and sender memory."""

import hashlib
import hmac
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from claims.db import get_session, session_scope
from claims.store import save_claim, set_status
from index import Match, SearchResult
from tipline import hoaxes
from tipline.conversation import CHOICE_TTL, EXTRA_CANDIDATES, respond
from tipline.models import RequestLog, SenderState, utcnow
from tipline.reading import MAX_TEXT_CHARS
from tipline.whatsapp import MAX_CHARS, wa_len
from app import parts

NUMBER = "whatsapp:+6281234567890"

CLAIMS = [
    {"id": "vaksin-chip", "title": "Vaksin COVID-19 mengandung chip pelacak", "verdict": "HOAKS",
     "claim": "Vaksin berisi microchip", "summary": "Vaksin tidak berisi chip. Klaim keliru.",
     "url": "https://cekfakta.example.org/vaksin-chip"},
    {"id": "bansos-wa", "title": "Pendaftaran bansos lewat tautan WhatsApp", "verdict": "PENIPUAN",
     "claim": "Daftar bansos di tautan ini", "summary": "Tautan itu mencuri data.",
     "url": "https://cekfakta.example.org/bansos-wa"},
    {"id": "banjir-video", "title": "Video banjir Jakarta 2025", "verdict": "MENYESATKAN",
     "claim": "Video banjir hari ini", "summary": "Video lama dari 2020.",
     "url": "https://cekfakta.example.org/banjir-video"},
    {"id": "draft-claim", "title": "Belum terbit", "verdict": "HOAKS", "claim": "x",
     "summary": "x", "url": "https://cekfakta.example.org/draft", "status": "draft"},
]


class FakeSearcher:
    """Answers every query with a fixed decision and ranking, and records what it was asked."""

    def __init__(self, decision="no_match", ids=(), fail=False):
        self.decision, self.ids, self.fail = decision, list(ids), fail
        self.queries, self.embedded = [], []

    def search(self, text, k=5, embed=True):
        self.queries.append((text, k))
        self.embedded.append(embed)
        if self.fail:
            raise RuntimeError("index unavailable")
        matches = [Match(id=i, score=round(0.9 - n * 0.1, 2)) for n, i in enumerate(self.ids)]
        return SearchResult(self.decision, matches[:k])


@pytest.fixture
def library(app):
    with app.app_context(), session_scope() as session:
        for row in CLAIMS:
            save_claim(session, row)
    return app


def ask(app, searcher, text, sender=NUMBER, **message):
    with app.app_context():
        return respond(get_session(), searcher, text=text, sender_key=sender,
                       channel=message.pop("channel", "whatsapp"), **message)


def log_rows(app):
    with app.app_context():
        return get_session().scalars(select(RequestLog).order_by(RequestLog.id)).all()


def test_a_clear_match_answers_with_the_fact_check_and_logs_it(library):
    searcher = FakeSearcher("match", ["vaksin-chip", "bansos-wa"])
    reply = ask(library, searcher, "vaksin chip")
    assert reply.decision == "match" and reply.claim_id == "vaksin-chip"
    assert reply.text.startswith("❌ *HOAKS*\n*Vaksin COVID-19 mengandung chip pelacak*")
    assert "https://cekfakta.example.org/vaksin-chip" in reply.text
    assert reply.score == pytest.approx(0.9)
    [row] = log_rows(library)
    key = library.config["SENDER_HASH_KEY"].encode()
    assert row.sender_hash == hmac.new(key, NUMBER.encode(), hashlib.sha256).hexdigest()
    assert (row.text, row.decision, row.claim_id, row.status) == (
        "vaksin chip", "match", "vaksin-chip", "answered")
    assert row.reply == reply.text and row.elapsed_ms >= 0 and row.lang == "id"


def test_no_match_is_logged_open_for_the_editors(library):
    reply = ask(library, FakeSearcher("no_match", ["banjir-video"]), "harga cabai naik")
    assert reply.decision == "no_match" and reply.claim_id is None
    assert "belum punya cek fakta" in reply.text
    [row] = log_rows(library)
    assert row.status == "open" and row.score == pytest.approx(0.9)


def test_choices_then_a_digit_gives_that_fact_check(library):
    searcher = FakeSearcher("choices", ["banjir-video", "vaksin-chip", "bansos-wa"])
    listing = ask(library, searcher, "video viral")
    assert listing.decision == "choices"
    assert "1. ⚠️ *MENYESATKAN* · Video banjir Jakarta 2025" in listing.text
    assert "3. 🚨 *PENIPUAN* · Pendaftaran bansos lewat tautan WhatsApp" in listing.text
    assert "Balas 1, 2 atau 3" in listing.text

    picked = ask(library, searcher, "2")
    assert picked.decision == "choice" and picked.claim_id == "vaksin-chip"
    assert picked.text.startswith("❌ *HOAKS*")
    assert ask(library, searcher, "3️⃣").claim_id == "bansos-wa"  # the list stays valid
    assert len(searcher.queries) == 1  # digits are never searched

    again = ask(library, searcher, "7")
    assert again.decision == "choices" and "Balas 1, 2 atau 3" in again.text


def test_zero_means_none_of_these_and_queues_the_question(library):
    searcher = FakeSearcher("choices", ["banjir-video", "vaksin-chip"])
    listing = ask(library, searcher, "video viral")
    assert "Balas *0*" in listing.text
    none = ask(library, searcher, "0")
    assert none.decision == "choice_none" and "redaksi" in none.text
    with library.app_context(), session_scope() as session:
        rows = session.scalars(select(RequestLog).order_by(RequestLog.id)).all()
    assert [(r.text, r.status) for r in rows] == [("video viral", "open"), ("0", "answered")]
    assert ask(library, searcher, "1").decision == "choice_expired"  # the list is closed


def test_choices_expire(library):
    searcher = FakeSearcher("choices", ["banjir-video", "vaksin-chip"])
    ask(library, searcher, "video viral")
    with library.app_context(), session_scope() as session:
        session.execute(update(SenderState).values(
            choices_at=utcnow() - CHOICE_TTL - timedelta(minutes=1)))
    reply = ask(library, searcher, "1")
    assert reply.decision == "choice_expired" and "tidak berlaku" in reply.text


def test_a_digit_with_no_list_is_not_searched(library):
    searcher = FakeSearcher("match", ["vaksin-chip"])
    assert ask(library, searcher, "1").decision == "choice_expired"
    assert searcher.queries == []


def test_choices_belong_to_one_sender(library):
    ask(library, FakeSearcher("choices", ["banjir-video", "vaksin-chip"]), "video viral")
    other = ask(library, FakeSearcher(), "1", sender="whatsapp:+6289999999999")
    assert other.decision == "choice_expired"


def test_missing_and_unpublished_ids_are_skipped(library):
    searcher = FakeSearcher("choices", ["gone", "draft-claim", "bansos-wa", "banjir-video"])
    reply = ask(library, searcher, "bansos")
    listed = [line for line in reply.text.splitlines() if line[:1].isdigit()]
    assert listed[0].endswith("Pendaftaran bansos lewat tautan WhatsApp")
    assert len(listed) == 2 and "Belum terbit" not in reply.text


def test_a_match_whose_claim_was_retired_falls_back_to_choices(library):
    with library.app_context(), session_scope() as session:
        set_status(session, "vaksin-chip", "retired")
    reply = ask(library, FakeSearcher("match", ["vaksin-chip", "banjir-video"]), "vaksin")
    assert reply.decision == "choices" and "Vaksin" not in reply.text


def test_a_match_with_nothing_left_is_no_match(library):
    reply = ask(library, FakeSearcher("match", ["gone"]), "vaksin")
    assert reply.decision == "no_match"


@pytest.mark.parametrize(
    "text, decision, lang, marker",
    [
        ("halo", "greeting", "id", "layanan cek fakta"),
        ("Selamat pagi min 🙏", "greeting", "id", "layanan cek fakta"),
        ("assalamualaikum", "greeting", "id", "layanan cek fakta"),
        ("p", "greeting", "id", "layanan cek fakta"),
        ("hello", "greeting", "en", "fact-check service"),
        ("Good morning!", "greeting", "en", "fact-check service"),
        ("menu", "menu", "id", "Cara memakai"),
        ("bantuan", "help", "id", "Arti label"),
        ("help", "help", "en", "What the labels mean"),
        ("makasih kak", "thanks", "id", "Sama-sama"),
        ("thank you", "thanks", "en", "You're welcome"),
        ("👍", "thanks", "id", "Sama-sama"),
        ("min, ini benar gak?", "unclear", "id", "Pesan mana yang ingin Anda cek?"),
        ("is this true?", "unclear", "en", "Which message would you like us to check?"),
    ],
)
def test_commands_get_fixed_answers_without_a_search(library, text, decision, lang, marker):
    searcher = FakeSearcher("match", ["vaksin-chip"])
    reply = ask(library, searcher, text)
    assert (reply.decision, reply.lang) == (decision, lang)
    assert marker in reply.text
    assert searcher.queries == []
    assert log_rows(library)[0].status == "answered"


@pytest.mark.parametrize(
    "media_types, caption, decision, marker",
    [
        (("image/jpeg",), "", "media_only", "membaca gambar"),
        (("audio/ogg",), "  ", "media_only", "pesan suara"),
        (("video/mp4",), "🎥", "media_only", "menonton video"),
        (("image/jpeg",), "vaksin chip", "match", "*HOAKS*"),
    ],
)
def test_attachments_without_a_caption_ask_for_text(library, media_types, caption, decision,
                                                    marker):
    searcher = FakeSearcher("match", ["vaksin-chip"])
    reply = ask(library, searcher, caption, num_media=len(media_types), media_types=media_types)
    assert reply.decision == decision and marker in reply.text
    asked = hoaxes.candidates(3) + EXTRA_CANDIDATES  # SEARCH_K 3: room for groups that collapse
    assert searcher.queries == ([("vaksin chip", asked)] if decision == "match" else [])


@pytest.mark.parametrize(
    "body",
    ["", "   ", "\x00\x01\x02", "\ud800", None, "…", "a" * 50_000, "kata " * 20_000 + "\x00"],
    ids=["empty", "spaces", "control", "surrogate", "none", "punctuation", "huge", "huge_words"],
)
def test_broken_messages_still_get_a_polite_reply(library, body):
    searcher = FakeSearcher("no_match")
    reply = ask(library, searcher, body)
    assert reply.text and wa_len(reply.text) <= MAX_CHARS
    [row] = log_rows(library)
    assert len(row.text) <= MAX_TEXT_CHARS and "\x00" not in row.text
    for text, _ in searcher.queries:
        assert len(text) <= MAX_TEXT_CHARS


def test_a_failing_search_still_answers_and_queues_the_request(library):
    reply = ask(library, FakeSearcher(fail=True), "vaksin chip")
    assert reply.decision == "error" and "bermasalah" in reply.text
    assert log_rows(library)[0].status == "open"


def test_a_replayed_message_sid_gets_the_same_reply_and_one_log_line(library):
    searcher = FakeSearcher("match", ["vaksin-chip"])
    first = ask(library, searcher, "vaksin chip", message_sid="SM" + "1" * 32)
    searcher.ids = ["bansos-wa"]  # even if the library changed in between
    second = ask(library, searcher, "vaksin chip", message_sid="SM" + "1" * 32)
    assert second.text == first.text and second.claim_id == "vaksin-chip"
    assert len(log_rows(library)) == 1 and len(searcher.queries) == 1


def test_the_sender_language_is_remembered_for_digits_and_keywords(library):
    searcher = FakeSearcher("choices", ["banjir-video", "vaksin-chip"])
    listing = ask(library, searcher, "is it true that this video is from today?")
    assert listing.lang == "en" and "Reply 1 or 2" in listing.text
    picked = ask(library, searcher, "1")
    assert picked.lang == "en" and picked.text.startswith("⚠️ *MISLEADING*")
    searcher.decision = "no_match"
    assert ask(library, searcher, "tesla cybertruck").lang == "en"  # no clue: the last language
    assert ask(library, searcher, "apakah ini benar?").lang == "id"
    assert ask(library, searcher, "tesla cybertruck").lang == "id"


def test_clear_keywords_decide_the_language_whatever_came_before(library):
    """Keywords have no marker words; the library's words tell "vaksin chip" is Indonesian."""
    searcher = FakeSearcher("no_match")
    assert ask(library, searcher, "is it true that this video is from today?").lang == "en"
    reply = ask(library, searcher, "vaksin chip pelacak")
    assert reply.lang == "id" and reply.text.startswith("Maaf")
    assert ask(library, searcher, "is this true?").lang == "en"
    assert ask(library, searcher, "banjir jakarta").lang == "id"


def test_the_library_words_follow_its_changes_and_are_first_read_from_the_newest(library, monkeypatch):
    """Keywords in English words only the library knows are English once a fact-check holds them;
    the words are read from the newest fact-checks first, then only from what changed."""
    from tipline import conversation

    def english(title):
        return {"id": title.split()[0].lower(), "title": title, "claim": title, "verdict": "false",
                "lang": "en", "url": "https://example.org/" + title.split()[0].lower()}

    searcher = FakeSearcher("no_match")
    with library.app_context(), session_scope() as session:
        save_claim(session, english("Kangaroo boxing championship hoax"))
    monkeypatch.setattr(conversation, "LIBRARY_WORDS_FROM", 1)
    conversation._WORDS_CACHE.clear()  # a worker just started: reads the newest fact-check only
    assert ask(library, searcher, "kangaroo boxing", sender="whatsapp:+62811").lang == "en"
    with library.app_context(), session_scope() as session:
        save_claim(session, english("Koala wrestling festival hoax"))
    # The library moved on: the newest fact-check's words join what was read.
    assert ask(library, searcher, "koala wrestling", sender="whatsapp:+62812").lang == "en"
    assert ask(library, searcher, "kangaroo boxing", sender="whatsapp:+62813").lang == "en"
    conversation._WORDS_CACHE.clear()  # a worker started now reads the newest one only
    assert ask(library, searcher, "kangaroo boxing", sender="whatsapp:+62814").lang == "id"
    assert ask(library, searcher, "koala wrestling", sender="whatsapp:+62815").lang == "en"


@pytest.mark.parametrize("asked, text, lang", [("en", "vaksin chip pelacak", "en"),
                                               ("id", "is it true that this video is from today?", "id"),
                                               (None, "is it true that this video is from today?", "en")])
def test_the_language_the_asker_chose_wins(library, asked, text, lang):
    assert ask(library, FakeSearcher("no_match"), text, channel="web", sender="web:s1",
               reply_lang=asked).lang == lang


def test_web_and_whatsapp_senders_are_stored_only_as_hashes(library):
    ask(library, FakeSearcher("choices", ["banjir-video", "vaksin-chip"]), "apa ini benar")
    with library.app_context():
        session = get_session()
        states = session.scalars(select(SenderState)).all()
        rows = session.scalars(select(RequestLog)).all()
    assert [len(s.sender_hash) for s in states] == [64]
    assert all(NUMBER not in (r.sender_hash + r.text + r.reply) for r in rows)


def test_messages_are_searched_by_keywords_alone_while_others_wait_for_a_worker(library):
    """QUICK_WHEN_WAITING against a real listening socket with connections queued on it."""
    import socket
    import time

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    parts(library).backlog.watch([listener])
    library.config["QUICK_WHEN_WAITING"] = 2
    searcher = FakeSearcher("choices", ["vaksin-chip"])
    queued = []
    try:
        ask(library, searcher, "vaksin chip")
        queued.append(socket.create_connection(listener.getsockname()))
        ask(library, searcher, "vaksin chip", sender="web:one", channel="web")
        queued.append(socket.create_connection(listener.getsockname()))
        time.sleep(0.05)
        ask(library, searcher, "vaksin chip", sender="web:two", channel="web")
        library.config["QUICK_WHEN_WAITING"] = 0  # 0: always embed
        ask(library, searcher, "vaksin chip", sender="web:three", channel="web")
    finally:
        for sock in queued + [listener]:
            sock.close()
    assert searcher.embedded == [True, True, False, True]
