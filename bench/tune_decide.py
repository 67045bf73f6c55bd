"""No-match decision experiments: answerable, leave-the-target-out, chit-chat, keywords.

    python bench/tune_decide.py refit id      # refit index/decision.py MODELS["id"] and its margins
    python bench/tune_decide.py refit en      # ... on the product's ranking (bench/tune_rerank.py)
    python bench/tune_decide.py refit id 5    # the same if a "choices" reply listed 5 (SEARCH_K)
    python bench/tune_decide.py id --chat     # the first fit (session 1): first stage, cleaned queries
"""
import re
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tune_rank import Data, fuse, evaluate, c, with_texts  # noqa
from tune_store import get  # noqa
from index.lexical import LexicalIndex  # noqa
from index.text import tokenize  # noqa

CHITCHAT = """halo
hai
hallo min
selamat pagi
selamat siang min
selamat malam
assalamualaikum
assalamu'alaikum wr wb
waalaikumsalam
pagi kak
permisi
terima kasih
makasih ya
makasih min
trims
terima kasih banyak atas infonya
ok
oke siap
sip
iya
tidak
ya benar
menu
bantuan
help
mulai
start
info
cek fakta
cara pakai
gimana caranya cek berita?
ini bot ya?
siapa ini?
tes
test
p
hmm
wkwkwk
😂😂
🙏
mantap
apa kabar
kamu siapa
saya mau tanya
mau tanya dong min
tolong cek ini
ini hoaks bukan?
bener gak ini
hello
hi there
good morning
thanks
thank you so much
ok thanks
bye
what can you do
how does this work
who are you
is this true?
please check this
can you verify this
stop
unsubscribe

resep rendang padang
harga cabai hari ini
jadwal kereta besok
cuaca jakarta besok
skor bola semalam
cara bikin kue lapis
nomor telepon pln
promo tiket pesawat
lirik lagu dangdut terbaru
jam buka bank
how to cook fried rice
weather tomorrow
football score last night
best phone 2026
cara daftar sekolah
harga emas hari ini
info loker
film bioskop minggu ini
rekomendasi tempat wisata bandung
kurs dollar hari ini""".strip().splitlines()

# Words people send a tipline that name no claim: greetings, thanks, menu/bot words.
CHAT_TERMS = frozenset("""
halo hai hallo helo hello hi hey pagi siang sore malam selamat assalamualaikum assalamu alaikum
waalaikumsalam wr wb permisi terima kasih makasih trims thanks thank thx ok oke okay siap sip mantap
menu bantuan help mulai start stop tes test coba bot admin min kak gan tanya nanya caranya cara pakai
so much bye dah good morning evening night there you who are what can do how does work this verify please
unsubscribe berhenti wkwk wkwkwk haha hmm p iya ya tidak benar bener apa kabar siapa kamu mau dong
""".split())


def content_tokens(text):
    """Tokens left once chat words are dropped (stemmed the way queries are)."""
    from index.normalize import normalize_text
    words = [w for w in normalize_text(text).split() if w not in CHAT_TERMS]
    return tokenize(" ".join(words))


TAG = re.compile(r"^\s*\[[^\]]{2,20}\]\s*")


def sem_fn(d, qv, fields):
    return sum(w * (qv @ vecs.T) for w, vecs in fields)


def features(d, lex, sem, fused, li, fields_semmax=None):
    """Per query features of the top result; fused has -inf for non-candidates."""
    order = np.argsort(-fused, axis=1)[:, :3]
    rows = np.arange(len(order))
    top, sec = order[:, 0], order[:, 1]
    maxlex = np.array([li.max_score(t) for t in d.qtok])
    f = {
        "sem1": sem[rows, top], "sem2": sem[rows, sec],
        "cov": np.where(maxlex > 0, lex[rows, top] / np.maximum(maxlex, 1e-9), 0).clip(0, 1),
        "cov2": np.where(maxlex > 0, lex[rows, sec] / np.maximum(maxlex, 1e-9), 0).clip(0, 1),
        "fgap": fused[rows, top] - fused[rows, sec],
        "nterms": np.array([len(t) for t in d.qtok]),
        "idfsum": maxlex / (li.k1 + 1) * (1 + li.k1),
        "content": np.array([len(content_tokens(t)) for t in d.qtexts]),
    }
    f["sgap"] = f["sem1"] - f["sem2"]
    return f, order


