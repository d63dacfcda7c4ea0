#include "io/goto/goto_target.h"

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/http/testing/fake_target_server.h"
#include "tools/target/emulator_server.h"

namespace usersync::io {
namespace {

using http_testing::AccountOp;
using http_testing::CreateOp;
using http_testing::ExecuteAll;
using http_testing::ExecuteOne;
using http_testing::FakeTargetServer;
using http_testing::FastPipeline;
using http_testing::kTestToken;
using http_testing::StringsIn;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kGotoPath[] = "/admin/rest/v1";

// A test user holding G2M unless told otherwise.
core::AccountSpec Spec(int i, std::string products = "G2M") {
  return http_testing::TestSpec(i, std::move(products));
}

std::unique_ptr<GotoTarget> StartTarget(const std::string& base_url, int batch = 100,
                                        int page_size = 1000,
                                        PipelineOptions pipeline = FastPipeline(),
                                        std::string account_key = "demo") {
  GotoTargetOptions options;
  options.base_url = base_url;
  options.account_key = std::move(account_key);
  options.pipeline = std::move(pipeline);
  options.page_size = page_size;
  options.batch = batch;
  auto target = GotoTarget::Start(std::move(options));
  EXPECT_TRUE(target.ok()) << target.status();
  return std::move(target).value();
}

// --- Against the emulator's GoTo face ---------------------------------------------------------

class GotoTargetEmulatorTest : public ::testing::Test {
 protected:
  // `member_status`: batch answers carry the emulator's own per-entry status (NO_SEAT details).
  void StartEmulator(std::map<std::string, int64_t> seats = {}, bool member_status = false) {
    emulator::EmulatorOptions options;
    options.token = kTestToken;
    options.threads = 32;
    options.seats = std::move(seats);
    options.goto_member_status = member_status;
    auto server = emulator::EmulatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
  }
  void SetUp() override { StartEmulator(); }

  // Creates a user directly in the store; returns its id.
  std::string Seed(const std::string& email, const std::string& external_id,
                   std::vector<std::string> products = {}) {
    emulator::EmulatorUser user;
    user.user_name = email;
    user.email = email;
    user.external_id = external_id;
    user.first_name = "Seed";
    user.last_name = "User";
    user.products = std::move(products);
    auto view = server_->store().CreateUser(user);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? view->user->id : "";
  }

  emulator::UserPtr User(const std::string& id) {
    auto view = server_->store().GetUser(id);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? view->user : nullptr;
  }

  std::unique_ptr<emulator::EmulatorServer> server_;
};

TEST_F(GotoTargetEmulatorTest, CheckSucceeds) {
  auto target = StartTarget(server_->goto_base_url());
  EXPECT_TRUE(target->Check().ok());
}

TEST_F(GotoTargetEmulatorTest, CheckNamesAWrongAccountKey) {
  auto target = StartTarget(server_->goto_base_url(), 100, 1000, FastPipeline(), "nope");
  const absl::Status status = target->Check();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("\"nope\""));
}

TEST_F(GotoTargetEmulatorTest, CheckWithWrongTokenIsUnauthenticated) {
  PipelineOptions pipeline = FastPipeline();
  pipeline.bearer_token = "wrong-token";
  auto target = StartTarget(server_->goto_base_url(), 100, 1000, pipeline);
  const absl::Status status = target->Check();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("wrong-token")));
}

TEST_F(GotoTargetEmulatorTest, ListsEveryPageInCreationOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    ids.push_back(Seed(absl::StrCat("u", i, "@example.com"), absl::StrCat("dir-", i), {"G2M"}));
  }
  auto target = StartTarget(server_->goto_base_url(), 100, /*page_size=*/10);
  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->items.size(), 25u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(accounts->items[i].id, ids[i]);
    EXPECT_EQ(accounts->items[i].external_id, absl::StrCat("dir-", i));
    EXPECT_EQ(accounts->items[i].products, "G2M");
  }
  EXPECT_EQ(target->stats().requests, 3);
}

// Holds the target's I/O thread until Release(): the `done` of an operation that finishes
// without a request (a delete: GoTo offers none) blocks it. Creates executed meanwhile all
// gather before any partial batch can leave, so batch composition is deterministic.
class IoThreadBlocker {
 public:
  explicit IoThreadBlocker(TargetApi& target) {
    op_.kind = core::OpKind::kDelete;
    op_.account_id = "blocker";
    target.Execute(op_, [this](OpOutcome) {
      running_.Notify();
      release_.WaitForNotification();
    });
    running_.WaitForNotification();
  }
  ~IoThreadBlocker() { Release(); }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

