#!/usr/bin/env bash
# Run the test suite from the repo root, after making sure the dev dependencies are installed:
# first every test on SQLite, then every test that touches the database (marked `db`, see
# tests/conftest.py) again on a throwaway PostgreSQL started by scripts/postgres.sh. Both passes
# must pass; if PostgreSQL cannot be started, the run fails and says why. The passes run side by
# side unless PARALLEL=0. Arguments go to both pytest runs:
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

# The two passes run side by side (PARALLEL=0: one after the other): each is mostly one core's
# work (pytest, the encoder on short texts, a browser waiting on a page), and the machine has two.
# Each pass writes its own log; a pass's log is printed whole when it ends, so lines never mix.
parallel="${PARALLEL:-1}"
logs="$(mktemp -d "${TMPDIR:-/tmp}/cekfakta-test.XXXXXX")"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$logs"' EXIT
count() {  # count LOG WORD: how many tests pytest's closing line in LOG gives as WORD
    tail -n 1 "$1" | grep -Eo "[0-9]+ $2" | grep -Eo '[0-9]+' || echo 0
}

run_pass() {  # run_pass DATABASE: one pass, its output in $logs/DATABASE.log, its exit status and time beside it
    local database=$1 started=$SECONDS status
    local command
    if [[ $database == sqlite ]]; then
        command=("$venv/bin/python" -m pytest -q "${args[@]}")
    else
        command=(bash scripts/postgres.sh "$venv/bin/python" -m pytest -q "${args[@]}")
    fi
    set +e
    if [[ $parallel == 1 ]]; then
        "${command[@]}" >"$logs/$database.log" 2>&1
        status=$?
    else  # one pass at a time: its output as it comes
        "${command[@]}" 2>&1 | tee "$logs/$database.log"
        status=${PIPESTATUS[0]}
    fi
    set -e
    echo "$status" >"$logs/$database.status"
    echo "$((SECONDS - started))" >"$logs/$database.seconds"
}

describe() {
    case $1 in
        sqlite) echo "pass 1: every test, on SQLite" ;;
        postgresql) echo "pass 2: the tests marked db, on PostgreSQL" ;;
    esac
}

args=("$@")
for database in $databases; do
    echo "test: $(describe "$database")"
    if [[ $parallel == 1 ]]; then
        run_pass "$database" &
        pids+=($!)
    else
        run_pass "$database"
    fi
done
if [[ $parallel == 1 ]]; then
    wait "${pids[@]}" || true
    pids=()
    for database in $databases; do
        echo "test: --- $(describe "$database") ---"
        cat "$logs/$database.log"
    done
fi

overall=5  # pytest's "no tests collected", until a pass runs some
passed=0 failed=0 times=() broken=()
for database in $databases; do
    log="$logs/$database.log"
    status="$(cat "$logs/$database.status" 2>/dev/null || echo 1)"
    times+=("$database $(cat "$logs/$database.seconds" 2>/dev/null || echo '?') s")
    passed=$((passed + $(count "$log" passed)))
    failed=$((failed + $(count "$log" failed) + $(count "$log" 'errors?')))
    case $status in
        0) [[ ${#broken[@]} -gt 0 ]] || overall=0 ;;
        5) ;;  # no test of this pass was selected (say, none of those asked for uses the database)
        *) [[ ${#broken[@]} -gt 0 ]] || overall=$status; broken+=("$database (exit $status)") ;;
    esac
done
echo "test: time per pass: ${times[*]}"
echo "test: $passed passed, $failed failed"
if ((${#broken[@]})); then
    echo "test: failed: ${broken[*]}" >&2
fi
exit "$overall"
