"""What a WhatsApp message carries besides text: Twilio's media, fetched and read.

Twilio posts `MediaUrl0…` and `MediaContentType0…`; the media sit behind the account's
credentials on Twilio's API host (which redirects to its CDN). Only pictures are fetched, within
a size cap and a timeout, and only from that host: the credentials go nowhere else.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from claims.images import UnreadableImage, image_hash, open_image

from .fetch import Fetched, FetchFailed, FetchRefused, SafeFetcher
from .ocr import OcrFailed, clean_ocr, read_text
from .threads import Threads

TWILIO_API = "https://api.twilio.com"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # WhatsApp sends pictures of 5 MB at most
MEDIA_TIMEOUT = 4.0  # with OCR_TIMEOUT, well inside the 15 s Twilio waits for the reply


class MediaUnavailable(Exception):
    """A picture that could not be fetched or read."""


@dataclass(frozen=True)
class Attachment:
    """One attachment of a message as Twilio describes it."""

    url: str
    content_type: str

    @property
    def kind(self) -> str:
        """Name its kind: "image", "audio", "video" or "other"."""
        main = self.content_type.split("/", 1)[0].lower()
        return main if main in ("image", "audio", "video") else "other"


@dataclass(frozen=True)
class Picture:
    """A picture fetched from Twilio: its hash, and (once read) its words."""

    hash: str
    image: object  # PIL.Image.Image, RGB
    fetch_ms: float


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


class MediaReader:
    """Fetches a message's pictures from Twilio and reads their words."""

    def __init__(self, fetcher: SafeFetcher, account_sid: str, auth_token: str, api_base: str = "",
                 max_bytes: int = MAX_IMAGE_BYTES, timeout: float = MEDIA_TIMEOUT,
                 ocr_timeout: float = 8.0):
        self.fetcher, self.max_bytes, self.timeout = fetcher, max_bytes, timeout
        self.ocr_timeout = ocr_timeout
        self.origin = _origin((api_base or TWILIO_API).rstrip("/"))
        token = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._auth = {"Authorization": f"Basic {token}"}

    def fetch(self, attachment: Attachment) -> Picture:
        """Fetch one picture from Twilio and hash it; MediaUnavailable when it cannot be had."""
        if attachment.kind != "image" or attachment.content_type.lower() not in IMAGE_TYPES:
            raise MediaUnavailable(f"not a picture type that is read: {attachment.content_type}")
        try:
            if _origin(attachment.url) != self.origin:
                raise MediaUnavailable("the media URL is not on Twilio's API host")
        except ValueError:
            raise MediaUnavailable("the media URL is not a URL") from None
        started = time.perf_counter()
        try:
            got: Fetched = self.fetcher.fetch(
                attachment.url, accept=IMAGE_TYPES, headers=self._auth, auth_origin=self.origin,
                over_cap="refuse", max_bytes=self.max_bytes, timeout=self.timeout)
            image = open_image(got.body)
        except (FetchFailed, FetchRefused, UnreadableImage) as exc:
            raise MediaUnavailable(str(exc)) from None
        return Picture(image_hash(image), image, (time.perf_counter() - started) * 1000)

    def words(self, picture: Picture) -> str:
        """Give the cleaned words in a picture ("" when there are none)."""
        try:
            return clean_ocr(read_text(picture.image, timeout=self.ocr_timeout))
        except OcrFailed as exc:
            raise MediaUnavailable(str(exc)) from None


class ReadingQueue(Threads):
    """Reads pictures one at a time on a thread of this process.

    Tesseract wants a core: two at once in one worker would only slow both. The webhook waits
    for its picture up to `OCR_WAIT` seconds; past that it answers at once and the words are
    searched and sent when they are read (tipline/conversation.py).
    """

    def __init__(self):
        super().__init__(1, "pictures")
