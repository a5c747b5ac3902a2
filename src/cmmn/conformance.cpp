// SPDX-License-Identifier: Apache-2.0
// cmmn/conformance.cpp - the CMMN conformance runner: replays a scenario of the peers' tests
// (data/cmmn/scenarios/README.md) on a fresh in-memory engine and compares every expectation.
//
// It knows no scenario: it reads the file and drives the engine through the public API only
// (acm/engine.hpp, acm/cmmn.hpp), as a host program would.
#include <acm/cmmn.hpp>
#include <acm/engine.hpp>
#include <acm/error.hpp>
#include <acm/time.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace acm::cmmn {

Json ScenarioReport::to_json() const {
  Json checks_json = Json::array();
  Json inferred_json = Json::array();
  for (const auto& c : checks) {
    Json j{{"step", c.step}, {"do", c.action}, {"key", c.key}, {"status", c.status}};
    if (!c.expected.is_null()) j["expected"] = c.expected;
    if (!c.actual.is_null() || c.status == "failed") j["actual"] = c.actual;
    if (!c.reason.empty()) j["reason"] = c.reason;
    (c.inferred ? inferred_json : checks_json).push_back(std::move(j));
  }
  Json j{{"file", file},
         {"name", name},
         {"passed", passed},
         {"failed", failed},
         {"skipped", skipped},
         {"checks", checks_json},
         {"inferred", Json{{"passed", inferred_passed}, {"failed", inferred_failed}, {"checks", inferred_json}}}};
  if (!error.empty()) j["error"] = error;
  return j;
}

