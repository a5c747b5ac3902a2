// SPDX-License-Identifier: Apache-2.0
// store/postgres/postgres_store.hpp - the case store on a PostgreSQL database shared by several
// processes (docs/storage.md, "PostgreSQL"; docs/deploy.md). Private to the library.
#pragma once

#include "store/store.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace acm::store {

/// Whether `database` names a PostgreSQL database rather than a SQLite file: a libpq URI
/// ("postgresql://..." or "postgres://...") or a libpq key/value string whose first key is a
/// libpq connection keyword ("host=... dbname=...").
bool is_postgres_database(std::string_view database);

struct PostgresOptions {
  std::string conninfo;     ///< libpq URI or key/value string, passed to libpq unchanged
  std::size_t connections = 8;  ///< most connections kept open by this process
  bool read_only = false;   ///< nothing written: writes fail with Error(invalid_state)
};

/// Connects, creates or migrates the schema (under an advisory lock, in one transaction) and
/// returns the store. Throws Error(storage) with libpq's message when the server cannot be
/// reached, or for a database whose acm schema is newer than this build.
std::unique_ptr<Store> open_postgres(const PostgresOptions& options);

}  // namespace acm::store
