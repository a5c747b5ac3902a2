// SPDX-License-Identifier: Apache-2.0
// bindings/http/openapi.cpp - the OpenAPI 3 document of acm-server, written from the route table
// (Api::routes) and the JSON shapes of docs/json.md.
#include "api.hpp"

#include <acm/version.hpp>

#include <fmt/format.h>

namespace acm::http {

namespace {

/// A schema from a short type name: string, integer, number, boolean, object, any, time,
/// duration, string[], X (a component), X[] (an array of a component).
Json type_schema(const std::string& t) {
  if (t.ends_with("[]")) return Json{{"type", "array"}, {"items", type_schema(t.substr(0, t.size() - 2))}};
  if (t == "string" || t == "integer" || t == "number" || t == "boolean") return Json{{"type", t}};
  if (t == "object") return Json{{"type", "object"}};
  if (t == "any") return Json::object();
  if (t == "time") return Json{{"type", "string"}, {"format", "date-time"}, {"nullable", true}};
  if (t == "duration") return Json{{"type", "string"}, {"description", "ISO-8601 duration"}, {"nullable", true}};
  return Json{{"$ref", "#/components/schemas/" + t}};
}

/// An object schema from "name:type" fields.
Json object_schema(std::initializer_list<std::pair<const char*, const char*>> fields, const char* description = "") {
  Json props = Json::object();
  for (const auto& [name, type] : fields) props[name] = type_schema(type);
  Json s = {{"type", "object"}, {"properties", props}};
  if (*description) s["description"] = description;
  return s;
}

Json schemas() {
  Json s = Json::object();
  s["Problem"] = object_schema({{"type", "string"}, {"title", "string"}, {"status", "integer"}, {"code", "string"},
                                {"detail", "string"}, {"instance", "string"}},
                               "RFC 9457 problem; `code` is the acm::ErrorCode name or an HTTP-level code");
  s["Actor"] = object_schema({{"id", "string"}, {"roles", "string[]"}});
  s["Participant"] = object_schema({{"actor", "string"}, {"roles", "string[]"}});
  s["Subject"] = object_schema({{"customer", "string"}, {"attributes", "object"}});
  s["Asset"] = object_schema({{"id", "string"}, {"kind", "string"}, {"title", "string"}, {"uri", "string"},
                              {"text", "string"}, {"media_type", "string"}, {"metadata", "object"},
                              {"added_at", "time"}, {"added_by", "string"}});
  s["Goal"] = object_schema({{"id", "string"}, {"name", "string"}, {"owner", "string"}, {"parent", "string"},
                             {"required", "boolean"}, {"status", "string"}, {"timing", "string"},
                             {"deadline", "time"}, {"criterion", "string"}, {"milestones", "string[]"},
                             {"decision", "boolean"}, {"achieved_at", "time"}, {"remaining_work", "duration"},
                             {"paused_since", "time"}});
  s["PlanItem"] = object_schema({{"id", "string"}, {"def", "string"}, {"name", "string"}, {"kind", "string"},
                                 {"state", "string"}, {"parent", "string"}, {"fragment", "string"},
                                 {"fragment_version", "integer"}, {"goal", "string"}, {"role", "string"},
                                 {"skills", "string[]"}, {"assignee", "string"}, {"estimate", "duration"},
                                 {"due", "time"}, {"required", "boolean"}, {"manual", "boolean"},
                                 {"repetition", "integer"}, {"after", "string[]"}, {"activated_at", "time"},
                                 {"ended_at", "time"}});
  s["Promise"] = object_schema({{"id", "string"}, {"what", "string"}, {"due", "time"}, {"status", "string"},
                                {"timing", "string"}, {"expected", "time"}});
  s["Case"] = object_schema({{"id", "string"}, {"type", "string"}, {"type_version", "integer"}, {"title", "string"},
                             {"subject", "Subject"}, {"owner", "string"}, {"participants", "Participant[]"},
                             {"priority", "integer"}, {"status", "string"}, {"file", "object"},
                             {"assets", "Asset[]"}, {"goals", "Goal[]"}, {"items", "PlanItem[]"},
                             {"promises", "Promise[]"}, {"version", "integer"}, {"created_at", "time"},
                             {"next_deadline", "time"}});
  s["Event"] = object_schema({{"case", "string"}, {"seq", "integer"}, {"time", "time"}, {"actor", "string"},
                              {"kind", "string"}, {"payload", "object"}});
  s["CommandResult"] = object_schema({{"case", "string"}, {"version", "integer"}, {"events", "Event[]"},
                                      {"created", "string"}},
                                     "what a command did; `created`: the id of what it created (\"\" when nothing)");
  s["CaseSummary"] = object_schema({{"id", "string"}, {"type", "string"}, {"type_version", "integer"},
                                    {"title", "string"}, {"status", "string"}, {"owner", "string"},
                                    {"customer", "string"}, {"priority", "integer"}, {"version", "integer"},
                                    {"created_at", "time"}, {"updated_at", "time"}, {"next_deadline", "time"}});
  s["CasePage"] = object_schema({{"cases", "CaseSummary[]"}, {"total", "integer"}});
  s["WorkItem"] = object_schema({{"case", "string"}, {"item", "string"}, {"name", "string"}, {"state", "string"},
                                 {"assignee", "string"}, {"role", "string"}, {"skills", "string[]"},
                                 {"due", "time"}, {"priority", "integer"}, {"case_title", "string"},
                                 {"customer", "string"}, {"goal", "string"}, {"goal_deadline", "time"},
                                 {"goal_timing", "string"}});
  s["QueuePage"] = object_schema({{"items", "WorkItem[]"}, {"total", "integer"}});
  s["FragmentOffer"] = object_schema({{"fragment", "string"}, {"version", "integer"}, {"name", "string"},
                                      {"description", "string"}, {"parameters", "object[]"}});
  s["TemplateInfo"] = object_schema({{"name", "string"}, {"version", "integer"}, {"kind", "string"},
                                     {"created_at", "time"}, {"meta", "object"}});
  s["PriorityExplanation"] = object_schema({{"priority", "integer"}, {"base", "integer"}, {"score", "number"},
                                            {"terms", "object[]"}});
  s["FragmentDef"] = Json{{"type", "object"}, {"description", "a fragment definition (docs/definitions.md)"}};
  s["CaseTypeDef"] = Json{{"type", "object"}, {"description", "a case type definition (docs/definitions.md)"}};
  s["DefinitionsDocument"] = Json{
      {"type", "object"},
      {"description", "a definitions document (docs/definitions.md); or a CMMN 1.1 XML model as application/xml"}};
  s["IdVersion"] = object_schema({{"id", "string"}, {"version", "integer"}});
  s["DefinitionsLoaded"] = object_schema({{"fragments", "IdVersion[]"}, {"case_types", "IdVersion[]"}});
  s["NewCase"] = object_schema({{"id", "string"}, {"type", "string"}, {"type_version", "integer"},
                                {"title", "string"}, {"subject", "Subject"}, {"owner", "string"},
                                {"priority", "integer"}, {"participants", "Participant[]"}, {"file", "object"}});
  s["GoalSpec"] = object_schema({{"id", "string"}, {"name", "string"}, {"owner", "string"}, {"parent", "string"},
                                 {"required", "boolean"}, {"deadline", "time"}, {"within", "duration"},
                                 {"anchor", "string"}, {"criterion", "string"}, {"milestones", "string[]"},
                                 {"decision", "boolean"}});
  s["GoalSpec"]["required"] = {"id"};
  s["GoalChange"] = object_schema({{"name", "string"}, {"owner", "string"}, {"required", "boolean"},
                                   {"deadline", "time"}, {"criterion", "string"}, {"milestones", "string[]"}});
  s["PromiseSpec"] = object_schema({{"id", "string"}, {"what", "string"}, {"due", "time"}});
  s["PromiseSpec"]["required"] = {"id", "due"};
  s["FragmentUse"] = object_schema({{"fragment", "string"}, {"version", "integer"}, {"goal", "string"},
                                    {"params", "object"}, {"stage", "string"}, {"after", "string[]"}});
  s["FragmentUse"]["required"] = {"fragment"};
  s["AdHocTask"] = object_schema({{"name", "string"}, {"kind", "string"}, {"role", "string"}, {"skills", "string[]"},
                                  {"estimate", "duration"}, {"due", "duration"}, {"handler", "string"},
                                  {"input", "any"}, {"output", "string"}, {"goal", "string"}, {"assignee", "string"},
                                  {"after", "string[]"}, {"required", "boolean"}, {"manual", "boolean"}});
  s["AdHocTask"]["required"] = {"name"};
  s["AssetSpec"] = object_schema({{"id", "string"}, {"kind", "string"}, {"title", "string"}, {"uri", "string"},
                                  {"text", "string"}, {"media_type", "string"}, {"metadata", "object"}});
  s["AssetSpec"]["required"] = {"kind"};
  s["Reason"] = object_schema({{"reason", "string"}});
  s["Owner"] = object_schema({{"owner", "string"}});
  s["Priority"] = object_schema({{"priority", "integer"}});
  s["Assign"] = object_schema({{"assignee", "string"}}, "\"\" or null: unassign");
  s["Complete"] = object_schema({{"output", "any"}});
  s["Dependency"] = object_schema({{"after", "string"}});
  s["AnyValue"] = Json{{"description", "any JSON value"}};
  s["AnyObject"] = Json{{"type", "object"}};
  s["Evidence"] = object_schema({{"feature", "string"}, {"value", "string"}, {"weight", "number"}, {"text", "string"}});
  s["Forecast"] = object_schema({{"case", "string"}, {"template", "string"}, {"remaining", "duration"},
                                 {"expected", "time"}, {"quantiles", "object[]"}, {"support", "integer"},
                                 {"evidence", "Evidence[]"}});
  s["Recommendations"] = object_schema({{"case", "string"}, {"template", "string"}, {"steps_so_far", "string[]"},
                                        {"next_steps", "object[]"}, {"completion", "object"},
                                        {"plan_suggestions", "object[]"}});
  s["Html"] = Json{{"type", "string"}, {"description", "an HTML page"}};
  s["OpenApi"] = Json{{"type", "object"}, {"description", "this document"}};
  s["EventStream"] = Json{{"type", "string"},
                          {"description", "text/event-stream: `id:` (a number), `data:` an Event; `event: reset` when "
                                          "events after Last-Event-ID are no longer held"}};
  return s;
}

}  // namespace

Json Api::openapi() const {
  Json paths = Json::object();
  for (const RouteInfo& r : infos_) {
    Json op = {{"summary", r.summary}, {"tags", {r.tag}}};
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string op_id = method;
    for (char ch : r.path) op_id += (std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
    op["operationId"] = op_id;
    Json params = Json::array();
    std::size_t pos = 0;
    while ((pos = r.path.find('{', pos)) != std::string::npos) {
      std::size_t end = r.path.find('}', pos);
      params.push_back({{"name", r.path.substr(pos + 1, end - pos - 1)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}},
                        {"description", "percent-encoded when it holds '#', '/', '?', '%' or a space"}});
      pos = end;
    }
    for (const auto& q : r.query) {
      bool number = q == "limit" || q == "offset" || q == "from" || q == "version";
      params.push_back({{"name", q}, {"in", "query"}, {"required", false},
                        {"schema", {{"type", number ? "integer" : "string"}}}});
    }
    if (r.command) {
      params.push_back({{"name", "Idempotency-Key"}, {"in", "header"}, {"required", false},
                        {"schema", {{"type", "string"}, {"maxLength", 200}}}});
      if (r.path.starts_with("/v1/cases/{case}"))
        params.push_back({{"name", "If-Match"}, {"in", "header"}, {"required", false},
                          {"schema", {{"type", "string"}}}, {"description", "the case version, e.g. \"7\""}});
    }
    if (r.path == "/v1/events")
      params.push_back({{"name", "Last-Event-ID"}, {"in", "header"}, {"required", false}, {"schema", {{"type", "string"}}}});
    if (!params.empty()) op["parameters"] = params;
    if (!r.request_schema.empty()) {
      Json content = {{"application/json", {{"schema", type_schema(r.request_schema)}}}};
      if (r.request_schema == "DefinitionsDocument") content["application/xml"] = {{"schema", {{"type", "string"}}}};
      op["requestBody"] = {{"required", true}, {"content", content}};
    }
    std::string media = r.path == "/v1/events" ? "text/event-stream" : r.response_schema == "Html" ? "text/html" : "application/json";
    Json ok = {{"description", "success"}, {"content", {{media, {{"schema", type_schema(r.response_schema)}}}}}};
    if (r.success == 201)
      ok["headers"] = {{"Location", {{"schema", {{"type", "string"}}}, {"description", "the URL of what was created"}}}};
    Json problem_ref = {{"description", "an error (docs/http.md, Errors)"},
                        {"content", {{"application/problem+json", {{"schema", type_schema("Problem")}}}}}};
    op["responses"] = {{std::to_string(r.success), ok}, {"default", problem_ref}};
    if (r.public_route) op["security"] = Json::array();
    paths[r.path][method] = op;
  }
  return Json{{"openapi", "3.0.3"},
              {"info",
               {{"title", "acm-server"},
                {"version", acm::version()},
                {"description", "acm, the Adaptive Case Management engine, over HTTP (docs/http.md)"}}},
              {"paths", paths},
              {"security", {{{"bearer", Json::array()}}}},
              {"components",
               {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}, {"schemas", schemas()}}}};
}

}  // namespace acm::http