namespace {

bool is_live(ItemState s) { return s != ItemState::completed && s != ItemState::terminated; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The state of the world after a step, as the expectations see it.
class Run {
 public:
  Run(const Json& scenario, const CaseMapping& mapping) : sc_(scenario), map_(mapping) {
    const Json& pis = sc_.value("plan_items", Json::object());
    for (auto it = pis.begin(); it != pis.end(); ++it) {
      const std::string key = it.key();
      const std::string pid = it.value().value("plan_item_id", key);
      types_[key] = it.value().value("type", "");
      auto m = map_.items.find(pid);
      if (m == map_.items.end()) continue;
      for (const auto& def : m->second) key_of_def_[def] = key;
    }
    EngineOptions o;
    o.database = ":memory:";
    clock_ = std::make_shared<ManualClock>(parse_time("2026-01-05T09:00:00Z"));
    o.clock = clock_;
    engine_ = Engine::open(o);
  }

  Engine& engine() { return *engine_; }
  ManualClock& clock() { return *clock_; }
  const Actor& actor() const { return actor_; }
  std::string case_id;
  CaseInfo info;
  bool have_case = false;
  std::map<std::string, std::set<std::string>> initial_;  ///< key -> instance ids after start

  void refresh() {
    if (case_id.empty()) return;
    info = engine_->get_case(case_id);
    have_case = true;
  }

  std::string key_of(const PlanItemInfo& p) const {
    auto it = key_of_def_.find(p.def_id);
    return it == key_of_def_.end() ? std::string() : it->second;
  }
  std::string type_of(const std::string& key) const {
    auto it = types_.find(key);
    return it == types_.end() ? std::string() : it->second;
  }
  bool known_key(const std::string& key) const { return types_.count(key) > 0; }

  std::vector<const PlanItemInfo*> instances(const std::string& key) const {
    std::vector<const PlanItemInfo*> out;
    for (const auto& p : info.items)
      if (key_of(p) == key) out.push_back(&p);
    return out;
  }
  const PlanItemInfo* find(const std::string& id) const {
    for (const auto& p : info.items)
      if (p.id == id) return &p;
    return nullptr;
  }
  /// Whether `p` is inside (at any depth) the item `ancestor`.
  bool inside(const PlanItemInfo& p, const std::string& ancestor) const {
    std::string cur = p.parent;
    for (int guard = 0; !cur.empty() && guard < 100; ++guard) {
      if (cur == ancestor) return true;
      const PlanItemInfo* q = find(cur);
      if (!q) return false;
      cur = q->parent;
    }
    return false;
  }
  const PlanItemInfo* live_of(const std::string& key) const {
    for (const auto* p : instances(key))
      if (is_live(p->state)) return p;
    return nullptr;
  }
  /// The instances a step acts on or an items_in expectation looks at.
  std::vector<const PlanItemInfo*> scoped(const std::string& key, const std::string& in_stage) const {
    auto all = instances(key);
    if (in_stage.empty()) return all;
    const PlanItemInfo* stage = live_of(in_stage);
    std::vector<const PlanItemInfo*> out;
    if (!stage) return out;
    for (const auto* p : all)
      if (inside(*p, stage->id)) out.push_back(p);
    return out;
  }

  /// The plan model's stage instance (the fragment instance of the case plan model).
  const PlanItemInfo* plan_stage() const {
    for (const auto& p : info.items)
      if (p.parent.empty() && p.kind == ItemKind::stage && p.fragment == map_.fragment && key_of(p).empty()) return &p;
    return nullptr;
  }

  /// Mapped instances (those with a scenario key), in creation order.
  std::vector<std::pair<std::string, const PlanItemInfo*>> mapped() const {
    std::vector<std::pair<std::string, const PlanItemInfo*>> out;
    for (const auto& p : info.items) {
      std::string k = key_of(p);
      if (!k.empty()) out.push_back({k, &p});
    }
    return out;
  }

 private:
  const Json& sc_;
  const CaseMapping& map_;
  std::map<std::string, std::string> types_;
  std::map<std::string, std::string> key_of_def_;
  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<Engine> engine_;
  Actor actor_{"cmmn-runner", {"admin"}};
};

/// Summary of a key's instances for messages: "active", "active,available", "completed",
/// "terminated", "absent".
std::string describe_key(const Run& r, const std::vector<const PlanItemInfo*>& insts) {
  std::vector<std::string> live;
  for (const auto* p : insts)
    if (is_live(p->state)) live.emplace_back(to_string(p->state));
  if (!live.empty()) {
    std::string s;
    for (const auto& x : live) s += (s.empty() ? "" : ",") + x;
    return s;
  }
  if (insts.empty()) return "absent (never created)";
  (void)r;
  return std::string(to_string(insts.back()->state));
}

bool item_state_matches(const std::vector<const PlanItemInfo*>& insts, const std::string& word) {
  std::vector<const PlanItemInfo*> live;
  for (const auto* p : insts)
    if (is_live(p->state)) live.push_back(p);
  if (word == "available" || word == "enabled" || word == "disabled" || word == "active" || word == "suspended" ||
      word == "failed") {
    if (live.empty()) return false;
    for (const auto* p : live)
      if (to_string(p->state) != word) return false;
    return true;
  }
  if (word == "completed" || word == "terminated") {
    if (!live.empty() || insts.empty()) return false;
    return to_string(insts.back()->state) == word;
  }
  if (word == "absent") return live.empty();
  if (word == "live") return !live.empty();
  if (word.rfind("not_", 0) == 0) {
    const std::string st = word.substr(4);
    for (const auto* p : live)
      if (to_string(p->state) == st) return false;
    return true;
  }
  return false;
}

bool known_word(const std::string& w) {
  static const std::set<std::string> words{"available",  "enabled",     "disabled",      "active",      "suspended",
                                           "failed",     "completed",   "terminated",    "absent",      "live",
                                           "not_active", "not_enabled", "not_available", "not_disabled"};
  return words.count(w) > 0;
}

Json sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return Json(v);
}

class Checker {
 public:
  Checker(ScenarioReport& rep, Run& run, std::size_t step, const std::string& action, bool inferred)
      : rep_(rep), run_(run), step_(step), action_(action), inferred_(inferred) {}

  void add(const std::string& key, const Json& expected, const Json& actual, bool ok, const std::string& reason = {}) {
    Check c;
    c.step = step_;
    c.action = action_;
    c.key = key;
    c.expected = expected;
    c.actual = actual;
    c.status = ok ? "passed" : "failed";
    c.reason = reason;
    c.inferred = inferred_;
    rep_.checks.push_back(std::move(c));
  }
  void skip(const std::string& key, const Json& expected, const std::string& reason) {
    Check c;
    c.step = step_;
    c.action = action_;
    c.key = key;
    c.expected = expected;
    c.status = "skipped";
    c.reason = reason;
    c.inferred = inferred_;
    rep_.checks.push_back(std::move(c));
  }

