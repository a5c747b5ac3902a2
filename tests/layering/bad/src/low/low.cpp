// SPDX-License-Identifier: Apache-2.0
// Fixture (tests/layering): a lower module reaching up, three ways the check must refuse.
#include <acm/high.hpp>

#include "high/high.hpp"
#include "low/low.hpp"
#include "unqualified.hpp"
