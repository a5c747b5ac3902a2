// SPDX-License-Identifier: Apache-2.0
// bindings/python/src/module.cpp - the extension module `acm._acm`.
//
// Rules this file keeps (see docs/python.md, "Threads and the GIL"):
//  1. No engine call runs with the GIL held: arguments are converted to C++ first, then the GIL
//     is released for the call, then results are converted back. A thread holding the GIL
//     therefore never waits for an engine lock, and engine threads holding case locks can
//     always get the GIL for a callback.
//  2. Callbacks (task handlers, subscribers) take the GIL themselves and never let a Python
//     exception cross into the engine: a handler's exception fails its task, a subscriber's is
//     reported through sys.unraisablehook.
//  3. Python objects held by the engine sit in PyCallable, whose copies are shared_ptr copies
//     (no reference counting without the GIL) and whose destructor takes the GIL.
//  4. Engine.close() waits for running calls, then destroys the engine with the GIL released.
//     Open engines are closed at interpreter exit (atexit), while Python still runs.
#include "convert.hpp"
#include "learn.hpp"
#include "views.hpp"

#include <acm/cmmn.hpp>
#include <acm/to_json.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <shared_mutex>

namespace acm::python {

namespace {

using namespace pybind11::literals;

// > 0 while this thread runs a Python callback called by an engine.
thread_local int callback_depth = 0;
// > 0 while this thread runs the forecaster (under a case lock: no engine calls allowed).
thread_local int forecaster_depth = 0;

struct CallbackScope {
  CallbackScope() { ++callback_depth; }
  ~CallbackScope() { --callback_depth; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;
};

bool finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

// A Python callable owned by the engine (inside a std::function).
struct PyCallable {
  py::object fn;
  explicit PyCallable(py::object f) : fn(std::move(f)) {}
  PyCallable(const PyCallable&) = delete;
  PyCallable& operator=(const PyCallable&) = delete;
  ~PyCallable() {
    if (!Py_IsInitialized()) {
      fn.release();  // the interpreter is gone: nothing left to free
      return;
    }
    if (PyGILState_Check()) {
      fn = py::object();
      return;
    }
    if (finalizing()) {
      fn.release();  // taking the GIL on this thread now would end the thread: leak instead
      return;
    }
    py::gil_scoped_acquire gil;
    fn = py::object();
  }
};

TaskHandler make_handler(std::shared_ptr<PyCallable> cb) {
  return [cb = std::move(cb)](const TaskContext& ctx) -> TaskResult {
    py::gil_scoped_acquire gil;
    CallbackScope scope;
    TaskResult result;
    try {
      py::object out = cb->fn(py::cast(ctx, py::return_value_policy::copy));
      result.output = to_json(out);
    } catch (py::error_already_set& e) {
      result = TaskResult{false, nullptr, describe(e)};
    } catch (const std::exception& e) {  // e.g. a result that is not JSON
      result = TaskResult{false, nullptr, e.what()};
    }
    return result;
  };
}

EventCallback make_subscriber(std::shared_ptr<PyCallable> cb) {
  return [cb = std::move(cb)](const Event& event) {
    py::gil_scoped_acquire gil;
    CallbackScope scope;
    try {
      cb->fn(to_py(event));
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("acm subscriber callback");
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
      PyErr_WriteUnraisable(cb->fn.ptr());
    }
  };
}

// The forecaster: called by the engine under the case lock; takes the GIL. An exception is
// reported through sys.unraisablehook and counts as "no forecast".
CompletionForecaster make_forecaster(std::shared_ptr<PyCallable> cb) {
  return [cb = std::move(cb)](const CaseInfo& c, TimePoint now) -> std::optional<TimePoint> {
    py::gil_scoped_acquire gil;
    CallbackScope scope;
    ++forecaster_depth;
    struct Leave {
      ~Leave() { --forecaster_depth; }
    } leave;
    try {
      py::object out = cb->fn(to_py(c), from_time(now));
      if (out.is_none()) return std::nullopt;
      return to_time(out);
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("acm forecaster");
    } catch (const std::exception& e) {  // e.g. a naive datetime or not a datetime
      PyErr_SetString(PyExc_RuntimeError, e.what());
      PyErr_WriteUnraisable(cb->fn.ptr());
    }
    return std::nullopt;
  };
}

class PyEngine;
std::mutex registry_mutex;
std::set<PyEngine*>& registry() {
  static std::set<PyEngine*> engines;
  return engines;
}

// The Python-side Engine: owns the C++ engine and keeps it alive while calls run.
class PyEngine {
 public:
  explicit PyEngine(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {
    std::lock_guard lock(registry_mutex);
    registry().insert(this);
  }
  PyEngine(const PyEngine&) = delete;
  PyEngine& operator=(const PyEngine&) = delete;

  // Called by pybind11 with the GIL held, when the last reference goes.
  ~PyEngine() {
    {
      std::lock_guard lock(registry_mutex);
      registry().erase(this);
    }
    try {
      shut_down();
    } catch (...) {  // never throw from a destructor
    }
  }

  /// Runs f(engine) with the GIL released. Call with the GIL held.
  template <class F>
  auto run(F&& f) {
    if (forecaster_depth > 0)
      throw Error(ErrorCode::invalid_state, "the forecaster runs under a case lock and may not call the engine");
    Use use(*this);
    py::gil_scoped_release release;
    return f(*engine_);
  }

  void close() {
    if (callback_depth > 0)
      throw Error(ErrorCode::invalid_state, "Engine.close() may not be called from a task handler or subscriber");
    shut_down();
  }

  bool closed() {
    std::lock_guard lock(mutex_);
    return closing_;
  }

  /// Keeps `p` alive as long as this object (learners fed by learn_on_close).
  void keep(std::shared_ptr<void> p) {
    std::lock_guard lock(mutex_);
    keep_.push_back(std::move(p));
  }

  /// Runs `f` when the engine closes, after running calls finished and before the engine is
  /// destroyed, with the GIL released (a Router unsubscribes there).
  void before_close(std::function<void()> f) {
    std::lock_guard lock(mutex_);
    before_close_.push_back(std::move(f));
  }

 private:
  // Counts a running call; refuses calls once closing.
  class Use {
   public:
    explicit Use(PyEngine& e) : e_(e) {
      std::lock_guard lock(e_.mutex_);
      if (e_.closing_) throw Error(ErrorCode::invalid_state, "the engine is closed");
      ++e_.active_;
    }
    ~Use() {
      std::lock_guard lock(e_.mutex_);
      if (--e_.active_ == 0) e_.idle_.notify_all();
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

   private:
    PyEngine& e_;
  };

  void shut_down() {
    py::gil_scoped_release release;
    std::lock_guard closing(close_mutex_);
    std::unique_ptr<Engine> doomed;
    {
      std::unique_lock lock(mutex_);
      closing_ = true;
      idle_.wait(lock, [&] { return active_ == 0; });
      doomed = std::move(engine_);
    }
    std::vector<std::function<void()>> hooks;
    {
      std::lock_guard lock(mutex_);
      hooks.swap(before_close_);
    }
    for (auto& f : hooks) f();
    doomed.reset();  // handlers and subscribers go with it (PyCallable takes the GIL)
  }

  std::unique_ptr<Engine> engine_;
  std::vector<std::shared_ptr<void>> keep_;  // destroyed after the engine
  std::vector<std::function<void()>> before_close_;
  std::mutex close_mutex_;
  std::mutex mutex_;
  std::condition_variable idle_;
  int active_ = 0;
  bool closing_ = false;
};

// Closes every open engine; registered with atexit, so it runs before the interpreter starts
// tearing down (callbacks captured by engines are released while Python still works).
void close_all_engines() {
  std::vector<py::object> open;
  {
    std::lock_guard lock(registry_mutex);
    for (PyEngine* e : registry()) open.push_back(py::cast(e, py::return_value_policy::reference));
  }
  for (auto& e : open) {
    try {
      e.cast<PyEngine&>().close();
    } catch (...) {
    }
  }
}

Durability to_durability(const std::string& s) {
  if (s == "group") return Durability::group;
  if (s == "full") return Durability::full;
  throw Error(ErrorCode::invalid_argument, "durability must be \"group\" or \"full\", not \"" + s + "\"");
}

ItemKind to_item_kind(const std::string& s) {
  for (int k = 0; k <= static_cast<int>(ItemKind::stage); ++k)
    if (to_string(static_cast<ItemKind>(k)) == s) return static_cast<ItemKind>(k);
  throw Error(ErrorCode::invalid_argument, "unknown item kind \"" + s + "\"");
}

std::vector<std::string> to_strings(py::handle v, const char* what) {
  if (v.is_none()) return {};
  if (PyUnicode_Check(v.ptr())) throw py::type_error(std::string(what) + " must be a list of str, not a str");
  return v.cast<std::vector<std::string>>();
}

// One definition object (fragment or case type) from a dict or JSON text.
Json definition_object(py::handle def, const char* kind) {
  Json j = to_document(def);
  if (!j.is_object()) throw Error(ErrorCode::invalid_argument, std::string("a ") + kind + " is a JSON object");
  if (!j.contains("kind")) j["kind"] = kind;
  return j;
}

using Opt = std::optional<std::uint64_t>;

// The actor of a read's by= argument (None: the trusted read).
std::optional<Actor> optional_actor(py::handle by) {
  if (by.is_none()) return std::nullopt;
  return to_actor(by);
}
using ItemCommand = CommandResult (Engine::*)(const Request&, const std::string&, const std::string&);
using CaseCommand = CommandResult (Engine::*)(const Request&, const std::string&);

// Keyword arguments every command takes after its own.
#define ACM_REQUEST_ARGS py::kw_only(), "expected_version"_a = py::none(), "idempotency_key"_a = ""

void def_case_command(py::class_<PyEngine>& c, const char* name, CaseCommand m, const char* doc) {
  c.def(
      name,
      [m](PyEngine& self, py::handle by, const std::string& case_id, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return (e.*m)(r, case_id); }));
      },
      "by"_a, "case_id"_a, ACM_REQUEST_ARGS, doc);
}

void def_item_command(py::class_<PyEngine>& c, const char* name, ItemCommand m, const char* arg, const char* doc) {
  c.def(
      name,
      [m](PyEngine& self, py::handle by, const std::string& case_id, const std::string& x, Opt ev,
          const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return (e.*m)(r, case_id, x); }));
      },
      "by"_a, "case_id"_a, py::arg(arg), ACM_REQUEST_ARGS, doc);
}

