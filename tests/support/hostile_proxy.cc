#include "tests/support/hostile_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "tests/support/hostile_wire.h"

namespace usersync::testing {
namespace {

using hostile::HttpAnswer;
using hostile::HttpRequest;

constexpr char kScimJson[] = "application/scim+json";
constexpr int64_t kHugeLength = int64_t{2} << 30;  // 2 GiB announced
constexpr char kLieTotal[] = "1000000000000";

// 512 bytes that are not JSON, the same every time.
std::string GarbageBytes() {
  std::mt19937 rng(12);
  std::string bytes(512, '\0');
  for (char& byte : bytes) byte = static_cast<char>(rng() & 0xff);
  bytes[0] = '\x9c';  // never a JSON start
  return bytes;
}

std::string ScimError(std::string_view status, std::string_view detail) {
  std::string escaped;
  for (char c : detail) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return absl::StrCat(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":")",
                      Sv(status), R"(","detail":")", escaped, R"("})");
}

HttpAnswer JsonAnswer(int status, std::string body) {
  HttpAnswer answer;
  answer.status = status;
  switch (status) {
    case 200:
      answer.reason = "OK";
      break;
    case 400:
      answer.reason = "Bad Request";
      break;
    case 429:
      answer.reason = "Too Many Requests";
      break;
    default:
      answer.reason = "Bad Gateway";
      break;
  }
  answer.headers.emplace_back("Content-Type", kScimJson);
  answer.body = std::move(body);
  return answer;
}

// Whether "METHOD /path" (see Rule::pattern) matches the request.
bool Matches(const HostileProxy::Rule& rule, const HttpRequest& request) {
  std::string_view pattern = rule.pattern;
  size_t space = pattern.find(' ');
  std::string_view method = pattern.substr(0, space);
  std::string_view path = space == std::string_view::npos ? "" : pattern.substr(space + 1);
  if (method != "*" && method != request.method) return false;
  if (!path.empty() && path.back() == '*') {
    path.remove_suffix(1);
    if (!request.path().starts_with(path)) return false;
  } else if (request.path() != path) {
    return false;
  }
  return rule.query_contains.empty() ||
         request.query().find(rule.query_contains) != std::string_view::npos;
}

bool PathMatches(std::string_view pattern, std::string_view path) {
  if (!pattern.empty() && pattern.back() == '*') {
    return path.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return path == pattern;
}

// Waits until the client closes `fd` or `stopping` is set.
void WaitForGoodbye(int fd, const std::atomic<bool>& stopping) {
  char sink[4096];
  while (!stopping.load()) {
    pollfd poll_fd{fd, POLLIN, 0};
    int ready = ::poll(&poll_fd, 1, 100);
    if (ready < 0 && errno != EINTR) return;
    if (ready > 0) {
      ssize_t n = ::recv(fd, sink, sizeof(sink), 0);
      if (n == 0 || (n < 0 && errno != EINTR)) return;
    }
  }
}

// Streams spaces to `fd` until the send fails (the client went away), `stopping` is set or
// `limit` bytes went out.
void StreamSpaces(int fd, const std::atomic<bool>& stopping, int64_t limit) {
  const std::string spaces(64 << 10, ' ');
  int64_t sent = 0;
  while (!stopping.load() && sent < limit) {
    if (!hostile::SendAll(fd, spaces)) return;
    sent += static_cast<int64_t>(spaces.size());
  }
}

}  // namespace

std::string_view FaultName(Fault fault) {
  switch (fault) {
    case Fault::kNone:
      return "kNone";
    case Fault::kGarbageBody:
      return "kGarbageBody";
    case Fault::kTruncatedJson:
      return "kTruncatedJson";
    case Fault::kErrorIn200:
      return "kErrorIn200";
    case Fault::kServerError:
      return "kServerError";
    case Fault::kEndlessBody:
      return "kEndlessBody";
    case Fault::kHugeBody:
      return "kHugeBody";
    case Fault::kPagingLie:
      return "kPagingLie";
    case Fault::kRepeatedPage:
      return "kRepeatedPage";
    case Fault::kDuplicateIds:
      return "kDuplicateIds";
    case Fault::kResetAfterStore:
      return "kResetAfterStore";
    case Fault::kEchoAuthorization:
      return "kEchoAuthorization";
    case Fault::kHang:
      return "kHang";
    case Fault::kRetryAfterHuge:
      return "kRetryAfterHuge";
    case Fault::kRetryAfterZero:
      return "kRetryAfterZero";
  }
  return "?";
}

