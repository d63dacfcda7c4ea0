#include "io/scim/scim_target.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/http/testing/fake_target_server.h"
#include "tools/target/emulator_server.h"

namespace usersync::io {
namespace {

using http_testing::AccountOp;
using http_testing::ClosedPort;
using http_testing::CreateOp;
using http_testing::ExecuteAndDrain;
using http_testing::ExecuteOne;
using http_testing::FakeTargetServer;
using http_testing::FastPipeline;
using http_testing::kTestToken;
using http_testing::StringsIn;
using http_testing::TestSpec;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr char kScimPath[] = "/scim/v2";

std::unique_ptr<ScimTarget> StartTarget(const std::string& base_url, int page_size = 1000,
                                        PipelineOptions pipeline = FastPipeline(),
                                        int batch = 100) {
  ScimTargetOptions options;
  options.base_url = base_url;
  options.pipeline = std::move(pipeline);
  options.page_size = page_size;
  options.batch = batch;
  auto target = ScimTarget::Start(std::move(options));
  EXPECT_TRUE(target.ok()) << target.status();
  return std::move(target).value();
}

std::unique_ptr<ScimTarget> StartBulkTarget(const std::string& base_url, int batch) {
  return StartTarget(base_url, 1000, FastPipeline(), batch);
}

const core::Account* Find(const core::Accounts& accounts, std::string_view id) {
  for (const core::Account& account : accounts.items) {
    if (account.id == id) return &account;
  }
  return nullptr;
}

// An emulator answering kTestToken, with `options` otherwise; null (and a failure) if it does
// not start.
std::unique_ptr<emulator::EmulatorServer> StartEmulator(emulator::EmulatorOptions options) {
  options.token = kTestToken;
  auto server = emulator::EmulatorServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(server).value() : nullptr;
}

class ScimTargetEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions options;
    options.threads = 32;
    server_ = StartEmulator(options);
    ASSERT_NE(server_, nullptr);
  }

  std::unique_ptr<emulator::EmulatorServer> server_;
};

TEST_F(ScimTargetEmulatorTest, CheckSucceeds) {
  auto target = StartTarget(server_->scim_base_url());
  EXPECT_TRUE(target->Check().ok());
}

TEST_F(ScimTargetEmulatorTest, CheckWithWrongTokenIsUnauthenticated) {
  PipelineOptions pipeline = FastPipeline();
  pipeline.bearer_token = "wrong-token";
  auto target = StartTarget(server_->scim_base_url(), 1000, pipeline);
  const absl::Status status = target->Check();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("rejected the bearer token"));
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr("wrong-token")));
  EXPECT_EQ(target->stats().requests, 1);  // 401 is not retried
}

TEST(ScimTarget, CheckUnreachableNamesTheUrl) {
  const int port = ClosedPort();
  const std::string url = absl::StrCat("http://127.0.0.1:", port, "/scim/v2");
  PipelineOptions pipeline = FastPipeline();
  pipeline.max_retries = 1;
  auto target = StartTarget(url, 1000, pipeline);
  const absl::Status status = target->Check();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("cannot reach the SCIM target at " + url));
}

