"""Pictures as the library remembers them: a perceptual hash, never the picture itself.

A forwarded picture comes back recompressed, resized or with a thin border; its bytes change,
its 64-bit perceptual hash (pHash, imagehash) barely does. Two hashes a few bits apart are the
same picture for the tipline.
"""

from __future__ import annotations

import io
import re

import imagehash
from PIL import Image, UnidentifiedImageError

from claims.errors import N_, InvalidClaim

HASH_RE = re.compile(r"^[0-9a-f]{16}$")
# Bits out of 64 by which two hashes of one picture may differ (JPEG at another quality, a
# resize, a screenshot of the screenshot); unrelated pictures differ by about 32.
SAME_PICTURE_BITS = 8
# Larger pictures are refused before decoding: a small file can claim a huge canvas.
MAX_PIXELS = 40_000_000


class UnreadableImage(ValueError):
    """Bytes that are not a picture PIL can read, or one too large to decode."""


def open_image(data: bytes) -> Image.Image:
    """Decode a picture's bytes (JPEG, PNG, WebP, GIF's first frame) into RGB."""
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise UnreadableImage(f"the picture is {width}×{height} pixels, too large to read")
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, UnreadableImage):
            raise
        raise UnreadableImage(f"not a picture that can be read ({exc})") from None
    return image.convert("RGB")


def image_hash(image: Image.Image | bytes) -> str:
    """Give a picture's perceptual hash as 16 hex digits."""
    if isinstance(image, (bytes, bytearray)):
        image = open_image(bytes(image))
    return str(imagehash.phash(image))


def hash_distance(first: str, second: str) -> int:
    """Count the bits in which two hashes differ."""
    return (int(first, 16) ^ int(second, 16)).bit_count()


def clean_hash(value: object, name: str = "appearances") -> str:
    """Give a stored hash in its one form (16 lowercase hex digits); InvalidClaim otherwise."""
    text = str(value or "").strip().lower()
    if not HASH_RE.match(text):
        raise InvalidClaim(name, N_("an image hash must be 16 hex digits, got %(value)s"),
                           value=repr(text[:40]))
    return text
