// The entra source (`source.kind = "entra"`): Microsoft Entra ID read over Microsoft Graph v1.0
// with the OAuth 2.0 client credentials grant, into a core::Directory. The wire shapes, the
// permissions and the documentation each follows are in io/entra/GRAPH_SHAPES.md.
//
// What a Read() does (every request through one HttpPipeline: token bucket, Retry-After on
// 429/503, backoff, size bounds; the access token from an OAuth2Client, renewed before expiry
// and once on a 401):
//   1. GET {graph}/v1.0/users?$select=<the schema's attributes>,accountEnabled&$top=N, following
//      @odata.nextLink. Each user's DN and directory id is its object id (`id`);
//      accountEnabled = false → disabled. email = the schema's email attribute (mail), or
//      userPrincipalName when that is empty.
//   2. GET {graph}/v1.0/groups?$select=id,displayName&$top=N, then every group's direct members
//      GET {graph}/v1.0/groups/{id}/members?$select=id&$top=N (several groups at once, up to
//      the pipeline's concurrency). A group's DN is its object id, its name its displayName;
//      nested groups are closed in core (GroupClosure), as for LDAP. Members other than users
//      and groups (devices, service principals, contacts) are skipped.
//   3. With a service principal id: GET {graph}/v1.0/servicePrincipals/{id}/appRoleAssignedTo,
//      which becomes two kinds of synthetic groups: "app-assignments" (every user and group
//      assigned to the application, any role) and "app-role:<appRoleId>" (those assigned that
//      role). scope.groups = ["app-assignments"] is Entra's "users and groups assigned"; a rule
//      `group = "app-role:<id>"` keys on an app role. An assigned group's nested members count
//      (Entra's own provisioning does not nest; the connector usersync replaces did).
//   4. Delta reads (DirectorySource::StartCursor / ReadDelta, for `sync --delta` and
//      `run --every`): before a full read, GET users/delta and groups/delta with
//      $deltatoken=latest give two deltaLinks (the cursor: both, newline-separated); a delta
//      read follows them: users whole or @removed, groups with members@delta, assignments read
//      whole and compared with the previous directory. HTTP 410, or 400 naming
//      syncStateNotFound / resyncRequired, is kOutOfRange (the cycle reads in full).
// Bounds: a nextLink must stay under the configured Graph URL (else kDataLoss: the token would
// go to another host); at most max_pages pages per collection; each answer under
// pipeline.max_response_bytes and kMaxGraphPageObjects objects.
//
// Errors of Read(): kUnauthenticated (token refused: client id / secret / tenant),
// kPermissionDenied (HTTP 403: a Graph permission is missing; the message names the permission),
// kUnavailable (Graph or the token endpoint unreachable after the retries), kDataLoss (an answer
// that is not a Graph collection, a foreign nextLink, too many pages), kNotFound (no such service
// principal).
//
// Thread-safety: one Read() at a time; it uses the pipeline's thread inside. Secrets: the client
// secret and every token are registered with io/secrets.h; nothing here logs them.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "io/directory/directory_source.h"
#include "io/http/http_pipeline.h"

namespace usersync::io {

struct EntraSourceOptions {
  std::string graph_url = "https://graph.microsoft.com";  // without a trailing '/'
  std::string token_url;  // e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
  std::string client_id;
  std::string client_secret;
  std::string scope = "https://graph.microsoft.com/.default";
  std::string service_principal_id;  // empty: no assignments read
  int page_size = 999;               // $top; Graph accepts 1..999
  int max_pages = 100'000;           // per collection
  DirectorySchema schema;            // the attribute names (defaults for entra in config)
  PipelineOptions pipeline;          // rate, burst, concurrency, timeouts, retries
};

// The group DNs the assignments become (see the header comment).
inline constexpr char kAppAssignmentsGroup[] = "app-assignments";
inline constexpr char kAppRoleGroupPrefix[] = "app-role:";

// No network call until Read(). kInvalidArgument for a graph_url or token_url that is not
// http(s), or an empty client id.
absl::StatusOr<std::unique_ptr<DirectorySource>> MakeEntraSource(EntraSourceOptions options);

}  // namespace usersync::io
