// SPDX-License-Identifier: Apache-2.0
// bench_postgres.cpp - the engine on a shared PostgreSQL database against raw libpq writing the
// very same rows in the same transactions, in one run (bench/README.md, "PostgreSQL").
//
//   acm_bench_postgres [--commands=N] [--timers=N]
//
// Starts a throwaway server (tests/postgres/pg_fixture.sh) unless ACM_BENCH_POSTGRES holds a
// libpq URI. Processes are forked; each has its own connections.
//  1. Durable commands: P processes (1, then 4) each run `set_file` commands, one at a time,
//     on cases of their own (a case's commands routed to one process, as docs/deploy.md
//     advises). Raw: P processes insert the same event rows, grouped in the same transactions
//     (the engine's transactions read back by txid), one pipelined transaction per command.
//  2. Timers: 4 processes run run_due on cases whose timer is due. Raw: 4 processes claim the
//     same cases (SELECT ... ORDER BY next_due, id LIMIT 512 FOR UPDATE SKIP LOCKED through the
//     same kind of due index, chunks of the engine's timer_batch), update their rows and insert
//     the same event rows, one transaction a chunk; three times: with the case row cut to (id,
//     version, next_due); with the case row as the engine stores it (every column and index of
//     `cases`, the events table holding the cases' earlier events as the engine's does); and
//     the same again reading, between claim and write, the rows the engine reads to load a
//     case it does not hold (its row and its events, by the engine's own lookups).
#include <acm/acm.hpp>

#include <fmt/format.h>
#include <libpq-fe.h>

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace acm;
using Clock_ = std::chrono::steady_clock;

namespace {

const TimePoint kStart = parse_time("2026-11-23T09:00:00Z");

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}

PGconn* connect(const std::string& uri) {
  PGconn* c = PQconnectdb(uri.c_str());
  if (PQstatus(c) != CONNECTION_OK) die(std::string("connect: ") + PQerrorMessage(c));
  return c;
}

void exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    die(sql + ": " + PQerrorMessage(c));
  PQclear(r);
}

struct Row {
  std::string case_id, seq, time, actor, kind, payload;
};

/// Runs `ready(i)` then `body(i, state)` in `n` forked processes. The clock starts once every
/// process is ready (connected, engine opened) and stops when the last one ended: what is
/// measured is the work, not opening connections or engines. Returns seconds.
template <class Ready, class Body>
double in_processes(int n, Ready&& ready, Body&& body) {
  int ready_pipe[2], go_pipe[2];
  if (::pipe(ready_pipe) != 0 || ::pipe(go_pipe) != 0) die("pipe");
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pid_t p = ::fork();
    if (p == 0) {
      ::close(ready_pipe[0]);
      ::close(go_pipe[1]);
      auto state = ready(i);
      char c = 'r';
      if (::write(ready_pipe[1], &c, 1) != 1) std::_Exit(3);
      if (::read(go_pipe[0], &c, 1) != 0) std::_Exit(3);  // EOF: go
      body(i, state);
      std::_Exit(0);
    }
    pids.push_back(p);
  }
  ::close(ready_pipe[1]);
  ::close(go_pipe[0]);
  for (int i = 0; i < n; ++i) {
    char c;
    if (::read(ready_pipe[0], &c, 1) != 1) die("a benchmark process failed to start");
  }
  const auto t0 = Clock_::now();
  ::close(go_pipe[1]);
  for (pid_t p : pids) {
    int st = 0;
    ::waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("a benchmark process failed");
  }
  ::close(ready_pipe[0]);
  const double took = std::chrono::duration<double>(Clock_::now() - t0).count();
  if (std::getenv("ACM_BENCH_PHASES")) {  // for `perf record -k CLOCK_MONOTONIC ... --time A,B`
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const double end = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    std::fprintf(stderr, "phase %.3f,%.3f\n", end - took, end);
  }
  return took;
}

