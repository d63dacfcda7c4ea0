// OAuth 2.0 token endpoint (RFC 6749 §3.2): one synchronous POST of a grant, with the client
// authenticated by HTTP Basic (raw, as GoTo's guide shows, or form-encoded first as §2.3.1 says:
// io/client_auth.h), and the answer read and bounded. No provider specifics:
// GoTo and Entra both speak it. Also the small pieces the authorize command shares: form
// encoding and the atomic, owner-only file a refresh token lives in.
//
// Thread-safety: every function is thread-safe (each call makes its own curl handle). Secrets:
// nothing here logs; errors name the endpoint and the OAuth error code, never a token or the
// client secret. The caller registers the tokens it keeps with io/secrets.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/client_auth.h"

namespace usersync::io {

struct TokenEndpointOptions {
  std::string token_url;  // e.g. "https://authentication.logmeininc.com/oauth/token"
  std::string client_id;
  std::string client_secret;
  ClientAuth client_auth = ClientAuth::kBasic;  // target.client_auth
  std::chrono::milliseconds timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  int64_t max_answer_bytes = 64 << 10;  // a token answer is a few KiB
};

// A successful answer (§5.1).
struct TokenAnswer {
  std::string access_token;
  std::string refresh_token;              // empty: the answer carried none (keep the current one)
  std::chrono::seconds expires_in{3600};  // 3600 when the answer does not say (§5.1: optional)
};

// Longest token accepted (access or refresh); Entra's access tokens run to a few KiB.
inline constexpr size_t kMaxTokenBytes = 16 << 10;

// POSTs `form` (already form-encoded, e.g. "grant_type=refresh_token&refresh_token=...") to
// the token endpoint with "Authorization: Basic " + BasicCredentials(...). Errors:
//   - kUnauthenticated: HTTP 400/401 (the message carries the OAuth `error` code; for
//     invalid_grant it says to run `usersync authorize`, for invalid_client to check the client
//     id, the secret and target.client_auth), or another 4xx;
//   - kUnavailable: the endpoint could not be reached, timed out, or answered 429/5xx;
//   - kDataLoss: a 2xx whose body is not a valid token answer (see ParseTokenAnswer);
//   - kResourceExhausted: an answer longer than max_answer_bytes.
// Not retried here: a refresh grant may rotate the token, so sending it twice could spend it.
absl::StatusOr<TokenAnswer> RequestToken(const TokenEndpointOptions& options,
                                         std::string_view form);

// The credentials of the Basic header (without "Basic "): base64(id ":" secret) for kBasic,
// base64(FormEncode(id) ":" FormEncode(secret)) for kBasicForm. E.g. id "app", secret "a+b=":
// "YXBwOmErYj0=" (app:a+b=) and "YXBwOmElMkJiJTNE" (app:a%2Bb%3D). A secret: never log it.
std::string BasicCredentials(ClientAuth mode, std::string_view client_id,
                             std::string_view client_secret);

// Reads a 2xx token answer: a JSON object with a string access_token (required), and optional
// refresh_token, expires_in (a number of seconds in [1, 31536000]) and token_type ("Bearer",
// any case). Tokens must be 1..kMaxTokenBytes visible ASCII characters (they go into a header
// line). Unknown fields are ignored (GoTo adds principal, scope, ...). kDataLoss otherwise.
absl::StatusOr<TokenAnswer> ParseTokenAnswer(std::string_view body);

// application/x-www-form-urlencoded: every byte but ALPHA / DIGIT / "-" / "." / "_" / "~" as %XX.
std::string FormEncode(std::string_view value);

// Writes `contents` to `path` so that a crash leaves either the old file or the new one, never
// a part: a temporary file in the same directory created with mode 0600, written, fsynced, then
// renamed over `path`, and the directory fsynced. Errors (kInternal) name the path.
absl::Status WriteSecretFileAtomically(const std::string& path, std::string_view contents);

}  // namespace usersync::io
