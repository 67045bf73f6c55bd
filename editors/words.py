"""The names the editors' pages show for stored codes (statuses, roles, channels, history).

Codes stay codes in the database, URLs and CSS classes; a page shows only these names, through
gettext in the page's language. A code with no name here (one added later) shows as it is.
"""

from flask_babel import lazy_gettext as _l

from claims.verdicts import current_vocabulary, published_label

NAMES = {
    "claim": {"draft": _l("draft"), "published": _l("published"), "retired": _l("retired")},
    "group": {"open": _l("open"), "linked": _l("linked"), "dismissed": _l("dismissed")},
    "request": {"open": _l("waiting"), "answered": _l("answered"), "dismissed": _l("dismissed")},
    "outbox": {"pending": _l("pending"), "sending": _l("sending"), "sent": _l("sent"),
               "failed": _l("failed"), "skipped_window": _l("not sent (outside 24 h)"),
               "uncertain": _l("uncertain"), "cancelled": _l("cancelled")},
    "role": {"editor": _l("editor"), "admin": _l("admin")},
    "channel": {"whatsapp": _l("WhatsApp"), "web": _l("web chat")},
    "media": {"image": _l("picture"), "video": _l("video"), "audio": _l("voice note"),
              "other": _l("attachment")},
    "lang": {"id": _l("Indonesian"), "en": _l("English")},
    "action": {"created": _l("created"), "updated": _l("updated"), "status": _l("status changed")},
    "field": {"title": _l("Title"), "claim": _l("Claim"), "verdict": _l("Label"),
              "summary": _l("Summary"), "url": _l("Article link"), "published": _l("Date"),
              "lang": _l("Language"), "tags": _l("Tags"), "publisher": _l("Publisher"),
              "status": _l("Status"), "appearances": _l("Where it circulated")},
}


def name_of(kind: str, code) -> str:
    """Give the page's name of a stored code of a kind ("claim", "outbox", …)."""
    if code is None:
        return ""
    name = NAMES[kind].get(code)
    return str(name) if name is not None else str(code)


def verdict_shown(code: str | None, raw: str | None, lang: str) -> str:
    """Give the label a page shows for a verdict: the publisher's own ("SALAH"), else the
    vocabulary's label of the code in the page's language."""
    return published_label(raw) or current_vocabulary().label(code or "unrated", lang)


def history_rows(history, lang: str) -> list[dict]:
    """Give a fact-check's history as a page shows it: names and labels, never codes or lists.

    The verdict's code and the published label are one change, shown as labels."""
    rows = []
    for entry in history:
        changes = dict(entry.changes or {})
        shown = []
        if "verdict" in changes or "verdict_raw" in changes:
            code = changes.pop("verdict", None)
            raw = changes.pop("verdict_raw", None)
            before = verdict_shown(code[0] if code else None, raw[0] if raw else None, lang) \
                if (code and code[0]) or (raw and raw[0]) else ""
            after = verdict_shown(code[1] if code else None, raw[1] if raw else None, lang)
            if before != after:
                shown.append((name_of("field", "verdict"), before, after))
        for field, (old, new) in changes.items():
            shown.append((name_of("field", field), _value(field, old), _value(field, new)))
        rows.append({"at": entry.at, "actor": entry.actor, "action": name_of("action", entry.action),
                     "changes": shown})
    return rows


def _value(field: str, value) -> str:
    """Give one stored value as text: names for codes, lists as lines, nothing for None."""
    if value is None or value == "":
        return ""
    if field == "status":
        return name_of("claim", value)
    if field == "lang":
        return name_of("lang", value)
    if isinstance(value, list):
        return ", ".join(_item(item) for item in value)
    return str(value)


def _item(item) -> str:
    if isinstance(item, dict):
        return item.get("url") or item.get("name") or item.get("image") or ""
    return str(item)
