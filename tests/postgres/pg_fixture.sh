#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pg_fixture.sh start|stop DIR - a throwaway PostgreSQL server for the `postgres` tests.
#
# start: initdb into DIR/data (trust authentication, no fsync during initdb), start the server
# listening only on a unix socket in DIR (listen_addresses='', fsync=on: commits are durable
# as in production), create the database `acm_test`, and write DIR/uri: the libpq URI the
# tests connect with (postgresql:///acm_test?host=DIR&user=...).
# stop: stop the server at once (pg_ctl stop -m immediate) and remove DIR.
#
# The server refuses to run as root: as root, every server command runs as the `postgres`
# user (runuser) and DIR is handed to it. A machine without the server binaries FAILS here
# (the tests that need the fixture fail with it): these tests are never skipped silently.
#
# ACM_PG_TASKSET=LIST (optional, for bench/): the server runs on those CPUs only (taskset -c
# LIST), e.g. to keep it apart from the benchmark's processes as a database host would be.
set -euo pipefail
cmd=${1:?usage: pg_fixture.sh start|stop DIR}
dir=${2:?usage: pg_fixture.sh start|stop DIR}

bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/pg_ctl" ] && bindir=$d
done
if [ -z "$bindir" ]; then
  echo "pg_fixture: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install the Debian package" \
       "'postgresql': scripts/deps.sh)" >&2
  exit 1
fi

as_owner=()
user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u postgres --)
  user=postgres
fi
pin=()
if [ -n "${ACM_PG_TASKSET:-}" ]; then pin=(taskset -c "$ACM_PG_TASKSET"); fi
run() { "${as_owner[@]}" "$@"; }

case "$cmd" in
  start)
    if [ -e "$dir/data/postmaster.pid" ]; then  # a server left over by an interrupted run
      run "$bindir/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 0755 "$dir"  # the tests' processes reach the socket in it
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    run "$bindir/initdb" -D "$dir/data" -A trust -U "$user" --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    run "${pin[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses='' -k $dir -c fsync=on -c max_connections=200 -c shared_buffers=64MB" >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    run "$bindir/createdb" -h "$dir" -U "$user" acm_test
    echo "postgresql:///acm_test?host=$dir&user=$user" >"$dir/uri"
    chmod 0644 "$dir/uri"
    echo "pg_fixture: server running, $(cat "$dir/uri")"
    ;;
  stop)
    if [ -e "$dir/data/postmaster.pid" ]; then
      run "$bindir/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg_fixture.sh start|stop DIR" >&2
    exit 2
    ;;
esac