def keyword_queries(d, n=300, seed=0):
    """1-3 rarest title words of dev targets, in title order (built at run time)."""
    rng = np.random.default_rng(seed)
    li = LexicalIndex()
    for i, doc in enumerate(d.docs):
        li.add(i, tokenize(doc["title"] + " " + doc.get("claim", ""), doc.get("lang")))
    texts, rel = [], []
    for qi in rng.permutation(d.Q)[:n]:
        tgt = d.rel[qi][0]
        title = TAG.sub("", d.docs[tgt]["title"])
        words = [w for w in re.findall(r"\w+", title) if tokenize(w, d.lang)]
        if not words:
            continue
        idf = [li.idf(tokenize(w, d.lang)[0]) for w in words]
        k = int(rng.integers(1, 4))
        keep = sorted(np.argsort(idf)[::-1][:k])
        texts.append(" ".join(words[j] for j in keep))
        rel.append(np.array([tgt]))
    return texts, rel


def library_words(d, n=12, seed=1):
    """Single title words that occur in several docs' titles (in the library, ambiguous)."""
    rng = np.random.default_rng(seed)
    from collections import Counter
    cnt = Counter()
    for doc in d.docs:
        cnt.update(set(w.lower() for w in re.findall(r"[A-Za-z]{4,}", TAG.sub("", doc["title"])) if tokenize(w, d.lang)))
    pool = sorted(w for w, k in cnt.items() if 3 <= k <= 40)  # sorted: set order varies by run
    return list(rng.choice(pool, n, replace=False))


class Setup:
    def __init__(self, d, lex_fields, sem_fields, w, cand=100):
        """sem_fields: list of (weight, per-doc texts)."""
        self.d, self.w, self.cand = d, w, cand
        self.lex_fields = lex_fields
        self.li = LexicalIndex()
        for i, doc in enumerate(d.docs):
            self.li.add(i, tokenize(" ".join(doc.get(f) or "" for f in lex_fields), doc.get("lang")))
        self.dvecs = [(wt, get(texts, "d")) for wt, texts in sem_fields]

    def run(self, q, drop_rel=False):
        lex = q.lex(fields=self.lex_fields)
        sem = sem_fn(q, q.qvecs(), self.dvecs)
        if drop_rel:
            for qi, rel in enumerate(q.rel):
                lex[qi, rel] = 0
                sem[qi, rel] = -1
        fused = fuse(lex, sem, self.w, cand=self.cand)
        if drop_rel:
            for qi, rel in enumerate(q.rel):
                fused[qi, rel] = -np.inf
        f, order = features(q, lex, sem, fused, self.li)
        correct1 = np.array([order[i, 0] in set(r.tolist()) for i, r in enumerate(q.rel)]) if q.rel else np.zeros(q.Q, bool)
        correct3 = np.array([bool(set(order[i, :3].tolist()) & set(r.tolist())) for i, r in enumerate(q.rel)]) if q.rel else np.zeros(q.Q, bool)
        return f, correct1, correct3


def rates(dec, c1, c3):
    answered = ((dec == 2) & c1) | ((dec == 1) & c3)
    return answered.mean(), (dec == 2).mean(), (dec == 1).mean(), (dec == 0).mean()


def current_rule(f, ms=0.89, cs=0.86, mc=0.6, cc=0.35, gap=0.08):
    strong = (f["sem1"] >= ms) | (f["cov"] >= mc)
    plaus = (f["sem1"] >= cs) | (f["cov"] >= cc)
    return np.where(strong & (f["fgap"] >= gap), 2, np.where(strong | plaus, 1, 0)) * (f["nterms"] > 0) * (f["content"] > 0 if CHATFILTER else 1)