TEST(ScimTarget, RejectsBadOptions) {
  ScimTargetOptions options;
  options.base_url = "ftp://example.com";
  EXPECT_EQ(ScimTarget::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.base_url = "http://127.0.0.1:1/scim/v2";
  options.page_size = 0;
  EXPECT_EQ(ScimTarget::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// 257 users listed 10 per page (26 pages fetched at once): every user once, in creation order.
TEST_F(ScimTargetEmulatorTest, ListAccountsAssemblesPagesInOrder) {
  std::vector<emulator::EmulatorUser> users;
  for (int i = 0; i < 257; ++i) {
    emulator::EmulatorUser user;
    user.user_name = absl::StrCat("u", i, "@example.com");
    user.email = user.user_name;
    user.external_id = absl::StrCat("dir-", i);
    user.first_name = "F";
    user.last_name = "L";
    user.products = {"G2W", "G2M"};
    users.push_back(std::move(user));
  }
  ASSERT_TRUE(server_->store().CreateUsers(std::move(users)).ok());
  auto target = StartTarget(server_->scim_base_url(), /*page_size=*/10);
  absl::StatusOr<core::Accounts> accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->items.size(), 257u);
  for (int i = 0; i < 257; ++i) {
    EXPECT_EQ(accounts->items[i].user_name, absl::StrCat("u", i, "@example.com")) << i;
    EXPECT_EQ(accounts->items[i].products, "G2M,G2W");
  }
  // 26 pages, then GET /Groups: no listed user holds a group, so the membership is read from
  // the Group listing (one page: there are no groups).
  EXPECT_EQ(target->stats().requests, 27);
}

// A server whose Users carry no "groups" (RFC 7643 lets it; SCIMMY; --no-user-groups): the
// listing takes user groups from GET /Groups, and joining a group the listing showed the user
// in sends nothing; leaving it sends the PATCH remove.
TEST(ScimTargetNoUserGroups, MembershipComesFromTheGroupListing) {
  emulator::EmulatorOptions options;
  options.threads = 8;
  options.user_groups = false;
  std::unique_ptr<emulator::EmulatorServer> server = StartEmulator(options);
  ASSERT_NE(server, nullptr);
  auto target = StartTarget(server->scim_base_url(), /*page_size=*/1);
  std::vector<core::Operation> creates;
  for (int i = 1; i <= 3; ++i) {
    core::AccountSpec spec = TestSpec(i);
    spec.user_group = i == 3 ? "Ops" : "Sales";
    creates.push_back(CreateOp(spec));
  }
  ASSERT_EQ(ExecuteAndDrain(*target, creates), 3);

  // A fresh target, as the next run: three pages of users, then two pages of groups.
  target = StartTarget(server->scim_base_url(), /*page_size=*/1);
  absl::StatusOr<core::Accounts> accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->items.size(), 3u);
  std::map<std::string, std::string> group_of;
  for (const core::Account& account : accounts->items) {
    group_of[std::string(account.user_name)] = std::string(account.user_group);
  }
  EXPECT_EQ(group_of, (std::map<std::string, std::string>{{"user1@example.com", "Sales"},
                                                          {"user2@example.com", "Sales"},
                                                          {"user3@example.com", "Ops"}}));
  EXPECT_EQ(target->stats().requests, 5);

  const core::Account* user1 = nullptr;
  for (const core::Account& account : accounts->items) {
    if (account.user_name == "user1@example.com") user1 = &account;
  }
  ASSERT_NE(user1, nullptr);
  const int64_t group_updates = server->stats().group_updates;
  core::Operation join = AccountOp(core::OpKind::kUpdate, std::string(user1->id));
  join.spec = TestSpec(1);
  join.spec.user_group = "Sales";
  join.changes = {{core::Field::kUserGroup, "", "Sales"}};  // a stale plan: already a member
  OpOutcome joined = ExecuteOne(*target, join);
  ASSERT_TRUE(joined.status.ok()) << joined.status;
  EXPECT_EQ(server->stats().group_updates, group_updates);

  core::Operation leave = join;
  leave.spec.user_group = "";
  leave.changes = {{core::Field::kUserGroup, "Sales", ""}};
  ASSERT_TRUE(ExecuteOne(*target, leave).status.ok());
  EXPECT_EQ(server->stats().group_updates, group_updates + 1);
  accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  for (const core::Account& account : accounts->items) {
    if (account.user_name == "user1@example.com") {
      EXPECT_EQ(account.user_group, "");
    }
  }
}

TEST_F(ScimTargetEmulatorTest, ListAccountsOfAnEmptyTarget) {
  auto target = StartTarget(server_->scim_base_url());
  absl::StatusOr<core::Accounts> accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  EXPECT_TRUE(accounts->items.empty());
}

// The life of an account: create (with products, role and user group), update (attributes and
// user group), deactivate, reactivate, delete, delete again.
TEST_F(ScimTargetEmulatorTest, AccountLifecycle) {
  auto target = StartTarget(server_->scim_base_url());
  core::AccountSpec spec = TestSpec(1);
  spec.products = "G2M,G2W";
  spec.admin_role = "manager";
  spec.language = "en_US";
  spec.user_group = "Sales";
  const core::Operation create = CreateOp(spec);
  OpOutcome created = ExecuteOne(*target, create);
  ASSERT_TRUE(created.status.ok()) << created.status;
  ASSERT_FALSE(created.account_id.empty());
  // POST user + PATCH group membership; the group listing and creation are shared by all
  // operations and not counted against this one.
  EXPECT_EQ(created.attempts, 2);
  const std::string id = created.account_id;

  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  const core::Account* account = Find(*accounts, id);
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->user_name, "user1@example.com");
  EXPECT_EQ(account->external_id, "dir-1");
  EXPECT_EQ(account->first_name, "First1");
  EXPECT_EQ(account->products, "G2M,G2W");
  EXPECT_EQ(account->admin_role, "manager");
  EXPECT_EQ(account->language, "en_US");
  EXPECT_EQ(account->user_group, "Sales");
  EXPECT_TRUE(account->active);

  core::Operation update = AccountOp(core::OpKind::kUpdate, id);
  update.email = spec.user_name;
  update.spec = spec;
  update.spec.first_name = "Firstly";
  update.spec.products = "G2W";
  update.spec.admin_role = "";
  update.spec.user_group = "Ops";
  update.changes = {{core::Field::kFirstName, "First1", "Firstly"},
                    {core::Field::kProducts, "G2M,G2W", "G2W"},
                    {core::Field::kAdminRole, "manager", ""},
                    {core::Field::kUserGroup, "Sales", "Ops"}};
  OpOutcome updated = ExecuteOne(*target, update);
  ASSERT_TRUE(updated.status.ok()) << updated.status;
  EXPECT_EQ(updated.account_id, id);
  accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  account = Find(*accounts, id);
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->first_name, "Firstly");
  EXPECT_EQ(account->products, "G2W");
  EXPECT_EQ(account->admin_role, "");
  EXPECT_EQ(account->user_group, "Ops");  // left Sales, joined Ops

  core::Operation deactivate = AccountOp(core::OpKind::kDeactivate, id);
  ASSERT_TRUE(ExecuteOne(*target, deactivate).status.ok());
  accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  EXPECT_FALSE(Find(*accounts, id)->active);

  core::Operation reactivate = update;
  reactivate.kind = core::OpKind::kReactivate;
  reactivate.changes = {};
  ASSERT_TRUE(ExecuteOne(*target, reactivate).status.ok());
  accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  EXPECT_TRUE(Find(*accounts, id)->active);

  core::Operation remove = AccountOp(core::OpKind::kDelete, id);
  ASSERT_TRUE(ExecuteOne(*target, remove).status.ok());
  accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  EXPECT_EQ(Find(*accounts, id), nullptr);
  // Deleting what is gone is done, not an error.
  OpOutcome again = ExecuteOne(*target, remove);
  EXPECT_TRUE(again.status.ok()) << again.status;
  EXPECT_EQ(again.http_status, 404);
}