std::unique_ptr<PyEngine> open_engine(py::object database, const std::string& durability, std::size_t snapshot_every,
                                      std::size_t cache_capacity, std::size_t timer_batch,
                                      std::size_t max_payload_bytes, std::shared_ptr<Clock> clock,
                                      py::object admin_roles, py::object designer_roles,
                                      std::size_t max_steps_per_command, py::handle calendar,
                                      py::handle priority_policy, py::handle escalation, py::handle promise_warning,
                                      py::object forecaster) {
  EngineOptions o;
  if (!database.is_none()) o.database = py::str(py::module_::import("os").attr("fspath")(database)).cast<std::string>();
  o.durability = to_durability(durability);
  o.snapshot_every = snapshot_every;
  o.cache_capacity = cache_capacity;
  o.timer_batch = timer_batch;
  o.max_payload_bytes = max_payload_bytes;
  o.clock = std::move(clock);
  if (!admin_roles.is_none()) o.admin_roles = to_strings(admin_roles, "admin_roles");
  if (!designer_roles.is_none()) o.designer_roles = to_strings(designer_roles, "designer_roles");
  o.max_steps_per_command = max_steps_per_command;
  if (!calendar.is_none()) {
    if (py::isinstance<BusinessCalendar>(calendar))
      o.calendar = calendar.cast<std::shared_ptr<BusinessCalendar>>();
    else
      o.calendar = std::make_shared<BusinessCalendar>(BusinessCalendar::from_json(json_argument(calendar, "calendar")));
  }
  if (!priority_policy.is_none())
    o.priority_policy = PriorityPolicy::from_json(json_argument(priority_policy, "priority_policy"));
  if (!escalation.is_none()) {
    Json rules = json_argument(escalation, "escalation");
    if (rules.is_array()) rules = Json{{"rules", rules}};
    o.escalation = EscalationRule::from_json(rules);
    validate_escalation(o.escalation);
  }
  if (!promise_warning.is_none()) o.promise_warning = to_duration(promise_warning);
  if (!forecaster.is_none()) {
    if (!PyCallable_Check(forecaster.ptr())) throw py::type_error("the forecaster must be callable");
    o.forecaster = make_forecaster(std::make_shared<PyCallable>(std::move(forecaster)));
  }
  std::unique_ptr<Engine> engine;
  {
    py::gil_scoped_release release;
    engine = Engine::open(std::move(o));
  }
  return std::make_unique<PyEngine>(std::move(engine));
}

py::dict template_info(const TemplateInfo& t) { return to_py(t); }

void bind_engine_learning(py::module_& m) {
  using learn::Learner;
  m.def(
      "learn_from_engine",
      [](PyEngine& engine, std::shared_ptr<Learner> learner) {
        return engine.run([&](Engine& e) { return learn::learn_from_engine(e, *learner); });
      },
      "engine"_a, "learner"_a, "Feeds the learner every completed, terminated or closed case; returns how many.");
  m.def(
      "learn_on_close",
      [](PyEngine& engine, std::shared_ptr<Learner> learner) {
        engine.keep(learner);  // the engine's subscription holds a reference to it
        return engine.run([&](Engine& e) { return learn::learn_on_close(e, *learner); });
      },
      "engine"_a, "learner"_a,
      "Adds every case that completes to the learner as it happens; returns the subscription id\n"
      "(Engine.unsubscribe ends it). The engine keeps the learner alive.");
  m.def(
      "save_template",
      [](PyEngine& engine, const std::string& name, std::shared_ptr<Learner> learner) {
        return engine.run([&](Engine& e) { return learn::save_template(e, name, *learner); });
      },
      "engine"_a, "name"_a, "learner"_a, "Stores the learner as the next version of template `name`.");
  m.def(
      "load_template",
      [](PyEngine& engine, const std::string& name, int version) {
        return std::make_shared<Learner>(engine.run([&](Engine& e) { return learn::load_template(e, name, version); }));
      },
      "engine"_a, "name"_a, "version"_a = 0, "Reads a stored learner back (version 0: latest).");
}

