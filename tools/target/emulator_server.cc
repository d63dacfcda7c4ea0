#include "tools/target/emulator_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "core/token_bucket.h"
#include "io/json_writer.h"
#include "tools/target/emulator_json.h"
#include "tools/target/emulator_scim.h"

namespace usersync::io::emulator {
namespace {

constexpr std::string_view kScimPrefix = "/scim/v2";
constexpr std::string_view kStatsPath = "/_emulator/stats";
constexpr std::string_view kOutboxPath = "/_emulator/outbox";
constexpr char kScimContentType[] = "application/scim+json";
constexpr int64_t kDefaultCount = 100;
constexpr int64_t kMaxCount = 1000;
constexpr size_t kMaxBodyBytes = 16 << 20;
constexpr int64_t kMaxBulkOperations = 1000;
constexpr int64_t kMaxBulkPayloadBytes = 1 << 20;
constexpr std::string_view kBulkIdPrefix = "bulkId:";
constexpr std::string_view kBulkResponseSchema =
    "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Compares without an early exit, so the time taken does not tell how much of a guess was
// right (it depends only on the longer length).
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  size_t length = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < length; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// The server-wide token bucket (core::TokenBucket arithmetic on the steady clock, behind a
// lock): `burst` tokens, refilled at `rate` per second, starting full.
class ServerRateLimit {
 public:
  ServerRateLimit(double rate, double burst) : unlimited_(rate <= 0), bucket_(rate, burst) {}

  // Takes a token and returns true; or returns false and sets `*wait_seconds` to the time
  // until a token is available. Always true when the rate is 0 (unlimited).
  bool TryTake(double* wait_seconds) {
    if (unlimited_) return true;
    absl::MutexLock lock(&mu_);
    core::Duration wait = bucket_.Acquire(std::chrono::steady_clock::now());
    if (wait <= core::Duration::zero()) return true;
    *wait_seconds = std::chrono::duration<double>(wait).count();
    return false;
  }

 private:
  const bool unlimited_;
  absl::Mutex mu_;
  core::TokenBucket bucket_ ABSL_GUARDED_BY(mu_);
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

int LocalPort(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return -1;
}

// Shuts down every connection this process accepted on `port`, so that workers waiting on
// idle keep-alive connections (up to 60 s) return at once. httplib gives no handle on its
// accepted sockets, so they are found in /proc/self/fd. Each candidate is first duplicated:
// the duplicate pins the socket, so the checks and the shutdown apply to one and the same
// socket even if its original descriptor is closed and reused meanwhile.
void ShutDownAcceptedConnections(int port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  std::vector<int> fds;
  while (dirent* entry = readdir(dir)) {
    int fd = -1;
    if (absl::SimpleAtoi(entry->d_name, &fd) && fd != dirfd(dir)) fds.push_back(fd);
  }
  closedir(dir);
  for (int fd : fds) {
    int pinned = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (pinned < 0) continue;
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_length = sizeof(local);
    socklen_t peer_length = sizeof(peer);
    int type = 0;
    socklen_t type_length = sizeof(type);
    // Ours: a connected TCP socket whose local port is the listening port (a client socket
    // of this process talking to us has an ephemeral local port instead).
    if (getsockopt(pinned, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 && type == SOCK_STREAM &&
        getsockname(pinned, reinterpret_cast<sockaddr*>(&local), &local_length) == 0 &&
        LocalPort(local) == port &&
        getpeername(pinned, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0) {
      ::shutdown(pinned, SHUT_RDWR);
    }
    ::close(pinned);
  }
}

void Reply(httplib::Response& res, int status, std::string body,
           const char* content_type = kScimContentType) {
  res.status = status;
  res.body = std::move(body);
  res.set_header("Content-Type", content_type);
}

void ReplyError(httplib::Response& res, const absl::Status& status) {
  Reply(res, HttpStatusOf(status), ErrorBody(status));
}

void ReplyMethodNotAllowed(httplib::Response& res, const httplib::Request& req) {
  Reply(res, 405,
        ErrorBody(405, "", absl::StrCat("method ", req.method, " is not allowed on ", req.path)));
}

std::string HostForUrl(const std::string& host) {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]");
  return host;
}

// Loads the JSON Lines of SCIM User resources at `path` into `store` when it holds no users
// (a database that already has users keeps them). Errors name FILE:LINE.
absl::Status LoadSeedAccounts(const std::string& path, EmulatorStore& store) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open seed accounts file"));
  std::vector<EmulatorUser> users;
  std::vector<int> line_numbers;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    auto fail = [&](std::string_view reason) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": not a SCIM User: ", Sv(reason)));
    };
    absl::StatusOr<JsonValue> json = ParseJson(line);
    if (!json.ok()) return fail(StdSv(json.status().message()));
    if (!json->is_object()) return fail("expected a JSON object");
    absl::StatusOr<EmulatorUser> user = DecodeUser(*json, /*keep_id=*/true);
    if (!user.ok()) return fail(StdSv(user.status().message()));
    users.push_back(*std::move(user));
    line_numbers.push_back(line_number);
  }
  if (in.bad()) return absl::InternalError(absl::StrCat(path, ": read error"));
  if (store.counts().users > 0) return absl::OkStatus();
  size_t failed_index = 0;
  absl::Status status = store.CreateUsers(std::move(users), &failed_index);
  if (status.ok()) return absl::OkStatus();
  if (absl::IsAlreadyExists(status) || !NoSeatProduct(status).empty()) {
    // A duplicate within the file, or more users than seats: usage, like a malformed line.
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", line_numbers[failed_index], ": ", status.message()));
  }
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

}  // namespace