// Creating a user usersync already created (same externalId): 409, look-up, the same account.
TEST_F(ScimTargetEmulatorTest, CreateConflictWithOurOwnAccountIsOk) {
  auto target = StartTarget(server_->scim_base_url());
  const core::Operation create = CreateOp(TestSpec(2));
  OpOutcome first = ExecuteOne(*target, create);
  ASSERT_TRUE(first.status.ok()) << first.status;
  OpOutcome second = ExecuteOne(*target, create);
  ASSERT_TRUE(second.status.ok()) << second.status;
  EXPECT_EQ(second.account_id, first.account_id);
  EXPECT_EQ(second.attempts, 2);  // POST (409) + filter look-up
}

// A user of the same name that usersync does not own (other externalId): kAlreadyExists.
TEST_F(ScimTargetEmulatorTest, CreateConflictWithForeignAccount) {
  auto target = StartTarget(server_->scim_base_url());
  core::AccountSpec other = TestSpec(3);
  other.external_id = "someone-else";
  ASSERT_TRUE(ExecuteOne(*target, CreateOp(other)).status.ok());
  OpOutcome outcome = ExecuteOne(*target, CreateOp(TestSpec(3)));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kAlreadyExists) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("someone-else"));
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("user3@example.com"));
}

// Many creates at once into the same new group: the group is created once.
TEST_F(ScimTargetEmulatorTest, ConcurrentCreatesShareOneNewGroup) {
  auto target = StartTarget(server_->scim_base_url());
  std::vector<core::Operation> ops;
  for (int i = 0; i < 40; ++i) {
    core::AccountSpec spec = TestSpec(100 + i);
    spec.user_group = "Support";
    ops.push_back(CreateOp(spec));
  }
  EXPECT_EQ(ExecuteAndDrain(*target, ops), 40);
  EXPECT_EQ(server_->stats().group_creates, 1);
  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  ASSERT_EQ(accounts->items.size(), 40u);
  for (const core::Account& account : accounts->items) EXPECT_EQ(account.user_group, "Support");
}

