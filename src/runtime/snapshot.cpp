// SPDX-License-Identifier: Apache-2.0
#include "runtime/snapshot.hpp"

#include <acm/error.hpp>

#include <boost/archive/binary_iarchive_impl.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/detail/archive_serializer_map.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>
#include <boost/crc.hpp>
#include <boost/serialization/array_optimization.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>

#include <fmt/format.h>

#include <array>
#include <sstream>

namespace acm::store {
namespace {

// Version 1 ("ACMSNAP1" + archive) is still read; version 2 adds a CRC-32 of the archive.
constexpr char kMagic1[] = "ACMSNAP1";
constexpr char kMagic[] = "ACMSNAP2";
constexpr std::size_t kMagicLen = 8;
constexpr std::size_t kCrcLen = 4;

std::uint32_t crc32(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

std::int64_t ms(const std::optional<TimePoint>& t) { return t ? t->time_since_epoch().count() : INT64_MIN; }
std::optional<TimePoint> tp(std::int64_t v) {
  if (v == INT64_MIN) return std::nullopt;
  return TimePoint{Duration{v}};
}

// Enums are stored by name (to_string), from class version 2 of SnapItem and SnapGoal and 3 of
// SnapCase on: a snapshot can then never be misread after an enum is reordered or extended,
// and a name the code no longer knows makes the snapshot refused (the case replays its events).
// Earlier versions stored the enums' numbers; such snapshots are read (to be refused).

/// An enum as stored: its name, or (`legacy`) the number an older snapshot held.
struct SnapEnum {
  std::string name;
  bool legacy = false;
};

/// Writes an enum's name; reads a name (`by_name`) or an older snapshot's number.
template <class A>
void enum_field(A& a, SnapEnum& e, bool by_name) {
  if (by_name) {
    a& e.name;
    return;
  }
  if constexpr (A::is_loading::value) {
    int number = 0;
    a& number;
    e.name = std::to_string(number);
    e.legacy = true;
  }
}

struct SnapItem {
  std::string id, parent, frag_root, fragment, def_id, adhoc, goal, assignee, params;
  int fragment_version = 0, repetition = 0;
  SnapEnum state;
  bool required = false, overdue = false;
  std::vector<std::string> after;
  std::int64_t activated_at = INT64_MIN, ended_at = INT64_MIN, due = INT64_MIN, timer_at = INT64_MIN;
  std::vector<std::vector<char>> entry_flags, exit_flags;
  template <class A>
  void serialize(A& a, unsigned class_version) {
    a& id& parent& frag_root& fragment& def_id& adhoc& goal& assignee& params;
    a& fragment_version;
    enum_field(a, state, class_version >= 2);
    a& repetition& required& overdue& after;
    a& activated_at& ended_at& due& timer_at& entry_flags& exit_flags;
  }
};

struct SnapGoal {
  std::string id, name, owner, parent, criterion, anchor;
  std::vector<std::string> milestones;
  bool required = true, decision = false;
  SnapEnum status, timing;
  std::int64_t deadline = INT64_MIN, achieved_at = INT64_MIN;
  template <class A>
  void serialize(A& a, unsigned class_version) {
    a& id& name& owner& parent& criterion& anchor& milestones& required& decision;
    enum_field(a, status, class_version >= 2);
    enum_field(a, timing, class_version >= 2);
    a& deadline& achieved_at;
  }
};

struct SnapAsset {
  std::string id, kind, title, uri, text, media_type, metadata, added_by;
  std::int64_t added_at = 0;
  template <class A>
  void serialize(A& a, unsigned /*version*/) {
    a& id& kind& title& uri& text& media_type& metadata& added_by& added_at;
  }
};

struct SnapParticipant {
  std::string actor;
  std::vector<std::string> roles;
  template <class A>
  void serialize(A& a, unsigned /*version*/) {
    a& actor& roles;
  }
};

struct SnapCase {
  std::string id, type, title, customer, attributes, owner, file;
  int type_version = 0, priority = 0;
  SnapEnum status;
  std::vector<SnapParticipant> participants;
  std::vector<SnapAsset> assets;
  std::vector<SnapGoal> goals;
  std::vector<SnapItem> items;
  std::map<std::string, int> counters;
  std::uint64_t version = 0;
  std::int64_t created_at = 0;
  bool hold_open = false;
  std::string ext;  // version 2: JSON {paused, promises, priority_base, escalations}
  template <class A>
  void serialize(A& a, unsigned class_version) {
    a& id& type& title& customer& attributes& owner& file& type_version& priority;
    enum_field(a, status, class_version >= 3);
    a& participants& assets& goals& items& counters& version& created_at& hold_open;
    if (class_version >= 2) a& ext;
  }
};

// A binary input archive that trusts no size it reads: a string or a collection longer than
// the snapshot itself is refused before anything is allocated for it (a damaged or crafted
// snapshot that passed the checksum cannot make loading allocate gigabytes).
class BoundedArchive : public boost::archive::binary_iarchive_impl<BoundedArchive, char, std::char_traits<char>> {
  using Base = boost::archive::binary_iarchive_impl<BoundedArchive, char, std::char_traits<char>>;
  friend class boost::archive::detail::interface_iarchive<BoundedArchive>;
  friend class boost::archive::basic_binary_iarchive<BoundedArchive>;
  friend class boost::archive::basic_binary_iprimitive<BoundedArchive, char, std::char_traits<char>>;
  friend class boost::archive::load_access;

 public:
  BoundedArchive(std::istream& in, std::size_t limit) : Base(in, boost::archive::no_header), limit_(limit) {}
  using Base::load;
  void load(std::string& s) {
    std::size_t n = 0;
    this->load_binary(&n, sizeof n);
    if (n > limit_) throw std::length_error(fmt::format("a string of {} bytes in a snapshot of {}", n, limit_));
    s.resize(n);
    if (n) this->load_binary(s.data(), n);
  }
  // A bool is one byte that must be 0 or 1: any other value read into a bool is undefined
  // behaviour (Boost's own load asserts it in debug builds only).
  void load(bool& b) {
    unsigned char byte = 0;
    this->load_binary(&byte, 1);
    if (byte > 1) throw std::length_error(fmt::format("a boolean stored as {} in a snapshot", static_cast<int>(byte)));
    b = byte == 1;
  }
  template <class T>
  void load_override(T& t) {
    Base::load_override(t);
  }
  void load_override(boost::serialization::collection_size_type& t) {
    Base::load_override(t);
    if (static_cast<std::size_t>(t) > limit_)
      throw std::length_error(
          fmt::format("a collection of {} elements in a snapshot of {} bytes", static_cast<std::size_t>(t), limit_));
  }

 private:
  std::size_t limit_;
};

}  // namespace
}  // namespace acm::store

BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(acm::store::BoundedArchive)
namespace boost::archive {
template class basic_binary_iprimitive<acm::store::BoundedArchive, char, std::char_traits<char>>;
template class basic_binary_iarchive<acm::store::BoundedArchive>;
template class detail::archive_serializer_map<acm::store::BoundedArchive>;
}  // namespace boost::archive

BOOST_CLASS_VERSION(acm::store::SnapItem, 2)
BOOST_CLASS_VERSION(acm::store::SnapGoal, 2)
BOOST_CLASS_VERSION(acm::store::SnapAsset, 1)
BOOST_CLASS_VERSION(acm::store::SnapParticipant, 1)
BOOST_CLASS_VERSION(acm::store::SnapCase, 3)

namespace acm::store {

std::string save_snapshot(const runtime::CaseState& s) {
  SnapCase c;
  c.id = s.id;
  c.type = s.type ? s.type->def.id : "";
  c.type_version = s.type ? s.type->def.version : 0;
  c.title = s.title;
  c.customer = s.subject.customer;
  c.attributes = s.subject.attributes.dump();
  c.owner = s.owner;
  c.file = s.file.dump();
  c.priority = s.priority;
  c.status.name = to_string(s.status);
  for (const auto& p : s.participants) c.participants.push_back({p.actor, p.roles});
  for (const auto& a : s.assets)
    c.assets.push_back({a.id, a.kind, a.title, a.uri, a.text, a.media_type, a.metadata.dump(), a.added_by,
                        a.added_at.time_since_epoch().count()});
  for (const auto& g : s.goals) {
    SnapGoal sg;
    sg.id = g.spec.id;
    sg.name = g.spec.name;
    sg.owner = g.spec.owner;
    sg.parent = g.spec.parent;
    sg.criterion = g.spec.criterion;
    sg.anchor = g.spec.anchor;
    sg.milestones = g.spec.milestones;
    sg.required = g.spec.required;
    sg.decision = g.spec.decision;
    sg.status.name = to_string(g.status);
    sg.timing.name = to_string(g.timing);
    sg.deadline = ms(g.deadline);
    sg.achieved_at = ms(g.achieved_at);
    c.goals.push_back(std::move(sg));
  }
  for (const auto& it : s.items) {
    SnapItem si;
    si.id = it.id;
    si.parent = it.parent;
    si.frag_root = it.frag_root;
    if (it.fragment) {
      si.fragment = it.fragment->def.id;
      si.fragment_version = it.fragment->def.version;
      si.def_id = it.def == &it.fragment->stage ? std::string() : it.def->def.id;
    } else {
      si.adhoc = it.adhoc_spec.dump();
    }
    si.goal = it.goal;
    si.assignee = it.assignee;
    si.params = it.params.dump();
    si.state.name = to_string(it.state);
    si.repetition = it.repetition;
    si.required = it.required;
    si.overdue = it.overdue;
    si.after = it.after;
    si.activated_at = ms(it.activated_at);
    si.ended_at = ms(it.ended_at);
    si.due = ms(it.due);
    si.timer_at = ms(it.timer_at);
    si.entry_flags = it.entry_flags;
    si.exit_flags = it.exit_flags;
    c.items.push_back(std::move(si));
  }
  c.counters = s.counters;
  c.version = s.version;
  c.created_at = s.created_at.time_since_epoch().count();
  c.hold_open = s.hold_open;
  Json ext{{"priority_base", s.priority_base}, {"escalations", s.escalations}, {"paused", Json::object()},
           {"promises", Json::array()}};
  for (const auto& g : s.goals)
    if (g.paused_since) ext["paused"][g.spec.id] = g.paused_since->time_since_epoch().count();
  for (const auto& x : s.promises)
    ext["promises"].push_back({{"id", x.id}, {"what", x.what}, {"due", x.due.time_since_epoch().count()},
                               {"status", to_string(x.status)}, {"timing", to_string(x.timing)},
                               {"expected", ms(x.expected)}});
  c.ext = ext.dump();
  std::ostringstream out;
  out.write(kMagic, kMagicLen);
  out.write("\0\0\0\0", kCrcLen);  // the checksum, filled in below
  {
    boost::archive::binary_oarchive ar(out, boost::archive::no_header);
    ar << c;
  }
  std::string data = std::move(out).str();
  const std::uint32_t crc = crc32(std::string_view(data).substr(kMagicLen + kCrcLen));
  for (std::size_t i = 0; i < kCrcLen; ++i) data[kMagicLen + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  return data;
}

namespace {
/// The enumerator named `e`; a number from an older snapshot or a name this build does not know
/// is Error(storage): the snapshot is not used (never read as another value).
template <class E, std::size_t N>
E named_enum(const SnapEnum& e, const std::array<E, N>& all, const char* what) {
  if (e.legacy)
    throw Error(ErrorCode::storage, fmt::format("snapshot: {} stored as the number {} (a snapshot written before enums "
                                                "were stored by name; not used)",
                                                what, e.name));
  for (E x : all)
    if (to_string(x) == e.name) return x;
  throw Error(ErrorCode::storage, fmt::format("snapshot: unknown {} '{}'", what, e.name));
}
template <class E, std::size_t N>
E named_enum(const std::string& name, const std::array<E, N>& all, const char* what) {
  return named_enum(SnapEnum{name, false}, all, what);
}

constexpr std::array kCaseStatuses{CaseStatus::active, CaseStatus::suspended, CaseStatus::completed,
                                   CaseStatus::terminated, CaseStatus::closed};
constexpr std::array kItemStates{ItemState::available, ItemState::enabled,   ItemState::disabled,
                                 ItemState::active,    ItemState::suspended, ItemState::completed,
                                 ItemState::terminated, ItemState::failed};
constexpr std::array kGoalStatuses{GoalStatus::open, GoalStatus::achieved, GoalStatus::cancelled};
constexpr std::array kTimings{Timing::on_track, Timing::at_risk, Timing::overdue};
constexpr std::array kPromiseStatuses{PromiseStatus::open, PromiseStatus::kept, PromiseStatus::broken,
                                      PromiseStatus::cancelled};

void check_flags(const std::vector<std::vector<char>>& flags, const std::vector<runtime::CSentry>& sentries,
                 const std::string& item) {
  bool ok = flags.size() == sentries.size();
  for (std::size_t i = 0; ok && i < flags.size(); ++i) ok = flags[i].size() == sentries[i].on_parts.size();
  if (!ok)
    throw Error(ErrorCode::storage, fmt::format("snapshot: sentry flags of {} do not match its definition", item));
}
}  // namespace

bool snapshot_has_checksum(const std::string& data) noexcept {
  return data.size() >= kMagicLen + kCrcLen && data.compare(0, kMagicLen, kMagic) == 0;
}

runtime::CaseState load_snapshot(const std::string& data, const runtime::Registry& registry) {
  std::size_t start = kMagicLen;
  if (data.size() >= kMagicLen + kCrcLen && data.compare(0, kMagicLen, kMagic) == 0) {
    std::uint32_t stored = 0;
    for (std::size_t i = 0; i < kCrcLen; ++i)
      stored |= std::uint32_t{static_cast<unsigned char>(data[kMagicLen + i])} << (8 * i);
    start = kMagicLen + kCrcLen;
    if (crc32(std::string_view(data).substr(start)) != stored)
      throw Error(ErrorCode::storage, "snapshot: damaged (checksum mismatch)");
  } else if (data.size() < kMagicLen || data.compare(0, kMagicLen, kMagic1) != 0) {
    throw Error(ErrorCode::storage, "snapshot: not an acm snapshot (bad magic)");
  }
  SnapCase c;
  try {
    std::istringstream in(data.substr(start));
    BoundedArchive ar(in, data.size() - start);
    ar >> c;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::storage, fmt::format("snapshot: cannot be read: {}", e.what()));
  }
  runtime::CaseState s;
  try {
    s.id = c.id;
    if (!c.type.empty()) {
      s.type = registry.case_type(c.type, c.type_version);
      if (!s.type) throw Error(ErrorCode::storage, fmt::format("snapshot: case type {} v{} is not registered", c.type, c.type_version));
    }
    s.title = c.title;
    s.subject.customer = c.customer;
    s.subject.attributes = Json::parse(c.attributes);
    s.owner = c.owner;
    s.file = Json::parse(c.file);
    s.priority = c.priority;
    s.status = named_enum(c.status, kCaseStatuses, "case status");
    for (auto& p : c.participants) s.participants.push_back(Participant{p.actor, p.roles});
    for (auto& a : c.assets) {
      Asset asset;
      asset.id = a.id;
      asset.kind = a.kind;
      asset.title = a.title;
      asset.uri = a.uri;
      asset.text = a.text;
      asset.media_type = a.media_type;
      asset.metadata = Json::parse(a.metadata);
      asset.added_by = a.added_by;
      asset.added_at = TimePoint{Duration{a.added_at}};
      s.assets.push_back(std::move(asset));
    }
    for (auto& sg : c.goals) {
      runtime::Goal g;
      g.spec.id = sg.id;
      g.spec.name = sg.name;
      g.spec.owner = sg.owner;
      g.spec.parent = sg.parent;
      g.spec.criterion = sg.criterion;
      g.spec.anchor = sg.anchor;
      g.spec.milestones = sg.milestones;
      g.spec.required = sg.required;
      g.spec.decision = sg.decision;
      g.status = named_enum(sg.status, kGoalStatuses, "goal status");
      g.timing = named_enum(sg.timing, kTimings, "timing");
      g.deadline = tp(sg.deadline);
      g.achieved_at = tp(sg.achieved_at);
      if (!g.spec.criterion.empty()) g.criterion = expr::Expression::parse(g.spec.criterion);
      s.goals.push_back(std::move(g));
    }
    for (auto& si : c.items) {
      runtime::Item it;
      it.id = si.id;
      it.parent = si.parent;
      it.frag_root = si.frag_root;
      if (!si.fragment.empty()) {
        it.fragment = registry.fragment(si.fragment, si.fragment_version);
        if (!it.fragment)
          throw Error(ErrorCode::storage,
                      fmt::format("snapshot: fragment {} v{} is not registered", si.fragment, si.fragment_version));
        if (si.def_id.empty()) {
          it.def = &it.fragment->stage;
        } else {
          auto d = it.fragment->by_id.find(si.def_id);
          if (d == it.fragment->by_id.end())
            throw Error(ErrorCode::storage, fmt::format("snapshot: fragment {} has no item {}", si.fragment, si.def_id));
          it.def = d->second;
        }
      } else {
        it.adhoc_spec = Json::parse(si.adhoc);
        it.owned_def = runtime::compile_adhoc(runtime::adhoc_from_json(it.adhoc_spec), it.id);
        it.def = it.owned_def.get();
      }
      it.goal = si.goal;
      it.assignee = si.assignee;
      it.params = Json::parse(si.params);
      it.state = named_enum(si.state, kItemStates, "item state");
      it.repetition = si.repetition;
      it.required = si.required;
      it.overdue = si.overdue;
      it.after = si.after;
      it.activated_at = tp(si.activated_at);
      it.ended_at = tp(si.ended_at);
      it.due = tp(si.due);
      it.timer_at = tp(si.timer_at);
      it.entry_flags = si.entry_flags;
      it.exit_flags = si.exit_flags;
      check_flags(it.entry_flags, it.def->entry, it.id);
      check_flags(it.exit_flags, it.def->exit, it.id);
      s.items.push_back(std::move(it));
    }
    s.counters = c.counters;
    s.version = c.version;
    s.created_at = TimePoint{Duration{c.created_at}};
    s.hold_open = c.hold_open;
    s.priority_base = s.priority;
    if (!c.ext.empty()) {
      const Json ext = Json::parse(c.ext);
      s.priority_base = ext.at("priority_base").get<int>();
      s.escalations = ext.at("escalations").get<std::map<std::string, int>>();
      for (const auto& [goal, at] : ext.at("paused").items())
        if (runtime::Goal* g = s.find_goal(goal)) g->paused_since = tp(at.get<std::int64_t>());
      for (const Json& x : ext.at("promises")) {
        runtime::Promise p;
        p.id = x.at("id").get<std::string>();
        p.what = x.at("what").get<std::string>();
        p.due = TimePoint{Duration{x.at("due").get<std::int64_t>()}};
        p.status = named_enum(x.at("status").get<std::string>(), kPromiseStatuses, "promise status");
        p.timing = named_enum(x.at("timing").get<std::string>(), kTimings, "timing");
        p.expected = tp(x.at("expected").get<std::int64_t>());
        s.promises.push_back(std::move(p));
      }
    }
    s.reindex();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::storage, fmt::format("snapshot: inconsistent content: {}", e.what()));
  }
  return s;
}

}  // namespace acm::store
