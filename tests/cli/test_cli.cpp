// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the `acm` CLI: the real binary, run on temporary store files.
#include <algorithm>
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

struct Run {
  int code = -1;
  std::string out, err;
  Json json() const {
    INFO("stdout: " << out << "\nstderr: " << err);
    return Json::parse(out);
  }
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A scratch folder with a store file; runs `acm --db <dir>/t.db ARGS`.
struct Cli {
  fs::path dir;
  Cli() {
    dir =
        fs::temp_directory_path() / ("acm-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Cli() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string db() const { return (dir / "t.db").string(); }
  Run operator()(const std::string& args) const {
    const fs::path err = dir / "stderr.txt";
    const std::string cmd = quote(ACM_CLI) + " --db " + quote(db()) + " " + args + " 2>" + quote(err.string());
    Run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = slurp(err);
    return r;
  }
};

const std::string kDefinitions = std::string(ACM_SOURCE_DIR) + "/examples/definitions/helpdesk.json";

bool has_dot() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("cli: definitions, a case worked through, queues, history, pictures") {
  Cli acm;
  Run r = acm("--json definitions load " + quote(kDefinitions));
  REQUIRE(r.code == 0);
  CHECK(r.json()["fragments"] == 5);
  CHECK(r.json()["case_types"] == 1);

  r = acm("definitions list --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["fragments"].size() == 5);

  r =
      acm("case create --type complaint --title 'Laptop dead' --customer cust-42 --attr value=25000 "
          "--attr channel=twitter --priority 5 --json");
  REQUIRE(r.code == 0);
  const std::string id = r.json()["id"];
  CHECK(r.json()["case"]["subject"]["attributes"]["value"] == 25000);
  CHECK(r.json()["case"]["subject"]["attributes"]["channel"] == "twitter");

  r = acm("case show " + id + " --json");
  REQUIRE(r.code == 0);
  bool triage = false;
  const Json shown = r.json();
  for (const auto& item : shown["items"]) triage = triage || item["id"] == "diagnosis#1/triage";
  CHECK(triage);

  r = acm("queue --json");
  REQUIRE(r.code == 0);
  REQUIRE(r.json()["items"].size() >= 1);
  CHECK(r.json()["items"][0]["case"] == id);
  CHECK(r.json()["total"] == r.json()["items"].size());

  r = acm("item complete " + id + " diagnosis#1/triage --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["events"].size() >= 1);
  r = acm("file set " + id + " diagnosis.fault '\"hardware\"' --json");
  REQUIRE(r.code == 0);
  r = acm("fragment list " + id + " --json");
  REQUIRE(r.code == 0);
  bool repair = false;
  for (const auto& f : r.json()) repair = repair || f["fragment"] == "supplier_repair";
  CHECK(repair);
  r = acm("fragment add " + id + " supplier_repair --param supplier=acme --goal resolved --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["created"] == "supplier_repair#1");

  r = acm("task add " + id + " 'Call the shop' --role agent --estimate PT1H --due PT4H --json");
  REQUIRE(r.code == 0);
  const std::string task = r.json()["created"];
  r = acm("item assign " + id + " " + quote(task) + " cli --json");
  CHECK(r.code == 0);
  r = acm("goal add " + id + " --id callback --name 'Call back' --within PT8H --json");
  REQUIRE(r.code == 0);
  r = acm("overdue --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["items"].is_array());
  CHECK(r.json()["total"] == 0);

  r = acm("case list --json");
  REQUIRE(r.code == 0);
  REQUIRE(r.json().size() == 1);
  CHECK(r.json()[0]["id"] == id);
  r = acm("case history " + id + " --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()[0]["kind"] == "case_created");

  // Readable text without --json.
  r = acm("case show " + id);
  CHECK(r.code == 0);
  CHECK(r.out.find("diagnosis#1/diagnose") != std::string::npos);

  // The plan graph as DOT (and SVG when Graphviz is there).
  const std::string dot = (acm.dir / "plan.dot").string();
  r = acm("case show " + id + " --graph " + quote(dot));
  REQUIRE(r.code == 0);
  const std::string text = slurp(dot);
  CHECK(text.rfind("digraph", 0) == 0);
  CHECK(text.find("\"diagnosis#1/triage\"") != std::string::npos);
  CHECK(text.find("\"supplier_repair#1/repair\"") != std::string::npos);
  CHECK(text.find("goal:resolved") != std::string::npos);
  // Two fragments and a task at the top: the case plan is a frame holding them.
  CHECK(text.find("subgraph \"cluster_case\"") != std::string::npos);
  CHECK(text.find("subgraph \"cluster_supplier_repair#1\"") != std::string::npos);
  // The discretionary fragments that apply now: dashed boxes in the planning table.
  CHECK(text.find("subgraph \"cluster_planning\"") != std::string::npos);
  CHECK(text.find("\"offer:escalation\" [shape=box, style=\"rounded,dashed\"") != std::string::npos);
  if (has_dot()) {
    const std::string svg = (acm.dir / "plan.svg").string();
    r = acm("case show " + id + " --graph " + quote(svg));
    REQUIRE(r.code == 0);
    CHECK(slurp(svg).find("<svg") != std::string::npos);
  }

  r = acm("case terminate " + id + " --reason test --json");
  CHECK(r.code == 0);
  r = acm("case close " + id);
  CHECK(r.code == 0);
}

TEST_CASE("cli: bad input gives one 'acm:' line on stderr and the error's exit code") {
  Cli acm;
  REQUIRE(acm("definitions load " + quote(kDefinitions)).code == 0);

  Run r = acm("case show no-such-case");
  CHECK(r.code == 14);  // not_found
  CHECK(r.err.rfind("acm: ", 0) == 0);
  CHECK(r.out.empty());

  r = acm("definitions load " + quote(std::string(ACM_SOURCE_DIR) + "/examples/definitions/invalid.json"));
  CHECK(r.code == 12);  // invalid_definition
  CHECK(r.err.rfind("acm: ", 0) == 0);

  {
    std::ofstream bad(acm.dir / "broken.json");
    bad << "{ \"fragments\": [ ";
  }
  r = acm("definitions load " + quote((acm.dir / "broken.json").string()));
  CHECK(r.code == 13);  // parse_error
  CHECK(r.err.rfind("acm: ", 0) == 0);

  const std::string id = acm("case create --json").json()["id"];
  r = acm("goal add " + id + " --id g --name G --within PT8X");
  CHECK(r.code == 13);  // parse_error
  CHECK(r.err.find("PT8X") != std::string::npos);

  r = acm("item complete " + id + " no-such-item");
  CHECK(r.code == 14);

  r = acm("file set " + id + " a.b '{not json'");
  CHECK(r.code == 11);  // invalid_argument

  r = acm("case frobnicate");
  CHECK(r.code == 2);  // usage
  CHECK(r.err.rfind("acm: ", 0) == 0);

  r = acm("--as mallory case complete " + id);
  CHECK(r.code == 16);  // permission_denied

  r = acm("learn recommend " + id);
  CHECK(r.code == 14);  // no template yet
}

TEST_CASE("cli: --spec takes the JSON shape of the C ABI and acm-server, read by the same reader") {
  Cli acm;
  REQUIRE(acm("definitions load " + quote(kDefinitions)).code == 0);
  Run r = acm(R"(case create --json --spec '{"id": "s-1", "type": "complaint", "title": "From JSON", )"
              R"("subject": {"customer": "ada"}, "participants": [{"actor": "bob", "roles": ["agent"]}]}')");
  REQUIRE(r.code == 0);
  const Json c = r.json()["case"];
  CHECK(c["id"] == "s-1");
  CHECK(c["title"] == "From JSON");
  CHECK(c["subject"]["customer"] == "ada");
  CHECK(c["participants"][0]["actor"] == "bob");

  {
    std::ofstream goal(acm.dir / "goal.json");
    goal << R"({"id": "cb", "name": "Call back", "within": "PT4H", "required": false})";
  }
  REQUIRE(acm("goal add s-1 --spec @" + quote((acm.dir / "goal.json").string())).code == 0);
  r = acm(R"(task add s-1 --json --spec '{"name": "Call", "goal": "cb", "manual": true}')");
  REQUIRE(r.code == 0);
  const Json shown = acm("case show s-1 --json").json();
  bool optional_goal = false, task = false;
  for (const Json& g : shown["goals"]) optional_goal = optional_goal || (g["id"] == "cb" && g["required"] == false);
  for (const Json& i : shown["items"]) task = task || (i["name"] == "Call" && i["goal"] == "cb" && i["manual"] == true);
  CHECK(optional_goal);
  CHECK(task);

  // The reader's errors, the same words as over HTTP and the C ABI; nothing created.
  r = acm(R"(case create --spec '{"participants": [{"roles": []}]}')");
  CHECK(r.code == 11);
  CHECK(r.err.find("case: 'participants[0].actor' is required") != std::string::npos);
  r = acm(R"(task add s-1 --spec '{"name": "x", "estimte": "PT1H"}')");
  CHECK(r.code == 11);
  CHECK(r.err.find("task: unknown key 'estimte'") != std::string::npos);
  r = acm(R"(goal add s-1 --id g --spec '{"id": "g"}')");
  CHECK(r.code == 2);  // --spec excludes the other options: a usage error
  r = acm("goal add s-1 --name G");
  CHECK(r.code == 11);
  CHECK(r.err.find("--id and --name") != std::string::npos);
  CHECK(acm("case list --json").json().size() == 1);
}

TEST_CASE("cli: learn import reports malformed rows by line, --stop-on-error stops") {
  Cli acm;
  const fs::path log = acm.dir / "log.csv";
  {
    std::ofstream out(log);
    out << "case,activity,timestamp,resource\n"
        << "c1,open,2024-01-01 09:00:00,ann\n"
        << "c1,fix,2024-01-01 10:00:00,bob\n"
        << "c1,close,2024-01-01 11:00:00,bob\n"
        << "c2,open,not a time,ann\n"
        << "c2,open,2024-01-02 09:00:00,ann\n"
        << "c2,close,2024-01-02 12:00:00,bob\n";
  }
  Run r = acm("learn import " + quote(log.string()) + " --template small --json");
  REQUIRE(r.code == 0);
  const Json j = r.json();
  CHECK(j["template"] == "small");
  CHECK(j["version"] == 1);
  CHECK(j["import"]["skipped_rows"] == 1);
  REQUIRE(j["import"]["problems"].size() == 1);
  CHECK(j["import"]["problems"][0]["line"] == 5);

  r = acm("learn import " + quote(log.string()) + " --template small");
  CHECK(r.code == 0);
  CHECK(r.err.find(":5:") != std::string::npos);

  r = acm("learn import " + quote(log.string()) + " --stop-on-error");
  CHECK(r.code == 13);
  CHECK(r.err.find("5") != std::string::npos);

  r = acm("learn templates --json");
  REQUIRE(r.code == 0);
  CHECK(r.json().size() == 2);

  const std::string file = (acm.dir / "small.acmlrn").string();
  REQUIRE(acm("learn export --template small " + quote(file)).code == 0);
  r = acm("learn import-template " + quote(file) + " --template copy --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["traces"] == 2);
  // The header is checked first: an endless foreign file is refused at once, not read whole.
  r = acm("learn import-template /dev/zero --template zero");
  CHECK(r.code != 0);
  CHECK(r.err.find("bad magic") != std::string::npos);
}

TEST_CASE("cli: the demo, then train on its closed cases and recommend for the open one") {
  Cli acm;
  const std::string db = acm.db();
  Run r = acm("demo --db " + quote(db));
  REQUIRE(r.code == 0);
  CHECK(r.out.find("recommends") != std::string::npos);

  r = acm("learn train --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["cases_added"] == 13);
  r = acm("learn train --json");  // nothing new: cases are not learned twice
  REQUIRE(r.code == 0);
  CHECK(r.json()["cases_added"] == 0);
  CHECK(r.json()["traces"] == 13);
  r = acm("learn templates --json");
  REQUIRE(r.code == 0);
  REQUIRE(r.json().size() == 2);
  CHECK(r.json()[1]["version"] == 2);
  CHECK(r.json()[1]["meta"]["traces"] == 13);
  CHECK(r.json()[1]["meta"]["engine_cases"] == 13);

  const Json cases = acm("case list --json").json();
  std::string open;
  for (const auto& c : cases)
    if (c["status"] == "active") open = c["id"];
  REQUIRE(!open.empty());
  r = acm("learn recommend " + open + " --json");
  REQUIRE(r.code == 0);
  const Json rec = r.json();
  REQUIRE(rec["next_steps"].size() >= 1);
  CHECK(rec["next_steps"][0]["probability"].get<double>() > 0);
  CHECK(rec["next_steps"][0].contains("evidence"));
  CHECK(rec["completion"]["quantiles"].size() == 3);

  // A new case with no work done yet gets a plan suggestion.
  const std::string fresh = acm("case create --type complaint --attr channel=twitter --json").json()["id"];
  r = acm("learn recommend " + fresh + " --json");
  REQUIRE(r.code == 0);
  CHECK(r.json().contains("plan_suggestions"));

  r = acm("learn proposals --json");
  CHECK(r.code == 0);
}

TEST_CASE("cli: learn evaluate on the Tax et al. help-desk log") {
  const fs::path log = fs::path(ACM_DATA_DIR) / "helpdesk" / "helpdesk_tax2017.csv";
  if (!fs::exists(log)) {
    MESSAGE("skipped: " << log << " is missing");
    return;
  }
  Cli acm;
  const fs::path out = acm.dir / "predictions.csv";
  Run r = acm("learn evaluate " + quote(log.string()) + " --out " + quote(out.string()) + " --json");
  REQUIRE(r.code == 0);
  const Json j = r.json();
  // Published split at the top level ("the case ends" is a candidate; no absolute date).
  CHECK(j["split"] == "published");
  CHECK(j["points"] == 1993);
  const double markov = j["baselines"]["markov-1"].get<double>();
  CHECK(markov == doctest::Approx(0.6954).epsilon(0.001));  // same points, same training cases
  CHECK(j["baselines"]["variable-order markov"].get<double>() == doctest::Approx(0.6944).epsilon(0.001));
  CHECK(j["accuracy"].get<double>() >= 0.74);
  CHECK(j["accuracy"].get<double>() >= markov + 0.04);
  CHECK(j["mae_days"].get<double>() <= 6.2);
  // The temporal split, in the same run: train on cases ended before the cut, test after it.
  REQUIRE(j["splits"].size() == 2);
  const Json& t = j["splits"][1];
  CHECK(t["split"] == "temporal");
  CHECK(t["test_cases"] == 1268);
  CHECK(t["left_out_cases"] == 40);
  const double best = std::max(t["baselines"]["markov-1"].get<double>(), t["baselines"]["variable-order markov"].get<double>());
  CHECK(t["accuracy"].get<double>() >= best + 0.03);
  std::ifstream in(out);
  std::string line;
  REQUIRE(std::getline(in, line));
  CHECK(line == "case_id,prefix_length,predicted_next,predicted_remaining_seconds");
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    CHECK(line.find(",,") == std::string::npos);  // "the case ends" is written as end
  }
  CHECK(rows == 1993);

  r = acm("learn evaluate " + quote(log.string()) + " --out " + quote(out.string()));
  REQUIRE(r.code == 0);
  CHECK(r.out.find("accuracy") != std::string::npos);
  CHECK(r.out.find("markov-1") != std::string::npos);
  CHECK(r.out.find("temporal split") != std::string::npos);
  CHECK(r.out.find("MAE") != std::string::npos);
}

namespace {

/// A case type with a nested stage and sentries of every source (item, event, case file,
/// goal, if-part), and a role without `view`.
const char* kPlanDefinitions = R"({
  "fragments": [{
    "id": "repair_plan", "name": "Repair", "version": 1,
    "exit": [{"id": "withdrawn", "on": [{"event": "customer_withdrew"}]},
             {"on": [{"goal": "done", "on": "cancelled"}]}],
    "items": [
      {"id": "intake", "name": "Intake", "kind": "human_task", "role": "agent"},
      {"id": "work", "name": "Workshop", "kind": "stage",
       "entry": [{"on": [{"item": "intake", "on": "complete"}]}],
       "children": [
         {"id": "fix", "name": "Fix the device", "kind": "human_task", "estimate": "PT59M59.964S",
          "exit": [{"on": [{"event": "cancelled"}]}]},
         {"id": "check", "name": "Test it", "kind": "human_task", "after": ["fix"], "manual_activation": true}
       ]},
      {"id": "fixed", "name": "Device fixed", "kind": "milestone",
       "entry": [{"on": [{"item": "work", "on": "complete"}], "if": "file.quality >= 3"}]},
      {"id": "answer", "name": "Customer answers", "kind": "user_listener"},
      {"id": "notified", "name": "Customer notified", "kind": "milestone",
       "entry": [{"on": [{"file": "customer.notified", "on": "set"}]}]}
    ]}],
  "case_types": [{
    "id": "repair", "version": 1, "name": "Repair",
    "roles": [{"name": "clerk", "permissions": ["work"]},
              {"name": "agent", "permissions": ["view", "work", "plan"]}],
    "goals": [{"id": "done", "name": "Device back", "within": "2d", "milestones": ["fixed"]}],
    "initial_fragments": ["repair_plan"]}]
})";

/// Loads kPlanDefinitions and creates a repair case owned by alice; returns its id.
std::string repair_case(const Cli& acm) {
  {
    std::ofstream out(acm.dir / "plan.json");
    out << kPlanDefinitions;
  }
  Run r = acm("definitions load " + quote((acm.dir / "plan.json").string()));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  r = acm("case create --type repair --title 'Broken phone' --customer cust-7 --owner alice --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return r.json()["id"];
}

bool has_event(const Json& result, const std::string& kind) {
  for (const auto& e : result["events"])
    if (e["kind"] == kind) return true;
  return false;
}

/// True when `text` has no byte a terminal would not print as text.
bool printable(const std::string& text) {
  for (unsigned char ch : text)
    if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f || ch >= 0x80) return false;
  return true;
}

}  // namespace

TEST_CASE("cli: participants, owner, priority, subject, case status") {
  Cli acm;
  const std::string id = repair_case(acm);
  // Without bob as a participant the engine refuses to assign him work ...
  Run r = acm("item assign " + id + " repair_plan#1/intake bob");
  CHECK(r.code == 11);
  // ... the CLI can now bring him in.
  r = acm("participant add " + id + " bob --role agent --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(has_event(r.json(), "participant_added"));
  r = acm("item assign " + id + " repair_plan#1/intake bob --json");
  CHECK_MESSAGE(r.code == 0, r.err);
  r = acm("participant list " + id + " --json");
  REQUIRE(r.code == 0);
  REQUIRE(r.json()["participants"].size() == 1);
  CHECK(r.json()["participants"][0]["actor"] == "bob");
  CHECK(r.json()["participants"][0]["roles"][0] == "agent");
  r = acm("participant add " + id + " carol --role clerk");
  REQUIRE(r.code == 0);
  r = acm("participant remove " + id + " carol --json");
  REQUIRE(r.code == 0);
  CHECK(acm("participant list " + id + " --json").json()["participants"].size() == 1);

  r = acm("case owner " + id + " dave --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(acm("case show " + id + " --json").json()["owner"] == "dave");

  r = acm("case priority " + id + " 7 --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(acm("case show " + id + " --json").json()["priority"] == 7);
  r = acm("--json case priority " + id + " -- -3");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(acm("case show " + id + " --json").json()["priority"] == -3);
  r = acm("case priority " + id + " --json");  // without N: how it is made up
  REQUIRE(r.code == 0);
  CHECK(r.json()["priority"] == -3);
  CHECK(r.json()["base"] == -3);
  r = acm("case priority " + id + " high");
  CHECK(r.code == 11);
  CHECK(r.err.find("high") != std::string::npos);

  r = acm("case attr " + id + " tier=gold value=25000 --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const Json shown = acm("case show " + id + " --json").json();
  CHECK(shown["subject"]["attributes"]["tier"] == "gold");
  CHECK(shown["subject"]["attributes"]["value"] == 25000);

  r = acm("case suspend " + id + " --reason 'waiting for parts' --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(acm("case show " + id + " --json").json()["status"] == "suspended");
  r = acm("case resume " + id);
  REQUIRE(r.code == 0);
  CHECK(acm("case show " + id + " --json").json()["status"] == "active");
  REQUIRE(acm("case terminate " + id).code == 0);
  r = acm("case reopen " + id + " --reason 'customer called again' --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(acm("case show " + id + " --json").json()["status"] == "active");
}

TEST_CASE("cli: item lifecycle, signals, attachments, the case file") {
  Cli acm;
  const std::string id = repair_case(acm);
  auto state = [&](const std::string& item) {
    const Json shown = acm("case show " + id + " --json").json();
    for (const auto& i : shown["items"])
      if (i["id"] == item) return i["state"].get<std::string>();
    return std::string("(none)");
  };
  REQUIRE(state("repair_plan#1/intake") == "active");
  Run r = acm("item suspend " + id + " repair_plan#1/intake --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(state("repair_plan#1/intake") == "suspended");
  REQUIRE(acm("item resume " + id + " repair_plan#1/intake").code == 0);
  CHECK(state("repair_plan#1/intake") == "active");
  // Only a failed item can be reactivated (an automated task whose handler failed).
  r = acm("item reactivate " + id + " repair_plan#1/intake");
  CHECK(r.code == 17);  // invalid_state
  CHECK(r.err.find("not failed") != std::string::npos);
  REQUIRE(acm("item complete " + id + " repair_plan#1/intake").code == 0);
  CHECK(state("repair_plan#1/work") == "active");

  // A manual task waits in enabled: disable, reenable.
  REQUIRE(acm("item complete " + id + " repair_plan#1/fix").code == 0);
  REQUIRE(state("repair_plan#1/check") == "enabled");
  r = acm("item disable " + id + " repair_plan#1/check --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(state("repair_plan#1/check") == "disabled");
  REQUIRE(acm("item reenable " + id + " repair_plan#1/check").code == 0);
  CHECK(state("repair_plan#1/check") == "enabled");

  // Ad-hoc tasks: a dependency, removal, termination.
  const std::string a = acm("task add " + id + " 'Order parts' --manual --json").json()["created"];
  const std::string b = acm("task add " + id + " 'Install parts' --manual --json").json()["created"];
  r = acm("item depend " + id + " " + quote(b) + " " + quote(a) + " --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  bool waits = false;
  const Json plan = acm("case show " + id + " --json").json();
  for (const auto& i : plan["items"])
    if (i["id"] == b)
      for (const auto& x : i["after"]) waits = waits || x == a;
  CHECK(waits);
  r = acm("item depend " + id + " " + quote(a) + " " + quote(b));
  CHECK(r.code == 18);  // cycle
  r = acm("item remove " + id + " " + quote(b) + " --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(state(b) == "(none)");
  r = acm("item terminate " + id + " " + quote(a));
  CHECK(r.code == 0);

  // A user event listener occurs; a signal fires its on-parts.
  r = acm("item occur " + id + " repair_plan#1/answer --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(state("repair_plan#1/answer") == "completed");
  r = acm("signal " + id + " customer_withdrew --payload '{\"by\": \"phone\"}' --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(has_event(r.json(), "signal"));
  CHECK(state("repair_plan#1") == "terminated");  // the fragment's exit criterion
  r = acm("signal " + id + " x --payload '{oops'");
  CHECK(r.code == 11);

  // Attachments.
  r = acm("attach " + id + " --note 'Customer prefers e-mail' --title Preference --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const std::string asset = r.json()["asset"];
  CHECK(!asset.empty());
  r = acm("attach " + id + " --link https://example.com/manual.pdf --title Manual --meta pages=12");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("attached ") == 0);
  const Json shown = acm("case show " + id + " --json").json();
  REQUIRE(shown["assets"].size() == 2);
  CHECK(shown["assets"][0]["id"] == asset);
  CHECK(shown["assets"][0]["text"] == "Customer prefers e-mail");
  CHECK(shown["assets"][1]["uri"] == "https://example.com/manual.pdf");
  CHECK(acm("attach " + id + " --title nothing").code == 11);
  r = acm("case show " + id);
  CHECK(r.out.find("Preference") != std::string::npos);

  // The case file: set, show, remove.
  REQUIRE(acm("file set " + id + " customer.notified true").code == 0);
  CHECK(state("repair_plan#1/notified") == "terminated");  // its fragment had exited
  r = acm("file show " + id + " customer.notified");
  REQUIRE(r.code == 0);
  CHECK(r.out == "true\n");
  r = acm("file remove " + id + " customer.notified --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(acm("file show " + id + " customer.notified").code == 14);
}

TEST_CASE("cli: goal decisions and changes, promises") {
  Cli acm;
  const std::string id = acm("case create --title Goals --json").json()["id"];
  REQUIRE(acm("goal add " + id + " --id call --name 'Call back' --decision --within PT8H").code == 0);
  REQUIRE(acm("goal add " + id + " --id spare --name 'Spare part' --within P1D").code == 0);
  auto goal = [&](const std::string& g) {
    const Json shown = acm("case show " + id + " --json").json();
    for (const auto& x : shown["goals"])
      if (x["id"] == g) return x;
    return Json();
  };
  Run r = acm("goal change " + id + " call --name 'Call the customer back' --within PT4H --optional --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(goal("call")["name"] == "Call the customer back");
  CHECK(goal("call")["required"] == false);
  CHECK(acm("goal change " + id + " call").code == 11);                        // nothing to change
  r = acm("goal pause " + id + " --reason 'waiting on the customer' --json");  // every goal
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(!goal("call")["paused_since"].is_null());
  CHECK(!goal("spare")["paused_since"].is_null());
  REQUIRE(acm("goal resume " + id + " spare").code == 0);
  CHECK(goal("spare")["paused_since"].is_null());
  CHECK(!goal("call")["paused_since"].is_null());
  REQUIRE(acm("goal resume " + id).code == 0);
  r = acm("goal achieve " + id + " call --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(goal("call")["status"] == "achieved");
  r = acm("goal cancel " + id + " spare --reason 'not needed'");
  REQUIRE(r.code == 0);
  CHECK(goal("spare")["status"] == "cancelled");
  CHECK(acm("goal achieve " + id + " nope").code == 14);

  r = acm("promise make " + id + " --id fri --what 'Fixed by Friday' --within P3D --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  r = acm("promise make " + id + " --id call --what 'A call today' --due 2099-01-01T17:00:00Z");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  r = acm("promise keep " + id + " call --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  r = acm("promise cancel " + id + " fri --reason 'customer withdrew'");
  REQUIRE(r.code == 0);
  r = acm("promise list " + id + " --json");
  REQUIRE(r.code == 0);
  REQUIRE(r.json().size() == 2);
  for (const auto& p : r.json()) CHECK(p["status"] == (p["id"] == "call" ? "kept" : "cancelled"));
  CHECK(acm("promise make " + id + " --id x --what y").code == 11);  // no due time
  r = acm("promise list " + id);
  CHECK(r.out.find("Fixed by Friday") != std::string::npos);
}

TEST_CASE("cli: reads under --as check the view permission") {
  Cli acm;
  const std::string id = repair_case(acm);
  REQUIRE(acm("participant add " + id + " carol --role clerk").code == 0);  // work, no view
  REQUIRE(acm("participant add " + id + " bob --role agent").code == 0);
  for (const std::string who : {"mallory", "carol"}) {
    INFO(who);
    for (const std::string& cmd :
         {"case show " + id, "case history " + id, "fragment list " + id, "learn recommend " + id,
          "participant list " + id, "promise list " + id, "file show " + id, "case priority " + id}) {
      INFO(cmd);
      Run r = acm("--as " + who + " " + cmd);
      CHECK(r.code == 16);  // permission_denied
      CHECK(r.out.empty());
    }
    Run r = acm("--as " + who + " case list --json");
    REQUIRE(r.code == 0);
    CHECK(r.json().empty());
    r = acm("--as " + who + " queue --role agent --json");  // the queue shows no work of the case
    REQUIRE(r.code == 0);
    CHECK(r.json()["items"].empty());
    r = acm("--as " + who + " case search --json");
    REQUIRE(r.code == 0);
    CHECK(r.json()["cases"].empty());
  }
  CHECK(acm("queue --role agent --json").json()["items"].size() == 1);
  CHECK(acm("--as bob queue --role agent --json").json()["items"].size() == 1);
  CHECK(acm("--as bob case search --json").json()["cases"].size() == 1);
  // The owner and a participant whose role grants view see it.
  for (const std::string who : {"alice", "bob"}) {
    INFO(who);
    CHECK(acm("--as " + who + " case show " + id).code == 0);
    CHECK(acm("--as " + who + " case history " + id).code == 0);
    CHECK(acm("--as " + who + " fragment list " + id).code == 0);
    CHECK(acm("--as " + who + " case list --json").json().size() == 1);
  }
  CHECK(acm("--as bob learn recommend " + id).code == 14);  // may view; no template yet
}

TEST_CASE("cli: errors under --json, unknown commands, bad numbers and JSON") {
  Cli acm;
  Run r = acm("case show nope --json");
  CHECK(r.code == 14);
  CHECK(r.out.empty());
  Json e = Json::parse(r.err);
  CHECK(e["error"]["code"] == 14);
  CHECK(e["error"]["name"] == "not_found");
  CHECK(e["error"]["message"].get<std::string>().find("nope") != std::string::npos);

  r = acm("--json case frobnicate");
  CHECK(r.code == 2);
  e = Json::parse(r.err);
  CHECK(e["error"]["code"] == 2);
  CHECK(e["error"]["name"] == "usage");
  const std::string message = e["error"]["message"];
  CHECK(message.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(message.find("acm case") != std::string::npos);

  r = acm("cas list");
  CHECK(r.code == 2);
  CHECK(r.err.find("unknown command 'cas'") != std::string::npos);
  CHECK(r.err.find("did you mean 'case'") != std::string::npos);
  r = acm("item strat c1 i1");
  CHECK(r.err.find("unknown command 'strat'") != std::string::npos);
  CHECK(r.err.find("did you mean 'start'") != std::string::npos);

  r = acm("queue --limit -5");
  CHECK(r.code == 11);
  CHECK(r.err.find("--limit -5") != std::string::npos);
  CHECK(r.err.find("negative") != std::string::npos);
  r = acm("queue --limit many --json");
  CHECK(r.code == 11);
  CHECK(Json::parse(r.err)["error"]["message"].get<std::string>().find("not a whole number") != std::string::npos);
  CHECK(acm("case list --limit 0").code == 11);
  CHECK(acm("queue --limit 5").code == 0);

  const std::string id = acm("case create --json").json()["id"];
  r = acm("file set " + id + " a.b '{\"x\": 1,\n \"y\": tru}'");
  CHECK(r.code == 11);
  CHECK(r.err.find("line 2, column") != std::string::npos);
  CHECK(r.err.find("byte") != std::string::npos);
  r = acm("file set " + id + " a.b '[1, 2'");
  CHECK(r.code == 11);
  CHECK(r.err.find("line 1, column 6 (byte 6)") != std::string::npos);
}

TEST_CASE("cli: durations print rounded for people") {
  Cli acm;
  const std::string id = acm("case create --json").json()["id"];
  REQUIRE(acm("goal add " + id + " --id g --name G --within P2D").code == 0);
  REQUIRE(acm("task add " + id + " Work --estimate PT59M59.964S --goal g --manual").code == 0);  // not started
  const Run r = acm("case show " + id);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("remaining work 59m 59s") != std::string::npos);
  CHECK(r.out.find("PT59M59.964S") == std::string::npos);
  // The events a command prints: a goal turning at risk names its remaining work for people.
  REQUIRE(acm("goal add " + id + " --id soon --name Soon --within PT1H").code == 0);
  const Run late = acm("task add " + id + " Long --estimate PT2H30M --goal soon --manual");
  REQUIRE(late.code == 0);
  CHECK(late.out.find("is at_risk") != std::string::npos);
  CHECK(late.out.find("remaining work 2h 30m") != std::string::npos);
  CHECK(late.out.find("PT2H30M") == std::string::npos);
}

TEST_CASE("cli: event logs read with the wrong format or timestamps say what to do") {
  Cli acm;
  // A gzip file read as CSV: a clear message, no binary on the terminal.
  const fs::path gz = acm.dir / "log.xes.gz";
  {
    std::ofstream out(gz, std::ios::binary);
    out << std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xfe\x80\x01\x02", 15);
  }
  Run r = acm("learn import " + quote(gz.string()) + " --format csv");
  CHECK(r.code == 11);
  CHECK(r.err.find("gzip") != std::string::npos);
  CHECK(printable(r.err));
  r = acm("learn import " + quote(gz.string()) + " --format csv --case a --activity b --time c");
  CHECK(r.code == 11);
  CHECK(printable(r.err));

  // Every timestamp fails with the default format: the message names one that reads them.
  const fs::path log = acm.dir / "slashes.csv";
  {
    std::ofstream out(log);
    out << "case,activity,timestamp\n"
        << "c1,open,2024/01/01 09:00:00\n"
        << "c1,close,2024/01/01 11:00:00\n"
        << "c2,open,2024/01/02 09:00:00\n";
  }
  r = acm("learn import " + quote(log.string()));
  CHECK(r.code == 13);
  CHECK(r.err.find("'%Y/%m/%d %H:%M:%S' would read them") != std::string::npos);
  r = acm("learn import " + quote(log.string()) + " --stop-on-error");
  CHECK(r.code == 13);
  CHECK(r.err.find("'%Y/%m/%d %H:%M:%S' would read them") != std::string::npos);
  r = acm("learn import " + quote(log.string()) + " --time-format '%Y/%m/%d %H:%M:%S' --json");
  CHECK(r.code == 0);
}

TEST_CASE("cli: the plan picture shows stages as clusters, sentries with their on-parts, milestones") {
  Cli acm;
  const std::string id = repair_case(acm);
  const std::string dot = (acm.dir / "plan.dot").string();
  // Before the workshop stage starts, its items do not exist: drawn dashed from its definition.
  Run r = acm("case show " + id + " --graph " + quote(dot));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  std::string before = slurp(dot);
  const auto planned = before.find("\"repair_plan#1/fix\" [shape=box, style=\"rounded,filled,dashed\"");
  CHECK(planned != std::string::npos);
  CHECK(before.find("not created yet", planned) != std::string::npos);
  CHECK(before.find("\"repair_plan#1/fix\" -> \"repair_plan#1/check|entry1\"") != std::string::npos);
  REQUIRE(acm("item complete " + id + " repair_plan#1/intake").code == 0);  // the stage starts
  r = acm("case show " + id + " --graph " + quote(dot));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const std::string text = slurp(dot);
  auto has = [&](const std::string& s) {
    INFO("looking for " << s);
    CHECK(text.find(s) != std::string::npos);
  };
  // The plan is one stage (the case type's one initial fragment): it is the frame.
  CHECK(text.find("cluster_case") == std::string::npos);
  // The stages are clusters and their items are declared inside them.
  const auto stage = text.find("subgraph \"cluster_repair_plan#1/work\"");
  REQUIRE(stage != std::string::npos);
  const auto fix = text.find("\"repair_plan#1/fix\" [", stage);
  const auto stage_end = text.find("\n      }\n", stage);  // the stage frame closes
  CHECK(fix != std::string::npos);
  CHECK(fix < stage_end);
  has("subgraph \"cluster_repair_plan#1\"");
  // Entry criterion of the stage on intake's completion; drawn to the stage's frame.
  has("\"repair_plan#1/work|entry1\" [shape=diamond, style=filled, fillcolor=\"white\"");
  has("\"repair_plan#1/intake\" -> \"repair_plan#1/work|entry1\" [style=dashed, arrowhead=vee, arrowsize=0.6, "
      "label=\"complete\"];");
  has("\"repair_plan#1/work|entry1\" -> \"repair_plan#1/work\" [arrowhead=none, penwidth=1.6, minlen=1, "
      "lhead=\"cluster_repair_plan#1/work\"];");
  // Exit criteria are black diamonds; event, case-file and goal on-parts get their sources.
  has("\"repair_plan#1/fix|exit1\" [shape=diamond, style=filled, fillcolor=\"#222222\"");
  has("\"event:cancelled\" -> \"repair_plan#1/fix|exit1\"");
  has("\"event:customer_withdrew\" -> \"repair_plan#1|exit1\"");
  has("\"goal:done\" -> \"repair_plan#1|exit2\" [style=dashed, arrowhead=vee, arrowsize=0.6, label=\"cancelled\"");
  has("\"file:customer.notified\" -> \"repair_plan#1/notified|entry1\"");
  has("if file.quality &gt;= 3");
  // `after` is an entry criterion on completion; the goal waits for its milestone.
  has("\"repair_plan#1/fix\" -> \"repair_plan#1/check|entry1\" [style=dashed, arrowhead=vee, arrowsize=0.6, "
      "label=\"complete\"];");
  has("\"repair_plan#1/fixed\" -> \"goal:done\"");
  // A milestone is a bar with round ends (a flat ellipse); a user event listener a double circle
  // with a person inside, as CMMN draws them.
  has("\"repair_plan#1/fixed\" [shape=ellipse, style=\"filled,bold\"");
  has("\"repair_plan#1/answer\" [shape=doublecircle");
  has("&#9786;");

  if (has_dot()) {
    const fs::path png = acm.dir / "plan.png";
    r = acm("case show " + id + " --graph " + quote(png.string()) + " --json");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.json()["graph_file"] == png.string());
    const std::string bytes = slurp(png);
    REQUIRE(bytes.size() > 1000);
    CHECK(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    // Graphviz read the DOT without complaint.
    CHECK(r.err.empty());
  } else {
    MESSAGE("skipped the PNG: Graphviz dot is not installed");
  }
  CHECK(acm("case show " + id + " --graph " + quote((acm.dir / "plan.jpg").string())).code == 11);
}

TEST_CASE("cli: case types, case search by status, owner and customer, the inbox queue") {
  Cli acm;
  Run r = acm("definitions types --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["case_types"].empty());
  const std::string id = repair_case(acm);  // owner alice, customer cust-7, goal "done" within 2d
  REQUIRE(acm("definitions load " + quote(kDefinitions)).code == 0);
  r = acm("definitions types --json");
  REQUIRE(r.code == 0);
  REQUIRE(r.json()["case_types"].size() == 2);
  CHECK(r.json()["case_types"][0]["id"] == "complaint");
  CHECK(r.json()["case_types"][1]["id"] == "repair");
  r = acm("definitions types");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("repair") != std::string::npos);
  CHECK(r.out.find("starts with: repair_plan") != std::string::npos);

  const std::string other =
      acm("case create --type complaint --title Other --customer cust-8 --owner bob --json").json()["id"];
  const std::string third = acm("case create --title Third --customer cust-7 --owner bob --json").json()["id"];
  REQUIRE(acm("case terminate " + third).code == 0);

  auto ids = [](const Json& page) {
    std::vector<std::string> out;
    for (const auto& c : page["cases"]) out.push_back(c["id"]);
    return out;
  };
  r = acm("case search --customer cust-7 --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(ids(r.json()) == std::vector<std::string>{third, id});  // newest first
  CHECK(r.json()["total"] == 2);
  CHECK(r.json()["cases"][1]["title"] == "Broken phone");
  CHECK(r.json()["cases"][1]["customer"] == "cust-7");
  r = acm("case search --owner bob --status active --json");
  REQUIRE(r.code == 0);
  CHECK(ids(r.json()) == std::vector<std::string>{other});
  r = acm("case search --status active --status terminated --limit 1 --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["cases"].size() == 1);
  CHECK(r.json()["total"] == 3);
  r = acm("case search --status open");
  CHECK(r.code == 11);
  CHECK(r.err.find("open") != std::string::npos);
  r = acm("case search --customer cust-7");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("2 of 2 matching cases") != std::string::npos);

  // The list's rows have the same shape as the search's.
  r = acm("case list --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()[0]["customer"] == "cust-7");
  CHECK(r.json()[0].contains("updated_at"));

  // The queue carries what an inbox shows: case title, customer, goal timing, and a total.
  r = acm("queue --role agent --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const Json page = r.json();
  CHECK(page["total"] == 2);  // the intake of the repair, the triage of the complaint
  bool seen = false;
  for (const auto& w : page["items"])
    if (w["case"] == id) {
      seen = true;
      CHECK(w["case_title"] == "Broken phone");
      CHECK(w["customer"] == "cust-7");
      CHECK(w["goal"] == "done");
      CHECK(w["goal_timing"] == "on_track");
      CHECK(!w["goal_deadline"].is_null());
    }
  CHECK(seen);
  r = acm("queue --role agent --limit 1 --json");
  REQUIRE(r.code == 0);
  CHECK(r.json()["items"].size() == 1);
  CHECK(r.json()["total"] == page["total"]);
  r = acm("queue --role agent");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\"Broken phone\"") != std::string::npos);
  CHECK(r.out.find("cust-7") != std::string::npos);
  CHECK(r.out.find("goal done on_track") != std::string::npos);
  CHECK(r.out.find("2 of 2 open items") != std::string::npos);
}

TEST_CASE("cli: a number beyond double in JSON input exits with the documented code, not 1") {
  Cli acm;
  {
    std::ofstream doc(acm.dir / "huge.json");
    doc << R"({"fragments": [{"id": "f", "version": 1e400, "items": []}]})";
  }
  Run r = acm("definitions load " + quote((acm.dir / "huge.json").string()));
  CHECK_MESSAGE(r.code == 13, r.err);  // parse_error
  CHECK(r.err.find("not valid JSON") != std::string::npos);
  const std::string id = acm("case create --json").json()["id"];
  r = acm("file set " + id + " a.b 1e400");
  CHECK_MESSAGE(r.code == 11, r.err);  // invalid_argument, as other text that is not JSON
}
