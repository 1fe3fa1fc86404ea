#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the store tests (CTest fixture "postgres").
#
#   postgres.sh start STATE_DIR   initdb in a fresh temp dir, start on a free 127.0.0.1 port,
#                                 write the connection URL to STATE_DIR/url
#   postgres.sh stop STATE_DIR    stop the server and delete its data
#
# PostgreSQL refuses to run as root, so as root the server runs as 'nobody'. Trust
# authentication on loopback only; fsync off (the data is thrown away).
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop STATE_DIR}
state=${2:?usage: postgres.sh start|stop STATE_DIR}

bindir=""
for v in 15 16 17; do
  [[ -x /usr/lib/postgresql/$v/bin/initdb ]] && { bindir=/usr/lib/postgresql/$v/bin; break; }
done

as_server_user=()
if [[ $(id -u) -eq 0 ]]; then
  as_server_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi

stop() {
  [[ -f "$state/datadir" ]] || return 0
  local data
  data=$(cat "$state/datadir")
  if [[ -n "$bindir" && -f "$data/pgdata/postmaster.pid" ]]; then
    (cd "$data" && "${as_server_user[@]}" "$bindir/pg_ctl" -D "$data/pgdata" -m immediate -w stop >/dev/null 2>&1) || true
  fi
  rm -rf "$data"
  rm -f "$state/datadir" "$state/url"
}

case "$cmd" in
  start)
    if [[ -z "$bindir" ]]; then
      echo "postgres.sh: PostgreSQL server binaries not found (/usr/lib/postgresql/15/bin); run scripts/setup.sh" >&2
      exit 1
    fi
    mkdir -p "$state"
    stop  # a server left over from an interrupted run
    data=$(mktemp -d /tmp/trackiq-pg.XXXXXX)
    echo "$data" >"$state/datadir"
    chmod 755 "$data"
    [[ ${#as_server_user[@]} -gt 0 ]] && chown nobody:nogroup "$data"
    cd "$data"
    if ! "${as_server_user[@]}" "$bindir/initdb" -D "$data/pgdata" -U trackiq --auth=trust -E UTF8 --no-locale \
        >"$data/initdb.log" 2>&1; then
      cat "$data/initdb.log" >&2
      exit 1
    fi
    for attempt in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      if "${as_server_user[@]}" "$bindir/pg_ctl" -D "$data/pgdata" -l "$data/server.log" -w -t 60 \
          -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$data -c fsync=off -c max_connections=50" \
          start >/dev/null; then
        echo "postgresql://trackiq@127.0.0.1:$port/postgres" >"$state/url"
        echo "postgres.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($data)"
        exit 0
      fi
      echo "postgres.sh: start on port $port failed (attempt $attempt)" >&2
      tail -5 "$data/server.log" >&2 || true
    done
    exit 1
    ;;
  stop)
    stop
    ;;
  *)
    echo "postgres.sh: unknown command '$cmd'" >&2
    exit 2
    ;;
esac
