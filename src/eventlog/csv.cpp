// SPDX-License-Identifier: Apache-2.0
// eventlog/csv.cpp - streaming RFC 4180 reader and the CSV importer.
#include <acm/error.hpp>
#include <acm/eventlog.hpp>

#include "eventlog/common.hpp"
#include "eventlog/timestamp.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <istream>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace acm::eventlog {

namespace detail {
namespace {

/// One record of a CSV file. `fields` keeps its strings between records so that their
/// capacity is reused; only the first `count` are this record's.
struct Record {
  std::vector<std::string> fields;
  std::size_t count = 0;
  std::uint64_t line = 0;  // 1-based line where the record starts
  std::string error;       // a quoting problem, empty if none
  bool blank = false;      // an empty line
};

/// Reads RFC 4180 records from a stream, 64 KiB at a time.
class CsvReader {
 public:
  CsvReader(std::istream& in, char delimiter, std::size_t max_record_bytes, const Bookkeeper& book)
      : in_(in), delim_(delimiter), max_record_(max_record_bytes), book_(book), buf_(kChunk) {
    // A UTF-8 byte-order mark before the header is dropped.
    if (fill() && end_ - pos_ >= 3 && std::memcmp(buf_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
  }

  std::uint64_t bytes_read() const { return bytes_read_; }

  /// Reads the next record; false at the end of the input.
  bool next(Record& r) {
    r.count = 0;
    r.error.clear();
    r.blank = false;
    r.line = line_;
    std::size_t size = 0;
    bool any = false;  // any character (or quote) seen in this record
    enum class State { field_start, unquoted, quoted, quote_in_quoted } state = State::field_start;
    std::string* field = begin_field(r);
    for (;;) {
      if (state == State::unquoted || state == State::quoted) {
        // Copy the run of ordinary bytes up to the next special one in one go.
        const char* const b = buf_.data() + pos_;
        const char* const e = buf_.data() + end_;
        const char* p = b;
        if (state == State::unquoted) {
          while (p < e && *p != delim_ && *p != '\n' && *p != '\r') ++p;
        } else {
          for (; p < e && *p != '"'; ++p) line_ += *p == '\n';
        }
        if (p != b) {
          const auto n = static_cast<std::size_t>(p - b);
          size += n;
          if (size > max_record_) too_long(r);
          field->append(b, n);
          pos_ += n;
          continue;
        }
      }
      int ci = get();
      if (ci < 0) {  // end of input
        if (!any) {
          r.count = 0;
          return false;
        }
        if (state == State::quoted) set_error(r, "unterminated quoted field (the file ends inside quotes)");
        return true;
      }
      const char c = static_cast<char>(ci);
      if (++size > max_record_) too_long(r);
      if (c == '\n') ++line_;
      if (state == State::quoted) {
        if (c == '"') {
          state = State::quote_in_quoted;
        } else {
          field->push_back(c);
        }
        continue;
      }
      if (c == '\r' && peek() == '\n') continue;  // CRLF: the LF ends the record
      if (c == '\n') {
        r.blank = !any;
        return true;
      }
      any = true;
      if (c == delim_) {
        field = begin_field(r);
        state = State::field_start;
        continue;
      }
      switch (state) {
        case State::field_start:
          if (c == '"') {
            state = State::quoted;
          } else {
            field->push_back(c);
            state = State::unquoted;
          }
          break;
        case State::unquoted: field->push_back(c); break;  // a quote inside an unquoted field is data
        case State::quote_in_quoted:
          if (c == '"') {  // a doubled quote
            field->push_back('"');
            state = State::quoted;
          } else {
            set_error(r, std::string("unexpected character ") + quote_value(std::string_view(&c, 1)) +
                             " after a closing quote in field " + std::to_string(r.count));
            field->push_back(c);
            state = State::unquoted;
          }
          break;
        case State::quoted: break;  // handled above
      }
    }
  }

 private:
  static constexpr std::size_t kChunk = 64 * 1024;

  [[noreturn]] void too_long(const Record& r) const {
    book_.fail(r.line, "record longer than " + std::to_string(max_record_) +
                           " bytes (an unterminated quoted field?); the import cannot continue");
  }

  std::string* begin_field(Record& r) {
    if (r.count == r.fields.size()) r.fields.emplace_back();
    std::string* f = &r.fields[r.count++];
    f->clear();
    return f;
  }
  static void set_error(Record& r, std::string message) {
    if (r.error.empty()) r.error = std::move(message);
  }
  bool fill() {
    if (pos_ < end_) return true;
    if (eof_) return false;
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    const auto n = static_cast<std::size_t>(in_.gcount());
    if (n < buf_.size()) {
      eof_ = true;
      if (in_.bad()) throw Error(ErrorCode::storage, book_.source() + ": read error near line " + std::to_string(line_));
    }
    pos_ = 0;
    end_ = n;
    bytes_read_ += n;
    return n > 0;
  }
  int get() {
    if (pos_ >= end_ && !fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  int peek() {
    if (pos_ >= end_ && !fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }

  std::istream& in_;
  char delim_;
  std::size_t max_record_;
  const Bookkeeper& book_;
  std::vector<char> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  std::uint64_t line_ = 1;
  std::uint64_t bytes_read_ = 0;
};

std::string list_header(const std::vector<std::string>& header) {
  std::string s = "[";
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (i) s += ", ";
    s += quote_value(header[i]);
  }
  return s + "]";
}

/// The size of a seekable stream, or 0; leaves the stream where it was.
std::uint64_t stream_size(std::istream& in) {
  const auto here = in.tellg();
  if (here == std::streampos(-1)) {
    in.clear();
    return 0;
  }
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  in.clear();
  in.seekg(here);
  if (end == std::streampos(-1) || !in) {
    in.clear();
    return 0;
  }
  return static_cast<std::uint64_t>(end - here);
}

/// Timestamp formats tried when none of a log's timestamps parse with the one given.
constexpr const char* kCommonFormats[] = {
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%Ez",
    "%Y-%m-%d %H:%M:%S%Ez",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
};

/// "; --time-format '%Y/%m/%d %H:%M:%S' would read them" (or "... or '%m/%d/%Y ...'" when the
/// samples fit several), or "" when no common format reads every sample.
std::string suggest_format(const std::vector<std::string>& samples, const CsvMapping& map) {
  std::vector<std::string> fits;
  for (const char* f : kCommonFormats) {
    if (f == map.timestamp_format) continue;
    TimestampParser p(f, map.time_zone);
    bool all = !samples.empty();
    TimePoint t{};
    for (const std::string& s : samples) all = all && p.parse(s, t);
    if (all) fits.push_back(quote_value(f));
    if (fits.size() == 2) break;
  }
  if (fits.empty()) return "; none of the common formats reads them either (give the format with %Y %m %d %H %M %S)";
  return "; the timestamp format " + fits[0] + (fits.size() > 1 ? " (or " + fits[1] + ")" : "") + " would read them";
}

ImportReport run_csv(std::istream& in, const std::string& source, std::uint64_t bytes_total, const CsvMapping& map,
                     const CaseSink& sink, const ImportOptions& options) {
  Bookkeeper book(source, sink, options, bytes_total);
  ImportReport& report = book.report();
  CsvReader reader(in, map.delimiter, options.max_record_bytes, book);
  Record rec;
  do {
    if (!reader.next(rec)) {
      throw Error(ErrorCode::invalid_argument, source + ": no header row (the input is empty)");
    }
  } while (rec.blank);
  if (!rec.error.empty()) book.fail(rec.line, "header: " + rec.error);
  const std::vector<std::string> header(rec.fields.begin(), rec.fields.begin() + static_cast<long>(rec.count));

  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < header.size(); ++i) index.emplace(header[i], i);  // the first of a name wins
  auto column = [&](const std::string& name, const char* role) -> std::size_t {
    auto it = index.find(name);
    if (name.empty() || it == index.end()) {
      throw Error(ErrorCode::invalid_argument, source + ": column " + quote_value(name) + " (" + role +
                                                   ") is not in the header " + list_header(header));
    }
    return it->second;
  };
  const std::size_t c_case = column(map.case_id, "case id");
  const std::size_t c_activity = column(map.activity, "activity");
  const std::size_t c_time = column(map.timestamp, "timestamp");
  const bool has_resource = !map.resource.empty();
  const std::size_t c_resource = has_resource ? column(map.resource, "resource") : 0;
  std::vector<std::size_t> c_case_attrs, c_event_attrs;
  for (const auto& n : map.case_attributes) c_case_attrs.push_back(column(n, "case attribute"));
  for (const auto& n : map.event_attributes) c_event_attrs.push_back(column(n, "event attribute"));
  TimestampParser timestamps(map.timestamp_format, map.time_zone);

  LogCase current;
  bool open = false;
  std::uint64_t case_line = 0;  // where the current case began
  std::unordered_set<std::string> seen;
  std::uint64_t good_rows = 0;            // rows read as events
  std::uint64_t bad_times = 0;            // rows skipped for their timestamp alone
  std::vector<std::string> time_samples;  // the first of them, for a suggestion
  while (reader.next(rec)) {
    book.progress(reader.bytes_read());
    if (rec.blank) continue;
    ++report.rows;
    const auto& f = rec.fields;
    TimePoint time{};
    std::string why;
    if (!rec.error.empty()) {
      why = rec.error;
    } else if (rec.count != header.size()) {
      why = "expected " + std::to_string(header.size()) + " fields, found " + std::to_string(rec.count);
    } else if (f[c_case].empty()) {
      why = "empty case id (column " + quote_value(map.case_id) + ")";
    } else if (f[c_activity].empty()) {
      why = "empty activity (column " + quote_value(map.activity) + ")";
    } else if (!timestamps.parse(f[c_time], time)) {
      why = "cannot parse timestamp " + quote_value(f[c_time]) + " with format " +
            quote_value(map.timestamp_format);
      ++bad_times;
      if (time_samples.size() < 20) time_samples.push_back(f[c_time]);
      // Stopping at the first row, before any timestamp was read: say which format would do.
      if (options.on_bad_row == OnBadRow::stop && good_rows == 0) why += suggest_format(time_samples, map);
    }
    if (!why.empty()) {
      book.bad(rec.line, std::move(why));
      ++report.skipped_rows;
      continue;
    }
    if (!open || current.id != f[c_case]) {
      if (open) book.deliver(std::move(current));
      current = LogCase{};
      current.id = f[c_case];
      open = true;
      book.start_case();
      case_line = rec.line;
      for (std::size_t i = 0; i < c_case_attrs.size(); ++i) {
        current.attributes.emplace_back(map.case_attributes[i], f[c_case_attrs[i]]);
      }
      if (options.track_reappearing_ids && !seen.insert(current.id).second) {
        ++report.reappeared_runs;
        book.note(rec.line, "case id " + quote_value(current.id) +
                                " reappears after other cases; this run is delivered as a separate case");
      }
    }
    ++good_rows;
    LogEvent& e = current.events.emplace_back();
    e.activity = f[c_activity];
    e.time = time;
    if (has_resource) e.resource = f[c_resource];
    e.attributes.reserve(c_event_attrs.size());
    for (std::size_t i = 0; i < c_event_attrs.size(); ++i) {
      e.attributes.emplace_back(map.event_attributes[i], f[c_event_attrs[i]]);
    }
    book.hold(case_line, current.id, 1, Bookkeeper::event_bytes(e));
  }
  if (open) book.deliver(std::move(current));
  book.progress(reader.bytes_read(), true);
  if (report.rows > 0 && good_rows == 0 && bad_times == report.rows) {
    // Every row failed on its timestamp: the format is wrong, not the rows.
    throw Error(ErrorCode::parse_error, source + ": no timestamp in column " + quote_value(map.timestamp) +
                                            " parses with the format " + quote_value(map.timestamp_format) + " (e.g. " +
                                            quote_value(time_samples.front()) + ")" +
                                            suggest_format(time_samples, map));
  }
  return std::move(report);
}

std::ifstream open_file(const std::filesystem::path& file, std::uint64_t& size) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw Error(ErrorCode::invalid_argument, "event log " + file.string() + " is a directory");
  }
  errno = 0;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw open_error(file, errno);
  // A compressed or XML file read as CSV would only give rows of garbage: say what it is.
  char head[5] = {};
  in.read(head, sizeof head);
  const auto got = static_cast<std::size_t>(in.gcount());
  in.clear();
  in.seekg(0);
  if (got >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b) {
    throw Error(ErrorCode::invalid_argument,
                "event log " + file.string() + " is gzip-compressed, not CSV text (an .xes.gz log? read it as XES)");
  }
  if (got >= 5 && (std::string_view(head, 5) == "<?xml" || std::string_view(head, 4) == "<log")) {
    throw Error(ErrorCode::invalid_argument,
                "event log " + file.string() + " is XML, not CSV text (an XES log? read it as XES)");
  }
  const auto s = std::filesystem::file_size(file, ec);
  size = ec ? 0 : static_cast<std::uint64_t>(s);
  return in;
}

std::string normalise(std::string_view name) {
  std::string s;
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-') continue;
    s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return s;
}

}  // namespace
}  // namespace detail

ImportReport import_csv(std::istream& in, const CsvMapping& mapping, const CaseSink& sink,
                        const ImportOptions& options) {
  return detail::run_csv(in, "<stream>", detail::stream_size(in), mapping, sink, options);
}

ImportReport import_csv(const std::filesystem::path& file, const CsvMapping& mapping, const CaseSink& sink,
                        const ImportOptions& options) {
  std::uint64_t size = 0;
  std::ifstream in = detail::open_file(file, size);
  return detail::run_csv(in, file.string(), size, mapping, sink, options);
}

std::vector<std::string> read_csv_header(const std::filesystem::path& file, char delimiter) {
  std::uint64_t size = 0;
  std::ifstream in = detail::open_file(file, size);
  const CaseSink none;
  const ImportOptions options;
  detail::Bookkeeper book(file.string(), none, options, size);
  detail::CsvReader reader(in, delimiter, options.max_record_bytes, book);
  detail::Record rec;
  do {
    if (!reader.next(rec)) throw Error(ErrorCode::invalid_argument, file.string() + ": no header row (the file is empty)");
  } while (rec.blank);
  if (!rec.error.empty()) book.fail(rec.line, "header: " + rec.error);
  return {rec.fields.begin(), rec.fields.begin() + static_cast<long>(rec.count)};
}

CsvMapping guess_mapping(const std::vector<std::string>& header) {
  CsvMapping m;
  auto find = [&](std::initializer_list<const char*> names) -> std::string {
    for (const char* n : names) {
      const std::string want = detail::normalise(n);
      for (const auto& h : header) {
        if (detail::normalise(h) == want) return h;
      }
    }
    return {};
  };
  m.case_id = find({"case:concept:name", "Case ID", "CaseID", "case"});
  m.activity = find({"concept:name", "Activity", "ActivityID", "Activity name", "event"});
  m.timestamp = find({"time:timestamp", "Complete Timestamp", "CompleteTimestamp", "timestamp"});
  m.resource = find({"org:resource", "Resource"});
  std::string missing;
  if (m.case_id.empty()) missing += " case id";
  if (m.activity.empty()) missing += " activity";
  if (m.timestamp.empty()) missing += " timestamp";
  if (!missing.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "cannot guess the event-log columns for:" + missing + "; header " + detail::list_header(header));
  }
  std::unordered_set<std::string> used{m.case_id, m.activity, m.timestamp, m.resource};
  for (const auto& h : header) {
    if (h.empty() || !used.insert(h).second) continue;
    m.event_attributes.push_back(h);
  }
  return m;
}

}  // namespace acm::eventlog