// Creates go out as /Bulk requests (fewer requests than users) when the server offers /Bulk;
// the user group step still runs per user.
TEST_F(ScimTargetEmulatorTest, BulkCreatesWhenOffered) {
  auto target = StartBulkTarget(server_->scim_base_url(), /*batch=*/10);
  std::vector<core::Operation> ops;
  for (int i = 0; i < 25; ++i) {
    core::AccountSpec spec = TestSpec(200 + i);
    if (i % 5 == 0) spec.user_group = "Bulkers";
    ops.push_back(CreateOp(spec));
  }
  // Hold the I/O thread (the `done` of a bare link, which sends nothing, blocks it) so that
  // every create is queued before a partial bulk may leave: the bulks are then 10, 10, 5.
  core::Operation blocker = AccountOp(core::OpKind::kLink, "blocker");
  absl::Notification running;
  absl::Notification release;
  target->Execute(blocker, [&](OpOutcome) {
    running.Notify();
    release.WaitForNotification();
  });
  running.WaitForNotification();
  std::atomic<int> ok{0};
  for (const core::Operation& op : ops) {
    target->Execute(op, [&](OpOutcome outcome) {
      EXPECT_TRUE(outcome.status.ok()) << outcome.status;
      EXPECT_FALSE(outcome.account_id.empty());
      if (outcome.status.ok()) ++ok;
    });
  }
  release.Notify();
  target->Drain();
  EXPECT_EQ(ok.load(), 25);
  EXPECT_TRUE(target->service_config().bulk);
  const emulator::EmulatorStats stats = server_->stats();
  EXPECT_EQ(stats.creates, 25);
  EXPECT_EQ(stats.bulk_requests, 3);
  EXPECT_EQ(target->stats().batches, stats.bulk_requests);
  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  ASSERT_EQ(accounts->items.size(), 25u);
  int in_group = 0;
  for (const core::Account& account : accounts->items) {
    if (account.user_group == "Bulkers") ++in_group;
  }
  EXPECT_EQ(in_group, 5);
}

// Without /Bulk in the ServiceProviderConfig (--no-bulk), creates are one POST each.
TEST(ScimTarget, NoBulkWhenNotOffered) {
  emulator::EmulatorOptions options;
  options.threads = 16;
  options.bulk = false;
  std::unique_ptr<emulator::EmulatorServer> server = StartEmulator(options);
  ASSERT_NE(server, nullptr);
  auto target = StartBulkTarget(server->scim_base_url(), /*batch=*/10);
  std::vector<core::Operation> ops;
  for (int i = 0; i < 12; ++i) ops.push_back(CreateOp(TestSpec(300 + i)));
  EXPECT_EQ(ExecuteAndDrain(*target, ops), 12);
  EXPECT_FALSE(target->service_config().bulk);
  EXPECT_EQ(server->stats().bulk_requests, 0);
  EXPECT_EQ(server->stats().creates, 12);
  EXPECT_EQ(target->stats().batches, 0);
}