  /// Checks every expectation of one `expect` (or `inferred`) object.
  void check_all(const Json& exp, bool step_failed, const std::string& step_error) {
    for (auto it = exp.begin(); it != exp.end(); ++it) {
      const std::string k = it.key();
      const Json& v = it.value();
      if (k == "why") continue;
      if (k == "error") {
        add("error", v, step_failed ? Json(true) : Json(false), v.is_boolean() && v.get<bool>() == step_failed,
            step_failed ? step_error : std::string());
        continue;
      }
      if (!run_.have_case) {
        skip(k, v, "no case instance (the start step failed)");
        continue;
      }
      check_one(k, v);
    }
  }

  /// Every leaf expectation counted as skipped (the scenario could not run).
  static void skip_all(ScenarioReport& rep, const Json& steps, const std::string& reason) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const Json& st = steps[i];
      const std::string action = st.value("do", "");
      for (const char* part : {"expect", "inferred"}) {
        if (!st.contains(part) || !st[part].is_object()) continue;
        for (auto it = st[part].begin(); it != st[part].end(); ++it) {
          if (it.key() == "why") continue;
          auto add = [&](const std::string& key, const Json& v) {
            Check c;
            c.step = i;
            c.action = action;
            c.key = key;
            c.expected = v;
            c.status = "skipped";
            c.reason = reason;
            c.inferred = std::string(part) == "inferred";
            rep.checks.push_back(std::move(c));
          };
          if ((it.key() == "items" || it.key() == "count") && it.value().is_object()) {
            for (auto e = it.value().begin(); e != it.value().end(); ++e) add(it.key() + "." + e.key(), e.value());
          } else {
            add(it.key(), it.value());
          }
        }
      }
    }
  }

 private:
  ScenarioReport& rep_;
  Run& run_;
  std::size_t step_;
  std::string action_;
  bool inferred_;

  void check_items(const std::string& prefix, const Json& m, const std::string& in_stage) {
    if (!m.is_object()) {
      skip(prefix, m, "expected an object");
      return;
    }
    for (auto e = m.begin(); e != m.end(); ++e) {
      const std::string key = e.key();
      const std::string label = prefix + "." + key;
      if (!e.value().is_string()) {
        skip(label, e.value(), "expected a state word");
        continue;
      }
      const std::string w = e.value().get<std::string>();
      if (!run_.known_key(key)) {
        skip(label, e.value(), "unknown item key");
        continue;
      }
      if (!known_word(w)) {
        skip(label, e.value(), "unknown state word");
        continue;
      }
      auto insts = run_.scoped(key, in_stage);
      add(label, w, describe_key(run_, insts), item_state_matches(insts, w));
    }
  }

  void check_one(const std::string& k, const Json& v) {
    const CaseInfo& c = run_.info;
    if (k == "case") {
      const std::string st(to_string(c.status));
      const std::string w = v.is_string() ? v.get<std::string>() : "";
      bool ok;
      if (w == "ended")
        ok = c.status == CaseStatus::completed || c.status == CaseStatus::terminated || c.status == CaseStatus::closed;
      else if (w == "active")
        ok = c.status == CaseStatus::active;
      else
        ok = st == w;
      add("case", v, st, ok);
      return;
    }
    if (k == "items") return check_items("items", v, "");
    if (k == "items_in") {
      if (!v.is_object()) return skip(k, v, "expected an object");
      for (auto s = v.begin(); s != v.end(); ++s) {
        if (!run_.live_of(s.key())) {
          add("items_in." + s.key(), s.value(), "no live instance of the stage", false);
          continue;
        }
        check_items("items_in." + s.key(), s.value(), s.key());
      }
      return;
    }
    if (k == "count") {
      if (!v.is_object()) return skip(k, v, "expected an object");
      for (auto e = v.begin(); e != v.end(); ++e) {
        const std::string key = e.key();
        auto insts = run_.instances(key);
        std::vector<const PlanItemInfo*> live;
        for (const auto* p : insts)
          if (is_live(p->state)) live.push_back(p);
        if (e.value().is_number()) {
          add("count." + key, e.value(), live.size(), e.value().get<long>() == static_cast<long>(live.size()));
        } else if (e.value().is_object()) {
          Json actual = Json::object();
          bool ok = true;
          for (auto s = e.value().begin(); s != e.value().end(); ++s) {
            long n = 0;
            if (s.key() == "total")
              n = static_cast<long>(live.size());
            else
              for (const auto* p : live) n += to_string(p->state) == s.key();
            actual[s.key()] = n;
            ok = ok && s.value().is_number() && s.value().get<long>() == n;
          }
          add("count." + key, e.value(), actual, ok);
        } else {
          skip("count." + key, e.value(), "expected a number or an object");
        }
      }
      return;
    }
    auto mapped = run_.mapped();
    if (k == "live_count") {
      long n = 0;
      for (const auto& [key, p] : mapped) n += is_live(p->state);
      add(k, v, n, v.is_number() && v.get<long>() == n);
      return;
    }
    if (k == "live_items" || k == "active_items") {
      std::vector<std::string> keys;
      for (const auto& [key, p] : mapped)
        if (k == "live_items" ? is_live(p->state) : p->state == ItemState::active) keys.push_back(key);
      Json a = sorted(keys);
      Json e = v;
      if (e.is_array()) std::sort(e.begin(), e.end());
      add(k, v, a, a == e);
      return;
    }
    if (k == "count_by_state" || k == "count_by_type" || k == "count_by_state_type") {
      if (!v.is_object()) return skip(k, v, "expected an object");
      Json actual = Json::object();
      bool ok = true;
      for (auto e = v.begin(); e != v.end(); ++e) {
        if (k == "count_by_state_type") {
          Json inner = Json::object();
          for (auto s = e.value().begin(); e.value().is_object() && s != e.value().end(); ++s) {
            long n = 0;
            for (const auto& [key, p] : mapped)
              n += run_.type_of(key) == e.key() && is_live(p->state) && to_string(p->state) == s.key();
            inner[s.key()] = n;
            ok = ok && s.value().is_number() && s.value().get<long>() == n;
          }
          actual[e.key()] = inner;
          continue;
        }
        long n = 0;
        for (const auto& [key, p] : mapped) {
          if (!is_live(p->state)) continue;
          n += k == "count_by_state" ? to_string(p->state) == e.key() : run_.type_of(key) == e.key();
        }
        actual[e.key()] = n;
        ok = ok && e.value().is_number() && e.value().get<long>() == n;
      }
      add(k, v, actual, ok);
      return;
    }
    if (k == "active_human_tasks" || k == "live_event_listeners" || k == "occurred_milestones") {
      std::vector<std::string> keys;
      for (const auto& [key, p] : mapped) {
        const std::string t = run_.type_of(key);
        if (k == "active_human_tasks" && t == "humanTask" && p->state == ItemState::active) keys.push_back(key);
        if (k == "live_event_listeners" && t == "userEventListener" && is_live(p->state)) keys.push_back(key);
        if (k == "occurred_milestones" && t == "milestone" && p->state == ItemState::completed) keys.push_back(key);
      }
      if (v.is_number()) {
        add(k, v, keys.size(), v.get<long>() == static_cast<long>(keys.size()));
      } else {
        Json a = sorted(keys);
        Json e = v;
        if (e.is_array()) std::sort(e.begin(), e.end());
        add(k, v, a, a == e);
      }
      return;
    }
    if (k == "timer_jobs") {
      long n = 0;
      for (const auto& p : c.items) {
        if (p.kind != ItemKind::timer_listener || p.state != ItemState::available) continue;
        const PlanItemInfo* parent = p.parent.empty() ? nullptr : run_.find(p.parent);
        const bool parent_active = parent ? parent->state == ItemState::active : true;
        n += parent_active && c.status == CaseStatus::active;
      }
      add(k, v, n, v.is_number() && v.get<long>() == n);
      return;
    }
    if (k == "completable") {
      if (!v.is_object()) return skip(k, v, "expected an object");
      for (auto e = v.begin(); e != v.end(); ++e) {
        const PlanItemInfo* stage = e.key() == "case" ? run_.plan_stage() : run_.live_of(e.key());
        bool completable = false;
        std::string why;
        if (!stage) {
          why = "no live instance";
        } else {
          completable = true;
          for (const auto& p : c.items) {
            if (p.parent != stage->id) continue;
            if (p.state == ItemState::active || p.state == ItemState::suspended || p.state == ItemState::failed) {
              completable = false;
              why = p.id + " is " + std::string(to_string(p.state));
            } else if (p.required && is_live(p.state)) {
              completable = false;
              why = "required " + p.id + " is " + std::string(to_string(p.state));
            }
          }
        }
        add("completable." + e.key(), e.value(), completable,
            e.value().is_boolean() && e.value().get<bool>() == completable, why);
      }
      return;
    }
    if (k == "new_instance") {
      if (!v.is_array()) return skip(k, v, "expected a list of keys");
      for (const auto& kk : v) {
        const std::string key = kk.is_string() ? kk.get<std::string>() : "";
        const auto& initial = run_.initial_[key];
        std::vector<std::string> live_ids;
        bool fresh = true;
        for (const auto* p : run_.instances(key))
          if (is_live(p->state)) {
            live_ids.push_back(p->id);
            if (initial.count(p->id)) fresh = false;
          }
        if (live_ids.empty()) fresh = false;
        add("new_instance." + key, true, Json{{"live", live_ids}}, fresh);
      }
      return;
    }
    skip(k, v, "unknown expectation key");
  }
};

