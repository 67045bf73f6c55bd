"""Hoax groups in the library (claims/groups.py): automatic grouping, editors' choices, best member."""
from datetime import date

import pytest
from sqlalchemy import func, select

import claims.db
from claims.errors import ClaimNotFound
from claims.groups import (HoaxGroup, HoaxMember, assign_groups, best_member, confirm_group,
                           confirmed_ids, group_ids, join_group, members, numbers_apart, numbers_differ,
                           published_groups, split_out, ungrouped_published)
from claims.models import Claim
from claims.store import save_claim

pytestmark = pytest.mark.db

THRESHOLD = 0.9


def similar_from(table):
    """A Similar function from a fixed table {claim: [(other, similarity), …]}; records calls."""
    calls = []

    def similar(found):
        calls.append([c.id for c in found])
        return {c.id: table.get(c.id, []) for c in found}
    similar.calls = calls
    return similar


def add(app, *ids, status="published", **fields):
    with claims.db.session_scope(app) as session:
        for claim_id in ids:
            save_claim(session, {"id": claim_id, "title": f"Judul {claim_id}", "status": status,
                                 **fields})


def groups(app):
    """Give the library's groups as sets of claim ids."""
    with claims.db.session_scope(app) as session:
        found = {}
        for member in session.scalars(select(HoaxMember)):
            found.setdefault(member.group_id, set()).add(member.claim_id)
        return sorted((frozenset(g) for g in found.values()), key=sorted)


def run(app, ids, table, threshold=THRESHOLD):
    similar = similar_from(table)
    with claims.db.session_scope(app) as session:
        report = assign_groups(session, ids, similar, threshold)
    return report, similar


def test_a_new_fact_check_joins_its_most_similar_one_above_the_threshold(claims_app):
    add(claims_app, "a", "b", "c")
    run(claims_app, ["a", "b"], {})
    report, _ = run(claims_app, ["c"], {"c": [("b", 0.95), ("a", 0.93)]})
    assert report.grouped == 1 and report.joined == [("c", "b", 0.95)]
    assert groups(claims_app) == [frozenset({"a"}), frozenset({"b", "c"})]


@pytest.mark.parametrize("similarity, together", [(0.9, True), (0.8999, False)])
def test_the_threshold_decides(claims_app, similarity, together):
    add(claims_app, "a", "b")
    run(claims_app, ["a", "b"], {"b": [("a", similarity)]})
    assert (frozenset({"a", "b"}) in groups(claims_app)) is together
    assert len(groups(claims_app)) == (1 if together else 2)


@pytest.mark.parametrize("a, b, differ", [
    ("Darwin Awards 2019 winner", "Darwin Awards 2020 winner", True),
    ("Kupon Alfamart Rp 100.000", "Kupon Alfamart Rp 75.000", True),
    ("Bansos Rp 3,5 juta", "Bansos Rp 3,5 juta cair besok", False),  # the same number
    ("Bansos Rp 3.500.000 via link", "Bansos via link", False),  # only one states a number
    ("Video banjir 2024", "Video banjir 2024 di Bekasi, 12 rumah hanyut", False),  # one adds one
    ("Gempa 9 SR", "Gempa 09 SR", False),  # leading zeros
])
def test_numbers_differ_only_when_each_states_one_the_other_does_not(a, b, differ):
    assert numbers_differ(Claim(id="a", title=a), Claim(id="b", title=b)) is differ


def test_a_neighbour_whose_numbers_differ_is_passed_over_for_the_next(claims_app):
    add(claims_app, "a", title="Kupon belanja Alfamart Rp 100.000 gratis")
    add(claims_app, "b", title="Kupon belanja Alfamart Rp 75.000 gratis")
    add(claims_app, "c", title="Kupon belanja Alfamart gratis lewat WhatsApp")
    add(claims_app, "d", title="Kupon belanja Alfamart Rp 75.000 gratis, sebarkan")
    run(claims_app, ["a", "b", "c"], {})
    # a is the closest, but states 100.000 where d states 75.000: passed over for c, which
    # states no number.
    report, _ = run(claims_app, ["d"], {"d": [("a", 0.99), ("c", 0.95)]})
    assert report.joined == [("d", "c", 0.95)]
    assert frozenset({"c", "d"}) in groups(claims_app)


def test_a_claim_with_only_neighbours_whose_numbers_differ_stands_alone(claims_app):
    add(claims_app, "a", title="Darwin Awards 2019")
    add(claims_app, "b", title="Darwin Awards 2020")
    run(claims_app, ["a"], {})
    report, _ = run(claims_app, ["b"], {"b": [("a", 0.999)]})
    assert report.grouped == 0 and report.alone == 1
    assert groups(claims_app) == [frozenset({"a"}), frozenset({"b"})]


def test_twins_in_one_batch_end_in_one_group_and_each_is_looked_up_once(claims_app):
    add(claims_app, "a", "b", "c")
    report, similar = run(claims_app, ["a", "b", "c"], {
        "a": [("b", 0.97)], "b": [("a", 0.97)], "c": [("a", 0.5)]})
    assert groups(claims_app) == [frozenset({"a", "b"}), frozenset({"c"})]
    assert similar.calls == [["a", "b", "c"]]  # one call for the batch
    assert (report.grouped, report.alone) == (1, 1)


