// SPDX-License-Identifier: Apache-2.0
// Fixture (tests/layering): a header of the lower module.
#pragma once
