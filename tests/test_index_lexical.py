"""The incremental BM25 index."""
import pytest

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
