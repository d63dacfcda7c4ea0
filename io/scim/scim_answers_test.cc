// The SCIM driver against answers that contradict their status: a 2xx carrying a SCIM Error,
// a listing that is not a ListResponse; and what a /Bulk create records for the audit.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/http/testing/fake_target_server.h"
#include "io/scim/scim_codec.h"
#include "io/scim/scim_target.h"

namespace usersync::io {
namespace {

using http_testing::AccountOp;
using http_testing::CreateOp;
using http_testing::ExecuteAll;
using http_testing::ExecuteOne;
using http_testing::FakeTargetServer;
using http_testing::FastPipeline;
using http_testing::TestSpec;
using ::testing::HasSubstr;

constexpr char kScimPath[] = "/scim/v2";
constexpr char kScimError[] =
    R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500",)"
    R"("detail":"database on fire"})";

std::unique_ptr<ScimTarget> StartTarget(const std::string& base_url, int batch = 1) {
  ScimTargetOptions options;
  options.base_url = base_url;
  options.pipeline = FastPipeline();
  options.batch = batch;
  auto target = ScimTarget::Start(std::move(options));
  EXPECT_TRUE(target.ok()) << target.status();
  return std::move(target).value();
}

void ServePatchConfig(FakeTargetServer& fake, bool bulk) {
  fake.server().Get(
      "/scim/v2/ServiceProviderConfig", [bulk](const httplib::Request&, httplib::Response& res) {
        res.set_content(absl::StrCat(R"({"patch":{"supported":true},"bulk":)", R"({"supported":)",
                                     bulk ? "true" : "false", R"(,"maxOperations":10}})"),
                        "application/scim+json");
      });
}

TEST(ScimErrorIn, ReadsTheErrorAndIgnoresTheRest) {
  EXPECT_EQ(ScimErrorIn(kScimError), "status 500, database on fire");
  EXPECT_EQ(ScimErrorIn(R"({"totalResults":0,"Resources":[]})"), std::nullopt);
  // The URN as a value elsewhere (a user's title) is not an Error.
  EXPECT_EQ(ScimErrorIn(R"({"id":"1","title":"urn:ietf:params:scim:api:messages:2.0:Error"})"),
            std::nullopt);
}

// A listing answered 200 with a SCIM Error is kDataLoss naming the URL, not zero accounts.
TEST(ScimAnswers, ListingThatIsAScimErrorIsDataLoss) {
  FakeTargetServer fake;
  fake.server().Get("/scim/v2/Users", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kScimError, "application/scim+json");
  });
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath));
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss) << accounts.status();
  const std::string message(accounts.status().message());
  EXPECT_THAT(message, HasSubstr(fake.base("/scim/v2/Users")));
  EXPECT_THAT(message, HasSubstr("database on fire"));
}

// A 200 whose body is no ListResponse at all ({}) is not an empty target.
TEST(ScimAnswers, ListingThatIsNoListResponseIsDataLoss) {
  FakeTargetServer fake;
  fake.server().Get("/scim/v2/Users", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"hello":"world"})", "application/scim+json");
  });
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath));
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss) << accounts.status();
  EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("not a ListResponse"));
}

// A PATCH answered 200 with a SCIM Error failed: the operation is not done.
TEST(ScimAnswers, PatchAnsweredWithAScimErrorFails) {
  FakeTargetServer fake;
  ServePatchConfig(fake, /*bulk=*/false);
  fake.server().Patch("/scim/v2/Users/acc-1", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kScimError, "application/scim+json");
  });
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath));
  core::Operation op = AccountOp(core::OpKind::kDeactivate, "acc-1");
  op.spec = TestSpec(1);
  const OpOutcome outcome = ExecuteOne(*target, op);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kDataLoss) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("database on fire"));
}

// A POST /Users answered 201 with a SCIM Error failed, with the server's reason.
TEST(ScimAnswers, CreateAnsweredWithAScimErrorFails) {
  FakeTargetServer fake;
  ServePatchConfig(fake, /*bulk=*/false);
  fake.server().Post("/scim/v2/Users", [](const httplib::Request&, httplib::Response& res) {
    res.status = 201;
    res.set_content(kScimError, "application/scim+json");
  });
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath));
  const OpOutcome outcome = ExecuteOne(*target, CreateOp(TestSpec(1)));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kDataLoss) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("database on fire"));
  EXPECT_TRUE(outcome.account_id.empty());
}

// Issue 12: /Bulk creates were audited as "http_status 204, attempts 2". Each member records
// its own status from the BulkResponse (201) and the requests really sent for it: the /Bulk
// (1), plus the group membership PATCH (2) for the member with a user group, whose 204 does
// not replace the create's status.
TEST(ScimAnswers, BulkCreateRecordsItsOwnStatusAndSends) {
  FakeTargetServer fake;
  ServePatchConfig(fake, /*bulk=*/true);
  fake.server().Post("/scim/v2/Bulk", [](const httplib::Request& req, httplib::Response& res) {
    const std::vector<std::string> names = http_testing::StringsIn(req.body, "userName");
    std::string ops;
    for (size_t idx = 0; idx < names.size(); ++idx) {
      absl::StrAppend(&ops, idx == 0 ? "" : ",", R"({"method":"POST","bulkId":")", idx,
                      R"(","status":"201","location":"http://x/scim/v2/Users/id-)", idx, R"("})");
    }
    res.set_content(absl::StrCat(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:)",
                                 R"(BulkResponse"],"Operations":[)", ops, "]}"),
                    "application/scim+json");
  });
  fake.server().Get("/scim/v2/Groups", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"totalResults":1,"Resources":[{"id":"g-1","displayName":"Sales"}]})",
                    "application/scim+json");
  });
  fake.server().Patch("/scim/v2/Groups/g-1",
                      [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath), /*batch=*/10);
  core::AccountSpec grouped = TestSpec(2);
  grouped.user_group = "Sales";
  const std::vector<OpOutcome> outcomes =
      ExecuteAll(*target, {CreateOp(TestSpec(1)), CreateOp(grouped)}, [&] { target->Flush(); });
  ASSERT_EQ(outcomes.size(), 2u);
  for (const OpOutcome& outcome : outcomes) {
    EXPECT_TRUE(outcome.status.ok()) << outcome.status;
    EXPECT_EQ(outcome.http_status, 201);
  }
  EXPECT_EQ(outcomes[0].attempts, 1);
  EXPECT_EQ(outcomes[1].attempts, 2);
  EXPECT_EQ(target->stats().batched_creates, 2);  // both went through /Bulk
}

}  // namespace
}  // namespace usersync::io
