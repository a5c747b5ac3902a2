# SPDX-License-Identifier: Apache-2.0
"""The help-desk story of tests/test_scenarios.cpp, from Python, on a real SQLite file."""

import datetime as dt

import acm
from conftest import DEFINITIONS, START, UTC, state


def test_helpdesk_complaint_on_a_sqlite_file(tmp_path, admin):
    db = tmp_path / "cases.db"
    clock = acm.ManualClock(START)
    seen = []
    refunds = []

    with acm.Engine.open(database=db, durability="full", clock=clock) as engine:
        engine.subscribe(seen.append)

        @engine.handler("payments.refund")
        def pay(ctx):
            refunds.append((ctx.case_id, ctx.item_id, ctx.input, ctx.case_file["refund_requested"]))
            assert ctx.now == clock.now()
            return {"paid": True, "reference": "PAY-1"}

        engine.load_definitions(admin, (DEFINITIONS / "helpdesk.json").read_text())
        assert [f["id"] for f in engine.list_fragments()] == sorted(
            ["diagnosis", "supplier_repair", "refund", "escalation", "customer_followup"])

        case_id = engine.create_case(
            "alice", type="complaint", title="Laptop does not boot, posted on social media",
            subject={"customer": "cust-42", "attributes": {"value": 25000, "influence": 0.9}},
            priority=3, participants=[{"actor": "bob", "roles": ["agent"]}])
        case = engine.get_case(case_id)
        assert case["owner"] == "alice" and case["status"] == "active"
        goal = case["goals"][0]
        assert goal["id"] == "resolved"
        assert goal["deadline"] == dt.datetime(2026, 11, 25, 9, tzinfo=UTC)
        assert goal["remaining_work"] == dt.timedelta(minutes=270)
        assert state(engine, case_id, "diagnosis#1/triage") == "active"

        # Bob's queue holds the triage.
        queue = engine.queue(roles=["agent"])
        assert [(w["case_id"], w["item_id"]) for w in queue] == [(case_id, "diagnosis#1/triage")]
        assert queue[0]["priority"] == 3

        offered = [o["fragment"] for o in engine.applicable_fragments(case_id)]
        assert offered == ["refund", "escalation", "customer_followup"]

        clock.advance(dt.timedelta(minutes=20))
        engine.complete_item("bob", case_id, "diagnosis#1/triage")
        engine.set_file("bob", case_id, "diagnosis.fault", "hardware")
        engine.complete_item("bob", case_id, "diagnosis#1/diagnose")
        assert state(engine, case_id, "diagnosis#1") == "completed"
        assert "supplier_repair" in [o["fragment"] for o in engine.applicable_fragments(case_id)]

        # A refund: approved by a supervisor, paid by the Python handler.
        engine.add_participant("alice", case_id, "sam", ["supervisor"])
        engine.set_file("alice", case_id, "refund_requested", True)
        stage = engine.add_fragment("alice", case_id, "refund", {"amount": 120.5}, goal="resolved")
        assert stage == "refund#1"
        engine.complete_item("sam", case_id, "refund#1/approve_refund")
        assert refunds == [(case_id, "refund#1/pay_refund",
                            {"input": {"method": "original_payment", "reason": "complaint"},
                             "params": {"amount": 120.5}}, True)]
        case = engine.get_case(case_id)
        assert case["file"]["refund"]["result"] == {"paid": True, "reference": "PAY-1"}
        assert state(engine, case_id, "refund#1") == "completed"

        # Supplier repair, then the customer confirms.
        engine.add_participant("alice", case_id, "acme", ["supplier"])
        engine.add_fragment("alice", case_id, "supplier_repair", {"supplier": "acme"}, goal="resolved")
        with_role = acm.PermissionDenied
        try:
            engine.complete_item("acme", case_id, "supplier_repair#1/ship_to_supplier")
            raise AssertionError("the supplier did the agent's work")
        except with_role as e:
            assert "needs the case role 'agent'" in str(e)
        for item, who in [("ship_to_supplier", "bob"), ("repair", "acme"), ("return_to_customer", "bob")]:
            clock.advance(dt.timedelta(hours=1))
            engine.complete_item(who, case_id, f"supplier_repair#1/{item}")
        assert state(engine, case_id, "supplier_repair#1/repaired") == "completed"

        engine.attach("bob", case_id, "note", text="Mainboard replaced", title="repair note")
        engine.set_file("bob", case_id, "resolution", {"confirmed": True, "summary": "mainboard replaced"})
        case = engine.get_case(case_id)
        assert case["goals"][0]["status"] == "achieved"
        assert case["goals"][0]["achieved_at"] == clock.now()
        assert case["status"] == "completed"
        assert case["assets"][0]["text"] == "Mainboard replaced"
        engine.close_case("alice", case_id)
        version = engine.get_case(case_id)["version"]
        history = engine.history(case_id)
        assert [e["seq"] for e in history] == list(range(1, version + 1))
        assert all(e["time"].tzinfo is not None for e in history)
        assert [e["seq"] for e in seen if e["case_id"] == case_id] == list(range(1, version + 1))
        assert engine.inspect(case_id) == engine.inspect(case_id, from_history=True)
        assert engine.list_cases() == [case_id]

    assert engine.closed
    # Everything is in the file: a new engine reads it back.
    with acm.Engine.open(database=str(db), clock=acm.ManualClock(clock.now())) as again:
        case = again.get_case(case_id)
        assert case["status"] == "closed"
        assert case["version"] == version
        assert case["file"]["resolution"]["summary"] == "mainboard replaced"
        assert again.find_case("nope") is None
