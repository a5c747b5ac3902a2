// SPDX-License-Identifier: Apache-2.0
/* tests/c/test_c_api.c - the C ABI, exercised from C11: a help-desk complaint played end to end
 * against a real SQLite store file, with bad input, refused permissions and callbacks.
 * Prints every failed check and returns non-zero if any failed. */
#define _POSIX_C_SOURCE 200809L

#include <acm/c.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"


/* The state of plan item `item` in a case view (keys are sorted, so "state" follows "id" within
 * the item's object). Writes "" when the item is missing. */
static void item_state(const char* case_json, const char* item, char* out, size_t size) {
  char key[256];
  const char* p;
  const char* q;
  size_t n;
  out[0] = '\0';
  snprintf(key, sizeof key, "\"id\":\"%s\"", item);
  p = case_json ? strstr(case_json, key) : NULL;
  if (!p) return;
  p = strstr(p, "\"state\":\"");
  if (!p) return;
  p += strlen("\"state\":\"");
  q = strchr(p, '"');
  if (!q) return;
  n = (size_t)(q - p);
  if (n >= size) n = size - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

static char* read_file(const char* path) {
  FILE* f = fopen(path, "rb");
  char* buf;
  long size;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)size + 1);
  if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    buf = NULL;
  }
  if (buf) buf[size] = '\0';
  fclose(f);
  return buf;
}

