// SPDX-License-Identifier: Apache-2.0
// acm/eventlog.hpp - streaming import of process-mining event logs (CSV and XES 1.0).
//
// The importers read a log once, front to back, and hand each case to a sink as soon as it is
// complete, so memory is bounded by the largest case (plus, for CSV, the set of case ids seen,
// see ImportOptions::track_reappearing_ids), never by the file. Formats, mapping and rules:
// docs/eventlogs.md.
//
// Thread safety: the functions keep no global state and may run concurrently on different
// inputs. The sink and the progress callback are called on the calling thread.
#pragma once

#include <acm/time.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace acm::eventlog {

/// Name/value pairs in file order (CSV: mapping order; XES: document order).
using Attributes = std::vector<std::pair<std::string, std::string>>;

/// One event of a case.
struct LogEvent {
  std::string activity;   ///< CSV: the activity column; XES: `concept:name`
  TimePoint time;         ///< UTC milliseconds (sub-millisecond digits are truncated)
  std::string resource;   ///< CSV: the resource column; XES: `org:resource`; empty if none
  Attributes attributes;  ///< the other event attributes, values as text
};

/// One case (trace): its id, its events in file order and its case-level attributes.
struct LogCase {
  std::string id;
  std::vector<LogEvent> events;
  Attributes attributes;  ///< CSV: the case_attributes columns of the case's first row
};

/// How CSV columns map to the fields of LogEvent/LogCase. Columns are named by header text
/// (exact, case-sensitive match; the first column wins when a name repeats).
struct CsvMapping {
  std::string case_id;    ///< required
  std::string activity;   ///< required
  std::string timestamp;  ///< required
  std::string resource;   ///< optional: "" = no resource column
  std::vector<std::string> case_attributes;   ///< columns copied to LogCase::attributes
  std::vector<std::string> event_attributes;  ///< columns copied to LogEvent::attributes
  /// date::parse format of the timestamp column (strftime-like). `%S` also accepts a fraction
  /// ("17.250"). With `%z` in the format the offset in the text is used and time_zone ignored.
  std::string timestamp_format = "%Y-%m-%d %H:%M:%S";
  /// Zone of timestamps without offset: "UTC" or an IANA name ("Europe/Rome").
  std::string time_zone = "UTC";
  char delimiter = ',';
};

/// What to do with a malformed row (CSV) or event (XES).
enum class OnBadRow {
  skip,  ///< drop it, count it in ImportReport::skipped_rows and record an ImportProblem
  stop,  ///< throw acm::Error(parse_error) naming the file and line
};

/// Where an import stands; passed to ImportOptions::progress.
struct ImportProgress {
  std::uint64_t bytes_read = 0;   ///< input bytes consumed (gzip: compressed bytes)
  std::uint64_t bytes_total = 0;  ///< input size, 0 if unknown (a non-seekable stream)
  std::uint64_t rows = 0;         ///< CSV data rows / XES events read so far
  std::uint64_t cases = 0;        ///< cases delivered so far
};

struct ImportOptions {
  /// Malformed rows/events: skip (default) or stop.
  OnBadRow on_bad_row = OnBadRow::skip;
  /// Called about every 64 KiB of input and once at the end; empty = none. May throw to
  /// cancel the import (the exception propagates).
  std::function<void(const ImportProgress&)> progress;
  /// ImportReport::problems keeps the first this many; problems_total counts them all.
  std::size_t max_problems_kept = 1000;
  /// CSV: remember every case id to detect ids that reappear after another case (reported
  /// as problems and counted in ImportReport::reappeared_runs). Costs memory per distinct id;
  /// turn off for logs with very many cases when the check is not wanted.
  bool track_reappearing_ids = true;
  /// CSV: a single record longer than this (e.g. an unterminated quote swallowing the rest of
  /// the file) is an error whatever on_bad_row says, since the reader cannot resynchronise.
  std::size_t max_record_bytes = 16u << 20;
  /// Events one case may have. A bigger case stops the import with Error(invalid_argument)
  /// naming it, whatever on_bad_row says: the importers hold a whole case in memory.
  std::size_t max_events_per_case = 100000;
  /// Bytes of text (id, activities, resources, attribute names and values, plus a fixed
  /// overhead per event) one case may hold in memory while it is read; beyond, as
  /// max_events_per_case. Together they bound the memory of an import.
  std::size_t max_case_bytes = 256u << 20;
  /// XES: a gzip'd log may inflate to at most this many bytes (a small file can inflate to
  /// gigabytes); beyond, Error(invalid_argument) naming the file.
  std::uint64_t max_inflated_bytes = std::uint64_t{4} << 30;
};

