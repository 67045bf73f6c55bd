"""The no-match decision: does the best candidate answer the query, or several, or none?

One cosine is not enough: with e5, greetings score 0.83-0.86 against random claims while true
matches have a median of 0.87. The decision weighs the semantic score, how much of the query's
vocabulary the best document covers, the gap to the runner-up and the query's length.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """The numbers the decision looks at."""

    query_terms: int
    top_semantic: float = 0.0
    second_semantic: float = 0.0
    coverage: float = 0.0  # top document's BM25 score / the score a perfect match would get
    fused_gap: float = 0.0  # fused score of the best minus the runner-up


@dataclass
class Decider:
    """Thresholds for "match", "choices" and "no_match" (tuned on dev splits, see bench/)."""

    match_semantic: float = 0.89
    choices_semantic: float = 0.86
    match_coverage: float = 0.6
    choices_coverage: float = 0.35
    min_gap: float = 0.08

    def evidence_for_empty(self, tokens: list[str]) -> Evidence:
        """Give the evidence of a search over nothing."""
        return Evidence(query_terms=len(tokens))

    def evidence(self, tokens: list[str], matches: list, max_lexical: float) -> Evidence:
        """Gather the decision's inputs from a ranking."""
        if not matches:
            return Evidence(query_terms=len(tokens))
        top = matches[0]
        second = matches[1] if len(matches) > 1 else None
        return Evidence(
            query_terms=len(tokens),
            top_semantic=top.semantic,
            second_semantic=second.semantic if second else 0.0,
            coverage=min(1.0, top.lexical / max_lexical) if max_lexical > 0 else 0.0,
            fused_gap=top.score - (second.score if second else 0.0),
        )

    def decide(self, ev: Evidence) -> str:
        """Say "match", "choices" or "no_match"."""
        if ev.query_terms == 0:
            return "no_match"
        strong = ev.top_semantic >= self.match_semantic or ev.coverage >= self.match_coverage
        plausible = ev.top_semantic >= self.choices_semantic or ev.coverage >= self.choices_coverage
        if strong and ev.fused_gap >= self.min_gap:
            return "match"
        if strong or plausible:
            return "choices"
        return "no_match"