class EmulatorServer::Impl {
 public:
  explicit Impl(EmulatorOptions options)
      : options_(std::move(options)),
        bucket_(options_.rate, options_.burst > 0 ? options_.burst : std::max(1.0, options_.rate)) {
  }

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
  void HandleStats(const httplib::Request& req, httplib::Response& res);
  void HandleOutbox(const httplib::Request& req, httplib::Response& res);
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
  HttpServer http_;
  std::thread listen_thread_;
  int port_ = 0;
  std::string base_url_;
  std::string scim_base_url_;
  ServerRateLimit bucket_;
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

absl::Status EmulatorServer::Impl::Init() {
  USERSYNC_ASSIGN_OR_RETURN(store_, EmulatorStore::Open(options_.db_path));
  store_->SetSeatLimits(options_.seats);
  goto_ = std::make_unique<GotoFace>(store_.get(), options_.account_key);
  if (!options_.seed_accounts_path.empty()) {
    USERSYNC_RETURN_IF_ERROR(LoadSeedAccounts(options_.seed_accounts_path, *store_));
  }

  const int threads = options_.threads;
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_keep_alive_max_count(100000);
  http_.set_keep_alive_timeout(60);
  http_.set_tcp_nodelay(true);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second server
  // share a port in use instead of failing.
  http_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http_.set_payload_max_length(kMaxBodyBytes);
  http_.set_read_timeout(30, 0);
  http_.set_write_timeout(30, 0);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  // One catch-all route per method; Handle() routes by itself.
  http_.Get("/.*", handler);
  http_.Post("/.*", handler);
  http_.Put("/.*", handler);
  http_.Patch("/.*", handler);
  http_.Delete("/.*", handler);
  http_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      Reply(res, res.status, ErrorBody(res.status, "", "the request could not be served"));
    }
  });
  http_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        ReplyError(res, absl::InternalError("internal error"));
      });

  if (options_.port == 0) {
    port_ = http_.bind_to_any_port(options_.host);
  } else {
    port_ = http_.bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    int error = errno;
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.host, ":",
                                               options_.port, ": ", std::strerror(error)));
  }
  http_.RaiseBacklog();
  base_url_ = absl::StrCat("http://", HostForUrl(options_.host), ":", port_);
  scim_base_url_ = absl::StrCat(base_url_, Sv(kScimPrefix));
  listen_thread_ = std::thread([this] { http_.listen_after_bind(); });
  // listen_after_bind marks the server running at once; Stop() before that would be lost.
  while (!http_.is_running()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  return absl::OkStatus();
}

void EmulatorServer::Impl::Stop() {
  absl::MutexLock lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (!listen_thread_.joinable()) return;
  http_.stop();
  ShutDownAcceptedConnections(port_);
  listen_thread_.join();
}

EmulatorStats EmulatorServer::Impl::stats() const {
  EmulatorStats stats;
  EmulatorStore::Counts counts = store_->counts();
  stats.users = counts.users;
  stats.active_users = counts.active_users;
  stats.groups = counts.groups;
  stats.requests = requests_.load();
  stats.throttled = throttled_.load();
  stats.injected_failures = injected_failures_.load();
  stats.creates = creates_.load();
  stats.create_conflicts = create_conflicts_.load();
  stats.updates = updates_.load();
  stats.deletes = deletes_.load();
  stats.group_creates = group_creates_.load();
  stats.group_updates = group_updates_.load();
  stats.group_deletes = group_deletes_.load();
  GotoStats goto_stats = goto_->stats();
  stats.creates += goto_stats.creates;
  stats.create_conflicts += goto_stats.create_conflicts;
  stats.updates += goto_stats.updates;
  stats.group_creates += goto_stats.group_creates;
  stats.batch_creates = goto_stats.batch_creates;
  stats.batch_members = goto_stats.batch_members;
  stats.suspensions = goto_stats.suspensions;
  stats.seat_denials = seat_denials_.load() + goto_stats.seat_denials;
  stats.welcome_emails = goto_stats.welcome_emails;
  stats.bulk_requests = bulk_requests_.load();
  stats.bulk_operations = bulk_operations_.load();
  return stats;
}

bool EmulatorServer::Impl::Authorized(const httplib::Request& req) const {
  if (options_.token.empty()) return true;
  std::string header = req.get_header_value("Authorization");
  std::string_view value = header;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(Sv(value.substr(0, kScheme.size())), Sv(kScheme))) {
    return false;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return ConstantTimeEquals(value, options_.token);
}