 private:
  core::Operation op_;
  absl::Notification running_;
  absl::Notification release_;
};

// Runs `ops` while the I/O thread is held, then lets it go and waits for every outcome.
// The licenses are read first (as a run's plan does): a create reads them otherwise, which the
// held I/O thread would never answer.
std::vector<OpOutcome> ExecuteGathered(TargetApi& target, const std::vector<core::Operation>& ops) {
  EXPECT_TRUE(target.Offer().ok());
  IoThreadBlocker blocker(target);
  return ExecuteAll(target, ops, [&blocker] { blocker.Release(); });
}

// Creates go out in batches (fewer requests than users), with the welcome email sent by GoTo.
TEST_F(GotoTargetEmulatorTest, BatchCreatesSendFewerRequestsThanUsers) {
  auto target = StartTarget(server_->goto_base_url(), /*batch=*/10);
  std::vector<core::Operation> ops;
  for (int i = 0; i < 25; ++i) {
    core::AccountSpec spec = Spec(i);
    spec.language = "fr_FR";
    spec.welcome_template = "welcome-fr";
    spec.admin_role = i == 0 ? "full" : "";
    spec.user_group = "Sales";
    ops.push_back(CreateOp(spec));
  }
  std::vector<OpOutcome> outcomes = ExecuteGathered(*target, ops);
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(outcomes[i].status.ok()) << outcomes[i].status;
    emulator::UserPtr user = User(outcomes[i].account_id);
    ASSERT_NE(user, nullptr);
    EXPECT_EQ(user->email, ops[i].spec.email);
    EXPECT_EQ(user->external_id, ops[i].spec.external_id);
    EXPECT_EQ(user->language, "fr_FR");
  }
  const emulator::EmulatorStats stats = server_->stats();
  EXPECT_EQ(stats.creates, 25);
  EXPECT_EQ(stats.batch_creates, 3);  // 10 + 10 + the partial 5
  EXPECT_EQ(target->stats().batched_creates, 25);
  const std::vector<emulator::OutboxEntry> outbox = server_->outbox();
  ASSERT_EQ(outbox.size(), 25u);
  EXPECT_EQ(outbox[0].template_name, "welcome-fr");
  EXPECT_EQ(outbox[0].language, "fr_FR");

  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->items.size(), 25u);
  // Batches run concurrently: find user0 by its id, not by position.
  const core::Account* user0 = nullptr;
  for (const core::Account& account : accounts->items) {
    if (account.id == outcomes[0].account_id) user0 = &account;
  }
  ASSERT_NE(user0, nullptr);
  EXPECT_EQ(user0->admin_role, "full");
  EXPECT_EQ(user0->user_group, "Sales");
  EXPECT_EQ(user0->display_name, "First0 Last0");
}

// "suppressEmail" holds for a whole POST (GOTO_API_RESEARCH.md §3a): one queued batch whose
// creates differ in it goes out as one POST per value; when they agree, as one full POST.
TEST_F(GotoTargetEmulatorTest, BatchSplitsByWelcomeSetting) {
  auto target = StartTarget(server_->goto_base_url(), /*batch=*/6);
  std::vector<core::Operation> ops;
  for (int i = 1; i <= 6; ++i) {
    core::AccountSpec spec = Spec(i);
    spec.suppress_welcome = i % 2 == 0;  // even users: no welcome email
    ops.push_back(CreateOp(spec));
  }
  for (const OpOutcome& outcome : ExecuteGathered(*target, ops)) {
    ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  }
  EXPECT_EQ(server_->stats().batch_creates, 2);
  std::vector<std::string> welcomed;
  for (const emulator::OutboxEntry& entry : server_->outbox()) welcomed.push_back(entry.email);
  EXPECT_THAT(welcomed,
              UnorderedElementsAre(ops[0].spec.email, ops[2].spec.email, ops[4].spec.email));

  ops.clear();
  for (int i = 7; i <= 12; ++i) {
    core::AccountSpec spec = Spec(i);
    spec.suppress_welcome = true;
    ops.push_back(CreateOp(spec));
  }
  for (const OpOutcome& outcome : ExecuteGathered(*target, ops)) {
    ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  }
  EXPECT_EQ(server_->stats().batch_creates, 3);  // one more POST, all six in it
  EXPECT_EQ(server_->outbox().size(), 3u);
}

