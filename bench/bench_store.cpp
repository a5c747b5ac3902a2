// SPDX-License-Identifier: Apache-2.0
// Storage benchmarks: the engine on its SQLite store against raw SQLite doing the same writes
// or reads, measured in the same run. The machine these run on is shared and noisy, so every
// figure is a RATIO against its baseline (absolute numbers are printed for information):
//
//   1. group commit: 4 threads issue set_file commands (1 event each) with Durability::group
//      vs raw SQLite inserting the same event rows into a table shaped like `events`, in the
//      same batches (as many rows and as many transactions as the engine wrote, counted with a
//      SQLite commit hook), WAL, synchronous=FULL, one prepared INSERT, a transaction a batch.
//   2. per-command sync: Durability::full, one thread, vs one raw synced transaction per row.
//   3. a store of 1,000,000 cases: Engine::open and the 100 most urgent overdue work items
//      (Engine::queue, overdue_at = now, limit 100) vs raw SQLite opening the file and running
//      SELECT count(*) FROM cases, and the same ORDER BY/LIMIT SQL run directly; plus memory
//      per cached case (a task case of that store, and a typical help-desk case).
//   4. firing due timers: Engine::run_due once over N cases whose timer listener fell due vs
//      raw SQLite UPDATE of next_due of the same rows, in the engine's batch size and in
//      batches of 512.
//
// Large stores are not made through the engine (too slow): one prototype case is made by the
// engine in a file, then copied N times by bulk SQL into the store's own tables, with its ids
// and times shifted (bench/README.md, "How the stores are made"). The 1M-case store is cached in
// /tmp/acm-bench-cache and reused while the prototype (so the engine's format) is unchanged.
//
// A custom driver, not Google Benchmark: its setups are large and shared, its figures ratios.
//
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DACM_BUILD_BENCH=ON
//         -DACM_BUILD_TESTS=OFF -DACM_BUILD_EXAMPLES=OFF   (one line)
//   cmake --build build-bench --target acm_bench_store -j2
//   build-bench/bench/acm_bench_store            # --help: sizes, --only, --quick, cache
#include <acm/acm.hpp>

#include <sqlite3.h>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace acm;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Steady = std::chrono::steady_clock;

double since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt_num(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  // Thousands separators in the integer part.
  const std::string s = buf;
  const std::size_t start = s[0] == '-' ? 1 : 0;
  const std::size_t end = std::min(s.find('.'), s.size());
  std::string out = s.substr(0, start);
  for (std::size_t i = start; i < end; ++i) {
    out += s[i];
    const std::size_t left = end - i - 1;
    if (left > 0 && left % 3 == 0) out += ',';
  }
  return out + s.substr(end);
}
std::string fmt_ms(double seconds) { return fmt_num(seconds * 1e3, seconds < 0.01 ? 3 : (seconds < 1 ? 2 : 0)) + " ms"; }
std::string fmt_ratio(double r) { return fmt_num(r, r < 10 ? 2 : 1); }

void say(const std::string& text) { std::cout << text << std::endl; }

// ---------------------------------------------------------------------------------------------
// Configuration: defaults are the sizes the targets name; environment, then flags, override.

struct Config {
  std::size_t cases = 1'000'000;        // bench 3: cases in the store
  std::size_t timers = 100'000;         // bench 4: due timers (1,000,000 with --timers=1000000)
  std::size_t group_commands = 12'000;  // bench 1: commands over all rounds and threads
  std::size_t sync_commands = 2'000;    // bench 2: commands over all rounds
  std::size_t sample = 1'000;           // bench 3: cases loaded to measure memory
  int threads = 4;                      // bench 1
  int rounds = 20;                      // benches 1 and 2: alternating engine/baseline rounds
  int repeats = 5;                      // bench 3: opens measured (queries: 4x as many)
  double timer_budget = 60;             // bench 4: seconds; N is scaled down to fit (0: never)
  double baseline_cap = 20;             // bench 4: longest one raw baseline runs, seconds
  fs::path tmp_root = "/tmp";
  fs::path cache_dir = "/tmp/acm-bench-cache";
  bool use_cache = true;
  bool clean_cache = false;
  std::string only = "1234";
};

std::size_t parse_size(const std::string& text, const char* what) {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used != text.size() || v < 0) throw std::invalid_argument(text);
    return static_cast<std::size_t>(std::llround(v));
  } catch (const std::exception&) {
    throw std::runtime_error(std::string("bad value for ") + what + ": '" + text + "'");
  }
}

void usage() {
  std::cout << R"(acm_bench_store: storage benchmarks, each a ratio against raw SQLite in the same run.

  --only=1234          run only these benchmarks (1 group commit, 2 full sync, 3 1M-case store, 4 timers)
                                                                  (ACM_BENCH_ONLY)
  --cases=N            cases in the store of bench 3              (ACM_BENCH_CASES, default 1000000)
  --timers=N           due timers fired in bench 4                (ACM_BENCH_TIMERS, default 100000)
  --commands=N         commands of bench 1, all rounds            (ACM_BENCH_COMMANDS, default 12000)
  --sync-commands=N    commands of bench 2, all rounds            (ACM_BENCH_SYNC_COMMANDS, default 2000)
  --threads=N          command threads of bench 1                 (ACM_BENCH_THREADS, default 4)
  --rounds=N           alternating engine/baseline rounds, 1 & 2  (ACM_BENCH_ROUNDS, default 20)
  --scale=F            multiply every size above by F, e.g. 0.1   (ACM_BENCH_SCALE)
  --quick              --scale=0.1
  --timer-budget=S     scale bench 4 down so that it takes about S seconds, 0 = never
                                                                  (ACM_BENCH_TIMER_BUDGET, default 60)
  --tmp=DIR            where temporary stores go (removed at exit) (ACM_BENCH_TMP, default /tmp)
  --cache-dir=DIR      where the store of bench 3 is kept between runs (ACM_BENCH_CACHE_DIR,
                       default /tmp/acm-bench-cache)
  --no-cache           generate the store of bench 3 into the temporary directory (removed at exit)
  --clean-cache        remove the cache directory at exit
)";
}

Config parse_config(int argc, char** argv) {
  Config c;
  double scale = 1;
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
  auto apply = [&](const std::string& key, const std::string& v) {
    if (key == "cases") c.cases = parse_size(v, "cases");
    else if (key == "timers") c.timers = parse_size(v, "timers");
    else if (key == "commands") c.group_commands = parse_size(v, "commands");
    else if (key == "sync-commands") c.sync_commands = parse_size(v, "sync-commands");
    else if (key == "threads") c.threads = static_cast<int>(parse_size(v, "threads"));
    else if (key == "rounds") c.rounds = static_cast<int>(parse_size(v, "rounds"));
    else if (key == "scale") scale = std::stod(v);
    else if (key == "timer-budget") c.timer_budget = std::stod(v);
    else if (key == "tmp") c.tmp_root = v;
    else if (key == "cache-dir") c.cache_dir = v;
    else if (key == "only") c.only = v;
    else throw std::runtime_error("unknown option --" + key + " (see --help)");
  };
  const std::pair<const char*, const char*> envs[] = {
      {"ACM_BENCH_CASES", "cases"},       {"ACM_BENCH_TIMERS", "timers"},
      {"ACM_BENCH_COMMANDS", "commands"}, {"ACM_BENCH_SYNC_COMMANDS", "sync-commands"},
      {"ACM_BENCH_THREADS", "threads"},   {"ACM_BENCH_ROUNDS", "rounds"},
      {"ACM_BENCH_SCALE", "scale"},       {"ACM_BENCH_TIMER_BUDGET", "timer-budget"},
      {"ACM_BENCH_TMP", "tmp"},           {"ACM_BENCH_CACHE_DIR", "cache-dir"},
      {"ACM_BENCH_ONLY", "only"}};
  for (const auto& [name, key] : envs)
    if (auto v = env(name)) apply(key, *v);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    }
    if (a == "--quick") scale = 0.1;
    else if (a == "--no-cache") c.use_cache = false;
    else if (a == "--clean-cache") c.clean_cache = true;
    else if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos)
      apply(a.substr(2, a.find('=') - 2), a.substr(a.find('=') + 1));
    else throw std::runtime_error("unknown argument '" + a + "' (see --help)");
  }
  auto scaled = [&](std::size_t v, std::size_t least) {
    return std::max<std::size_t>(least, static_cast<std::size_t>(std::llround(static_cast<double>(v) * scale)));
  };
  c.cases = scaled(c.cases, 1000);
  c.timers = scaled(c.timers, 1000);
  c.group_commands = scaled(c.group_commands, 400);
  c.sync_commands = scaled(c.sync_commands, 100);
  c.sample = std::min<std::size_t>(c.sample, c.cases);
  c.threads = std::max(1, c.threads);
  c.rounds = std::max(1, c.rounds);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Raw SQLite: a connection and a prepared statement.

