// EmulatorServer: usersync-target, a real HTTP server on loopback that plays a SaaS target.
//
// Faces: SCIM 2.0 (RFC 7643/7644) for Users and Groups under /scim/v2 (the GoTo admin API
// shape under /admin/rest/v1 comes later, on the same EmulatorStore). Test hook:
// GET /_emulator/stats (token required, never rate limited or counted).
//
// Every request under a face passes, in order: --latency-ms (a sleep, no lock held), the
// server-wide token bucket (--rate/--burst; empty → 429 with Retry-After unless disabled),
// fault injection (--fail-rate: that fraction answered 503 before any processing, drawn from
// a seeded counter-based RNG, so a run is reproducible for a given request order), the bearer
// token (constant-time compare; 401 otherwise), then the handler.
//
// Threading: cpp-httplib with a pool of `threads` workers; a keep-alive connection holds one
// worker while open (keep-alive: 100000 requests, 60 s idle), so clients should use fewer
// connections than `threads`. Handlers share the EmulatorStore (thread-safe) and atomic
// counters. Start() returns once the socket listens; Stop() (idempotent, also run by the
// destructor) stops accepting, shuts down open connections and joins every thread.
// The server never logs; the token appears in no message.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "io/emulator/emulator_store.h"

namespace usersync::io::emulator {

struct EmulatorOptions {
  std::string host = "127.0.0.1";
  int port = 0;          // 0: a free port (see EmulatorServer::port())
  std::string token;     // empty: no auth
  double rate = 0;       // requests/s; 0 = unlimited
  double burst = 0;      // 0 → max(1, rate)
  double fail_rate = 0;  // fraction of requests answered 503 before any processing
  int latency_ms = 0;
  bool retry_after = true;               // send Retry-After with 429
  std::map<std::string, int64_t> seats;  // product → seats (used by the GoTo face later)
  std::string db_path;                   // empty: memory only
  std::string seed_accounts_path;        // JSON Lines of SCIM User resources
  std::string account_key = "demo";
  uint64_t seed = 1;
  int threads = 64;  // server worker threads (keep-alive connections each hold one)
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
};

class EmulatorServer {
 public:
  // Opens the store (loading --db), loads --seed-accounts when the store holds no users,
  // binds and starts serving. Errors: InvalidArgument (an option out of range; a seed line
  // that is not a SCIM User, as "FILE:LINE: reason"; duplicate seed users), NotFound (seed
  // file missing), Unavailable (cannot bind host:port, e.g. in use), Internal/DataLoss (db).
  static absl::StatusOr<std::unique_ptr<EmulatorServer>> Start(EmulatorOptions options);
  ~EmulatorServer();

  EmulatorServer(const EmulatorServer&) = delete;
  EmulatorServer& operator=(const EmulatorServer&) = delete;

  int port() const;
  std::string base_url() const;       // http://127.0.0.1:PORT
  std::string scim_base_url() const;  // http://127.0.0.1:PORT/scim/v2

  // Idempotent; the destructor calls it. Blocks until every worker thread has finished.
  void Stop();

  EmulatorStats stats() const;
  // The store behind the faces (for in-process callers and later faces). Thread-safe.
  EmulatorStore& store();
  const EmulatorOptions& options() const;

 private:
  class Impl;
  explicit EmulatorServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace usersync::io::emulator