void bind_values(py::module_& m) {
  py::class_<Actor>(m, "Actor", "Who is acting: an id and the global roles the host vouches for.")
      .def(py::init([](std::string id, py::object roles) {
             return Actor{std::move(id), to_strings(roles, "roles")};
           }),
           "id"_a, "roles"_a = py::none())
      .def_readwrite("id", &Actor::id)
      .def_readwrite("roles", &Actor::roles)
      .def("__eq__", [](const Actor& a, const Actor& b) { return a.id == b.id && a.roles == b.roles; })
      .def("__hash__", [](const Actor& a) { return py::hash(py::str(a.id)); })
      .def(
          "to_json", [](const Actor& a) { return from_json(acm::to_json(a)); },
          "The JSON shape (docs/json.md): {'id', 'roles'}.")
      .def("__repr__", [](const Actor& a) {
        return "Actor(" + py::repr(py::str(a.id)).cast<std::string>() +
               ", roles=" + py::repr(py::cast(a.roles)).cast<std::string>() + ")";
      });

  py::class_<TaskContext>(m, "TaskContext", "What an automated-task handler receives (a copy; keep it if you like).")
      .def_readonly("case_id", &TaskContext::case_id)
      .def_readonly("item_id", &TaskContext::item_id)
      .def_readonly("handler", &TaskContext::handler)
      .def_property_readonly(
          "input", [](const TaskContext& c) { return from_json(c.input); },
          "The item's input (fragment parameters substituted), as Python values.")
      .def_property_readonly(
          "case_file", [](const TaskContext& c) { return from_json(c.case_file); }, "A copy of the case file.")
      .def_property_readonly("now", [](const TaskContext& c) { return from_time(c.now); })
      .def(
          "to_json", [](const TaskContext& c) { return from_json(acm::to_json(c)); },
          "The JSON shape (docs/json.md): {'case', 'item', 'handler', 'input', 'case_file', 'now'}.")
      .def("__repr__", [](const TaskContext& c) {
        return "TaskContext(case_id=" + py::repr(py::str(c.case_id)).cast<std::string>() +
               ", item_id=" + py::repr(py::str(c.item_id)).cast<std::string>() +
               ", handler=" + py::repr(py::str(c.handler)).cast<std::string>() + ")";
      });

  py::class_<Clock, std::shared_ptr<Clock>>(m, "Clock", "A source of time for engines.")
      .def(
          "now", [](const Clock& c) { return from_time(c.now()); }, "The current time (aware UTC datetime).");
  py::class_<SystemClock, Clock, std::shared_ptr<SystemClock>>(m, "SystemClock", "The wall clock.").def(py::init<>());
  py::class_<ManualClock, Clock, std::shared_ptr<ManualClock>>(
      m, "ManualClock",
      "A clock that moves only when told to. Advancing it fires the due work of the engines\n"
      "using it, on the calling thread, in time order.")
      .def(py::init([](py::handle start) { return std::make_shared<ManualClock>(to_time(start)); }), "start"_a)
      .def(
          "advance",
          [](ManualClock& c, py::handle d) {
            if (callback_depth > 0)
              throw Error(ErrorCode::invalid_state, "ManualClock.advance may not be called from a callback");
            Duration dd = to_duration(d);
            py::gil_scoped_release release;
            c.advance(dd);
          },
          "by"_a, "Moves the time forward by a timedelta, firing due work on the way.")
      .def(
          "advance_to",
          [](ManualClock& c, py::handle t) {
            if (callback_depth > 0)
              throw Error(ErrorCode::invalid_state, "ManualClock.advance_to may not be called from a callback");
            TimePoint tp = to_time(t);
            py::gil_scoped_release release;
            c.advance_to(tp);
          },
          "time"_a, "Moves the time forward to a datetime, firing due work on the way.");

  m.def(
      "parse_time", [](const std::string& s) { return from_time(parse_time(s)); }, "text"_a,
      "ISO-8601 text -> aware UTC datetime.");
  m.def(
      "format_time", [](py::handle t) { return format_time(to_time(t)); }, "time"_a,
      "datetime -> ISO-8601 UTC text, e.g. '2026-11-23T09:30:00.000Z'.");
  m.def(
      "parse_duration", [](const std::string& s) { return from_duration(parse_duration(s)); }, "text"_a,
      "'PT2H30M', '90m', '1.5h', ... -> timedelta.");
  m.def(
      "format_duration", [](py::handle d) { return format_duration(to_duration(d)); }, "duration"_a,
      "timedelta -> ISO-8601 duration text, e.g. 'PT2H30M'.");
  m.def(
      "parse_definitions",
      [](py::handle doc) {
        Json j = to_document(doc);
        DefinitionSet set = parse_definitions(j);
        Json out{{"fragments", Json::array()}, {"case_types", Json::array()}};
        for (const auto& f : set.fragments) out["fragments"].push_back(to_json(f));
        for (const auto& t : set.case_types) out["case_types"].push_back(to_json(t));
        return from_json(out);
      },
      "document"_a,
      "Checks a definitions document without registering it; returns it normalised as\n"
      "{'fragments': [...], 'case_types': [...]}. Raises InvalidDefinition listing every problem.");
  m.def(
      "cmmn_import",
      [](const std::string& xml) {
        const cmmn::ImportResult r = cmmn::import(xml);
        Json warnings = Json::array();
        for (const auto& w : r.warnings) warnings.push_back(Json{{"line", w.line}, {"column", w.column}, {"message", w.message}});
        Json cases = Json::array();
        for (const auto& c : r.cases) {
          Json items = Json::object();
          for (const auto& [k, v] : c.items) items[k] = v;
          cases.push_back(Json{{"case", c.case_id}, {"case_type", c.case_type}, {"fragment", c.fragment}, {"items", items}});
        }
        return from_json(Json{{"definitions", r.definitions}, {"warnings", warnings}, {"cases", cases}});
      },
      "xml"_a,
      "Imports a CMMN 1.1 XML model (text) without registering it: {'definitions': {...}, 'warnings':\n"
      "[{'line', 'column', 'message'}], 'cases': [{'case', 'case_type', 'fragment', 'items'}]}.\n"
      "Engine.load_definitions accepts the XML text (or a path to it) directly. Raises ParseError or\n"
      "InvalidDefinition listing every problem with its line and column (docs/cmmn.md).");
}

