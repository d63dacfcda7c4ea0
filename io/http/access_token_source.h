// AccessTokenSource: where an HttpPipeline gets the bearer token of each send when the token
// is not fixed for the run (OAuth 2.0, io/http/oauth2_client.h). The pipeline asks Token() before
// every attempt and, once per request, RenewAfterRejection() after a 401.
//
// Thread-safety: implementations must be safe to call from any thread. The pipeline calls both
// methods on its own thread, so a renewal that goes to the network holds every send back until
// it returns (none could succeed without the new token anyway). A burst of 401s for one token
// renews once: the first call replaces the token, the next ones see that `rejected` is no longer
// current and answer the new token without a network call.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace usersync::io {

class AccessTokenSource {
 public:
  virtual ~AccessTokenSource() = default;

  // The access token to send now (without "Bearer "), renewed first when it is near its expiry.
  // Errors end the request with this status (kUnauthenticated: the grant was refused;
  // kUnavailable: the token endpoint could not be reached). Cost when no renewal is due: a
  // mutex and a string copy.
  virtual absl::StatusOr<std::string> Token() = 0;

  // The server answered 401 to `rejected`: renews the token unless another request already
  // replaced it, and returns the token to retry with.
  virtual absl::StatusOr<std::string> RenewAfterRejection(std::string_view rejected) = 0;
};

}  // namespace usersync::io