// A batch with taken emails in the middle: the others are created; our own earlier account is
// linked (no duplicate), someone else's is reported.
TEST_F(GotoTargetEmulatorTest, ConflictInTheMiddleOfABatch) {
  const std::string ours = Seed("user2@example.com", "dir-2");
  const std::string theirs = Seed("user3@example.com", "someone-else");
  auto target = StartTarget(server_->goto_base_url(), /*batch=*/100);
  std::vector<core::Operation> ops;
  for (int i = 0; i < 5; ++i) ops.push_back(CreateOp(Spec(i)));
  std::vector<OpOutcome> outcomes = ExecuteAll(*target, ops);
  EXPECT_TRUE(outcomes[0].status.ok()) << outcomes[0].status;
  EXPECT_TRUE(outcomes[1].status.ok()) << outcomes[1].status;
  EXPECT_TRUE(outcomes[4].status.ok()) << outcomes[4].status;
  ASSERT_TRUE(outcomes[2].status.ok()) << outcomes[2].status;
  EXPECT_EQ(outcomes[2].account_id, ours);
  EXPECT_EQ(outcomes[3].status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(outcomes[3].status.message()), HasSubstr(theirs));
  EXPECT_THAT(std::string(outcomes[3].status.message()), HasSubstr("someone-else"));
  EXPECT_EQ(server_->store().counts().users, 5);  // 3 new + 2 seeded, no duplicate
  EXPECT_EQ(server_->stats().create_conflicts, 2);
}

TEST_F(GotoTargetEmulatorTest, OfferReadsTheLicenses) {
  StartEmulator({{"G2W", 3}});
  Seed("a@example.com", "dir-a", {"G2W"});
  auto target = StartTarget(server_->goto_base_url());
  auto offer = target->Offer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  EXPECT_THAT(offer->free_seats, UnorderedElementsAre(Pair("G2W", 2)));
  ASSERT_TRUE(offer->products.has_value());
  EXPECT_THAT(*offer->products, ElementsAre("G2M", "G2T", "G2W", "OPENVOICE"));
}

// A create whose product no license carries fails before anything is sent.
TEST_F(GotoTargetEmulatorTest, CreateOfAProductNoLicenseCarriesFails) {
  StartEmulator({});
  auto target = StartTarget(server_->goto_base_url());
  std::vector<core::Operation> ops = {CreateOp(Spec(1, "GTM"))};
  std::vector<OpOutcome> outcomes = ExecuteAll(*target, ops);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(outcomes[0].status.message()), HasSubstr("\"GTM\""));
  EXPECT_EQ(server_->stats().batch_creates, 0);
}

// Creates beyond the seats fail with "no seat" (the plan normally keeps them out first). The
// product is named only by the emulator's own member statuses: GoTo's documented answer leaves
// a refused member out (DocumentedAnswerNeedsNoLookUpForEmailsListedFree).
TEST_F(GotoTargetEmulatorTest, CreatesBeyondTheSeatsFailWithNoSeat) {
  StartEmulator({{"G2W", 2}}, /*member_status=*/true);
  auto target = StartTarget(server_->goto_base_url());
  std::vector<core::Operation> ops;
  for (int i = 0; i < 4; ++i) ops.push_back(CreateOp(Spec(i, "G2W")));
  std::vector<OpOutcome> outcomes = ExecuteAll(*target, ops);
  int created = 0;
  for (const OpOutcome& outcome : outcomes) {
    if (outcome.status.ok()) {
      ++created;
    } else {
      EXPECT_EQ(outcome.status.code(), absl::StatusCode::kResourceExhausted) << outcome.status;
      EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("no seat for G2W"));
    }
  }
  EXPECT_EQ(created, 2);
}

