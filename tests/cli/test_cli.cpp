// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the `acm` CLI: the real binary, run on temporary store files.
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
  CHECK(r.json().size() >= 1);
  CHECK(r.json()[0]["case"] == id);

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
  CHECK(r.json().is_array());

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
  CHECK(j["points"] == 1993);
  CHECK(j["accuracy"].get<double>() >= 0.78);
  CHECK(j["mae_days"].get<double>() <= 6.0);
  std::ifstream in(out);
  std::string line;
  REQUIRE(std::getline(in, line));
  CHECK(line == "case_id,prefix_length,predicted_next,predicted_remaining_seconds");
  std::size_t rows = 0;
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 1993);

  r = acm("learn evaluate " + quote(log.string()) + " --out " + quote(out.string()));
  REQUIRE(r.code == 0);
  CHECK(r.out.find("accuracy") != std::string::npos);
  CHECK(r.out.find("MAE") != std::string::npos);
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
