// SPDX-License-Identifier: Apache-2.0
// examples/cli_learn.cpp - `acm learn ...`: import event logs, train from closed cases, recommend
// next steps, evaluate on a log, move templates in and out, fragment proposals.
#include "cli.hpp"

#include <acm/eventlog.hpp>
#include <acm/learn.hpp>

#include <fmt/format.h>

#include <unistd.h>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

using namespace acm;
namespace fs = std::filesystem;

namespace acm_cli {
namespace {

constexpr const char* kDefaultTemplate = "default";

/// Where a log comes from and how its columns map (shared by `learn import` and `evaluate`).
struct LogOptions {
  std::string file;
  std::string format;  ///< "csv", "xes" or "" (by extension)
  std::string case_col, activity_col, time_col, resource_col, time_format, time_zone, delimiter;
  std::vector<std::string> attrs, case_attrs;  ///< "*" = every other column / attribute
  bool stop_on_error = false;
  bool progress = false;
};

void add_log_options(CLI::App* cmd, LogOptions& o) {
  cmd->add_option("LOG", o.file, "event log: CSV, XES or XES.gz")->required();
  cmd->add_option("--format", o.format, "csv or xes (default: by the file name)")->check(CLI::IsMember({"csv", "xes"}));
  cmd->add_option("--case", o.case_col, "CSV column of the case id (default: guessed from the header)");
  cmd->add_option("--activity", o.activity_col, "CSV column of the activity (default: guessed)");
  cmd->add_option("--time", o.time_col, "CSV column of the timestamp (default: guessed)");
  cmd->add_option("--resource", o.resource_col, "CSV column of the resource (default: guessed, optional)");
  cmd->add_option("--time-format", o.time_format, "timestamp format (default %Y-%m-%d %H:%M:%S; %S takes fractions)");
  cmd->add_option("--time-zone", o.time_zone, "zone of timestamps without offset (default UTC)");
  cmd->add_option("--delimiter", o.delimiter, "CSV field delimiter (default ,)");
  cmd->add_option("--attr", o.attrs, "event attribute to learn from (repeatable; '*' = every other column)");
  cmd->add_option("--case-attr", o.case_attrs, "CSV column copied as a case attribute (repeatable)");
  cmd->add_flag("--stop-on-error", o.stop_on_error, "stop at the first malformed row (default: skip and report)");
  cmd->add_flag("--progress", o.progress, "progress bar on stderr even when it is not a terminal");
}

bool is_xes(const LogOptions& o) {
  if (!o.format.empty()) return o.format == "xes";
  std::string name = fs::path(o.file).filename().string();
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".xes") || ends(".xes.gz");
}

bool wants(const std::vector<std::string>& list, const std::string& name) {
  for (const std::string& a : list)
    if (a == "*" || a == name) return true;
  return false;
}

/// Draws "[#####.....]  45%  1.2 / 2.7 MB  rows  cases" on stderr, redrawn in place.
class ProgressBar {
 public:
  explicit ProgressBar(bool on) : on_(on) {}
  ~ProgressBar() { finish(); }
  void update(const eventlog::ImportProgress& p) {
    if (!on_) return;
    const double share = p.bytes_total ? static_cast<double>(p.bytes_read) / static_cast<double>(p.bytes_total) : 0;
    const int filled = static_cast<int>(share * 30);
    std::fprintf(stderr, "\r[%s%s] %3d%%  %.1f / %.1f MB  %llu rows  %llu cases", std::string(filled, '#').c_str(),
                 std::string(30 - filled, '.').c_str(), static_cast<int>(share * 100), p.bytes_read / 1e6,
                 p.bytes_total / 1e6, static_cast<unsigned long long>(p.rows),
                 static_cast<unsigned long long>(p.cases));
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  bool on_;
  bool drawn_ = false;
};

/// One line on stderr per phase of a long command ("training: next-step trees 12/40"), redrawn
/// in place; on when the progress bar is.
class PhaseProgress {
 public:
  explicit PhaseProgress(bool on) : on_(on) {}
  ~PhaseProgress() { finish(); }
  void update(std::string_view phase, std::size_t done, std::size_t total) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (phase == phase_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    if (phase != phase_ && drawn_) std::fputc('\n', stderr);
    phase_ = std::string(phase);
    std::fprintf(stderr, "\r%s: %zu / %zu   ", phase_.c_str(), done, total);
    std::fflush(stderr);
    drawn_ = true;
  }
  void say(std::string_view phase) {
    if (!on_) return;
    finish();
    std::fprintf(stderr, "%.*s\n", static_cast<int>(phase.size()), phase.data());
    std::fflush(stderr);
  }
  void finish() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
    phase_.clear();
  }
  bool on() const { return on_; }

