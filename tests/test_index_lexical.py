"""The incremental BM25 index."""
import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import index.lexical as lexical_module
from index import vocabulary
from index.lexical import LexicalIndex


@pytest.fixture
def lexical():
    index = LexicalIndex()
    index.add(1, ["vaksin", "chip", "lacak"])
    index.add(2, ["bansos", "daftar", "tautan"])
    index.add(3, ["vaksin", "mandul", "anak"])
    return index


def test_scores_rank_the_document_sharing_rare_terms_first(lexical):
    scores = lexical.scores(["vaksin", "chip"])
    assert set(scores) == {1, 3}
    assert scores[1] > scores[3] > 0


def test_unknown_terms_score_nothing(lexical):
    assert lexical.scores(["gempa"]) == {}


def test_remove_and_replace(lexical):
    lexical.remove(1)
    assert 1 not in lexical and set(lexical.scores(["vaksin", "chip"])) == {3}
    lexical.add(3, ["gempa"])
    assert lexical.scores(["vaksin"]) == {} and set(lexical.scores(["gempa"])) == {3}
    lexical.remove(99)  # unknown: ignored
    assert len(lexical) == 2


def test_max_score_bounds_a_perfect_match(lexical):
    tokens = ["bansos", "daftar"]
    assert 0 < lexical.scores(tokens)[2] <= lexical.max_score(tokens) * 1.3


def test_state_round_trip(lexical):
    copy = LexicalIndex.from_state(lexical.state())
    assert copy.scores(["vaksin", "chip"]) == lexical.scores(["vaksin", "chip"])
    copy.remove(1)
    assert set(copy.scores(["vaksin"])) == {3}


def test_score_arrays_give_the_same_scores_as_the_dict_with_sorted_keys(lexical):
    for tokens in (["vaksin", "chip"], ["vaksin"], ["gempa", "vaksin", "gempa"], ["nothing"]):
        keys, values = lexical.score_arrays(tokens)
        assert list(keys) == sorted(keys)
        assert dict(zip(keys.tolist(), values.tolist())) == pytest.approx(lexical.scores(tokens))


def _textbook_bm25(docs: dict[int, list[str]], query: list[str], k1=1.2, b=0.75) -> dict[int, float]:
    import math
    avg = sum(map(len, docs.values())) / len(docs)
    out = {}
    for key, tokens in docs.items():
        score = 0.0
        for term in set(query):
            tf = tokens.count(term)
            if tf:
                df = sum(term in t for t in docs.values())
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(tokens) / avg))
        if score:
            out[key] = score
    return out


@pytest.mark.parametrize("query", [["langka"], ["umum"], ["umum", "langka", "sedang"]])
def test_score_arrays_match_the_textbook_formula_on_both_paths(query):
    # "langka" is in one document of 200 (sorted-merge path); "umum" is in all (dense path).
    docs = {k: ["umum"] * (1 + k % 3) + (["sedang"] if k % 4 == 0 else []) + (["langka"] if k == 7 else [])
            + [f"kata{k}"] for k in range(1, 201)}
    index = LexicalIndex()
    for key, tokens in docs.items():
        index.add(key, tokens)
    keys, values = index.score_arrays(query)
    assert dict(zip(keys.tolist(), values.tolist())) == pytest.approx(_textbook_bm25(docs, query))


# The arrays: a frozen base, an overlay, compaction, persistence. The reference below keeps each
# document's tokens in a plain dict and computes BM25 with the index's own arithmetic (float32 per
# posting, summed in float64 in the order the query's terms first occur), so the scores must agree
# to the last bit, whatever happened to the index before.

TERMS = ["vaksin", "chip", "banjir", "gempa", "hoaks", "jakarta", "2024", "ü-é", "a" * 40]


class Reference:
    """BM25 over a dict of documents, the plain way."""

    def __init__(self, k1=1.2, b=0.75):
        self.k1, self.b, self.docs = k1, b, {}

    def df(self, term):
        return sum(term in tokens for tokens in self.docs.values())

    def idf(self, term):
        df, n = self.df(term), len(self.docs)
        return math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0

    def scores(self, query):
        if not self.docs:
            return {}
        avg = sum(map(len, self.docs.values())) / len(self.docs) or 1.0
        out = {}
        for term in dict.fromkeys(query):
            idf = self.idf(term)
            for key, tokens in self.docs.items():
                if term in tokens:
                    tf, length = np.float32(tokens.count(term)), np.float32(len(tokens))
                    norm = self.k1 * (1 - self.b + self.b * length / avg)
                    out[key] = out.get(key, 0.0) + float(idf * tf * (self.k1 + 1) / (tf + norm))
        return out

    def max_score(self, query):
        n = len(self.docs)
        unseen = math.log(1 + (n + 0.5) / 0.5) if n else 0.0
        return sum(self.idf(t) or unseen for t in set(query))