TEST_F(ScimTargetEmulatorTest, UpdateOfAMissingAccountIsNotFound) {
  auto target = StartTarget(server_->scim_base_url());
  core::Operation update = AccountOp(core::OpKind::kUpdate, "no-such-id");
  update.spec = TestSpec(4);
  update.changes = {{core::Field::kFirstName, "a", "b"}};
  OpOutcome outcome = ExecuteOne(*target, update);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kNotFound) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("PATCH"));
  EXPECT_EQ(outcome.http_status, 404);
}

// A link with nothing to change sends nothing, and still completes on the I/O thread.
TEST_F(ScimTargetEmulatorTest, BareLinkSendsNothing) {
  auto target = StartTarget(server_->scim_base_url());
  ASSERT_TRUE(target->Check().ok());
  const int64_t before = target->stats().requests;
  core::Operation link = AccountOp(core::OpKind::kLink, "some-id");
  link.spec = TestSpec(5);
  OpOutcome outcome = ExecuteOne(*target, link);
  EXPECT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.account_id, "some-id");
  EXPECT_EQ(target->stats().requests, before);
}

// An update adding G2W when no G2W seat is free: the PATCH is refused (409 "NO_SEAT: ..."),
// sent again without the entitlements, so the language is applied; the outcome names the
// product. A user name conflict (409 uniqueness) is not retried.
TEST(ScimTargetSeats, UpdateWithoutASeatAppliesTheRest) {
  emulator::EmulatorOptions options;
  options.token = kTestToken;
  options.seats = {{"G2W", 1}};
  auto server = emulator::EmulatorServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto seed = [&](const std::string& email, std::vector<std::string> products) {
    emulator::EmulatorUser user;
    user.user_name = email;
    user.email = email;
    user.first_name = "Seed";
    user.last_name = "User";
    user.products = std::move(products);
    auto view = (*server)->store().CreateUser(user);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? view->user->id : std::string();
  };
  seed("holder@example.com", {"G2W"});  // takes the only seat
  const std::string id = seed("user1@example.com", {"G2M"});
  auto target = StartTarget((*server)->scim_base_url());
  core::Operation update = AccountOp(core::OpKind::kUpdate, id);
  update.spec = TestSpec(1, "G2M,G2W");
  update.spec.language = "de_DE";
  update.changes = {{core::Field::kLanguage, "", "de_DE"},
                    {core::Field::kProducts, "G2M", "G2M,G2W"}};
  const OpOutcome outcome = ExecuteOne(*target, update);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kResourceExhausted) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("no seat for G2W"));
  EXPECT_TRUE(outcome.rest_applied);
  EXPECT_EQ(outcome.http_status, 409);  // the refusal's
  auto user = (*server)->store().GetUser(id);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->user->language, "de_DE");
  EXPECT_EQ(user->user->products, std::vector<std::string>{"G2M"});

  update.changes = {{core::Field::kUserName, "user1@example.com", "holder@example.com"},
                    {core::Field::kProducts, "G2M", "G2M,G2W"}};
  update.spec.user_name = "holder@example.com";
  const OpOutcome taken = ExecuteOne(*target, update);
  EXPECT_EQ(taken.status.code(), absl::StatusCode::kAlreadyExists) << taken.status;
  EXPECT_FALSE(taken.rest_applied);
}

// --- Against a scripted fake: the paths the emulator cannot provoke ----------------------------

constexpr char kUser9[] = R"({"id":"id-9","userName":"user9@example.com","externalId":"dir-9",)"
                          R"("name":{"givenName":"First9","familyName":"Last9"},"active":true})";

// Starts `fake`, then creates user9 through a target whose requests time out after 200 ms.
OpOutcome CreateUser9WithShortTimeout(FakeTargetServer& fake) {
  fake.Start();
  PipelineOptions pipeline = FastPipeline();
  pipeline.timeout = milliseconds(200);
  auto target = StartTarget(fake.base(kScimPath), 1000, pipeline);
  return ExecuteOne(*target, CreateOp(TestSpec(9)));
}

