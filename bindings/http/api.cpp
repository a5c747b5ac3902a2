// SPDX-License-Identifier: Apache-2.0
// bindings/http/api.cpp - the /v1 routes of acm-server: parsing, permission, engine calls and
// the JSON of docs/json.md (docs/http.md lists the routes).
#include "api.hpp"


#include <acm/cmmn.hpp>
#include <acm/definition.hpp>
#include <acm/from_json.hpp>
#include <acm/learn.hpp>
#include <acm/to_json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>

namespace acm::http {

namespace {

constexpr std::string_view kDefaultTemplate = "default";
constexpr std::size_t kMaxIdempotencyKey = 200;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

HttpResponse json_response(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = dump(body);
  return r;
}

std::string quoted_version(std::uint64_t v) { return fmt::format("\"{}\"", v); }

/// Strips `W/` and quotes from an entity tag; nullopt when it is not a version number.
std::optional<std::uint64_t> version_of_tag(std::string_view tag) {
  while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
  while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') tag = tag.substr(1, tag.size() - 2);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(tag.data(), tag.data() + tag.size(), v);
  if (ec != std::errc() || p != tag.data() + tag.size() || tag.empty()) return std::nullopt;
  return v;
}

bool is_json_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string t(ct.substr(0, semi));
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"));
}

bool is_xml_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string t(ct.substr(0, semi));
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t == "application/xml" || t == "text/xml" || (t.starts_with("application/") && t.ends_with("+xml"));
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;  // path starts with '/'
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

/// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

/// An HTTP-level failure (no engine ErrorCode): thrown inside handlers, answered as a problem.
struct HttpFailure {
  int status;
  std::string code;
  std::string detail;
};

[[noreturn]] void fail_http(int status, std::string code, std::string detail) {
  throw HttpFailure{status, std::move(code), std::move(detail)};
}

}  // namespace

// ---- small public helpers --------------------------------------------------------------

std::string HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse problem(int status, std::string_view code, std::string_view detail, std::string_view instance) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/problem+json";
  Json j = {{"type", fmt::format("urn:acm:problem:{}", code)},
            {"title", std::string(code)},
            {"status", status},
            {"code", std::string(code)},
            {"detail", std::string(detail)}};
  if (!instance.empty()) j["instance"] = std::string(instance);
  r.body = dump(j);
  return r;
}

int status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::ok: return 200;
    case ErrorCode::invalid_argument: return 400;
    case ErrorCode::invalid_definition: return 422;
    case ErrorCode::parse_error: return 400;
    case ErrorCode::not_found: return 404;
    case ErrorCode::already_exists: return 409;
    case ErrorCode::permission_denied: return 403;
    case ErrorCode::invalid_state: return 409;
    case ErrorCode::cycle: return 409;
    case ErrorCode::conflict: return 409;
    case ErrorCode::storage: return 503;
    case ErrorCode::internal: return 500;
  }
  return 500;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    std::string k(part.substr(0, eq)), v(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    std::replace(k.begin(), k.end(), '+', ' ');
    std::replace(v.begin(), v.end(), '+', ' ');
    auto dk = percent_decode(k), dv = percent_decode(v);
    if (!dk || !dv) return std::nullopt;
    out.emplace_back(std::move(*dk), std::move(*dv));
  }
  return out;
}

// ---- tokens ----------------------------------------------------------------------------

Tokens Tokens::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, fmt::format("cannot read the tokens file '{}'", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json(parse_json(ss.str(), fmt::format("tokens file '{}'", file.string())));
}

Tokens Tokens::from_json(const Json& doc) {
  auto bad = [](const std::string& m) { throw Error(ErrorCode::invalid_argument, "tokens file: " + m); };
  if (!doc.is_object() || !doc.contains("tokens") || !doc.at("tokens").is_array())
    bad("expected {\"tokens\": [{\"token\", \"actor\", \"roles\"}, ...]}");
  for (const auto& [k, v] : doc.items())
    if (k != "tokens") bad(fmt::format("unknown key '{}'", k));
  Tokens t;
  std::size_t n = 0;
  for (const Json& e : doc.at("tokens")) {
    ++n;
    if (!e.is_object()) bad(fmt::format("entry {} is not an object", n));
    for (const auto& [k, v] : e.items())
      if (k != "token" && k != "actor" && k != "roles") bad(fmt::format("entry {}: unknown key '{}'", n, k));
    if (!e.contains("token") || !e.at("token").is_string()) bad(fmt::format("entry {}: 'token' must be a string", n));
    if (!e.contains("actor") || !e.at("actor").is_string()) bad(fmt::format("entry {}: 'actor' must be a string", n));
    std::string token = e.at("token").get<std::string>();
    Actor a{e.at("actor").get<std::string>(), {}};
    if (token.size() < 8) bad(fmt::format("entry {}: a token must have at least 8 characters", n));
    for (unsigned char c : token)
      if (c <= 0x20 || c >= 0x7f) bad(fmt::format("entry {}: a token must be printable ASCII without spaces", n));
    if (a.id.empty()) bad(fmt::format("entry {}: 'actor' is empty", n));
    if (e.contains("roles")) {
      if (!e.at("roles").is_array()) bad(fmt::format("entry {}: 'roles' must be an array of strings", n));
      for (const Json& r : e.at("roles")) {
        if (!r.is_string()) bad(fmt::format("entry {}: 'roles' must be an array of strings", n));
        a.roles.push_back(r.get<std::string>());
      }
    }
    for (const auto& [other, _] : t.tokens_)
      if (other == token) bad(fmt::format("entry {}: the token is given twice", n));
    t.tokens_.emplace_back(std::move(token), std::move(a));
  }
  return t;
}

