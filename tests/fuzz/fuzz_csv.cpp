// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_csv.cpp - CSV event-log import (acm/eventlog.hpp), from a stream.
//
// Input: a CSV file. The mapping is guessed from the header (naive comma split); when nothing
// can be guessed, columns "case", "activity", "time", "resource" are mapped. The first byte's
// low bits pick skip or stop on bad rows and the delimiter.
// Oracles: only acm::Error escapes; every delivered case has an id and at most
// max_events_per_case events; the report counts what was delivered.
#include <acm/acm.hpp>
#include <acm/eventlog.hpp>

#include "fuzz_support.hpp"

#include <sstream>

using namespace acm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  acm_fuzz::Bytes in(data, size);
  const std::uint8_t mode = in.byte();
  const std::string body(in.rest());
  eventlog::ImportOptions options;
  options.on_bad_row = (mode & 1) ? eventlog::OnBadRow::stop : eventlog::OnBadRow::skip;
  options.max_record_bytes = 4096;
  options.max_events_per_case = 200;
  options.max_case_bytes = 64 * 1024;
  options.max_problems_kept = 5;
  const char delimiter = (mode & 2) ? ';' : ',';
  eventlog::CsvMapping mapping;
  acm_fuzz::only_acm_errors("guess_mapping", [&] {
    std::vector<std::string> header;
    const std::string first = body.substr(0, body.find('\n'));
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = first.find(delimiter, start);
      header.push_back(first.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    mapping = eventlog::guess_mapping(header);
  });
  if (mapping.case_id.empty())
    mapping =
        eventlog::CsvMapping{.case_id = "case", .activity = "activity", .timestamp = "time", .resource = "resource"};
  mapping.delimiter = delimiter;
  if (mode & 4) mapping.timestamp_format = "%Y-%m-%dT%H:%M:%S%z";
  std::uint64_t cases = 0, events = 0;
  std::istringstream stream(body);
  eventlog::ImportReport report;
  const bool done = acm_fuzz::only_acm_errors("import_csv", [&] {
    report = eventlog::import_csv(
        stream, mapping,
        [&](eventlog::LogCase&& c) {
          if (c.id.empty()) acm_fuzz::finding("a case without id was delivered");
          if (c.events.empty()) acm_fuzz::finding("a case without events was delivered");
          if (c.events.size() > options.max_events_per_case) acm_fuzz::finding("a case above max_events_per_case");
          ++cases;
          events += c.events.size();
        },
        options);
  });
  if (done && (report.cases != cases || report.events != events))
    acm_fuzz::finding("the import report does not count what was delivered");
  return 0;
}
