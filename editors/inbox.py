"""The inbox: what people asked that got no answer, grouped by meaning, most askers first.

Questions are grouped as they arrive (editors/grouping.py). Here the desk finds, assigns,
dismisses and reopens groups, and links them to a fact-check: a link answers the group's
WhatsApp askers, so it is shown first (who gets what, inside or outside the 24-hour window,
the message itself) and sent only on confirmation. A link can be changed or undone; what was
already sent stays listed, and failed or uncertain sends can be retried by hand.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from sqlalchemy import func, or_, select, update

from claims.db import get_session
from claims.models import Claim, utcnow
from claims.store import load_published, save_claim
from tipline import replies
from tipline.models import RequestLog
from tipline.whatsapp import MAX_CHARS, to_html, wa_len

from .auth import actor, bp, current_account
from .grouping import catch_up
from .models import EditorAccount, InboxGroup, InboxMember, OutboxMessage
from .outbox import LIVE, NotRetryable, cancel_group, enqueue_group, retry, window_open
from .wiring import wiring

EXAMPLES = 3
# Web sessions are the client's to pick: however many one address rotates through, it counts
# as at most this many askers (an office or a phone network shares one address among a few).
ASKERS_PER_CLIENT = 3
PAGE_GROUPS = 100
STATUS_TABS = ("open", "linked", "dismissed")


def assign_groups(db, threshold: float | None = None) -> int:
    """Group the open requests that have none yet (arrivals group themselves; this catches up)."""
    return catch_up(db, lambda: wiring().searcher.encoder, threshold)


def askers(rows) -> int:
    """How many people asked, from (sender_hash, client_hash) pairs: each WhatsApp sender once,
    each web client address at most ASKERS_PER_CLIENT times."""
    per_client = defaultdict(set)
    for sender, client in rows:
        per_client[client or sender].add(sender)
    return sum(min(len(senders), ASKERS_PER_CLIENT) for senders in per_client.values())


def group_summaries(db, status: str = "open", limit: int = PAGE_GROUPS, since=None, until=None,
                    q: str = "", assignee=None) -> list[dict]:
    """Groups with their askers, messages, first and last seen and a few examples, most askers first.

    q: only groups whose label or a question contains it; assignee: an account id, "none"
    (nobody) or None (anyone).
    """
    query = (select(InboxMember.group_id, RequestLog.sender_hash, RequestLog.client_hash,
                    RequestLog.created_at, RequestLog.text)
             .join(RequestLog, RequestLog.id == InboxMember.request_id)
             .join(InboxGroup, InboxGroup.id == InboxMember.group_id))
    if status:
        query = query.where(InboxGroup.status == status)
    if since is not None:
        query = query.where(RequestLog.created_at >= since)
    if until is not None:
        query = query.where(RequestLog.created_at < until)
    if assignee == "none":
        query = query.where(InboxGroup.assignee_id.is_(None))
    elif assignee is not None:
        query = query.where(InboxGroup.assignee_id == assignee)
    q = (q or "").strip()
    if q:
        needle = q.lower()
        hits = (select(InboxMember.group_id).join(RequestLog, RequestLog.id == InboxMember.request_id)
                .where(func.lower(RequestLog.text).contains(needle, autoescape=True)))
        query = query.where(or_(InboxMember.group_id.in_(hits),
                                func.lower(InboxGroup.label).contains(needle, autoescape=True)))
    people, messages, first, last = defaultdict(list), Counter(), {}, {}
    examples = defaultdict(list)
    for group_id, sender, client, created, text in db.execute(query.order_by(RequestLog.created_at.desc())):
        people[group_id].append((sender, client))
        messages[group_id] += 1
        last.setdefault(group_id, created)
        first[group_id] = created
        if len(examples[group_id]) < EXAMPLES and text not in examples[group_id]:
            examples[group_id].append(text)
    counted = {gid: askers(rows) for gid, rows in people.items()}
    ids = sorted(counted, key=lambda gid: (-counted[gid], -messages[gid], -last[gid].timestamp()))[:limit]
    groups = {g.id: g for g in db.scalars(select(InboxGroup).where(InboxGroup.id.in_(ids)))}
    return [{"group": groups[gid], "askers": counted[gid], "count": messages[gid],
             "first": first[gid], "last": last[gid], "examples": examples[gid]} for gid in ids]


def outbox_counts(db, group_id: int) -> dict:
    """How many answers of a group are in each outbox status."""
    return dict(db.execute(select(OutboxMessage.status, func.count())
                           .where(OutboxMessage.group_id == group_id)
                           .group_by(OutboxMessage.status)).all())


@dataclass
class LinkPlan:
    """What linking a group to a fact-check would send, to whom, shown before it is sent."""

    claim: Claim
    send: int = 0  # WhatsApp askers inside the 24-hour window: sent now
    outside: int = 0  # WhatsApp askers past the window: WhatsApp forbids writing to them
    already: int = 0  # WhatsApp askers who have (or are getting) this fact-check
    answered: int = 0  # WhatsApp askers sent another fact-check: their address went with it
    web: int = 0  # web askers: no address; their page shows the answer (a follow-up code)
    messages: list[dict] = field(default_factory=list)  # per language: text, html, count
    previous: Claim | None = None  # the fact-check the group is linked to now, if another
    previous_sent: int = 0
    previous_pending: int = 0  # cancelled by the new link

    @property
    def published(self) -> bool:
        """Whether the fact-check can be sent now."""
        return self.claim.status == "published"


def link_plan(db, group: InboxGroup, claim: Claim) -> LinkPlan:
    """Count who a link would answer and how, and give the exact messages (no change made)."""
    plan = LinkPlan(claim)
    rows = db.scalars(
        select(RequestLog).join(InboxMember, InboxMember.request_id == RequestLog.id)
        .where(InboxMember.group_id == group.id)
        .order_by(RequestLog.created_at.desc(), RequestLog.id.desc())).all()
    done = set(db.scalars(
        select(RequestLog.sender_hash).join(OutboxMessage, OutboxMessage.request_id == RequestLog.id)
        .where(OutboxMessage.claim_id == claim.id, OutboxMessage.status.in_(LIVE))))
    answered = set(db.scalars(
        select(RequestLog.sender_hash).join(OutboxMessage, OutboxMessage.request_id == RequestLog.id)
        .where(OutboxMessage.group_id == group.id, OutboxMessage.status == "sent")))
    seen, languages = set(), Counter()
    web = [(r.sender_hash, r.client_hash) for r in rows if r.channel != "whatsapp"]
    plan.web = askers(set(web))
    for row in rows:
        if row.channel != "whatsapp" or row.sender_hash in seen:
            continue
        seen.add(row.sender_hash)
        if row.sender_hash in done:
            plan.already += 1
        elif window_open(db, row.id):
            plan.send += 1
            languages[row.lang or "id"] += 1
        elif row.sender_hash in answered:
            plan.answered += 1
        else:
            plan.outside += 1
    for lang in sorted(languages or {"id": 0}, key=lambda code: (-languages[code], code)):
        text = replies.match(claim, replies.pick_lang(lang))
        plan.messages.append({"lang": lang, "count": languages[lang], "text": text,
                              "html": to_html(text), "chars": wa_len(text), "max": MAX_CHARS})
    if group.claim_id and group.claim_id != claim.id:
        plan.previous = db.get(Claim, group.claim_id)
        counts = outbox_counts_for(db, group.id, group.claim_id)
        plan.previous_sent = counts.get("sent", 0)
        plan.previous_pending = counts.get("pending", 0)
    return plan


def outbox_counts_for(db, group_id: int, claim_id: str) -> dict:
    """How many answers of a group with one fact-check are in each outbox status."""
    return dict(db.execute(select(OutboxMessage.status, func.count())
                           .where(OutboxMessage.group_id == group_id, OutboxMessage.claim_id == claim_id)
                           .group_by(OutboxMessage.status)).all())


def link_group(db, group: InboxGroup, claim_id: str, who: str) -> dict:
    """Tie a group to a fact-check; if it is published, queue the answers.

    Answers of another fact-check still waiting to go are cancelled; those sent stay sent.
    """
    if group.claim_id and group.claim_id != claim_id:
        cancel_group(db, group.id, f"linked to another fact-check by {who}")
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


def unlink_group(db, group: InboxGroup, who: str) -> int:
    """Undo a link: the group is open again; pending answers are cancelled, sent ones stay."""
    cancelled = cancel_group(db, group.id, f"unlinked by {who}")
    group.status, group.claim_id, group.updated_at = "open", None, utcnow()
    sent = select(OutboxMessage.request_id).where(OutboxMessage.group_id == group.id,
                                                  OutboxMessage.status == "sent")
    members = select(InboxMember.request_id).where(InboxMember.group_id == group.id)
    db.execute(update(RequestLog).where(RequestLog.id.in_(members), RequestLog.id.not_in(sent),
                                        RequestLog.channel == "whatsapp").values(status="open"))
    db.execute(update(RequestLog).where(RequestLog.id.in_(members), RequestLog.channel != "whatsapp")
               .values(status="open"))
    return cancelled


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


def groups_published(db, claim_id: str) -> list[InboxGroup]:
    """A fact-check was published: the groups waiting for it, to be confirmed and answered."""
    return list(db.scalars(select(InboxGroup).where(InboxGroup.claim_id == claim_id,
                                                    InboxGroup.status == "open")))


def _set_request_status(db, group_id: int, status: str, only: str | None = None) -> None:
    members = select(InboxMember.request_id).where(InboxMember.group_id == group_id)
    query = update(RequestLog).where(RequestLog.id.in_(members))
    if only:
        query = query.where(RequestLog.status == only)
    db.execute(query.values(status=status))


def _group_or_404(db, group_id: int) -> InboxGroup:
    group = db.get(InboxGroup, group_id)
    if group is None:
        abort(404)
    return group


def _accounts(db) -> list[EditorAccount]:
    return list(db.scalars(select(EditorAccount).where(EditorAccount.active.is_(True))
                           .order_by(EditorAccount.username)))


@bp.get("/inbox")
def inbox():
    """The groups of one status, most askers first: search, filter by assignee, act in bulk."""
    db = get_session()
    status = request.args.get("status", "open")
    if status not in STATUS_TABS:
        status = "open"
    q = (request.args.get("q") or "").strip()[:200]
    who = request.args.get("who", "")
    assignee = {"me": current_account().id, "none": "none"}.get(who)
    if assignee is None and who.isdigit():
        assignee = int(who)
    waiting = db.scalar(
        select(func.count()).select_from(RequestLog)
        .outerjoin(InboxMember, InboxMember.request_id == RequestLog.id)
        .where(RequestLog.status == "open", InboxMember.request_id.is_(None)))
    troubled = db.scalar(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.status.in_(("failed", "uncertain"))))
    accounts = _accounts(db)
    return render_template("editors/inbox.html", groups=group_summaries(db, status, q=q, assignee=assignee),
                           status=status, q=q, who=who, accounts=accounts,
                           names={a.id: a.username for a in accounts}, ungrouped=waiting,
                           troubled=troubled, askers_per_client=ASKERS_PER_CLIENT)


@bp.post("/inbox/dismiss")
def inbox_dismiss_many():
    """Dismiss the ticked open groups at once."""
    db = get_session()
    ids = [int(i) for i in request.form.getlist("group") if i.isdigit()]
    done = 0
    for group in db.scalars(select(InboxGroup).where(InboxGroup.id.in_(ids), InboxGroup.status == "open")):
        _dismiss(db, group)
        done += 1
    db.commit()
    flash(ngettext("%(num)d group dismissed.", "%(num)d groups dismissed.", done) if done else
          _("No group ticked."), "ok" if done else "error")
    return redirect(url_for("editors.inbox", **{k: v for k, v in request.args.items()}))


def _dismiss(db, group: InboxGroup) -> None:
    group.status, group.updated_at = "dismissed", utcnow()
    _set_request_status(db, group.id, "dismissed", only="open")


@bp.get("/inbox/<int:group_id>")
def inbox_group(group_id: int):
    """One group: every question, the outbox, and a search to link it to a fact-check."""
    db = get_session()
    group = db.get(InboxGroup, group_id)
    if group is None:
        return render_template("editors/message.html", message=_("No such group.")), 404
    members = db.scalars(select(RequestLog).join(InboxMember, InboxMember.request_id == RequestLog.id)
                         .where(InboxMember.group_id == group_id)
                         .order_by(RequestLog.created_at.desc())).all()
    # The search starts from the group's own words: the closest fact-checks are there at once.
    q = (request.args.get("q") or "").strip() or (group.label if group.status in ("open", "linked") else "")
    results = []
    if q:
        found = wiring().searcher.search(q, k=8)
        results = load_published(db, [m.id for m in found.matches])
    linked = db.get(Claim, group.claim_id) if group.claim_id else None
    sends = db.execute(select(OutboxMessage, Claim.title)
                       .outerjoin(Claim, Claim.id == OutboxMessage.claim_id)
                       .where(OutboxMessage.group_id == group_id)
                       .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())).all()
    accounts = _accounts(db)
    return render_template("editors/group.html", group=group, members=members, q=q,
                           results=results, linked=linked, outbox=outbox_counts(db, group_id),
                           sends=sends, accounts=accounts,
                           askers=askers((m.sender_hash, m.client_hash) for m in members))


@bp.get("/inbox/<int:group_id>/link")
def inbox_link_preview(group_id: int):
    """Before linking: who gets what, inside or outside the 24-hour window, and the message."""
    db = get_session()
    group = _group_or_404(db, group_id)
    claim = db.get(Claim, request.args.get("claim_id", "")) or abort(404)
    return render_template("editors/link_confirm.html", group=group, plan=link_plan(db, group, claim))


@bp.post("/inbox/<int:group_id>/link")
def inbox_link(group_id: int):
    """Link a group to a fact-check as confirmed (and answer the askers if it is published)."""
    db = get_session()
    group = db.get(InboxGroup, group_id)
    claim = db.get(Claim, request.form.get("claim_id", ""))
    if group is None or claim is None:
        flash(_("Group or fact-check not found."), "error")
        return redirect(url_for("editors.inbox"))
    plan = link_plan(db, group, claim)
    if request.form.get("send", type=int) != plan.send:
        # New askers came in (or windows closed) since the confirmation was shown: show it again.
        return render_template("editors/link_confirm.html", group=group, plan=plan, changed=True), 409
    counts = link_group(db, group, claim.id, actor())
    db.commit()
    wiring().outbox.wake()
    if claim.status == "published":
        flash(_("Linked to %(title)s. Sending to %(sending)d asker(s); outside 24 h: %(outside)d.",
                title=claim.title, sending=counts.get("pending", 0),
                outside=counts.get("skipped_window", 0)), "ok")
    else:
        flash(_("Linked to the draft %(title)s: nothing is sent until it is published; then "
                "review and send from this page.", title=claim.title), "ok")
    return redirect(url_for("editors.inbox_group", group_id=group_id))


@bp.post("/inbox/<int:group_id>/unlink")
def inbox_unlink(group_id: int):
    """Undo a group's link: back to open; what was sent stays sent and listed."""
    db = get_session()
    group = _group_or_404(db, group_id)
    cancelled = unlink_group(db, group, actor())
    db.commit()
    flash(_("Unlinked; %(n)d unsent answer(s) cancelled. Those already sent stay listed.",
            n=cancelled), "ok")
    return redirect(url_for("editors.inbox_group", group_id=group_id))


