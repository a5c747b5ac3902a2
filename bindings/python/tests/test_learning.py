# SPDX-License-Identifier: Apache-2.0
"""Learning through the binding: the help-desk log imported, trained, recommending, saved and
loaded, stored as a template, and the published evaluation protocol."""

import datetime as dt
import os
import pathlib

import pytest

import acm

UTC = dt.timezone.utc
DATA_DIR = pathlib.Path(os.environ.get("ACM_DATA_DIR", "/work/shared/data"))
TAX = DATA_DIR / "helpdesk" / "helpdesk_tax2017.csv"
MAPPING = {"case_id": "CaseID", "activity": "ActivityID", "timestamp": "CompleteTimestamp"}
# No skip when the log is missing: these tests are the binding's learning checks, so a missing
# data set fails them (acm.NotFound from the import).


@pytest.fixture(scope="module")
def traces():
    out = []
    seen = []
    report = acm.import_csv(TAX, mapping=MAPPING, on_case=out.append, progress=seen.append)
    assert report["cases"] == 3804
    assert report["events"] == 13710
    assert report["skipped_rows"] == 0
    assert seen and seen[-1]["cases"] == 3804 and seen[-1]["bytes_read"] == seen[-1]["bytes_total"]
    return out


@pytest.fixture(scope="module")
def learner(traces):
    learner = acm.Learner(next_rounds=30, time_rounds=30)
    for t in traces:
        learner.add(t)
    learner.train()
    return learner


def running(trace, k):
    return {"id": trace["id"], "steps": trace["steps"][:k]}


def test_imported_cases_are_trace_dicts(traces):
    first = traces[0]
    assert first["id"] == "2"
    assert first["case_type"] == ""
    assert [s["activity"] for s in first["steps"]][:2] == ["1", "8"]
    assert first["steps"][0]["time"] == dt.datetime(2012, 4, 3, 16, 55, 38, tzinfo=UTC)
    assert first["steps"][0]["ad_hoc"] is False


def test_train_and_recommend(learner, traces):
    stats = learner.stats()
    assert stats["traces"] == 3804
    assert stats["trained_on"] == 3804
    assert stats["activities"] == 9
    assert learner.options["next_rounds"] == 30

    trace = traces[-1]
    steps = learner.next_steps(running(trace, 2), limit=4)
    assert 1 <= len(steps) <= 4
    probabilities = [s["probability"] for s in steps]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1.0 + 1e-9
    assert steps[0]["support"] > 0
    assert steps[0]["evidence"] and {"feature", "value", "weight", "text"} <= set(steps[0]["evidence"][0])
    assert "similar past cases" in steps[0]["evidence"][0]["text"]
    assert all(s["activity"] != "" for s in learner.next_steps(running(trace, 2), include_end=False))

    now = trace["steps"][1]["time"] + dt.timedelta(hours=1)
    c = learner.completion(running(trace, 2), now=now)
    assert c["remaining"] > dt.timedelta(0)
    assert c["expected"] >= now
    assert [q for q, _ in c["quantiles"]] == [0.1, 0.5, 0.9]
    assert c["quantiles"][0][1] <= c["quantiles"][2][1]

    plans = learner.suggest_plan()
    assert plans and plans[0]["support"] > 0 and plans[0]["steps"]
    assert learner.fragment_proposals() == []  # an imported log has no ad-hoc tasks


def test_bad_traces_and_options_are_refused():
    learner = acm.Learner()
    with pytest.raises(acm.InvalidArgument):
        learner.train()  # no traces
    with pytest.raises(TypeError, match="activity"):
        learner.add({"id": "x", "steps": [{"time": dt.datetime(2026, 1, 1, tzinfo=UTC)}]})
    with pytest.raises(acm.InvalidArgument, match="naive"):
        learner.add({"id": "x", "steps": [{"activity": "a", "time": dt.datetime(2026, 1, 1)}]})
    with pytest.raises(TypeError, match="bogus"):
        learner.add({"id": "x", "bogus": 1})
    with pytest.raises(TypeError, match="next_rounds"):
        acm.Learner(next_rounds="many")
    with pytest.raises(TypeError, match="nope"):
        acm.Learner({"nope": 1})


def test_newer_learner_options_are_taken_and_checked():
    options = {"time_min_leaf_share": 0.0, "recency_half_life_days": 30.0, "context_order": 2,
               "context_min_support": 4, "recent_cases": 0, "recent_times": 0}
    learner = acm.Learner(options)
    for key, value in options.items():
        assert learner.options[key] == value
    defaults = acm.Learner().options
    assert defaults["recent_times"] == 25 and defaults["context_order"] == 5
    with pytest.raises(acm.InvalidArgument, match="context_order"):
        acm.Learner(context_order=0)
    with pytest.raises(acm.InvalidArgument, match="time_min_leaf_share"):
        acm.Learner(time_min_leaf_share=1.5)
    with pytest.raises(acm.InvalidArgument, match="recency_half_life_days"):
        acm.Learner(recency_half_life_days=-1.0)
    with pytest.raises(TypeError, match="recent_times"):
        acm.Learner(recent_times="many")