TEST_F(GotoTargetEmulatorTest, UpdateSuspendReactivate) {
  const std::string id = Seed("user1@example.com", "dir-1", {"G2M"});
  auto target = StartTarget(server_->goto_base_url());

  core::Operation update = AccountOp(core::OpKind::kUpdate, id);
  update.spec = Spec(1, "G2M,G2W");
  update.spec.admin_role = "manager";
  update.spec.privileges = "MANAGE_USERS";
  update.spec.user_group = "Ops";
  update.changes = {{core::Field::kProducts, "G2M", "G2M,G2W"},
                    {core::Field::kAdminRole, "", "manager"},
                    {core::Field::kPrivileges, "", "MANAGE_USERS"},
                    {core::Field::kFirstName, "Seed", "First1"},
                    {core::Field::kUserGroup, "", "Ops"}};
  OpOutcome outcome = ExecuteOne(*target, update);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.attempts, 1);
  emulator::UserPtr user = User(id);
  EXPECT_THAT(user->products, UnorderedElementsAre("G2M", "G2W"));
  EXPECT_THAT(user->roles, UnorderedElementsAre("MANAGE_USERS"));
  EXPECT_EQ(user->first_name, "First1");
  EXPECT_EQ(user->last_name, "User");  // not in the changes: kept

  core::Operation deactivate = AccountOp(core::OpKind::kDeactivate, id);
  ASSERT_TRUE(ExecuteOne(*target, deactivate).status.ok());
  EXPECT_FALSE(User(id)->active);
  EXPECT_EQ(server_->store().counts().users, 1);  // suspended, not deleted
  EXPECT_EQ(server_->stats().suspensions, 1);

  core::Operation reactivate = AccountOp(core::OpKind::kReactivate, id);
  reactivate.spec = update.spec;
  ASSERT_TRUE(ExecuteOne(*target, reactivate).status.ok());
  EXPECT_TRUE(User(id)->active);

  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  ASSERT_EQ(accounts->items.size(), 1u);
  EXPECT_EQ(accounts->items[0].admin_role, "manager");
  EXPECT_EQ(accounts->items[0].privileges, "MANAGE_USERS");
  EXPECT_EQ(accounts->items[0].user_group, "Ops");
}

TEST_F(GotoTargetEmulatorTest, ReactivationWithoutASeatIsNoSeat) {
  StartEmulator({{"G2W", 1}});
  const std::string suspended = Seed("s@example.com", "dir-s", {"G2W"});
  core::Operation deactivate = AccountOp(core::OpKind::kDeactivate, suspended);
  auto target = StartTarget(server_->goto_base_url());
  ASSERT_TRUE(ExecuteOne(*target, deactivate).status.ok());
  Seed("t@example.com", "dir-t", {"G2W"});  // takes the freed seat
  core::Operation reactivate = AccountOp(core::OpKind::kReactivate, suspended);
  const OpOutcome outcome = ExecuteOne(*target, reactivate);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kResourceExhausted) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("no seat for G2W"));
}

// An update adding G2W when no G2W seat is free: the PUT is refused (409 NO_SEAT), sent again
// without licenseKeys, so the locale and name change are applied; the outcome names the product.
TEST_F(GotoTargetEmulatorTest, UpdateWithoutASeatAppliesTheRest) {
  StartEmulator({{"G2W", 1}});
  Seed("holder@example.com", "dir-h", {"G2W"});  // takes the only seat
  const std::string id = Seed("user1@example.com", "dir-1", {"G2M"});
  auto target = StartTarget(server_->goto_base_url());
  core::Operation update = AccountOp(core::OpKind::kUpdate, id);
  update.spec = Spec(1, "G2M,G2W");
  update.spec.language = "de_DE";
  update.changes = {{core::Field::kLanguage, "", "de_DE"},
                    {core::Field::kProducts, "G2M", "G2M,G2W"},
                    {core::Field::kFirstName, "Seed", "First1"}};
  const OpOutcome outcome = ExecuteOne(*target, update);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kResourceExhausted) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("no seat for G2W"));
  EXPECT_TRUE(outcome.rest_applied);
  EXPECT_EQ(outcome.http_status, 409);  // the refusal's
  EXPECT_EQ(outcome.attempts, 2);
  emulator::UserPtr user = User(id);
  EXPECT_EQ(user->language, "de_DE");
  EXPECT_EQ(user->first_name, "First1");
  EXPECT_THAT(user->products, ElementsAre("G2M"));

  // A refusal that is not about the products still fails the whole PUT, once.
  update.changes = {{core::Field::kLanguage, "", "de_DE"}};
  update.account_id = "no-such-user";
  const OpOutcome missing = ExecuteOne(*target, update);
  EXPECT_EQ(missing.status.code(), absl::StatusCode::kNotFound) << missing.status;
  EXPECT_FALSE(missing.rest_applied);
}

TEST_F(GotoTargetEmulatorTest, DeleteIsNotOffered) {
  auto target = StartTarget(server_->goto_base_url());
  core::Operation del = AccountOp(core::OpKind::kDelete, "some-id");
  const OpOutcome outcome = ExecuteOne(*target, del);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("suspension"));
  EXPECT_EQ(target->stats().requests, 0);
}

