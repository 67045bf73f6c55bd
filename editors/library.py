"""The library: list, search and filter fact-checks, edit them with a live preview, import."""

import logging
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import date
from types import SimpleNamespace

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import and_, func, or_, select

from claims.db import get_session
from claims.errors import ClaimsRejected, IncompleteClaim, InvalidClaim, Reason
from claims.formats import FORMATS, UnknownFormat, import_file
from claims.groups import confirm_group, join_group, log_hoax_change, members, split_out
from claims.images import UnreadableImage, image_hash
from claims.models import STATUSES, Claim
from claims.store import claim_history, load_published, save_claim, set_status, text_contains
from claims.validation import check_publishable, clean_claim_data
from claims.verdicts import UNRATED, current_vocabulary
from tipline import replies
from tipline.whatsapp import MAX_CHARS, to_html, wa_len

from .auth import actor, bp, csrf_message, on_csrf_failure
from .inbox import groups_published
from .models import InboxGroup
from .wiring import wiring
from .words import (field_reason_shown, history_rows, missing_shown, name_of, problem_shown,
                    reason_shown, verdict_shown)

log = logging.getLogger(__name__)

PAGE_SIZE = 25
SUGGESTED = 3  # similar fact-checks offered to join, on a fact-check's page
FORM_FIELDS = ("title", "claim", "verdict", "summary", "url", "date", "lang", "tags", "publisher",
               "appearances")
FORMAT_NAMES = {"jsonl": "JSONL", "csv": "CSV", "claimreview": "ClaimReview (JSON-LD)"}  # names, not words
STATUS_ACTIONS = {"publish": "published", "unpublish": "draft", "retire": "retired"}
SEARCHED = 50  # fact-checks the library's search takes from the tipline's ranking
SIMILAR = 5  # closest fact-checks shown beside the form
SIMILAR_CHARS = 1000  # of the title and claim, what the duplicate check searches with
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
COLUMNS = (Claim.id, Claim.title, Claim.claim, Claim.summary, Claim.url, Claim.publisher)


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters(args) -> list:
    """The exact filters of the list (verdict, status, language, publisher, dates)."""
    clauses = []
    for name in ("status", "verdict", "lang"):
        if args.get(name):
            clauses.append(getattr(Claim, name) == args[name])
    if args.get("publisher"):
        clauses.append(text_contains(Claim.publisher, args["publisher"].strip()))
    if (start := _date_arg("from")) is not None:
        clauses.append(Claim.published >= start)
    if (end := _date_arg("to")) is not None:
        clauses.append(Claim.published <= end)
    return clauses


def _every_word(q: str):
    """Every word of q somewhere in a claim's text, id, url or publisher (drafts are found so)."""
    return and_(*(or_(*(text_contains(c, word) for c in COLUMNS)) for word in q.split()))


@dataclass(frozen=True)
class Searched:
    """What the tipline's search makes of a text: the ids it ranks and the one it would answer."""

    ids: list[str]
    answer: str | None  # the fact-check the tipline answers with at once, if it does
    decision: str


def tipline_search(text: str, k: int) -> Searched:
    """Rank published fact-checks for a text as the tipline does, keeping those it would offer
    and those that share a word with the text (a ranking alone orders the whole library).

    When the search itself fails, the desk still gets its word-by-word matches: nothing ranked.
    """
    try:
        result = wiring().searcher.search(text, k=k)
    except Exception:
        log.exception("the library's search could not use the tipline's search")
        return Searched([], None, "error")
    offered = {"match": 1, "choices": int(current_app.config.get("SEARCH_K", 3))}.get(
        result.decision, 0)
    ids = [m.id for i, m in enumerate(result.matches) if i < offered or m.lexical > 0]
    answer = result.matches[0].id if result.decision == "match" and result.matches else None
    return Searched(ids, answer, result.decision)


