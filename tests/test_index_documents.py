"""The index's table of documents: ids, keys, digests and vector counts in arrays."""
import hashlib
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import index.documents as documents_module
from index.documents import DocumentTable

IDS = ["chip", "bansos", "gempa", "5g", "vaksin-anak", "banjir/garut", "émoji-🙂", "a", "b", "c"]


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class Reference:
    """The dicts HybridIndex kept before: id -> (key, digest, vectors), in the order added."""

    def __init__(self):
        self.docs: dict[str, tuple[int, str, int]] = {}


def assert_same(table: DocumentTable, ref: Reference):
    assert len(table) == len(ref.docs)
    assert table.ids() == list(ref.docs)
    by_key = {key: doc_id for doc_id, (key, _, _) in ref.docs.items()}
    for doc_id in IDS + ["unknown"]:
        found = ref.docs.get(doc_id)
        assert (doc_id in table) == (found is not None)
        assert table.key(doc_id) == (found[0] if found else None)
        assert table.digest(doc_id) == (found[1] if found else None)
    keys = list(range(40))
    for key in keys:
        if key in by_key:
            assert table.id(key) == by_key[key]
        else:
            with pytest.raises(KeyError):
                table.id(key)
    counts = [ref.docs[by_key[k]][2] if k in by_key else 0 for k in keys]
    assert [table.vectors(k) for k in keys] == counts
    np.testing.assert_array_equal(table.vector_counts(keys), counts)


operations = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sampled_from(IDS), st.text(max_size=5), st.integers(0, 4)),
    st.tuples(st.just("remove"), st.sampled_from(IDS + ["unknown"])),
    st.tuples(st.just("compact")),
    st.tuples(st.just("state")),
), max_size=40)


@given(operations, st.integers(0, 6))
def test_any_sequence_of_changes_reads_as_the_dicts(ops, compact_from):
    """Adds, replacements, removals, folds of the overlay (by hand, and by size) and round trips
    through state() read as the dicts they replace."""
    table, ref, next_key = DocumentTable(), Reference(), 1
    with mock.patch.object(documents_module, "COMPACT_MIN", compact_from), \
            mock.patch.object(documents_module, "COMPACT_SHARE", 0.5):
        for op in ops:
            if op[0] == "add":
                table.add(op[1], next_key, digest(op[2]), op[3])
                ref.docs.pop(op[1], None)
                ref.docs[op[1]] = (next_key, digest(op[2]), op[3])
                next_key += 1
            elif op[0] == "remove":
                gone = ref.docs.pop(op[1], None)
                assert table.remove(op[1]) == (gone[0] if gone else None)
            elif op[0] == "compact":
                table.compact()
            else:
                table = DocumentTable.from_state(table.state())
            assert_same(table, ref)


def test_the_base_is_arrays_and_older_dicts_load():
    keys = {"chip": 3, "bansos": 1, "gempa": 7}
    digests = {doc_id: digest(doc_id) for doc_id in keys}
    table = DocumentTable.from_dicts(keys, digests, {3: 2, 7: 1})
    state = table.state()
    assert {k: v.dtype for k, v in state.items() if k in ("keys", "digests", "rows", "vectors")} == {
        "keys": np.int64, "digests": np.uint8, "rows": np.int32, "vectors": np.uint8}
    assert state["digests"].shape == (3, 20)
    ref = Reference()
    ref.docs = {"bansos": (1, digests["bansos"], 0), "chip": (3, digests["chip"], 2),
                "gempa": (7, digests["gempa"], 1)}
    assert_same(table, ref)
    table.add("chip", 8, digest("new"), 1)
    ref.docs.pop("chip")
    ref.docs["chip"] = (8, digest("new"), 1)
    assert_same(table, ref)
