# SPDX-License-Identifier: Apache-2.0
"""CMMN XML models through the Python binding: load_definitions detects them, cmmn_import maps them."""

import pytest

import acm

MODEL = """<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" xmlns:flowable="http://flowable.org/cmmn">
  <case id="py_case">
    <casePlanModel id="py_plan">
      <planItem id="A" definitionRef="h" />
      <planItem id="B" definitionRef="h"><entryCriterion sentryRef="s" /></planItem>
      <sentry id="s"><planItemOnPart sourceRef="A"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
      <humanTask id="h" flowable:formKey="f" />
    </casePlanModel>
  </case>
</definitions>
"""


def test_cmmn_import_maps_the_model():
    r = acm.cmmn_import(MODEL)
    assert r["cases"][0]["case_type"] == "py_case"
    assert r["cases"][0]["items"]["B"] == ["B"]
    plan = r["definitions"]["fragments"][0]
    assert plan["semantics"] == "cmmn"
    assert plan["items"][1]["entry"][0]["on"] == [{"item": "A", "on": "complete"}]
    assert any("flowable:formKey" in w["message"] for w in r["warnings"])


def test_load_definitions_accepts_cmmn_text_and_paths(engine, admin, tmp_path):
    engine.load_definitions(admin, MODEL)
    assert engine.get_case_type("py_case")["semantics"] == "cmmn"
    path = tmp_path / "model.cmmn"
    path.write_text(MODEL.replace("py_case", "py_case2").replace("py_plan", "py_plan2"))
    engine.load_definitions(admin, path)
    assert engine.get_case_type("py_case2")["semantics"] == "cmmn"


def test_cmmn_errors_have_positions(engine, admin):
    with pytest.raises(acm.ParseError, match="line 2"):
        acm.cmmn_import('<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL">\n<case>')
    with pytest.raises(acm.InvalidDefinition, match="process task"):
        engine.load_definitions(admin, MODEL.replace('<humanTask id="h"', '<processTask id="h"'))
    with pytest.raises(acm.NotFound):
        engine.get_case_type("py_case")  # nothing registered


PLANNED = """<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" xmlns:flowable="http://flowable.org/cmmn">
  <case id="py_planned">
    <caseRoles><role id="r1" name="lead"/></caseRoles>
    <casePlanModel id="py_pplan">
      <planItem id="A" definitionRef="ta" />
      <planItem id="S" definitionRef="st"><entryCriterion sentryRef="s" /></planItem>
      <sentry id="s"><planItemOnPart sourceRef="A"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
      <humanTask id="ta" flowable:assignee="ann" flowable:candidateUsers="ann,bob" />
      <stage id="st">
        <planItem id="B" definitionRef="tb" />
        <planningTable id="pt"><discretionaryItem id="D" definitionRef="td" authorizedRoleRefs="r1" /></planningTable>
        <humanTask id="tb" />
      </stage>
      <humanTask id="td" />
    </casePlanModel>
  </case>
</definitions>
"""


def test_imported_rights_and_planning_table(engine, admin):
    engine.load_definitions(admin, PLANNED)
    case_id = engine.create_case(admin, type="py_planned", owner="owner",
                                 participants=[("ann", ["lead"]), ("bob", ["lead"]), ("dan", [])])
    items = {i["id"]: i for i in engine.get_case(case_id)["items"]}
    assert items["py_pplan#1/A"]["assignee"] == "ann"
    with pytest.raises(acm.PermissionDenied):
        engine.complete_item("dan", case_id, "py_pplan#1/A")
    with pytest.raises(acm.InvalidState, match="no active instance"):
        engine.add_fragment("ann", case_id, "D")
    engine.complete_item("ann", case_id, "py_pplan#1/A")
    with pytest.raises(acm.PermissionDenied, match="authorized"):
        engine.add_fragment("dan", case_id, "D")
    assert engine.add_fragment("bob", case_id, "D", stage="py_pplan#1/S") == "D#1"
    items = {i["id"]: i for i in engine.get_case(case_id)["items"]}
    assert items["D#1"]["parent"] == "py_pplan#1/S"
