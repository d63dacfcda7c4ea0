// Retry policy as a function of the status code (STYLE.md §5: "the status code is the policy"),
// and the mapping of HTTP answers onto canonical status codes. Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace usersync::core {

// True when trying the same call again later may succeed: kUnavailable (HTTP 429/502/503/504,
// timeouts, connection resets, LDAP busy/down) and kDeadlineExceeded (a per-call deadline that
// ran out). Whether a call may be repeated at all (idempotency) is the caller's decision.
// Everything else, OK included, is false: kUnauthenticated/kPermissionDenied stop the run,
// kInvalidArgument/kNotFound/kAlreadyExists/kFailedPrecondition are about the record, kInternal
// (HTTP 500) is a server bug that repeating does not fix, kResourceExhausted is a quota.
bool IsRetryable(const absl::Status& status);

// The status for an HTTP answer. `context` becomes the message verbatim (callers pass
// "METHOD path: HTTP nnn detail", never a token or a query string); when empty the message is
// "HTTP nnn". Mapping:
//   2xx → OK (context ignored)
//   400, 413, 414, 415, 422, other 4xx not below → kInvalidArgument (the request is wrong)
//   401 → kUnauthenticated           403 → kPermissionDenied
//   404, 410 → kNotFound             409 → kAlreadyExists
//   405, 501 → kUnimplemented (the target does not offer that method or endpoint)
//   408, 429, 502, 503, 504 → kUnavailable (retryable: overload or a transient failure)
//   412 → kFailedPrecondition (If-Match/version mismatch: the resource drifted)
//   507 → kResourceExhausted         other 5xx (500, ...) → kInternal
//   0 (no answer), 1xx, 3xx, anything else → kUnknown
absl::Status StatusFromHttp(int http_status, std::string_view context);

}  // namespace usersync::core
