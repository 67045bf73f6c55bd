"""The verdict vocabulary: the labels fact-checkers publish, mapped to a small set of codes.

Every claim stores a code (``false``, ``misleading``, …) for logic and the label exactly as it
was published (``verdict_raw``) for display. Newsrooms can add or override entries with a JSON
file named by the ``VERDICTS_FILE`` setting (see ``load_vocabulary``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from collections.abc import Mapping

from flask import current_app, has_app_context

EXTENSION_KEY = "factcheck.verdicts"
UNRATED = "unrated"

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Brackets and quotes carry no meaning in a label: "[SALAH]" is "SALAH".
_BRACKETS_RE = re.compile(r"[\[\](){}<>【】「」«»\"'“”‘’`]")
# Separators and trailing punctuation: "Half-True", "Pants on Fire!", "partly_true".
_PUNCT_RE = re.compile(r"[_\-–—.,!?:;*~#]+")
_GROUP_RE = re.compile(r"\[([^\]]*)\]|\(([^)]*)\)")
_SPACES_RE = re.compile(r"\s+")


class VocabularyError(ValueError):
    """A verdicts file that cannot be used."""


@dataclass(frozen=True)
class Verdict:
    """One verdict code with its reply labels, the published labels it absorbs, and an emoji."""

    code: str
    label_id: str
    label_en: str
    aliases: tuple[str, ...] = ()
    emoji: str = ""

    def label(self, lang: str = "id") -> str:
        """Return the label in Indonesian for ``lang`` "id", else in English."""
        return self.label_id if _is_indonesian(lang) else self.label_en


BUILTIN_VERDICTS: tuple[Verdict, ...] = (
    Verdict(
        "false", "HOAKS", "FALSE",
        (
            "hoaks", "hoax", "hoaxes", "salah", "keliru", "tidak benar", "palsu", "bohong",
            "berita bohong", "false", "fake", "fake news", "incorrect", "wrong", "pants on fire",
            "fabricated", "fabricated content", "konten palsu", "konten tiruan",
            "impostor content", "imposter content", "konten yang dimanipulasi",
            "konten dimanipulasi", "manipulated content", "manipulated", "altered", "doctored",
            "misattributed", "misinformasi", "misinformation", "not true", "false claim",
        ),
        "❌",
    ),
    Verdict(
        "disinformation", "DISINFORMASI", "DISINFORMATION",
        ("disinformasi", "disinformation", "disinfo"),
        "🚫",
    ),
    Verdict(
        "misleading", "MENYESATKAN", "MISLEADING",
        (
            "menyesatkan", "misleading", "konten yang menyesatkan", "konten menyesatkan",
            "misleading content", "konteks yang salah", "konten dengan konteks yang salah",
            "false context", "out of context", "missing context", "kurang konteks",
            "koneksi yang salah", "false connection", "miscaptioned", "outdated",
            "mostly false", "exaggerated", "cherry picks", "spins the facts",
        ),
        "⚠️",
    ),
    Verdict(
        "scam", "PENIPUAN", "SCAM",
        ("penipuan", "scam", "fraud", "phishing", "penipuan online", "hoaks penipuan"),
        "🚨",
    ),
    Verdict(
        "satire", "SATIRE", "SATIRE",
        (
            "satire", "satir", "parodi", "parody", "satire atau parodi", "satire parodi",
            "labeled satire", "labelled satire", "originated as satire", "humor", "lelucon",
        ),
        "🎭",
    ),
    Verdict(
        "unproven", "BELUM TERBUKTI", "UNPROVEN",
        (
            "belum terbukti", "tidak terbukti", "belum terverifikasi", "tidak terverifikasi",
            "unproven", "unverified", "not proven", "no evidence", "unsupported",
            "insufficient evidence", "legend", "lost legend", "research in progress",
        ),
        "❓",
    ),
    Verdict(
        "true", "BENAR", "TRUE",
        (
            "fakta", "benar", "true", "correct", "accurate", "fact", "correct attribution",
            "correctly attributed", "recall", "legit", "verified",
        ),
        "✅",
    ),
    Verdict(
        "partly_true", "SEBAGIAN BENAR", "PARTLY TRUE",
        (
            "sebagian benar", "benar sebagian", "partly true", "partially true", "half true",
            "mostly true", "half truth",
        ),
        "🌓",
    ),
    Verdict(
        "mixture", "CAMPURAN", "MIXTURE",
        ("mixture", "mixed", "campuran", "partly false", "partially false", "benar dan salah"),
        "🌗",
    ),
    Verdict(
        "clarification", "KLARIFIKASI", "CLARIFICATION",
        ("klarifikasi", "clarification", "penjelasan", "explainer"),
        "ℹ️",
    ),
    Verdict(
        UNRATED, "BELUM DINILAI", "UNRATED",
        ("unrated", "not rated", "belum dinilai", "no rating"),
        "🔎",
    ),
)


def _is_indonesian(lang: str | None) -> bool:
    """Tell whether a language tag asks for Indonesian labels."""
    return (lang or "").lower().replace("_", "-").split("-")[0] in ("id", "in", "ind")


def label_key(text: str) -> str:
    """Reduce a label to the form aliases are compared in (case, brackets, spaces ignored)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _BRACKETS_RE.sub(" ", text)
    text = _PUNCT_RE.sub(" ", text)
    return _SPACES_RE.sub(" ", text).strip()