// One client connection: reads requests until the client closes it or a fault ends it.
class HostileProxy::Connection {
 public:
  Connection(HostileProxy& proxy, int fd, int64_t number)
      : proxy_(proxy), fd_(fd), number_(number) {}

  void Serve() {
    std::string buffered;
    for (int64_t served = 0; !proxy_.stopping_.load(); ++served) {
      HttpRequest request;
      absl::StatusOr<bool> read = hostile::ReadRequest(fd_, buffered, request);
      if (!read.ok() && read.status().code() == absl::StatusCode::kInvalidArgument) {
        // A request this proxy cannot read: said to the client and recorded, never dropped.
        const std::string why(StdSv(read.status().message()));
        proxy_.Record(Seen{"?", why, "", -1, false, false, number_, served});
        hostile::WriteAnswer(fd_, JsonAnswer(400, ScimError("400", why)), /*keep_alive=*/false);
      }
      if (!read.ok() || !*read) break;
      if (!Handle(request, served)) break;
    }
    Close(/*reset=*/false);
  }

 private:
  // Answers one request; false when the connection must end.
  bool Handle(HttpRequest& request, int64_t served) {
    auto [rule, fault] = proxy_.Decide(request.method, request.target, served > 0);
    Seen seen{request.method,
              request.target,
              request.body.substr(0, 4096),
              rule,
              fault != Fault::kNone,
              false,
              number_,
              served};
    switch (fault) {
      case Fault::kErrorIn200:
        return Done(seen, JsonAnswer(200, ScimError("500", "boom")));
      case Fault::kServerError:
        return Done(seen, JsonAnswer(500, ScimError("500", "boom")));
      case Fault::kEchoAuthorization: {
        std::string auth = hostile::HeaderValue(request.headers, "authorization").value_or("");
        return Done(seen, JsonAnswer(400, ScimError("400", absl::StrCat("invalid request; you sent "
                                                                        "Authorization: ",
                                                                        auth))));
      }
      case Fault::kRetryAfterHuge:
      case Fault::kRetryAfterZero: {
        HttpAnswer answer = JsonAnswer(429, ScimError("429", "slow down"));
        answer.headers.emplace_back("Retry-After",
                                    fault == Fault::kRetryAfterHuge ? "999999" : "0");
        return Done(seen, std::move(answer));
      }
      case Fault::kHang:
        proxy_.Record(seen);
        WaitForGoodbye(fd_, proxy_.stopping_);
        return false;
      case Fault::kEndlessBody:
      case Fault::kHugeBody:
        proxy_.Record(seen);
        Stream(fault);
        return false;
      default:
        return ForwardThen(request, fault, seen);
    }
  }

  // Faults that need the target's answer (or none).
  bool ForwardThen(HttpRequest& request, Fault fault, Seen& seen) {
    if (fault == Fault::kPagingLie) {
      request.target = hostile::WithQueryParam(request.target, "count", "1");
    }
    if (fault == Fault::kRepeatedPage) {
      request.target = hostile::WithQueryParam(request.target, "startIndex", "1");
      // Pages shorter than the listing, so that the client asks for the next ones.
      request.target = hostile::WithQueryParam(request.target, "count", "2");
    }
    absl::StatusOr<HttpAnswer> answer = hostile::Exchange(proxy_.upstream_port_, request);
    seen.forwarded = true;
    if (!answer.ok()) {
      return Done(seen, JsonAnswer(502, ScimError("502", StdSv(answer.status().message()))));
    }
    switch (fault) {
      case Fault::kResetAfterStore:
        proxy_.Record(seen);
        Close(/*reset=*/true);
        return false;
      case Fault::kGarbageBody:
        answer->status = 200;
        answer->reason = "OK";
        answer->headers = {{"Content-Type", kScimJson}};
        answer->body = GarbageBytes();
        break;
      case Fault::kTruncatedJson:
        answer->body.resize(answer->body.size() / 2);
        break;
      case Fault::kPagingLie:
        answer->body = hostile::WithTotalResults(answer->body, kLieTotal);
        break;
      case Fault::kDuplicateIds:
        answer->body = hostile::WithFirstResourceRepeated(answer->body);
        break;
      default:
        break;
    }
    return Done(seen, *std::move(answer));
  }

  bool Done(const Seen& seen, const HttpAnswer& answer) {
    proxy_.Record(seen);
    return hostile::WriteAnswer(fd_, answer, /*keep_alive=*/true);
  }