@bp.post("/inbox/<int:group_id>/dismiss")
def inbox_dismiss(group_id: int):
    """Dismiss a group: not worth a fact-check."""
    db = get_session()
    group = db.get(InboxGroup, group_id)
    if group is not None and group.status == "open":
        _dismiss(db, group)
        db.commit()
        flash(_("Group dismissed."), "ok")
    return redirect(url_for("editors.inbox"))


@bp.post("/inbox/<int:group_id>/reopen")
def inbox_reopen(group_id: int):
    """Bring a dismissed group back to the open inbox."""
    db = get_session()
    group = _group_or_404(db, group_id)
    if group.status == "dismissed":
        group.status, group.updated_at = "open", utcnow()
        _set_request_status(db, group.id, "open", only="dismissed")
        db.commit()
        flash(_("Group reopened."), "ok")
    return redirect(url_for("editors.inbox_group", group_id=group_id))


@bp.post("/inbox/<int:group_id>/assign")
def inbox_assign(group_id: int):
    """Give a group to an editor (or to nobody)."""
    db = get_session()
    group = _group_or_404(db, group_id)
    chosen = request.form.get("assignee_id", type=int)
    account = db.get(EditorAccount, chosen) if chosen else None
    if chosen and (account is None or not account.active):
        flash(_("No such account."), "error")
    else:
        group.assignee_id, group.updated_at = (account.id if account else None), utcnow()
        db.commit()
        flash(_("Assigned to %(name)s.", name=account.username) if account else
              _("Assigned to nobody."), "ok")
    if request.form.get("back") == "inbox":
        return redirect(url_for("editors.inbox"))
    return redirect(url_for("editors.inbox_group", group_id=group_id))


