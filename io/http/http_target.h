// HttpTarget: the skeleton every HTTP target driver shares; HttpDialect: what differs between
// them on the wire. SCIM (io/scim) and GoTo (io/goto) are dialects plus a driver each; a third
// HTTP target (a directory read over HTTP, OAuth) is a new dialect file, not a copy.
//
// What lives here, once:
//   - the parallel paged lister: page 1 learns the total and the server's real page size, every
//     other page is fetched through the pipeline with a window of pages requested ahead (a few
//     times its concurrency, so it never idles and a lying total queues nothing), short pages
//     are completed with
//     follow-up requests and pages are assembled in position order. A listing is accepted only
//     when it is whole: a claimed total above max_accounts, a later page whose total differs
//     from the first page's, an empty page before the total, an id listed twice, or a count of
//     distinct ids other than the total are each a kDataLoss error naming the page (exit 4),
//     never a shorter or deduplicated listing (the planner would create duplicates or miss
//     deprovisioning);
//   - batch creates: a BatchQueue (TargetApi's batching contract) whose batch answers the
//     dialect turns into one MemberVerdict per member; a transient member error goes into a
//     later batch (at most kMaxCreateSends sends), an unknown outcome or a conflict is looked up
//     before anything is sent again (ours → the result; someone else's → kAlreadyExists);
//   - error mapping (the dialect's error body appended to the pipeline's status; 401/403 and an
//     unreachable server named as such) and the TargetStats report (throttling, waits, batches).
//
// Threading: as TargetApi says. ListAccounts/Drain block and must not be called from a
// completion callback; `done` callbacks and every continuation run on the pipeline thread.
// Ownership: the skeleton owns the dialect, the pipeline and the batch queue. A driver's
// destructor must call Shutdown() first, so that in-flight callbacks (which reach the driver's
// members and virtual hooks) finish while the driver is still whole.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/accounts.h"
#include "core/plan.h"
#include "io/batch_queue.h"
#include "io/http/http_pipeline.h"
#include "io/target_api.h"

namespace usersync::io {

// Sends of one create (batch or single) while its outcome stays unknown or refused.
inline constexpr int kMaxCreateSends = 3;

// A listing claiming more accounts than this is refused before a page beyond the first is
// requested (well above the largest real tenant; one request per claimed page is queued).
inline constexpr int64_t kDefaultMaxAccounts = 50'000'000;

// One operation in progress. Drivers derive from it to carry their own steps.
struct HttpOp {
  virtual ~HttpOp() = default;

  const core::Operation* op = nullptr;
  std::function<void(OpOutcome)> done;
  OpOutcome outcome;
  int sends = 0;  // create: requests that carried it (batch or single)
  // Set when the target refused the products change of an update (a 409) and the driver sends
  // the rest without it: Finish reports this as the outcome (rest_applied, http_status 409) when
  // the rest succeeds.
  absl::Status products_refused;

  // The request's attempts count for this operation; its last HTTP status is the outcome's.
  void Count(const HttpResponse& response) {
    outcome.attempts += response.attempts;
    outcome.http_status = response.http_status;
  }
  // A follow-up request (user group membership after a create or update): its sends count, but
  // its status becomes the outcome's only when it failed or when it is the first request.
  // E.g. a /Bulk create (201) then a group PATCH (204): http_status 201, attempts 2.
  void CountFollowUp(const HttpResponse& response) {
    outcome.attempts += response.attempts;
    if (!response.status.ok() || outcome.http_status == 0) {
      outcome.http_status = response.http_status;
    }
  }
};
using HttpOpPtr = std::shared_ptr<HttpOp>;

// What one member's answer in a batch create means.
struct MemberVerdict {
  enum class Kind {
    kCreated,   // account_id is the new account
    kConflict,  // taken: look it up (account_id: the holder's key when the answer names it)
    // Listed with a key, created or existing alike (GoTo's documented answer): created when
    // the driver's ClaimListedFree says the target's own listing showed its value free, else
    // as kConflict (`status` says why).
    kListed,
    kLookUp,  // unknown outcome: look it up before sending again (account_id as kConflict)
    kRetry,   // refused before anything was done: into a later batch
    kFailed,  // final: `status`
  };
  Kind kind = Kind::kLookUp;
  absl::Status status;     // why (every kind but kCreated)
  std::string account_id;  // see Kind
  int http_status = 0;     // the member's own HTTP status when the answer gives one; 0: keep
};

// What a dialect says with words and numbers rather than code.
struct DialectTraits {
  std::string_view name;             // "SCIM", "GoTo": "the SCIM target at <base>"
  std::string_view permission_hint;  // what a 403'd token lacks: "the token needs ..."
  std::string_view content_type;     // of request bodies
  int64_t page_base = 0;             // the first user's position: 1 (startIndex) or 0 (offset)
  std::string_view position_name;    // "startIndex", "offset" (messages)
  std::string_view total_name;       // "totalResults", "total" (messages)
  std::string_view resend_noun;      // "(gave up after 3 <sends>)"
  std::string_view lookup_name;      // what a look-up filters on: "email", "userName"
};

// The wire-level differences between HTTP targets. Implementations hold only their
// configuration (base URL, account) and are thread-safe.
class HttpDialect {
 public:
  explicit HttpDialect(DialectTraits traits) : traits_(traits) {}
  virtual ~HttpDialect() = default;

