#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: installs Debian's server if it is missing, makes a
# cluster in a temporary folder (in memory when there is /dev/shm), serves it on a free
# loopback port, creates a database, and stops and deletes it all on the way out.
#
#   scripts/postgres.sh COMMAND [ARG...]   run COMMAND with FACTCHECK_TEST_DATABASE_URL set to the
#                                          database's URL; exits with COMMAND's status
#   scripts/postgres.sh                    print the URL and keep the server up until Ctrl-C
#
# Safe to run again, and several at once: each run has its own folder and port. Nothing is
# written outside that folder (bar the apt-get install). Root runs the server as the `postgres`
# system user, since initdb refuses root.
set -euo pipefail

say() { printf 'postgres: %s\n' "$*" >&2; }
die() { printf 'postgres: error: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

find_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && echo "$dir"
}

bindir="$(find_bindir || true)"
if [[ -z "$bindir" ]]; then
    say "installing Debian's postgresql (server and client)"
    sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null 2>&1 \
            || die "PostgreSQL is not installed and sudo is not available: run 'apt-get install -y postgresql' as root"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null || die "apt-get install postgresql failed"
    bindir="$(find_bindir || true)"
    [[ -n "$bindir" ]] || die "postgresql was installed but no /usr/lib/postgresql/*/bin/initdb was found"
fi

# initdb and the server refuse to run as root: root hands them to the postgres system user.
as_owner=()
if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' system user to run the server"
    as_owner=(runuser -u postgres --)
fi

# In memory where there is /dev/shm: the suite leaves tens of thousands of small files (a
# schema per test app), which take a minute to delete from a disk.
base="${TMPDIR:-/tmp}"
if [[ -d /dev/shm && -w /dev/shm ]]; then
    base=/dev/shm
fi
folder="$(mktemp -d "$base/cekfakta-postgres.XXXXXX")"
chmod 755 "$folder"
[[ ${#as_owner[@]} == 0 ]] || chown postgres: "$folder"

stop() {
    if [[ -f "$folder/data/postmaster.pid" ]]; then
        "${as_owner[@]}" "$bindir/pg_ctl" -D "$folder/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$folder"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"${as_owner[@]}" "$bindir/initdb" -D "$folder/data" -U postgres --auth=trust --encoding=UTF8 \
    --no-locale --no-instructions --no-sync >"$folder/initdb.log" 2>&1 \
    || die "initdb failed: $(tail -n 5 "$folder/initdb.log")"

# A throwaway cluster: durability is traded for speed (no fsync), and the suite's many small
# apps each hold a few pooled connections.
options="-c listen_addresses=127.0.0.1 -k $folder -c fsync=off -c synchronous_commit=off"
options+=" -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB"
started=0
for _ in 1 2 3; do
    port="$(free_port)"
    if "${as_owner[@]}" "$bindir/pg_ctl" -D "$folder/data" -o "-p $port $options" \
            -l "$folder/server.log" -w -t 60 start >/dev/null 2>&1; then
        started=1
        break
    fi
done
[[ $started == 1 ]] || die "the server did not start: $(tail -n 5 "$folder/server.log" 2>/dev/null)"

"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres factcheck \
    || die "could not create the database factcheck on 127.0.0.1:$port"

export FACTCHECK_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/factcheck"
if [[ $# == 0 ]]; then
    echo "$FACTCHECK_TEST_DATABASE_URL"
    say "$("$bindir/postgres" --version) on 127.0.0.1:$port, in $folder; Ctrl-C stops it and deletes the folder"
    while true; do sleep 3600 & wait $!; done
fi
say "$("$bindir/postgres" --version) on 127.0.0.1:$port"
status=0
"$@" || status=$?
exit "$status"
