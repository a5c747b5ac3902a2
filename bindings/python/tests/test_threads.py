# SPDX-License-Identifier: Apache-2.0
"""Python threads calling one engine at once (the GIL is released during engine calls)."""

import collections
import datetime as dt
import threading

import pytest

import acm
from conftest import START


def run_threads(n, target):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []


def test_threads_with_handlers_and_subscribers_on_a_group_commit_store(tmp_path):
    admin = acm.Actor("root", ["admin"])
    clock = acm.ManualClock(START)
    per_thread, threads = 15, 8
    events = collections.Counter()
    handled = []

    with acm.Engine.open(database=tmp_path / "threads.db", durability="group", clock=clock) as engine:
        engine.subscribe(lambda e: events.update([e["kind"]]))

        def work(ctx):
            handled.append(ctx.case_id)
            return {"by": threading.get_ident()}

        engine.register_handler("work", work)

        def client(i):
            for k in range(per_thread):
                case_id = engine.create_case(admin, id=f"t{i}-{k}")
                engine.set_file(admin, case_id, "n", k)
                engine.add_task(admin, case_id, "auto", kind="automated_task", handler="work", output="out")
                task = engine.add_task(admin, case_id, "human")
                engine.complete_item(admin, case_id, task)
                assert engine.get_case(case_id)["file"]["n"] == k

        run_threads(threads, client)
        total = threads * per_thread
        assert len(engine.list_cases()) == total
        assert len(handled) == total
        assert events["case_created"] == total
        assert events["file_set"] >= total
        for case_id in engine.list_cases(limit=10):
            assert "by" in engine.get_case(case_id)["file"]["out"]


def test_racing_writers_on_one_case_get_conflicts_not_lost_updates(engine, clock):
    admin = acm.Actor("root", ["admin"])
    case_id = engine.create_case(admin, file={"count": 0})
    conflicts = collections.Counter()

    def increment(i):
        done = 0
        while done < 20:
            case = engine.get_case(case_id)
            try:
                engine.set_file(admin, case_id, "count", case["file"]["count"] + 1,
                                expected_version=case["version"])
                done += 1
            except acm.Conflict:
                conflicts[i] += 1

    run_threads(6, increment)
    assert engine.get_case(case_id)["file"]["count"] == 120


def test_clock_advancing_while_other_threads_work(engine, clock):
    admin = acm.Actor("root", ["admin"])
    fired = []
    engine.register_handler("tick", lambda ctx: fired.append(ctx.case_id))
    engine.register_fragment(admin, {"id": "timed", "items": [
        {"id": "wait", "kind": "timer_listener", "timer": "10m"},
        {"id": "tick", "kind": "automated_task", "handler": "tick", "after": ["wait"]}]})
    stop = threading.Event()

    def creator(i):
        k = 0
        while not stop.is_set() and k < 40:
            case_id = engine.create_case(admin, id=f"c{i}-{k}")
            engine.add_fragment(admin, case_id, "timed")
            k += 1

    def advancer(_):
        for _ in range(30):
            clock.advance(dt.timedelta(minutes=5))

    run_threads(4, lambda i: advancer(i) if i == 0 else creator(i))
    stop.set()
    clock.advance(dt.timedelta(hours=1))
    assert sorted(fired) == sorted(engine.list_cases())


def test_close_waits_for_running_calls(clock):
    admin = acm.Actor("root", ["admin"])
    engine = acm.Engine.open(clock=clock)
    started, release = threading.Event(), threading.Event()

    def slow(ctx):
        started.set()
        release.wait(10)
        return "done"

    engine.register_handler("slow", slow)
    case_id = engine.create_case(admin)
    outcome = []
    t = threading.Thread(target=lambda: outcome.append(
        engine.add_task(admin, case_id, "slow", kind="automated_task", handler="slow")))
    t.start()
    assert started.wait(10)
    closer = threading.Thread(target=engine.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive()  # waiting for the handler's command
    release.set()
    t.join(10)
    closer.join(10)
    assert not closer.is_alive() and outcome and engine.closed
    with pytest.raises(acm.InvalidState):
        engine.get_case(case_id)
