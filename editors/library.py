"""The library: list, search and filter fact-checks, edit them with a live preview, import."""

import logging
import os
import tempfile
from datetime import date
from types import SimpleNamespace

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from claims.db import get_session
from claims.errors import ClaimsRejected, InvalidClaim
from claims.formats import FORMATS, UnknownFormat, import_file
from claims.groups import confirm_group, join_group, members, split_out
from claims.images import UnreadableImage, image_hash
from claims.models import STATUSES, Claim
from claims.store import claim_history, save_claim, set_status, text_contains
from claims.verdicts import current_vocabulary
from tipline import replies
from tipline.whatsapp import MAX_CHARS, to_html, wa_len

from .auth import actor, bp
from .inbox import groups_published
from .models import InboxGroup
from .wiring import wiring

log = logging.getLogger(__name__)

PAGE_SIZE = 25
SUGGESTED = 3  # similar fact-checks offered to join, on a fact-check's page
FORM_FIELDS = ("title", "claim", "verdict", "summary", "url", "date", "lang", "tags", "publisher",
               "appearances")
STATUS_ACTIONS = {"publish": "published", "unpublish": "draft", "retire": "retired"}


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters(args) -> list:
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
    if (q := (args.get("q") or "").strip()):
        clauses.append(or_(*(text_contains(c, q) for c in (
            Claim.id, Claim.title, Claim.claim, Claim.summary, Claim.url, Claim.publisher))))
    return clauses


@bp.get("/")
def library():
    """The list of fact-checks with search, filters and pages."""
    db = get_session()
    clauses = _filters(request.args)
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    total = db.scalar(select(func.count()).select_from(Claim).where(*clauses)) or 0
    rows = db.scalars(select(Claim).where(*clauses).order_by(Claim.updated_at.desc(), Claim.id)
                      .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("editors/library.html", claims=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), args=args,
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
            return kept, f"{upload.filename}: bukan gambar yang bisa dibaca. (Not a readable picture.)"
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


def _render_form(claim, data, error=None, group=None, status=200):
    if "images" not in data:
        data = {**data, "images": [i for i in (claim.appearances or []) if i.get("image")] if claim else []}
    history = claim_history(get_session(), claim.id) if claim is not None else []
    hoax, suggestions = _hoax_group(claim) if claim is not None else ([], [])
    return render_template("editors/claim_form.html", claim=claim, data=data, error=error,
                           history=history, preview=preview_text(data), group=group,
                           hoax=hoax, suggestions=suggestions,
                           hoax_confirmed=all(m is not None and m.confirmed for _, m in hoax),
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
    return {**d, "tags": ", ".join(d["tags"]), "verdict": claim.verdict_raw or claim.verdict,
            "appearances": links, "images": [i for i in d["appearances"] if i.get("image")]}


@bp.get("/claims/new")
def claim_new():
    """An empty form, or one prefilled from an inbox group."""
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
    """Create or update a fact-check; "publish" saves and publishes."""
    db = get_session()
    data = _form_data(request.form)
    claim = db.get(Claim, data["id"]) if data.get("id") else None
    group = db.get(InboxGroup, request.form.get("group_id", type=int) or 0)
    publish = request.form.get("action") == "publish"
    pictures, unreadable = _pictures(claim, request.form, request.files)
    data["images"] = pictures
    if unreadable:
        return _render_form(claim, data, error=unreadable, group=group, status=400)
    try:
        saved = save_claim(db, {**data, "appearances": data["appearances"].split() + pictures},
                           actor=actor(), status="draft")
        if publish:
            saved = set_status(db, saved.id, "published", actor=actor())
        if group is not None and group.status == "open":
            group.claim_id = saved.id
        waiting = groups_published(db, saved.id) if saved.status == "published" else []
        db.commit()
    except InvalidClaim as exc:
        db.rollback()
        return _render_form(claim, data, error=str(exc), group=group, status=400)
    grouped = _group_new(db, [saved.id]) if saved.status == "published" else 0
    flash(f"Tersimpan ({saved.status}). (Saved.)"
          + (" Digabung dengan cek fakta lain tentang hoaks yang sama. (Grouped with another "
             "fact-check of the same hoax.)" if grouped else ""), "ok")
    if waiting:  # answering the askers is its own, confirmed step
        _more_waiting(waiting)
        return redirect(url_for("editors.inbox_link_preview", group_id=waiting[0].id, claim_id=saved.id))
    return redirect(url_for("editors.claim_edit", claim_id=saved.id))


def _more_waiting(waiting) -> None:
    if len(waiting) > 1:
        flash(f"{len(waiting) - 1} grup lain juga menunggu cek fakta ini: kirim dari halaman grupnya di "
              f"kotak masuk. ({len(waiting) - 1} more group(s) wait for it: send from their pages.)", "ok")


@bp.post("/claims/<path:claim_id>/status")
def claim_status(claim_id: str):
    """Publish, unpublish (back to draft) or retire."""
    db = get_session()
    status = STATUS_ACTIONS.get(request.form.get("action", "")) or abort(400)
    try:
        claim = set_status(db, claim_id, status, actor=actor())
    except LookupError:
        abort(404)
    waiting = groups_published(db, claim.id) if status == "published" else []
    db.commit()
    if status == "published":
        _group_new(db, [claim.id])
    flash(f"Status: {status}.", "ok")
    if waiting:  # answering the askers is its own, confirmed step
        _more_waiting(waiting)
        return redirect(url_for("editors.inbox_link_preview", group_id=waiting[0].id, claim_id=claim.id))
    return redirect(url_for("editors.claim_edit", claim_id=claim_id))


GROUP_ACTIONS = {
    "confirm": "Grup dikonfirmasi. (Group confirmed.)",
    "split": "Dipisahkan dari grupnya. (Split out of its group.)",
    "join": "Digabungkan ke grup itu. (Joined to that group.)",
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
            if member not in {c.id for c, _ in members(db, claim_id)}:
                abort(400)
            split_out(db, member, actor=actor())
        else:
            other = (request.form.get("other") or "").strip()
            if db.get(Claim, other) is None or other == claim_id:
                db.rollback()
                flash("Cek fakta itu tidak ditemukan. (No such fact-check.)", "error")
                return redirect(url_for("editors.claim_edit", claim_id=claim_id))
            join_group(db, claim_id, other, actor=actor())
        db.commit()
    except LookupError:
        db.rollback()
        abort(404)
    flash(GROUP_ACTIONS[action], "ok")
    return redirect(url_for("editors.claim_edit", claim_id=claim_id) + "#hoax-group")


@bp.route("/import", methods=["GET", "POST"])
def claim_import():
    """Import a JSONL, CSV or ClaimReview file: all of it, or nothing and the first bad line."""
    report = error = None
    grouped = 0
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = "Pilih berkas dulu. (Choose a file.)"
        else:
            suffix = os.path.splitext(upload.filename)[1].lower()[:10]
            fmt = request.form.get("format") or None
            if fmt not in FORMATS:
                fmt = None
            status = "draft" if request.form.get("status") == "draft" else "published"
            db = get_session()
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "upload" + suffix)
                upload.save(path)
                try:
                    report = import_file(db, path, fmt=fmt, status=status, actor=actor())
                    db.commit()
                except (ClaimsRejected, UnknownFormat, InvalidClaim, UnicodeDecodeError) as exc:
                    db.rollback()
                    error = f"Tidak ada yang diimpor (nothing imported): {exc}"
            if report is not None:
                grouped = _group_new(db, report.claim_ids)
    return render_template("editors/import.html", report=report, error=error, formats=FORMATS,
                           grouped=grouped), (400 if error else 200)
