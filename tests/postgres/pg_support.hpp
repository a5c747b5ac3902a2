// SPDX-License-Identifier: Apache-2.0
// tests/postgres/pg_support.hpp - the throwaway server of the `postgres` tests.
//
// The ctest fixture (tests/postgres/pg_fixture.sh, FIXTURES_SETUP postgres) starts a server
// and writes its libpq URI to $ACM_TEST_POSTGRES_DIR/uri. A test that runs without it FAILS:
// the PostgreSQL tests are never skipped silently. Each test gets a schema of its own, so tests
// do not see each other's rows (the connection string sets search_path).
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <libpq-fe.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

namespace acm::test {

/// The server's base URI (postgresql:///acm_test?host=...&user=...).
inline std::string postgres_uri() {
  if (const char* uri = std::getenv("ACM_TEST_POSTGRES"); uri && *uri) return uri;
  const char* dir = std::getenv("ACM_TEST_POSTGRES_DIR");
  REQUIRE_MESSAGE(dir != nullptr,
                  "no PostgreSQL server: run these tests through ctest (fixture `postgres`, tests/postgres/pg_fixture.sh) "
                  "or set ACM_TEST_POSTGRES to a libpq URI");
  std::ifstream in(std::string(dir) + "/uri");
  std::string uri;
  std::getline(in, uri);
  REQUIRE_MESSAGE(!uri.empty(), "the PostgreSQL fixture did not start (no " << dir << "/uri)");
  return uri;
}

/// Runs SQL on the server's database (outside any store), failing the test on an error.
inline void postgres_exec(const std::string& uri, const std::string& sql) {
  PGconn* c = PQconnectdb(uri.c_str());
  REQUIRE_MESSAGE(PQstatus(c) == CONNECTION_OK, "cannot connect to " << uri << ": " << PQerrorMessage(c));
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  std::string err = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  REQUIRE_MESSAGE(ok, sql << ": " << err);
}

/// A connection string for a new, empty schema of its own (created here, kept until the server
/// is removed by the fixture).
inline std::string fresh_postgres_database(const std::string& tag = "t") {
  static std::atomic<int> counter{0};
  std::random_device rd;
  std::string schema = fmt::format("{}_{}_{}_{}", tag, ::getpid(), counter++, rd() % 100000);
  const std::string base = postgres_uri();
  postgres_exec(base, fmt::format("CREATE SCHEMA {}", schema));
  return fmt::format("{}{}options=-csearch_path%3D{}", base, base.find('?') == std::string::npos ? "?" : "&", schema);
}

}  // namespace acm::test
