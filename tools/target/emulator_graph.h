// GraphFace: a Microsoft Graph v1.0 face for tests and the demo (issue 15 item 3), serving the
// shapes the entra source reads (io/entra/GRAPH_SHAPES.md) from a seed file, with the identity
// platform's token endpoint in front:
//   POST /{tenant}/oauth2/v2.0/token          client credentials grant (OAuthAuthority, client
//                                             auth "basic_form"), tokens of options.token_ttl
//   GET  /v1.0/users                          $select, $top (1..999, else 400), @odata.nextLink
//   GET  /v1.0/groups                         id, displayName
//   GET  /v1.0/groups/{id}/members            directoryObjects with @odata.type (users, groups)
//   GET  /v1.0/servicePrincipals/{id}/appRoleAssignedTo   appRoleAssignment objects
//   GET  /v1.0/users/delta, /v1.0/groups/delta   delta queries (emulator_graph_delta.cc):
//                                             $deltatoken=latest answers no objects and a
//                                             deltaLink; a deltaLink answers what changed since
//                                             (users whole, with $select; a gone user
//                                             {"id","@removed":{"reason":"changed"}}; groups
//                                             with "members@delta", removed members with
//                                             "@removed") and a new deltaLink, one page
//   GET  /_graph/stats                        {"requests","throttled","unauthorized","tokens"}
//   POST /_graph/storm?count=N                the next N Graph requests answer 429
//   POST /_graph/mutate                       test-only changes, recorded for delta queries:
//                                             {"upsert_users":[{user}], "delete_users":[ids],
//                                              "add_members":[[group, member]],
//                                              "remove_members":[[group, member]]}
//   POST /_graph/expire_deltas                every deltaLink issued so far answers 400
//                                             syncStateNotFound (Graph's expired token)
// Every Graph request needs "Authorization: Bearer <a live token>" (else 401 with Graph's error
// body, code InvalidAuthenticationToken). Throttling: options.throttle_every = N answers every
// Nth Graph request 429 with "Retry-After: options.retry_after_seconds" and Graph's error body
// (code TooManyRequests), as Graph's throttling guidance shows; so does a storm.
// nextLink: {base_url}{path}?$select=..&$top=N&$skiptoken=<offset> (Graph's skiptoken is opaque;
// the face's is an offset). Not served (public material exists, the face does not need it yet):
// $filter, $count, the initial (non-latest) delta round, transitiveMembers, JSON batching.
//
// Seed (our own format, one JSON file): {"users":[{<user properties, as Graph names them>}],
// "groups":[{"id","displayName","members":[ids]}], "servicePrincipals":[{"id",
// "appRoleAssignedTo":[{"principalId","principalType","appRoleId"}]}]}.
//
// Thread-safety: the seed (changed only by /_graph/mutate), its change log, the counters and the
// token table are under mutexes, so httplib's worker threads may serve concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tools/target/emulator_oauth.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace usersync::io::emulator {

struct GraphFaceOptions {
  std::string tenant_id = "tenant";
  std::string client_id;  // required
  std::string client_secret;
  std::chrono::seconds token_ttl{3600};
  int throttle_every = 0;  // 0: never
  int retry_after_seconds = 1;
};

// One seeded object: its properties as (name, JSON text), in seed order.
using GraphSeedObject = std::vector<std::pair<std::string, std::string>>;

struct GraphSeedGroup {
  std::string id;
  std::string display_name;
  std::vector<std::string> members;
};

struct GraphSeedAssignment {
  std::string principal_id;
  std::string principal_type;  // "User" | "Group"
  std::string app_role_id;
};

struct GraphSeed {
  std::vector<GraphSeedObject> users;
  std::vector<GraphSeedGroup> groups;
  std::vector<std::pair<std::string, std::vector<GraphSeedAssignment>>> service_principals;
};

// Reads the seed format above. kInvalidArgument naming what is wrong.
absl::StatusOr<GraphSeed> ParseGraphSeed(const std::string& json);

class GraphFace {
 public:
  GraphFace(GraphFaceOptions options, GraphSeed seed);

  // Registers the routes on `server`. `base_url` ("http://127.0.0.1:PORT") starts nextLinks.
  void Register(httplib::Server& server, std::string base_url);
  // Replaces the base URL (a server whose port is known only once it runs). Thread-safe.
  void SetBaseUrl(std::string base_url);

 private:
  // Counts the request; false (the answer set: 401 or 429) when it is not to be served.
  bool Admit(const httplib::Request& req, httplib::Response& res);
  // Answers one page of the `count` objects (object(i) writes the i-th as JSON text) at req's
  // $top / $skiptoken, or 400. Only the page's objects are written: a page costs its size.
  void ServePage(const httplib::Request& req, httplib::Response& res, size_t count,
                 const std::function<std::string(size_t)>& object, const std::string& context);
  void ServeStats(httplib::Response& res);
  void ServeMembers(const httplib::Request& req, httplib::Response& res);
  void ServeAssignments(const httplib::Request& req, httplib::Response& res);
  // emulator_graph_delta.cc: the delta routes, /_graph/mutate and /_graph/expire_deltas.
  void RegisterDelta(httplib::Server& server);
  void ServeUserDelta(const httplib::Request& req, httplib::Response& res);
  void ServeGroupDelta(const httplib::Request& req, httplib::Response& res);
  void Mutate(const httplib::Request& req, httplib::Response& res);
  // The user whose id is `id` (unquoted), or null.
  const GraphSeedObject* FindUser(std::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(seed_mu_);
  // Replaces the user with `object`'s id, or adds it at the end.
  void UpsertUser(const std::string& id, GraphSeedObject object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(seed_mu_);
  // Removes the user (the last one takes its place), if there is one.
  void EraseUser(std::string_view id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(seed_mu_);
  // The change-log position `req`'s $deltatoken names, or -1 with the answer set (400).
  int64_t DeltaSince(const httplib::Request& req, httplib::Response& res)
      ABSL_SHARED_LOCKS_REQUIRED(seed_mu_);
  std::string DeltaLink(const httplib::Request& req) ABSL_SHARED_LOCKS_REQUIRED(seed_mu_);

  // One recorded change: a user (upserted or deleted) or a group's member (added or removed).
  struct Change {
    bool group = false;
    std::string id;      // user id, or group id
    std::string member;  // group changes only
  };

  const GraphFaceOptions options_;
  absl::Mutex seed_mu_;
  GraphSeed seed_ ABSL_GUARDED_BY(seed_mu_);
  // group id → index in seed_.groups
  absl::flat_hash_map<std::string, size_t> group_index_ ABSL_GUARDED_BY(seed_mu_);
  // user id (as its JSON text, quoted) → index in seed_.users: a delta round or a mutation
  // finds a user without scanning a million of them.
  absl::flat_hash_map<std::string, size_t> user_index_ ABSL_GUARDED_BY(seed_mu_);
  std::vector<Change> changes_ ABSL_GUARDED_BY(seed_mu_);  // a deltatoken is a position here
  int64_t expired_before_ ABSL_GUARDED_BY(seed_mu_) = 0;   // tokens below: syncStateNotFound
  OAuthAuthority oauth_;
  absl::Mutex mu_;
  std::string base_url_ ABSL_GUARDED_BY(mu_);
  int64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t throttled_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unauthorized_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t storm_left_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace usersync::io::emulator
