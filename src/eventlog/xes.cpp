// SPDX-License-Identifier: Apache-2.0
// eventlog/xes.cpp - streaming XES 1.0 import with expat, plain or gzip'd (zlib).
#include <acm/error.hpp>
#include <acm/eventlog.hpp>

#include "base/time_parse.hpp"
#include "eventlog/common.hpp"

#include <expat.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <system_error>

namespace acm::eventlog {

namespace detail {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

/// A byte source: the plain file, or the gzip stream inflated by zlib.
class Input {
 public:
  virtual ~Input() = default;
  /// Reads up to n bytes; 0 at the end. Throws Error(parse_error) on a corrupt stream.
  virtual std::size_t read(char* buf, std::size_t n) = 0;
  /// Input bytes consumed so far (for gzip: compressed bytes).
  virtual std::uint64_t consumed() = 0;
};

class PlainInput final : public Input {
 public:
  PlainInput(std::FILE* f, std::string name) : f_(f), name_(std::move(name)) {}
  ~PlainInput() override { std::fclose(f_); }
  PlainInput(const PlainInput&) = delete;
  PlainInput& operator=(const PlainInput&) = delete;
  std::size_t read(char* buf, std::size_t n) override {
    const std::size_t got = std::fread(buf, 1, n, f_);
    if (got < n && std::ferror(f_)) throw Error(ErrorCode::storage, name_ + ": read error");
    consumed_ += got;
    return got;
  }
  std::uint64_t consumed() override { return consumed_; }

 private:
  std::FILE* f_;
  std::string name_;
  std::uint64_t consumed_ = 0;
};

class GzipInput final : public Input {
 public:
  GzipInput(gzFile f, std::string name, std::uint64_t max_inflated)
      : f_(f), name_(std::move(name)), max_inflated_(max_inflated) {
    gzbuffer(f_, kChunk);
  }
  ~GzipInput() override { gzclose(f_); }
  GzipInput(const GzipInput&) = delete;
  GzipInput& operator=(const GzipInput&) = delete;
  std::size_t read(char* buf, std::size_t n) override {
    const int got = gzread(f_, buf, static_cast<unsigned>(n));
    int err = Z_OK;
    const char* msg = gzerror(f_, &err);
    if (got < 0 || (err != Z_OK && err != Z_STREAM_END)) {
      throw Error(ErrorCode::parse_error, name_ + ": corrupt or truncated gzip data (" + (msg ? msg : "?") + ")");
    }
    inflated_ += static_cast<std::uint64_t>(got);
    if (inflated_ > max_inflated_) {
      throw Error(ErrorCode::invalid_argument, name_ + ": inflates to more than " + std::to_string(max_inflated_) +
                                                   " bytes (ImportOptions::max_inflated_bytes); refusing to read on");
    }
    return static_cast<std::size_t>(got);
  }
  std::uint64_t consumed() override {
    const z_off_t off = gzoffset(f_);
    return off < 0 ? 0 : static_cast<std::uint64_t>(off);
  }

 private:
  gzFile f_;
  std::string name_;
  std::uint64_t max_inflated_;
  std::uint64_t inflated_ = 0;
};

/// Opens `file`, choosing gzip by its first two bytes (0x1f 0x8b).
std::unique_ptr<Input> open_input(const std::filesystem::path& file, std::uint64_t& size, std::uint64_t max_inflated) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw Error(ErrorCode::invalid_argument, "event log " + file.string() + " is a directory");
  }
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) throw open_error(file, errno);
  const auto s = std::filesystem::file_size(file, ec);
  size = ec ? 0 : static_cast<std::uint64_t>(s);
  unsigned char magic[2] = {0, 0};
  const std::size_t got = std::fread(magic, 1, 2, f);
  const bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!gzip) {
    std::rewind(f);
    return std::make_unique<PlainInput>(f, file.string());
  }
  std::fclose(f);
  gzFile g = gzopen(file.c_str(), "rb");
  if (!g) throw open_error(file, errno);
  return std::make_unique<GzipInput>(g, file.string(), max_inflated);
}

