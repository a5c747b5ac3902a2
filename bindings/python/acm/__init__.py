# SPDX-License-Identifier: Apache-2.0
"""acm: an embeddable Adaptive Case Management engine.

The native module ``acm._acm`` binds the C++ engine; this package adds the exception
hierarchy and re-exports everything. See docs/python.md.

    import acm, datetime
    clock = acm.ManualClock(datetime.datetime(2026, 11, 23, 9, tzinfo=datetime.timezone.utc))
    with acm.Engine.open(database="cases.db", clock=clock) as engine:
        engine.load_definitions(acm.Actor("root", ["admin"]), "helpdesk.json")
        case_id = engine.create_case("alice", type="complaint", title="Laptop does not boot")
        print(engine.get_case(case_id)["goals"])
"""

from __future__ import annotations

from . import _acm

__version__: str = _acm.__version__
"""The library version (``project(VERSION)`` in CMakeLists.txt), e.g. ``"0.1.0"``."""


class Error(Exception):
    """Base class of every error the engine raises.

    ``code`` is the stable name of the C++ ``acm::ErrorCode`` (e.g. ``"not_found"``),
    ``message`` the engine's explanation (also ``str(error)``).
    """

    code: str | None = None
    code_value: int = 0

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message = message


class InvalidArgument(Error, ValueError):
    """A malformed value, path or parameter (``invalid_argument``)."""

    code, code_value = "invalid_argument", 1


class InvalidDefinition(Error, ValueError):
    """A definition failed validation (``invalid_definition``); see ``problems``."""

    code, code_value = "invalid_definition", 2

    @property
    def problems(self) -> list[dict[str, str]]:
        """Every problem as ``{"path": JSON pointer, "message": ...}`` (parsed from the message)."""
        out = []
        for line in self.message.splitlines()[1:]:
            if not line.startswith("  "):
                continue
            path, _, text = line.strip().partition(": ")
            out.append({"path": "" if path == "(document)" else path, "message": text})
        return out


class ParseError(Error, ValueError):
    """An expression, time, duration or document did not parse (``parse_error``)."""

    code, code_value = "parse_error", 3


class NotFound(Error, LookupError):
    """Unknown case, goal, plan item, definition or handler (``not_found``)."""

    code, code_value = "not_found", 4


class AlreadyExists(Error):
    """An id that must be new is taken (``already_exists``)."""

    code, code_value = "already_exists", 5


class PermissionDenied(Error):
    """The actor may not run this command (``permission_denied``)."""

    code, code_value = "permission_denied", 6


class InvalidState(Error):
    """The command does not apply in the current state (``invalid_state``); also a closed engine."""

    code, code_value = "invalid_state", 7


class Cycle(Error):
    """The change would create a dependency cycle (``cycle``)."""

    code, code_value = "cycle", 8


class Conflict(Error):
    """Optimistic concurrency: the case was not at the expected version (``conflict``)."""

    code, code_value = "conflict", 9


class StorageError(Error):
    """The store failed: I/O, corrupt or foreign file, locked (``storage``)."""

    code, code_value = "storage", 10


class InternalError(Error):
    """A bug in acm (``internal``)."""

    code, code_value = "internal", 11


ERRORS: dict[str, type[Error]] = {
    str(cls.code): cls
    for cls in (InvalidArgument, InvalidDefinition, ParseError, NotFound, AlreadyExists,
                PermissionDenied, InvalidState, Cycle, Conflict, StorageError, InternalError)
}
"""Exception class by error code name."""

_acm._set_error_classes({cls.code_value: cls for cls in ERRORS.values()})

from ._acm import (  # noqa: E402  (after the error classes are installed)
    Actor,
    BusinessCalendar,
    Clock,
    Engine,
    Learner,
    ManualClock,
    SystemClock,
    TaskContext,
    evaluate,
    format_duration,
    format_time,
    import_csv,
    import_xes,
    learn_from_engine,
    learn_on_close,
    load_template,
    parse_definitions,
    parse_duration,
    parse_time,
    save_template,
)

__all__ = [
    "Actor", "BusinessCalendar", "Clock", "Engine", "Learner", "ManualClock", "SystemClock", "TaskContext",
    "evaluate", "format_duration", "format_time", "import_csv", "import_xes", "learn_from_engine",
    "learn_on_close", "load_template", "parse_definitions", "parse_duration", "parse_time", "save_template",
    "Error", "ERRORS", "InvalidArgument", "InvalidDefinition", "ParseError", "NotFound",
    "AlreadyExists", "PermissionDenied", "InvalidState", "Cycle", "Conflict", "StorageError",
    "InternalError", "__version__",
]

# Values the engine returns: dicts with to_json() (docs/json.md). Imported after _acm is set up.
from ._values import *  # noqa: E402,F401,F403
from ._values import __all__ as _value_names  # noqa: E402

from ._acm import Intake, Router  # noqa: E402  (help desk: docs/helpdesk.md)

__all__ += _value_names + ["Intake", "Router"]
