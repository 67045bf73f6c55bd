"""Refit the quick search's coverage share (index/decision.py Decider.quick_coverage).

    python bench/fit/quick.py

The quick search ranks by BM25 alone and offers its SEARCH_K best as choices when the best
holds at least this share of the query's BM25 mass (Decider.decide_quick). Tried on a 0.05
grid; kept: the highest share whose answering stays within TOLERANCE of its ceiling (the share
of queries whose fact-check BM25 ranks in the top SEARCH_K) on every tuning set, so that
chit-chat gets as many honest no_match as that allows. No embeddings needed.
"""
import numpy as np

from common import CHITCHAT, SETS, BenchSet, Timer, document, message_sets, setting
from index.decision import Decider
from index.hybrid import Match
from index.lexical import LexicalIndex
from index.text import Query, tokenize

SHARES = tuple(np.round(np.arange(0.05, 0.501, 0.05), 2))
TOLERANCE = 0.015  # answering lost against the ceiling, at most


def quick_rows(bset, queries, shown):
    """Give, per query, (Evidence of the BM25 ranking, right one among the `shown` first)."""
    li = LexicalIndex()
    for i, d in enumerate(bset.docs):
        doc = document(d)
        li.add(i, tokenize(doc.lexical_text(), doc.lang))
    decider, out = Decider(), []
    for text, rel in zip(queries.qtexts, queries.rel):
        q = Query.parse(text)
        keys, scores = li.score_arrays(q.tokens)
        order = np.lexsort((keys, -scores))[:max(shown, 2)]  # HybridIndex._rank_quick: ties by key
        matches = [Match(str(keys[i]), 0.0, float(scores[i]), 0.0) for i in order if scores[i] > 0]
        ev = decider.evidence(q, matches, li)
        out.append((ev, bool(set(int(keys[i]) for i in order[:shown]) & set(rel.tolist()))))
    return out


def main():
    shown = setting("SEARCH_K")
    shipped = Decider().quick_coverage
    table = {}
    for lang in SETS:
        b = BenchSet.of(lang)
        _, chat = message_sets(b)
        answerable = quick_rows(b, b, shown)
        chit = quick_rows(b, chat, shown)[:len(CHITCHAT)]
        ceiling = np.mean([right for _, right in answerable])
        print(f"{lang} ({b.name} {'+'.join(b.splits)}): right one in BM25's top {shown}: {ceiling:.3f}")
        for share in SHARES:
            d = Decider(quick_coverage=float(share))
            answered = np.mean([d.decide_quick(ev) == "choices" and right for ev, right in answerable])
            chat_none = np.mean([d.decide_quick(ev) == "no_match" for ev, _ in chit])
            table.setdefault(share, []).append(ceiling - answered)
            mark = " <- shipped" if abs(share - shipped) < 1e-9 else ""
            print(f"  {share:.2f}: answered {answered:.3f} (ceiling - {ceiling - answered:.3f}), "
                  f"chit-chat no_match {chat_none:.3f}{mark}")
    refit = max(s for s, losses in table.items() if max(losses) <= TOLERANCE)
    print(f"\nquick_coverage: shipped {shipped}  refit {refit}")


if __name__ == "__main__":
    with Timer():
        main()
