"""The no-match decision: does the best candidate answer the query, or several, or none?

One cosine is not enough: with e5, greetings score nearly as high against random claims as true
matches do against theirs (BENCHMARKS.md). The decision weighs the semantic score and its gap to
the runner-up, how much of the query's vocabulary the best document covers, the fused gap, the
query's length and how informative its words are, with a logistic model per language fitted on
the dev/train splits (`python bench/fit/decision.py`), and it never answers a message made only
of greetings, thanks or menu words.
"""
import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Evidence:
    """The numbers the decision looks at."""

    query_terms: int
    top_semantic: float = 0.0
    second_semantic: float = 0.0
    coverage: float = 0.0  # top document's BM25 score / the score a perfect match would get
    fused_gap: float = 0.0  # fused score of the best minus the runner-up
    information: float = 0.0  # sum of the query terms' idf
    content_terms: int = -1  # query tokens that are not chat words; -1 when unknown
    lang: str = "id"

    def features(self) -> tuple[float, ...]:
        """Give the model's inputs."""
        return (self.top_semantic, self.top_semantic - self.second_semantic, self.coverage,
                self.fused_gap, math.log1p(self.query_terms), math.log1p(self.information))


# Per language: (match weights, match bias, choices weights, choices bias), by Evidence.features.
# Fitted on the product's ranking of id_tbh_2024_2025 dev (id) and CLEF train+dev (en):
# `python bench/fit/decision.py`.
MODELS = {
    "id": ((5.405, -0.867, 5.660, 7.027, -0.548, 1.616), -14.055,
           (7.214, -1.747, 6.110, 5.373, -0.548, 1.645), -15.310),
    "en": ((17.911, -0.619, 2.471, 3.264, -2.470, 2.525), -21.374,
           (22.669, -0.961, 3.822, 0.548, -3.152, 3.200), -26.091),
}


@dataclass
class Decider:
    """Margins on the models' scores for "match" and "choices".

    "Answered" (a match on the right fact-check, or it among the choices shown) can be no higher
    than the share of queries whose fact-check ranks among them. The choices margin sits where
    answering reaches that ceiling on dev: above it the rate falls fast, and a margin on that
    slope answers less on test than on dev. The price: nearly every question with content gets
    at least a list. The match margin gives the most direct answers that keep those rates, few
    confident wrong answers when the fact-check is missing, and never a match for a greeting,
    thanks or menu message. `python bench/fit/decision.py` chooses both; the figures are in
    BENCHMARKS.md.
    """

    match_margin: dict = field(default_factory=lambda: {"id": 2.0, "en": 0.2})
    choices_margin: dict = field(default_factory=lambda: {"id": -3.3, "en": -1.9})

    # The quick search (BM25 alone, HybridIndex.search(embed=False)) never answers with a single
    # match: without the semantic side the models above do not hold. It offers its choices when
    # the best fact-check holds at least this share of the query's BM25 mass: the highest share
    # that answers nearly as many queries as BM25's top choices hold (`python bench/fit/quick.py`;
    # figures in BENCHMARKS.md).
    quick_coverage: float = 0.1

    def evidence_for_empty(self, tokens: list[str]) -> Evidence:
        """Give the evidence of a search over nothing."""
        return Evidence(query_terms=len(tokens))

    def evidence(self, query, matches: list, max_lexical: float) -> Evidence:
        """Gather the decision's inputs from a parsed query and its ranking."""
        base = dict(query_terms=len(query.tokens), information=max_lexical,
                    content_terms=query.content_terms, lang=query.lang)
        if not matches:
            return Evidence(**base)
        top = matches[0]
        second = matches[1] if len(matches) > 1 else None
        return Evidence(
            top_semantic=top.semantic,
            second_semantic=second.semantic if second else 0.0,
            coverage=min(1.0, top.lexical / max_lexical) if max_lexical > 0 else 0.0,
            fused_gap=top.score - (second.score if second else 0.0),
            **base,
        )

    def decide(self, ev: Evidence) -> str:
        """Say "match", "choices" or "no_match"."""
        if ev.query_terms == 0 or ev.content_terms == 0:
            return "no_match"
        lang = ev.lang if ev.lang in MODELS else "id"
        match_w, match_b, choices_w, choices_b = MODELS[lang]
        x = ev.features()
        if sum(a * b for a, b in zip(match_w, x)) + match_b >= self.match_margin[lang]:
            return "match"
        if sum(a * b for a, b in zip(choices_w, x)) + choices_b >= self.choices_margin[lang]:
            return "choices"
        return "no_match"

    def decide_quick(self, ev: Evidence) -> str:
        """Say "choices" or "no_match" for a ranking by BM25 alone (see quick_coverage)."""
        if ev.query_terms == 0 or ev.content_terms == 0:
            return "no_match"
        return "choices" if ev.coverage >= self.quick_coverage else "no_match"
