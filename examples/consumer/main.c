// SPDX-License-Identifier: Apache-2.0
/* A tiny C program against the acm C ABI: one case with one ad-hoc task, done. With an argument,
   it also checks that acm_version() is that version. */
#include <acm/c.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  acm_engine* engine = NULL;
  acm_request alice = {"alice", NULL, 0, 0, NULL};
  char* error = NULL;
  char* case_id = NULL;
  char* task = NULL;
  char* view = NULL;
  int ok = 0;

  if (argc > 1 && strcmp(argv[1], acm_version()) != 0) {
    fprintf(stderr, "acm_version() is %s, expected %s\n", acm_version(), argv[1]);
    return 1;
  }
  if (acm_engine_open(NULL, &engine, &error) != ACM_OK) { /* in-memory store */
    fprintf(stderr, "open: %s\n", error ? error : "?");
    acm_free(error);
    return 1;
  }
  if (acm_case_create(engine, &alice, "{\"title\": \"consumer check\"}", &case_id, &error) == ACM_OK &&
      acm_task_add(engine, &alice, case_id, "{\"name\": \"say hello\"}", &task, &error) == ACM_OK &&
      acm_item_complete(engine, &alice, case_id, task, NULL, NULL, &error) == ACM_OK &&
      acm_case_get(engine, NULL, case_id, &view, &error) == ACM_OK) {
    ok = strstr(view, "\"state\":\"completed\"") != NULL;
    printf("case %s (acm %s): %s\n", case_id, acm_version(), ok ? "task completed" : "task not completed");
  } else {
    fprintf(stderr, "error: %s\n", error ? error : "?");
  }
  acm_free(view);
  acm_free(task);
  acm_free(case_id);
  acm_free(error);
  acm_engine_close(engine);
  return ok ? 0 : 1;
}
