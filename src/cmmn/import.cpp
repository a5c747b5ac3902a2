// SPDX-License-Identifier: Apache-2.0
// cmmn/import.cpp - CMMN 1.1 / 1.0 XML -> acm definitions (docs/cmmn.md, "Import mapping").
//
// Two passes over the XML tree: index every element with an id, then walk each case plan model
// from the top, giving every plan item an acm item id, and write the definitions JSON. Problems
// are collected (never thrown one by one) so that an error lists all of them with positions.
#include <acm/cmmn.hpp>
#include <acm/error.hpp>
#include <acm/time.hpp>

#include "cmmn/el.hpp"
#include "cmmn/xml.hpp"
#include "expr/expr.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

namespace acm::cmmn {

using detail::Position;
using detail::XmlNode;

namespace {

constexpr std::string_view kNs11 = "http://www.omg.org/spec/CMMN/20151109/MODEL";
constexpr std::string_view kNs10 = "http://www.omg.org/spec/CMMN/20131201/MODEL";
constexpr std::string_view kCamunda = "http://camunda.org/schema/1.0/cmmn";
constexpr std::string_view kFlowable = "http://flowable.org/cmmn";
constexpr std::string_view kXsi = "http://www.w3.org/2001/XMLSchema-instance";
constexpr std::string_view kXml = "http://www.w3.org/XML/1998/namespace";

/// Diagram interchange and its parts: tolerated, ignored without a warning.
bool is_diagram_ns(std::string_view ns) {
  return ns.starts_with("http://www.omg.org/spec/CMMN/20151109/") ||
         ns.starts_with("http://www.omg.org/spec/CMMN/20131201/") || ns.starts_with("http://www.omg.org/spec/DD/");
}

/// The vendor prefix for messages.
std::string vendor_name(const std::string& ns, const std::string& local) {
  if (ns == kCamunda) return "camunda:" + local;
  if (ns == kFlowable) return "flowable:" + local;
  if (ns == "http://flowable.org/design") return "design:" + local;
  return "{" + ns + "}" + local;
}

constexpr std::size_t kMaxItems = 20000;  ///< acm items one import may produce (stage reuse multiplies)

bool id_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; }

std::string sanitize(std::string_view s) {
  std::string r;
  for (char c : s) r += id_char(c) ? c : '_';
  if (r.empty()) r = "_";
  return r;
}

/// A case-file path segment: letters, digits, '_' and '-'.
std::string path_segment(std::string_view s) {
  std::string r;
  for (char c : s) r += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
  if (r.empty()) r = "_";
  return r;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string describe(const XmlNode& n) {
  std::string s = "<" + n.local;
  if (const auto* id = n.attr("id")) s += " id=\"" + *id + "\"";
  return s + ">";
}

/// Splits an IDREFS attribute value.
std::vector<std::string> split_refs(const std::string& v) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : v) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool is_plan_item_definition(std::string_view l) {
  return l == "humanTask" || l == "task" || l == "processTask" || l == "caseTask" || l == "decisionTask" ||
         l == "stage" || l == "milestone" || l == "userEventListener" || l == "timerEventListener" ||
         l == "eventListener" || l == "planFragment";
}

/// One plan item placed in the acm tree.
struct Placed {
  const XmlNode* item = nullptr;  ///< planItem or discretionaryItem
  const XmlNode* def = nullptr;   ///< its definition
  std::string id;                 ///< acm item id
  std::string prefix;             ///< the copy prefix of its enclosing reused stages ("" at the top)
  std::vector<Placed> children;   ///< stage children
};

class Importer {
 public:
  explicit Importer(std::string_view xml) : xml_(xml) {}

  ImportResult run() {
    detail::XmlError xe;
    root_ = detail::parse_xml(xml_, xe);
    if (!root_) {
      throw Error(ErrorCode::parse_error,
                  "CMMN import: " + to_string(Diagnostic{xe.pos.line, xe.pos.column, xe.message}));
    }
    check_root();
    if (errors_.empty()) {
      index(*root_);
      for (const XmlNode* c : children(*root_, "case")) import_case(*c);
      if (cases_seen_ == 0) error(root_->pos, "the model has no <case>");
      report_extensions(*root_);
    }
    if (!errors_.empty()) {
      std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
      });
      std::string msg = "CMMN import failed: " + std::to_string(errors_.size()) +
                        (errors_.size() == 1 ? " problem" : " problems") + ":";
      for (const auto& d : errors_) msg += "\n  " + to_string(d);
      throw Error(ErrorCode::invalid_definition, msg);
    }
    std::stable_sort(warnings_.begin(), warnings_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    ImportResult r;
    r.definitions = Json{{"fragments", fragments_}, {"case_types", case_types_}};
    r.warnings = std::move(warnings_);
    r.cases = std::move(mappings_);
    return r;
  }

 private:
  std::string_view xml_;
  std::unique_ptr<XmlNode> root_;
  std::string ns_;  ///< the model's CMMN namespace
  std::vector<Diagnostic> errors_, warnings_;
  std::unordered_map<std::string, const XmlNode*> ids_;
  std::set<const XmlNode*> seen_;         ///< CMMN elements the walk understood
  std::set<std::string> used_ext_attrs_;  ///< vendor attributes that were mapped ("ns|local")
  Json fragments_ = Json::array(), case_types_ = Json::array();
  std::vector<CaseMapping> mappings_;
  std::set<std::string> fragment_ids_, case_type_ids_;
  int cases_seen_ = 0;

  // ---- per case ----
  std::map<std::string, std::vector<const Placed*>> placed_by_item_;  ///< planItem id -> placements
  std::map<std::string, std::string> role_names_;                     ///< caseRole id -> acm role
  std::map<std::string, std::string> file_paths_;                     ///< caseFileItem id -> path
  std::set<std::string> used_ids_;                                    ///< acm ids in the current fragment
  std::size_t item_count_ = 0;
  std::set<std::string> fragment_roles_;
  CaseMapping* mapping_ = nullptr;
  // Where a planning table found now plans its items: the acm fragment being built and the acm
  // id of the stage being built ("" = the fragment's own stage).
  std::string host_fragment_;
  std::string host_stage_;
  std::string in_discretionary_;  ///< the discretionary item being built ("" = none)

  void error(Position p, std::string m) { errors_.push_back({p.line, p.column, std::move(m)}); }
  void warn(Position p, std::string m) { warnings_.push_back({p.line, p.column, std::move(m)}); }

