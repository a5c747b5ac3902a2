# SPDX-License-Identifier: Apache-2.0
"""Case types, case search, the inbox columns of the work queue, and to_json() on every value."""

import datetime as dt
import json

import pytest

import acm
from conftest import START, UTC


@pytest.fixture(params=["memory", "sqlite"])
def desk(request, tmp_path, admin):
    clock = acm.ManualClock(START)
    database = "" if request.param == "memory" else tmp_path / "cases.db"
    from conftest import DEFINITIONS
    with acm.Engine.open(database=database, clock=clock) as engine:
        engine.load_definitions(admin, DEFINITIONS / "helpdesk.json")
        yield engine, clock


def test_list_case_types(desk, admin):
    engine, _ = desk
    types = engine.list_case_types()
    assert [t["id"] for t in types] == ["complaint"]
    v2 = dict(engine.get_case_type("complaint"), version=2, name="Second edition")
    engine.register_case_type(admin, v2)
    types = engine.list_case_types()
    assert [(t["id"], t["version"], t["name"]) for t in types] == [("complaint", 2, "Second edition")]
    json.dumps(types)


def test_find_cases(desk, admin):
    engine, _ = desk
    c1 = engine.create_case(admin, type="complaint", title="Laptop", subject={"customer": "ann"}, owner="alice")
    c2 = engine.create_case(admin, type="complaint", title="Refund", subject={"customer": "bob"}, owner="alice")
    c3 = engine.create_case(admin, type="complaint", title="Invoice", subject={"customer": "ann"}, owner="carol")
    engine.terminate_case(admin, c3, "duplicate")

    page = engine.find_cases()
    assert isinstance(page, acm.CasePage)
    assert page["total"] == 3
    assert [c["id"] for c in page["cases"]] == [c3, c2, c1]  # newest first
    first = page["cases"][2]
    assert isinstance(first, acm.CaseSummary)
    assert first["title"] == "Laptop" and first["customer"] == "ann" and first["owner"] == "alice"
    assert first["status"] == "active" and first["type"] == "complaint"
    assert first["created_at"] == START
    assert first["next_deadline"] == START + dt.timedelta(days=2)

    assert [c["id"] for c in engine.find_cases(customer="ann")["cases"]] == [c3, c1]
    assert [c["id"] for c in engine.find_cases(owner="alice")["cases"]] == [c2, c1]
    assert [c["id"] for c in engine.find_cases(status="terminated")["cases"]] == [c3]
    assert [c["id"] for c in engine.find_cases(status=["active", "suspended"], customer="ann")["cases"]] == [c1]
    paged = engine.find_cases(limit=1, offset=1)
    assert [c["id"] for c in paged["cases"]] == [c2] and paged["total"] == 3

    with pytest.raises(acm.InvalidArgument, match="'open'"):
        engine.find_cases(status="open")
    with pytest.raises(acm.InvalidArgument, match="10000"):
        engine.find_cases(limit=10001)

    shape = page.to_json()
    assert shape["cases"][2]["created_at"] == "2026-11-23T09:00:00.000Z"
    assert shape["cases"][2]["next_deadline"] == "2026-11-25T09:00:00.000Z"
    assert shape["cases"][0]["status"] == "terminated"
    json.dumps(shape)