class Raw {
 public:
  explicit Raw(const fs::path& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : path_(path.string()) {
    if (sqlite3_open_v2(path_.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close_v2(db_);
      throw std::runtime_error(path_ + ": " + m);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Raw() { sqlite3_close_v2(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "error";
      sqlite3_free(err);
      throw std::runtime_error(path_ + ": " + m + " in: " + sql);
    }
  }
  std::int64_t int64(const std::string& sql);
  std::string text(const std::string& sql);
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(Raw& db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v3(db.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
      throw std::runtime_error(db.path() + ": " + sqlite3_errmsg(db.get()) + " in: " + sql);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  /// The text is not copied: it must live until the statement is stepped and reset.
  Stmt& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    check(sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    return *this;
  }
  Stmt& bind_null(int i) {
    check(sqlite3_bind_null(s_, i));
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    check(rc);
    return false;
  }
  void run() {
    step();
    reset();
  }
  void reset() { sqlite3_reset(s_); }
  std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  std::string text(int col) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  sqlite3_stmt* get() const { return s_; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(db_.path() + ": " + sqlite3_errmsg(db_.get()));
  }
  Raw& db_;
  sqlite3_stmt* s_ = nullptr;
};

std::int64_t Raw::int64(const std::string& sql) {
  Stmt s(*this, sql);
  return s.step() ? s.int64(0) : 0;
}
std::string Raw::text(const std::string& sql) {
  Stmt s(*this, sql);
  return s.step() ? s.text(0) : std::string();
}

// Write transactions committed by any SQLite connection of this process (the engine's too: it
// uses the same libsqlite3). An auto-extension puts a commit hook on every new connection; the
// hook also remembers the connections that write, to read how many pages they wrote
// (SQLITE_DBSTATUS_CACHE_WRITE).
std::atomic<std::uint64_t> g_commits{0};
std::mutex g_conns_mutex;
std::vector<std::pair<sqlite3*, std::string>> g_conns;  // writers; forgotten before they close

int count_commit(void* arg) {
  g_commits.fetch_add(1, std::memory_order_relaxed);
  auto* db = static_cast<sqlite3*>(arg);
  std::lock_guard lk(g_conns_mutex);
  if (std::none_of(g_conns.begin(), g_conns.end(), [db](const auto& c) { return c.first == db; })) {
    const char* file = sqlite3_db_filename(db, "main");
    g_conns.emplace_back(db, file ? file : "");
  }
  return 0;  // 0: let the commit proceed
}
int install_commit_hook(sqlite3* db, char**, const sqlite3_api_routines*) {
  sqlite3_commit_hook(db, count_commit, db);
  return SQLITE_OK;
}
/// Forgets the connections (call before the engine or Raw holding them closes).
void forget_connections() {
  std::lock_guard lk(g_conns_mutex);
  g_conns.clear();
}
/// Pages written so far by the open connections to `file` (remembered since the last forget).
std::uint64_t pages_written(const fs::path& file) {
  std::error_code ec;
  const std::string want = fs::weakly_canonical(file, ec).string();
  std::lock_guard lk(g_conns_mutex);
  std::uint64_t total = 0;
  for (const auto& [db, name] : g_conns) {
    if (fs::weakly_canonical(name, ec).string() != want) continue;
    int current = 0, high = 0;
    if (sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &current, &high, 0) == SQLITE_OK)
      total += static_cast<std::uint64_t>(current);
  }
  return total;
}

/// CPU seconds of the whole process (all threads) in user mode and in the kernel.
struct Cpu {
  double user = 0, sys = 0;
  double total() const { return user + sys; }
  Cpu operator-(const Cpu& o) const { return {user - o.user, sys - o.sys}; }
};
Cpu cpu_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return {sec(u.ru_utime), sec(u.ru_stime)};
}
double cpu_seconds() { return cpu_now().total(); }

// ---------------------------------------------------------------------------------------------
// Memory and files

std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}
std::size_t heap_bytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

void remove_store(const fs::path& p) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal", ".lock"}) fs::remove(p.string() + suffix, ec);
}

/// A directory under /tmp for this run's files, removed (with its contents) at exit.
class TempDir {
 public:
  explicit TempDir(const fs::path& root) {
    path_ = root / ("acm-bench-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void copy_store(const fs::path& from, const fs::path& to) {
  remove_store(to);
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// ---------------------------------------------------------------------------------------------
// Summary table

struct Row {
  std::string bench, engine, baseline, ratio, target, verdict;
};
std::vector<Row> g_summary;

// ---------------------------------------------------------------------------------------------
// Store generation: a prototype case made by the engine, copied N times by bulk SQL.

const TimePoint kT0 = parse_time("2026-01-05T09:00:00Z");
const Actor kAdmin{"root", {"admin"}};
constexpr const char* kProtoId = "zz-proto-case";

/// A piece of a text cell: a literal, then (optionally) a timestamp to shift.
struct Segment {
  std::string literal;
  std::optional<TimePoint> time;
};

struct Cell {
  enum class Kind { null, integer, real, text, blob } kind = Kind::null;
  enum class Role { plain, case_id, case_seq, time } role = Role::plain;
  std::int64_t integer = 0;
  double real = 0;
  std::vector<Segment> text;  // text: literal pieces and timestamps
  std::string blob;
};

struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

struct Prototype {
  fs::path file;  // the store the engine made, holding definitions and the prototype case
  std::vector<Table> tables;
  std::string signature;  // changes when anything the engine wrote changes
  std::uint64_t events = 0;
};

bool is_iso_time(std::string_view s) {
  // "2026-01-05T13:00:00.000Z", as format_time writes it.
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() < shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != shape[i]) return false;
  }
  return true;
}

std::vector<Segment> split_times(std::string_view s) {
  std::vector<Segment> out(1);
  for (std::size_t i = 0; i < s.size();) {
    if (i + 24 <= s.size() && is_iso_time(s.substr(i, 24))) {
      auto t = parse_time(s.substr(i, 24));
      if (format_time(t) == s.substr(i, 24)) {
        out.back().time = t;
        out.emplace_back();
        i += 24;
        continue;
      }
    }
    out.back().literal.push_back(s[i++]);
  }
  return out;
}

void render(const std::vector<Segment>& text, Duration shift, std::string& out) {
  out.clear();
  for (const auto& seg : text) {
    out += seg.literal;
    if (seg.time) out += shift.count() ? format_time(*seg.time + shift) : format_time(*seg.time);
  }
}

std::string case_id(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "case-%07zu", i);
  return buf;
}

/// The prototype case's rows (cases, events, work_items) read back from the store file.
Prototype read_prototype(const fs::path& file) {
  Prototype p;
  p.file = file;
  Raw db(file, SQLITE_OPEN_READONLY);
  const std::pair<const char*, const char*> tables[] = {
      {"cases", "id"}, {"events", "case_id"}, {"work_items", "case_id"}, {"snapshots", "case_id"}};
  const std::vector<std::string> time_columns = {"next_due", "next_deadline", "created_at", "updated_at", "time", "due"};
  std::string sig = "acm-bench-store generator v1\n";
  for (const auto& [name, id_column] : tables) {
    Table t;
    t.name = name;
    Stmt s(db, std::string("SELECT * FROM ") + name + " WHERE " + id_column + " = ?1" +
                   (std::string(name) == "events" ? " ORDER BY seq" : ""));
    s.bind(1, std::string_view(kProtoId));
    const int n = sqlite3_column_count(s.get());
    for (int c = 0; c < n; ++c) t.columns.push_back(sqlite3_column_name(s.get(), c));
    while (s.step()) {
      std::vector<Cell> row;
      for (int c = 0; c < n; ++c) {
        Cell cell;
        const std::string& col = t.columns[static_cast<std::size_t>(c)];
        if (col == id_column) cell.role = Cell::Role::case_id;
        else if (t.name == "cases" && col == "seq") cell.role = Cell::Role::case_seq;
        else if (std::find(time_columns.begin(), time_columns.end(), col) != time_columns.end()) cell.role = Cell::Role::time;
        switch (sqlite3_column_type(s.get(), c)) {
          case SQLITE_NULL: cell.kind = Cell::Kind::null; break;
          case SQLITE_INTEGER: cell.kind = Cell::Kind::integer; cell.integer = s.int64(c); break;
          case SQLITE_FLOAT: cell.kind = Cell::Kind::real; cell.real = sqlite3_column_double(s.get(), c); break;
          case SQLITE_TEXT: {
            cell.kind = Cell::Kind::text;
            std::string v = s.text(c);
            if (cell.role != Cell::Role::case_id && v.find(kProtoId) != std::string::npos)
              throw std::runtime_error("the prototype's " + t.name + "." + col +
                                       " names its case id: the store generator needs updating");
            cell.text = split_times(v);
            sig += v;
            break;
          }
          default:
            cell.kind = Cell::Kind::blob;
            cell.blob.assign(static_cast<const char*>(sqlite3_column_blob(s.get(), c)),
                             static_cast<std::size_t>(sqlite3_column_bytes(s.get(), c)));
            sig += cell.blob;
        }
        sig += '|';
        sig += std::to_string(cell.integer);
        sig += '\n';
        row.push_back(std::move(cell));
      }
      t.rows.push_back(std::move(row));
    }
    if (t.name == "snapshots" && !t.rows.empty())
      throw std::runtime_error("the prototype has a snapshot: keep it below EngineOptions::snapshot_every events");
    if (t.name == "events") p.events = t.rows.size();
    p.tables.push_back(std::move(t));
  }
  if (p.tables[0].rows.size() != 1) throw std::runtime_error("no prototype case in " + file.string());
  sig += db.text("SELECT group_concat(body, '|') FROM definitions");
  p.signature = std::to_string(std::hash<std::string>{}(sig));
  return p;
}

/// Makes the prototype: an engine on a fresh file at kT0 runs `play`, which must create the
/// case kProtoId.
Prototype make_prototype(const fs::path& file, const std::function<void(Engine&, ManualClock&)>& play) {
  remove_store(file);
  {
    auto clock = std::make_shared<ManualClock>(kT0);
    EngineOptions o;
    o.database = file.string();
    o.clock = clock;
    auto engine = Engine::open(o);
    play(*engine, *clock);
  }
  return read_prototype(file);
}

/// Copies the prototype file to `file` and replaces its prototype case by `n` copies: case i is
/// case_id(i), created `step * i` after the prototype, all its times shifted by as much.
void replicate(const Prototype& p, const fs::path& file, std::size_t n, Duration step, const std::string& signature) {
  copy_store(p.file, file);
  Raw db(file);
  db.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; "
          "PRAGMA temp_store = MEMORY;");
  db.exec("BEGIN");
  for (const auto& t : p.tables)
    db.exec("DELETE FROM " + t.name + " WHERE " + (t.name == "cases" ? "id" : "case_id") + " = '" + kProtoId + "'");
  struct Insert {
    const Table* table;
    std::unique_ptr<Stmt> stmt;
  };
  std::vector<Insert> inserts;
  for (const auto& t : p.tables) {
    if (t.rows.empty()) continue;
    std::string cols, params;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      cols += (c ? ", " : "") + t.columns[c];
      params += (c ? ", ?" : "?") + std::to_string(c + 1);
    }
    inserts.push_back({&t, std::make_unique<Stmt>(db, "INSERT INTO " + t.name + "(" + cols + ") VALUES (" + params + ")")});
  }
  std::vector<std::string> buffers(64);
  const auto t0 = Steady::now();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string id = case_id(i);
    const Duration shift = step * static_cast<std::int64_t>(i);
    for (auto& ins : inserts) {
      for (const auto& row : ins.table->rows) {
        if (row.size() > buffers.size()) buffers.resize(row.size());
        for (std::size_t c = 0; c < row.size(); ++c) {
          const Cell& cell = row[c];
          const int k = static_cast<int>(c + 1);
          if (cell.role == Cell::Role::case_id) {
            ins.stmt->bind(k, std::string_view(id));
            continue;
          }
          if (cell.role == Cell::Role::case_seq) {
            ins.stmt->bind(k, static_cast<std::int64_t>(i + 1));
            continue;
          }
          switch (cell.kind) {
            case Cell::Kind::null: ins.stmt->bind_null(k); break;
            case Cell::Kind::integer:
              ins.stmt->bind(k, cell.role == Cell::Role::time ? cell.integer + shift.count() : cell.integer);
              break;
            case Cell::Kind::real: sqlite3_bind_double(ins.stmt->get(), k, cell.real); break;
            case Cell::Kind::text:
              render(cell.text, shift, buffers[c]);
              ins.stmt->bind(k, std::string_view(buffers[c]));
              break;
            case Cell::Kind::blob: ins.stmt->bind_blob(k, cell.blob); break;
          }
        }
        ins.stmt->run();
      }
    }
    if ((i + 1) % 100000 == 0) {
      db.exec("COMMIT");
      std::cerr << "  ... " << fmt_num(static_cast<double>(i + 1)) << " cases (" << fmt_num(since(t0), 1) << " s)\n";
      db.exec("BEGIN");
    }
  }
  db.exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('bench_signature', '" + signature + "')");
  db.exec("COMMIT");
  inserts.clear();
  db.exec("PRAGMA journal_mode = WAL");  // as the engine leaves its files
}

