"""What the language tests share: the catalog, what the pages' code says, and the words of a page.

The catalog (translations/id/LC_MESSAGES/messages.po) maps English msgids to Indonesian. A page
rendered in one language must hold none of the other's catalog words: `foreign_words` finds them.
"""
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "id" / "LC_MESSAGES" / "messages.po"
# As README "Translations" runs `pybabel extract -k _l`: lazy_gettext is imported as _l.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}
_PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%%|\{\w+\}")
MIN_LETTERS = 4  # shorter pieces ("ms", "SID") are names or units in both languages


def catalog():
    """Read the Indonesian catalog."""
    with CATALOG.open("rb") as source:
        return read_po(source, locale="id")


def extracted() -> dict:
    """Give every message the pages' code says (msgid -> where), as `pybabel extract` finds it."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for path, line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.setdefault(message, []).append(f"{path}:{line}")
    return found


def pieces(text: str) -> list[str]:
    """Split a message at its placeholders into the pieces a rendered page shows verbatim."""
    return [p.strip(" .,:;()“”") for p in _PLACEHOLDER.split(text) if p.strip(" .,:;()“”")]


def words_of(language: str) -> set[str]:
    """Give the catalog's words in one language ("en": msgids, "id": translations), leaving out
    those both languages share ("Status", "WhatsApp") and pieces too short to tell."""
    shared, found = set(), {"en": set(), "id": set()}
    for message in catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        english = {p for text in ids for p in pieces(text)}
        indonesian = {p for text in strings for p in pieces(text)}
        shared |= english & indonesian
        found["en"] |= english
        found["id"] |= indonesian
    return {p for p in found[language] - shared if sum(c.isalpha() for c in p) >= MIN_LETTERS}


class _Visible(HTMLParser):
    """The text a person reads on a page: text nodes and the attributes read out or shown."""

    SHOWN = ("placeholder", "title", "aria-label", "alt", "label")
    SKIPPED = {"script", "style"}

    def __init__(self, skip_classes=()):
        super().__init__(convert_charrefs=True)
        self.parts, self.stack, self.skip_classes = [], [], set(skip_classes)

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        # An element marked in another language (the switch's "English") or a reply bubble
        # (WhatsApp words, in the message's language) is not the page's own wording.
        skip = tag in self.SKIPPED or "lang" in attributes and tag != "html" \
            or bool(classes & self.skip_classes)
        if tag not in ("input", "meta", "link", "br", "img", "hr", "source", "col", "wbr"):
            self.stack.append((tag, skip))
        if not (skip or self._skipping()):
            self.parts += [attributes[name] for name in self.SHOWN if attributes.get(name)]
            if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
                self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str, skip_classes=("bubble", "msg")) -> str:
    """Give what a person reads on a page, one piece a line (not scripts, not reply bubbles)."""
    parser = _Visible(skip_classes)
    parser.feed(html)
    return "\n".join(parser.parts)


def foreign_words(html: str, language: str) -> list[str]:
    """Give the catalog words of the other language that a page in `language` shows."""
    other = {"en": "id", "id": "en"}[language]
    text = visible_text(html)
    script = re.search(r'<script id="page-data" type="application/json">(.*?)</script>', html, re.S)
    if script:  # the chat page's script shows these words itself
        text += "\n" + "\n".join(_strings(json.loads(script.group(1)).get("words", {})))
    return sorted(word for word in words_of(other)
                  if re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
