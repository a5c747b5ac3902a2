// SPDX-License-Identifier: Apache-2.0
// Fixture (tests/layering): `top` lists only `high`; `high` uses `low`, but that does not let
// `top` include `low` (a module lists everything it uses).
#include "high/high.hpp"
#include "low/low.hpp"
