#!/usr/bin/env bash
# Run the tipline locally with the demo library: set up, create or upgrade the database, build
# the search index, then serve with gunicorn. Extra arguments go to gunicorn.
#
#   scripts/run.sh
#   PORT=8000 HOST=0.0.0.0 WORKERS=4 scripts/run.sh
#   FACTCHECK_ENV=production FACTCHECK_SECRET_KEY=... scripts/run.sh
#
# FACTCHECK_ENV defaults to "demo": missing secrets are generated and kept in instance/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
venv="${VENV:-$root/.venv}"
# shellcheck disable=SC1091
. "$venv/bin/activate"

export FACTCHECK_ENV="${FACTCHECK_ENV:-demo}"
host="${HOST:-127.0.0.1}"
port="${PORT:-5000}"
workers="${WORKERS:-2}"

# Every command is idempotent: the upgrade runs only the migrations the database lacks (an
# empty one is created), init-db loads demo/claims.jsonl only into an empty library, and the
# rebuild brings the index up to the library's revision.
flask --app app db upgrade
flask --app app init-db --demo
flask --app app index rebuild --if-needed

case "$host" in
    0.0.0.0|::|"[::]") shown_host=127.0.0.1 ;;
    *) shown_host="$host" ;;
esac
url="http://$shown_host:$port"
echo
echo "Cek Fakta tipline ($FACTCHECK_ENV) at $url/"
echo "  web chat:          $url/"
echo "  Twilio webhook:    $url/whatsapp   (POST; set FACTCHECK_PUBLIC_URL behind a proxy)"
echo "Stop with Ctrl-C."
echo

exec gunicorn --workers "$workers" --bind "$host:$port" --access-logfile - "$@" 'app:create_app()'
