// GraphFace: a Microsoft Graph v1.0 face for tests and the demo (issue 15 item 3), serving the
// shapes the entra source reads (io/entra/GRAPH_SHAPES.md) from a seed file, with the identity
// platform's token endpoint in front:
//   POST /{tenant}/oauth2/v2.0/token          client credentials grant (OAuthAuthority, client
//                                             auth "basic_form"), tokens of options.token_ttl
//   GET  /v1.0/users                          $select, $top (1..999, else 400), @odata.nextLink
//   GET  /v1.0/groups                         id, displayName
//   GET  /v1.0/groups/{id}/members            directoryObjects with @odata.type (users, groups)
//   GET  /v1.0/servicePrincipals/{id}/appRoleAssignedTo   appRoleAssignment objects
//   GET  /_graph/stats                        {"requests","throttled","unauthorized","tokens"}
//   POST /_graph/storm?count=N                the next N Graph requests answer 429
// Every Graph request needs "Authorization: Bearer <a live token>" (else 401 with Graph's error
// body, code InvalidAuthenticationToken). Throttling: options.throttle_every = N answers every
// Nth Graph request 429 with "Retry-After: options.retry_after_seconds" and Graph's error body
// (code TooManyRequests), as Graph's throttling guidance shows; so does a storm.
// nextLink: {base_url}{path}?$select=..&$top=N&$skiptoken=<offset> (Graph's skiptoken is opaque;
// the face's is an offset). Not served (public material exists, the face does not need it yet):
// $filter, $count, delta queries, transitiveMembers, JSON batching.
//
// Seed (our own format, one JSON file): {"users":[{<user properties, as Graph names them>}],
// "groups":[{"id","displayName","members":[ids]}], "servicePrincipals":[{"id",
// "appRoleAssignedTo":[{"principalId","principalType","appRoleId"}]}]}.
//
// Thread-safety: the seed is immutable after Load; the counters and the token table are under
// mutexes, so httplib's worker threads may serve concurrently.
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

  const GraphFaceOptions options_;
  const GraphSeed seed_;
  absl::flat_hash_map<std::string, size_t> group_index_;  // group id → index in seed_.groups
  OAuthAuthority oauth_;
  absl::Mutex mu_;
  std::string base_url_ ABSL_GUARDED_BY(mu_);
  int64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t throttled_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unauthorized_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t storm_left_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace usersync::io::emulator
