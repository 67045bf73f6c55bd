"""Fill the per-text store with the texts the quality experiments need (dev/train only)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tune_store import get, read_set  # noqa: E402
from index import Document  # noqa: E402
from index.normalize import clean_for_embedding  # noqa: E402


def c(t):
    return clean_for_embedding(t)[:2000]


def main():
    en_docs, en_q, en_rel = read_set("en_clef2020_t2")
    id_docs, _, _ = read_set("id_tbh_2024_2025")
    qs = [c(q["text"]) or "?" for q in en_q if q["split"] in ("train", "dev") and q["qid"] in en_rel]
    print("en queries", len(qs), flush=True)
    get(qs, "q")
    heads = [t for d in en_docs for t in Document(d["id"], d["title"], d["claim"], d.get("summary", ""), "en").vector_texts()]
    print("en heads", len(heads), flush=True)
    get(heads, "d")
    summ = [c(d["summary"]) for d in id_docs if d.get("summary")]
    print("id summaries", len(summ), flush=True)
    get(summ, "d")
    claims = [c(d["claim"]) for d in en_docs if d["claim"]]
    print("en claims", len(claims), flush=True)
    get(claims, "d")
    titles = [c(d["title"]) for d in en_docs if d["title"]]
    print("en titles", len(titles), flush=True)
    get(titles, "d")


if __name__ == "__main__":
    main()
