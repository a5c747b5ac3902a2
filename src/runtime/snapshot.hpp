// SPDX-License-Identifier: Apache-2.0
// runtime/snapshot.hpp - case state snapshots (Boost.Serialization) that bound replay on load.
//
// Format: the bytes "ACMSNAP2", the CRC-32 of the rest (4 bytes, little-endian), then a
// Boost.Serialization binary archive (no header) of SnapCase (class version 3). "ACMSNAP1"
// snapshots (no checksum) are still read. Every size in the archive is bounded by the blob's
// length and every sentry-flag shape is checked. Enums are stored by name and must name a value
// this build knows; snapshots that stored them as numbers (SnapCase before version 3) are
// refused, so a changed enum is never misread. Definitions are referenced by
// (fragment id, version, item id); ad-hoc task definitions are stored as their JSON spec; JSON
// values as text. A snapshot that cannot be read (other architecture, damaged, unknown
// version) is ignored and the case is rebuilt from its full event log, so a snapshot is only
// ever an optimisation.
#pragma once

#include "runtime/compiled.hpp"
#include "runtime/state.hpp"

#include <string>

namespace acm::store {

/// Serialises the state (everything apply() builds, derived caches excluded).
std::string save_snapshot(const runtime::CaseState& state);
/// Reads a snapshot; throws Error(storage) if it cannot be read or refers to a definition
/// the registry does not have.
runtime::CaseState load_snapshot(const std::string& data, const runtime::Registry& registry);
/// True when the snapshot carries a checksum (format 2). The engine does not use snapshots
/// without one (format 1, written before checksums): a damaged one could not be told from a
/// good one, so the case is rebuilt from its events instead.
bool snapshot_has_checksum(const std::string& data) noexcept;

}  // namespace acm::store
