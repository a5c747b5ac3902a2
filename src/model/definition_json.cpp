// SPDX-License-Identifier: Apache-2.0
// model/definition_json.cpp - the JSON format of definitions (docs/definitions.md) and their
// validation (model/validate.hpp).
//
// Reading is two passes. The structural pass walks the JSON: object shapes, unknown keys, value
// types, required keys, enum spellings, durations and times; it builds the value types and
// records the paths it could not read ("poisoned"). The semantic pass is `validate`, the same
// checks the engine runs on definitions built in C++. Semantic problems at or below a poisoned
// path are dropped: they only repeat what the structural pass already said. An item whose kind
// cannot be read gets an out-of-range kind (kUnknownKind), so that the semantic pass skips the
// checks that depend on the kind but still runs all the others.
//
// Nothing here recurses on the width of the input; recursion follows stage nesting only, which
// is bounded by max_stage_depth.

#include <acm/definition.hpp>
#include <acm/error.hpp>

#include "model/json_size.hpp"
#include "model/names.hpp"
#include "model/validate.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace acm {

std::string_view to_string(ItemKind kind) noexcept {
  switch (kind) {
    case ItemKind::human_task:
      return "human_task";
    case ItemKind::automated_task:
      return "automated_task";
    case ItemKind::milestone:
      return "milestone";
    case ItemKind::timer_listener:
      return "timer_listener";
    case ItemKind::user_listener:
      return "user_listener";
    case ItemKind::stage:
      return "stage";
  }
  return "unknown";
}

std::string_view to_string(OnPartSource source) noexcept {
  switch (source) {
    case OnPartSource::item:
      return "item";
    case OnPartSource::goal:
      return "goal";
    case OnPartSource::case_file:
      return "case_file";
    case OnPartSource::event:
      return "event";
  }
  return "unknown";
}

std::string_view to_string(Semantics semantics) noexcept {
  switch (semantics) {
    case Semantics::acm:
      return "acm";
    case Semantics::cmmn:
      return "cmmn";
  }
  return "unknown";
}

namespace model {
namespace {

// ---------------------------------------------------------------------------------------------
// Vocabulary

constexpr std::array<std::string_view, 6> kItemKinds = {"human_task",     "automated_task", "milestone",
                                                        "timer_listener", "user_listener",  "stage"};

// Transitions an item on-part may name (CMMN 1.1, snake_case).
// Exactly the transitions the engine emits (docs/semantics.md).
constexpr std::array<std::string_view, 15> kTaskTransitions = {
    "enable",   "disable",   "reenable", "manual_start",     "start", "suspend",   "resume",
    "complete", "terminate", "exit",     "parent_terminate", "fault", "reactivate", "parent_suspend", "parent_resume"};
constexpr std::array<std::string_view, 3> kEventTransitions = {"occur", "terminate", "parent_terminate"};
constexpr std::array<std::string_view, 7> kGoalTransitions = {"added",   "achieved", "cancelled", "changed",
                                                              "on_track", "at_risk", "overdue"};
constexpr std::array<std::string_view, 2> kFileTransitions = {"set", "removed"};
constexpr std::array<std::string_view, 8> kParameterTypes = {"string", "number", "bool",     "object",
                                                             "list",   "time",   "duration", "any"};
constexpr std::array<std::string_view, 4> kPermissions = {"view", "work", "plan", "manage"};
constexpr std::array<std::string_view, 2> kAnchors = {"goal_added", "case_created"};
constexpr std::array<std::string_view, 2> kSemantics = {"acm", "cmmn"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

template <typename Range>
std::string join(const Range& values, std::string_view separator = ", ") {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += separator;
    out += v;
  }
  return out;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

// Levenshtein distance, for "did you mean" hints (short strings only).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean "x"?)" when a candidate is close to `word`, else "".
template <typename Range>
std::string suggestion(std::string_view word, const Range& candidates) {
  if (word.size() > 64) return {};
  std::string_view best;
  std::size_t best_distance = SIZE_MAX;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  const std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 3));
  if (best_distance > limit && word.size() >= 3) {  // an abbreviation: "str" for "string"
    for (const auto& c : candidates) {
      if (std::string_view(c).substr(0, word.size()) == word) {
        best = c;
        best_distance = 1;
        break;
      }
    }
  }
  if (best.empty() || best_distance == 0 || best_distance > limit) return {};
  return " (did you mean " + quote(best) + "?)";
}

template <std::size_t N>
std::string one_of(std::string_view what, std::string_view value, const std::array<std::string_view, N>& allowed) {
  return "unknown " + std::string(what) + " " + quote(value) + suggestion(value, allowed) + "; expected one of " +
         join(allowed);
}

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_identifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_ascii_alnum(c) || c == '_'; });
}

// ---------------------------------------------------------------------------------------------
// JSON pointers

std::string escape_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string at(const std::string& base, std::string_view key) { return base + "/" + escape_key(key); }
std::string at(const std::string& base, std::size_t index) { return base + "/" + std::to_string(index); }

// ---------------------------------------------------------------------------------------------
// Shared value checks

bool is_task(ItemKind k) { return k == ItemKind::human_task || k == ItemKind::automated_task; }
bool is_work(ItemKind k) { return is_task(k) || k == ItemKind::stage; }
bool is_listener(ItemKind k) { return k == ItemKind::timer_listener || k == ItemKind::user_listener; }
bool is_known_kind(ItemKind k) {
  switch (k) {
    case ItemKind::human_task:
    case ItemKind::automated_task:
    case ItemKind::milestone:
    case ItemKind::timer_listener:
    case ItemKind::user_listener:
    case ItemKind::stage:
      return true;
  }
  return false;
}

// Why `value` does not fit a parameter of `type`; empty if it fits.
std::string type_mismatch(std::string_view type, const Json& value) {
  auto got = [&] { return std::string(", got ") + value.type_name(); };
  if (type == "string" && !value.is_string()) return "must be a string" + got();
  if (type == "number" && !value.is_number()) return "must be a number" + got();
  if (type == "bool" && !value.is_boolean()) return "must be a boolean" + got();
  if (type == "object" && !value.is_object()) return "must be an object" + got();
  if (type == "list" && !value.is_array()) return "must be a list (JSON array)" + got();
  if (type == "time" || type == "duration") {
    if (!value.is_string()) return "must be a " + std::string(type) + " string" + got();
    try {
      if (type == "time") {
        (void)parse_time(value.get_ref<const std::string&>());
      } else {
        (void)parse_duration(value.get_ref<const std::string&>());
      }
    } catch (const std::exception& e) {
      return "is not a valid " + std::string(type) + ": " + e.what();
    }
  }
  return {};
}

const expr::ParseOptions& parse_options() {
  static const expr::ParseOptions options = engine_parse_options();
  return options;
}

// Collects problems of the semantic checks.
class Checker {
 public:
  explicit Checker(std::vector<Problem>& out) : out_(out) {}

  void add(std::string path, std::string message) { out_.push_back(Problem{std::move(path), std::move(message)}); }

  // A required id ("fragment id", "item id", ...).
  void id(std::string_view value, const std::string& path, std::string_view what) {
    if (value.empty()) {
      add(path, std::string(what) + " must not be empty");
    } else if (!is_valid_id(value)) {
      add(path, "invalid " + std::string(what) + " " + quote(value) + ": use ASCII letters, digits, '_', '-' and '.'");
    }
  }

  void expression(const std::string& text, const std::string& path) {
    if (text.empty()) return;
    expr::Expression parsed;
    try {
      parsed = expr::Expression::parse(text, parse_options());
    } catch (const std::exception& e) {
      add(path, std::string("invalid expression: ") + e.what());
      return;
    }
    if (!parameters_) return;
    // Inside a fragment, `params.NAME` must name a declared parameter (arguments are checked
    // against the declaration, so anything else is always null).
    std::set<std::string, std::less<>> reported;
    for (const std::string& dep : parsed.dependencies()) {
      constexpr std::string_view prefix = "params.";
      if (dep.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string name = dep.substr(prefix.size(), dep.find('.', prefix.size()) - prefix.size());
      if (parameters_->count(name) || !reported.insert(name).second) continue;
      add(path,
          "unknown parameter " + quote(name) +
              (parameters_->empty() ? std::string(" (the fragment declares none)")
                                    : " (declared: " + join(*parameters_) + ")" + suggestion(name, *parameters_)));
    }
  }

  // Declared parameter names while checking a fragment; nullptr elsewhere.
  void set_parameters(const std::set<std::string, std::less<>>* names) { parameters_ = names; }

  // A duration of a definition: 0 .. kMaxDuration.
  void not_negative(const std::optional<Duration>& d, const std::string& path) {
    if (d && d->count() < 0) add(path, "must not be negative");
    if (d && *d > kMaxDuration)
      add(path, "duration " + format_duration(*d) + " is longer than 1000 years (" + format_duration(kMaxDuration) +
                    "), the most a definition may give");
  }

  // A list of ids without duplicates.
  void id_list(const std::vector<std::string>& values, const std::string& path, std::string_view what) {
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = 0; i < values.size(); ++i) {
      id(values[i], at(path, i), what);
      if (!seen.insert(values[i]).second) {
        add(at(path, i), std::string(what) + " " + quote(values[i]) + " is listed twice");
      }
    }
  }

