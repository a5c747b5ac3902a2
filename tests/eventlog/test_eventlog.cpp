// SPDX-License-Identifier: Apache-2.0
// tests/eventlog/test_eventlog.cpp - CSV and XES event-log import: real logs and edge cases.
#include <acm/error.hpp>
#include <acm/eventlog.hpp>
#include <acm/time.hpp>

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace acm;
using namespace acm::eventlog;

namespace {

/// A file of the shared data set; fails loudly when the data folder is missing.
fs::path data_file(const std::string& name) {
  const fs::path p = fs::path(ACM_DATA_DIR) / "helpdesk" / name;
  REQUIRE_MESSAGE(fs::exists(p), "the shared data set is missing: " << p.string()
                                                                     << " (configure with -DACM_DATA_DIR=<folder "
                                                                        "holding helpdesk/>)");
  return p;
}

/// A folder removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("acm-eventlog-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::string& bytes) const {
    const fs::path p = path / name;
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
};

std::vector<LogCase> collect_csv(const std::string& text, const CsvMapping& m, ImportReport* report = nullptr,
                                 const ImportOptions& o = {}) {
  std::vector<LogCase> cases;
  std::istringstream in(text);
  ImportReport r = import_csv(in, m, [&](LogCase&& c) { cases.push_back(std::move(c)); }, o);
  if (report) *report = std::move(r);
  return cases;
}

CsvMapping simple_mapping() {
  CsvMapping m;
  m.case_id = "case";
  m.activity = "activity";
  m.timestamp = "time";
  return m;
}

TimePoint utc(const char* iso) { return parse_time(iso); }

std::string attr(const Attributes& a, const std::string& key) {
  for (const auto& [k, v] : a)
    if (k == key) return v;
  return "<none>";
}

/// The message of the acm::Error `f` throws, checking its code.
template <class F>
std::string error_of(F&& f, ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    CHECK_MESSAGE(e.code() == code, "code " << to_string(e.code()) << ": " << e.what());
    return e.what();
  }
  FAIL("no acm::Error thrown");
  return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// --- a gzip writer (stored blocks, no compression) so tests need no zlib of their own --------

std::uint32_t crc32(const std::string& data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put_le(std::string& out, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string gzip_stored(const std::string& data) {
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(65535, data.size() - pos);
    const bool last = pos + n == data.size();
    out.push_back(last ? '\x01' : '\x00');
    put_le(out, static_cast<std::uint32_t>(n), 2);
    put_le(out, static_cast<std::uint32_t>(~n & 0xFFFF), 2);
    out.append(data, pos, n);
    pos += n;
  } while (pos < data.size());
  put_le(out, crc32(data), 4);
  put_le(out, static_cast<std::uint32_t>(data.size()), 4);
  return out;
}

/// A non-seekable stream of `rows` generated CSV rows: case k has (k % 7) + 1 events.
class SyntheticLog : public std::streambuf {
 public:
  explicit SyntheticLog(std::uint64_t rows) : rows_(rows) { line_ = "case,activity,time,note\n"; setg_line(); }
  std::uint64_t cases_started() const { return case_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (emitted_ >= rows_) return traits_type::eof();
    if (in_case_ == (case_ % 7) + 1 || case_ == 0) {
      ++case_;
      in_case_ = 0;
    }
    ++in_case_;
    ++emitted_;
    const std::uint64_t sec = emitted_ % 60, min = (emitted_ / 60) % 60, hour = (emitted_ / 3600) % 24;
    char buf[160];
    const int n = std::snprintf(buf, sizeof buf, "c%llu,act %llu,2020-03-%02llu %02llu:%02llu:%02llu.%03llu,\"n, %llu\"\n",
                                static_cast<unsigned long long>(case_), static_cast<unsigned long long>(in_case_),
                                static_cast<unsigned long long>(1 + (case_ % 28)),
                                static_cast<unsigned long long>(hour), static_cast<unsigned long long>(min),
                                static_cast<unsigned long long>(sec), static_cast<unsigned long long>(emitted_ % 1000),
                                static_cast<unsigned long long>(emitted_));
    line_.assign(buf, static_cast<std::size_t>(n));
    setg_line();
    return traits_type::to_int_type(*gptr());
  }

 private:
  void setg_line() { setg(line_.data(), line_.data(), line_.data() + line_.size()); }
  std::uint64_t rows_;
  std::uint64_t emitted_ = 0;
  std::uint64_t case_ = 0;
  std::uint64_t in_case_ = 0;
  std::string line_;
};

const char* const kXes = R"(<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="concept:name" value="name"/></global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="creator" value="test"/>
  <trace>
    <string key="concept:name" value="A"/>
    <int key="size" value="3"/>
    <event>
      <string key="concept:name" value="start"/>
      <date key="time:timestamp" value="2020-01-01T10:00:00.250+01:00"/>
      <string key="org:resource" value="ann"/>
      <string key="lifecycle:transition" value="start"/>
      <float key="cost" value="1.5"><string key="nested" value="ignored"/></float>
      <list key="things"><string key="x" value="ignored too"/></list>
    </event>
    <event>
      <string key="concept:name" value="end &amp; close"/>
      <date key="time:timestamp" value="2020-01-01T10:30:00Z"/>
      <string key="lifecycle:transition" value="complete"/>
      <boolean key="ok" value="true"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="B"/>
    <event>
      <string key="concept:name" value="no time"/>
    </event>
    <event>
      <string key="concept:name" value="only"/>
      <date key="time:timestamp" value="2020-01-02T00:00:00.000+00:00"/>
    </event>
  </trace>
</log>
)";

}  // namespace