def _search_ids(db, q: str, clauses: list) -> tuple[list[str], str | None]:
    """The ids the list shows for a search, best first, and the tipline's answer among them.

    First the tipline's ranking (published fact-checks, the same search a WhatsApp sender
    gets), then every other fact-check, of any status, holding each word of q.
    """
    found = tipline_search(q, SEARCHED)
    allowed = set(db.scalars(select(Claim.id).where(Claim.id.in_(found.ids), *clauses))) \
        if found.ids else set()
    ranked = [claim_id for claim_id in found.ids if claim_id in allowed]
    rest = db.scalars(select(Claim.id).where(_every_word(q), *clauses)
                      .order_by(Claim.updated_at.desc(), Claim.id)).all()
    ranked += [claim_id for claim_id in rest if claim_id not in allowed]
    return ranked, (found.answer if found.answer in allowed else None)


@bp.get("/")
def library():
    """The list of fact-checks: the tipline's search plus exact filters, in pages."""
    db = get_session()
    clauses = _filters(request.args)
    # Control characters (a NUL, which PostgreSQL refuses) are no part of what anyone searches.
    q = " ".join(_CONTROL_RE.sub(" ", request.args.get("q") or "").split())
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    start = (page - 1) * PAGE_SIZE
    answer = None
    if q:
        ids, answer = _search_ids(db, q, clauses)
        total, shown = len(ids), ids[start:start + PAGE_SIZE]
        by_id = {c.id: c for c in db.scalars(select(Claim).where(Claim.id.in_(shown)))}
        rows = [by_id[claim_id] for claim_id in shown if claim_id in by_id]
    else:
        total = db.scalar(select(func.count()).select_from(Claim).where(*clauses)) or 0
        rows = db.scalars(select(Claim).where(*clauses).order_by(Claim.updated_at.desc(), Claim.id)
                          .limit(PAGE_SIZE).offset(start)).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("editors/library.html", claims=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), args=args, answer=answer,
                           statuses=STATUSES, vocabulary=current_vocabulary())


def _form_data(form) -> dict:
    data = {name: form.get(name, "") for name in FORM_FIELDS}
    if form.get("id"):
        data["id"] = form["id"]
    return data


def _pictures(claim, form, files) -> tuple[list[dict], str | None]:
    """The pictures of the form: attached ones still ticked, and new uploads hashed."""
    keep = set(form.getlist("keep_image"))
    kept = [dict(item) for item in (claim.appearances or []) if item.get("image") in keep] if claim else []
    for upload in files.getlist("images"):
        if not upload or not upload.filename:
            continue
        try:
            kept.append({"image": image_hash(upload.read()), "name": os.path.basename(upload.filename)[:200]})
        except UnreadableImage:
            return kept, _("%(file)s: not a picture that can be read.", file=upload.filename)
    return kept, None


def preview_text(data: dict) -> str:
    """Exactly what a WhatsApp sender would receive for this (unsaved) fact-check."""
    vocabulary = current_vocabulary()
    title = (data.get("title") or "").strip() or " ".join((data.get("claim") or "").split())[:160]
    claim = SimpleNamespace(title=title, verdict=vocabulary.normalize(data.get("verdict") or ""),
                            summary=(data.get("summary") or "").strip(),
                            url=(data.get("url") or "").strip())
    lang = data.get("reply_lang") or data.get("lang") or "id"
    return replies.match(claim, replies.pick_lang(lang))


@bp.post("/preview")
def preview():
    """JSON: the WhatsApp reply for the form as it stands (the page calls this as you type).

    text as sent, html as WhatsApp shows it (the web chat's renderer), chars as Twilio counts."""
    text = preview_text(request.form)
    return jsonify(text=text, html=str(to_html(text)), chars=wa_len(text), max=MAX_CHARS)


@dataclass(frozen=True)
class Similar:
    """The duplicate check: the tipline's decision for a text and the closest fact-checks
    (dicts of id, title, verdict, label, url, edit, answer)."""

    decision: str | None
    items: list[dict]


