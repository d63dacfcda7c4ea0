// No hidden resend: libcurl sends a request again by itself when a reused keep-alive
// connection dies before any answer byte. For a POST the server already stored, that second
// copy is a duplicate; the pipeline must refuse it and report the outcome as unknown.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/str.h"
#include "gtest/gtest.h"
#include "io/http/http_pipeline.h"
#include "io/http/testing/pipeline_test_util.h"

namespace usersync::io {
namespace {

using http_testing::FastOptions;
using http_testing::Get;
using http_testing::StartPipeline;

// Reads one HTTP/1.1 request (headers, then Content-Length bytes of body) from `fd`. Returns
// false when the peer closed first.
bool ReadRequest(int fd, std::string* request) {
  std::string data;
  char buffer[4096];
  size_t header_end = std::string::npos;
  size_t length = 0;
  while (true) {
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const size_t at = data.find("Content-Length: ");
        if (at != std::string::npos && at < header_end) {
          const size_t eol = data.find("\r\n", at);
          EXPECT_TRUE(absl::SimpleAtoi(data.substr(at + 16, eol - at - 16), &length));
        }
      }
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + length) {
      *request = data;
      return true;
    }
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    data.append(buffer, static_cast<size_t>(n));
  }
}

void Send(int fd, std::string_view text) {
  EXPECT_EQ(send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

// A raw loopback server: on its first connection it answers the first request (keep-alive),
// then reads the next request in full, counts it if it is a POST ("stores" it) and resets the
// connection (SO_LINGER 0) without answering. Any later connection's request is counted too
// and answered 201, so a resend would succeed, visibly.
class ResetAfterStoreServer {
 public:
  ResetAfterStoreServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ResetAfterStoreServer() {
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    close(listen_fd_);
  }

  std::string Url(std::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, Sv(path));
  }
  int posts() const { return posts_.load(); }
  std::string first_post() {
    absl::MutexLock lock(&mu_);
    return first_post_;
  }

 private:
  void Store(const std::string& request) {
    if (++posts_ == 1) {
      absl::MutexLock lock(&mu_);
      first_post_ = request;
    }
  }

  void Serve() {
    for (int connection_idx = 0;; ++connection_idx) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::string request;
      if (connection_idx == 0) {
        if (ReadRequest(fd, &request)) Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        if (ReadRequest(fd, &request) && request.rfind("POST ", 0) == 0) Store(request);
        linger reset{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
      } else {
        while (ReadRequest(fd, &request)) {
          if (request.rfind("POST ", 0) == 0) Store(request);
          Send(fd, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}");
        }
      }
      close(fd);
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> posts_{0};
  absl::Mutex mu_;
  std::string first_post_ ABSL_GUARDED_BY(mu_);
};

HttpRequest Post(const std::string& url, bool idempotent) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.body = R"({"userName":"a@example.com"})";
  request.idempotent = idempotent;
  return request;
}

// The POST went out once on the reused connection, the server stored it and reset: the
// pipeline reports an unknown outcome (so the driver looks the user up) and libcurl did not
// send it again on a fresh connection.
TEST(HttpPipelineResend, NoHiddenResendOfAStoredPost) {
  ResetAfterStoreServer server;
  PipelineOptions options = FastOptions();
  options.concurrency = 1;  // one connection: the POST reuses the GET's
  auto pipeline = StartPipeline(options);
  HttpResponse warm = pipeline->Call(Get(server.Url("/warm")));
  ASSERT_TRUE(warm.status.ok()) << warm.status;
  HttpResponse response = pipeline->Call(Post(server.Url("/Users"), /*idempotent=*/false));
  EXPECT_EQ(server.posts(), 1);
  // The first send is whole and prompt: Content-Length, not chunked, no 100-continue wait.
  const std::string post = server.first_post();
  EXPECT_NE(post.find("Content-Length: 28\r\n"), std::string::npos) << post;
  EXPECT_NE(post.find(R"({"userName":"a@example.com"})"), std::string::npos) << post;
  EXPECT_EQ(post.find("Transfer-Encoding"), std::string::npos) << post;
  EXPECT_EQ(post.find("Expect"), std::string::npos) << post;
  EXPECT_EQ(response.status.code(), absl::StatusCode::kUnavailable) << response.status;
  EXPECT_TRUE(response.ambiguous);
  EXPECT_NE(response.status.message().find("libcurl's own resend refused"), std::string::npos)
      << response.status;
  EXPECT_EQ(response.attempts, 1);
  const PipelineStats stats = pipeline->stats();
  EXPECT_EQ(stats.requests, 2);  // the GET and the POST, nothing hidden
  EXPECT_EQ(stats.retries, 0);
  EXPECT_EQ(stats.ambiguous, 1);
}

// An idempotent request keeps libcurl's resend, and the count shows it.
TEST(HttpPipelineResend, IdempotentResendIsCounted) {
  ResetAfterStoreServer server;
  PipelineOptions options = FastOptions();
  options.concurrency = 1;
  auto pipeline = StartPipeline(options);
  ASSERT_TRUE(pipeline->Call(Get(server.Url("/warm"))).status.ok());
  HttpResponse response = pipeline->Call(Post(server.Url("/Users"), /*idempotent=*/true));
  EXPECT_TRUE(response.status.ok()) << response.status;
  EXPECT_EQ(server.posts(), 2);
  EXPECT_EQ(response.attempts, 2);
  EXPECT_EQ(pipeline->stats().requests, 3);
  EXPECT_EQ(pipeline->stats().retries, 1);
}

}  // namespace
}  // namespace usersync::io
