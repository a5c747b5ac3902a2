# SPDX-License-Identifier: Apache-2.0
"""Times, durations and JSON values across the boundary."""

import datetime as dt

import pytest

import acm
from conftest import START, UTC


def test_time_round_trips():
    t = acm.parse_time("2026-11-23T09:30:00.250+01:00")
    assert t == dt.datetime(2026, 11, 23, 8, 30, 0, 250000, tzinfo=UTC)
    assert t.tzinfo is dt.timezone.utc
    assert acm.format_time(t) == "2026-11-23T08:30:00.250Z"
    cet = dt.timezone(dt.timedelta(hours=1))
    assert acm.format_time(dt.datetime(2026, 11, 23, 10, tzinfo=cet)) == "2026-11-23T09:00:00.000Z"
    assert acm.format_time("2026-11-23") == "2026-11-23T00:00:00.000Z"
    # Before the epoch, and sub-millisecond parts rounded down.
    old = dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert acm.format_time(old) == "1969-12-31T23:59:59.999Z"
    assert acm.parse_time(acm.format_time(old)) == old.replace(microsecond=999000)


def test_duration_round_trips():
    assert acm.parse_duration("PT2H30M") == dt.timedelta(hours=2, minutes=30)
    assert acm.parse_duration("90m") == dt.timedelta(minutes=90)
    assert acm.format_duration(dt.timedelta(days=2, hours=4)) == "P2DT4H"
    assert acm.format_duration(dt.timedelta(milliseconds=500)) == "PT0.5S"
    assert acm.format_duration(dt.timedelta(microseconds=1999)) == acm.format_duration(dt.timedelta(milliseconds=1))
    for d in [dt.timedelta(0), dt.timedelta(days=9, seconds=7, milliseconds=3), dt.timedelta(minutes=-5)]:
        assert acm.parse_duration(acm.format_duration(d)) == d


def test_naive_datetimes_and_wrong_types_are_refused():
    with pytest.raises(acm.InvalidArgument, match="naive datetime"):
        acm.format_time(dt.datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        acm.format_time(12345)
    with pytest.raises(TypeError):
        acm.format_duration(60)
    with pytest.raises(acm.ParseError):
        acm.parse_duration("two hours")
    with pytest.raises(ValueError):  # ParseError is a ValueError too
        acm.parse_time("yesterday")


def test_clock_and_goal_times(engine, clock, admin):
    assert clock.now() == START and engine.now() == START
    case_id = engine.create_case(admin, title="bare")
    deadline = dt.datetime(2026, 11, 24, 17, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    engine.add_goal(admin, case_id, {"id": "g1", "name": "first", "deadline": deadline})
    engine.add_goal(admin, case_id, {"id": "g2", "within": dt.timedelta(hours=5), "required": False})
    engine.add_goal(admin, case_id, {"id": "g3", "within": "1d"})
    goals = {g["id"]: g for g in engine.get_case(case_id)["goals"]}
    assert goals["g1"]["deadline"] == deadline
    assert goals["g2"]["deadline"] == START + dt.timedelta(hours=5)
    assert goals["g3"]["deadline"] == START + dt.timedelta(days=1)
    assert engine.next_due() is not None and engine.next_due().tzinfo is not None
    engine.change_goal(admin, case_id, "g1", deadline=None, name="renamed")
    goals = {g["id"]: g for g in engine.get_case(case_id)["goals"]}
    assert goals["g1"]["deadline"] is None and goals["g1"]["name"] == "renamed"
    with pytest.raises(TypeError, match="unexpected field 'colour'"):
        engine.change_goal(admin, case_id, "g1", colour="red")
    with pytest.raises(TypeError, match="unexpected field 'dedline'"):
        engine.add_goal(admin, case_id, {"id": "g4", "dedline": START})
    clock.advance_to(START + dt.timedelta(hours=6))
    goals = {g["id"]: g for g in engine.get_case(case_id)["goals"]}
    assert goals["g2"]["timing"] == "overdue"
    with pytest.raises(acm.InvalidArgument):
        clock.advance(dt.timedelta(hours=-1))


def test_json_round_trip(engine, admin):
    value = {
        "none": None, "yes": True, "no": False, "int": -42, "big": 2**63 + 5, "float": 2.5,
        "text": "héllo", "list": [1, [2, {"x": []}]], "tuple": (1, 2), "nested": {"a": {"b": {}}},
    }
    case_id = engine.create_case(admin, file={"start": 1})
    engine.set_file(admin, case_id, "v", value)
    file = engine.get_case(case_id)["file"]
    expected = dict(value, tuple=[1, 2])
    assert file == {"start": 1, "v": expected}
    assert isinstance(file["v"]["big"], int) and isinstance(file["v"]["float"], float)
    engine.set_file(admin, case_id, "when", {"at": START, "takes": dt.timedelta(minutes=90)})
    assert engine.get_case(case_id)["file"]["when"] == {"at": "2026-11-23T09:00:00.000Z", "takes": "PT1H30M"}
    with pytest.raises(TypeError, match="keys must be str"):
        engine.set_file(admin, case_id, "bad", {1: "one"})
    with pytest.raises(TypeError, match="cannot convert set"):
        engine.set_file(admin, case_id, "bad", {1, 2})
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(acm.InvalidArgument, match="nested too deeply"):
        engine.set_file(admin, case_id, "bad", cyclic)
    with pytest.raises(acm.InvalidArgument):
        engine.set_file(admin, case_id, "big", 2**70)


def test_actor_and_results(engine, admin):
    assert acm.Actor("x") == acm.Actor("x", [])
    assert repr(admin) == "Actor('root', roles=['admin'])"
    case_id = engine.create_case(admin, id="case-x", owner="olga")
    result = engine.set_priority(admin, case_id, 5)
    assert result["version"] == 2 and len(result["events"]) >= 1 and result["created"] == ""
    assert engine.get_case(case_id)["priority"] == 5
    assert engine.set_priority(admin, case_id, 5)["events"] == []  # nothing changed
    with pytest.raises(TypeError, match="acm.Actor or a str"):
        engine.set_priority(42, case_id, 1)
