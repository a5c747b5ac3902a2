// SPDX-License-Identifier: Apache-2.0
// bindings/python/src/learn.cpp - learning, event-log import and business calendars.
//
// Long computations (train, evaluate, imports into a learner) run with the GIL released; Python
// callbacks of an import (on_case, progress) take it back for each call.
#include "learn.hpp"

#include "views.hpp"

#include <acm/eventlog.hpp>

namespace acm::python {

namespace {

using namespace pybind11::literals;
using learn::Learner;

std::string type_name(py::handle v) { return py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>(); }

std::string attribute_text(py::handle v) {
  if (PyUnicode_Check(v.ptr())) return v.cast<std::string>();
  Json j = to_json(v);
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number() || j.is_boolean()) return j.dump();
  throw py::type_error("attribute values must be str, int, float or bool, not " + type_name(v));
}

/// {"k": v} or [(k, v), ...].
learn::Attributes to_attributes(py::handle a) {
  learn::Attributes out;
  if (a.is_none()) return out;
  if (PyDict_Check(a.ptr())) {
    for (auto item : py::reinterpret_borrow<py::dict>(a))
      out.emplace_back(py::str(item.first).cast<std::string>(), attribute_text(item.second));
    return out;
  }
  if (!PyList_Check(a.ptr()) && !PyTuple_Check(a.ptr()))
    throw py::type_error("attributes must be a dict or a list of (name, value) pairs, not " + type_name(a));
  for (auto pair : py::reinterpret_borrow<py::sequence>(a)) {
    auto p = py::reinterpret_borrow<py::sequence>(pair);
    if (p.size() != 2) throw py::type_error("attributes must be (name, value) pairs");
    out.emplace_back(p[0].cast<std::string>(), attribute_text(p[1]));
  }
  return out;
}

py::dict from_attributes(const learn::Attributes& a) {
  py::dict d;
  for (const auto& [k, v] : a) d[py::str(k)] = v;
  return d;
}

learn::Trace to_trace(py::handle t) {
  learn::Trace out;
  Fields f(t, "trace");
  f.str("id", out.id);
  f.str("case_type", out.case_type);
  out.attributes = to_attributes(f.get("attributes"));
  py::object steps = f.get("steps");
  f.finish();
  if (steps.is_none()) return out;
  for (auto s : steps) {
    learn::Step step;
    Fields sf(s, "trace step");
    if (!sf.has("activity")) throw py::type_error("trace step: 'activity' is required");
    if (!sf.has("time")) throw py::type_error("trace step: 'time' is required");
    sf.str("activity", step.activity);
    step.time = to_time(sf.get("time"));
    sf.str("resource", step.resource);
    sf.flag("ad_hoc", step.ad_hoc);
    step.attributes = to_attributes(sf.get("attributes"));
    sf.finish();
    out.steps.push_back(std::move(step));
  }
  return out;
}

std::vector<learn::Trace> to_traces(py::handle traces) {
  std::vector<learn::Trace> out;
  for (auto t : traces) out.push_back(to_trace(t));
  return out;
}

py::dict from_trace(const learn::Trace& t) {
  py::list steps;
  for (const auto& s : t.steps) {
    py::dict d;
    d["activity"] = s.activity;
    d["time"] = from_time(s.time);
    d["resource"] = s.resource;
    d["ad_hoc"] = s.ad_hoc;
    d["attributes"] = from_attributes(s.attributes);
    steps.append(d);
  }
  py::dict d;
  d["id"] = t.id;
  d["case_type"] = t.case_type;
  d["attributes"] = from_attributes(t.attributes);
  d["steps"] = steps;
  return d;
}

learn::Trace trace_of(eventlog::LogCase&& c) {
  learn::Trace t;
  t.id = std::move(c.id);
  t.attributes = std::move(c.attributes);
  t.steps.reserve(c.events.size());
  for (auto& e : c.events)
    t.steps.push_back(learn::Step{std::move(e.activity), e.time, std::move(e.resource), false, std::move(e.attributes)});
  return t;
}

template <class T>
void number_field(Fields& f, const char* key, T& out) {
  py::object v = f.get(key);
  if (v.is_none()) return;
  if (PyBool_Check(v.ptr())) throw py::type_error(std::string("learner options: '") + key + "' must be a number");
  try {
    out = v.cast<T>();
  } catch (const py::cast_error&) {
    throw py::type_error(std::string("learner options: '") + key + "' must be a number, not " + type_name(v));
  }
}

learn::LearnerOptions to_options(py::handle options) {
  learn::LearnerOptions o;
  Fields f(options, "learner options");
  number_field(f, "next_rounds", o.next_rounds);
  number_field(f, "next_depth", o.next_depth);
  number_field(f, "next_eta", o.next_eta);
  number_field(f, "time_rounds", o.time_rounds);
  number_field(f, "time_depth", o.time_depth);
  number_field(f, "time_eta", o.time_eta);
  py::object q = f.get("quantiles");
  if (!q.is_none()) o.quantiles = q.cast<std::vector<double>>();
  if (f.has("attributes")) f.strings("attributes", o.attributes);
  f.flag("calendar_time", o.calendar_time);
  number_field(f, "min_value_count", o.min_value_count);
  number_field(f, "retrain_every", o.retrain_every);
  number_field(f, "max_traces", o.max_traces);
  number_field(f, "capture_min_cases", o.capture_min_cases);
  number_field(f, "capture_max_tasks", o.capture_max_tasks);
  number_field(f, "time_min_leaf_share", o.time_min_leaf_share);
  number_field(f, "recency_half_life_days", o.recency_half_life_days);
  number_field(f, "context_order", o.context_order);
  number_field(f, "context_min_support", o.context_min_support);
  number_field(f, "recent_cases", o.recent_cases);
  number_field(f, "recent_times", o.recent_times);
  f.finish();
  return o;
}

/// options dict merged with keyword arguments.
learn::LearnerOptions to_options(py::handle options, const py::kwargs& kw) {
  py::dict all;
  if (!options.is_none()) {
    if (!PyDict_Check(options.ptr())) throw py::type_error("options must be a dict, not " + type_name(options));
    for (auto item : py::reinterpret_borrow<py::dict>(options)) all[item.first] = item.second;
  }
  for (auto item : kw) all[item.first] = item.second;
  return to_options(all);
}

py::dict from_options(const learn::LearnerOptions& o) {
  py::dict d;
  d["next_rounds"] = o.next_rounds;
  d["next_depth"] = o.next_depth;
  d["next_eta"] = o.next_eta;
  d["time_rounds"] = o.time_rounds;
  d["time_depth"] = o.time_depth;
  d["time_eta"] = o.time_eta;
  d["quantiles"] = o.quantiles;
  d["attributes"] = o.attributes;
  d["calendar_time"] = o.calendar_time;
  d["min_value_count"] = o.min_value_count;
  d["retrain_every"] = o.retrain_every;
  d["max_traces"] = o.max_traces;
  d["capture_min_cases"] = o.capture_min_cases;
  d["capture_max_tasks"] = o.capture_max_tasks;
  d["time_min_leaf_share"] = o.time_min_leaf_share;
  d["recency_half_life_days"] = o.recency_half_life_days;
  d["context_order"] = o.context_order;
  d["context_min_support"] = o.context_min_support;
  d["recent_cases"] = o.recent_cases;
  d["recent_times"] = o.recent_times;
  return d;
}

py::list from_evidence(const std::vector<learn::Evidence>& ev) {
  py::list out;
  for (const auto& e : ev) {
    py::dict d;
    d["feature"] = e.feature;
    d["value"] = e.value;
    d["weight"] = e.weight;
    d["text"] = e.text;
    out.append(d);
  }
  return out;
}

eventlog::CsvMapping to_mapping(py::handle mapping, const std::string& path) {
  if (mapping.is_none()) {
    py::gil_scoped_release release;
    return eventlog::guess_mapping(eventlog::read_csv_header(path));
  }
  eventlog::CsvMapping m;
  Fields f(mapping, "mapping");
  for (const char* key : {"case_id", "activity", "timestamp"})
    if (!f.has(key)) throw py::type_error(std::string("mapping: '") + key + "' is required");
  f.str("case_id", m.case_id);
  f.str("activity", m.activity);
  f.str("timestamp", m.timestamp);
  f.str("resource", m.resource);
  f.strings("case_attributes", m.case_attributes);
  f.strings("event_attributes", m.event_attributes);
  f.str("timestamp_format", m.timestamp_format);
  f.str("time_zone", m.time_zone);
  std::string delimiter(1, m.delimiter);
  f.str("delimiter", delimiter);
  if (delimiter.size() != 1) throw Error(ErrorCode::invalid_argument, "mapping: 'delimiter' must be one character");
  m.delimiter = delimiter[0];
  f.finish();
  return m;
}

py::dict from_report(const eventlog::ImportReport& r) {
  py::dict d;
  d["rows"] = r.rows;
  d["events"] = r.events;
  d["cases"] = r.cases;
  d["skipped_rows"] = r.skipped_rows;
  d["skipped_cases"] = r.skipped_cases;
  d["reappeared_runs"] = r.reappeared_runs;
  py::list problems;
  for (const auto& p : r.problems) {
    py::dict x;
    x["line"] = p.line;
    x["message"] = p.message;
    problems.append(x);
  }
  d["problems"] = problems;
  d["problems_total"] = r.problems_total;
  return d;
}

std::string path_text(py::handle path) {
  return py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>();
}

/// Import options: stop_on_error and a progress callable (called with the GIL taken).
eventlog::ImportOptions import_options(bool stop_on_error, py::object progress) {
  eventlog::ImportOptions o;
  o.on_bad_row = stop_on_error ? eventlog::OnBadRow::stop : eventlog::OnBadRow::skip;
  if (!progress.is_none()) {
    if (!PyCallable_Check(progress.ptr())) throw py::type_error("progress must be callable");
    auto cb = std::make_shared<py::object>(std::move(progress));
    o.progress = [cb](const eventlog::ImportProgress& p) {
      py::gil_scoped_acquire gil;
      py::dict d;
      d["bytes_read"] = p.bytes_read;
      d["bytes_total"] = p.bytes_total;
      d["rows"] = p.rows;
      d["cases"] = p.cases;
      (*cb)(d);
    };
  }
  return o;
}

bool is_xes(const std::string& path, const std::string& format) {
  if (!format.empty()) {
    if (format == "xes") return true;
    if (format == "csv") return false;
    throw Error(ErrorCode::invalid_argument, "format must be \"csv\" or \"xes\", not \"" + format + "\"");
  }
  auto ends = [&](std::string_view s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".xes") || ends(".xes.gz") || ends(".XES") || ends(".XES.GZ");
}

/// Runs an import with the GIL released; `sink` is called without the GIL.
py::dict run_import(const std::string& path, const std::string& format, py::handle mapping, bool stop_on_error,
                    py::object progress, const eventlog::CaseSink& sink) {
  bool xes = is_xes(path, format);
  if (xes && !mapping.is_none()) throw Error(ErrorCode::invalid_argument, "an XES log takes no mapping");
  std::optional<eventlog::CsvMapping> m;
  if (!xes) m = to_mapping(mapping, path);
  eventlog::ImportOptions options = import_options(stop_on_error, std::move(progress));
  eventlog::ImportReport report;
  {
    py::gil_scoped_release release;
    report = xes ? eventlog::import_xes(path, sink, options) : eventlog::import_csv(path, *m, sink, options);
  }
  // The progress callable goes with the GIL held.
  options.progress = nullptr;
  return from_report(report);
}

py::object bytes_of(const std::string& s) { return py::bytes(s.data(), s.size()); }

}  // namespace

