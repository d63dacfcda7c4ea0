// TargetApi: the seam between the run and a target account (SCIM 2.0 or the GoTo face).
//
// A driver lists the target's accounts into core::Accounts and executes plan operations
// asynchronously over its HTTP pipeline. Threading: ListAccounts/Check/Offer/Drain are
// called from the run's thread; Execute may be called from the run's thread while earlier
// operations are in flight; `done` callbacks run on the driver's I/O thread and must not block.
//
// Batching contract: a driver whose target takes many users per request (GoTo's batch POST,
// SCIM /Bulk) may hold creates briefly to fill a batch. It never holds one indefinitely: a
// held create is sent as soon as `batch` of them are waiting, or when no batch request of the
// driver is pending (so the tail of a run goes out without a Flush or Drain). Flush() sends the
// held ones now; Drain() flushes first. A batch that fails in part retries only its failed
// members; every operation still gets its own `done` with its own outcome.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  // `status` failed for a part of the operation only: the target refused its products change
  // (no seat, "no seat for G2W") and the driver applied the other changes without it. The
  // account was touched as planned otherwise (its link stands).
  bool rest_applied = false;
};

struct TargetStats {
  int64_t requests = 0;  // HTTP requests sent (retries included)
  int64_t retries = 0;
  int64_t throttled = 0;      // 429 answers
  int64_t server_errors = 0;  // 5xx answers
  int64_t transport_errors = 0;
  double wait_seconds = 0;          // time spent waiting on the rate limit and on backoff
  double rate_wait_seconds = 0;     // of which: requests ready but held by the token bucket
  double backoff_wait_seconds = 0;  // of which: retry delays scheduled (summed per request)
  double current_rate = 0;          // requests/s the pacing allows now (AIMD may have cut it)
  int64_t batches = 0;              // batch requests sent (GoTo batch POST, SCIM /Bulk)
  int64_t batched_creates = 0;      // creates sent inside those batches (retried members again)
};

// Free seats per product at the target: (product, free seats), e.g. {{"G2M", 12}, {"G2W", 0}}.
// A product not listed is unlimited.
using FreeSeatList = std::vector<std::pair<std::string, int64_t>>;

// What a target's licenses offer, read at plan time (GoTo: GET /licenses).
struct TargetOffer {
  // The products some license carries, sorted (GoTo: {"G2M", "G2T", "G2W", "OPENVOICE"});
  // nullopt: the target does not say (SCIM), so a rule's product is never refused.
  std::optional<std::vector<std::string>> products;
  FreeSeatList free_seats;  // for the plan's seat check (core::PlanConfig::free_seats)
};

class TargetApi {
 public:
  virtual ~TargetApi() = default;

  // Reaches the target and checks the token (e.g. GET /ServiceProviderConfig + a 1-item list).
  // Reads only: `usersync check` runs it against a real account before anything is applied.
  virtual absl::Status Check() = 0;

  // What Check() found (and Offer(): GoTo's licenses), one line each ("accounts: 1234 at the
  // target (a page of 100 read and decoded, nothing changed)"), for `usersync check` to
  // report. Call from the run's thread; empty before Check().
  virtual std::vector<std::string> CheckFindings() const { return {}; }

  // Every account of the target. Pages may be fetched in parallel; the result is in the
  // target's listing order.
  virtual absl::StatusOr<core::Accounts> ListAccounts() = 0;

  // The accounts a delta cycle needs (core/delta_plan.h): those with the given ids and those
  // holding the given (normalized) emails, each once, in no particular order; an id or email no
  // account has is simply absent. Look-ups run in parallel. Blocks; call from the run's thread.
  // Errors: a look-up the target refused or could not answer (with context). The default:
  // kUnimplemented (the caller lists the target in full instead).
  virtual absl::StatusOr<core::Accounts> LookUpAccounts(const std::vector<std::string>& ids,
                                                        const std::vector<std::string>& emails) {
    (void)ids;
    (void)emails;
    return absl::UnimplementedError("this target cannot look accounts up one by one");
  }

  // Starts `op`; `done` runs exactly once, on the I/O thread, after retries.
  // REQUIRES: `op` stays alive and unchanged until `done` has run.
  virtual void Execute(const core::Operation& op, std::function<void(OpOutcome)> done) = 0;

  // The products the target's licenses offer and their free seats (GoTo: GET /licenses), read
  // now. The default: nothing known, no seat limit (SCIM). Blocks; call from the run's thread.
  // Errors: the target could not be read (with context).
  virtual absl::StatusOr<TargetOffer> Offer() { return TargetOffer{}; }

  // Sends the creates held for a batch now (see the batching contract). Does not wait.
  virtual void Flush() {}

  // `hold` true: the caller is about to start many operations; a batching driver sends only full
  // batches until it is called with false, which sends what is held (a Flush). The caller must
  // end the hold once it has started everything (and keep enough operations started for a batch
  // to fill: OperationsWanted), or creates wait for ever. The default does nothing.
  virtual void HoldPartialBatches(bool hold) { (void)hold; }

  // How many started operations the driver needs outstanding to fill every request it may send
  // at once: a batching driver gathers a batch for each (its rate limiter's burst, at most its
  // concurrency) and one more. The executor keeps at least this many started, so batches leave
  // full instead of part-filled when the ones before them completed faster than operations
  // arrived. 0 (the default): no preference. Example: GoTo, batch 100, burst 10 (9 sent at
  // once, core::ClientBurst), concurrency 16 → 100 × (9 + 1) = 1,000.
  virtual size_t OperationsWanted() const { return 0; }

  // Blocks until every started operation has run its `done` (held creates are flushed first).
  virtual void Drain() = 0;

  // Stops starting queued requests (Ctrl-C); requests in flight finish and report; creates
  // held for a batch complete as kCancelled without being sent.
  virtual void Cancel() = 0;

  virtual TargetStats stats() const = 0;
};

}  // namespace usersync::io
