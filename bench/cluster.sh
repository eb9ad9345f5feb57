# bench/cluster.sh — sourced by the bench scripts: a throwaway PostgreSQL cluster on a free port, run as the
# postgres OS user when we are root (like internal/pgtest), stopped and removed on exit together with every
# process whose pid is added to BENCH_PIDS.
#
#   source bench/cluster.sh
#   start_cluster NAME [MAX_CONNECTIONS]    # sets BIN, WORK, PGPORT, AS
#   some_server & BENCH_PIDS+=($!)

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