std::string store_signature(const Prototype& p, std::size_t n, Duration step) {
  return p.signature + "-" + std::to_string(n) + "-" + std::to_string(step.count());
}

std::string stored_signature(const fs::path& file) {
  try {
    Raw db(file, SQLITE_OPEN_READONLY);
    return db.text("SELECT value FROM meta WHERE key = 'bench_signature'");
  } catch (const std::exception&) {
    return {};
  }
}

/// A store of `n` copies of the prototype. With `cache` (and not --no-cache): from the cache if
/// it holds one made from the same prototype, else generated into the cache; otherwise generated
/// into the temporary directory.
fs::path generated_store(const Config& cfg, const TempDir& tmp, const std::string& name, const Prototype& p,
                         std::size_t n, Duration step, bool cache) {
  const fs::path dir = cache && cfg.use_cache ? cfg.cache_dir : tmp.path();
  fs::create_directories(dir);
  const fs::path file = dir / (name + "-" + std::to_string(n) + ".db");
  const std::string sig = store_signature(p, n, step);
  if (fs::exists(file) && stored_signature(file) == sig) {
    say("  using cached store " + file.string() + " (" + fmt_num(static_cast<double>(fs::file_size(file)) / 1e6) + " MB)");
    return file;
  }
  say("  generating " + file.string() + ": " + fmt_num(static_cast<double>(n)) + " copies of a case with " +
      std::to_string(p.events) + " events ...");
  const auto t0 = Steady::now();
  const fs::path building = file.string() + ".building";
  remove_store(building);
  replicate(p, building, n, step, sig);
  remove_store(file);
  fs::rename(building, file);
  say("  generated in " + fmt_num(since(t0), 1) + " s (" + fmt_num(static_cast<double>(fs::file_size(file)) / 1e6) +
      " MB)");
  return file;
}

// ---------------------------------------------------------------------------------------------
// Prototype cases

/// A bare case with one human task due 4 hours after creation (3 events, 1 open work item).
void play_task_case(Engine& e, ManualClock&) {
  NewCase spec;
  spec.id = kProtoId;
  spec.title = "Customer asks for a refund of order 4711";
  spec.owner = "alice";
  spec.priority = 3;
  spec.subject.customer = "cust-42";
  spec.participants = {{"bob", {"agent"}}};
  e.create_case(kAdmin, spec);
  AdHocTask t;
  t.name = "Answer the customer";
  t.role = "agent";
  t.estimate = 1h;
  t.due = 4h;
  e.add_task(kAdmin, kProtoId, t);
}

