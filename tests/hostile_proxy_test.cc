// The HostileProxy itself (tests/support/hostile_proxy.h): each fault shapes the answer as
// documented, so that a usersync test passing against it means usersync met the fault.
#include "tests/support/hostile_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/emulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/sync_world.h"

namespace usersync::testing {
namespace {

// How often `part` occurs in `text`.
int Occurrences(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) {
    ++count;
  }
  return count;
}

class HostileProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start();
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = *std::move(emulator);
    absl::StatusOr<std::unique_ptr<HostileProxy>> proxy =
        HostileProxy::Start(emulator_->port(), {});
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    for (int index = 1; index <= 3; ++index) {
      HttpResult created =
          HttpPost(proxy_->scim_url() + "/Users", token(),
                   absl::StrCat(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)",
                                R"("userName":"u)", index, R"(@example.com","active":true})"));
      ASSERT_EQ(created.status, 201) << created.body << created.error;
    }
  }

  const std::string& token() const { return emulator_->token(); }

  // GET /Users?startIndex=START&count=10 through the proxy with `fault` on the listing.
  HttpResult ListWith(Fault fault, int start = 1) {
    HostileProxy::Rule rule;
    rule.pattern = "GET /scim/v2/Users";
    rule.fault = fault;
    proxy_->SetRules({rule});
    return HttpGet(absl::StrCat(proxy_->scim_url(), "/Users?startIndex=", start, "&count=10"),
                   token());
  }

  std::unique_ptr<EmulatorProcess> emulator_;
  std::unique_ptr<HostileProxy> proxy_;
};

TEST_F(HostileProxyTest, PassesAnswersThroughAndRecordsRequests) {
  HttpResult list = ListWith(Fault::kNone);
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(Occurrences(list.body, "\"userName\""), 3) << list.body;
  EXPECT_EQ(proxy_->Count("POST", "/scim/v2/Users", /*forwarded_only=*/true), 3);
  EXPECT_EQ(proxy_->Count("POST", "/scim/v2/Users", true, "\"u2@example.com\""), 1);
  EXPECT_EQ(proxy_->Count("GET", "/scim/v2/*"), 1);
  EXPECT_EQ(proxy_->matched(0), 1);
  EXPECT_EQ(proxy_->applied(0), 0);
}

TEST_F(HostileProxyTest, ListingFaultsRewriteTheListResponse) {
  HttpResult whole = ListWith(Fault::kNone);
  HttpResult lie = ListWith(Fault::kPagingLie);
  EXPECT_TRUE(Contains(lie.body, "\"totalResults\":1000000000000"));
  EXPECT_EQ(Occurrences(lie.body, "\"userName\""), 1) << lie.body;

  HttpResult repeated = ListWith(Fault::kRepeatedPage, /*start=*/3);
  EXPECT_TRUE(Contains(repeated.body, "u1@example.com"));
  EXPECT_TRUE(Lacks(repeated.body, "u3@example.com"));

  HttpResult duplicated = ListWith(Fault::kDuplicateIds);
  EXPECT_EQ(Occurrences(duplicated.body, "u1@example.com"),
            2 * Occurrences(whole.body, "u1@example.com"))
      << duplicated.body;
  EXPECT_EQ(Occurrences(duplicated.body, "\"userName\""), 4);
  EXPECT_EQ(proxy_->applied(0), 1);
}

