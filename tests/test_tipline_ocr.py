"""tipline/ocr.py: screenshots prepared for Tesseract, and what it reads cleaned of chat chrome."""

import random

import pytest
from PIL import Image

from bench.screenshots import FONTS, picture, screenshot
from claims.images import open_image
from tipline.ocr import (MAX_SIDE, MIN_WIDTH, _tesseract, clean_ocr, deskew, light_text, prepare,
                         read_text, screen_like, word_count)


@pytest.mark.parametrize("raw, clean", [
    # the chat's name, the forwarded mark, the time and ticks, the typing bar
    ("4G 13%\n\nKeluarga Besar\n\nDiteruskan\nVaksin covid ada\nchipnya, jangan mau\ndivaksin!\n14.32 vv\n\nKetik pesan\n",
     "Vaksin covid ada chipnya, jangan mau divaksin!"),
    ("Forwarded many times\nThe vaccine has a chip 09:12 PM ✓✓", "The vaccine has a chip"),
    ("Bantuan tunai Rp 3.500.000 utk semua war-\nga yg punya KTP", "Bantuan tunai Rp 3.500.000 utk semua warga yg punya KTP"),
    ("Awas penipuan.\n\nJangan klik tautan", "Awas penipuan.\nJangan klik tautan"),
    ("Jangan klik\n\ntautan itu", "Jangan klik tautan itu"),  # one bubble, a gap Tesseract saw
    ("Hari ini\n08.15\nRapat pukul 10.00 WIB di balai desa", "Rapat pukul 10.00 WIB di balai desa"),
    ("| — ~\n@ 8\n\n", ""),
    ("", ""),
])
def test_chat_chrome_is_dropped_and_broken_lines_joined(raw, clean):
    assert clean_ocr(raw) == clean


def test_dark_mode_is_turned_light_and_sizes_made_readable():
    dark = prepare(Image.new("RGB", (600, 900), (11, 20, 26)))
    assert dark.mode == "L" and dark.getpixel((5, 5)) > 200
    assert dark.width == MIN_WIDTH
    photo = prepare(Image.new("RGB", (4000, 3000), (240, 240, 240)))
    assert max(photo.size) == MAX_SIDE
    assert prepare(Image.new("RGB", (1200, 800), (240, 240, 240))).size == (1200, 800)


@pytest.mark.parametrize("font", sorted(FONTS))
def test_tesseract_reads_a_rendered_screenshot_in_every_bench_font(font):
    text = "Pesan berantai: minum air hangat membunuh virus corona di tenggorokan"
    words = clean_ocr(read_text(open_image(screenshot(text, random.Random(5), font=font))))
    assert "air hangat" in words.lower() and "corona" in words.lower()
    assert "Diteruskan" not in words and "Ketik pesan" not in words


MEME_TEXT = ("Air rebusan daun sirsak disebut menyembuhkan kanker dalam tiga hari tanpa kemoterapi "
             "menurut dokter terkenal")


def test_only_light_colourless_pixels_become_ink():
    image = Image.new("RGB", (1200, 600), (200, 40, 40))  # a red band
    image.paste((250, 250, 250), (100, 100, 300, 200))  # white letters' pixels
    image.paste((250, 230, 120), (400, 100, 600, 200))  # light but yellow: not ink
    image.paste((10, 10, 10), (700, 100, 900, 200))  # a black outline: not ink
    ink = light_text(image)
    assert ink.mode == "L" and ink.size == (1200, 600)
    assert ink.getpixel((200, 150)) == 0
    assert ink.getpixel((500, 150)) == ink.getpixel((800, 150)) == ink.getpixel((50, 50)) == 255


@pytest.mark.parametrize("kind, screen", [("chat", True), ("meme", False), ("card", False), ("photo", False)])
def test_screenshots_are_told_from_photos(kind, screen):
    data, _ = picture(kind, MEME_TEXT, random.Random(3))
    assert screen_like(open_image(data)) is screen


def test_word_count_counts_what_reads_as_words():
    assert word_count('Vaksin "covid" ini, BERBAHAYA! 5G ae na —_ «. 12345 xyzzq') == 4


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_meme_caption_is_read_whole(seed):
    data, _ = picture("meme", MEME_TEXT, random.Random(seed))
    words = clean_ocr(read_text(open_image(data))).lower()
    for word in ("sirsak", "kanker", "kemoterapi", "dokter"):
        assert word in words


def test_the_light_letter_reading_is_what_finds_a_meme_caption():
    # On this meme the reading for screenshots finds nothing at all over the photo.
    data, _ = picture("meme", MEME_TEXT, random.Random(2))
    image = open_image(data)
    assert "kanker" not in clean_ocr(_tesseract(prepare(image), 10)).lower()
    assert "kanker" in clean_ocr(read_text(image)).lower()


@pytest.mark.parametrize("tilt", [-8, 6])
def test_a_tilted_picture_is_turned_upright_before_it_is_read(tilt):
    text = "Pesan berantai: minum air hangat membunuh virus corona di tenggorokan"
    shot = open_image(screenshot(text, random.Random(5), font="DejaVu Sans"))
    tilted = prepare(shot).rotate(tilt, resample=Image.BICUBIC, expand=True, fillcolor=255)
    upright = deskew(tilted)
    assert upright.size != tilted.size  # turned back, not left as it was
    words = clean_ocr(_tesseract(upright, 10)).lower()
    assert "air hangat" in words and "tenggorokan" in words


def test_an_upright_picture_is_left_alone():
    shot = prepare(open_image(screenshot("Vaksin covid mengandung microchip", random.Random(2))))
    assert deskew(shot) is shot
