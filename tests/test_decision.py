"""The no-match decision (index/decision.py): models, margins and the chat rule."""
import math

import pytest

from index.decision import MODELS, Decider, Evidence
from index.text import Query

STRONG = dict(query_terms=15, top_semantic=0.91, second_semantic=0.86, coverage=0.8, fused_gap=0.3,
              rarity=0.5, head_share=0.6)
CLOSE = dict(query_terms=15, top_semantic=0.86, second_semantic=0.855, coverage=0.35, fused_gap=0.02,
             rarity=0.5, head_share=0.3)
WEAK = dict(query_terms=3, top_semantic=0.74, second_semantic=0.73, coverage=0.1, fused_gap=0.0,
            rarity=0.6, unknown=0.34)


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("evidence, decision", [(STRONG, "match"), (CLOSE, "choices"), (WEAK, "no_match")])
def test_decide_by_strength_of_evidence(lang, evidence, decision):
    assert Decider().decide(Evidence(**evidence, lang=lang)) == decision


@pytest.mark.parametrize("text", ["halo", "selamat pagi kak", "terima kasih min", "menu", "hi there", "thanks"])
def test_chat_words_alone_never_match_however_close_the_claim(text):
    query = Query.parse(text)
    evidence = Evidence(**dict(STRONG, query_terms=max(1, len(query.tokens))),
                        content_terms=query.content_terms, lang=query.lang)
    assert Decider().decide(evidence) == "no_match"


def test_more_agreement_never_lowers_the_decision():
    # The models must reward a higher cosine, coverage and fused gap: the fit is checked, not trusted.
    rank = {"no_match": 0, "choices": 1, "match": 2}
    decider = Decider()
    for lang in MODELS:
        for field, step in (("top_semantic", 0.01), ("coverage", 0.05), ("fused_gap", 0.02)):
            before = rank[decider.decide(Evidence(**CLOSE, lang=lang))]
            after = rank[decider.decide(Evidence(**dict(CLOSE, **{field: CLOSE[field] + 10 * step}), lang=lang))]
            assert after >= before, (lang, field)


def test_models_have_a_weight_per_feature_and_unknown_languages_use_indonesian():
    n = len(Evidence(query_terms=1).features())
    for match_w, match_b, choices_w, choices_b in MODELS.values():
        assert len(match_w) == len(choices_w) == n
        assert all(math.isfinite(v) for v in (*match_w, match_b, *choices_w, choices_b))
    decider = Decider()
    assert decider.decide(Evidence(**STRONG, lang="fr")) == decider.decide(Evidence(**STRONG, lang="id"))
    assert decider.decide(Evidence(query_terms=0)) == "no_match"


def test_features_do_not_grow_with_the_library():
    from index.lexical import LexicalIndex
    from index.text import tokenize

    def evidence(n):
        lexical = LexicalIndex()
        for key in range(n):
            lexical.add(key, tokenize(f"banjir kota{key}", "id"))
        return Decider().evidence(Query.parse("banjir lombok"), [], lexical)
    small, big = evidence(40), evidence(4000)
    # "lombok" is unknown to both: half the query's terms; "banjir" is in every document
    assert small.unknown == big.unknown == 0.5
    assert 0 < small.rarity <= 1 and 0 < big.rarity <= 1
    assert abs(small.rarity - big.rarity) < 0.05
    assert big.information > small.information  # the raw idf sum, which the models no longer read


def test_keywords_need_more_for_a_list_than_long_messages():
    from index.decision import KEYWORD_TERMS
    decider = Decider()
    assert decider.decide(Evidence(**CLOSE, lang="id")) == "choices"
    keyword = dict(CLOSE, query_terms=KEYWORD_TERMS)
    assert decider.decide(Evidence(**keyword, lang="id")) == "no_match"
    assert decider.keyword_choices_margin["id"] > decider.choices_margin["id"]


def test_a_library_of_one_shows_no_gap_to_a_runner_up():
    from index.hybrid import Match
    from index.lexical import LexicalIndex
    from index.text import tokenize
    lexical = LexicalIndex()
    lexical.add(1, tokenize("vaksin mengandung chip", "id"))
    ev = Decider().evidence(Query.parse("harga bbm naik"), [Match("c1", 0.65, 0.0, 0.8)], lexical)
    assert ev.top_semantic - ev.second_semantic == 0 and ev.fused_gap == 0
    assert Decider().decide(ev) == "no_match"
