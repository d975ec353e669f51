#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: a new cluster in a
# temporary folder (fsync off: nothing in it outlives the command), on
# 127.0.0.1 and a socket in that folder, its superuser `huddle` trusted
# without a password. The command finds its admin URL in
# HUDDLE_TEST_DATABASE (tests/api create one database per test in it).
# The server and its folder are gone afterwards, whatever the command did.
#   scripts/with-postgres.sh cargo test --features ssr,postgres --test api
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "no PostgreSQL server under /usr/lib/postgresql (scripts/tools.sh test installs Debian's postgresql)" >&2; exit 1; }
port=${HUDDLE_TEST_PG_PORT:-54329}
dir=$(mktemp -d /tmp/huddle-pg.XXXXXX)
# PostgreSQL refuses to run as root: as root, it runs as Debian's postgres.
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
stop() {
  as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
as_pg "$bin/initdb" -D "$dir/data" -A trust -U huddle -E UTF8 --locale=C.UTF-8 > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" > /dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
export HUDDLE_TEST_DATABASE="postgres://huddle@127.0.0.1:$port/postgres"
"$@"
