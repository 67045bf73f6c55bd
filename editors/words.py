"""The names the editors' pages show for stored codes (statuses, roles, channels, history).

Codes stay codes in the database, URLs and CSS classes; a page shows only these names, through
gettext in the page's language. A code with no name here (one added later) shows as it is.
"""

import re

from flask_babel import get_translations, gettext as _, lazy_gettext as _l

from claims.errors import ImportProblem, Reason
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
    "action": {"created": _l("created"), "updated": _l("updated"), "status": _l("status changed"),
               "same_hoax": _l("same hoax as"), "other_hoax": _l("not the same hoax as"),
               "split_out": _l("split out of the group of")},
    "field": {"id": _l("ID"), "verdict_raw": _l("Label"), "title": _l("Title"), "claim": _l("Claim"), "verdict": _l("Label"),
              "summary": _l("Summary"), "url": _l("Article link"), "published": _l("Date"),
              "date": _l("Date"),
              "lang": _l("Language"), "tags": _l("Tags"), "publisher": _l("Publisher"),
              "status": _l("Status"), "appearances": _l("Where it circulated"), "other": _l("Fact-check")},
}


def name_of(kind: str, code) -> str:
    """Give the page's name of a stored code of a kind ("claim", "outbox", …)."""
    if code is None:
        return ""
    name = NAMES[kind].get(code)
    return str(name) if name is not None else str(code)


# The fields a published fact-check needs, as the form's message names them.
MISSING_NAMES = {"verdict": _l("label"), "summary": _l("summary"), "url": _l("article link")}


def missing_shown(missing, unknown_label: str = "") -> str:
    """Say what a fact-check lacks before it can be published (first, a label given that the
    vocabulary does not know: the label field is filled, yet it counts as missing)."""
    said = _("Cannot publish yet: fill in the %(fields)s. A draft may be incomplete.",
             fields=", ".join(str(MISSING_NAMES.get(m, m)) for m in missing))
    if unknown_label:
        said = _("“%(label)s” is not a label the tipline knows.", label=unknown_label) + " " + said
    return said


def reason_shown(reason: Reason | str) -> str:
    """Give why claims/ refused something in the page's language.

    claims/ words its reasons in English with marked messages (claims/errors.py); the catalog
    holds them, so the same message and values are said here in the page's language."""
    if not isinstance(reason, Reason):
        return str(reason)
    said = get_translations().ugettext(reason.message)
    if not reason.values:
        return said
    return said % {name: reason_shown(value) if isinstance(value, Reason) else value
                   for name, value in reason.values.items()}


def field_reason_shown(field: str | None, reason: Reason | str) -> str:
    """Give a refused field's reason with the field's name ("Tautan artikel: …")."""
    if not field:
        return reason_shown(reason)
    return _("%(field)s: %(why)s", field=name_of("field", field), why=reason_shown(reason))


def problem_reason_shown(problem: ImportProblem) -> str:
    """Give why one imported row was refused (without where), in the page's language."""
    if problem.missing:
        detail = problem.reason.values.get("detail")
        label = detail.values.get("unknown", "") if isinstance(detail, Reason) else ""
        return missing_shown(problem.missing, label)
    return reason_shown(problem.reason)


def problem_shown(problem: ImportProblem) -> str:
    """Give a refused row as the import page says it: its line (or item), field and reason."""
    why = problem_reason_shown(problem)
    where = []
    if problem.line > 0:  # 0: the whole file
        where.append(_("item %(number)s", number=problem.line) if problem.unit == "item"
                     else _("line %(number)s", number=problem.line))
    if problem.field:
        where.append(_("field %(field)s", field=name_of("field", problem.field)))
    return _("%(where)s: %(why)s", where=", ".join(where), why=why) if where else why


# What the outbox records of a send that did not go as planned (editors/outbox.py, inbox.py),
# kept in English in the database: shown in the page's language. Twilio's and the network's
# own words stay as they came.
_FIXED_WHY = {
    "not sent (outside 24 h)": _l("not sent (outside 24 h)"),
    "the fact-check is not published": _l("the fact-check is not published"),
    "interrupted while sending: check Twilio's message log before resending":
        _l("interrupted while sending: check Twilio's message log before resending"),
    "TWILIO_WHATSAPP_FROM is not set":
        _l("not sent: no WhatsApp sender is set up (TWILIO_WHATSAPP_FROM)"),
}
_RETRIED = re.compile(r"^retried by (?P<who>.+?) after: (?P<rest>.*)$", re.S)
_BEFORE = re.compile(r"^(?P<why>.+?); before: (?P<rest>.*)$", re.S)
_RELINKED = re.compile(r"^linked to another fact-check by (?P<who>.+)$", re.S)
_UNLINKED = re.compile(r"^unlinked by (?P<who>.+)$", re.S)
_UNKNOWN = re.compile(r"^unknown outcome: (?P<rest>.*)$", re.S)


def why_shown(error: str | None) -> str:
    """Give an outbox row's recorded reason in the page's language."""
    error = error or ""
    if error in _FIXED_WHY:
        return str(_FIXED_WHY[error])
    if found := _RETRIED.match(error):
        return _("retried by %(who)s after: %(before)s", who=found["who"], before=why_shown(found["rest"]))
    if found := _BEFORE.match(error):
        return _("%(why)s; before: %(before)s", why=why_shown(found["why"]), before=why_shown(found["rest"]))
    if found := _RELINKED.match(error):
        return _("linked to another fact-check by %(who)s", who=found["who"])
    if found := _UNLINKED.match(error):
        return _("unlinked by %(who)s", who=found["who"])
    if found := _UNKNOWN.match(error):
        return _("unknown outcome: %(error)s", error=found["rest"])
    return error


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
