"""Synthetic libraries for the speed benchmarks, recombined from the real bench corpora.

Nothing here is stored in the repository: the real fact-checks are read from ../shared/bench at
run time and recombined into new ones (a title spliced from two real titles, a claim from a
third, a summary sentence from a fourth), so a library of any size has real vocabulary, real
lengths and a realistic mix of languages, without any text repeating verbatim.

The languages follow the bench corpora (about one Indonesian fact-check in five, as in the
three sets together). Indonesian claims carry one or two summary sentences, English ones none
(like CLEF's verified claims).

    python bench/synth.py 100000 > /tmp/library-100k.jsonl
"""
import json
import random
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
SETS = ("id_tbh_2024_2025", "id_tbh_2018", "en_clef2020_t2")
VERDICTS = {"id": ["HOAKS", "SALAH", "MENYESATKAN", "BENAR", "SEBAGIAN BENAR"],
            "en": ["FALSE", "MOSTLY FALSE", "MISLEADING", "TRUE", "MIXTURE"]}


def real_corpora() -> dict[str, list[dict]]:
    """Read every bench corpus, by language."""
    out: dict[str, list[dict]] = {"id": [], "en": []}
    for name in SETS:
        for line in open(BENCH / name / "corpus.jsonl", encoding="utf-8"):
            doc = json.loads(line)
            out["en" if doc.get("lang") == "en" else "id"].append(doc)
    return out


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text or "") if len(s.split()) >= 4]


def _splice(a: str, b: str, rng: random.Random) -> str:
    """The first part of one text and the last part of another."""
    wa, wb = a.split(), b.split()
    if len(wa) < 2 or len(wb) < 2:
        return a or b
    return " ".join(wa[:rng.randint(1, len(wa) - 1)] + wb[rng.randint(1, len(wb) - 1):])


def synthesize(n: int, seed: int = 7, corpora: dict[str, list[dict]] | None = None):
    """Yield n synthetic fact-checks in the product's JSONL import format."""
    corpora = corpora or real_corpora()
    rng = random.Random(seed)
    share_id = len(corpora["id"]) / (len(corpora["id"]) + len(corpora["en"]))
    for i in range(n):
        lang = "id" if rng.random() < share_id else "en"
        pool = corpora[lang]
        a, b, c, d = (rng.choice(pool) for _ in range(4))
        title = _splice(a["title"], b["title"], rng)
        claim = c["claim"] if c["claim"] != c["title"] else _splice(c["claim"], a["claim"], rng)
        summary = ""
        if lang == "id":
            sentences = _sentences(d.get("summary", ""))
            summary = " ".join(sentences[:rng.randint(1, 2)])[:400]
        yield {
            "id": f"synth-{i:07d}", "title": title, "claim": claim, "summary": summary,
            "verdict": rng.choice(VERDICTS[lang]), "lang": lang,
            "url": f"https://cekfakta.example/synth/{i}",
            "date": f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    for row in synthesize(n, seed):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