FEATS = ("sem1", "sgap", "cov", "fgap", "lognt", "logidf")


def X(f):
    f = dict(f)
    f["lognt"] = np.log1p(f["nterms"])
    f["logidf"] = np.log1p(f["idfsum"])
    return np.stack([f[k] for k in FEATS], 1)


def main(name, splits, lex_fields, sem_spec, w):
    d = Data(name, splits)
    fields = [(wt, d.field_texts(which)) for wt, which in sem_spec]
    S = Setup(d, lex_fields, fields, w)
    kt, kr = keyword_queries(d)
    words = library_words(d)
    print("keyword examples:", kt[:5], "library words:", words[:5])
    K = with_texts(d, kt, kr)
    C = with_texts(d, CHITCHAT + words, [np.array([], int)] * (len(CHITCHAT) + len(words)))
    fa, a1, a3 = S.run(d)
    fl, l1, l3 = S.run(d, drop_rel=True)
    fk, k1, k3 = S.run(K)
    fc, _, _ = S.run(C)
    nchat = len(CHITCHAT)
    print(f"R@1 answerable {a1.mean():.3f} R@3 {a3.mean():.3f}; keywords R@1 {k1.mean():.3f} R@3 {k3.mean():.3f}")
    for k in ("sem1", "sgap", "cov", "fgap"):
        print(f"  {k}: ans-correct median {np.median(fa[k][a1]):.3f}  ans-wrong {np.median(fa[k][~a1]):.3f}  LOO {np.median(fl[k]):.3f}  chat {np.median(fc[k][:nchat]):.3f}  kw {np.median(fk[k]):.3f}")

    def report(label, da, dl, dk, dc):
        ra, rk, rl = rates(da, a1, a3), rates(dk, k1, k3), rates(dl, l1, l3)
        print(f"{label}: answerable answered {ra[0]:.3f} (match {ra[1]:.3f}, choices {ra[2]:.3f}, none {ra[3]:.3f}) | "
              f"keywords answered {rk[0]:.3f} (m {rk[1]:.3f} c {rk[2]:.3f} n {rk[3]:.3f}) | LOO match {rl[1]:.3f} choices {rl[2]:.3f} none {rl[3]:.3f} | "
              f"chat match {(dc[:nchat] == 2).sum()}/{nchat} choices {(dc[:nchat] == 1).sum()} none {(dc[:nchat] == 0).sum()} | "
              f"libwords m/c/n {(dc[nchat:] == 2).sum()}/{(dc[nchat:] == 1).sum()}/{(dc[nchat:] == 0).sum()}")

    report("current Decider", current_rule(fa), current_rule(fl), current_rule(fk), current_rule(fc))
    cc = current_rule(fc)
    print("  chat matched by current rule:", [t for t, x in zip(C.qtexts, cc) if x == 2])
    # logistic model: P(top1 correct); training = answerable+keywords (label correct@1) vs LOO+chat (0)
    from sklearn.linear_model import LogisticRegression
    Xtr = np.concatenate([X(fa), X(fk), X(fl), X(fc)])
    ytr = np.concatenate([a1, k1, np.zeros(len(fl["sem1"]), bool), np.zeros(len(fc["sem1"]), bool)])
    # choices model: P(correct in top3) vs LOO/chat
    lr = LogisticRegression(C=10, max_iter=2000).fit(Xtr, ytr)
    y3 = np.concatenate([a3, k3, np.zeros(len(fl["sem1"]), bool), np.zeros(len(fc["sem1"]), bool)])
    lr3 = LogisticRegression(C=10, max_iter=2000).fit(Xtr, y3)
    print("match model", dict(zip(FEATS, np.round(lr.coef_[0], 3))), "b", round(lr.intercept_[0], 3))
    print("choices model", dict(zip(FEATS, np.round(lr3.coef_[0], 3))), "b", round(lr3.intercept_[0], 3))
    za, zl, zk, zc = (X(f) @ lr.coef_[0] + lr.intercept_[0] for f in (fa, fl, fk, fc))
    ya, yl, yk, yc = (X(f) @ lr3.coef_[0] + lr3.intercept_[0] for f in (fa, fl, fk, fc))
    for floor in (0.85, 0.88, 0.9):
        best = None
        for tm in np.arange(-3, 4, 0.1):
            for tc in np.arange(-4, 3, 0.1):
                dec = lambda z, y, f: np.where(z >= tm, 2, np.where(y >= tc, 1, 0)) * (f["content"] > 0 if CHATFILTER else 1)
                da, dl, dk, dc = dec(za, ya, fa), dec(zl, yl, fl), dec(zk, yk, fk), dec(zc, yc, fc)
                ra, rl, rk = rates(da, a1, a3), rates(dl, l1, l3), rates(dk, k1, k3)
                if rl[1] > 0.2 or (dc[:nchat] == 2).any() or ra[0] < floor:
                    continue
                score = ra[1] + rk[0] + rl[3] + (dc[:nchat] == 0).mean()
                if best is None or score > best[0]:
                    best = (score, tm, tc, da, dl, dk, dc)
        if best:
            print(f"floor {floor}: tuned thresholds: match z>={best[1]:.1f}, choices z3>={best[2]:.1f}")
            report("  linear Decider", *best[3:])
    return lr, lr3, best