// ------------------------------------------------------------------------------------------
// Real help-desk logs
// ------------------------------------------------------------------------------------------

TEST_CASE("helpdesk_tax2017.csv: 3,804 cases and 13,710 events, first and last values") {
  const fs::path file = data_file("helpdesk_tax2017.csv");
  CsvMapping m;
  m.case_id = "CaseID";
  m.activity = "ActivityID";
  m.timestamp = "CompleteTimestamp";
  std::vector<LogCase> firsts;
  LogCase last;
  std::size_t n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  ImportReport r = import_csv(file, m, [&](LogCase&& c) {
    if (n++ == 0) firsts.push_back(c);
    last = std::move(c);
  });
  MESSAGE("helpdesk_tax2017.csv imported in " << seconds_since(t0) << " s");
  CHECK(r.cases == 3804);
  CHECK(r.events == 13710);
  CHECK(r.rows == 13710);
  CHECK(r.skipped_rows == 0);
  CHECK(r.reappeared_runs == 0);
  CHECK(r.problems_total == 0);
  REQUIRE(firsts.size() == 1);
  const LogCase& first = firsts[0];
  CHECK(first.id == "2");
  REQUIRE(first.events.size() == 3);
  CHECK(first.events[0].activity == "1");
  CHECK(first.events[0].time == utc("2012-04-03T16:55:38Z"));
  CHECK(first.events[1].activity == "8");
  CHECK(first.events[2].activity == "6");
  CHECK(first.events[2].time == utc("2012-04-05T17:15:52Z"));
  CHECK(first.events[0].resource.empty());
  CHECK(last.id == "4580");
  REQUIRE(last.events.size() == 3);
  CHECK(last.events.back().activity == "6");
  CHECK(last.events.back().time == utc("2012-01-11T02:07:40Z"));
}

namespace {
CsvMapping best_mapping() {
  CsvMapping m;
  m.case_id = "Case ID";
  m.activity = "Activity";
  m.timestamp = "Complete Timestamp";
  m.resource = "Resource";
  m.timestamp_format = "%Y/%m/%d %H:%M:%S";
  m.case_attributes = {"Variant", "Variant index", "customer", "product"};
  m.event_attributes = {"seriousness_2", "service_level"};
  return m;
}
}  // namespace

TEST_CASE("helpdesk_full_attrs_lmu-dbs-BEST.csv: 4,580 cases, 21,348 events, resources and attributes") {
  const fs::path file = data_file("helpdesk_full_attrs_lmu-dbs-BEST.csv");
  std::vector<LogCase> firsts;
  LogCase last;
  std::size_t max_events = 0;
  std::size_t with_resource = 0;
  const auto t0 = std::chrono::steady_clock::now();
  ImportReport r = import_csv(file, best_mapping(), [&](LogCase&& c) {
    if (firsts.size() < 2) firsts.push_back(c);
    max_events = std::max(max_events, c.events.size());
    for (const auto& e : c.events) with_resource += !e.resource.empty();
    last = std::move(c);
  });
  MESSAGE("helpdesk_full_attrs_lmu-dbs-BEST.csv imported in " << seconds_since(t0) << " s");
  CHECK(r.cases == 4580);
  CHECK(r.events == 21348);
  CHECK(r.skipped_rows == 0);
  CHECK(r.problems_total == 0);
  CHECK(with_resource == 21348);
  REQUIRE(firsts.size() == 2);
  const LogCase& c1 = firsts[0];
  CHECK(c1.id == "Case 1");
  REQUIRE(c1.events.size() == 5);
  CHECK(c1.events[0].activity == "Assign seriousness");
  CHECK(c1.events[0].time == utc("2012-10-09T14:50:17Z"));
  CHECK(c1.events[0].resource == "Value 1");
  CHECK(c1.events[2].resource == "Value 2");
  CHECK(c1.events[4].activity == "Closed");
  CHECK(c1.events[4].time == utc("2012-11-09T12:54:39Z"));
  CHECK(attr(c1.attributes, "Variant") == "Variant 12");
  CHECK(attr(c1.attributes, "Variant index") == "12");
  CHECK(attr(c1.attributes, "customer") == "Value 1");
  // service_level changes inside case 1: an event attribute follows each row.
  CHECK(attr(c1.events[1].attributes, "service_level") == "Value 1");
  CHECK(attr(c1.events[2].attributes, "service_level") == "Value 2");
  CHECK(firsts[1].id == "Case 2");
  CHECK(attr(firsts[1].attributes, "customer") == "Value 2");
  CHECK(last.id == "Case 4580");
  REQUIRE(last.events.size() == 4);
  CHECK(last.events.front().activity == "Take in charge ticket");
  CHECK(last.events.back().activity == "Closed");
  CHECK(last.events.back().resource == "Value 5");
  CHECK(last.events.back().time == utc("2012-02-08T17:00:34Z"));
  CHECK(max_events > 5);
}

