// SPDX-License-Identifier: Apache-2.0
/* examples/refund.c (docs/c-api.md): an automated task calls the host, a subscriber prints the
   events, a refused command says why. Build: link acm::c (CMake) or `pkg-config acm_c`. */
#include <acm/c.h>
#include <stdio.h>
#include <string.h>

static void pay(void* user_data, const char* context_json, acm_task_result* result) {
  (void)user_data;
  (void)context_json; /* {"case": ..., "input": {...}, ...} */
  acm_task_result_set_output(result, "{\"paid\": true}", NULL);
}

static void on_event(void* user_data, const char* event_json) {
  (void)user_data;
  printf("event %s\n", event_json);
}

int main(void) {
  acm_request alice = {"alice", NULL, 0, 0, NULL};
  acm_options* options = NULL;
  acm_engine* engine = NULL;
  char* error = NULL;
  char* case_id = NULL;
  char* task = NULL;
  char* view = NULL;
  uint64_t subscription = 0;
  int paid = 0;
  acm_status st;

  acm_options_create(&options, NULL);
  acm_options_set_database(options, "cases.db", NULL);
  acm_options_set_manual_clock(options, 1795424400000LL, NULL); /* 2026-11-23T09:00Z */
  st = acm_engine_open(options, &engine, &error);
  acm_options_destroy(options);
  if (st != ACM_OK) {
    fprintf(stderr, "%s: %s\n", acm_status_name(st), error);
    acm_free(error);
    return 1;
  }
  acm_engine_register_handler(engine, "payments.pay", pay, NULL, NULL);
  acm_engine_subscribe(engine, NULL, 0, on_event, NULL, &subscription, NULL);

  st = acm_case_create(engine, &alice, "{\"title\": \"Refund request\"}", &case_id, &error);
  if (st == ACM_OK)
    st = acm_task_add(engine, &alice, case_id,
                      "{\"name\": \"Pay back\", \"kind\": \"automated_task\", \"handler\": \"payments.pay\","
                      " \"output\": \"payment\"}",
                      &task, &error);
  if (st == ACM_OK) st = acm_clock_advance(engine, 60 * 60 * 1000, &error); /* one hour */
  if (st == ACM_OK) st = acm_case_get(engine, NULL, case_id, &view, &error);
  if (st == ACM_OK) paid = strstr(view, "\"paid\":true") != NULL;
  if (st == ACM_OK)
    printf("%s\n", paid ? "paid" : "not paid");
  else
    fprintf(stderr, "%s: %s\n", acm_status_name(st), error);

  /* A refused command: the status says what kind, the message says why. */
  st = acm_definitions_load(engine, &alice, "{\"id\": \"f\", \"items\": []}", &error);
  printf("%s: %s\n", acm_status_name(st), error ? error : ""); /* permission_denied: ... */

  acm_free(error);
  acm_free(view);
  acm_free(task);
  acm_free(case_id);
  acm_engine_close(engine);
  return paid ? 0 : 1;
}
