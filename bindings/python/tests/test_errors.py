# SPDX-License-Identifier: Apache-2.0
"""One exception class per acm::ErrorCode, each raised by real bad input."""

import pytest

import acm
from conftest import DEFINITIONS


def test_hierarchy():
    assert set(acm.ERRORS) == {
        "invalid_argument", "invalid_definition", "parse_error", "not_found", "already_exists",
        "permission_denied", "invalid_state", "cycle", "conflict", "storage", "internal"}
    for code, cls in acm.ERRORS.items():
        assert issubclass(cls, acm.Error) and cls.code == code
    assert issubclass(acm.NotFound, LookupError)
    assert issubclass(acm.InvalidArgument, ValueError)
    # Hosts may raise them too (e.g. from a handler).
    e = acm.Conflict("mine")
    assert e.code == "conflict" and e.message == "mine" and str(e) == "mine"


def test_unknown_case(helpdesk, admin):
    with pytest.raises(acm.NotFound, match="no case 'ghost'") as info:
        helpdesk.get_case("ghost")
    assert info.value.code == "not_found" and "ghost" in info.value.message
    with pytest.raises(acm.NotFound):
        helpdesk.complete_item(admin, "ghost", "x")
    case_id = helpdesk.create_case(admin, type="complaint")
    with pytest.raises(acm.NotFound):
        helpdesk.start_item(admin, case_id, "no-such-item")
    with pytest.raises(acm.NotFound):
        helpdesk.get_fragment("no-such-fragment")


def test_malformed_definitions(engine, admin):
    with pytest.raises(acm.InvalidDefinition) as info:
        engine.load_definitions(admin, DEFINITIONS / "invalid.json")
    problems = info.value.problems
    assert len(problems) > 5
    assert all(p["path"].startswith("/") and p["message"] for p in problems)
    assert info.value.code == "invalid_definition"
    with pytest.raises(acm.InvalidDefinition):
        acm.parse_definitions({"id": "f", "items": [{"id": "a", "kind": "human"}]})
    with pytest.raises(acm.ParseError):
        engine.load_definitions(admin, '{"fragments": [')
    with pytest.raises(FileNotFoundError):
        engine.load_definitions(admin, "/no/such/definitions.json")
    with pytest.raises(TypeError):
        engine.load_definitions(admin, 42)
    assert engine.list_fragments() == []  # all or nothing


def test_refused_permission(helpdesk, admin):
    with pytest.raises(acm.PermissionDenied) as info:
        helpdesk.load_definitions("mallory", {"id": "f", "items": [{"id": "a", "kind": "human_task"}]})
    assert info.value.code == "permission_denied"
    case_id = helpdesk.create_case("alice", type="complaint")
    with pytest.raises(acm.PermissionDenied):
        helpdesk.get_case(case_id, by="mallory")
    assert helpdesk.get_case(case_id, by="alice")["id"] == case_id
    for query in (helpdesk.history, helpdesk.applicable_fragments, helpdesk.explain_priority):
        with pytest.raises(acm.PermissionDenied):
            query(case_id, by="mallory")
        assert query(case_id, by="alice") == query(case_id)
    with pytest.raises(acm.PermissionDenied):
        helpdesk.set_priority("mallory", case_id, 9)



def test_every_read_takes_by(helpdesk, admin):
    """Every read of case data takes by=actor (C++ engine.as(actor)): one case is refused, lists
    keep the cases the actor may view and page over them."""
    mine = [helpdesk.create_case(admin, type="complaint", owner="alice", subject={"customer": "ann"}),
            helpdesk.create_case(admin, type="complaint", owner="bob", subject={"customer": "ann"}),
            helpdesk.create_case(admin, type="complaint", owner="alice", subject={"customer": "ann"})]
    alices = [mine[0], mine[2]]
    with pytest.raises(acm.PermissionDenied):
        helpdesk.find_case(mine[1], by="alice")
    with pytest.raises(acm.PermissionDenied):
        helpdesk.inspect(mine[1], by="alice")
    assert helpdesk.find_case("ghost", by="alice") is None
    assert helpdesk.find_case(mine[0], by="alice")["id"] == mine[0]
    assert helpdesk.inspect(mine[0], by="alice") == helpdesk.inspect(mine[0])
    assert helpdesk.list_cases(by="alice") == alices
    assert helpdesk.list_cases(1, alices[0], by="alice") == [alices[1]]
    assert helpdesk.list_cases(by=admin) == helpdesk.list_cases() == mine
    page = helpdesk.find_cases(by="alice")
    assert page["total"] == 2 and [c["id"] for c in page["cases"]] == alices[::-1]
    assert helpdesk.queue_page(by="alice")["total"] == 2
    assert {w["case_id"] for w in helpdesk.queue(by="alice")} == set(alices)
    assert helpdesk.queue_page(limit=1, offset=1, by="alice")["items"][0]["case_id"] in alices
    assert helpdesk.open_cases_of("ann", by="alice") == alices[::-1]
    assert helpdesk.open_cases_of("ann", by="mallory") == []