TEST_CASE("Helpdesk_camargo_GenerativeLSTM.xes.gz: 4,580 traces, 21,348 events") {
  const fs::path file = data_file("Helpdesk_camargo_GenerativeLSTM.xes.gz");
  std::vector<LogCase> firsts;
  LogCase last;
  std::vector<ImportProgress> progress;
  ImportOptions o;
  o.progress = [&](const ImportProgress& p) { progress.push_back(p); };
  const auto t0 = std::chrono::steady_clock::now();
  ImportReport r = import_xes(
      file,
      [&](LogCase&& c) {
        if (firsts.empty()) firsts.push_back(c);
        last = std::move(c);
      },
      o);
  MESSAGE("Helpdesk_camargo_GenerativeLSTM.xes.gz imported in " << seconds_since(t0) << " s");
  CHECK(r.cases == 4580);
  CHECK(r.events == 21348);
  CHECK(r.rows == 21348);
  CHECK(r.skipped_rows == 0);
  CHECK(r.problems_total == 0);
  REQUIRE(firsts.size() == 1);
  const LogCase& c1 = firsts[0];
  CHECK(c1.id == "Case1");
  CHECK(attr(c1.attributes, "variant") == "Variant 12");
  CHECK(attr(c1.attributes, "variant-index") == "12");
  REQUIRE(c1.events.size() == 5);
  CHECK(c1.events[0].activity == "Assign seriousness");
  CHECK(c1.events[0].time == utc("2012-10-09T11:50:17Z"));  // 14:50:17+03:00
  CHECK(c1.events[0].resource == "Value 1");
  CHECK(attr(c1.events[0].attributes, "Activity") == "Assign seriousness");
  CHECK(attr(c1.events[0].attributes, "lifecycle:transition") == "<none>");  // complete is the default
  CHECK(c1.events[4].time == utc("2012-11-09T10:54:39Z"));                   // 12:54:39+02:00
  CHECK(last.id == "Case4580");
  REQUIRE(last.events.size() == 4);
  CHECK(last.events.back().activity == "Closed");
  CHECK(last.events.back().time == utc("2012-02-08T15:00:34Z"));
  // Progress: compressed bytes, increasing, ending at the file size.
  REQUIRE(progress.size() >= 2);
  for (std::size_t i = 1; i < progress.size(); ++i) CHECK(progress[i].bytes_read >= progress[i - 1].bytes_read);
  CHECK(progress.back().bytes_total == fs::file_size(file));
  CHECK(progress.back().bytes_read == fs::file_size(file));
  CHECK(progress.back().cases == 4580);
}

TEST_CASE("the BEST CSV read in Europe/Helsinki time agrees with the XES log event for event") {
  // The XES export carries +02:00/+03:00 offsets; the CSV has the same local wall times.
  std::map<std::string, std::vector<LogEvent>> xes;
  import_xes(data_file("Helpdesk_camargo_GenerativeLSTM.xes.gz"),
             [&](LogCase&& c) { xes.emplace(c.id, std::move(c.events)); });
  REQUIRE(xes.size() == 4580);
  CsvMapping m = best_mapping();
  m.time_zone = "Europe/Helsinki";
  std::size_t compared = 0, activity_mismatch = 0, time_mismatch = 0, resource_mismatch = 0, missing = 0;
  import_csv(data_file("helpdesk_full_attrs_lmu-dbs-BEST.csv"), m, [&](LogCase&& c) {
    // "Case 17" in the CSV is "Case17" in the XES.
    std::string id = c.id;
    id.erase(std::remove(id.begin(), id.end(), ' '), id.end());
    auto it = xes.find(id);
    if (it == xes.end() || it->second.size() != c.events.size()) {
      ++missing;
      return;
    }
    for (std::size_t i = 0; i < c.events.size(); ++i) {
      ++compared;
      activity_mismatch += c.events[i].activity != it->second[i].activity;
      time_mismatch += c.events[i].time != it->second[i].time;
      resource_mismatch += c.events[i].resource != it->second[i].resource;
    }
  });
  CHECK(missing == 0);
  CHECK(compared == 21348);
  CHECK(activity_mismatch == 0);
  CHECK(time_mismatch == 0);
  CHECK(resource_mismatch == 0);
}

TEST_CASE("read_csv_header and guess_mapping on the real headers") {
  const auto best = read_csv_header(data_file("helpdesk_full_attrs_lmu-dbs-BEST.csv"));
  REQUIRE(best.size() == 16);
  CHECK(best[4] == "Variant");
  CHECK(best[6] == "Variant");
  CsvMapping g = guess_mapping(best);
  CHECK(g.case_id == "Case ID");
  CHECK(g.activity == "Activity");
  CHECK(g.timestamp == "Complete Timestamp");
  CHECK(g.resource == "Resource");
  CHECK(g.event_attributes.size() == 11);  // 16 columns - 4 mapped - the repeated Variant
  CHECK(std::count(g.event_attributes.begin(), g.event_attributes.end(), "Variant") == 1);

  CsvMapping t = guess_mapping(read_csv_header(data_file("helpdesk_tax2017.csv")));
  CHECK(t.case_id == "CaseID");
  CHECK(t.activity == "ActivityID");
  CHECK(t.timestamp == "CompleteTimestamp");
  CHECK(t.resource.empty());

  CsvMapping x = guess_mapping({"case:concept:name", "concept:name", "time:timestamp", "org:resource", "cost"});
  CHECK(x.case_id == "case:concept:name");
  CHECK(x.activity == "concept:name");
  CHECK(x.resource == "org:resource");
  CHECK(x.event_attributes == std::vector<std::string>{"cost"});

  const std::string msg = error_of([] { guess_mapping({"id", "what", "when"}); }, ErrorCode::invalid_argument);
  CHECK(contains(msg, "case id"));
  CHECK(contains(msg, "'when'"));
}

