# bench/cluster.sh — sourced by the bench scripts: a throwaway PostgreSQL cluster on a free port, run as the
# postgres OS user when we are root (like internal/pgtest), stopped and removed on exit together with every
# process whose pid is added to BENCH_PIDS.
#
#   source bench/cluster.sh
#   start_cluster NAME [MAX_CONNECTIONS]    # sets BIN, WORK, PGPORT, AS
#   some_server & BENCH_PIDS+=($!)
#   start_pgbouncer PORT                    # PgBouncer (session mode) in front of the cluster; sets BX_PID

BIN=${BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
BENCH_PIDS=()

# freeport prints a TCP port that is free on 127.0.0.1 right now.
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_cleanup() {
  set +e
  local p
  for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [ -n "${WORK:-}" ] || return 0
  "${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$WORK"
}

start_cluster() {
  local name=$1 maxconn=${2:-100}
  PGPORT=$(freeport)
  WORK=$(mktemp -d "/tmp/deferproxy-$name.XXXXXX")
  chmod 755 "$WORK"
  AS=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$WORK"; AS=(runuser -u postgres --); fi
  trap bench_cleanup EXIT
  echo "# cluster: $BIN port $PGPORT, work dir $WORK" >&2
  "${AS[@]}" "$BIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  cat >>"$WORK/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$WORK'
max_connections = $maxconn
shared_buffers = 128MB
fsync = off
synchronous_commit = off
CONF
  "${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w start >/dev/null
}

# start_pgbouncer PORT: Debian's PgBouncer in session mode in front of the cluster (installed when missing and we
# are root). BX_PID is the process that serves (the daemon's child when it forks).
start_pgbouncer() {
  local port=$1
  if ! command -v pgbouncer >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
    else
      echo "pgbouncer is missing: sudo apt-get install pgbouncer" >&2; exit 1
    fi
  fi
  cat >"$WORK/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PGPORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = session
max_client_conn = 2000
default_pool_size = 200
logfile = $WORK/pgbouncer.log
pidfile = $WORK/pgbouncer.pid
INI
  echo '"postgres" ""' >"$WORK/userlist.txt"
  [ "$(id -u)" = 0 ] && chown postgres "$WORK/pgbouncer.ini" "$WORK/userlist.txt"
  "${AS[@]}" pgbouncer "$WORK/pgbouncer.ini" >/dev/null 2>&1 &
  local pid=$!
  BENCH_PIDS+=("$pid")
  for _ in $(seq 50); do "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
  BX_PID=$(pgrep -P "$pid" pgbouncer || echo "$pid")
}

# cpu_ticks PID: user+system CPU time of a process in clock ticks. CPU per transaction is the fair measure of a
# middlebox's cost when the machine is shared: it does not depend on how long others kept the CPU.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