/// The instance a step acts on.
std::string pick_instance(const Run& run, const Json& step, const std::string& action) {
  const std::string key = step.value("item", "");
  if (!run.known_key(key)) throw Error(ErrorCode::not_found, "the scenario names no plan item key \"" + key + "\"");
  auto insts = run.scoped(key, step.value("in", ""));
  std::vector<const PlanItemInfo*> live;
  for (const auto* p : insts)
    if (is_live(p->state)) live.push_back(p);
  if (step.contains("instance")) {
    const std::string w = step.value("instance", "");
    for (const auto* p : live)
      if (to_string(p->state) == w) return p->id;
  }
  std::vector<ItemState> prefer;
  if (action == "complete")
    prefer = {ItemState::active};
  else if (action == "manual_start" || action == "disable")
    prefer = {ItemState::enabled};
  else if (action == "reenable")
    prefer = {ItemState::disabled};
  else if (action == "occur")
    prefer = {ItemState::available};
  else if (action == "terminate")
    prefer = {ItemState::active, ItemState::suspended};
  for (ItemState s : prefer)
    for (const auto* p : live)
      if (p->state == s) return p->id;
  if (!live.empty()) return live.front()->id;
  if (!insts.empty()) return insts.back()->id;  // ended: the engine refuses
  throw Error(ErrorCode::not_found, "no instance of \"" + key + "\" exists");
}

