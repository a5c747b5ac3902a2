// SPDX-License-Identifier: Apache-2.0
// Fixture (tests/layering): a folder that is not a declared module.
#pragma once
