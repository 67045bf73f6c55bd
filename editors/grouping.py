"""Grouping the inbox as questions arrive: each joins the closest group or starts one.

The tipline hands every question it cannot answer to `Desk.file` in the same transaction as
its log line, so the inbox is up to date when an editor opens it. A question as close to a
group the desk has already linked to a published fact-check is answered from it at once
(`Desk.answer_for`) and joins that group. `catch_up` groups what arrived without a group (a
failed encoder, a request logged before this version); the outbox loop and `flask editors
group` run it.
"""

import logging
import threading
from collections import OrderedDict

import numpy as np
from flask import current_app
from sqlalchemy import delete, func, or_, select

from claims.images import SAME_PICTURE_BITS, hash_distance
from claims.models import Claim, utcnow
from tipline.models import RequestLog

from .models import InboxGroup, InboxMember

log = logging.getLogger(__name__)

LABEL_CHARS = 500
# The label of the group that gathers one kind of attachment nobody can read yet.
MEDIA_LABELS = {"audio": "🎤 Pesan suara (voice note)", "video": "🎬 Video",
                "image": "📷 Gambar tanpa teks (picture without words)", "other": "📎 Lampiran (attachment)"}
_REMEMBERED = 64  # vectors kept between answer_for and file for the same text


def _threshold(threshold: float | None) -> float:
    return float(current_app.config["INBOX_GROUP_THRESHOLD"] if threshold is None else threshold)


def _best(vector: np.ndarray, groups: list[InboxGroup]) -> tuple[InboxGroup | None, float]:
    """The group whose centroid is closest to a (normalised) vector, and the cosine."""
    best, best_score = None, -1.0
    for group in groups:
        total = np.asarray(group.vector, dtype=np.float32)
        if total.shape != vector.shape:
            continue
        norm = float(np.linalg.norm(total)) or 1.0
        score = float(vector @ total) / norm
        if score > best_score:
            best, best_score = group, score
    return best, best_score


def _add(group: InboxGroup, vector: np.ndarray) -> None:
    total = np.asarray(group.vector, dtype=np.float32) if group.vector else np.zeros_like(vector)
    group.vector = [round(float(x), 6) for x in total + vector]
    group.updated_at = utcnow()


class _Centroids:
    """Groups' centroids kept in this process as unit vectors, by group id and updated_at.

    Reading every group's centroid (384 numbers of JSON each) for every question cost 15-25 ms at
    200 open groups, inside the message's transaction, where it held SQLite's write lock for the
    other workers (BENCHMARKS.md). Now a question reads only the ids and updated_at of the groups
    it may join (every change to a centroid moves updated_at: `_add`), and the centroids of those
    that moved since this process last read them.
    """

    def __init__(self):
        self._kept: dict[tuple[str, int], tuple[object, np.ndarray]] = {}
        self._lock = threading.Lock()

    def best(self, db, listing, vector: np.ndarray) -> tuple[int | None, float]:
        """Give the id of the group (of those `listing` selects: id, updated_at) whose centroid
        is closest to a normalised vector, and the cosine; (None, -1.0) when there is none."""
        url = str(db.get_bind().url)
        rows = db.execute(listing).all()
        with self._lock:
            stale = [gid for gid, updated in rows if self._kept.get((url, gid), (None,))[0] != updated]
        for start in range(0, len(stale), 500):
            found = db.execute(select(InboxGroup.id, InboxGroup.updated_at, InboxGroup.vector)
                               .where(InboxGroup.id.in_(stale[start:start + 500]))).all()
            with self._lock:
                for gid, updated, total in found:
                    total = np.asarray(total or [], dtype=np.float32)
                    norm = float(np.linalg.norm(total)) or 1.0
                    self._kept[(url, gid)] = (updated, total / norm)
        best, best_score = None, -1.0
        with self._lock:
            for gid, _ in rows:
                kept = self._kept.get((url, gid))
                if kept is None or kept[1].shape != vector.shape:
                    continue
                score = float(vector @ kept[1])
                if score > best_score:
                    best, best_score = gid, score
            if len(self._kept) > 4 * max(len(rows), 1000):  # groups closed long ago
                listed = {(url, gid) for gid, _ in rows}
                self._kept = {key: value for key, value in self._kept.items() if key in listed}
        return best, best_score


_CENTROIDS = _Centroids()


def _open_listing(encoder_id: str):
    return (select(InboxGroup.id, InboxGroup.updated_at)
            .where(InboxGroup.status == "open", InboxGroup.encoder_id == encoder_id).order_by(InboxGroup.id))