// An update whose only change GoTo does not hold (display name) is done without a request.
TEST_F(GotoTargetEmulatorTest, DisplayNameOnlyUpdateSendsNothing) {
  auto target = StartTarget(server_->goto_base_url());
  core::Operation update = AccountOp(core::OpKind::kUpdate, "some-id");
  update.spec = Spec(1);
  update.changes = {{core::Field::kDisplayName, "A", "First1 Last1"}};
  EXPECT_TRUE(ExecuteOne(*target, update).status.ok());
  EXPECT_EQ(target->stats().requests, 0);
}

TEST_F(GotoTargetEmulatorTest, CreatesAfterCancelAreCancelled) {
  auto target = StartTarget(server_->goto_base_url());
  target->Cancel();
  const OpOutcome outcome = ExecuteOne(*target, CreateOp(Spec(1)));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kCancelled) << outcome.status;
  EXPECT_EQ(server_->store().counts().users, 0);
}

TEST(GotoTarget, StartValidatesOptions) {
  GotoTargetOptions options;
  options.base_url = "http://127.0.0.1:1/admin/rest/v1";
  EXPECT_EQ(GotoTarget::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.account_key = "demo";
  options.batch = 1001;
  EXPECT_THAT(std::string(GotoTarget::Start(options).status().message()),
              HasSubstr("target.batch"));
  options.batch = 100;
  options.base_url = "ftp://x";
  EXPECT_EQ(GotoTarget::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- Against a scripted fake: the paths the emulator cannot provoke ----------------------------

constexpr char kUsersPath[] = "/admin/rest/v1/accounts/demo/users";

std::string UserJson(int i, const std::string& external_id) {
  return absl::StrCat(R"({"userKey":"key-)", i, R"(","email":"user)", i,
                      R"(@example.com","firstName":"First)", i, R"(","lastName":"Last)", i,
                      R"(","externalId":")", external_id, R"(","status":"ACTIVE","version":1})");
}

std::string KeyOf(const std::string& email) { return "key-" + email.substr(0, email.find('@')); }

std::string Created(const std::string& email) {
  return absl::StrCat(R"({"email":")", email, R"(","status":"created","userKey":")", KeyOf(email),
                      R"("})");
}

// GET /licenses: one unlimited G2M license (the fake tests' creates hold G2M).
void ServeLicenses(FakeTargetServer& fake) {
  fake.server().Get(absl::StrCat(kGotoPath, "/accounts/demo/licenses"),
                    [](const httplib::Request&, httplib::Response& res) {
                      res.set_content(R"({"results":[{"key":7902142105473202120,)"
                                      R"("products":["G2M"],"userCount":0}],"total":1})",
                                      "application/json");
                    });
}

// A member refused for a transient reason goes into a later batch; the members created are not
// sent again. (Batch composition depends on timing: the fake answers any composition.)
// The shared lister under the GoTo dialect (offset from 0, "total"): a server ignoring the
// offset repeats its first page; that is an error naming the offset, not a 2-user listing.
TEST(GotoTargetFake, RepeatedListingPageIsDataLoss) {
  FakeTargetServer fake;
  fake.server().Get(kUsersPath, [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"total":6,"results":[)"
                    R"({"userKey":"k1","email":"a@x.com","firstName":"A","lastName":"A"},)"
                    R"({"userKey":"k2","email":"b@x.com","firstName":"B","lastName":"B"}]})",
                    "application/json");
  });
  ServeLicenses(fake);
  fake.Start();
  auto target = StartTarget(fake.base(kGotoPath), /*batch=*/100, /*page_size=*/2);
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss)
      << (accounts.ok() ? absl::StrCat(accounts->items.size(), " accounts") : "");
  EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("page at offset 2 lists id k1"));
}