def test_version_conflict(helpdesk, admin):
    case_id = helpdesk.create_case(admin, type="complaint")
    version = helpdesk.get_case(case_id)["version"]
    helpdesk.set_file(admin, case_id, "a", 1, expected_version=version)
    with pytest.raises(acm.Conflict) as info:
        helpdesk.set_file(admin, case_id, "a", 2, expected_version=version)
    assert info.value.code == "conflict"
    assert helpdesk.get_case(case_id)["file"]["a"] == 1


def test_idempotency_key(helpdesk, admin):
    first = helpdesk.create_case(admin, type="complaint", idempotency_key="msg-1")
    assert helpdesk.create_case(admin, type="complaint", idempotency_key="msg-1") == first
    r1 = helpdesk.set_file(admin, first, "x", 1, idempotency_key="set-1")
    r2 = helpdesk.set_file(admin, first, "x", 1, idempotency_key="set-1")
    assert r1["version"] == r2["version"]


def test_other_codes(helpdesk, admin, tmp_path):
    case_id = helpdesk.create_case(admin, type="complaint", id="c1")
    with pytest.raises(acm.AlreadyExists):
        helpdesk.create_case(admin, id="c1")
    a = helpdesk.add_task(admin, case_id, "first", manual=True)
    b = helpdesk.add_task(admin, case_id, "second", manual=True, after=[a])
    with pytest.raises(acm.Cycle):
        helpdesk.add_dependency(admin, case_id, a, b)
    with pytest.raises(acm.InvalidState):
        helpdesk.complete_item(admin, case_id, a)  # enabled, not active
    with pytest.raises(acm.InvalidArgument):
        helpdesk.queue(limit=10001)
    with pytest.raises(acm.InvalidArgument):
        acm.Engine.open(durability="sometimes")
    with pytest.raises(acm.InvalidArgument):
        acm.Engine.open(timer_batch=0)
    with pytest.raises(acm.InvalidArgument, match="at least 1024"):
        acm.Engine.open(max_payload_bytes=100)
    with pytest.raises(acm.InvalidArgument):
        helpdesk.add_task(admin, case_id, "x", kind="stage")
    with pytest.raises(acm.ParseError):
        helpdesk.add_goal(admin, case_id, {"id": "g", "criterion": "file.x =="})
    foreign = tmp_path / "not-a-store.db"
    foreign.write_bytes(b"this is not an SQLite database, not at all" * 100)
    with pytest.raises(acm.StorageError) as info:
        acm.Engine.open(database=foreign)
    assert info.value.code == "storage"


def test_closed_engine(clock, admin):
    engine = acm.Engine.open(clock=clock)
    engine.create_case(admin)
    engine.close()
    engine.close()  # idempotent
    assert engine.closed
    with pytest.raises(acm.InvalidState, match="closed"):
        engine.list_cases()


def test_payload_limit(clock, admin, tmp_path):
    db = tmp_path / "limits.db"
    with acm.Engine.open(database=db, clock=clock, max_payload_bytes=4096) as engine:
        case_id = engine.create_case(admin)
        engine.set_file(admin, case_id, "note", "y" * 3000)
        before = engine.inspect(case_id)
        with pytest.raises(acm.InvalidArgument, match="the value for 'big' is larger than 4096 bytes"):
            engine.set_file(admin, case_id, "big", "x" * 5000)
        assert engine.inspect(case_id) == before
    with acm.Engine.open(database=db, clock=clock) as engine:
        assert engine.inspect(case_id) == before
