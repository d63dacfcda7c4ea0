// TargetApi: the seam between the run and a target account (SCIM 2.0 or the GoTo face).
//
// A driver lists the target's accounts into core::Accounts and executes plan operations
// asynchronously over its HTTP pipeline. Threading: ListAccounts/Check/Drain are called from
// the run's thread; Execute may be called from the run's thread while earlier operations are in
// flight; `done` callbacks run on the driver's I/O thread and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/accounts.h"
#include "core/plan.h"

namespace usersync::io {

struct OpOutcome {
  absl::Status status;     // OK, or the final error after retries (with context, no secrets)
  std::string account_id;  // the account created or touched
  int http_status = 0;     // last HTTP status (0: none, transport error)
  int attempts = 0;        // requests sent for this operation, retries included
};

struct TargetStats {
  int64_t requests = 0;         // HTTP requests sent (retries included)
  int64_t retries = 0;
  int64_t throttled = 0;        // 429 answers
  int64_t server_errors = 0;    // 5xx answers
  int64_t transport_errors = 0;
  double wait_seconds = 0;      // time spent waiting on the rate limit and on backoff
};

class TargetApi {
 public:
  virtual ~TargetApi() = default;

  // Reaches the target and checks the token (e.g. GET /ServiceProviderConfig + a 1-item list).
  virtual absl::Status Check() = 0;

  // Every account of the target. Pages may be fetched in parallel; the result is in the
  // target's listing order.
  virtual absl::StatusOr<core::Accounts> ListAccounts() = 0;

  // Starts `op`; `done` runs exactly once, on the I/O thread, after retries.
  // REQUIRES: `op` stays alive and unchanged until `done` has run.
  virtual void Execute(const core::Operation& op, std::function<void(OpOutcome)> done) = 0;

  // Blocks until every started operation has run its `done`.
  virtual void Drain() = 0;

  // Stops starting queued requests (Ctrl-C); requests in flight finish and report.
  virtual void Cancel() = 0;

  virtual TargetStats stats() const = 0;
};

}  // namespace usersync::io