void do_step(Run& run, const Json& step, const std::string& action, const std::string& case_type,
             const Json& case_variables) {
  Engine& e = run.engine();
  const Request by(run.actor());
  if (action == "start") {
    NewCase nc;
    nc.type = case_type;
    nc.title = "conformance";
    if (case_variables.is_object()) nc.file = case_variables;  // the scenario's `variables`
    if (step.contains("variables") && step["variables"].is_object())
      for (auto it = step["variables"].begin(); it != step["variables"].end(); ++it) nc.file[it.key()] = it.value();
    run.case_id = e.create_case(by, nc).created;
    return;
  }
  if (run.case_id.empty()) throw Error(ErrorCode::invalid_state, "no case instance (start did not succeed)");
  const std::string& cid = run.case_id;
  if (action == "complete") {
    const std::string id = pick_instance(run, step, action);
    // Variables go with the completion (set at the case-file root before sentries are evaluated).
    const Json vars = step.contains("variables") && step["variables"].is_object() ? step["variables"] : Json();
    e.complete_item(by, cid, id, vars);
  } else if (action == "manual_start") {
    e.start_item(by, cid, pick_instance(run, step, action));
  } else if (action == "disable") {
    e.disable_item(by, cid, pick_instance(run, step, action));
  } else if (action == "reenable") {
    e.reenable_item(by, cid, pick_instance(run, step, action));
  } else if (action == "terminate") {
    e.terminate_item(by, cid, pick_instance(run, step, action));
  } else if (action == "occur") {
    e.occur(by, cid, pick_instance(run, step, action));
  } else if (action == "set") {
    e.set_file(by, cid, step.value("var", ""), step.contains("value") ? step["value"] : Json());
  } else if (action == "advance") {
    run.clock().advance(parse_duration(step.value("duration", "")));
  } else if (action == "complete_case") {
    e.complete_case(by, cid);
  } else if (action == "terminate_case") {
    e.terminate_case(by, cid);
  } else {
    throw std::logic_error("unsupported step \"" + action + "\"");
  }
}

}  // namespace

