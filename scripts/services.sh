#!/usr/bin/env bash
# The embedded default: a private PostgreSQL cluster and Redis server under .data/,
# on loopback ports of their own (55432 and 56379 unless ROSTER_PG_PORT and
# ROSTER_REDIS_PORT say otherwise), with generated passwords kept in .data/.
#
#   scripts/services.sh start   start whatever is not running (creating it the first time)
#   scripts/services.sh stop    stop both
#   scripts/services.sh env     print `export DATABASE_URL=… REDIS_URL=…` for eval
#   scripts/services.sh status
#   scripts/services.sh start-postgres|stop-postgres|start-redis|stop-redis   one server
#   scripts/services.sh start-replica|stop-replica   a streaming read replica of the
#                       embedded Postgres (pg_basebackup, hot standby) on the next port
#                       (ROSTER_PG_REPLICA_PORT); `env` then prints DATABASE_READ_URL
#
# Postgres runs as the `postgres` system user when this runs as root (initdb refuses
# root), so its folder must be reachable by that user; when .data/ is not (a clone in
# /root, say), the cluster lives under /var/lib/roster/ and .data/postgres links there.

source "$(dirname "$0")/lib.sh"

PG_LINK="$DATA/postgres"
REPLICA_LINK="$DATA/postgres-replica"
REPLICA_PORT=${ROSTER_PG_REPLICA_PORT:-$((PG_PORT + 1))}
REPLICA_SLOT=roster_replica
REDIS_DIR="$DATA/redis"

# The folder holding the cluster (`data/`) and its log, created on first use.
pg_home() { server_home "$PG_LINK"; }
replica_home() { server_home "$REPLICA_LINK"; }

# The folder a Postgres server's link ($1, under .data/) leads to, created on first use.
server_home() {
    local link=$1
    if [ -L "$link" ] || [ -d "$link" ]; then
        readlink -f "$link"
        return
    fi
    mkdir -p "$DATA"
    # Others may pass through .data/ (so the postgres user reaches its cluster) but not
    # list it; the secrets in it are readable by their owner only.
    chmod 711 "$DATA"
    if ! is_root || runuser -u postgres -- test -x "$DATA" 2>/dev/null; then
        mkdir -p "$link"
        echo "$link"
    else
        # A folder above .data/ is closed to other users (a clone in /root, say).
        local home
        # Named after the clone (and the data folder, when it is not the default one:
        # `make chaos` runs a second pair of servers from the same clone).
        local key=$ROOT
        [ "$DATA" = "$ROOT/.data" ] || key=$DATA
        home="/var/lib/roster/$(printf '%s' "$key" | sha1sum | cut -c1-12)"
        # The replica beside the primary's folder.
        [ "$link" = "$PG_LINK" ] || home="$home-$(basename "$link")"
        mkdir -p "$home"
        chmod 755 /var/lib/roster
        ln -sfn "$home" "$link"
        echo "$home"
    fi
}

pg_password_file() { echo "$DATA/postgres.password"; }

