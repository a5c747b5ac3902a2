// SPDX-License-Identifier: Apache-2.0
// examples/demo.hpp - the help-desk story played by `acm demo`.
#pragma once

#include <acm/acm.hpp>

#include <string>

namespace acm_cli {

struct DemoOptions {
  std::string definitions;  ///< helpdesk.json
  bool json = false;        ///< print events as JSON lines instead of a timeline
  std::string db = "acm-demo.db";  ///< SQLite store file, recreated by the demo ("" = in memory)
};

/// Plays the story on a fresh engine; prints the timeline to stdout. Returns the exit code.
int run_demo(const DemoOptions& options);

/// One readable line for an event.
std::string describe(const acm::Event& e);

}  // namespace acm_cli
