"""The index's vectors: a FAISS index memory-mapped from a snapshot, with an overlay of changes."""
from unittest import mock

import faiss
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import index.vectors as vectors_module
from index.vectors import VectorStore, flat_index

DIM = 16
SLOTS = 40


def vectors_for(slot: int, version: int) -> np.ndarray:
    """Give a slot's two vectors (distinct everywhere: no ties between scores)."""
    rng = np.random.default_rng(slot * 1000 + version)
    v = rng.standard_normal((2, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def ids_of(slot: int, version: int) -> np.ndarray:
    return np.array([(slot * 100 + version) * 4, (slot * 100 + version) * 4 + 1], np.int64)


def base_index(kind: str, rng) -> faiss.Index:
    train = rng.standard_normal((400, DIM)).astype(np.float32)
    if kind == "flat":
        return flat_index(DIM)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, 8, faiss.METRIC_INNER_PRODUCT)
    ivf.train(train)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivf.nprobe = 3
    return ivf


def mapped(index: faiss.Index, path) -> VectorStore:
    """Write an index and give it back as a mapped VectorStore, as a snapshot loads it."""
    faiss.write_index(index, str(path))
    return VectorStore(DIM, faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC), mapped=True)


def assert_same(store: VectorStore, ref: faiss.Index, live: dict):
    assert store.ntotal == ref.ntotal
    queries = np.random.default_rng(5).standard_normal((6, DIM)).astype(np.float32)
    for q in queries:
        for k in (1, 5, 30):
            got, want = store.search(q[None], k), ref.search(q[None], k)
            np.testing.assert_array_equal(got[1], want[1])
            np.testing.assert_array_equal(got[0][got[1] >= 0], want[0][want[1] >= 0])  # bit for bit
    if live:
        ids = np.concatenate([ids_of(*sv) for sv in live.values()])
        np.testing.assert_array_equal(store.reconstruct_batch(ids), ref.reconstruct_batch(ids))
    ids, vectors = store.everything()
    assert sorted(ids.tolist()) == sorted(np.concatenate([ids_of(*sv) for sv in live.values()]).tolist()
                                          if live else [])
    if len(ids):
        np.testing.assert_array_equal(vectors, ref.reconstruct_batch(ids))


operations = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, SLOTS - 1)),
    st.tuples(st.just("remove"), st.integers(0, SLOTS - 1)),
    st.tuples(st.just("own")),
    st.tuples(st.just("save")),
), max_size=40)


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=60)
@given(ops=operations, fold_from=st.integers(0, 12))
def test_a_mapped_index_and_its_overlay_search_as_the_index_changed_in_place(tmp_path, kind, ops, fold_from):
    """Adds, replacements, removals, folds into an owned copy (by hand and by size) and round
    trips through a file read memory-mapped give the same ids, scores (bit for bit) and vectors
    as one FAISS index changed in place."""
    rng = np.random.default_rng(1)
    ref = base_index(kind, rng)
    first = {slot: (slot, 0) for slot in range(0, SLOTS, 2)}
    for slot, version in first.values():
        ref.add_with_ids(vectors_for(slot, version), ids_of(slot, version))
    store = mapped(ref, tmp_path / "v.faiss")
    live, version = dict(first), 1
    with mock.patch.object(vectors_module, "COMPACT_MIN", fold_from), \
            mock.patch.object(vectors_module, "COMPACT_SHARE", 0.2):
        for at, op in enumerate(ops):
            if op[0] in ("add", "remove") and op[1] in live:
                gone = ids_of(*live.pop(op[1]))
                store.remove(gone)
                ref.remove_ids(gone)
            if op[0] == "add":
                live[op[1]] = (op[1], version)
                store.add(vectors_for(op[1], version), ids_of(op[1], version))
                ref.add_with_ids(vectors_for(op[1], version), ids_of(op[1], version))
                version += 1
            elif op[0] == "own":
                store.own()
                assert not store.mapped and not store.changed
            elif op[0] == "save":
                if store.changed:
                    store.own()
                store = mapped(store.index, tmp_path / f"v{at}.faiss")
            assert_same(store, ref, live)


def test_faiss_cannot_change_a_mapped_index_so_the_overlay_takes_the_changes(tmp_path):
    rng = np.random.default_rng(2)
    ref = base_index("ivf", rng)
    ref.add_with_ids(vectors_for(1, 0), ids_of(1, 0))
    store = mapped(ref, tmp_path / "v.faiss")
    before = (tmp_path / "v.faiss").read_bytes()
    store.add(vectors_for(2, 0), ids_of(2, 0))
    store.remove(ids_of(1, 0))
    assert store.mapped and store.changed and store.ntotal == 2 and store.index.ntotal == 2
    assert (tmp_path / "v.faiss").read_bytes() == before
    assert store.search(vectors_for(2, 0)[:1], 1)[1][0, 0] == ids_of(2, 0)[0]
    store.own()
    assert not store.mapped and store.index.ntotal == 2 and store.partitioned
