"""Draw the speed figures as small SVG charts for BENCHMARKS.md (no plotting library needed).

    python bench/plot.py     # reads bench/results/speed.json and million-*.json, writes bench/charts/*.svg
"""
import json
import math
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
CHARTS = Path(__file__).resolve().parent / "charts"  # kept in the repository, for BENCHMARKS.md
COLOURS = ["#1b6ca8", "#d1495b", "#edae49", "#2a9d3f", "#6a4c93"]


def _size_label(x: float) -> str:
    return f"{x / 1e6:g}M" if x >= 1e6 else f"{x / 1e3:g}k"


def line_chart(title: str, ylabel: str, series: dict[str, list[tuple[float, float]]],
               width: int = 620, height: int = 300, xlabel: str = "claims in the library (log scale)",
               xfmt=_size_label) -> str:
    """A log-x line chart: series name -> [(library size, value)]."""
    left, right, top, bottom = 64, 190, 36, 44
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    x1 = x1 if x1 > x0 else x0 + 1
    ymax = max(ys) * 1.15 or 1
    step = 10 ** math.floor(math.log10(ymax / 4))
    step *= 5 if ymax / step > 20 else 2 if ymax / step > 8 else 1

    def px(x):
        return left + (math.log10(x) - x0) / (x1 - x0) * (width - left - right)

    def py(y):
        return top + (1 - y / ymax) * (height - top - bottom)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="20" font-size="14" font-weight="bold">{title}</text>']
    y = 0.0
    while y <= ymax:
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
        y += step
    for x in sorted(set(xs)):
        label = xfmt(x)
        out.append(f'<text x="{px(x):.1f}" y="{height - bottom + 18}" text-anchor="middle">{label}</text>')
    out.append(f'<text x="{(left + width - right) / 2}" y="{height - 6}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text x="14" y="{(top + height - bottom) / 2}" transform="rotate(-90 14 {(top + height - bottom) / 2})" '
               f'text-anchor="middle">{ylabel}</text>')
    for i, (name, points) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(points))
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in points:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        out.append(f'<line x1="{width - right + 12}" x2="{width - right + 30}" y1="{top + 8 + 18 * i}" '
                   f'y2="{top + 8 + 18 * i}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{width - right + 36}" y="{top + 12 + 18 * i}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    speed = json.loads((RESULTS / "speed.json").read_text())
    latency: dict[str, list] = {}
    memory: dict[str, list] = {}
    by_rate: dict[str, list] = {}
    sizes = [entry["serve"]["size"] for entry in speed["sizes"] if entry.get("serve")]
    for entry in speed["sizes"]:
        serve = entry.get("serve")
        if not serve:
            continue
        size = serve["size"]
        for load in serve["loads"]:
            # Each kind of messages at the rate it is measured at everywhere and can sustain.
            phase = load.get("phase", "cold")
            if phase == "restart":
                continue
            name = f"{load['messages']}{' (2nd min)' if phase == 'warm' else ''}"
            if (load["messages"], load["target_rate"]) in (("zipf", 120), ("distinct", 60)):
                for p in ("p50", "p99"):
                    latency.setdefault(f"{name} {load['target_rate']:g}/s {p}", []).append(
                        (size, load[f"{p}_ms"]))
            if size == max(sizes):
                by_rate.setdefault(f"{name} p99", []).append((load["target_rate"], load["p99_ms"]))
        pss = [m["pss_mb"] for m in serve["memory_loaded"]]
        memory.setdefault("gunicorn worker (PSS)", []).append((size, sum(pss) / len(pss)))
    for path in sorted(RESULTS.glob("million-*.json")):
        million = json.loads(path.read_text())
        memory.setdefault("1M search-only (RSS)", []).append((million["size"], million["rss_mb"]))
    CHARTS.mkdir(exist_ok=True)
    (CHARTS / "latency.svg").write_text(line_chart("Webhook latency (2 gunicorn workers)", "milliseconds", latency))
    (CHARTS / "memory.svg").write_text(line_chart("Memory", "MB", memory))
    if by_rate:
        (CHARTS / "latency-by-rate.svg").write_text(line_chart(
            f"p99 latency by message rate, {max(sizes):,} claims", "milliseconds", by_rate,
            xlabel="messages per second (log scale)", xfmt=lambda x: f"{x:g}"))
    print("wrote the charts to", CHARTS)
    print(tables(speed))


PHASES = {"cold": "1st, fresh server", "warm": "2nd, same server", "restart": "after a restart"}


def _cold(serve: dict) -> str:
    cold = serve.get("cold_start_s")
    if isinstance(cold, list) and cold:
        return f"{sorted(cold)[len(cold) // 2]:.1f} s (median of {len(cold)})"
    return f"{cold} s" if cold else ""


def _quick(load: dict) -> str:
    """Messages searched by keywords alone because others waited (QUICK_WHEN_WAITING)."""
    if "quick" not in load:
        return "–"  # measured before the quick search existed
    return f"{load['quick']} ({100 * load['quick'] / max(load.get('sent', 1), 1):.1f} %)"


def tables(speed: dict) -> str:
    """The Markdown tables of BENCHMARKS.md, from speed.json (and million-*.json)."""
    out = ["| claims | messages | minute | target /s | answered /s | p50 ms | p95 ms | p99 ms | errors | "
           "by keywords alone |",
           "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for entry in speed["sizes"]:
        serve = entry.get("serve")
        for load in (serve or {}).get("loads", []):
            out.append(f"| {serve['size']:,} | {load['messages']} | {PHASES[load.get('phase', 'cold')]} | "
                       f"{load['target_rate']:g} | {load['throughput']} | "
                       f"{load.get('p50_ms')} | {load.get('p95_ms')} | {load.get('p99_ms')} | {load['errors']} | "
                       f"{_quick(load)} |")
    out += ["", "| claims | import | full rebuild | rebuild claims/s | encoder alone claims/s | cold start | "
                "memory per worker (PSS / RSS) | publish → found (5 tries) |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for entry in speed["sizes"]:
        build, serve = entry["build"], entry.get("serve") or {}
        memory = serve.get("memory_loaded") or []
        mem = ", ".join(f"{m.get('pss_mb', 0):.0f} / {m.get('rss_mb', 0):.0f} MB" for m in memory)
        rebuild = (f"{build['rebuild_s']:.0f} s" if build.get("embedded", True)
                   else f"{build['rebuild_s']:.0f} s (vectors reused)")
        publish = ", ".join(f"{t:.2f}" for t in serve.get("publish_to_searchable_s", [])) + " s" if serve else ""
        out.append(f"| {build['size']:,} | {build['import_s']:.1f} s | {rebuild} | "
                   f"{build['rebuild_claims_per_s'] if build.get('embedded', True) else '—'} | "
                   f"{build['encoder_claims_per_s']} | {_cold(serve)} | {mem} | {publish} |")
    largest = max((e for e in speed["sizes"] if e.get("serve")), key=lambda e: e["build"]["size"], default=None)
    if largest:
        out += ["", f"Latency by kind of message at {largest['build']['size']:,} claims (p50 / p99 ms):", "",
                "| messages | minute | target /s | keyword | question | forward | greeting |",
                "| --- | --- | ---: | --- | --- | --- | --- |"]
        for load in largest["serve"]["loads"]:
            kinds = load["by_kind"]
            cells = [f"{kinds[k].get('p50_ms')} / {kinds[k].get('p99_ms')}" if k in kinds else ""
                     for k in ("keyword", "question", "forward", "greeting")]
            out.append(f"| {load['messages']} | {PHASES[load.get('phase', 'cold')]} | {load['target_rate']:g} | "
                       + " | ".join(cells) + " |")
    for path in sorted(RESULTS.glob("million-*.json")):
        million = json.loads(path.read_text())
        out += ["", f"| {million['size']:,} claims, one process | keyword | question | forward | all |",
                "| --- | --- | --- | --- | --- |"]
        for phase in ("embedding and search", "search only (query vector cached)", "BM25 scoring alone"):
            row = million[phase]
            out.append(f"| {phase}: p50 / p95 / p99 ms | " + " | ".join(
                f"{row[k]['p50_ms']} / {row[k]['p95_ms']} / {row[k]['p99_ms']}" if k in row else ""
                for k in ("keyword", "question", "forward", "all")) + " |")
        out.append(f"| memory | RSS {million['rss_mb']:,} MB (peak {million['max_rss_mb']:,} MB while partitioning) | "
                   f"build {million['build_s']:.0f} s | IVF partition {million['partition_s']:.0f} s | |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
