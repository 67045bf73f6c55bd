"""The no-match decision (index/decision.py): models, margins and the chat rule."""
import math

import pytest

from index.decision import MODELS, Decider, Evidence
from index.text import Query

STRONG = dict(query_terms=15, top_semantic=0.90, second_semantic=0.86, coverage=0.8, fused_gap=0.3,
              information=60)
CLOSE = dict(query_terms=15, top_semantic=0.86, second_semantic=0.855, coverage=0.35, fused_gap=0.02,
             information=60)
WEAK = dict(query_terms=3, top_semantic=0.79, second_semantic=0.78, coverage=0.1, fused_gap=0.0,
            information=8)


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