  bool is_cmmn(const XmlNode& n) const { return n.ns == ns_; }

  std::vector<const XmlNode*> children(const XmlNode& n, std::string_view local) {
    std::vector<const XmlNode*> out;
    for (const auto& c : n.children)
      if (c->ns == ns_ && c->local == local) {
        seen_.insert(c.get());
        out.push_back(c.get());
      }
    return out;
  }
  const XmlNode* child(const XmlNode& n, std::string_view local) {
    auto v = children(n, local);
    return v.empty() ? nullptr : v.front();
  }

  /// The text of an expression element: its character data, or that of its <body> (CMMN 1.0).
  std::string expression_text(const XmlNode& e) {
    std::string t = trim(e.text);
    if (t.empty())
      if (const XmlNode* b = child(e, "body")) t = trim(b->text);
    return t;
  }

  std::string attr_or(const XmlNode& n, std::string_view name, std::string def = {}) {
    const std::string* v = n.attr(name);
    return v ? *v : def;
  }

  const std::string* vendor_attr(const XmlNode& n, std::string_view ns, std::string_view local) {
    const std::string* v = n.attr(ns, local);
    if (v) used_ext_attrs_.insert(std::string(ns) + "|" + std::string(local));
    return v;
  }

  void check_root() {
    const XmlNode& r = *root_;
    if (r.local != "definitions" || (r.ns != kNs11 && r.ns != kNs10)) {
      std::string got = r.ns.empty() ? "<" + r.local + "> without a namespace" : "{" + r.ns + "}" + r.local;
      error(r.pos, "the root element is " + got +
                       "; a CMMN model is a <definitions> element in the CMMN 1.1 namespace " + std::string(kNs11) +
                       " (or CMMN 1.0, " + std::string(kNs10) + ")");
      return;
    }
    ns_ = r.ns;
    seen_.insert(&r);
  }

  void index(const XmlNode& n) {
    for (const auto& c : n.children) {
      if (c->ns == kNs11 || c->ns == kNs10) {
        if (c->ns != ns_) {
          error(c->pos, "<" + c->local + "> is in the namespace " + c->ns + " but the model uses " + ns_ +
                            "; CMMN 1.0 and 1.1 elements cannot be mixed");
          continue;
        }
        if (const std::string* id = c->attr("id")) {
          auto [it, fresh] = ids_.emplace(*id, c.get());
          if (!fresh && !id->empty()) {
            error(c->pos, describe(*c) + ": the id \"" + *id + "\" is already used by " + describe(*it->second) +
                              " at line " + std::to_string(it->second->pos.line));
          }
        }
      }
      index(*c);
    }
  }

  const XmlNode* lookup(const std::string& id, std::initializer_list<std::string_view> kinds) const {
    auto it = ids_.find(id);
    if (it == ids_.end()) return nullptr;
    if (kinds.size() == 0) return it->second;
    for (auto k : kinds)
      if (it->second->local == k) return it->second;
    return nullptr;
  }

  /// A reference attribute that must name an element of one of `kinds`.
  const XmlNode* resolve(const XmlNode& from, const char* attr, const std::string& id,
                         std::initializer_list<std::string_view> kinds, const char* what) {
    if (const XmlNode* t = lookup(id, kinds)) return t;
    auto it = ids_.find(id);
    if (it != ids_.end()) {
      error(from.pos,
            describe(from) + ": " + attr + "=\"" + id + "\" names " + describe(*it->second) + ", not " + what);
    } else {
      error(from.pos,
            describe(from) + ": " + attr + "=\"" + id + "\" names nothing in the model (expected " + what + ")");
    }
    return nullptr;
  }

  // ---- the case ---------------------------------------------------------------------------

