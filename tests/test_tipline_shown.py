"""tipline/shown.py: the fact-checks a process keeps between messages, and when it lets them go."""

from sqlalchemy import event

from claims.store import library_revision, save_claim, set_status
from tipline.shown import ShownClaims


def claim(n, **extra):
    return {"id": f"c{n}", "title": f"Judul {n}", "claim": f"Klaim {n}", "verdict": "HOAKS",
            "summary": f"Ringkasan {n}.", "url": f"https://cekfakta.example.org/{n}", **extra}


def reads(session):
    """Count the SELECTs run on the session's database from now on."""
    seen = []
    event.listen(session.get_bind(), "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: seen.append(statement)
                 if statement.lstrip().upper().startswith("SELECT") else None)
    return seen


def test_kept_claims_are_read_once_per_revision_and_snapshot(session):
    for n in range(3):
        save_claim(session, claim(n))
    session.commit()
    shown, revision = ShownClaims(), library_revision(session)
    seen = reads(session)
    first = shown.load(session, ["c0", "c1", "gone"], revision, "snap-a")
    assert [c.title for c in first.values()] == ["Judul 0", "Judul 1"] and len(seen) == 1
    assert shown.load(session, ["c1", "c0"], revision, "snap-a") == first and len(seen) == 1
    assert shown.load(session, ["c0"], revision, "snap-b")["c0"].title == "Judul 0"
    assert len(seen) == 2  # another index snapshot (a rebuild, a restore): read again


def test_a_new_revision_drops_only_the_claims_changed_since(session):
    for n in range(3):
        save_claim(session, claim(n))
    session.commit()
    shown = ShownClaims()
    shown.load(session, ["c0", "c1", "c2"], library_revision(session), None)
    save_claim(session, claim(1, title="Judul baru"))
    set_status(session, "c2", "draft")
    session.commit()
    revision = library_revision(session)
    seen = reads(session)
    found = shown.load(session, ["c0", "c1", "c2"], revision, None)
    assert found["c1"].title == "Judul baru" and "c2" not in found and found["c0"].title == "Judul 0"
    assert len(seen) == 2  # the ids changed since, then those two: c0 came from the copy


def test_the_copy_keeps_at_most_its_size(session):
    for n in range(3):
        save_claim(session, claim(n))
    session.commit()
    shown, revision = ShownClaims(size=2), library_revision(session)
    shown.load(session, ["c0", "c1", "c2"], revision, None)
    seen = reads(session)
    shown.load(session, ["c1", "c2"], revision, None)
    assert seen == []
    shown.load(session, ["c0"], revision, None)
    assert len(seen) == 1  # the oldest went
