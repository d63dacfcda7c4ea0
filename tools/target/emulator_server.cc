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
#include "io/json_writer.h"
#include "tools/target/emulator_json.h"
#include "tools/target/emulator_scim.h"
#include "tools/target/emulator_server_impl.h"

namespace usersync::io::emulator {
namespace {

constexpr std::string_view kStatsPath = "/_emulator/stats";
constexpr std::string_view kOutboxPath = "/_emulator/outbox";
constexpr std::string_view kOAuthCodePath = "/_emulator/oauth/code";
constexpr std::string_view kOAuthTokenPath = "/oauth/token";
constexpr size_t kMaxBodyBytes = 16 << 20;

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

// Asks for a bearer token (401 with WWW-Authenticate), in `reply`'s error shape.
template <typename ReplyFn>
void ChallengeBearer(httplib::Response& res, ReplyFn&& reply) {
  res.set_header("WWW-Authenticate", "Bearer realm=\"usersync-target\"");
  reply(absl::UnauthenticatedError("missing or wrong bearer token"));
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

void Reply(httplib::Response& res, int status, std::string body, const char* content_type) {
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

absl::Status EmulatorServer::Impl::Init() {
  USERSYNC_ASSIGN_OR_RETURN(store_, EmulatorStore::Open(options_.db_path));
  LicenseCatalog catalog =
      options_.licenses.empty() ? LicenseCatalog() : LicenseCatalog(options_.licenses);
  catalog.ApplySeats(options_.seats);
  store_->SetSeatLimits(catalog.SeatLimits());
  store_->SetAllowDuplicateUserNames(options_.allow_duplicate_user_names);
  goto_ = std::make_unique<GotoFace>(store_.get(), options_.account_key, std::move(catalog),
                                     options_.goto_member_status, options_.role_sets);
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
  stats.user_reads = goto_stats.user_reads;
  stats.user_filters = goto_stats.user_filters;
  stats.bulk_requests = bulk_requests_.load();
  stats.bulk_operations = bulk_operations_.load();
  const AdmissionLog::Figures measured = rate_limit_.measured();
  stats.admitted = measured.admitted;
  stats.admitted_max_in_window = measured.max_in_window;
  stats.measured_span_s = measured.span_seconds;
  stats.measured_rate = measured.rate;
  const OAuthAuthority::Stats oauth = oauth_.stats();
  stats.oauth_access_tokens_issued = oauth.access_tokens_issued;
  stats.oauth_refresh_tokens_issued = oauth.refresh_tokens_issued;
  stats.oauth_grants_refused = oauth.grants_refused;
  stats.oauth_last_refresh_token = oauth.last_refresh_token;
  return stats;
}

bool EmulatorServer::Impl::Authorized(const httplib::Request& req) const {
  if (options_.token.empty() && !oauth_.enabled()) return true;
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
  if (!options_.token.empty() && ConstantTimeEquals(value, options_.token)) return true;
  return oauth_.enabled() && oauth_.AcceptsAccessToken(value);
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
  if (path == kOAuthCodePath) {
    HandleOAuthCode(req, res);
    return;
  }
  if (path == kOAuthTokenPath && oauth_.enabled()) {
    oauth_.HandleToken(req, res);
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

bool EmulatorServer::Impl::AdmitAdminGet(const httplib::Request& req, httplib::Response& res) {
  if (!Authorized(req)) {
    ChallengeBearer(res, [&](const absl::Status& status) { ReplyError(res, status); });
    return false;
  }
  if (req.method != "GET") {
    ReplyMethodNotAllowed(res, req);
    return false;
  }
  return true;
}

void EmulatorServer::Impl::HandleStats(const httplib::Request& req, httplib::Response& res) {
  if (!AdmitAdminGet(req, res)) return;
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
  writer.Key("user_reads").Int(s.user_reads);
  writer.Key("user_filters").Int(s.user_filters);
  writer.Key("bulk_requests").Int(s.bulk_requests);
  writer.Key("bulk_operations").Int(s.bulk_operations);
  writer.Key("admitted").Int(s.admitted);
  writer.Key("admitted_max_in_window").Int(s.admitted_max_in_window);
  writer.Key("measured_span_s").Double(s.measured_span_s);
  writer.Key("measured_rate").Double(s.measured_rate);
  writer.Key("oauth_access_tokens_issued").Int(s.oauth_access_tokens_issued);
  writer.Key("oauth_refresh_tokens_issued").Int(s.oauth_refresh_tokens_issued);
  writer.Key("oauth_grants_refused").Int(s.oauth_grants_refused);
  writer.Key("oauth_last_refresh_token").String(s.oauth_last_refresh_token);
  writer.EndObject();
  Reply(res, 200, writer.Release(), "application/json");
}

void EmulatorServer::Impl::HandleOAuthCode(const httplib::Request& req, httplib::Response& res) {
  if (!AdmitAdminGet(req, res)) return;
  if (!oauth_.enabled()) {
    return ReplyError(res, absl::NotFoundError("no OAuth client (--oauth-client)"));
  }
  JsonWriter writer;
  writer.BeginObject();
  writer.Key("code").String(oauth_.IssueCode());
  writer.EndObject();
  Reply(res, 200, writer.Release(), "application/json");
}

void EmulatorServer::Impl::HandleOutbox(const httplib::Request& req, httplib::Response& res) {
  if (!AdmitAdminGet(req, res)) return;
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
  if (!rate_limit_.TryTake(&wait_seconds)) {
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
    ChallengeBearer(res, [&](const absl::Status& status) { reply(status, "UNAUTHORIZED"); });
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
  if (options.oauth.access_token_ttl.count() < 1) {
    return absl::InvalidArgumentError("access token TTL must be at least 1 second");
  }
  for (const auto& [product, seats] : options.seats) {
    if (product.empty() || seats < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad seats for product '", product, "'"));
    }
  }
  for (size_t license_idx = 0; license_idx < options.licenses.size(); ++license_idx) {
    for (size_t other_idx = 0; other_idx < license_idx; ++other_idx) {
      if (options.licenses[other_idx].key == options.licenses[license_idx].key) {
        return absl::InvalidArgumentError(
            absl::StrCat("license key ", options.licenses[license_idx].key, " given twice"));
      }
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
