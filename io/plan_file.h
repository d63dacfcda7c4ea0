// Reading back a plan file written by `usersync plan --out` (DESIGN.md "plan --format json";
// io/report/plan_report.h writes it) into core::Operation values, for `usersync apply --plan`,
// and the drift check `apply` makes before it applies them.
//
// Each operation is read by the operation codec (io/operation_codec.h), strictly: the file's
// errors are kInvalidArgument and name the origin (the file), the operation's index and the
// key ("plan.json: operations[3].precondition.version: expected a string"). Keys this reader
// does not know are skipped: DESIGN.md lets later versions add keys. Stateless; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/accounts.h"
#include "core/plan.h"
#include "io/operation_codec.h"  // ParseOperationJson: one operation of this format

namespace usersync::io {

struct PlanFile {
  std::string plan_id;      // the fingerprint PlanJson wrote (required)
  std::string config_path;  // "config": where the plan was made ("" when not recorded)
  std::string target_url;   // "target": the target the plan was made against ("" likewise)
  std::string hold_reason;  // why its deprovisioning was held ("" when it was not)
  std::vector<core::Operation> operations;  // in the file's order
  // PlanFingerprint(operations) as read. Differs from plan_id when the operations were edited
  // after `plan --out` wrote them.
  std::string computed_plan_id;
};

// Reads and parses the plan file at `path`. Errors: kNotFound (cannot open), kInvalidArgument
// (not a plan file; see above).
absl::StatusOr<PlanFile> ReadPlanFile(const std::string& path);

// Parses plan JSON text; `origin` names it in errors.
absl::StatusOr<PlanFile> ParsePlanJson(std::string_view json, std::string_view origin);

// What changed since a plan was made, operation by operation (`usersync apply`).
struct DriftReport {
  // Per planned operation (same order): why it no longer holds; empty = it still holds.
  std::vector<std::vector<std::string>> reasons;
  size_t drifted = 0;      // planned operations with at least one reason
  size_t not_in_plan = 0;  // operations of `current` that no planned operation names
};

// Checks every planned operation against the target as it is now (`accounts`) and against
// what the directory wants now (`current`: the plan computed now, from the same
// configuration). An operation holds when
//   - at the target: its account still exists with the version the plan recorded (when it
//     recorded one), the same active flag and, for every changed field, the `before` value;
//     for a create, no account has its userName, email or externalId;
//   - in the directory: the current plan still has the same operation for the same directory
//     user and account (same kind; the same changes with the same `after` values; for a
//     create, the same spec).
// Reasons read like "account acc-7: last_name is now 'X', plan expected 'Y'" and
// "directory user id-7: last_name should now be 'Z', plan writes 'Y'". Pure; O(planned +
// accounts + current operations).
DriftReport CheckDrift(std::span<const core::Operation> planned, const core::Accounts& accounts,
                       const core::Plan& current);

}  // namespace usersync::io
