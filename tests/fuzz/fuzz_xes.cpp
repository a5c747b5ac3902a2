// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_xes.cpp - XES event-log import (acm/eventlog.hpp), plain and gzip'd.
//
// Input: the first byte's bit 0 gzips the rest before it is written to a file (so the fuzzer
// mutates XML but both readers run; a raw .gz seed has its own magic and is read as gzip
// either way), bit 1 picks stop on bad events. Small bounds make the limits reachable.
// Oracles: only acm::Error escapes; delivered cases have ids and at most max_events_per_case
// events; the report counts what was delivered.
#include <acm/acm.hpp>
#include <acm/eventlog.hpp>

#include "fuzz_support.hpp"

#include <zlib.h>

using namespace acm;

namespace {

std::string gzip(std::string_view raw) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    acm_fuzz::finding("deflateInit2");
  std::string out(deflateBound(&z, raw.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) acm_fuzz::finding("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  acm_fuzz::Bytes in(data, size);
  const std::uint8_t mode = in.byte();
  const std::string_view body = in.rest();
  const auto path = acm_fuzz::scratch() / "log.xes";
  acm_fuzz::write_file(path, (mode & 1) ? std::string_view(gzip(body)) : body);
  eventlog::ImportOptions options;
  options.on_bad_row = (mode & 2) ? eventlog::OnBadRow::stop : eventlog::OnBadRow::skip;
  options.max_events_per_case = 200;
  options.max_case_bytes = 64 * 1024;
  options.max_inflated_bytes = 1u << 20;
  options.max_problems_kept = 5;
  std::uint64_t cases = 0, events = 0;
  eventlog::ImportReport report;
  const bool done = acm_fuzz::only_acm_errors("import_xes", [&] {
    report = eventlog::import_xes(
        path,
        [&](eventlog::LogCase&& c) {
          if (c.id.empty()) acm_fuzz::finding("a case without id was delivered");
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