void bind_engine(py::module_& m) {
  py::class_<PyEngine> c(m, "Engine",
                         "The case engine. Open with Engine.open(...); use as a context manager or call close().\n"
                         "Safe to use from many Python threads at once.");

  c.def_static("open", &open_engine, py::kw_only(), "database"_a = "", "durability"_a = "group",
               "snapshot_every"_a = 100, "cache_capacity"_a = 100000, "timer_batch"_a = 512,
               "max_payload_bytes"_a = std::size_t{16} << 20, "clock"_a = nullptr, "admin_roles"_a = py::none(),
               "designer_roles"_a = py::none(), "max_steps_per_command"_a = 10000, "calendar"_a = py::none(),
               "priority_policy"_a = py::none(), "escalation"_a = py::none(), "promise_warning"_a = py::none(),
               "forecaster"_a = py::none(),
               "Opens an engine on its SQLite store ('' or ':memory:': in memory).\n"
               "calendar: BusinessCalendar or its spec (dict/JSON); priority_policy: {'terms': [...]};\n"
               "escalation: {'rules': [...]} or the list of rules; promise_warning: timedelta;\n"
               "forecaster: callable(case: dict, now: datetime) -> datetime | None, called under the\n"
               "case lock (it must not call the engine).");
  c.def("close", &PyEngine::close,
        "Waits for running calls, then closes the store and releases handlers and subscribers.\n"
        "Idempotent. Not allowed inside a callback.");
  c.def_property_readonly("closed", &PyEngine::closed);
  c.def("__enter__", [](py::object self) { return self; });
  c.def("__exit__", [](PyEngine& self, py::args) {
    self.close();
    return false;
  });

  // ---- definitions ----
  c.def(
      "load_definitions",
      [](PyEngine& self, py::handle by, py::handle document) {
        Actor a = to_actor(by);
        Json doc = to_document(document);
        self.run([&](Engine& e) { e.load_definitions(a, doc); });
      },
      "by"_a, "document"_a,
      "Registers every fragment and case type of a document (dict, JSON text, path or file), all or nothing.");
  c.def(
      "register_fragment",
      [](PyEngine& self, py::handle by, py::handle fragment) {
        Actor a = to_actor(by);
        DefinitionSet set = parse_definitions(definition_object(fragment, "fragment"));
        if (set.fragments.size() != 1) throw Error(ErrorCode::invalid_argument, "not a fragment");
        self.run([&](Engine& e) { e.register_fragment(a, set.fragments.front()); });
      },
      "by"_a, "fragment"_a);
  c.def(
      "register_case_type",
      [](PyEngine& self, py::handle by, py::handle case_type) {
        Actor a = to_actor(by);
        DefinitionSet set = parse_definitions(definition_object(case_type, "case_type"));
        if (set.case_types.size() != 1) throw Error(ErrorCode::invalid_argument, "not a case type");
        self.run([&](Engine& e) { e.register_case_type(a, set.case_types.front()); });
      },
      "by"_a, "case_type"_a);
  c.def(
      "get_fragment",
      [](PyEngine& self, const std::string& id, int version) {
        return from_json(to_json(self.run([&](Engine& e) { return e.get_fragment(id, version); })));
      },
      "id"_a, "version"_a = 0, "The fragment as a definition dict (version 0: latest).");
  c.def(
      "get_case_type",
      [](PyEngine& self, const std::string& id, int version) {
        return from_json(to_json(self.run([&](Engine& e) { return e.get_case_type(id, version); })));
      },
      "id"_a, "version"_a = 0);
  c.def("list_fragments", [](PyEngine& self) {
    py::list out;
    for (const auto& f : self.run([](Engine& e) { return e.list_fragments(); })) out.append(from_json(to_json(f)));
    return out;
  });
  c.def(
      "list_case_types",
      [](PyEngine& self) {
        py::list out;
        for (const auto& t : self.run([](Engine& e) { return e.list_case_types(); })) out.append(from_json(to_json(t)));
        return out;
      },
      "The latest version of every registered case type, as definition dicts (by id).");

  // ---- cases ----
  c.def(
      "create_case",
      [](PyEngine& self, py::handle by, const std::string& type, int type_version, const std::string& id,
         const std::string& title, py::handle subject, const std::string& owner, int priority, py::handle participants,
         py::handle file, const std::string& key) {
        Request r = to_request(by, std::nullopt, key);
        NewCase spec;
        spec.id = id;
        spec.type = type;
        spec.type_version = type_version;
        spec.title = title;
        spec.subject = to_subject(subject);
        spec.owner = owner;
        spec.priority = priority;
        if (!participants.is_none())
          for (auto p : participants) spec.participants.push_back(to_participant(p));
        if (!file.is_none()) spec.file = to_json(file);
        return self.run([&](Engine& e) { return e.create_case(r, spec).created; });
      },
      "by"_a, py::kw_only(), "type"_a = "", "type_version"_a = 0, "id"_a = "", "title"_a = "", "subject"_a = py::none(),
      "owner"_a = "", "priority"_a = 0, "participants"_a = py::none(), "file"_a = py::none(), "idempotency_key"_a = "",
      "Creates a case; returns its id. subject={'customer': ..., 'attributes': {...}};\n"
      "participants=[{'actor': ..., 'roles': [...]}, ...] or [(actor, roles), ...].");
  c.def(
      "get_case",
      [](PyEngine& self, const std::string& case_id, py::handle by) {
        if (by.is_none()) return to_py(self.run([&](Engine& e) { return e.get_case(case_id); }));
        const Actor a = to_actor(by);
        return to_py(self.run([&](Engine& e) { return e.as(a).get_case(case_id); }));
      },
      "case_id"_a, py::kw_only(), "by"_a = py::none(),
      "A snapshot of the case as a dict. With by=actor: only if the actor may view it.");
  c.def(
      "find_case",
      [](PyEngine& self, const std::string& case_id, py::handle by) -> py::object {
        const std::optional<Actor> a = optional_actor(by);
        auto found = self.run([&](Engine& e) { return a ? e.as(*a).find_case(case_id) : e.find_case(case_id); });
        if (!found) return py::none();
        return to_py(*found);
      },
      "case_id"_a, py::kw_only(), "by"_a = py::none(),
      "As get_case, but None for an unknown case. With by=actor: only if the actor may view it.");
  c.def(
      "list_cases",
      [](PyEngine& self, py::handle limit, const std::string& after, py::handle by) {
        std::size_t n = limit.is_none() ? SIZE_MAX : limit.cast<std::size_t>();
        const std::optional<Actor> a = optional_actor(by);
        return self.run([&](Engine& e) { return a ? e.as(*a).list_cases(n, after) : e.list_cases(n, after); });
      },
      "limit"_a = py::none(), "after"_a = "", py::kw_only(), "by"_a = py::none(),
      "Case ids in creation order, after `after`, at most `limit`. With by=actor: only cases it may view.");
  auto queue_filter = [](const std::string& assignee, py::handle roles, py::handle skills, py::handle overdue_at,
                         std::size_t limit, std::size_t offset) {
    QueueFilter f;
    f.assignee = assignee;
    f.roles = to_strings(roles, "roles");
    if (!skills.is_none()) f.skills = to_strings(skills, "skills");
    f.overdue_at = to_optional_time(overdue_at);
    f.limit = limit;
    f.offset = offset;
    return f;
  };
  c.def(
      "queue",
      [queue_filter](PyEngine& self, const std::string& assignee, py::handle roles, py::handle overdue_at,
                     std::size_t limit, std::size_t offset, py::handle skills, py::handle by) {
        QueueFilter f = queue_filter(assignee, roles, skills, overdue_at, limit, offset);
        const std::optional<Actor> a = optional_actor(by);
        py::list out;
        for (const auto& w : self.run([&](Engine& e) { return a ? e.as(*a).queue(f) : e.queue(f); }))
          out.append(to_py(w));
        return out;
      },
      py::kw_only(), "assignee"_a = "", "roles"_a = py::none(), "overdue_at"_a = py::none(), "limit"_a = 50,
      "offset"_a = 0, "skills"_a = py::none(), "by"_a = py::none(),
      "A page of open human work, as WorkItem dicts (with the case title, customer and goal timing).\n"
      "skills: the agent's skills; unassigned work is offered only if the agent has every skill it needs.\n"
      "With by=actor: only items of cases the actor may view (offset and limit count those).");
  c.def(
      "queue_page",
      [queue_filter](PyEngine& self, const std::string& assignee, py::handle roles, py::handle overdue_at,
                     std::size_t limit, std::size_t offset, py::handle skills, py::handle by) {
        QueueFilter f = queue_filter(assignee, roles, skills, overdue_at, limit, offset);
        const std::optional<Actor> a = optional_actor(by);
        return to_py(self.run([&](Engine& e) { return a ? e.as(*a).queue_page(f) : e.queue_page(f); }));
      },
      py::kw_only(), "assignee"_a = "", "roles"_a = py::none(), "overdue_at"_a = py::none(), "limit"_a = 50,
      "offset"_a = 0, "skills"_a = py::none(), "by"_a = py::none(),
      "As queue(), as a QueuePage {'items': [...], 'total': every matching item}.");
  c.def(
      "find_cases",
      [](PyEngine& self, py::handle status, const std::string& owner, const std::string& customer, std::size_t limit,
         std::size_t offset, py::handle by) {
        CaseQuery q;
        py::object statuses = PyUnicode_Check(status.ptr()) ? py::object(py::make_tuple(status))
                                                            : py::reinterpret_borrow<py::object>(status);
        for (const std::string& name : to_strings(statuses, "status")) {
          bool known = false;
          for (CaseStatus st : {CaseStatus::active, CaseStatus::suspended, CaseStatus::completed,
                                CaseStatus::terminated, CaseStatus::closed})
            if (to_string(st) == name) {
              q.statuses.push_back(st);
              known = true;
            }
          if (!known)
            throw Error(ErrorCode::invalid_argument,
                        "unknown case status '" + name + "' (active, suspended, completed, terminated, closed)");
        }
        q.owner = owner;
        q.customer = customer;
        q.limit = limit;
        q.offset = offset;
        const std::optional<Actor> a = optional_actor(by);
        return to_py(self.run([&](Engine& e) { return a ? e.as(*a).find_cases(q) : e.find_cases(q); }));
      },
      py::kw_only(), "status"_a = py::none(), "owner"_a = "", "customer"_a = "", "limit"_a = 50, "offset"_a = 0,
      "by"_a = py::none(),
      "Cases by status (a name or a list: any of), owner and customer, newest first, as a CasePage\n"
      "{'cases': [CaseSummary...], 'total': every match}. Answered from indexes, no case is loaded.\n"
      "With by=actor: only cases the actor may view (paging and total count those).");
  c.def(
      "open_cases_of",
      [](PyEngine& self, const std::string& customer, std::size_t limit, py::handle by) {
        const std::optional<Actor> a = optional_actor(by);
        return self.run(
            [&](Engine& e) { return a ? e.as(*a).open_cases_of(customer, limit) : e.open_cases_of(customer, limit); });
      },
      "customer"_a, "limit"_a = 100, py::kw_only(), "by"_a = py::none(),
      "Ids of the customer's open (active or suspended) cases, newest first. With by=actor: those it may view.");
  c.def(
      "intake_log",
      [](PyEngine& self, std::size_t limit, std::uint64_t after) {
        py::list out;
        for (const auto& entry : self.run([&](Engine& e) { return e.intake_log().page(limit, after); }))
          out.append(to_py(entry));
        return out;
      },
      "limit"_a = 100, "after"_a = 0, "Intake log entries with seq > after, in log order (IntakeLogEntry dicts).");
  c.def(
      "intake_log_of",
      [](PyEngine& self, const std::string& event_id) {
        py::list out;
        for (const auto& entry : self.run([&](Engine& e) { return e.intake_log().of_event(event_id); }))
          out.append(to_py(entry));
        return out;
      },
      "event_id"_a, "The intake log entries of one channel event id, in log order.");
  c.def(
      "inspect",
      [](PyEngine& self, const std::string& case_id, bool from_history, py::handle by) {
        const std::optional<Actor> a = optional_actor(by);
        return from_json(self.run(
            [&](Engine& e) { return a ? e.as(*a).inspect(case_id, from_history) : e.inspect(case_id, from_history); }));
      },
      "case_id"_a, "from_history"_a = false, py::kw_only(), "by"_a = py::none(),
      "Diagnostics: the complete internal state of a case. With by=actor: only if the actor may view it.");
  c.def(
      "history",
      [](PyEngine& self, const std::string& case_id, std::uint64_t from_seq, py::handle by) {
        if (by.is_none()) return to_py(self.run([&](Engine& e) { return e.history(case_id, from_seq); }));
        const Actor a = to_actor(by);
        return to_py(self.run([&](Engine& e) { return e.as(a).history(case_id, from_seq); }));
      },
      "case_id"_a, "from_seq"_a = 1, py::kw_only(), "by"_a = py::none(),
      "The case's events (dicts) from sequence number from_seq on. With by=actor: only if the actor may view it.");

  c.def(
      "read_feed",
      [](PyEngine& self, const std::string& after, std::size_t limit, double timeout) {
        if (limit == 0) throw Error(ErrorCode::invalid_argument, "limit must be at least 1");
        if (!(timeout >= 0) || timeout > 86400) throw Error(ErrorCode::invalid_argument, "timeout must lie in 0..86400 s");
        const auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(timeout * 1000));
        auto page = self.run([&](Engine& e) {
          return wait.count() > 0 ? e.wait_feed(after, limit, wait) : e.read_feed(after, limit);
        });
        py::list out;
        for (const auto& entry : page) out.append(py::make_tuple(entry.position, to_py(entry.event)));
        return out;
      },
      "after"_a = "", "limit"_a = 1000, py::kw_only(), "timeout"_a = 0.0,
      "The global event feed: up to `limit` (position, event) pairs of every case, written by any "
      "process on the same database, after the position `after` ('': from the start), in feed order. "
      "Reading on from the last position returned misses nothing and repeats nothing. With timeout > 0 "
      "(seconds), waits that long at most for the first event. Host-trusted: no actor check.");
  c.def(
      "feed_end", [](PyEngine& self) { return self.run([&](Engine& e) { return e.feed_end(); }); },
      "The newest feed position ('' when the feed is empty): read_feed from it gives only what "
      "happens from now on.");

  def_item_command(c, "set_owner", &Engine::set_owner, "owner", "Makes `owner` the case owner.");
  c.def(
      "add_participant",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& actor, py::handle roles, Opt ev,
         const std::string& key) {
        Request r = to_request(by, ev, key);
        Participant p{actor, to_strings(roles, "roles")};
        return to_py(self.run([&](Engine& e) { return e.add_participant(r, case_id, p); }));
      },
      "by"_a, "case_id"_a, "actor"_a, "roles"_a = py::none(), ACM_REQUEST_ARGS,
      "Brings an actor into the case with case roles.");
  def_item_command(c, "remove_participant", &Engine::remove_participant, "actor", "Removes a participant.");
  c.def(
      "set_priority",
      [](PyEngine& self, py::handle by, const std::string& case_id, int priority, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return e.set_priority(r, case_id, priority); }));
      },
      "by"_a, "case_id"_a, "priority"_a, ACM_REQUEST_ARGS);
  c.def(
      "set_subject_attribute",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& key_name, py::handle value,
         Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        Json v = to_json(value);
        return to_py(self.run([&](Engine& e) { return e.set_subject_attribute(r, case_id, key_name, v); }));
      },
      "by"_a, "case_id"_a, "key"_a, "value"_a, ACM_REQUEST_ARGS);

  // Commands with an optional reason.
  using ReasonCommand = CommandResult (Engine::*)(const Request&, const std::string&, const std::string&);
  for (auto [name, method] : {std::pair<const char*, ReasonCommand>{"suspend_case", &Engine::suspend_case},
                              {"terminate_case", &Engine::terminate_case},
                              {"reopen_case", &Engine::reopen_case}}) {
    c.def(
        name,
        [m = method](PyEngine& self, py::handle by, const std::string& case_id, const std::string& reason, Opt ev,
                     const std::string& key) {
          Request r = to_request(by, ev, key);
          return to_py(self.run([&](Engine& e) { return (e.*m)(r, case_id, reason); }));
        },
        "by"_a, "case_id"_a, "reason"_a = "", ACM_REQUEST_ARGS);
  }
  def_case_command(c, "resume_case", &Engine::resume_case, "suspended -> active.");
  def_case_command(c, "complete_case", &Engine::complete_case, "Completes the case now.");
  def_case_command(c, "close_case", &Engine::close_case, "completed/terminated -> closed.");

  // ---- goals ----
  c.def(
      "add_goal",
      [](PyEngine& self, py::handle by, const std::string& case_id, py::handle goal, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        GoalSpec g = to_goal_spec(goal);
        return to_py(self.run([&](Engine& e) { return e.add_goal(r, case_id, g); }));
      },
      "by"_a, "case_id"_a, "goal"_a, ACM_REQUEST_ARGS,
      "goal: dict with the GoalSpec fields (id, name, owner, parent, required, deadline, within,\n"
      "anchor, criterion, milestones, decision).");
  c.def(
      "change_goal",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& goal_id, py::kwargs kw) {
        Opt ev;
        std::string key;
        if (kw.contains("expected_version")) {
          py::object v = kw["expected_version"];
          if (!v.is_none()) ev = v.cast<std::uint64_t>();
          PyDict_DelItemString(kw.ptr(), "expected_version");
        }
        if (kw.contains("idempotency_key")) {
          key = kw["idempotency_key"].cast<std::string>();
          PyDict_DelItemString(kw.ptr(), "idempotency_key");
        }
        Request r = to_request(by, ev, key);
        GoalChange ch;
        Fields f(kw, "change_goal");
        if (f.has("name")) f.str("name", ch.name.emplace());
        if (f.has("owner")) f.str("owner", ch.owner.emplace());
        if (f.has("required")) f.flag("required", ch.required.emplace());
        if (f.has("deadline")) f.time("deadline", ch.deadline.emplace());
        if (f.has("criterion")) f.str("criterion", ch.criterion.emplace());
        if (f.has("milestones")) f.strings("milestones", ch.milestones.emplace());
        f.finish();
        return to_py(self.run([&](Engine& e) { return e.change_goal(r, case_id, goal_id, ch); }));
      },
      "by"_a, "case_id"_a, "goal_id"_a,
      "Changes the given fields only: name, owner, required, deadline (None removes it),\n"
      "criterion, milestones; plus expected_version, idempotency_key.");
  c.def(
      "cancel_goal",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& goal_id,
         const std::string& reason, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return e.cancel_goal(r, case_id, goal_id, reason); }));
      },
      "by"_a, "case_id"_a, "goal_id"_a, "reason"_a = "", ACM_REQUEST_ARGS);
  def_item_command(c, "achieve_goal", &Engine::achieve_goal, "goal_id", "A person declares the goal achieved.");
  c.def(
      "pause_goal",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& goal_id,
         const std::string& reason, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return e.pause_goal(r, case_id, goal_id, reason); }));
      },
      "by"_a, "case_id"_a, "goal_id"_a = "", "reason"_a = "", ACM_REQUEST_ARGS,
      "Stops the goal's clock (SLA pause); goal_id '' pauses every open goal with a deadline.");
  c.def(
      "resume_goal",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& goal_id, Opt ev,
         const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return e.resume_goal(r, case_id, goal_id); }));
      },
      "by"_a, "case_id"_a, "goal_id"_a = "", ACM_REQUEST_ARGS,
      "Restarts the clock; the deadline moves by the working time left at the pause.");

  // ---- promises and priorities ----
  c.def(
      "make_promise",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& id, const std::string& what,
         py::handle due, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        PromiseSpec p{id, what, to_time(due)};
        return to_py(self.run([&](Engine& e) { return e.make_promise(r, case_id, p); }));
      },
      "by"_a, "case_id"_a, "id"_a, "what"_a, "due"_a, ACM_REQUEST_ARGS,
      "Records a promise to the customer, tracked until kept, broken or cancelled.");
  def_item_command(c, "keep_promise", &Engine::keep_promise, "promise_id", "Marks a promise kept.");
  c.def(
      "cancel_promise",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& promise_id,
         const std::string& reason, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return e.cancel_promise(r, case_id, promise_id, reason); }));
      },
      "by"_a, "case_id"_a, "promise_id"_a, "reason"_a = "", ACM_REQUEST_ARGS);
  c.def(
      "explain_priority",
      [](PyEngine& self, const std::string& case_id, py::handle by) {
        if (by.is_none()) return from_json(self.run([&](Engine& e) { return e.explain_priority(case_id); }));
        const Actor a = to_actor(by);
        return from_json(self.run([&](Engine& e) { return e.as(a).explain_priority(case_id); }));
      },
      "case_id"_a, py::kw_only(), "by"_a = py::none(),
      "{'priority', 'base', 'score', 'terms': [{'name', 'value', 'weight', 'contribution'}]}. With by=actor: only if "
      "the actor may view the case.");

  // ---- stored templates ----
  c.def(
      "put_template",
      [](PyEngine& self, const std::string& name, const std::string& kind, py::handle meta, const py::bytes& data) {
        Json m = meta.is_none() ? Json::object() : to_json(meta);
        std::string bytes = data;
        return self.run([&](Engine& e) { return e.templates().put(name, kind, m, bytes); });
      },
      "name"_a, "kind"_a, "meta"_a, "data"_a, "Stores bytes as the next version of template `name`; returns it.");
  c.def(
      "get_template",
      [](PyEngine& self, const std::string& name, int version) {
        auto [info, bytes] = self.run([&](Engine& e) { return e.templates().get(name, version); });
        return py::make_tuple(template_info(info), py::bytes(bytes.data(), bytes.size()));
      },
      "name"_a, "version"_a = 0, "(info dict, bytes) of a template version (0: latest).");
  c.def(
      "list_templates",
      [](PyEngine& self) {
        py::list out;
        for (const auto& t : self.run([](Engine& e) { return e.templates().list(); })) out.append(template_info(t));
        return out;
      },
      "Every stored template version (info dicts, without bytes).");

  // ---- runtime assembly ----
  c.def(
      "applicable_fragments",
      [](PyEngine& self, const std::string& case_id, py::handle by) {
        std::optional<Actor> a;
        if (!by.is_none()) a = to_actor(by);
        py::list out;
        for (const auto& o : self.run([&](Engine& e) {
               return a ? e.as(*a).applicable_fragments(case_id) : e.applicable_fragments(case_id);
             }))
          out.append(to_py(o));
        return out;
      },
      "case_id"_a, py::kw_only(), "by"_a = py::none(),
      "Discretionary fragments that may be added to the case now. With by=actor: only if the actor may view it.");
  c.def(
      "add_fragment",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& fragment, py::handle params,
         int version, const std::string& goal, py::handle after, const std::string& stage, Opt ev,
         const std::string& key) {
        Request r = to_request(by, ev, key);
        FragmentUse use;
        use.fragment = fragment;
        use.version = version;
        use.goal = goal;
        use.stage = stage;
        if (!params.is_none()) use.params = to_json(params);
        auto a = to_strings(after, "after");
        return self.run([&](Engine& e) { return e.add_fragment(r, case_id, use, a).created; });
      },
      "by"_a, "case_id"_a, "fragment"_a, "params"_a = py::none(), py::kw_only(), "version"_a = 0, "goal"_a = "",
      "after"_a = py::none(), "stage"_a = "", "expected_version"_a = py::none(), "idempotency_key"_a = "",
      "Instantiates a fragment as a stage of the case; returns the stage item id. stage: for a fragment with a "
      "planning table, the stage instance to add it into (default: the only active one).");
  c.def(
      "add_task",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& name, const std::string& kind,
         const std::string& role, py::handle skills, py::handle estimate, py::handle due, const std::string& handler,
         py::handle input, const std::string& output, const std::string& goal, const std::string& assignee,
         py::handle after, bool required, bool manual, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        AdHocTask t;
        t.name = name;
        t.kind = to_item_kind(kind);
        t.role = role;
        t.skills = to_strings(skills, "skills");
        t.estimate = to_optional_duration(estimate);
        t.due = to_optional_duration(due);
        t.handler = handler;
        t.input = to_json(input);
        t.output = output;
        t.goal = goal;
        t.assignee = assignee;
        t.after = to_strings(after, "after");
        t.required = required;
        t.manual = manual;
        return self.run([&](Engine& e) { return e.add_task(r, case_id, t).created; });
      },
      "by"_a, "case_id"_a, "name"_a, py::kw_only(), "kind"_a = "human_task", "role"_a = "", "skills"_a = py::none(),
      "estimate"_a = py::none(), "due"_a = py::none(), "handler"_a = "", "input"_a = py::none(), "output"_a = "",
      "goal"_a = "", "assignee"_a = "", "after"_a = py::none(), "required"_a = false, "manual"_a = false,
      "expected_version"_a = py::none(), "idempotency_key"_a = "",
      "Adds an ad-hoc task (human_task, automated_task or milestone); returns its item id.");
  c.def(
      "add_dependency",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& item, const std::string& after,
         Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return e.add_dependency(r, case_id, item, after); }));
      },
      "by"_a, "case_id"_a, "item"_a, "after"_a, ACM_REQUEST_ARGS, "Makes `item` wait for `after`.");
  def_item_command(c, "remove_item", &Engine::remove_item, "item", "Removes a planned item that has not started.");

  // ---- work on plan items ----
  def_item_command(c, "start_item", &Engine::start_item, "item", "enabled -> active.");
  c.def(
      "complete_item",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& item, py::handle output, Opt ev,
         const std::string& key) {
        Request r = to_request(by, ev, key);
        Json out = to_json(output);
        return to_py(self.run([&](Engine& e) { return e.complete_item(r, case_id, item, out); }));
      },
      "by"_a, "case_id"_a, "item"_a, "output"_a = py::none(), ACM_REQUEST_ARGS,
      "Completes an active task or stage; output goes to the item's output path.");
  c.def(
      "assign_item",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& item,
         const std::string& assignee, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        return to_py(self.run([&](Engine& e) { return e.assign_item(r, case_id, item, assignee); }));
      },
      "by"_a, "case_id"_a, "item"_a, "assignee"_a, ACM_REQUEST_ARGS);
  def_item_command(c, "terminate_item", &Engine::terminate_item, "item", "");
  def_item_command(c, "suspend_item", &Engine::suspend_item, "item", "");
  def_item_command(c, "resume_item", &Engine::resume_item, "item", "");
  def_item_command(c, "disable_item", &Engine::disable_item, "item", "enabled -> disabled.");
  def_item_command(c, "reenable_item", &Engine::reenable_item, "item", "disabled -> enabled.");
  def_item_command(c, "reactivate_item", &Engine::reactivate_item, "item", "failed -> active.");
  def_item_command(c, "occur", &Engine::occur, "item",
                   "A user event listener occurs, or a milestone is declared reached.");

  // ---- case file and external events ----
  c.def(
      "set_file",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& path, py::handle value, Opt ev,
         const std::string& key) {
        Request r = to_request(by, ev, key);
        Json v = to_json(value);
        return to_py(self.run([&](Engine& e) { return e.set_file(r, case_id, path, v); }));
      },
      "by"_a, "case_id"_a, "path"_a, "value"_a, ACM_REQUEST_ARGS,
      "Sets a value at a dotted path of the case file ('customer.address.city').");
  def_item_command(c, "remove_file", &Engine::remove_file, "path", "Removes the value at a case-file path.");
  c.def(
      "attach",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& kind, const std::string& title,
         const std::string& uri, const std::string& text, const std::string& media_type, py::handle metadata,
         const std::string& id, Opt ev, const std::string& key) {
        Request r = to_request(by, ev, key);
        Asset a;
        a.id = id;
        a.kind = kind;
        a.title = title;
        a.uri = uri;
        a.text = text;
        a.media_type = media_type;
        if (!metadata.is_none()) a.metadata = to_json(metadata);
        return to_py(self.run([&](Engine& e) { return e.attach(r, case_id, a); }));
      },
      "by"_a, "case_id"_a, "kind"_a, py::kw_only(), "title"_a = "", "uri"_a = "", "text"_a = "", "media_type"_a = "",
      "metadata"_a = py::none(), "id"_a = "", "expected_version"_a = py::none(), "idempotency_key"_a = "",
      "Attaches a 'document', 'link' or 'note'; the result's 'created' is the asset id.");
  c.def(
      "signal",
      [](PyEngine& self, py::handle by, const std::string& case_id, const std::string& name, py::handle payload, Opt ev,
         const std::string& key) {
        Request r = to_request(by, ev, key);
        Json p = payload.is_none() ? Json::object() : to_json(payload);
        return to_py(self.run([&](Engine& e) { return e.signal(r, case_id, name, p); }));
      },
      "by"_a, "case_id"_a, "name"_a, "payload"_a = py::none(), ACM_REQUEST_ARGS, "Delivers a named external event.");

  // ---- host integration ----
  c.def(
      "register_handler",
      [](PyEngine& self, const std::string& name, py::object callback) {
        if (!PyCallable_Check(callback.ptr())) throw py::type_error("the handler must be callable");
        auto handler = make_handler(std::make_shared<PyCallable>(std::move(callback)));
        self.run([&](Engine& e) { e.register_handler(name, std::move(handler)); });
      },
      "name"_a, "callback"_a,
      "callback(ctx: TaskContext) -> output (any JSON value). Raising fails the task with\n"
      "'ExceptionType: message'. Replaces an existing handler of that name.");
  c.def(
      "handler",
      [](py::object self, const std::string& name) {
        return py::cpp_function([self, name](py::object fn) {
          self.attr("register_handler")(name, fn);
          return fn;
        });
      },
      "name"_a, "Decorator form of register_handler: @engine.handler('payments.refund').");
  c.def(
      "subscribe",
      [](PyEngine& self, py::object callback, py::handle kinds) {
        if (!PyCallable_Check(callback.ptr())) throw py::type_error("the subscriber must be callable");
        auto cb = make_subscriber(std::make_shared<PyCallable>(std::move(callback)));
        auto k = to_strings(kinds, "kinds");
        return self.run([&](Engine& e) { return e.subscribe(std::move(cb), std::move(k)); });
      },
      "callback"_a, "kinds"_a = py::none(),
      "callback(event: dict) for events of the given kinds (None: all); returns a subscription id.");
  c.def(
      "unsubscribe", [](PyEngine& self, std::uint64_t id) { self.run([&](Engine& e) { e.unsubscribe(id); }); },
      "subscription"_a);

  // ---- time ----
  c.def(
      "next_due", [](PyEngine& self) { return from_time(self.run([](Engine& e) { return e.next_due(); })); },
      "Earliest pending timer or deadline check (datetime), or None.");
  c.def(
      "run_due", [](PyEngine& self) { return self.run([](Engine& e) { return e.run_due(); }); },
      "Fires everything due now; returns how many timers fired.");
  c.def(
      "now", [](PyEngine& self) { return from_time(self.run([](Engine& e) { return e.clock().now(); })); },
      "The engine clock's current time.");
}