TEST(GotoTargetFake, TransientMemberErrorRetriesOnlyThatMember) {
  FakeTargetServer fake;
  std::atomic<bool> refused{false};
  fake.server().Post(kUsersPath, [&](const httplib::Request& req, httplib::Response& res) {
    fake.RecordPost(req.body);
    std::string results;
    bool any_refused = false;
    for (const std::string& email : StringsIn(req.body, "email")) {
      if (!results.empty()) results += ",";
      if (email == "user2@example.com" && !refused.exchange(true)) {
        any_refused = true;
        results += R"({"email":"user2@example.com","status":"error",)"
                   R"("errorCode":"SERVICE_UNAVAILABLE","message":"try later"})";
      } else {
        results += Created(email);
      }
    }
    res.status = any_refused ? 409 : 201;
    res.set_content(absl::StrCat(R"({"results":[)", results, "]}"), "application/json");
  });
  ServeLicenses(fake);
  fake.Start();
  auto target = StartTarget(fake.base(kGotoPath), /*batch=*/3);
  std::vector<OpOutcome> outcomes =
      ExecuteAll(*target, {CreateOp(Spec(1)), CreateOp(Spec(2)), CreateOp(Spec(3))});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(outcomes[i].status.ok()) << outcomes[i].status;
    EXPECT_EQ(outcomes[i].account_id, absl::StrCat("key-user", i + 1));
  }
  std::map<std::string, int> sends;
  for (const std::string& body : fake.posts()) {
    EXPECT_THAT(body, HasSubstr(R"("suppressEmail":false)"));
    for (const std::string& email : StringsIn(body, "email")) ++sends[email];
  }
  EXPECT_EQ(sends["user1@example.com"], 1);
  EXPECT_EQ(sends["user2@example.com"], 2);
  EXPECT_EQ(sends["user3@example.com"], 1);
}

// A batch whose outcome is unknown (502) is never re-sent blindly: each member is looked up;
// one the batch did create is ours, the others go out again.
TEST(GotoTargetFake, AmbiguousBatchLooksMembersUpBeforeResending) {
  FakeTargetServer fake;
  absl::Mutex mu;
  std::set<std::string> created;  // what the fake holds
  std::atomic<int> lookups{0};
  fake.server().Post(kUsersPath, [&](const httplib::Request& req, httplib::Response& res) {
    const int n = fake.RecordPost(req.body);
    const std::vector<std::string> emails = StringsIn(req.body, "email");
    absl::MutexLock lock(&mu);
    if (n == 1) {
      created.insert(emails[0]);  // the first member went through, then the gateway failed
      res.status = 502;
      return;
    }
    std::string results;
    for (const std::string& email : emails) {
      EXPECT_FALSE(created.contains(email)) << email << " sent again after it was created";
      created.insert(email);
      absl::StrAppend(&results, results.empty() ? "" : ",", Created(email));
    }
    res.status = 201;
    res.set_content(absl::StrCat(R"({"results":[)", results, "]}"), "application/json");
  });
  fake.server().Get(kUsersPath, [&](const httplib::Request& req, httplib::Response& res) {
    ++lookups;
    const std::string filter = req.get_param_value("filter");
    absl::MutexLock lock(&mu);
    for (int i = 1; i <= 2; ++i) {
      const std::string email = absl::StrCat("user", i, "@example.com");
      if (filter != absl::StrCat(R"(email eq ")", email, R"(")")) continue;
      if (created.contains(email)) {
        res.set_content(absl::StrCat(R"({"results":[)", UserJson(i, absl::StrCat("dir-", i)),
                                     R"(],"total":1})"),
                        "application/json");
        return;
      }
    }
    res.set_content(R"({"results":[],"total":0})", "application/json");
  });
  ServeLicenses(fake);
  fake.Start();
  auto target = StartTarget(fake.base(kGotoPath), /*batch=*/2);
  std::vector<OpOutcome> outcomes = ExecuteAll(*target, {CreateOp(Spec(1)), CreateOp(Spec(2))});
  ASSERT_TRUE(outcomes[0].status.ok()) << outcomes[0].status;
  ASSERT_TRUE(outcomes[1].status.ok()) << outcomes[1].status;
  EXPECT_EQ(outcomes[0].account_id, "key-1");  // found by the look-up (UserJson's key)
  EXPECT_EQ(outcomes[1].account_id, "key-user2");
  EXPECT_GE(lookups.load(), 1);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(created.size(), 2u);
}