  void import_case(const XmlNode& c) {
    ++cases_seen_;
    placed_by_item_.clear();
    role_names_.clear();
    file_paths_.clear();
    used_ids_.clear();
    fragment_roles_.clear();
    item_count_ = 0;

    const std::string case_id = attr_or(c, "id");
    if (case_id.empty()) error(c.pos, "<case> has no id");
    mappings_.push_back({});
    mapping_ = &mappings_.back();
    mapping_->case_id = case_id;

    // Roles.
    Json roles = Json::array();
    auto add_role = [&](const XmlNode& r) {
      const std::string rid = attr_or(r, "id");
      std::string name = sanitize(attr_or(r, "name", rid));
      role_names_[rid] = name;
      for (const auto& existing : roles)
        if (existing["name"] == name) return;
      roles.push_back(Json{{"name", name}, {"permissions", Json::array({"view", "work"})}});
    };
    for (const XmlNode* cr : children(c, "caseRoles")) {
      auto inner = children(*cr, "role");
      if (inner.empty() && ns_ == kNs10) {
        add_role(*cr);  // CMMN 1.0: <caseRoles id name/> is itself a role
      } else {
        for (const XmlNode* r : inner) add_role(*r);
      }
    }
    for (const XmlNode* cr : children(c, "caseRole")) add_role(*cr);

    // Case file model: item id -> case-file path.
    if (const XmlNode* fm = child(c, "caseFileModel")) {
      std::function<void(const XmlNode&, const std::string&, int)> walk = [&](const XmlNode& parent,
                                                                              const std::string& prefix, int depth) {
        auto items = children(parent, "caseFileItem");
        if (const XmlNode* ch = child(parent, "children")) {
          auto more = children(*ch, "caseFileItem");
          items.insert(items.end(), more.begin(), more.end());
        }
        for (const XmlNode* it : items) {
          const std::string id = attr_or(*it, "id");
          const std::string path = prefix + path_segment(attr_or(*it, "name", id));
          file_paths_[id] = path;
          if (depth < 32) walk(*it, path + ".", depth + 1);
        }
      };
      walk(*fm, "", 0);
    }

    // Case parameters are not used by acm (case variables are the case file).
    for (const char* p : {"input", "output"})
      for (const XmlNode* n : children(c, p))
        warn(n->pos, describe(*n) + ": case parameters are ignored (case variables are the case file)");

    const XmlNode* plan = child(c, "casePlanModel");
    if (!plan) {
      error(c.pos, describe(c) + " has no <casePlanModel>");
      return;
    }
    const std::string fragment_id = sanitize(attr_or(*plan, "id", case_id + "_plan"));
    const std::string type_id = sanitize(case_id);
    if (!fragment_ids_.insert(fragment_id).second)
      error(plan->pos, "two case plan models give the fragment id \"" + fragment_id + "\"");
    if (!case_type_ids_.insert(type_id).second) error(c.pos, "two cases give the case type id \"" + type_id + "\"");
    mapping_->case_type = type_id;
    mapping_->fragment = fragment_id;

    // Place every plan item (ids first, so that sentries can name items anywhere).
    std::vector<Placed> top;
    std::set<const XmlNode*> active_stages{plan};
    place_stage(*plan, "", top, active_stages, 0);
    if (item_count_ > kMaxItems) return;

    Json fragment{{"id", fragment_id}, {"semantics", "cmmn"}};
    if (const std::string* n = plan->attr("name")) fragment["name"] = *n;
    if (const std::string d = documentation(*plan); !d.empty()) fragment["description"] = d;
    register_placed(top);
    host_fragment_ = fragment_id;
    host_stage_.clear();
    Json items = Json::array();
    for (const Placed& p : top) items.push_back(build_item(p));
    fragment["items"] = items;
    if (attr_or(*plan, "autoComplete") == "true") fragment["auto_complete"] = true;
    Json exits = criteria(*plan, "exitCriterion", "exitCriteriaRefs", "", nullptr);
    if (!exits.empty()) fragment["exit"] = exits;
    for (const XmlNode* ec : children(*plan, "entryCriterion"))
      warn(ec->pos, "an entryCriterion on the case plan model is ignored (CMMN 1.1 allows only exit criteria there)");
    discretionary_items(*plan, "");  // planning table of the case plan model

    // The case plan model's own planning tables inside nested stages and tasks were handled
    // while placing; build the case type.
    Json case_type{{"kind", "case_type"},
                   {"id", type_id},
                   {"semantics", "cmmn"},
                   {"initial_fragments", Json::array({fragment_id})}};
    if (const std::string* n = c.attr("name")) case_type["name"] = *n;
    if (!roles.empty()) {
      for (const auto& r : fragment_roles_) {
        bool known = false;
        for (const auto& x : roles) known = known || x["name"] == r;
        if (!known) roles.push_back(Json{{"name", r}, {"permissions", Json::array({"view", "work"})}});
      }
      case_type["roles"] = roles;
    }
    if (!fragment_roles_.empty())
      fragment["roles"] = Json(std::vector<std::string>(fragment_roles_.begin(), fragment_roles_.end()));
    Json disc = Json::array();
    for (const auto& [item, frag] : mapping_->discretionary) disc.push_back(frag);
    if (!disc.empty()) case_type["discretionary"] = disc;
    fragments_.push_back(std::move(fragment));
    for (auto& f : pending_fragments_) fragments_.push_back(std::move(f));
    pending_fragments_.clear();
    case_types_.push_back(std::move(case_type));
  }

  std::vector<Json> pending_fragments_;

  std::string documentation(const XmlNode& n) {
    std::string out;
    for (const XmlNode* d : children(n, "documentation")) {
      std::string t = trim(d->text);
      if (t.empty())
        if (const XmlNode* tx = child(*d, "text")) t = trim(tx->text);
      if (!t.empty()) out += (out.empty() ? "" : "\n") + t;
    }
    if (out.empty())
      if (const std::string* d = n.attr("description")) out = *d;
    return out;
  }

  std::string fresh_id(const std::string& wanted) {
    std::string id = wanted;
    for (int n = 2; used_ids_.count(id); ++n) id = wanted + "_" + std::to_string(n);
    used_ids_.insert(id);
    return id;
  }

  /// Gives ids to the plan items of a stage (or case plan model, or plan fragment) definition.
  void place_stage(const XmlNode& stage, const std::string& prefix, std::vector<Placed>& out,
                   std::set<const XmlNode*>& active, int depth) {
    if (depth > 30) {
      error(stage.pos, describe(stage) + ": stages nest more than 30 levels deep");
      return;
    }
    for (const XmlNode* pi : children(stage, "planItem")) {
      if (++item_count_ > kMaxItems) {
        error(pi->pos, "the model expands to more than " + std::to_string(kMaxItems) + " plan items");
        return;
      }
      const std::string pid = attr_or(*pi, "id");
      if (pid.empty()) error(pi->pos, "<planItem> has no id");
      const std::string ref = attr_or(*pi, "definitionRef");
      if (ref.empty()) {
        error(pi->pos, describe(*pi) + " has no definitionRef");
        continue;
      }
      const XmlNode* def = lookup(ref, {});
      if (!def || !is_plan_item_definition(def->local)) {
        resolve(*pi, "definitionRef", ref, {"humanTask"}, "a plan item definition");
        continue;
      }
      seen_.insert(def);
      if (def->local == "planFragment") {
        // Flowable: the fragment's content lives directly in the enclosing stage.
        if (!active.insert(def).second) {
          error(pi->pos, describe(*pi) + ": the plan fragment " + describe(*def) + " contains itself");
          continue;
        }
        mapping_->items[pid];  // known, but has no acm item of its own
        place_stage(*def, prefix, out, active, depth + 1);
        active.erase(def);
        continue;
      }
      Placed p;
      p.item = pi;
      p.def = def;
      p.prefix = prefix;
      p.id = fresh_id(prefix + sanitize(pid));
      if (def->local == "stage") {
        if (!active.insert(def).second) {
          error(pi->pos, describe(*pi) + ": the stage " + describe(*def) + " contains itself");
          continue;
        }
        // A stage definition used by several plan items: its children are copied per use.
        const bool reused = uses_of(ref) > 1;
        place_stage(*def, reused ? p.id + "." : prefix, p.children, active, depth + 1);
        active.erase(def);
      }
      out.push_back(std::move(p));
    }
  }

  std::map<std::string, int> use_counts_;
  int uses_of(const std::string& def_id) {
    if (use_counts_.empty()) {
      for (const auto& [id, n] : ids_)
        if (n->local == "planItem" || n->local == "discretionaryItem")
          if (const std::string* r = n->attr("definitionRef")) ++use_counts_[*r];
      use_counts_[""] = 0;
    }
    auto it = use_counts_.find(def_id);
    return it == use_counts_.end() ? 0 : it->second;
  }