  const DialectTraits& traits() const { return traits_; }

  // --- Naming, errors and requests ------------------------------------------------------------
  virtual std::string_view base() const = 0;  // the base URL, without a trailing '/'
  // The detail an error body carries ("scimType: detail", "CODE: message"); "" if none.
  virtual std::string ErrorDetail(const std::string& body) const = 0;
  virtual std::string Url(std::string_view path_and_query) const = 0;

  // --- Listing --------------------------------------------------------------------------------
  virtual std::string ListPath(int64_t position, int64_t count) const = 0;
  virtual std::string ListLabel() const = 0;  // "GET http://host/scim/v2/Users" (messages)
  // Appends a page's users to `out` and sets *total.
  virtual absl::Status DecodeListPage(const std::string& body, core::Accounts* out,
                                      int64_t* total) const = 0;
  // A first-page failure that means something particular (GoTo: 404, no such account); OK
  // leaves the general mapping.
  virtual absl::Status FirstPageError(const HttpResponse& first) const;
  // A 2xx answer whose body says it failed (SCIM: a SCIM Error): kDataLoss with what it says;
  // OK by default.
  virtual absl::Status ErrorInSuccess(const HttpResponse& response) const;

  // --- Batch creates --------------------------------------------------------------------------
  virtual std::string BatchLabel() const = 0;  // "POST /Bulk" (messages)
  // Whether this answer carries per-member results (GoTo: 201 or 409; SCIM: 200).
  virtual bool HasMemberResults(const HttpResponse& response) const = 0;
  // One verdict per member, in member order. Errors: the answer could not be read.
  virtual absl::StatusOr<std::vector<MemberVerdict>> MemberVerdicts(
      const std::vector<HttpOpPtr>& members, const std::string& body) const = 0;

  // --- The look-up before a resend ------------------------------------------------------------
  virtual std::string_view LookUpValue(const core::AccountSpec& spec) const = 0;
  virtual std::string_view AccountValue(const core::Account& account) const = 0;
  // The GET path: by the holder's key when known, else by a filter on LookUpValue.
  virtual std::string LookUpPath(std::string_view value, std::string_view holder_key) const = 0;
  virtual absl::Status DecodeLookUp(const std::string& body, bool by_key,
                                    core::Accounts* out) const = 0;
  // Prefix of a failed look-up's status (`decoding`: the answer could not be read).
  virtual std::string LookUpContext(std::string_view value, bool decoding) const = 0;
  // kAlreadyExists for a holder usersync did not create.
  virtual absl::Status ForeignHolder(const core::AccountSpec& spec,
                                     const core::Account& holder) const = 0;

 private:
  const DialectTraits traits_;
};

// The pipeline's status plus the dialect's error detail: "GET /Users: HTTP 400 (detail)".
absl::Status Enrich(const HttpDialect& dialect, const HttpResponse& response);

class HttpTarget : public TargetApi {
 public:
  ~HttpTarget() override;

  absl::StatusOr<core::Accounts> ListAccounts() override;
  // By key (the dialect's LookUpPath with a holder key; 404: absent) and by the dialect's
  // look-up filter (SCIM userName, GoTo email), all at once through the pipeline. With nothing
  // to look up, reads a listing page of one account (discarded): the target is still checked.
  absl::StatusOr<core::Accounts> LookUpAccounts(const std::vector<std::string>& ids,
                                                const std::vector<std::string>& emails) override;
  void Flush() override;
  void HoldPartialBatches(bool hold) override;
  size_t OperationsWanted() const override;
  void Drain() override;
  void Cancel() override;
  TargetStats stats() const override;
  std::vector<std::string> CheckFindings() const override { return findings_; }

  PipelineStats pipeline_stats() const { return pipeline_->stats(); }
  const HttpDialect& dialect() const { return *dialect_; }

 protected:
  // `max_accounts`: a listing claiming more is refused (see kDefaultMaxAccounts).
  HttpTarget(std::unique_ptr<HttpDialect> dialect, int page_size, int64_t max_accounts);

  // The options every HTTP driver takes: an http:// or https:// base URL, page_size >= 1 and
  // max_accounts >= 1. Errors: kInvalidArgument naming the option ("<name> page size ...").
  static absl::Status ValidateOptions(std::string_view name, std::string_view base_url,
                                      int page_size, int64_t max_accounts);
  // Starts the pipeline (once, from the driver's Start).
  absl::Status StartPipeline(const PipelineOptions& options);
  // Flushes held creates, then drains and stops the pipeline. Idempotent. A driver's
  // destructor calls it first.
  void Shutdown();

