// SPDX-License-Identifier: Apache-2.0
// bindings/python/src/convert.cpp - JSON, time and error conversions.
#include "convert.hpp"

#include <array>
#include <climits>
#include <string_view>

namespace acm::python {

namespace {

// Objects of the datetime module, imported once and kept for the life of the process (never
// released: releasing them after the interpreter is gone would crash).
struct DateTime {
  PyObject* datetime = nullptr;   // datetime.datetime
  PyObject* timedelta = nullptr;  // datetime.timedelta
  PyObject* epoch = nullptr;      // datetime(1970, 1, 1, tzinfo=timezone.utc)
};
DateTime& dt() {
  static DateTime d;
  return d;
}

// The Python classes for each ErrorCode, set by acm/__init__.py (_set_error_classes).
std::array<PyObject*, 12>& error_classes() {
  static std::array<PyObject*, 12> classes{};
  return classes;
}

constexpr int max_depth = 512;  // nesting bound for JSON conversion (guards against cycles)

Json to_json_at(py::handle v, int depth) {
  if (depth > max_depth) throw Error(ErrorCode::invalid_argument, "value nested too deeply (or cyclic) for JSON");
  if (v.is_none()) return nullptr;
  if (PyBool_Check(v.ptr())) return v.ptr() == Py_True;
  if (PyLong_Check(v.ptr())) {
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow == 0) {
      if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
      return static_cast<std::int64_t>(n);
    }
    if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(v.ptr());
      if (!PyErr_Occurred()) return static_cast<std::uint64_t>(u);
      PyErr_Clear();
    }
    throw Error(ErrorCode::invalid_argument, "integer out of the 64-bit range of JSON numbers");
  }
  if (PyFloat_Check(v.ptr())) return PyFloat_AsDouble(v.ptr());
  if (PyUnicode_Check(v.ptr())) return v.cast<std::string>();
  if (PyDict_Check(v.ptr())) {
    Json out = Json::object();
    for (auto item : py::reinterpret_borrow<py::dict>(v)) {
      if (!PyUnicode_Check(item.first.ptr()))
        throw py::type_error("JSON object keys must be str, not " +
                             py::str(py::type::handle_of(item.first).attr("__name__")).cast<std::string>());
      out[item.first.cast<std::string>()] = to_json_at(item.second, depth + 1);
    }
    return out;
  }
  if (PyList_Check(v.ptr()) || PyTuple_Check(v.ptr())) {
    Json out = Json::array();
    for (auto item : py::reinterpret_borrow<py::sequence>(v)) out.push_back(to_json_at(item, depth + 1));
    return out;
  }
  if (PyObject_IsInstance(v.ptr(), dt().datetime) == 1) return format_time(to_time(v));
  if (PyObject_IsInstance(v.ptr(), dt().timedelta) == 1) return format_duration(to_duration(v));
  throw py::type_error("cannot convert " + py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>() +
                       " to JSON (use None, bool, int, float, str, list, tuple, dict, datetime or timedelta)");
}

std::int64_t timedelta_ms(py::handle td) {
  auto days = td.attr("days").cast<std::int64_t>();
  auto seconds = td.attr("seconds").cast<std::int64_t>();
  auto micros = td.attr("microseconds").cast<std::int64_t>();  // 0..999999, so / floors
  return days * 86400000 + seconds * 1000 + micros / 1000;
}

py::object make_timedelta(std::int64_t ms) {
  // timedelta(days, seconds, microseconds, milliseconds)
  return py::reinterpret_borrow<py::object>(dt().timedelta)(0, 0, 0, ms);
}

std::string type_name(py::handle v) { return py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>(); }

}  // namespace

void init_conversions() {
  py::module_ datetime = py::module_::import("datetime");
  DateTime& d = dt();
  d.datetime = py::object(datetime.attr("datetime")).release().ptr();
  d.timedelta = py::object(datetime.attr("timedelta")).release().ptr();
  d.epoch =
      datetime.attr("datetime")(1970, 1, 1, py::arg("tzinfo") = datetime.attr("timezone").attr("utc")).release().ptr();
}

Json to_json(py::handle value) { return to_json_at(value, 0); }