// GoTo refuses a whole batch (400) for one bad member and creates nothing: that member fails,
// the others go out again.
TEST(GotoTargetFake, BadMemberIsTakenOutOfTheBatch) {
  FakeTargetServer fake;
  fake.server().Post(kUsersPath, [&](const httplib::Request& req, httplib::Response& res) {
    fake.RecordPost(req.body);
    const std::vector<std::string> emails = StringsIn(req.body, "email");
    std::string results;
    for (size_t idx = 0; idx < emails.size(); ++idx) {
      if (emails[idx] == "user2@example.com") {
        res.status = 400;
        res.set_content(absl::StrCat(R"({"errorCode":"INVALID_REQUEST","message":"users[)", idx,
                                     R"(].email: not an address"})"),
                        "application/json");
        return;
      }
      absl::StrAppend(&results, results.empty() ? "" : ",", Created(emails[idx]));
    }
    res.status = 201;
    res.set_content(absl::StrCat(R"({"results":[)", results, "]}"), "application/json");
  });
  ServeLicenses(fake);
  fake.Start();
  auto target = StartTarget(fake.base(kGotoPath), /*batch=*/3);
  std::vector<OpOutcome> outcomes =
      ExecuteAll(*target, {CreateOp(Spec(1)), CreateOp(Spec(2)), CreateOp(Spec(3))});
  EXPECT_TRUE(outcomes[0].status.ok()) << outcomes[0].status;
  EXPECT_EQ(outcomes[1].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(outcomes[1].status.message()), HasSubstr("].email: not an address"));
  EXPECT_TRUE(outcomes[2].status.ok()) << outcomes[2].status;
  EXPECT_EQ(outcomes[2].account_id, "key-user3");
  std::map<std::string, int> sends;
  for (const std::string& body : fake.posts()) {
    for (const std::string& email : StringsIn(body, "email")) ++sends[email];
  }
  EXPECT_EQ(sends["user2@example.com"], 1);  // never re-sent
}

// GoTo's 429 carries no Retry-After: the pipeline backs off and retries, and every member is
// created once.
TEST(GotoTargetFake, ThrottledBatchIsRetried) {
  FakeTargetServer fake;
  fake.server().Post(kUsersPath, [&](const httplib::Request& req, httplib::Response& res) {
    if (fake.RecordPost(req.body) <= 2) {
      res.status = 429;
      res.set_content(R"({"errorCode":"TOO_MANY_REQUESTS","message":"slow down"})",
                      "application/json");
      return;
    }
    res.status = 201;
    res.set_content(
        R"({"results":[{"email":"user1@example.com","status":"created","userKey":"key-1"}]})",
        "application/json");
  });
  ServeLicenses(fake);
  fake.Start();
  PipelineOptions pipeline = FastPipeline();
  pipeline.rate = 1000;
  pipeline.burst = 10;
  pipeline.adaptive = true;
  auto target = StartTarget(fake.base(kGotoPath), /*batch=*/10, 1000, pipeline);
  const OpOutcome outcome = ExecuteOne(*target, CreateOp(Spec(1)));
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.attempts, 3);
  const TargetStats stats = target->stats();
  EXPECT_EQ(stats.throttled, 2);
  EXPECT_LT(stats.current_rate, 1000);  // AIMD cut the rate
}

}  // namespace
}  // namespace usersync::io

namespace usersync::io {
namespace {

// GoTo's documented create answer (GOTO_API_RESEARCH.md §3a) is a bare array of {key, email}
// holding created and existing users alike. With no listing in this process, each listed
// member is looked up by its key and adopted only when it carries the member's externalId; a
// member the answer leaves out fails with the reason. The 26-digit key is kept to the digit.
TEST(GotoTargetFake, DocumentedArrayAnswerAdoptsOnlyOwnUsersAndFailsTheUnlisted) {
  FakeTargetServer fake;
  constexpr char kNewKey[] = "78888886011013972886849029";
  fake.server().Post(kUsersPath, [&](const httplib::Request& req, httplib::Response& res) {
    fake.RecordPost(req.body);
    // Batch composition depends on timing: answer for the members of this request.
    std::string answer;
    for (const std::string& email : StringsIn(req.body, "email")) {
      if (email == "user1@example.com") {
        absl::StrAppend(&answer, answer.empty() ? "" : ",", R"({"key":)", kNewKey,
                        R"(,"email":"USER1@example.com"})");
      } else if (email == "user2@example.com") {
        absl::StrAppend(&answer, answer.empty() ? "" : ",",
                        R"({"key":7843266547734050054,"email":"user2@example.com"})");
      }
    }
    res.status = 200;
    res.set_content(absl::StrCat("[", answer, "]"), "application/json");
  });
  std::atomic<int> lookups{0};
  fake.server().Get(R"(/admin/rest/v1/accounts/demo/users/(\d+))",
                    [&](const httplib::Request& req, httplib::Response& res) {
                      ++lookups;
                      const bool ours = req.matches[1] == kNewKey;
                      res.set_content(
                          absl::StrCat(R"({"key":)", std::string(req.matches[1]),
                                       R"(,"email":"user)", ours ? 1 : 2,
                                       R"(@example.com","firstName":"F","lastName":"L",)",
                                       R"("externalId":")", ours ? "dir-1" : "someone-else",
                                       R"("})"),
                          "application/json");
                    });
  ServeLicenses(fake);
  fake.Start();
  auto target = StartTarget(fake.base(kGotoPath), /*batch=*/3);
  std::vector<OpOutcome> outcomes =
      ExecuteAll(*target, {CreateOp(Spec(1)), CreateOp(Spec(2)), CreateOp(Spec(3))});
  ASSERT_TRUE(outcomes[0].status.ok()) << outcomes[0].status;
  EXPECT_EQ(outcomes[0].account_id, kNewKey);
  EXPECT_TRUE(absl::IsAlreadyExists(outcomes[1].status)) << outcomes[1].status;
  EXPECT_THAT(std::string(outcomes[1].status.message()), HasSubstr("7843266547734050054"));
  EXPECT_FALSE(outcomes[2].status.ok());
  EXPECT_THAT(std::string(outcomes[2].status.message()),
              HasSubstr("does not list user3@example.com"));
  EXPECT_EQ(lookups.load(), 2);
  std::map<std::string, int> sends;
  for (const std::string& body : fake.posts()) {
    for (const std::string& email : StringsIn(body, "email")) ++sends[email];
  }
  EXPECT_THAT(sends, UnorderedElementsAre(Pair("user1@example.com", 1),
                                          Pair("user2@example.com", 1),
                                          Pair("user3@example.com", 1)));
}

