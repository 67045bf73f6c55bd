#!/usr/bin/env bash
# Run the test suite from the repo root, after making sure the dev dependencies are installed:
# first every test on SQLite, then every test that touches the database (marked `db`, see
# tests/conftest.py) again on a throwaway PostgreSQL started by scripts/postgres.sh. Both passes
# must pass; if PostgreSQL cannot be started, the run fails and says why. Arguments go to both
# pytest runs:
#
#   scripts/test.sh
#   scripts/test.sh tests/test_claims_store.py -x
#   scripts/test.sh -m 'not slow and not browser'
#   DATABASES=sqlite scripts/test.sh        one pass only: sqlite or postgresql (default: both)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

databases="${DATABASES:-sqlite postgresql}"
for database in $databases; do
    case "$database" in
        sqlite|postgresql) ;;
        *) echo "test: error: DATABASES may name sqlite and postgresql, not '$database'" >&2; exit 2 ;;
    esac
done

bash scripts/setup.sh --dev
venv="${VENV:-$root/.venv}"

# Nothing may be fetched from a model hub: the encoders the tests use ship inside packages.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}"
# The SQLite pass must not pick up a PostgreSQL URL from the caller's environment.
unset FACTCHECK_TEST_DATABASE_URL

log="$(mktemp "${TMPDIR:-/tmp}/cekfakta-test.XXXXXX")"
trap 'rm -f "$log"' EXIT
count() {  # count WORD: how many tests pytest's closing line in $log gives as WORD
    tail -n 1 "$log" | grep -Eo "[0-9]+ $1" | grep -Eo '[0-9]+' || echo 0
}

overall=5  # pytest's "no tests collected", until a pass runs some
passed=0 failed=0 times=()
for database in $databases; do
    started=$SECONDS
    if [[ $database == sqlite ]]; then
        echo "test: pass 1: every test, on SQLite"
        command=("$venv/bin/python" -m pytest -q "$@")
    else
        echo "test: pass 2: the tests marked db, on PostgreSQL"
        command=(bash scripts/postgres.sh "$venv/bin/python" -m pytest -q "$@")
    fi
    set +e
    "${command[@]}" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    times+=("$database $((SECONDS - started)) s")
    passed=$((passed + $(count passed)))
    failed=$((failed + $(count failed) + $(count 'errors?')))
    case $status in
        0) overall=0 ;;
        5) ;;  # no test of this pass was selected (say, none of those asked for uses the database)
        *) echo "test: the $database pass failed (exit $status)" >&2; exit "$status" ;;
    esac
done
echo "test: time per pass: ${times[*]}"
echo "test: $passed passed, $failed failed"
exit "$overall"
