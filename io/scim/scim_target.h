// ScimTarget: the TargetApi driver for a SCIM 2.0 server (target kind "scim", DESIGN.md
// "Target kinds" and "SCIM mapping"). Every request goes through one HttpPipeline (K in flight,
// token bucket, retries); JSON is written with JsonWriter and read with simdjson (scim_codec).
//
//   Check()        GET /ServiceProviderConfig (remembers patch/bulk/filter support), then a
//                  1-item GET /Users. 401/403 and unreachable servers get messages that say so.
//   ListAccounts() GET /Users page 1 (learns totalResults and the server's real page size),
//                  then every other page at once through the pipeline; pages are decoded as
//                  they arrive and assembled in startIndex order, so the result is
//                  deterministic. Short pages are completed with follow-up requests; a user
//                  seen twice (the listing moved under us) is kept once.
//   Execute(op)    create → when the ServiceProviderConfig offers bulk and `batch` is not 1:
//                  held for a batch (BatchQueue, TargetApi's batching contract) and sent as POST
//                  /Bulk of up to min(batch, bulk.maxOperations) POST /Users operations (batch 0:
//                  maxOperations, at most 1,000; 100 when the server states none), split
//                  further to stay under bulk.maxPayloadSize. Per operation of the answer:
//                  201 → done; 409 → the look-up below; 408/429/503 → into a later bulk (at
//                  most 3 sends); 500/502/504 or no answer for it → the look-up after an
//                  unknown outcome; other → that error. A whole bulk with an unknown outcome
//                  looks every member up; a bulk the server refuses as such (404/405/501,
//                  400, 413) sends its members one by one and, for 404/405/501, stops using
//                  /Bulk. Otherwise (no bulk) → POST /Users (not idempotent). On 409, or when the
//                  outcome is unknown (timeout, reset, 502/504), the user is looked up by
//                  filter=userName eq "<email>": found with our externalId → that account is the
//                  result (OK); found with another externalId → kAlreadyExists (not usersync's
//                  to take); not found after an unknown outcome → POST again (at most 3 POSTs).
//                  update/link/reactivate → PATCH /Users/{id} with the changed attributes (PUT of
//                  the full resource when the server does not offer PATCH); reactivate sets
//                  active=true. A 409 other than "uniqueness" on one that changes products
//                  (usersync-target: "NO_SEAT: ...") → sent again without the products; the
//                  operation then fails "no seat for G2W" with the rest applied.
//                  deactivate → PATCH active=false (without PATCH: GET, then PUT).
//                  delete → DELETE /Users/{id} (404: already gone, OK).
//                  User group: the SCIM Group with that displayName (groups are listed once and
//                  cached name → id, created on demand); the user is added to the new group and
//                  removed from the old one (PATCH remove with path members[value eq "<id>"]).
//                  When ListAccounts read the membership (below), adding a user the listing
//                  showed in the group sends nothing.
//   User groups    are read from each User's "groups" (groups[0].display). RFC 7643 lets a
//                  server leave that read-only attribute out (SCIMMY does): when no listed user
//                  holds a group, ListAccounts also reads GET /Groups (paged like the users,
//                  with members; refused like them: a total above max_accounts, a total that
//                  changes, an empty page before it, a group listed twice → kDataLoss; a 404:
//                  the server has no groups) and gives each account the first listed group
//                  holding it. A group listed without "members" counts as empty.
//
// The pager, the bulk answer and retry code, the look-up before a resend and the error mapping
// are HttpTarget's (io/http/http_target.h); ScimDialect (scim_dialect.h) says how SCIM spells
// them. This driver adds the ServiceProviderConfig, PATCH/PUT updates and group membership.
// Files: scim_target.cc (check, updates), scim_create.cc (POST and /Bulk creates),
// scim_groups.cc (the group cache and membership).
//
// Threading: as TargetApi says. Check/ListAccounts/Drain block and must not be called from a
// completion callback; Execute may block once (the first time, to read the
// ServiceProviderConfig) unless called on the pipeline thread, where it assumes PATCH works.
// `done` callbacks run on the pipeline thread. The group cache is shared under a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "io/http/http_pipeline.h"
#include "io/http/http_target.h"
#include "io/scim/scim_codec.h"
#include "io/target_api.h"

namespace usersync::io {

class ScimDialect;

struct ScimTargetOptions {
  std::string base_url;  // e.g. http://127.0.0.1:8080/scim/v2 (a trailing '/' is ignored)
  PipelineOptions pipeline;
  int page_size = 1000;  // users per listing page (the server may answer fewer)
  // A listing claiming more accounts is refused (kDataLoss) before its pages are requested.
  int64_t max_accounts = kDefaultMaxAccounts;
  // Creates per /Bulk request when the server offers it; 1: no /Bulk; 0: the server's
  // maxOperations, at most kMaxBulkBatch (100 when the server states none).
  int batch = 0;
};

class ScimTarget final : public HttpTarget {
 public:
  // Validates the options (http:// or https:// URL, page_size >= 1) and starts the pipeline.
  // Contacts nothing: Check() does.
  static absl::StatusOr<std::unique_ptr<ScimTarget>> Start(ScimTargetOptions options);
  ~ScimTarget() override;  // drains the pipeline

