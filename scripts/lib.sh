# Shared by the scripts in this folder: paths, ports and small helpers.
# Sourced, not run.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=${ROSTER_DATA:-$ROOT/.data}
PG_PORT=${ROSTER_PG_PORT:-55432}
REDIS_PORT=${ROSTER_REDIS_PORT:-56379}
PORT=${ROSTER_PORT:-3000}

# Versions the build depends on. wasm-bindgen-cli must equal the `=` pin in Cargo.toml.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml")
CARGO_LEPTOS_VERSION=0.3.10
WASM_OPT_VERSION=0.116.1

# Builds are shared between clones (CI makes a fresh clone each run), so dependencies
# compile once per machine. Override to build elsewhere.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/roster/target}
export PATH="$HOME/.cargo/bin:$PATH"

# The release site: the server binary, and the browser bundle with each lazily loaded
# page in a wasm file of its own (`--split`), every asset also written compressed.
build_release_site() {
    say "building the release site (cargo leptos build --release --split --precompress)"
    cargo leptos build --release --split --precompress
}

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# The newest Postgres server binaries on the machine.
pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] || return 1
    echo "$dir"
}

# Runs a Postgres server command as the user that owns the cluster: initdb and
# postgres refuse to run as root, so as root we use the `postgres` system user.
as_pg() {
    if is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# $1 encoded for an application/x-www-form-urlencoded body (ASCII text).
form_encode() {
    local text=$1 out="" char i
    for ((i = 0; i < ${#text}; i++)); do
        char=${text:i:1}
        case $char in
            [A-Za-z0-9._~-]) out+=$char ;;
            *) out+=$(printf '%%%02X' "'$char") ;;
        esac
    done
    printf '%s' "$out"
}

# True if something listens on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits up to $2 seconds for `$1` (a command) to succeed.
wait_for() {
    local check=$1 limit=$2 waited=0
    until eval "$check" >/dev/null 2>&1; do
        waited=$((waited + 1))
        [ "$waited" -le "$((limit * 10))" ] || return 1
        sleep 0.1
    done
}

# A random password of URL-safe characters.
random_secret() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }

# The Postgres URL $1 with its database replaced by $2.
url_with_database() { printf '%s' "${1%/*}/$2"; }

# True if the Roster on 127.0.0.1:$1 reports itself fully ready (`/health/deep` passes
# as a whole, the search index built: its overall status closes the JSON). Plain bash
# (no curl on a fresh machine): one HTTP/1.0 request.
healthy_on() {
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET /health/deep HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
        grep -q "\"status\":\"pass\"}\$" <&3' _ "$1" 2>/dev/null
}
