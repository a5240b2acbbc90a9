#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the test suite and print the URL to test against.
# Installs the distribution's packages when they are missing (CI machines start clean).
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) 1>&2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
port=${KIM_HUB_PG_PORT:-$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
data=$(mktemp -d /tmp/kimhub-pg.XXXXXX)
chown postgres "$data"
su postgres -s /bin/sh -c "$bin/initdb -D $data -A trust -U postgres >/dev/null"
su postgres -s /bin/sh -c "$bin/pg_ctl -D $data -l $data/server.log -w -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null"
echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