// ------------------------------------------------------------------------------------------
// CSV reading
// ------------------------------------------------------------------------------------------

TEST_CASE("CSV: RFC 4180 quoting, CRLF and a UTF-8 BOM") {
  CsvMapping m = simple_mapping();
  m.event_attributes = {"note"};
  const std::string text =
      "\xEF\xBB\xBF"
      "case,activity,time,note\r\n"
      "1,\"pay, then ship\",2020-01-01 10:00:00,\"she said \"\"hi\"\"\"\r\n"
      "1,ship,2020-01-01 11:00:00,\"two\r\nlines\"\r\n"
      "\"2\",\"\",2020-01-01 12:00:00,x\r\n"  // empty activity: line 5
      "2,close,2020-01-01 13:00:00,\r\n";
  ImportReport r;
  auto cases = collect_csv(text, m, &r);
  REQUIRE(cases.size() == 2);
  REQUIRE(cases[0].events.size() == 2);
  CHECK(cases[0].id == "1");
  CHECK(cases[0].events[0].activity == "pay, then ship");
  CHECK(attr(cases[0].events[0].attributes, "note") == "she said \"hi\"");
  CHECK(attr(cases[0].events[1].attributes, "note") == "two\r\nlines");  // data inside quotes is kept as is
  CHECK(cases[0].events[1].time == utc("2020-01-01T11:00:00Z"));
  REQUIRE(cases[1].events.size() == 1);
  CHECK(cases[1].events[0].activity == "close");
  CHECK(attr(cases[1].events[0].attributes, "note") == "");
  CHECK(r.rows == 4);
  CHECK(r.skipped_rows == 1);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].line == 5);  // the quoted newline counts as a line
  CHECK(contains(r.problems[0].message, "empty activity"));
}

TEST_CASE("CSV: blank lines are ignored, a last row without newline is read") {
  auto cases = collect_csv("case,activity,time\n\n1,a,2020-01-01 00:00:00\n\r\n1,b,2020-01-01 00:00:01", simple_mapping());
  REQUIRE(cases.size() == 1);
  REQUIRE(cases[0].events.size() == 2);
  CHECK(cases[0].events[1].activity == "b");
}

TEST_CASE("CSV: another delimiter") {
  CsvMapping m = simple_mapping();
  m.delimiter = ';';
  m.event_attributes = {"amount"};
  auto cases = collect_csv("case;activity;time;amount\n1;a;2020-01-01 00:00:00;\"1,5\"\n1;b;2020-01-01 00:00:01;2,0\n", m);
  REQUIRE(cases.size() == 1);
  REQUIRE(cases[0].events.size() == 2);
  CHECK(attr(cases[0].events[0].attributes, "amount") == "1,5");
  CHECK(attr(cases[0].events[1].attributes, "amount") == "2,0");
}

TEST_CASE("CSV: a repeated header name maps to its first column") {
  CsvMapping m = simple_mapping();
  m.case_attributes = {"v"};
  m.event_attributes = {"v"};
  auto cases = collect_csv("case,v,activity,v,time\n1,first,a,second,2020-01-01 00:00:00\n", m);
  REQUIRE(cases.size() == 1);
  CHECK(attr(cases[0].attributes, "v") == "first");
  CHECK(attr(cases[0].events[0].attributes, "v") == "first");
}

TEST_CASE("CSV: bad rows are skipped with their line numbers, or stop the import") {
  const std::string text =
      "case,activity,time\n"               // 1
      "1,a,2020-01-01 00:00:00\n"          // 2
      "1,b,2020-01-01 00:00:01,extra\n"    // 3 too many fields
      "1,c\n"                              // 4 too few
      ",d,2020-01-01 00:00:02\n"           // 5 empty case id
      "1,e,2020-02-30 00:00:00\n"          // 6 no such day
      "1,f,yesterday\n"                    // 7 not a timestamp
      "1,\"g\"x,2020-01-01 00:00:03\n"     // 8 text after a closing quote
      "1,h,2020-01-01 00:00:04\n"          // 9
      "2,i,\"2020-01-01\n00:00:05\"\n"     // 10-11: a newline where a space should be
      "2,j,2020-01-01 00:00:06\n";         // 12
  SUBCASE("skip") {
    ImportReport r;
    auto cases = collect_csv(text, simple_mapping(), &r);
    REQUIRE(cases.size() == 2);
    REQUIRE(cases[0].events.size() == 2);
    CHECK(cases[0].events[0].activity == "a");
    CHECK(cases[0].events[1].activity == "h");
    REQUIRE(cases[1].events.size() == 2);  // white space in the format matches the newline
    CHECK(cases[1].events[0].time == utc("2020-01-01T00:00:05Z"));
    CHECK(r.rows == 10);
    CHECK(r.events == 4);
    CHECK(r.skipped_rows == 6);
    REQUIRE(r.problems.size() == 6);
    std::vector<std::uint64_t> lines;
    for (const auto& p : r.problems) lines.push_back(p.line);
    CHECK(lines == std::vector<std::uint64_t>{3, 4, 5, 6, 7, 8});
    CHECK(contains(r.problems[0].message, "expected 3 fields, found 4"));
    CHECK(contains(r.problems[1].message, "found 2"));
    CHECK(contains(r.problems[2].message, "empty case id"));
    CHECK(contains(r.problems[3].message, "'2020-02-30 00:00:00'"));
    CHECK(contains(r.problems[4].message, "'yesterday'"));
    CHECK(contains(r.problems[5].message, "after a closing quote"));
  }
  SUBCASE("stop") {
    ImportOptions o;
    o.on_bad_row = OnBadRow::stop;
    std::vector<LogCase> cases;
    std::istringstream in(text);
    const std::string msg = error_of([&] { import_csv(in, simple_mapping(), [&](LogCase&& c) { cases.push_back(c); }, o); },
                                     ErrorCode::parse_error);
    CHECK(contains(msg, "<stream>: line 3:"));
    CHECK(cases.empty());  // case 1 was still open
  }
  SUBCASE("stop names the file") {
    TempDir dir;
    const fs::path p = dir.write("bad.csv", text);
    ImportOptions o;
    o.on_bad_row = OnBadRow::stop;
    const std::string msg = error_of([&] { import_csv(p, simple_mapping(), [](LogCase&&) {}, o); }, ErrorCode::parse_error);
    CHECK(contains(msg, p.string() + ": line 3:"));
  }
  SUBCASE("only the first problems are kept") {
    ImportOptions o;
    o.max_problems_kept = 2;
    ImportReport r;
    collect_csv(text, simple_mapping(), &r, o);
    CHECK(r.problems.size() == 2);
    CHECK(r.problems_total == 6);
  }
}

