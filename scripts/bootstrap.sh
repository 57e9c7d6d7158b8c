#!/usr/bin/env bash
# Installs what building and running Roster needs and the machine lacks. Idempotent:
# each step checks first, so a second run takes a second.
#
#   scripts/bootstrap.sh          what `make run` needs
#   scripts/bootstrap.sh --cluster  plus nginx (`make cluster`)
#   scripts/bootstrap.sh --test   plus what `make test` needs (nginx, Chromium, Playwright)
#
# Nothing here downloads a prebuilt binary: Rust tools build from crates.io sources,
# system packages come from Debian, Playwright drives Debian's Chromium.

source "$(dirname "$0")/lib.sh"

with_test=false
with_cluster=false
[ "${1:-}" = "--test" ] && with_test=true && with_cluster=true
[ "${1:-}" = "--cluster" ] && with_cluster=true

apt_packages=()
need_apt() { command -v "$1" >/dev/null 2>&1 || apt_packages+=("$2"); }

need_apt redis-server redis-server
need_apt redis-cli redis-tools
pg_bin >/dev/null || apt_packages+=(postgresql)
if $with_cluster; then
    # nginx is in /usr/sbin, which a non-root PATH may lack.
    PATH="$PATH:/usr/sbin" need_apt nginx nginx
fi
if $with_test; then
    need_apt chromium chromium
    need_apt node nodejs
    need_apt npm npm
    # The deploy files' checks (scripts/check_deploy.sh) verify the systemd unit.
    need_apt systemd-analyze systemd
    # `roster bench search` compares the index with Postgres's RUM extension too.
    if pg=$(pg_bin); then
        pg_major=$(basename "$(dirname "$pg")")
        [ -f "/usr/share/postgresql/$pg_major/extension/rum.control" ] ||
            apt_packages+=("postgresql-$pg_major-rum")
    fi
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
    is_root || die "missing ${apt_packages[*]}: install them, or run as root to have this script do it"
    say "installing ${apt_packages[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    pg_version() { dpkg-query -W -f='${Version}' "postgresql-${pg_major:-none}" 2>/dev/null || true; }
    pg_before=$(pg_version)
    apt-get install -y -q --no-install-recommends "${apt_packages[@]}" >/dev/null
    # An extension may need a newer Postgres of the same major version, and apt then
    # upgrades it: a server still running the old binary fails to load the new
    # libraries ("undefined symbol" from plpgsql), so the embedded one is restarted.
    if [ -n "$pg_before" ] && [ "$(pg_version)" != "$pg_before" ] &&
        "$ROOT/scripts/services.sh" status | grep -q '^postgres: running'; then
        say "Postgres was upgraded from $pg_before to $(pg_version): restarting the embedded servers"
        "$ROOT/scripts/services.sh" stop
        "$ROOT/scripts/services.sh" start
    fi
    # Debian starts the packaged Redis on 6379 (and nginx on 80); Roster runs its own,
    # so leave those alone.
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

version_of() { "$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1; }

if [ "$(version_of wasm-bindgen)" != "$WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
    # Without --locked: its lock file names a webpki-roots that no longer resolves.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(version_of cargo-leptos)" != "$CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes)"
    # no_downloads: use the tools installed here instead of fetching binaries.
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads --force
fi

if ! command -v wasm-opt >/dev/null 2>&1; then
    say "installing wasm-opt $WASM_OPT_VERSION (builds Binaryen from source, about 5 minutes)"
    cargo install wasm-opt --version "$WASM_OPT_VERSION" --locked
fi

if $with_test; then
    if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] \
        || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
        say "installing the end-to-end test dependencies (npm ci)"
        # Playwright's browsers are never downloaded: the tests launch /usr/bin/chromium.
        (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    fi
fi
