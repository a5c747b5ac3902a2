#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""examples/helpdesk.py (docs/python.md): a complaint from creation to completion."""
import datetime as dt
import pathlib
import sys

import acm

# The definitions beside this script, or the file given as the first argument.
DEFINITIONS = sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "definitions" / "helpdesk.json"

UTC = dt.timezone.utc
admin = acm.Actor("root", ["admin"])
clock = acm.ManualClock(dt.datetime(2026, 11, 23, 9, tzinfo=UTC))

with acm.Engine.open(database="helpdesk.db", durability="group", clock=clock) as engine:
    engine.load_definitions(admin, DEFINITIONS)

    @engine.handler("payments.refund")
    def pay_refund(ctx: acm.TaskContext):
        amount = ctx.input["params"]["amount"]
        if amount > 10_000:
            raise ValueError("needs a second approval")   # the task fails with this message
        return {"paid": amount, "at": ctx.now}              # written to file.refund.result

    engine.subscribe(lambda e: print(e["time"], e["case_id"], e["kind"]), kinds=["case_status"])

    case_id = engine.create_case(
        "alice", type="complaint", title="Laptop does not boot",
        subject={"customer": "cust-42", "attributes": {"value": 25000}},
        participants=[("bob", ["agent"]), ("sam", ["supervisor"])])

    for work in engine.queue(roles=["agent"]):
        print(work["item_id"], work["due"])
    clock.advance(dt.timedelta(minutes=20))
    engine.complete_item("bob", case_id, "diagnosis#1/triage")
    engine.set_file("bob", case_id, "diagnosis.fault", "hardware")
    engine.complete_item("bob", case_id, "diagnosis#1/diagnose")

    print([o["fragment"] for o in engine.applicable_fragments(case_id)])
    engine.add_fragment("alice", case_id, "refund", {"amount": 120}, goal="resolved")
    engine.complete_item("sam", case_id, "refund#1/approve_refund")   # runs pay_refund

    try:
        engine.set_file("bob", case_id, "note", "late", expected_version=1)
    except acm.Conflict as e:
        print(e.code, e.message)

    engine.set_file("bob", case_id, "resolution", {"confirmed": True})
    case = engine.get_case(case_id)
    print(case["status"], case["goals"][0]["achieved_at"])   # completed 2026-11-23 09:20:00+00:00
    assert case["status"] == "completed", case["status"]
