#!/usr/bin/env bash
# Run the test suite from the repo root, after making sure the dev dependencies are installed.
# Arguments go to pytest:
#
#   scripts/test.sh
#   scripts/test.sh tests/test_claims_store.py -x
#   scripts/test.sh -m 'not slow and not browser'
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh --dev
venv="${VENV:-$root/.venv}"

# Nothing may be fetched from a model hub: the encoders the tests use ship inside packages.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}"

exec "$venv/bin/python" -m pytest -q "$@"