// ---- help desk: Intake and Router ---------------------------------------------------------

/// An intake rule set from a dict/list or JSON text.
helpdesk::IntakeRules to_rules(py::handle rules) {
  Json j = PyUnicode_Check(rules.ptr()) || PyBytes_Check(rules.ptr())
               ? parse_json(rules.cast<std::string>(), "intake rules")
               : to_json(rules);
  return helpdesk::IntakeRules::from_json(j);
}

/// An agent from a dict ({"id", "roles", "skills", "capacity", "available", "windows"}).
helpdesk::Agent to_agent(py::handle a) {
  if (!PyDict_Check(a.ptr()))
    throw py::type_error("an agent is a dict {'id', 'roles', 'skills', 'capacity', 'available', 'windows'}, not " +
                         py::str(py::type::handle_of(a).attr("__name__")).cast<std::string>());
  return helpdesk::agent_from_json(to_json(a));
}

std::vector<helpdesk::Agent> to_roster(py::handle roster) {
  if (PyDict_Check(roster.ptr()) || PyUnicode_Check(roster.ptr()))
    throw py::type_error("a roster is a list of agent dicts");
  std::vector<helpdesk::Agent> out;
  for (auto a : roster) out.push_back(to_agent(a));
  return out;
}

class PyIntake {
 public:
  PyIntake(py::object engine, py::handle rules, py::handle actor, const std::string& signal_name,
           std::size_t max_correlated_cases, py::handle customer_lookup, py::handle limits)
      : engine_obj_(std::move(engine)), engine_(engine_obj_.cast<PyEngine&>()) {
    helpdesk::IntakeRules r = to_rules(rules);
    helpdesk::IntakeOptions o;
    if (!actor.is_none()) o.actor = to_actor(actor);
    o.signal_name = signal_name;
    if (max_correlated_cases == 0) throw Error(ErrorCode::invalid_argument, "max_correlated_cases must be positive");
    o.max_correlated_cases = max_correlated_cases;
    if (!limits.is_none()) {
      Fields f(limits, "limits");
      auto size = [&](const char* key, std::size_t& out) {
        py::object v = f.get(key);
        if (v.is_none()) return;
        long long n = v.cast<long long>();
        if (n < 1) throw Error(ErrorCode::invalid_argument, std::string("limits: '") + key + "' must be positive");
        out = static_cast<std::size_t>(n);
      };
      size("max_text_bytes", o.limits.max_text_bytes);
      size("max_metadata_bytes", o.limits.max_metadata_bytes);
      size("max_id_bytes", o.limits.max_id_bytes);
      size("max_channel_bytes", o.limits.max_channel_bytes);
      size("max_document_bytes", o.limits.max_document_bytes);
      f.finish();
    }
    if (!customer_lookup.is_none()) {
      if (!PyCallable_Check(customer_lookup.ptr())) throw py::type_error("customer_lookup must be callable");
      auto cb = std::make_shared<PyCallable>(py::reinterpret_borrow<py::object>(customer_lookup));
      // Called on the thread running process() (GIL released there). The intake treats a failed
      // lookup as an unknown customer; the exception goes to sys.unraisablehook.
      o.customer_lookup = [cb](const std::string& customer) -> Json {
        py::gil_scoped_acquire gil;
        CallbackScope scope;
        try {
          py::object out = cb->fn(customer);
          return out.is_none() ? Json() : to_json(out);
        } catch (py::error_already_set& e) {
          e.discard_as_unraisable("acm customer_lookup");
        } catch (const std::exception& e) {  // a result that is not JSON
          PyErr_SetString(PyExc_TypeError, e.what());
          PyErr_WriteUnraisable(cb->fn.ptr());
        }
        return Json();
      };
    }
    intake_ = engine_.run([&](Engine& e) { return std::make_shared<helpdesk::Intake>(e, std::move(r), std::move(o)); });
  }

