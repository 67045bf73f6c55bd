"""Refit the no-match decision (index/decision.py MODELS and the Decider's margins).

    python bench/fit/decision.py          # both languages
    python bench/fit/decision.py id       # one

Per language, on the product's ranking of its tuning split(s): two logistic models over
Evidence.features, "match" (the top 1 is right) and "choices" (the right one is among the SEARCH_K
shown). Positives: answerable and keyword queries ranked right; negatives: the rest of them, every
leave-the-target-out query (its targets taken out of the library) and the chit-chat set. Rows the
chat rule settles (nothing but greetings, thanks or menu words) never reach the models and are
left out. Margins, on a 0.1 grid: for each match margin, the choices margin sits where answering
reaches its ceiling (above it the rate falls fast); of those pairs, the ones that answer at least
ANSWERED of the answerable queries, never match a greeting, match at most OFFTOPIC off-topic
questions and at most LOO_CAP of leave-the-target-out queries, and then give the most direct
matches, keywords answered and honest no_match.

"Top cosine" and "its gap to the runner-up" pull against each other, and the solver (lbfgs)
stops at scikit-learn's default tolerance: the gap's weight swings when one keyword query
changes, the decisions hardly at all. Compare the figures and the margins.
"""
import sys

import numpy as np

from common import CHITCHAT, BenchSet, FirstStage, Scores, Timer, message_sets, setting
from index.decision import MODELS, Decider

# Issue 4's target is 9 in 10 answered; session 2's margins answered 0.011 less on test than on
# dev, so the tuning split must reach a point more.
ANSWERED = 0.91
LOO_CAP = 0.15  # share of leave-the-target-out queries that may get a (wrong) match
OFFTOPIC = 2  # off-topic questions (the second part of CHITCHAT) that may get a match
GROUPS = ("answerable", "keywords", "loo", "chat")


class Rows:
    """The decision's inputs for one group of queries, as index/decision.py computes them."""

    def __init__(self, evidences):
        evs = [e for e, _, _ in evidences]
        self.F = np.array([e.features() for e in evs])
        self.lang = np.array([e.lang for e in evs])
        self.chat = np.array([e.query_terms == 0 or e.content_terms == 0 for e in evs])  # the rule's
        self.c1 = np.array([c for _, c, _ in evidences], bool)
        self.c3 = np.array([c for _, _, c in evidences], bool)


def product_rows(lang, shown):
    """Give the answerable, leave-the-target-out, keyword and chit-chat rows of a language."""
    b = BenchSet.of(lang)
    keywords, chat = message_sets(b)
    answerable = Scores(b)
    return {"answerable": Rows(FirstStage(answerable).evidences(shown)),
            "loo": Rows(FirstStage(answerable, drop_rel=True).evidences(shown)),
            "keywords": Rows(FirstStage(Scores(keywords)).evidences(shown)),
            "chat": Rows(FirstStage(Scores(chat)).evidences(shown)),
            "nchat": len(CHITCHAT)}


def fit_models(rows):
    """Fit the "match" and "choices" models; give them as index/decision.py MODELS holds them."""
    from sklearn.linear_model import LogisticRegression
    groups = [rows[g] for g in GROUPS]
    keep = np.concatenate([~r.chat for r in groups])
    X = np.concatenate([r.F for r in groups])[keep]
    negatives = np.zeros(len(rows["loo"].F) + len(rows["chat"].F), bool)
    y1 = np.concatenate([rows["answerable"].c1, rows["keywords"].c1, negatives])[keep]
    y3 = np.concatenate([rows["answerable"].c3, rows["keywords"].c3, negatives])[keep]
    m = LogisticRegression(C=10, max_iter=5000).fit(X, y1)
    c = LogisticRegression(C=10, max_iter=5000).fit(X, y3)
    return (tuple(np.round(m.coef_[0], 3).tolist()), round(float(m.intercept_[0]), 3),
            tuple(np.round(c.coef_[0], 3).tolist()), round(float(c.intercept_[0]), 3))