TEST_CASE("CSV: an unterminated quote is a bad row at the line where it starts") {
  ImportReport r;
  auto cases = collect_csv("case,activity,time\n1,a,2020-01-01 00:00:00\n1,\"b,2020-01-01 00:00:01\n1,c\n", simple_mapping(), &r);
  REQUIRE(cases.size() == 1);
  CHECK(cases[0].events.size() == 1);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].line == 3);
  CHECK(contains(r.problems[0].message, "unterminated"));

  ImportOptions o;
  o.max_record_bytes = 1000;
  std::string huge = "case,activity,time\n1,\"" + std::string(5000, 'x');
  const std::string msg = error_of([&] { collect_csv(huge, simple_mapping(), nullptr, o); }, ErrorCode::parse_error);
  CHECK(contains(msg, "line 2"));
}

TEST_CASE("CSV: missing columns are an immediate error naming the column and the header") {
  CsvMapping m = simple_mapping();
  m.timestamp = "Complete Timestamp";
  std::string msg = error_of([&] { collect_csv("case,activity,time\n1,a,2020-01-01 00:00:00\n", m); }, ErrorCode::invalid_argument);
  CHECK(contains(msg, "'Complete Timestamp'"));
  CHECK(contains(msg, "['case', 'activity', 'time']"));
  m = simple_mapping();
  m.event_attributes = {"cost"};
  msg = error_of([&] { collect_csv("case,activity,time\n", m); }, ErrorCode::invalid_argument);
  CHECK(contains(msg, "'cost'"));
  m = simple_mapping();
  m.resource = "who";
  msg = error_of([&] { collect_csv("case,activity,time\n", m); }, ErrorCode::invalid_argument);
  CHECK(contains(msg, "'who' (resource)"));
  msg = error_of([&] { collect_csv("", simple_mapping()); }, ErrorCode::invalid_argument);
  CHECK(contains(msg, "no header"));
}

TEST_CASE("CSV: an id that reappears after another case is a new case, counted and reported") {
  ImportReport r;
  auto cases = collect_csv(
      "case,activity,time\n1,a,2020-01-01 00:00:00\n2,b,2020-01-01 00:00:01\n1,c,2020-01-01 00:00:02\n"
      "1,d,2020-01-01 00:00:03\n",
      simple_mapping(), &r);
  REQUIRE(cases.size() == 3);
  CHECK(cases[0].id == "1");
  CHECK(cases[2].id == "1");
  CHECK(cases[2].events.size() == 2);
  CHECK(r.cases == 3);
  CHECK(r.reappeared_runs == 1);
  CHECK(r.skipped_rows == 0);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].line == 4);
  CHECK(contains(r.problems[0].message, "reappears"));

  ImportOptions o;
  o.track_reappearing_ids = false;
  o.on_bad_row = OnBadRow::stop;  // a reappearing id is not a bad row
  cases = collect_csv("case,activity,time\n1,a,2020-01-01 00:00:00\n2,b,2020-01-01 00:00:01\n1,c,2020-01-01 00:00:02\n",
                      simple_mapping(), &r, o);
  CHECK(cases.size() == 3);
  CHECK(r.reappeared_runs == 0);
}