  /// Registers placements (after the whole tree is placed, pointers are stable).
  void register_placed(const std::vector<Placed>& ps) {
    for (const Placed& p : ps) {
      placed_by_item_[attr_or(*p.item, "id")].push_back(&p);
      mapping_->items[attr_or(*p.item, "id")].push_back(p.id);
      register_placed(p.children);
    }
  }

  // ---- items ------------------------------------------------------------------------------

  Json build_item(const Placed& p) {
    const XmlNode& pi = *p.item;
    const XmlNode& def = *p.def;
    Json j{{"id", p.id}};
    std::string name = attr_or(pi, "name", attr_or(def, "name"));
    if (!name.empty()) j["name"] = name;
    if (std::string d = documentation(def); !d.empty()) j["description"] = d;
    const std::string& k = def.local;
    std::string kind;
    if (k == "humanTask" || k == "task") {
      kind = "human_task";
      const std::string blocking = attr_or(def, "isBlocking", "true");
      if (blocking == "false") j["blocking"] = false;
      if (vendor_attr(def, kFlowable, "isBlockingExpression"))
        warn(def.pos,
             describe(def) + ": flowable:isBlockingExpression is ignored (isBlocking=\"" + blocking + "\" is used)");
      if (k == "humanTask") human_task(def, j);
      if (k == "task") {
        for (const char* a : {"type", "expression", "resultVariableName", "delegateExpression", "class"})
          if (vendor_attr(def, kFlowable, a))
            warn(def.pos, describe(def) + ": flowable:" + a +
                              " is ignored: acm does not run Java or expressions in tasks; the task is a wait state " +
                              (blocking == "false" ? "that completes at once" : "completed by a person"));
      }
    } else if (k == "milestone") {
      kind = "milestone";
    } else if (k == "userEventListener" || k == "eventListener") {
      kind = "user_listener";
      if (k == "eventListener")
        warn(def.pos, describe(def) + ": a generic event listener becomes a user event listener (raised with occur)");
      if (const std::string* roles = def.attr("authorizedRoleRefs")) {
        auto refs = split_refs(*roles);
        if (!refs.empty()) {
          std::string role = role_of(def, refs[0]);
          if (!role.empty()) {
            j["role"] = role;
            fragment_roles_.insert(role);
          }
          if (refs.size() > 1)
            warn(def.pos, describe(def) + ": only the first authorized role is kept (acm items have one role)");
        }
      }
    } else if (k == "timerEventListener") {
      kind = "timer_listener";
      timer(def, j);
    } else if (k == "stage") {
      kind = "stage";
      if (attr_or(def, "autoComplete") == "true") j["auto_complete"] = true;
      Json ch = Json::array();
      const std::string outer = host_stage_;
      host_stage_ = p.id;
      for (const Placed& c : p.children) ch.push_back(build_item(c));
      j["children"] = ch;
      discretionary_items(def, p.prefix);
      host_stage_ = outer;
    } else {
      const char* what = k == "processTask"    ? "a process task (it calls a BPMN process)"
                         : k == "caseTask"     ? "a case task (it starts another case)"
                         : k == "decisionTask" ? "a decision task (it evaluates a DMN decision)"
                                               : "an unknown plan item definition";
      error(pi.pos, describe(pi) + " refers to " + describe(def) + " (line " + std::to_string(def.pos.line) + "), " +
                        what + ": acm cannot run it");
      kind = "human_task";
    }
    j["kind"] = kind;

    // Criteria.
    Json entry = criteria(pi, "entryCriterion", "entryCriteriaRefs", p.prefix, &p);
    Json exit = criteria(pi, "exitCriterion", "exitCriteriaRefs", p.prefix, &p);
    if (!entry.empty()) {
      if (kind == "user_listener" || kind == "timer_listener")
        warn(pi.pos, describe(pi) + ": entry criteria on an event listener are ignored (CMMN 1.1 does not allow them)");
      else
        j["entry"] = entry;
    }
    if (!exit.empty()) j["exit"] = exit;

    // Item controls: the plan item's itemControl, else the definition's defaultControl, rule by rule.
    const XmlNode* ic = child(pi, "itemControl");
    const XmlNode* dc = child(def, "defaultControl");
    struct RuleSpec {
      const char* element;
      const char* key;
    };
    for (RuleSpec r : {RuleSpec{"requiredRule", "required"}, RuleSpec{"manualActivationRule", "manual_activation"},
                       RuleSpec{"repetitionRule", "repetition"}}) {
      const XmlNode* rule = ic ? child(*ic, r.element) : nullptr;
      if (!rule && dc) rule = child(*dc, r.element);
      if (!rule) continue;
      const bool applies = r.key == std::string("required") ? (kind != "user_listener" && kind != "timer_listener")
                           : r.key == std::string("manual_activation") ? (kind == "human_task" || kind == "stage")
                                                                       : (kind != "user_listener");
      if (!applies) {
        warn(rule->pos,
             describe(*rule) + " on " + describe(def) + " is ignored: CMMN 1.1 gives it no meaning for a " + k);
        continue;
      }
      detail::ElOptions opt;
      if (r.key == std::string("repetition")) {
        if (const std::string* cv = vendor_attr(*rule, kFlowable, "counterVariable")) opt.counter_variable = *cv;
        if (vendor_attr(*rule, kCamunda, "repeatOnStandardEvent"))
          warn(rule->pos,
               "camunda:repeatOnStandardEvent is ignored (acm repeats as CMMN 1.1 says: on the entry criterion, or on "
               "completion without one)");
      }
      const XmlNode* cond = child(*rule, "condition");
      std::string text = cond ? expression_text(*cond) : std::string();
      if (text.empty()) {
        j[r.key] = true;
      } else {
        std::string e = condition(*cond, text, opt);
        if (e == "true")
          j[r.key] = true;
        else if (!e.empty() && e != "false")
          j[r.key] = e;
      }
    }
    if (kind == "timer_listener" && j.contains("timer_repeat_rule")) {
      // A repeating timer expression sets the repetition unless a rule gave one.
      if (!j.contains("repetition")) j["repetition"] = j["timer_repeat_rule"];
      j.erase("timer_repeat_rule");
    }
    return j;
  }

  std::string role_of(const XmlNode& at, const std::string& ref) {
    auto it = role_names_.find(ref);
    if (it != role_names_.end()) return it->second;
    error(at.pos, describe(at) + ": the role reference \"" + ref + "\" names no case role");
    return {};
  }

