# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: an engine on a manual clock, the example definitions, actors."""

import datetime as dt
import os
import pathlib

import pytest

import acm

UTC = dt.timezone.utc
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, as in the C++ tests
SOURCE_DIR = pathlib.Path(os.environ.get("ACM_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3]))
DEFINITIONS = SOURCE_DIR / "examples" / "definitions"


@pytest.fixture
def admin():
    return acm.Actor("root", ["admin"])


@pytest.fixture
def clock():
    return acm.ManualClock(START)


@pytest.fixture
def engine(clock):
    with acm.Engine.open(clock=clock) as e:
        yield e


@pytest.fixture
def helpdesk(engine, admin):
    """The engine with the help-desk definitions loaded."""
    engine.load_definitions(admin, DEFINITIONS / "helpdesk.json")
    return engine


def state(engine, case_id, item_id):
    for item in engine.get_case(case_id)["items"]:
        if item["id"] == item_id:
            return item["state"]
    raise AssertionError(f"no item {item_id} in {case_id}")
