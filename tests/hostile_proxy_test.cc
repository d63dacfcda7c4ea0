// The HostileProxy itself (tests/support/hostile_proxy.h): each fault shapes the answer as
// documented, so that a usersync test passing against it means usersync met the fault.
#include "tests/support/hostile_proxy.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace usersync::testing
