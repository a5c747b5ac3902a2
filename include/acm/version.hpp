// SPDX-License-Identifier: Apache-2.0
// acm/version.hpp - the library version.
#pragma once

namespace acm {

/// The version of the acm library, e.g. "0.1.0": the project version of the top-level
/// CMakeLists.txt (its only source), also written into every store file's metadata
/// (`meta.acm_version`), returned by acm_version() (C), acm.__version__ (Python) and printed by
/// `acm --version`. A static string; never fails; safe from any thread.
const char* version() noexcept;

}  // namespace acm