TEST_CASE("CSV timestamps: formats, fractions, zones and offsets") {
  auto one = [](const std::string& format, const std::string& zone, const std::string& value) {
    CsvMapping m = simple_mapping();
    m.timestamp_format = format;
    m.time_zone = zone;
    ImportReport r;
    auto cases = collect_csv("case,activity,time\n1,a,\"" + value + "\"\n", m, &r);
    REQUIRE_MESSAGE(cases.size() == 1, value << " with " << format << ": "
                                             << (r.problems.empty() ? "" : r.problems[0].message));
    return cases[0].events[0].time;
  };
  CHECK(one("%Y-%m-%d %H:%M:%S", "UTC", "2012-04-03 16:55:38") == utc("2012-04-03T16:55:38Z"));
  CHECK(one("%Y/%m/%d %H:%M:%S", "UTC", "2012/10/09 14:50:17.000") == utc("2012-10-09T14:50:17Z"));
  CHECK(one("%Y/%m/%d %H:%M:%S", "UTC", "2012/10/09 14:50:17.25") == utc("2012-10-09T14:50:17.250Z"));
  CHECK(one("%Y/%m/%d %H:%M:%S", "UTC", "2012/10/09 14:50:17.123999") == utc("2012-10-09T14:50:17.123Z"));
  CHECK(one("%F %T", "UTC", " 2012-1-9 4:05:06 ") == utc("2012-01-09T04:05:06Z"));
  CHECK(one("%d.%m.%Y %H:%M", "UTC", "09.10.2012 14:50") == utc("2012-10-09T14:50:00Z"));
  // Zones: Rome is +02:00 in summer and +01:00 in winter.
  CHECK(one("%Y-%m-%d %H:%M:%S", "Europe/Rome", "2012-07-01 12:00:00") == utc("2012-07-01T10:00:00Z"));
  CHECK(one("%Y-%m-%d %H:%M:%S", "Europe/Rome", "2012-01-01 12:00:00") == utc("2012-01-01T11:00:00Z"));
  // 2:30 happens twice on 2012-10-28 in Rome: the earlier instant is taken.
  CHECK(one("%Y-%m-%d %H:%M:%S", "Europe/Rome", "2012-10-28 02:30:00") == utc("2012-10-28T00:30:00Z"));
  // Formats beyond the scanner go to date::parse: month names, 12-hour clock, offsets.
  CHECK(one("%d %b %Y %H:%M:%S", "UTC", "09 Oct 2012 14:50:17") == utc("2012-10-09T14:50:17Z"));
  CHECK(one("%Y-%m-%d %I:%M:%S %p", "Europe/Rome", "2012-07-01 01:00:00 PM") == utc("2012-07-01T11:00:00Z"));
  CHECK(one("%Y-%m-%dT%H:%M:%S%z", "Europe/Rome", "2012-07-01T13:00:00.5+0300") == utc("2012-07-01T10:00:00.500Z"));

  CsvMapping m = simple_mapping();
  m.time_zone = "Mars/Olympus_Mons";
  std::string msg = error_of([&] { collect_csv("case,activity,time\n", m); }, ErrorCode::invalid_argument);
  CHECK(contains(msg, "Mars/Olympus_Mons"));

  // A general-path format that does not match is a bad row like any other.
  m = simple_mapping();
  m.timestamp_format = "%d %b %Y";
  ImportReport r;
  auto cases = collect_csv("case,activity,time\n1,a,09 Foo 2012\n1,b,09 Oct 2012 extra\n1,c,09 Oct 2012\n", m, &r);
  CHECK(r.skipped_rows == 2);
  REQUIRE(cases.size() == 1);
  CHECK(cases[0].events[0].activity == "c");

  // An offset sign with no digit after it is a bad row. date would negate its "no offset"
  // sentinel there (undefined behaviour, found by fuzzing), also when its %S read more digits.
  m = simple_mapping();
  m.timestamp_format = "%Y-%m-%d %H:%M:%S%Ez";
  ImportReport r2;
  cases = collect_csv("case,activity,time\n1,a,2012-04-03 16:55:38-x\n1,b,2012-04-03 16:55:3810211-x\n"
                      "1,c,2012-04-03 16:55:38+\n1,d,2012-04-03 16:55:38-05:00\n",
                      m, &r2);
  CHECK(r2.skipped_rows == 3);
  REQUIRE(cases.size() == 1);
  REQUIRE(cases[0].events.size() == 1);
  CHECK(cases[0].events[0].activity == "d");
  CHECK(cases[0].events[0].time == utc("2012-04-03T21:55:38Z"));
}

TEST_CASE("CSV: 2 million generated rows stream through with memory bounded by one case") {
  constexpr std::uint64_t kRows = 2'000'000;
  SyntheticLog buf(kRows);
  std::istream in(&buf);
  CsvMapping m = simple_mapping();
  m.timestamp_format = "%Y-%m-%d %H:%M:%S";
  m.event_attributes = {"note"};
  std::size_t max_case = 0;
  std::uint64_t cases = 0, events = 0, wrong_sizes = 0;
  std::vector<ImportProgress> progress;
  ImportOptions o;
  o.progress = [&](const ImportProgress& p) { progress.push_back(p); };
  const auto t0 = std::chrono::steady_clock::now();
  ImportReport r = import_csv(
      in, m,
      [&](LogCase&& c) {
        max_case = std::max(max_case, c.events.size());
        // Case k has (k % 7) + 1 events, except the last one, cut by the end of the stream.
        const std::uint64_t k = std::stoull(c.id.substr(1));
        if (k != buf.cases_started() && c.events.size() != (k % 7) + 1) ++wrong_sizes;
        ++cases;
        events += c.events.size();
      },
      o);
  MESSAGE("2,000,000 generated rows imported in " << seconds_since(t0) << " s");
  CHECK(r.rows == kRows);
  CHECK(r.events == kRows);
  CHECK(events == kRows);
  CHECK(r.cases == cases);
  CHECK(cases == buf.cases_started());
  CHECK(r.skipped_rows == 0);
  CHECK(r.problems_total == 0);
  CHECK(wrong_sizes == 0);
  CHECK(max_case == 7);  // the sink never saw more than one case's worth of events
  REQUIRE(progress.size() > 100);
  bool increasing = true;
  for (std::size_t i = 1; i < progress.size(); ++i) increasing = increasing && progress[i].bytes_read >= progress[i - 1].bytes_read;
  CHECK(increasing);
  CHECK(progress.front().bytes_read < progress.back().bytes_read);
  CHECK(progress.front().bytes_read >= 64 * 1024);
  CHECK(progress.back().bytes_total == 0);  // not seekable: size unknown
  CHECK(progress.back().rows == kRows);
  CHECK(progress.back().cases == cases);
}

