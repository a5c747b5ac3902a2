// SPDX-License-Identifier: Apache-2.0
// Fixture (tests/layering): the upper module may include the lower one.
#pragma once

#include "low/low.hpp"
