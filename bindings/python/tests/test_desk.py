# SPDX-License-Identifier: Apache-2.0
"""Help-desk features through the binding: business calendars and SLA pauses, promises with a
manual clock, priority policies with their reasons, and a Python forecaster."""

import datetime as dt
import json
import sys

import pytest

import acm

UTC = dt.timezone.utc
OFFICE = {
    "name": "office", "time_zone": "Europe/Rome",
    "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-08"],
}
FRIDAY_15_ROME = dt.datetime(2026, 11, 27, 14, tzinfo=UTC)
MONDAY = dt.datetime(2026, 11, 23, 9, tzinfo=UTC)


def goal(engine, case_id, goal_id):
    return next(g for g in engine.get_case(case_id)["goals"] if g["id"] == goal_id)


def promise(engine, case_id, promise_id):
    return next(p for p in engine.get_case(case_id)["promises"] if p["id"] == promise_id)


def test_business_calendar_helpers():
    cal = acm.BusinessCalendar(OFFICE)
    assert cal.name == "office"
    assert cal.add(FRIDAY_15_ROME, dt.timedelta(hours=8)) == dt.datetime(2026, 11, 30, 14, tzinfo=UTC)
    assert cal.between(FRIDAY_15_ROME, dt.datetime(2026, 11, 30, 14, tzinfo=UTC)) == dt.timedelta(hours=8)
    assert cal.latest_start(dt.datetime(2026, 11, 30, 14, tzinfo=UTC), dt.timedelta(hours=8)) == FRIDAY_15_ROME
    assert cal.week_work == dt.timedelta(hours=40)
    assert not cal.is_working(dt.datetime(2026, 11, 28, 10, tzinfo=UTC))  # Saturday
    assert cal.next_working(dt.datetime(2026, 11, 28, 10, tzinfo=UTC)) == dt.datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert acm.BusinessCalendar(json.dumps(OFFICE)).spec == cal.spec
    with pytest.raises(acm.InvalidDefinition, match="Mars/Olympus"):
        acm.BusinessCalendar({"name": "x", "time_zone": "Mars/Olympus", "hours": {"mon": ["09:00-17:00"]}})
    with pytest.raises(acm.ParseError):
        acm.BusinessCalendar("{nope")


@pytest.mark.parametrize("calendar", [OFFICE, json.dumps(OFFICE), acm.BusinessCalendar(OFFICE)],
                         ids=["dict", "json", "object"])
def test_sla_on_business_hours_pauses_and_resumes(admin, calendar):
    clock = acm.ManualClock(FRIDAY_15_ROME)
    with acm.Engine.open(clock=clock, calendar=calendar) as engine:
        c = engine.create_case(admin)
        engine.add_goal(admin, c, {"id": "sla", "within": dt.timedelta(hours=8)})
        # Friday 15:00 + 8 business hours = Monday 15:00 Rome.
        assert goal(engine, c, "sla")["deadline"] == dt.datetime(2026, 11, 30, 14, tzinfo=UTC)
        assert goal(engine, c, "sla")["paused_since"] is None
        clock.advance_to(dt.datetime(2026, 11, 30, 9, tzinfo=UTC))
        engine.pause_goal(admin, c, "sla", "waiting on customer")
        assert goal(engine, c, "sla")["paused_since"] == dt.datetime(2026, 11, 30, 9, tzinfo=UTC)
        with pytest.raises(acm.InvalidState):
            engine.pause_goal(admin, c, "sla")
        clock.advance_to(dt.datetime(2026, 12, 1, 11, tzinfo=UTC))  # past the old deadline
        assert goal(engine, c, "sla")["timing"] == "on_track"
        engine.resume_goal(admin, c, "sla")
        g = goal(engine, c, "sla")
        assert g["paused_since"] is None
        assert g["deadline"] == dt.datetime(2026, 12, 1, 16, tzinfo=UTC)
        clock.advance_to(dt.datetime(2026, 12, 1, 16, tzinfo=UTC))
        assert goal(engine, c, "sla")["timing"] == "overdue"
        with pytest.raises(acm.InvalidState):
            engine.resume_goal(admin, c, "sla")