/// Runs `fn` in a forked process and waits for it. The engine that sets a benchmark up runs
/// there, so that this process's heap stays small: the measured processes are forked from it,
/// and memory the setup had freed here would be shared copy-on-write with them, each first
/// write a page copy that a freshly started process never pays (seen as do_wp_page in a
/// profile of the timer phase: about a tenth of the engine processes' CPU).
template <class Fn>
void in_child(Fn&& fn) {
  std::fflush(nullptr);
  pid_t p = ::fork();
  if (p < 0) die("fork");
  if (p == 0) {
    fn();
    std::fflush(nullptr);
    std::_Exit(0);
  }
  int st = 0;
  ::waitpid(p, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("the setup process failed");
}

std::string schema_uri(const std::string& base, const std::string& schema) {
  PGconn* c = connect(base);
  exec(c, fmt::format("DROP SCHEMA IF EXISTS {} CASCADE; CREATE SCHEMA {}", schema, schema));
  PQfinish(c);
  return fmt::format("{}{}options=-csearch_path%3D{}", base, base.find('?') == std::string::npos ? "?" : "&", schema);
}

/// The engine's transactions, as written: event rows grouped by transaction, per case owner.
std::vector<std::vector<Row>> transactions(const std::string& uri, const std::string& where) {
  PGconn* c = connect(uri);
  // ORDER BY events.txid: a bare "txid" would sort the text output column.
  PGresult* r = PQexec(c, ("SELECT txid::text AS tx, case_id, seq, time, actor, kind, payload FROM events " + where +
                           " ORDER BY events.txid, case_id, seq")
                              .c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) die(PQerrorMessage(c));
  std::vector<std::vector<Row>> out;
  std::string last;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::string tx = PQgetvalue(r, i, 0);
    if (tx != last || out.empty()) out.emplace_back();
    last = tx;
    out.back().push_back({PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
                          PQgetvalue(r, i, 5), PQgetvalue(r, i, 6)});
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

/// Raw: one pipelined transaction (one round trip) per group of rows.
PGconn* raw_connect(const std::string& uri, const std::string& table) {
  PGconn* c = connect(uri);
  PGresult* p = PQprepare(c, "ins", fmt::format("INSERT INTO {}(case_id, seq, time, actor, kind, payload) VALUES "
                                                "($1, $2, $3, $4, $5, $6)",
                                                table)
                                        .c_str(),
                          0, nullptr);
  if (PQresultStatus(p) != PGRES_COMMAND_OK) die(PQerrorMessage(c));
  PQclear(p);
  return c;
}

void raw_insert(PGconn* c, const std::vector<std::vector<Row>>& txs) {
  for (const auto& tx : txs) {
    PQenterPipelineMode(c);
    for (const Row& r : tx) {
      const char* v[6] = {r.case_id.c_str(), r.seq.c_str(), r.time.c_str(), r.actor.c_str(), r.kind.c_str(),
                          r.payload.c_str()};
      if (!PQsendQueryPrepared(c, "ins", 6, v, nullptr, nullptr, 0)) die(PQerrorMessage(c));
    }
    PQpipelineSync(c);
    for (std::size_t i = 0; i < tx.size(); ++i) {
      PGresult* r = PQgetResult(c);
      if (PQresultStatus(r) != PGRES_COMMAND_OK) die(PQerrorMessage(c));
      PQclear(r);
      PQclear(PQgetResult(c));
    }
    PGresult* s = PQgetResult(c);
    PQclear(s);
    PQexitPipelineMode(c);
  }
  PQfinish(c);
}

std::shared_ptr<ManualClock> clock_at(TimePoint t) { return std::make_shared<ManualClock>(t); }

/// 1. Durable commands with `procs` processes; returns (engine commands/s, raw commands/s).
std::pair<double, double> commands(const std::string& base, int procs, int per_proc) {
  const std::string uri = schema_uri(base, fmt::format("bench_cmd{}", procs));
  Actor admin{"root", {"admin"}};
  in_child([&] {
    EngineOptions o;
    o.database = uri;
    o.clock = clock_at(kStart);
    auto e = Engine::open(o);
    for (int p = 0; p < procs; ++p)
      for (int k = 0; k < 10; ++k) e->create_case(admin, NewCase{.id = fmt::format("p{}-c{}", p, k), .title = "bench"});
  });
  PGconn* c = connect(uri);
  exec(c, "CREATE TABLE raw_events (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES)");
  // The same feed key column and index, filled by the writing transaction's id.
  exec(c, "ALTER TABLE raw_events ALTER feed_x SET DEFAULT pg_current_xact_id()");
  exec(c, "CREATE TEMP TABLE mark AS SELECT max(txid) AS t FROM events");
  PGresult* m = PQexec(c, "SELECT max(txid)::text FROM events");
  const std::string mark = PQgetvalue(m, 0, 0);
  PQclear(m);
  PQfinish(c);
  const double engine_s = in_processes(
      procs,
      [&](int) {
        EngineOptions o;
        o.database = uri;
        o.clock = clock_at(kStart);
        return std::shared_ptr<Engine>(Engine::open(o));
      },
      [&](int p, const std::shared_ptr<Engine>& e) {
        for (int i = 0; i < per_proc; ++i)
          e->set_file(admin, fmt::format("p{}-c{}", p, i % 10), fmt::format("v{}", i % 7), i);
      });
  const double engine_rate = procs * per_proc / engine_s;
  std::vector<std::vector<std::vector<Row>>> per(static_cast<std::size_t>(procs));
  for (auto& tx : transactions(uri, fmt::format("WHERE txid > '{}'::xid8", mark))) {
    int p = std::atoi(tx.front().case_id.c_str() + 1);
    per[static_cast<std::size_t>(p)].push_back(std::move(tx));
  }
  std::size_t n = 0;
  for (auto& v : per) n += v.size();
  const double raw_s = in_processes(
      procs, [&](int) { return raw_connect(uri, "raw_events"); },
      [&](int p, PGconn* c) { raw_insert(c, per[static_cast<std::size_t>(p)]); });
  const double raw_rate = static_cast<double>(n) / raw_s;
  std::printf("  commands, %d process%s: engine %.0f/s (%d commands, %.2f s), raw %.0f transactions/s (%zu, %.2f s)\n",
              procs, procs == 1 ? "" : "es", engine_rate, procs * per_proc, engine_s, raw_rate, n, raw_s);
  return {engine_rate, raw_rate};
}

struct TimerRates {
  double engine = 0;    ///< timers/s
  double raw_thin = 0;  ///< raw claim-and-write, the case row as (id, version, next_due)
  double raw_full = 0;  ///< raw claim-and-write, the case row as the engine stores it
  double raw_read = 0;  ///< the same, reading each claimed case's row and events before writing
};

/// What the raw run with reads asks between claim and write: each claimed case's row and its
/// events, the same lookups as the engine's chunk load (src/store/postgres/statements.hpp,
/// `cases_rows` and `cases_events`: a lookup per id, the snapshot's version, no server-side
/// sort), on the raw tables. $1: the claimed ids, sorted.
std::string raw_rows_sql(const std::string& cases) {
  return fmt::format("SELECT c.id, c.version, c.type, c.type_version, c.status, c.owner, c.priority, c.customer, "
                     "c.title, c.next_due, c.next_deadline, c.created_at, c.updated_at, s.version, s.data FROM "
                     "unnest($1::text[]) AS u(id) CROSS JOIN LATERAL (SELECT * FROM {} x WHERE x.id = u.id OFFSET 0) "
                     "c LEFT JOIN snapshots s ON s.case_id = c.id",
                     cases);
}
std::string raw_events_sql(const std::string& events) {
  return fmt::format("SELECT e.case_id, e.seq, e.time, e.actor, e.kind, e.payload FROM unnest($1::text[]) AS u(id) "
                     "CROSS JOIN LATERAL (SELECT x.case_id, x.seq, x.time, x.actor, x.kind, x.payload FROM {} x WHERE "
                     "x.case_id = u.id AND x.seq > COALESCE((SELECT version FROM snapshots WHERE case_id = u.id), 0) "
                     "OFFSET 0) e",
                     events);
}

/// 2. Timers fired by 4 processes. Cold: each process
/// loads the cases it claims (a process fires whatever it claims, so this is the usual case).
/// Warm: every process has read every case before (cached at the stored version), so, like the
/// raw run, the engine reads nothing but the claim.
TimerRates timers(const std::string& base, int count, bool warm) {
  const std::string uri = schema_uri(base, warm ? "bench_timers_warm" : "bench_timers");
  Actor admin{"root", {"admin"}};
  in_child([&] {
    EngineOptions o;
    o.database = uri;
    o.clock = clock_at(kStart);
    auto e = Engine::open(o);
    FragmentDef f;
    f.id = "t";
    ItemDef tick;
    tick.id = "tick";
    tick.kind = ItemKind::timer_listener;
    tick.timer = std::chrono::minutes(1);
    f.items = {tick};
    e->register_fragment(admin, f);
    for (int k = 0; k < count; ++k) {
      auto id = e->create_case(admin, NewCase{.id = fmt::format("t{:06}", k), .title = "bench"}).created;
      e->add_fragment(admin, id, {"t", 0, "", Json::object()});
    }
  });
  PGconn* c = connect(uri);
  // What the raw run claims and writes: the cases as they are now, and (after the engine run)
  // the rows the engine wrote when it fired them.
  // Thin: the case row cut to what a claim needs (id, version, next_due; two indexes).
  exec(c, "CREATE TABLE raw_cases AS SELECT id, version, next_due FROM cases");
  exec(c, "ALTER TABLE raw_cases ADD PRIMARY KEY (id)");
  exec(c, "CREATE INDEX ON raw_cases(next_due, id) WHERE next_due IS NOT NULL");
  // Full: the case row as the engine stores it (every column and index of `cases`); the raw
  // update sets the columns a firing changes, so the rows end up as the engine's.
  // The events table of both holds the cases' events so far, as the engine's does (the raw
  // inserts go into an index of the same size, and the reads find the same rows).
  for (const char* t : {"full", "read"}) {
    exec(c, fmt::format("CREATE TABLE raw_cases_{} (LIKE cases INCLUDING ALL)", t));
    exec(c, fmt::format("INSERT INTO raw_cases_{} SELECT * FROM cases", t));
  }
  for (const char* t : {"raw_events", "raw_events_full", "raw_events_read"}) {
    exec(c, fmt::format("CREATE TABLE {} (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES)", t));
    // The same feed key column and index, filled by the writing transaction's id.
    exec(c, fmt::format("ALTER TABLE {} ALTER feed_x SET DEFAULT pg_current_xact_id()", t));
    if (std::strcmp(t, "raw_events") != 0) exec(c, fmt::format("INSERT INTO {} SELECT * FROM events", t));
  }
  exec(c, "ANALYZE");
  PGresult* m = PQexec(c, "SELECT max(txid)::text FROM events");
  const std::string mark = PQgetvalue(m, 0, 0);
  PQclear(m);
  const double engine_s = in_processes(
      4,
      [&](int) {
        EngineOptions o;
        o.database = uri;
        o.clock = clock_at(kStart + std::chrono::minutes(2));
        std::shared_ptr<Engine> e(Engine::open(o));
        if (warm)
          for (int k = 0; k < count; ++k) e->get_case(fmt::format("t{:06}", k));
        return e;
      },
      [&](int, const std::shared_ptr<Engine>& e) {
        while (e->run_due() > 0) {
        }
      });
  PGresult* fired = PQexec(c, fmt::format("SELECT count(*) FROM events WHERE txid > '{}'::xid8 AND kind = "
                                          "'item_transition' AND payload LIKE '%\"occur\"%'",
                                          mark)
                                  .c_str());
  const int n_fired = std::atoi(PQgetvalue(fired, 0, 0));
  PQclear(fired);
  if (n_fired != count) die(fmt::format("{} timers fired, not {}", n_fired, count));
  // The rows each case's firing wrote, by case.
  std::map<std::string, std::vector<Row>> rows;
  for (auto& tx : transactions(uri, fmt::format("WHERE txid > '{}'::xid8", mark)))
    for (auto& r : tx) rows[r.case_id].push_back(std::move(r));
  PQfinish(c);
  const std::int64_t now_ms = (kStart + std::chrono::minutes(2)).time_since_epoch().count();
  const std::int64_t fired_ms = now_ms;  // the firing's updated_at
  // `full`: the case row as the engine stores it; `read`: and read the claimed cases first.
  auto raw_run = [&](bool full, bool read) {
  const std::string cases_table = read ? "raw_cases_read" : full ? "raw_cases_full" : "raw_cases";
  const std::string events_table = read ? "raw_events_read" : full ? "raw_events_full" : "raw_events";
  return in_processes(
      4,
      [&](int) {
        PGconn* k = raw_connect(uri, events_table);
        const std::string upd =
            full ? fmt::format("UPDATE {} SET version = version + $2, next_due = NULL, updated_at = {}, "
                               "feed_x = GREATEST(pg_current_xact_id(), feed_x) WHERE id = $1",
                               cases_table, fired_ms)
                 : "UPDATE raw_cases SET version = version + $2, next_due = NULL WHERE id = $1";
        PQclear(PQprepare(k, "upd", upd.c_str(), 0, nullptr));
        if (read) {
          for (const auto& [name, sql] : {std::pair{"rows", raw_rows_sql(cases_table)},
                                          std::pair{"events", raw_events_sql(events_table)}}) {
            PGresult* p = PQprepare(k, name, sql.c_str(), 0, nullptr);
            if (PQresultStatus(p) != PGRES_COMMAND_OK) die(PQerrorMessage(k));
            PQclear(p);
          }
        }
        return k;
      },
      [&](int, PGconn* k) {
    while (true) {
      exec(k, "BEGIN");
      PGresult* r = PQexec(k, fmt::format("SELECT id FROM {} WHERE next_due <= {} ORDER BY next_due, id LIMIT 512 "
                                          "FOR UPDATE SKIP LOCKED",
                                          cases_table, now_ms)
                                  .c_str());
      const int got = PQntuples(r);
      std::vector<std::string> ids;
      for (int i = 0; i < got; ++i) ids.push_back(PQgetvalue(r, i, 0));
      PQclear(r);
      if (ids.empty()) {
        exec(k, "COMMIT");
        break;
      }
      if (read) {  // both lookups in one round trip; every value is looked at, as a loader would
        std::sort(ids.begin(), ids.end());
        std::string array = "{";
        for (const auto& id : ids) array += (array.size() > 1 ? ",\"" : "\"") + id + "\"";
        array += "}";
        const char* a[1] = {array.c_str()};
        PQenterPipelineMode(k);
        PQsendQueryPrepared(k, "rows", 1, a, nullptr, nullptr, 0);
        PQsendQueryPrepared(k, "events", 1, a, nullptr, nullptr, 0);
        PQpipelineSync(k);
        std::size_t bytes = 0;
        for (int q = 0; q < 2; ++q) {
          PGresult* x = PQgetResult(k);
          if (PQresultStatus(x) != PGRES_TUPLES_OK) die(PQerrorMessage(k));
          for (int i = 0; i < PQntuples(x); ++i)
            for (int j = 0; j < PQnfields(x); ++j) bytes += static_cast<std::size_t>(PQgetlength(x, i, j));
          PQclear(x);
          PQclear(PQgetResult(k));
        }
        PQclear(PQgetResult(k));  // the sync
        PQexitPipelineMode(k);
        if (bytes == 0) die("the raw read found nothing");
      }
      PQenterPipelineMode(k);
      std::size_t sent = 0;
      for (const auto& id : ids) {
        const auto& evs = rows[id];
        std::string n = std::to_string(evs.size());
        const char* u[2] = {id.c_str(), n.c_str()};
        PQsendQueryPrepared(k, "upd", 2, u, nullptr, nullptr, 0);
        ++sent;
        for (const Row& e : evs) {
          const char* v[6] = {e.case_id.c_str(), e.seq.c_str(), e.time.c_str(), e.actor.c_str(), e.kind.c_str(),
                              e.payload.c_str()};
          PQsendQueryPrepared(k, "ins", 6, v, nullptr, nullptr, 0);
          ++sent;
        }
      }
      PQsendQueryParams(k, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0);
      ++sent;
      PQpipelineSync(k);
      for (std::size_t i = 0; i < sent; ++i) {
        PGresult* x = PQgetResult(k);
        if (PQresultStatus(x) != PGRES_COMMAND_OK) die(PQerrorMessage(k));
        PQclear(x);
        PQclear(PQgetResult(k));
      }
      PQclear(PQgetResult(k));
      PQexitPipelineMode(k);
    }
    PQfinish(k);
  });
  };
  const double thin_s = raw_run(false, false);
  const double full_s = raw_run(true, false);
  // Only where the engine reads: with the cases cached it reads nothing but the claim.
  const double read_s = warm ? 0 : raw_run(true, true);
  std::printf("  timers, 4 processes, %s: engine %.0f/s (%d, %.2f s), raw claim-and-write %.0f/s (%.2f s) with "
              "the case row cut to (id, version, next_due), %.0f/s (%.2f s) with the case row as the engine stores "
              "it%s\n",
              warm ? "cases cached" : "cases loaded", count / engine_s, count, engine_s, count / thin_s, thin_s,
              count / full_s, full_s,
              warm ? "" : fmt::format(", {:.0f}/s ({:.2f} s) reading the claimed cases first", count / read_s, read_s).c_str());
  return {count / engine_s, count / thin_s, count / full_s, warm ? 0 : count / read_s};
}

int arg(int argc, char** argv, const char* name, int def) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return std::atoi(argv[i] + prefix.size());
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  const int per_proc = arg(argc, argv, "commands", 1500);
  // 20,000: at 4,000 the timed timer phase lasted 0.15-0.25 s here, too short to measure.
  const int n_timers = arg(argc, argv, "timers", 20000);
  std::string base;
  std::string dir;
  if (const char* uri = std::getenv("ACM_BENCH_POSTGRES"); uri && *uri) {
    base = uri;
  } else {
    dir = fmt::format("/tmp/acm-pgbench-{}", ::getpid());
    if (std::system(fmt::format("{} start {} >/dev/null", ACM_PG_FIXTURE, dir).c_str()) != 0) die("cannot start a server");
    FILE* f = std::fopen((dir + "/uri").c_str(), "r");
    char line[512] = {};
    if (!f || !std::fgets(line, sizeof line, f)) die("no server uri");
    std::fclose(f);
    base = line;
    while (!base.empty() && base.back() == '\n') base.pop_back();
  }
  std::printf("acm_bench_postgres: %d commands per process, %d timers (server: %s)\n", per_proc, n_timers, base.c_str());
  auto [e1, r1] = commands(base, 1, per_proc);
  auto [e4, r4] = commands(base, 4, per_proc);
  const TimerRates cold = timers(base, n_timers, false);
  const TimerRates warm = timers(base, n_timers, true);
  std::printf("\n| benchmark | engine | raw libpq | ratio (target) |\n|---|---|---|---|\n");
  std::printf("| durable commands, 1 process | %.0f/s | %.0f/s | %.2f (>= 0.7) |\n", e1, r1, e1 / r1);
  std::printf("| durable commands, 4 processes | %.0f/s | %.0f/s | %.2f (>= 0.7) |\n", e4, r4, e4 / r4);
  std::printf("| 4 processes / 1 process (engine) | | | %.2f (>= 2.5) |\n", e4 / e1);
  std::printf("| 4 processes / 1 process (raw libpq, the same machine) | | | %.2f |\n", r4 / r1);
  for (const auto& [name, t] : {std::pair<const char*, const TimerRates&>{"each loads the cases it claims", cold},
                                 std::pair<const char*, const TimerRates&>{"cases cached in every process", warm}}) {
    std::printf("| timers, 4 processes, %s; raw case row cut to (id, version, next_due) | %.0f/s | %.0f/s | %.2f (>= "
                "0.7) |\n",
                name, t.engine, t.raw_thin, t.engine / t.raw_thin);
    std::printf("| timers, 4 processes, %s; raw case row as the engine stores it | %.0f/s | %.0f/s | %.2f (>= 0.7) |\n",
                name, t.engine, t.raw_full, t.engine / t.raw_full);
    if (t.raw_read > 0)
      std::printf("| timers, 4 processes, %s; raw case row as the engine stores it, the claimed cases read first | "
                  "%.0f/s | %.0f/s | %.2f |\n",
                  name, t.engine, t.raw_read, t.engine / t.raw_read);
  }
  if (!dir.empty()) std::system(fmt::format("{} stop {}", ACM_PG_FIXTURE, dir).c_str());
  return 0;
}
