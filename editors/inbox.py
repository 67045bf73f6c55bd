"""The inbox: what people asked that got no answer, grouped by meaning, busiest first."""

from collections import defaultdict

import numpy as np
from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select, update

from claims.db import get_session
from claims.images import SAME_PICTURE_BITS, hash_distance
from claims.models import Claim, utcnow
from claims.store import load_published, save_claim
from tipline.models import RequestLog

from .auth import actor, bp
from .models import InboxGroup, InboxMember, OutboxMessage
from .outbox import enqueue_group
from .wiring import wiring

EXAMPLES = 3
# The label of the group that gathers one kind of attachment nobody can read yet.
MEDIA_LABELS = {"audio": "🎤 Pesan suara (voice note)", "video": "🎬 Video",
                "image": "📷 Gambar tanpa teks (picture without words)", "other": "📎 Lampiran (attachment)"}


def _encoder():
    return wiring().searcher.encoder


def assign_groups(db, threshold: float | None = None) -> int:
    """Put every open request not yet in a group into the closest open group, or a new one.

    A picture joins the open group that already has the same picture (its hash within a few
    bits), whatever words were read in it. Greedy, oldest first: a question joins the open group
    whose centroid it is closest to when the cosine reaches the threshold; otherwise it starts a
    group and becomes its label. An attachment with no words (a voice note, a video, a picture
    without text) joins the group of its kind. Each text is embedded once; a group keeps the
    sum of its members' vectors.
    """
    threshold = float(current_app.config["INBOX_GROUP_THRESHOLD"] if threshold is None else threshold)
    new = db.scalars(
        select(RequestLog).outerjoin(InboxMember, InboxMember.request_id == RequestLog.id)
        .where(RequestLog.status == "open", InboxMember.request_id.is_(None))
        .order_by(RequestLog.created_at, RequestLog.id)).all()
    new = [r for r in new if (r.text or "").strip() or r.image_hash or r.media_kind]
    if not new:
        return 0
    encoder = _encoder()
    texts = [r for r in new if (r.text or "").strip()]
    vectors = dict(zip((r.id for r in texts), np.asarray(
        encoder.encode_queries([r.text for r in texts]), dtype=np.float32))) if texts else {}
    groups = db.scalars(select(InboxGroup).where(InboxGroup.status == "open",
                                                 InboxGroup.encoder_id == encoder.id)).all()
    sums = [np.asarray(g.vector, dtype=np.float32) if g.vector else None for g in groups]
    pictures = _open_pictures(db)
    now = utcnow()
    for asked in new:
        vector = vectors.get(asked.id)
        best = _same_picture(pictures, groups, asked.image_hash)
        if best is None and vector is None:  # nothing to compare: the group of its kind
            label = MEDIA_LABELS.get(asked.media_kind or "other", MEDIA_LABELS["other"])
            best = next((i for i, g in enumerate(groups) if g.label == label and sums[i] is None), None)
            if best is None:
                best = _new_group(db, groups, sums, label, encoder.id, now)
        elif best is None:
            best_score = -1.0
            for i, total in enumerate(sums):
                if total is None or total.shape != vector.shape:
                    continue
                score = float(vector @ total) / (float(np.linalg.norm(total)) or 1.0)
                if score > best_score:
                    best, best_score = i, score
            if best is None or best_score < threshold:
                best = _new_group(db, groups, sums, asked.text[:500], encoder.id, now)
        if vector is not None:
            sums[best] = vector if sums[best] is None or not sums[best].size else sums[best] + vector
            groups[best].vector = [round(float(x), 6) for x in sums[best]]
        if asked.image_hash:
            pictures.setdefault(groups[best].id, set()).add(asked.image_hash)
        groups[best].updated_at = now
        db.add(InboxMember(request_id=asked.id, group_id=groups[best].id))
    db.flush()
    return len(new)


def _new_group(db, groups, sums, label, encoder_id, now) -> int:
    group = InboxGroup(label=label, status="open", encoder_id=encoder_id, vector=[],
                       created_at=now, updated_at=now)
    db.add(group)
    db.flush()
    groups.append(group)
    sums.append(None)
    return len(groups) - 1


def _open_pictures(db) -> dict[int, set[str]]:
    """Give the picture hashes of each open group's members."""
    found: dict[int, set[str]] = defaultdict(set)
    for group_id, image in db.execute(
            select(InboxMember.group_id, RequestLog.image_hash)
            .join(RequestLog, RequestLog.id == InboxMember.request_id)
            .join(InboxGroup, InboxGroup.id == InboxMember.group_id)
            .where(InboxGroup.status == "open", RequestLog.image_hash.is_not(None))):
        found[group_id].add(image)
    return found


def _same_picture(pictures, groups, image) -> int | None:
    """Give the index of the open group holding this picture (within a few bits), or None."""
    if not image:
        return None
    for i, group in enumerate(groups):
        if any(hash_distance(image, other) <= SAME_PICTURE_BITS for other in pictures.get(group.id, ())):
            return i
    return None