/// The element names of XES attributes whose value is taken as text.
bool is_simple_attribute(std::string_view name) {
  return name == "string" || name == "date" || name == "int" || name == "float" || name == "boolean" ||
         name == "id";
}

/// The local part of an element name ("xes:trace" -> "trace").
std::string_view local_name(const XML_Char* name) {
  std::string_view n(name);
  const auto colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

/// The expat handlers' state: one trace and one event at a time.
class XesHandler {
 public:
  XesHandler(XML_Parser parser, Bookkeeper& book) : parser_(parser), book_(book) {}

  void start(const XML_Char* name, const XML_Char** atts) {
    const std::string_view n = local_name(name);
    const Kind parent = stack_.empty() ? Kind::none : stack_.back();
    Kind kind = Kind::other;
    if (parent == Kind::none) {
      if (n != "log") book_.fail(line(), "not an XES log: the root element is " + quote_value(n) + ", not 'log'");
      kind = Kind::log;
    } else if (parent == Kind::log && n == "trace") {
      kind = Kind::trace;
      trace_ = LogCase{};
      trace_line_ = line();
      trace_named_ = false;
      book_.start_case();
    } else if (parent == Kind::trace && n == "event") {
      kind = Kind::event;
      event_ = LogEvent{};
      event_line_ = line();
      event_named_ = false;
      event_timed_ = false;
      event_held_ = sizeof(LogEvent);
      book_.hold(trace_line_, trace_.id, 0, event_held_);
      bad_time_.clear();
      ++book_.report().rows;
    } else if ((parent == Kind::trace || parent == Kind::event) && is_simple_attribute(n)) {
      kind = Kind::attribute;
      const XML_Char* key = nullptr;
      const XML_Char* value = nullptr;
      for (const XML_Char** a = atts; a && *a; a += 2) {
        if (std::strcmp(a[0], "key") == 0) key = a[1];
        if (std::strcmp(a[0], "value") == 0) value = a[1];
      }
      if (key && value) {
        // Counted before it is kept: one case's memory is bounded (ImportOptions::max_case_bytes).
        const std::size_t bytes = sizeof(Attributes::value_type) + std::strlen(key) + std::strlen(value);
        book_.hold(trace_line_, trace_.id, 0, bytes);
        if (parent == Kind::event) event_held_ += bytes;
        if (parent == Kind::trace) {
          trace_attribute(key, value);
        } else {
          event_attribute(key, value);
        }
      }
    }
    stack_.push_back(kind);
  }

  void end() {
    const Kind kind = stack_.back();
    stack_.pop_back();
    if (kind == Kind::event) {
      end_event();
    } else if (kind == Kind::trace) {
      end_trace();
    }
  }

 private:
  enum class Kind { none, log, trace, event, attribute, other };

  std::uint64_t line() const { return XML_GetCurrentLineNumber(parser_); }

  void trace_attribute(const char* key, const char* value) {
    if (std::strcmp(key, "concept:name") == 0) {
      trace_.id = value;
      trace_named_ = true;
    } else {
      trace_.attributes.emplace_back(key, value);
    }
  }

  void event_attribute(const char* key, const char* value) {
    if (std::strcmp(key, "concept:name") == 0) {
      event_.activity = value;
      event_named_ = true;
    } else if (std::strcmp(key, "time:timestamp") == 0) {
      event_timed_ = acm::detail::try_parse_time(value, event_.time, nullptr);
      if (!event_timed_) bad_time_ = value;
    } else if (std::strcmp(key, "org:resource") == 0) {
      event_.resource = value;
    } else if (std::strcmp(key, "lifecycle:transition") == 0) {
      if (std::strcmp(value, "complete") != 0) event_.attributes.emplace_back(key, value);
    } else {
      event_.attributes.emplace_back(key, value);
    }
  }

  void end_event() {
    std::string why;
    if (!event_named_ || event_.activity.empty()) {
      why = "event without concept:name";
    } else if (!bad_time_.empty()) {
      why = "cannot parse time:timestamp " + quote_value(bad_time_);
    } else if (!event_timed_) {
      why = "event without time:timestamp";
    }
    if (!why.empty()) {
      book_.bad(event_line_, std::move(why));
      ++book_.report().skipped_rows;
      book_.release(event_held_);
      return;
    }
    book_.hold(trace_line_, trace_.id, 1, 0);
    trace_.events.push_back(std::move(event_));
  }

  void end_trace() {
    if (!trace_named_ || trace_.id.empty()) {
      book_.bad(trace_line_, "trace without concept:name (" + std::to_string(trace_.events.size()) +
                                 " events dropped)");
      ++book_.report().skipped_cases;
      return;
    }
    book_.deliver(std::move(trace_));
  }

  XML_Parser parser_;
  Bookkeeper& book_;
  std::vector<Kind> stack_;
  LogCase trace_;
  std::uint64_t trace_line_ = 0;
  bool trace_named_ = false;
  LogEvent event_;
  std::uint64_t event_line_ = 0;
  bool event_named_ = false;
  bool event_timed_ = false;
  std::size_t event_held_ = 0;  // bytes of the current event counted by book_.hold
  std::string bad_time_;
};

/// Expat callbacks must not let exceptions through C frames: they park the first one here and
/// stop the parser; the loop rethrows it.
struct Callbacks {
  XesHandler* handler;
  XML_Parser parser;
  std::exception_ptr error;

  static void on_start(void* self, const XML_Char* name, const XML_Char** atts) {
    auto* c = static_cast<Callbacks*>(self);
    if (c->error) return;
    try {
      c->handler->start(name, atts);
    } catch (...) {
      c->error = std::current_exception();
      XML_StopParser(c->parser, XML_FALSE);
    }
  }
  static void on_end(void* self, const XML_Char* /*name*/) {
    auto* c = static_cast<Callbacks*>(self);
    if (c->error) return;
    try {
      c->handler->end();
    } catch (...) {
      c->error = std::current_exception();
      XML_StopParser(c->parser, XML_FALSE);
    }
  }
};

struct ParserDeleter {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};

}  // namespace
}  // namespace detail