bool EmulatorServer::Impl::InjectFailure() {
  if (options_.fail_rate <= 0) return false;
  if (options_.fail_rate >= 1) return true;
  // Counter-based: the n-th draw is a fixed function of (seed, n), with no lock.
  uint64_t n = fault_draws_.fetch_add(1, std::memory_order_relaxed);
  uint64_t bits = SplitMix64(options_.seed * 0xd1342543de82ef95ULL + n);
  double uniform = static_cast<double>(bits >> 11) * 0x1.0p-53;
  return uniform < options_.fail_rate;
}

void EmulatorServer::Impl::Handle(const httplib::Request& req, httplib::Response& res) {
  std::string_view path = req.path;
  if (path == kStatsPath) {
    HandleStats(req, res);
    return;
  }
  if (path == kOutboxPath) {
    HandleOutbox(req, res);
    return;
  }
  if (path == kScimPrefix || absl::StartsWith(Sv(path), absl::StrCat(Sv(kScimPrefix), "/"))) {
    HandleScim(path.substr(kScimPrefix.size()), req, res);
    return;
  }
  if (path == kGotoPrefix || absl::StartsWith(Sv(path), absl::StrCat(Sv(kGotoPrefix), "/"))) {
    if (Admit(Face::kGoto, req, res)) goto_->Handle(path.substr(kGotoPrefix.size()), req, res);
    return;
  }
  ReplyError(res, absl::NotFoundError(absl::StrCat("no endpoint ", Sv(path))));
}

void EmulatorServer::Impl::HandleStats(const httplib::Request& req, httplib::Response& res) {
  if (!Authorized(req)) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"usersync-target\"");
    ReplyError(res, absl::UnauthenticatedError("missing or wrong bearer token"));
    return;
  }
  if (req.method != "GET") return ReplyMethodNotAllowed(res, req);
  EmulatorStats s = stats();
  JsonWriter writer;
  writer.BeginObject();
  writer.Key("users").Int(s.users);
  writer.Key("active_users").Int(s.active_users);
  writer.Key("groups").Int(s.groups);
  writer.Key("requests").Int(s.requests);
  writer.Key("throttled").Int(s.throttled);
  writer.Key("injected_failures").Int(s.injected_failures);
  writer.Key("creates").Int(s.creates);
  writer.Key("create_conflicts").Int(s.create_conflicts);
  writer.Key("updates").Int(s.updates);
  writer.Key("deletes").Int(s.deletes);
  writer.Key("group_creates").Int(s.group_creates);
  writer.Key("group_updates").Int(s.group_updates);
  writer.Key("group_deletes").Int(s.group_deletes);
  writer.Key("batch_creates").Int(s.batch_creates);
  writer.Key("batch_members").Int(s.batch_members);
  writer.Key("suspensions").Int(s.suspensions);
  writer.Key("seat_denials").Int(s.seat_denials);
  writer.Key("welcome_emails").Int(s.welcome_emails);
  writer.Key("bulk_requests").Int(s.bulk_requests);
  writer.Key("bulk_operations").Int(s.bulk_operations);
  writer.EndObject();
  Reply(res, 200, writer.Release(), "application/json");
}

void EmulatorServer::Impl::HandleOutbox(const httplib::Request& req, httplib::Response& res) {
  if (!Authorized(req)) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"usersync-target\"");
    ReplyError(res, absl::UnauthenticatedError("missing or wrong bearer token"));
    return;
  }
  if (req.method != "GET") return ReplyMethodNotAllowed(res, req);
  Reply(res, 200, goto_->OutboxJson(), "application/json");
}

bool EmulatorServer::Impl::Admit(Face face, const httplib::Request& req, httplib::Response& res) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (options_.latency_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.latency_ms));
  }
  auto reply = [&](const absl::Status& status, std::string_view goto_code) {
    if (face == Face::kScim) return ReplyError(res, status);
    Reply(res, HttpStatusOf(status), GotoErrorBody(goto_code, StdSv(status.message())),
          "application/json");
  };
  double wait_seconds = 0;
  if (!bucket_.TryTake(&wait_seconds)) {
    throttled_.fetch_add(1, std::memory_order_relaxed);
    // GoTo documents its 429 without Retry-After: its face never sends one.
    if (face == Face::kScim && options_.retry_after) {
      int64_t seconds = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_seconds)));
      res.set_header("Retry-After", std::to_string(seconds));
    }
    reply(absl::ResourceExhaustedError("too many requests"), "TOO_MANY_REQUESTS");
    return false;
  }
  if (InjectFailure()) {
    injected_failures_.fetch_add(1, std::memory_order_relaxed);
    reply(absl::UnavailableError("injected failure (--fail-rate)"), "SERVICE_UNAVAILABLE");
    return false;
  }
  if (!Authorized(req)) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"usersync-target\"");
    reply(absl::UnauthenticatedError("missing or wrong bearer token"), "UNAUTHORIZED");
    return false;
  }
  return true;
}

void EmulatorServer::Impl::HandleScim(std::string_view path, const httplib::Request& req,
                                      httplib::Response& res) {
  if (Admit(Face::kScim, req, res)) RouteScim(path, req, res);
}