ScenarioReport run_scenario(const std::string& file, const std::string& base_dir) {
  ScenarioReport rep;
  rep.file = file;
  rep.name = std::filesystem::path(file).filename().string();
  if (rep.name.size() > 5 && rep.name.ends_with(".json")) rep.name.resize(rep.name.size() - 5);
  Json sc;
  try {
    sc = Json::parse(read_file(file));
    if (!sc.is_object() || !sc.contains("steps") || !sc["steps"].is_array())
      throw Error(ErrorCode::invalid_argument, "not a scenario (an object with a `steps` list)");
  } catch (const std::exception& e) {
    rep.error = std::string("cannot read the scenario: ") + e.what();
    return rep;
  }
  const Json& steps = sc["steps"];
  auto finish = [&] {
    for (const auto& c : rep.checks) {
      if (c.inferred) {
        rep.inferred_passed += c.status == "passed";
        rep.inferred_failed += c.status == "failed";
      } else {
        rep.passed += c.status == "passed";
        rep.failed += c.status == "failed";
        rep.skipped += c.status == "skipped";
      }
    }
  };

  ImportResult imported;
  const CaseMapping* mapping = nullptr;
  try {
    std::string model = sc.value("model", "");
    std::filesystem::path p = std::filesystem::path(base_dir.empty() ? "." : base_dir) / model;
    imported = import(read_file(p.string()));
    for (const auto& m : imported.cases)
      if (m.case_id == sc.value("case", "")) mapping = &m;
    if (!mapping && imported.cases.size() == 1) mapping = &imported.cases.front();
    if (!mapping) throw Error(ErrorCode::not_found, "the model has no case \"" + sc.value("case", "") + "\"");
  } catch (const std::exception& e) {
    rep.error = std::string("model not imported: ") + e.what();
    Checker::skip_all(rep, steps, rep.error);
    finish();
    return rep;
  }

  Run run(sc, *mapping);
  try {
    run.engine().load_definitions(run.actor(), imported.definitions);
  } catch (const std::exception& e) {
    rep.error = std::string("definitions not loaded: ") + e.what();
    Checker::skip_all(rep, steps, rep.error);
    finish();
    return rep;
  }

  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Json& st = steps[i];
    const std::string action = st.value("do", "");
    bool failed = false;
    bool unsupported = false;
    std::string err;
    std::uint64_t before = run.have_case ? run.info.version : 0;
    try {
      do_step(run, st, action, mapping->case_type, sc.value("variables", Json::object()));
    } catch (const Error& e) {
      failed = true;
      err = std::string(to_string(e.code())) + ": " + e.what();
    } catch (const std::logic_error& e) {
      unsupported = true;
      err = e.what();
    } catch (const std::exception& e) {
      failed = true;
      err = e.what();
    }
    try {
      run.refresh();
    } catch (const std::exception& e) {
      run.have_case = false;
      if (!failed) err = e.what();
    }
    if (action == "start" && run.have_case) {
      for (const auto& [key, p] : run.mapped()) run.initial_[key].insert(p->id);
    }
    if (unsupported) {
      ScenarioReport tmp;
      Checker::skip_all(tmp, Json::array({st}), err);
      for (auto& c : tmp.checks) {
        c.step = i;
        rep.checks.push_back(std::move(c));
      }
      continue;
    }
    // A refusal is expected when `expect` (or, without an asserted value, `inferred`) says so.
    auto says_error = [&](const char* part) {
      return st.contains(part) && st[part].is_object() && st[part].value("error", false);
    };
    const bool error_expected = says_error("expect") || says_error("inferred");
    if (failed && !error_expected) {
      Check c;
      c.step = i;
      c.action = action;
      c.key = "step";
      c.status = "failed";
      c.expected = "accepted";
      c.actual = "refused";
      c.reason = err;
      rep.checks.push_back(std::move(c));
    }
    if (failed && error_expected && run.have_case && run.info.version != before) {
      Check c;
      c.step = i;
      c.action = action;
      c.key = "unchanged";
      c.status = "failed";
      c.expected = before;
      c.actual = run.info.version;
      c.reason = "a refused step changed the case";
      rep.checks.push_back(std::move(c));
    }
    if (st.contains("expect") && st["expect"].is_object())
      Checker(rep, run, i, action, false).check_all(st["expect"], failed, err);
    if (st.contains("inferred") && st["inferred"].is_object())
      Checker(rep, run, i, action, true).check_all(st["inferred"], failed, err);
  }
  finish();
  return rep;
}

}  // namespace acm::cmmn