// A POST that times out may have gone through: look it up, and it is ours → OK, one POST.
TEST(ScimTargetFake, AmbiguousCreateFoundByLookup) {
  FakeTargetServer fake;
  std::atomic<int> posts{0};
  fake.server().Post("/scim/v2/Users", [&](const httplib::Request&, httplib::Response& res) {
    ++posts;
    fake.release().WaitForNotificationWithTimeout(absl::Seconds(10));  // outlives the timeout
    res.status = 201;
    res.set_content(kUser9, "application/scim+json");
  });
  fake.server().Get("/scim/v2/Users", [&](const httplib::Request& req, httplib::Response& res) {
    EXPECT_EQ(req.get_param_value("filter"), R"(userName eq "user9@example.com")");
    res.set_content(absl::StrCat(R"({"totalResults":1,"Resources":[)", kUser9, "]}"),
                    "application/scim+json");
  });
  OpOutcome outcome = CreateUser9WithShortTimeout(fake);
  EXPECT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.account_id, "id-9");
  EXPECT_EQ(posts.load(), 1);
}

// A POST that times out and did not go through (the look-up finds nothing): POST again.
TEST(ScimTargetFake, AmbiguousCreateNotFoundIsPostedAgain) {
  FakeTargetServer fake;
  std::atomic<int> posts{0};
  fake.server().Post("/scim/v2/Users", [&](const httplib::Request&, httplib::Response& res) {
    if (++posts == 1) {
      fake.release().WaitForNotificationWithTimeout(absl::Seconds(10));
      res.status = 500;  // too late: the client gave up on this one
      return;
    }
    res.status = 201;
    res.set_content(kUser9, "application/scim+json");
  });
  fake.server().Get("/scim/v2/Users", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"totalResults":0,"Resources":[]})", "application/scim+json");
  });
  OpOutcome outcome = CreateUser9WithShortTimeout(fake);
  EXPECT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.account_id, "id-9");
  EXPECT_EQ(posts.load(), 2);
  EXPECT_EQ(outcome.attempts, 3);  // POST (timed out), look-up, POST
}

// A server without PATCH (ServiceProviderConfig): updates PUT the full resource; deactivation
// reads the user and PUTs it back inactive.
TEST(ScimTargetFake, PutWhenPatchIsNotSupported) {
  FakeTargetServer fake;
  absl::Mutex mu;
  std::vector<std::string> puts;
  int patches = 0;
  fake.server().Get("/scim/v2/ServiceProviderConfig",
                    [](const httplib::Request&, httplib::Response& res) {
                      res.set_content(R"({"patch":{"supported":false}})", "application/scim+json");
                    });
  fake.server().Get("/scim/v2/Users", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"totalResults":0})", "application/scim+json");
  });
  fake.server().Get("/scim/v2/Users/id-9", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kUser9, "application/scim+json");
  });
  fake.server().Put("/scim/v2/Users/id-9",
                    [&](const httplib::Request& req, httplib::Response& res) {
                      absl::MutexLock lock(&mu);
                      puts.push_back(req.body);
                      res.set_content(kUser9, "application/scim+json");
                    });
  fake.server().Patch("/scim/v2/Users/id-9", [&](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    ++patches;
    res.status = 501;
  });
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath));
  ASSERT_TRUE(target->Check().ok());
  EXPECT_FALSE(target->service_config().patch);

  core::Operation update = AccountOp(core::OpKind::kUpdate, "id-9");
  update.spec = TestSpec(9);
  update.spec.first_name = "Nine";
  update.changes = {{core::Field::kFirstName, "First9", "Nine"}};
  ASSERT_TRUE(ExecuteOne(*target, update).status.ok());
  core::Operation deactivate = AccountOp(core::OpKind::kDeactivate, "id-9");
  OpOutcome outcome = ExecuteOne(*target, deactivate);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.attempts, 2);  // GET + PUT

  absl::MutexLock lock(&mu);
  EXPECT_EQ(patches, 0);
  ASSERT_EQ(puts.size(), 2u);
  EXPECT_THAT(puts[0], HasSubstr(R"("givenName":"Nine")"));
  EXPECT_THAT(puts[0], HasSubstr(R"("active":true)"));
  EXPECT_THAT(puts[1], HasSubstr(R"("givenName":"First9")"));
  EXPECT_THAT(puts[1], HasSubstr(R"("active":false)"));
}