void EmulatorServer::Impl::RouteScim(std::string_view path, const httplib::Request& req,
                                     httplib::Response& res) {
  // path: "", "/Users", "/Users/{id}", ... (a trailing '/' is ignored)
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (!path.empty()) path.remove_prefix(1);
  std::vector<absl::string_view> segments = absl::StrSplit(Sv(path), '/');
  std::string_view resource = segments.empty() ? std::string_view() : StdSv(segments[0]);
  const std::string& method = req.method;
  auto not_allowed = [&] { ReplyMethodNotAllowed(res, req); };
  if (segments.size() == 1 && resource == "Users") {
    if (method == "GET") return ListUsers(req, res);
    if (method == "POST") return CreateUser(req, res);
    return not_allowed();
  }
  if (segments.size() == 2 && resource == "Users") return UserById(StdSv(segments[1]), req, res);
  if (segments.size() == 1 && resource == "Groups") {
    if (method == "GET") return ListGroups(req, res);
    if (method == "POST") return CreateGroup(req, res);
    return not_allowed();
  }
  if (segments.size() == 2 && resource == "Groups") {
    return GroupById(StdSv(segments[1]), req, res);
  }
  if (segments.size() == 1 && resource == "ServiceProviderConfig") {
    if (method == "GET") return ServiceProviderConfig(res);
    return not_allowed();
  }
  if (segments.size() == 1 && resource == "Bulk") {
    if (!options_.bulk) {
      return ReplyError(res, absl::UnimplementedError("bulk operations are not supported"));
    }
    if (method == "POST") return Bulk(req, res);
    return not_allowed();
  }
  ReplyError(res, absl::NotFoundError(absl::StrCat("no endpoint ", req.path)));
}

namespace {

// startIndex (1-based, < 1 → 1) and count (default 100, < 0 → 0, > 1000 → 1000).
absl::Status ParsePaging(const httplib::Request& req, int64_t* start_index, int64_t* count) {
  *start_index = 1;
  *count = kDefaultCount;
  if (req.has_param("startIndex")) {
    if (!absl::SimpleAtoi(req.get_param_value("startIndex"), start_index)) {
      return ScimError(absl::StatusCode::kInvalidArgument, "invalidValue",
                       "startIndex must be an integer");
    }
    *start_index = std::max<int64_t>(1, *start_index);
  }
  if (req.has_param("count")) {
    if (!absl::SimpleAtoi(req.get_param_value("count"), count)) {
      return ScimError(absl::StatusCode::kInvalidArgument, "invalidValue",
                       "count must be an integer");
    }
    *count = std::clamp<int64_t>(*count, 0, kMaxCount);
  }
  return absl::OkStatus();
}

void BeginList(int64_t total, int64_t start_index, size_t items, JsonWriter* writer) {
  writer->BeginObject();
  writer->Key("schemas").BeginArray().String(kScimListSchema).EndArray();
  writer->Key("totalResults").Int(total);
  writer->Key("startIndex").Int(start_index);
  writer->Key("itemsPerPage").Int(static_cast<int64_t>(items));
  writer->Key("Resources").BeginArray();
}

absl::StatusOr<JsonValue> ParseBody(const httplib::Request& req) {
  absl::StatusOr<JsonValue> json = ParseJson(req.body);
  if (!json.ok()) {
    return ScimError(absl::StatusCode::kInvalidArgument, "invalidSyntax",
                     StdSv(json.status().message()));
  }
  return json;
}

bool ListHas(const std::string& list, std::string_view name) {
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(item), Sv(name))) return true;
  }
  return false;
}

// Groups are listed with their members unless the request excludes them.
bool WantMembers(const httplib::Request& req) {
  if (req.has_param("excludedAttributes") &&
      ListHas(req.get_param_value("excludedAttributes"), "members")) {
    return false;
  }
  if (req.has_param("attributes")) return ListHas(req.get_param_value("attributes"), "members");
  return true;
}

int64_t ExpectedVersion(const httplib::Request& req) {
  if (!req.has_header("If-Match")) return 0;
  return ParseIfMatch(req.get_header_value("If-Match"));
}

}  // namespace

void EmulatorServer::Impl::ReplyUser(httplib::Response& res, int status, const UserView& view) {
  std::string body;
  body.reserve(1024);
  JsonWriter writer(&body);
  WriteUser(view, scim_base_url_, &writer);
  res.set_header("ETag", VersionTag(view.user->version));
  Reply(res, status, std::move(body));
}

void EmulatorServer::Impl::ReplyGroup(httplib::Response& res, int status, const GroupView& view,
                                      bool with_members) {
  std::string body;
  JsonWriter writer(&body);
  WriteGroup(view, scim_base_url_, with_members, &writer);
  res.set_header("ETag", VersionTag(view.group->version));
  Reply(res, status, std::move(body));
}