def similar_claims(data) -> Similar:
    """The library's closest published fact-checks to a form's title and claim, by the
    tipline's own search: what a sender asking this would get (the duplicate check)."""
    text = " ".join(f"{data.get('title') or ''} {data.get('claim') or ''}".split())[:SIMILAR_CHARS]
    if not text:
        return Similar(None, [])
    try:
        result = wiring().searcher.search(text, k=SIMILAR + 1)
    except Exception:
        log.exception("the duplicate check could not use the tipline's search")
        return Similar("error", [])
    own = data.get("id") or ""
    found = [c for c in load_published(get_session(), [m.id for m in result.matches]) if c.id != own]
    top = result.matches[0].id if result.matches else None
    lang = str(get_locale())
    items = [{"id": c.id, "title": c.title, "verdict": c.verdict,
              "label": verdict_shown(c.verdict, c.verdict_raw, lang), "url": c.url or "",
              "edit": url_for("editors.claim_edit", claim_id=c.id),
              "answer": result.decision == "match" and c.id == top}
             for c in found[:SIMILAR]]
    return Similar(result.decision, items)


@bp.post("/claims/similar")
def similar():
    """JSON: the closest fact-checks to the form's title and claim (the form asks as you type)."""
    return jsonify(asdict(similar_claims(request.form)))


def _render_form(claim, data, error=None, group=None, status=200, missing=(), similar=None):
    if "images" not in data:
        data = {**data, "images": [i for i in (claim.appearances or []) if i.get("image")] if claim else []}
    history = history_rows(claim_history(get_session(), claim.id), str(get_locale())) \
        if claim is not None else []
    hoax, suggestions = _hoax_group(claim) if claim is not None else ([], [])
    if similar is None and (data.get("title") or data.get("claim")):
        similar = similar_claims(data)
    return render_template("editors/claim_form.html", claim=claim, data=data, error=error,
                           history=history, preview=preview_text(data), group=group,
                           hoax=hoax, suggestions=suggestions,
                           hoax_confirmed=all(m is not None and m.confirmed for _, m in hoax),
                           missing=set(missing), similar=similar,
                           vocabulary=current_vocabulary()), status


def _hoax_group(claim):
    """Give a fact-check's hoax group (claim first) and similar fact-checks outside it."""
    db = get_session()
    rows = members(db, claim.id)
    group_new = wiring().group_new
    if group_new is None or claim.status != "published":
        return rows, []
    inside = {c.id for c, _ in rows}
    try:
        close = group_new.similar([claim], fresh=False).get(claim.id, [])
    except Exception:  # the page works without suggestions
        log.exception("no similar fact-checks for %s", claim.id)
        return rows, []
    close = [(other, score) for other, score in close if other not in inside][:SUGGESTED]
    found = {c.id: c for c in db.scalars(select(Claim).where(Claim.id.in_([o for o, _ in close])))}
    return rows, [(found[o], score) for o, score in close if o in found]


def _group_new(db, claim_ids) -> int:
    """Group newly published fact-checks by hoax; give how many joined a group.

    A failure is logged and never undoes the save: `flask claims group` catches up later."""
    group_new = wiring().group_new
    if group_new is None or not claim_ids:
        return 0
    try:
        report = group_new(db, list(claim_ids))
        db.commit()
    except Exception:
        db.rollback()
        log.exception("grouping %d fact-check(s) failed", len(claim_ids))
        return 0
    return report.grouped


def _data_of(claim: Claim) -> dict:
    d = claim.to_dict()
    links = "\n".join(item["url"] for item in d["appearances"] if not item.get("image"))
    # The label as the desk published it; a fact-check without one gets its code's label (the
    # vocabulary's, in its own language), never the code itself.
    verdict = claim.verdict_raw or ("" if claim.verdict == UNRATED else
                                    current_vocabulary().label(claim.verdict, claim.lang or "id"))
    return {**d, "tags": ", ".join(d["tags"]), "verdict": verdict,
            "appearances": links, "images": [i for i in d["appearances"] if i.get("image")]}


@bp.get("/claims/new")
def claim_new():
    """An empty form, or one prefilled from an inbox group (with the closest fact-checks)."""
    db = get_session()
    group = db.get(InboxGroup, request.args.get("group", type=int) or 0)
    data = {name: "" for name in FORM_FIELDS}
    data["lang"] = "id"
    if group is not None:
        data["claim"] = group.label
    return _render_form(None, data, group=group)