  absl::Status Check() override;
  // HttpTarget's listing, with user groups from the Group listing when no user carries one
  // (see "User groups" above). Run's thread only.
  absl::StatusOr<core::Accounts> ListAccounts() override;
  void Execute(const core::Operation& op, std::function<void(OpOutcome)> done) override;

  // What /ServiceProviderConfig said; defaults (PATCH supported) until it has been read.
  ScimServiceConfig service_config() const;

 private:
  struct OpState;
  using StatePtr = std::shared_ptr<OpState>;
  using GroupCallback = std::function<void(absl::StatusOr<std::string>)>;  // "" = no group
  enum class GroupCacheState { kNotLoaded, kLoading, kLoaded };

  explicit ScimTarget(ScimTargetOptions options);

  void EnsureServiceConfig();
  absl::Status ReadServiceConfig(bool strict);

  // --- Creates (scim_create.cc) ---------------------------------------------------------------
  void PostUser(StatePtr state);
  // The /Bulk queue, made on the first bulk create; null: no /Bulk (creates one by one).
  BatchQueue<HttpOpPtr>* BulkQueue();
  // The queue's batch goes out as one or more /Bulk requests (payload limit); BatchDone runs
  // once all of them have answered.
  void SendBatch(std::vector<HttpOpPtr> members) override;
  void SendBulkPart(std::vector<HttpOpPtr> members, std::shared_ptr<std::atomic<int>> parts_left);
  void OnCreated(HttpOpPtr state) override;
  void Resend(HttpOpPtr state, absl::Status why) override;
  bool OnBatchRefused(const std::vector<HttpOpPtr>& members, const HttpResponse& response) override;

  // --- Updates (scim_target.cc) ---------------------------------------------------------------
  // PATCH (or PUT) of an update, link or reactivation. A 409 that is not a user name conflict
  // ("uniqueness") on one that changes products is taken as the products refused (no seat):
  // the update is sent again without them (`with_products` false) and, when that succeeds,
  // the operation fails with "no seat for G2W" and rest_applied (HttpOp::products_refused).
  void UpdateUser(StatePtr state, bool with_products = true);
  void DeactivateUser(StatePtr state);
  void DeleteUser(StatePtr state);

  // --- User group membership (scim_groups.cc) -------------------------------------------------
  void UserGroupStep(StatePtr state);
  void LeaveGroup(StatePtr state, const std::string& group_id);
  void AddToGroup(StatePtr state);
  // Resolves a group name to its id: `done` gets the id, "" when it does not exist and
  // `create` is false, or an error. Runs `done` on the pipeline thread or inline.
  void ResolveGroup(const std::string& name, bool create, GroupCallback done);
  void LoadGroupsPage(int64_t start_index);
  void GroupsLoaded(absl::Status status);
  void CreateGroup(const std::string& name, int posts);
  void FindCreatedGroup(const std::string& name, int posts, absl::Status post_status);
  void GroupCreated(const std::string& name, absl::StatusOr<std::string> id);
  // GET /Groups with members, every page (blocking); fills accounts' user groups and the
  // caches above.
  absl::Status ReadMembership(core::Accounts* accounts);
  absl::StatusOr<std::vector<ScimGroup>> ListGroupsWithMembers();
  // Whether the listing showed `user_id` in group `group_id` (false when it was not read).
  bool KnownMember(const std::string& group_id, const std::string& user_id) const;
  void NoteMember(const std::string& group_id, const std::string& user_id, bool member);

  const ScimTargetOptions options_;
  const ScimDialect& scim_;  // dialect(), as the SCIM dialect it is

  mutable absl::Mutex mu_;
  std::optional<ScimServiceConfig> config_ ABSL_GUARDED_BY(mu_);
  GroupCacheState groups_state_ ABSL_GUARDED_BY(mu_) = GroupCacheState::kNotLoaded;
  absl::flat_hash_map<std::string, std::string> group_ids_ ABSL_GUARDED_BY(mu_);
  // Resolutions waiting for the group listing: (name, create, done).
  struct PendingLookup {
    std::string name;
    bool create;
    GroupCallback done;
  };
  std::vector<PendingLookup> pending_lookups_ ABSL_GUARDED_BY(mu_);
  // Groups being created: name → callbacks waiting for the id.
  absl::flat_hash_map<std::string, std::vector<GroupCallback>> creating_ ABSL_GUARDED_BY(mu_);
  // Group id → member ids, as ReadMembership listed them and this process changed them;
  // nullopt: membership was not read (the server fills User.groups).
  std::optional<absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>>> members_
      ABSL_GUARDED_BY(mu_);
  bool bulk_refused_ ABSL_GUARDED_BY(mu_) = false;  // the server refused /Bulk (404/405/501)
};

// One operation in progress: what it still has to do and what it has done so far.
struct ScimTarget::OpState : HttpOp {
  bool patch = true;  // the server takes PATCH
  bool group_change = false;
  std::string old_group;  // remove the user from this group ("" = none)
  std::string new_group;  // add the user to this group ("" = none)
};

// The factory the run uses for target kind "scim".
absl::StatusOr<std::unique_ptr<TargetApi>> MakeScimTarget(ScimTargetOptions options);

}  // namespace usersync::io