class Vocabulary:
    """A set of verdicts and the alias table that maps published labels to their codes."""

    def __init__(self, verdicts: Mapping[str, Verdict], aliases: Mapping[str, str]):
        self.verdicts: Mapping[str, Verdict] = MappingProxyType(dict(verdicts))
        self._aliases: Mapping[str, str] = MappingProxyType(dict(aliases))

    @classmethod
    def from_verdicts(cls, verdicts: tuple[Verdict, ...] | list[Verdict]) -> Vocabulary:
        """Build a vocabulary; each code is an alias of itself, later aliases win."""
        table: dict[str, Verdict] = {}
        aliases: dict[str, str] = {}
        for verdict in verdicts:
            table[verdict.code] = verdict
            for alias in (verdict.code, verdict.label_id, verdict.label_en, *verdict.aliases):
                key = label_key(alias)
                if key:
                    aliases[key] = verdict.code
        return cls(table, aliases)

    @property
    def codes(self) -> tuple[str, ...]:
        """Return every verdict code, in vocabulary order."""
        return tuple(self.verdicts)

    def get(self, code: str) -> Verdict:
        """Return the verdict for a code; unknown codes get an ad-hoc entry named after the code."""
        verdict = self.verdicts.get(code)
        if verdict is None:
            name = (code or UNRATED).replace("_", " ").upper()
            fallback = self.verdicts.get(UNRATED)
            return Verdict(code, name, name, (), fallback.emoji if fallback else "")
        return verdict

    def lookup(self, raw: str | None) -> str | None:
        """Return the code for a published label, or None when the label is not known."""
        if raw is None:
            return None
        text = unicodedata.normalize("NFKC", str(raw))
        whole = label_key(text)
        if not whole:
            return UNRATED
        code = self._aliases.get(whole)
        if code:
            return code
        # "konten yang menyesatkan (misleading content)": the label before the gloss.
        code = self._aliases.get(label_key(_GROUP_RE.sub(" ", text)))
        if code:
            return code
        # "[SALAH] …" or "(Satire)": a bracketed label; every known one must agree.
        groups = [a or b for a, b in _GROUP_RE.findall(text)]
        code = self._agreeing([label_key(g) for g in groups])
        if code:
            return code
        # "Satire/Parody", "BERITA / KLARIFIKASI": the known parts must agree.
        if "/" in text or "|" in text:
            return self._agreeing([label_key(p) for p in re.split(r"[/|]", text)])
        return None

    def _agreeing(self, keys: list[str]) -> str | None:
        """Return the single code the known keys map to, or None when none or several."""
        codes = {self._aliases[k] for k in keys if k in self._aliases}
        return codes.pop() if len(codes) == 1 else None

    def normalize(self, raw: str | None) -> str:
        """Return the code for a published label; empty or unknown labels are "unrated"."""
        return self.lookup(raw) or UNRATED

    def label(self, code: str, lang: str = "id") -> str:
        """Return the reply label of a code in the given language."""
        return self.get(code).label(lang)

    def emoji(self, code: str) -> str:
        """Return the short emoji shown next to a verdict in chat replies."""
        return self.get(code).emoji

    def merged(self, entries: list[tuple[Verdict, bool]]) -> Vocabulary:
        """Return a copy with (verdict, replace_aliases) entries added or overridden.

        An entry's aliases win over every other code's: a file can move a label to a new code.
        """
        table = dict(self.verdicts)
        claimed: dict[str, str] = {}
        for entry, replace_aliases in entries:
            for alias in entry.aliases:
                claimed[label_key(alias)] = entry.code
            old = table.get(entry.code)
            if old is not None and not replace_aliases:
                entry = replace(entry, aliases=tuple(dict.fromkeys(old.aliases + entry.aliases)))
            table[entry.code] = entry
        cleaned = [
            replace(v, aliases=tuple(a for a in v.aliases
                                     if claimed.get(label_key(a), v.code) == v.code))
            for v in table.values()
        ]
        vocabulary = Vocabulary.from_verdicts(cleaned)
        aliases = dict(vocabulary._aliases)
        aliases.update(claimed)
        return Vocabulary(vocabulary.verdicts, aliases)