def _answered_listing(encoder_id: str):
    return (select(InboxGroup.id, InboxGroup.updated_at).join(Claim, Claim.id == InboxGroup.claim_id)
            .where(InboxGroup.status == "linked", InboxGroup.encoder_id == encoder_id,
                   Claim.status == "published").order_by(InboxGroup.id))


def open_groups(db, encoder_id: str) -> list[InboxGroup]:
    """The groups a question may join without an answer: open ones of this encoder."""
    return list(db.scalars(select(InboxGroup).where(InboxGroup.status == "open",
                                                    InboxGroup.encoder_id == encoder_id)))


def answered_groups(db, encoder_id: str) -> list[InboxGroup]:
    """The groups linked to a fact-check that is published now: their answer can be given."""
    return list(db.scalars(
        select(InboxGroup).join(Claim, Claim.id == InboxGroup.claim_id)
        .where(InboxGroup.status == "linked", InboxGroup.encoder_id == encoder_id,
               Claim.status == "published")))


def join(db, request_id: int, text: str, vector: np.ndarray, encoder_id: str,
         threshold: float, groups: list[InboxGroup] | None = None) -> InboxGroup:
    """Put one request in the closest open group from the threshold, or in a new group."""
    db.execute(delete(InboxMember).where(InboxMember.request_id == request_id))
    if groups is None:  # one question: the centroids this process keeps
        best, score = _CENTROIDS.best(db, _open_listing(encoder_id), vector)
        group, groups = (db.get(InboxGroup, best) if best is not None else None), []
    else:
        group, score = _best(vector, groups)
    if group is None or score < threshold:
        now = utcnow()
        group = InboxGroup(label=text[:LABEL_CHARS], status="open", encoder_id=encoder_id,
                           vector=[], created_at=now, updated_at=now)
        db.add(group)
        db.flush()
        groups.append(group)
    _add(group, vector)
    db.add(InboxMember(request_id=request_id, group_id=group.id))
    db.flush()
    return group


def _picture_group(db, image: str | None) -> InboxGroup | None:
    """Give the open group that already holds this picture (within a few bits), or None."""
    if not image:
        return None
    rows = db.execute(
        select(InboxGroup, RequestLog.image_hash)
        .join(InboxMember, InboxMember.group_id == InboxGroup.id)
        .join(RequestLog, RequestLog.id == InboxMember.request_id)
        .where(InboxGroup.status == "open", RequestLog.image_hash.is_not(None)))
    for group, other in rows:
        if hash_distance(image, other) <= SAME_PICTURE_BITS:
            return group
    return None


def _kind_group(db, kind: str | None, encoder_id: str) -> InboxGroup:
    """Give the open group of one kind of attachment without words, made when missing."""
    label = MEDIA_LABELS.get(kind or "other", MEDIA_LABELS["other"])
    group = db.scalar(select(InboxGroup).where(InboxGroup.status == "open", InboxGroup.label == label))
    if group is None:
        now = utcnow()
        group = InboxGroup(label=label, status="open", encoder_id=encoder_id, vector=[],
                           created_at=now, updated_at=now)
        db.add(group)
        db.flush()
    return group


def file_attachment(db, request: RequestLog, vector: np.ndarray | None, encoder_id: str) -> bool:
    """Put a request with a picture or another attachment in its group; say whether it was.

    The same picture joins the open group that already has it, whatever words were read in it
    (OCR reads one picture differently from one copy to the next); an attachment without words
    (a voice note, a video, a picture without text) joins the group of its kind. A picture with
    words seen for the first time is left to the words (join).
    """
    group = _picture_group(db, request.image_hash)
    if group is None and not (request.text or "").strip() and (request.media_kind or request.image_hash):
        group = _kind_group(db, request.media_kind or "image", encoder_id)
    if group is None:
        return False
    db.execute(delete(InboxMember).where(InboxMember.request_id == request.id))
    if vector is not None and group.vector is not None and (not group.vector or len(group.vector) == len(vector)):
        _add(group, vector)
    group.updated_at = utcnow()
    db.add(InboxMember(request_id=request.id, group_id=group.id))
    db.flush()
    return True


# The outbox loop's share of the encoder, whose lock every worker's webhook waits on too: a pass
# groups at most CATCH_UP_PER_PASS questions, embedded CATCH_UP_BATCH at a time, so a message
# never waits behind more than a few embeddings (a burst that fell behind leaves its questions
# to this loop: tipline/late.py).
CATCH_UP_BATCH = 4
CATCH_UP_PER_PASS = 32


