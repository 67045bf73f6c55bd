"""tipline/ocr.py: screenshots prepared for Tesseract, and what it reads cleaned of chat chrome."""

import random

import pytest
from PIL import Image

from bench.screenshots import FONTS, screenshot
from claims.images import open_image
from tipline.ocr import MAX_SIDE, MIN_WIDTH, clean_ocr, prepare, read_text


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
