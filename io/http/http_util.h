// Small text helpers every HTTP driver uses: URL encoding, status prefixes, Location ids.
// Pure functions; thread-safe; no I/O.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace usersync::io {

// Percent-encodes everything but RFC 3986 unreserved characters (for a path segment or a query
// value): UrlEncode(R"(userName eq "a+b@x.com")") == "userName%20eq%20%22a%2Bb%40x.com%22".
std::string UrlEncode(std::string_view value);

// A SCIM-style filter `attribute eq "value"` with the value written as a JSON string (RFC 7644
// §3.4.2.2: quotes, backslashes and control characters escaped), e.g.
// FilterEq("userName", R"(a"b@x.com)") == R"(userName eq "a\"b@x.com")". Not URL-encoded.
// SCIM and GoTo both filter this way.
std::string FilterEq(std::string_view attribute, std::string_view value);

// `status` with "<prefix>: " before its message; OK stays OK.
absl::Status WithPrefix(const absl::Status& status, std::string_view prefix);

// The last path segment of a Location header (the new resource's id):
// IdFromLocation("http://x/scim/v2/Users/42/") == "42".
std::string IdFromLocation(std::string_view location);

}  // namespace usersync::io