py::object from_json(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      return py::none();
    case Json::value_t::boolean:
      return py::bool_(v.get<bool>());
    case Json::value_t::number_integer:
      return py::int_(v.get<std::int64_t>());
    case Json::value_t::number_unsigned:
      return py::int_(v.get<std::uint64_t>());
    case Json::value_t::number_float:
      return py::float_(v.get<double>());
    case Json::value_t::string:
      return py::str(v.get_ref<const std::string&>());
    case Json::value_t::binary: {
      const auto& b = v.get_binary();
      return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
    }
    case Json::value_t::array: {
      py::list out(v.size());
      std::size_t i = 0;
      for (const auto& e : v) out[i++] = from_json(e);
      return out;
    }
    case Json::value_t::object: {
      py::dict out;
      for (const auto& [key, e] : v.items()) out[py::str(key)] = from_json(e);
      return out;
    }
  }
  return py::none();
}

TimePoint to_time(py::handle v) {
  if (PyUnicode_Check(v.ptr())) return parse_time(v.cast<std::string>());
  if (PyObject_IsInstance(v.ptr(), dt().datetime) != 1)
    throw py::type_error("expected a datetime.datetime (timezone-aware) or an ISO-8601 string, not " + type_name(v));
  if (v.attr("utcoffset")().is_none())
    throw Error(ErrorCode::invalid_argument,
                "naive datetime " + py::str(v).cast<std::string>() +
                    ": give a timezone-aware datetime (e.g. tzinfo=datetime.timezone.utc)");
  py::object delta = py::reinterpret_borrow<py::object>(v) - py::reinterpret_borrow<py::object>(dt().epoch);
  return TimePoint(Duration(timedelta_ms(delta)));
}

std::optional<TimePoint> to_optional_time(py::handle v) {
  if (v.is_none()) return std::nullopt;
  return to_time(v);
}

py::object from_time(TimePoint t) {
  return py::reinterpret_borrow<py::object>(dt().epoch) + make_timedelta(t.time_since_epoch().count());
}

py::object from_time(const std::optional<TimePoint>& t) { return t ? from_time(*t) : py::none(); }

Duration to_duration(py::handle v) {
  if (PyUnicode_Check(v.ptr())) return parse_duration(v.cast<std::string>());
  if (PyObject_IsInstance(v.ptr(), dt().timedelta) != 1)
    throw py::type_error("expected a datetime.timedelta or a duration string (\"PT2H\", \"90m\"), not " + type_name(v));
  return Duration(timedelta_ms(v));
}

std::optional<Duration> to_optional_duration(py::handle v) {
  if (v.is_none()) return std::nullopt;
  return to_duration(v);
}

py::object from_duration(Duration d) { return make_timedelta(d.count()); }

py::object from_duration(const std::optional<Duration>& d) { return d ? from_duration(*d) : py::none(); }

void register_errors(py::module_& m) {
  // acm/__init__.py defines the classes (readable Python) and hands them over here, indexed by
  // ErrorCode value; until then (or for a code without a class) errors surface as RuntimeError.
  m.def(
      "_set_error_classes",
      [](const py::dict& classes) {
        for (auto [code, cls] : classes) {
          int c = code.cast<int>();
          if (c <= 0 || c >= static_cast<int>(error_classes().size())) throw py::value_error("bad error code");
          error_classes()[c] = cls.inc_ref().ptr();  // kept for the life of the process
        }
      },
      "Internal: installs the exception classes of the package `acm`.");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      auto index = static_cast<std::size_t>(e.code());
      PyObject* cls = index < error_classes().size() ? error_classes()[index] : nullptr;
      if (!cls) {
        PyErr_SetString(PyExc_RuntimeError, (std::string(to_string(e.code())) + ": " + e.what()).c_str());
        return;
      }
      // cls(message): the class carries `code`; the instance gets `message`.
      PyObject* exc = PyObject_CallFunction(cls, "s", e.what());
      if (!exc) return;  // the constructor raised: that error stands
      PyErr_SetObject(cls, exc);
      Py_DECREF(exc);
    } catch (const Json::exception& e) {
      PyErr_SetString(error_classes()[1] ? error_classes()[1] : PyExc_ValueError, e.what());
    }
  });
}

std::string describe(const py::error_already_set& e) {
  std::string text = py::str(e.type().attr("__name__")).cast<std::string>();
  std::string message = py::str(e.value()).cast<std::string>();
  if (!message.empty()) text += ": " + message;
  return text;
}

}  // namespace acm::python
