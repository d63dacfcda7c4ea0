// Mapping and validation: directory user in scope → desired account, or invalid with a reason
// (DESIGN.md "Normalization"). Pure; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/attribute_mapping.h"
#include "core/directory.h"
#include "core/rules.h"
#include "core/string_arena.h"

namespace usersync::core {

// Bounds on what reaches the target. A value longer than kMaxValueBytes, or one that is not
// valid UTF-8, makes its user invalid, naming the attribute; so does an email over RFC 5321's
// 254 octets (or a local part over 64).
inline constexpr size_t kMaxValueBytes = 64 * 1024;
inline constexpr size_t kMaxEmailOctets = 254;
inline constexpr size_t kMaxLocalPartOctets = 64;

struct MappingOptions {
  // Lower-case domains; an email must be inside one of them. Empty: every domain is accepted.
  std::vector<std::string> validated_domains;
  // [[mappings]] resolved against the directory; nullptr or empty: the built-in mapping only.
  const ResolvedMappings* mappings = nullptr;
  // A delta plan's users (PlanConfig::plan_only); nullptr or empty: everyone. Then only they, and
  // the users in scope who share the normalized email of one of them (whose validity decides that
  // email's duplicates), are mapped: what a full mapping says of those users, at the cost of
  // one email comparison per other user.
  const std::vector<uint8_t>* only = nullptr;
};

// A user in scope who can be provisioned.
struct DesiredUser {
  uint32_t user = 0;              // directory index
  int32_t rule = kNoRule;         // index into RuleAssignment::rules
  std::string_view email;         // normalized
  std::string_view language;      // rule language, else directory language, else ""
  std::string_view display_name;  // directory display name, else "First Last"
  // The built-in fields a mapping may replace: the directory's values, or the mapping's.
  std::string_view external_id;
  std::string_view first_name;
  std::string_view last_name;
  // This user's mapped attributes are attribute_values[attributes ..
  // attributes + attribute_paths.size()), in attribute_paths order.
  uint32_t attributes = 0;
};

// A user in scope who cannot be provisioned, and why ("no email", "email outside the validated
// domains: other.org", "givenName is not valid UTF-8 (byte 0xC3 at offset 4)", "duplicate email
// ann@example.com (also uid=ann2,...)", ...).
struct InvalidUser {
  uint32_t user = 0;
  std::string reason;
};

// A malformed optional value that was left out; never blocks the user.
struct MappingWarning {
  uint32_t user = 0;
  std::string message;
};

struct MappingResult {
  StringArena arena;                 // holds normalized emails and composed display names
  std::vector<uint8_t> in_scope;     // per user: 1 = in a scoped group and not disabled
  std::vector<DesiredUser> desired;  // directory order
  std::vector<InvalidUser> invalid;  // directory order
  std::vector<MappingWarning> warnings;
  // The mapped attributes beyond the fixed fields: their paths, sorted, and per desired user
  // their values, per user in scope in directory order (see DesiredUser::attributes). Views
  // into the mappings, the directory or `arena`.
  std::vector<std::string_view> attribute_paths;
  std::vector<std::string_view> attribute_values;
};

// Validates and maps every user with in_scope[user] == 1. Mappings that replace a built-in
// field are applied before the checks, so the checks (UTF-8, length, both names) see the
// mapped values; the email is never mapped. Duplicate emails (after
// normalization) make every user that shares the email invalid: which one is "right" is the
// administrator's call, not a guess. Cost: O(users) with one hash insert per valid email.
MappingResult MapUsers(const Directory& dir, std::vector<uint8_t> in_scope,
                       const RuleAssignment& rules, const MappingOptions& options);

}  // namespace usersync::core