ImportReport import_xes(const std::filesystem::path& file, const CaseSink& sink, const ImportOptions& options) {
  using namespace detail;
  std::uint64_t size = 0;
  std::unique_ptr<Input> input = open_input(file, size, options.max_inflated_bytes);
  Bookkeeper book(file.string(), sink, options, size);
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, ParserDeleter> parser(XML_ParserCreate(nullptr));
  if (!parser) throw Error(ErrorCode::internal, "cannot create an XML parser");
  XesHandler handler(parser.get(), book);
  Callbacks callbacks{&handler, parser.get(), nullptr};
  XML_SetUserData(parser.get(), &callbacks);
  XML_SetElementHandler(parser.get(), &Callbacks::on_start, &Callbacks::on_end);

  for (;;) {
    void* buf = XML_GetBuffer(parser.get(), static_cast<int>(kChunk));
    if (!buf) throw Error(ErrorCode::internal, file.string() + ": out of memory for the XML parser");
    const std::size_t n = input->read(static_cast<char*>(buf), kChunk);
    const bool final = n == 0;
    const XML_Status status = XML_ParseBuffer(parser.get(), static_cast<int>(n), final ? XML_TRUE : XML_FALSE);
    if (callbacks.error) std::rethrow_exception(callbacks.error);
    if (status != XML_STATUS_OK) {
      book.fail(XML_GetCurrentLineNumber(parser.get()),
                std::string("malformed XML: ") + XML_ErrorString(XML_GetErrorCode(parser.get())));
    }
    book.progress(input->consumed(), final);
    if (final) break;
  }
  return std::move(book.report());
}

}  // namespace acm::eventlog