DEFAULT_VOCABULARY = Vocabulary.from_verdicts(BUILTIN_VERDICTS)


def load_vocabulary(path: str | Path | None, base: Vocabulary = DEFAULT_VOCABULARY) -> Vocabulary:
    """Return the built-in vocabulary extended by a JSON verdicts file (or unchanged if no path).

    The file is either an object mapping codes to entries or a list of entries with a "code"::

        {"false": {"label_id": "SALAH", "aliases": ["keliru banget"]},
         "manipulated": {"label_id": "DIMANIPULASI", "label_en": "MANIPULATED",
                         "aliases": ["konten yang dimanipulasi"], "emoji": "✂️"}}

    Labels and emoji replace the built-in ones; aliases are added (they move from any other
    code). ``"replace_aliases": true`` in an entry drops the built-in aliases of that code.
    """
    if not path:
        return base
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise VocabularyError(f"cannot read verdicts file {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VocabularyError(f"verdicts file {path} is not valid JSON: {exc}") from exc
    if isinstance(document, dict):
        items = [dict(entry, code=code) if isinstance(entry, dict) else entry
                 for code, entry in document.items()]
    elif isinstance(document, list):
        items = document
    else:
        raise VocabularyError(f"verdicts file {path}: expected an object or a list of entries")
    entries = [_parse_entry(item, base, f"verdicts file {path}, entry {number}")
               for number, item in enumerate(items, start=1)]
    return base.merged(entries)


def _parse_entry(item: object, base: Vocabulary, where: str) -> tuple[Verdict, bool]:
    """Turn one verdicts-file entry into a Verdict, filling gaps from the base vocabulary."""
    if not isinstance(item, dict):
        raise VocabularyError(f"{where}: expected an object")
    code = item.get("code")
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise VocabularyError(
            f"{where}: 'code' must be lowercase letters, digits and _ (got {code!r})")
    for name in ("label_id", "label_en", "emoji"):
        if name in item and not isinstance(item[name], str):
            raise VocabularyError(f"{where}: '{name}' must be a string")
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise VocabularyError(f"{where}: 'aliases' must be a list of strings")
    old = base.verdicts.get(code)
    default_label = code.replace("_", " ").upper()
    verdict = Verdict(
        code=code,
        label_id=item.get("label_id") or (old.label_id if old else default_label),
        label_en=item.get("label_en") or (old.label_en if old else default_label),
        aliases=tuple(aliases),
        emoji=item.get("emoji", old.emoji if old else ""),
    )
    return verdict, bool(item.get("replace_aliases", False))


_WRAPPED_RE = re.compile(r"^\s*[\[(【「«\"“'‘]\s*([^\[\]()]+?)\s*[\])】」»\"”'’]\s*$")


def published_label(raw: str | None) -> str:
    """Give a published label as pages show it: the publisher's words, unwrapped ("[SALAH]"
    -> "SALAH"); empty when there is none."""
    text = " ".join(str(raw or "").split())
    wrapped = _WRAPPED_RE.match(text)
    return wrapped.group(1) if wrapped else text


def current_vocabulary() -> Vocabulary:
    """Return the vocabulary of the current Flask app, or the built-in one outside an app."""
    if has_app_context():
        vocabulary = current_app.extensions.get(EXTENSION_KEY)
        if vocabulary is not None:
            return vocabulary
    return DEFAULT_VOCABULARY


def normalize_verdict(raw: str | None, vocabulary: Vocabulary | None = None) -> str:
    """Return the code for a published label: "[SALAH]" -> "false", unknown -> "unrated"."""
    return (vocabulary or current_vocabulary()).normalize(raw)


def is_known_verdict(raw: str | None, vocabulary: Vocabulary | None = None) -> bool:
    """Tell whether a label maps to a code (empty counts as known: it means unrated)."""
    return (vocabulary or current_vocabulary()).lookup(raw) is not None


def verdict_label(code: str, lang: str = "id", vocabulary: Vocabulary | None = None) -> str:
    """Return the reply label for a code: "HOAKS" for ("false", "id"), "FALSE" for "en"."""
    return (vocabulary or current_vocabulary()).label(code, lang)


def verdict_emoji(code: str, vocabulary: Vocabulary | None = None) -> str:
    """Return the WhatsApp-friendly emoji for a code (❌ for false)."""
    return (vocabulary or current_vocabulary()).emoji(code)


__all__ = [
    "BUILTIN_VERDICTS", "DEFAULT_VOCABULARY", "UNRATED", "Verdict", "Vocabulary",
    "VocabularyError", "current_vocabulary", "is_known_verdict", "label_key", "load_vocabulary",
    "normalize_verdict", "published_label", "verdict_emoji", "verdict_label",
]
