#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""acm-server over a real socket on loopback (docs/http.md).

Starts the real acm-server program on a temporary SQLite store with a tokens file and the
help-desk definitions, and talks to it with the standard library's http.client and raw sockets:
the help-desk story end to end, every kind of bad request (each with its status and nothing
changed, checked with a read afterwards), limits (413, 431, 408, 503), the OpenAPI document
against the routes the server answers, the event stream resumed with Last-Event-ID, and a
SIGTERM while a request is in flight.

usage: test_http.py --server PATH/acm-server --source DIR [unittest args]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

SERVER = None
SOURCE = None

TOKENS = {
    "tokens": [
        {"token": "admin-token-1", "actor": "root", "roles": ["admin"]},
        {"token": "alice-token-1", "actor": "alice", "roles": ["agent"]},
        {"token": "bob-token-12", "actor": "bob", "roles": ["agent"]},
        {"token": "carol-token-1", "actor": "carol", "roles": ["agent"]},
    ]
}
ADMIN, ALICE, BOB, CAROL = "admin-token-1", "alice-token-1", "bob-token-12", "carol-token-1"


def seg(s):
    """One path segment, percent-encoded ('#' and '/' included)."""
    return urllib.parse.quote(s, safe="")


class Server:
    """A running acm-server process on a temporary store."""

    def __init__(self, *extra, db=None, definitions=True, web=None):
        self.dir = tempfile.mkdtemp(prefix="acm-http-")
        self.db = db or os.path.join(self.dir, "acm.db")
        tokens = os.path.join(self.dir, "tokens.json")
        with open(tokens, "w") as f:
            json.dump(TOKENS, f)
        args = [SERVER, "--db", self.db, "--listen", "127.0.0.1:0", "--tokens", tokens]
        if definitions:
            args += ["--definitions", os.path.join(SOURCE, "examples/definitions/helpdesk.json")]
        if web:
            args += ["--web", web]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("acm-server did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(m.group(1))

    def request(self, method, path, body=None, token=None, headers=None, raw_body=None):
        """(status, headers dict with lower-case names, parsed JSON or text)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        hs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        ct = hs.get("content-type", "")
        value = json.loads(text) if "json" in ct and text else text
        return r.status, hs, value

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def raw_exchange(port, data, read_timeout=10):
    """Sends raw bytes, returns everything the server answers until it closes (or times out)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                m = re.search(rb"content-length: *(\d+)", head, re.I)
                if m and len(rest) >= int(m.group(1)):
                    break
        return out
    finally:
        s.close()


def status_of(raw):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(m.group(1)) if m else None


class Api(unittest.TestCase):
    """One server for the API tests; each test makes its own cases."""

    @classmethod
    def setUpClass(cls):
        cls.web = tempfile.mkdtemp(prefix="acm-web-")
        with open(os.path.join(cls.web, "index.html"), "w") as f:
            f.write("<!doctype html><title>acm</title>")
        with open(os.path.join(cls.web, "app.js"), "w") as f:
            f.write("console.log('acm');")
        with open(os.path.join(cls.web, "app.css"), "w") as f:
            f.write("body{}")
        cls.s = Server(web=cls.web)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        shutil.rmtree(cls.web, ignore_errors=True)

    def req(self, *a, **k):
        return self.s.request(*a, **k)

    def new_case(self, **spec):
        spec.setdefault("type", "complaint")
        spec.setdefault("title", "Laptop broken")
        spec.setdefault("subject", {"customer": "ann"})
        spec.setdefault("participants", [{"actor": "bob", "roles": ["agent"]}])
        st, h, body = self.req("POST", "/v1/cases", spec, token=ALICE)
        self.assertEqual(st, 201, body)
        return body["created"]

    def version(self, case):
        st, h, body = self.req("GET", "/v1/cases/" + seg(case), token=ADMIN)
        self.assertEqual(st, 200, body)
        return body["version"]

    def case_count(self):
        st, h, body = self.req("GET", "/v1/cases?limit=1", token=ADMIN)
        self.assertEqual(st, 200, body)
        return body["total"]

    def assertProblem(self, result, status, code):
        st, h, body = result
        self.assertEqual(st, status, body)
        self.assertTrue(h.get("content-type", "").startswith("application/problem+json"), h)
        self.assertEqual(body["code"], code, body)
        self.assertEqual(body["status"], status)
        self.assertTrue(body["detail"])

    # ---- the help-desk story ----------------------------------------------------------

    def test_story_create_assemble_work_complete(self):
        # The definitions the server loaded at start are there; loading them again is fine.
        with open(os.path.join(SOURCE, "examples/definitions/helpdesk.json")) as f:
            doc = json.load(f)
        st, _, body = self.req("POST", "/v1/definitions", doc, token=ADMIN)
        self.assertEqual(st, 200, body)
        self.assertIn({"id": "complaint", "version": 1}, body["case_types"])
        st, _, types = self.req("GET", "/v1/definitions/case-types", token=ALICE)
        self.assertIn("complaint", [t["id"] for t in types])

        # Create: 201, Location, the case readable there with an ETag.
        st, h, res = self.req("POST", "/v1/cases", {"type": "complaint", "title": "Laptop dead",
                                                    "subject": {"customer": "ann", "attributes": {"tier": "gold"}},
                                                    "participants": [{"actor": "bob", "roles": ["agent"]}]},
                              token=ALICE)
        self.assertEqual(st, 201, res)
        case = res["created"]
        self.assertEqual(h["location"], "/v1/cases/" + seg(case))
        self.assertTrue(any(e["kind"] == "case_created" for e in res["events"]), res)
        st, h, c = self.req("GET", h["location"], token=ALICE)
        self.assertEqual(st, 200)
        self.assertEqual(h["etag"], '"%d"' % c["version"])
        self.assertEqual(c["owner"], "alice")
        self.assertEqual(c["goals"][0]["id"], "resolved")
        st, h2, _ = self.req("GET", "/v1/cases/" + seg(case), token=ALICE, headers={"If-None-Match": h["etag"]})
        self.assertEqual(st, 304)

        # Assemble: the applicable fragments, one added (its item ids hold '#' and '/').
        st, _, offers = self.req("GET", "/v1/cases/%s/fragments/applicable" % seg(case), token=BOB)
        self.assertEqual(st, 200, offers)
        self.assertIn("customer_followup", [o["fragment"] for o in offers])
        st, h, res = self.req("POST", "/v1/cases/%s/fragments" % seg(case),
                              {"fragment": "customer_followup", "goal": "resolved"}, token=ALICE)
        self.assertEqual(st, 201, res)
        stage = res["created"]
        self.assertIn("#", stage)
        self.assertEqual(h["location"], "/v1/cases/%s/items/%s" % (seg(case), seg(stage)))
        st, _, item = self.req("GET", h["location"], token=BOB)
        self.assertEqual((st, item["id"], item["kind"]), (200, stage, "stage"))

        # An ad-hoc task, assigned to bob.
        st, h, res = self.req("POST", "/v1/cases/%s/tasks" % seg(case),
                              {"name": "Call the shop", "role": "agent", "estimate": "PT1H"}, token=ALICE)
        self.assertEqual(st, 201, res)
        task = res["created"]
        st, _, res = self.req("POST", "/v1/cases/%s/items/%s/assign" % (seg(case), seg(task)),
                              {"assignee": "bob"}, token=ALICE)
        self.assertEqual(st, 200, res)

        # Work: bob's queue shows the task; triage and diagnose through their encoded ids.
        st, _, q = self.req("GET", "/v1/queues/mine", token=BOB)
        self.assertEqual(st, 200, q)
        self.assertIn((case, task), [(w["case"], w["item"]) for w in q["items"]])
        st, _, team = self.req("GET", "/v1/queues/roles/agent", token=BOB)
        self.assertEqual(st, 200, team)
        self.assertTrue(all(w["assignee"] == "" for w in team["items"]))
        self.assertIn("diagnosis#1/triage", [w["item"] for w in team["items"] if w["case"] == case])
        for item in ("diagnosis#1/triage", "diagnosis#1/diagnose", "customer_followup#1/call_customer"):
            path = "/v1/cases/%s/items/%s" % (seg(case), seg(item))
            st, _, res = self.req("POST", path + "/start", token=BOB)
            if st == 409:  # started by itself (not manual)
                self.assertEqual(res["code"], "invalid_state")
            st, _, res = self.req("POST", path + "/complete", token=BOB)
            self.assertEqual(st, 200, res)
        st, _, res = self.req("POST", "/v1/cases/%s/items/%s/occur" % (seg(case), seg("customer_followup#1/customer_confirmed")),
                              token=BOB)
        self.assertEqual(st, 200, res)
        st, _, res = self.req("POST", "/v1/cases/%s/items/%s/complete" % (seg(case), seg(task)), token=BOB)
        if st == 409:
            self.req("POST", "/v1/cases/%s/items/%s/start" % (seg(case), seg(task)), token=BOB)
            st, _, res = self.req("POST", "/v1/cases/%s/items/%s/complete" % (seg(case), seg(task)), token=BOB)
        self.assertEqual(st, 200, res)

        # Complete: the case file meets the goal's criterion (bob's agent role may plan), then the
        # case completes (the supplier stage, optional, is terminated).
        st, _, res = self.req("PUT", "/v1/cases/%s/file/%s" % (seg(case), seg("resolution.confirmed")), True,
                              token=BOB)
        self.assertEqual(st, 200, res)
        self.assertIn(("goal_status", "resolved", "achieved"),
                      [(e["kind"], e["payload"].get("goal"), e["payload"].get("to")) for e in res["events"]], res)
        st, _, c = self.req("GET", "/v1/cases/" + seg(case), token=BOB)
        if c["status"] == "active":  # optional work may still be open: complete by hand
            st, _, res = self.req("POST", "/v1/cases/%s/complete" % seg(case), token=ALICE)
            self.assertEqual(st, 200, res)
        st, _, c = self.req("GET", "/v1/cases/" + seg(case), token=BOB)
        self.assertEqual(c["status"], "completed")
        self.assertEqual({i["id"]: i["state"] for i in c["items"]}[task], "completed")

    def test_story_file_assets_promises_complete(self):
        case = self.new_case()
        base = "/v1/cases/" + seg(case)
        st, _, res = self.req("PUT", base + "/file/" + seg("diagnosis.fault"), "hardware", token=ALICE)
        self.assertEqual(st, 200, res)
        st, _, v = self.req("GET", base + "/file/" + seg("diagnosis.fault"), token=BOB)
        self.assertEqual((st, v), (200, "hardware"))
        st, _, f = self.req("GET", base + "/file", token=BOB)
        self.assertEqual(f, {"diagnosis": {"fault": "hardware"}})
        st, h, res = self.req("POST", base + "/assets", {"kind": "note", "text": "called back", "title": "Call"},
                              token=ALICE)
        self.assertEqual(st, 201, res)
        st, _, a = self.req("GET", h["location"], token=BOB)
        self.assertEqual((st, a["text"], a["added_by"]), (200, "called back", "alice"))
        st, h, res = self.req("POST", base + "/promises", {"id": "friday", "what": "Fixed by Friday",
                                                           "due": "2099-01-01T17:00:00Z"}, token=ALICE)
        self.assertEqual((st, h["location"]), (201, base + "/promises/friday"), res)
        st, _, ps = self.req("GET", base + "/promises", token=BOB)
        self.assertEqual([(p["id"], p["status"]) for p in ps], [("friday", "open")])
        st, h, res = self.req("POST", base + "/goals", {"id": "callback", "name": "Call back", "within": "PT8H",
                                                        "required": False}, token=ALICE)
        self.assertEqual((st, h["location"]), (201, base + "/goals/callback"), res)
        st, _, res = self.req("PATCH", base + "/goals/callback", {"name": "Call back today"}, token=ALICE)
        self.assertEqual(st, 200, res)
        st, _, g = self.req("GET", base + "/goals/callback", token=BOB)
        self.assertEqual((g["name"], g["timing"]), ("Call back today", "on_track"))
        st, h, res = self.req("POST", base + "/participants", {"actor": "dave", "roles": ["supervisor"]}, token=ALICE)
        self.assertEqual((st, h["location"]), (201, base + "/participants/dave"), res)
        st, _, res = self.req("DELETE", base + "/participants/dave", token=ALICE)
        self.assertEqual(st, 200, res)
        st, _, res = self.req("PUT", base + "/priority", {"priority": 7}, token=ALICE)
        self.assertEqual(st, 200, res)
        st, _, pr = self.req("GET", base + "/priority", token=BOB)
        self.assertEqual(pr["priority"], 7)
        # Complete: the diagnosis ended, the required goal met (its criterion), then the case.
        st, _, res = self.req("POST", base + "/items/%s/terminate" % seg("diagnosis#1"), token=ALICE)
        self.assertEqual(st, 200, res)
        st, _, res = self.req("PUT", base + "/file/" + seg("resolution.confirmed"), True, token=ALICE)
        self.assertEqual(st, 200, res)
        st, _, g = self.req("GET", base + "/goals/resolved", token=BOB)
        self.assertEqual(g["status"], "achieved", g)
        st, _, c = self.req("GET", base, token=BOB)
        self.assertEqual(c["status"], "completed")  # nothing left open: it completed by itself
        self.assertProblem(self.req("POST", base + "/complete", token=ALICE), 409, "invalid_state")
        st, _, res = self.req("POST", base + "/close", token=ALICE)
        self.assertEqual(st, 200, res)
        st, _, c = self.req("GET", base, token=BOB)
        self.assertEqual(c["status"], "closed")
        st, _, hist = self.req("GET", base + "/history?from=2", token=BOB)
        self.assertEqual(st, 200)
        self.assertEqual(hist[0]["seq"], 2)
        self.assertEqual(hist[-1]["seq"], c["version"])
        st, _, page = self.req("GET", "/v1/cases?status=closed&status=completed&customer=ann", token=BOB)
        self.assertIn(case, [x["id"] for x in page["cases"]])

    # ---- conventions ------------------------------------------------------------------

    def test_idempotency_key_returns_first_result(self):
        n = self.case_count()
        spec = {"type": "complaint", "title": "Once only", "subject": {"customer": "zed"}}
        key = {"Idempotency-Key": "create-once-%d" % time.time_ns()}
        r1 = self.req("POST", "/v1/cases", spec, token=ALICE, headers=key)
        r2 = self.req("POST", "/v1/cases", spec, token=ALICE, headers=key)
        self.assertEqual((r1[0], r2[0]), (201, 201))
        self.assertEqual(r1[1]["location"], r2[1]["location"])
        self.assertEqual(r1[2]["created"], r2[2]["created"])
        self.assertEqual(self.case_count(), n + 1)
        # The same key for other arguments: conflict, nothing created.
        r3 = self.req("POST", "/v1/cases", dict(spec, title="Other"), token=ALICE, headers=key)
        self.assertProblem(r3, 409, "conflict")
        self.assertEqual(self.case_count(), n + 1)
        # On a command: the retry appends nothing.
        case = r1[2]["created"]
        v = self.version(case)
        k2 = {"Idempotency-Key": "prio-%d" % time.time_ns()}
        a = self.req("PUT", "/v1/cases/%s/priority" % seg(case), {"priority": 3}, token=ALICE, headers=k2)
        b = self.req("PUT", "/v1/cases/%s/priority" % seg(case), {"priority": 3}, token=ALICE, headers=k2)
        self.assertEqual((a[0], b[0]), (200, 200))
        self.assertEqual(a[2]["version"], b[2]["version"])
        self.assertEqual(self.version(case), a[2]["version"])
        self.assertEqual(a[2]["version"], v + 1)
        # A key that is not printable ASCII, or too long.
        self.assertProblem(self.req("PUT", "/v1/cases/%s/priority" % seg(case), {"priority": 4}, token=ALICE,
                                    headers={"Idempotency-Key": "x" * 201}), 400, "bad_request")
        self.assertEqual(self.version(case), v + 1)

    def test_if_match(self):
        case = self.new_case()
        v = self.version(case)
        path = "/v1/cases/%s/priority" % seg(case)
        self.assertProblem(self.req("PUT", path, {"priority": 5}, token=ALICE, headers={"If-Match": '"%d"' % (v - 1)}),
                           412, "precondition_failed")
        self.assertEqual(self.version(case), v)
        self.assertProblem(self.req("PUT", path, {"priority": 5}, token=ALICE, headers={"If-Match": "soon"}),
                           400, "bad_request")
        self.assertEqual(self.version(case), v)
        st, h, res = self.req("PUT", path, {"priority": 5}, token=ALICE, headers={"If-Match": '"%d"' % v})
        self.assertEqual(st, 200, res)
        self.assertEqual(h["etag"], '"%d"' % (v + 1))

    def test_every_error_code_has_its_status(self):
        case = self.new_case()
        base = "/v1/cases/" + seg(case)
        self.assertProblem(self.req("GET", "/v1/cases/nope", token=ADMIN), 404, "not_found")
        self.assertProblem(self.req("POST", "/v1/cases", {"id": case}, token=ALICE), 409, "already_exists")
        self.assertProblem(self.req("POST", base + "/items/%s/complete" % seg("diagnosis#1/diagnose"), token=ALICE),
                           409, "invalid_state")
        st, _, res = self.req("POST", base + "/tasks", {"name": "A", "manual": True}, token=ALICE)
        a = res["created"]
        st, _, res = self.req("POST", base + "/tasks", {"name": "B", "after": [a], "manual": True}, token=ALICE)
        b = res["created"]
        v = self.version(case)
        self.assertProblem(self.req("POST", base + "/items/%s/dependencies" % seg(a), {"after": b}, token=ALICE),
                           409, "cycle")
        self.assertEqual(self.version(case), v)
        self.assertProblem(self.req("POST", "/v1/definitions", {"fragments": [{"id": "x", "items": [{"id": "a",
                                    "kind": "nonsense"}]}]}, token=ADMIN), 422, "invalid_definition")
        self.assertProblem(self.req("POST", "/v1/definitions", {"fragments": []}, token=ALICE), 403,
                           "permission_denied")
        self.assertProblem(self.req("POST", base + "/goals", {"id": "g", "deadline": "tomorrow"}, token=ALICE),
                           400, "parse_error")
        self.assertEqual(self.version(case), v)

    # ---- bad requests, each with nothing changed --------------------------------------

    def test_bad_requests_change_nothing(self):
        case = self.new_case()
        base = "/v1/cases/" + seg(case)
        v, n = self.version(case), self.case_count()
        checks = [
            # malformed JSON, wrong types, unknown keys, not an object, too deep
            (("POST", "/v1/cases", None, ALICE, {"Content-Type": "application/json"}, b'{"title": '), 400, "parse_error"),
            (("POST", base + "/tasks", {"name": 5}, ALICE), 400, "invalid_argument"),
            (("POST", base + "/tasks", {"name": "x", "colour": "red"}, ALICE), 400, "invalid_argument"),
            (("POST", base + "/tasks", ["name"], ALICE), 400, "invalid_argument"),
            (("PUT", base + "/priority", {"priority": "high"}, ALICE), 400, "invalid_argument"),
            (("PUT", base + "/priority", {"priority": 2 ** 40}, ALICE), 400, "invalid_argument"),
            (("PUT", base + "/file/x", None, ALICE, {"Content-Type": "application/json"}, b"[" * 5000 + b"]" * 5000),
             400, "invalid_argument"),
            (("POST", base + "/tasks", None, ALICE, {"Content-Type": "text/plain"}, b"name=x"), 415,
             "unsupported_media_type"),
            (("POST", base + "/tasks", None, ALICE), 400, "invalid_argument"),  # no body
            # unknown routes, wrong methods, bad query
            (("GET", "/v1/nothing", None, ALICE), 404, "no_route"),
            (("GET", "/v1/cases/%s/items/x/y/z" % seg(case), None, ALICE), 404, "no_route"),
            (("DELETE", base, None, ALICE), 405, "method_not_allowed"),
            (("GET", "/v1/cases?limit=lots", None, ALICE), 400, "invalid_argument"),
            (("GET", "/v1/cases?limit=20000", None, ALICE), 400, "invalid_argument"),
            (("GET", "/v1/cases?colour=red", None, ALICE), 400, "invalid_argument"),
            (("GET", "/v1/cases?status=sleeping", None, ALICE), 400, "invalid_argument"),
            # tokens
            (("GET", base, None, None), 401, "unauthorized"),
            (("PUT", base + "/priority", {"priority": 1}, "not-a-token"), 401, "unauthorized"),
            (("PUT", base + "/priority", {"priority": 1}, None, {"Authorization": "Basic YWxpY2U6eA=="}), 401,
             "unauthorized"),
            # other users' cases: carol is no participant
            (("GET", base, None, CAROL), 403, "permission_denied"),
            (("GET", base + "/history", None, CAROL), 403, "permission_denied"),
            (("GET", base + "/file", None, CAROL), 403, "permission_denied"),
            (("PUT", base + "/priority", {"priority": 1}, CAROL), 403, "permission_denied"),
            (("POST", base + "/complete", None, CAROL), 403, "permission_denied"),
            (("POST", base + "/items/%s/start" % seg("diagnosis#1/triage"), None, CAROL), 403, "permission_denied"),
            (("POST", base + "/tasks", {"name": "sneaky"}, CAROL), 403, "permission_denied"),
            # hostile ids and paths
            (("GET", "/v1/cases/%00", None, ALICE), 400, "bad_request"),
            (("GET", "/v1/cases/%zz", None, ALICE), 400, "bad_request"),
            (("GET", "/v1/cases/%C0%AF", None, ALICE), 400, "invalid_argument"),
            (("GET", "/v1/cases/%2e%2e", None, ALICE), 404, "not_found"),
            (("POST", "/v1/cases", {"id": "bad\u0001id"}, ALICE), 400, "invalid_argument"),
            (("GET", "/../../etc/passwd", None, None), 404, "not_found"),
            (("GET", "/%2e%2e/%2e%2e/etc/passwd", None, None), 404, "not_found"),
            (("GET", "/..%2f..%2fetc%2fpasswd", None, None), 404, "not_found"),
            (("GET", "/.hidden", None, None), 404, "not_found"),
            (("POST", "/index.html", None, None), 405, "method_not_allowed"),
        ]
        for args, status, code in checks:
            method, path, body, token = args[:4]
            headers = args[4] if len(args) > 4 else None
            raw = args[5] if len(args) > 5 else None
            with self.subTest(method=method, path=path[:60], status=status):
                self.assertProblem(self.req(method, path, body, token=token, headers=headers, raw_body=raw),
                                   status, code)
        self.assertEqual(self.version(case), v)
        self.assertEqual(self.case_count(), n)
        # Carol's lists leave bob's and alice's cases out.
        st, _, page = self.req("GET", "/v1/cases?limit=100", token=CAROL)
        self.assertNotIn(case, [c["id"] for c in page["cases"]])
        st, _, q = self.req("GET", "/v1/queues/roles/agent", token=CAROL)
        self.assertNotIn(case, [w["case"] for w in q["items"]])

    def test_a_bad_body_is_named_by_the_shared_reader(self):
        # The bodies are read by <acm/from_json.hpp>, as the C ABI and the CLI read theirs: the
        # problem's detail names the argument and the field with its path.
        n = self.case_count()
        st, _, res = self.req("POST", "/v1/cases", {"title": "x", "participants": [{"actor": "bob"}, {"roles": []}]},
                              token=ALICE)
        self.assertEqual((st, res["code"], res["detail"]), (400, "invalid_argument",
                                                            "case: 'participants[1].actor' is required"))
        case = self.new_case()
        v = self.version(case)
        st, _, res = self.req("POST", "/v1/cases/%s/tasks" % seg(case), {"name": "t", "kind": "robot"}, token=ALICE)
        self.assertEqual((st, res["code"]), (400, "invalid_argument"))
        self.assertTrue(res["detail"].startswith("task: 'kind' is not valid: unknown item kind 'robot'"), res)
        self.assertEqual((self.case_count(), self.version(case)), (n + 1, v))

    def test_huge_body_and_headers(self):
        case = self.new_case()
        v = self.version(case)
        path = "/v1/cases/%s/file/x" % seg(case)
        # Announced too big: refused before the body is read.
        raw = raw_exchange(self.s.port, ("PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                                         "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                                         % (path, ALICE, 64 << 20)).encode() + b'"' + b"a" * 1000)
        self.assertEqual(status_of(raw), 413, raw[:300])
        self.assertIn(b"body_too_large", raw)
        # Sent too big in chunks.
        body = b"[" + b'"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",' * 200000 + b'"x"]'
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                           for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
        raw = raw_exchange(self.s.port, ("PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                                         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                         % (path, ALICE)).encode() + chunked)
        self.assertEqual(status_of(raw), 413, raw[:300])
        # Headers over the limit.
        raw = raw_exchange(self.s.port, ("GET /v1/cases/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                                         "X-Padding: %s\r\n\r\n" % (seg(case), ALICE, "p" * 40000)).encode())
        self.assertEqual(status_of(raw), 431, raw[:300])
        # Garbage instead of HTTP.
        raw = raw_exchange(self.s.port, b"HELLO THERE\r\n\r\n")
        self.assertEqual(status_of(raw), 400, raw[:300])
        self.assertEqual(self.version(case), v)
        st, _, _ = self.req("GET", "/v1/me", token=ALICE)  # still up
        self.assertEqual(st, 200)

    def test_static_files_and_me(self):
        st, h, body = self.req("GET", "/")
        self.assertEqual((st, h["content-type"]), (200, "text/html; charset=utf-8"))
        self.assertIn("<title>acm</title>", body)
        st, h, _ = self.req("GET", "/app.js")
        self.assertEqual((st, h["content-type"]), (200, "text/javascript; charset=utf-8"))
        st, h, _ = self.req("GET", "/app.css")
        self.assertEqual((st, h["content-type"]), (200, "text/css; charset=utf-8"))
        st, _, me = self.req("GET", "/v1/me", token=BOB)
        self.assertEqual(me, {"id": "bob", "roles": ["agent"]})

    def test_timers_run_on_the_system_clock(self):
        case = self.new_case()
        base = "/v1/cases/" + seg(case)
        st, _, res = self.req("POST", base + "/goals", {"id": "soon", "within": "PT1S", "required": False},
                              token=ALICE)
        self.assertEqual(st, 201, res)
        deadline = time.time() + 15
        timing = None
        while time.time() < deadline:
            st, _, g = self.req("GET", base + "/goals/soon", token=ALICE)
            timing = g["timing"]
            if timing == "overdue":
                break
            time.sleep(0.2)
        self.assertEqual(timing, "overdue")
        st, _, over = self.req("GET", base + "/history", token=ALICE)
        self.assertIn(("goal_timing", "soon", "overdue"),
                      [(e["kind"], e["payload"].get("goal"), e["payload"].get("to")) for e in over], over)

    def test_cmmn_xml_definitions(self):
        xml = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" targetNamespace="t">
  <case id="repair_case" name="Repair">
    <casePlanModel id="plan" name="Plan">
      <planItem id="pi_fix" definitionRef="fix"/>
      <humanTask id="fix" name="Fix it"/>
    </casePlanModel>
  </case>
</definitions>
"""
        st, _, body = self.req("POST", "/v1/definitions", token=ADMIN, raw_body=xml.encode(),
                               headers={"Content-Type": "application/xml"})
        self.assertEqual(st, 200, body)
        self.assertEqual([t["id"] for t in body["case_types"]], ["repair_case"])
        st, _, t = self.req("GET", "/v1/definitions/case-types/repair_case", token=BOB)
        self.assertEqual((st, t["id"]), (200, "repair_case"))
        # Detected by content without a Content-Type; malformed XML is a parse error.
        st, _, body = self.req("POST", "/v1/definitions", token=ADMIN, raw_body=xml.encode())
        self.assertEqual(st, 200, body)
        self.assertProblem(self.req("POST", "/v1/definitions", token=ADMIN, raw_body=b"<definitions><case>",
                                    headers={"Content-Type": "application/xml"}), 400, "parse_error")
        st, h, res = self.req("POST", "/v1/cases", {"type": "repair_case", "title": "From CMMN"}, token=ALICE)
        self.assertEqual(st, 201, res)
        st, _, c = self.req("GET", h["location"], token=ALICE)
        self.assertIn("Fix it", [i["name"] for i in c["items"]])

    # ---- OpenAPI ----------------------------------------------------------------------

    def test_openapi_matches_the_routes(self):
        st, _, doc = self.req("GET", "/openapi.json")
        self.assertEqual(st, 200)
        self.assertEqual(doc["openapi"][:2], "3.")
        documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
        # The server's own list of its routes is the same set.
        out = subprocess.run([SERVER, "--routes"], capture_output=True, text=True, check=True).stdout
        listed = {tuple(line.split(" ", 1)) for line in out.splitlines()}
        self.assertEqual(listed, documented)
        # And docs/http.md's route table names the same routes.
        with open(os.path.join(SOURCE, "docs/http.md")) as f:
            table = [line for line in f if line.startswith("| `")]
        in_docs = set()
        for line in table:
            for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?]*)", line.split("|")[1]):
                if "{transition}" in path:
                    for t in re.findall(r"`(\w+)`", line.split("|")[-2].split("one of")[-1]):
                        in_docs.add((method, path.replace("{transition}", t)))
                elif path != "/{file}":
                    in_docs.add((method, path))
        self.assertEqual(in_docs, documented)

        case = self.new_case()
        st, _, res = self.req("POST", "/v1/cases/%s/tasks" % seg(case), {"name": "T"}, token=ALICE)
        values = {"case": case, "item": res["created"], "goal": "resolved", "promise": "p", "asset": "a",
                  "actor": "bob", "id": "complaint", "name": "sig", "key": "tier", "path": "x", "role": "agent"}
        # Every documented operation answers (maybe 4xx for its arguments, never "no such route").
        for method, template in sorted(documented):
            if template == "/v1/events":
                continue  # streamed: tested below
            path = re.sub(r"\{(\w+)\}", lambda m: seg(values[m.group(1)]), template)
            with self.subTest(method=method, path=template):
                st, h, body = self.req(method, path, token=ADMIN)
                self.assertNotEqual(st, 405, body)
                if st == 404:
                    self.assertNotEqual(body.get("code"), "no_route", body)
        # Every method a template does not document is refused as such.
        for template in doc["paths"]:
            path = re.sub(r"\{(\w+)\}", lambda m: seg(values[m.group(1)]), template)
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                if (method, template) in documented:
                    continue
                with self.subTest(method=method, path=template):
                    st, h, body = self.req(method, path, token=ADMIN)
                    if template == "/":
                        self.assertEqual(st, 405)
                        continue
                    self.assertEqual((st, body["code"]), (405, "method_not_allowed"), body)
                    self.assertTrue(h["allow"])
        # And undocumented paths are no routes.
        for path in ("/v1", "/v1/", "/v1/cases/%s/" % seg(case), "/v1/cases/%s/nothing" % seg(case),
                     "/v1/queues", "/v1/definitions", "/v2/cases"):
            with self.subTest(path=path):
                st, _, body = self.req("GET", path, token=ADMIN)
                self.assertIn(st, (404, 405), body)
                if st == 404 and path.startswith("/v1"):
                    self.assertEqual(body["code"], "no_route")

    # ---- events -----------------------------------------------------------------------

    def test_event_stream_resumes_with_last_event_id(self):
        case = self.new_case()
        hidden = self.new_case(participants=[])  # bob may not view it
        base = "/v1/cases/" + seg(case)
        stream = EventReader(self.s.port, BOB)
        try:
            self.req("PUT", base + "/priority", {"priority": 1}, token=ALICE)
            self.req("PUT", "/v1/cases/%s/priority" % seg(hidden), {"priority": 1}, token=ALICE)
            self.req("PUT", base + "/priority", {"priority": 2}, token=ALICE)
            first = stream.read_until(lambda evs: sum(1 for e in evs if e["data"]["case"] == case) >= 2)
        finally:
            stream.close()
        mine = [e for e in first if e["data"]["case"] == case]
        self.assertEqual([e["data"]["payload"].get("to") for e in mine if e["data"]["kind"] == "priority_changed"],
                         [1, 2], [e["data"] for e in mine])
        self.assertFalse([e for e in first if e["data"]["case"] == hidden])
        ids = [e["id"] for e in first]  # feed positions: opaque, each once
        self.assertEqual(len(ids), len(set(ids)))
        last = first[-1]["id"]
        # While disconnected: three more commands; then resume.
        for p in (3, 4, 5):
            self.req("PUT", base + "/priority", {"priority": p}, token=ALICE)
        stream = EventReader(self.s.port, BOB, last_event_id=last)
        try:
            again = stream.read_until(lambda evs: sum(1 for e in evs if e["data"]["kind"] == "priority_changed") >= 3)
            self.req("PUT", base + "/priority", {"priority": 6}, token=ALICE)
            again += stream.read_until(lambda evs: any(e["data"]["payload"].get("to") == 6 for e in evs))
        finally:
            stream.close()
        prios = [e["data"]["payload"]["to"] for e in again if e["data"]["kind"] == "priority_changed"]
        self.assertEqual(prios, [3, 4, 5, 6])  # nothing missed, nothing twice
        self.assertFalse(set(ids) & {e["id"] for e in again})
        self.assertFalse([e for e in again if e.get("event") == "reset"])
        # A position the feed never gave: a reset first.
        stream = EventReader(self.s.port, BOB, last_event_id="not-a-position")
        try:
            evs = stream.read_until(lambda evs: any(e.get("event") == "reset" for e in evs))
        finally:
            stream.close()
        self.assertEqual(evs[0].get("event"), "reset")
        # Without a token: 401.
        self.assertProblem(self.req("GET", "/v1/events"), 401, "unauthorized")


class EventReader:
    """A raw SSE client: reads the chunked stream from a socket."""

    def __init__(self, port, token, last_event_id=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        head = "GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n" % token
        if last_event_id:
            head += "Last-Event-ID: %s\r\n" % last_event_id
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        status, _, self.buf = self.buf.partition(b"\r\n\r\n")
        assert b" 200 " in status.split(b"\r\n")[0], status
        assert b"text/event-stream" in status, status
        self.text = ""

    def _recv(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("stream closed")
        return d

    def _dechunk(self):
        while True:
            if b"\r\n" not in self.buf:
                return
            size_line, _, rest = self.buf.partition(b"\r\n")
            size = int(size_line, 16)
            if len(rest) < size + 2:
                return
            self.text += rest[:size].decode()
            self.buf = rest[size + 2:]

    def read_until(self, done, timeout=15):
        events = []
        end = time.time() + timeout
        while time.time() < end:
            self._dechunk()
            while "\n\n" in self.text:
                block, _, self.text = self.text.partition("\n\n")
                e = {}
                for line in block.split("\n"):
                    if line.startswith(":") or not line:
                        continue
                    k, _, v = line.partition(": ")
                    e[k] = v
                if "data" in e:
                    e["data"] = json.loads(e["data"])
                    if e.get("event") == "reset":
                        e["data"].setdefault("case", None)
                        e["data"].setdefault("kind", "reset")
                        e["data"].setdefault("payload", {})
                    events.append(e)
            if done(events):
                return events
            self.buf += self._recv()
        raise AssertionError("events did not come: %r" % events)

    def close(self):
        self.sock.close()


class Limits(unittest.TestCase):
    """Servers with small limits of their own."""

    def test_slow_request_gets_408_and_the_server_stays_up(self):
        s = Server("--request-timeout", "700")
        try:
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            sock.sendall(b"POST /v1/cases HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            data = b""
            while True:
                d = sock.recv(4096)
                if not d:
                    break
                data += d
            sock.close()
            self.assertEqual(status_of(data), 408, data)
            self.assertIn(b"request_timeout", data)
            st, _, page = s.request("GET", "/v1/cases", token=ADMIN)
            self.assertEqual((st, page["total"]), (200, 0))
        finally:
            s.stop()

    def test_over_the_concurrent_limit_gets_503(self):
        s = Server("--max-inflight", "2")
        try:
            body = json.dumps({"title": "held"}).encode()
            held = []
            for _ in range(2):
                sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
                sock.sendall(("POST /v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                              "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                              % (ALICE, len(body))).encode() + body[:3])
                held.append(sock)
            time.sleep(0.3)
            st, h, res = s.request("POST", "/v1/cases", {"title": "third"}, token=ALICE)
            self.assertEqual((st, res["code"], h.get("retry-after")), (503, "overloaded", "1"), res)
            for sock in held:
                sock.sendall(body[3:])
            for sock in held:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += sock.recv(4096)
                self.assertEqual(status_of(data), 201, data)
                sock.close()
            st, _, page = s.request("GET", "/v1/cases", token=ADMIN)
            self.assertEqual(sorted(c["title"] for c in page["cases"]), ["held", "held"])
        finally:
            s.stop()

    def test_event_streams_are_bounded_and_resume_from_the_durable_feed(self):
        d = tempfile.mkdtemp(prefix="acm-http-")
        db = os.path.join(d, "acm.db")
        s = Server("--max-streams", "1", db=db)
        try:
            st, _, res = s.request("POST", "/v1/cases", {"title": "t"}, token=ADMIN)
            case = res["created"]
            first = EventReader(s.port, ADMIN)
            try:
                st, _, res = s.request("GET", "/v1/events", token=ADMIN)
                self.assertEqual((st, res["code"]), (503, "overloaded"))
                s.request("PUT", "/v1/cases/%s/priority" % case, {"priority": 1}, token=ADMIN)
                got = first.read_until(lambda evs: len(evs) >= 1)
            finally:
                first.close()
            last = got[-1]["id"]
            s.stop()  # the events are the store's: a restarted server resumes them
            s = Server("--max-streams", "1", db=db, definitions=False)
            for p in (2, 3, 4, 5):  # four events while away
                s.request("PUT", "/v1/cases/%s/priority" % case, {"priority": p}, token=ADMIN)
            again = EventReader(s.port, ADMIN, last_event_id=last)
            try:
                evs = again.read_until(lambda evs: len(evs) >= 4)
            finally:
                again.close()
            self.assertFalse([e for e in evs if e.get("event") == "reset"])
            self.assertEqual([e["data"]["payload"]["to"] for e in evs], [2, 3, 4, 5])
        finally:
            s.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_bad_command_lines_are_refused(self):
        d = tempfile.mkdtemp(prefix="acm-http-")
        try:
            tokens = os.path.join(d, "tokens.json")
            for content, words in (('{"tokens": [{"token": "short", "actor": "a"}]}', "at least 8"),
                                   ('{"tokens": [{"token": "longenough", "actor": ""}]}', "empty"),
                                   ("not json", "not valid JSON")):
                with open(tokens, "w") as f:
                    f.write(content)
                r = subprocess.run([SERVER, "--db", "", "--tokens", tokens, "--listen", "127.0.0.1:0"],
                                   capture_output=True, text=True, timeout=30)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(words, r.stderr)
            for args, words in ((["--db", ""], "--tokens"), (["--tokens", tokens], "--db"),
                                (["--db", "", "--tokens", tokens, "--listen", "nowhere"], "HOST:PORT"),
                                (["--db", "", "--tokens", tokens, "--max-body", "lots"], "whole number"),
                                (["--frobnicate"], "unknown option")):
                r = subprocess.run([SERVER] + args, capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(words, r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_sigterm_lets_the_request_in_flight_finish(self):
        s = Server()
        db = s.db
        try:
            body = json.dumps({"id": "in-flight", "title": "sent while stopping"}).encode()
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=20)
            sock.sendall(("POST /v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                          "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                          % (ALICE, len(body))).encode() + body[:10])
            idle = socket.create_connection(("127.0.0.1", s.port), timeout=20)  # a kept-alive idle one
            stream = EventReader(s.port, BOB)  # an open event stream
            time.sleep(0.3)
            s.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertIsNone(s.proc.poll(), "the server must wait for the request in flight")
            sock.sendall(body[10:])
            data = b""
            while True:
                d = sock.recv(4096)
                if not d:
                    break
                data += d
            self.assertEqual(status_of(data), 201, data)
            self.assertIn(b"connection: close", data.lower())
            self.assertEqual(idle.recv(10), b"")  # closed by the shutdown
            with self.assertRaises(EOFError):  # the stream ended (its last chunk sent)
                stream.read_until(lambda evs: False, timeout=10)
            self.assertTrue(stream.buf.endswith(b"0\r\n\r\n") or stream.buf == b"", stream.buf)
            stream.close()
            self.assertEqual(s.proc.wait(timeout=30), 0)
            out = s.proc.stdout.read()
            self.assertIn("SIGTERM received", out)
            self.assertIn("acm-server: stopped", out)
            # New connections are refused once it is gone; the case is in the store.
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", s.port), timeout=2)
            s2 = Server(db=db, definitions=False)
            try:
                st, _, c = s2.request("GET", "/v1/cases/in-flight", token=ADMIN)
                self.assertEqual((st, c["title"]), (200, "sent while stopping"))
            finally:
                s2.stop()
        finally:
            s.stop()


def main():
    global SERVER, SOURCE
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--source", required=True)
    args, rest = p.parse_known_args()
    SERVER, SOURCE = os.path.abspath(args.server), os.path.abspath(args.source)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