  HttpPipeline& pipeline() const { return *pipeline_; }
  HttpRequest Request(std::string method, std::string_view path_and_query, std::string body = {},
                      bool idempotent = true) const;

  absl::Status Enrich(const HttpResponse& response) const {
    return io::Enrich(*dialect_, response);
  }
  // What a failed call means for reaching the target at all (401, 403, unreachable, else
  // Enrich).
  absl::Status ReachError(const HttpResponse& response) const;
  // GET the listing's first `count` users: the token works and the answer reads as a
  // listing; adds a finding with the total the target claims and what the page held.
  absl::Status CheckListing(int64_t count = 1);
  // Adds a line to CheckFindings(). Run's thread only (Check()).
  void AddFinding(std::string line) { findings_.push_back(std::move(line)); }

  // Runs `state`'s done with `status` (prefixed with the operation) on the pipeline thread.
  // An OK `status` after the products were refused (HttpOp::products_refused) reports that
  // refusal instead, with rest_applied.
  void Finish(HttpOpPtr state, absl::Status status);

  // --- Batch creates --------------------------------------------------------------------------
  // Makes the batch queue (once; later calls return the first). Thread-safe.
  BatchQueue<HttpOpPtr>* MakeQueue(size_t batch_size);
  BatchQueue<HttpOpPtr>* queue() const { return queue_ptr_.load(std::memory_order_acquire); }
  // Counts a batch request of `members` creates in stats().
  void CountBatch(size_t members);
  // A batch's answer: per-member verdicts, or the whole request's outcome for every member.
  void OnBatchAnswer(const std::vector<HttpOpPtr>& members, const HttpResponse& response);
  void Apply(HttpOpPtr member, MemberVerdict verdict);
  // Into a later batch, unless it was sent kMaxCreateSends times already.
  void RetryCreate(HttpOpPtr state, absl::Status why);
  // Reads the holder of the create's value (by `holder_key` when known): ours → OnCreated;
  // someone else's → kAlreadyExists; nobody after an unknown outcome → Resend.
  void LookUpCreated(HttpOpPtr state, std::string holder_key, bool after_unknown_outcome,
                     absl::Status why);

  // --- The driver's hooks ---------------------------------------------------------------------
  // Sends one batch from the queue; calls queue()->BatchDone() once its answer is handled.
  virtual void SendBatch(std::vector<HttpOpPtr> members) = 0;
  // The create is done at the target (outcome.account_id set): finish it or go on.
  virtual void OnCreated(HttpOpPtr state) = 0;
  // Whether the target's own listing in this process showed the create's value free and no
  // earlier create of this process claimed it (so a kListed member with that value is the
  // account just created); true at most once per value. Called on the pipeline thread; false
  // (the default) makes every kListed member a kConflict.
  virtual bool ClaimListedFree(const core::AccountSpec& spec) {
    (void)spec;
    return false;
  }
  // The create did not happen after an unknown outcome: send it again (or give up).
  virtual void Resend(HttpOpPtr state, absl::Status why) = 0;
  // The batch as such was refused (no member results): true when handled.
  virtual bool OnBatchRefused(const std::vector<HttpOpPtr>& members,
                              const HttpResponse& response) = 0;

 private:
  struct ListState;
  // Requests the next page of the listing unless every page is requested or one failed.
  void FetchNextPage(const std::shared_ptr<ListState>& state);
  void FetchPage(const std::shared_ptr<ListState>& state, int64_t position, int64_t count);
  void OnLookUp(HttpOpPtr state, bool by_key, bool after_unknown_outcome, const absl::Status& why,
                const HttpResponse& response);

  const std::unique_ptr<HttpDialect> dialect_;
  const int page_size_;
  const int64_t max_accounts_;
  int list_window_pages_ = 64;  // pages requested ahead of the answers (set by StartPipeline)
  int sent_at_once_ = 1;        // requests the pipeline may send at once (set by StartPipeline)
  std::string token_source_;    // where the token came from, for a 401's advice
  std::vector<std::string> findings_;  // Check()'s and Offer()'s report (run's thread)
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> batched_creates_{0};

  absl::Mutex queue_mu_;
  std::unique_ptr<BatchQueue<HttpOpPtr>> queue_ ABSL_GUARDED_BY(queue_mu_);
  std::atomic<BatchQueue<HttpOpPtr>*> queue_ptr_{nullptr};  // queue_, read without the lock
  bool shut_down_ = false;                                  // Shutdown() ran (driver's thread only)

  // Last member: destroyed (drained) first, while the state above is still alive.
  std::unique_ptr<HttpPipeline> pipeline_;
};

}  // namespace usersync::io
