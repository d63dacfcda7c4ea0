// HostileProxy: a fault-injecting HTTP/1.1 proxy in front of a usersync-target, for tests that
// show what usersync does when a SCIM server misbehaves on purpose (issue 12, item 9).
//
// It listens on a loopback port (127.0.0.1, port 0) with raw POSIX sockets, so it controls the
// bytes, the keep-alive and the resets exactly. Each client connection gets a thread and may
// carry many requests (keep-alive, as libcurl reuses connections); requests must carry their
// body with Content-Length (usersync's do). Each request is matched against the rules in
// order; the first rule whose pattern matches and whose window (first_match, times) holds
// applies its Fault. Otherwise, or with Fault::kNone, the request is forwarded to the target
// on a fresh upstream connection (Connection: close; the answer may be Content-Length,
// chunked or close-delimited) and the answer is sent back with a Content-Length.
//
//   HostileProxy::Rule lie{"GET /scim/v2/Users", Fault::kPagingLie};
//   lie.query_contains = "startIndex";
//   auto proxy = HostileProxy::Start(world.target().port(), {lie});
//   config.target_url = (*proxy)->scim_url();
//   ... run usersync ...
//   EXPECT_GT((*proxy)->applied(0), 0);
//   EXPECT_EQ((*proxy)->Count("POST", "/scim/v2/Users"), 0);   // no write was sent
//
// Records every request it saw (method, path with query, body excerpt, the rule and whether
// its fault was applied, whether it reached the target) for the test to assert on.
//
// Thread-safe: the accessors and SetRules may be called while clients are connected. The
// destructor stops it: closes the listener and every client connection (ending hangs and
// endless bodies) and joins every thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::testing {

enum class Fault {
  kNone,               // forward as is
  kGarbageBody,        // forward, then answer 200 application/scim+json with random bytes
  kTruncatedJson,      // forward, then answer the real answer cut in half (Content-Length: half)
  kErrorIn200,         // do not forward; 200 whose body is a SCIM Error (status "500", "boom")
  kServerError,        // do not forward; 500 whose body is a SCIM Error (status "500", "boom")
  kEndlessBody,        // do not forward; 200, no Content-Length, Connection: close, spaces
                       // until the client goes away
  kHugeBody,           // do not forward; 200 announcing Content-Length: 2147483648, then
                       // spaces until the client goes away
  kPagingLie,          // forward with count=1, then answer totalResults 1000000000000
  kRepeatedPage,       // forward with startIndex=1 and count=2: the first two users,
                       // whatever page was asked
  kDuplicateIds,       // forward, then repeat the page's first resource in Resources
  kResetAfterStore,    // forward (the target stores it), then RST the client connection
                       // without answering; only on a connection that served a request
                       // before (else forwarded as kNone and not counted as applied)
  kEchoAuthorization,  // do not forward; 400 SCIM Error whose detail repeats the request's
                       // Authorization header value
  kHang,               // do not forward; never answer (until the proxy stops)
  kRetryAfterHuge,     // do not forward; 429 with Retry-After: 999999
  kRetryAfterZero,     // do not forward; 429 with Retry-After: 0
};

// "kPagingLie" etc., for messages.
std::string_view FaultName(Fault fault);

class HostileProxy {
 public:
  struct Rule {
    // "METHOD /path": the method must be equal and the request's path (without its query)
    // equal to /path, or start with it when /path ends with '*' ("PATCH /scim/v2/Users/*").
    // "* /path" matches any method.
    std::string pattern;
    Fault fault = Fault::kNone;
    std::string query_contains;  // when not empty, the query (after '?') must contain it
    int64_t first_match = 1;     // the fault starts at this match of the rule (1-based)
    int64_t times = -1;          // ... and applies this many times (-1: always)
  };

  // What the proxy saw of one request. A request it could not read (chunked, oversized) is
  // answered 400 and recorded with method "?" and the reason as its target.
  struct Seen {
    std::string method;
    std::string target;         // path and query as sent by the client
    std::string body;           // its first 4,096 bytes
    int rule = -1;              // index of the first matching rule, -1 for none
    bool applied = false;       // the rule's fault was applied
    bool forwarded = false;     // the request (maybe rewritten) was sent to the target
    int64_t connection = 0;     // the client connection's number (1, 2, ...)
    int64_t on_connection = 0;  // 0 for the first request on its connection
  };

  // Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:`upstream_port`.
  // Errors: Internal (socket, bind, listen).
  static absl::StatusOr<std::unique_ptr<HostileProxy>> Start(int upstream_port,
                                                             std::vector<Rule> rules);
  ~HostileProxy();
  HostileProxy(const HostileProxy&) = delete;
  HostileProxy& operator=(const HostileProxy&) = delete;

  int port() const { return port_; }
  std::string base_url() const;  // http://127.0.0.1:PORT
  std::string scim_url() const;  // http://127.0.0.1:PORT/scim/v2

  // Replaces the rules (their counters restart at 0); requests already being handled keep
  // the fault they got.
  void SetRules(std::vector<Rule> rules);

  // How many requests matched rule `rule` / had its fault applied. 0 for an unknown index.
  int64_t matched(size_t rule) const;
  int64_t applied(size_t rule) const;

  // Every request seen so far, in arrival order.
  std::vector<Seen> requests() const;
  // The requests seen whose method is `method` ("" any) and whose path (without query) is
  // `path`, or starts with it when `path` ends with '*'; `forwarded_only`: only those that
  // reached the target. `body_contains`, when not empty, must be in the body's excerpt.
  int64_t Count(std::string_view method, std::string_view path, bool forwarded_only = false,
                std::string_view body_contains = "") const;
  // A one-line-per-request listing of requests(), for failure messages.
  std::string Describe() const;

 private:
  struct RuleState {
    Rule rule;
    int64_t matched = 0;
    int64_t applied = 0;
  };
  class Connection;

  HostileProxy(int listen_fd, int port, int upstream_port, std::vector<Rule> rules);
  void AcceptLoop();
  // The rule that applies to a request (index, or -1) and whether its fault applies now;
  // counts the match. `reused`: the connection served a request before.
  std::pair<int, Fault> Decide(std::string_view method, std::string_view target, bool reused);
  void Record(Seen seen);
  // Forgets a client socket about to be closed (the destructor shuts down the others).
  void Untrack(int fd);

  const int listen_fd_;
  const int port_;
  const int upstream_port_;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::vector<RuleState> rules_;      // guarded by mu_
  std::vector<Seen> seen_;            // guarded by mu_
  std::set<int> open_fds_;            // client sockets, guarded by mu_
  std::vector<std::thread> workers_;  // guarded by mu_
  int64_t connections_ = 0;           // guarded by mu_
};

}  // namespace usersync::testing
