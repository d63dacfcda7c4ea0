// EmulatorServer::Impl and what its files share (private to emulator_server.cc, the server
// proper: start, stop, routing, admission, stats; and emulator_server_scim.cc, the SCIM
// resources and /Bulk).
//
// Thread-safety: Impl's handlers run on httplib's worker threads at once; the counters are
// atomics, the store and the GoTo face lock for themselves, ServerRateLimit has its own lock.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/str.h"
#include "tools/target/emulator_admission_log.h"
#include "tools/target/emulator_goto.h"
#include "tools/target/emulator_json.h"
#include "tools/target/emulator_rate_limit.h"
#include "tools/target/emulator_server.h"
#include "tools/target/emulator_store.h"

namespace usersync::io::emulator {

inline constexpr std::string_view kScimPrefix = "/scim/v2";
inline constexpr char kScimContentType[] = "application/scim+json";

namespace internal {

// The server-wide rate limit (RateLimit, emulator_rate_limit.h) on the steady clock, and the
// log of what it admitted (AdmissionLog), behind one lock: a request's admission and its
// record carry the same clock reading, taken under the lock, so the log's times never go back.
class ServerRateLimit {
 public:
  ServerRateLimit(double rate, double burst) : limit_(rate, burst) {}

  // Admits the request (and records it) and returns true; or returns false and sets
  // `*wait_seconds` to the time until a request would be admitted. Always true when the rate
  // is 0 (unlimited).
  bool TryTake(double* wait_seconds) {
    absl::MutexLock lock(&mu_);
    const std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
    RateLimit::Decision decision = limit_.Admit(now);
    if (!decision.admitted) {
      *wait_seconds = std::chrono::duration<double>(decision.wait).count();
      return false;
    }
    log_.Record(now);
    return true;
  }

  // What the server measured of its admissions (1 s windows).
  AdmissionLog::Figures measured() const {
    absl::MutexLock lock(&mu_);
    return log_.figures();
  }

 private:
  mutable absl::Mutex mu_;
  RateLimit limit_ ABSL_GUARDED_BY(mu_);
  AdmissionLog log_ ABSL_GUARDED_BY(mu_);
};

// httplib's Server with a usable listen backlog (it listens with 5: dozens of simultaneous
// connects would overflow the accept queue, and a dropped SYN costs a 1 s retransmit).
class HttpServer : public httplib::Server {
 public:
  void RaiseBacklog() {
    // Calling listen() again on a listening socket only changes its backlog. Should it fail,
    // the small backlog stays: slower connects under a burst, nothing worse.
    static_cast<void>(::listen(svr_sock_, SOMAXCONN));
  }
};

}  // namespace internal

// Sets the status, the body and its Content-Type.
void Reply(httplib::Response& res, int status, std::string body,
           const char* content_type = kScimContentType);
// A SCIM error body for `status` (ErrorBody) with its HTTP status.
void ReplyError(httplib::Response& res, const absl::Status& status);
// 405 for a method the path does not take.
void ReplyMethodNotAllowed(httplib::Response& res, const httplib::Request& req);

class EmulatorServer::Impl {
 public:
  explicit Impl(EmulatorOptions options)
      : options_(std::move(options)),
        rate_limit_(options_.rate,
                    options_.burst > 0 ? options_.burst : std::max(1.0, options_.rate)) {}

  enum class Face { kScim, kGoto };

  ~Impl() { Stop(); }

  absl::Status Init();
  void Stop();

  int port() const { return port_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& scim_base_url() const { return scim_base_url_; }
  std::string goto_base_url() const { return absl::StrCat(base_url_, Sv(kGotoPrefix)); }
  EmulatorStore& store() { return *store_; }
  const EmulatorOptions& options() const { return options_; }
  EmulatorStats stats() const;
  std::vector<OutboxEntry> outbox() const { return goto_->outbox(); }

 private:
  // A SCIM /Bulk operation's outcome.
  struct BulkResult {
    std::string method;
    std::string bulk_id;
    int status = 0;
    std::string location;
    std::string version;
    std::string response;  // JSON, or empty
  };

  void Handle(const httplib::Request& req, httplib::Response& res);
  // Latency, rate limit, fault injection and token, answered in `face`'s error shape; true
  // when the request may go on to the handler.
  bool Admit(Face face, const httplib::Request& req, httplib::Response& res);
  void HandleScim(std::string_view path, const httplib::Request& req, httplib::Response& res);
  // Routes an admitted SCIM request; `path` is after /scim/v2 ("/Users/x").
  void RouteScim(std::string_view path, const httplib::Request& req, httplib::Response& res);
  // The token and GET, for the emulator's own endpoints (stats, outbox); true to go on.
  bool AdmitAdminGet(const httplib::Request& req, httplib::Response& res);
  void HandleStats(const httplib::Request& req, httplib::Response& res);
  void HandleOutbox(const httplib::Request& req, httplib::Response& res);
  void HandleOAuthCode(const httplib::Request& req, httplib::Response& res);
  void Bulk(const httplib::Request& req, httplib::Response& res);
  BulkResult RunBulkOperation(const JsonValue& op,
                              absl::flat_hash_map<std::string, std::string>& bulk_ids);
  void CountSeatDenial(const absl::Status& status);
  void ListUsers(const httplib::Request& req, httplib::Response& res);
  void CreateUser(const httplib::Request& req, httplib::Response& res);
  void UserById(std::string_view id, const httplib::Request& req, httplib::Response& res);
  void ListGroups(const httplib::Request& req, httplib::Response& res);
  void CreateGroup(const httplib::Request& req, httplib::Response& res);
  void GroupById(std::string_view id, const httplib::Request& req, httplib::Response& res);
  void ServiceProviderConfig(httplib::Response& res);

  bool Authorized(const httplib::Request& req) const;
  bool InjectFailure();
  void ReplyUser(httplib::Response& res, int status, const UserView& view);
  void ReplyGroup(httplib::Response& res, int status, const GroupView& view, bool with_members);

  EmulatorOptions options_;
  std::unique_ptr<EmulatorStore> store_;
  std::unique_ptr<GotoFace> goto_;
  OAuthAuthority oauth_{options_.oauth};
  internal::HttpServer http_;
  std::thread listen_thread_;
  int port_ = 0;
  std::string base_url_;
  std::string scim_base_url_;
  internal::ServerRateLimit rate_limit_;
  std::atomic<uint64_t> fault_draws_{0};

  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> throttled_{0};
  std::atomic<int64_t> injected_failures_{0};
  std::atomic<int64_t> creates_{0};
  std::atomic<int64_t> create_conflicts_{0};
  std::atomic<int64_t> updates_{0};
  std::atomic<int64_t> deletes_{0};
  std::atomic<int64_t> group_creates_{0};
  std::atomic<int64_t> group_updates_{0};
  std::atomic<int64_t> group_deletes_{0};
  std::atomic<int64_t> seat_denials_{0};  // SCIM's; the GoTo face counts its own
  std::atomic<int64_t> bulk_requests_{0};
  std::atomic<int64_t> bulk_operations_{0};

  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace usersync::io::emulator
