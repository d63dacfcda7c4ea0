// EmulatorServer: usersync-target, a real HTTP server on loopback that plays a SaaS target.
//
// Faces, over one EmulatorStore: SCIM 2.0 (RFC 7643/7644) for Users, Groups and /Bulk under
// /scim/v2 (emulator_scim.h), and the GoTo admin API shape under /admin/rest/v1
// (emulator_goto.h documents its wire format). Test hooks (token required, never rate
// limited, counted or failed on purpose): GET /_emulator/stats and GET /_emulator/outbox
// (the welcome emails the GoTo face would have sent), GET /_emulator/oauth/code (a one-use
// OAuth authorization code, with --oauth-client). POST /oauth/token is the OAuth 2.0 token
// endpoint (emulator_oauth.h): not rate limited, its access tokens accepted beside --token. The stats hold, beside the counters,
// the rate the server measured of what it admitted (EmulatorStats::admitted and after): a
// client's pacing is judged by those, not by what the client reports.
//
// Every request under a face passes, in order: --latency-ms (a sleep, no lock held), the
// server-wide rate limit shared by both faces (--rate/--burst, emulator_rate_limit.h: GCRA,
// written apart from the client's core::TokenBucket; refused → 429: SCIM sends Retry-After
// unless --no-retry-after; GoTo never does), fault injection (--fail-rate: that
// fraction answered 503 before any processing, drawn from a seeded counter-based RNG, so a
// run is reproducible for a given request order), the bearer token (constant-time compare;
// 401 otherwise), then the handler. A SCIM /Bulk request is one request for all of this,
// whatever number of operations it holds.
//
// SCIM /Bulk (RFC 7644 §3.7; ServiceProviderConfig says bulk.supported true, maxOperations
// 1000, maxPayloadSize 1048576, unless EmulatorOptions::bulk is false (--no-bulk): then it
// says false and POST /Bulk answers 501). POST /scim/v2/Bulk {"Operations": [{"method":
// POST|PUT|PATCH|DELETE, "path": "/Users" | "/Groups" | "/Users/{id}" | "/Groups/{id}",
// "bulkId" (required for POST), "version"? (an If-Match), "data"}], "failOnErrors"?: N}
// runs the operations in order exactly as the single requests would (same validation,
// seats, counters) and answers 200 {"schemas": [BulkResponse], "Operations": [{"method",
// "bulkId"?, "location"?, "version"?, "status": "201", "response"?}]}: "status" is the HTTP
// status as a string; "response" is the resource (POST/PUT/PATCH success) or the SCIM error
// (failure); DELETE success has none. "bulkId:X" in a path, or as a whole string value
// anywhere in "data" (e.g. a Group member's "value"), stands for the id created by the
// earlier POST with bulkId X; an unknown or failed X makes that operation fail 409
// (scimType invalidValue). With failOnErrors N >= 1, processing stops after N failed
// operations (the response lists the processed ones only). More than 1000 operations or a
// body over 1 MiB → 413; a body without an "Operations" array → 400 invalidSyntax.
//
// Threading: cpp-httplib with a pool of `threads` workers; a keep-alive connection holds one
// worker while open (keep-alive: 100000 requests, 60 s idle), so clients should use fewer
// connections than `threads`. Handlers share the EmulatorStore (thread-safe) and atomic
// counters. Start() returns once the socket listens; Stop() (idempotent, also run by the
// destructor) stops accepting, shuts down open connections and joins every thread.
// SCIM Users carry the read-only "groups" attribute (the groups holding them, RFC 7643
// §4.1.2) unless EmulatorOptions::user_groups is false (--no-user-groups): then no User
// resource (listing, GET, POST/PUT/PATCH answers) has it and membership shows only on
// /Groups, as on servers that do not compute it (SCIMMY).
// The server never logs; the token appears in no message.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/target/emulator_goto.h"
#include "tools/target/emulator_oauth.h"
#include "tools/target/emulator_store.h"

