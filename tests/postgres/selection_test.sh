#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# selection_test.sh CLI PYTHONPATH FIXTURE_DIR - a PostgreSQL database is selected by its
# connection string wherever a database is named: a case created through the CLI's --db (a libpq
# URI) is read back by the Python module's Engine.open(database=...) (the same string) and by the
# CLI again with the key/value form of the same database.
set -euo pipefail
cli=$1
pythonpath=$2
dir=$3
uri=$(cat "$dir/uri")
schema="sel_$$"
psql -q "$uri" -c "CREATE SCHEMA $schema"
db="$uri&options=-csearch_path%3D$schema"
"$cli" --db "$db" case create --title "Made by the CLI" --id sel-1 >/dev/null
PYTHONPATH="$pythonpath" /usr/bin/python3 - "$db" <<'PY'
import sys
import acm
with acm.Engine.open(database=sys.argv[1]) as engine:
    case = engine.get_case("sel-1")
    assert case["title"] == "Made by the CLI", case
    engine.set_file(acm.Actor("py", ["admin"]), "sel-1", "from", "python")
PY
user=$(sed -e 's/.*user=\([^&]*\).*/\1/' "$dir/uri")
kv="host=$dir dbname=acm_test user=$user options=-csearch_path=$schema"
out=$("$cli" --db "$kv" case show sel-1 --json)
echo "$out" | grep -q '"python"' || { echo "the CLI on '$kv' does not see the Python command: $out" >&2; exit 1; }
echo "selection: CLI (URI) -> Python (URI) -> CLI (key/value) on one PostgreSQL database: ok"
