// SPDX-License-Identifier: Apache-2.0
/* tests/c/check.h - the checks shared by the C tests: CHECK, OK, FAILS (status, and the message
 * for failures), contains. Each test program counts its own `checks` and `failures`. */
#ifndef ACM_TESTS_C_CHECK_H
#define ACM_TESTS_C_CHECK_H

#include <acm/c.h>

#include <stdio.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    ++checks;                                                                  \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Checks that `got` is `want` and, for failures, that the message contains `needle` (NULL: any
 * message). Frees and clears the message. Returns whether the check passed. */
static int expect(acm_status got, acm_status want, char** err, const char* needle, const char* file, int line,
                  const char* what) {
  int ok = 1;
  ++checks;
  if (got != want) {
    fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", file, line, what, acm_status_name(got),
            acm_status_name(want), *err ? *err : "no message");
    ok = 0;
  } else if (want == ACM_OK && *err != NULL) {
    fprintf(stderr, "%s:%d: %s succeeded but left a message: %s\n", file, line, what, *err);
    ok = 0;
  } else if (want != ACM_OK && *err == NULL) {
    fprintf(stderr, "%s:%d: %s failed without a message\n", file, line, what);
    ok = 0;
  } else if (want != ACM_OK && needle && !strstr(*err, needle)) {
    fprintf(stderr, "%s:%d: %s: message \"%s\" does not contain \"%s\"\n", file, line, what, *err, needle);
    ok = 0;
  }
  if (!ok) ++failures;
  acm_free(*err);
  *err = NULL;
  return ok;
}

#define OK(call) expect((call), ACM_OK, &err, NULL, __FILE__, __LINE__, #call)
#define FAILS(call, status, needle) expect((call), (status), &err, (needle), __FILE__, __LINE__, #call)

static int contains(const char* haystack, const char* needle) {
  return haystack != NULL && strstr(haystack, needle) != NULL;
}

#endif