void EmulatorServer::Impl::ListUsers(const httplib::Request& req, httplib::Response& res) {
  int64_t start_index;
  int64_t count;
  if (absl::Status status = ParsePaging(req, &start_index, &count); !status.ok()) {
    return ReplyError(res, status);
  }
  StorePage<UserView> page;
  if (req.has_param("filter")) {
    absl::StatusOr<ScimFilter> filter = ParseFilter(req.get_param_value("filter"));
    if (!filter.ok()) return ReplyError(res, filter.status());
    UserKey key;
    if (filter->attribute == "username") {
      key = UserKey::kUserName;
    } else if (filter->attribute == "externalid") {
      key = UserKey::kExternalId;
    } else if (filter->attribute == "id") {
      key = UserKey::kId;
    } else {
      return ReplyError(res, ScimError(absl::StatusCode::kInvalidArgument, "invalidFilter",
                                       absl::StrCat("cannot filter Users by ", filter->attribute)));
    }
    page = store_->FindUsers(key, filter->value, start_index - 1, count);
  } else {
    page = store_->ListUsers(start_index - 1, count);
  }
  // Rendered after the store's lock is released: the views own their records.
  std::string body;
  body.reserve(256 + page.items.size() * 640);
  JsonWriter writer(&body);
  BeginList(page.total, start_index, page.items.size(), &writer);
  for (const UserView& view : page.items) WriteUser(view, scim_base_url_, &writer);
  writer.EndArray().EndObject();
  Reply(res, 200, std::move(body));
}

void EmulatorServer::Impl::CreateUser(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  absl::StatusOr<EmulatorUser> user = DecodeUser(*json, /*keep_id=*/false);
  if (!user.ok()) return ReplyError(res, user.status());
  absl::StatusOr<UserView> created = store_->CreateUser(*std::move(user));
  if (!created.ok()) {
    if (created.status().code() == absl::StatusCode::kAlreadyExists) {
      create_conflicts_.fetch_add(1, std::memory_order_relaxed);
    }
    CountSeatDenial(created.status());
    return ReplyError(res, created.status());
  }
  creates_.fetch_add(1, std::memory_order_relaxed);
  res.set_header("Location", absl::StrCat(scim_base_url_, "/Users/", created->user->id));
  ReplyUser(res, 201, *created);
}

void EmulatorServer::Impl::UserById(std::string_view id, const httplib::Request& req,
                                    httplib::Response& res) {
  const std::string& method = req.method;
  if (method == "GET") {
    absl::StatusOr<UserView> view = store_->GetUser(id);
    if (!view.ok()) return ReplyError(res, view.status());
    return ReplyUser(res, 200, *view);
  }
  if (method == "DELETE") {
    absl::Status status = store_->DeleteUser(id, ExpectedVersion(req));
    if (!status.ok()) return ReplyError(res, status);
    deletes_.fetch_add(1, std::memory_order_relaxed);
    res.status = 204;
    return;
  }
  if (method != "PUT" && method != "PATCH") return ReplyMethodNotAllowed(res, req);
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  absl::StatusOr<UserView> updated;
  if (method == "PUT") {
    absl::StatusOr<EmulatorUser> replacement = DecodeUser(*json, /*keep_id=*/false);
    if (!replacement.ok()) return ReplyError(res, replacement.status());
    updated = store_->UpdateUser(id, ExpectedVersion(req), [&](EmulatorUser& user) {
      user = *replacement;  // the store keeps id, version and timestamps
      return absl::OkStatus();
    });
  } else {
    absl::StatusOr<std::vector<PatchOp>> ops = DecodePatch(*json, kScimUserSchema);
    if (!ops.ok()) return ReplyError(res, ops.status());
    updated = store_->UpdateUser(id, ExpectedVersion(req),
                                 [&](EmulatorUser& user) { return ApplyUserPatch(*ops, user); });
  }
  if (!updated.ok()) {
    CountSeatDenial(updated.status());
    return ReplyError(res, updated.status());
  }
  updates_.fetch_add(1, std::memory_order_relaxed);
  ReplyUser(res, 200, *updated);
}

void EmulatorServer::Impl::ListGroups(const httplib::Request& req, httplib::Response& res) {
  int64_t start_index;
  int64_t count;
  if (absl::Status status = ParsePaging(req, &start_index, &count); !status.ok()) {
    return ReplyError(res, status);
  }
  bool with_members = WantMembers(req);
  StorePage<GroupView> page;
  if (req.has_param("filter")) {
    absl::StatusOr<ScimFilter> filter = ParseFilter(req.get_param_value("filter"));
    if (!filter.ok()) return ReplyError(res, filter.status());
    GroupKey key;
    if (filter->attribute == "displayname") {
      key = GroupKey::kDisplayName;
    } else if (filter->attribute == "externalid") {
      key = GroupKey::kExternalId;
    } else if (filter->attribute == "id") {
      key = GroupKey::kId;
    } else {
      return ReplyError(res,
                        ScimError(absl::StatusCode::kInvalidArgument, "invalidFilter",
                                  absl::StrCat("cannot filter Groups by ", filter->attribute)));
    }
    page = store_->FindGroups(key, filter->value, start_index - 1, count, with_members);
  } else {
    page = store_->ListGroups(start_index - 1, count, with_members);
  }
  std::string body;
  JsonWriter writer(&body);
  BeginList(page.total, start_index, page.items.size(), &writer);
  for (const GroupView& view : page.items) {
    WriteGroup(view, scim_base_url_, with_members, &writer);
  }
  writer.EndArray().EndObject();
  Reply(res, 200, std::move(body));
}