@bp.get("/outbox")
def outbox_page():
    """The answers that did not go out as planned, with why, and a retry for each."""
    db = get_session()
    status = request.args.get("status", "trouble")
    wanted = {"trouble": ("failed", "uncertain"), "all": None}.get(status, (status,))
    query = (select(OutboxMessage, Claim.title, RequestLog.channel)
             .outerjoin(Claim, Claim.id == OutboxMessage.claim_id)
             .join(RequestLog, RequestLog.id == OutboxMessage.request_id)
             .order_by(OutboxMessage.updated_at.desc(), OutboxMessage.id.desc()).limit(200))
    if wanted:
        query = query.where(OutboxMessage.status.in_(wanted))
    rows = db.execute(query).all()
    open_windows = {row.id: window_open(db, row.request_id) for row, _, _ in rows}
    return render_template("editors/outbox.html", rows=rows, status=status, windows=open_windows)


@bp.post("/outbox/<int:row_id>/retry")
def outbox_retry(row_id: int):
    """Send a failed or uncertain answer again, as the editor decided."""
    db = get_session()
    try:
        row = retry(db, row_id, actor(), checked=request.form.get("checked") == "1")
    except NotRetryable as exc:
        db.rollback()
        flash(str(exc), "error")
    else:
        db.commit()
        wiring().outbox.wake()
        flash(_("Queued to send again."), "ok")
        if request.form.get("back") == "group" and row.group_id:
            return redirect(url_for("editors.inbox_group", group_id=row.group_id))
    back = request.form.get("back")
    group_id = request.form.get("group_id", type=int)
    if back == "group" and group_id:
        return redirect(url_for("editors.inbox_group", group_id=group_id))
    return redirect(url_for("editors.outbox_page"))
