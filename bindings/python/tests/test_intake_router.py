# SPDX-License-Identifier: Apache-2.0
"""acm.Intake and acm.Router: help-desk intake and routing from Python (docs/helpdesk.md)."""

import datetime as dt
import json

import pytest

import acm
from conftest import START

DEFINITIONS = {
    "fragments": [{
        "id": "support", "roles": ["agent", "expert"],
        "items": [{"id": "answer", "kind": "human_task", "role": "agent", "skills": ["billing"], "estimate": "30m"},
                  {"id": "review", "kind": "human_task", "role": "expert"}],
    }],
    "case_types": [{"id": "ticket",
                    "roles": [{"name": "agent", "permissions": ["view", "work"]},
                              {"name": "expert", "permissions": ["view", "work"]}],
                    "initial_fragments": ["support"]}],
}

RULES = {"rules": [
    {"id": "spam", "when": "contains(lower(event.text), 'unsubscribe')", "ignore": True},
    {"id": "mail", "when": "event.channel == 'email'", "attach": {"correlation": ["customer"]}},
    {"id": "vip", "when": "event.channel == 'phone' and customer.tier == 'gold'",
     "create_case": {"type": "ticket", "title": "VIP: {event.text}", "priority": 5}},
    {"id": "phone", "when": "event.channel == 'phone'", "create_case": {"type": "ticket", "title": "{event.text}"}},
]}

ROSTER = [
    {"id": "bob", "roles": ["agent"], "skills": {"billing": 0.9}, "capacity": 2},
    {"id": "eve", "roles": ["agent"], "skills": {"billing": 0.2}},
    {"id": "sam", "roles": ["expert"], "skills": ["billing"],
     "windows": [{"from": START, "to": START + dt.timedelta(hours=8)}]},
]


@pytest.fixture
def desk(engine, admin):
    engine.load_definitions(admin, DEFINITIONS)
    return engine


def test_intake_creates_attaches_ignores_and_logs(desk, admin):
    looked_up = []

    def lookup(customer):
        looked_up.append(customer)
        return {"tier": "gold", "value": 9000} if customer == "ann" else None

    intake = acm.Intake(desk, RULES, customer_lookup=lookup, actor=acm.Actor("desk", ["admin"]))
    first = intake.process({"id": "p-1", "channel": "phone", "customer": "ann", "text": "no sound",
                            "received": START})
    assert isinstance(first, acm.IntakeDecision)
    assert first["action"] == "create_case" and first["duplicate"] is False
    assert first["steps"][0]["rule"] == "vip"
    case_id = first["case_id"]
    case = desk.get_case(case_id)
    assert case["title"] == "VIP: no sound" and case["priority"] == 5
    assert case["subject"]["attributes"]["tier"] == "gold"
    assert "ann" in looked_up

    again = intake.process('{"id": "p-1", "channel": "phone", "customer": "ann"}')  # JSON text works too
    assert again["duplicate"] is True and again["case_id"] == case_id
    plain = intake.process({"id": "p-2", "channel": "phone", "customer": "joe", "text": "hello"})
    assert plain["steps"][0]["rule"] == "phone"
    mail = intake.process({"id": "m-1", "channel": "email", "customer": "ann", "text": "any news?"})
    assert mail["action"] == "attach" and mail["case_id"] == case_id
    assert intake.process({"id": "s-1", "channel": "email", "customer": "ann",
                           "text": "Unsubscribe me"})["action"] == "ignore"
    with pytest.raises(acm.InvalidArgument, match="sentiment"):
        intake.process({"id": "bad-1", "channel": "phone", "sentiment": 3})
    with pytest.raises(acm.InvalidArgument, match="object"):
        intake.process(42)

    log = desk.intake_log()
    assert [e["event_id"] for e in log] == ["p-1", "p-2", "m-1", "s-1", "bad-1", ""]  # 42 has no id
    assert isinstance(log[0], acm.IntakeLogEntry)
    assert log[0]["case_id"] == case_id and log[0]["rule"] == "vip"
    assert log[4]["action"] == "rejected" and log[5]["action"] == "rejected"
    assert intake.intake_log(after=3) == log[3:]
    assert [e["event_id"] for e in desk.intake_log_of("m-1")] == ["m-1"]
    assert desk.open_cases_of("ann") == [case_id]

    shape = first.to_json()
    assert shape == {"event_id": "p-1", "duplicate": False, "action": "create_case", "case": case_id,
                     "steps": [{"rule": "vip", "action": "create_case", "case": case_id, "reason": shape["steps"][0]["reason"],
                                "log_seq": 1}]}
    entry = log[0].to_json()
    assert entry["case"] == case_id and entry["time"] == "2026-11-23T09:00:00.000Z"
    json.dumps([e.to_json() for e in log])

    intake.set_rules([{"id": "all", "when": "true", "ignore": True}])
    assert intake.process({"id": "p-3", "channel": "phone", "customer": "ann"})["action"] == "ignore"


