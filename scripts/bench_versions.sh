#!/usr/bin/env bash
# `scripts/bench_versions.sh <revision> [contacts]`: another build of Roster (say, the
# last commit before a change) against this checkout's, on the same machine, in one
# run, each on a database its own build seeded (`roster loadtest prepare`, 1,000,000
# contacts unless told otherwise), so each is measured on the data and schema it was
# made for.
#
# For each build, in turn:
# 1. `roster bench search` of that build (its own query set from its own data; the
#    database is renamed to the bench's name for the run and back after; builds that
#    time Postgres on a sample answer 20 queries there, ROSTER_BENCH_POSTGRES_QUERIES
#    to change it; builds that run every engine on every query take
#    ROSTER_BENCH_RUNS runs, 2 unless told);
# 2. a server of that build on a fresh data folder, with the page cache off: the
#    seconds from start to ready (the index built from Postgres), the index's size on
#    disk, the server's resident memory when ready;
# 3. `roster bench pages` (this checkout's client, the same for both) against it:
#    directory pages past the first and contact pages, each a different URL, one at a
#    time; then the server's resident memory again, and its peak.
#
# The other build is made once from a temporary worktree (sharing the target folder,
# so only Roster itself compiles) and kept under .data/bench-versions/. The report is
# printed and written to .data/bench-versions/report-<time>.md.

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ $# -ge 1 ] || die "usage: $0 <revision> [contacts]"
revision=$(git rev-parse --short "$1^{commit}") || die "$1 is not a commit here"
contacts=${2:-1000000}
current=$(git rev-parse --short HEAD)

scripts/bootstrap.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"
out="$DATA/bench-versions"
mkdir -p "$out"

before_bin="$out/roster-$revision"
if [ ! -x "$before_bin" ]; then
    say "building $revision (a worktree in $out/src-$revision; only Roster itself compiles)"
    rm -rf "$out/src-$revision"
    git worktree prune
    git worktree add --detach "$out/src-$revision" "$revision" >&2
    (cd "$out/src-$revision" && cargo leptos build --release)
    cp "$CARGO_TARGET_DIR/release/roster" "$before_bin.part"
    rm -rf "$out/site-$revision"
    cp -r "$out/src-$revision/target/site" "$out/site-$revision"
    git worktree remove --force "$out/src-$revision"
    mv "$before_bin.part" "$before_bin"
fi
# ROSTER_BENCH_BUILT=1 measures the release build already made (to measure a commit
# while later work is on disk, uncompiled).
if [ "${ROSTER_BENCH_BUILT:-0}" != 1 ]; then
    build_release_site
fi
after_bin="$CARGO_TARGET_DIR/release/roster"

port=${ROSTER_BENCH_PORT:-3500}
metrics_port=$((port + 1))
port_busy "$port" && die "port $port is taken; set ROSTER_BENCH_PORT to a free port"
report="$out/report-$(date -u +%Y%m%dT%H%M%SZ).md"

server= renamed=
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ -n "$renamed" ]; then
        psql "$ROSTER_TEST_DATABASE_URL" -q -c "ALTER DATABASE roster_bench_$contacts RENAME TO $renamed" || true
    fi
}
trap cleanup EXIT

# `VmRSS` or `VmHWM` of process $1, in MiB.
memory_mib() { awk -v key="$2:" '$1 == key { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

{
    echo "# Two builds, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "$revision (before) and $current (this checkout), release builds, $contacts contacts each, on this machine ($(nproc) cores); \`scripts/bench_versions.sh $1 $contacts\`."
    echo
} >"$report"

measure() { # label binary site
    local label=$1 bin=$2 site=$3
    local database="roster_load_${label}_$contacts"
    local url
    url=$(url_with_database "$ROSTER_TEST_DATABASE_URL" "$database")
    if [ -z "$(psql "$ROSTER_TEST_DATABASE_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
        psql "$ROSTER_TEST_DATABASE_URL" -q -c "CREATE DATABASE $database"
    fi
    say "$label: preparing $database with its own build (the first time: seeding takes minutes)"
    local started=$SECONDS
    DATABASE_URL=$url "$bin" loadtest prepare --contacts "$contacts" --accounts 1 | tee -a "$report"
    echo "($label: prepared in $((SECONDS - started)) s)" >>"$report"

    say "$label: roster bench search"
    psql "$ROSTER_TEST_DATABASE_URL" -q -c "ALTER DATABASE $database RENAME TO roster_bench_$contacts"
    renamed=$database
    { echo; echo "## $label: \`roster bench search --contacts $contacts\`"; echo; } >>"$report"
    local engines=(--postgres-queries "${ROSTER_BENCH_POSTGRES_QUERIES:-20}")
    if "$bin" bench search --help | grep -q -- '--runs'; then
        engines=(--runs "${ROSTER_BENCH_RUNS:-2}")
    fi
    DATABASE_URL=$url "$bin" bench search --contacts "$contacts" "${engines[@]}" | tee -a "$report"
    psql "$ROSTER_TEST_DATABASE_URL" -q -c "ALTER DATABASE roster_bench_$contacts RENAME TO $database"
    renamed=

    say "$label: a server, the index built from Postgres, then roster bench pages"
    local data="$out/data-$label"
    rm -rf "$data"
    mkdir -p "$data"
    local start_ns
    start_ns=$(date +%s%N)
    env DATABASE_URL="$url" ROSTER_LISTEN="127.0.0.1:$port" ROSTER_METRICS_LISTEN="127.0.0.1:$metrics_port" \
        ROSTER_SITE_ROOT="$site" ROSTER_DATA_DIR="$data" ROSTER_REDIS_PREFIX="roster-bench-$label" \
        ROSTER_LOG_FORMAT=json ROSTER_HTTPS=false ROSTER_PAGE_CACHE_MB=0 \
        ROSTER_LIMIT_READS_PER_MINUTE=100000000 ROSTER_LIMIT_SEARCHES_PER_MINUTE=100000000 \
        "$bin" serve >"$out/server-$label.log" 2>&1 &
    server=$!
    if ! wait_for "healthy_on $port" 900; then
        tail -n 20 "$out/server-$label.log" >&2
        die "the $label server did not become ready"
    fi
    local ready_ms=$((($(date +%s%N) - start_ns) / 1000000))
    local index_mib rss_ready
    index_mib=$(du -sm "$data/index" | cut -f1)
    rss_ready=$(memory_mib "$server" VmRSS)
    { echo; echo "## $label: \`roster bench pages\` against its server"; echo; } >>"$report"
    DATABASE_URL=$url "$after_bin" bench pages --url "http://127.0.0.1:$port" | tee -a "$report"
    local rss_after hwm
    rss_after=$(memory_mib "$server" VmRSS)
    hwm=$(memory_mib "$server" VmHWM)
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=
    {
        echo
        echo "$label server: ready (index built from Postgres) in $((ready_ms / 1000)).$(printf '%03d' $((ready_ms % 1000))) s; index $index_mib MiB on disk; resident memory $rss_ready MiB when ready, $rss_after MiB after the pages (peak $hwm MiB)."
        echo
    } | tee -a "$report"
}

measure before "$before_bin" "$out/site-$revision"
measure after "$after_bin" "$ROOT/target/site"
say "report written to $report"
