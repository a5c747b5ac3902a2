// SPDX-License-Identifier: Apache-2.0
/* tests/c/test_c_learn.c - the newer parts of the C ABI from C11: business calendars and SLA
 * pauses, promises (with a forecaster), priority policies, stored templates, and learning from the
 * help-desk log (import, train, recommend, save/load, damaged bytes, the evaluation protocol).
 * Prints every failed check and returns non-zero if any failed. */
#define _POSIX_C_SOURCE 200809L

#include <acm/c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"


/* The number after the first `"key":` in `json` (-1 if missing). */
static double number_after(const char* json, const char* key) {
  char k[128];
  const char* p;
  snprintf(k, sizeof k, "\"%s\":", key);
  p = json ? strstr(json, k) : NULL;
  return p ? strtod(p + strlen(k), NULL) : -1.0;
}

/* A C string with the whole JSON array member at index i (counted at top level), copied. */
static char* array_element(const char* array, int index) {
  int depth = 0, i = 0, in_string = 0;
  const char* start = NULL;
  const char* p;
  for (p = array; *p; ++p) {
    char c = *p;
    if (in_string) {
      if (c == '\\') ++p;
      else if (c == '"') in_string = 0;
      continue;
    }
    if (c == '"') in_string = 1;
    else if (c == '{' || c == '[') {
      if (depth == 1 && c == '{' && i == index) start = p;
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
      if (depth == 1 && start) {
        size_t n = (size_t)(p - start + 1);
        char* out = malloc(n + 1);
        if (!out) return NULL;
        memcpy(out, start, n);
        out[n] = '\0';
        return out;
      }
    } else if (c == ',' && depth == 1) {
      ++i;
    }
  }
  return NULL;
}

static const acm_request admin = {"root", (const char* const[]){"admin"}, 1, 0, NULL};

/* 2026-11-27T14:00:00Z: Friday 15:00 in Rome. */
#define FRIDAY_1400Z 1795788000000LL
#define HOUR 3600000LL

static const char* office =
    "{\"name\": \"office\", \"time_zone\": \"Europe/Rome\", \"hours\": {\"mon\": [\"09:00-17:00\"],"
    " \"tue\": [\"09:00-17:00\"], \"wed\": [\"09:00-17:00\"], \"thu\": [\"09:00-17:00\"],"
    " \"fri\": [\"09:00-17:00\"]}, \"holidays\": [\"2026-12-08\"]}";

static void test_calendar_sla(void) {
  char* err = NULL;
  acm_options* o = NULL;
  acm_engine* e = NULL;
  char* id = NULL;
  char* view = NULL;
  OK(acm_options_create(&o, &err));
  FAILS(acm_options_set_calendar_json(o, "{\"name\": \"x\", \"time_zone\": \"Mars/Olympus\"}", &err),
        ACM_INVALID_DEFINITION, "Mars/Olympus");
  FAILS(acm_options_set_calendar_json(o, "{nope", &err), ACM_PARSE_ERROR, NULL);
  OK(acm_options_set_calendar_json(o, office, &err));
  OK(acm_options_set_manual_clock(o, FRIDAY_1400Z, &err));
  OK(acm_engine_open(o, &e, &err));
  OK(acm_case_create(e, &admin, NULL, &id, &err));
  OK(acm_goal_add(e, &admin, id, "{\"id\": \"sla\", \"within\": \"PT8H\"}", NULL, &err));
  OK(acm_case_get(e, NULL, id, &view, &err));
  /* Friday 15:00 + 8 business hours = Monday 15:00 Rome = 14:00 UTC. */
  CHECK(contains(view, "\"deadline\":\"2026-11-30T14:00:00.000Z\""));
  CHECK(contains(view, "\"paused_since\":null"));
  CHECK(contains(view, "\"promises\":[]"));
  acm_free(view);
  /* Monday 10:00 Rome: waiting on the customer until Tuesday 12:00. */
  OK(acm_clock_advance_to(e, FRIDAY_1400Z + 67 * HOUR, &err));
  OK(acm_goal_pause(e, &admin, id, "sla", "waiting on customer", NULL, &err));
  FAILS(acm_goal_pause(e, &admin, id, "sla", NULL, NULL, &err), ACM_INVALID_STATE, "paused");
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"paused_since\":\"2026-11-30T09:00:00.000Z\""));
  acm_free(view);
  OK(acm_clock_advance_to(e, FRIDAY_1400Z + 93 * HOUR, &err)); /* Tuesday 11:00Z, past the old deadline */
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"timing\":\"on_track\""));
  acm_free(view);
  OK(acm_goal_resume(e, &admin, id, NULL, NULL, &err));
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"deadline\":\"2026-12-01T16:00:00.000Z\""));
  CHECK(contains(view, "\"paused_since\":null"));
  acm_free(view);
  FAILS(acm_goal_resume(e, &admin, id, "sla", NULL, &err), ACM_INVALID_STATE, NULL);
  acm_free(id);
  acm_engine_close(e);
  acm_options_destroy(o);
}