  py::dict process(py::handle event) {
    Json j = PyUnicode_Check(event.ptr()) || PyBytes_Check(event.ptr())
                 ? parse_json(event.cast<std::string>(), "channel event")
                 : to_json(event);
    return to_py(engine_.run([&](Engine&) { return intake_->process(j); }));
  }

  void set_rules(py::handle rules) {
    helpdesk::IntakeRules r = to_rules(rules);
    engine_.run([&](Engine&) { intake_->set_rules(std::move(r)); });
  }

  py::list intake_log(std::size_t limit, std::uint64_t after) {
    py::list out;
    for (const auto& entry : engine_.run([&](Engine&) { return intake_->intake_log(limit, after); }))
      out.append(to_py(entry));
    return out;
  }

  ~PyIntake() {
    py::gil_scoped_release release;  // the lookup's PyCallable takes the GIL itself
    intake_.reset();
  }

 private:
  py::object engine_obj_;  // keeps the engine object alive
  PyEngine& engine_;
  std::shared_ptr<helpdesk::Intake> intake_;
};

/// The router of a PyRouter, destroyed by close() or when its engine closes.
struct RouterBox {
  std::shared_mutex mutex;
  std::unique_ptr<helpdesk::Router> router;
  void destroy() {
    std::unique_lock lock(mutex);
    router.reset();
  }
};

