// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the CMMN importer (docs/cmmn.md): any bytes must either import or be
// refused with acm::Error; an imported model must load into an engine or be refused the same
// way. Seeds: data/cmmn/**/*.cmmn. Build with clang -fsanitize=fuzzer,address against libacm.
#include <acm/cmmn.hpp>
#include <acm/engine.hpp>
#include <acm/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  acm::cmmn::ImportResult r;
  try {
    r = acm::cmmn::import(text);
  } catch (const acm::Error&) {
    return 0;  // refused with a reason: fine
  }
  // What the importer produced must be acceptable definitions, or refused cleanly. A fresh
  // in-memory engine per input keeps every run reproducible on its own.
  auto engine = acm::Engine::open({});
  try {
    engine->load_definitions(acm::Actor{"fuzz", {"admin"}}, r.definitions);
  } catch (const acm::Error&) {
  }
  return 0;
}