Json json_argument(py::handle value, const char* what) {
  if (PyDict_Check(value.ptr()) || PyList_Check(value.ptr())) return to_json(value);
  if (PyUnicode_Check(value.ptr()) || PyBytes_Check(value.ptr())) {
    return parse_json(value.cast<std::string>(), what);
  }
  throw py::type_error(std::string(what) + " must be a dict or JSON text, not " + type_name(value));
}

void bind_learning(py::module_& m) {
  // ---- calendars ----
  py::class_<BusinessCalendar, std::shared_ptr<BusinessCalendar>>(
      m, "BusinessCalendar",
      "Working time by local business hours in an IANA time zone (docs/calendars.md).\n"
      "BusinessCalendar(spec): spec as a dict or JSON text, e.g. {'name': 'office', 'time_zone':\n"
      "'Europe/Rome', 'hours': {'mon': ['09:00-17:00'], ...}, 'holidays': ['2026-12-25']}.")
      .def(py::init([](py::handle spec) {
             Json j = json_argument(spec, "calendar spec");
             return std::make_shared<BusinessCalendar>(BusinessCalendar::from_json(j));
           }),
           "spec"_a)
      .def(
          "add", [](const BusinessCalendar& c, py::handle start, py::handle work) {
            return from_time(c.add(to_time(start), to_duration(work)));
          },
          "start"_a, "work"_a, "The time at which `work` (timedelta) of working time started at `start` ends.")
      .def(
          "latest_start", [](const BusinessCalendar& c, py::handle end, py::handle work) {
            return from_time(c.latest_start(to_time(end), to_duration(work)));
          },
          "end"_a, "work"_a, "The latest start from which `work` still ends by `end`.")
      .def(
          "between", [](const BusinessCalendar& c, py::handle from, py::handle to) {
            return from_duration(c.between(to_time(from), to_time(to)));
          },
          "start"_a, "end"_a, "Working time between two datetimes (negative if end < start).")
      .def(
          "is_working", [](const BusinessCalendar& c, py::handle t) { return c.is_working(to_time(t)); }, "time"_a)
      .def(
          "next_working", [](const BusinessCalendar& c, py::handle t) { return from_time(c.next_working(to_time(t))); },
          "time"_a, "The earliest working instant at or after `time`.")
      .def_property_readonly("name", &BusinessCalendar::name)
      .def_property_readonly("spec", [](const BusinessCalendar& c) { return from_json(to_json(c.spec())); })
      .def_property_readonly("week_work", [](const BusinessCalendar& c) { return from_duration(c.week_work()); })
      .def("__repr__", [](const BusinessCalendar& c) {
        return "BusinessCalendar(" + py::repr(py::str(c.name())).cast<std::string>() + ")";
      });

  // ---- learner ----
  py::class_<Learner, std::shared_ptr<Learner>> l(
      m, "Learner",
      "Learns from closed cases (traces): next steps, completion, plans, fragment proposals\n"
      "(docs/learning.md). Learner(options=None, **options): LearnerOptions fields. Thread-safe.\n"
      "A trace is {'id', 'case_type', 'attributes': {...}, 'steps': [{'activity', 'time' (datetime),\n"
      "'resource', 'ad_hoc', 'attributes'}]}.");
  l.def(py::init([](py::handle options, py::kwargs kw) { return std::make_shared<Learner>(to_options(options, kw)); }),
        "options"_a = py::none());
  l.def(
      "add",
      [](Learner& self, py::handle trace) {
        learn::Trace t = to_trace(trace);
        py::gil_scoped_release release;
        self.add(std::move(t));
      },
      "trace"_a, "Adds a closed case.");
  l.def(
      "train",
      [](Learner& self) {
        py::gil_scoped_release release;
        self.train();
      },
      "Fits the boosted models on the traces kept (InvalidArgument without traces).");
  l.def(
      "next_steps",
      [](const Learner& self, py::handle trace, std::size_t limit, bool include_end) {
        learn::Trace t = to_trace(trace);
        std::vector<learn::NextStep> steps;
        {
          py::gil_scoped_release release;
          steps = self.next_steps(t, limit, include_end);
        }
        py::list out;
        for (const auto& s : steps) {
          py::dict d;
          d["activity"] = s.activity;
          d["probability"] = s.probability;
          d["support"] = s.support;
          d["matched"] = s.matched;
          d["evidence"] = from_evidence(s.evidence);
          out.append(d);
        }
        return out;
      },
      "trace"_a, "limit"_a = 5, "include_end"_a = true,
      "Ranked next activities for a running case ('' = the case ends), best first.");
  l.def(
      "completion",
      [](const Learner& self, py::handle trace, py::handle now) {
        learn::Trace t = to_trace(trace);
        std::optional<TimePoint> n = to_optional_time(now);
        learn::Completion c;
        {
          py::gil_scoped_release release;
          c = self.completion(t, n);
        }
        py::dict d;
        d["remaining"] = from_duration(c.remaining);
        py::list q;
        for (const auto& [p, dur] : c.quantiles) q.append(py::make_tuple(p, from_duration(dur)));
        d["quantiles"] = q;
        d["expected"] = from_time(c.expected);
        d["support"] = c.support;
        d["evidence"] = from_evidence(c.evidence);
        return d;
      },
      "trace"_a, "now"_a = py::none(),
      "Predicted completion: {'remaining', 'quantiles': [(q, timedelta)], 'expected', 'support', 'evidence'}.");
  l.def(
      "suggest_plan",
      [](const Learner& self, const std::string& case_type, py::handle attributes, std::size_t limit) {
        learn::Attributes a = to_attributes(attributes);
        py::list out;
        for (const auto& p : self.suggest_plan(case_type, a, limit)) {
          py::dict d;
          d["steps"] = p.steps;
          d["support"] = p.support;
          d["share"] = p.share;
          d["median_duration"] = from_duration(p.median_duration);
          d["matched"] = from_attributes(p.matched);
          d["examples"] = p.examples;
          out.append(d);
        }
        return out;
      },
      "case_type"_a = "", "attributes"_a = py::none(), "limit"_a = 3,
      "Typical step sequences of similar past cases, most common first.");
  l.def(
      "fragment_proposals",
      [](const Learner& self) {
        py::list out;
        for (const auto& p : self.fragment_proposals()) {
          py::dict d;
          d["id"] = p.id;
          d["tasks"] = p.tasks;
          py::list order;
          for (const auto& [a, b] : p.order) order.append(py::make_tuple(a, b));
          d["order"] = order;
          py::list est;
          for (const auto& e : p.estimates) est.append(from_duration(e));
          d["estimates"] = est;
          d["cases"] = p.cases;
          d["definition"] = from_json(to_json(p.definition()));
          out.append(d);
        }
        return out;
      },
      "Recurring runs of ad-hoc tasks; 'definition' is the fragment definition dict.");
  l.def("stats", [](const Learner& self) {
    learn::LearnerStats s = self.stats();
    py::dict d;
    d["traces"] = s.traces;
    d["steps"] = s.steps;
    d["activities"] = s.activities;
    d["trained_on"] = s.trained_on;
    d["model_version"] = s.model_version;
    return d;
  });
  l.def_property_readonly("options", [](const Learner& self) { return from_options(self.options()); });
  l.def(
      "save",
      [](const Learner& self) {
        std::string bytes;
        {
          py::gil_scoped_release release;
          bytes = self.save();
        }
        return bytes_of(bytes);
      },
      "The whole learner as bytes.");
  l.def_static(
      "load",
      [](const py::bytes& data) {
        std::string bytes = data;
        py::gil_scoped_release release;
        return std::make_shared<Learner>(Learner::load(bytes));
      },
      "data"_a, "A learner from save()'s bytes; StorageError for damaged or foreign bytes.");
  l.def(
      "export_file",
      [](const Learner& self, py::handle path) {
        std::string p = path_text(path);
        py::gil_scoped_release release;
        self.export_file(p);
      },
      "path"_a);
  l.def_static(
      "import_file",
      [](py::handle path) {
        std::string p = path_text(path);
        py::gil_scoped_release release;
        return std::make_shared<Learner>(Learner::import_file(p));
      },
      "path"_a);
  l.def(
      "import_log",
      [](std::shared_ptr<Learner> self, py::handle path, py::handle mapping, const std::string& format,
         bool stop_on_error, py::object progress) {
        Learner* learner = self.get();
        return run_import(path_text(path), format, mapping, stop_on_error, std::move(progress),
                          [learner](eventlog::LogCase&& c) { learner->add(trace_of(std::move(c))); });
      },
      "path"_a, py::kw_only(), "mapping"_a = py::none(), "format"_a = "", "stop_on_error"_a = false,
      "progress"_a = py::none(),
      "Imports a CSV or XES log (format by extension unless given) straight into the learner;\n"
      "returns the import report dict. mapping: as for acm.import_csv (None: guessed).");

  // ---- evaluation and import ----
  m.def(
      "evaluate",
      [](py::handle traces, py::handle options, py::kwargs kw) {
        std::vector<learn::Trace> t = to_traces(traces);
        learn::LearnerOptions o = to_options(options, kw);
        learn::Evaluation ev;
        {
          py::gil_scoped_release release;
          ev = learn::evaluate(t, o);
        }
        py::dict d;
        d["train_cases"] = ev.train_cases;
        d["test_cases"] = ev.test_cases;
        d["accuracy"] = ev.accuracy;
        d["mae_days"] = ev.mae_days;
        d["train_seconds"] = ev.train_seconds;
        py::dict baselines;
        for (const auto& b : ev.baselines) baselines[py::str(b.name)] = b.accuracy;
        d["baselines"] = baselines;
        py::list points;
        for (const auto& p : ev.points) {
          py::dict x;
          x["case_id"] = p.case_id;
          x["prefix_length"] = p.prefix_length;
          x["actual_next"] = p.actual_next;
          x["predicted_next"] = p.predicted_next;
          x["markov_next"] = p.markov_next;
          x["vom_next"] = p.vom_next;
          x["actual_remaining_s"] = p.actual_remaining_s;
          x["predicted_remaining_s"] = p.predicted_remaining_s;
          points.append(x);
        }
        d["points"] = points;
        return d;
      },
      "traces"_a, "options"_a = py::none(),
      "The protocol of Tax et al. 2017 on traces in order: {'accuracy', 'mae_days', 'points', ...}.");

  auto importer = [](bool xes) {
    return [xes](py::handle path, py::handle mapping, py::object on_case, bool stop_on_error, py::object progress) {
      if (!on_case.is_none() && !PyCallable_Check(on_case.ptr())) throw py::type_error("on_case must be callable");
      auto cb = std::make_shared<py::object>(std::move(on_case));
      eventlog::CaseSink sink = [cb](eventlog::LogCase&& c) {
        learn::Trace t = trace_of(std::move(c));
        py::gil_scoped_acquire gil;
        if (!cb->is_none()) (*cb)(from_trace(t));
      };
      py::dict report = run_import(path_text(path), xes ? "xes" : "csv", mapping, stop_on_error, std::move(progress), sink);
      return report;
    };
  };
  m.def("import_csv", importer(false), "path"_a, "mapping"_a = py::none(), py::kw_only(), "on_case"_a = py::none(),
        "stop_on_error"_a = false, "progress"_a = py::none(),
        "Streams a CSV event log: on_case(trace dict) for each case, progress(dict) now and then.\n"
        "mapping: {'case_id', 'activity', 'timestamp' (required), 'resource', 'case_attributes',\n"
        "'event_attributes', 'timestamp_format', 'time_zone', 'delimiter'}; None: guessed from the\n"
        "header. Returns the import report dict.");
  m.def(
      "import_xes",
      [f = importer(true)](py::handle path, py::object on_case, bool stop_on_error, py::object progress) {
        return f(path, py::none(), std::move(on_case), stop_on_error, std::move(progress));
      },
      "path"_a, py::kw_only(), "on_case"_a = py::none(), "stop_on_error"_a = false, "progress"_a = py::none(),
      "As import_csv for an XES 1.0 log (plain or gzip).");
}

}  // namespace acm::python
