// OAuthAuthority: the emulator's OAuth 2.0 token endpoint (POST /oauth/token), so that a client
// living on refresh tokens can be tested end to end. Only what a client needs:
//   - client authentication by HTTP Basic, decoded as OAuthOptions::client_auth says
//     (--oauth-client-auth, io/client_auth.h): "basic" (the default) compares the raw
//     id ":" secret split at the first ':', as GoTo's guide encodes it (GOTO_API_RESEARCH.md
//     §9c, whose example secret holds '+' and '=='); "basic_form" form-decodes each part first
//     ('+' is a space, %XX a byte: RFC 6749 §2.3.1). A wrong or missing one, or one encoded the
//     other way (a secret with '+', '/', '=' or '%' no longer matches), → 401
//     {"error":"invalid_client"}, as a strict server answers. GoTo's public material does not say
//     how its server treats the form-encoded variant; the emulator refuses it in "basic" mode.
//   - grant_type=authorization_code&code=C[&redirect_uri=...]: C must come from IssueCode() (the
//     test-only /_emulator/oauth/code) and is spent on use; the answer carries an access token
//     and a refresh token;
//   - grant_type=refresh_token&refresh_token=R: R must be live. With rotate_refresh_tokens, R is
//     spent and the answer carries a new refresh token (the last one issued is in Stats);
//     otherwise the answer has no refresh_token field (GoTo's current documentation);
//   - grant_type=client_credentials (RFC 6749 §4.4; the Graph face's token endpoint): the
//     authenticated client alone earns an access token, never a refresh token; `scope` is
//     not checked;
//   - a spent, unknown or expired code or refresh token → 400 {"error":"invalid_grant"};
//     another grant_type → 400 {"error":"unsupported_grant_type"}.
// Access tokens live access_token_ttl and are accepted by both faces beside the static --token.
// The token endpoint is not rate limited nor counted in the faces' requests.
//
// Thread-safety: thread-safe (one mutex over the token tables). Tokens are random (seeded from
// std::random_device) and never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "io/client_auth.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace usersync::io::emulator {

struct OAuthOptions {
  std::string client_id;  // empty: no token endpoint
  std::string client_secret;
  ClientAuth client_auth = ClientAuth::kBasic;  // how the Basic header is decoded
  std::chrono::seconds access_token_ttl{3600};
  bool rotate_refresh_tokens = false;
};

class OAuthAuthority {
 public:
  explicit OAuthAuthority(OAuthOptions options);

  bool enabled() const { return !options_.client_id.empty(); }

  // POST /oauth/token (see the header comment).
  void HandleToken(const httplib::Request& req, httplib::Response& res);

  // A fresh one-use authorization code (the test-only stand-in for the authorize page).
  std::string IssueCode();

  // Whether `token` is an access token this authority issued that has not expired.
  bool AcceptsAccessToken(std::string_view token) const;

  struct Stats {
    int64_t access_tokens_issued = 0;
    int64_t refresh_tokens_issued = 0;
    int64_t grants_refused = 0;
    std::string last_refresh_token;  // for tests only: what a client must end up storing
  };
  Stats stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::string NewToken(std::string_view prefix) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ClientAuthenticated(const httplib::Request& req) const;
  // The JSON answer of a granted request; issues a refresh token when `new_refresh`.
  std::string Grant(bool new_refresh) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const OAuthOptions options_;
  mutable absl::Mutex mu_;
  uint64_t rng_state_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> codes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> refresh_tokens_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Clock::time_point> access_tokens_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace usersync::io::emulator
