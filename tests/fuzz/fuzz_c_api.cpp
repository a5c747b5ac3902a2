// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_c_api.cpp - the C ABI's JSON entry points (bindings/c), on an in-memory
// engine with a case.
//
// Input: records of one selector byte (which entry point) and a NUL-terminated JSON argument.
// Oracles: nothing crashes and no exception crosses the ABI; no call ends in ACM_INTERNAL (a
// library exception that was not acm::Error, or a bug); a failure always comes with a
// message; the case stays readable.
#include <acm/c.h>

#include "fuzz_support.hpp"

#include <string>

namespace {

const char* const kAdminRoles[] = {"admin"};
const acm_request kAdmin = {"root", kAdminRoles, 1, 0, nullptr};

const char* kDefinitions = R"J({
  "fragments": [{
    "id": "handle", "roles": ["agent"], "parameters": [{"name": "level", "type": "number"}],
    "items": [
      {"id": "answer", "kind": "human_task", "role": "agent", "estimate": "30m"},
      {"id": "remind", "kind": "timer_listener", "timer": "1h"}
    ]
  }],
  "case_types": [{"id": "complaint", "initial_fragments": ["handle"], "goals": [{"id": "g", "within": "2d", "decision": true}]}]
})J";

/// Checks a call's outcome and frees what it returned. `error` and `out` are taken by reference:
/// they are read after the call that fills them (argument evaluation order is unspecified).
void check(const char* call, acm_status status, char*& error, char*& out) {
  if (status == ACM_INTERNAL)
    acm_fuzz::finding(std::string(call) + ": ACM_INTERNAL: " + (error ? error : "(no message)"));
  if (status != ACM_OK && !error) acm_fuzz::finding(std::string(call) + ": failed without a message");
  acm_free(error);
  acm_free(out);
  error = nullptr;
  out = nullptr;
}
void check(const char* call, acm_status status, char*& error) {
  char* none = nullptr;
  check(call, status, error, none);
}

/// A setup call that must work.
void require(const char* call, acm_status status, char*& error) {
  if (status != ACM_OK)
    acm_fuzz::finding(std::string(call) + " failed in the setup: " + (error ? error : "(no message)"));
  acm_free(error);
  error = nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  char* error = nullptr;
  acm_options* options = nullptr;
  require("options_create", acm_options_create(&options, &error), error);
  require("manual_clock", acm_options_set_manual_clock(options, 1795424400000, &error), error);
  acm_engine* engine = nullptr;
  require("engine_open", acm_engine_open(options, &engine, &error), error);
  acm_options_destroy(options);
  require("definitions_load", acm_definitions_load(engine, &kAdmin, kDefinitions, &error), error);
  char* id = nullptr;
  require("case_create", acm_case_create(engine, &kAdmin, R"({"id": "c1", "type": "complaint"})", &id, &error), error);
  acm_free(id);
  acm_learner* learner = nullptr;
  require("learner_create", acm_learner_create(nullptr, &learner, &error), error);

  acm_fuzz::Bytes in(data, size);
  for (int round = 0; round < 16 && in.left() > 0; ++round) {
    const std::uint8_t which = in.byte();
    std::string arg;
    while (in.left() > 0) {
      const std::uint8_t c = in.byte();
      if (c == 0) break;
      arg.push_back(static_cast<char>(c));
    }
    const char* a = arg.c_str();
    char* out = nullptr;
    switch (which % 16) {
      case 0:
        check("definitions_load", acm_definitions_load(engine, &kAdmin, a, &error), error);
        break;
      case 1:
        check("case_create", acm_case_create(engine, &kAdmin, a, &out, &error), error, out);
        break;
      case 2:
        check("case_file_set", acm_case_file_set(engine, &kAdmin, "c1", "x.y", a, &out, &error), error, out);
        break;
      case 3:
        check("case_signal", acm_case_signal(engine, &kAdmin, "c1", "ping", a, &out, &error), error, out);
        break;
      case 4:
        check("case_attach", acm_case_attach(engine, &kAdmin, "c1", a, &out, &error), error, out);
        break;
      case 5:
        check("goal_add", acm_goal_add(engine, &kAdmin, "c1", a, &out, &error), error, out);
        break;
      case 6:
        check("goal_change", acm_goal_change(engine, &kAdmin, "c1", "g", a, &out, &error), error, out);
        break;
      case 7:
        check("promise_make", acm_promise_make(engine, &kAdmin, "c1", a, &out, &error), error, out);
        break;
      case 8:
        check("fragment_add", acm_fragment_add(engine, &kAdmin, "c1", a, nullptr, 0, &out, &error), error, out);
        break;
      case 9:
        check("task_add", acm_task_add(engine, &kAdmin, "c1", a, &out, &error), error, out);
        break;
      case 10:
        check("queue_list", acm_queue_list(engine, a, &out, &error), error, out);
        break;
      case 11: {
        int version = 0;
        check("template_put", acm_template_put(engine, "t", "fuzz", a, "x", 1, &version, &error), error);
        break;
      }
      case 12:
        check("learner_add", acm_learner_add(learner, a, &error), error);
        break;
      case 13:
        check("learner_next_steps", acm_learner_next_steps(learner, a, 5, true, &out, &error), error, out);
        break;
      case 14:
        check("learner_completion", acm_learner_completion(learner, a, ACM_NO_TIME, &out, &error), error, out);
        break;
      case 15: {
        acm_learner* other = nullptr;
        check("learner_create", acm_learner_create(a, &other, &error), error);
        acm_learner_destroy(other);
        break;
      }
    }
  }
  char* view = nullptr;
  const acm_status got = acm_case_get(engine, nullptr, "c1", &view, &error);
  check("case_get", got, error, view);
  if (got != ACM_OK) acm_fuzz::finding("the case is no longer readable");
  acm_learner_destroy(learner);
  acm_engine_close(engine);
  return 0;
}