  void Stream(Fault fault) {
    std::string head = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: ", kScimJson, "\r\n");
    if (fault == Fault::kHugeBody) {
      absl::StrAppend(&head, "Content-Length: ", kHugeLength, "\r\n\r\n");
    } else {
      absl::StrAppend(&head, "Connection: close\r\n\r\n");
    }
    if (!hostile::SendAll(fd_, head)) return;
    StreamSpaces(fd_, proxy_.stopping_, fault == Fault::kHugeBody ? kHugeLength : INT64_MAX);
  }

  void Close(bool reset) {
    if (fd_ < 0) return;
    proxy_.Untrack(fd_);
    if (reset) {
      linger hard{1, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    }
    ::close(fd_);
    fd_ = -1;
  }

  HostileProxy& proxy_;
  int fd_;
  const int64_t number_;
};

absl::StatusOr<std::unique_ptr<HostileProxy>> HostileProxy::Start(int upstream_port,
                                                                  std::vector<Rule> rules) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("cannot listen on 127.0.0.1: ", std::strerror(errno)));
  }
  return std::unique_ptr<HostileProxy>(
      new HostileProxy(fd, ntohs(address.sin_port), upstream_port, std::move(rules)));
}

HostileProxy::HostileProxy(int listen_fd, int port, int upstream_port, std::vector<Rule> rules)
    : listen_fd_(listen_fd), port_(port), upstream_port_(upstream_port) {
  SetRules(std::move(rules));
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

HostileProxy::~HostileProxy() {
  stopping_.store(true);
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  accept_thread_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes recv() and send()
    workers.swap(workers_);
  }
  for (std::thread& worker : workers) worker.join();
}

void HostileProxy::AcceptLoop() {
  while (!stopping_.load()) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // the listener was shut down
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load()) {
      ::close(fd);
      return;
    }
    open_fds_.insert(fd);
    const int64_t number = ++connections_;
    workers_.emplace_back([this, fd, number] { Connection(*this, fd, number).Serve(); });
  }
}

std::string HostileProxy::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }

std::string HostileProxy::scim_url() const { return absl::StrCat(base_url(), "/scim/v2"); }

void HostileProxy::SetRules(std::vector<Rule> rules) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
  for (Rule& rule : rules) rules_.push_back(RuleState{std::move(rule)});
}

std::pair<int, Fault> HostileProxy::Decide(std::string_view method, std::string_view target,
                                           bool reused) {
  HttpRequest request;
  request.method = std::string(method);
  request.target = std::string(target);
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t index = 0; index < rules_.size(); ++index) {
    RuleState& state = rules_[index];
    if (!Matches(state.rule, request)) continue;
    ++state.matched;
    const bool in_window = state.matched >= state.rule.first_match &&
                           (state.rule.times < 0 || state.applied < state.rule.times);
    const bool eligible = state.rule.fault != Fault::kResetAfterStore || reused;
    if (!in_window || !eligible || state.rule.fault == Fault::kNone) {
      return {static_cast<int>(index), Fault::kNone};
    }
    ++state.applied;
    return {static_cast<int>(index), state.rule.fault};
  }
  return {-1, Fault::kNone};
}

void HostileProxy::Record(Seen seen) {
  std::lock_guard<std::mutex> lock(mu_);
  seen_.push_back(std::move(seen));
}

void HostileProxy::Untrack(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.erase(fd);
}

int64_t HostileProxy::matched(size_t rule) const {
  std::lock_guard<std::mutex> lock(mu_);
  return rule < rules_.size() ? rules_[rule].matched : 0;
}

int64_t HostileProxy::applied(size_t rule) const {
  std::lock_guard<std::mutex> lock(mu_);
  return rule < rules_.size() ? rules_[rule].applied : 0;
}

std::vector<HostileProxy::Seen> HostileProxy::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

int64_t HostileProxy::Count(std::string_view method, std::string_view path, bool forwarded_only,
                            std::string_view body_contains) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t count = 0;
  for (const Seen& seen : seen_) {
    std::string_view seen_path = std::string_view(seen.target).substr(0, seen.target.find('?'));
    if (!method.empty() && seen.method != method) continue;
    if (!PathMatches(path, seen_path)) continue;
    if (forwarded_only && !seen.forwarded) continue;
    if (!body_contains.empty() && seen.body.find(body_contains) == std::string::npos) continue;
    ++count;
  }
  return count;
}

std::string HostileProxy::Describe() const {
  std::string out;
  for (const Seen& seen : requests()) {
    absl::StrAppend(&out, "#", seen.connection, ".", seen.on_connection, " ", seen.method, " ",
                    seen.target, " rule ", seen.rule, seen.applied ? " applied" : "",
                    seen.forwarded ? " forwarded" : "", "\n");
  }
  return out;
}

}  // namespace usersync::testing
