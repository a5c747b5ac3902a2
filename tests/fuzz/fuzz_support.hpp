// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_support.hpp - oracles shared by the fuzz harnesses (tests/fuzz/fuzz_*.cpp).
//
// A harness defines LLVMFuzzerTestOneInput. Built with ACM_FUZZ=ON (clang) it is a libFuzzer
// target; in the ordinary build it is linked with replay_main.cpp and run by ctest over its
// stored reproducers (tests/fuzz/regressions/<target>/). A finding is reported by aborting, so
// both drivers see it.
#pragma once

#include <acm/error.hpp>
#include <acm/json.hpp>

#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace acm_fuzz {

/// Stops the run with a message: libFuzzer saves the input as a crash, the replay driver fails.
[[noreturn]] inline void finding(std::string_view what) {
  std::fprintf(stderr, "acm fuzz finding: %.*s\n", static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

/// Runs `body`; acm::Error is the documented outcome of bad input, anything else escaping is a
/// finding (the public API promises that only acm::Error leaves it). Returns true when `body`
/// completed.
template <class F>
bool only_acm_errors(const char* where, F&& body) {
  try {
    body();
    return true;
  } catch (const acm::Error& e) {
    if (e.code() == acm::ErrorCode::internal) finding(std::string(where) + ": internal error: " + e.what());
    return false;
  } catch (const std::exception& e) {
    finding(std::string(where) + ": a non-acm exception escaped: " + e.what());
  } catch (...) {
    finding(std::string(where) + ": an unknown exception escaped");
  }
}

/// The input as text.
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// A private scratch folder for this process (removed at exit), for harnesses that need files.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = std::filesystem::temp_directory_path() / ("acm-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("acm-fuzz-" + std::to_string(::getpid())),
                                  ec);
    });
    return d;
  }();
  return dir;
}

/// Writes `bytes` to `path` (replacing it).
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) finding("cannot write scratch file " + path.string());
}

/// Reads a whole file ("" if missing).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Splits fuzz input into a few control bytes and the rest.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  /// The next byte (0 when exhausted).
  std::uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  /// The next 4 bytes as a number.
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }
  /// Up to `max` bytes, as text.
  std::string_view take(std::size_t max) {
    const std::size_t k = max < n_ ? max : n_;
    std::string_view s(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return s;
  }
  std::string_view rest() { return take(n_); }
  std::size_t left() const { return n_; }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

}  // namespace acm_fuzz