def assert_same(index: LexicalIndex, ref: Reference):
    assert len(index) == len(ref.docs)
    assert [k in index for k in range(32)] == [k in ref.docs for k in range(32)]
    for query in (["vaksin"], ["chip", "banjir", "chip"], TERMS, ["tidak-ada"], TERMS[::3] + ["tidak-ada"]):
        keys, values = index.score_arrays(query)
        assert list(keys) == sorted(keys)
        assert dict(zip(keys.tolist(), values.tolist())) == pytest.approx(ref.scores(query), rel=1e-9, abs=0)
        assert index.max_score(query) == pytest.approx(ref.max_score(query), rel=1e-12)
    for term in TERMS + ["tidak-ada"]:
        assert index.idf(term) == pytest.approx(ref.idf(term), rel=1e-12)
    keys = list(range(32))
    counts = [[ref.docs[k].count(t) if k in ref.docs else 0 for t in TERMS] for k in keys]
    np.testing.assert_array_equal(index.tf(keys, TERMS), counts)
    assert index.unseen_idf() == pytest.approx(Reference.max_score(ref, ["tidak-ada"]), rel=1e-12)


operations = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, 31), st.lists(st.sampled_from(TERMS), max_size=12)),
    st.tuples(st.just("remove"), st.integers(0, 31)),
    st.tuples(st.just("compact")),
    st.tuples(st.just("state")),
), max_size=60)


@given(operations, st.integers(0, 8))
def test_any_sequence_of_changes_scores_as_the_reference(ops, compact_from):
    """Adds, replacements, removals, folds of the overlay (by hand, and by size: compact_from
    documents) and round trips through state() all keep BM25 as the reference computes it."""
    index, ref = LexicalIndex(), Reference()
    with mock.patch.object(lexical_module, "COMPACT_MIN", compact_from), \
            mock.patch.object(lexical_module, "COMPACT_SHARE", 0.5):
        for op in ops:
            if op[0] == "add":
                index.add(op[1], op[2])
                ref.docs[op[1]] = list(op[2])
            elif op[0] == "remove":
                index.remove(op[1])
                ref.docs.pop(op[1], None)
            elif op[0] == "compact":
                index.compact()
            else:
                index = LexicalIndex.from_state(index.state())
            assert_same(index, ref)


def test_the_base_is_arrays_and_the_overlay_folds_into_it(lexical):
    lexical.compact()
    assert lexical.state()["keys"].dtype == np.int32 and lexical.state()["tfs"].dtype == np.uint16
    lexical.add(9, ["gempa", "gempa"])
    lexical.remove(3)
    state = lexical.state()  # folds the overlay in
    assert sorted(state["keys"].tolist()) == [1, 1, 1, 2, 2, 2, 9]
    assert list(np.flatnonzero(state["lengths"] >= 0)) == [1, 2, 9]


def test_state_of_older_versions_loads():
    ref = Reference()
    ref.docs = {1: ["vaksin", "chip", "chip"], 2: ["banjir", "jakarta"], 7: ["vaksin", "hoaks", "2024"]}
    postings = {}
    for key, tokens in ref.docs.items():
        for term in tokens:
            postings.setdefault(term, {})[key] = tokens.count(term)
    old = {"k1": 1.2, "b": 0.75, "postings": postings, "lengths": {k: len(t) for k, t in ref.docs.items()}}
    index = LexicalIndex.from_state(old)
    assert_same(index, ref)
    index.add(2, ["gempa"])
    ref.docs[2] = ["gempa"]
    assert_same(index, ref)


def test_terms_whose_hashes_collide_are_told_apart(monkeypatch):
    monkeypatch.setattr(vocabulary, "term_hash", lambda raw: 7)
    vocab, ids = vocabulary.Vocabulary.build(["vaksin", "chip", "banjir"])
    assert [vocab.id(t) for t in ("vaksin", "chip", "banjir", "gempa")] == ids.tolist() + [-1]
    assert [vocab.term(i) for i in ids] == ["vaksin", "chip", "banjir"]


def test_negative_keys_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        LexicalIndex().add(-1, ["vaksin"])