# --- The refit on the product's ranking (first stage, re-ranker, query embedded as sent) --------

SETS = {"id": ("id_tbh_2024_2025", ("dev",)), "en": ("en_clef2020_t2", ("train", "dev"))}


class Rows:
    """The decision's inputs for one group of queries, as index/decision.py computes them."""

    def __init__(self, evidences):
        evs = [e for e, _, _ in evidences]
        self.F = np.array([e.features() for e in evs])
        self.lang = np.array([e.lang for e in evs])
        self.chat = np.array([e.query_terms == 0 or e.content_terms == 0 for e in evs])  # the rule's
        self.c1 = np.array([c for _, c, _ in evidences], bool)
        self.c3 = np.array([c for _, _, c in evidences], bool)


def product_rows(lang, shown=3):
    """Answerable, leave-the-target-out, keyword and chit-chat rows of a set's dev/train splits."""
    import tune_rerank as tr
    name, splits = SETS[lang]
    A = tr.Split(name, splits)
    d = A.d
    kt, kr = keyword_queries(d)
    chat = CHITCHAT + library_words(d)
    K = tr.Split(name, splits, data=with_texts(d, kt, kr))
    C = tr.Split(name, splits, data=with_texts(d, chat, [np.array([], int)] * len(chat)))
    rows = {"answerable": Rows(tr.evidences(A, shown=shown)), "loo": Rows(tr.evidences(A, drop_rel=True)),
            "keywords": Rows(tr.evidences(K, shown=shown)), "chat": Rows(tr.evidences(C))}
    rows["nchat"] = len(CHITCHAT)
    return rows


def fit_models(rows):
    """Logistic models for "match" (top 1 right) and "choices" (right one in the top 3).

    Positives: answerable and keyword queries whose top 1 (top 3) is right; negatives: the rest
    of them, every leave-the-target-out and chit-chat query. Rows the chat rule settles
    (nothing but greetings, thanks or menu words) never reach the models and are left out.
    """
    from sklearn.linear_model import LogisticRegression
    groups = [rows[g] for g in ("answerable", "keywords", "loo", "chat")]
    keep = np.concatenate([~r.chat for r in groups])
    Xtr = np.concatenate([r.F for r in groups])[keep]
    y1 = np.concatenate([rows["answerable"].c1, rows["keywords"].c1,
                         np.zeros(len(rows["loo"].F) + len(rows["chat"].F), bool)])[keep]
    y3 = np.concatenate([rows["answerable"].c3, rows["keywords"].c3,
                         np.zeros(len(rows["loo"].F) + len(rows["chat"].F), bool)])[keep]
    m = LogisticRegression(C=10, max_iter=5000).fit(Xtr, y1)
    c = LogisticRegression(C=10, max_iter=5000).fit(Xtr, y3)
    return (tuple(np.round(m.coef_[0], 3)), round(float(m.intercept_[0]), 3),
            tuple(np.round(c.coef_[0], 3)), round(float(c.intercept_[0]), 3))