static int64_t forecast_ms = 0;
static int forecaster_calls = 0;
static int64_t forecaster(void* user_data, const char* case_json, int64_t now_ms) {
  (void)now_ms;
  ++forecaster_calls;
  if (user_data != &forecast_ms || !contains(case_json, "\"promises\"")) return ACM_NO_TIME;
  return forecast_ms;
}

/* 2026-11-23T09:00:00Z, a Monday. */
#define MONDAY_0900Z 1795424400000LL

static void test_promises_and_priority(void) {
  char* err = NULL;
  acm_options* o = NULL;
  acm_engine* e = NULL;
  char* id = NULL;
  char* task = NULL;
  char* view = NULL;
  char* why = NULL;
  OK(acm_options_create(&o, &err));
  OK(acm_options_set_manual_clock(o, MONDAY_0900Z, &err));
  FAILS(acm_options_set_promise_warning(o, -1, &err), ACM_INVALID_ARGUMENT, NULL);
  OK(acm_options_set_promise_warning(o, 2 * HOUR, &err));
  FAILS(acm_options_set_priority_policy_json(o, "{\"terms\": [{\"name\": \"x\"}, {\"expression\": \"1\", \"bogus\": 1}]}",
                                             &err),
        ACM_INVALID_DEFINITION, "/terms/1/bogus");
  OK(acm_options_set_priority_policy_json(
      o,
      "{\"terms\": [{\"name\": \"customer value\", \"expression\": \"subject.attributes.value / 1000\", \"weight\": 2},"
      " {\"name\": \"influence\", \"expression\": \"subject.attributes.followers > 10000\", \"weight\": 15}]}",
      &err));
  OK(acm_engine_open(o, &e, &err));

  /* A promise goes at risk (5 h of work left), then is broken at its due time. */
  OK(acm_case_create(e, &admin,
                     "{\"priority\": 5, \"subject\": {\"customer\": \"c-42\", \"attributes\": {\"value\": 12000,"
                     " \"followers\": 250000}}}",
                     &id, &err));
  OK(acm_goal_add(e, &admin, id, "{\"id\": \"fix\"}", NULL, &err));
  OK(acm_task_add(e, &admin, id, "{\"name\": \"repair\", \"estimate\": \"PT5H\", \"goal\": \"fix\", \"manual\": true}", &task, &err));
  FAILS(acm_promise_make(e, &admin, id, "{\"id\": \"callback\"}", NULL, &err), ACM_INVALID_ARGUMENT, "due");
  FAILS(acm_promise_make(e, &admin, id, "{\"id\": \"p\", \"due\": \"2026-11-23T18:00:00Z\", \"x\": 1}", NULL, &err),
        ACM_INVALID_ARGUMENT, "unknown key");
  OK(acm_promise_make(e, &admin, id,
                      "{\"id\": \"callback\", \"what\": \"we call you back\", \"due\": \"2026-11-23T18:00:00Z\"}", NULL,
                      &err));
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"id\":\"callback\""));
  CHECK(contains(view, "\"status\":\"open\""));
  acm_free(view);
  OK(acm_clock_advance_to(e, MONDAY_0900Z + 4 * HOUR + 30 * 60000LL, &err)); /* 13:30Z */
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"timing\":\"at_risk\",\"what\":\"we call you back\""));
  acm_free(view);
  OK(acm_clock_advance_to(e, MONDAY_0900Z + 9 * HOUR, &err)); /* 18:00Z */
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"status\":\"broken\""));
  acm_free(view);
  FAILS(acm_promise_keep(e, &admin, id, "nope", NULL, &err), ACM_NOT_FOUND, NULL);
  OK(acm_promise_make(e, &admin, id, "{\"id\": \"later\", \"due\": \"2026-11-30T18:00:00Z\"}", NULL, &err));
  OK(acm_promise_cancel(e, &admin, id, "later", "customer withdrew", NULL, &err));
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"status\":\"cancelled\""));
  acm_free(view);

  /* 5 + 2 * 12 + 15 = 44, with its reasons. */
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"priority\":44"));
  acm_free(view);
  OK(acm_case_explain_priority(e, id, &why, &err));
  CHECK(number_after(why, "base") == 5);
  CHECK(number_after(why, "priority") == 44);
  CHECK(contains(why, "\"contribution\":24.0"));
  CHECK(contains(why, "\"name\":\"influence\""));
  acm_free(why);
  FAILS(acm_case_explain_priority(e, "nope", &why, &err), ACM_NOT_FOUND, NULL);
  CHECK(why == NULL);
  acm_free(id);
  acm_free(task);
  acm_engine_close(e);
  acm_options_destroy(o);

  /* A forecaster drives the promise's timing. */
  OK(acm_options_create(&o, &err));
  OK(acm_options_set_manual_clock(o, MONDAY_0900Z, &err));
  OK(acm_options_set_forecaster(o, forecaster, &forecast_ms, &err));
  FAILS(acm_options_set_escalation_json(o, "{\"rules\": [{\"id\": \"r\", \"on\": \"bogus\"}]}", &err), ACM_INVALID_DEFINITION,
        NULL);
  OK(acm_engine_open(o, &e, &err));
  forecast_ms = MONDAY_0900Z + 27 * HOUR; /* Tuesday 12:00Z */
  OK(acm_case_create(e, &admin, NULL, &id, &err));
  OK(acm_promise_make(e, &admin, id, "{\"id\": \"p\", \"what\": \"answer\", \"due\": \"2026-11-24T09:00:00Z\"}", NULL,
                      &err));
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"expected\":\"2026-11-24T12:00:00.000Z\""));
  CHECK(contains(view, "\"timing\":\"at_risk\""));
  acm_free(view);
  forecast_ms = MONDAY_0900Z + 6 * HOUR;
  OK(acm_case_file_set(e, &admin, id, "note", "\"new facts\"", NULL, &err));
  OK(acm_case_get(e, NULL, id, &view, &err));
  CHECK(contains(view, "\"expected\":\"2026-11-23T15:00:00.000Z\""));
  CHECK(contains(view, "\"timing\":\"on_track\""));
  acm_free(view);
  CHECK(forecaster_calls > 0);
  acm_free(id);
  acm_engine_close(e);
  acm_options_destroy(o);
}