 private:
  std::vector<Problem>& out_;
  const std::set<std::string, std::less<>>* parameters_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Fragments

struct ItemEntry {
  const ItemDef* item;
  std::string path;
};

struct ItemIndex {
  std::vector<ItemEntry> all;                          // pre-order
  std::unordered_map<std::string, std::size_t> by_id;  // first occurrence
};

// The kind of an item whose `kind` could not be read from JSON (already reported).
constexpr ItemKind kUnknownKind = static_cast<ItemKind>(-1);

/// How deeply a free-form value in a definition may nest (as event payloads: it may end up in one).
constexpr std::size_t kMaxValueDepth = 256;

// True when a free-form value nests deeper than kMaxValueDepth (as a definition built in C++
// may; the JSON reader refuses such values before they are copied).
bool too_deep(const Json& value) { return serialized_size(value, SIZE_MAX, kMaxValueDepth).too_deep; }
const std::string kValueDepthMessage = "nests more than " + std::to_string(kMaxValueDepth) + " levels deep";

const std::string kDepthMessage = "stages are nested more than " + std::to_string(max_stage_depth) + " levels deep";

// Indexes items depth first. `level` is the number of enclosing stages (0: fragment items).
// Recursion is bounded by max_stage_depth.
void index_items(const std::vector<ItemDef>& items, const std::string& list_path, int level, ItemIndex& index,
                 Checker& check) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    const ItemDef& item = items[i];
    std::string path = at(list_path, i);
    check.id(item.id, at(path, "id"), "item id");
    if (!item.id.empty()) {
      auto [it, fresh] = index.by_id.emplace(item.id, index.all.size());
      if (!fresh) {
        check.add(at(path, "id"),
                  "duplicate item id " + quote(item.id) + " (also at " + index.all[it->second].path + ")");
      }
    }
    index.all.push_back(ItemEntry{&item, path});
    if (item.kind == ItemKind::stage || (!is_known_kind(item.kind) && !item.children.empty())) {
      if (level + 1 > max_stage_depth) {
        check.add(at(path, "children"), kDepthMessage);
      } else {
        index_items(item.children, at(path, "children"), level + 1, index, check);
      }
    }
  }
}

// Calls f(item) for every item at any depth (bounded like index_items).
template <typename F>
void for_each_item(const std::vector<ItemDef>& items, int level, const F& f) {
  for (const ItemDef& item : items) {
    f(item);
    if (item.kind == ItemKind::stage && level + 1 <= max_stage_depth) {
      for_each_item(item.children, level + 1, f);
    }
  }
}

std::string_view source_key(OnPartSource source) {
  switch (source) {
    case OnPartSource::item:
      return "item";
    case OnPartSource::goal:
      return "goal";
    case OnPartSource::case_file:
      return "file";
    case OnPartSource::event:
      return "event";
  }
  return "item";
}

void check_sentry(const Sentry& sentry, const std::string& path, const ItemIndex* items, Checker& check) {
  if (!sentry.id.empty()) check.id(sentry.id, at(path, "id"), "sentry id");
  if (sentry.on_parts.empty() && sentry.condition.empty()) {
    check.add(path, "a sentry needs at least one on-part (\"on\") or an if-part (\"if\")");
  }
  for (std::size_t i = 0; i < sentry.on_parts.size(); ++i) {
    const OnPart& on = sentry.on_parts[i];
    const std::string on_path = at(at(path, "on"), i);
    const std::string ref_path = at(on_path, source_key(on.source));
    const std::string transition_path = at(on_path, "on");
    switch (on.source) {
      case OnPartSource::item: {
        check.id(on.ref, ref_path, "item id");
        const ItemDef* target = nullptr;
        if (items && !on.ref.empty()) {
          auto it = items->by_id.find(on.ref);
          if (it == items->by_id.end()) {
            check.add(ref_path, "unknown item " + quote(on.ref) + " (not in this fragment)");
          } else {
            target = items->all[it->second].item;
          }
        }
        if (on.on.empty()) {
          check.add(transition_path, "an item on-part needs a transition, e.g. \"complete\"");
        } else if (target && is_known_kind(target->kind)) {
          const bool work = is_work(target->kind);
          const bool ok = work ? contains(kTaskTransitions, on.on) : contains(kEventTransitions, on.on);
          if (!ok) {
            check.add(transition_path,
                      "transition " + quote(on.on) + " does not apply to " + std::string(to_string(target->kind)) +
                          " " + quote(on.ref) +
                          (work ? suggestion(on.on, kTaskTransitions) : suggestion(on.on, kEventTransitions)) +
                          "; expected one of " + (work ? join(kTaskTransitions) : join(kEventTransitions)));
          }
        } else if (!contains(kTaskTransitions, on.on) && !contains(kEventTransitions, on.on)) {
          std::vector<std::string_view> all(kTaskTransitions.begin(), kTaskTransitions.end());
          all.push_back("occur");
          check.add(transition_path, "unknown transition " + quote(on.on) + suggestion(on.on, all));
        }
        break;
      }
      case OnPartSource::goal:
        check.id(on.ref, ref_path, "goal id");
        if (on.on.empty()) {
          check.add(transition_path, "a goal on-part needs a transition; expected one of " + join(kGoalTransitions));
        } else if (!contains(kGoalTransitions, on.on)) {
          check.add(transition_path, one_of("goal transition", on.on, kGoalTransitions));
        }
        break;
      case OnPartSource::case_file:
        if (on.ref.empty()) {
          check.add(ref_path, "case-file path must not be empty");
        } else if (!is_valid_file_path(on.ref)) {
          check.add(ref_path, "invalid case-file path " + quote(on.ref) +
                                  ": use dot-separated names of letters, digits, '_' and '-'");
        }
        if (!on.on.empty() && !contains(kFileTransitions, on.on)) {
          check.add(transition_path,
                    one_of("case-file transition", on.on, kFileTransitions) + " (or omit it for either)");
        }
        break;
      case OnPartSource::event:
        check.id(on.ref, ref_path, "event name");
        if (!on.on.empty()) check.add(transition_path, "an event on-part takes no transition");
        break;
      default:
        check.add(on_path, "invalid on-part source value " + std::to_string(static_cast<int>(on.source)));
        break;
    }
  }
  check.expression(sentry.condition, at(path, "if"));
}

void check_sentries(const std::vector<Sentry>& sentries, const std::string& path, const ItemIndex* items,
                    Checker& check) {
  for (std::size_t i = 0; i < sentries.size(); ++i) {
    check_sentry(sentries[i], at(path, i), items, check);
  }
}

// ---- definitions that can only loop (docs/definitions.md, "Definitions that cannot end") ----

// Whether `text` parses and reads nothing that an item's own occurrence or completion can change
// within a command: only the case file, the subject, the fragment's parameters and `now`, or
// nothing at all. (Unparsable text is reported elsewhere: false here.)
bool reads_only_stable(const std::string& text) {
  expr::Expression e;
  try {
    e = expr::Expression::parse(text, parse_options());
  } catch (const std::exception&) {
    return false;
  }
  for (const std::string& d : e.dependencies()) {
    auto root = std::string_view(d).substr(0, d.find_first_of(".:["));
    if (root != "file" && root != "subject" && root != "params" && root != "now") return false;
  }
  return true;
}

void check_loops(const ItemDef& item, const std::string& path, Checker& check) {
  // An entry on-part on the item's own transition: a repetition (same definition) would be
  // entered again by its predecessor's occurrence at once, forever; without repetition it
  // could never fire (the item has ended when its transition happens).
  for (std::size_t i = 0; i < item.entry.size(); ++i)
    for (std::size_t k = 0; k < item.entry[i].on_parts.size(); ++k) {
      const OnPart& on = item.entry[i].on_parts[k];
      if (on.source == OnPartSource::item && on.ref == item.id)
        check.add(at(at(at(at(path, "entry"), i), "on"), k),
                  "item " + quote(item.id) +
                      " cannot enter on its own transition: each repetition would enter the next at once, without "
                      "end (use a repetition rule)");
    }
  // A milestone (or an automated task whose result goes nowhere) that repeats on a rule and
  // enters on an if-part alone, both reading only what its occurrence cannot change: once both
  // hold it occurs, repeats and occurs again without end within one command.
  const bool completes_alone =
      item.kind == ItemKind::milestone || (item.kind == ItemKind::automated_task && item.output.empty());
  if (completes_alone && !item.repetition.empty() && reads_only_stable(item.repetition)) {
    for (std::size_t i = 0; i < item.entry.size(); ++i) {
      const Sentry& sentry = item.entry[i];
      if (!sentry.on_parts.empty() || sentry.condition.empty() || !reads_only_stable(sentry.condition)) continue;
      check.add(at(path, "repetition"),
                "item " + quote(item.id) + " would repeat without end: its entry criterion " + std::to_string(i) +
                    " has no on-part and an if-part that its own occurrence cannot make false, and its repetition "
                    "rule reads only the case file, subject, parameters or now (give the entry an on-part, or make "
                    "the rule read the plan, e.g. repetitionCounter)");
      break;
    }
  }
}

// A timer inside a stage that repeats (at any depth) is created again with every repetition:
// shorter than min_timer_period it would fire, repeat the stage and fire again without end.
void check_repeating_timers(const std::vector<ItemDef>& items, const std::string& list_path, int level, bool repeating,
                            Checker& check) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    const ItemDef& item = items[i];
    const std::string path = at(list_path, i);
    if (repeating && item.timer && *item.timer >= Duration{0} && *item.timer < min_timer_period)
      check.add(at(path, "timer"), "a timer inside a repeating stage must be at least " +
                                       format_duration(min_timer_period) + ", got " + format_duration(*item.timer) +
                                       " (it would fire, repeat the stage and fire again without end)");
    if (item.kind == ItemKind::stage && level + 1 <= max_stage_depth)
      check_repeating_timers(item.children, at(path, "children"), level + 1, repeating || !item.repetition.empty(),
                             check);
  }
}

