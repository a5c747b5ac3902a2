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