const Actor* Tokens::find(std::string_view token) const {
  const Actor* found = nullptr;
  for (const auto& [t, actor] : tokens_) {
    // Every byte of every token is compared, so the time taken does not tell where they differ.
    unsigned diff = t.size() == token.size() ? 0u : 1u;
    for (std::size_t i = 0; i < t.size(); ++i)
      diff |= static_cast<unsigned char>(t[i]) ^ static_cast<unsigned char>(i < token.size() ? token[i] : 0);
    if (diff == 0) found = &actor;
  }
  return found;
}

// ---- routing ---------------------------------------------------------------------------

struct Api::Context {
  const Api& api;
  Engine& engine;
  const HttpRequest& request;
  std::string path;  ///< the raw path, for `instance`
  Actor actor;
  std::map<std::string, std::string> params;
  std::vector<std::pair<std::string, std::string>> query;
  const RouteInfo* info = nullptr;

  const std::string& param(const std::string& name) const { return params.at(name); }

  std::optional<std::string> query_one(const std::string& name) const {
    std::optional<std::string> out;
    for (const auto& [k, v] : query)
      if (k == name) {
        if (out) fail_http(400, "invalid_argument", fmt::format("query parameter '{}' is given twice", name));
        out = v;
      }
    return out;
  }
  std::vector<std::string> query_all(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : query)
      if (k == name) out.push_back(v);
    return out;
  }
  std::uint64_t query_count(const std::string& name, std::uint64_t fallback, std::uint64_t max) const {
    auto v = query_one(name);
    if (!v) return fallback;
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size() || v->empty())
      fail_http(400, "invalid_argument", fmt::format("query parameter '{}' must be a whole number, not '{}'", name, *v));
    if (n > max) fail_http(400, "invalid_argument", fmt::format("query parameter '{}' is above {}", name, max));
    return n;
  }

  /// The body as JSON; `required`: an empty body is refused, else it is {}.
  Json body(bool required) const {
    const std::string& b = request.body;
    bool blank = std::all_of(b.begin(), b.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
    if (blank) {
      if (required) fail_http(400, "invalid_argument", "the request needs a JSON body");
      return Json::object();
    }
    std::string ct = request.header("content-type");
    if (!ct.empty() && !is_json_type(ct))
      fail_http(415, "unsupported_media_type", fmt::format("the body must be application/json, not '{}'", ct));
    return parse_json(b, "the request body", 256);
  }

  /// The engine request of a command: the caller, If-Match and Idempotency-Key.
  Request command_request(bool on_existing_case) const {
    Request r(actor);
    std::string key = request.header("idempotency-key");
    if (request.headers.count("idempotency-key")) {
      if (key.empty() || key.size() > kMaxIdempotencyKey)
        fail_http(400, "bad_request", "Idempotency-Key must have 1 to 200 characters");
      for (unsigned char c : key)
        if (c < 0x20 || c >= 0x7f) fail_http(400, "bad_request", "Idempotency-Key must be printable ASCII");
      r.idempotency_key = key;
    }
    if (on_existing_case && request.headers.count("if-match")) {
      std::string m = request.header("if-match");
      if (m != "*") {
        auto v = version_of_tag(m);
        if (!v) fail_http(400, "bad_request", fmt::format("If-Match must be a case version such as \"7\", not '{}'", m));
        r.expected_version = *v;
      }
    }
    return r;
  }
};

struct Api::Route {
  RouteInfo info;
  std::vector<std::string> segments;
  std::function<HttpResponse(Context&)> handler;
};