void EmulatorServer::Impl::CreateGroup(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  absl::StatusOr<DecodedGroup> decoded = DecodeGroup(*json);
  if (!decoded.ok()) return ReplyError(res, decoded.status());
  absl::StatusOr<GroupView> created =
      store_->CreateGroup(std::move(decoded->group), decoded->member_ids);
  if (!created.ok()) return ReplyError(res, created.status());
  group_creates_.fetch_add(1, std::memory_order_relaxed);
  res.set_header("Location", absl::StrCat(scim_base_url_, "/Groups/", created->group->id));
  ReplyGroup(res, 201, *created, /*with_members=*/true);
}

void EmulatorServer::Impl::GroupById(std::string_view id, const httplib::Request& req,
                                     httplib::Response& res) {
  const std::string& method = req.method;
  if (method == "GET") {
    bool with_members = WantMembers(req);
    absl::StatusOr<GroupView> view = store_->GetGroup(id, with_members);
    if (!view.ok()) return ReplyError(res, view.status());
    return ReplyGroup(res, 200, *view, with_members);
  }
  if (method == "DELETE") {
    absl::Status status = store_->DeleteGroup(id, ExpectedVersion(req));
    if (!status.ok()) return ReplyError(res, status);
    group_deletes_.fetch_add(1, std::memory_order_relaxed);
    res.status = 204;
    return;
  }
  if (method != "PUT" && method != "PATCH") return ReplyMethodNotAllowed(res, req);
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  GroupChange change;
  if (method == "PUT") {
    absl::StatusOr<DecodedGroup> decoded = DecodeGroup(*json);
    if (!decoded.ok()) return ReplyError(res, decoded.status());
    change.display_name = std::move(decoded->group.display_name);
    change.external_id = std::move(decoded->group.external_id);
    change.member_ops.push_back({GroupChange::MemberOp::Kind::kRemoveAll, ""});
    for (std::string& member_id : decoded->member_ids) {
      change.member_ops.push_back({GroupChange::MemberOp::Kind::kAdd, std::move(member_id)});
    }
  } else {
    absl::StatusOr<std::vector<PatchOp>> ops = DecodePatch(*json, kScimGroupSchema);
    if (!ops.ok()) return ReplyError(res, ops.status());
    absl::StatusOr<GroupChange> patch = GroupPatchToChange(*ops);
    if (!patch.ok()) return ReplyError(res, patch.status());
    change = *std::move(patch);
  }
  absl::StatusOr<GroupView> updated = store_->UpdateGroup(id, ExpectedVersion(req), change);
  if (!updated.ok()) return ReplyError(res, updated.status());
  group_updates_.fetch_add(1, std::memory_order_relaxed);
  if (method == "PATCH") {
    // 204 (RFC 7644 §3.5.2 allows it): a membership change must not cost O(members).
    res.set_header("ETag", VersionTag(updated->group->version));
    res.status = 204;
    return;
  }
  absl::StatusOr<GroupView> full = store_->GetGroup(id, /*with_members=*/true);
  if (!full.ok()) return ReplyError(res, full.status());
  ReplyGroup(res, 200, *full, /*with_members=*/true);
}

void EmulatorServer::Impl::CountSeatDenial(const absl::Status& status) {
  if (!NoSeatProduct(status).empty()) seat_denials_.fetch_add(1, std::memory_order_relaxed);
}

namespace {

// Replaces each string value "bulkId:X" in `value` by the id the operation with bulkId X
// created. Error: 409 invalidValue naming the first X that is unknown or whose POST failed.
absl::Status ResolveBulkIds(JsonValue* value,
                            const absl::flat_hash_map<std::string, std::string>& bulk_ids) {
  if (value->is_string()) {
    if (!absl::StartsWith(value->string, Sv(kBulkIdPrefix))) return absl::OkStatus();
    std::string_view bulk_id = std::string_view(value->string).substr(kBulkIdPrefix.size());
    auto it = bulk_ids.find(Sv(bulk_id));
    if (it == bulk_ids.end() || it->second.empty()) {
      return ScimError(
          absl::StatusCode::kAlreadyExists, "invalidValue",
          absl::StrCat("bulkId ", Sv(bulk_id),
                       it == bulk_ids.end() ? " is not defined by an earlier POST of this request"
                                            : " names an operation that failed"));
    }
    value->string = it->second;
    return absl::OkStatus();
  }
  for (JsonValue& item : value->items) USERSYNC_RETURN_IF_ERROR(ResolveBulkIds(&item, bulk_ids));
  for (auto& [key, member] : value->members) {
    USERSYNC_RETURN_IF_ERROR(ResolveBulkIds(&member, bulk_ids));
  }
  return absl::OkStatus();
}

}  // namespace

