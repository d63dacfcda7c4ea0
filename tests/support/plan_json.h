// Reading `usersync plan --format json` (DESIGN.md: {"summary", "operations", "invalid",
// "warnings", ...}) in tests: the operations, the invalid users and the warnings, as plain
// structs. Thread-compatible.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace usersync::testing {

struct PlannedOperation {
  std::string op;  // create, update, deactivate, reactivate, delete, link
  std::string directory_id;
  std::string account_id;  // "" when null
  std::string email;
  std::string reason;
  // The "changes" object: field → its "after" value, in the order the plan writes them.
  std::vector<std::pair<std::string, std::string>> changes;
};

struct InvalidUser {
  std::string directory_id;
  std::string reason;
};

struct PlanJson {
  bool parsed = false;  // false: `json` was not a plan object (the other members are empty)
  std::vector<PlannedOperation> operations;
  std::vector<InvalidUser> invalid;
  std::vector<std::string> warnings;
};

// Members the plan does not have stay empty; a malformed document gives parsed == false.
PlanJson ParsePlanJson(const std::string& json);

}  // namespace usersync::testing