namespace {

/// The answer of a command on `case_id`: the command result plus "case", ETag = new version.
HttpResponse command_response(const std::string& case_id, const CommandResult& r, int status = 200,
                              const std::string& location = {}) {
  Json j = to_json(r);
  j["case"] = case_id;
  HttpResponse out = json_response(status, j);
  out.headers.emplace_back("ETag", quoted_version(r.version));
  if (!location.empty()) out.headers.emplace_back("Location", location);
  return out;
}

/// A path segment as it goes into a Location header (every byte but unreserved ones escaped).
std::string encode_segment(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out.push_back(static_cast<char>(c));
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string reason_of(const Json& body) {
  JsonObjectReader r(body, "body", {"reason"});
  return r.str("reason");
}

template <typename T>
Json array_of(const std::vector<T>& v) {
  Json out = Json::array();
  for (const auto& x : v) out.push_back(to_json(x));
  return out;
}

}  // namespace

Api::Api(Engine& engine, Tokens tokens, ApiOptions options)
    : engine_(engine), tokens_(std::move(tokens)), options_(std::move(options)) {
  auto add = [this](RouteInfo info, std::function<HttpResponse(Context&)> h) {
    Route r{std::move(info), {}, std::move(h)};
    r.segments = split_path(r.info.path);
    infos_.push_back(r.info);
    table_.push_back(std::move(r));
  };
  Engine& e = engine_;
  const Api* api = this;

  // A command on an existing case: the caller's request, If-Match to 412, the result.
  auto case_command = [&e](Context& c, const std::function<CommandResult(const Request&, const std::string&)>& f,
                           int status = 200, const std::function<std::string(const CommandResult&)>& location = {}) {
    const std::string& id = c.param("case");
    Request r = c.command_request(true);
    try {
      CommandResult res = f(r, id);
      return command_response(id, res, status, location ? location(res) : std::string());
    } catch (const Error& err) {
      if (err.code() == ErrorCode::conflict && r.expected_version) {
        auto now = e.find_case(id);
        if (now && now->version != *r.expected_version)
          fail_http(412, "precondition_failed",
                    fmt::format("the case is at version {}, not {} (If-Match)", now->version, *r.expected_version));
      }
      throw;
    }
  };
  auto case_url = [](const std::string& id) { return "/v1/cases/" + encode_segment(id); };
  auto view = [&e](Context& c) { return e.as(c.actor).get_case(c.param("case")); };

  // ---- public ----
  add({"GET", "/", "The agent workspace page (its files are served under / too)", "meta", 200, "", "Html", {}, true},
      [this](Context& c) { return serve_static(c.request, "/"); });
  add({"GET", "/openapi.json", "The OpenAPI 3 description of this API", "meta", 200, "", "OpenApi", {}, true},
      [api](Context&) { return json_response(200, api->openapi()); });
  add({"GET", "/v1/me", "The caller: actor id and global roles", "meta", 200, "", "Actor"},
      [](Context& c) { return json_response(200, to_json(c.actor)); });

  // ---- definitions ----
  add({"POST", "/v1/definitions", "Register a definitions document or a CMMN XML model, all or nothing",
       "definitions", 200, "DefinitionsDocument", "DefinitionsLoaded"},
      [&e](Context& c) {
        const std::string& b = c.request.body;
        std::string ct = c.request.header("content-type");
        Json doc;
        bool xml = is_xml_type(ct) || ((ct.empty() || !is_json_type(ct)) && cmmn::is_xml(b));
        if (xml) {
          doc = cmmn::import(b).definitions;
        } else {
          doc = c.body(true);
        }
        e.load_definitions(Request(c.actor), doc);
        DefinitionSet set = parse_definitions(doc);
        Json out = {{"fragments", Json::array()}, {"case_types", Json::array()}};
        for (const auto& f : set.fragments) out["fragments"].push_back({{"id", f.id}, {"version", f.version}});
        for (const auto& t : set.case_types) out["case_types"].push_back({{"id", t.id}, {"version", t.version}});
        return json_response(200, out);
      });
  add({"GET", "/v1/definitions/fragments", "The latest version of every fragment", "definitions", 200, "",
       "FragmentDef[]"},
      [&e](Context&) {
        Json out = Json::array();
        for (const auto& f : e.list_fragments()) out.push_back(to_json(f));
        return json_response(200, out);
      });
  add({"GET", "/v1/definitions/fragments/{id}", "A fragment (default: its latest version)", "definitions", 200, "",
       "FragmentDef", {"version"}},
      [&e](Context& c) {
        int v = static_cast<int>(c.query_count("version", 0, std::numeric_limits<int>::max()));
        return json_response(200, to_json(e.get_fragment(c.param("id"), v)));
      });
  add({"GET", "/v1/definitions/case-types", "The latest version of every case type", "definitions", 200, "",
       "CaseTypeDef[]"},
      [&e](Context&) {
        Json out = Json::array();
        for (const auto& t : e.list_case_types()) out.push_back(to_json(t));
        return json_response(200, out);
      });
  add({"GET", "/v1/definitions/case-types/{id}", "A case type (default: its latest version)", "definitions", 200,
       "", "CaseTypeDef", {"version"}},
      [&e](Context& c) {
        int v = static_cast<int>(c.query_count("version", 0, std::numeric_limits<int>::max()));
        return json_response(200, to_json(e.get_case_type(c.param("id"), v)));
      });

  // ---- cases ----
  add({"POST", "/v1/cases", "Create a case", "cases", 201, "NewCase", "CommandResult", {}, false, true},
      [&e, case_url](Context& c) {
        NewCase spec = new_case_from_json(c.body(false));
        Request r = c.command_request(false);
        CommandResult res = e.create_case(r, spec);
        return command_response(res.created, res, 201, case_url(res.created));
      });
  add({"GET", "/v1/cases", "Search cases by status, owner and customer (newest first)", "cases", 200, "", "CasePage",
       {"status", "owner", "customer", "limit", "offset"}},
      [&e](Context& c) {
        CaseQuery q;
        for (const std::string& s : c.query_all("status")) q.statuses.push_back(case_status_from_name(s));
        q.owner = c.query_one("owner").value_or("");
        q.customer = c.query_one("customer").value_or("");
        q.limit = c.query_count("limit", 50, 10000);
        q.offset = c.query_count("offset", 0, std::numeric_limits<std::uint32_t>::max());
        CasePage page = e.as(c.actor).find_cases(q);
        return json_response(200, to_json(page));
      });
  add({"GET", "/v1/cases/{case}", "A case (ETag: its version)", "cases", 200, "", "Case"}, [view](Context& c) {
    CaseInfo info = view(c);
    std::string etag = quoted_version(info.version);
    if (c.request.headers.count("if-none-match")) {
      auto v = version_of_tag(c.request.header("if-none-match"));
      if (v && *v == info.version) {
        HttpResponse r;
        r.status = 304;
        r.content_type.clear();
        r.headers.emplace_back("ETag", etag);
        return r;
      }
    }
    HttpResponse r = json_response(200, to_json(info));
    r.headers.emplace_back("ETag", etag);
    return r;
  });
  add({"GET", "/v1/cases/{case}/history", "The case's events from sequence number `from`", "cases", 200, "",
       "Event[]", {"from"}},
      [&e](Context& c) {
        std::uint64_t from = c.query_count("from", 1, std::numeric_limits<std::uint64_t>::max());
        return json_response(200, array_of(e.as(c.actor).history(c.param("case"), from == 0 ? 1 : from)));
      });
  add({"GET", "/v1/cases/{case}/priority", "How the case's priority is made up", "cases", 200, "",
       "PriorityExplanation"},
      [&e](Context& c) { return json_response(200, e.as(c.actor).explain_priority(c.param("case"))); });
  add({"PUT", "/v1/cases/{case}/owner", "Give the case a new owner", "cases", 200, "Owner", "CommandResult", {}, false,
       true},
      [&e, case_command](Context& c) {
        JsonObjectReader b(c.body(true), "body", {"owner"});
        std::string owner = b.required_str("owner");
        return case_command(c, [&](const Request& r, const std::string& id) { return e.set_owner(r, id, owner); });
      });
  add({"PUT", "/v1/cases/{case}/priority", "Set the case's base priority", "cases", 200, "Priority", "CommandResult",
       {}, false, true},
      [&e, case_command](Context& c) {
        JsonObjectReader b(c.body(true), "body", {"priority"});
        if (!b.has("priority")) fail_http(400, "invalid_argument", "body: 'priority' is required");
        int p = static_cast<int>(b.integer("priority", 0, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
        return case_command(c, [&](const Request& r, const std::string& id) { return e.set_priority(r, id, p); });
      });
  add({"PUT", "/v1/cases/{case}/subject/attributes/{key}", "Set one subject attribute (the body is its JSON value)",
       "cases", 200, "AnyValue", "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        Json v = c.body(true);
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.set_subject_attribute(r, id, c.param("key"), v);
        });
      });
  struct StatusCommand {
    const char* name;
    const char* summary;
    bool reason;
    CommandResult (Engine::*with_reason)(const Request&, const std::string&, const std::string&);
    CommandResult (Engine::*plain)(const Request&, const std::string&);
  };
  for (const StatusCommand& s : std::initializer_list<StatusCommand>{
           {"suspend", "Suspend the case", true, &Engine::suspend_case, nullptr},
           {"resume", "Resume a suspended case", false, nullptr, &Engine::resume_case},
           {"complete", "Complete the case now", false, nullptr, &Engine::complete_case},
           {"terminate", "Terminate the case", true, &Engine::terminate_case, nullptr},
           {"close", "Close a completed or terminated case (read-only)", false, nullptr, &Engine::close_case},
           {"reopen", "Reopen a completed, terminated or closed case", true, &Engine::reopen_case, nullptr}}) {
    add({"POST", fmt::format("/v1/cases/{{case}}/{}", s.name), s.summary, "cases", 200, s.reason ? "Reason" : "",
         "CommandResult", {}, false, true},
        [&e, case_command, s](Context& c) {
          Json body = c.body(false);
          std::string reason;
          if (s.reason)
            reason = reason_of(body);
          else
            JsonObjectReader(body, "body", {});
          return case_command(c, [&](const Request& r, const std::string& id) {
            return s.reason ? (e.*s.with_reason)(r, id, reason) : (e.*s.plain)(r, id);
          });
        });
  }
  add({"POST", "/v1/cases/{case}/signals/{name}", "Deliver a named external event (the body is its payload)", "cases",
       200, "AnyObject", "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        Json payload = c.body(false);
        if (!payload.is_object()) fail_http(400, "invalid_argument", "the signal's payload must be a JSON object");
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.signal(r, id, c.param("name"), payload);
        });
      });

  // ---- participants ----
  add({"GET", "/v1/cases/{case}/participants", "The case's participants", "participants", 200, "", "Participant[]"},
      [view](Context& c) { return json_response(200, array_of(view(c).participants)); });
  add({"POST", "/v1/cases/{case}/participants", "Bring someone into the case with case roles (again: new roles)",
       "participants", 201, "Participant", "CommandResult", {}, false, true},
      [&e, case_command, case_url](Context& c) {
        JsonObjectReader b(c.body(true), "participant", {"actor", "roles"});
        Participant p{b.required_str("actor"), b.strings("roles")};
        return case_command(
            c, [&](const Request& r, const std::string& id) { return e.add_participant(r, id, p); }, 201,
            [&](const CommandResult&) {
              return case_url(c.param("case")) + "/participants/" + encode_segment(p.actor);
            });
      });
  add({"DELETE", "/v1/cases/{case}/participants/{actor}", "Remove a participant", "participants", 200, "",
       "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        c.body(false);
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.remove_participant(r, id, c.param("actor"));
        });
      });

  // ---- goals ----
  add({"GET", "/v1/cases/{case}/goals", "The case's goals", "goals", 200, "", "Goal[]"},
      [view](Context& c) { return json_response(200, array_of(view(c).goals)); });
  add({"POST", "/v1/cases/{case}/goals", "Add a goal", "goals", 201, "GoalSpec", "CommandResult", {}, false, true},
      [&e, case_command, case_url](Context& c) {
        GoalSpec g = goal_spec_from_json(c.body(true));
        return case_command(
            c, [&](const Request& r, const std::string& id) { return e.add_goal(r, id, g); }, 201,
            [&](const CommandResult& res) {
              return case_url(c.param("case")) + "/goals/" + encode_segment(res.created.empty() ? g.id : res.created);
            });
      });
  add({"GET", "/v1/cases/{case}/goals/{goal}", "A goal", "goals", 200, "", "Goal"}, [view](Context& c) {
    CaseInfo info = view(c);
    for (const auto& g : info.goals)
      if (g.id == c.param("goal")) return json_response(200, to_json(g));
    throw Error(ErrorCode::not_found, fmt::format("no goal '{}' in case '{}'", c.param("goal"), info.id));
  });
  add({"PATCH", "/v1/cases/{case}/goals/{goal}", "Change a goal (keys left out stay)", "goals", 200, "GoalChange",
       "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        GoalChange ch = goal_change_from_json(c.body(true));
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.change_goal(r, id, c.param("goal"), ch);
        });
      });
  add({"POST", "/v1/cases/{case}/goals/{goal}/achieve", "Declare a goal achieved", "goals", 200, "", "CommandResult",
       {}, false, true},
      [&e, case_command](Context& c) {
        JsonObjectReader(c.body(false), "body", {});
        return case_command(c, [&](const Request& r, const std::string& id) { return e.achieve_goal(r, id, c.param("goal")); });
      });
  add({"POST", "/v1/cases/{case}/goals/{goal}/cancel", "Cancel a goal", "goals", 200, "Reason", "CommandResult", {},
       false, true},
      [&e, case_command](Context& c) {
        std::string reason = reason_of(c.body(false));
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.cancel_goal(r, id, c.param("goal"), reason);
        });
      });
  add({"POST", "/v1/cases/{case}/goals/{goal}/pause", "Stop a goal's clock", "goals", 200, "Reason", "CommandResult",
       {}, false, true},
      [&e, case_command](Context& c) {
        std::string reason = reason_of(c.body(false));
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.pause_goal(r, id, c.param("goal"), reason);
        });
      });
  add({"POST", "/v1/cases/{case}/goals/{goal}/resume", "Restart a goal's clock", "goals", 200, "", "CommandResult",
       {}, false, true},
      [&e, case_command](Context& c) {
        JsonObjectReader(c.body(false), "body", {});
        return case_command(c, [&](const Request& r, const std::string& id) { return e.resume_goal(r, id, c.param("goal")); });
      });
  add({"POST", "/v1/cases/{case}/pause-goals", "Stop the clock of every open goal with a deadline", "goals", 200,
       "Reason", "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        std::string reason = reason_of(c.body(false));
        return case_command(c, [&](const Request& r, const std::string& id) { return e.pause_goal(r, id, "", reason); });
      });
  add({"POST", "/v1/cases/{case}/resume-goals", "Restart the clock of every paused goal", "goals", 200, "",
       "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        JsonObjectReader(c.body(false), "body", {});
        return case_command(c, [&](const Request& r, const std::string& id) { return e.resume_goal(r, id, ""); });
      });

  // ---- promises ----
  add({"GET", "/v1/cases/{case}/promises", "The case's promises to the customer", "promises", 200, "", "Promise[]"},
      [view](Context& c) { return json_response(200, array_of(view(c).promises)); });
  add({"POST", "/v1/cases/{case}/promises", "Make a promise to the customer", "promises", 201, "PromiseSpec",
       "CommandResult", {}, false, true},
      [&e, case_command, case_url](Context& c) {
        PromiseSpec p = promise_spec_from_json(c.body(true));
        return case_command(
            c, [&](const Request& r, const std::string& id) { return e.make_promise(r, id, p); }, 201,
            [&](const CommandResult&) { return case_url(c.param("case")) + "/promises/" + encode_segment(p.id); });
      });
  add({"POST", "/v1/cases/{case}/promises/{promise}/keep", "Mark a promise kept", "promises", 200, "",
       "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        JsonObjectReader(c.body(false), "body", {});
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.keep_promise(r, id, c.param("promise"));
        });
      });
  add({"POST", "/v1/cases/{case}/promises/{promise}/cancel", "Cancel a promise", "promises", 200, "Reason",
       "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        std::string reason = reason_of(c.body(false));
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.cancel_promise(r, id, c.param("promise"), reason);
        });
      });

  // ---- runtime assembly ----
  add({"GET", "/v1/cases/{case}/fragments/applicable", "Discretionary fragments that apply to the case now",
       "assembly", 200, "", "FragmentOffer[]"},
      [&e](Context& c) { return json_response(200, array_of(e.as(c.actor).applicable_fragments(c.param("case")))); });
  add({"POST", "/v1/cases/{case}/fragments", "Add a fragment to the case plan", "assembly", 201, "FragmentUse",
       "CommandResult", {}, false, true},
      [&e, case_command, case_url](Context& c) {
        auto [use, after] = fragment_addition_from_json(c.body(true));
        return case_command(
            c,
            [&](const Request& r, const std::string& id) {
              return e.add_fragment(r, id, use, after);
            },
            201, [&](const CommandResult& res) { return case_url(c.param("case")) + "/items/" + encode_segment(res.created); });
      });
  add({"POST", "/v1/cases/{case}/tasks", "Add an ad-hoc task", "assembly", 201, "AdHocTask", "CommandResult", {},
       false, true},
      [&e, case_command, case_url](Context& c) {
        AdHocTask t = ad_hoc_task_from_json(c.body(true));
        return case_command(
            c, [&](const Request& r, const std::string& id) { return e.add_task(r, id, t); },
            201, [&](const CommandResult& res) { return case_url(c.param("case")) + "/items/" + encode_segment(res.created); });
      });

  // ---- plan items ----
  add({"GET", "/v1/cases/{case}/items", "The case's plan items", "items", 200, "", "PlanItem[]"},
      [view](Context& c) { return json_response(200, array_of(view(c).items)); });
  add({"GET", "/v1/cases/{case}/items/{item}", "A plan item", "items", 200, "", "PlanItem"}, [view](Context& c) {
    CaseInfo info = view(c);
    for (const auto& i : info.items)
      if (i.id == c.param("item")) return json_response(200, to_json(i));
    throw Error(ErrorCode::not_found, fmt::format("no plan item '{}' in case '{}'", c.param("item"), info.id));
  });
  add({"DELETE", "/v1/cases/{case}/items/{item}", "Remove a planned item that has not started", "items", 200, "",
       "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        c.body(false);
        return case_command(c, [&](const Request& r, const std::string& id) { return e.remove_item(r, id, c.param("item")); });
      });
  add({"POST", "/v1/cases/{case}/items/{item}/dependencies", "Make the item wait for another", "items", 200,
       "Dependency", "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        JsonObjectReader b(c.body(true), "body", {"after"});
        std::string after = b.required_str("after");
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.add_dependency(r, id, c.param("item"), after);
        });
      });
  add({"POST", "/v1/cases/{case}/items/{item}/assign", "Assign the item (empty or null: unassign)", "items", 200,
       "Assign", "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        Json body = c.body(true);
        JsonObjectReader b(body, "body", {"assignee"});
        if (!b.has("assignee")) fail_http(400, "invalid_argument", "body: 'assignee' is required (null: unassign)");
        std::string who = body.at("assignee").is_null() ? std::string() : b.str("assignee");
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.assign_item(r, id, c.param("item"), who);
        });
      });
  add({"POST", "/v1/cases/{case}/items/{item}/complete", "Complete an active task or stage", "items", 200, "Complete",
       "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        Json body = c.body(false);
        JsonObjectReader b(body, "body", {"output"});
        Json output = b.has("output") ? body.at("output") : Json(nullptr);
        return case_command(c, [&](const Request& r, const std::string& id) {
          return e.complete_item(r, id, c.param("item"), output);
        });
      });
  struct Transition {
    const char* name;
    const char* summary;
    CommandResult (Engine::*f)(const Request&, const std::string&, const std::string&);
  };
  for (const Transition& t : std::initializer_list<Transition>{
           {"start", "Start an enabled item", &Engine::start_item},
           {"terminate", "Terminate an item", &Engine::terminate_item},
           {"suspend", "Suspend an active item", &Engine::suspend_item},
           {"resume", "Resume a suspended item", &Engine::resume_item},
           {"disable", "Disable an enabled item", &Engine::disable_item},
           {"reenable", "Enable a disabled item again", &Engine::reenable_item},
           {"reactivate", "Reactivate a failed item", &Engine::reactivate_item},
           {"occur", "A user event occurs, or a milestone is declared reached", &Engine::occur}}) {
    add({"POST", fmt::format("/v1/cases/{{case}}/items/{{item}}/{}", t.name), t.summary, "items", 200, "",
         "CommandResult", {}, false, true},
        [&e, case_command, t](Context& c) {
          JsonObjectReader(c.body(false), "body", {});
          return case_command(c, [&](const Request& r, const std::string& id) { return (e.*t.f)(r, id, c.param("item")); });
        });
  }

  // ---- case file and assets ----
  add({"GET", "/v1/cases/{case}/file", "The whole case file", "file", 200, "", "AnyValue"},
      [view](Context& c) { return json_response(200, view(c).file); });
  add({"GET", "/v1/cases/{case}/file/{path}", "The case-file value at a dotted path", "file", 200, "", "AnyValue"},
      [view](Context& c) {
        CaseInfo info = view(c);
        const Json* at = &info.file;
        std::string_view path = c.param("path");
        std::size_t start = 0;
        while (true) {
          std::size_t dot = path.find('.', start);
          std::string key(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
          const Json* next = nullptr;
          if (at->is_object() && at->contains(key)) {
            next = &at->at(key);
          } else if (at->is_array() && !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit) && key.size() < 10) {
            std::size_t i = std::stoul(key);
            if (i < at->size()) next = &(*at)[i];
          }
          if (!next) throw Error(ErrorCode::not_found, fmt::format("no value at '{}' in the file of case '{}'", path, info.id));
          at = next;
          if (dot == std::string_view::npos) break;
          start = dot + 1;
        }
        return json_response(200, *at);
      });
  add({"PUT", "/v1/cases/{case}/file/{path}", "Set the case-file value at a dotted path (the body is the value)",
       "file", 200, "AnyValue", "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        Json v = c.body(true);
        return case_command(c, [&](const Request& r, const std::string& id) { return e.set_file(r, id, c.param("path"), v); });
      });
  add({"DELETE", "/v1/cases/{case}/file/{path}", "Remove the case-file value at a dotted path", "file", 200, "",
       "CommandResult", {}, false, true},
      [&e, case_command](Context& c) {
        c.body(false);
        return case_command(c, [&](const Request& r, const std::string& id) { return e.remove_file(r, id, c.param("path")); });
      });
  add({"GET", "/v1/cases/{case}/assets", "The case's documents, links and notes", "file", 200, "", "Asset[]"},
      [view](Context& c) { return json_response(200, array_of(view(c).assets)); });
  add({"POST", "/v1/cases/{case}/assets", "Attach a document, link or note", "file", 201, "AssetSpec",
       "CommandResult", {}, false, true},
      [&e, case_command, case_url](Context& c) {
        Asset a = asset_from_json(c.body(true));
        return case_command(
            c, [&](const Request& r, const std::string& id) { return e.attach(r, id, a); }, 201,
            [&](const CommandResult& res) { return case_url(c.param("case")) + "/assets/" + encode_segment(res.created); });
      });
  add({"GET", "/v1/cases/{case}/assets/{asset}", "An asset", "file", 200, "", "Asset"}, [view](Context& c) {
    CaseInfo info = view(c);
    for (const auto& a : info.assets)
      if (a.id == c.param("asset")) return json_response(200, to_json(a));
    throw Error(ErrorCode::not_found, fmt::format("no asset '{}' in case '{}'", c.param("asset"), info.id));
  });

  // ---- queues ----
  auto queue = [&e](Context& c, QueueFilter f) {
    f.limit = c.query_count("limit", 50, 10000);
    f.offset = c.query_count("offset", 0, std::numeric_limits<std::uint32_t>::max());
    QueuePage page = e.as(c.actor).queue_page(f);
    return json_response(200, to_json(page));
  };
  add({"GET", "/v1/queues/mine", "Work assigned to the caller", "queues", 200, "", "QueuePage", {"limit", "offset"}},
      [queue](Context& c) {
        QueueFilter f;
        f.assignee = c.actor.id;
        return queue(c, f);
      });
  add({"GET", "/v1/queues/roles/{role}", "Unassigned work that needs a role", "queues", 200, "", "QueuePage",
       {"limit", "offset"}},
      [queue](Context& c) {
        QueueFilter f;
        // No assignee: only the unassigned work of the role.
        f.roles = {c.param("role")};
        return queue(c, f);
      });
  add({"GET", "/v1/queue", "Open work for any filter", "queues", 200, "", "QueuePage",
       {"assignee", "role", "skill", "overdue_at", "limit", "offset"}},
      [queue](Context& c) {
        QueueFilter f;
        f.assignee = c.query_one("assignee").value_or("");
        f.roles = c.query_all("role");
        if (!c.query_all("skill").empty()) f.skills = c.query_all("skill");
        if (auto t = c.query_one("overdue_at")) f.overdue_at = parse_time(*t);
        return queue(c, f);
      });
  add({"GET", "/v1/overdue", "Open work whose due time has passed", "queues", 200, "", "QueuePage",
       {"limit", "offset"}},
      [queue, &e](Context& c) {
        QueueFilter f;
        f.overdue_at = e.clock().now();
        return queue(c, f);
      });

  // ---- learned templates ----
  add({"GET", "/v1/templates", "Every stored learned-template version (admin or designer)", "learning", 200, "",
       "TemplateInfo[]"},
      [&e, this](Context& c) {
        bool allowed = false;
        for (const auto& r : c.actor.roles)
          for (const auto& want : options_.admin_roles) allowed = allowed || r == want;
        for (const auto& r : c.actor.roles)
          for (const auto& want : options_.designer_roles) allowed = allowed || r == want;
        if (!allowed)
          throw Error(ErrorCode::permission_denied,
                      fmt::format("'{}' may not list learned templates (needs an admin or designer role)", c.actor.id));
        return json_response(200, array_of(e.templates().list()));
      });
  auto evidence = [](const std::vector<learn::Evidence>& ev) {
    Json out = Json::array();
    for (const auto& x : ev)
      out.push_back({{"feature", x.feature}, {"value", x.value}, {"weight", x.weight}, {"text", x.text}});
    return out;
  };
  auto completion_json = [evidence](const learn::Completion& d) {
    Json q = Json::array();
    for (const auto& [p, dur] : d.quantiles) q.push_back({{"quantile", p}, {"remaining", format_duration(dur)}});
    return Json{{"remaining", format_duration(d.remaining)},
                {"expected", format_time(d.expected)},
                {"quantiles", q},
                {"support", d.support},
                {"evidence", evidence(d.evidence)}};
  };
  add({"GET", "/v1/cases/{case}/recommendations", "Next steps, completion and plans learned from past cases",
       "learning", 200, "", "Recommendations", {"template", "limit"}},
      [&e, this, evidence, completion_json](Context& c) {
        const std::string& id = c.param("case");
        std::string name = c.query_one("template").value_or(std::string(kDefaultTemplate));
        std::size_t limit = c.query_count("limit", 5, 100);
        CaseInfo info = e.as(c.actor).get_case(id);
        auto l = learner(name);
        learn::Trace t = learn::trace_of(info, e.as(c.actor).history(id));
        bool work_done = false;
        for (const auto& s : t.steps) work_done = work_done || s.activity.empty() || s.activity[0] != '+';
        Json out = {{"case", id}, {"template", name}, {"steps_so_far", Json::array()}, {"next_steps", Json::array()},
                    {"completion", nullptr}, {"plan_suggestions", Json::array()}};
        for (const auto& s : t.steps) out["steps_so_far"].push_back(s.activity);
        for (const auto& n : l->next_steps(t, limit))
          out["next_steps"].push_back({{"activity", n.activity},
                                       {"probability", n.probability},
                                       {"support", n.support},
                                       {"matched", n.matched},
                                       {"evidence", evidence(n.evidence)}});
        if (!t.steps.empty()) out["completion"] = completion_json(l->completion(t, e.clock().now()));
        if (!work_done)
          for (const auto& p : l->suggest_plan(info.type, t.attributes, 3))
            out["plan_suggestions"].push_back({{"steps", p.steps},
                                               {"support", p.support},
                                               {"share", p.share},
                                               {"median_duration", format_duration(p.median_duration)},
                                               {"examples", p.examples}});
        return json_response(200, out);
      });
  add({"GET", "/v1/cases/{case}/forecast", "The case's expected completion, learned from past cases", "learning", 200,
       "", "Forecast", {"template"}},
      [&e, this, completion_json](Context& c) {
        const std::string& id = c.param("case");
        std::string name = c.query_one("template").value_or(std::string(kDefaultTemplate));
        CaseInfo info = e.as(c.actor).get_case(id);
        auto l = learner(name);
        learn::Trace t = learn::trace_of(info, e.as(c.actor).history(id));
        Json out = completion_json(l->completion(t, e.clock().now()));
        out["case"] = id;
        out["template"] = name;
        return json_response(200, out);
      });

  // ---- events (streamed by the server itself) ----
  add({"GET", "/v1/events", "Every event of the cases the caller may view, as Server-Sent Events", "events", 200, "",
       "EventStream"},
      [](Context&) -> HttpResponse { fail_http(500, "internal", "the event stream is served by the server loop"); });
}