TEST_F(HostileProxyTest, BrokenAnswers) {
  HttpResult whole = ListWith(Fault::kNone);
  HttpResult cut = ListWith(Fault::kTruncatedJson);
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(cut.body.size(), whole.body.size() / 2);
  EXPECT_EQ(cut.body, whole.body.substr(0, whole.body.size() / 2));

  HttpResult garbage = ListWith(Fault::kGarbageBody);
  EXPECT_EQ(garbage.status, 200);
  EXPECT_EQ(garbage.headers["content-type"], "application/scim+json");
  EXPECT_EQ(garbage.body.size(), 512u);

  HttpResult error = ListWith(Fault::kErrorIn200);
  EXPECT_EQ(error.status, 200);
  EXPECT_TRUE(Contains(error.body, "urn:ietf:params:scim:api:messages:2.0:Error"));

  HttpResult echo = ListWith(Fault::kEchoAuthorization);
  EXPECT_EQ(echo.status, 400);
  EXPECT_TRUE(Contains(echo.body, "Bearer " + token()));

  HttpResult slow = ListWith(Fault::kRetryAfterHuge);
  EXPECT_EQ(slow.status, 429);
  EXPECT_EQ(slow.headers["retry-after"], "999999");
  EXPECT_EQ(ListWith(Fault::kRetryAfterZero).headers["retry-after"], "0");
}

// A reset only ends a connection that served a request before: this client opens a new
// connection for every request, so the create passes and is not counted as applied.
TEST_F(HostileProxyTest, ResetAfterStoreNeedsAReusedConnection) {
  HostileProxy::Rule rule;
  rule.pattern = "POST /scim/v2/Users";
  rule.fault = Fault::kResetAfterStore;
  proxy_->SetRules({rule});
  HttpResult created = HttpPost(proxy_->scim_url() + "/Users", token(),
                                R"({"userName":"fresh@example.com","active":true})");
  EXPECT_EQ(created.status, 201) << created.error;
  EXPECT_EQ(proxy_->matched(0), 1);
  EXPECT_EQ(proxy_->applied(0), 0);
}

// On a kept-alive connection, the second request (a create) reaches the target, and the
// connection is reset without an answer.
TEST_F(HostileProxyTest, ResetAfterStoreOnAReusedConnection) {
  HostileProxy::Rule rule;
  rule.pattern = "POST /scim/v2/Users";
  rule.fault = Fault::kResetAfterStore;
  proxy_->SetRules({rule});
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(proxy_->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string body = R"({"userName":"kept@example.com","active":true})";
  const std::string auth = absl::StrCat("Authorization: Bearer ", token(), "\r\n");
  const std::string get =
      absl::StrCat("GET /scim/v2/Users?startIndex=1&count=1 HTTP/1.1\r\nHost: x\r\n", auth, "\r\n");
  const std::string post = absl::StrCat(
      "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n", auth,
      "Content-Type: application/scim+json\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
  // The GET's whole answer first (the proxy always sends Content-Length), then the POST.
  ASSERT_EQ(::send(fd, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
  std::string received;
  char chunk[4096];
  ssize_t n = 0;
  auto complete = [&received] {
    const size_t head_end = received.find("\r\n\r\n");
    const size_t length_at = received.find("Content-Length: ");
    if (head_end == std::string::npos || length_at == std::string::npos) return false;
    return received.size() >= head_end + 4 + std::stoul(received.substr(length_at + 16));
  };
  while (!complete() && (n = ::recv(fd, chunk, sizeof(chunk), 0)) > 0) {
    received.append(chunk, static_cast<size_t>(n));
  }
  EXPECT_TRUE(Contains(received, "HTTP/1.1 200"));
  ASSERT_EQ(::send(fd, post.data(), post.size(), MSG_NOSIGNAL), static_cast<ssize_t>(post.size()));
  std::string after;
  while ((n = ::recv(fd, chunk, sizeof(chunk), 0)) > 0) after.append(chunk, n);
  const int recv_errno = errno;
  ::close(fd);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(recv_errno, ECONNRESET);
  EXPECT_EQ(after, "");  // no answer to the POST
  EXPECT_EQ(proxy_->applied(0), 1);
  HttpResult stored = HttpGet(
      emulator_->scim_url() + "/Users?filter=" + UrlEncode(R"(userName eq "kept@example.com")"),
      token());
  EXPECT_TRUE(Contains(stored.body, "\"totalResults\":1"));
}

}  // namespace
}  // namespace usersync::testing
