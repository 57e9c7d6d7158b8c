#!/usr/bin/env bash
# The Playwright suite against the release build: a fresh database seeded with a fixed
# dataset plus the contacts in end2end/fixtures.sql, the server on
# 127.0.0.1:$ROSTER_E2E_PORT (3100), Debian's Chromium. Tests start once the server
# reports itself fully ready (search index built). Expects the release site to be
# built (scripts/test.sh does that first).

source "$(dirname "$0")/lib.sh"
cd "$ROOT"
eval "$(scripts/services.sh env)"

bin="$CARGO_TARGET_DIR/release/roster"
[ -x "$bin" ] || die "no release build at $bin: run \`cargo leptos build --release --split --precompress\` first"
e2e_port=${ROSTER_E2E_PORT:-3100}
port_busy "$e2e_port" && die "port $e2e_port is taken; set ROSTER_E2E_PORT to a free port"

# A database of its own, recreated each run so every run starts from the same rows.
database=roster_e2e
admin_url=$ROSTER_TEST_DATABASE_URL
psql "$admin_url" -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
e2e_url=$(url_with_database "$admin_url" "$database")
DATABASE_URL="$e2e_url" "$bin" seed --count 230 --seed 2024 >/dev/null
psql "$e2e_url" -q -v ON_ERROR_STOP=1 -f end2end/fixtures.sql

# The accounts the specs sign in as, one per role.
export ROSTER_E2E_ADMIN_EMAIL=admin@e2e.example ROSTER_E2E_PASSWORD="e2e password for every account"
for role in admin editor viewer; do
    echo "$ROSTER_E2E_PASSWORD" | DATABASE_URL="$e2e_url" "$bin" user add --email "$role@e2e.example" --role "$role" >/dev/null
done

# A directory with no contacts and the same admin account, on a server of its own:
# the interchange spec imports its exports there (into an empty directory).
empty_database=roster_e2e_empty
psql "$admin_url" -q -c "DROP DATABASE IF EXISTS $empty_database WITH (FORCE)" -c "CREATE DATABASE $empty_database"
empty_url=$(url_with_database "$admin_url" "$empty_database")
DATABASE_URL="$empty_url" "$bin" migrate >/dev/null
echo "$ROSTER_E2E_PASSWORD" | DATABASE_URL="$empty_url" "$bin" user add --email "$ROSTER_E2E_ADMIN_EMAIL" --role admin >/dev/null

mkdir -p "$DATA/e2e" "$DATA/e2e-limited" "$DATA/e2e-empty"
# Two servers on the one database. The main one is used by every spec: each spec is
# one person at machine speed, all from 127.0.0.1, so the per-user and sign-in limits
# are raised for it (the integration tests check the limits). The second keeps a low
# search limit, for the spec that sees a search refused and tried again.
limited_port=$((e2e_port + 1))
port_busy "$limited_port" && die "port $limited_port is taken; set ROSTER_E2E_PORT to a free pair"
serve() { # port, data folder, redis prefix, searches per minute
    # Plain HTTP on loopback, said explicitly (a release build defaults to HTTPS),
    # unless the release build's own default is what is being checked.
    if [ "${ROSTER_E2E_DEFAULT_HTTPS:-}" = 1 ]; then
        unset ROSTER_HTTPS
    else
        export ROSTER_HTTPS=false
    fi
    DATABASE_URL="${SERVE_DATABASE_URL:-$e2e_url}" ROSTER_LISTEN="127.0.0.1:$1" ROSTER_SITE_ROOT="$ROOT/target/site" \
        ROSTER_DATA_DIR="$2" ROSTER_DB_MIN_CONNECTIONS=1 ROSTER_REDIS_PREFIX="$3" \
        ROSTER_LIMIT_SIGN_IN_PER_MINUTE=1000 ROSTER_LIMIT_ANONYMOUS_PER_15_MINUTES=10000 \
        ROSTER_LIMIT_SEARCHES_PER_MINUTE="$4" ROSTER_LIMIT_READS_PER_MINUTE=100000 \
        ROSTER_LIMIT_WRITES_PER_MINUTE=100000 ROSTER_LIMIT_UPLOADS_PER_MINUTE=1000 \
        exec "$bin" serve >"$2/server.log" 2>&1
}
serve "$e2e_port" "$DATA/e2e" "roster-e2e-$$" 100000 &
server=$!
serve "$limited_port" "$DATA/e2e-limited" "roster-e2e-limited-$$" 6 &
limited=$!
# (The HTTPS-default check below takes $e2e_port + 2.)
empty_port=$((e2e_port + 3))
port_busy "$empty_port" && die "port $empty_port is taken; set ROSTER_E2E_PORT to a free range of four"
(SERVE_DATABASE_URL=$empty_url serve "$empty_port" "$DATA/e2e-empty" "roster-e2e-empty-$$" 100000) &
empty=$!
trap 'kill $server $limited $empty 2>/dev/null; wait $server $limited $empty 2>/dev/null' EXIT

ready() { healthy_on "$e2e_port" && healthy_on "$limited_port" && healthy_on "$empty_port"; }
if ! wait_for ready 60; then
    tail -n 30 "$DATA/e2e/server.log" "$DATA/e2e-limited/server.log" "$DATA/e2e-empty/server.log" >&2
    die "the e2e servers did not become ready"
fi

say "secure by default: what the release build does unless told otherwise"
# Plain HTTP off loopback is refused at start, naming the reason...
if ROSTER_HTTPS=false ROSTER_LISTEN=0.0.0.0:9 DATABASE_URL="$e2e_url" "$bin" serve >"$DATA/e2e/plain-http.log" 2>&1; then
    die "a release build served plain HTTP on 0.0.0.0"
fi
grep -q "not a loopback" "$DATA/e2e/plain-http.log" || die "no reason given: $(cat "$DATA/e2e/plain-http.log")"
# ...and left to its defaults it sends HSTS and a Secure __Host- cookie.
secure_port=$((e2e_port + 2))
port_busy "$secure_port" && die "port $secure_port is taken; set ROSTER_E2E_PORT to a free triple"
mkdir -p "$DATA/e2e-secure"
(ROSTER_E2E_DEFAULT_HTTPS=1 serve "$secure_port" "$DATA/e2e-secure" "roster-e2e-secure-$$" 100000) &
secure=$!
wait_for "healthy_on $secure_port" 60 || die "the HTTPS-default server did not start: $(tail -n 20 "$DATA/e2e-secure/server.log")"
# A sign-in as a script posts it, over a plain socket to this machine (HTTP/1.0: the
# server closes after answering, so reading to the end reads the whole answer).
body="email=$(form_encode "$ROSTER_E2E_ADMIN_EMAIL")&password=$(form_encode "$ROSTER_E2E_PASSWORD")"
headers=$(
    exec 3<>"/dev/tcp/127.0.0.1/$secure_port"
    printf 'POST /api/sign-in HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' \
        "${#body}" "$body" >&3
    timeout 10 cat <&3
)
kill $secure; wait $secure 2>/dev/null || true
echo "$headers" | grep -qi '^strict-transport-security: max-age=' || die "no HSTS by default: $headers"
echo "$headers" | grep -qi '^set-cookie: __Host-roster=.*; *Secure' || die "no Secure __Host- cookie by default: $headers"

say "running the Playwright suite (JavaScript off and on)"
export ROSTER_E2E_PORT=$e2e_port ROSTER_E2E_LIMITED_PORT=$limited_port ROSTER_E2E_EMPTY_PORT=$empty_port
(cd end2end && npx playwright test "$@")
