// SPDX-License-Identifier: Apache-2.0
// eventlog/common.hpp - bookkeeping shared by the CSV and XES importers (private).
#pragma once

#include <acm/error.hpp>
#include <acm/eventlog.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <string>
#include <utility>

namespace acm::eventlog::detail {

/// Progress is reported every this many input bytes.
inline constexpr std::uint64_t kProgressStep = 64 * 1024;

/// Collects problems, applies OnBadRow, delivers cases and reports progress.
class Bookkeeper {
 public:
  Bookkeeper(std::string source, const CaseSink& sink, const ImportOptions& options, std::uint64_t bytes_total)
      : source_(std::move(source)), sink_(sink), options_(options), bytes_total_(bytes_total) {}

  ImportReport& report() { return report_; }
  const std::string& source() const { return source_; }

  /// Records a problem that does not stop the import.
  void note(std::uint64_t line, std::string message) {
    ++report_.problems_total;
    if (report_.problems.size() < options_.max_problems_kept) report_.problems.push_back({line, std::move(message)});
  }

  /// A bad row/event: throws under OnBadRow::stop, else records it.
  void bad(std::uint64_t line, std::string message) {
    if (options_.on_bad_row == OnBadRow::stop) {
      throw Error(ErrorCode::parse_error, source_ + ": line " + std::to_string(line) + ": " + message);
    }
    note(line, std::move(message));
  }

  /// A new case starts: its counts of events and bytes held restart from zero.
  void start_case() {
    case_events_ = 0;
    case_bytes_ = 0;
  }

  /// Counts `events` more events and `bytes` more bytes held for the current case (named
  /// `case_id`, "" if not known yet; begun at `case_line`), refusing a case beyond
  /// ImportOptions::max_events_per_case or max_case_bytes.
  void hold(std::uint64_t case_line, const std::string& case_id, std::size_t events, std::size_t bytes) {
    case_events_ += events;
    case_bytes_ += bytes;
    if (case_events_ <= options_.max_events_per_case && case_bytes_ <= options_.max_case_bytes) return;
    const std::string which = case_id.empty() ? "the case" : "case " + quote(case_id);
    const std::string what =
        case_events_ > options_.max_events_per_case
            ? "has more than " + std::to_string(options_.max_events_per_case) + " events (ImportOptions::max_events_per_case)"
            : "holds more than " + std::to_string(options_.max_case_bytes) + " bytes (ImportOptions::max_case_bytes)";
    throw Error(ErrorCode::invalid_argument, source_ + ": line " + std::to_string(case_line) + ": " + which +
                                                 " starting here " + what + "; refusing to import it");
  }

  /// Gives back bytes counted by hold() that the case no longer holds (a dropped event).
  void release(std::size_t bytes) { case_bytes_ -= std::min(bytes, case_bytes_); }

  /// The bytes an event holds (its texts plus a fixed overhead), for hold().
  static std::size_t event_bytes(const LogEvent& e) {
    std::size_t n = sizeof(LogEvent) + e.activity.size() + e.resource.size();
    for (const auto& [k, v] : e.attributes) n += sizeof(e.attributes[0]) + k.size() + v.size();
    return n;
  }

  /// Hands a finished case to the sink.
  void deliver(LogCase&& c) {
    ++report_.cases;
    report_.events += c.events.size();
    sink_(std::move(c));
  }

  /// Calls the progress callback when another kProgressStep bytes were read (or always, at the end).
  void progress(std::uint64_t bytes_read, bool final = false) {
    if (!options_.progress) return;
    if (!final && bytes_read < next_progress_) return;
    next_progress_ = bytes_read + kProgressStep;
    options_.progress(ImportProgress{bytes_read, bytes_total_, report_.rows, report_.cases});
  }

  [[noreturn]] void fail(std::uint64_t line, const std::string& message) const {
    throw Error(ErrorCode::parse_error, source_ + ": line " + std::to_string(line) + ": " + message);
  }

 private:
  std::string source_;
  const CaseSink& sink_;
  const ImportOptions& options_;
  std::uint64_t bytes_total_;
  std::uint64_t next_progress_ = kProgressStep;
  ImportReport report_;
  std::size_t case_events_ = 0;
  std::size_t case_bytes_ = 0;

  static std::string quote(std::string_view v) {
    constexpr std::size_t kMax = 80;
    return "'" + std::string(v.substr(0, kMax)) + (v.size() > kMax ? "...'" : "'");
  }
};

/// The error for a log file that cannot be opened, from errno: not_found when it does not
/// exist, storage otherwise (permissions, I/O).
inline Error open_error(const std::filesystem::path& file, int err) {
  const ErrorCode code = (err == ENOENT || err == ENOTDIR) ? ErrorCode::not_found : ErrorCode::storage;
  return Error(code, "cannot open event log " + file.string() + ": " + std::generic_category().message(err));
}

/// A value quoted for a message, shortened when long. Bytes that would not print (control
/// characters, bytes that are not UTF-8, e.g. a compressed file read as text) are shown as
/// \xNN, so a message never carries binary data to a terminal.
inline std::string quote_value(std::string_view v) {
  constexpr std::size_t kMax = 80;
  std::string q = "'";
  const bool cut = v.size() > kMax;
  if (cut) v = v.substr(0, kMax);
  static constexpr char hex[] = "0123456789abcdef";
  auto escape = [&](unsigned char b) {
    q += "\\x";
    q += hex[b >> 4];
    q += hex[b & 15];
  };
  for (std::size_t i = 0; i < v.size();) {
    const auto b = static_cast<unsigned char>(v[i]);
    if (b >= 0x20 && b < 0x7f) {
      q += static_cast<char>(b);
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence is kept as it is; anything else is escaped byte by byte.
    const std::size_t n = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    bool ok = n > 0 && i + n <= v.size();
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(v[i + k]) & 0xC0) == 0x80;
    if (ok) {
      q.append(v.substr(i, n));
      i += n;
    } else {
      escape(b);
      ++i;
    }
  }
  if (cut) q += "...";
  q += '\'';
  return q;
}

}  // namespace acm::eventlog::detail