void check_item(const ItemEntry& entry, const FragmentDef& fragment, const ItemIndex& items, Checker& check) {
  const ItemDef& item = *entry.item;
  const std::string& path = entry.path;
  const ItemKind kind = item.kind;
  if (!is_known_kind(kind)) {  // from C++ (from JSON, already reported and suppressed)
    check.add(at(path, "kind"), "invalid item kind value " + std::to_string(static_cast<int>(kind)));
  }
  const bool known = is_known_kind(kind);
  const std::string kind_name(to_string(kind));

  if (!item.role.empty()) {
    check.id(item.role, at(path, "role"), "role name");
    if (known && kind != ItemKind::human_task && kind != ItemKind::user_listener) {
      check.add(at(path, "role"), "role applies only to human tasks and user listeners, not to " + kind_name);
    } else if (!fragment.roles.empty() &&
               std::find(fragment.roles.begin(), fragment.roles.end(), item.role) == fragment.roles.end()) {
      check.add(at(path, "role"),
                "role " + quote(item.role) + " is not among the fragment's roles (" + join(fragment.roles) + ")");
    }
  }
  if (!item.assignee.empty() || !item.candidate_users.empty()) {
    if (known && kind != ItemKind::human_task) {
      check.add(at(path, item.assignee.empty() ? "candidate_users" : "assignee"),
                "assignee and candidate_users apply only to human tasks, not to " + kind_name);
    }
    auto actor = [&](const std::string& v, const std::string& p) {
      if (v.empty()) {
        check.add(p, "an actor id must not be empty");
      } else if (v.find("${") != std::string::npos || v.find("#{") != std::string::npos) {
        check.add(p, "an actor id is literal text; " + quote(v) + " looks like an expression, which is not evaluated here");
      } else if (std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
        check.add(p, "an actor id must not contain control characters");
      }
    };
    if (!item.assignee.empty()) actor(item.assignee, at(path, "assignee"));
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = 0; i < item.candidate_users.size(); ++i) {
      actor(item.candidate_users[i], at(at(path, "candidate_users"), i));
      if (!seen.insert(item.candidate_users[i]).second)
        check.add(at(at(path, "candidate_users"), i), "candidate user " + quote(item.candidate_users[i]) + " is listed twice");
    }
    if (!item.assignee.empty() && !item.candidate_users.empty() &&
        std::find(item.candidate_users.begin(), item.candidate_users.end(), item.assignee) == item.candidate_users.end()) {
      check.add(at(path, "assignee"), "the default assignee " + quote(item.assignee) +
                                          " is not among the candidate users (" + join(item.candidate_users) + ")");
    }
  }
  if (!item.skills.empty()) {
    check.id_list(item.skills, at(path, "skills"), "skill");
    if (known && kind != ItemKind::human_task) {
      check.add(at(path, "skills"), "skills apply only to human tasks, not to " + kind_name);
    }
  }
  for (auto [value, key] : {std::pair{&item.estimate, "estimate"}, std::pair{&item.due, "due"}}) {
    if (!*value) continue;
    check.not_negative(*value, at(path, key));
    if (known && !is_work(kind)) {
      check.add(at(path, key), std::string(key) + " applies only to tasks and stages, not to " + kind_name);
    }
  }
  if (kind == ItemKind::automated_task) {
    if (item.handler.empty()) {
      check.add(at(path, "handler"), "an automated task needs a handler");
    } else {
      check.id(item.handler, at(path, "handler"), "handler name");
    }
  } else if (known) {
    if (!item.handler.empty()) {
      check.add(at(path, "handler"), "handler applies only to automated tasks, not to " + kind_name);
    }
    if (!item.input.is_null()) {
      check.add(at(path, "input"), "input applies only to automated tasks, not to " + kind_name);
    }
    if (!item.output.empty()) {
      check.add(at(path, "output"), "output applies only to automated tasks, not to " + kind_name);
    }
  }
  if (too_deep(item.input)) check.add(at(path, "input"), kValueDepthMessage);
  if (!item.output.empty() && !is_valid_file_path(item.output)) {
    check.add(at(path, "output"), "invalid case-file path " + quote(item.output));
  }
  if (kind == ItemKind::timer_listener) {
    if (!item.timer && !item.timer_date) {
      check.add(at(path, "timer"), "a timer listener needs a timer (a duration) or a timer_date");
    } else if (item.timer && item.timer_date) {
      check.add(at(path, "timer_date"), "a timer listener takes a timer or a timer_date, not both");
    }
  } else if (known) {
    if (item.timer) check.add(at(path, "timer"), "timer applies only to timer listeners, not to " + kind_name);
    if (item.timer_date) {
      check.add(at(path, "timer_date"), "timer_date applies only to timer listeners, not to " + kind_name);
    }
  }
  if (known && !item.blocking && kind != ItemKind::human_task) {
    check.add(at(path, "blocking"), "blocking applies only to human tasks, not to " + kind_name);
  }
  check.not_negative(item.timer, at(path, "timer"));
  if (known && kind != ItemKind::stage) {
    if (!item.children.empty()) {
      check.add(at(path, "children"), "children apply only to stages, not to " + kind_name);
    }
    if (item.auto_complete) {
      check.add(at(path, "auto_complete"), "auto_complete applies only to stages");
    }
  }
  check_sentries(item.entry, at(path, "entry"), &items, check);
  check_sentries(item.exit, at(path, "exit"), &items, check);

  check.expression(item.manual_activation, at(path, "manual_activation"));
  if (known && !item.manual_activation.empty() && !is_work(kind)) {
    check.add(at(path, "manual_activation"), "manual_activation applies only to tasks and stages, not to " + kind_name);
  }
  for (auto [text, key] : {std::pair{&item.required, "required"}, std::pair{&item.repetition, "repetition"}}) {
    check.expression(*text, at(path, key));
    // A repeating timer: each occurrence creates the next listener instance.
    const bool repeating_timer = kind == ItemKind::timer_listener && text == &item.repetition;
    if (known && !text->empty() && is_listener(kind) && !repeating_timer) {
      check.add(at(path, key), std::string(key) + " applies only to tasks, stages and milestones" +
                                   (text == &item.repetition ? " (and timer listeners)" : "") + ", not to " +
                                   kind_name);
    }
  }
  check_loops(item, path, check);
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < item.after.size(); ++i) {
    const std::string& ref = item.after[i];
    const std::string ref_path = at(at(path, "after"), i);
    if (ref.empty()) {
      check.add(ref_path, "item id must not be empty");
    } else if (ref == item.id) {
      check.add(ref_path, "an item cannot come after itself");
    } else if (!items.by_id.count(ref)) {
      check.add(ref_path, "unknown item " + quote(ref) + " (not in this fragment)");
    } else if (!seen.insert(ref).second) {
      check.add(ref_path, "item " + quote(ref) + " is listed twice");
    }
  }
}

// Reports cycles of `after` dependencies (iteratively: fragments may be large).
void check_after_cycles(const ItemIndex& items, Checker& check) {
  const std::size_t n = items.all.size();
  std::vector<std::vector<std::size_t>> preds(n), succs(n);
  std::vector<std::size_t> indegree(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const ItemDef& item = *items.all[i].item;
    std::unordered_set<std::size_t> unique;
    for (const std::string& ref : item.after) {
      auto it = items.by_id.find(ref);
      if (it == items.by_id.end() || it->second == i || !unique.insert(it->second).second) continue;
      preds[i].push_back(it->second);
      succs[it->second].push_back(i);
      ++indegree[i];
    }
  }
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < n; ++i) {
    if (indegree[i] == 0) ready.push_back(i);
  }
  std::vector<char> removed(n, 0);
  while (!ready.empty()) {
    const std::size_t i = ready.back();
    ready.pop_back();
    removed[i] = 1;
    for (std::size_t s : succs[i]) {
      if (--indegree[s] == 0) ready.push_back(s);
    }
  }
  // Every remaining node has a remaining predecessor: walking predecessors finds a cycle.
  std::vector<char> visited(n, 0);
  for (std::size_t start = 0; start < n; ++start) {
    if (removed[start] || visited[start]) continue;
    std::vector<std::size_t> walk;
    std::unordered_map<std::size_t, std::size_t> position;
    std::size_t current = start;
    while (!visited[current]) {
      visited[current] = 1;
      position[current] = walk.size();
      walk.push_back(current);
      std::size_t next = current;
      for (std::size_t p : preds[current]) {
        if (!removed[p]) {
          next = p;
          break;
        }
      }
      if (next == current) break;  // unreachable: a remaining node has a remaining predecessor
      current = next;
    }
    auto found = position.find(current);
    if (found == position.end()) continue;  // joined a cycle reported before
    // walk[found..] follows "waits for" edges; print in dependency order.
    std::vector<std::string> names;
    for (std::size_t k = walk.size(); k-- > found->second;) names.push_back(items.all[walk[k]].item->id);
    names.push_back(names.front());
    if (names.size() > 12) {  // keep messages short for long chains
      const std::size_t length = names.size() - 1;
      names.erase(names.begin() + 6, names.end() - 3);
      names.insert(names.begin() + 6, "... (" + std::to_string(length) + " items) ...");
    }
    const std::size_t first = walk.back();
    check.add(at(items.all[first].path, "after"), "dependency cycle: " + join(names, " -> "));
  }
}