def test_promise_at_risk_then_broken(admin):
    clock = acm.ManualClock(MONDAY)
    events = []
    with acm.Engine.open(clock=clock, promise_warning=dt.timedelta(hours=2)) as engine:
        engine.subscribe(events.append, ["promise_timing", "promise_broken"])
        c = engine.create_case(admin)
        engine.add_goal(admin, c, {"id": "fix"})
        # A manual task waits unstarted: its whole estimate stays ahead.
        engine.add_task(admin, c, "repair", estimate=dt.timedelta(hours=5), goal="fix", manual=True)
        due = dt.datetime(2026, 11, 23, 18, tzinfo=UTC)
        engine.make_promise(admin, c, "callback", "we call you back with a fix", due)
        p = promise(engine, c, "callback")
        assert (p["status"], p["timing"], p["due"], p["what"]) == ("open", "on_track", due, "we call you back with a fix")
        with pytest.raises(acm.Error):
            engine.make_promise(admin, c, "callback", "again", due + dt.timedelta(days=1))
        clock.advance_to(dt.datetime(2026, 11, 23, 13, 30, tzinfo=UTC))
        assert promise(engine, c, "callback")["timing"] == "at_risk"
        timing = [e for e in events if e["kind"] == "promise_timing"]
        # The first evaluation (when made) records the expected completion; then the turn.
        assert [e["payload"]["to"] for e in timing] == ["on_track", "at_risk"]
        assert timing[1]["time"] == dt.datetime(2026, 11, 23, 13, 0, 0, 1000, tzinfo=UTC)  # 5 h no longer fit
        assert promise(engine, c, "callback")["expected"] > due
        clock.advance_to(due)
        assert promise(engine, c, "callback")["status"] == "broken"
        assert [e["kind"] for e in events].count("promise_broken") == 1
        engine.make_promise(admin, c, "later", "", due + dt.timedelta(days=3))
        engine.cancel_promise(admin, c, "later", "customer withdrew")
        assert promise(engine, c, "later")["status"] == "cancelled"
        engine.make_promise(admin, c, "kept", "", due + dt.timedelta(days=3))
        engine.keep_promise(admin, c, "kept")
        assert promise(engine, c, "kept")["status"] == "kept"
        with pytest.raises(acm.NotFound):
            engine.keep_promise(admin, c, "nope")


POLICY = {"terms": [
    {"name": "customer value", "expression": "subject.attributes.value / 1000", "weight": 2},
    {"name": "influence", "expression": "subject.attributes.followers > 10000", "weight": 15},
    {"name": "negative sentiment", "expression": "-subject.attributes.sentiment", "weight": 10},
]}


def test_priority_policy_explained(admin):
    with acm.Engine.open(clock=acm.ManualClock(MONDAY), priority_policy=POLICY) as engine:
        c = engine.create_case(admin, priority=5, subject={
            "customer": "c-42", "attributes": {"value": 12000, "followers": 250000, "sentiment": -0.5}})
        assert engine.get_case(c)["priority"] == 49  # 5 + 24 + 15 + 5
        why = engine.explain_priority(c)
        assert why["base"] == 5 and why["priority"] == 49
        assert [t["name"] for t in why["terms"]] == ["customer value", "influence", "negative sentiment"]
        assert why["terms"][0]["contribution"] == 24.0
        assert why["terms"][1]["value"] == 1.0
        engine.set_subject_attribute(admin, c, "sentiment", 0.5)
        assert engine.get_case(c)["priority"] == 39
    with acm.Engine.open() as plain:
        c = plain.create_case(admin, priority=3)
        assert plain.explain_priority(c) == {"priority": 3, "base": 3}
    with pytest.raises(acm.InvalidDefinition, match="/terms/1/bogus"):
        acm.Engine.open(priority_policy={"terms": [{"name": "x"}, {"expression": "1", "bogus": 1}]})
    with pytest.raises(acm.Error):
        acm.Engine.open(escalation=[{"id": "r", "on": "bogus"}])


def test_forecaster_callback(admin):
    forecast = {"at": dt.datetime(2026, 11, 24, 12, tzinfo=UTC)}
    calls = []

    def forecaster(case, now):
        calls.append((case["id"], now))
        assert isinstance(case["promises"], list)
        return forecast["at"]

    clock = acm.ManualClock(MONDAY)
    with acm.Engine.open(clock=clock, forecaster=forecaster) as engine:
        c = engine.create_case(admin)
        engine.make_promise(admin, c, "p", "answer", dt.datetime(2026, 11, 24, 9, tzinfo=UTC))
        p = promise(engine, c, "p")
        assert p["timing"] == "at_risk"
        assert p["expected"] == forecast["at"]
        assert calls and calls[-1] == (c, MONDAY)
        forecast["at"] = dt.datetime(2026, 11, 23, 15, tzinfo=UTC)
        engine.set_file(admin, c, "note", "new facts")
        p = promise(engine, c, "p")
        assert p["timing"] == "on_track" and p["expected"] == forecast["at"]
        forecast["at"] = None  # no forecast: the plan decides (no work: on track)
        engine.set_file(admin, c, "note", "more facts")
        assert promise(engine, c, "p")["timing"] == "on_track"


def test_forecaster_errors_are_reported_not_raised(admin, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u))
    holder = {}

    def bad(case, now):
        if "engine" in holder:
            holder["engine"].get_case(case["id"])  # may not call the engine: InvalidState
        raise RuntimeError("model offline")

    with acm.Engine.open(clock=acm.ManualClock(MONDAY), forecaster=bad) as engine:
        c = engine.create_case(admin)
        engine.make_promise(admin, c, "p", "answer", dt.datetime(2026, 11, 24, 9, tzinfo=UTC))
        assert promise(engine, c, "p")["status"] == "open"
        assert any(isinstance(u.exc_value, RuntimeError) and "model offline" in str(u.exc_value) for u in reported)
        reported.clear()
        holder["engine"] = engine
        engine.set_file(admin, c, "x", 1)
        assert any(isinstance(u.exc_value, acm.InvalidState) for u in reported)