def group_summaries(db, status: str = "open", limit: int = 100, since=None, until=None) -> list[dict]:
    """Groups with their count, first and last seen and a few examples, busiest first."""
    query = (select(InboxMember.group_id, func.count(), func.min(RequestLog.created_at),
                    func.max(RequestLog.created_at))
             .join(RequestLog, RequestLog.id == InboxMember.request_id)
             .join(InboxGroup, InboxGroup.id == InboxMember.group_id)
             .group_by(InboxMember.group_id))
    if status:
        query = query.where(InboxGroup.status == status)
    if since is not None:
        query = query.where(RequestLog.created_at >= since)
    if until is not None:
        query = query.where(RequestLog.created_at < until)
    stats = db.execute(query).all()
    stats.sort(key=lambda row: (-row[1], -row[3].timestamp()))
    stats = stats[:limit]
    ids = [row[0] for row in stats]
    groups = {g.id: g for g in db.scalars(select(InboxGroup).where(InboxGroup.id.in_(ids)))}
    examples = defaultdict(list)
    for group_id, text in db.execute(
            select(InboxMember.group_id, RequestLog.text)
            .join(RequestLog, RequestLog.id == InboxMember.request_id)
            .where(InboxMember.group_id.in_(ids))
            .order_by(RequestLog.created_at.desc())):
        if text and len(examples[group_id]) < EXAMPLES and text not in examples[group_id]:
            examples[group_id].append(text)
    return [{"group": groups[gid], "count": count, "first": first, "last": last,
             "examples": examples[gid]} for gid, count, first, last in stats]


def outbox_counts(db, group_id: int) -> dict:
    """How many answers of a group are in each outbox status."""
    return dict(db.execute(select(OutboxMessage.status, func.count())
                           .where(OutboxMessage.group_id == group_id)
                           .group_by(OutboxMessage.status)).all())


def link_group(db, group: InboxGroup, claim_id: str, who: str) -> dict:
    """Tie a group to a fact-check; if it is published, queue the answers."""
    group.claim_id, group.updated_at = claim_id, utcnow()
    claim = db.get(Claim, claim_id)
    if claim is not None:
        attach_pictures(db, group, claim, who)
    counts = {}
    if claim is not None and claim.status == "published":
        group.status = "linked"
        counts = enqueue_group(db, group.id, claim_id, who)
        _set_request_status(db, group.id, "answered")
    return counts


def attach_pictures(db, group: InboxGroup, claim: Claim, who: str) -> int:
    """Give a fact-check the pictures its group's askers sent, so that the next is answered at once."""
    have = {item.get("image") for item in claim.appearances or []}
    new = sorted(set(db.scalars(
        select(RequestLog.image_hash).join(InboxMember, InboxMember.request_id == RequestLog.id)
        .where(InboxMember.group_id == group.id, RequestLog.image_hash.is_not(None)))) - have)
    if new:
        save_claim(db, {"id": claim.id, "appearances": list(claim.appearances or [])
                        + [{"image": image, "name": f"inbox #{group.id}"} for image in new]},
                   actor=who or "inbox")
    return len(new)


def groups_published(db, claim_id: str, who: str) -> int:
    """A fact-check was published: answer every group waiting for it; return how many queued."""
    queued = 0
    for group in db.scalars(select(InboxGroup).where(InboxGroup.claim_id == claim_id,
                                                     InboxGroup.status.in_(("open", "linked")))):
        queued += link_group(db, group, claim_id, who).get("pending", 0)
    return queued


def _set_request_status(db, group_id: int, status: str) -> None:
    members = select(InboxMember.request_id).where(InboxMember.group_id == group_id)
    db.execute(update(RequestLog).where(RequestLog.id.in_(members)).values(status=status))


@bp.get("/inbox")
def inbox():
    """The open groups, busiest first."""
    db = get_session()
    assign_groups(db)
    db.commit()
    status = request.args.get("status", "open")
    if status not in ("open", "linked", "dismissed"):
        status = "open"
    return render_template("editors/inbox.html", groups=group_summaries(db, status), status=status)


@bp.get("/inbox/<int:group_id>")
def inbox_group(group_id: int):
    """One group: every question, the outbox, and a search to link it to a fact-check."""
    db = get_session()
    group = db.get(InboxGroup, group_id)
    if group is None:
        return render_template("editors/message.html", message="Grup tidak ditemukan."), 404
    members = db.scalars(select(RequestLog).join(InboxMember, InboxMember.request_id == RequestLog.id)
                         .where(InboxMember.group_id == group_id)
                         .order_by(RequestLog.created_at.desc())).all()
    q = (request.args.get("q") or "").strip()
    results = []
    if q:
        found = wiring().searcher.search(q, k=8)
        results = load_published(db, [m.id for m in found.matches])
    linked = db.get(Claim, group.claim_id) if group.claim_id else None
    return render_template("editors/group.html", group=group, members=members, q=q,
                           results=results, linked=linked, outbox=outbox_counts(db, group_id))


@bp.post("/inbox/<int:group_id>/link")
def inbox_link(group_id: int):
    """Link a group to an existing fact-check (and answer the askers if it is published)."""
    db = get_session()
    group = db.get(InboxGroup, group_id)
    claim = db.get(Claim, request.form.get("claim_id", ""))
    if group is None or claim is None:
        flash("Grup atau cek fakta tidak ditemukan. (Group or fact-check not found.)", "error")
        return redirect(url_for("editors.inbox"))
    counts = link_group(db, group, claim.id, actor())
    db.commit()
    wiring().outbox.wake()
    flash(f"Ditautkan ke {claim.title}. Dikirim: {counts.get('pending', 0)}, di luar 24 jam: "
          f"{counts.get('skipped_window', 0)}. (Linked; queued / outside 24 h.)", "ok")
    return redirect(url_for("editors.inbox_group", group_id=group_id))


@bp.post("/inbox/<int:group_id>/dismiss")
def inbox_dismiss(group_id: int):
    """Dismiss a group: not worth a fact-check."""
    db = get_session()
    group = db.get(InboxGroup, group_id)
    if group is not None:
        group.status, group.updated_at = "dismissed", utcnow()
        _set_request_status(db, group.id, "dismissed")
        db.commit()
        flash("Grup diabaikan. (Group dismissed.)", "ok")
    return redirect(url_for("editors.inbox"))
