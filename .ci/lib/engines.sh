# Sourced after .ci/lib/server.sh by scripts that need PostgreSQL 15 and Redis 7: each started on a
# free loopback port in a temporary directory, and stopped when the script exits (the EXIT trap of
# prepare_work_directory is extended). A server that is not installed is a failure, never a skip.
#
#   start_postgres    sets postgres_url (postgres://sentry@127.0.0.1:PORT/sentry)
#   start_redis       sets redis_url (redis://127.0.0.1:PORT) and redis_port
#   start_redis_cluster N
#                     N masters (no replicas) made a cluster with redis-cli --cluster create; sets
#                     redis_url and redis_port to the first node's, redis_ports to all of them
postgres_bin=/usr/lib/postgresql/15/bin
postgres_dir=""
redis_pid=""
redis_pids=""

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# initdb refuses to run as root: as root, run PostgreSQL's programs as the postgres user.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_engines() {
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    # shellcheck disable=SC2086
    [ -n "$redis_pids" ] && kill $redis_pids 2>/dev/null
    if [ -n "$postgres_dir" ]; then
        as_postgres "$postgres_bin/pg_ctl" -D "$postgres_dir/data" -m immediate stop >/dev/null 2>&1
        rm -rf "$postgres_dir"
    fi
    return 0
}

start_postgres() {
    [ -x "$postgres_bin/initdb" ] || { echo "PostgreSQL 15 is not installed: apt-get install -y postgresql"; exit 1; }
    postgres_dir=$(mktemp -d /tmp/sentry-postgres.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$postgres_dir"
    trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; stop_engines; rm -rf "$work"' EXIT
    local port
    port=$(free_port)
    as_postgres "$postgres_bin/initdb" -D "$postgres_dir/data" -U sentry -A trust --no-sync -E UTF8 >/dev/null
    as_postgres "$postgres_bin/pg_ctl" -D "$postgres_dir/data" -w -l "$postgres_dir/log" \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$postgres_dir -c fsync=off" \
        start >/dev/null
    as_postgres "$postgres_bin/createdb" -h 127.0.0.1 -p "$port" -U sentry sentry
    postgres_url="postgres://sentry@127.0.0.1:$port/sentry"
}

start_redis() {
    command -v redis-server >/dev/null || { echo "Redis is not installed: apt-get install -y redis-server"; exit 1; }
    trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; stop_engines; rm -rf "$work"' EXIT
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
        --logfile "$work/redis.log" &
    redis_pid=$!
    for _ in $(seq 1 100); do
        redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
        sleep 0.05
    done
    redis_url="redis://127.0.0.1:$redis_port"
}

start_redis_cluster() {
    command -v redis-server >/dev/null || { echo "Redis is not installed: apt-get install -y redis-server"; exit 1; }
    trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; stop_engines; rm -rf "$work"' EXIT
    redis_ports=""
    local nodes="" port
    for index in $(seq 1 "$1"); do
        port=$(free_port)
        mkdir -p "$work/node-$index"
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work/node-$index" \
            --logfile "$work/node-$index/redis.log" --cluster-enabled yes --cluster-port "$(free_port)" \
            --cluster-config-file nodes.conf &
        redis_pids="$redis_pids $!"
        redis_ports="$redis_ports $port"
        nodes="$nodes 127.0.0.1:$port"
    done
    for port in $redis_ports; do
        for _ in $(seq 1 100); do
            redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
            sleep 0.05
        done
    done
    # shellcheck disable=SC2086
    redis-cli --cluster create $nodes --cluster-yes >/dev/null
    for port in $redis_ports; do
        for _ in $(seq 1 200); do
            redis-cli -p "$port" cluster info | grep -q cluster_state:ok && break
            sleep 0.05
        done
    done
    redis_ports=${redis_ports# }
    redis_port=${redis_ports%% *}
    redis_url="redis://127.0.0.1:$redis_port"
}