@bp.get("/claims/<path:claim_id>/edit")
def claim_edit(claim_id: str):
    """The form of an existing fact-check, with its history."""
    claim = get_session().get(Claim, claim_id) or abort(404)
    return _render_form(claim, _data_of(claim))


@bp.post("/claims/save")
def claim_save():
    """Create or update a fact-check; "publish" saves and publishes; "similar" only looks for
    the closest fact-checks (the duplicate check without script)."""
    db = get_session()
    data = _form_data(request.form)
    claim = db.get(Claim, data["id"]) if data.get("id") else None
    group = db.get(InboxGroup, request.form.get("group_id", type=int) or 0)
    action = request.form.get("action")
    if action == "similar":
        return _render_form(claim, data, group=group, similar=similar_claims(data))
    publish = action == "publish"
    pictures, unreadable = _pictures(claim, request.form, request.files)
    data["images"] = pictures
    if unreadable:
        return _render_form(claim, data, error=unreadable, group=group, status=400)
    try:
        record = {**data, "appearances": data["appearances"].split() + pictures}
        if publish or (claim is not None and claim.status == "published"):
            check_publishable(clean_claim_data(record))  # every missing field named at once
        saved = save_claim(db, record, actor=actor(), status="draft", require_complete=True)
        if publish:
            saved = set_status(db, saved.id, "published", actor=actor(), require_complete=True)
        if group is not None and group.status == "open":
            group.claim_id = saved.id
        waiting = groups_published(db, saved.id) if saved.status == "published" else []
        db.commit()
    except IncompleteClaim as exc:
        db.rollback()
        return _render_form(claim, data, error=missing_shown(exc.missing, exc.unknown_label), group=group,
                            status=400, missing=exc.missing)
    except InvalidClaim as exc:
        db.rollback()
        return _render_form(claim, data, error=field_reason_shown(exc.field, exc.reason), group=group,
                            status=400)
    grouped = _group_new(db, [saved.id]) if saved.status == "published" else 0
    flash(_("Saved (%(status)s).", status=name_of("claim", saved.status))
          + (" " + _("Grouped with another fact-check of the same hoax.") if grouped else ""), "ok")
    if waiting:  # answering the askers is its own, confirmed step
        _more_waiting(waiting)
        return redirect(url_for("editors.inbox_link_preview", group_id=waiting[0].id, claim_id=saved.id))
    return redirect(url_for("editors.claim_edit", claim_id=saved.id))


def _more_waiting(waiting) -> None:
    if len(waiting) > 1:
        flash(ngettext("%(num)d more inbox group waits for this fact-check: send from its page.",
                       "%(num)d more inbox groups wait for this fact-check: send from their pages.",
                       len(waiting) - 1), "ok")


@on_csrf_failure("editors.claim_save")
def _claim_form_again():
    db = get_session()
    data = _form_data(request.form)
    claim = db.get(Claim, data["id"]) if data.get("id") else None
    group = db.get(InboxGroup, request.form.get("group_id", type=int) or 0)
    return _render_form(claim, data, error=csrf_message(), group=group, status=400)


@bp.post("/claims/<path:claim_id>/status")
def claim_status(claim_id: str):
    """Publish, unpublish (back to draft) or retire."""
    db = get_session()
    status = STATUS_ACTIONS.get(request.form.get("action", "")) or abort(400)
    try:
        claim = set_status(db, claim_id, status, actor=actor(), require_complete=True)
    except LookupError:
        abort(404)
    except IncompleteClaim as exc:
        db.rollback()
        claim = db.get(Claim, claim_id)
        return _render_form(claim, _data_of(claim), error=missing_shown(exc.missing, exc.unknown_label),
                            status=400, missing=exc.missing)
    waiting = groups_published(db, claim.id) if status == "published" else []
    db.commit()
    if status == "published":
        _group_new(db, [claim.id])
    flash(_("Status: %(status)s.", status=name_of("claim", status)), "ok")
    if waiting:  # answering the askers is its own, confirmed step
        _more_waiting(waiting)
        return redirect(url_for("editors.inbox_link_preview", group_id=waiting[0].id, claim_id=claim.id))
    return redirect(url_for("editors.claim_edit", claim_id=claim_id))