class PyRouter {
 public:
  PyRouter(py::object engine, py::handle roster, py::handle weights, double prior_completions, py::handle actor,
           bool learn_online, bool auto_assign_on_activation)
      : engine_obj_(std::move(engine)), engine_(engine_obj_.cast<PyEngine&>()), box_(std::make_shared<RouterBox>()) {
    std::vector<helpdesk::Agent> agents = to_roster(roster);
    helpdesk::RoutingOptions o;
    if (!weights.is_none()) {
      Fields f(weights, "weights");
      auto w = [&](const char* key, double& out) {
        py::object v = f.get(key);
        if (!v.is_none()) out = v.cast<double>();
      };
      w("skill", o.weights.skill);
      w("load", o.weights.load);
      w("availability", o.weights.availability);
      w("performance", o.weights.performance);
      f.finish();
    }
    o.prior_completions = prior_completions;
    if (!actor.is_none()) o.actor = to_actor(actor);
    o.learn_online = learn_online;
    o.auto_assign_on_activation = auto_assign_on_activation;
    engine_.run(
        [&](Engine& e) { box_->router = std::make_unique<helpdesk::Router>(e, std::move(agents), std::move(o)); });
    std::weak_ptr<RouterBox> weak = box_;
    engine_.before_close([weak] {
      if (auto box = weak.lock()) box->destroy();
    });
  }

