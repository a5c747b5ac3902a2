// SPDX-License-Identifier: Apache-2.0
// tests/store/factories.hpp - every CaseStore implementation the contract suite runs against.
//
// Adding an implementation is one entry in store_factories(): a name and how to open a new,
// empty store (and, if it has a read-only mode, how to reopen the same store read-only).
#pragma once

#include <acm/store.hpp>

#include "postgres/pg_support.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace acm::test {

/// A fresh directory under the system temp directory, removed with its contents.
struct StoreTempDir {
  std::filesystem::path dir;
  StoreTempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() /
          fmt::format("acm-contract-{}-{}-{}", ::getpid(), counter++, rd());
    std::filesystem::create_directories(dir);
  }
  ~StoreTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  StoreTempDir(const StoreTempDir&) = delete;
  StoreTempDir& operator=(const StoreTempDir&) = delete;
};

/// An open store under test, with whatever it needs kept alive beside it.
struct OpenStore {
  std::shared_ptr<CaseStore> store;
  /// Closes `store` (resets it) and opens the same one read-only; null if the implementation
  /// has no read-only mode.
  std::function<std::shared_ptr<CaseStore>(OpenStore& self)> reopen_read_only;
  std::shared_ptr<void> keep;  // e.g. the temporary directory
};

struct StoreFactory {
  std::string name;
  std::function<OpenStore()> open;  ///< a new, empty store
};

inline OpenStore open_sqlite_for_test(Durability d) {
  auto dir = std::make_shared<StoreTempDir>();
  OpenStore out;
  SqliteStoreOptions o;
  o.path = (dir->dir / "cases.db").string();
  o.durability = d;
  o.group_window = std::chrono::microseconds(0);
  out.store = open_sqlite_store(o);
  out.keep = dir;
  out.reopen_read_only = [o](OpenStore& self) mutable {
    self.store.reset();  // closes the writer: its lock file is released
    o.read_only = true;
    return open_sqlite_store(o);
  };
  return out;
}

/// The implementations: memory, SQLite in both durability modes; more where configured.
inline std::vector<StoreFactory> store_factories() {
  std::vector<StoreFactory> out = {
      {"memory", [] { return OpenStore{open_memory_store(), nullptr, nullptr}; }},
      {"sqlite (full)", [] { return open_sqlite_for_test(Durability::full); }},
      {"sqlite (group)", [] { return open_sqlite_for_test(Durability::group); }},
  };
  // The PostgreSQL store, when a server is there: the ctest fixture `postgres` sets
  // ACM_TEST_POSTGRES_DIR (tests/CMakeLists.txt runs this suite again under it), or
  // ACM_TEST_POSTGRES names one (then every implementation runs). Each store is a new schema of
  // the server's database.
  if (std::getenv("ACM_TEST_POSTGRES_DIR") || std::getenv("ACM_TEST_POSTGRES"))
    out.push_back({"postgresql", [] {
                     PostgresStoreOptions o;
                     o.conninfo = fresh_postgres_database("contract");
                     OpenStore s{open_postgres_store(o), nullptr, nullptr};
                     s.reopen_read_only = [o](OpenStore& self) mutable {
                       self.store.reset();
                       o.read_only = true;
                       return open_postgres_store(o);
                     };
                     return s;
                   }});
  // Under the fixture (label postgres) the suite runs on PostgreSQL alone: the unit label runs
  // it on the others.
  if (std::getenv("ACM_TEST_POSTGRES_DIR"))
    std::erase_if(out, [](const StoreFactory& f) { return f.name != "postgresql"; });
  return out;
}

}  // namespace acm::test