GROUP_ACTIONS = {
    "confirm": _l("Group confirmed."),
    "split": _l("Split out of its group."),
    "join": _l("Joined to that group."),
}


@bp.post("/claims/<path:claim_id>/group")
def claim_group(claim_id: str):
    """Confirm a fact-check's hoax group, split a member out, or join another fact-check's group."""
    db = get_session()
    action = request.form.get("action", "")
    if action not in GROUP_ACTIONS:
        abort(400)
    db.get(Claim, claim_id) or abort(404)
    try:
        if action == "confirm":
            confirm_group(db, claim_id, actor=actor())
        elif action == "split":
            member = request.form.get("member") or claim_id
            mates = [c.id for c, _ in members(db, claim_id)]
            if member not in mates:
                abort(400)
            split_out(db, member, actor=actor())
            left = next((mate for mate in (claim_id, *mates) if mate != member), None)
            if left is not None:
                log_hoax_change(db, member, "split_out", left, actor=actor(), left=True)
        else:
            other = (request.form.get("other") or "").strip()
            if db.get(Claim, other) is None or other == claim_id:
                db.rollback()
                flash(_("No such fact-check."), "error")
                return redirect(url_for("editors.claim_edit", claim_id=claim_id))
            if other in {c.id for c, _ in members(db, claim_id)}:
                db.rollback()
                flash(_("Already in the same group."), "ok")
                return redirect(url_for("editors.claim_edit", claim_id=claim_id) + "#hoax-group")
            join_group(db, claim_id, other, actor=actor())
            for me, you in ((claim_id, other), (other, claim_id)):
                log_hoax_change(db, me, "same_hoax", you, actor=actor())
        db.commit()
    except LookupError:
        db.rollback()
        abort(404)
    flash(str(GROUP_ACTIONS[action]), "ok")
    return redirect(url_for("editors.claim_edit", claim_id=claim_id) + "#hoax-group")


def _import_choices(form) -> dict:
    """The import form's choices: drafts unless published is chosen, the format, skip_invalid."""
    return {"status": "published" if form.get("status") == "published" else "draft",
            "format": form.get("format") if form.get("format") in FORMATS else "",
            "skip_invalid": bool(form.get("skip_invalid"))}


@bp.route("/import", methods=["GET", "POST"])
def claim_import():
    """Import a JSONL, CSV or ClaimReview file as drafts (default) or published: all of it or
    nothing and the first bad line, or (skip_invalid) the good rows and a report of the rest."""
    report = error = None
    grouped = 0
    problems = []
    form = _import_choices({})
    if request.method == "POST":
        form = _import_choices(request.form)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose a file.")
        else:
            suffix = os.path.splitext(upload.filename)[1].lower()[:10]
            db = get_session()
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "upload" + suffix)
                upload.save(path)
                try:
                    report = import_file(db, path, fmt=form["format"] or None, status=form["status"],
                                         actor=actor(), skip_invalid=form["skip_invalid"],
                                         require_complete=True)
                    db.commit()
                    problems = report.skipped
                except ClaimsRejected as exc:
                    db.rollback()
                    error = _("Nothing imported: %(why)s", why=problem_shown(exc.problem))
                    problems = exc.problems
                except (UnknownFormat, InvalidClaim) as exc:
                    db.rollback()
                    why = exc.reason
                    if "path" in why.values:  # the upload's name, not where it was kept
                        why = Reason(why.message, {**why.values, "path": upload.filename})
                    error = _("Nothing imported: %(why)s", why=reason_shown(why))
            if report is not None:
                grouped = _group_new(db, report.claim_ids)
    return render_template("editors/import.html", report=report, error=error, formats=FORMATS,
                           format_names=FORMAT_NAMES, form=form, problems=problems,
                           grouped=grouped), (400 if error else 200)


@on_csrf_failure("editors.claim_import")
def _import_again():
    form = _import_choices(request.form)
    error = csrf_message() + " " + _("Choose the file again.")
    return render_template("editors/import.html", report=None, error=error, formats=FORMATS,
                           format_names=FORMAT_NAMES, form=form, problems=[]), 400