static void test_learning(void) {
  char* err = NULL;
  acm_learner* l = NULL;
  acm_learner* back = NULL;
  acm_engine* e = NULL;
  char* report = NULL;
  char* steps = NULL;
  char* steps_back = NULL;
  char* completion = NULL;
  char* stats = NULL;
  char* traces = NULL;
  char* evaluation = NULL;
  char* info = NULL;
  char* list = NULL;
  void* bytes = NULL;
  void* tbytes = NULL;
  size_t size = 0, tsize = 0;
  int version = 0;
  char path[1024];
  char file[256];
  const char* running =
      "{\"id\": \"r\", \"steps\": [{\"activity\": \"1\", \"time\": \"2012-04-03T16:55:38Z\"},"
      " {\"activity\": \"8\", \"time\": \"2012-04-03T16:56:38Z\"}]}";
  const char* mapping = "{\"case_id\": \"CaseID\", \"activity\": \"ActivityID\", \"timestamp\": \"CompleteTimestamp\"}";
  snprintf(path, sizeof path, "%s/helpdesk/helpdesk_tax2017.csv", ACM_DATA_DIR);

  FAILS(acm_learner_create("{\"next_rounds\": \"many\"}", &l, &err), ACM_INVALID_ARGUMENT, "next_rounds");
  CHECK(l == NULL);
  OK(acm_learner_create("{\"next_rounds\": 30, \"time_rounds\": 30}", &l, &err));
  FAILS(acm_learner_train(l, &err), ACM_INVALID_ARGUMENT, NULL);
  FAILS(acm_learner_add(l, "{\"id\": \"x\", \"steps\": [{\"activity\": \"a\"}]}", &err), ACM_INVALID_ARGUMENT, "time");
  FAILS(acm_learner_import_csv(l, "/nonexistent/log.csv", mapping, &report, &err), ACM_NOT_FOUND, NULL);
  CHECK(report == NULL);
  FAILS(acm_learner_import_csv(l, path, "{\"case_id\": \"Nope\", \"activity\": \"ActivityID\", \"timestamp\": \"x\"}",
                               &report, &err),
        ACM_INVALID_ARGUMENT, "Nope");
  OK(acm_learner_import_csv(l, path, mapping, &report, &err));
  CHECK(number_after(report, "cases") == 3804);
  CHECK(number_after(report, "events") == 13710);
  acm_free(report);
  OK(acm_learner_train(l, &err));
  OK(acm_learner_stats(l, &stats, &err));
  CHECK(number_after(stats, "traces") == 3804);
  CHECK(number_after(stats, "trained_on") == 3804);
  CHECK(number_after(stats, "activities") == 9);
  acm_free(stats);
  OK(acm_learner_next_steps(l, running, 3, false, &steps, &err));
  CHECK(contains(steps, "\"activity\":\""));
  CHECK(!contains(steps, "\"activity\":\"\"")); /* include_end false */
  CHECK(number_after(steps, "probability") > 0.2);
  CHECK(number_after(steps, "support") > 0);
  OK(acm_learner_completion(l, running, ACM_NO_TIME, &completion, &err));
  CHECK(number_after(completion, "remaining_ms") > 0);
  CHECK(contains(completion, "\"quantile\":0.9"));

  /* The newer learner options reach the learner (docs/learning.md): out of range, each is
     refused by name; set, the forecast is another model's. */
  FAILS(acm_learner_create("{\"context_order\": 0}", &back, &err), ACM_INVALID_ARGUMENT, "context_order");
  FAILS(acm_learner_create("{\"context_min_support\": 0}", &back, &err), ACM_INVALID_ARGUMENT, "context_min_support");
  FAILS(acm_learner_create("{\"time_min_leaf_share\": 1.5}", &back, &err), ACM_INVALID_ARGUMENT,
        "time_min_leaf_share");
  FAILS(acm_learner_create("{\"recency_half_life_days\": -2}", &back, &err), ACM_INVALID_ARGUMENT,
        "recency_half_life_days");
  FAILS(acm_learner_create("{\"recent_times\": -1}", &back, &err), ACM_INVALID_ARGUMENT, "recent_times");
  FAILS(acm_learner_create("{\"recent_cases\": \"all\"}", &back, &err), ACM_INVALID_ARGUMENT, "recent_cases");
  CHECK(back == NULL);
  OK(acm_learner_create("{\"next_rounds\": 30, \"time_rounds\": 30, \"recent_times\": 0, \"recent_cases\": 0, "
                        "\"context_order\": 2, \"context_min_support\": 2, \"time_min_leaf_share\": 0, "
                        "\"recency_half_life_days\": 30}",
                        &back, &err));
  OK(acm_learner_import_csv(back, path, mapping, &report, &err));
  acm_free(report);
  OK(acm_learner_train(back, &err));
  OK(acm_learner_completion(back, running, ACM_NO_TIME, &steps_back, &err));
  CHECK(number_after(steps_back, "remaining_ms") > 0);
  CHECK(number_after(steps_back, "remaining_ms") != number_after(completion, "remaining_ms"));
  acm_free(steps_back);
  steps_back = NULL;
  acm_learner_destroy(back);
  back = NULL;
  acm_free(completion);

  /* Save/load round trip gives the same predictions; damaged bytes are refused. */
  OK(acm_learner_save(l, &bytes, &size, &err));
  CHECK(size > 24);
  OK(acm_learner_load(bytes, size, &back, &err));
  OK(acm_learner_next_steps(back, running, 3, false, &steps_back, &err));
  CHECK(steps_back && steps && strcmp(steps, steps_back) == 0);
  acm_free(steps_back);
  acm_learner_destroy(back);
  back = NULL;
  ((unsigned char*)bytes)[size / 2] ^= 0x5a;
  FAILS(acm_learner_load(bytes, size, &back, &err), ACM_STORAGE, "checksum");
  CHECK(back == NULL);
  FAILS(acm_learner_load(bytes, 10, &back, &err), ACM_STORAGE, NULL);
  acm_free(bytes);

  snprintf(file, sizeof file, "/tmp/acm_c_learn_%ld.acmt", (long)getpid());
  OK(acm_learner_export_file(l, file, &err));
  OK(acm_learner_import_file(file, &back, &err));
  OK(acm_learner_next_steps(back, running, 3, false, &steps_back, &err));
  CHECK(steps_back && steps && strcmp(steps, steps_back) == 0);
  acm_free(steps_back);
  acm_learner_destroy(back);
  back = NULL;
  unlink(file);

  /* Templates in the store. */
  OK(acm_engine_open(NULL, &e, &err));
  OK(acm_learner_save_template(l, e, "helpdesk", &version, &err));
  CHECK(version == 1);
  OK(acm_learner_save_template(l, e, "helpdesk", &version, &err));
  CHECK(version == 2);
  OK(acm_learner_load_template(e, "helpdesk", 1, &back, &err));
  OK(acm_learner_next_steps(back, running, 3, false, &steps_back, &err));
  CHECK(steps_back && steps && strcmp(steps, steps_back) == 0);
  acm_free(steps_back);
  acm_learner_destroy(back);
  back = NULL;
  FAILS(acm_learner_load_template(e, "nope", 0, &back, &err), ACM_NOT_FOUND, NULL);
  OK(acm_template_put(e, "broken", "learner", "{\"note\": \"not a learner\"}", "garbage", 7, &version, &err));
  CHECK(version == 1);
  FAILS(acm_learner_load_template(e, "broken", 0, &back, &err), ACM_STORAGE, NULL);
  CHECK(back == NULL);
  OK(acm_template_get(e, "broken", 0, &info, &tbytes, &tsize, &err));
  CHECK(tsize == 7 && memcmp(tbytes, "garbage", 7) == 0);
  CHECK(contains(info, "\"kind\":\"learner\""));
  CHECK(contains(info, "\"note\":\"not a learner\""));
  acm_free(info);
  acm_free(tbytes);
  OK(acm_template_list(e, &list, &err));
  CHECK(contains(list, "\"name\":\"helpdesk\",\"version\":2") || contains(list, "\"version\":2"));
  CHECK(contains(list, "\"name\":\"broken\""));
  acm_free(list);
  FAILS(acm_template_get(e, "nope", 0, &info, &tbytes, &tsize, &err), ACM_NOT_FOUND, NULL);
  CHECK(info == NULL && tbytes == NULL && tsize == 0);
  acm_engine_close(e);
  acm_free(steps);
  acm_learner_destroy(l);

  /* The published protocol through the C ABI. */
  OK(acm_eventlog_read_csv(path, mapping, &traces, &report, &err));
  CHECK(number_after(report, "cases") == 3804);
  acm_free(report);
  {
    char* first = traces ? array_element(traces, 0) : NULL;
    CHECK(contains(first, "\"id\":\"2\""));
    free(first);
  }
  OK(acm_learner_evaluate(traces, NULL, &evaluation, &err));
  {
    double accuracy = number_after(evaluation, "accuracy");
    double mae = number_after(evaluation, "mae_days");
    printf("evaluation through the C ABI: accuracy %.4f, MAE %.3f days\n", accuracy, mae);
    /* "The case ends" is a candidate (a miss), no absolute date: above the Markov baseline. */
    CHECK(accuracy >= 0.74);
    CHECK(accuracy >= number_after(evaluation, "markov-1") + 0.04);
    CHECK(number_after(evaluation, "variable-order markov") > 0.6);
    CHECK(mae >= 0 && mae <= 6.2);
    CHECK(number_after(evaluation, "test_cases") == 1268);
  }
  acm_free(evaluation);
  acm_free(traces);
  FAILS(acm_learner_evaluate("{}", NULL, &evaluation, &err), ACM_INVALID_ARGUMENT, "array");
}

int main(void) {
  test_calendar_sla();
  test_promises_and_priority();
  test_learning();
  printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
