"""The no-match decision: does the best candidate answer the query, or several, or none?

One cosine is not enough: with e5, greetings score 0.83-0.86 against random claims while true
matches have a median of 0.87. The decision weighs the semantic score and its gap to the
runner-up, how much of the query's vocabulary the best document covers, the fused gap, the
query's length and how informative its words are, with a logistic model per language fitted on
the dev/train splits (bench/tune_decide.py), and it never answers a message made only of
greetings, thanks or menu words.
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
MODELS = {
    "id": ((4.871, 0.575, 5.242, 9.256, -0.632, 1.601), -13.470,
           (6.443, 2.921, 5.500, 7.220, -0.690, 1.640), -14.299),
    "en": ((16.966, -1.616, 2.560, 3.715, -2.671, 2.769), -21.308,
           (22.085, -1.181, 3.923, 0.738, -3.387, 3.519), -26.554),
}


@dataclass
class Decider:
    """Margins on the models' scores for "match" and "choices" (tuned on dev, see bench/).

    Chosen so that at least 9 in 10 answerable dev queries are answered (a match on the right
    fact-check, or it among the choices) while few queries whose fact-check was left out of the
    library get a confident wrong one. Rechecked with the re-ranker (index/rerank.py; Indonesian
    only) by bench/tune_rerank.py decide: the targets hold without a refit.
    """

    match_margin: dict = field(default_factory=lambda: {"id": 2.3, "en": 0.0})
    choices_margin: dict = field(default_factory=lambda: {"id": -2.6, "en": -1.4})

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