Api::~Api() = default;

const std::vector<RouteInfo>& Api::routes() const { return infos_; }

std::shared_ptr<const learn::Learner> Api::learner(const std::string& name) const {
  int latest = 0;
  for (const TemplateInfo& t : engine_.templates().list())
    if (t.name == name) latest = std::max(latest, t.version);
  if (latest == 0)
    throw Error(ErrorCode::not_found,
                fmt::format("no learned template '{}' in the store: run 'acm learn train --template {}' first", name, name));
  {
    std::lock_guard lock(learners_mutex_);
    auto it = learners_.find(name);
    if (it != learners_.end() && it->second.first == latest) return it->second.second;
  }
  auto l = std::make_shared<const learn::Learner>(learn::load_template(engine_, name, latest));
  std::lock_guard lock(learners_mutex_);
  learners_[name] = {latest, l};
  return l;
}

std::variant<Actor, HttpResponse> Api::authenticate(const HttpRequest& request) const {
  std::string auth = request.header("authorization");
  auto unauthorized = [](const char* detail) {
    HttpResponse r = problem(401, "unauthorized", detail);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"acm\"");
    return r;
  };
  if (auth.empty()) return unauthorized("this route needs 'Authorization: Bearer <token>'");
  constexpr std::string_view scheme = "bearer ";
  if (auth.size() <= scheme.size() ||
      !std::equal(scheme.begin(), scheme.end(), auth.begin(),
                  [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
    return unauthorized("the Authorization header must be 'Bearer <token>'");
  std::string_view token = std::string_view(auth).substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  const Actor* a = tokens_.find(token);
  if (!a) return unauthorized("unknown token");
  return *a;
}

bool Api::is_admin(const Actor& actor) const {
  for (const auto& r : actor.roles)
    for (const auto& admin : options_.admin_roles)
      if (r == admin) return true;
  return false;
}

bool Api::may_view(const Actor& actor, const std::string& case_id) const {
  if (is_admin(actor)) return engine_.find_case(case_id).has_value();
  try {
    return engine_.as(actor).find_case(case_id).has_value();
  } catch (const Error&) {
    return false;
  }
}

HttpResponse Api::handle(const HttpRequest& request) const {
  std::string_view target = request.target;
  std::string path(target.substr(0, target.find('?')));
  try {
    return handle_unchecked(request);
  } catch (const HttpFailure& f) {
    return problem(f.status, f.code, f.detail, path);
  } catch (const Error& e) {
    return problem(status_of(e.code()), to_string(e.code()), e.what(), path);
  } catch (const std::exception& e) {
    return problem(500, "internal", fmt::format("unexpected failure: {}", e.what()), path);
  }
}

HttpResponse Api::handle_unchecked(const HttpRequest& request) const {
  std::string_view target = request.target;
  std::size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  if (raw_path.empty() || raw_path.front() != '/') fail_http(400, "bad_request", "the request target must be a path");
  std::vector<std::string> raw_segments = split_path(raw_path);
  std::vector<std::string> segments;
  for (const auto& s : raw_segments) {
    auto d = percent_decode(s);
    if (!d) fail_http(400, "bad_request", "the path has a malformed percent-escape (or an escaped NUL)");
    if (!valid_utf8(*d)) fail_http(400, "invalid_argument", "a path segment is not valid UTF-8 once decoded");
    segments.push_back(std::move(*d));
  }

  // Static files: everything that is neither /v1 nor /openapi.json.
  bool api_path = !raw_segments.empty() && (raw_segments[0] == "v1" || raw_segments[0] == "openapi.json");
  if (!api_path) {
    if (request.method != "GET") {
      HttpResponse r = problem(405, "method_not_allowed", "the page's files are read with GET", raw_path);
      r.headers.emplace_back("Allow", "GET");
      return r;
    }
    return serve_static(request, std::string(raw_path));
  }

  std::vector<std::string> allowed;
  for (const Route& route : table_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      const std::string& p = route.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        if (segments[i].empty()) match = false;
        params[p.substr(1, p.size() - 2)] = segments[i];
      } else {
        match = p == raw_segments[i];
      }
    }
    if (!match) continue;
    if (route.info.method != request.method) {
      allowed.push_back(route.info.method);
      continue;
    }
    Context c{*this, engine_, request, std::string(raw_path), {}, std::move(params), {}, &route.info};
    if (q != std::string_view::npos) {
      auto qs = parse_query(target.substr(q + 1));
      if (!qs) fail_http(400, "bad_request", "the query has a malformed percent-escape");
      for (const auto& [k, v] : *qs)
        if (!valid_utf8(k) || !valid_utf8(v)) fail_http(400, "invalid_argument", "the query is not valid UTF-8 once decoded");
      c.query = std::move(*qs);
    }
    for (const auto& [k, v] : c.query)
      if (std::find(route.info.query.begin(), route.info.query.end(), k) == route.info.query.end())
        fail_http(400, "invalid_argument", fmt::format("unknown query parameter '{}'", k));
    if (!route.info.public_route) {
      auto who = authenticate(request);
      if (auto* r = std::get_if<HttpResponse>(&who)) {
        HttpResponse out = *r;
        return out;
      }
      c.actor = std::get<Actor>(who);
    }
    return route.handler(c);
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    HttpResponse r = problem(405, "method_not_allowed", fmt::format("{} is not allowed here (allowed: {})", request.method, allow),
                             raw_path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  fail_http(404, "no_route", fmt::format("no route {} {}", request.method, std::string(raw_path)));
}

std::string Api::content_type_of(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".woff2") return "font/woff2";
  return "application/octet-stream";
}

HttpResponse Api::serve_static(const HttpRequest&, const std::string& raw_path) const {
  auto not_found = [&] { return problem(404, "not_found", "no such file", raw_path); };
  if (options_.web_dir.empty()) return not_found();
  std::filesystem::path rel;
  if (raw_path == "/") {
    rel = "index.html";
  } else {
    for (const auto& s : split_path(raw_path)) {
      auto d = percent_decode(s);
      if (!d || d->empty() || *d == "." || *d == ".." || d->find('/') != std::string::npos ||
          d->find('\\') != std::string::npos || (*d)[0] == '.')
        return not_found();
      rel /= *d;
    }
  }
  std::error_code ec;
  auto root = std::filesystem::canonical(options_.web_dir, ec);
  if (ec) return not_found();
  auto file = std::filesystem::weakly_canonical(root / rel, ec);
  if (ec) return not_found();
  auto [r_end, f_it] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (r_end != root.end() || !std::filesystem::is_regular_file(file, ec)) return not_found();
  std::ifstream in(file, std::ios::binary);
  if (!in) return not_found();
  std::stringstream ss;
  ss << in.rdbuf();
  HttpResponse r;
  r.status = 200;
  r.content_type = content_type_of(file);
  r.body = ss.str();
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace acm::http