/// A problem found in the input; `line` is 1-based (CSV: the line where the row starts).
struct ImportProblem {
  std::uint64_t line = 0;
  std::string message;
};

/// Outcome of an import.
struct ImportReport {
  std::uint64_t rows = 0;          ///< CSV data rows (blank lines excluded) / XES events read
  std::uint64_t events = 0;        ///< events delivered in cases
  std::uint64_t cases = 0;         ///< cases delivered (CSV: runs of consecutive rows)
  std::uint64_t skipped_rows = 0;  ///< bad rows (CSV) or bad events (XES) dropped
  std::uint64_t skipped_cases = 0; ///< XES: traces dropped for lack of a name
  std::uint64_t reappeared_runs = 0;  ///< CSV: runs whose case id already had an earlier run
  std::vector<ImportProblem> problems;  ///< the first max_problems_kept problems
  std::uint64_t problems_total = 0;
};

/// Receives each complete case. May move from it; may throw to abort the import.
using CaseSink = std::function<void(LogCase&&)>;

/// Imports a CSV event log (RFC 4180: quoted fields, doubled quotes, newlines in quotes; CRLF
/// or LF; an optional UTF-8 BOM; a header row first). A case is a run of consecutive rows with
/// the same case id; it is delivered when the id changes and at the end. An id that comes back
/// after another case is delivered again as a separate case and reported (reappeared_runs).
/// Errors: acm::Error(not_found) when the file does not exist, Error(storage) when it cannot be
/// read, both naming the path;
/// Error(invalid_argument) when a mapped column is missing from the header (naming it and
/// listing the header) or the format/zone is unusable; Error(parse_error) for a bad row under
/// OnBadRow::stop, naming the file and line.
ImportReport import_csv(const std::filesystem::path& file, const CsvMapping& mapping, const CaseSink& sink,
                        const ImportOptions& options = {});
/// As above, from a stream (named "<stream>" in messages). bytes_total is found by seeking
/// when the stream allows it, else 0.
ImportReport import_csv(std::istream& in, const CsvMapping& mapping, const CaseSink& sink,
                        const ImportOptions& options = {});

/// Imports an XES 1.0 log (IEEE 1849), plain or gzip-compressed (recognised by the gzip magic
/// bytes, not by the name), one <trace> at a time. Errors: as import_csv for the file; Error(parse_error) naming the file and line for malformed XML or
/// a corrupt/truncated gzip stream, or for a bad event/trace under OnBadRow::stop.
ImportReport import_xes(const std::filesystem::path& file, const CaseSink& sink, const ImportOptions& options = {});

/// Reads the header row of a CSV file (BOM stripped, quotes resolved). Throws as import_csv.
std::vector<std::string> read_csv_header(const std::filesystem::path& file, char delimiter = ',');

/// Guesses a mapping from a header by common names, compared ignoring case, spaces, '_' and
/// '-': case id (Case ID, CaseID, case:concept:name, case), activity (Activity, ActivityID,
/// concept:name, event), timestamp (Complete Timestamp, CompleteTimestamp, time:timestamp,
/// timestamp), resource (Resource, org:resource; optional). Every other column (first
/// occurrence of a name) becomes an event attribute. The timestamp format stays the default.
/// Throws Error(invalid_argument) naming what it could not find and listing the header.
CsvMapping guess_mapping(const std::vector<std::string>& header);

}  // namespace acm::eventlog
