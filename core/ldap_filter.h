// LDAP search filters (RFC 4515 string form): parsing into a small tree, evaluation against an
// entry, and escaping of values placed into a filter.
//
// The LDIF reader evaluates the configured user_filter / group_filter against every record with
// Matches(); the LDAP source sends the same strings to the server and builds filters of its own
// with EscapeFilterValue(). Matching follows the rules the attributes usersync filters on use
// (objectClass, mail, uid: caseIgnoreMatch): attribute names and values compare ASCII
// case-insensitively, and surrounding spaces of values are insignificant. Non-ASCII bytes
// compare exactly (no Unicode case folding).
//
// Thread-safety: a parsed LdapFilter is immutable; Matches() may run on any number of threads at
// once. All functions here are pure. EntryView implementations are owned by the caller.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/str.h"  // EqualsIgnoreCase, which callers of this header use on names

namespace usersync::core {

// An entry as a filter (and the entry mapper) sees it: a DN and multi-valued attributes.
// Implementations make Values() cheap: no allocation, a lookup over a handful of attributes.
class EntryView {
 public:
  // The entry's distinguished name, as the source spelled it.
  virtual std::string_view Dn() const = 0;
  // The values of attribute `name`, compared ASCII case-insensitively; attribute options are
  // not part of the name ("cn;lang-en" values are values of "cn"). Empty when absent. The span
  // and the views stay valid while the entry is unchanged.
  virtual std::span<const std::string_view> Values(std::string_view name) const = 0;

 protected:
  ~EntryView() = default;
};

// One node of a parsed filter.
struct LdapFilter {
  enum class Kind : uint8_t {
    kAnd,             // (&(a)(b)...): children; an empty (&) is true
    kOr,              // (|(a)(b)...): children; an empty (|) is false
    kNot,             // (!(a)): children[0]
    kEquality,        // (attr=value)
    kApprox,          // (attr~=value): evaluated as equality
    kGreaterOrEqual,  // (attr>=value)
    kLessOrEqual,     // (attr<=value)
    kPresent,         // (attr=*)
    kSubstrings,      // (attr=initial*any*...*final)
  };

  Kind kind = Kind::kAnd;
  std::string attribute;  // base name, without options ("cn" for "cn;lang-en"): matched on
  std::string options;    // ";lang-en" as written; kept only so FormatLdapFilter round-trips
  std::string value;      // unescaped assertion value (equality, approx, >=, <=)
  // Substrings: `initial` and `final_part` may be empty (absent); `any` holds the non-empty
  // middle pieces in order.
  std::string initial;
  std::vector<std::string> any;
  std::string final_part;
  std::vector<LdapFilter> children;  // and / or / not
};

// Parses an RFC 4515 filter. Surrounding white space is ignored, white space between the
// components of an and/or list is tolerated, and a single item without parentheses
// ("objectClass=person", as OpenLDAP's tools accept) is read as "(objectClass=person)".
// Values use \XX hex escapes. Not supported: extensible match (":="), which is reported.
// Errors: kInvalidArgument `invalid LDAP filter "(&(a=b)": position 8: expected ')'` (1-based
// byte position). Nesting deeper than 64 levels is an error, so no input can exhaust the stack.
absl::StatusOr<LdapFilter> ParseLdapFilter(std::string_view text);

// True when `entry` satisfies `filter`:
//  - equality / approx: some value equals the assertion, ASCII case-insensitively, ignoring
//    surrounding spaces;
//  - substrings: some value starts with `initial`, then holds each `any` piece in order without
//    overlap, then ends with `final_part` (case-insensitively);
//  - >= / <=: when both the value and the assertion are decimal integers they compare as
//    numbers (uidNumber, userAccountControl), otherwise ASCII case-insensitively by bytes;
//  - presence: the attribute has at least one value.
// An absent attribute makes every item but presence false (and its negation true: no
// Undefined state, as an LDIF reader needs a yes or a no). Cost: O(filter nodes * values).
bool Matches(const LdapFilter& filter, const EntryView& entry);

// The RFC 4515 string form of `filter` (values escaped with EscapeFilterValue).
std::string FormatLdapFilter(const LdapFilter& filter);

// `value` escaped for use as an assertion value in a filter string: '*' '(' ')' '\' and NUL
// become \2a \28 \29 \5c \00; every other byte (UTF-8 included) is kept as it is.
// EscapeFilterValue("a*(b)") == "a\\2a\\28b\\29".
std::string EscapeFilterValue(std::string_view value);

}  // namespace usersync::core
