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
    rarity: float = 0.0  # information / what it would be if every term were unknown to the library
    unknown: float = 0.0  # share of the query's distinct terms that no document holds
    foreign: bool = False  # in another language than the library (index.hybrid.foreign)
    # The share of the query's information (as in coverage) that the top document's title and
    # claim hold: a near miss ("harga cabai naik" against a fact-check on fuel prices) shares
    # the topic's words with it, not the word that makes it another claim.
    head_share: float = 0.0

    def features(self) -> tuple[float, ...]:
        """Give the model's inputs.

        None grows with the library: raw idf sums do (log of its size), so the information in
        the query's words enters as `rarity`, a share of the most it could be in this library.
        """
        return (self.top_semantic, self.top_semantic - self.second_semantic, self.coverage,
                self.fused_gap, math.log1p(self.query_terms), self.rarity, self.unknown,
                float(self.foreign), self.head_share)


# Per language: (match weights, match bias, choices weights, choices bias), by Evidence.features.
# Fitted on the product's ranking of id_tbh_2024_2025 dev and bench/sets' keyword kinds (id) and
# CLEF train+dev (en), on the full libraries and on random sub-libraries of 40, 200 and 1,000
# fact-checks: `python bench/fit/decision.py`.
MODELS = {
    "id": ((32.083, 10.26, 1.291, 3.463, 0.906, 1.968, -3.35, 2.584, 2.749), -33.952,
           (34.389, 9.473, 0.986, 2.336, 0.82, 2.47, -3.655, 2.513, 2.969), -35.42),
    "en": ((31.994, 0.309, 1.864, 3.159, -0.085, -4.809, -0.167, -0.513, -0.721), -25.514,
           (38.554, -2.865, 3.969, 1.182, -0.04, -3.749, -0.399, -0.656, -2.333), -31.345),
}


# Queries of at most this many terms are keywords: their list of choices has its own margin.
KEYWORD_TERMS = 5


@dataclass
class Decider:
    """Margins on the models' scores for "match" and "choices".

    A wrong fact-check given as THE answer is the worst a tipline can do. The match margin is the
    lowest at which a question whose fact-check is missing from the library gets a match at most
    1.5 % of the time, in libraries of 40, 200, 1,000 fact-checks and the full one, and a
    greeting never does. The choices margin is the lowest (the most questions answered) at which
    keywords whose fact-check is missing get an honest "not yet" more often than a list of
    strangers in small libraries, and answerable questions are still answered (the right one
    matched or listed) 9 times in 10. Keywords (KEYWORD_TERMS terms at most) have a stricter one:
    under a keyword, a list of near misses (fact-checks on the topic, not on the claim) reads as
    "one of these is it", so a keyword whose fact-check is missing gets "not yet" at least twice
    as often as a list. `python bench/fit/decision.py` chooses both; the figures
    are in BENCHMARKS.md.
    """

    match_margin: dict = field(default_factory=lambda: {"id": 2.1, "en": 2.6})
    choices_margin: dict = field(default_factory=lambda: {"id": -4.1, "en": -4.5})
    keyword_choices_margin: dict = field(default_factory=lambda: {"id": -1.3, "en": -0.7})

    # The quick search (BM25 alone, HybridIndex.search(embed=False)) never answers with a single
    # match: without the semantic side the models above do not hold. It offers its choices when
    # the best fact-check holds at least this share of the query's BM25 mass: the highest share
    # that answers nearly as many queries as BM25's top choices hold (`python bench/fit/quick.py`;
    # figures in BENCHMARKS.md).
    quick_coverage: float = 0.1

    def evidence_for_empty(self, tokens: list[str]) -> Evidence:
        """Give the evidence of a search over nothing."""
        return Evidence(query_terms=len(tokens))

    def evidence(self, query, matches: list, lexical, foreign: bool = False,
                 head=None) -> Evidence:
        """Gather the decision's inputs from a parsed query, its ranking and the lexical index.

        head: the terms of the top document's title and claim (a container), when known.
        """
        terms = set(query.tokens)
        max_lexical = lexical.max_score(query.tokens)
        unseen = lexical.unseen_idf()
        base = dict(query_terms=len(query.tokens), information=max_lexical,
                    content_terms=query.content_terms, lang=query.lang,
                    rarity=max_lexical / (len(terms) * unseen) if terms and unseen else 0.0,
                    unknown=sum(not lexical.idf(t) for t in terms) / len(terms) if terms else 0.0,
                    foreign=foreign)
        if not matches:
            return Evidence(**base)
        top = matches[0]
        held = sum(lexical.idf(t) for t in terms if t in head) if head else 0.0
        # Without a runner-up (a library of one) there is no gap to measure: none is counted,
        # rather than the whole score, which would read as the clearest possible winner.
        second = matches[1] if len(matches) > 1 else top
        return Evidence(
            top_semantic=top.semantic,
            second_semantic=second.semantic,
            coverage=min(1.0, top.lexical / max_lexical) if max_lexical > 0 else 0.0,
            fused_gap=top.score - second.score,
            head_share=min(1.0, held / max_lexical) if max_lexical > 0 else 0.0,
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
        margin = (self.keyword_choices_margin[lang] if ev.query_terms <= KEYWORD_TERMS
                  else self.choices_margin[lang])
        if sum(a * b for a, b in zip(choices_w, x)) + choices_b >= margin:
            return "choices"
        return "no_match"

    def decide_quick(self, ev: Evidence) -> str:
        """Say "choices" or "no_match" for a ranking by BM25 alone (see quick_coverage)."""
        if ev.query_terms == 0 or ev.content_terms == 0:
            return "no_match"
        return "choices" if ev.coverage >= self.quick_coverage else "no_match"