def test_intake_refuses_bad_rules_and_options(desk):
    with pytest.raises(acm.InvalidDefinition, match="rule 'x'"):
        acm.Intake(desk, [{"id": "x", "when": "event.", "ignore": True}])
    with pytest.raises(acm.InvalidDefinition, match="nope"):
        acm.Intake(desk, [{"id": "x", "when": "true", "create_case": {"type": "nope"}}])
    with pytest.raises(TypeError, match="colour"):
        acm.Intake(desk, RULES, limits={"colour": 1})
    with pytest.raises(TypeError):
        acm.Intake(desk, RULES, customer_lookup=42)
    intake = acm.Intake(desk, RULES, limits={"max_text_bytes": 10})
    with pytest.raises(acm.InvalidArgument, match="text"):
        intake.process({"id": "p-9", "channel": "phone", "text": "x" * 11})


def test_a_failing_lookup_leaves_the_customer_unknown_and_is_reported(desk, monkeypatch):
    reported = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: reported.append(u))

    def lookup(customer):
        raise RuntimeError("CRM down")

    intake = acm.Intake(desk, RULES, customer_lookup=lookup)
    decision = intake.process({"id": "p-1", "channel": "phone", "customer": "ann", "text": "hi"})
    assert decision["steps"][0]["rule"] == "phone"  # not "vip": the tier is unknown
    assert any("CRM down" in str(u.exc_value) for u in reported)


def test_router_suggests_assigns_and_learns(desk, admin, clock):
    case_id = desk.create_case(admin, type="ticket", title="Billing question")
    item = "support#1/answer"
    with acm.Router(desk, ROSTER) as router:
        ranked = router.suggest(case_id, item, include_excluded=True)
        assert [s["agent"] for s in ranked] == ["bob", "eve", "sam"]
        assert isinstance(ranked[0], acm.RouteSuggestion)
        assert ranked[2]["excluded"] is True and ranked[2]["reason"] != ""
        terms = {t["name"]: t for t in ranked[0]["terms"]}
        assert terms["skill"]["value"] == pytest.approx(0.9)
        assert sum(t["contribution"] for t in ranked[0]["terms"]) == pytest.approx(ranked[0]["score"])
        shape = ranked[0].to_json()
        assert set(shape) == {"agent", "score", "terms", "available", "has_capacity", "excluded", "reason"}
        json.dumps([s.to_json() for s in ranked])

        assert router.auto_assign(case_id, item) == "bob"
        assert next(i for i in desk.get_case(case_id)["items"] if i["id"] == item)["assignee"] == "bob"

        # Learning online: bob completes the task in 40 minutes.
        clock.advance(dt.timedelta(minutes=40))
        desk.complete_item("bob", case_id, item)
        perf = router.performance("bob", "support/answer")
        assert perf["completed"] == 1 and perf["median"] == dt.timedelta(minutes=40)
        assert perf.to_json() == {"completed": 1, "median": "PT40M"}
        router.record_completion("eve", "support/answer", dt.timedelta(hours=2))
        assert router.performance("eve", "support/answer")["completed"] == 1
        assert router.learn_from_cases([case_id]) == 0  # already learned online

        router.upsert_agent({"id": "bob", "roles": ["agent"], "available": False})
        second = desk.create_case(admin, type="ticket", title="Another")
        assert router.auto_assign(second, item) == "eve"
        router.set_roster([])
        assert router.suggest(second, item) == []
        with pytest.raises(acm.NotFound):
            router.suggest("case-404", item)
        with pytest.raises(acm.InvalidArgument, match="capacity"):
            router.upsert_agent({"id": "x", "capacity": 0})
        with pytest.raises(acm.InvalidArgument, match="rank"):
            router.set_roster([{"id": "x", "rank": 1}])
        with pytest.raises(TypeError):
            router.set_roster({"id": "x"})
    with pytest.raises(acm.InvalidState, match="closed"):
        router.suggest(case_id, item)


def test_router_bad_options_and_engine_close(admin, clock):
    engine = acm.Engine.open(clock=clock)
    engine.load_definitions(admin, DEFINITIONS)
    with pytest.raises(acm.InvalidArgument, match="weights"):
        acm.Router(engine, ROSTER, weights={"skill": -1})
    with pytest.raises(TypeError, match="speed"):
        acm.Router(engine, ROSTER, weights={"speed": 1})
    router = acm.Router(engine, ROSTER, auto_assign_on_activation=True)
    case_id = engine.create_case(admin, type="ticket", title="Auto")
    answer = next(i for i in engine.get_case(case_id)["items"] if i["id"] == "support#1/answer")
    assert answer["assignee"] == "bob"  # assigned as the task became enabled
    intake = acm.Intake(engine, RULES)
    engine.close()  # closes the router first; the intake refuses afterwards
    with pytest.raises(acm.InvalidState):
        router.suggest(case_id, "support#1/answer")
    with pytest.raises(acm.InvalidState):
        intake.process({"id": "p-1", "channel": "phone"})
    del router, intake
