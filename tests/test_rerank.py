"""The second-stage re-ranker (index/rerank.py): features, scores, re-ordering, head terms."""
from collections import Counter
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from index import rerank as rr
from index.encoders import FakeEncoder
from index.hybrid import Document, HybridIndex, Ranking
from index.lexical import LexicalIndex
from index.text import Query, tokenize


def candidates(**over):
    """Three candidates and two query terms ("banjir", "2025"); "2025" is a number."""
    base = dict(
        fused=np.array([0.9, 0.8, 0.7]), lexical=np.array([4.0, 2.0, 0.0]),
        cosines=np.array([[0.85, 0.88], [0.84, 0.87], [0.83, -1.0]]),
        tf=np.array([[1, 1], [1, 0], [0, 0]]), idf=np.array([1.0, 3.0]),
        numeric=np.array([False, True]), max_lexical=8.0, short=False,
        head_tf=np.array([[1, 0], [0, 0], [0, 0]]), documents=100)
    base.update(over)
    return rr.Candidates(**base)


def col(x, name):
    return x[:, rr.FEATURES.index(name)]


def test_features_describe_each_candidate():
    x = rr.features(candidates())
    assert x.shape == (3, len(rr.FEATURES))
    np.testing.assert_allclose(col(x, "lex_norm"), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(col(x, "coverage"), [0.5, 0.25, 0.0])
    np.testing.assert_allclose(col(x, "idf_share"), [1.0, 0.25, 0.0])
    np.testing.assert_allclose(col(x, "term_share"), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(col(x, "number_share"), [1.0, 0.0, 0.0])
    # a document without a second vector falls back to its head cosine
    np.testing.assert_allclose(col(x, "cos_full"), [0.88, 0.87, 0.83])
    np.testing.assert_allclose(col(x, "lex_rank"), np.log1p([0, 1, 2]))
    # keyword interactions are zero for a long query, equal to the base feature for a short one
    assert not col(x, "short_lex").any()
    short = rr.features(candidates(short=True))
    np.testing.assert_allclose(col(short, "short_lex"), col(short, "lex_norm"))
    # head: only the first holds a query term ("banjir", idf 1 of the query's highest 3)
    np.testing.assert_allclose(col(x, "head_lex_norm"), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(col(x, "head_max_idf"), [1 / 3, 0.0, 0.0])
    assert not col(x, "head_rare_terms").any()  # idf 1 is not rare among 100 documents


def test_head_rare_terms_count_terms_in_few_documents():
    rare_idf = np.log1p((100 - 2 + 0.5) / 2.5)  # a term in 2 of 100 documents
    x = rr.features(candidates(idf=np.array([0.1, rare_idf]), head_tf=np.array([[0, 1], [0, 0], [1, 0]])))
    np.testing.assert_allclose(col(x, "head_rare_terms"), np.log1p([1, 0, 0]))


def test_head_recall_is_the_idf_share_of_the_head_the_query_holds():
    idf = {"banjir": 1.0, "garut": 3.0, "bandang": 2.0}.get
    assert rr.idf_recall(["banjir", "garut"], {"garut", "lain"}, idf) == pytest.approx(0.75)
    assert rr.idf_recall([], {"garut"}, idf) == 0.0
    heads = rr.HeadTerms()
    heads.add(1, ["banjir", "bandang", "garut"])
    heads.add(2, ["banjir"])
    np.testing.assert_allclose(heads.recall([1, 2, 3], {"banjir", "garut"}, idf), [4 / 6, 1.0, 0.0])
    x = rr.features(candidates(head_recall=np.array([0.9, 0.1, 0.0])))
    np.testing.assert_allclose(col(x, "head_recall"), [0.9, 0.1, 0.0])
    assert not col(rr.features(candidates()), "head_recall").any()  # unknown: zero


def test_rerank_promotes_the_claim_the_message_restates():
    # Two near-ties that hold the same query terms; the message holds all of the second's title.
    c = candidates(fused=np.array([0.80, 0.79]), lexical=np.array([3.0, 3.0]),
                   cosines=np.array([[0.86, 0.87], [0.86, 0.87]]), tf=np.array([[1, 1], [1, 1]]),
                   idf=np.array([2.0, 2.0]), numeric=np.array([False, False]),
                   head_tf=np.array([[1, 1], [1, 1]]), head_recall=np.array([0.3, 1.0]))
    scores = rr.rerank(c, "id")
    assert scores[1] > scores[0]


def test_features_without_head_counts_are_zero():
    x = rr.features(candidates(head_tf=None))
    assert not x[:, [rr.FEATURES.index(n) for n in rr.FEATURES if n.startswith("head")]].any()


def test_models_match_the_features():
    for lang, weights in rr.MODELS.items():
        assert weights.shape == (len(rr.FEATURES),), lang
        assert np.isfinite(weights).all()
    assert "id" in rr.MODELS
    # the model leans on the cosines and on a rare query name in a title
    for weights in rr.MODELS.values():
        assert weights[rr.FEATURES.index("cos_full")] > 0
        assert weights[rr.FEATURES.index("head_max_idf")] > 0
        assert weights[rr.FEATURES.index("head_recall")] > 0


def test_rerank_promotes_the_head_that_holds_the_rare_name():
    # Two near-ties; only the second's title holds the query's rare name.
    c = candidates(fused=np.array([0.80, 0.79]), lexical=np.array([3.0, 3.0]),
                   cosines=np.array([[0.86, 0.87], [0.86, 0.87]]), tf=np.array([[1, 1], [1, 1]]),
                   idf=np.array([0.5, 6.0]), numeric=np.array([False, False]),
                   head_tf=np.array([[1, 0], [0, 1]]))
    scores = rr.rerank(c, "id")
    assert scores[1] > scores[0]


def test_rerank_keeps_a_clear_winner_and_skips_languages_without_a_model():
    c = candidates(fused=np.array([1.0, 0.2, 0.1]), cosines=np.array([[0.95, 0.95], [0.80, 0.80], [0.78, 0.79]]))
    assert np.argmax(rr.rerank(c, "id")) == 0
    assert rr.rerank(c, "fr") is None
    empty = candidates(fused=np.zeros(0), lexical=np.zeros(0), cosines=np.zeros((0, 2)), tf=np.zeros((0, 2)),
                       head_tf=np.zeros((0, 2)))
    assert rr.rerank(empty).shape == (0,)


def test_head_terms_counts_and_forgets():
    heads = rr.HeadTerms()
    heads.add(1, ["banjir", "jakarta", "banjir"])
    heads.add(2, ["gempa"])
    np.testing.assert_array_equal(heads.tf([1, 2, 3], ["banjir", "gempa"]), [[2, 0], [0, 1], [0, 0]])
    heads.add(1, ["gempa"])  # replaces
    heads.remove(2)
    heads.remove(99)
    assert len(heads) == 1
    again = rr.HeadTerms.from_state(heads.state())
    np.testing.assert_array_equal(again.tf([1, 2], ["gempa"]), [[1], [0]])
    assert rr.head_text("Judul", "") == "Judul" and rr.head_text("A", "B") == "A B"


def test_reorder_only_touches_the_top_and_stays_a_permutation():
    lexical = LexicalIndex()
    texts = {1: "banjir jakarta", 2: "gempa lombok", 3: "banjir bandang garut", 4: "harga cabai"}
    heads = rr.HeadTerms()
    for key, text in texts.items():
        lexical.add(key, tokenize(text, "id"))
        heads.add(key, tokenize(text, "id"))
    keys = [1, 2, 3, 4]
    tokens = tokenize("banjir bandang garut", "id")
    lex = np.array([lexical.scores(tokens).get(k, 0.0) for k in keys])
    order = np.array([1, 0, 2, 3])  # a poor first stage: "gempa lombok" first
    fused = np.array([0.5, 0.6, 0.5, 0.1])
    cos = np.array([[0.8, 0.8], [0.8, 0.8], [0.8, 0.8], [0.7, 0.7]])
    out = rr.reorder(order, keys, fused, lex, cos, tokens, "id", False, lexical, heads,
                     lexical.max_score(tokens), top=3)
    assert sorted(out.tolist()) == [0, 1, 2, 3]
    assert out[-1] == 3  # beyond `top`: untouched
    assert out[0] == 2  # the document holding every query term comes first
    # nothing to do for an empty query or a language without a model
    np.testing.assert_array_equal(rr.reorder(order, keys, fused, lex, cos, [], "id", False, lexical, heads, 0.0), order)
    np.testing.assert_array_equal(rr.reorder(order, keys, fused, lex, cos, tokens, "xx", False, lexical, heads,
                                             lexical.max_score(tokens), top=3), order)


@pytest.fixture()
def index():
    idx = HybridIndex(FakeEncoder())
    idx.add([Document("a", "Banjir bandang di Garut", "Banjir bandang Garut"),
             Document("b", "Gempa di Lombok", "Gempa Lombok", "Gempa magnitudo 5 di Lombok utara"),
             Document("c", "Harga cabai naik", "Harga cabai")])
    return idx


def test_index_search_with_and_without_second_stage(index):
    first = index.search("banjir garut", k=3)
    assert first.matches[0].id == "a"
    if getattr(index, "_heads", None) is None:  # the index does not keep head terms: stage off
        index._heads = rr.HeadTerms()
        for doc_id in index.ids:
            key = index.key_of(doc_id)
            text = {"a": "Banjir bandang di Garut", "b": "Gempa di Lombok", "c": "Harga cabai naik"}[doc_id]
            index._heads.add(key, tokenize(text, "id"))
    second = index.search("banjir garut", k=3)
    assert second.matches[0].id == "a"
    assert {m.id for m in second.matches} == {m.id for m in first.matches}
    index.ranking = Ranking(rerank_top=0)
    assert [m.id for m in index.search("banjir garut", k=3).matches] == [m.id for m in first.matches]


@pytest.mark.parametrize("text, reranked", [
    ("ini video of my dog at banjir garut lol", False),  # English with Indonesian-looking words
    ("video banjir bandang di garut ini bukan kejadian tahun ini", True),
    ("banjir garut", True),  # no stopword of either language: Indonesian, as most headlines are
])
def test_only_surely_indonesian_queries_get_the_indonesian_model(index, monkeypatch, text, reranked):
    assert Query.parse(text).lang == "id"  # the function-word guess takes all three for Indonesian
    seen = []
    real = rr.rerank
    monkeypatch.setattr(rr, "rerank", lambda c, lang="id", tokens=None: seen.append(lang) or real(c, lang, tokens))
    index.search(text, k=3)
    assert bool(seen) == reranked
    assert rr.applies("id", 0.5) and not rr.applies("id", 0.49) and not rr.applies("en", 1.0)


def test_cosines_per_field_marks_missing_vectors(index):
    keys = [index.key_of("a"), index.key_of("b")]
    query = index.encoder.encode_queries(["gempa lombok"])[0]
    _, mean, fields = index._cosines(keys, query)
    assert fields.shape[0] == 2
    assert fields[0, 1] == -1.0  # "a" has no summary: one vector
    assert fields[1, 1] > -1.0
    # the mean is the 0.3 / 0.7 weighting of the vectors a document has
    np.testing.assert_allclose(mean, [fields[0, 0], 0.3 * fields[1, 0] + 0.7 * fields[1, 1]], rtol=1e-5)
    assert Query.parse("gempa lombok").tokens


def test_a_keyword_query_that_no_candidate_covers_leans_on_the_cosines():
    # the model prefers the first candidate; the second is much nearer by cosine
    x = rr.features(candidates(cosines=np.array([[0.80, 0.80], [0.90, 0.92], [0.81, 0.82]])))
    model = np.array([3.0, 1.0, 0.0])
    covered = rr.blend(model, x, query_tokens=2)  # the first holds every query term
    assert np.argmax(covered) == 0 and np.array_equal(covered, model)
    uncovered = x.copy()
    uncovered[:, rr.FEATURES.index("idf_share")] = [0.5, 0.25, 0.0]
    assert np.argmax(rr.blend(model, uncovered, query_tokens=2)) == 1
    # a long query keeps the model's scores whatever the coverage
    assert np.array_equal(rr.blend(model, uncovered, query_tokens=rr.BLEND_WORDS + 1), model)


def test_a_query_in_another_language_than_the_library_skips_the_model(index, monkeypatch):
    from index.hybrid import foreign
    seen = []
    real = rr.rerank
    monkeypatch.setattr(rr, "rerank", lambda c, lang="id", tokens=None: seen.append(lang) or real(c, lang, tokens))
    assert Query.parse("flood garut").lang == "id"  # no stopword gives it away
    index.search("flood garut", k=3)  # "flood" is English and unknown to this library
    assert not seen
    index.search("banjir garut", k=3)
    assert seen == ["id"]
    english_library = LexicalIndex()
    english_library.add(1, tokenize("Flash flood in Garut", "en"))
    assert not foreign(Query.parse("flood garut"), english_library, Ranking())


HEAD_TERMS = ["banjir", "jakarta", "gempa", "vaksin", "ü-é", "2024"]


@given(st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, 20), st.lists(st.sampled_from(HEAD_TERMS), max_size=6)),
    st.tuples(st.just("remove"), st.integers(0, 20)),
    st.tuples(st.just("compact")),
    st.tuples(st.just("state")),
), max_size=50), st.integers(0, 6))
def test_head_terms_after_any_changes_answer_as_a_dict_of_counts(ops, compact_from):
    """The arrays, their overlay, folds (by hand and by size) and round trips through state()
    give what a plain dict of each head's counts gives, in the order the terms first occur."""
    heads, ref = rr.HeadTerms(), {}
    idf = {t: 1.0 + i for i, t in enumerate(HEAD_TERMS)}.get
    with mock.patch.object(rr, "COMPACT_MIN", compact_from), mock.patch.object(rr, "COMPACT_SHARE", 0.5):
        for op in ops:
            if op[0] == "add":
                heads.add(op[1], op[2])
                ref[op[1]] = dict(Counter(op[2]))
            elif op[0] == "remove":
                heads.remove(op[1])
                ref.pop(op[1], None)
            elif op[0] == "compact":
                heads.compact()
            else:
                heads = rr.HeadTerms.from_state(heads.state())
            keys = list(range(21))
            assert len(heads) == len(ref)
            assert [list(heads.terms(k).items()) for k in keys] == [list(ref.get(k, {}).items()) for k in keys]
            np.testing.assert_array_equal(heads.tf(keys, HEAD_TERMS + ["lain"]),
                                          [[ref.get(k, {}).get(t, 0) for t in HEAD_TERMS + ["lain"]] for k in keys])
            query = {"banjir", "ü-é"}
            np.testing.assert_array_equal(heads.recall(keys, query, idf),
                                          [rr.idf_recall(ref.get(k, {}), query, idf) for k in keys])


def test_head_terms_of_older_versions_load():
    old = {3: {"banjir": 2, "jakarta": 1}, 8: {}, 5: {"gempa": 1}}
    heads = rr.HeadTerms.from_state(old)
    assert len(heads) == 3 and heads.terms(3) == {"banjir": 2, "jakarta": 1} and heads.terms(8) == {}
    np.testing.assert_array_equal(heads.tf([5, 3, 4], ["banjir", "gempa"]), [[0, 1], [2, 0], [0, 0]])
