"""Reading the words in a picture: Tesseract (Indonesian and English) and what it gets wrong.

Screenshots of chats are the common case: a bubble of text between the app's own words
("Diteruskan", a time, ticks, "Ketik pesan"). `prepare` makes a screenshot easy for Tesseract
(grey, dark mode turned light, a readable size); `clean_ocr` drops the chat's chrome and joins
the lines a bubble broke. Pictures that are not screenshots (memes, news cards, photos of a
screen) get a second reading for light letters on a photo (`light_text`). `python
bench/screenshots.py` measures each kind.
"""

from __future__ import annotations

import os
import re
import time

import pytesseract
import numpy as np
from PIL import Image, ImageFilter, ImageOps, ImageStat

# Tesseract's OpenMP threads would fight the web workers for the same cores: one each.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

LANGUAGES = "ind+eng"
MIN_WIDTH = 1000  # narrower screenshots are scaled up: small letters are Tesseract's worst case
MAX_SIDE = 2600  # a camera photo is scaled down: more pixels cost time and add nothing
TEXT_CHARS = 2000
# light_text's ink: near-white (every channel above LIGHT_LEVEL) and nearly colourless.
LIGHT_LEVEL = 175
LIGHT_CHROMA = 45
# screen_like: the share of a picture its five commonest colours (of 64) cover: chat screenshots
# 0.97 and more, memes 0.9 and less, news cards 0.94 and less (bench/screenshots.py's pictures).
SCREEN_SHARE = 0.95
MAX_TILT = 12  # degrees deskew looks either way

# Lines a chat app draws around a message: its words, never the sender's.
_CHROME_LINE = re.compile(
    r"^(?:diteruskan(?: berkali-kali)?|pesan diteruskan|forwarded(?: many times)?|"
    r"hari ini|kemarin|today|yesterday|online|daring|mengetik\W*|typing\W*|"
    r"ketik pesan|type a message|pesan|message|balas|reply|teruskan|forward|salin|copy|"
    r"pesan ini telah dihapus|this message was deleted|"
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|"  # a date alone
    r"(?:senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday))$",
    re.IGNORECASE)