  void human_task(const XmlNode& def, Json& j) {
    std::string role;
    if (const std::string* perf = def.attr("performerRef")) role = role_of(def, *perf);
    for (std::string_view vns : {kFlowable, kCamunda}) {
      const std::string vp = vns == kFlowable ? "flowable:" : "camunda:";
      if (const std::string* g = vendor_attr(def, vns, "candidateGroups")) {
        auto groups = split_list(*g);
        if (role.empty() && !groups.empty()) {
          if (groups[0].find("${") != std::string::npos) {
            warn(def.pos, describe(def) + ": " + vp + "candidateGroups is an expression; ignored");
          } else {
            role = sanitize(groups[0]);
            if (groups.size() > 1)
              warn(def.pos,
                   describe(def) + ": " + vp + "candidateGroups: only the first group becomes the task's role");
          }
        }
      }
      if (const std::string* a = vendor_attr(def, vns, "assignee")) {
        const std::string v = trim(*a);
        if (is_expression(v))
          warn(def.pos, describe(def) + ": " + vp + "assignee=\"" + *a +
                            "\" is an expression, which acm does not evaluate: the task gets no default assignee "
                            "(assign it at run time with assign_item)");
        else if (!v.empty())
          j["assignee"] = v;
      }
      if (const std::string* u = vendor_attr(def, vns, "candidateUsers")) {
        auto users = split_list(*u);
        if (std::any_of(users.begin(), users.end(), [](const std::string& x) { return is_expression(x); })) {
          warn(def.pos, describe(def) + ": " + vp + "candidateUsers=\"" + *u +
                            "\" holds an expression, which acm does not evaluate: the task is not restricted to "
                            "candidate users");
        } else {
          Json list = Json::array();
          for (const auto& x : users)
            if (std::find(list.begin(), list.end(), Json(x)) == list.end()) list.push_back(x);
          if (!list.empty()) j["candidate_users"] = list;
        }
      }
      if (const std::string* d = vendor_attr(def, vns, "dueDate")) {
        bool ok = false;
        if (d->find("${") == std::string::npos) {
          try {
            j["due"] = format_duration(parse_duration(trim(*d)));
            ok = true;
          } catch (const Error&) {
          }
        }
        if (!ok)
          warn(def.pos, describe(def) + ": " + vp + "dueDate=\"" + *d +
                            "\" is not a duration; ignored (acm due dates count from activation)");
      }
    }
    // The assignee may always work on its task (Flowable): it joins the candidate users.
    if (j.contains("assignee") && j.contains("candidate_users") &&
        std::find(j["candidate_users"].begin(), j["candidate_users"].end(), j["assignee"]) == j["candidate_users"].end())
      j["candidate_users"].push_back(j["assignee"]);
    if (!role.empty()) {
      j["role"] = role;
      fragment_roles_.insert(role);
    }
    for (const XmlNode* pt : children(def, "planningTable")) (void)pt;  // handled by discretionary_items
    discretionary_items(def, "");
  }

  static bool is_expression(const std::string& v) {
    return v.find("${") != std::string::npos || v.find("#{") != std::string::npos;
  }

