# SPDX-License-Identifier: Apache-2.0
"""The values the engine returns: dicts with a ``to_json()`` method.

Each value is a ``dict`` (keys are the C++ field names: ``case_id``, ``item_id``, ``def_id``...;
times are aware ``datetime`` objects, durations ``timedelta``, enumerations their snake_case
names), so existing code that indexes results keeps working. ``to_json()`` gives the one JSON
shape of docs/json.md, the same the C ABI and the CLI's ``--json`` print: it reads the dict back
into the C++ value and serialises it with the library's ``acm::to_json``, so
``json.dumps(value.to_json())`` always works and always agrees with the other surfaces.
"""

from __future__ import annotations

from typing import Any

from . import _acm


class Value(dict):  # type: ignore[type-arg]
    """Base class of the values the engine returns (a dict with ``to_json()``)."""

    __slots__ = ()
    _kind = ""

    def to_json(self) -> Any:
        """This value in the documented JSON shape (docs/json.md): only JSON types, times as
        RFC 3339 ``Z`` strings, durations as ISO-8601 durations."""
        return _acm._to_json(self._kind, self)


class Case(Value):
    """A snapshot of a case (``Engine.get_case``)."""

    __slots__ = ()
    _kind = "case"


class Subject(Value):
    """The customer a case is about: ``customer`` and ``attributes``."""

    __slots__ = ()
    _kind = "subject"


class Participant(Value):
    """Someone brought into a case: ``actor`` and case ``roles``."""

    __slots__ = ()
    _kind = "participant"


class Asset(Value):
    """A document, link or note of a case."""

    __slots__ = ()
    _kind = "asset"


class Goal(Value):
    """A goal of a case, with its status and timing."""

    __slots__ = ()
    _kind = "goal"


class Promise(Value):
    """A promise made to the customer."""

    __slots__ = ()
    _kind = "promise"


class PlanItem(Value):
    """A plan item of a case (task, milestone, listener or stage)."""

    __slots__ = ()
    _kind = "item"


class Event(Value):
    """One entry of a case history (also what subscribers receive)."""

    __slots__ = ()
    _kind = "event"


class CommandResult(Value):
    """What a command did: ``version``, ``events``, ``created``."""

    __slots__ = ()
    _kind = "command_result"


class WorkItem(Value):
    """An open work item of the queue, with what an inbox shows of its case."""

    __slots__ = ()
    _kind = "work_item"


class QueuePage(Value):
    """A page of the work queue: ``items`` and the ``total`` the filter matches."""

    __slots__ = ()
    _kind = "queue_page"


class CaseSummary(Value):
    """A case found by ``Engine.find_cases`` (the case row, without plan or file)."""

    __slots__ = ()
    _kind = "case_summary"


class CasePage(Value):
    """A page of a case search: ``cases`` and the ``total`` the query matches."""

    __slots__ = ()
    _kind = "case_page"


class FragmentOffer(Value):
    """A discretionary fragment that applies to a case now."""

    __slots__ = ()
    _kind = "fragment_offer"


class TemplateInfo(Value):
    """A stored template version (without its bytes)."""

    __slots__ = ()
    _kind = "template"


class IntakeLogEntry(Value):
    """One decision of the help-desk intake log."""

    __slots__ = ()
    _kind = "intake_log_entry"


class IntakeStep(Value):
    """One action an intake took for an event."""

    __slots__ = ()
    _kind = "intake_step"


class IntakeDecision(Value):
    """What an intake decided for one channel event (``Intake.process``)."""

    __slots__ = ()
    _kind = "intake_decision"


class RouteTerm(Value):
    """One ranking term of a routing suggestion."""

    __slots__ = ()
    _kind = "route_term"


class RouteSuggestion(Value):
    """An agent ranked for a task (``Router.suggest``)."""

    __slots__ = ()
    _kind = "route_suggestion"


class PerformanceRecord(Value):
    """What a router learned about an agent on one kind of task."""

    __slots__ = ()
    _kind = "performance"


VALUE_CLASSES: dict[str, type[Value]] = {
    cls._kind: cls
    for cls in (Case, Subject, Participant, Asset, Goal, Promise, PlanItem, Event, CommandResult, WorkItem,
                QueuePage, CaseSummary, CasePage, FragmentOffer, TemplateInfo, IntakeLogEntry, IntakeStep,
                IntakeDecision, RouteTerm, RouteSuggestion, PerformanceRecord)
}
"""Value class by kind."""

_acm._set_value_classes(VALUE_CLASSES)

__all__ = ["Value"] + [cls.__name__ for cls in VALUE_CLASSES.values()]
