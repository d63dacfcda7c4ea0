// GotoTarget: the TargetApi driver for the GoTo admin API shape (target kind "goto", DESIGN.md
// "Target kinds"; base http://HOST/admin/rest/v1, one account key). Every request goes through
// one HttpPipeline (K in flight, token bucket with AIMD on GoTo's 429s without Retry-After,
// retries); bodies are written and read by goto_codec.
//
//   Check()        reads only: GET /me (the account key is one of the token's user's
//                  accounts; a token /me does not answer is checked by the listing alone),
//                  then one page of users, then the role sets when the rules name any;
//                  CheckFindings() says what was found.
//   ListAccounts() GET /accounts/{k}/users?pageSize=P&offset=0 (learns `total` and the
//                  server's real page size), then every other page at once; pages are
//                  assembled in offset order (deterministic); a user seen twice is kept once.
//                  Role sets (goto_role_sets.h): when a rule names one, or a listed user holds
//                  one, GET /accounts/{k}/rolesets first; a role set the rules name that the
//                  account lacks is kFailedPrecondition (exit 2); users' roleSets ids are read
//                  as the role sets' names.
//   Offer()        GET /accounts/{k}/licenses: the license catalog (kept for the creates and
//                  updates that follow), the products it offers and the free seats of every
//                  product whose license has a count (goto_codec.h GotoLicenseCatalog).
//   Execute(op)    create → held for a batch (BatchQueue: `batch` users per POST
//                  /accounts/{k}/users; "suppressEmail" is the spec's suppress_welcome, so
//                  GoTo sends the welcome emails unless the configuration says not to; it
//                  applies to a whole POST (§3a), so a queued batch goes out as one POST per
//                  license set and suppress flag, full when all its creates agree).
//                  GoTo's documented answer is a bare [{"key","email"}] listing
//                  created and existing users alike (GOTO_API_RESEARCH.md §3a): an entry
//                  whose email this driver's own ListAccounts() showed free is taken as
//                  created without a request; any other (the email was listed, a hash
//                  collision, an earlier create of this process had the same email, or no
//                  listing ran in this process) is treated as a conflict, below. Residual
//                  risk: an account someone else creates with the same email between the
//                  listing and the batch create (or an update of this run moving an
//                  existing account onto the email) is adopted as ours: its key is stored,
//                  its externalId is not checked. Memory: one 64-bit hash per listed
//                  account in a sorted vector (8 MB at 1M accounts), plus a hash set of the
//                  emails created this way (~16-32 bytes each: ~3 MB at 100k creates).
//                  Per member of an answer with statuses (the emulator's
//                  --goto-member-status, the older {"results"} object): created → done;
//                  conflict (the email is
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
//                  reactivate → the same plus status ACTIVE. A PUT with licenseKeys refused
//                  409 NO_SEAT is sent again without them (the other fields applied); the
//                  operation then fails kResourceExhausted "no seat for G2W" with rest_applied.
//                  deactivate → status SUSPENDED
//                  (GoTo's deprovisioning: users are never deleted); delete → kUnimplemented.
//                  Products: GoTo grants them through licenses only (GotoLicenseCatalog::KeysFor).
//                  A create's products become its batch's "licenseKeys", so a batch taken from
//                  the queue goes as one POST per license set (creates sharing one product set:
//                  full batches); a product change PUTs "licenseKeys", the full set. A product
//                  no license carries fails the operation (kFailedPrecondition) unsent. The
//                  catalog is the one Offer() read, else read at the first op needing it.
//                  An update whose only changes GoTo does not hold (display_name) is done
//                  without a request. After the user's create or PUT, a role set to assign
//                  (a create's role_set, an update's role_set change) → PUT
//                  rolesets/{id}/users?filter=email eq "..."; one to remove → DELETE
//                  users/rolesets?filter=...; either failing fails the operation.
//
// The pager, the batch answer and retry code, the look-up before a resend and the error
// mapping are HttpTarget's (io/http/http_target.h); GotoDialect (goto_dialect.h) says how GoTo
// spells them.
//
// Threading: as TargetApi says. Check/ListAccounts/Offer/Drain block and must not be called
// from a completion callback; Execute blocks only to read the licenses, once, when Offer() was
// not called and a create or a product change needs them. `done` callbacks run on the pipeline
// thread. Ownership: the driver owns its pipeline and batch queue; a held create references the
// caller's Operation until its `done` has run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "io/goto/goto_codec.h"
#include "io/goto/goto_role_sets.h"
#include "io/http/http_pipeline.h"
#include "io/http/http_target.h"
#include "io/target_api.h"