_TIME = r"\d{1,2}[.:]\d{2}(?:\s*[ap]\.?m\.?)?"
_TICKS = r"(?:\s*[✓✔vVIl|/0oOJW4]{1,3})?"  # the ticks after a time, as Tesseract misreads them
_TIME_LINE = re.compile(rf"^[\W_]*{_TIME}{_TICKS}[\W_]*$", re.IGNORECASE)
_STATUS_BAR = re.compile(rf"^{_TIME}\b.*(?:%|\b[45]G\b|\bLTE\b|\bVoLTE\b|\bH\+)", re.IGNORECASE)
# The time and ticks that end a bubble ("18.46 vv", "08.38 II").
_TRAILING_TIME = re.compile(rf"\s+{_TIME}{_TICKS}\W{{0,3}}$", re.IGNORECASE)
_FORWARDED = re.compile(r"^\W*(?:diteruskan|forwarded)\b", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_END = re.compile(r"[.!?…:\"”)]$")
_WORD = re.compile(r"^[\"'“(]?[^\W\d_]{3,}[.,!?:;\"'”)]*$")
_VOWEL = re.compile(r"[aiueoAIUEO]")


class OcrFailed(Exception):
    """Tesseract could not read the picture (missing, timed out, or broke)."""


def _readable_size(image: Image.Image) -> Image.Image:
    """Scale a picture to a size Tesseract reads well: narrow ones up, camera photos down."""
    longest = max(image.size)
    if longest > MAX_SIDE:
        ratio = MAX_SIDE / longest
    elif image.width < MIN_WIDTH:
        ratio = min(2.0, MIN_WIDTH / image.width)
    else:
        return image
    return image.resize((round(image.width * ratio), round(image.height * ratio)), Image.LANCZOS)


def prepare(image: Image.Image) -> Image.Image:
    """Make a phone screenshot easy to read: grey, a readable size, dark mode turned light."""
    gray = ImageOps.grayscale(image)
    dark = ImageStat.Stat(gray).mean[0] < 110  # dark mode: light letters on a dark screen
    gray = _readable_size(gray)
    if dark:
        return _local_threshold(ImageOps.invert(gray))
    return ImageOps.autocontrast(gray, cutoff=1)


def _local_threshold(gray: Image.Image, radius: int = 20, offset: int = 12) -> Image.Image:
    """Black where a pixel is darker than its neighbourhood, white elsewhere.

    A dark-mode bubble is a mid grey once inverted, between the screen and the letters: one
    threshold for the whole picture (Tesseract's own) turns bubble and letters black together.
    """
    pixels = np.asarray(gray, dtype=np.int16)
    around = np.asarray(gray.filter(ImageFilter.BoxBlur(radius)), dtype=np.int16)
    return Image.fromarray(np.where(pixels < around - offset, 0, 255).astype(np.uint8))


def light_text(image: Image.Image) -> Image.Image:
    """Make the light letters of a picture black on white, and everything else white.

    Memes write their caption in white capitals with a black outline over a photo, news cards in
    white on a coloured band: for `prepare` and Tesseract the photo is the page and the letters
    are lost in it. Here only near-white, colourless pixels are kept, as ink.
    """
    pixels = np.asarray(_readable_size(image.convert("RGB")), dtype=np.int16)
    low, high = pixels.min(axis=2), pixels.max(axis=2)
    ink = (low > LIGHT_LEVEL) & (high - low < LIGHT_CHROMA)
    return Image.fromarray(np.where(ink, 0, 255).astype(np.uint8))


def screen_like(image: Image.Image) -> bool:
    """Say whether a picture looks like a phone's screen: five flat colours cover nearly all of it.

    A chat screenshot is its background, its bubbles and its bars; a photo (a meme's, a news
    card's, a camera's) spreads over many colours.
    """
    small = image.convert("RGB")
    small.thumbnail((200, 200))
    colours = (np.asarray(small, dtype=np.uint8) // 64).reshape(-1, 3)  # 64 shades in all
    _, counts = np.unique(colours, axis=0, return_counts=True)
    return bool(np.sort(counts)[::-1][:5].sum() / counts.sum() >= SCREEN_SHARE)


def deskew(gray: Image.Image) -> Image.Image:
    """Turn a tilted picture of text upright (a phone's photo of another screen, say).

    The angle is the one at which the letters' rows line up best: the rows of ink (pixels darker
    than their neighbourhood) are summed at each angle on a small copy, and the most uneven sums
    win. Tilts under a degree are left alone.
    """
    small = gray.copy()
    small.thumbnail((500, 500))
    pixels = np.asarray(small, dtype=np.int16)
    around = np.asarray(small.filter(ImageFilter.BoxBlur(8)), dtype=np.int16)
    ink = Image.fromarray(((pixels < around - 25) * 255).astype(np.uint8))
    best, angle = -1.0, 0.0
    for degrees in np.arange(-MAX_TILT, MAX_TILT + 0.01, 0.5):
        rows = np.asarray(ink.rotate(float(degrees), resample=Image.NEAREST), dtype=np.float32).sum(axis=1)
        spread = float(np.var(rows))
        if spread > best:
            best, angle = spread, float(degrees)
    if abs(angle) < 1:
        return gray
    return gray.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)


def word_count(text: str) -> int:
    """Count what reads as words in OCR output: three letters or more, with a vowel."""
    return sum(1 for token in text.split() if _WORD.match(token) and _VOWEL.search(token))


def _tesseract(image: Image.Image, timeout: float) -> str:
    try:
        return pytesseract.image_to_string(image, lang=LANGUAGES, config="--psm 3", timeout=timeout)
    except pytesseract.TesseractNotFoundError:
        raise OcrFailed("Tesseract is not installed (apt-get install tesseract-ocr "
                        "tesseract-ocr-ind tesseract-ocr-eng)") from None
    except (RuntimeError, pytesseract.TesseractError) as exc:  # RuntimeError: the timeout
        raise OcrFailed(f"Tesseract failed: {exc}") from None


def read_text(image: Image.Image, timeout: float = 10.0) -> str:
    """Give the raw text Tesseract reads in a picture.

    Every picture is turned upright (`deskew`: a phone's photo of another screen) after
    `prepare`. One that is not a screenshot is read a second time for light letters
    (`light_text`: memes, news cards), and the reading with more words wins. Both readings share
    the timeout.
    """
    started = time.monotonic()
    text = _tesseract(deskew(prepare(image)), timeout)
    if screen_like(image):
        return text
    left = timeout - (time.monotonic() - started)
    if left <= 0.5:
        return text
    try:
        other = _tesseract(light_text(image), left)
    except OcrFailed:
        return text
    return other if word_count(other) > word_count(text) else text


def _chrome(line: str) -> bool:
    core = line.strip(" \t-–—•·|»«>*_~")
    if len(_LETTER.findall(core)) < 2 and not re.search(r"\d{3,}", core):
        return True  # a tick, an icon read as a letter, a lone number
    return bool(_CHROME_LINE.match(core) or _TIME_LINE.match(core) or _STATUS_BAR.match(core))


def clean_ocr(text: str) -> str:
    """Turn Tesseract's lines into the message's text: no chat chrome, broken lines joined."""
    lines = (text or "").replace("\r", "").split("\n")
    marks = [n for n, line in enumerate(lines) if _FORWARDED.match(line.strip())]
    if marks:  # above the first "Diteruskan" is the app's header (the chat's name), not the message
        lines = lines[marks[0]:]
    paragraphs, current = [], []
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            if current:
                paragraphs.append(current)
                current = []
            continue
        if _chrome(line):
            continue
        line = _TRAILING_TIME.sub("", line).strip()
        if line:
            current.append(line)
    if current:
        paragraphs.append(current)
    out = []
    for lines in paragraphs:
        joined = lines[0]
        for line in lines[1:]:
            if joined.endswith("-") and line[:1].islower():  # a word the bubble split
                joined = joined[:-1] + line
            else:
                joined += " " + line
        out.append(joined)
    # A bubble's lines are one paragraph even when Tesseract saw a gap between them: join
    # paragraphs unless the first ends a sentence.
    merged: list[str] = []
    for paragraph in out:
        if merged and not _SENTENCE_END.search(merged[-1]) and paragraph[:1].islower():
            merged[-1] += " " + paragraph
        else:
            merged.append(paragraph)
    return "\n".join(merged)[:TEXT_CHARS].strip()
