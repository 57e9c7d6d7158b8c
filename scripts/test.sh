#!/usr/bin/env bash
# `make test`: every check, in the order that fails fastest. Exits non-zero on the
# first failure.

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/bootstrap.sh --test
scripts/services.sh start
eval "$(scripts/services.sh env)"

say "formatting (cargo fmt --check)"
cargo fmt --check

say "lints, server build (clippy --features ssr)"
cargo clippy --features ssr --all-targets --test chaos -- -D warnings

say "lints, browser build (clippy --features hydrate, wasm32)"
cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

# Deploy files: hadolint, kubernetes-validate, systemd-analyze and their security settings.
scripts/check_deploy.sh

say "clearing databases left by earlier test runs"
psql "$ROSTER_TEST_DATABASE_URL" -tAc \
    "SELECT datname FROM pg_database WHERE datname LIKE 'roster\_test\_%' OR datname LIKE 'roster\_tpl\_%'" \
    | while read -r name; do
        [ -n "$name" ] && psql "$ROSTER_TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
    done

say "unit and integration tests (real Postgres and Redis)"
cargo test --features ssr

# Postgres and Redis of their own, stopped and started for real.
scripts/chaos.sh

build_release_site

scripts/e2e.sh

say "soak, one minute (the full ten-minute one is make soak)"
scripts/loadtest.sh --soak-short

say "all checks passed"
