#!/usr/bin/env bash
# `make chaos`: the fault tests (tests/chaos.rs). They stop and start Postgres, its
# read replica and Redis for real, so they get servers of their own (under
# .data/chaos/, on ports of their own) and run one at a time; the servers stop again
# at the end.

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

export ROSTER_DATA="$ROOT/.data/chaos"
# Below Linux's ephemeral range (32768-60999): these servers start after the other
# tests have opened thousands of connections, and a client socket still holding the
# port once kept Postgres from binding it ("Address already in use").
export ROSTER_PG_PORT=${ROSTER_CHAOS_PG_PORT:-25442}
export ROSTER_REDIS_PORT=${ROSTER_CHAOS_REDIS_PORT:-26389}
# A streaming read replica of that Postgres (the replica's test stops and starts it).
export ROSTER_PG_REPLICA_PORT=${ROSTER_CHAOS_PG_REPLICA_PORT:-25443}
unset DATABASE_URL REDIS_URL ROSTER_TEST_DATABASE_URL

scripts/bootstrap.sh
stop_servers() { scripts/services.sh stop || true; }
trap stop_servers EXIT
scripts/services.sh start
scripts/services.sh start-replica
eval "$(scripts/services.sh env)"
# The app's own replica use is the test's to configure.
unset DATABASE_READ_URL
# The tests stop and start each server through this script (same folder and ports).
export ROSTER_CHAOS_SERVICES="$ROOT/scripts/services.sh"

say "fault tests (cargo test --test chaos, one at a time)"
cargo test --features ssr --test chaos -- --test-threads=1 "$@"