# Whether the Postgres server whose folder is $1 runs.
running_in() {
    [ -f "$1/data/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

pg_running() { running_in "$(pg_home)"; }

# Starts the Postgres server whose folder is $1 on port $2 unless it runs; $3 names it,
# $4 is the variable that sets the port.
start_in() {
    local home=$1 port=$2 what=$3 setting=$4
    running_in "$home" && return
    port_busy "$port" && die "port $port is taken by another program; set $setting to a free port"
    say "starting $what on 127.0.0.1:$port"
    as_pg "$(pg_bin)/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 \
        -o "-p $port" start >/dev/null \
        || { tail -n 20 "$home/server.log" >&2; die "$what did not start"; }
}

# Stops the Postgres server whose folder is $1 ($2 names it), if it runs.
stop_in() {
    if running_in "$1"; then
        say "stopping $2"
        as_pg "$(pg_bin)/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null
    fi
}

start_postgres() {
    local bin home
    bin=$(pg_bin) || die "no PostgreSQL server binaries under /usr/lib/postgresql (run scripts/bootstrap.sh)"
    home=$(pg_home)
    if is_root; then chown postgres:postgres "$home"; fi
    chmod 700 "$home"

    if [ ! -f "$home/data/PG_VERSION" ]; then
        say "creating the Postgres cluster in $home"
        local password pwfile
        password=$(random_secret)
        printf '%s' "$password" >"$(pg_password_file)"
        chmod 600 "$(pg_password_file)"
        pwfile="$home/.pwfile"
        printf '%s\n' "$password" >"$pwfile"
        if is_root; then chown postgres:postgres "$pwfile"; fi
        as_pg "$bin/initdb" -D "$home/data" -U roster --pwfile="$pwfile" \
            --auth-host=scram-sha-256 --auth-local=peer \
            --encoding=UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 \
            || { cat "$home/initdb.log" >&2; die "initdb failed"; }
        rm -f "$pwfile"
        # Sized for a million contacts and a few hundred connections on this machine.
        as_pg tee -a "$home/data/postgresql.conf" >/dev/null <<'EOF'

# Roster's embedded cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
shared_buffers = 512MB
effective_cache_size = 4GB
work_mem = 16MB
maintenance_work_mem = 256MB
log_min_duration_statement = 1000
EOF
    fi

    start_in "$home" "$PG_PORT" Postgres ROSTER_PG_PORT
}

stop_postgres() { stop_in "$(pg_home)" Postgres; }

replica_running() { running_in "$(replica_home)"; }

# A hot standby streaming from the embedded primary: copied once with pg_basebackup
# through a replication slot (the primary keeps the WAL it has not received, up to
# max_slot_wal_keep_size), then started on its own port.
start_replica() {
    local bin home
    bin=$(pg_bin) || die "no PostgreSQL server binaries under /usr/lib/postgresql (run scripts/bootstrap.sh)"
    start_postgres
    home=$(replica_home)
    if is_root; then chown postgres:postgres "$home"; fi
    chmod 700 "$home"
    if [ ! -f "$home/data/PG_VERSION" ]; then
        say "copying the primary into a read replica in $home (pg_basebackup)"
        rm -rf "$home/data"
        # A slot left by a replica removed by hand would keep WAL for nobody.
        psql "$(pg_url postgres)" -qtA >/dev/null <<SQL
ALTER SYSTEM SET max_slot_wal_keep_size = '2GB';
SELECT pg_reload_conf();
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
 WHERE slot_name = '$REPLICA_SLOT' AND NOT active;
SQL
        PGPASSWORD=$(cat "$(pg_password_file)") as_pg "$bin/pg_basebackup" \
            -h 127.0.0.1 -p "$PG_PORT" -U roster -D "$home/data" \
            --wal-method=stream --checkpoint=fast --write-recovery-conf \
            --create-slot --slot="$REPLICA_SLOT" >"$home/basebackup.log" 2>&1 \
            || { cat "$home/basebackup.log" >&2; rm -rf "$home/data"; die "pg_basebackup failed"; }
    fi
    start_in "$home" "$REPLICA_PORT" "the read replica" ROSTER_PG_REPLICA_PORT
}

stop_replica() { stop_in "$(replica_home)" "the read replica"; }

redis_password() { cat "$REDIS_DIR/password"; }

redis_running() {
    [ -f "$REDIS_DIR/password" ] \
        && REDISCLI_AUTH=$(redis_password) redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

start_redis() {
    mkdir -p "$REDIS_DIR"
    chmod 700 "$REDIS_DIR"
    if [ ! -f "$REDIS_DIR/password" ]; then
        random_secret >"$REDIS_DIR/password"
        chmod 600 "$REDIS_DIR/password"
    fi
    # Written every start, so a changed port takes effect.
    cat >"$REDIS_DIR/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
requirepass $(redis_password)
dir $REDIS_DIR
pidfile $REDIS_DIR/redis.pid
logfile $REDIS_DIR/redis.log
daemonize yes
save 300 1
maxmemory 512mb
maxmemory-policy volatile-lru
EOF
    chmod 600 "$REDIS_DIR/redis.conf"
    if redis_running; then
        return
    fi
    port_busy "$REDIS_PORT" && die "port $REDIS_PORT is taken by another program; set ROSTER_REDIS_PORT to a free port"
    say "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server "$REDIS_DIR/redis.conf"
    wait_for redis_running 10 || { tail -n 20 "$REDIS_DIR/redis.log" >&2; die "Redis did not start"; }
}

stop_redis() {
    if redis_running; then
        say "stopping Redis"
        # Saved first, as a service manager's stop would: sessions survive a restart.
        REDISCLI_AUTH=$(redis_password) redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
        wait_for '! redis_running' 10 || warn "Redis did not stop"
    fi
}

# The admin URL (database `postgres`) and the app's URL (database $1, default roster),
# on the primary's port or $2.
pg_url() {
    local password
    password=$(cat "$(pg_password_file)")
    echo "postgres://roster:$password@127.0.0.1:${2:-$PG_PORT}/${1:-roster}"
}

ensure_database() {
    local name=$1
    local exists
    exists=$(psql "$(pg_url postgres)" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")
    if [ "$exists" != 1 ]; then
        psql "$(pg_url postgres)" -q -c "CREATE DATABASE \"$name\"" >/dev/null
    fi
}

case "${1:-}" in
    start)
        if [ -z "${DATABASE_URL:-}" ]; then
            start_postgres
            ensure_database roster
        fi
        if [ -z "${REDIS_URL:-}" ]; then
            start_redis
        fi
        ;;
    stop)
        stop_redis
        [ -e "$REPLICA_LINK" ] && stop_replica
        stop_postgres
        ;;
    env)
        # Settings already in the environment win: then nothing embedded is used.
        if [ -z "${DATABASE_URL:-}" ]; then
            echo "export DATABASE_URL='$(pg_url roster)'"
            echo "export ROSTER_TEST_DATABASE_URL='$(pg_url postgres)'"
            if [ -e "$REPLICA_LINK" ] && replica_running; then
                echo "export DATABASE_READ_URL='$(pg_url roster "$REPLICA_PORT")'"
            fi
        else
            echo "export ROSTER_TEST_DATABASE_URL='${ROSTER_TEST_DATABASE_URL:-$DATABASE_URL}'"
        fi
        if [ -z "${REDIS_URL:-}" ]; then
            echo "export REDIS_URL='redis://:$(redis_password)@127.0.0.1:$REDIS_PORT'"
        fi
        ;;
    # One server at a time, for the fault tests (`make chaos`).
    start-postgres) start_postgres ;;
    stop-postgres) stop_postgres ;;
    start-redis) start_redis ;;
    stop-redis) stop_redis ;;
    start-replica) start_replica ;;
    stop-replica) stop_replica ;;
    pg-url)
        pg_url "${2:-roster}"
        ;;
    ensure-database)
        ensure_database "$2"
        ;;
    status)
        pg_running && echo "postgres: running on 127.0.0.1:$PG_PORT" || echo "postgres: stopped"
        [ -e "$REPLICA_LINK" ] && replica_running && echo "read replica: running on 127.0.0.1:$REPLICA_PORT"
        redis_running && echo "redis: running on 127.0.0.1:$REDIS_PORT" || echo "redis: stopped"
        ;;
    *)
        die "usage: $0 start|stop|env|status|start-postgres|stop-postgres|start-redis|stop-redis|start-replica|stop-replica"
        ;;
esac
