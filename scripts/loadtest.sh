#!/usr/bin/env bash
# `make loadtest` (`make loadtest-short` for a quick run): the load test against the
# release build on its own database, `roster_load_<contacts>` (1,000,000 contacts;
# 100,000 for the short run; ROSTER_LOAD_CONTACTS overrides), prepared on first use
# and kept. Two runs, each against a fresh server on 127.0.0.1:$ROSTER_LOAD_PORT (3400):
#
# 1. visits (open model: warm-up 10/s, sustained 50/s, peak 100/s), with the per-user
#    limits as shipped; only the per-address limits are raised, because every
#    simulated person comes from 127.0.0.1;
# 2. search pages on 200 connections: a closed loop, then 3,000 a second (open
#    model), then that beside 10,000 idle keep-alive connections, then the same
#    queries on Postgres full text; here the per-user read and search
#    limits are raised too (200 connections on 500 accounts ask far faster than
#    people do).
#
# The report is printed and written to .data/loadtest/report-<time>.md.
#
# `--soak` (`make soak`): instead, 200 people visiting for 10 minutes (the visits' mix,
# a closed crowd), judged at the end: no errors, p99 within the targets, the server's
# memory growing under 10% from minute 2 to the end; exits non-zero otherwise. Written
# to .data/loadtest/soak-<time>.md. `--soak-short` is the same for one minute on
# 20,000 contacts (run by `make test`); too short for the memory verdict, it reports
# the memory without judging it.

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

mode=${1:-full}
case "$mode" in
    --short)
        contacts=${ROSTER_LOAD_CONTACTS:-100000}
        visits_args=(--warm-up-secs 10 --sustained-secs 20 --peak-secs 10)
        pages_args=(--seconds 8 --idle-connections 2000)
        ;;
    --soak)
        contacts=${ROSTER_LOAD_CONTACTS:-1000000}
        soak_args=(--seconds 600 --memory-from-secs 120)
        ;;
    --soak-short)
        contacts=${ROSTER_LOAD_CONTACTS:-20000}
        soak_args=(--seconds 60)
        ;;
    full)
        contacts=${ROSTER_LOAD_CONTACTS:-1000000}
        visits_args=(--warm-up-secs 60 --sustained-secs 120 --peak-secs 60)
        pages_args=(--seconds 20 --idle-connections 10000)
        ;;
    *) die "usage: $0 [--short|--soak|--soak-short]" ;;
esac

scripts/bootstrap.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"
build_release_site
bin="$CARGO_TARGET_DIR/release/roster"

database=roster_load_$contacts
if [ -z "$(psql "$ROSTER_TEST_DATABASE_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
    psql "$ROSTER_TEST_DATABASE_URL" -q -c "CREATE DATABASE $database"
fi
export DATABASE_URL
DATABASE_URL=$(url_with_database "$ROSTER_TEST_DATABASE_URL" "$database")
say "preparing $database (the first time: seeding and the full-text index take minutes)"
"$bin" loadtest prepare --contacts "$contacts" --accounts 500 >&2

port=${ROSTER_LOAD_PORT:-3400}
metrics_port=$((port + 1))
port_busy "$port" && die "port $port is taken; set ROSTER_LOAD_PORT to a free port"
# Thousands of connections: the server and the client each need a file per socket.
ulimit -n "$(ulimit -Hn)"
out="$DATA/loadtest"
mkdir -p "$out/index-$contacts"
report="$out/report-$(date -u +%Y%m%dT%H%M%SZ).md"

server=
stop_server() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=
    fi
}
trap stop_server EXIT
serve() { # extra settings as NAME=value
    env ROSTER_LISTEN="127.0.0.1:$port" ROSTER_METRICS_LISTEN="127.0.0.1:$metrics_port" \
        ROSTER_SITE_ROOT="$ROOT/target/site" ROSTER_DATA_DIR="$out/index-$contacts" \
        ROSTER_REDIS_PREFIX="roster-load-$contacts" ROSTER_LOG_FORMAT=json ROSTER_HTTPS=false \
        ROSTER_LIMIT_SIGN_IN_PER_MINUTE=1000000 ROSTER_LIMIT_ANONYMOUS_PER_15_MINUTES=1000000 \
        "$@" "$bin" serve >>"$out/server.log" 2>&1 &
    server=$!
    # The first start builds the index of every contact (about a minute per million).
    if ! wait_for "healthy_on $port" 900; then
        tail -n 20 "$out/server.log" >&2
        die "the server did not become ready"
    fi
}

if [ "$mode" = --soak ] || [ "$mode" = --soak-short ]; then
    report="$out/soak-$(date -u +%Y%m%dT%H%M%SZ).md"
    {
        echo "# Soak, $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "Release build $(git rev-parse --short HEAD), $contacts contacts ($database), server at 127.0.0.1:$port, on this machine ($(nproc) cores) beside the load generator. Raised for the run: the per-address sign-in and anonymous limits (every simulated person comes from 127.0.0.1)."
        echo
    } >"$report"
    say "soak: 200 people ($mode)"
    serve
    status=0
    "$bin" loadtest soak --url "http://127.0.0.1:$port" --metrics-url "http://127.0.0.1:$metrics_port/metrics" \
        --server-pid "$server" "${soak_args[@]}" | tee -a "$report" || status=$?
    stop_server
    say "report written to $report"
    exit "$status"
fi

{
    echo "# Load test, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Release build $(git rev-parse --short HEAD), $contacts contacts ($database), server at 127.0.0.1:$port with its pool of 20 connections, on this machine ($(nproc) cores) beside the load generator. Settings raised for the run: ROSTER_LIMIT_SIGN_IN_PER_MINUTE and ROSTER_LIMIT_ANONYMOUS_PER_15_MINUTES (per address; every simulated person comes from 127.0.0.1); for the search pages also the per-user read and search limits."
    echo
} >"$report"

say "run 1: visits (open model)"
serve
"$bin" loadtest visits --url "http://127.0.0.1:$port" --metrics-url "http://127.0.0.1:$metrics_port/metrics" \
    "${visits_args[@]}" | tee -a "$report"
stop_server

say "run 2: search pages (closed loop, then 3,000/s), idle connections, Postgres full text"
# The idle connections are held for the whole run: past the default 75 s idle timeout.
serve ROSTER_LIMIT_READS_PER_MINUTE=100000000 ROSTER_LIMIT_SEARCHES_PER_MINUTE=100000000 \
    ROSTER_KEEP_ALIVE_IDLE_SECS=3600
"$bin" loadtest pages --url "http://127.0.0.1:$port" --metrics-url "http://127.0.0.1:$metrics_port/metrics" \
    "${pages_args[@]}" | tee -a "$report"
stop_server

say "report written to $report"