def test_save_load_round_trip_and_damage(learner, traces, tmp_path):
    data = learner.save()
    assert isinstance(data, bytes) and data[:8] == b"ACMLRN01"
    back = acm.Learner.load(data)
    probe = running(traces[-5], 3)
    assert back.stats() == learner.stats()
    assert back.next_steps(probe) == learner.next_steps(probe)

    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0x5A
    with pytest.raises(acm.StorageError, match="checksum"):
        acm.Learner.load(bytes(damaged))
    with pytest.raises(acm.StorageError, match="truncated"):
        acm.Learner.load(data[:-7])
    with pytest.raises(acm.StorageError, match="bad magic"):
        acm.Learner.load(b"SQLite format 3\0 and more bytes here")

    path = tmp_path / "helpdesk.acmt"
    learner.export_file(path)
    again = acm.Learner.import_file(path)
    assert again.next_steps(probe) == learner.next_steps(probe)


def test_templates_in_the_store(learner, traces, engine):
    assert acm.save_template(engine, "helpdesk", learner) == 1
    assert acm.save_template(engine, "helpdesk", learner) == 2
    infos = engine.list_templates()
    assert [(i["name"], i["version"], i["kind"]) for i in infos] == [("helpdesk", 1, "learner"), ("helpdesk", 2, "learner")]
    assert infos[0]["meta"]["traces"] == 3804
    probe = running(traces[0], 2)
    assert acm.load_template(engine, "helpdesk", 1).next_steps(probe) == learner.next_steps(probe)
    info, data = engine.get_template("helpdesk")
    assert info["version"] == 2 and data == learner.save()
    with pytest.raises(acm.NotFound):
        acm.load_template(engine, "nope")
    # A damaged template is refused, not half-read.
    assert engine.put_template("broken", "learner", {"note": "damaged"}, data[: len(data) // 2]) == 1
    with pytest.raises(acm.StorageError):
        acm.load_template(engine, "broken")


def test_import_log_into_a_learner_and_errors(tmp_path):
    learner = acm.Learner()
    report = learner.import_log(TAX, mapping=MAPPING)
    assert report["cases"] == 3804 and learner.stats()["traces"] == 3804
    guessed = acm.Learner().import_log(TAX)  # mapping guessed from the header
    assert guessed["cases"] == 3804
    with pytest.raises(acm.NotFound):
        acm.import_csv(tmp_path / "missing.csv", mapping=MAPPING)
    with pytest.raises(acm.InvalidArgument, match="Nope"):
        acm.import_csv(TAX, mapping={**MAPPING, "case_id": "Nope"})
    bad = tmp_path / "bad.csv"
    bad.write_text("CaseID,ActivityID,CompleteTimestamp\n1,a,2012-01-01 10:00:00\n1,b,not a time\n")
    report = acm.import_csv(bad, mapping=MAPPING)
    assert report["skipped_rows"] == 1 and report["problems"][0]["line"] == 3
    with pytest.raises(acm.ParseError):
        acm.import_csv(bad, mapping=MAPPING, stop_on_error=True)

    class Stop(Exception):
        pass

    def on_case(case):
        raise Stop(case["id"])

    with pytest.raises(Stop):
        acm.import_csv(TAX, mapping=MAPPING, on_case=on_case)


def test_learn_on_close_and_from_engine(engine, admin):
    learner = acm.Learner()
    sub = acm.learn_on_close(engine, learner)
    for n in range(3):
        c = engine.create_case(admin, title=f"c{n}")
        for name in ("call customer", "write summary"):
            engine.complete_item(admin, c, engine.add_task(admin, c, name))
        if engine.get_case(c)["status"] == "active":
            engine.complete_case(admin, c)
    assert learner.stats()["traces"] == 3
    engine.unsubscribe(sub)
    other = acm.Learner()
    assert acm.learn_from_engine(engine, other) == 3
    assert other.stats()["steps"] == learner.stats()["steps"] == 6
    # The recurring ad-hoc pair is proposed as a fragment, with its definition.
    proposals = learner.fragment_proposals()
    assert len(proposals) == 1
    p = proposals[0]
    assert sorted(p["tasks"]) == ["call customer", "write summary"]
    assert len(p["cases"]) == 3
    assert p["definition"]["id"] == p["id"]
    engine.register_fragment(admin, p["definition"])
    assert engine.get_fragment(p["id"])["id"] == p["id"]


def test_the_published_protocol(traces):
    result = acm.evaluate(traces)
    print(f"evaluation through Python: accuracy {result['accuracy']:.4f}, MAE {result['mae_days']:.3f} days")
    assert result["test_cases"] == 1268
    assert len(result["points"]) == 1993
    # "The case ends" is a candidate (a miss at every point), no absolute date.
    assert result["accuracy"] >= 0.74
    assert result["baselines"]["markov-1"] == pytest.approx(0.6954, abs=0.001)
    assert result["accuracy"] >= result["baselines"]["markov-1"] + 0.04
    assert 0 <= result["mae_days"] <= 6.2
    markov_hits = sum(p["markov_next"] == p["actual_next"] for p in result["points"])
    assert markov_hits / len(result["points"]) == pytest.approx(result["baselines"]["markov-1"])
    hits = sum(p["actual_next"] == p["predicted_next"] for p in result["points"])
    assert hits / len(result["points"]) == pytest.approx(result["accuracy"])
