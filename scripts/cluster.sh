#!/usr/bin/env bash
# `make cluster` / `make cluster-stop`: N Roster instances (2 by default) on one
# Postgres and one Redis, behind nginx with deploy/nginx.conf.
#
#   scripts/cluster.sh start    build the release site if needed, start, wait until ready
#   scripts/cluster.sh stop     stop nginx and the instances (SIGTERM: they drain)
#   scripts/cluster.sh status   what runs
#
# Settings (environment):
#   ROSTER_CLUSTER_PORT       nginx's port (3500); instance i listens on PORT+i
#   ROSTER_CLUSTER_INSTANCES  how many instances (2)
#   ROSTER_CLUSTER_DIR        pid files, logs, nginx's files, each instance's index
#                             (.data/cluster)
#   ROSTER_BIN                the roster binary (the release build by default)
#   DATABASE_URL, REDIS_URL   the shared stores (the embedded ones by default, with
#                             the same database as `make run`)
#   ROSTER_REDIS_PREFIX       shared by the instances (roster)
# Other ROSTER_* settings pass through to every instance.

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

port=${ROSTER_CLUSTER_PORT:-3500}
instances=${ROSTER_CLUSTER_INSTANCES:-2}
dir=${ROSTER_CLUSTER_DIR:-$DATA/cluster}

instance_port() { echo $((port + $1)); }
pid_of() { [ -f "$1" ] && cat "$1"; }
alive() { local pid; pid=$(pid_of "$1") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# deploy/nginx.conf with this cluster's ports, inside a main config of our own (pid,
# logs and temporary files in $dir; workers as the user running this, since the
# files are ours).
write_nginx_config() {
    local upstreams="" i
    for i in $(seq 1 "$instances"); do
        upstreams+="    server 127.0.0.1:$(instance_port "$i") max_fails=2 fail_timeout=2s;\n"
    done
    awk -v servers="$upstreams" -v listen="$port" '
        /# instances:begin/ { print; printf "%s", servers; skipping = 1; next }
        /# instances:end/ { skipping = 0 }
        skipping { next }
        /^    listen 127\.0\.0\.1:[0-9]+;/ { print "    listen 127.0.0.1:" listen ";"; next }
        { print }' deploy/nginx.conf >"$dir/roster-site.conf"
    mkdir -p "$dir/nginx-temp"
    cat >"$dir/nginx.conf" <<CONF
# Written by scripts/cluster.sh; the site itself is deploy/nginx.conf.
$(is_root && echo "user root;")
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log $dir/nginx-access.log;
    client_body_temp_path $dir/nginx-temp/body;
    proxy_temp_path $dir/nginx-temp/proxy;
    fastcgi_temp_path $dir/nginx-temp/fastcgi;
    uwsgi_temp_path $dir/nginx-temp/uwsgi;
    scgi_temp_path $dir/nginx-temp/scgi;
    include $dir/roster-site.conf;
}
CONF
}

start() {
    if [ -z "${ROSTER_BIN:-}" ]; then
        scripts/bootstrap.sh --cluster
        scripts/services.sh start
        eval "$(scripts/services.sh env)"
        build_release_site
        ROSTER_BIN="$CARGO_TARGET_DIR/release/roster"
        export ROSTER_SITE_ROOT=${ROSTER_SITE_ROOT:-$ROOT/target/site}
        "$ROSTER_BIN" migrate >/dev/null
        "$ROSTER_BIN" seed --count "${ROSTER_DEMO_CONTACTS:-25000}" --if-empty
    fi
    command -v nginx >/dev/null || PATH="$PATH:/usr/sbin"
    command -v nginx >/dev/null || die "nginx is not installed (scripts/bootstrap.sh --cluster installs it)"
    mkdir -p "$dir"
    alive "$dir/nginx.pid" && die "a cluster already runs from $dir (scripts/cluster.sh stop)"
    port_busy "$port" && die "port $port is taken; set ROSTER_CLUSTER_PORT"
    local i
    for i in $(seq 1 "$instances"); do
        port_busy "$(instance_port "$i")" && die "port $(instance_port "$i") is taken; set ROSTER_CLUSTER_PORT"
        mkdir -p "$dir/instance-$i"
        ROSTER_LISTEN="127.0.0.1:$(instance_port "$i")" ROSTER_DATA_DIR="$dir/instance-$i" \
            ROSTER_TRUSTED_PROXIES="${ROSTER_TRUSTED_PROXIES:-[127.0.0.1/32]}" \
            ROSTER_REDIS_PREFIX="${ROSTER_REDIS_PREFIX:-roster}" \
            ROSTER_HTTPS="${ROSTER_HTTPS:-false}" \
            nohup "$ROSTER_BIN" serve >>"$dir/instance-$i.log" 2>&1 &
        echo $! >"$dir/instance-$i.pid"
    done
    for i in $(seq 1 "$instances"); do
        # Ready, or given up on as soon as the process has exited.
        if ! wait_for "healthy_on $(instance_port "$i") || ! alive '$dir/instance-$i.pid'" 300 \
            || ! alive "$dir/instance-$i.pid"; then
            tail -n 20 "$dir/instance-$i.log" >&2
            stop
            die "instance $i did not become ready"
        fi
    done
    write_nginx_config
    nginx -t -q -p "$dir" -c "$dir/nginx.conf" || { stop; die "nginx refuses the configuration"; }
    nginx -p "$dir" -c "$dir/nginx.conf"
    if ! wait_for "healthy_on $port" 30; then
        cat "$dir/nginx-error.log" >&2 || true
        stop
        die "nginx did not answer on port $port"
    fi
    say "Roster runs at http://127.0.0.1:$port: nginx before $instances instances (ports $(instance_port 1)–$(instance_port "$instances")); \`make cluster-stop\` stops it"
}

stop() {
    if alive "$dir/nginx.pid"; then
        nginx -p "$dir" -c "$dir/nginx.conf" -s quit 2>/dev/null || kill "$(pid_of "$dir/nginx.pid")"
        wait_for "! alive '$dir/nginx.pid'" 10 || kill -9 "$(pid_of "$dir/nginx.pid")" 2>/dev/null || true
    fi
    local file pid
    for file in "$dir"/instance-*.pid; do
        [ -f "$file" ] || continue
        pid=$(pid_of "$file")
        if alive "$file"; then
            kill -TERM "$pid"
            # The drain is bounded (in-flight requests, then the index commit).
            wait_for "! kill -0 $pid" 60 || kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$file"
    done
}

status() {
    local file
    alive "$dir/nginx.pid" && echo "nginx: running on port $port" || echo "nginx: stopped"
    for file in "$dir"/instance-*.pid; do
        [ -f "$file" ] || continue
        alive "$file" && echo "$(basename "$file" .pid): running (pid $(pid_of "$file"))" \
            || echo "$(basename "$file" .pid): stopped"
    done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: scripts/cluster.sh start|stop|status" ;;
esac