TEST_CASE("CSV: progress on a file ends at its size") {
  TempDir dir;
  std::string text = "case,activity,time\n";
  for (int i = 0; i < 20000; ++i) text += std::to_string(i / 3) + ",a,2020-01-01 00:00:00\n";
  const fs::path p = dir.write("p.csv", text);
  std::vector<ImportProgress> progress;
  ImportOptions o;
  o.progress = [&](const ImportProgress& pr) { progress.push_back(pr); };
  import_csv(p, simple_mapping(), [](LogCase&&) {}, o);
  REQUIRE(progress.size() >= 3);
  for (std::size_t i = 1; i < progress.size(); ++i) CHECK(progress[i].bytes_read >= progress[i - 1].bytes_read);
  CHECK(progress.back().bytes_read == text.size());
  CHECK(progress.back().bytes_total == text.size());
  CHECK(progress.back().rows == 20000);
  CHECK(progress.back().cases == 6667);

  // A seekable stream reports its size too.
  std::istringstream in(text);
  progress.clear();
  import_csv(in, simple_mapping(), [](LogCase&&) {}, o);
  CHECK(progress.back().bytes_total == text.size());
}

TEST_CASE("missing or unreadable files are errors naming the path") {
  TempDir dir;
  const fs::path p = dir.path / "no-such-log.csv";
  std::string msg = error_of([&] { import_csv(p, simple_mapping(), [](LogCase&&) {}); }, ErrorCode::not_found);
  CHECK(contains(msg, p.string()));
  msg = error_of([&] { import_xes(dir.path / "nope.xes.gz", [](LogCase&&) {}); }, ErrorCode::not_found);
  CHECK(contains(msg, "nope.xes.gz"));
  msg = error_of([&] { import_xes(dir.path, [](LogCase&&) {}); }, ErrorCode::invalid_argument);
  CHECK(contains(msg, dir.path.string()));
  if (::geteuid() != 0) {  // root reads anything
    const fs::path locked = dir.write("locked.csv", "case,activity,time\n");
    fs::permissions(locked, fs::perms::none);
    msg = error_of([&] { import_csv(locked, simple_mapping(), [](LogCase&&) {}); }, ErrorCode::storage);
    CHECK(contains(msg, locked.string()));
  }
}

// ------------------------------------------------------------------------------------------
// XES
// ------------------------------------------------------------------------------------------

TEST_CASE("XES: plain and gzip'd (detected by content, not by name) give the same cases") {
  TempDir dir;
  // The plain file is named .gz and the gzip'd one .xes on purpose.
  const fs::path plain = dir.write("plain.xes.gz", kXes);
  const fs::path gz = dir.write("packed.xes", gzip_stored(kXes));
  for (const fs::path& p : {plain, gz}) {
    CAPTURE(p.string());
    std::vector<LogCase> cases;
    ImportReport r = import_xes(p, [&](LogCase&& c) { cases.push_back(std::move(c)); });
    REQUIRE(cases.size() == 2);
    const LogCase& a = cases[0];
    CHECK(a.id == "A");
    CHECK(a.attributes == Attributes{{"size", "3"}});
    REQUIRE(a.events.size() == 2);
    CHECK(a.events[0].activity == "start");
    CHECK(a.events[0].time == utc("2020-01-01T09:00:00.250Z"));
    CHECK(a.events[0].resource == "ann");
    // Non-complete transitions are kept as attributes; nested attributes and lists are ignored.
    CHECK(a.events[0].attributes == Attributes{{"lifecycle:transition", "start"}, {"cost", "1.5"}});
    CHECK(a.events[1].activity == "end & close");
    CHECK(a.events[1].attributes == Attributes{{"ok", "true"}});
    CHECK(a.events[1].resource.empty());
    REQUIRE(cases[1].events.size() == 1);
    CHECK(cases[1].events[0].activity == "only");
    CHECK(r.rows == 4);
    CHECK(r.events == 3);
    CHECK(r.skipped_rows == 1);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].line == 27);
    CHECK(contains(r.problems[0].message, "without time:timestamp"));
  }
  ImportOptions o;
  o.on_bad_row = OnBadRow::stop;
  std::vector<LogCase> cases;
  const std::string msg =
      error_of([&] { import_xes(gz, [&](LogCase&& c) { cases.push_back(std::move(c)); }, o); }, ErrorCode::parse_error);
  CHECK(contains(msg, gz.string() + ": line 27:"));
  CHECK(cases.size() == 1);  // trace A was delivered before the bad event
}