def decide_rows(r, models, match_margin, choices_margin):
    """Decider.decide over many rows: 2 match, 1 choices, 0 no_match."""
    out = np.zeros(len(r.F), int)
    for lang in np.unique(r.lang):
        on = r.lang == lang
        key = lang if lang in models else "id"
        mw, mb, cw, cb = models[key]
        zm = r.F[on] @ np.array(mw) + mb
        zc = r.F[on] @ np.array(cw) + cb
        out[on] = np.where(zm >= match_margin[key], 2, np.where(zc >= choices_margin[key], 1, 0))
    return np.where(r.chat, 0, out)


def summary(rows, dec):
    """Give the figures the margins are chosen by."""
    a, k = rows["answerable"], rows["keywords"]
    da, dk, dl, dc = (dec[g] for g in GROUPS)
    n, g = rows["nchat"], CHITCHAT.index("")  # greetings and menu words, then off-topic questions
    return {
        "answered": (((da == 2) & a.c1) | ((da == 1) & a.c3)).mean(),
        "match": (da == 2).mean(), "kw_answered": (((dk == 2) & k.c1) | ((dk == 1) & k.c3)).mean(),
        "loo_match": (dl == 2).mean(), "loo_none": (dl == 0).mean(),
        "chat_match": int((dc[:g] == 2).sum()), "offtopic_match": int((dc[g:n] == 2).sum()),
        "chat_none": (dc[:n] == 0).mean(),
        "libwords": "/".join(str(int((dc[n:] == v).sum())) for v in (2, 1, 0)),
    }


def fmt(f):
    """Give the figures on one line."""
    return (f"answered {f['answered']:.3f} (match {f['match']:.3f}) | keywords answered {f['kw_answered']:.3f} | "
            f"LOO match {f['loo_match']:.3f} none {f['loo_none']:.3f} | chat match {f['chat_match']} "
            f"off-topic match {f['offtopic_match']} none {f['chat_none']:.3f} | library words m/c/n {f['libwords']}")


def refit(lang, shown):
    """Refit one language's models and margins; print them beside the shipped ones."""
    rows = product_rows(lang, shown)
    shipped = Decider()
    dec = {g: decide_rows(rows[g], MODELS, shipped.match_margin, shipped.choices_margin) for g in GROUPS}
    print(f"{lang} shipped, margins {shipped.match_margin[lang]} / {shipped.choices_margin[lang]}: "
          f"{fmt(summary(rows, dec))}", flush=True)
    models = dict(MODELS, **{lang: fit_models(rows)})
    grid = []
    for tm in np.round(np.arange(-3, 4.01, 0.1), 1):
        for tc in np.round(np.arange(-5, 3.01, 0.1), 1):
            mm = dict(shipped.match_margin, **{lang: float(tm)})
            cm = dict(shipped.choices_margin, **{lang: float(tc)})
            grid.append((float(tm), float(tc), summary(rows, {g: decide_rows(rows[g], models, mm, cm) for g in GROUPS})))
    ceiling = {}  # the most answered for each match margin
    for tm, _, f in grid:
        ceiling[tm] = max(ceiling.get(tm, 0.0), f["answered"])
    ok = [(tm, tc, f) for tm, tc, f in grid if f["answered"] >= max(ceiling[tm], ANSWERED - 1e-9)
          and f["chat_match"] == 0 and f["offtopic_match"] <= OFFTOPIC and f["loo_match"] <= LOO_CAP]
    tm, tc, f = max(ok, key=lambda x: x[2]["match"] + x[2]["kw_answered"] + x[2]["loo_none"] + x[2]["chat_none"])
    print(f"{lang} refit, margins {tm} / {tc}: {fmt(f)}")
    for name, s, r in (("match", MODELS[lang][:2], models[lang][:2]), ("choices", MODELS[lang][2:], models[lang][2:])):
        print(f"  {name:7s} shipped {s[0]}, {s[1]}")
        print(f"  {name:7s} refit   {r[0]}, {r[1]}")
    same = models[lang] == MODELS[lang]
    print(f"  models {'same' if same else 'differ'} at 3 decimals; margins shipped "
          f"{shipped.match_margin[lang]} / {shipped.choices_margin[lang]}, refit {tm} / {tc}\n", flush=True)


def main():
    shown = setting("SEARCH_K")
    for lang in sys.argv[1:] or ("id", "en"):
        refit(lang, shown)


if __name__ == "__main__":
    with Timer():
        main()
