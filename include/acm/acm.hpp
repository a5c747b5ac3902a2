// SPDX-License-Identifier: Apache-2.0
// acm/acm.hpp - everything.
#pragma once

#include <acm/actor_view.hpp>
#include <acm/calendar.hpp>
#include <acm/callbacks.hpp>
#include <acm/case.hpp>
#include <acm/command.hpp>
#include <acm/definition.hpp>
#include <acm/engine.hpp>
#include <acm/error.hpp>
#include <acm/json.hpp>
#include <acm/options.hpp>
#include <acm/policy.hpp>
#include <acm/queries.hpp>
#include <acm/store.hpp>
#include <acm/time.hpp>
#include <acm/version.hpp>
