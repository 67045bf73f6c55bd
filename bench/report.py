"""The one writer of BENCHMARKS.md's generated blocks: the text between a script's markers.

A script owns the block between `<!-- NAME:start -->` and `<!-- NAME:end -->`; everything else
in BENCHMARKS.md is written by hand and left as it is.
"""
import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def markers(name: str) -> tuple[str, str]:
    """Give the start and end markers of the block called `name`."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_block(name: str, lines: list[str], path: Path = BENCHMARKS) -> None:
    """Put `lines` between the markers of block `name` in `path`, appending the block if it is new."""
    start, end = markers(name)
    text = path.read_text()
    block = start + "\n" + "\n".join(lines) + "\n" + end
    if start not in text:
        text += "\n" + block + "\n"
    elif end not in text.split(start, 1)[1]:
        raise ValueError(f"{path.name}: {start} has no {end} after it")
    else:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, count=1, flags=re.S)
    path.write_text(text)
