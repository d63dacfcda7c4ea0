// Rendering of a plan and of the users page: table (for people), JSON (DESIGN.md's plan
// format, for scripts and for `apply --plan`), CSV. Output order is the plan's order, which is
// deterministic. Pure formatting: no I/O; the caller writes the strings where it wants.
// Thread-compatible.
#pragma once

#include <cstddef>
#include <string>

#include "core/plan.h"

namespace usersync::io {

// "matched 8 · update 4 · new 31 · invalid 6 · account-only 3 · departed 1"
std::string SummaryLine(const core::Plan& plan);

// A human-readable plan: the summary, warnings, then one line per operation (at most
// `max_operations`; the rest are counted), and the hold notice if any.
std::string PlanTable(const core::Plan& plan, size_t max_operations = 200);

// The plan as one JSON object (DESIGN.md "plan --format json"): summary, operations (each with
// op, directory_id, account_id, email, reason, changes, precondition, held), invalid, warnings.
std::string PlanJson(const core::Plan& plan);

// The users page as a table, CSV (RFC 4180) or JSON array; same rows, same order.
std::string UsersTable(const core::Plan& plan);
std::string UsersCsv(const core::Plan& plan);
std::string UsersJson(const core::Plan& plan);

}  // namespace usersync::io
