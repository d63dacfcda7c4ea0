// GotoTarget: the TargetApi driver for the GoTo admin API shape (target kind "goto", DESIGN.md
// "Target kinds"; base http://HOST/admin/rest/v1, one account key). Every request goes through
// one HttpPipeline (K in flight, token bucket with AIMD on GoTo's 429s without Retry-After,
// retries); bodies are written and read by goto_codec.
//
//   Check()        GET /accounts/{k} (the account key exists), then GET users?pageSize=1.
//   ListAccounts() GET /accounts/{k}/users?pageSize=P&offset=0 (learns `total` and the
//                  server's real page size), then every other page at once; pages are
//                  assembled in offset order (deterministic); a user seen twice is kept once.
//   FreeSeats()    GET /accounts/{k}/licenses: free seats of every product that has a count.
//   Execute(op)    create → held for a batch (BatchQueue: `batch` users per POST
//                  /accounts/{k}/users with suppressEmail false, so GoTo sends the welcome
//                  emails). Per member of the answer: created → done; conflict (the email is
//                  taken) → the holder is read (GET users/{userKey}): our own account
//                  (externalId = the directory id, e.g. left by an interrupted run) is the
//                  result, someone else's is kAlreadyExists with the holder named; NO_SEAT →
//                  kResourceExhausted "no seat for G2W"; a transient member error → the member
//                  goes into a later batch (at most 3 sends). A batch whose outcome is unknown
//                  (timeout, reset, 502/504: POST is never repeated blindly) looks every member
//                  up by email first and re-sends only those not created. A 400 naming one
//                  member ("users[3]...") fails that member and re-batches the others.
//                  update/link → PUT /accounts/{k}/users/{userKey} with the changed fields GoTo
//                  holds (products, adminRoles, locale, names, email, userGroup, externalId);
//                  reactivate → the same plus status ACTIVE; deactivate → status SUSPENDED
//                  (GoTo's deprovisioning: users are never deleted); delete → kUnimplemented.
//                  An update whose only changes GoTo does not hold (display_name) is done
//                  without a request.
//
// Threading: as TargetApi says. Check/ListAccounts/FreeSeats/Drain block and must not be called
// from a completion callback; Execute never blocks. `done` callbacks run on the pipeline
// thread. Ownership: the driver owns its pipeline and batch queue; a held create references the
// caller's Operation until its `done` has run.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/batch_queue.h"
#include "io/http/http_pipeline.h"
#include "io/target_api.h"

namespace usersync::io {

struct GotoTargetOptions {
  std::string base_url;     // e.g. http://127.0.0.1:8080/admin/rest/v1 (a trailing '/' ignored)
  std::string account_key;  // required
  PipelineOptions pipeline;
  int page_size = 1000;  // users per listing page (GoTo's maximum; the server may answer fewer)
  int batch = 100;       // users per batch create, 1..1000
  bool suppress_email = false;  // true: GoTo sends no welcome email
};

class GotoTarget : public TargetApi {
 public:
  // Validates the options (http(s) URL, a non-empty account key, page_size >= 1, batch in
  // 1..1000) and starts the pipeline. Contacts nothing: Check() does.
  static absl::StatusOr<std::unique_ptr<GotoTarget>> Start(GotoTargetOptions options);
  ~GotoTarget() override;  // drains the pipeline (held creates are sent first)

  absl::Status Check() override;
  absl::StatusOr<core::Accounts> ListAccounts() override;
  absl::StatusOr<FreeSeatList> FreeSeats() override;
  void Execute(const core::Operation& op, std::function<void(OpOutcome)> done) override;
  void Flush() override;
  void Drain() override;
  void Cancel() override;
  TargetStats stats() const override;

  PipelineStats pipeline_stats() const { return pipeline_->stats(); }

 private:
  struct OpState;
  using StatePtr = std::shared_ptr<OpState>;

  explicit GotoTarget(GotoTargetOptions options);

  std::string Url(std::string_view path_and_query) const;  // under /accounts/{k}
  HttpRequest Request(std::string method, std::string path_and_query, std::string body = {},
                      bool idempotent = true) const;

  // Batch creates. `from_queue`: the batch came from queue_ (BatchDone is due at the end).
  void SendBatch(std::vector<StatePtr> members, bool from_queue);
  void OnBatchAnswer(std::vector<StatePtr> members, const HttpResponse& response);
  void RetryCreate(StatePtr state, absl::Status why);
  // Reads the holder of the member's email (by `user_key` when known, else by email filter).
  void LookUpCreated(StatePtr state, std::string user_key, bool after_unknown_outcome,
                     absl::Status why);
  void Put(StatePtr state, std::string body);
  void Finish(StatePtr state, absl::Status status);

  GotoTargetOptions options_;
  std::string base_;          // base_url without a trailing '/'
  std::string account_path_;  // "/accounts/<url-encoded key>"

  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> batched_creates_{0};

  std::unique_ptr<BatchQueue<StatePtr>> queue_;
  // Last member: destroyed (drained) first, while the queue above is still alive.
  std::unique_ptr<HttpPipeline> pipeline_;
};

// The factory the run uses for target kind "goto".
absl::StatusOr<std::unique_ptr<TargetApi>> MakeGotoTarget(GotoTargetOptions options);

}  // namespace usersync::io