  static std::vector<std::string> split_list(const std::string& v) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : v) {
      if (c == ',') {
        if (!trim(cur).empty()) out.push_back(trim(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!trim(cur).empty()) out.push_back(trim(cur));
    return out;
  }

  void timer(const XmlNode& def, Json& j) {
    for (const char* trig : {"planItemStartTrigger", "caseFileItemStartTrigger"})
      if (const XmlNode* t = child(def, trig))
        error(t->pos, describe(def) + ": a timer start trigger (<" + std::string(trig) +
                          ">) is not supported: acm timers count from the moment the listener becomes available");
    const XmlNode* te = child(def, "timerExpression");
    std::string text = te ? expression_text(*te) : std::string();
    if (text.empty()) {
      error(def.pos, describe(def) + " has no timerExpression");
      return;
    }
    const Position at = te->pos;
    if (text.find("${") != std::string::npos || text.find("#{") != std::string::npos) {
      error(at, describe(def) + ": the timer expression \"" + text +
                    "\" is computed at run time; acm needs an ISO-8601 duration, date or repeat");
      return;
    }
    auto duration = [&](const std::string& s, Json& out) {
      try {
        out = format_duration(parse_duration(s));
        return true;
      } catch (const Error& e) {
        error(at, describe(def) + ": timer \"" + text + "\": " + e.what());
        return false;
      }
    };
    if (text[0] == 'R') {
      // R[n]/duration
      const auto slash = text.find('/');
      std::string count = text.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
      std::vector<std::string> parts;
      std::string rest = slash == std::string::npos ? std::string() : text.substr(slash + 1);
      if (rest.find('/') != std::string::npos) {
        error(at, describe(def) + ": timer \"" + text +
                      "\": a repeat with a start or end date is not supported (use R/<duration> or R<n>/<duration>)");
        return;
      }
      if (!count.empty() && !std::all_of(count.begin(), count.end(),
                                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        error(at, describe(def) + ": timer \"" + text + "\": invalid repeat count");
        return;
      }
      Json d;
      if (!duration(rest, d)) return;
      j["timer"] = d;
      if (count.empty()) {
        j["timer_repeat_rule"] = true;
      } else {
        long n = std::min(std::stol(count.substr(0, 9)), 100000000L);
        if (n <= 1) return;  // R1: one occurrence
        j["timer_repeat_rule"] = "repetitionCounter < " + std::to_string(n);
      }
      return;
    }
    if (text[0] == 'P' || text[0] == '-') {
      Json d;
      if (duration(text, d)) j["timer"] = d;
      return;
    }
    try {
      j["timer_date"] = format_time(parse_time(text));
    } catch (const Error& e) {
      error(at,
            describe(def) + ": timer \"" + text + "\" is neither an ISO-8601 duration, date nor repeat: " + e.what());
    }
  }

  /// An if-part or rule condition, translated; "" after an error.
  std::string condition(const XmlNode& at, const std::string& text, const detail::ElOptions& opt = {}) {
    std::string out, err;
    if (!detail::translate_el(text, opt, out, err)) {
      error(at.pos, "condition \"" + text + "\": " + err);
      return {};
    }
    try {
      (void)expr::Expression::parse(out);
    } catch (const Error& e) {
      error(at.pos, "condition \"" + text + "\" (read as " + out + "): " + e.what());
      return {};
    }
    return out;
  }

  // ---- sentries ---------------------------------------------------------------------------

  /// The sentries of a plan item's (or the plan model's) criteria of one kind.
  Json criteria(const XmlNode& n, const char* element, const char* refs_attr, const std::string& prefix,
                const Placed* self) {
    Json out = Json::array();
    std::vector<std::pair<const XmlNode*, const XmlNode*>> refs;  // (criterion, sentry)
    for (const XmlNode* c : children(n, element)) {
      if (element == std::string("exitCriterion"))
        if (const std::string* t = vendor_attr(*c, kFlowable, "exitEventType"))
          warn(c->pos, describe(*c) + ": flowable:exitEventType=\"" + *t +
                           "\" is ignored: an exit criterion exits (CMMN 1.1), the item ends terminated");
      const std::string sref = attr_or(*c, "sentryRef");
      if (sref.empty()) {
        error(c->pos, describe(*c) + " has no sentryRef");
        continue;
      }
      if (const XmlNode* s = resolve(*c, "sentryRef", sref, {"sentry"}, "a sentry")) refs.push_back({c, s});
    }
    if (const std::string* v = n.attr(refs_attr)) {
      for (const auto& sref : split_refs(*v))
        if (const XmlNode* s = resolve(n, refs_attr, sref, {"sentry"}, "a sentry")) refs.push_back({&n, s});
    }
    for (const auto& [crit, s] : refs) {
      seen_.insert(s);
      for (Json& sj : sentry(*s, prefix, self)) out.push_back(std::move(sj));
    }
    return out;
  }

  /// The acm item ids a planItem id stands for, seen from a placement with `prefix`: the copy in
  /// the same reused stage when there is one, else every copy.
  std::vector<std::string> resolve_item(const std::string& pid, const std::string& prefix) {
    auto it = placed_by_item_.find(pid);
    if (it == placed_by_item_.end()) return {};
    std::vector<std::string> best;
    std::size_t best_len = 0;
    bool any_prefix = false;
    for (const Placed* p : it->second) {
      if (!p->prefix.empty() && prefix.compare(0, p->prefix.size(), p->prefix) == 0) {
        if (!any_prefix || p->prefix.size() > best_len) {
          best = {p->id};
          best_len = p->prefix.size();
          any_prefix = true;
        } else if (p->prefix.size() == best_len) {
          best.push_back(p->id);
        }
      }
    }
    if (any_prefix) return best;
    std::vector<std::string> all;
    for (const Placed* p : it->second) all.push_back(p->id);
    return all;
  }

  static std::string item_event(std::string_view e) {
    if (e == "manualStart") return "manual_start";
    if (e == "parentSuspend") return "parent_suspend";
    if (e == "parentResume") return "parent_resume";
    if (e == "parentTerminate") return "parent_terminate";
    return std::string(e);
  }

  std::vector<Json> sentry(const XmlNode& s, const std::string& prefix, const Placed* self) {
    // Each on-part may stand for several acm items (copies of a reused stage): one acm sentry
    // per combination, bounded.
    std::vector<std::vector<Json>> parts;
    bool broken = false;
    for (const auto& c : s.children) {
      if (c->ns != ns_) continue;
      seen_.insert(c.get());
      if (c->local == "planItemOnPart") {
        const XmlNode& op = *c;
        const std::string src = attr_or(op, "sourceRef");
        const XmlNode* ev = child(op, "standardEvent");
        std::string event = ev ? trim(ev->text) : std::string();
        if (event.empty()) {
          error(op.pos, describe(op) + " has no standardEvent");
          broken = true;
          continue;
        }
        const XmlNode* target = src.empty() ? nullptr : lookup(src, {"planItem", "discretionaryItem"});
        if (!target) {
          if (src.empty())
            error(op.pos, describe(op) + " has no sourceRef");
          else
            resolve(op, "sourceRef", src, {"planItem"}, "a plan item");
          broken = true;
          continue;
        }
        if (op.attr("exitCriterionRef") || op.attr("sentryRef"))
          warn(op.pos,
               describe(op) + ": the exit criterion reference is ignored: the on-part fires on any exit of the item");
        const std::string def_ref = attr_or(*target, "definitionRef");
        const XmlNode* tdef = lookup(def_ref, {});
        const std::string tk = tdef ? tdef->local : std::string();
        const bool occurs =
            tk == "milestone" || tk == "userEventListener" || tk == "timerEventListener" || tk == "eventListener";
        static const std::set<std::string> task_events{"enable",          "disable", "reenable",      "manualStart",
                                                       "start",           "suspend", "resume",        "complete",
                                                       "terminate",       "exit",    "parentSuspend", "parentResume",
                                                       "parentTerminate", "fault",   "reactivate"};
        static const std::set<std::string> occur_events{"occur", "terminate", "parentTerminate"};
        static const std::set<std::string> all_events{
            "create",       "enable",          "disable",  "reenable",   "manualStart", "start",
            "suspend",      "resume",          "complete", "terminate",  "exit",        "parentSuspend",
            "parentResume", "parentTerminate", "fault",    "reactivate", "occur",       "close"};
        if (!all_events.count(event)) {
          error(ev->pos, describe(op) + ": \"" + event + "\" is not a CMMN 1.1 plan item transition");
          broken = true;
          continue;
        }
        if (!(occurs ? occur_events : task_events).count(event)) {
          error(ev->pos, describe(op) + ": the transition \"" + event + "\" of " + (tdef ? describe(*tdef) : src) +
                             " is not supported by acm (" +
                             (occurs ? "milestones and event listeners: occur, terminate, parentTerminate"
                                     : "create and close are not observable") +
                             ")");
          broken = true;
          continue;
        }
        std::vector<std::string> ids;
        if (target->local == "discretionaryItem") {
          warn(op.pos, describe(op) + ": the source " + src +
                           " is a discretionary item, which is added as its own fragment; the on-part can never fire "
                           "and is dropped");
          broken = true;
          continue;
        }
        ids = resolve_item(src, prefix);
        if (ids.empty()) {
          if (!in_discretionary_.empty())
            error(op.pos, describe(op) + ": sourceRef=\"" + src + "\" is outside the discretionary item \"" +
                              in_discretionary_ +
                              "\": acm plans a discretionary item as a fragment of its own, whose sentries can name "
                              "only the items planned with it");
          else
            error(op.pos, describe(op) + ": sourceRef=\"" + src + "\" is a plan item that is not part of this case plan");
          broken = true;
          continue;
        }
        std::vector<Json> alts;
        for (const auto& id : ids) alts.push_back(Json{{"item", id}, {"on", item_event(event)}});
        parts.push_back(std::move(alts));
      } else if (c->local == "caseFileItemOnPart") {
        const XmlNode& op = *c;
        const std::string src = attr_or(op, "sourceRef");
        auto it = file_paths_.find(src);
        if (it == file_paths_.end()) {
          if (src.empty())
            error(op.pos, describe(op) + " has no sourceRef");
          else
            resolve(op, "sourceRef", src, {"caseFileItem"}, "a case file item of this case");
          broken = true;
          continue;
        }
        const XmlNode* ev = child(op, "standardEvent");
        const std::string event = ev ? trim(ev->text) : std::string();
        std::string on;
        if (event == "create" || event == "update" || event == "replace" || event == "addChild" ||
            event == "addReference")
          on = "set";
        else if (event == "delete")
          on = "removed";
        else if (event == "removeChild" || event == "removeReference")
          on = "";
        else if (event.empty()) {
          on = "";
          warn(op.pos, describe(op) + " has no standardEvent: it fires on any change of " + it->second);
        } else {
          error((ev ? ev : &op)->pos, describe(op) + ": \"" + event + "\" is not a CMMN 1.1 case file item transition");
          broken = true;
          continue;
        }
        Json p{{"file", it->second}};
        if (!on.empty()) p["on"] = on;
        parts.push_back({p});
      } else if (c->local == "ifPart") {
        // handled below
      } else if (c->local != "documentation" && c->local != "extensionElements") {
        warn(c->pos, describe(*c) + " inside a sentry is ignored");
      }
    }
    for (const auto& c : s.children) {
      if (c->ns == kCamunda && c->local == "variableOnPart") {
        error(c->pos, describe(s) +
                          ": camunda:variableOnPart (a sentry on variable events) is not supported; use a "
                          "caseFileItemOnPart or an ifPart");
        broken = true;
      }
    }
    if (const std::string* tm = vendor_attr(s, kFlowable, "triggerMode"))
      warn(s.pos, describe(s) + ": flowable:triggerMode=\"" + *tm + "\" is ignored: acm remembers on-parts (CMMN 1.1)");
    std::string cond;
    if (const XmlNode* ip = child(s, "ifPart")) {
      const XmlNode* ce = child(*ip, "condition");
      std::string text = ce ? expression_text(*ce) : std::string();
      if (!text.empty()) cond = condition(*ce, text);
    }
    (void)self;
    if (broken) return {};
    std::vector<Json> combos{Json::array()};
    for (const auto& alts : parts) {
      std::vector<Json> next;
      for (const Json& base : combos)
        for (const Json& a : alts) {
          if (next.size() >= 16) break;
          Json b = base;
          b.push_back(a);
          next.push_back(std::move(b));
        }
      combos = std::move(next);
    }
    if (combos.size() >= 16)
      warn(s.pos, describe(s) + ": too many copies of reused stages; only 16 combinations of its on-parts are kept");
    std::vector<Json> out;
    for (Json& on : combos) {
      Json sj = Json::object();
      if (const std::string* id = s.attr("id")) sj["id"] = sanitize(*id);
      if (!on.empty()) sj["on"] = std::move(on);
      if (!cond.empty()) sj["if"] = cond;
      if (!sj.contains("on") && !sj.contains("if")) sj["if"] = "true";  // an empty sentry is satisfied
      out.push_back(std::move(sj));
    }
    return out;
  }

  // ---- discretionary items ----------------------------------------------------------------

  void discretionary_items(const XmlNode& owner, const std::string& prefix) {
    for (const XmlNode* pt : children(owner, "planningTable")) planning_table(*pt, prefix, {}, 0);
  }

  void planning_table(const XmlNode& pt, const std::string& prefix, std::vector<std::string> rules, int depth) {
    if (depth > 30) {
      error(pt.pos, "planning tables nest more than 30 levels deep");
      return;
    }
    if (const std::string* a = pt.attr("applicabilityRuleRefs")) {
      for (const auto& r : split_refs(*a)) rules.push_back(r);
    }
    for (const XmlNode* ar : children(pt, "applicabilityRule")) {
      if (const XmlNode* c = child(*ar, "condition")) seen_.insert(c);
    }
    for (const XmlNode* di : children(pt, "discretionaryItem")) discretionary(*di, prefix, rules);
    for (const XmlNode* inner : children(pt, "planningTable")) planning_table(*inner, prefix, rules, depth + 1);
  }

  void discretionary(const XmlNode& di, const std::string& prefix, const std::vector<std::string>& table_rules) {
    const std::string did = attr_or(di, "id");
    if (auto known = mapping_->discretionary.find(did); known != mapping_->discretionary.end()) {
      // A copy of a reused stage: offered once. Its planning table is in several stages, which a
      // fragment cannot name: the fragment is added at the top of the case instead.
      for (auto& f : pending_fragments_)
        if (f["id"] == known->second && f.contains("planning_table")) {
          f.erase("planning_table");
          warn(di.pos, describe(di) + ": its stage is used more than once, so the discretionary item is added at the "
                                      "top of the case plan, not inside one of the stage's instances");
        }
      return;
    }
    const std::string planned_fragment = host_fragment_, planned_stage = host_stage_;
    const std::string ref = attr_or(di, "definitionRef");
    const XmlNode* def = ref.empty() ? nullptr : lookup(ref, {});
    if (!def || !is_plan_item_definition(def->local)) {
      if (ref.empty())
        error(di.pos, describe(di) + " has no definitionRef");
      else
        resolve(di, "definitionRef", ref, {"humanTask"}, "a plan item definition");
      return;
    }
    seen_.insert(def);
    // The discretionary item becomes a fragment of its own holding one item (with its stage
    // content). Its sentries may only name items of that fragment.
    std::string frag_id = sanitize(did);
    if (!fragment_ids_.insert(frag_id).second) frag_id = sanitize(mapping_->fragment + "." + did);
    fragment_ids_.insert(frag_id);
    auto saved_placed = placed_by_item_;
    auto saved_ids = used_ids_;
    auto saved_roles = fragment_roles_;
    used_ids_.clear();
    fragment_roles_.clear();
    host_fragment_ = frag_id;
    host_stage_.clear();
    const std::string outer_discretionary = in_discretionary_;
    in_discretionary_ = did;
    std::vector<Placed> tree;
    std::set<const XmlNode*> active{def};
    Json items = Json::array();
    if (def->local == "planFragment") {
      // A discretionary plan fragment: its plan items are the fragment's items.
      place_stage(*def, "", tree, active, 1);
      placed_by_item_.clear();
      register_placed(tree);
      for (const Placed& q : tree) items.push_back(build_item(q));
      mapping_->items[did] = {};
    } else {
      tree.resize(1);
      Placed& p = tree[0];
      p.item = &di;
      p.def = def;
      p.id = fresh_id(sanitize(did));
      if (def->local == "stage") place_stage(*def, "", p.children, active, 1);
      placed_by_item_.clear();
      register_placed(tree);
      items.push_back(build_item(p));
      mapping_->items[did] = {p.id};
    }
    host_fragment_ = planned_fragment;
    host_stage_ = planned_stage;
    in_discretionary_ = outer_discretionary;
    Json frag{{"id", frag_id}, {"semantics", "cmmn"}, {"items", items}};
    if (!planned_fragment.empty()) {
      Json pt{{"fragment", planned_fragment}};
      if (!planned_stage.empty()) pt["stage"] = planned_stage;
      frag["planning_table"] = pt;
    }
    if (auto n = attr_or(di, "name", attr_or(*def, "name")); !n.empty()) frag["name"] = n;
    std::vector<std::string> rules = table_rules;
    if (const std::string* a = di.attr("applicabilityRuleRefs"))
      for (const auto& r : split_refs(*a)) rules.push_back(r);
    std::string applicability;
    for (const auto& r : rules) {
      const XmlNode* ar = resolve(di, "applicabilityRuleRefs", r, {"applicabilityRule"}, "an applicability rule");
      if (!ar) continue;
      const XmlNode* c = child(*ar, "condition");
      std::string text = c ? expression_text(*c) : std::string();
      if (text.empty()) continue;
      std::string e = condition(*c, text);
      if (e.empty()) continue;
      applicability = applicability.empty() ? e : "(" + applicability + ") and (" + e + ")";
    }
    if (!applicability.empty()) frag["applicability"] = applicability;
    if (const std::string* a = di.attr("authorizedRoleRefs")) {
      std::vector<std::string> names;
      for (const auto& r : split_refs(*a)) {
        std::string n = role_of(di, r);
        if (!n.empty()) names.push_back(n);
      }
      Json list = Json::array();
      for (const auto& n : names)
        if (std::find(list.begin(), list.end(), Json(n)) == list.end()) list.push_back(n);
      if (!list.empty()) frag["authorized_roles"] = list;
    }
    if (!fragment_roles_.empty())
      frag["roles"] = Json(std::vector<std::string>(fragment_roles_.begin(), fragment_roles_.end()));
    pending_fragments_.push_back(std::move(frag));
    mapping_->discretionary[did] = frag_id;
    for (const auto& r : fragment_roles_) saved_roles.insert(r);
    placed_by_item_ = std::move(saved_placed);
    used_ids_ = std::move(saved_ids);
    fragment_roles_ = std::move(saved_roles);
    (void)prefix;
  }

  // ---- what was left out --------------------------------------------------------------------

  void report_extensions(const XmlNode& root) {
    struct Seen {
      Position first;
      int count = 0;
    };
    std::map<std::string, Seen> ext;
    std::map<std::string, Seen> cmmn_ignored;
    std::function<void(const XmlNode&, bool)> walk = [&](const XmlNode& n, bool in_ext) {
      for (const auto& a : n.attrs) {
        if (a.ns.empty() || a.ns == kXsi || a.ns == kXml || is_diagram_ns(a.ns) || a.ns == kNs11 || a.ns == kNs10)
          continue;
        if (used_ext_attrs_.count(a.ns + "|" + a.local)) continue;
        auto& s = ext[vendor_name(a.ns, a.local)];
        if (s.count++ == 0) s.first = n.pos;
      }
      for (const auto& c : n.children) {
        const bool cmmn = c->ns == ns_;
        if (!cmmn && !is_diagram_ns(c->ns) && !c->ns.empty()) {
          if (!(c->ns == kCamunda && c->local == "variableOnPart")) {
            auto& s = ext[vendor_name(c->ns, c->local)];
            if (s.count++ == 0) s.first = c->pos;
          }
          continue;  // the content of an extension element is its own business
        }
        if (cmmn && c->local == "extensionElements") {
          walk(*c, true);
          continue;
        }
        if (cmmn && c->local == "CMMNDI") continue;
        if (cmmn && !in_ext && !seen_.count(c.get()) && !ignorable(*c) && n.local != "definitions") {
          auto& s = cmmn_ignored["<" + c->local + ">"];
          if (s.count++ == 0) s.first = c->pos;
        }
        walk(*c, in_ext);
      }
    };
    walk(root, false);
    for (const auto& [name, s] : ext)
      warn(s.first, "extension " + name + " ignored" + (s.count > 1 ? " (" + std::to_string(s.count) + " times)" : ""));
    for (const auto& [name, s] : cmmn_ignored)
      warn(s.first,
           "CMMN element " + name + " ignored" + (s.count > 1 ? " (" + std::to_string(s.count) + " times)" : ""));
  }

  static bool ignorable(const XmlNode& n) {
    static const std::set<std::string, std::less<>> names{
        "documentation",   "text",           "body",        "condition", "standardEvent",
        "timerExpression", "textAnnotation", "association", "artifact",  "caseFileModel",
        "caseFileItem",    "children",       "caseRoles",   "role",      "applicabilityRule",
        "casePlanModel",   "sentry"};
    return names.count(n.local) > 0;
  }
};

}  // namespace

std::string to_string(const Diagnostic& d) {
  if (d.line <= 0) return d.message;
  return "line " + std::to_string(d.line) + ", column " + std::to_string(d.column) + ": " + d.message;
}

bool is_xml(std::string_view text) {
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  return i < text.size() && text[i] == '<';
}

ImportResult import(std::string_view xml) { return Importer(xml).run(); }

}  // namespace acm::cmmn
