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
//   Execute(op)    create → POST /Users (not idempotent). On 409, or when the outcome is unknown
//                  (timeout, reset, 502/504), the user is looked up by
//                  filter=userName eq "<email>": found with our externalId → that account is the
//                  result (OK); found with another externalId → kAlreadyExists (not usersync's
//                  to take); not found after an unknown outcome → POST again (at most 3 POSTs).
//                  update/link/reactivate → PATCH /Users/{id} with the changed attributes (PUT of
//                  the full resource when the server does not offer PATCH); reactivate sets
//                  active=true. deactivate → PATCH active=false (without PATCH: GET, then PUT).
//                  delete → DELETE /Users/{id} (404: already gone, OK).
//                  User group: the SCIM Group with that displayName (groups are listed once and
//                  cached name → id, created on demand); the user is added to the new group and
//                  removed from the old one.
//
// Threading: as TargetApi says. Check/ListAccounts/Drain block and must not be called from a
// completion callback; Execute may block once (the first time, to read the
// ServiceProviderConfig) unless called on the pipeline thread, where it assumes PATCH works.
// `done` callbacks run on the pipeline thread. The group cache is shared under a mutex.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "io/http/http_pipeline.h"
#include "io/scim/scim_codec.h"
#include "io/target_api.h"

namespace usersync::io {

struct ScimTargetOptions {
  std::string base_url;  // e.g. http://127.0.0.1:8080/scim/v2 (a trailing '/' is ignored)
  PipelineOptions pipeline;
  int page_size = 1000;  // users per listing page (the server may answer fewer)
};

class ScimTarget : public TargetApi {
 public:
  // Validates the options (http:// or https:// URL, page_size >= 1) and starts the pipeline.
  // Contacts nothing: Check() does.
  static absl::StatusOr<std::unique_ptr<ScimTarget>> Start(ScimTargetOptions options);
  ~ScimTarget() override;  // drains the pipeline

  absl::Status Check() override;
  absl::StatusOr<core::Accounts> ListAccounts() override;
  void Execute(const core::Operation& op, std::function<void(OpOutcome)> done) override;
  void Drain() override;
  void Cancel() override;
  TargetStats stats() const override;

  // What /ServiceProviderConfig said; defaults (PATCH supported) until it has been read.
  ScimServiceConfig service_config() const;
  PipelineStats pipeline_stats() const { return pipeline_->stats(); }

 private:
  struct OpState;
  using GroupCallback = std::function<void(absl::StatusOr<std::string>)>;  // "" = no group
  enum class GroupCacheState { kNotLoaded, kLoading, kLoaded };

  explicit ScimTarget(ScimTargetOptions options);

  std::string Url(std::string_view path_and_query) const;
  void EnsureServiceConfig();
  absl::Status ReadServiceConfig(bool strict);

  void PostUser(std::shared_ptr<OpState> state);
  void LookUpCreated(std::shared_ptr<OpState> state, bool after_unknown_outcome,
                     absl::Status post_status);
  void UpdateUser(std::shared_ptr<OpState> state);
  void DeactivateUser(std::shared_ptr<OpState> state);
  void DeleteUser(std::shared_ptr<OpState> state);
  void UserGroupStep(std::shared_ptr<OpState> state);
  void AddToGroup(std::shared_ptr<OpState> state);
  void Finish(std::shared_ptr<OpState> state, absl::Status status);

  // Resolves a group name to its id: `done` gets the id, "" when it does not exist and
  // `create` is false, or an error. Runs `done` on the pipeline thread or inline.
  void ResolveGroup(const std::string& name, bool create, GroupCallback done);
  void LoadGroupsPage(int64_t start_index);
  void GroupsLoaded(absl::Status status);
  void CreateGroup(const std::string& name, int posts);
  void GroupCreated(const std::string& name, absl::StatusOr<std::string> id);

  ScimTargetOptions options_;
  std::string base_;  // base_url without a trailing '/'

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

  // Last member: destroyed (drained) first, while the state above is still alive.
  std::unique_ptr<HttpPipeline> pipeline_;
};

// The factory the run uses for target kind "scim".
absl::StatusOr<std::unique_ptr<TargetApi>> MakeScimTarget(ScimTargetOptions options);

}  // namespace usersync::io