  ~PyRouter() {
    py::gil_scoped_release release;
    box_->destroy();
  }

  /// Runs f(router) on the engine's terms (refused once the engine or the router is closed).
  template <class F>
  auto with(F&& f) {
    return engine_.run([&](Engine&) {
      std::shared_lock lock(box_->mutex);
      if (!box_->router) throw Error(ErrorCode::invalid_state, "the router is closed");
      return f(*box_->router);
    });
  }

  void close() {
    if (callback_depth > 0) throw Error(ErrorCode::invalid_state, "Router.close() may not be called from a callback");
    py::gil_scoped_release release;
    box_->destroy();
  }

 private:
  py::object engine_obj_;
  PyEngine& engine_;
  std::shared_ptr<RouterBox> box_;
};

void bind_helpdesk(py::module_& m) {
  py::class_<PyIntake>(m, "Intake",
                       "Help-desk intake: runs rules over channel events and acts on the engine (docs/helpdesk.md).\n"
                       "Every decision is written to the engine's intake log.")
      .def(py::init<py::object, py::handle, py::handle, const std::string&, std::size_t, py::handle, py::handle>(),
           "engine"_a, "rules"_a, py::kw_only(), "actor"_a = py::none(), "signal_name"_a = "customer_message",
           "max_correlated_cases"_a = 50, "customer_lookup"_a = py::none(), "limits"_a = py::none(),
           "rules: {'rules': [...]} or the list (dict/list or JSON text). actor: who runs the commands (default\n"
           "Actor('intake', ['admin'])). customer_lookup: callable(customer: str) -> dict | None, the customer's\n"
           "attributes for rules (customer.<key>) and new cases. limits: {'max_text_bytes', ...}.")
      .def("process", &PyIntake::process, "event"_a,
           "Decides on one channel event (a dict {'id', 'channel', 'customer', 'text', 'sentiment', 'metadata',\n"
           "'received'} or JSON text) and acts on it; returns an IntakeDecision. A malformed event is logged as\n"
           "rejected and raises acm.InvalidArgument naming every bad field.")
      .def("set_rules", &PyIntake::set_rules, "rules"_a, "Replaces the rule set.")
      .def("intake_log", &PyIntake::intake_log, "limit"_a = 100, "after"_a = 0,
           "Intake log entries with seq > after (IntakeLogEntry dicts).");

  py::class_<PyRouter>(m, "Router",
                       "Ranks the agents of a roster for a task and assigns them (docs/helpdesk.md, 'Routing').\n"
                       "Closed with its engine, or by close().")
      .def(py::init<py::object, py::handle, py::handle, double, py::handle, bool, bool>(), "engine"_a, "roster"_a,
           py::kw_only(), "weights"_a = py::none(), "prior_completions"_a = 3.0, "actor"_a = py::none(),
           "learn_online"_a = true, "auto_assign_on_activation"_a = false,
           "roster: [{'id', 'roles', 'skills': {skill: level 0..1}, 'capacity', 'available', 'windows':\n"
           "[{'from': datetime, 'to': datetime}]}]. weights: {'skill', 'load', 'availability', 'performance'}.")
      .def(
          "set_roster",
          [](PyRouter& self, py::handle roster) {
            auto agents = to_roster(roster);
            self.with([&](helpdesk::Router& r) {
              r.set_roster(std::move(agents));
              return 0;
            });
          },
          "roster"_a, "Replaces the roster.")
      .def(
          "upsert_agent",
          [](PyRouter& self, py::handle agent) {
            auto a = to_agent(agent);
            self.with([&](helpdesk::Router& r) {
              r.upsert_agent(std::move(a));
              return 0;
            });
          },
          "agent"_a, "Adds or replaces one agent.")
      .def(
          "suggest",
          [](PyRouter& self, const std::string& case_id, const std::string& item_id, std::size_t limit,
             bool include_excluded) {
            auto found =
                self.with([&](helpdesk::Router& r) { return r.suggest(case_id, item_id, limit, include_excluded); });
            py::list out;
            for (const auto& s : found) out.append(to_py(s));
            return out;
          },
          "case_id"_a, "item_id"_a, "limit"_a = 5, "include_excluded"_a = false,
          "Agents ranked for the item, best first (RouteSuggestion dicts with each term's contribution).")
      .def(
          "auto_assign",
          [](PyRouter& self, const std::string& case_id, const std::string& item_id) -> py::object {
            auto who = self.with([&](helpdesk::Router& r) { return r.auto_assign(case_id, item_id); });
            if (!who) return py::none();
            return py::str(*who);
          },
          "case_id"_a, "item_id"_a, "Assigns the best available agent with free capacity; returns it, or None.")
      .def(
          "learn_from_cases",
          [](PyRouter& self, py::handle case_ids) {
            auto ids = to_strings(case_ids, "case_ids");
            return self.with([&](helpdesk::Router& r) { return r.learn_from_cases(ids); });
          },
          "case_ids"_a, "Learns from the histories of the given cases; returns the completions learned.")
      .def(
          "record_completion",
          [](PyRouter& self, const std::string& agent, const std::string& task_kind, py::handle took) {
            Duration d = to_duration(took);
            if (d.count() < 0) throw Error(ErrorCode::invalid_argument, "took must not be negative");
            self.with([&](helpdesk::Router& r) {
              r.record_completion(agent, task_kind, d);
              return 0;
            });
          },
          "agent"_a, "task_kind"_a, "took"_a, "Records one completion (took: timedelta or duration text).")
      .def(
          "performance",
          [](PyRouter& self, const std::string& agent, const std::string& task_kind) {
            return to_py(self.with([&](helpdesk::Router& r) { return r.performance(agent, task_kind); }));
          },
          "agent"_a, "task_kind"_a, "What was learned for (agent, task kind): {'completed', 'median'}.")
      .def("close", &PyRouter::close, "Unsubscribes and releases the router (also done when the engine closes).")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyRouter& self, py::args) {
        self.close();
        return false;
      });
}

}  // namespace

}  // namespace acm::python

PYBIND11_MODULE(_acm, m) {
  using namespace acm::python;
  m.doc() = "acm: embeddable Adaptive Case Management engine (native part; import `acm`).";
  m.attr("__version__") = acm::version();  // project(VERSION) in CMakeLists.txt
  init_conversions();
  register_errors(m);
  bind_values(m);
  bind_learning(m);
  bind_engine(m);
  bind_engine_learning(m);
  bind_helpdesk(m);
  m.def("_close_all_engines", &close_all_engines, "Internal: closes every open engine (run at exit).");
  m.def("_set_value_classes", &set_value_classes, "Internal: the dict subclasses of values (acm/_values.py).");
  m.def("_to_json", &value_to_json, "kind"_a, "value"_a,
        "Internal: the JSON shape (docs/json.md) of a value dict of `kind` (Value.to_json).");
  py::module_::import("atexit").attr("register")(m.attr("_close_all_engines"));
}