TEST_CASE("XES: bad timestamps, unnamed events and traces") {
  TempDir dir;
  const fs::path p = dir.write("bad.xes", R"(<log>
<trace><string key="concept:name" value="T1"/>
<event><date key="time:timestamp" value="2020-01-01T00:00:00Z"/></event>
<event><string key="concept:name" value="x"/><date key="time:timestamp" value="last tuesday"/></event>
<event><string key="concept:name" value="y"/><date key="time:timestamp" value="2020-01-01T00:00:00Z"/></event>
</trace>
<trace>
<event><string key="concept:name" value="z"/><date key="time:timestamp" value="2020-01-01T00:00:00Z"/></event>
</trace>
<event><string key="concept:name" value="stray"/></event>
</log>)");
  std::vector<LogCase> cases;
  ImportReport r = import_xes(p, [&](LogCase&& c) { cases.push_back(std::move(c)); });
  REQUIRE(cases.size() == 1);
  CHECK(cases[0].events.size() == 1);
  CHECK(r.skipped_rows == 2);
  CHECK(r.skipped_cases == 1);
  CHECK(r.events == 1);
  REQUIRE(r.problems.size() == 3);
  CHECK(r.problems[0].line == 3);
  CHECK(contains(r.problems[0].message, "without concept:name"));
  CHECK(r.problems[1].line == 4);
  CHECK(contains(r.problems[1].message, "'last tuesday'"));
  CHECK(r.problems[2].line == 7);
  CHECK(contains(r.problems[2].message, "trace without concept:name"));
}

TEST_CASE("XES: malformed XML is an error naming the line") {
  TempDir dir;
  const fs::path p = dir.write("broken.xes", "<?xml version=\"1.0\"?>\n<log>\n<trace>\n<string key=\"concept:name\" value=\"A\"/>\n"
                                             "<event>\n</trace>\n</log>\n");
  std::string msg = error_of([&] { import_xes(p, [](LogCase&&) {}); }, ErrorCode::parse_error);
  CHECK(contains(msg, p.string() + ": line 6: malformed XML"));
  const fs::path q = dir.write("other.xml", "<html><body/></html>");
  msg = error_of([&] { import_xes(q, [](LogCase&&) {}); }, ErrorCode::parse_error);
  CHECK(contains(msg, "not an XES log"));
  const fs::path e = dir.write("empty.xes", "");
  msg = error_of([&] { import_xes(e, [](LogCase&&) {}); }, ErrorCode::parse_error);
  CHECK(contains(msg, "line 1"));
}

TEST_CASE("XES: an exception from the sink passes through the parser") {
  TempDir dir;
  const fs::path p = dir.write("ok.xes", kXes);
  int calls = 0;
  CHECK_THROWS_WITH_AS(import_xes(p,
                                  [&](LogCase&&) {
                                    ++calls;
                                    throw std::runtime_error("sink full");
                                  }),
                       "sink full", std::runtime_error);
  CHECK(calls == 1);
}

TEST_CASE("garbage: random bytes and truncated gzip never crash") {
  TempDir dir;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  auto random_bytes = [&](std::size_t n, const std::string& alphabet = {}) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      s.push_back(alphabet.empty() ? static_cast<char>(byte(rng))
                                   : alphabet[static_cast<std::size_t>(byte(rng)) % alphabet.size()]);
    }
    return s;
  };
  int errors = 0;
  for (int round = 0; round < 30; ++round) {
    // CSV: fully random, and random over the characters that matter to the reader.
    const std::string text = round % 2 ? random_bytes(20000) : "case,activity,time\n" + random_bytes(20000, "1a,\"\r\n 2-:0");
    for (OnBadRow mode : {OnBadRow::skip, OnBadRow::stop}) {
      ImportOptions o;
      o.on_bad_row = mode;
      try {
        ImportReport r;
        collect_csv(text, simple_mapping(), &r, o);
        CHECK(r.rows >= r.skipped_rows);
      } catch (const Error&) {
        ++errors;
      }
    }
    // XES: random bytes, random bytes behind a gzip header, random XML-ish text.
    const fs::path a = dir.write("r.xes", random_bytes(5000));
    const fs::path b = dir.write("r.xes.gz", std::string("\x1f\x8b\x08\x00", 4) + random_bytes(5000));
    const fs::path c = dir.write("x.xes", "<log><trace>" + random_bytes(5000, "<>/=\"' abtrace&;event") + "</trace></log>");
    for (const fs::path& p : {a, b, c}) {
      try {
        import_xes(p, [](LogCase&&) {});
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  CHECK(errors > 30);  // the random XES files are all rejected with acm::Error

  // The real log cut in the middle: the traces before the cut arrive, then an error.
  const fs::path real = data_file("Helpdesk_camargo_GenerativeLSTM.xes.gz");
  std::ifstream in(real, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path cut = dir.write("cut.xes.gz", bytes.substr(0, bytes.size() / 2));
  std::size_t delivered = 0;
  const std::string msg = error_of([&] { import_xes(cut, [&](LogCase&&) { ++delivered; }); }, ErrorCode::parse_error);
  CHECK(contains(msg, cut.string()));
  CHECK(delivered > 1000);
  CHECK(delivered < 4580);
  // Corrupted in the middle instead of cut.
  std::string corrupt = bytes;
  for (std::size_t i = corrupt.size() / 3; i < corrupt.size() / 3 + 64; ++i) corrupt[i] = static_cast<char>(byte(rng));
  const fs::path bad = dir.write("corrupt.xes.gz", corrupt);
  error_of([&] { import_xes(bad, [](LogCase&&) {}); }, ErrorCode::parse_error);
}
