"""WhatsApp text arithmetic: lengths as Twilio counts them, cutting and cleaning to fit.

Nothing here knows what the tipline says (tipline/replies.py): only how a text must be shaped
to travel as one WhatsApp message.
"""

import html
import re
import unicodedata

from markupsafe import Markup, escape

MAX_CHARS = 1600  # Twilio refuses longer WhatsApp bodies.
ELLIPSIS = "…"

# Control characters break TwiML (XML 1.0 forbids them) and mean nothing in a chat.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?…](?=\s)")

# WhatsApp's formatting, matched in text already HTML-escaped (escaping turns only punctuation
# into entities ending in ";", so the boundaries below read the same): a marker has a non-space
# inside next to it and no letter or digit outside; bold, italic and strike stay on one line.
# Links stop at an escaped quote or angle bracket and leave trailing punctuation out.
_SPANS = re.compile(
    r"(?P<url>https?://(?:[^\s&]|&amp;)*(?:[^\s&.,;:!?)\]]|&amp;))"
    r"|```(?P<mono>(?:(?!```).)+?)```"
    r"|(?<![^\W_])(?P<mark>[*_~])(?=[^\s])(?P<inner>[^\n]*?[^\s])(?P=mark)(?![^\W_])",
    re.DOTALL)
_TAGS = {"*": "strong", "_": "em", "~": "s"}


def wa_len(text: str) -> int:
    """Length as Twilio counts it: UTF-16 code units (an emoji can count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    """Cut to at most `limit` UTF-16 units without splitting a character."""
    if wa_len(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > limit:
            break
        out.append(char)
        used += size
    return "".join(out)


def shorten(text: str, limit: int) -> str:
    """Squeeze whitespace and trim to `limit`, at a sentence end if one is near, else a word."""
    text = _SPACES.sub(" ", CONTROL.sub(" ", text or "")).strip()
    if wa_len(text) <= limit:
        return text
    if limit < 2:
        return ""
    head = _cut(text, limit - 1)  # room for the ellipsis
    sentence_ends = [
        m.end() for m in _SENTENCE_END.finditer(text[: len(head) + 1])
        if wa_len(head[: m.end()]) <= limit - 2
    ]
    if sentence_ends and sentence_ends[-1] >= limit // 2:
        return head[: sentence_ends[-1]] + " " + ELLIPSIS
    if not text[len(head)].isspace():  # the cut fell inside a word: drop that word
        space = head.rfind(" ")
        if space >= limit // 2:
            head = head[:space]
    return head.rstrip(" ,;:-–—") + ELLIPSIS


def fit(text: str, limit: int = MAX_CHARS) -> str:
    """Clean a reply and make sure it fits in one WhatsApp message."""
    text = CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()
    if wa_len(text) <= limit:
        return text
    head = _cut(text, limit - 1)
    space = max(head.rfind(" "), head.rfind("\n"))
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def _render(escaped: str, markup: bool) -> str:
    out, last = [], 0
    for found in _SPANS.finditer(escaped):
        out.append(escaped[last:found.start()])
        if found["url"]:
            url = found["url"]
            out.append(f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">{url}</a>'
                       if markup else url)
        elif found["mono"] is not None:
            out.append(f"<code>{found['mono']}</code>" if markup else found["mono"])
        else:
            inner = _render(found["inner"], markup)
            tag = _TAGS[found["mark"]]
            out.append(f"<{tag}>{inner}</{tag}>" if markup else inner)
        last = found.end()
    out.append(escaped[last:])
    return "".join(out)


def to_html(text: str) -> Markup:
    """Render a message as WhatsApp shows it: *bold*, _italic_, ~strike~, ```mono``` and links.

    The text is escaped first; only the tags above are added, so nothing in it runs. The web
    chat and the editors' preview both show replies through this one function.
    """
    return Markup(_render(str(escape(text or "")), markup=True))


def plain(text: str) -> str:
    """Remove the format marks WhatsApp would act on from text we did not write (titles).

    Marks WhatsApp leaves as they are stay: "{{7*7}}" keeps its star, "*HOAKS*" loses both.
    """
    return html.unescape(_render(str(escape(text or "")), markup=False))