static void remove_dir(const char* dir) {
  DIR* d = opendir(dir);
  struct dirent* e;
  char path[1024];
  if (!d) return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

/* ---- callbacks ----------------------------------------------------------------------------- */

typedef struct {
  acm_engine* engine;
  const char* case_id;
  int calls;
  int context_ok;
  acm_status reentrant_status; /* what calling the engine for the handler's own case gave */
} refund_handler_state;

static void refund_handler(void* user_data, const char* context_json, acm_task_result* result) {
  refund_handler_state* s = user_data;
  char* case_json = NULL;
  char* err = NULL;
  char expected_case[128];
  ++s->calls;
  snprintf(expected_case, sizeof expected_case, "\"case\":\"%s\"", s->case_id);
  s->context_ok = contains(context_json, expected_case) && contains(context_json, "\"handler\":\"payments.refund\"") &&
                  contains(context_json, "\"method\":\"original_payment\"") && contains(context_json, "\"now\":\"");
  /* A handler must not call the engine for its own case. */
  s->reentrant_status = acm_case_get(s->engine, NULL, s->case_id, &case_json, &err);
  acm_free(case_json);
  acm_free(err);
  if (acm_task_result_set_output(result, "{\"paid\": 120, \"reference\": \"PAY-1\"}", NULL) != ACM_OK)
    acm_task_result_fail(result, "could not set the output", NULL);
}

static void failing_handler(void* user_data, const char* context_json, acm_task_result* result) {
  (void)user_data;
  (void)context_json;
  acm_task_result_fail(result, "printer on fire", NULL);
}

typedef struct {
  int events;
  int completed_status;  /* case_status events to "completed" */
  int item_transitions;
  long long last_seq;
  int in_order;
} event_log;

static void on_event(void* user_data, const char* event_json) {
  event_log* log = user_data;
  const char* p = strstr(event_json, "\"seq\":");
  ++log->events;
  if (contains(event_json, "\"kind\":\"case_status\"") && contains(event_json, "\"to\":\"completed\""))
    ++log->completed_status;
  if (contains(event_json, "\"kind\":\"item_transition\"")) ++log->item_transitions;
  if (p) { /* one case in this test */
    long long seq = atoll(p + strlen("\"seq\":"));
    if (seq <= log->last_seq) log->in_order = 0;
    log->last_seq = seq;
  }
}

static void count_event(void* user_data, const char* event_json) {
  (void)event_json;
  ++*(int*)user_data;
}

/* ---- the story ----------------------------------------------------------------------------- */

static const int64_t start_ms = 1795424400000LL; /* 2026-11-23T09:00:00Z, a Monday */
static const int64_t minute = 60000LL;

int main(void) {
  char dir_template[] = "/tmp/acm_c_api_XXXXXX";
  char* dir = mkdtemp(dir_template);
  char db[1024];
  char state[64];
  char* err = NULL;
  char* definitions = read_file(ACM_SOURCE_DIR "/examples/definitions/helpdesk.json");
  const char* admin_roles[] = {"admin"};
  const char* agent_roles[] = {"agent"};
  const char* all_kinds_but_timing[] = {"case_status"};
  acm_request admin = {"root", admin_roles, 1, 0, NULL};
  acm_request alice = {"alice", NULL, 0, 0, NULL}; /* owner of the case */
  acm_request bob = {"bob", NULL, 0, 0, NULL};     /* agent */
  acm_request sam = {"sam", NULL, 0, 0, NULL};     /* supervisor */
  acm_request mallory = {"mallory", NULL, 0, 0, NULL};
  acm_options* options = NULL;
  acm_engine* engine = NULL;
  acm_engine* second = NULL;
  refund_handler_state refund = {NULL, NULL, 0, 0, ACM_OK};
  event_log log = {0, 0, 0, 0, 1};
  int status_events = 0;
  uint64_t sub_all = 0, sub_status = 0;
  char* case_id = NULL;
  char* json = NULL;
  char* result = NULL;
  char* item = NULL;
  char* task = NULL;
  bool has_due = false;
  int64_t due = 0, now = 0;
  size_t fired = 99;

  if (!dir || !definitions) {
    fprintf(stderr, "setup failed: temp dir %s, definitions %s\n", dir ? "ok" : "missing",
            definitions ? "ok" : "missing");
    return 2;
  }
  snprintf(db, sizeof db, "%s/helpdesk.db", dir);
  CHECK(strcmp(acm_status_name(ACM_NOT_FOUND), "not_found") == 0);
  CHECK(strcmp(acm_status_name((acm_status)99), "unknown") == 0);
  CHECK(strcmp(acm_version(), ACM_PROJECT_VERSION) == 0); /* project(VERSION) in CMakeLists.txt */

  /* Options and opening. */
  OK(acm_options_create(&options, &err));
  OK(acm_options_set_database(options, db, &err));
  OK(acm_options_set_durability(options, ACM_DURABILITY_FULL, &err));
  OK(acm_options_set_manual_clock(options, start_ms, &err));
  FAILS(acm_options_set_cache_capacity(options, 0, &err), ACM_INVALID_ARGUMENT, "at least 1");
  FAILS(acm_options_set_timer_batch(options, 0, &err), ACM_INVALID_ARGUMENT, "at least 1");
  OK(acm_options_set_timer_batch(options, 64, &err));
  FAILS(acm_options_set_max_payload_bytes(options, 1000, &err), ACM_INVALID_ARGUMENT, "at least 1024");
  OK(acm_options_set_max_payload_bytes(options, 65536, &err));
  FAILS(acm_options_set_durability(options, (acm_durability)7, &err), ACM_INVALID_ARGUMENT, "durability");
  FAILS(acm_engine_open(options, NULL, &err), ACM_INVALID_ARGUMENT, NULL);
  if (!OK(acm_engine_open(options, &engine, &err)) || !engine) {
    fprintf(stderr, "cannot open the engine; giving up\n");
    acm_options_destroy(options);
    remove_dir(dir);
    free(definitions);
    return 1;
  }
  /* One store file, one engine. */
  FAILS(acm_engine_open(options, &second, &err), ACM_STORAGE, NULL);
  CHECK(second == NULL);
  OK(acm_clock_now(engine, &now, &err));
  CHECK(now == start_ms);

  /* Callbacks. */
  refund.engine = engine;
  OK(acm_engine_register_handler(engine, "payments.refund", refund_handler, &refund, &err));
  OK(acm_engine_register_handler(engine, "printer.print", failing_handler, NULL, &err));
  FAILS(acm_engine_register_handler(engine, "x", NULL, NULL, &err), ACM_INVALID_ARGUMENT, "handler");
  OK(acm_engine_subscribe(engine, NULL, 0, on_event, &log, &sub_all, &err));
  OK(acm_engine_subscribe(engine, all_kinds_but_timing, 1, count_event, &status_events, &sub_status, &err));
  CHECK(sub_all != 0 && sub_status != 0 && sub_all != sub_status);

  /* Definitions: bad documents and a refused designer first, then the real set. */
  FAILS(acm_definitions_load(engine, &admin, "{ \"fragments\": [ ", &err), ACM_PARSE_ERROR, "not valid JSON");
  FAILS(acm_definitions_load(engine, &admin, "{\"id\": \"f\", \"items\": [], \"colour\": 1}", &err),
        ACM_INVALID_DEFINITION, "colour");
  FAILS(acm_definitions_load(engine, &alice, definitions, &err), ACM_PERMISSION_DENIED, NULL);
  FAILS(acm_definitions_load(engine, NULL, definitions, &err), ACM_INVALID_ARGUMENT, "request");
  OK(acm_definitions_load(engine, &admin, definitions, &err));
  /* CMMN XML through the same entry (detected by content), and acm_cmmn_import. */
  {
    const char* cmmn =
        "<definitions xmlns=\"http://www.omg.org/spec/CMMN/20151109/MODEL\">\n"
        "  <case id=\"cmmn_case\"><casePlanModel id=\"cmmn_plan\">\n"
        "    <planItem id=\"A\" definitionRef=\"h\"/><humanTask id=\"h\" name=\"Check\"/>\n"
        "  </casePlanModel></case></definitions>";
    OK(acm_definitions_load(engine, &admin, cmmn, &err));
    OK(acm_case_type_get(engine, "cmmn_case", 0, &json, &err));
    CHECK(contains(json, "\"semantics\":\"cmmn\""));
    acm_free(json);
    OK(acm_cmmn_import(cmmn, &json, &err));
    CHECK(contains(json, "\"fragment\":\"cmmn_plan\""));
    CHECK(contains(json, "\"A\":[\"A\"]"));
    acm_free(json);
    FAILS(acm_cmmn_import("<definitions xmlns=\"http://www.omg.org/spec/CMMN/20151109/MODEL\">\n<case id=\"x\">",
                          &json, &err),
          ACM_PARSE_ERROR, "line 2");
    FAILS(acm_definitions_load(engine, &admin,
                               "<definitions xmlns=\"http://www.omg.org/spec/CMMN/20151109/MODEL\"><case id=\"y\">"
                               "<casePlanModel id=\"yp\"><planItem id=\"P\" definitionRef=\"pt\"/>"
                               "<processTask id=\"pt\"/></casePlanModel></case></definitions>",
                               &err),
          ACM_INVALID_DEFINITION, "process task");
    FAILS(acm_case_type_get(engine, "y", 0, &json, &err), ACM_NOT_FOUND, NULL);
  }
  OK(acm_fragment_get(engine, "refund", 0, &json, &err));
  CHECK(contains(json, "\"handler\":\"payments.refund\""));
  acm_free(json);
  FAILS(acm_fragment_get(engine, "no_such_fragment", 0, &json, &err), ACM_NOT_FOUND, "no_such_fragment");
  CHECK(json == NULL);
  OK(acm_fragment_list(engine, &json, &err));
  CHECK(contains(json, "\"id\":\"supplier_repair\""));
  acm_free(json);
  OK(acm_case_type_get(engine, "complaint", 0, &json, &err));
  CHECK(contains(json, "\"id\":\"complaint\""));
  acm_free(json);

  /* A complaint from a high-value customer. */
  FAILS(acm_case_create(engine, &alice, "{\"type\": \"complaint\", \"titel\": \"typo\"}", &case_id, &err),
        ACM_INVALID_ARGUMENT, "titel");
  FAILS(acm_case_create(engine, &alice, "{\"type\": \"nonexistent\"}", &case_id, &err), ACM_NOT_FOUND, NULL);
  CHECK(case_id == NULL);
  OK(acm_case_create(engine, &alice,
                     "{\"type\": \"complaint\", \"title\": \"Laptop does not boot\", \"priority\": 3,"
                     " \"subject\": {\"customer\": \"cust-42\", \"attributes\": {\"value\": 25000}},"
                     " \"participants\": [{\"actor\": \"bob\", \"roles\": [\"agent\"]},"
                     "                    {\"actor\": \"sam\", \"roles\": [\"supervisor\"]}]}",
                     &case_id, &err));
  CHECK(case_id && strncmp(case_id, "case-", 5) == 0);
  if (!case_id) goto done;
  refund.case_id = case_id;

  OK(acm_case_get(engine, NULL, case_id, &json, &err));
  CHECK(contains(json, "\"status\":\"active\""));
  CHECK(contains(json, "\"owner\":\"alice\""));
  CHECK(contains(json, "\"deadline\":\"2026-11-25T09:00:00.000Z\""));
  item_state(json, "diagnosis#1/triage", state, sizeof state);
  CHECK(strcmp(state, "active") == 0);
  acm_free(json);
  OK(acm_case_get(engine, &bob, case_id, &json, &err));
  CHECK(contains(json, case_id));
  acm_free(json);
  FAILS(acm_case_get(engine, &mallory, case_id, &json, &err), ACM_PERMISSION_DENIED, NULL);
  CHECK(json == NULL);
  /* The other case queries a host shows to people, on behalf of an actor. */
  OK(acm_case_history_as(engine, &bob, case_id, 1, &json, &err));
  CHECK(contains(json, "\"kind\":\"case_created\""));
  acm_free(json);
  FAILS(acm_case_history_as(engine, &mallory, case_id, 1, &json, &err), ACM_PERMISSION_DENIED, "view");
  CHECK(json == NULL);
  OK(acm_fragment_list_applicable_as(engine, &bob, case_id, &json, &err));
  acm_free(json);
  FAILS(acm_fragment_list_applicable_as(engine, &mallory, case_id, &json, &err), ACM_PERMISSION_DENIED, "view");
  OK(acm_case_explain_priority_as(engine, &bob, case_id, &json, &err));
  CHECK(contains(json, "\"priority\""));
  acm_free(json);
  FAILS(acm_case_explain_priority_as(engine, &mallory, case_id, &json, &err), ACM_PERMISSION_DENIED, "view");
  FAILS(acm_case_get(engine, NULL, "case-404", &json, &err), ACM_NOT_FOUND, "case-404");
  CHECK(json == NULL);
  FAILS(acm_item_complete(engine, &bob, "case-404", "x", NULL, &result, &err), ACM_NOT_FOUND, "case-404");
  CHECK(result == NULL);
  FAILS(acm_case_get(NULL, NULL, case_id, &json, &err), ACM_INVALID_ARGUMENT, "engine");

  /* Work queue for agents. */
  OK(acm_queue_list(engine, "{\"roles\": [\"agent\"]}", &json, &err));
  CHECK(contains(json, "\"item\":\"diagnosis#1/triage\""));
  CHECK(contains(json, "\"priority\":3"));
  acm_free(json);
  FAILS(acm_queue_list(engine, "{\"limit\": -1}", &json, &err), ACM_INVALID_ARGUMENT, "limit");
  FAILS(acm_queue_list(engine, "{\"limit\": 20000}", &json, &err), ACM_INVALID_ARGUMENT, NULL);

  /* Diagnosis: a hardware fault. */
  OK(acm_clock_advance(engine, 20 * minute, &err));
  FAILS(acm_item_complete(engine, &mallory, case_id, "diagnosis#1/triage", NULL, &result, &err),
        ACM_PERMISSION_DENIED, NULL);
  FAILS(acm_item_complete(engine, &bob, case_id, "diagnosis#1/nothing", NULL, &result, &err), ACM_NOT_FOUND,
        "nothing");
  OK(acm_item_complete(engine, &bob, case_id, "diagnosis#1/triage", NULL, &result, &err));
  CHECK(contains(result, "\"version\":"));
  CHECK(contains(result, "\"kind\":\"item_transition\""));
  acm_free(result);
  result = NULL;
  FAILS(acm_case_file_set(engine, &bob, case_id, "diagnosis.fault", "hardware", NULL, &err), ACM_PARSE_ERROR,
        "value");
  OK(acm_case_file_set(engine, &bob, case_id, "diagnosis.fault", "\"hardware\"", NULL, &err));
  OK(acm_case_file_set(engine, &bob, case_id, "scratch", "[1, 2]", NULL, &err));
  {
    /* A value over the engine's payload limit (64 KiB here) is refused and changes nothing. */
    size_t n = 70000;
    char* big = (char*)malloc(n + 3);
    big[0] = '"';
    memset(big + 1, 'x', n);
    big[n + 1] = '"';
    big[n + 2] = '\0';
    FAILS(acm_case_file_set(engine, &bob, case_id, "scratch", big, NULL, &err), ACM_INVALID_ARGUMENT,
          "larger than 65536 bytes");
    /* 60,000 nested arrays: refused by name (copying such a value would overflow the stack). */
    memset(big, '[', 30000);
    memset(big + 30000, ']', 30000);
    big[60000] = '\0';
    FAILS(acm_case_file_set(engine, &bob, case_id, "scratch", big, NULL, &err), ACM_INVALID_ARGUMENT,
          "nests more than 512 levels");
    free(big);
  }
  OK(acm_case_file_remove(engine, &bob, case_id, "scratch", NULL, &err));
  FAILS(acm_case_file_remove(engine, &bob, case_id, "scratch", NULL, &err), ACM_NOT_FOUND, NULL);
  OK(acm_item_complete(engine, &bob, case_id, "diagnosis#1/diagnose", NULL, NULL, &err));
  OK(acm_case_get(engine, NULL, case_id, &json, &err));
  item_state(json, "diagnosis#1", state, sizeof state);
  CHECK(strcmp(state, "completed") == 0);
  acm_free(json);

  /* What may be added now, and a refund paid by the host's handler. */
  OK(acm_fragment_list_applicable(engine, case_id, &json, &err));
  CHECK(contains(json, "\"fragment\":\"supplier_repair\""));
  CHECK(contains(json, "\"fragment\":\"refund\""));
  acm_free(json);
  FAILS(acm_fragment_add(engine, &alice, case_id, "{\"fragment\": \"refund\", \"goal\": \"resolved\"}", NULL, 0,
                         &item, &err),
        ACM_INVALID_ARGUMENT, "amount");
  CHECK(item == NULL);
  FAILS(acm_fragment_add(engine, &alice, case_id, "\"refund", NULL, 0, &item, &err), ACM_PARSE_ERROR, NULL);
  OK(acm_fragment_add(engine, &alice, case_id,
                      "{\"fragment\": \"refund\", \"goal\": \"resolved\", \"params\": {\"amount\": 120}}", NULL, 0,
                      &item, &err));
  CHECK(item && strcmp(item, "refund#1") == 0);
  acm_free(item);
  item = NULL;
  CHECK(refund.calls == 0);
  OK(acm_item_complete(engine, &sam, case_id, "refund#1/approve_refund", NULL, NULL, &err));
  CHECK(refund.calls == 1);
  CHECK(refund.context_ok);
  CHECK(refund.reentrant_status == ACM_INVALID_STATE);
  OK(acm_case_get(engine, NULL, case_id, &json, &err));
  CHECK(contains(json, "\"paid\":120"));
  item_state(json, "refund#1/pay_refund", state, sizeof state);
  CHECK(strcmp(state, "completed") == 0);
  acm_free(json);

  /* Goals: an extra goal, changed, then cancelled. */
  FAILS(acm_goal_add(engine, &alice, case_id, "{\"id\": \"apology\", \"within\": 4}", NULL, &err),
        ACM_INVALID_ARGUMENT, "within");
  OK(acm_goal_add(engine, &alice, case_id, "{\"id\": \"apology\", \"name\": \"Apology\", \"decision\": true,"
                                           " \"within\": \"4h\", \"required\": false}",
                  &result, &err));
  CHECK(contains(result, "\"kind\":\"goal_added\""));
  acm_free(result);
  result = NULL;
  FAILS(acm_goal_add(engine, &alice, case_id, "{\"id\": \"apology\", \"decision\": true}", NULL, &err),
        ACM_ALREADY_EXISTS, "apology");
  OK(acm_goal_change(engine, &alice, case_id, "apology", "{\"name\": \"Apology letter\", \"deadline\": null}",
                     NULL, &err));
  OK(acm_case_get(engine, NULL, case_id, &json, &err));
  CHECK(contains(json, "\"name\":\"Apology letter\""));
  acm_free(json);
  OK(acm_goal_cancel(engine, &alice, case_id, "apology", "not needed", NULL, &err));
  FAILS(acm_goal_achieve(engine, &alice, case_id, "apology", NULL, &err), ACM_INVALID_STATE, NULL);
  FAILS(acm_goal_cancel(engine, &alice, case_id, "nope", NULL, NULL, &err), ACM_NOT_FOUND, NULL);

  /* An ad-hoc call-back task, assigned, that becomes overdue. */
  FAILS(acm_task_add(engine, &alice, case_id, "{\"name\": \"Call\", \"kind\": \"stage\"}", &task, &err),
        ACM_INVALID_ARGUMENT, NULL);
  FAILS(acm_task_add(engine, &alice, case_id, "{\"name\": \"Call\", \"rol\": \"agent\"}", &task, &err),
        ACM_INVALID_ARGUMENT, "rol");
  OK(acm_task_add(engine, &alice, case_id, "{\"name\": \"Call the customer back\", \"role\": \"agent\", \"due\": \"1h\"}",
                  &task, &err));
  CHECK(task != NULL);
  if (!task) goto done;
  OK(acm_item_assign(engine, &alice, case_id, task, "bob", NULL, &err));
  FAILS(acm_item_assign(engine, &alice, case_id, task, "mallory", NULL, &err), ACM_INVALID_ARGUMENT, NULL);
  OK(acm_engine_next_due(engine, &has_due, &due, &err));
  CHECK(has_due);
  OK(acm_clock_now(engine, &now, &err));
  CHECK(due > now);
  OK(acm_queue_list(engine, "{\"assignee\": \"bob\"}", &json, &err));
  CHECK(contains(json, task));
  acm_free(json);
  OK(acm_clock_advance(engine, 2 * 60 * minute, &err));
  FAILS(acm_clock_advance(engine, -1, &err), ACM_INVALID_ARGUMENT, NULL);
  FAILS(acm_clock_advance_to(engine, start_ms, &err), ACM_INVALID_ARGUMENT, NULL);
  OK(acm_clock_now(engine, &now, &err));
  OK(acm_queue_list(engine, NULL, &json, &err));
  CHECK(contains(json, task));
  acm_free(json);
  {
    char filter[128];
    snprintf(filter, sizeof filter, "{\"overdue_at\": %lld}", (long long)now);
    OK(acm_queue_list(engine, filter, &json, &err));
    CHECK(contains(json, task));
    acm_free(json);
    snprintf(filter, sizeof filter, "{\"overdue_at\": %lld}", (long long)start_ms);
    OK(acm_queue_list(engine, filter, &json, &err));
    CHECK(json && strcmp(json, "[]") == 0);
    acm_free(json);
  }
  OK(acm_engine_run_due(engine, &fired, &err));
  CHECK(fired == 0);
  OK(acm_item_terminate(engine, &alice, case_id, task, NULL, &err));

  /* An automated ad-hoc task whose handler fails, and a signal. */
  OK(acm_task_add(engine, &alice, case_id, "{\"name\": \"Print letter\", \"kind\": \"automated_task\","
                                           " \"handler\": \"printer.print\"}",
                  &item, &err));
  OK(acm_case_get(engine, NULL, case_id, &json, &err));
  item_state(json, item, state, sizeof state);
  CHECK(strcmp(state, "failed") == 0);
  acm_free(json);
  OK(acm_case_history(engine, case_id, 1, &json, &err));
  CHECK(contains(json, "printer on fire"));
  acm_free(json);
  OK(acm_item_terminate(engine, &alice, case_id, item, NULL, &err));
  acm_free(item);
  item = NULL;
  OK(acm_case_signal(engine, &bob, case_id, "customer_replied", "{\"text\": \"thanks\"}", &result, &err));
  CHECK(contains(result, "\"kind\":\"signal\""));
  acm_free(result);
  result = NULL;
  FAILS(acm_case_signal(engine, &bob, case_id, "", NULL, NULL, &err), ACM_INVALID_ARGUMENT, NULL);
  OK(acm_case_attach(engine, &bob, case_id, "{\"kind\": \"note\", \"text\": \"Customer called twice\"}", &result,
                     &err));
  CHECK(contains(result, "\"created\":\""));
  acm_free(result);
  result = NULL;

  /* Follow-up with the customer: a manual task started by hand and a user event. */
  OK(acm_fragment_add(engine, &alice, case_id, "\"customer_followup\"", NULL, 0, &item, &err));
  CHECK(item && strcmp(item, "customer_followup#1") == 0);
  acm_free(item);
  item = NULL;
  OK(acm_case_get(engine, NULL, case_id, &json, &err));
  item_state(json, "customer_followup#1/call_customer", state, sizeof state);
  CHECK(strcmp(state, "enabled") == 0);
  acm_free(json);
  FAILS(acm_item_complete(engine, &bob, case_id, "customer_followup#1/call_customer", NULL, NULL, &err),
        ACM_INVALID_STATE, NULL);
  OK(acm_item_start(engine, &bob, case_id, "customer_followup#1/call_customer", NULL, &err));
  OK(acm_item_complete(engine, &bob, case_id, "customer_followup#1/call_customer", NULL, NULL, &err));
  OK(acm_item_occur(engine, &bob, case_id, "customer_followup#1/customer_confirmed", NULL, &err));
  OK(acm_case_get(engine, NULL, case_id, &json, &err));
  item_state(json, "customer_followup#1/confirmed", state, sizeof state);
  CHECK(strcmp(state, "completed") == 0);
  acm_free(json);

  /* Planning: dependencies between two manual tasks, a refused cycle, then both removed. */
  {
    char* first = NULL;
    char* second_task = NULL;
    OK(acm_task_add(engine, &alice, case_id, "{\"name\": \"Draft letter\", \"manual\": true}", &first, &err));
    OK(acm_task_add(engine, &alice, case_id, "{\"name\": \"Send letter\", \"manual\": true}", &second_task, &err));
    if (first && second_task) {
      OK(acm_item_add_dependency(engine, &alice, case_id, second_task, first, NULL, &err));
      FAILS(acm_item_add_dependency(engine, &alice, case_id, first, second_task, NULL, &err), ACM_CYCLE, NULL);
      OK(acm_item_disable(engine, &alice, case_id, first, NULL, &err));
      OK(acm_item_reenable(engine, &alice, case_id, first, NULL, &err));
      OK(acm_item_remove(engine, &alice, case_id, second_task, NULL, &err));
      OK(acm_item_remove(engine, &alice, case_id, first, NULL, &err));
      FAILS(acm_item_remove(engine, &alice, case_id, first, NULL, &err), ACM_NOT_FOUND, NULL);
    }
    acm_free(first);
    acm_free(second_task);
  }

  /* Status changes: optimistic concurrency, suspend, resume. */
  {
    acm_request stale = {"alice", NULL, 0, 1, NULL};
    FAILS(acm_case_suspend(engine, &stale, case_id, "waiting", NULL, &err), ACM_CONFLICT, NULL);
  }
  OK(acm_case_set_priority(engine, &alice, case_id, 5, NULL, &err));
  OK(acm_case_add_participant(engine, &alice, case_id, "lena", agent_roles, 1, NULL, &err));
  FAILS(acm_case_add_participant(engine, &alice, case_id, "x", NULL, 1, NULL, &err), ACM_INVALID_ARGUMENT, NULL);
  OK(acm_case_remove_participant(engine, &alice, case_id, "lena", NULL, &err));
  OK(acm_case_set_subject_attribute(engine, &alice, case_id, "sentiment", "\"angry\"", NULL, &err));
  OK(acm_case_suspend(engine, &alice, case_id, "waiting for parts", NULL, &err));
  FAILS(acm_case_file_set(engine, &bob, case_id, "x", "1", NULL, &err), ACM_INVALID_STATE, NULL);
  OK(acm_case_resume(engine, &alice, case_id, NULL, &err));

  /* Resolution: the goal is achieved and the case completes; then it is closed. */
  OK(acm_case_file_set(engine, &bob, case_id, "resolution", "{\"confirmed\": true}", NULL, &err));
  OK(acm_case_get(engine, NULL, case_id, &json, &err));
  CHECK(contains(json, "\"status\":\"completed\""));
  acm_free(json);
  CHECK(log.completed_status == 1);
  FAILS(acm_case_close(engine, &bob, case_id, NULL, &err), ACM_PERMISSION_DENIED, NULL);
  OK(acm_case_close(engine, &alice, case_id, NULL, &err));
  FAILS(acm_case_file_set(engine, &alice, case_id, "x", "1", NULL, &err), ACM_INVALID_STATE, NULL);

  /* Events and subscriptions. */
  CHECK(log.events > 20);
  CHECK(log.item_transitions > 5);
  CHECK(log.in_order);
  CHECK(status_events >= 3); /* suspended, active, completed, closed */
  OK(acm_engine_unsubscribe(engine, sub_status, &err));
  {
    int before = status_events;
    OK(acm_case_reopen(engine, &admin, case_id, "audit", NULL, &err));
    CHECK(status_events == before);
    OK(acm_case_terminate(engine, &admin, case_id, "audit done", NULL, &err));
  }
  OK(acm_case_list(engine, (size_t)-1, NULL, &json, &err));
  {
    char expected[140];
    snprintf(expected, sizeof expected, "[\"%s\"]", case_id);
    CHECK(json && strcmp(json, expected) == 0);
  }
  acm_free(json);
  OK(acm_case_history(engine, case_id, 1, &json, &err));
  CHECK(contains(json, "\"kind\":\"case_created\""));
  acm_free(json);

  /* Everything is in the store file: reopen it. */
  OK(acm_engine_close(engine));
  engine = NULL;
  OK(acm_engine_open(options, &engine, &err));
  if (engine) {
    OK(acm_case_get(engine, NULL, case_id, &json, &err));
    CHECK(contains(json, "\"status\":\"terminated\""));
    CHECK(contains(json, "\"paid\":120"));
    acm_free(json);
    OK(acm_clock_advance(engine, 0, &err));
    /* The global event feed: every event stored, in order, paged; its end; nothing after it. */
    char* end = NULL;
    OK(acm_feed_end(engine, &end, &err));
    CHECK(end && end[0] == '"' && strlen(end) > 2);
    OK(acm_feed_read(engine, NULL, 2, 0, &json, &err));
    CHECK(contains(json, "\"position\":\"") && contains(json, "\"kind\":\"case_created\""));
    CHECK(contains(json, "\"seq\":2") && !contains(json, "\"seq\":3"));
    acm_free(json);
    if (end && strlen(end) > 2 && strlen(end) < 64) {
      char position[64];
      memcpy(position, end + 1, strlen(end) - 2);
      position[strlen(end) - 2] = '\0';
      OK(acm_feed_read(engine, position, 10, 0, &json, &err));
      CHECK(json && strcmp(json, "[]") == 0);
      acm_free(json);
      OK(acm_feed_read(engine, position, 10, 30, &json, &err)); /* waits 30 ms: nothing comes */
      CHECK(json && strcmp(json, "[]") == 0);
      acm_free(json);
    }
    acm_free(end);
    FAILS(acm_feed_read(engine, "not-a-position", 10, 0, &json, &err), ACM_INVALID_ARGUMENT, "not a position");
    FAILS(acm_feed_read(engine, NULL, 0, 0, &json, &err), ACM_INVALID_ARGUMENT, "limit");
    FAILS(acm_feed_end(engine, NULL, &err), ACM_INVALID_ARGUMENT, "output pointer");
  }

done:
  acm_free(case_id);
  acm_free(task);
  acm_free(item);
  acm_free(result);
  acm_engine_close(engine);
  /* A system-clock engine refuses manual time. */
  {
    acm_engine* plain = NULL;
    OK(acm_engine_open(NULL, &plain, &err));
    FAILS(acm_clock_advance(plain, 1000, &err), ACM_INVALID_STATE, "system clock");
    acm_engine_close(plain);
  }
  acm_options_destroy(options);
  acm_free(NULL);
  free(definitions);
  remove_dir(dir);

  if (failures) {
    fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("all %d checks passed\n", checks);
  return 0;
}