EmulatorServer::Impl::BulkResult EmulatorServer::Impl::RunBulkOperation(
    const JsonValue& op, absl::flat_hash_map<std::string, std::string>& bulk_ids) {
  BulkResult result;
  auto fail = [&](const absl::Status& status) {
    result.status = HttpStatusOf(status);
    result.response = ErrorBody(status);
    return result;
  };
  auto invalid = [&](std::string_view scim_type, std::string_view detail) {
    return fail(ScimError(absl::StatusCode::kInvalidArgument, scim_type, detail));
  };
  if (!op.is_object()) return invalid("invalidSyntax", "each operation must be an object");
  const JsonValue* method = op.Find("method");
  if (method == nullptr || !method->is_string()) {
    return invalid("invalidSyntax", "an operation needs a \"method\"");
  }
  result.method = absl::AsciiStrToUpper(method->string);
  const JsonValue* bulk_id = op.Find("bulkId");
  if (bulk_id != nullptr && !bulk_id->is_null()) {
    if (!bulk_id->is_string() || bulk_id->string.empty()) {
      return invalid("invalidValue", "bulkId must be a non-empty string");
    }
    result.bulk_id = bulk_id->string;
  }
  const bool is_post = result.method == "POST";
  if (!is_post && result.method != "PUT" && result.method != "PATCH" && result.method != "DELETE") {
    return invalid("invalidValue", absl::StrCat("method \"", method->string,
                                                "\" is not allowed in a bulk operation"));
  }
  if (is_post) {
    if (result.bulk_id.empty()) return invalid("invalidValue", "a POST operation needs a bulkId");
    if (bulk_ids.contains(result.bulk_id)) {
      return invalid("invalidValue", absl::StrCat("bulkId ", result.bulk_id, " is used twice"));
    }
    // Declared now, resolvable once the POST succeeds.
    bulk_ids.emplace(result.bulk_id, "");
  }
  const JsonValue* path = op.Find("path");
  if (path == nullptr || !path->is_string() || !absl::StartsWith(path->string, "/")) {
    return invalid("invalidPath", "an operation needs a \"path\" such as /Users");
  }
  std::vector<std::string> segments = absl::StrSplit(path->string.substr(1), '/');
  if (segments.empty() || (segments[0] != "Users" && segments[0] != "Groups") ||
      segments.size() != (is_post ? 1u : 2u) || (segments.size() == 2 && segments[1].empty())) {
    return invalid("invalidPath",
                   absl::StrCat("path \"", path->string, "\" must be ",
                                is_post ? "/Users or /Groups" : "/Users/{id} or /Groups/{id}"));
  }
  if (segments.size() == 2) {
    JsonValue id;
    id.type = JsonValue::Type::kString;
    id.string = segments[1];
    absl::Status resolved = ResolveBulkIds(&id, bulk_ids);
    if (!resolved.ok()) return fail(resolved);
    segments[1] = std::move(id.string);
  }
  std::string resolved_path = absl::StrCat("/", absl::StrJoin(segments, "/"));

  httplib::Request sub;
  sub.method = result.method;
  sub.path = absl::StrCat(Sv(kScimPrefix), resolved_path);
  if (result.method != "DELETE") {
    const JsonValue* data = op.Find("data");
    if (data == nullptr || !data->is_object()) {
      return invalid("invalidSyntax", absl::StrCat(result.method, " needs a \"data\" object"));
    }
    JsonValue resolved_data = *data;
    absl::Status resolved = ResolveBulkIds(&resolved_data, bulk_ids);
    if (!resolved.ok()) return fail(resolved);
    JsonWriter writer(&sub.body);
    WriteJson(resolved_data, &writer);
  }
  const JsonValue* version = op.Find("version");
  if (version != nullptr && version->is_string() && !version->string.empty()) {
    sub.headers.emplace("If-Match", version->string);
  }
  httplib::Response sub_res;
  RouteScim(resolved_path, sub, sub_res);
  result.status = sub_res.status;
  result.response = std::move(sub_res.body);
  result.version = sub_res.get_header_value("ETag");
  if (is_post) {
    result.location = sub_res.get_header_value("Location");
    if (result.status == 201) {
      size_t slash = result.location.rfind('/');
      bulk_ids[result.bulk_id] = result.location.substr(slash + 1);
    }
  } else if (result.status < 400) {
    result.location = absl::StrCat(scim_base_url_, resolved_path);
  }
  return result;
}

