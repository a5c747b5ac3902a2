# SPDX-License-Identifier: Apache-2.0
"""The global event feed from Python: read_feed / feed_end on a real SQLite file."""

import threading

import pytest

import acm


def test_feed_reads_every_event_once_in_order_and_waits_for_new_ones(tmp_path, clock, admin):
    with acm.Engine.open(database=tmp_path / "feed.db", clock=clock) as e:
        assert e.feed_end() == ""
        assert e.read_feed() == []
        a = e.create_case(admin, title="first")
        b = e.create_case(admin, title="second")
        e.set_priority(admin, a, 3)
        entries = e.read_feed()
        assert [(ev["case_id"], ev["seq"]) for _, ev in entries] == [(a, 1), (b, 1), (a, 2)]
        assert all(isinstance(ev, acm.Event) for _, ev in entries)
        assert len({p for p, _ in entries}) == 3
        # Paged: the first two, then on from the second's position.
        first = e.read_feed("", 2)
        assert [p for p, _ in first] == [p for p, _ in entries[:2]]
        assert [p for p, _ in e.read_feed(first[-1][0])] == [entries[2][0]]
        end = e.feed_end()
        assert end == entries[-1][0]
        assert e.read_feed(end) == []
        # A reader waiting at the end gets the next commit, made while it waits.
        timer = threading.Timer(0.2, lambda: e.set_priority(admin, b, 5))
        timer.start()
        got = e.read_feed(end, timeout=10)
        timer.join()
        assert [(ev["case_id"], ev["seq"], ev["kind"]) for _, ev in got] == [(b, 2, "priority_changed")]
        assert e.read_feed(got[-1][0], timeout=0.05) == []
        with pytest.raises(acm.InvalidArgument, match="not a position of the event feed"):
            e.read_feed("nonsense")
        with pytest.raises(acm.InvalidArgument, match="limit"):
            e.read_feed("", 0)