// The approximate size of a definition as JSON (texts and values; punctuation counted roughly),
// stopping early once it passes max_definition_bytes.
class DefinitionSize {
 public:
  std::size_t bytes = 0;
  bool over() const { return bytes > max_definition_bytes; }
  void text(const std::string& s) { bytes += s.size() + 8; }
  void texts(const std::vector<std::string>& v) {
    for (const auto& s : v) text(s);
  }
  void value(const Json& v) { bytes += serialized_size(v, max_definition_bytes + 1, kMaxValueDepth).size; }
  void sentries(const std::vector<Sentry>& list) {
    for (const Sentry& x : list) {
      text(x.id);
      text(x.condition);
      for (const OnPart& o : x.on_parts) {
        text(o.ref);
        text(o.on);
      }
    }
  }
  void items(const std::vector<ItemDef>& list, int level) {
    for (const ItemDef& i : list) {
      if (over()) return;
      for (const std::string* t : {&i.id, &i.name, &i.description, &i.role, &i.handler, &i.output,
                                   &i.manual_activation, &i.required, &i.repetition})
        text(*t);
      texts(i.skills);
      texts(i.after);
      text(i.assignee);
      texts(i.candidate_users);
      value(i.input);
      sentries(i.entry);
      sentries(i.exit);
      if (level <= max_stage_depth) items(i.children, level + 1);  // deeper: a problem anyway
    }
  }
};

void check_definition_size(const DefinitionSize& size, std::string_view what, const std::string& base,
                           Checker& check) {
  if (size.over())
    check.add(base, std::string(what) + " is larger than " + std::to_string(max_definition_bytes) +
                        " bytes as JSON, the most a definition may take (keep long texts in documents)");
}

void validate_fragment(const FragmentDef& f, const std::string& base, Checker& check) {
  {
    DefinitionSize size;
    for (const std::string* t : {&f.id, &f.name, &f.description, &f.applicability}) size.text(*t);
    size.texts(f.roles);
    size.texts(f.authorized_roles);
    size.text(f.planning_table.fragment);
    size.text(f.planning_table.stage);
    for (const Parameter& p : f.parameters) {
      size.text(p.name);
      size.text(p.type);
      size.text(p.description);
      size.value(p.default_value);
    }
    size.sentries(f.exit);
    size.items(f.items, 1);
    check_definition_size(size, "the fragment", base, check);
  }
  check.id(f.id, at(base, "id"), "fragment id");
  if (f.version < 1) {
    check.add(at(base, "version"), "version must be at least 1, got " + std::to_string(f.version));
  }
  if (f.semantics != Semantics::acm && f.semantics != Semantics::cmmn) {
    check.add(at(base, "semantics"), "invalid semantics value " + std::to_string(static_cast<int>(f.semantics)));
  }
  std::unordered_map<std::string_view, std::size_t> parameter_names;
  for (std::size_t i = 0; i < f.parameters.size(); ++i) {
    const Parameter& p = f.parameters[i];
    const std::string path = at(at(base, "parameters"), i);
    if (p.name.empty()) {
      check.add(at(path, "name"), "parameter name must not be empty");
    } else if (!is_identifier(p.name)) {
      check.add(at(path, "name"), "invalid parameter name " + quote(p.name) +
                                      ": use ASCII letters, digits and '_', not starting with a digit");
    } else if (auto [it, fresh] = parameter_names.emplace(p.name, i); !fresh) {
      check.add(at(path, "name"),
                "duplicate parameter " + quote(p.name) + " (also at " + at(at(base, "parameters"), it->second) + ")");
    }
    const bool known_type = contains(kParameterTypes, p.type);
    if (!known_type) check.add(at(path, "type"), one_of("parameter type", p.type, kParameterTypes));
    if (too_deep(p.default_value)) {
      check.add(at(path, "default"), kValueDepthMessage);
    } else if (!p.default_value.is_null()) {
      if (p.required) {
        check.add(at(path, "default"), "a required parameter cannot have a default");
      } else if (known_type) {
        if (std::string why = type_mismatch(p.type, p.default_value); !why.empty()) {
          check.add(at(path, "default"), "default " + why);
        }
      }
    }
  }
  std::set<std::string, std::less<>> declared;
  for (const Parameter& p : f.parameters) declared.insert(p.name);
  check.set_parameters(&declared);
  check.expression(f.applicability, at(base, "applicability"));
  check.id_list(f.roles, at(base, "roles"), "role");
  check.id_list(f.authorized_roles, at(base, "authorized_roles"), "role");
  if (!f.planning_table.fragment.empty() || !f.planning_table.stage.empty()) {
    const std::string pt = at(base, "planning_table");
    check.id(f.planning_table.fragment, at(pt, "fragment"), "fragment id");
    if (!f.planning_table.stage.empty()) check.id(f.planning_table.stage, at(pt, "stage"), "stage item id");
    if (f.planning_table.fragment == f.id && f.planning_table.stage.empty())
      check.add(at(pt, "fragment"), "a fragment cannot be planned inside its own stage");
  }

  ItemIndex items;
  index_items(f.items, at(base, "items"), 0, items, check);
  for (const ItemEntry& entry : items.all) check_item(entry, f, items, check);
  check_repeating_timers(f.items, at(base, "items"), 0, false, check);
  check_after_cycles(items, check);
  check_sentries(f.exit, at(base, "exit"), &items, check);
  check.set_parameters(nullptr);
}

// ---------------------------------------------------------------------------------------------
// Case types

void validate_case_type(const CaseTypeDef& t, const std::string& base, Checker& check) {
  {
    DefinitionSize size;
    for (const std::string* x : {&t.id, &t.name, &t.description}) size.text(*x);
    size.texts(t.discretionary);
    for (const GoalSpec& g : t.goals) {
      for (const std::string* x : {&g.id, &g.name, &g.owner, &g.parent, &g.anchor, &g.criterion}) size.text(*x);
      size.texts(g.milestones);
    }
    for (const FragmentUse& u : t.initial_fragments) {
      size.text(u.fragment);
      size.text(u.goal);
      size.value(u.params);
    }
    for (const RoleDef& r : t.roles) {
      size.text(r.name);
      size.text(r.description);
      size.texts(r.permissions);
    }
    check_definition_size(size, "the case type", base, check);
  }
  check.id(t.id, at(base, "id"), "case type id");
  if (t.version < 1) {
    check.add(at(base, "version"), "version must be at least 1, got " + std::to_string(t.version));
  }
  if (t.semantics != Semantics::acm && t.semantics != Semantics::cmmn) {
    check.add(at(base, "semantics"), "invalid semantics value " + std::to_string(static_cast<int>(t.semantics)));
  }
  const std::string goals_path = at(base, "goals");
  std::unordered_map<std::string_view, std::size_t> goal_index;
  for (std::size_t i = 0; i < t.goals.size(); ++i) {
    const GoalSpec& g = t.goals[i];
    check.id(g.id, at(at(goals_path, i), "id"), "goal id");
    if (g.id.empty()) continue;
    auto [it, fresh] = goal_index.emplace(g.id, i);
    if (!fresh) {
      check.add(at(at(goals_path, i), "id"),
                "duplicate goal id " + quote(g.id) + " (also at " + at(goals_path, it->second) + ")");
    }
  }
  std::vector<char> has_children(t.goals.size(), 0);
  std::vector<std::ptrdiff_t> parent(t.goals.size(), -1);
  for (std::size_t i = 0; i < t.goals.size(); ++i) {
    const GoalSpec& g = t.goals[i];
    const std::string path = at(goals_path, i);
    if (!g.parent.empty()) {
      auto it = goal_index.find(g.parent);
      if (g.parent == g.id) {
        check.add(at(path, "parent"), "a goal cannot be its own parent");
      } else if (it == goal_index.end()) {
        check.add(at(path, "parent"), "unknown goal " + quote(g.parent));
      } else {
        parent[i] = static_cast<std::ptrdiff_t>(it->second);
        has_children[it->second] = 1;
      }
    }
    if (g.deadline && g.within) {
      check.add(at(path, "within"), "give either deadline or within, not both");
    }
    check.not_negative(g.within, at(path, "within"));
    if (!contains(kAnchors, g.anchor)) {
      check.add(at(path, "anchor"), one_of("anchor", g.anchor, kAnchors));
    } else if (g.anchor != "goal_added" && !g.within) {
      check.add(at(path, "anchor"), "anchor applies only to a deadline given with within");
    }
    check.expression(g.criterion, at(path, "criterion"));
    check.id_list(g.milestones, at(path, "milestones"), "milestone");
  }
  for (std::size_t i = 0; i < t.goals.size(); ++i) {
    const GoalSpec& g = t.goals[i];
    if (g.criterion.empty() && g.milestones.empty() && !g.decision && !has_children[i]) {
      check.add(
          at(goals_path, i),
          "goal " + quote(g.id) + " has no way to be achieved: give a criterion, milestones, decision or sub-goals");
    }
  }
  // Parent cycles (a -> b -> a), iteratively.
  std::vector<char> state(t.goals.size(), 0);  // 0 new, 1 on the current walk, 2 done
  for (std::size_t start = 0; start < t.goals.size(); ++start) {
    std::vector<std::size_t> walk;
    std::ptrdiff_t current = static_cast<std::ptrdiff_t>(start);
    while (current >= 0 && state[static_cast<std::size_t>(current)] == 0) {
      state[static_cast<std::size_t>(current)] = 1;
      walk.push_back(static_cast<std::size_t>(current));
      current = parent[static_cast<std::size_t>(current)];
    }
    if (current >= 0 && state[static_cast<std::size_t>(current)] == 1) {
      auto from = std::find(walk.begin(), walk.end(), static_cast<std::size_t>(current));
      std::vector<std::string> names;
      for (auto it = from; it != walk.end(); ++it) names.push_back(t.goals[*it].id);
      names.push_back(names.front());
      check.add(at(at(goals_path, static_cast<std::size_t>(current)), "parent"),
                "goal parents form a cycle: " + join(names, " -> "));
    }
    for (std::size_t k : walk) state[k] = 2;
  }

  for (std::size_t i = 0; i < t.initial_fragments.size(); ++i) {
    const FragmentUse& use = t.initial_fragments[i];
    const std::string path = at(at(base, "initial_fragments"), i);
    check.id(use.fragment, path, "fragment id");
    if (use.version < 0) {
      check.add(at(path, "version"), "version must be 0 (latest) or more, got " + std::to_string(use.version));
    }
    if (!use.goal.empty() && !goal_index.count(use.goal)) {
      check.add(at(path, "goal"), "unknown goal " + quote(use.goal) + " (not a goal of this case type)");
    }
    if (!use.params.is_object()) {
      check.add(at(path, "params"), std::string("must be an object, got ") + use.params.type_name());
    } else if (too_deep(use.params)) {
      check.add(at(path, "params"), kValueDepthMessage);
    }
  }
  check.id_list(t.discretionary, at(base, "discretionary"), "fragment id");

  std::unordered_map<std::string_view, std::size_t> role_index;
  for (std::size_t i = 0; i < t.roles.size(); ++i) {
    const RoleDef& r = t.roles[i];
    const std::string path = at(at(base, "roles"), i);
    check.id(r.name, at(path, "name"), "role name");
    if (!r.name.empty()) {
      auto [it, fresh] = role_index.emplace(r.name, i);
      if (!fresh) {
        check.add(at(path, "name"),
                  "duplicate role " + quote(r.name) + " (also at " + at(at(base, "roles"), it->second) + ")");
      }
    }
    std::unordered_set<std::string_view> seen;
    for (std::size_t k = 0; k < r.permissions.size(); ++k) {
      const std::string& p = r.permissions[k];
      if (!contains(kPermissions, p)) {
        check.add(at(at(path, "permissions"), k), one_of("permission", p, kPermissions));
      } else if (!seen.insert(p).second) {
        check.add(at(at(path, "permissions"), k), "permission " + quote(p) + " is listed twice");
      }
    }
  }
}

