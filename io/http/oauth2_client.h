// OAuth2Client: the access token of an HTTP client that authenticates with OAuth 2.0, for any
// provider (GoTo, Entra): the refresh-token grant (RFC 6749 §6, a target driver) or the client
// credentials grant (RFC 6749 §4.4, the entra source reading Microsoft Graph). An
// AccessTokenSource (io/http/access_token_source.h) that an HttpPipeline asks before every send.
//
// With the client credentials grant there is no refresh token and no file: every renewal sends
// grant_type=client_credentials&scope=<scope> (Microsoft identity platform: scope
// "https://graph.microsoft.com/.default"), and the answer's access token replaces the current
// one. The rest of the lifecycle below (renewal before expiry, once per 401) is the same.
//
// Lifecycle of the tokens:
//   - The refresh token is read from `refresh_token_file` once, at Create. The access token is
//     kept in memory only, with the time it expires (expires_in from the answer).
//   - Token() renews when less than min(60 s, 10% of the token's life) remains. E.g. a 3600 s
//     token is renewed after 3540 s; a 2 s token after 1.8 s.
//   - RenewAfterRejection(t) renews unless t is no longer the current token (another request
//     already renewed it): a burst of 401s for one token costs one renewal.
//   - An answer that carries a refresh_token different from the current one replaces it: the new
//     value is written to refresh_token_file (WriteSecretFileAtomically) BEFORE the new access
//     token is used, so a crash at any point leaves the file with a refresh token the server
//     still honours. If the write fails, the renewal fails (kInternal) and says so. An answer
//     without refresh_token keeps the current one.
//   - Every token is registered with io/secrets.h, so no sink prints it.
//
// Thread-safety: thread-safe. A renewal holds a mutex across its HTTP call, so concurrent
// callers wait for that renewal instead of starting their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "io/clock.h"
#include "io/http/access_token_source.h"
#include "io/http/oauth2_token_endpoint.h"

namespace usersync::io {

enum class OAuth2Grant { kRefreshToken, kClientCredentials };

struct OAuth2ClientOptions {
  TokenEndpointOptions endpoint;
  OAuth2Grant grant = OAuth2Grant::kRefreshToken;
  std::string refresh_token_file;  // kRefreshToken: read at Create; rewritten on rotation
  std::string scope;               // kClientCredentials: sent as `scope` when non-empty
  // REQUIRES: outlives the client. Expiry is measured on it (FakeClock in tests).
  const Clock* clock = &RealClock();
};

class OAuth2Client final : public AccessTokenSource {
 public:
  // kRefreshToken: reads the refresh token from options.refresh_token_file (trailing newlines
  // trimmed); kClientCredentials: reads nothing and never fails. No network call.
  // kFailedPrecondition when the file is missing or empty (with the hint to run `usersync
  // authorize`), kInvalidArgument when it does not hold a token.
  static absl::StatusOr<std::shared_ptr<OAuth2Client>> Create(OAuth2ClientOptions options);

  absl::StatusOr<std::string> Token() override;
  absl::StatusOr<std::string> RenewAfterRejection(std::string_view rejected) override;

  // Refresh grants sent so far (successful or not). Thread-safe.
  int64_t renewals() const;

 private:
  OAuth2Client(OAuth2ClientOptions options, std::string refresh_token);
  absl::Status RenewLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The form body of the grant (refresh token or client credentials).
  std::string GrantForm() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const OAuth2ClientOptions options_;
  mutable absl::Mutex mu_;
  std::string refresh_token_ ABSL_GUARDED_BY(mu_);  // empty for kClientCredentials
  std::string access_token_ ABSL_GUARDED_BY(mu_);  // empty until the first renewal
  core::MonoTime renew_at_ ABSL_GUARDED_BY(mu_);
  int64_t renewals_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace usersync::io