def catch_up(db, encoder_of, threshold: float | None = None, limit: int | None = None) -> int:
    """Group open requests that have no group yet, oldest first (at most `limit`, None: all);
    give how many.

    encoder_of: gives the encoder, asked only when there is something to group.
    """
    threshold = _threshold(threshold)
    query = (select(RequestLog).outerjoin(InboxMember, InboxMember.request_id == RequestLog.id)
             .where(RequestLog.status == "open", InboxMember.request_id.is_(None),
                    or_(func.trim(func.coalesce(RequestLog.text, "")) != "", RequestLog.image_hash.is_not(None),
                        RequestLog.media_kind.is_not(None)))
             .order_by(RequestLog.created_at, RequestLog.id))
    new = db.scalars(query if limit is None else query.limit(limit)).all()
    if not new:
        return 0
    encoder = encoder_of()
    worded = [r for r in new if (r.text or "").strip()]
    vectors = {}
    for start in range(0, len(worded), CATCH_UP_BATCH):  # the lock is let go between batches
        batch = worded[start:start + CATCH_UP_BATCH]
        vectors.update(zip((r.id for r in batch), np.asarray(
            encoder.encode_queries([r.text for r in batch]), dtype=np.float32)))
    groups = open_groups(db, encoder.id)
    for asked in new:
        vector = vectors.get(asked.id)
        if file_attachment(db, asked, vector, encoder.id):
            continue
        join(db, asked.id, asked.text, vector, encoder.id, threshold, groups)
    return len(new)


class Desk:
    """What the tipline asks of the desk as a question arrives (tipline.wiring.Desk)."""

    def __init__(self, searcher):
        self.searcher = searcher
        self._vectors: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def _vector(self, text: str) -> tuple[str, np.ndarray]:
        encoder = self.searcher.encoder
        key = (encoder.id, text)
        with self._lock:
            found = self._vectors.get(key)
        if found is None:
            # Through the search's own query vectors: the message was usually embedded for its
            # search a moment ago, as this very text (never twice; the same vector either way).
            found = np.asarray(self.searcher.query_vector(text), dtype=np.float32)[0]
            with self._lock:
                self._vectors[key] = found
                while len(self._vectors) > _REMEMBERED:
                    self._vectors.popitem(last=False)
        return encoder.id, found

    def answer_for(self, session, text: str) -> str | None:
        """The published fact-check of the linked group this question would join, or None.

        Only when that group is closer than any open one: a question nearer an open group is
        still a question for the desk.
        """
        if not text.strip():
            return None
        encoder_id, vector = self._vector(text)
        threshold = _threshold(None)
        linked, score = _CENTROIDS.best(session, _answered_listing(encoder_id), vector)
        if linked is None or score < threshold:
            return None
        _, open_score = _CENTROIDS.best(session, _open_listing(encoder_id), vector)
        return session.get(InboxGroup, linked).claim_id if score >= open_score else None

    def file(self, session, request_id: int, text: str, answered_with: str | None = None) -> None:
        """Put a request in its group: the linked group whose answer it got, else an open one
        (a picture: the open group that already has it, or the words read in it)."""
        request = session.get(RequestLog, request_id)
        if not (text or "").strip():
            if request is not None and (request.image_hash or request.media_kind):
                file_attachment(session, request, None, self.searcher.encoder.id)
            return
        encoder_id, vector = self._vector(text)
        if not answered_with and request is not None and file_attachment(session, request, vector, encoder_id):
            return
        threshold = _threshold(None)
        if answered_with:
            linked = [g for g in answered_groups(session, encoder_id) if g.claim_id == answered_with]
            group, _ = _best(vector, linked)
            if group is not None:
                session.execute(delete(InboxMember).where(InboxMember.request_id == request_id))
                _add(group, vector)
                session.add(InboxMember(request_id=request_id, group_id=group.id))
                session.flush()
                return
        join(session, request_id, text, vector, encoder_id, threshold)

    def answer_of(self, session, request_id: int) -> str | None:
        """The published fact-check the desk linked a request's group to, or None."""
        return session.scalar(
            select(InboxGroup.claim_id)
            .join(InboxMember, InboxMember.group_id == InboxGroup.id)
            .join(Claim, Claim.id == InboxGroup.claim_id)
            .where(InboxMember.request_id == request_id, InboxGroup.status == "linked",
                   Claim.status == "published"))