def test_queue_carries_the_inbox_and_a_total(desk, admin):
    engine, clock = desk
    c1 = engine.create_case(admin, type="complaint", title="Laptop", subject={"customer": "ann"})
    engine.add_goal(admin, c1, {"id": "call_back", "name": "Call back", "deadline": START + dt.timedelta(days=1)})
    call = engine.add_task(admin, c1, "Call ann", role="agent", goal="call_back")

    items = engine.queue()
    assert all(isinstance(w, acm.WorkItem) for w in items)
    by_id = {w["item_id"]: w for w in items}
    assert by_id[call]["case_title"] == "Laptop"
    assert by_id[call]["customer"] == "ann"
    assert by_id[call]["goal"] == "call_back"
    assert by_id[call]["goal_deadline"] == START + dt.timedelta(days=1)
    assert by_id[call]["goal_timing"] == "on_track"
    # An item serving no goal runs against the case's earliest open deadline.
    assert by_id["diagnosis#1/triage"]["goal"] == "call_back"

    clock.advance(dt.timedelta(hours=25))
    by_id = {w["item_id"]: w for w in engine.queue()}
    assert by_id[call]["goal_timing"] == "overdue"  # no command ran on the case: the read model follows

    page = engine.queue_page(limit=1)
    assert isinstance(page, acm.QueuePage)
    assert page["total"] == 2 and len(page["items"]) == 1
    assert engine.queue_page(roles=["supplier"])["total"] == 0
    assert engine.queue_page(roles=["agent"], skills=[])["total"] == 2  # neither needs a skill
    assert engine.queue(roles=["agent"], skills=["hardware"]) == engine.queue(roles=["agent"])

    shape = page.to_json()
    assert set(shape) == {"items", "total"}
    w = {x["item"]: x for x in (v.to_json() for v in engine.queue())}[call]
    assert w["case"] == c1 and w["goal_timing"] == "overdue"
    assert w["goal_deadline"] == "2026-11-24T09:00:00.000Z"
    json.dumps(shape)


def test_every_value_has_to_json(desk, admin):
    engine, clock = desk
    seen = []
    engine.subscribe(seen.append)
    case_id = engine.create_case(admin, type="complaint", title="Laptop", subject={"customer": "ann",
                                                                                 "attributes": {"tier": "gold"}},
                                 participants=[("bob", ["agent"])])
    engine.attach(admin, case_id, "note", text="called")
    engine.make_promise(admin, case_id, "p1", "a call back", START + dt.timedelta(days=1))
    result = engine.set_file(admin, case_id, "order", {"id": "A-17"})

    case = engine.get_case(case_id)
    values = [case, case["subject"], case["participants"][0], case["assets"][0], case["goals"][0],
              case["items"][0], case["promises"][0], result, result["events"][0], seen[0],
              engine.history(case_id)[0], engine.queue()[0], engine.queue_page(), engine.find_cases(),
              engine.find_cases()["cases"][0], engine.applicable_fragments(case_id)[0]]
    engine.put_template("t", "note", {"n": 1}, b"x")
    values.append(engine.list_templates()[0])
    for v in values:
        assert isinstance(v, acm.Value), type(v)
        assert isinstance(v, dict)
        json.dumps(v.to_json())
    with pytest.raises(TypeError):
        json.dumps(case)  # the attributes keep datetime objects
    shape = case.to_json()
    assert shape["created_at"] == "2026-11-23T09:00:00.000Z"
    assert shape["subject"] == {"customer": "ann", "attributes": {"tier": "gold"}}
    assert shape["items"][0]["def"] == case["items"][0]["def_id"]
    assert shape["goals"][0]["remaining_work"].startswith("PT")
    assert seen[0].to_json()["case"] == case_id  # not case_id
    assert engine.queue()[0].to_json()["item"] == engine.queue()[0]["item_id"]
    offer = engine.applicable_fragments(case_id)[0].to_json()
    assert set(offer) == {"fragment", "version", "name", "description", "parameters"}
    assert acm.Actor("bob", ["agent"]).to_json() == {"id": "bob", "roles": ["agent"]}
    # to_json reflects the value as it is now, e.g. after the host edited it.
    case["title"] = "Edited"
    assert case.to_json()["title"] == "Edited"
    case["created_at"] = dt.datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    assert case.to_json()["created_at"] == "2026-01-02T03:04:05.006Z"
    case["status"] = "bogus"
    with pytest.raises(acm.InvalidArgument, match="status"):
        case.to_json()


def test_task_context_to_json(engine, admin):
    contexts = []

    @engine.handler("echo")
    def echo(ctx):
        contexts.append(ctx.to_json())
        return {"ok": True}

    case_id = engine.create_case(admin, title="x")
    engine.add_task(admin, case_id, "run", kind="automated_task", handler="echo", input={"a": 1})
    assert contexts == [{"case": case_id, "item": contexts[0]["item"], "handler": "echo", "input": {"a": 1},
                         "case_file": {}, "now": "2026-11-23T09:00:00.000Z"}]