def decide_rows(r, models, match_margin, choices_margin):
    """index/decision.py Decider.decide over many rows: 2 match, 1 choices, 0 no_match."""
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
    """The figures the margins are chosen by."""
    a, k, l, c = (rows[g] for g in ("answerable", "keywords", "loo", "chat"))
    da, dk, dl, dc = (dec[g] for g in ("answerable", "keywords", "loo", "chat"))
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
    return (f"answered {f['answered']:.3f} (match {f['match']:.3f}) | keywords answered {f['kw_answered']:.3f} | "
            f"LOO match {f['loo_match']:.3f} none {f['loo_none']:.3f} | chat match {f['chat_match']} "
            f"off-topic match {f['offtopic_match']} "
            f"none {f['chat_none']:.3f} | library words m/c/n {f['libwords']}")


def main_refit(lang, floors=(0.895, 0.9, 0.903, 0.905), loo_caps=(0.1, 0.15, 0.2), offtopic=2,
               shown=3):
    """Refit one language's models and margins on its dev/train rows; print the options.

    For each floor on answerable-answered and cap on leave-the-target-out confident wrong, the
    margins (chit-chat never matched) that give the most direct matches on answerable queries,
    keywords answered and honest no_match on leave-the-target-out and chit-chat.
    """
    from index.decision import MODELS, Decider
    rows = product_rows(lang, shown)
    cur = Decider()
    groups = ("answerable", "keywords", "loo", "chat")
    dec = {g: decide_rows(rows[g], MODELS, cur.match_margin, cur.choices_margin) for g in groups}
    print(f"{lang} now: margins {cur.match_margin[lang]} / {cur.choices_margin[lang]}:", fmt(summary(rows, dec)), flush=True)
    new = dict(MODELS)
    new[lang] = fit_models(rows)
    print(f"{lang} refit: match {new[lang][0]}, {new[lang][1]}; choices {new[lang][2]}, {new[lang][3]}", flush=True)
    grid = []
    for tm in np.arange(-3, 4.01, 0.1):
        for tc in np.arange(-5, 3.01, 0.1):
            mm, cm = dict(cur.match_margin, **{lang: round(tm, 1)}), dict(cur.choices_margin, **{lang: round(tc, 1)})
            f = summary(rows, {g: decide_rows(rows[g], new, mm, cm) for g in groups})
            grid.append((round(tm, 1), round(tc, 1), f))
    print("  most answered:", max(f["answered"] for _, _, f in grid), flush=True)
    for floor in floors:
        for cap in loo_caps:
            ok = [(tm, tc, f) for tm, tc, f in grid
                  if f["answered"] >= floor and f["loo_match"] <= cap and f["chat_match"] == 0
                  and f["offtopic_match"] <= offtopic]
            if not ok:
                print(f"  floor {floor} cap {cap}: none")
                continue
            tm, tc, f = max(ok, key=lambda x: x[2]["match"] + x[2]["kw_answered"] + x[2]["loo_none"] + x[2]["chat_none"])
            print(f"  floor {floor} cap {cap}: margins {tm} / {tc}:", fmt(f), flush=True)
    return rows, new, grid


CHATFILTER = "--chat" in sys.argv
if __name__ == "__main__":
    which = sys.argv[1]
    if which == "refit":  # refit id|en [choices shown, the tipline's SEARCH_K]
        main_refit(sys.argv[2], shown=int(sys.argv[3]) if len(sys.argv) > 3 else 3)
        sys.exit()
    if which == "id":
        main("id_tbh_2024_2025", ("dev",), ("title", "claim", "summary"), [(0.3, "head"), (0.7, "headsum")], 0.35)
    else:
        main("en_clef2020_t2", ("dev", "train"), ("title", "claim"), [(1.0, "head")], 0.35)
