// The LDAP source's query planning, free of libldap: the search filters it sends (users,
// groups, partitions of the user search), and the parsing of Active Directory's ranged
// attribute descriptions ("member;range=0-1499").
//
// Partitions. `connections` = K user searches run at once, each on its own connection, each
// on a disjoint slice of the user entries; together they must return every entry exactly once
// whatever the data (multi-valued naming attributes, values no prefix names, entries without
// the attribute). The slices are first-letter prefixes of the naming attribute (uid, AD's
// userPrincipalName), split into K contiguous letter ranges of about equal weight (a table of
// how often names start with each letter), and each partition excludes everything an earlier
// partition claims:
//   P0 = (|(uid=a*)...(uid=e*))
//   P1 = (&(|(uid=f*)...(uid=l*))(!(|(uid=a*)...(uid=e*))))
//   P2 = (|(!(uid=*))(!(|(uid=a*)...(uid=l*))))     the last one: the complement of the rest
// An entry with uid=alice and uid=bob lands in P0 only; "Ümit", "42x", an entry with no uid go
// to the last one. Exactness does not depend on how the server matches substrings (case
// folding, Unicode normalization): only on it matching the same filter item the same way in
// every partition. K = 1 is one plain search with no partition filter at all.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::io::ldap_internal {

// The partition filters for `count` user searches over the naming `attribute`; each goes into
// an AND with the user filter. count <= 1 gives one empty string (no partition). At most 26
// partitions (one letter each) are made: a larger count gives 26. Values in the filters are
// escaped (core::EscapeFilterValue).
std::vector<std::string> PlanUserPartitions(std::string_view attribute, int count);

// The filter of a user search: the user filter, minus entries the group filter claims (the
// LDIF source calls an entry matching both a group), AND the partition (may be "").
// REQUIRES: the filters are in the canonical string form (core::FormatLdapFilter).
std::string UserSearchFilter(std::string_view user_filter, std::string_view group_filter,
                             std::string_view partition);

// Both configured filters parsed and put back in canonical form, e.g. "objectClass=person" →
// "(objectClass=person)". Errors: kInvalidArgument naming the key (source.user_filter).
struct SearchFilters {
  std::string user;
  std::string group;
};
absl::StatusOr<SearchFilters> CanonicalFilters(std::string_view user_filter,
                                               std::string_view group_filter);

// A "range=LOW-HIGH" or "range=LOW-*" option of an attribute description (AD's ranged
// retrieval of multi-valued attributes). `high` is -1 for "*" (the last values).
struct ValueRange {
  int64_t low = 0;
  int64_t high = -1;
  bool last() const { return high < 0; }
  bool operator==(const ValueRange&) const = default;
};
// The range option of `description` ("member;range=0-1499" → {0, 1499}; options compare
// case-insensitively and may stand in any position). nullopt when there is none. Errors:
// kDataLoss for a malformed range option ("member;range=x-1"), naming the description.
absl::StatusOr<std::optional<ValueRange>> ParseValueRange(std::string_view description);

// "member;range=1500-*": the description that asks for the values from `low` on; with
// `high` >= low, for the values low..high ("member;range=0-1499").
std::string RangedDescription(std::string_view attribute, int64_t low, int64_t high = -1);

}  // namespace usersync::io::ldap_internal