/// A complaint of examples/definitions/helpdesk.json after a few commands (10 events).
void play_helpdesk_case(Engine& e, ManualClock& clock, const fs::path& definitions) {
  std::ifstream in(definitions);
  if (!in) throw std::runtime_error("cannot read " + definitions.string());
  e.load_definitions(kAdmin, Json::parse(in));
  NewCase spec;
  spec.id = kProtoId;
  spec.type = "complaint";
  spec.title = "Laptop dead after two days";
  spec.owner = "alice";
  spec.subject.customer = "cust-42";
  spec.subject.attributes = {{"value", 250}, {"channel", "email"}};
  spec.priority = 2;
  spec.participants = {{"bob", {"agent"}}};
  e.create_case(Actor{"intake", {"admin"}}, spec);
  Actor alice{"alice", {}}, bob{"bob", {}};
  e.attach(alice, kProtoId, Asset{.kind = "note", .title = "call notes", .text = "Customer called twice; wants a replacement."});
  clock.advance(20min);
  e.complete_item(bob, kProtoId, "diagnosis#1/triage");
  clock.advance(30min);
  e.set_file(bob, kProtoId, "diagnosis.fault", "software");
}

/// A bare case with a fragment holding a timer listener that falls due 1 hour after creation.
void play_timer_case(Engine& e, ManualClock&) {
  FragmentDef f;
  f.id = "reminder";
  f.name = "Reminder";
  ItemDef t;
  t.id = "wait";
  t.name = "Wait an hour";
  t.kind = ItemKind::timer_listener;
  t.timer = 1h;
  f.items.push_back(t);
  e.register_fragment(kAdmin, f);
  NewCase spec;
  spec.id = kProtoId;
  spec.title = "Follow up";
  e.create_case(kAdmin, spec);
  e.add_fragment(kAdmin, kProtoId, {"reminder", 0, "", Json::object()});
}

fs::path helpdesk_definitions() {
  // Next to the sources; the build tree does not copy examples.
  for (fs::path p : {fs::path(ACM_SOURCE_DIR) / "examples/definitions/helpdesk.json",
                     fs::path("examples/definitions/helpdesk.json")})
    if (fs::exists(p)) return p;
  throw std::runtime_error("examples/definitions/helpdesk.json not found");
}

// ---------------------------------------------------------------------------------------------
// Benches 1 and 2: durable commands vs raw synced inserts of the same event rows.

constexpr const char* kEventsTable =
    "CREATE TABLE IF NOT EXISTS events(case_id TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, "
    "actor TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY(case_id, seq)) WITHOUT ROWID";
constexpr const char* kFilePath = "notes.last";

/// The value of the n-th set_file command (always the same length).
std::string note(std::uint64_t n) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "note %010llu: the customer called back about the delivery",
                static_cast<unsigned long long>(n));
  return buf;
}
std::string note_payload(std::uint64_t n) { return Json{{"path", kFilePath}, {"value", note(n)}}.dump(); }