namespace usersync::io {

class GotoDialect;

struct GotoTargetOptions {
  std::string base_url;     // e.g. http://127.0.0.1:8080/admin/rest/v1 (a trailing '/' ignored)
  std::string account_key;  // required
  PipelineOptions pipeline;
  int page_size = 1000;  // users per listing page (GoTo's maximum; the server may answer fewer)
  // A listing claiming more accounts is refused (kDataLoss) before its pages are requested.
  int64_t max_accounts = kDefaultMaxAccounts;
  int batch = 100;  // users per batch create, 1..1000
  // The role sets (custom roles) the rules name: ListAccounts refuses a name the account lacks.
  std::vector<std::string> role_sets;
};

class GotoTarget final : public HttpTarget {
 public:
  // Validates the options (http(s) URL, a non-empty account key, page_size >= 1, batch in
  // 1..1000) and starts the pipeline. Contacts nothing: Check() does.
  static absl::StatusOr<std::unique_ptr<GotoTarget>> Start(GotoTargetOptions options);
  ~GotoTarget() override;  // drains the pipeline (held creates are sent first)

  absl::Status Check() override;
  // HttpTarget's listing (with role sets read and named), plus the hashes of its emails (for
  // ClaimListedFree).
  absl::StatusOr<core::Accounts> ListAccounts() override;
  absl::StatusOr<TargetOffer> Offer() override;
  void Execute(const core::Operation& op, std::function<void(OpOutcome)> done) override;

 private:
  explicit GotoTarget(GotoTargetOptions options);

  // Batch creates. `from_queue`: the batch came from the queue (BatchDone is due at the end).
  void Send(std::vector<HttpOpPtr> members, bool from_queue);
  void SendBatch(std::vector<HttpOpPtr> members) override { Send(std::move(members), true); }
  void OnCreated(HttpOpPtr state) override { AfterUser(std::move(state)); }
  void Resend(HttpOpPtr state, absl::Status why) override {
    RetryCreate(std::move(state), std::move(why));
  }
  // 400/422 for a whole batch: GoTo created nothing; the member it names fails, the others go
  // again.
  bool OnBatchRefused(const std::vector<HttpOpPtr>& members, const HttpResponse& response) override;
  void Put(HttpOpPtr state, std::string body);
  // GET /me: target.account_key is an account of the token's user (a finding), else kNotFound.
  absl::Status CheckAccount();
  // True when the last listing in this process ran and did not hold the spec's email
  // (case-insensitively), and no earlier call claimed that email (a second create of one
  // email in a run is looked up). Thread-safe.
  bool ClaimListedFree(const core::AccountSpec& spec) override;

  // Sends `members` (one license set: `license_keys`, one suppress_welcome) as one POST; `done`
  // runs after its answer. REQUIRES: `members` is not empty.
  void Post(std::vector<HttpOpPtr> members, const std::vector<std::string>& license_keys,
            std::function<void()> done);

  // One finding per license (key, products, seats, used), for `usersync check`.
  void AddLicenseFindings(const GotoLicenseCatalog& catalog);
  // GET /licenses → catalog_. Blocks; not on the pipeline thread.
  absl::StatusOr<GotoLicenseCatalog> ReadCatalog();
  // The license keys of `products` (a canonical list) from catalog_, read first if it was not.
  // `may_read`: false on the pipeline thread (the catalog must be there already).
  absl::StatusOr<std::vector<std::string>> LicenseKeys(std::string_view products, bool may_read);

  // The user's create or PUT is done: assigns or removes its role set when the operation
  // asks, then finishes it (goto_target_roles.cc).
  void AfterUser(HttpOpPtr state);
  // GET /rolesets into role_sets_. Errors: the request's or the decoder's.
  absl::Status LoadRoleSets();
  // LoadRoleSets, then every role_set the rules name must be there (else kFailedPrecondition
  // naming it and the account's role sets: exit 2).
  absl::Status LoadRuleRoleSets();
  // For Check(): LoadRuleRoleSets and a finding, when the rules name role sets.
  absl::Status CheckRoleSets();

  // HttpTarget's listing, with role sets read and named (above; goto_target_roles.cc).
  absl::StatusOr<core::Accounts> ListWithRoleSets();

  const GotoTargetOptions options_;
  const GotoDialect& goto_;  // dialect(), as the GoTo dialect it is
  absl::Mutex catalog_mu_;
  std::optional<GotoLicenseCatalog> catalog_ ABSL_GUARDED_BY(catalog_mu_);

  absl::Mutex listed_mu_;
  bool listed_ ABSL_GUARDED_BY(listed_mu_) = false;  // a listing completed in this process
  // EmailHash of every listed account's email, sorted (binary search).
  std::vector<uint64_t> listed_emails_ ABSL_GUARDED_BY(listed_mu_);
  // EmailHash of the emails ClaimListedFree said yes to.
  absl::flat_hash_set<uint64_t> claimed_emails_ ABSL_GUARDED_BY(listed_mu_);
  // Read by ListAccounts before any Execute; read on the pipeline thread afterwards.
  mutable absl::Mutex role_sets_mu_;
  RoleSetTable role_sets_ ABSL_GUARDED_BY(role_sets_mu_);
  bool role_sets_loaded_ ABSL_GUARDED_BY(role_sets_mu_) = false;
};

// The factory the run uses for target kind "goto".
absl::StatusOr<std::unique_ptr<TargetApi>> MakeGotoTarget(GotoTargetOptions options);

}  // namespace usersync::io
