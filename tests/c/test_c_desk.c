// SPDX-License-Identifier: Apache-2.0
/* tests/c/test_c_desk.c - the help-desk parts of the C ABI, from C11: case types, case search, the
 * work queue page, the intake (rules, customer lookup, decisions, log) and the router (roster,
 * suggestions, assignment, performance), with bad input. Prints every failed check and returns
 * non-zero if any failed. */
#include <acm/c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char* kDefinitions =
    "{\"fragments\": [{\"id\": \"support\", \"roles\": [\"agent\"], \"items\": ["
    "  {\"id\": \"answer\", \"kind\": \"human_task\", \"role\": \"agent\", \"skills\": [\"billing\"],"
    "   \"estimate\": \"30m\"}]}],"
    " \"case_types\": [{\"id\": \"ticket\", \"roles\": [{\"name\": \"agent\", \"permissions\": [\"view\", \"work\"]}],"
    "   \"goals\": [{\"id\": \"answered\", \"name\": \"Answered\", \"within\": \"4h\", \"decision\": true}],"
    "   \"initial_fragments\": [\"support\"]},"
    "  {\"id\": \"inquiry\", \"initial_fragments\": [\"support\"]}]}";

static const char* kRules =
    "{\"rules\": ["
    " {\"id\": \"spam\", \"when\": \"contains(lower(event.text), 'unsubscribe')\", \"ignore\": true},"
    " {\"id\": \"mail\", \"when\": \"event.channel == 'email'\", \"attach\": {\"correlation\": [\"customer\"]}},"
    " {\"id\": \"phone\", \"when\": \"event.channel == 'phone'\","
    "  \"create_case\": {\"type\": \"ticket\", \"title\": \"{event.channel}: {event.text}\"}}]}";

static int lookups = 0;

static void lookup(void* user_data, const char* customer, acm_lookup_result* result) {
  char* err = NULL;
  ++lookups;
  if (user_data != &lookups) return;
  if (strcmp(customer, "ann") == 0) {
    if (acm_lookup_result_set(result, "{\"tier\": \"gold\", \"value\": 12000}", &err) != ACM_OK) ++failures;
  } else if (strcmp(customer, "zed") == 0) {
    /* A bad answer is refused; the customer stays unknown. */
    if (acm_lookup_result_set(result, "[1, 2]", &err) != ACM_INVALID_ARGUMENT) ++failures;
  }
  acm_free(err);
}