/// The raw baseline: a table shaped like `events`, WAL, synchronous=FULL, one prepared INSERT.
class RawEvents {
 public:
  explicit RawEvents(const fs::path& file) : db_(file) {
    db_.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    db_.exec(kEventsTable);
    insert_ = std::make_unique<Stmt>(db_, "INSERT INTO events(case_id, seq, time, actor, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  }
  ~RawEvents() { insert_.reset(); }
  RawEvents(const RawEvents&) = delete;
  RawEvents& operator=(const RawEvents&) = delete;
  /// Pages this connection wrote so far.
  std::uint64_t pages() const {
    int current = 0, high = 0;
    sqlite3_db_status(db_.get(), SQLITE_DBSTATUS_CACHE_WRITE, &current, &high, 0);
    return static_cast<std::uint64_t>(current);
  }
  /// Inserts `rows` rows for `cases` in turn, in `transactions` transactions of (nearly) equal
  /// size; returns the seconds it took.
  double run(const std::vector<std::string>& cases, std::uint64_t rows, std::uint64_t transactions) {
    transactions = std::clamp<std::uint64_t>(transactions, 1, rows);
    std::vector<std::string> payloads(rows);
    for (std::uint64_t j = 0; j < rows; ++j) payloads[j] = note_payload(counter_ + j);
    const auto t0 = Steady::now();
    std::uint64_t j = 0;
    for (std::uint64_t t = 0; t < transactions; ++t) {
      const std::uint64_t end = rows * (t + 1) / transactions;
      db_.exec("BEGIN IMMEDIATE");
      for (; j < end; ++j) {
        const std::string& id = cases[j % cases.size()];
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
        insert_->bind(1, std::string_view(id)).bind(2, static_cast<std::int64_t>(++seq_[id]));
        insert_->bind(3, static_cast<std::int64_t>(now_ms)).bind(4, std::string_view(kAdmin.id));
        insert_->bind(5, std::string_view("file_set")).bind(6, std::string_view(payloads[j]));
        insert_->run();
      }
      db_.exec("COMMIT");
    }
    counter_ += rows;
    return since(t0);
  }

 private:
  Raw db_;
  std::unique_ptr<Stmt> insert_;
  std::unordered_map<std::string, std::uint64_t> seq_;
  std::uint64_t counter_ = 0;
};

struct CommandRun {
  double seconds = 0;
  double cpu = 0;             // process CPU seconds meanwhile (all threads)
  std::uint64_t commands = 0;
  std::uint64_t commits = 0;  // write transactions the store committed meanwhile
};

/// `threads` threads, each issuing `per_thread` set_file commands round-robin on its own cases.
CommandRun run_commands(Engine& e, const std::vector<std::vector<std::string>>& cases, std::uint64_t per_thread,
                        std::atomic<std::uint64_t>& counter) {
  const std::size_t threads = cases.size();
  std::latch ready(static_cast<std::ptrdiff_t>(threads) + 1), go(1);
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(threads);
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.count_down();
      go.wait();
      try {
        for (std::uint64_t j = 0; j < per_thread; ++j) {
          const std::string& id = cases[t][j % cases[t].size()];
          auto r = e.set_file(kAdmin, id, kFilePath, note(counter.fetch_add(1)));
          if (r.events.size() != 1) throw std::runtime_error("set_file appended " + std::to_string(r.events.size()) + " events");
        }
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  ready.arrive_and_wait();
  const std::uint64_t c0 = g_commits.load();
  const double cpu0 = cpu_seconds();
  const auto t0 = Steady::now();
  go.count_down();
  for (auto& th : pool) th.join();
  CommandRun r;
  r.seconds = since(t0);
  r.cpu = cpu_seconds() - cpu0;
  r.commits = g_commits.load() - c0;
  r.commands = per_thread * threads;
  for (auto& err : errors)
    if (err) std::rethrow_exception(err);
  return r;
}

void bench_commands(const Config& cfg, const TempDir& tmp, bool group) {
  const int threads = group ? cfg.threads : 1;
  const std::uint64_t total = group ? cfg.group_commands : cfg.sync_commands;
  const std::uint64_t per_thread = std::max<std::uint64_t>(1, total / static_cast<std::uint64_t>(cfg.rounds * threads));
  const char* label = group ? "1. group commit" : "2. per-command sync";
  say("");
  say(std::string("== ") + label + ": " + std::to_string(threads) + " thread(s), Durability::" +
      (group ? "group" : "full") + ", " + std::to_string(cfg.rounds) + " rounds of " +
      fmt_num(static_cast<double>(per_thread * static_cast<std::uint64_t>(threads))) + " set_file commands");

  const fs::path engine_file = tmp / (group ? "group.db" : "full.db");
  const fs::path raw_file = tmp / (group ? "group-raw.db" : "full-raw.db");
  remove_store(engine_file);
  remove_store(raw_file);
  forget_connections();
  EngineOptions o;
  o.database = engine_file.string();
  o.durability = group ? Durability::group : Durability::full;
  auto e = Engine::open(o);
  constexpr int kCasesPerThread = 8;
  std::vector<std::vector<std::string>> cases(static_cast<std::size_t>(threads));
  std::vector<std::string> all;
  for (int t = 0; t < threads; ++t)
    for (int k = 0; k < kCasesPerThread; ++k) {
      NewCase spec;
      spec.id = std::string(1, 't');
      spec.id += std::to_string(t);
      spec.id += "-case-";
      spec.id += std::to_string(k);
      spec.title = "Customer complaint";
      spec.owner = "alice";
      e->create_case(kAdmin, spec);
      cases[static_cast<std::size_t>(t)].push_back(spec.id);
      all.push_back(spec.id);
    }
  // The payload the engine stores is the one the baseline inserts.
  std::atomic<std::uint64_t> counter{0};
  {
    const std::uint64_t n = counter.fetch_add(1);
    auto r = e->set_file(kAdmin, all[0], kFilePath, note(n));
    if (r.events.size() != 1 || r.events[0].payload.dump() != note_payload(n))
      throw std::runtime_error("the engine's set_file event differs from the baseline's row: " +
                               (r.events.empty() ? std::string("none") : r.events[0].payload.dump()));
  }
  run_commands(*e, cases, 4, counter);  // warm up: every case in the cache, statements prepared

  RawEvents raw(raw_file);
  raw.run(all, 32, group ? 8 : 32);  // warm up

  std::vector<double> eng_rates, raw_rates, ratios, batches, eng_pages, raw_pages, eng_cpu, raw_cpu;
  for (int r = 0; r < cfg.rounds; ++r) {
    const std::uint64_t ep0 = pages_written(engine_file);
    CommandRun er = run_commands(*e, cases, per_thread, counter);
    const std::uint64_t ep1 = pages_written(engine_file), rp0 = raw.pages();
    const double rcpu0 = cpu_seconds();
    const double raw_s = raw.run(all, er.commands, er.commits);
    const double rcpu = cpu_seconds() - rcpu0;
    const std::uint64_t rp1 = raw.pages();
    const double txns = static_cast<double>(std::max<std::uint64_t>(1, er.commits));
    const double eng_rate = static_cast<double>(er.commands) / er.seconds;
    const double raw_rate = static_cast<double>(er.commands) / raw_s;
    const double batch = static_cast<double>(er.commands) / txns;
    eng_rates.push_back(eng_rate);
    raw_rates.push_back(raw_rate);
    ratios.push_back(eng_rate / raw_rate);
    batches.push_back(batch);
    eng_pages.push_back(static_cast<double>(ep1 - ep0) / txns);
    raw_pages.push_back(static_cast<double>(rp1 - rp0) / txns);
    eng_cpu.push_back(er.cpu / static_cast<double>(er.commands));
    raw_cpu.push_back(rcpu / static_cast<double>(er.commands));
    say("  round " + std::to_string(r + 1) + ": engine " + fmt_num(eng_rate) + " commands/s in " +
        fmt_num(static_cast<double>(er.commits)) + " transactions (" + fmt_num(batch, 2) + " per transaction); raw " +
        fmt_num(raw_rate) + " rows/s in as many; ratio " + fmt_ratio(eng_rate / raw_rate));
  }
  forget_connections();
  e.reset();
  const double ratio = median(ratios);
  const double target = group ? 0.5 : 0;
  say("  median: engine " + fmt_num(median(eng_rates)) + " commands/s, raw " + fmt_num(median(raw_rates)) +
      " rows/s, average batch " + fmt_num(median(batches), 2) + "; median of the rounds' ratios " + fmt_ratio(ratio) +
      (group ? " (target >= 0.5)" : "") + ", ratio of the medians " + fmt_ratio(median(eng_rates) / median(raw_rates)));
  say("  per transaction: engine wrote " + fmt_num(median(eng_pages), 1) + " pages, raw " + fmt_num(median(raw_pages), 1) +
      "; CPU per command: engine " + fmt_num(median(eng_cpu) * 1e6) + " us (all threads), raw " +
      fmt_num(median(raw_cpu) * 1e6) + " us per row");
  g_summary.push_back({group ? "1. durable commands, group commit, " + std::to_string(threads) + " threads"
                             : "2. durable commands, Durability::full, 1 thread",
                       fmt_num(median(eng_rates)) + " commands/s (batch " + fmt_num(median(batches), 2) + ")",
                       fmt_num(median(raw_rates)) + " rows/s, same batches",
                       fmt_ratio(ratio) + " (CPU " + fmt_ratio(median(raw_cpu) / median(eng_cpu)) + ")",
                       group ? ">= 0.5" : "(none)",
                       group ? (ratio >= target ? "met" : "MISSED") : "-"});
  remove_store(engine_file);
  remove_store(raw_file);
}

// ---------------------------------------------------------------------------------------------
// Bench 3: a store of 1M cases: open, overdue queue, memory per cached case.

constexpr const char* kTeamSql =
    "SELECT case_id, item_id, name, state, assignee, role, skills, due, priority FROM work_items "
    "INDEXED BY work_items_team WHERE role = ?1 AND assignee = '' "
    "ORDER BY priority DESC, IFNULL(due, 9223372036854775807), case_id, item_id LIMIT 50 OFFSET ?2";

constexpr const char* kOverdueSql =
    "SELECT case_id, item_id, name, state, assignee, role, skills, due, priority FROM work_items "
    "WHERE due < ?1 ORDER BY due, priority DESC, case_id, item_id LIMIT ?2";

struct MemoryUse {
  double rss_per_case = 0;   // RSS delta / cases (includes SQLite's page cache growth)
  double heap_per_case = 0;  // malloc'd bytes delta minus SQLite's own / cases
};

MemoryUse load_sample(Engine& e, const std::vector<std::string>& ids) {
  malloc_trim(0);
  const std::size_t rss0 = rss_bytes(), heap0 = heap_bytes();
  const auto sql0 = sqlite3_memory_used();
  for (const auto& id : ids) {
    auto c = e.get_case(id);
    if (c.id != id) throw std::runtime_error("get_case returned " + c.id + " for " + id);
  }
  malloc_trim(0);
  const std::size_t rss1 = rss_bytes(), heap1 = heap_bytes();
  const auto sql1 = sqlite3_memory_used();
  const double n = static_cast<double>(ids.size());
  MemoryUse m;
  m.rss_per_case = (static_cast<double>(rss1) - static_cast<double>(rss0)) / n;
  m.heap_per_case =
      (static_cast<double>(heap1) - static_cast<double>(heap0) - static_cast<double>(sql1 - sql0)) / n;
  return m;
}

void bench_big_store(const Config& cfg, const TempDir& tmp) {
  const std::size_t n = cfg.cases;
  say("");
  say("== 3. a store of " + fmt_num(static_cast<double>(n)) + " cases: open, 100 most urgent overdue work items, memory");
  // Case i is created at kT0 + i s; its task is due 4 h later; the first 10% are overdue now.
  constexpr Duration kStep = 1s;
  const Prototype proto = make_prototype(tmp / "proto-task.db", play_task_case);
  const fs::path file = generated_store(cfg, tmp, "cases", proto, n, kStep, true);
  const std::size_t overdue = n / 10;
  const TimePoint now = kT0 + 4h + kStep * static_cast<std::int64_t>(overdue);
  const std::int64_t now_ms = now.time_since_epoch().count();

  std::vector<double> eng_open, eng_first, raw_open_count, raw_open_query;
  std::size_t listed = 0;
  std::string first_case;
  for (int r = 0; r < cfg.repeats; ++r) {
    {  // raw: open + SELECT count(*) FROM cases
      const auto t0 = Steady::now();
      Raw db(file, SQLITE_OPEN_READONLY);
      const auto count = db.int64("SELECT count(*) FROM cases");
      raw_open_count.push_back(since(t0));
      if (static_cast<std::size_t>(count) != n) throw std::runtime_error("the store has " + std::to_string(count) + " cases");
    }
    {  // raw: open + the queue's SQL
      const auto t0 = Steady::now();
      Raw db(file, SQLITE_OPEN_READONLY);
      Stmt s(db, kOverdueSql);
      s.bind(1, now_ms).bind(2, std::int64_t{100});
      std::size_t rows = 0;
      while (s.step()) ++rows;
      raw_open_query.push_back(since(t0));
      if (rows != std::min<std::size_t>(100, overdue)) throw std::runtime_error("raw query listed " + std::to_string(rows));
    }
    {  // engine: open, then the first query
      EngineOptions o;
      o.database = file.string();
      o.clock = std::make_shared<ManualClock>(now);
      auto t0 = Steady::now();
      auto e = Engine::open(o);
      eng_open.push_back(since(t0));
      t0 = Steady::now();
      auto items = e->queue({.overdue_at = now, .limit = 100});
      eng_first.push_back(since(t0));
      listed = items.size();
      first_case = items.empty() ? "" : items.front().case_id;
    }
  }
  if (listed != std::min<std::size_t>(100, overdue) || first_case != case_id(0))
    throw std::runtime_error("Engine::queue listed " + std::to_string(listed) + " items, first of " + first_case);

  // Steady-state query times: one raw connection, one engine, alternating.
  std::vector<double> raw_count, raw_query, eng_query;
  EngineOptions o;
  o.database = file.string();
  o.clock = std::make_shared<ManualClock>(now);
  {
    Raw db(file, SQLITE_OPEN_READONLY);
    Stmt count(db, "SELECT count(*) FROM cases");
    Stmt query(db, kOverdueSql);
    for (int r = 0; r < cfg.repeats * 4 + 1; ++r) {
      auto t0 = Steady::now();
      count.step();
      count.reset();
      raw_count.push_back(since(t0));
      t0 = Steady::now();
      query.bind(1, now_ms).bind(2, std::int64_t{100});
      while (query.step()) {
      }
      query.reset();
      raw_query.push_back(since(t0));
    }
  }
  // A team's queue: a page of 50 of the open items needing role "agent", by priority and due
  // time, first page and page 101 (offset 5000).
  std::vector<double> raw_team, raw_team_deep, eng_team, eng_team_deep;
  {
    Raw db(file, SQLITE_OPEN_READONLY);
    Stmt team(db, kTeamSql);
    for (int r = 0; r < cfg.repeats * 4 + 1; ++r)
      for (std::int64_t offset : {std::int64_t{0}, std::int64_t{5000}}) {
        const auto t0 = Steady::now();
        team.bind(1, std::string_view("agent")).bind(2, offset);
        std::size_t rows = 0;
        while (team.step()) ++rows;
        team.reset();
        if (rows != 50) throw std::runtime_error("raw team query listed " + std::to_string(rows));
        (offset ? raw_team_deep : raw_team).push_back(since(t0));
      }
  }
  auto e = Engine::open(o);
  e->queue({.overdue_at = now, .limit = 100});
  for (int r = 0; r < cfg.repeats * 4 + 1; ++r) {
    const auto t0 = Steady::now();
    auto items = e->queue({.overdue_at = now, .limit = 100});
    eng_query.push_back(since(t0));
  }
  for (int r = 0; r < cfg.repeats * 4 + 1; ++r)
    for (std::size_t offset : {std::size_t{0}, std::size_t{5000}}) {
      const auto t0 = Steady::now();
      auto items = e->queue({.roles = {"agent"}, .limit = 50, .offset = offset});
      (offset ? eng_team_deep : eng_team).push_back(since(t0));
      if (items.size() != 50) throw std::runtime_error("team queue listed " + std::to_string(items.size()));
    }
  say("  team queue page of 50 (role agent) " + fmt_ms(median(eng_team)) + " first page, " +
      fmt_ms(median(eng_team_deep)) + " at offset 5000; raw " + fmt_ms(median(raw_team)) + " / " +
      fmt_ms(median(raw_team_deep)) + "; ratios " + fmt_ratio(median(eng_team) / median(raw_team)) + " / " +
      fmt_ratio(median(eng_team_deep) / median(raw_team_deep)));
  g_summary.push_back({"3d. team queue page of 50, first / offset 5000", fmt_ms(median(eng_team)) + " / " + fmt_ms(median(eng_team_deep)),
                       fmt_ms(median(raw_team)) + " / " + fmt_ms(median(raw_team_deep)) + " raw query",
                       fmt_ratio(median(eng_team) / median(raw_team)) + " / " +
                           fmt_ratio(median(eng_team_deep) / median(raw_team_deep)),
                       "(none)", "-"});

  // Memory: load a sample of cases spread over the store into the cache.
  std::vector<std::string> sample;
  for (std::size_t k = 0; k < cfg.sample; ++k) sample.push_back(case_id(k * (n / cfg.sample)));
  const MemoryUse task_mem = load_sample(*e, sample);
  e.reset();

  // The same for help-desk complaints (10 events: created, goal, fragment, note, triage, file).
  const Prototype hd = make_prototype(tmp / "proto-helpdesk.db", [](Engine& en, ManualClock& c) {
    play_helpdesk_case(en, c, helpdesk_definitions());
  });
  const fs::path hd_file = generated_store(cfg, tmp, "helpdesk", hd, cfg.sample, kStep, false);
  MemoryUse hd_mem;
  {
    EngineOptions ho;
    ho.database = hd_file.string();
    ho.clock = std::make_shared<ManualClock>(kT0 + 2h);
    auto he = Engine::open(ho);
    std::vector<std::string> ids;
    for (std::size_t k = 0; k < cfg.sample; ++k) ids.push_back(case_id(k));
    he->get_case(ids[0]);  // registry, reader and statements warm: not counted
    ids.erase(ids.begin());
    hd_mem = load_sample(*he, ids);
  }

  const double open_s = median(eng_open), first_s = median(eng_first), query_s = median(eng_query);
  const double base_open = median(raw_open_count), base_open_query = median(raw_open_query);
  const double base_count = median(raw_count), base_query = median(raw_query);
  say("  Engine::open                      " + fmt_ms(open_s) + "  (median of " + std::to_string(cfg.repeats) +
      "; target < 2 s)");
  say("  first Engine::queue after open    " + fmt_ms(first_s));
  say("  Engine::queue (steady)            " + fmt_ms(query_s) + "  (median of " + std::to_string(eng_query.size()) +
      "; target < 10 ms), " + std::to_string(listed) + " items of " + fmt_num(static_cast<double>(overdue)) + " overdue");
  say("  raw open + SELECT count(*)        " + fmt_ms(base_open));
  say("  raw open + same ORDER BY/LIMIT    " + fmt_ms(base_open_query));
  say("  raw SELECT count(*) FROM cases    " + fmt_ms(base_count));
  say("  raw same ORDER BY/LIMIT query     " + fmt_ms(base_query));
  say("  ratios: open / (raw open + count(*)) " + fmt_ratio(open_s / base_open) + ", open / (raw open + query) " +
      fmt_ratio(open_s / base_open_query) + ", queue / raw query " + fmt_ratio(query_s / base_query) +
      ", queue / count(*) " + fmt_ratio(query_s / base_count));
  say("  memory per cached case (" + fmt_num(static_cast<double>(sample.size())) + " loaded): task case " +
      fmt_num(task_mem.rss_per_case) + " B RSS, " + fmt_num(task_mem.heap_per_case) +
      " B heap without SQLite; help-desk case " + fmt_num(hd_mem.rss_per_case) + " B RSS, " +
      fmt_num(hd_mem.heap_per_case) + " B heap without SQLite");

  const std::string size = fmt_num(static_cast<double>(n) / 1e6, n % 1000000 ? 2 : 0) + "M";
  g_summary.push_back({"3a. Engine::open, " + size + " cases", fmt_ms(open_s),
                       fmt_ms(base_open) + " raw open + count(*); " + fmt_ms(base_open_query) + " raw open + query",
                       fmt_ratio(open_s / base_open) + " / " + fmt_ratio(open_s / base_open_query), "< 2 s",
                       open_s < 2 ? "met" : "MISSED"});
  g_summary.push_back({"3b. 100 most urgent overdue items, " + size + " cases", fmt_ms(query_s),
                       fmt_ms(base_query) + " raw query; " + fmt_ms(base_count) + " count(*)",
                       fmt_ratio(query_s / base_query) + " / " + fmt_ratio(query_s / base_count), "< 10 ms",
                       query_s < 0.010 ? "met" : "MISSED"});
  g_summary.push_back({"3c. memory per cached case", fmt_num(task_mem.rss_per_case) + " B task case, " +
                                                         fmt_num(hd_mem.rss_per_case) + " B help-desk case (RSS)",
                       fmt_num(task_mem.heap_per_case) + " / " + fmt_num(hd_mem.heap_per_case) + " B heap w/o SQLite",
                       "-", "(none)", "-"});
}

// ---------------------------------------------------------------------------------------------
// Bench 4: firing due timers.

struct TimerRun {
  double seconds = 0;
  std::size_t fired = 0;
  std::uint64_t commits = 0;
  double close_seconds = 0;
  double warmup_seconds = 0;  // warm runs: loading every case into the cache first
  Cpu cpu;  // process CPU during run_due (all threads)
};

/// Opens an engine on (a copy of) `pristine` at `now` and calls run_due once. Cold: the cases
/// are loaded by run_due (as after a restart). Warm: every case is in the engine's cache first
/// (as in a running engine that holds its open cases). The copy is left in `work`.
TimerRun fire_timers(const fs::path& pristine, const fs::path& work, TimePoint now, bool warm, std::size_t n) {
  copy_store(pristine, work);
  EngineOptions o;
  o.database = work.string();
  o.clock = std::make_shared<ManualClock>(now);
  if (warm) o.cache_capacity = n + n / 8 + 1024;
  auto e = Engine::open(o);
  TimerRun r;
  if (warm) {
    const auto tw = Steady::now();
    std::string after;
    for (;;) {
      auto ids = e->list_cases(10000, after);
      if (ids.empty()) break;
      for (const auto& id : ids) (void)e->find_case(id);
      after = ids.back();
    }
    r.warmup_seconds = since(tw);
  }
  const std::uint64_t c0 = g_commits.load();
  const Cpu cpu0 = cpu_now();
  const auto t0 = Steady::now();
  r.fired = e->run_due();
  r.seconds = since(t0);
  r.cpu = cpu_now() - cpu0;
  r.commits = g_commits.load() - c0;
  if (auto next = e->next_due(); next && *next <= now)
    throw std::runtime_error("run_due left timers due at " + format_time(*next));
  const auto t1 = Steady::now();
  e.reset();
  r.close_seconds = since(t1);
  return r;
}

/// What firing wrote for one case: its new events and its case row.
struct FiredRows {
  std::string id;
  std::vector<std::array<std::string, 3>> events;  // actor, kind, payload
  std::vector<std::pair<std::int64_t, std::int64_t>> seq_time;
  std::int64_t version = 0, type_version = 0, priority = 0, created_at = 0, updated_at = 0;
  std::string type, customer, status;
  std::optional<std::int64_t> next_due, next_deadline;
};

/// The rows the engine wrote into `file` when it fired: events after the prototype's first
/// `from` events, and the case rows, in due order (case i falls due before case i + 1).
std::vector<FiredRows> fired_rows(const fs::path& file, std::size_t n, std::uint64_t from) {
  std::vector<FiredRows> out(n);
  Raw db(file, SQLITE_OPEN_READONLY);
  Stmt cs(db,
          "SELECT id, version, type, type_version, priority, customer, next_deadline, created_at, updated_at, status, "
          "next_due FROM cases ORDER BY id");
  std::size_t i = 0;
  std::unordered_map<std::string, std::size_t> index;
  while (cs.step()) {
    if (i >= n) throw std::runtime_error("more cases than timers in " + file.string());
    FiredRows& r = out[i];
    r.id = cs.text(0);
    r.version = cs.int64(1);
    r.type = cs.text(2);
    r.type_version = cs.int64(3);
    r.priority = cs.int64(4);
    r.customer = cs.text(5);
    if (sqlite3_column_type(cs.get(), 6) != SQLITE_NULL) r.next_deadline = cs.int64(6);
    r.created_at = cs.int64(7);
    r.updated_at = cs.int64(8);
    r.status = cs.text(9);
    if (sqlite3_column_type(cs.get(), 10) != SQLITE_NULL) r.next_due = cs.int64(10);
    index.emplace(r.id, i++);
  }
  Stmt es(db, "SELECT case_id, seq, time, actor, kind, payload FROM events WHERE seq > ?1 ORDER BY case_id, seq");
  es.bind(1, static_cast<std::int64_t>(from));
  while (es.step()) {
    FiredRows& r = out.at(index.at(es.text(0)));
    r.seq_time.emplace_back(es.int64(1), es.int64(2));
    r.events.push_back({es.text(3), es.text(4), es.text(5)});
  }
  return out;
}

/// Raw SQLite writing exactly the rows the engine wrote when firing (each case's new event rows
/// and the UPDATE of its case row, checked against the version it had, as the engine's), in
/// transactions of `batch` cases, synchronous=FULL, WAL; until all are done or `cap` seconds.
/// Returns the cases written, the seconds and the process CPU (all threads) it took.
struct RawRun {
  std::size_t done = 0;
  double seconds = 0;
  Cpu cpu;
};
RawRun raw_fire_writes(const fs::path& pristine, const fs::path& work, const std::vector<FiredRows>& rows,
                       std::size_t batch, double cap) {
  copy_store(pristine, work);
  RawRun out;
  {
    Raw db(work);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;");
    Stmt ins(db, "INSERT INTO events(case_id, seq, time, actor, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    Stmt upd(db,
             "UPDATE cases SET version = ?2, type = ?3, type_version = ?4, priority = ?5, next_deadline = ?7, "
             "created_at = ?8, updated_at = ?9, next_due = ?12 WHERE id = ?1 AND version = ?13");
    const Cpu cpu0 = cpu_now();
    const auto t0 = Steady::now();
    std::size_t done = 0;
    while (done < rows.size() && since(t0) < cap) {
      const std::size_t end = std::min(rows.size(), done + batch);
      db.exec("BEGIN IMMEDIATE");
      for (; done < end; ++done) {
        const FiredRows& r = rows[done];
        upd.bind(1, std::string_view(r.id)).bind(2, r.version).bind(3, std::string_view(r.type));
        upd.bind(4, r.type_version).bind(5, r.priority);
        if (r.next_deadline)
          upd.bind(7, *r.next_deadline);
        else
          upd.bind_null(7);
        upd.bind(8, r.created_at).bind(9, r.updated_at);
        if (r.next_due)
          upd.bind(12, *r.next_due);
        else
          upd.bind_null(12);
        upd.bind(13, r.version - static_cast<std::int64_t>(r.events.size()));
        upd.run();
        if (sqlite3_changes(db.get()) != 1) throw std::runtime_error("raw: no case " + r.id + " at that version");
        ins.bind(1, std::string_view(r.id));
        for (std::size_t k = 0; k < r.events.size(); ++k) {
          ins.bind(2, r.seq_time[k].first).bind(3, r.seq_time[k].second);
          ins.bind(4, std::string_view(r.events[k][0])).bind(5, std::string_view(r.events[k][1]));
          ins.bind(6, std::string_view(r.events[k][2]));
          ins.run();
        }
      }
      db.exec("COMMIT");
    }
    out = {done, since(t0), cpu_now() - cpu0};
  }
  remove_store(work);
  return out;
}

/// Raw: UPDATE cases SET next_due = NULL (the least that firing must write) for the first rows
/// in due order, `batch` rows a synced transaction, until all `n` are done or `cap` seconds.
std::pair<std::size_t, double> raw_due_updates(const fs::path& pristine, const fs::path& work, std::size_t n,
                                               std::size_t batch, double cap) {
  copy_store(pristine, work);
  std::pair<std::size_t, double> out;
  {
    Raw db(work);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;");
    std::vector<std::string> ids(n);
    for (std::size_t i = 0; i < n; ++i) ids[i] = case_id(i);
    Stmt update(db, "UPDATE cases SET next_due = NULL WHERE id = ?1");
    const auto t0 = Steady::now();
    std::size_t done = 0;
    while (done < n && since(t0) < cap) {
      const std::size_t end = std::min(n, done + batch);
      db.exec("BEGIN IMMEDIATE");
      for (; done < end; ++done) {
        update.bind(1, std::string_view(ids[done]));
        update.run();
        if (sqlite3_changes(db.get()) != 1) throw std::runtime_error("no case " + ids[done]);
      }
      db.exec("COMMIT");
    }
    out = {done, since(t0)};
  }
  remove_store(work);
  return out;
}

void bench_timers(const Config& cfg, const TempDir& tmp) {
  say("");
  say("== 4. firing due timers with one Engine::run_due (Durability::group)");
  // Case i's timer falls due at kT0 + 1 h + i ms; run_due runs at a time after all of them.
  constexpr Duration kStep = 1ms;
  const Prototype proto = make_prototype(tmp / "proto-timer.db", play_timer_case);
  std::size_t n = cfg.timers;
  auto at = [&](std::size_t count) { return kT0 + 2h + kStep * static_cast<std::int64_t>(count); };

  if (cfg.timer_budget > 0) {
    // A probe sizes the run to the budget: the engine's rate does not grow with N.
    const std::size_t probe_n = std::min<std::size_t>(n, 2000);
    const fs::path probe = tmp / "timers-probe.db";
    replicate(proto, probe, probe_n, kStep, "probe");
    TimerRun pr = fire_timers(probe, tmp / "timers-probe-work.db", at(probe_n), false, probe_n);
    remove_store(tmp / "timers-probe-work.db");
    remove_store(probe);
    const double rate = static_cast<double>(pr.fired) / pr.seconds;
    const double projected = static_cast<double>(n) / rate;
    say("  probe: " + fmt_num(static_cast<double>(pr.fired)) + " cold timers in " + fmt_ms(pr.seconds) + " = " +
        fmt_num(rate) + " /s; " + fmt_num(static_cast<double>(n)) + " would take " + fmt_num(projected, 1) + " s");
    if (projected > cfg.timer_budget) {
      const std::size_t fit = static_cast<std::size_t>(rate * cfg.timer_budget) / 1000 * 1000;
      const std::size_t scaled = std::max<std::size_t>(probe_n, fit);
      say("  scaled down from " + fmt_num(static_cast<double>(n)) + " to " + fmt_num(static_cast<double>(scaled)) +
          " timers to fit the " + fmt_num(cfg.timer_budget) + " s budget (--timer-budget=0 runs all)");
      n = scaled;
    }
  }

  const fs::path pristine = generated_store(cfg, tmp, "timers", proto, n, kStep, false);
  auto check = [&](const TimerRun& r, const char* what) {
    if (r.fired != n)
      throw std::runtime_error(std::string(what) + " run_due fired " + std::to_string(r.fired) + " timers, not " +
                               std::to_string(n));
  };
  auto report = [&](const TimerRun& r, const std::string& what) {
    const double rate = static_cast<double>(r.fired) / r.seconds;
    const double per_txn = static_cast<double>(n) / static_cast<double>(std::max<std::uint64_t>(1, r.commits));
    say("  engine, " + what + ": " + fmt_num(static_cast<double>(r.fired)) + " timers fired in " + fmt_ms(r.seconds) +
        " = " + fmt_num(rate) + " /s; " + fmt_num(static_cast<double>(r.commits)) + " write transactions, " +
        fmt_num(per_txn, 1) + " cases each; CPU per timer (all threads) " +
        fmt_num(r.cpu.user / static_cast<double>(n) * 1e6, 1) + " us user + " +
        fmt_num(r.cpu.sys / static_cast<double>(n) * 1e6, 1) + " us system; closing the engine took " +
        fmt_ms(r.close_seconds) +
        (r.warmup_seconds > 0 ? "; loading every case into the cache first took " + fmt_ms(r.warmup_seconds) : ""));
    return rate;
  };

  // Cold: the cases are loaded by run_due. The rows it wrote are the raw baseline's input.
  const fs::path cold_file = tmp / "timers-cold.db";
  TimerRun cold = fire_timers(pristine, cold_file, at(n), false, n);
  check(cold, "cold:");
  const double cold_rate = report(cold, "cold (cases loaded by run_due)");
  const std::vector<FiredRows> rows = fired_rows(cold_file, n, proto.events);
  remove_store(cold_file);
  std::size_t written_events = 0;
  for (const auto& r : rows) written_events += r.events.size();

  // Warm: every case in the cache first.
  const fs::path warm_file = tmp / "timers-warm.db";
  TimerRun warm = fire_timers(pristine, warm_file, at(n), true, n);
  check(warm, "warm:");
  const double warm_rate = report(warm, "warm (every case cached)");
  remove_store(warm_file);

  // Raw SQLite writing the same rows in the engine's transaction size.
  const double per_txn = static_cast<double>(n) / static_cast<double>(std::max<std::uint64_t>(1, cold.commits));
  const std::size_t same_batch = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(per_txn)));
  const RawRun ra = raw_fire_writes(pristine, tmp / "timers-raw.db", rows, same_batch, cfg.baseline_cap);
  const std::size_t rows_a = ra.done;
  const double secs_a = ra.seconds;
  const double raw_a = static_cast<double>(rows_a) / secs_a;
  // CPU per timer (all threads): the raw baseline's over the engine's, the ratio that the
  // machine's load moves least.
  const double raw_cpu = ra.cpu.total() / static_cast<double>(std::max<std::size_t>(1, rows_a));
  const double cold_cpu = cold.cpu.total() / static_cast<double>(n), warm_cpu = warm.cpu.total() / static_cast<double>(n);
  say("  raw SQLite writing the same rows (" +
      fmt_num(static_cast<double>(written_events) / static_cast<double>(n), 2) +
      " event rows and 1 case-row UPDATE per timer), " + std::to_string(same_batch) +
      " cases a transaction: " + fmt_num(static_cast<double>(rows_a)) + " cases in " + fmt_ms(secs_a) + " = " +
      fmt_num(raw_a) + " /s; ratios: cold " + fmt_ratio(cold_rate / raw_a) + ", warm " + fmt_ratio(warm_rate / raw_a));
  const double raw_user = ra.cpu.user / static_cast<double>(std::max<std::size_t>(1, rows_a));
  say("  CPU per timer (all threads): raw " + fmt_num(raw_cpu * 1e6, 1) + " us (" + fmt_num(raw_user * 1e6, 1) +
      " us user), engine cold " + fmt_num(cold_cpu * 1e6, 1) + " us, warm " + fmt_num(warm_cpu * 1e6, 1) +
      " us; CPU ratios (raw / engine): cold " + fmt_ratio(raw_cpu / cold_cpu) + ", warm " + fmt_ratio(raw_cpu / warm_cpu));
  auto [rows_b, secs_b] = raw_due_updates(pristine, tmp / "timers-raw.db", n, same_batch, cfg.baseline_cap);
  const double raw_b = static_cast<double>(rows_b) / secs_b;
  say("  raw UPDATE of next_due alone (less than firing must write), same transactions: " +
      fmt_num(static_cast<double>(rows_b)) + " rows in " + fmt_ms(secs_b) + " = " + fmt_num(raw_b) + " rows/s");
  remove_store(pristine);

  const std::string size = fmt_num(static_cast<double>(n));
  const std::string base = fmt_num(raw_a) + " /s same rows (" + fmt_num(raw_b) + " /s next_due UPDATE alone)";
  g_summary.push_back({"4a. due timers fired by one run_due, cases cached (" + size + ")",
                       fmt_num(warm_rate) + " /s (" + fmt_num(per_txn, 1) + " cases per transaction)", base,
                       fmt_ratio(warm_rate / raw_a) + " (CPU " + fmt_ratio(raw_cpu / warm_cpu) + ")", ">= 200,000 /s",
                       warm_rate >= 200000 ? "met" : "MISSED"});
  g_summary.push_back({"4b. due timers fired by one run_due, cases loaded (" + size + ")", fmt_num(cold_rate) + " /s",
                       base, fmt_ratio(cold_rate / raw_a) + " (CPU " + fmt_ratio(raw_cpu / cold_cpu) + ")", ">= 200,000 /s",
                       cold_rate >= 200000 ? "met" : "MISSED"});
}

void print_summary() {
  say("");
  say("| benchmark | engine | raw SQLite baseline (same run) | ratio | target | |");
  say("|---|---|---|---|---|---|");
  for (const auto& r : g_summary)
    say("| " + r.bench + " | " + r.engine + " | " + r.baseline + " | " + r.ratio + " | " + r.target + " | " +
        r.verdict + " |");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Config cfg = parse_config(argc, argv);
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(install_commit_hook));
    TempDir tmp(cfg.tmp_root);
    say("acm_bench_store: SQLite " + std::string(sqlite3_libversion()) + ", " +
        std::to_string(std::thread::hardware_concurrency()) + " cores; temporary files in " + tmp.path().string() +
        (cfg.use_cache ? ", generated stores cached in " + cfg.cache_dir.string() : ""));
    const auto t0 = Steady::now();
    auto want = [&](char c) { return cfg.only.find(c) != std::string::npos; };
    if (want('1')) bench_commands(cfg, tmp, true);
    if (want('2')) bench_commands(cfg, tmp, false);
    if (want('3')) bench_big_store(cfg, tmp);
    if (want('4')) bench_timers(cfg, tmp);
    print_summary();
    say("");
    say("total " + fmt_num(since(t0), 1) + " s");
    if (cfg.clean_cache) {
      std::error_code ec;
      fs::remove_all(cfg.cache_dir, ec);
    }
  } catch (const std::exception& e) {
    std::cerr << "acm_bench_store: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
