#!/usr/bin/env bash
# `make run`: install what is missing, start the embedded Postgres and Redis (unless
# DATABASE_URL / REDIS_URL are set), build the release site, migrate, seed demo
# contacts the first time, and serve at http://127.0.0.1:$ROSTER_PORT (3000).

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/bootstrap.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"

build_release_site

bin="$CARGO_TARGET_DIR/release/roster"
export ROSTER_SITE_ROOT="$ROOT/target/site"
export ROSTER_DATA_DIR="$DATA"
export ROSTER_LISTEN="127.0.0.1:$PORT"
# Plain HTTP on this machine (a release build otherwise expects HTTPS: Secure cookies, HSTS).
export ROSTER_HTTPS="${ROSTER_HTTPS:-false}"
# Readable log lines in the terminal (a production start gets JSON lines by default).
export ROSTER_LOG_FORMAT="${ROSTER_LOG_FORMAT:-pretty}"

"$bin" migrate >/dev/null
"$bin" seed --count "${ROSTER_DEMO_CONTACTS:-25000}" --if-empty

say "Roster is running at http://127.0.0.1:$PORT (Ctrl-C stops it; \`make stop\` stops Postgres and Redis)"
if [ -f "$DATA/admin-password" ]; then
    say "sign in with the admin account whose email and password are in $DATA/admin-password (readable by you only; \`roster user add\` makes more)"
else
    say "the first start creates an admin account and writes its email and password to $DATA/admin-password (readable by you only)"
fi
exec "$bin" serve