namespace usersync::io::emulator {

struct EmulatorOptions {
  std::string host = "127.0.0.1";
  int port = 0;          // 0: a free port (see EmulatorServer::port())
  std::string token;     // empty: no auth
  double rate = 0;       // requests/s; 0 = unlimited
  double burst = 0;      // 0 → max(1, rate)
  double fail_rate = 0;  // fraction of requests answered 503 before any processing
  int latency_ms = 0;
  bool retry_after = true;  // SCIM: send Retry-After with 429 (GoTo never does)
  bool bulk = true;         // serve SCIM /Bulk (false: --no-bulk)
  // A create whose userName is taken stores a second account instead of answering 409
  // (--allow-duplicate-user-names; EmulatorStore::SetAllowDuplicateUserNames).
  bool allow_duplicate_user_names = false;
  // SCIM Users carry "groups" (their memberships); false (--no-user-groups) leaves it out of
  // every User resource, as servers that do not compute it do (RFC 7643 lets them; SCIMMY).
  bool user_groups = true;
  std::map<std::string, int64_t> seats;  // product → seats (both faces); others unlimited
  // The GoTo face's licenses (--license; emulator_licenses.h); empty: the default catalog.
  // `seats` then sets the seats of the license each product resolves to.
  std::vector<License> licenses;
  std::string db_path;                   // empty: memory only
  std::string seed_accounts_path;        // JSON Lines of SCIM User resources
  std::string account_key = "demo";
  // GoTo batch create answers: false (default) = GoTo's documented bare [{"key","email"}];
  // true = also this face's own per-entry "status"/"errorCode"/"product"/"message"
  // (--goto-member-status; emulator_goto.h).
  bool goto_member_status = false;
  // The GoTo face's role sets, (id, name) (--role-set ID=NAME); none: DefaultRoleSets().
  std::vector<std::pair<std::string, std::string>> role_sets;
  uint64_t seed = 1;
  int threads = 64;  // server worker threads (keep-alive connections each hold one)
  // OAuth 2.0 (emulator_oauth.h): with a client id, POST /oauth/token issues access tokens
  // that both faces accept beside `token` (--oauth-client ID:SECRET, --oauth-client-auth,
  // --access-token-ttl, --rotate-refresh-tokens), and GET /_emulator/oauth/code hands a test a
  // one-use code.
  OAuthOptions oauth;
};

// What the server counted since it started (all monotonic except the store counts).
struct EmulatorStats {
  int64_t users = 0;
  int64_t active_users = 0;
  int64_t groups = 0;
  int64_t requests = 0;           // requests to a face (throttled and failed ones included)
  int64_t throttled = 0;          // answered 429
  int64_t injected_failures = 0;  // answered 503 by --fail-rate
  int64_t creates = 0;            // users created
  int64_t create_conflicts = 0;   // user creates refused with 409
  int64_t updates = 0;            // successful user PUT/PATCH
  int64_t deletes = 0;            // users deleted
  int64_t group_creates = 0;
  int64_t group_updates = 0;
  int64_t group_deletes = 0;
  // GoTo face (emulator_goto.h); creates, create_conflicts and updates above include its.
  int64_t batch_creates = 0;   // batch create requests that passed validation
  int64_t batch_members = 0;   // members of those batches
  int64_t suspensions = 0;     // GoTo PUTs that turned an ACTIVE user SUSPENDED
  int64_t seat_denials = 0;    // creates/updates refused for want of a seat (both faces)
  int64_t welcome_emails = 0;  // outbox entries
  int64_t user_reads = 0;      // GET /users/{key}
  int64_t user_filters = 0;    // GET /users?filter=... (look-ups of one user)
  // SCIM /Bulk.
  int64_t bulk_requests = 0;    // /Bulk requests that passed validation
  int64_t bulk_operations = 0;  // operations run by them
  // Measured by the server from its own log of the requests its rate limit admitted (all
  // requests to a face when the rate is 0), on its own clock (emulator_admission_log.h):
  int64_t admitted = 0;                // requests − throttled, once none is in flight
  int64_t admitted_max_in_window = 0;  // the most admitted within any 1 s: below burst + rate
  double measured_span_s = 0;          // from the first admitted request to the last
  double measured_rate = 0;            // (admitted − 1) / measured_span_s; 0 below two requests
  // OAuth 2.0 (emulator_oauth.h); zeros and "" without --oauth-client.
  int64_t oauth_access_tokens_issued = 0;
  int64_t oauth_refresh_tokens_issued = 0;
  int64_t oauth_grants_refused = 0;
  std::string oauth_last_refresh_token;  // tests only: what the client must have stored
};

class EmulatorServer {
 public:
  // Opens the store (loading --db), loads --seed-accounts when the store holds no users,
  // binds and starts serving. Errors: InvalidArgument (an option out of range; a seed line
  // that is not a SCIM User, as "FILE:LINE: reason"; duplicate seed users; seed users that
  // need more seats than --seats gives, also "FILE:LINE: ..."), NotFound (seed
  // file missing), Unavailable (cannot bind host:port, e.g. in use), Internal/DataLoss (db).
  static absl::StatusOr<std::unique_ptr<EmulatorServer>> Start(EmulatorOptions options);
  ~EmulatorServer();

  EmulatorServer(const EmulatorServer&) = delete;
  EmulatorServer& operator=(const EmulatorServer&) = delete;

  int port() const;
  std::string base_url() const;       // http://127.0.0.1:PORT
  std::string scim_base_url() const;  // http://127.0.0.1:PORT/scim/v2
  std::string goto_base_url() const;  // http://127.0.0.1:PORT/admin/rest/v1

  // Idempotent; the destructor calls it. Blocks until every worker thread has finished.
  void Stop();

  EmulatorStats stats() const;
  // The welcome emails the GoTo face sent, in order. Thread-safe.
  std::vector<OutboxEntry> outbox() const;
  // The store behind the faces (for in-process callers and later faces). Thread-safe.
  EmulatorStore& store();
  const EmulatorOptions& options() const;

 private:
  class Impl;
  explicit EmulatorServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace usersync::io::emulator
