#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Two acm-server processes on one PostgreSQL database (docs/http.md "Events").

Runs under the ctest fixture `postgres` (tests/postgres/pg_fixture.sh; its libpq URI is in
$ACM_TEST_POSTGRES_DIR/uri). Makes a schema of its own, starts two real acm-server programs on
it, creates a case through the first, works it through the second, and checks that the first
one's event stream shows what the second did; then that a stream resumed on the second server
with the first one's Last-Event-ID misses nothing and repeats nothing.

usage: test_http_postgres.py --server PATH/acm-server --source DIR [unittest args]
"""
import os
import random
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http  # noqa: E402  (the Server and EventReader of the HTTP tests)
from test_http import ALICE, BOB, EventReader, Server, seg  # noqa: E402


def fresh_database():
    directory = os.environ.get("ACM_TEST_POSTGRES_DIR")
    if not directory:
        raise RuntimeError("ACM_TEST_POSTGRES_DIR is not set (run under the ctest fixture 'postgres')")
    with open(os.path.join(directory, "uri")) as f:
        uri = f.read().strip()
    schema = "http_%d_%d" % (os.getpid(), random.randrange(100000))
    subprocess.run(["psql", "-q", uri, "-c", "CREATE SCHEMA %s" % schema], check=True)
    return uri + ("&" if "?" in uri else "?") + "options=-csearch_path%3D" + schema


class TwoServers(unittest.TestCase):
    def test_a_case_worked_through_one_server_shows_in_the_others_stream(self):
        db = fresh_database()
        one = Server(db=db)
        two = Server(db=db, definitions=False)  # the definitions are in the database already
        try:
            stream = EventReader(one.port, BOB)
            try:
                st, h, res = one.request("POST", "/v1/cases", {"type": "complaint", "title": "Two servers",
                                                               "participants": [{"actor": "bob", "roles": ["agent"]}]},
                                         token=ALICE)
                self.assertEqual(st, 201, res)
                case = res["created"]
                # Worked through the other server.
                st, _, c = two.request("GET", "/v1/cases/" + seg(case), token=BOB)
                self.assertEqual((st, c["title"]), (200, "Two servers"))
                st, _, res = two.request("POST", "/v1/cases/%s/tasks" % seg(case),
                                         {"name": "Call the customer", "assignee": "bob"}, token=ALICE)
                self.assertEqual(st, 201, res)
                item = res["created"]
                st, _, res = two.request("PUT", "/v1/cases/%s/priority" % seg(case), {"priority": 7}, token=ALICE)
                self.assertEqual(st, 200, res)
                # The first server's stream shows the second one's commands.
                got = stream.read_until(lambda evs: any(e["data"]["kind"] == "priority_changed" for e in evs),
                                        timeout=20)
            finally:
                stream.close()
            kinds = [e["data"]["kind"] for e in got if e["data"]["case"] == case]
            self.assertIn("case_created", kinds)
            self.assertIn("priority_changed", kinds)
            self.assertTrue(item)
            ids = [e["id"] for e in got]
            self.assertEqual(len(ids), len(set(ids)))
            last = got[-1]["id"]

            # Resumed on the OTHER server with the first one's Last-Event-ID: nothing missed,
            # nothing twice.
            for p in (8, 9):
                one.request("PUT", "/v1/cases/%s/priority" % seg(case), {"priority": p}, token=ALICE)
            again = EventReader(two.port, BOB, last_event_id=last)
            try:
                evs = again.read_until(lambda evs: sum(1 for e in evs if e["data"]["kind"] == "priority_changed") >= 2,
                                       timeout=20)
            finally:
                again.close()
            self.assertFalse([e for e in evs if e.get("event") == "reset"])
            self.assertEqual([e["data"]["payload"]["to"] for e in evs if e["data"]["kind"] == "priority_changed"], [8, 9])
            self.assertFalse(set(ids) & {e["id"] for e in evs})
            # Another caller's view is still filtered: carol may not view the case.
            st, _, _ = two.request("GET", "/v1/cases/" + seg(case), token=test_http.CAROL)
            self.assertEqual(st, 403)
        finally:
            one.stop()
            two.stop()


def main():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--source", required=True)
    args, rest = p.parse_known_args()
    test_http.SERVER, test_http.SOURCE = os.path.abspath(args.server), os.path.abspath(args.source)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