int main(void) {
  char* err = NULL;
  char* json = NULL;
  char* agent = NULL;
  acm_options* options = NULL;
  acm_engine* engine = NULL;
  acm_intake* intake = NULL;
  acm_router* router = NULL;
  const char* admin_roles[] = {"admin"};
  acm_request admin = {"root", admin_roles, 1, 0, NULL};
  size_t learned = 0;
  const char* cases[] = {"case-1"};

  OK(acm_options_create(&options, &err));
  OK(acm_options_set_manual_clock(options, 1795424400000LL /* 2026-11-23T09:00:00Z */, &err));
  if (!OK(acm_engine_open(options, &engine, &err)) || !engine) return 1;
  acm_options_destroy(options);
  OK(acm_definitions_load(engine, &admin, kDefinitions, &err));

  /* Case types: the latest of each, by id. */
  OK(acm_case_type_list(engine, &json, &err));
  CHECK(contains(json, "\"id\":\"inquiry\"") && contains(json, "\"id\":\"ticket\""));
  CHECK(json && strstr(json, "\"id\":\"inquiry\"") < strstr(json, "\"id\":\"ticket\""));
  acm_free(json);
  FAILS(acm_case_type_list(engine, NULL, &err), ACM_INVALID_ARGUMENT, NULL);

  /* Intake: rules, a customer lookup, decisions and the log. */
  FAILS(acm_intake_create(engine, "{\"rules\": [{\"id\": \"x\", \"when\": \"event.\", \"ignore\": true}]}", NULL, NULL,
                          NULL, &intake, &err),
        ACM_INVALID_DEFINITION, "rule 'x'");
  CHECK(intake == NULL);
  FAILS(acm_intake_create(engine, kRules, "{\"colour\": 1}", NULL, NULL, &intake, &err), ACM_INVALID_ARGUMENT,
        "colour");
  OK(acm_intake_create(engine, kRules, "{\"actor\": {\"id\": \"desk\", \"roles\": [\"admin\"]}}", lookup, &lookups,
                       &intake, &err));
  OK(acm_intake_process(
      intake, "{\"id\": \"p-1\", \"channel\": \"phone\", \"customer\": \"ann\", \"text\": \"no sound\"}", &json, &err));
  CHECK(contains(json, "\"action\":\"create_case\""));
  CHECK(contains(json, "\"case\":\"case-1\""));
  CHECK(contains(json, "\"event_id\":\"p-1\""));
  CHECK(contains(json, "\"rule\":\"phone\""));
  CHECK(contains(json, "\"duplicate\":false"));
  acm_free(json);
  CHECK(lookups >= 1);
  OK(acm_case_get(engine, NULL, "case-1", &json, &err));
  CHECK(contains(json, "\"tier\":\"gold\"")); /* the lookup's attributes became the subject's */
  CHECK(contains(json, "\"title\":\"phone: no sound\""));
  acm_free(json);
  /* The same event again: the first decision, marked duplicate. */
  OK(acm_intake_process(intake, "{\"id\": \"p-1\", \"channel\": \"phone\", \"customer\": \"ann\"}", &json, &err));
  CHECK(contains(json, "\"duplicate\":true") && contains(json, "\"case\":\"case-1\""));
  acm_free(json);
  OK(acm_intake_process(intake,
                        "{\"id\": \"m-1\", \"channel\": \"email\", \"customer\": \"ann\", \"text\": \"any news?\"}",
                        &json, &err));
  CHECK(contains(json, "\"action\":\"attach\"") && contains(json, "\"case\":\"case-1\""));
  acm_free(json);
  OK(acm_intake_process(intake, "{\"id\": \"m-2\", \"channel\": \"email\", \"customer\": \"zed\", \"text\": \"hi\"}",
                        &json, &err));
  CHECK(contains(json, "\"action\":\"unmatched\""));
  acm_free(json);
  /* A malformed event is refused, naming the field, and logged as rejected. */
  FAILS(acm_intake_process(intake, "{\"id\": \"bad-1\", \"channel\": \"phone\", \"sentiment\": 5}", &json, &err),
        ACM_INVALID_ARGUMENT, "sentiment");
  CHECK(json == NULL);
  FAILS(acm_intake_process(intake, "{\"id\": ", &json, &err), ACM_PARSE_ERROR, NULL);
  FAILS(acm_intake_process(NULL, "{}", &json, &err), ACM_INVALID_ARGUMENT, "intake");
  OK(acm_intake_log_of(engine, "bad-1", &json, &err));
  CHECK(contains(json, "\"action\":\"rejected\"") && contains(json, "sentiment"));
  acm_free(json);
  OK(acm_intake_log_list(engine, 100, 0, &json, &err));
  CHECK(contains(json, "\"seq\":1") && contains(json, "\"event_id\":\"m-1\"") && contains(json, "\"case\":\"case-1\""));
  acm_free(json);
  OK(acm_intake_log_list(engine, 100, 4, &json, &err));
  CHECK(json && !contains(json, "\"event_id\":\"p-1\""));
  acm_free(json);
  FAILS(acm_intake_log_list(engine, 20000, 0, &json, &err), ACM_INVALID_ARGUMENT, "10000");
  OK(acm_case_open_of(engine, "ann", 10, &json, &err));
  CHECK(json && strcmp(json, "[\"case-1\"]") == 0);
  acm_free(json);
  OK(acm_intake_set_rules(intake, "[{\"id\": \"all\", \"when\": \"true\", \"ignore\": true}]", &err));
  OK(acm_intake_process(intake, "{\"id\": \"p-2\", \"channel\": \"phone\", \"customer\": \"bob\"}", &json, &err));
  CHECK(contains(json, "\"action\":\"ignore\""));
  acm_free(json);

  /* Case search and the queue page. */
  OK(acm_case_create(engine, &admin, "{\"type\": \"inquiry\", \"title\": \"Where is my order\", \"owner\": \"carol\"}",
                     &json, &err));
  CHECK(json && strcmp(json, "case-2") == 0);
  acm_free(json);
  OK(acm_case_find(engine, "{\"customer\": \"ann\"}", &json, &err));
  CHECK(contains(json, "\"total\":1") && contains(json, "\"id\":\"case-1\"") && !contains(json, "case-2"));
  acm_free(json);
  OK(acm_case_find(engine, "{\"owner\": \"carol\", \"status\": [\"active\", \"suspended\"]}", &json, &err));
  CHECK(contains(json, "\"total\":1") && contains(json, "\"title\":\"Where is my order\""));
  acm_free(json);
  OK(acm_case_find(engine, NULL, &json, &err));
  CHECK(contains(json, "\"total\":2") && strstr(json, "case-2") < strstr(json, "case-1")); /* newest first */
  acm_free(json);
  OK(acm_case_find(engine, "{\"status\": \"closed\"}", &json, &err));
  CHECK(contains(json, "\"total\":0"));
  acm_free(json);
  FAILS(acm_case_find(engine, "{\"status\": \"open\"}", &json, &err), ACM_INVALID_ARGUMENT, "'open'");
  FAILS(acm_case_find(engine, "{\"limit\": 10001}", &json, &err), ACM_INVALID_ARGUMENT, "limit");
  FAILS(acm_case_find(engine, "{\"customers\": \"ann\"}", &json, &err), ACM_INVALID_ARGUMENT, "customers");
  OK(acm_queue_page(engine, "{\"limit\": 1}", &json, &err));
  CHECK(contains(json, "\"total\":2") && contains(json, "\"items\":["));
  acm_free(json);
  OK(acm_queue_list(engine, "{\"roles\": [\"agent\"], \"skills\": [\"billing\"]}", &json, &err));
  CHECK(contains(json, "\"case_title\":\"phone: no sound\"") && contains(json, "\"customer\":\"ann\""));
  CHECK(contains(json, "\"goal\":\"answered\"") && contains(json, "\"goal_timing\":\"on_track\""));
  CHECK(contains(json, "\"goal_deadline\":\"2026-11-23T13:00:00.000Z\""));
  CHECK(!contains(json, "due_ms"));
  acm_free(json);
  OK(acm_queue_list(engine, "{\"roles\": [\"agent\"], \"skills\": []}", &json, &err));
  CHECK(json && strcmp(json, "[]") == 0); /* both tasks need billing */
  acm_free(json);

  /* Router: roster, suggestions, assignment, performance. */
  FAILS(acm_router_create(engine, "[{\"id\": \"bob\", \"capacity\": 0}]", NULL, &router, &err), ACM_INVALID_ARGUMENT,
        "capacity");
  FAILS(acm_router_create(engine, "[{\"id\": \"bob\", \"rank\": 1}]", NULL, &router, &err), ACM_INVALID_ARGUMENT,
        "rank");
  FAILS(acm_router_create(engine, "{\"id\": \"bob\"}", NULL, &router, &err), ACM_INVALID_ARGUMENT, "array");
  FAILS(acm_router_create(engine, "[]", "{\"weights\": {\"skill\": -1}}", &router, &err), ACM_INVALID_ARGUMENT,
        "weights");
  CHECK(router == NULL);
  OK(acm_router_create(engine,
                       "[{\"id\": \"bob\", \"roles\": [\"agent\"], \"skills\": {\"billing\": 0.9}, \"capacity\": 3},"
                       " {\"id\": \"eve\", \"roles\": [\"agent\"], \"skills\": [\"billing\"], \"available\": false},"
                       " {\"id\": \"sam\", \"roles\": [\"expert\"]}]",
                       "{\"learn_online\": true}", &router, &err));
  OK(acm_router_suggest(router, "case-1", "support#1/answer", 5, true, &json, &err));
  CHECK(json && strstr(json, "\"agent\":\"bob\"") &&
        strstr(json, "\"agent\":\"bob\"") < strstr(json, "\"agent\":\"eve\""));
  CHECK(contains(json, "\"excluded\":true") && contains(json, "\"agent\":\"sam\""));
  CHECK(contains(json, "\"name\":\"skill\"") && contains(json, "\"contribution\":"));
  acm_free(json);
  FAILS(acm_router_suggest(router, "case-9", "support#1/answer", 5, false, &json, &err), ACM_NOT_FOUND, "case-9");
  OK(acm_router_auto_assign(router, "case-1", "support#1/answer", &agent, &err));
  CHECK(agent && strcmp(agent, "bob") == 0);
  acm_free(agent);
  OK(acm_case_get(engine, NULL, "case-1", &json, &err));
  CHECK(contains(json, "\"assignee\":\"bob\""));
  acm_free(json);
  OK(acm_router_upsert_agent(router, "{\"id\": \"bob\", \"roles\": [\"agent\"], \"available\": false}", &err));
  OK(acm_router_auto_assign(router, "case-2", "support#1/answer", &agent, &err));
  CHECK(agent == NULL); /* nobody available: not an error */
  OK(acm_router_record_completion(router, "bob", "support/answer", 40 * 60 * 1000, &err));
  FAILS(acm_router_record_completion(router, "bob", "support/answer", -1, &err), ACM_INVALID_ARGUMENT, "took_ms");
  OK(acm_router_performance(router, "bob", "support/answer", &json, &err));
  CHECK(contains(json, "\"completed\":1") && contains(json, "\"median\":\"PT40M\""));
  acm_free(json);
  OK(acm_router_learn_from_cases(router, cases, 1, &learned, &err));
  CHECK(learned == 0); /* nothing completed yet */
  OK(acm_router_set_roster(router, "[]", &err));
  OK(acm_router_suggest(router, "case-1", "support#1/answer", 5, true, &json, &err));
  CHECK(json && strcmp(json, "[]") == 0);
  acm_free(json);

  acm_router_destroy(router);
  acm_intake_destroy(intake);
  acm_router_destroy(NULL);
  acm_intake_destroy(NULL);
  acm_engine_close(engine);
  if (failures)
    fprintf(stderr, "%d of %d checks failed\n", failures, checks);
  else
    printf("%d checks passed\n", checks);
  return failures ? 1 : 0;
}
