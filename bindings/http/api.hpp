// SPDX-License-Identifier: Apache-2.0
// bindings/http/api.hpp - the /v1 API of acm-server, independent of the HTTP library: a request
// (method, target, headers, body) goes in, a response (status, headers, body) comes out.
//
// The route table is the one source of what the server answers: the router matches it, and
// the OpenAPI document (/openapi.json) is written from it (docs/http.md).
//
// Thread safety: Api::handle may be called from many threads at once (the Engine is
// thread-safe; the learner cache has its own lock).
#pragma once

#include <acm/engine.hpp>
#include <acm/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace acm::learn {
class Learner;
}

namespace acm::http {

/// A request as the server read it. Header names are lower case.
struct HttpRequest {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< path and query as sent ("/v1/cases/case-1?x=y"), still percent-encoded
  std::map<std::string, std::string> headers;
  std::string body;

  /// The header's value, or "" when absent.
  std::string header(const std::string& lower_name) const;
};

/// What the server sends back.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides Content-Type
  std::string body;
};

/// An RFC 9457 problem (application/problem+json) with acm's `code`.
HttpResponse problem(int status, std::string_view code, std::string_view detail, std::string_view instance = {});

/// The HTTP status of each acm::ErrorCode (docs/http.md "Errors").
int status_of(ErrorCode code);

/// The tokens file: bearer token -> actor and global roles.
class Tokens {
 public:
  /// Reads {"tokens": [{"token", "actor", "roles"}]}. Errors: Error(invalid_argument) naming the
  /// problem (a token shorter than 8 characters, an empty actor, a token given twice, ...),
  /// Error(not_found) when the file cannot be read, Error(parse_error) when it is not JSON.
  static Tokens load(const std::filesystem::path& file);
  static Tokens from_json(const Json& doc);
  /// The actor of `token`, or nullptr. Compares in time independent of where tokens differ.
  const Actor* find(std::string_view token) const;

 private:
  std::vector<std::pair<std::string, Actor>> tokens_;
};

/// Settings of the API besides the engine and the tokens.
struct ApiOptions {
  std::filesystem::path web_dir;  ///< the workspace page's files ("" = none served)
  std::vector<std::string> admin_roles{"admin"};        ///< as EngineOptions::admin_roles
  std::vector<std::string> designer_roles{"designer"};  ///< as EngineOptions::designer_roles
};

/// One route: a method and a path template whose "{name}" segments match one segment.
struct RouteInfo {
  std::string method;
  std::string path;     ///< e.g. "/v1/cases/{case}/items/{item}/start"
  std::string summary;  ///< one line
  std::string tag;      ///< group in the OpenAPI document
  int success = 200;    ///< status of a successful answer
  std::string request_schema;   ///< components/schemas name of the body ("" = no body)
  std::string response_schema;  ///< components/schemas name of the answer
  std::vector<std::string> query;  ///< query parameters it takes
  bool public_route = false;       ///< served without a token
  bool command = false;            ///< changes a case: takes Idempotency-Key (and If-Match on a case)
};

class Api {
 public:
  Api(Engine& engine, Tokens tokens, ApiOptions options);
  ~Api();

  /// Answers one request (every route but GET /v1/events, which the server streams itself).
  /// Never throws: every failure is a problem response.
  HttpResponse handle(const HttpRequest& request) const;

  /// The caller of a request: its actor, or the 401 problem to send.
  std::variant<Actor, HttpResponse> authenticate(const HttpRequest& request) const;

  /// Whether `actor` has one of the admin roles (may do everything).
  bool is_admin(const Actor& actor) const;

  /// Whether `actor` may view the case (an unknown case: false).
  bool may_view(const Actor& actor, const std::string& case_id) const;

  /// Every route, in the order of the table (GET /v1/events included).
  const std::vector<RouteInfo>& routes() const;

  /// The OpenAPI 3 document of the routes.
  Json openapi() const;

  /// The content type of a static file name ("index.html" -> "text/html; charset=utf-8").
  static std::string content_type_of(const std::filesystem::path& file);

  struct Route;
  struct Context;

 private:
  HttpResponse handle_unchecked(const HttpRequest& request) const;
  HttpResponse serve_static(const HttpRequest& request, const std::string& path) const;
  std::shared_ptr<const learn::Learner> learner(const std::string& name) const;

  Engine& engine_;
  Tokens tokens_;
  ApiOptions options_;
  std::vector<Route> table_;
  std::vector<RouteInfo> infos_;
  mutable std::mutex learners_mutex_;
  mutable std::map<std::string, std::pair<int, std::shared_ptr<const learn::Learner>>> learners_;
};

/// Decodes %XX escapes (and nothing else). nullopt when an escape is malformed or decodes to NUL.
std::optional<std::string> percent_decode(std::string_view text);

/// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space). nullopt on a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

}  // namespace acm::http
