"""bench/report.py: each bench script rewrites its own block of BENCHMARKS.md and nothing else."""

import pytest

from bench.report import BENCHMARKS, markers, write_block

PAGE = """# Benchmarks

Written by hand.

<!-- speed-bench:start -->
| old | table |
<!-- speed-bench:end -->

Between the blocks, by hand.

<!-- memory-bench:start -->
| memory | old |
<!-- memory-bench:end -->

The end.
"""


def test_a_block_is_replaced_and_the_rest_kept(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(PAGE)
    write_block("memory-bench", ["| memory | new |", "| --- | --- |"], path)
    assert path.read_text() == PAGE.replace("| memory | old |", "| memory | new |\n| --- | --- |")


def test_a_new_block_is_appended(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(PAGE)
    write_block("webhook-bench", ["| ratio |"], path)
    assert path.read_text() == PAGE + "\n<!-- webhook-bench:start -->\n| ratio |\n<!-- webhook-bench:end -->\n"


def test_writing_twice_gives_the_same_page(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(PAGE)
    write_block("speed-bench", ["| a |"], path)
    once = path.read_text()
    write_block("speed-bench", ["| a |"], path)
    assert path.read_text() == once


@pytest.mark.parametrize("line", [r"| \1 \g<0> |", "| 1.42× | .*? |"])
def test_table_text_is_written_as_it_is(tmp_path, line):
    """Backslashes and regex characters in a table are text, not a replacement pattern."""
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(PAGE)
    write_block("speed-bench", [line], path)
    assert f"<!-- speed-bench:start -->\n{line}\n<!-- speed-bench:end -->" in path.read_text()


def test_a_start_marker_without_its_end_is_an_error(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(PAGE.replace("<!-- memory-bench:end -->", ""))
    with pytest.raises(ValueError, match="memory-bench:end"):
        write_block("memory-bench", ["| x |"], path)
    assert path.read_text() == PAGE.replace("<!-- memory-bench:end -->", "")


@pytest.mark.parametrize("name", ["memory-bench", "webhook-bench"])
def test_the_scripts_blocks_are_in_benchmarks_md(name):
    start, end = markers(name)
    text = BENCHMARKS.read_text()
    assert text.index(start) < text.index(end)