// After a listing, an entry of the documented answer whose email the listing did not hold is
// the new user: no look-up. An email the listing held (case aside) is looked up by key, and a
// member the answer leaves out (e.g. refused for a seat) fails.
TEST(GotoTargetFake, DocumentedAnswerNeedsNoLookUpForEmailsListedFree) {
  FakeTargetServer fake;
  std::atomic<int> filter_lookups{0};
  fake.server().Get(kUsersPath, [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("filter")) ++filter_lookups;
    res.set_content(req.has_param("filter") ? R"({"total":0,"results":[]})"
                                            : R"({"total":1,"results":[{"userKey":"key-user2",)"
                                              R"("email":"User2@Example.COM","firstName":"F",)"
                                              R"("lastName":"L","externalId":"dir-2"}]})",
                    "application/json");
  });
  std::atomic<int> key_lookups{0};
  fake.server().Get(R"(/admin/rest/v1/accounts/demo/users/([\w-]+))",
                    [&](const httplib::Request&, httplib::Response& res) {
                      ++key_lookups;
                      res.set_content(R"({"userKey":"key-user2","email":"user2@example.com",)"
                                      R"("firstName":"F","lastName":"L","externalId":"dir-2"})",
                                      "application/json");
                    });
  fake.server().Post(kUsersPath, [&](const httplib::Request& req, httplib::Response& res) {
    fake.RecordPost(req.body);
    std::string answer;
    for (const std::string& email : StringsIn(req.body, "email")) {
      if (email == "user3@example.com") continue;  // refused: GoTo's answer has no entry
      absl::StrAppend(&answer, answer.empty() ? "" : ",", R"({"key":")", KeyOf(email),
                      R"(","email":")", email, R"("})");
    }
    res.status = 201;
    res.set_content(absl::StrCat("[", answer, "]"), "application/json");
  });
  ServeLicenses(fake);
  fake.Start();
  auto target = StartTarget(fake.base(kGotoPath), /*batch=*/3);
  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  std::vector<OpOutcome> outcomes =
      ExecuteAll(*target, {CreateOp(Spec(1)), CreateOp(Spec(2)), CreateOp(Spec(3))});
  ASSERT_TRUE(outcomes[0].status.ok()) << outcomes[0].status;
  EXPECT_EQ(outcomes[0].account_id, "key-user1");
  ASSERT_TRUE(outcomes[1].status.ok()) << outcomes[1].status;  // ours, from an earlier run
  EXPECT_EQ(outcomes[1].account_id, "key-user2");
  EXPECT_EQ(outcomes[2].status.code(), absl::StatusCode::kDataLoss) << outcomes[2].status;
  EXPECT_THAT(std::string(outcomes[2].status.message()),
              HasSubstr("does not list user3@example.com"));
  EXPECT_EQ(key_lookups.load(), 1);  // user2 only: user1 cost no request beyond its batch
  EXPECT_EQ(filter_lookups.load(), 0);
}

}  // namespace
}  // namespace usersync::io