// A bulk whose operations fail in part: a refused one (503) goes into a later bulk, a 409 is
// looked up (ours → OK); the created ones are never sent again.
TEST(ScimTargetFake, BulkRetriesOnlyItsFailedMembers) {
  FakeTargetServer fake;
  absl::Mutex mu;
  std::map<std::string, int> sends;
  bool refused = false;
  fake.server().Get("/scim/v2/ServiceProviderConfig",
                    [](const httplib::Request&, httplib::Response& res) {
                      res.set_content(R"({"patch":{"supported":true},)"
                                      R"("bulk":{"supported":true,"maxOperations":3}})",
                                      "application/scim+json");
                    });
  fake.server().Post("/scim/v2/Bulk", [&](const httplib::Request& req, httplib::Response& res) {
    const std::vector<std::string> names = StringsIn(req.body, "userName");
    std::string ops;
    absl::MutexLock lock(&mu);
    for (size_t idx = 0; idx < names.size(); ++idx) {
      const std::string& name = names[idx];
      ++sends[name];
      std::string status = "201";
      if (name == "user2@example.com" && !refused) {
        refused = true;
        status = "503";
      } else if (name == "user9@example.com") {
        status = "409";
      }
      absl::StrAppend(&ops, ops.empty() ? "" : ",", R"({"method":"POST","bulkId":")", idx,
                      R"(","status":")", status, R"(")",
                      status == "201" ? absl::StrCat(R"(,"location":"http://x/scim/v2/Users/id-)",
                                                     name.substr(0, name.find('@')), R"(")")
                                      : std::string(),
                      "}");
    }
    res.set_content(absl::StrCat(R"({"Operations":[)", ops, "]}"), "application/scim+json");
  });
  fake.server().Get("/scim/v2/Users", [&](const httplib::Request& req, httplib::Response& res) {
    EXPECT_EQ(req.get_param_value("filter"), R"(userName eq "user9@example.com")");
    res.set_content(absl::StrCat(R"({"totalResults":1,"Resources":[)", kUser9, "]}"),
                    "application/scim+json");
  });
  fake.Start();
  auto target = StartBulkTarget(fake.base(kScimPath), /*batch=*/10);  // capped at maxOperations 3
  std::vector<core::Operation> ops;
  for (int i : {1, 2, 3, 9, 5}) ops.push_back(CreateOp(TestSpec(i)));
  absl::Mutex outcomes_mu;
  std::map<std::string, OpOutcome> outcomes;
  for (const core::Operation& op : ops) {
    target->Execute(op, [&, email = op.email.str()](OpOutcome outcome) {
      absl::MutexLock lock(&outcomes_mu);
      outcomes[email] = std::move(outcome);
    });
  }
  target->Drain();
  absl::MutexLock lock(&outcomes_mu);
  ASSERT_EQ(outcomes.size(), 5u);
  for (const auto& [email, outcome] : outcomes) {
    EXPECT_TRUE(outcome.status.ok()) << email << ": " << outcome.status;
  }
  EXPECT_EQ(outcomes["user2@example.com"].account_id, "id-user2");
  EXPECT_EQ(outcomes["user9@example.com"].account_id, "id-9");  // ours, found by the look-up
  absl::MutexLock sends_lock(&mu);
  EXPECT_EQ(sends["user1@example.com"], 1);
  EXPECT_EQ(sends["user2@example.com"], 2);
  EXPECT_EQ(sends["user3@example.com"], 1);
  EXPECT_EQ(sends["user9@example.com"], 1);
  EXPECT_EQ(sends["user5@example.com"], 1);
  EXPECT_GE(target->stats().batches, 3);  // 5 users, at most 3 per bulk, plus the retry
}

}  // namespace
}  // namespace usersync::io
