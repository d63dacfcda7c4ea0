// Rendering of a plan and of the users page: table (for people), JSON (DESIGN.md's plan
// format, for scripts and for `apply --plan`), CSV. Output order is the plan's order, which is
// deterministic. Pure formatting: no I/O; the caller writes the strings where it wants
// (WritePlanJson hands its pieces to the caller's sink).
// Thread-compatible.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "core/apply_cost.h"
#include "core/plan.h"
#include "io/atomic_file.h"  // ByteSink
#include "io/operation_codec.h"  // OperationJson: one operation as PlanJson writes it

namespace usersync::io {

// "last_name: \"Browne\" → \"Brown\"; products: \"\" → \"G2M\"": an operation's changes, before →
// after ("" when it has none).
std::string DescribeChanges(const core::Operation& op);

// "matched 8 · update 4 · new 31 · invalid 6 · account-only 3 · departed 1"
std::string SummaryLine(const core::Plan& plan);

// A human-readable plan: the summary, warnings, then one line per operation (at most
// `max_operations`; the rest are counted), and the hold notice if any.
std::string PlanTable(const core::Plan& plan, size_t max_operations = 200);

// Where a plan was made, recorded in the plan file so `apply` can tell a plan made for another
// target from one made for this configuration.
struct PlanOrigin {
  std::string config_path;  // "" = not recorded
  std::string target_url;   // "" = not recorded
};

// How a plan file writes its operations and takes its fingerprint: its top-level
// "plan_format" (absent: kFull, a file written before issue 17).
enum class PlanFormat : int {
  kFull = 1,     // every spec key; plan_id FNV-1a 64 over the bytes
  kCompact = 2,  // the compact spec (io/operation_codec.h); plan_id a word-at-a-time hash
};

// The plan as one JSON object (DESIGN.md "plan --format json"): summary, config and target
// (when `origin` names them), plan_format (2: PlanFormat::kCompact), operations (each with op,
// directory_id, account_id, email, dn, reason, held, changes, precondition and, except for
// deactivate/delete, spec in its compact form), plan_id, invalid, deprovision_held, warnings,
// and "estimate" (apply_estimate.h WriteEstimateJson) when `estimate` is given. WritePlanJson
// streams it: `sink` gets pieces of about 1 MiB, each ending between two values, and the plan
// is never whole in memory; the first error of the sink stops it and is returned. PlanJson
// returns it whole.
struct PlanEstimate {
  core::ApplyCost cost;
  core::CostModel model;
};
absl::Status WritePlanJson(const core::Plan& plan, const PlanOrigin& origin,
                           const PlanEstimate* estimate, ByteSink sink);
std::string PlanJson(const core::Plan& plan, const PlanOrigin& origin = {},
                     const PlanEstimate* estimate = nullptr);

// The plan's fingerprint: 16 hex digits of a 64-bit hash over each operation as a plan file of
// `format` writes it, in order (PlanFormat). It is semantic: a plan file read back gives the
// same fingerprint unless its operations were edited (a key written in another order, or a
// default spelled out, is no edit). WritePlanJson takes it in the same pass as it writes.
std::string PlanFingerprint(std::span<const core::Operation> ops,
                            PlanFormat format = PlanFormat::kCompact);

// The users page as a table, CSV (RFC 4180) or JSON array; same rows, same order.
std::string UsersTable(const core::Plan& plan);
std::string UsersCsv(const core::Plan& plan);
std::string UsersJson(const core::Plan& plan);

}  // namespace usersync::io