 private:
  bool on_;
  bool drawn_ = false;
  std::string phase_;
  std::chrono::steady_clock::time_point last_{};
};

/// Reads a log, handing each case to `sink` as a trace. Reports problems on stderr (text mode).
eventlog::ImportReport read_log(const LogOptions& o, bool json, const std::function<void(learn::Trace&&)>& sink) {
  eventlog::ImportOptions io;
  io.on_bad_row = o.stop_on_error ? eventlog::OnBadRow::stop : eventlog::OnBadRow::skip;
  ProgressBar bar(o.progress || ::isatty(2));
  io.progress = [&bar](const eventlog::ImportProgress& p) { bar.update(p); };
  eventlog::ImportReport report;
  try {
    if (is_xes(o)) {
      report = eventlog::import_xes(
          o.file,
          [&](eventlog::LogCase&& c) {
            // Attributes count only when asked for (--attr NAME, or '*').
            std::erase_if(c.attributes,
                          [&](const auto& kv) { return !wants(o.case_attrs, kv.first) && !wants(o.attrs, kv.first); });
            for (auto& e : c.events)
              std::erase_if(e.attributes, [&](const auto& kv) { return !wants(o.attrs, kv.first); });
            sink(learn::trace_of(c));
          },
          io);
    } else {
      eventlog::CsvMapping m;
      const char delimiter = o.delimiter.empty() ? ',' : o.delimiter[0];
      if (o.case_col.empty() || o.activity_col.empty() || o.time_col.empty()) {
        m = eventlog::guess_mapping(eventlog::read_csv_header(o.file, delimiter));
        if (!wants(o.attrs, "*")) m.event_attributes.clear();
      }
      if (!o.case_col.empty()) m.case_id = o.case_col;
      if (!o.activity_col.empty()) m.activity = o.activity_col;
      if (!o.time_col.empty()) m.timestamp = o.time_col;
      if (!o.resource_col.empty()) m.resource = o.resource_col;
      if (!o.time_format.empty()) m.timestamp_format = o.time_format;
      if (!o.time_zone.empty()) m.time_zone = o.time_zone;
      m.delimiter = delimiter;
      for (const std::string& a : o.attrs)
        if (a != "*") m.event_attributes.push_back(a);
      m.case_attributes = o.case_attrs;
      report = eventlog::import_csv(
          o.file, m, [&](eventlog::LogCase&& c) { sink(learn::trace_of(c)); }, io);
    }
  } catch (...) {
    bar.finish();
    throw;
  }
  bar.finish();
  if (!json) {
    std::size_t shown = 0;
    for (const auto& p : report.problems) {
      if (++shown > 20) break;
      std::cerr << fmt::format("acm: warning: {}:{}: {}\n", o.file, p.line, p.message);
    }
    if (report.problems_total > 20)
      std::cerr << fmt::format("acm: warning: {} problems in all ({} rows skipped)\n", report.problems_total,
                               report.skipped_rows);
  }
  return report;
}

Json report_json(const eventlog::ImportReport& r) {
  Json problems = Json::array();
  for (const auto& p : r.problems) problems.push_back({{"line", p.line}, {"message", p.message}});
  return {{"rows", r.rows},
          {"events", r.events},
          {"cases", r.cases},
          {"skipped_rows", r.skipped_rows},
          {"skipped_cases", r.skipped_cases},
          {"problems_total", r.problems_total},
          {"problems", problems}};
}

std::optional<TemplateInfo> latest_template(Engine& e, const std::string& name) {
  std::optional<TemplateInfo> best;
  for (const TemplateInfo& t : e.templates().list())
    if (t.name == name && (!best || t.version > best->version)) best = t;
  return best;
}

learn::Learner load_learner(Engine& e, const std::string& name) {
  if (!latest_template(e, name))
    throw Error(ErrorCode::not_found, fmt::format("no learned template '{}' in the database: run 'acm learn train' "
                                                  "or 'acm learn import LOG' first",
                                                  name));
  return learn::load_template(e, name);
}

/// Stores the learner as the next version of `name` with the description save_template
/// writes, plus `extra` (the source log, the engine cases learned from).
int store_learner(Engine& e, const std::string& name, const learn::Learner& l, const Json& extra) {
  const learn::LearnerStats s = l.stats();
  Json meta = extra;  // the figures below replace those of an earlier version
  meta.update({{"traces", s.traces},
               {"steps", s.steps},
               {"activities", s.activities},
               {"trained_on", s.trained_on},
               {"model_version", s.model_version}});
  return e.templates().put(name, "learner", meta, l.save());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string activity_text(const std::string& a) { return a.empty() ? "(the case ends)" : a; }

Json evidence_json(const std::vector<learn::Evidence>& ev) {
  Json out = Json::array();
  for (const auto& e : ev)
    out.push_back({{"feature", e.feature}, {"value", e.value}, {"weight", e.weight}, {"text", e.text}});
  return out;
}

std::string evidence_text(const std::vector<learn::Evidence>& ev, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < ev.size() && i < n; ++i) out += fmt::format("{}{}", i ? "; " : "", ev[i].text);
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// ---- the commands ------------------------------------------------------------------------

void add_import(CLI::App* learn, Context& ctx) {
  static LogOptions o;
  static std::string name = kDefaultTemplate;
  auto* cmd = learn->add_subcommand("import", "learn from an event log and store the learner as a template");
  add_log_options(cmd, o);
  cmd->add_option("--template", name, "template name")->capture_default_str();
  on_run(cmd, [&ctx] {
    PhaseProgress phases(o.progress || ::isatty(2));
    learn::LearnerOptions lo;
    lo.progress = [&phases](std::string_view p, std::size_t d, std::size_t t) { phases.update(p, d, t); };
    learn::Learner l(lo);
    const auto t0 = std::chrono::steady_clock::now();
    const eventlog::ImportReport r = read_log(o, ctx.json(), [&l](learn::Trace&& t) { l.add(std::move(t)); });
    const double import_s = seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    if (l.stats().traces == 0)
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: no cases to learn from", o.file));
    l.train();
    const double train_s = seconds_since(t1);
    phases.say("storing the template");
    const int version = store_learner(ctx.engine(), name, l, {{"source", fs::absolute(o.file).string()}});
    const auto s = l.stats();
    if (ctx.json()) {
      print_json({{"template", name},
                  {"version", version},
                  {"import", report_json(r)},
                  {"traces", s.traces},
                  {"steps", s.steps},
                  {"activities", s.activities},
                  {"import_seconds", import_s},
                  {"train_seconds", train_s}});
    } else {
      std::cout << fmt::format("imported {}: {} cases, {} events ({} rows skipped) in {:.1f} s\n", o.file, r.cases,
                               r.events, r.skipped_rows, import_s);
      std::cout << fmt::format("trained on {} traces ({} activities) in {:.1f} s; stored as template '{}' version {}\n",
                               s.trained_on, s.activities, train_s, name, version);
    }
    return 0;
  });
}

void add_train(CLI::App* learn, Context& ctx) {
  static std::string name = kDefaultTemplate;
  auto* cmd = learn->add_subcommand(
      "train", "learn from the closed cases of the database (added to the template, if it exists) and train");
  cmd->add_option("--template", name, "template name")->capture_default_str();
  static bool progress = false;
  cmd->add_flag("--progress", progress, "progress on stderr even when it is not a terminal");
  on_run(cmd, [&ctx] {
    Engine& e = ctx.engine();
    PhaseProgress phases(progress || ::isatty(2));
    learn::Learner l;
    Json extra = Json::object();
    std::set<std::string> seen;
    if (auto latest = latest_template(e, name)) {
      l = learn::load_template(e, name);
      extra = latest->meta;
      if (extra.contains("engine_cases"))
        for (const auto& id : extra["engine_cases"]) seen.insert(id.get<std::string>());
    }
    std::size_t added = 0;
    for (std::string after;;) {
      const auto ids = e.list_cases(1000, after);
      if (ids.empty()) break;
      for (const std::string& id : ids) {
        if (seen.count(id)) continue;
        const CaseInfo c = e.get_case(id);
        if (c.status != CaseStatus::completed && c.status != CaseStatus::terminated && c.status != CaseStatus::closed)
          continue;
        l.add(learn::trace_of(c, e.history(id)));
        seen.insert(id);
        ++added;
      }
      after = ids.back();
      phases.update("reading closed cases", added, added);
    }
    if (l.stats().traces == 0)
      throw Error(
          ErrorCode::invalid_state,
          fmt::format("nothing to learn from: no closed cases in {} and no template '{}'", ctx.global().db, name));
    const auto t0 = std::chrono::steady_clock::now();
    l.train([&phases](std::string_view p, std::size_t d, std::size_t t) { phases.update(p, d, t); });
    const double train_s = seconds_since(t0);
    extra["engine_cases"] = seen;
    phases.say("storing the template");
    const int version = store_learner(e, name, l, extra);
    const auto s = l.stats();
    if (ctx.json()) {
      print_json({{"template", name},
                  {"version", version},
                  {"cases_added", added},
                  {"traces", s.traces},
                  {"activities", s.activities},
                  {"train_seconds", train_s}});
    } else {
      std::cout << fmt::format("learned from {} new closed cases; trained on {} traces ({} activities) in {:.2f} s\n",
                               added, s.trained_on, s.activities, train_s);
      std::cout << fmt::format("stored as template '{}' version {}\n", name, version);
    }
    return 0;
  });
}

void add_recommend(CLI::App* learn, Context& ctx) {
  static std::string case_id, name = kDefaultTemplate;
  static std::size_t limit = 5;
  auto* cmd = learn->add_subcommand("recommend", "next steps and expected completion for a case, with evidence");
  cmd->add_option("CASE", case_id, "case id")->required();
  cmd->add_option("--template", name, "template name")->capture_default_str();
  cmd->add_option("--limit", limit, "how many next steps")->capture_default_str();
  on_run(cmd, [&ctx] {
    Engine& e = ctx.engine();
    const CaseInfo c = e.as(ctx.actor()).get_case(case_id);  // only for an actor who may view the case
    const learn::Learner l = load_learner(e, name);
    const learn::Trace t = learn::trace_of(c, e.as(ctx.actor()).history(case_id));
    const TimePoint now = e.clock().now();
    bool work_done = false;
    for (const auto& s : t.steps) work_done = work_done || (s.activity.empty() || s.activity[0] != '+');
    Json out = {{"case", case_id}, {"template", name}, {"steps_so_far", Json::array()}};
    for (const auto& s : t.steps) out["steps_so_far"].push_back(s.activity);
    const auto next = l.next_steps(t, limit);
    out["next_steps"] = Json::array();
    for (const auto& n : next)
      out["next_steps"].push_back({{"activity", n.activity},
                                   {"probability", n.probability},
                                   {"support", n.support},
                                   {"matched", n.matched},
                                   {"evidence", evidence_json(n.evidence)}});
    std::optional<learn::Completion> done;
    if (!t.steps.empty()) {
      done = l.completion(t, now);
      Json q = Json::array();
      for (const auto& [p, d] : done->quantiles) q.push_back({{"quantile", p}, {"remaining", format_duration(d)}});
      out["completion"] = {{"remaining", format_duration(done->remaining)},
                           {"expected", format_time(done->expected)},
                           {"quantiles", q},
                           {"support", done->support},
                           {"evidence", evidence_json(done->evidence)}};
    }
    std::vector<learn::PlanSuggestion> plans;
    if (!work_done) {
      plans = l.suggest_plan(c.type, t.attributes, 3);
      out["plan_suggestions"] = Json::array();
      for (const auto& p : plans)
        out["plan_suggestions"].push_back({{"steps", p.steps},
                                           {"support", p.support},
                                           {"share", p.share},
                                           {"median_duration", format_duration(p.median_duration)},
                                           {"examples", p.examples}});
    }
    if (ctx.json()) {
      print_json(out);
      return 0;
    }
    std::string so_far;
    for (const auto& s : t.steps) so_far += (so_far.empty() ? "" : ", ") + s.activity;
    std::cout << fmt::format("case {} ({}), steps so far: {}\n", c.id, to_string(c.status),
                             so_far.empty() ? "none" : so_far);
    std::cout << "next steps:\n";
    for (const auto& n : next) {
      std::cout << fmt::format("  {:5.1f}%  {:<32} support {:<6} matched {} step(s)\n", 100 * n.probability,
                               activity_text(n.activity), n.support, n.matched);
      if (!n.evidence.empty()) std::cout << "          because " << evidence_text(n.evidence, 3) << "\n";
    }
    if (done) {
      std::string qs;
      for (const auto& [p, d] : done->quantiles)
        qs += fmt::format("{}{:.0f}%: {}", qs.empty() ? "" : ", ", 100 * p, human_duration(d));
      std::cout << fmt::format("completion: about {} more (expected {}; {}), from {} past cases\n",
                               human_duration(done->remaining), format_time(done->expected), qs, done->support);
      if (!done->evidence.empty()) std::cout << "  because " << evidence_text(done->evidence, 3) << "\n";
    }
    if (!work_done) {
      std::cout << "plan suggestion (what similar cases did):\n";
      if (plans.empty()) std::cout << "  (no similar cases)\n";
      for (const auto& p : plans) {
        std::string steps;
        for (const auto& s : p.steps) steps += (steps.empty() ? "" : " -> ") + s;
        std::cout << fmt::format("  {:4.0f}% of similar cases ({}), median {}: {}\n", 100 * p.share, p.support,
                                 human_duration(p.median_duration), steps);
      }
    }
    return 0;
  });
}

Json evaluation_json(const learn::Evaluation& ev) {
  Json baselines = Json::object();
  for (const auto& b : ev.baselines) baselines[b.name] = b.accuracy;
  Json j = {{"split", ev.split == learn::Split::published ? "published" : "temporal"},
            {"validation", ev.validation},
            {"train_cases", ev.train_cases},
            {"test_cases", ev.test_cases},
            {"points", ev.points.size()},
            {"accuracy", ev.accuracy},
            {"mae_days", ev.mae_days},
            {"baselines", baselines},
            {"train_seconds", ev.train_seconds}};
  if (ev.split == learn::Split::temporal) {
    j["cut"] = format_time(ev.cut);
    j["left_out_cases"] = ev.left_out_cases;
  }
  return j;
}

void write_predictions(const learn::Evaluation& ev, const std::string& file) {
  std::ofstream csv(file, std::ios::trunc);
  if (!csv) throw Error(ErrorCode::storage, fmt::format("cannot write {}", file));
  csv << "case_id,prefix_length,predicted_next,predicted_remaining_seconds\n";
  for (const auto& p : ev.points)
    csv << csv_field(p.case_id) << ',' << p.prefix_length << ',' << csv_field(p.predicted_next.empty() ? "end" : p.predicted_next)
        << ',' << fmt::format("{:.0f}", p.predicted_remaining_s) << '\n';
  csv.close();
  if (!csv) throw Error(ErrorCode::storage, fmt::format("cannot write {}", file));
}

void add_evaluate(CLI::App* learn, Context& ctx) {
  static LogOptions o;
  static std::string out_file, temporal_out, split = "both";
  static bool no_calendar = false, validation = false;
  static double recency = -1, time_min_leaf_share = -1;
  static int time_rounds = 0;
  static long recent_times = -1, recent_cases = -1;
  auto* cmd = learn->add_subcommand(
      "evaluate",
      "next-step accuracy and remaining-time MAE on a log, published (Tax et al. 2017) and temporal splits, "
      "with Markov baselines");
  add_log_options(cmd, o);
  cmd->add_option("--out", out_file, "write the predictions as CSV (published split, or the only split asked for)")
      ->required();
  cmd->add_option("--temporal-out", temporal_out, "with --split both: write the temporal split's predictions here");
  cmd->add_option("--split", split, "published, temporal or both")
      ->check(CLI::IsMember({"published", "temporal", "both"}))
      ->capture_default_str();
  cmd->add_flag("--no-calendar-time", no_calendar, "do not use the weekday and hour of the last step");
  cmd->add_option("--recency", recency, "half-life in days of the recency weighting of training cases (0: off)");
  cmd->add_flag("--validation", validation,
                "leave the test cases out and score on the training cases split again the same way (to choose "
                "options without looking at the test cases)");
  cmd->add_option("--recent-cases", recent_cases,
                  "window of the recent-behaviour features of the next step (0: none; default 50)")
      ->check(CLI::Range(0L, 1'000'000L));
  cmd->add_option("--recent-times", recent_times, "window of the recent remaining-time features (0: none; default 25)")
      ->check(CLI::Range(0L, 1'000'000L));
  cmd->add_option("--time-rounds", time_rounds, "boosting rounds of the remaining-time models (default 100)")
      ->check(CLI::Range(1, 100'000));
  cmd->add_option("--time-min-leaf-share", time_min_leaf_share,
                  "fewest training prefixes in a leaf of the remaining-time models, as a share of them (default "
                  "0.01)")
      ->check(CLI::Range(0.0, 0.999));
  on_run(cmd, [&ctx] {
    std::vector<learn::Trace> traces;
    const eventlog::ImportReport r =
        read_log(o, ctx.json(), [&traces](learn::Trace&& t) { traces.push_back(std::move(t)); });
    if (traces.size() < 3)
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: too few cases to evaluate", o.file));
    PhaseProgress phases(o.progress || ::isatty(2));
    learn::LearnerOptions lo;
    lo.calendar_time = !no_calendar;
    if (recency >= 0) lo.recency_half_life_days = recency;
    if (recent_cases >= 0) lo.recent_cases = static_cast<std::size_t>(recent_cases);
    if (recent_times >= 0) lo.recent_times = static_cast<std::size_t>(recent_times);
    if (time_rounds > 0) lo.time_rounds = time_rounds;
    if (time_min_leaf_share >= 0) lo.time_min_leaf_share = time_min_leaf_share;
    lo.progress = [&phases](std::string_view p, std::size_t d, std::size_t t) { phases.update(p, d, t); };
    std::vector<learn::Evaluation> runs;
    if (split != "temporal") runs.push_back(learn::evaluate(traces, lo, learn::Split::published, validation));
    if (split != "published") runs.push_back(learn::evaluate(traces, lo, learn::Split::temporal, validation));
    phases.finish();
    write_predictions(runs.front(), out_file);
    if (runs.size() > 1 && !temporal_out.empty()) write_predictions(runs[1], temporal_out);
    if (ctx.json()) {
      Json out = evaluation_json(runs.front());  // the first split's figures at the top level
      out["log"] = o.file;
      out["import"] = report_json(r);
      out["recency_half_life_days"] = lo.recency_half_life_days;
      out["calendar_time"] = lo.calendar_time;
      out["splits"] = Json::array();
      for (const auto& ev : runs) out["splits"].push_back(evaluation_json(ev));
      out["out"] = out_file;
      print_json(out);
      return 0;
    }
    std::cout << fmt::format("{}: {} cases; \"the case ends\" is a candidate at every point (a miss there)\n", o.file,
                             traces.size());
    std::cout << fmt::format("features: no absolute date; weekday and hour {}; recency half-life {}\n",
                             lo.calendar_time ? "on" : "off",
                             lo.recency_half_life_days > 0 ? fmt::format("{:g} days", lo.recency_half_life_days)
                                                           : std::string("off"));
    if (validation)
      std::cout << "VALIDATION: the test cases are left out; each split's training cases are split again the same "
                   "way and the figures are on its held-out part\n";
    for (const auto& ev : runs) {
      if (ev.split == learn::Split::published)
        std::cout << fmt::format("published split (case order): {} train, {} test cases, {} evaluation points\n",
                                 ev.train_cases, ev.test_cases, ev.points.size());
      else
        std::cout << fmt::format(
            "temporal split (cut {}): {} cases ended before it train, {} started after it test ({} across it left "
            "out), {} evaluation points\n",
            format_time(ev.cut).substr(0, 10), ev.train_cases, ev.test_cases, ev.left_out_cases, ev.points.size());
      std::cout << fmt::format("  next-step accuracy: {:.4f}", ev.accuracy);
      for (const auto& b : ev.baselines) std::cout << fmt::format("; {} {:.4f}", b.name, b.accuracy);
      std::cout << "\n";
      std::cout << fmt::format("  remaining-time MAE: {:.3f} days\n", ev.mae_days);
      std::cout << fmt::format("  train time: {:.2f} s\n", ev.train_seconds);
    }
    std::cout << fmt::format("predictions ({} split) written to {}\n",
                             runs.front().split == learn::Split::published ? "published" : "temporal", out_file);
    if (runs.size() > 1 && !temporal_out.empty())
      std::cout << fmt::format("predictions (temporal split) written to {}\n", temporal_out);
    return 0;
  });
}

void add_templates(CLI::App* learn, Context& ctx) {
  static std::string name, file;
  static int version = 0;
  auto* exp = learn->add_subcommand("export", "write a stored template to a file");
  exp->add_option("--template", name, "template name")->required();
  exp->add_option("--version", version, "template version (default: latest)");
  exp->add_option("FILE", file, "output file")->required();
  on_run(exp, [&ctx] {
    learn::load_template(ctx.engine(), name, version).export_file(file);
    if (ctx.json())
      print_json({{"template", name}, {"file", file}});
    else
      std::cout << fmt::format("template '{}' written to {}\n", name, file);
    return 0;
  });
  static std::string in_file, in_name;
  auto* imp = learn->add_subcommand("import-template", "store a template file (from learn export) in the database");
  imp->add_option("FILE", in_file, "template file")->required()->check(CLI::ExistingFile);
  imp->add_option("--template", in_name, "template name (default: the file name without extension)");
  on_run(imp, [&ctx] {
    const learn::Learner l = learn::Learner::import_file(in_file);
    const std::string n = in_name.empty() ? fs::path(in_file).stem().string() : in_name;
    const int v = store_learner(ctx.engine(), n, l, {{"source", fs::absolute(in_file).string()}});
    if (ctx.json())
      print_json({{"template", n}, {"version", v}, {"traces", l.stats().traces}});
    else
      std::cout << fmt::format("stored {} as template '{}' version {} ({} traces)\n", in_file, n, v, l.stats().traces);
    return 0;
  });
  auto* list = learn->add_subcommand("templates", "the stored templates, every version");
  on_run(list, [&ctx] {
    const auto all = ctx.engine().templates().list();
    if (ctx.json()) {
      Json out = Json::array();
      for (const auto& t : all) {
        Json meta = t.meta;
        if (meta.contains("engine_cases")) meta["engine_cases"] = meta["engine_cases"].size();
        out.push_back({{"name", t.name},
                       {"version", t.version},
                       {"kind", t.kind},
                       {"created_at", format_time(t.created_at)},
                       {"meta", meta}});
      }
      print_json(out);
      return 0;
    }
    if (all.empty()) std::cout << "(no templates)\n";
    for (const auto& t : all)
      std::cout << fmt::format("{:<16} v{:<3} {:<8} {}  {} traces, {} activities\n", t.name, t.version, t.kind,
                               format_time(t.created_at), t.meta.value("traces", 0), t.meta.value("activities", 0));
    return 0;
  });
}

void add_proposals(CLI::App* learn, Context& ctx) {
  static std::string name;
  static std::size_t min_cases = 3;
  auto* cmd = learn->add_subcommand("proposals", "recurring ad-hoc work proposed as new fragments");
  cmd->add_option("--template", name, "use this template (default: learn from the closed cases of the database)");
  cmd->add_option("--min-cases", min_cases, "without --template: cases a run must recur in")->capture_default_str();
  on_run(cmd, [&ctx] {
    Engine& e = ctx.engine();
    learn::Learner l = [&] {
      if (!name.empty()) return load_learner(e, name);
      learn::LearnerOptions lo;
      lo.capture_min_cases = min_cases;
      learn::Learner fresh(lo);
      learn::learn_from_engine(e, fresh);
      return fresh;
    }();
    const auto proposals = l.fragment_proposals();
    if (ctx.json()) {
      Json out = Json::array();
      for (const auto& p : proposals) {
        Json est = Json::array();
        for (const auto& d : p.estimates) est.push_back(format_duration(d));
        out.push_back({{"id", p.id},
                       {"tasks", p.tasks},
                       {"order", p.order},
                       {"estimates", est},
                       {"cases", p.cases},
                       {"definition", to_json(p.definition())}});
      }
      print_json(out);
      return 0;
    }
    if (proposals.empty()) std::cout << "(no recurring ad-hoc work)\n";
    for (const auto& p : proposals) {
      std::cout << fmt::format("{}: {} tasks seen in {} cases\n", p.id, p.tasks.size(), p.cases.size());
      for (std::size_t i = 0; i < p.tasks.size(); ++i)
        std::cout << fmt::format("  {:<32} about {}\n", p.tasks[i],
                                 i < p.estimates.size() ? human_duration(p.estimates[i]) : "?");
      for (const auto& [a, b] : p.order) std::cout << fmt::format("  order: {} -> {}\n", a, b);
      std::string cases;
      for (const auto& c : p.cases) cases += (cases.empty() ? "" : ", ") + c;
      std::cout << "  from: " << cases << "\n";
    }
    return 0;
  });
}

}  // namespace

void add_learn_commands(CLI::App& app, Context& ctx) {
  auto* learn =
      app.add_subcommand("learn", "learned templates: import logs, train, recommend, evaluate")->require_subcommand(1);
  add_import(learn, ctx);
  add_train(learn, ctx);
  add_recommend(learn, ctx);
  add_evaluate(learn, ctx);
  add_templates(learn, ctx);
  add_proposals(learn, ctx);
}

}  // namespace acm_cli