void validate_case_type_uses(const CaseTypeDef& t, const std::string& base, const FragmentLookup& find,
                             bool unknown_is_problem, Checker& check) {
  // Resolve every referenced fragment once.
  struct Used {
    const FragmentDef* def;
    std::string path;  // where the case type names it
  };
  std::vector<Used> used;
  bool all_known = true;
  auto resolve = [&](const std::string& id, int version, const std::string& path) -> const FragmentDef* {
    if (id.empty() || !find) {
      all_known = false;
      return nullptr;
    }
    const FragmentDef* f = find(id, version);
    if (!f) {
      all_known = false;
      if (unknown_is_problem) {
        check.add(path, "unknown fragment " + quote(id) +
                            (version > 0 ? " version " + std::to_string(version) : std::string()));
      }
      return nullptr;
    }
    used.push_back(Used{f, path});
    return f;
  };

  for (std::size_t i = 0; i < t.initial_fragments.size(); ++i) {
    const FragmentUse& use = t.initial_fragments[i];
    const std::string path = at(at(base, "initial_fragments"), i);
    const FragmentDef* f = resolve(use.fragment, use.version, path);
    if (!f || !use.params.is_object()) continue;
    for (const Parameter& p : f->parameters) {
      if (p.required && !use.params.contains(p.name)) {
        check.add(at(path, "params"), "missing required parameter " + quote(p.name) + " of fragment " + quote(f->id));
      }
    }
    for (const auto& [name, value] : use.params.items()) {
      auto p = std::find_if(f->parameters.begin(), f->parameters.end(),
                            [&key = name](const Parameter& x) { return x.name == key; });
      if (p == f->parameters.end()) {
        std::vector<std::string_view> names;
        for (const Parameter& x : f->parameters) names.push_back(x.name);
        check.add(at(at(path, "params"), name),
                  "unknown parameter " + quote(name) + " of fragment " + quote(f->id) + suggestion(name, names));
      } else if (contains(kParameterTypes, p->type)) {
        if (std::string why = type_mismatch(p->type, value); !why.empty()) {
          check.add(at(at(path, "params"), name), "argument " + why);
        }
      }
    }
  }
  for (std::size_t i = 0; i < t.discretionary.size(); ++i) {
    resolve(t.discretionary[i], 0, at(at(base, "discretionary"), i));
  }

  if (!t.roles.empty()) {
    std::set<std::string, std::less<>> roles;
    for (const RoleDef& r : t.roles) roles.insert(r.name);
    std::set<std::pair<const FragmentDef*, std::string>> reported;
    for (const Used& u : used) {
      std::set<std::string> needed(u.def->roles.begin(), u.def->roles.end());
      needed.insert(u.def->authorized_roles.begin(), u.def->authorized_roles.end());
      for_each_item(u.def->items, 0, [&](const ItemDef& item) {
        if (!item.role.empty()) needed.insert(item.role);
      });
      for (const std::string& role : needed) {
        if (!roles.count(role) && reported.emplace(u.def, role).second) {
          check.add(u.path, "fragment " + quote(u.def->id) + " needs role " + quote(role) +
                                ", which the case type does not define");
        }
      }
    }
  }

  // Planning tables: a fragment planned inside a stage is offered, not started with the case,
  // and its stage belongs to one of the case type's fragments.
  for (std::size_t i = 0; i < t.initial_fragments.size(); ++i) {
    const FragmentDef* f = nullptr;
    for (const Used& u : used)
      if (u.path == at(at(base, "initial_fragments"), i)) f = u.def;
    if (f && !f->planning_table.fragment.empty())
      check.add(at(at(base, "initial_fragments"), i),
                "fragment " + quote(f->id) + " has a planning table (it is planned inside a stage) and cannot be an "
                "initial fragment; list it in discretionary");
  }
  for (const Used& u : used) {
    const StageRef& pt = u.def->planning_table;
    if (pt.fragment.empty()) continue;
    const FragmentDef* host = nullptr;
    for (const Used& h : used)
      if (h.def->id == pt.fragment) host = h.def;
    if (!host) {
      check.add(u.path, "fragment " + quote(u.def->id) + " is planned in fragment " + quote(pt.fragment) +
                            ", which is not among the case type's initial or discretionary fragments");
      continue;
    }
    if (pt.stage.empty()) continue;
    bool found = false;
    for_each_item(host->items, 0, [&](const ItemDef& item) {
      found = found || (item.id == pt.stage && item.kind == ItemKind::stage);
    });
    if (!found)
      check.add(u.path, "fragment " + quote(u.def->id) + " is planned in stage " + quote(pt.stage) + " of fragment " +
                            quote(pt.fragment) + ", which has no stage item of that id");
  }

  if (!t.discretionary.empty() && all_known) {
    std::unordered_map<std::string, ItemKind> kinds;
    for (const Used& u : used) {
      for_each_item(u.def->items, 0, [&](const ItemDef& item) {
        auto [it, fresh] = kinds.emplace(item.id, item.kind);
        if (!fresh && item.kind == ItemKind::milestone) it->second = item.kind;
      });
    }
    for (std::size_t i = 0; i < t.goals.size(); ++i) {
      const GoalSpec& g = t.goals[i];
      for (std::size_t k = 0; k < g.milestones.size(); ++k) {
        const std::string path = at(at(at(at(base, "goals"), i), "milestones"), k);
        auto it = kinds.find(g.milestones[k]);
        if (it == kinds.end()) {
          check.add(path, "no milestone " + quote(g.milestones[k]) +
                              " in the case type's initial or discretionary fragments");
        } else if (it->second != ItemKind::milestone) {
          check.add(path, quote(g.milestones[k]) + " is a " + std::string(to_string(it->second)) + ", not a milestone");
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Structural pass: JSON -> value types

class Reader {
 public:
  std::vector<Problem> problems;
  std::unordered_set<std::string> poisoned;        // this path and everything below it
  std::unordered_set<std::string> poisoned_exact;  // this path only
  // Fragments with an item whose id could not be read: "unknown item" references in them may
  // well mean that item, so they are not reported.
  std::unordered_set<std::string> lost_item_ids;
  std::string fragment_path;  // the fragment being read

  void fail(const std::string& path, std::string message) {
    problems.push_back(Problem{path, std::move(message)});
    poisoned.insert(path);
  }

  // A free-form JSON value (an item's input, a parameter's default, a fragment use's
  // arguments), or nullptr when absent or nested too deeply to copy: copying recurses as deep
  // as the value nests. (Stages nest through the reader, bounded by max_stage_depth.)
  const Json* free_value(const Json* v, const std::string& path, const char* key) {
    if (v && serialized_size(*v, SIZE_MAX, kMaxValueDepth).too_deep) {
      fail(at(path, key), kValueDepthMessage);
      return nullptr;
    }
    return v;
  }

  // True if a semantic problem only repeats a structural one: at or below a poisoned path, or
  // an unresolved item reference in a fragment where an item id could not be read.
  bool suppressed(const std::string& path, const std::string& message) const {
    if (poisoned_exact.count(path)) return true;
    if (!lost_item_ids.empty() && message.rfind("unknown item ", 0) == 0) {
      for (const std::string& f : lost_item_ids) {
        if (path.compare(0, f.size(), f) == 0 && path.size() > f.size() && path[f.size()] == '/') return true;
      }
    }
    if (poisoned.empty()) return false;
    if (poisoned.count(path)) return true;
    for (std::size_t i = path.size(); i-- > 0;) {
      if (path[i] == '/' && poisoned.count(path.substr(0, i))) return true;
    }
    return poisoned.count(std::string()) > 0;
  }

  // Checks that `j` is an object with only `allowed` keys.
  template <std::size_t N>
  bool object(const Json& j, const std::string& path, const std::array<std::string_view, N>& allowed,
              std::string_view what) {
    if (!j.is_object()) {
      fail(path, std::string(what) + " must be an object, got " + j.type_name());
      return false;
    }
    for (const auto& [key, value] : j.items()) {
      if (!contains(allowed, key)) {
        problems.push_back(Problem{
            at(path, key), "unknown key " + quote(key) + " in " + std::string(what) + suggestion(key, allowed)});
      }
    }
    return true;
  }

  static const Json* field(const Json& obj, const std::string& key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  // Returns the value of `key` if present and of the right type; reports otherwise.
  const Json* typed(const Json& obj, const std::string& path, const std::string& key, bool (Json::*is)() const noexcept,
                    std::string_view type, bool required) {
    const Json* v = field(obj, key);
    if (!v) {
      if (required) fail(at(path, key), "missing required key " + quote(key));
      return nullptr;
    }
    if (!(v->*is)()) {
      fail(at(path, key), "must be " + std::string(type) + ", got " + v->type_name());
      return nullptr;
    }
    return v;
  }

  bool string(const Json& obj, const std::string& path, const std::string& key, std::string& out,
              bool required = false) {
    const Json* v = typed(obj, path, key, &Json::is_string, "a string", required);
    if (v) out = v->get<std::string>();
    return v != nullptr;
  }

  void boolean(const Json& obj, const std::string& path, const std::string& key, bool& out) {
    if (const Json* v = typed(obj, path, key, &Json::is_boolean, "a boolean", false)) {
      out = v->get<bool>();
    }
  }

  void integer(const Json& obj, const std::string& path, const std::string& key, int& out) {
    const Json* v = field(obj, key);
    if (!v) return;
    if (!v->is_number_integer()) {
      fail(at(path, key),
           std::string("must be an integer, got ") + (v->is_number_float() ? "a fractional number" : v->type_name()));
      return;
    }
    const bool fits = v->is_number_unsigned()
                          ? v->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT_MAX)
                          : (v->get<std::int64_t>() >= INT_MIN && v->get<std::int64_t>() <= INT_MAX);
    if (!fits) {
      fail(at(path, key), "integer out of range");
      return;
    }
    out = static_cast<int>(v->get<std::int64_t>());
  }

  void duration(const Json& obj, const std::string& path, const std::string& key, std::optional<Duration>& out) {
    const Json* v = typed(obj, path, key, &Json::is_string, "a duration string such as \"4h\" or \"PT4H\"", false);
    if (!v) return;
    try {
      out = parse_duration(v->get_ref<const std::string&>());
    } catch (const std::exception& e) {
      fail(at(path, key), e.what());  // names the text: invalid duration "...": why
    }
  }

  void time(const Json& obj, const std::string& path, const std::string& key, std::optional<TimePoint>& out) {
    const Json* v = typed(obj, path, key, &Json::is_string, "an ISO-8601 time string", false);
    if (!v) return;
    try {
      out = parse_time(v->get_ref<const std::string&>());
    } catch (const std::exception& e) {
      fail(at(path, key), e.what());  // names the text: invalid time "...": why
    }
  }

  void strings(const Json& obj, const std::string& path, const std::string& key, std::vector<std::string>& out) {
    const Json* v = typed(obj, path, key, &Json::is_array, "an array of strings", false);
    if (!v) return;
    const std::string list_path = at(path, key);
    for (std::size_t i = 0; i < v->size(); ++i) {
      const Json& e = (*v)[i];
      if (!e.is_string()) {
        fail(at(list_path, i), std::string("must be a string, got ") + e.type_name());
        continue;
      }
      out.push_back(e.get<std::string>());
    }
  }

  // true -> "true", false -> "", a string -> the expression.
  void condition(const Json& obj, const std::string& path, const std::string& key, std::string& out) {
    const Json* v = field(obj, key);
    if (!v) return;
    if (v->is_boolean()) {
      out = v->get<bool>() ? "true" : "";
    } else if (v->is_string()) {
      out = v->get<std::string>();
    } else {
      fail(at(path, key), std::string("must be a boolean or an expression string, got ") + v->type_name());
    }
  }

  // An array member: calls f(element, element_path) for each element.
  template <typename F>
  void array(const Json& obj, const std::string& path, const std::string& key, const F& f) {
    const Json* v = typed(obj, path, key, &Json::is_array, "an array", false);
    if (!v) return;
    const std::string list_path = at(path, key);
    for (std::size_t i = 0; i < v->size(); ++i) f((*v)[i], at(list_path, i));
  }

  // ---- definitions

  Parameter parameter(const Json& j, const std::string& path) {
    static constexpr std::array<std::string_view, 5> keys = {"name", "type", "required", "default", "description"};
    Parameter p;
    if (!object(j, path, keys, "parameter")) return p;
    string(j, path, "name", p.name, true);
    string(j, path, "type", p.type);
    if (const Json* t = field(j, "type"); t && t->is_string() && !contains(kParameterTypes, p.type)) {
      fail(at(path, "type"), one_of("parameter type", p.type, kParameterTypes));
    }
    boolean(j, path, "required", p.required);
    if (const Json* d = free_value(field(j, "default"), path, "default")) p.default_value = *d;
    string(j, path, "description", p.description);
    return p;
  }

  OnPart on_part(const Json& j, const std::string& path) {
    static constexpr std::array<std::string_view, 5> keys = {"item", "goal", "file", "event", "on"};
    static constexpr std::array<std::string_view, 4> sources = {"item", "goal", "file", "event"};
    OnPart on;
    if (!object(j, path, keys, "on-part")) return on;
    std::vector<std::string_view> present;
    for (std::string_view s : sources) {
      if (j.contains(std::string(s))) present.push_back(s);
    }
    if (present.empty()) {
      fail(path, "an on-part needs one of the keys item, goal, file, event");
    } else if (present.size() > 1) {
      fail(path, "an on-part takes exactly one of item, goal, file, event; got " + join(present));
    } else {
      const std::string key(present.front());
      on.source = key == "item"   ? OnPartSource::item
                  : key == "goal" ? OnPartSource::goal
                  : key == "file" ? OnPartSource::case_file
                                  : OnPartSource::event;
      string(j, path, key, on.ref, true);
    }
    string(j, path, "on", on.on);
    return on;
  }

  Sentry sentry(const Json& j, const std::string& path) {
    static constexpr std::array<std::string_view, 3> keys = {"id", "on", "if"};
    Sentry s;
    if (!object(j, path, keys, "sentry")) return s;
    string(j, path, "id", s.id);
    array(j, path, "on", [&](const Json& e, const std::string& p) { s.on_parts.push_back(on_part(e, p)); });
    string(j, path, "if", s.condition);
    return s;
  }

  void sentries(const Json& obj, const std::string& path, const std::string& key, std::vector<Sentry>& out) {
    array(obj, path, key, [&](const Json& e, const std::string& p) { out.push_back(sentry(e, p)); });
  }

  // `level`: number of enclosing stages (0 for a fragment's items).
  ItemDef item(const Json& j, const std::string& path, int level) {
    static constexpr std::array<std::string_view, 24> keys = {"id",
                                                              "name",
                                                              "kind",
                                                              "description",
                                                              "role",
                                                              "skills",
                                                              "assignee",
                                                              "candidate_users",
                                                              "estimate",
                                                              "due",
                                                              "handler",
                                                              "input",
                                                              "output",
                                                              "blocking",
                                                              "timer",
                                                              "timer_date",
                                                              "children",
                                                              "auto_complete",
                                                              "entry",
                                                              "exit",
                                                              "manual_activation",
                                                              "required",
                                                              "repetition",
                                                              "after"};
    ItemDef item;
    if (!object(j, path, keys, "item")) {
      lost_item_ids.insert(fragment_path);
      return item;
    }
    if (!string(j, path, "id", item.id, true)) lost_item_ids.insert(fragment_path);
    string(j, path, "name", item.name);
    std::string kind;
    if (string(j, path, "kind", kind, true)) {
      if (auto k = item_kind_from_string(kind)) {
        item.kind = *k;
      } else {
        fail(at(path, "kind"), one_of("item kind", kind, kItemKinds));
      }
    }
    if (!field(j, "kind") || !item_kind_from_string(kind)) item.kind = kUnknownKind;
    string(j, path, "description", item.description);
    string(j, path, "role", item.role);
    strings(j, path, "skills", item.skills);
    string(j, path, "assignee", item.assignee);
    strings(j, path, "candidate_users", item.candidate_users);
    duration(j, path, "estimate", item.estimate);
    duration(j, path, "due", item.due);
    string(j, path, "handler", item.handler);
    if (const Json* input = free_value(field(j, "input"), path, "input")) item.input = *input;
    string(j, path, "output", item.output);
    boolean(j, path, "blocking", item.blocking);
    duration(j, path, "timer", item.timer);
    time(j, path, "timer_date", item.timer_date);
    if (field(j, "children")) {
      if (level + 1 > max_stage_depth) {
        fail(at(path, "children"), kDepthMessage);
      } else {
        array(j, path, "children",
              [&](const Json& e, const std::string& p) { item.children.push_back(this->item(e, p, level + 1)); });
      }
    }
    boolean(j, path, "auto_complete", item.auto_complete);
    sentries(j, path, "entry", item.entry);
    sentries(j, path, "exit", item.exit);
    condition(j, path, "manual_activation", item.manual_activation);
    condition(j, path, "required", item.required);
    condition(j, path, "repetition", item.repetition);
    strings(j, path, "after", item.after);
    return item;
  }

  void semantics(const Json& j, const std::string& path, Semantics& out) {
    std::string text;
    if (!string(j, path, "semantics", text) || !field(j, "semantics")) return;
    if (text == "acm") {
      out = Semantics::acm;
    } else if (text == "cmmn") {
      out = Semantics::cmmn;
    } else {
      fail(at(path, "semantics"), one_of("semantics", text, kSemantics));
    }
  }

  void kind(const Json& j, const std::string& path, std::string_view expected) {
    std::string kind;
    if (!string(j, path, "kind", kind) || kind == expected) return;
    if (kind == "fragment" || kind == "case_type") {
      fail(at(path, "kind"), "a " + kind + " cannot be listed here; expected " + quote(expected));
    } else {
      fail(at(path, "kind"), "unknown kind " + quote(kind) + "; expected " + quote(expected));
    }
  }

  FragmentDef fragment(const Json& j, const std::string& path) {
    static constexpr std::array<std::string_view, 14> keys = {
        "kind",          "id",    "version", "name",          "description", "parameters",       "applicability",
        "roles",         "items", "auto_complete", "exit",    "semantics",   "authorized_roles", "planning_table"};
    FragmentDef f;
    if (!object(j, path, keys, "fragment")) return f;
    fragment_path = path;
    kind(j, path, "fragment");
    string(j, path, "id", f.id, true);
    integer(j, path, "version", f.version);
    string(j, path, "name", f.name);
    string(j, path, "description", f.description);
    array(j, path, "parameters", [&](const Json& e, const std::string& p) { f.parameters.push_back(parameter(e, p)); });
    string(j, path, "applicability", f.applicability);
    strings(j, path, "roles", f.roles);
    array(j, path, "items", [&](const Json& e, const std::string& p) { f.items.push_back(item(e, p, 0)); });
    boolean(j, path, "auto_complete", f.auto_complete);
    sentries(j, path, "exit", f.exit);
    semantics(j, path, f.semantics);
    strings(j, path, "authorized_roles", f.authorized_roles);
    if (const Json* pt = field(j, "planning_table")) {
      static constexpr std::array<std::string_view, 2> pt_keys = {"fragment", "stage"};
      const std::string p = at(path, "planning_table");
      if (object(*pt, p, pt_keys, "planning table")) {
        string(*pt, p, "fragment", f.planning_table.fragment, true);
        string(*pt, p, "stage", f.planning_table.stage);
      }
    }
    return f;
  }

  GoalSpec goal(const Json& j, const std::string& path) {
    static constexpr std::array<std::string_view, 11> keys = {"id",        "name",       "owner",   "parent",
                                                              "required",  "deadline",   "within",  "anchor",
                                                              "criterion", "milestones", "decision"};
    GoalSpec g;
    if (!object(j, path, keys, "goal")) return g;
    string(j, path, "id", g.id, true);
    string(j, path, "name", g.name);
    string(j, path, "owner", g.owner);
    string(j, path, "parent", g.parent);
    boolean(j, path, "required", g.required);
    time(j, path, "deadline", g.deadline);
    duration(j, path, "within", g.within);
    string(j, path, "anchor", g.anchor);
    string(j, path, "criterion", g.criterion);
    strings(j, path, "milestones", g.milestones);
    boolean(j, path, "decision", g.decision);
    return g;
  }

  FragmentUse fragment_use(const Json& j, const std::string& path) {
    static constexpr std::array<std::string_view, 4> keys = {"fragment", "version", "goal", "params"};
    FragmentUse use;
    if (j.is_string()) {
      use.fragment = j.get<std::string>();
      return use;
    }
    if (!j.is_object()) {
      fail(path, std::string("a fragment use must be a fragment id or an object, got ") + j.type_name());
      return use;
    }
    object(j, path, keys, "fragment use");
    if (string(j, path, "fragment", use.fragment, true)) {
      // The semantic pass reports fragment id problems at the use itself (string or object form).
    } else {
      poisoned_exact.insert(path);  // the semantic pass reports an empty fragment id here
    }
    integer(j, path, "version", use.version);
    string(j, path, "goal", use.goal);
    if (const Json* p = free_value(typed(j, path, "params", &Json::is_object, "an object", false), path, "params"))
      use.params = *p;
    return use;
  }

  RoleDef role(const Json& j, const std::string& path) {
    static constexpr std::array<std::string_view, 3> keys = {"name", "permissions", "description"};
    RoleDef r;
    if (!object(j, path, keys, "role")) return r;
    string(j, path, "name", r.name, true);
    strings(j, path, "permissions", r.permissions);
    string(j, path, "description", r.description);
    return r;
  }

  CaseTypeDef case_type(const Json& j, const std::string& path) {
    static constexpr std::array<std::string_view, 10> keys = {
        "kind",          "id",    "version",  "name", "description", "goals", "initial_fragments",
        "discretionary", "roles", "semantics"};
    CaseTypeDef t;
    if (!object(j, path, keys, "case type")) return t;
    kind(j, path, "case_type");
    string(j, path, "id", t.id, true);
    integer(j, path, "version", t.version);
    string(j, path, "name", t.name);
    string(j, path, "description", t.description);
    array(j, path, "goals", [&](const Json& e, const std::string& p) { t.goals.push_back(goal(e, p)); });
    array(j, path, "initial_fragments",
          [&](const Json& e, const std::string& p) { t.initial_fragments.push_back(fragment_use(e, p)); });
    strings(j, path, "discretionary", t.discretionary);
    array(j, path, "roles", [&](const Json& e, const std::string& p) { t.roles.push_back(role(e, p)); });
    semantics(j, path, t.semantics);
    return t;
  }

  DefinitionSet document(const Json& doc) {
    DefinitionSet set;
    if (!doc.is_object()) {
      fail("", std::string("a definitions document must be a JSON object, got ") + doc.type_name());
      return set;
    }
    if (doc.contains("fragments") || doc.contains("case_types")) {
      static constexpr std::array<std::string_view, 2> keys = {"fragments", "case_types"};
      object(doc, "", keys, "definitions document");
      array(doc, "", "fragments",
            [&](const Json& e, const std::string& p) { set.fragments.push_back(fragment(e, p)); });
      array(doc, "", "case_types",
            [&](const Json& e, const std::string& p) { set.case_types.push_back(case_type(e, p)); });
    } else if (is_case_type(doc)) {
      set.case_types.push_back(case_type(doc, ""));
    } else {
      set.fragments.push_back(fragment(doc, ""));
    }
    return set;
  }

  static bool is_case_type(const Json& doc) {
    auto kind = doc.find("kind");
    if (kind != doc.end() && kind->is_string()) return kind->get_ref<const std::string&>() == "case_type";
    return doc.contains("goals") || doc.contains("initial_fragments") || doc.contains("discretionary");
  }
};

// Compares JSON pointers segment by segment, array indexes as numbers.
bool path_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const std::size_t ai = std::min(a.find('/', i + 1), a.size());
    const std::size_t bj = std::min(b.find('/', j + 1), b.size());
    std::string_view sa(a.data() + i, ai - i), sb(b.data() + j, bj - j);
    if (sa != sb) {
      auto numeric = [](std::string_view s) {
        return s.size() > 1 && std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
      };
      if (numeric(sa) && numeric(sb) && sa.size() != sb.size()) return sa.size() < sb.size();
      return sa < sb;
    }
    i = ai;
    j = bj;
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public (private-header) API

bool is_valid_id(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return is_ascii_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

bool is_valid_file_path(std::string_view text) noexcept {
  if (text.empty()) return false;
  bool segment_empty = true;
  for (char c : text) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if (is_ascii_alnum(c) || c == '_' || c == '-') {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

std::optional<ItemKind> item_kind_from_string(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kItemKinds.size(); ++i) {
    if (kItemKinds[i] == text) return static_cast<ItemKind>(i);
  }
  return std::nullopt;
}

std::vector<Problem> validate(const FragmentDef& fragment, const std::string& base_path) {
  std::vector<Problem> problems;
  Checker check(problems);
  validate_fragment(fragment, base_path, check);
  return problems;
}

std::vector<Problem> validate(const CaseTypeDef& case_type, const std::string& base_path) {
  std::vector<Problem> problems;
  Checker check(problems);
  validate_case_type(case_type, base_path, check);
  return problems;
}

std::vector<Problem> validate_uses(const CaseTypeDef& case_type, const std::string& base_path,
                                   const FragmentLookup& find, bool unknown_is_problem) {
  std::vector<Problem> problems;
  Checker check(problems);
  validate_case_type_uses(case_type, base_path, find, unknown_is_problem, check);
  return problems;
}

std::vector<Problem> check_definitions(const Json& document, DefinitionSet& out) {
  Reader reader;
  out = reader.document(document);
  std::vector<Problem> semantic;
  if (!reader.poisoned.count(std::string())) {
    Checker check(semantic);
    const bool single = !document.contains("fragments") && !document.contains("case_types");
    auto base = [&](std::string_view list, std::size_t i) {
      return single ? std::string() : at(at(std::string(), list), i);
    };
    // Duplicate (id, version) pairs.
    std::map<std::pair<std::string, int>, std::size_t> seen;
    std::map<std::string, std::map<int, const FragmentDef*>> by_id;
    for (std::size_t i = 0; i < out.fragments.size(); ++i) {
      const FragmentDef& f = out.fragments[i];
      validate_fragment(f, base("fragments", i), check);
      auto [it, fresh] = seen.emplace(std::pair{f.id, f.version}, i);
      if (!fresh && !f.id.empty()) {
        check.add(at(base("fragments", i), "id"), "duplicate fragment " + quote(f.id) + " version " +
                                                      std::to_string(f.version) + " (also at " +
                                                      base("fragments", it->second) + ")");
      } else {
        by_id[f.id].emplace(f.version, &f);
      }
    }
    FragmentLookup find = [&](const std::string& id, int version) -> const FragmentDef* {
      auto it = by_id.find(id);
      if (it == by_id.end() || it->second.empty()) return nullptr;
      if (version <= 0) return it->second.rbegin()->second;
      auto v = it->second.find(version);
      return v == it->second.end() ? nullptr : v->second;
    };
    seen.clear();
    for (std::size_t i = 0; i < out.case_types.size(); ++i) {
      const CaseTypeDef& t = out.case_types[i];
      validate_case_type(t, base("case_types", i), check);
      validate_case_type_uses(t, base("case_types", i), find, false, check);
      auto [it, fresh] = seen.emplace(std::pair{t.id, t.version}, i);
      if (!fresh && !t.id.empty()) {
        check.add(at(base("case_types", i), "id"), "duplicate case type " + quote(t.id) + " version " +
                                                       std::to_string(t.version) + " (also at " +
                                                       base("case_types", it->second) + ")");
      }
    }
  }
  std::vector<Problem> problems = std::move(reader.problems);
  for (Problem& p : semantic) {
    if (!reader.suppressed(p.path, p.message)) problems.push_back(std::move(p));
  }
  std::stable_sort(problems.begin(), problems.end(),
                   [](const Problem& a, const Problem& b) { return path_less(a.path, b.path); });
  std::set<std::pair<std::string_view, std::string_view>> unique;
  std::vector<Problem> result;
  result.reserve(problems.size());
  for (Problem& p : problems) {
    if (unique.emplace(p.path, p.message).second) result.push_back(p);
  }
  return result;
}

std::string format_problems(const std::vector<Problem>& problems) {
  std::string text =
      std::to_string(problems.size()) + (problems.size() == 1 ? " problem" : " problems") + " in definitions:";
  for (const Problem& p : problems) {
    text += "\n  ";
    text += p.path.empty() ? "(document)" : p.path;
    text += ": ";
    text += p.message;
  }
  return text;
}

void throw_if_problems(const std::vector<Problem>& problems) {
  if (!problems.empty()) throw Error(ErrorCode::invalid_definition, format_problems(problems));
}

}  // namespace model

// ---------------------------------------------------------------------------------------------
// JSON format

DefinitionSet parse_definitions(const Json& document) {
  DefinitionSet set;
  model::throw_if_problems(model::check_definitions(document, set));
  return set;
}

namespace {

Json condition_json(const std::string& text) {
  if (text == "true") return true;
  return text;
}

Json to_json(const Sentry& s) {
  Json j = Json::object();
  if (!s.id.empty()) j["id"] = s.id;
  if (!s.on_parts.empty()) {
    Json on = Json::array();
    for (const OnPart& p : s.on_parts) {
      Json o = Json::object();
      o[std::string(model::source_key(p.source))] = p.ref;
      if (!p.on.empty()) o["on"] = p.on;
      on.push_back(std::move(o));
    }
    j["on"] = std::move(on);
  }
  if (!s.condition.empty()) j["if"] = s.condition;
  return j;
}

Json to_json(const std::vector<Sentry>& sentries) {
  Json j = Json::array();
  for (const Sentry& s : sentries) j.push_back(to_json(s));
  return j;
}

// Recursion follows stage nesting (bounded by validation for registered definitions).
Json to_json(const ItemDef& item) {
  Json j = Json::object();
  j["id"] = item.id;
  if (!item.name.empty()) j["name"] = item.name;
  j["kind"] = std::string(to_string(item.kind));
  if (!item.description.empty()) j["description"] = item.description;
  if (!item.role.empty()) j["role"] = item.role;
  if (!item.skills.empty()) j["skills"] = item.skills;
  if (!item.assignee.empty()) j["assignee"] = item.assignee;
  if (!item.candidate_users.empty()) j["candidate_users"] = item.candidate_users;
  if (item.estimate) j["estimate"] = format_duration(*item.estimate);
  if (item.due) j["due"] = format_duration(*item.due);
  if (!item.handler.empty()) j["handler"] = item.handler;
  if (!item.input.is_null()) j["input"] = item.input;
  if (!item.output.empty()) j["output"] = item.output;
  if (!item.blocking) j["blocking"] = false;
  if (item.timer) j["timer"] = format_duration(*item.timer);
  if (item.timer_date) j["timer_date"] = format_time(*item.timer_date);
  if (!item.children.empty()) {
    Json children = Json::array();
    for (const ItemDef& c : item.children) children.push_back(to_json(c));
    j["children"] = std::move(children);
  }
  if (item.auto_complete) j["auto_complete"] = true;
  if (!item.entry.empty()) j["entry"] = to_json(item.entry);
  if (!item.exit.empty()) j["exit"] = to_json(item.exit);
  if (!item.manual_activation.empty()) j["manual_activation"] = condition_json(item.manual_activation);
  if (!item.required.empty()) j["required"] = condition_json(item.required);
  if (!item.repetition.empty()) j["repetition"] = condition_json(item.repetition);
  if (!item.after.empty()) j["after"] = item.after;
  return j;
}

}  // namespace

Json to_json(const FragmentDef& f) {
  Json j = Json::object();
  j["id"] = f.id;
  j["version"] = f.version;
  if (!f.name.empty()) j["name"] = f.name;
  if (!f.description.empty()) j["description"] = f.description;
  if (!f.parameters.empty()) {
    Json params = Json::array();
    for (const Parameter& p : f.parameters) {
      Json o = Json::object();
      o["name"] = p.name;
      if (p.type != "any") o["type"] = p.type;
      if (p.required) o["required"] = true;
      if (!p.default_value.is_null()) o["default"] = p.default_value;
      if (!p.description.empty()) o["description"] = p.description;
      params.push_back(std::move(o));
    }
    j["parameters"] = std::move(params);
  }
  if (!f.applicability.empty()) j["applicability"] = f.applicability;
  if (!f.roles.empty()) j["roles"] = f.roles;
  Json items = Json::array();
  for (const ItemDef& item : f.items) items.push_back(to_json(item));
  j["items"] = std::move(items);
  if (f.auto_complete) j["auto_complete"] = true;
  if (!f.exit.empty()) j["exit"] = to_json(f.exit);
  if (f.semantics != Semantics::acm) j["semantics"] = std::string(to_string(f.semantics));
  if (!f.authorized_roles.empty()) j["authorized_roles"] = f.authorized_roles;
  if (!f.planning_table.fragment.empty()) {
    Json pt{{"fragment", f.planning_table.fragment}};
    if (!f.planning_table.stage.empty()) pt["stage"] = f.planning_table.stage;
    j["planning_table"] = std::move(pt);
  }
  return j;
}

Json to_json(const CaseTypeDef& t) {
  Json j = Json::object();
  j["kind"] = "case_type";
  j["id"] = t.id;
  j["version"] = t.version;
  if (!t.name.empty()) j["name"] = t.name;
  if (!t.description.empty()) j["description"] = t.description;
  if (!t.goals.empty()) {
    Json goals = Json::array();
    for (const GoalSpec& g : t.goals) {
      Json o = Json::object();
      o["id"] = g.id;
      if (!g.name.empty()) o["name"] = g.name;
      if (!g.owner.empty()) o["owner"] = g.owner;
      if (!g.parent.empty()) o["parent"] = g.parent;
      if (!g.required) o["required"] = false;
      if (g.deadline) o["deadline"] = format_time(*g.deadline);
      if (g.within) o["within"] = format_duration(*g.within);
      if (g.anchor != "goal_added") o["anchor"] = g.anchor;
      if (!g.criterion.empty()) o["criterion"] = g.criterion;
      if (!g.milestones.empty()) o["milestones"] = g.milestones;
      if (g.decision) o["decision"] = true;
      goals.push_back(std::move(o));
    }
    j["goals"] = std::move(goals);
  }
  if (!t.initial_fragments.empty()) {
    Json uses = Json::array();
    for (const FragmentUse& u : t.initial_fragments) {
      const bool plain_params = u.params.is_object() && u.params.empty();
      if (u.version == 0 && u.goal.empty() && plain_params) {
        uses.push_back(u.fragment);
        continue;
      }
      Json o = Json::object();
      o["fragment"] = u.fragment;
      if (u.version != 0) o["version"] = u.version;
      if (!u.goal.empty()) o["goal"] = u.goal;
      if (!plain_params) o["params"] = u.params;
      uses.push_back(std::move(o));
    }
    j["initial_fragments"] = std::move(uses);
  }
  if (!t.discretionary.empty()) j["discretionary"] = t.discretionary;
  if (!t.roles.empty()) {
    Json roles = Json::array();
    for (const RoleDef& r : t.roles) {
      Json o = Json::object();
      o["name"] = r.name;
      if (!r.permissions.empty()) o["permissions"] = r.permissions;
      if (!r.description.empty()) o["description"] = r.description;
      roles.push_back(std::move(o));
    }
    j["roles"] = std::move(roles);
  }
  if (t.semantics != Semantics::acm) j["semantics"] = std::string(to_string(t.semantics));
  return j;
}

}  // namespace acm