void EmulatorServer::Impl::Bulk(const httplib::Request& req, httplib::Response& res) {
  if (static_cast<int64_t>(req.body.size()) > kMaxBulkPayloadBytes) {
    return Reply(res, 413,
                 ErrorBody(413, "",
                           absl::StrCat("the bulk request holds ", req.body.size(),
                                        " bytes; maxPayloadSize is ", kMaxBulkPayloadBytes)));
  }
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  const JsonValue* operations = json->Find("Operations");
  if (!json->is_object() || operations == nullptr || !operations->is_array()) {
    return ReplyError(res, ScimError(absl::StatusCode::kInvalidArgument, "invalidSyntax",
                                     "a BulkRequest needs an \"Operations\" array"));
  }
  if (static_cast<int64_t>(operations->items.size()) > kMaxBulkOperations) {
    return Reply(res, 413,
                 ErrorBody(413, "",
                           absl::StrCat("the bulk request holds ", operations->items.size(),
                                        " operations; maxOperations is ", kMaxBulkOperations)));
  }
  int64_t fail_on_errors = 0;  // 0: never stop
  if (const JsonValue* limit = json->Find("failOnErrors"); limit != nullptr && !limit->is_null()) {
    if (!limit->is_number() || limit->number < 1 || limit->number != std::trunc(limit->number)) {
      return ReplyError(res, ScimError(absl::StatusCode::kInvalidArgument, "invalidValue",
                                       "failOnErrors must be an integer >= 1"));
    }
    fail_on_errors = static_cast<int64_t>(std::min(limit->number, 1e9));
  }
  bulk_requests_.fetch_add(1, std::memory_order_relaxed);
  absl::flat_hash_map<std::string, std::string> bulk_ids;
  int64_t errors = 0;
  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject();
  writer.Key("schemas").BeginArray().String(kBulkResponseSchema).EndArray();
  writer.Key("Operations").BeginArray();
  for (const JsonValue& op : operations->items) {
    if (fail_on_errors > 0 && errors >= fail_on_errors) break;
    bulk_operations_.fetch_add(1, std::memory_order_relaxed);
    BulkResult result = RunBulkOperation(op, bulk_ids);
    if (result.status >= 400) ++errors;
    writer.BeginObject();
    writer.Field("method", result.method);
    if (!result.bulk_id.empty()) writer.Field("bulkId", result.bulk_id);
    if (!result.location.empty()) writer.Field("location", result.location);
    if (!result.version.empty()) writer.Field("version", result.version);
    writer.Field("status", std::to_string(result.status));
    if (!result.response.empty()) writer.Key("response").Raw(result.response);
    writer.EndObject();
  }
  writer.EndArray().EndObject();
  Reply(res, 200, std::move(body));
}

void EmulatorServer::Impl::ServiceProviderConfig(httplib::Response& res) {
  JsonWriter writer;
  writer.BeginObject();
  writer.Key("schemas").BeginArray().String(kScimServiceProviderConfigSchema).EndArray();
  writer.Key("patch").BeginObject().Key("supported").Bool(true).EndObject();
  writer.Key("bulk").BeginObject();
  writer.Key("supported").Bool(options_.bulk);
  writer.Key("maxOperations").Int(options_.bulk ? kMaxBulkOperations : 0);
  writer.Key("maxPayloadSize").Int(options_.bulk ? kMaxBulkPayloadBytes : 0);
  writer.EndObject();
  writer.Key("filter").BeginObject();
  writer.Key("supported").Bool(true).Key("maxResults").Int(kMaxCount);
  writer.EndObject();
  writer.Key("changePassword").BeginObject().Key("supported").Bool(false).EndObject();
  writer.Key("sort").BeginObject().Key("supported").Bool(false).EndObject();
  writer.Key("etag").BeginObject().Key("supported").Bool(true).EndObject();
  writer.Key("authenticationSchemes").BeginArray().BeginObject();
  writer.Field("type", "oauthbearertoken");
  writer.Field("name", "OAuth Bearer Token");
  writer.Field("description", "Authentication with a bearer token (Authorization: Bearer)");
  writer.Key("primary").Bool(true);
  writer.EndObject().EndArray();
  writer.Key("meta").BeginObject();
  writer.Field("resourceType", "ServiceProviderConfig");
  writer.Field("location", absl::StrCat(scim_base_url_, "/ServiceProviderConfig"));
  writer.EndObject();
  writer.EndObject();
  Reply(res, 200, writer.Release());
}

// ---- EmulatorServer ----

EmulatorServer::EmulatorServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmulatorServer::~EmulatorServer() { Stop(); }

absl::StatusOr<std::unique_ptr<EmulatorServer>> EmulatorServer::Start(EmulatorOptions options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", options.port, " is out of range"));
  }
  if (!(options.rate >= 0) || !std::isfinite(options.rate)) {
    return absl::InvalidArgumentError("rate must be >= 0");
  }
  if (!(options.burst >= 0) || !std::isfinite(options.burst)) {
    return absl::InvalidArgumentError("burst must be >= 0");
  }
  if (!(options.fail_rate >= 0 && options.fail_rate <= 1)) {
    return absl::InvalidArgumentError("fail rate must be within [0, 1]");
  }
  if (options.latency_ms < 0) return absl::InvalidArgumentError("latency must be >= 0");
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be >= 1");
  for (const auto& [product, seats] : options.seats) {
    if (product.empty() || seats < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad seats for product '", product, "'"));
    }
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  USERSYNC_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<EmulatorServer>(new EmulatorServer(std::move(impl)));
}

int EmulatorServer::port() const { return impl_->port(); }
std::string EmulatorServer::base_url() const { return impl_->base_url(); }
std::string EmulatorServer::scim_base_url() const { return impl_->scim_base_url(); }
std::string EmulatorServer::goto_base_url() const { return impl_->goto_base_url(); }
std::vector<OutboxEntry> EmulatorServer::outbox() const { return impl_->outbox(); }
void EmulatorServer::Stop() { impl_->Stop(); }
EmulatorStats EmulatorServer::stats() const { return impl_->stats(); }
EmulatorStore& EmulatorServer::store() { return impl_->store(); }
const EmulatorOptions& EmulatorServer::options() const { return impl_->options(); }

}  // namespace usersync::io::emulator