def test_drafts_grouped_claims_and_unknown_similar_ids_are_left_alone(claims_app):
    add(claims_app, "a", "b")
    add(claims_app, "draft", status="draft")
    run(claims_app, ["a"], {})
    report, similar = run(claims_app, ["a", "draft", "b", "missing"],
                          {"b": [("draft", 0.99), ("nowhere", 0.99), ("b", 1.0)]})
    assert similar.calls == [["b"]]  # a is grouped, the draft is not published
    assert report.alone == 1 and groups(claims_app) == [frozenset({"a"}), frozenset({"b"})]
    with claims.db.session_scope(claims_app) as session:
        assert ungrouped_published(session) == []
        assert group_ids(session, ["draft"]) == {}


def test_nothing_to_group_asks_nothing(claims_app):
    add(claims_app, "a")
    run(claims_app, ["a"], {})
    _, similar = run(claims_app, ["a"], {})
    assert similar.calls == []


def test_an_editors_split_is_never_undone_and_new_ones_may_join_it(claims_app):
    add(claims_app, "a", "b", "c")
    run(claims_app, ["a", "b"], {"b": [("a", 0.99)]})
    with claims.db.session_scope(claims_app) as session:
        split_out(session, "b", actor="ani")
    run(claims_app, ["a", "b"], {"a": [("b", 0.99)], "b": [("a", 0.99)]})
    assert groups(claims_app) == [frozenset({"a"}), frozenset({"b"})]
    run(claims_app, ["c"], {"c": [("b", 0.96)]})
    assert groups(claims_app) == [frozenset({"a"}), frozenset({"b", "c"})]
    with claims.db.session_scope(claims_app) as session:
        assert confirmed_ids(session, ["a", "b", "c"]) == {"b"}  # c joined by itself


def test_confirm_join_and_split_as_an_editor(claims_app):
    add(claims_app, "a", "b", "c", "d")
    run(claims_app, ["a", "b", "c", "d"], {"b": [("a", 0.99)]})
    with claims.db.session_scope(claims_app) as session:
        assert confirm_group(session, "b", actor="ani") == 2
        assert confirmed_ids(session, ["a", "b", "c"]) == {"a", "b"}
        join_group(session, "c", "a", actor="budi")
        rows = members(session, "c")
        assert rows[0][0].id == "c" and {c.id for c, _ in rows} == {"a", "b", "c"}
        assert {m.actor for _, m in rows} == {"ani", "budi"}
        split_out(session, "a", actor="ani")
    assert groups(claims_app) == [frozenset({"a"}), frozenset({"b", "c"}), frozenset({"d"})]
    with claims.db.session_scope(claims_app) as session:
        # c's old group (c alone) and nothing else went: every group has a member
        empty = select(HoaxGroup.id).where(HoaxGroup.id.not_in(select(HoaxMember.group_id)))
        assert session.scalars(empty).all() == []
        assert session.scalar(select(func.count()).select_from(HoaxGroup)) == 3


def test_editors_group_claims_never_grouped_too(claims_app):
    add(claims_app, "a", "b")
    with claims.db.session_scope(claims_app) as session:
        assert members(session, "a") == [(session.get(Claim, "a"), None)]  # stands alone
        join_group(session, "a", "b", actor="ani")
        assert {c.id for c, _ in members(session, "b")} == {"a", "b"}
        assert confirm_group(session, "b", actor="ani") == 2
    add(claims_app, "c")
    with claims.db.session_scope(claims_app) as session:
        confirm_group(session, "c", actor="ani")  # alone, on purpose
        assert confirmed_ids(session, ["c"]) == {"c"}
        with pytest.raises(ClaimNotFound):
            join_group(session, "a", "nope", actor="ani")
        with pytest.raises(ValueError):
            join_group(session, "a", "a", actor="ani")
        with pytest.raises(ClaimNotFound):
            split_out(session, "nope", actor="ani")


def test_published_groups_lists_the_published_members_only(claims_app):
    add(claims_app, "a", "b", "c")
    run(claims_app, ["a", "b", "c"], {"b": [("a", 0.99)], "c": [("a", 0.99)]})
    with claims.db.session_scope(claims_app) as session:
        session.get(Claim, "c").status = "retired"
    with claims.db.session_scope(claims_app) as session:
        found = published_groups(session, ["a", "b", "lonely"])
        assert {k: [c.id for c in v] for k, v in found.items()} == {"a": ["a", "b"], "b": ["a", "b"]}


def claim(claim_id, verdict="false", url="https://x.example/1", published=date(2025, 1, 1)):
    return Claim(id=claim_id, verdict=verdict, url=url, published=published)


@pytest.mark.parametrize("given, best", [
    ([claim("old", published=date(2024, 1, 1)), claim("new")], "new"),
    ([claim("new-unrated", verdict="unrated"), claim("old", published=date(2024, 1, 1))], "old"),
    ([claim("new-no-link", url=None), claim("old", published=date(2024, 1, 1))], "old"),
    ([claim("undated", published=None), claim("dated")], "dated"),
    ([claim("first"), claim("second")], "first"),  # a tie: the search's order
])
def test_best_member(given, best):
    assert best_member(given).id == best


@pytest.mark.parametrize("a, b, apart", [
    ("Bansos Rp 600 ribu", "Bansos Rp 3,5 juta", (["600"], ["3,5"])),
    ("Darwin Awards 2019", "Darwin Awards 2020 (2.019 votes)", ([], ["2020"])),
    ("Kupon 100 dolar", "Kupon 100 dolar", ([], [])),
])
def test_numbers_apart_gives_them_as_stated(a, b, apart):
    assert numbers_apart(Claim(id="a", title=a), Claim(id="b", title=b)) == apart
