"""Nodes with index folders of their own follow one another's rebuilds, and a library that went back."""
import pytest
from sqlalchemy import delete, update

import claims.db
from app import IndexBuild, parts
from claims.models import Claim, ClaimHistory, LibraryState
from index.store import IndexStore
from tests.conftest import add_claims, make_app
from tests.nodes import wait_for

pytestmark = pytest.mark.db

CHIP = {"id": "vaksin-chip", "title": "Vaksin berisi microchip pelacak", "verdict": "HOAKS",
        "claim": "Vaksin COVID berisi microchip untuk melacak orang", "url": "https://example.org/chip"}
GERHANA = {"id": "gerhana", "title": "Gerhana matahari membuat ponsel meledak", "verdict": "HOAKS",
           "claim": "Ponsel meledak saat gerhana matahari", "url": "https://example.org/gerhana"}


@pytest.fixture
def two_nodes(tmp_path):
    """Two apps on one database (one folder), each with its own index folder: two nodes."""
    made = [make_app(tmp_path, INDEX_DIR=str(tmp_path / f"index-{name}")) for name in "ab"]
    yield made
    for app in made:
        parts(app).searcher.stop()
        claims.db.get_engine(app).dispose()


def store(app) -> IndexStore:
    return parts(app).searcher.service.store


def recorded(app):
    with claims.db.session_scope(app) as session:
        row = session.get(IndexBuild, 1)
        return (row.build, row.encoder_spec) if row else None


def test_a_rebuild_is_recorded_and_the_other_node_rebuilds_as_it(two_nodes):
    a, b = two_nodes
    add_claims(a, [CHIP])
    assert b.test_cli_runner().invoke(args=["index", "rebuild"]).exit_code == 0  # b's own, first
    result = a.test_cli_runner().invoke(args=["index", "rebuild", "--encoder", "fake:24"])
    assert result.exit_code == 0, result.output
    build, spec = recorded(a)
    assert spec == "fake:24" and store(a).meta()["build"] == build

    status = b.test_cli_runner().invoke(args=["index", "status"]).output
    assert f"not the last rebuild recorded by the nodes ({build}, fake:24)" in status
    parts(b).searcher.sync_once()  # notices the build: rebuilds in the background
    wait_for(lambda: store(b).current_build() == build, 20, what="node b rebuilding")
    parts(b).searcher.sync_once()  # and swaps it in
    status = b.test_cli_runner().invoke(args=["index", "status"]).output
    assert f"Build:      {build}, the last rebuild recorded by the nodes" in status
    assert parts(b).searcher.encoder.spec == "fake:24"
    assert [m.id for m in parts(b).searcher.search("vaksin microchip pelacak").matches][:1] == ["vaksin-chip"]
    assert recorded(b) == (build, spec)  # following records nothing new


def test_a_node_starting_catches_up_with_the_recorded_build_without_a_new_one(two_nodes):
    a, b = two_nodes
    add_claims(a, [CHIP])
    assert a.test_cli_runner().invoke(args=["index", "rebuild"]).exit_code == 0
    before = recorded(a)
    # What scripts/run.sh runs on a node as it starts.
    result = b.test_cli_runner().invoke(args=["index", "rebuild", "--if-needed"])
    assert result.exit_code == 0, result.output
    assert recorded(a) == before and store(b).meta()["build"] == before[0]
    again = b.test_cli_runner().invoke(args=["index", "rebuild", "--if-needed"])
    assert "up to date" in again.output


def test_a_library_that_went_back_is_indexed_again(two_nodes):
    a, b = two_nodes
    add_claims(a, [CHIP])
    assert b.test_cli_runner().invoke(args=["index", "rebuild"]).exit_code == 0
    add_claims(a, [GERHANA])
    searcher = parts(b).searcher
    searcher.sync_once()
    assert "gerhana" in [m.id for m in searcher.search("gerhana matahari ponsel meledak").matches]
    # A restore of a backup made before GERHANA (pg_restore on PostgreSQL): the revision goes back.
    with claims.db.session_scope(a) as session:
        session.execute(delete(ClaimHistory).where(ClaimHistory.claim_id == "gerhana"))
        session.execute(delete(Claim).where(Claim.id == "gerhana"))
        session.execute(update(LibraryState).values(revision=LibraryState.revision - 1))
    snapshot = store(b).current_name()
    searcher.sync_once()
    wait_for(lambda: store(b).current_name() != snapshot, 20, what="node b rebuilding")
    searcher.sync_once()
    assert "gerhana" not in [m.id for m in searcher.search("gerhana matahari ponsel meledak").matches]
