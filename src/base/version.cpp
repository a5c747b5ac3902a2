// SPDX-License-Identifier: Apache-2.0
// acm::version(): ACM_VERSION_STRING comes from project(VERSION) in the top-level
// CMakeLists.txt (src/CMakeLists.txt defines it for this file only).
#include <acm/version.hpp>

#ifndef ACM_VERSION_STRING
#error "ACM_VERSION_STRING must be defined by the build (project(VERSION) in CMakeLists.txt)"
#endif

namespace acm {

const char* version() noexcept { return ACM_VERSION_STRING; }

}  // namespace acm
