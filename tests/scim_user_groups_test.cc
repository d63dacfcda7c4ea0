// End-to-end: a rule's user group on a SCIM target settles (issue 14, item 7), whether the
// server fills User.groups (the emulator's default) or leaves it out as RFC 7643 allows and
// SCIMMY does (usersync-target --no-user-groups): a second plan has no operation, the group holds
// each member once, and taking the user group out of the rule empties the group.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/http/http_util.h"
#include "tests/support/http_client.h"
#include "tests/support/json_view.h"
#include "tests/support/plan_json.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::HttpGet;
using testing::HttpPatch;
using testing::HttpResult;
using testing::JsonView;
using testing::kStaffGroup;
using testing::NumberedUsers;
using testing::ParsePlanJson;
using testing::PlanJson;
using testing::ProcessResult;
using testing::RuleToml;
using testing::SyncWorld;
using testing::UrlEncode;
using testing::WorldConfig;

// The rule's own keys: the user group, or none.
std::string StaffRule(const std::string& more_keys) {
  return RuleToml("Staff", 1, kStaffGroup, "\"G2M\"", more_keys);
}

// GetParam(): the emulator leaves User.groups out (--no-user-groups).
class ScimUserGroupsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::vector<std::string> args;
    if (GetParam()) args.push_back("--no-user-groups");
    ASSERT_TRUE(world_.StartTarget(args).ok());
    world_.WriteDirectory(NumberedUsers(3));
  }

  std::string Url(const std::string& path) const { return world_.target().scim_url() + path; }

  void WriteRule(const std::string& more_keys) {
    WorldConfig config;
    config.rules = StaffRule(more_keys);
    world_.WriteConfig(config);
  }

  void Sync() {
    ProcessResult sync = world_.Usersync({"sync"});
    ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  }

  // The operations `usersync plan` would send, as "op email".
  std::multiset<std::string> PlannedOps() {
    ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
    EXPECT_EQ(plan.exit_code, 0) << plan.err;
    const PlanJson parsed = ParsePlanJson(plan.out);
    EXPECT_TRUE(parsed.parsed) << plan.out;
    std::multiset<std::string> ops;
    for (const auto& op : parsed.operations) ops.insert(op.op + " " + op.email);
    return ops;
  }

  // The member ids of the group named `name`, in the order listed (repeats kept); "<no group>"
  // alone when there is no such group.
  std::vector<std::string> Members(const std::string& name) {
    HttpResult found = HttpGet(
        Url("/Groups?filter=" + UrlEncode(io::FilterEq("displayName", name))), world_.token());
    EXPECT_EQ(found.status, 200) << found.body;
    JsonView json(found.body);
    if (json.Int("/totalResults") != 1) return {"<no group>"};
    std::vector<std::string> ids;
    for (int64_t index = 0; index < json.Size("/Resources/0/members"); ++index) {
      ids.push_back(json.Str(absl::StrCat("/Resources/0/members/", index, "/value")));
    }
    return ids;
  }

  std::string GroupId(const std::string& name) {
    HttpResult found = HttpGet(
        Url("/Groups?filter=" + UrlEncode(io::FilterEq("displayName", name))), world_.token());
    return JsonView(found.body).Str("/Resources/0/id");
  }

  // The ids of every account on the SCIM face.
  std::set<std::string> AccountIds() {
    std::set<std::string> ids;
    for (const auto& [name, account] : world_.ScimAccounts()) ids.insert(account.id);
    return ids;
  }

  SyncWorld world_{"scim-user-groups"};
};

TEST_P(ScimUserGroupsTest, RuleUserGroupSettlesAndLeavingItEmptiesTheGroup) {
  WriteRule("user_group = \"Sales\"\n");
  Sync();
  const std::set<std::string> ids = AccountIds();
  ASSERT_EQ(ids.size(), 3u);
  std::vector<std::string> members = Members("Sales");
  EXPECT_EQ(std::set<std::string>(members.begin(), members.end()), ids);
  EXPECT_EQ(members.size(), 3u) << "a member listed twice";

  // Settled: nothing planned, and a second sync changes nothing at the target.
  EXPECT_TRUE(PlannedOps().empty());
  const int64_t writes = world_.Stats().writes();
  Sync();
  EXPECT_EQ(world_.Stats().writes(), writes);
  EXPECT_EQ(Members("Sales").size(), 3u);

  // The rule names another group: each user moves, once.
  WriteRule("user_group = \"Ops\"\n");
  EXPECT_EQ(PlannedOps(),
            (std::multiset<std::string>{"update user1@example.com", "update user2@example.com",
                                        "update user3@example.com"}));
  Sync();
  EXPECT_TRUE(Members("Sales").empty());
  members = Members("Ops");
  EXPECT_EQ(std::set<std::string>(members.begin(), members.end()), ids);
  EXPECT_EQ(members.size(), 3u);
  EXPECT_TRUE(PlannedOps().empty());

  // The rule names no group: every member leaves it, and that settles too.
  WriteRule("");
  EXPECT_EQ(PlannedOps().size(), 3u);
  Sync();
  EXPECT_TRUE(Members("Ops").empty());
  EXPECT_TRUE(PlannedOps().empty());
}

// The plan reads the membership the target holds: a member taken out of the group at the
// target is put back (one update), and an "add" of a present member, as RFC 7644 §3.5.2.1 asks,
// changes nothing on the emulator (no member listed twice).
TEST_P(ScimUserGroupsTest, PlanSeesMembershipChangedAtTheTarget) {
  WriteRule("user_group = \"Sales\"\n");
  Sync();
  ASSERT_EQ(Members("Sales").size(), 3u);
  const std::string group_id = GroupId("Sales");
  const std::string user1 = world_.ScimAccounts()["user1@example.com"].id;

  const std::string add = absl::StrCat(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:)",
                                       R"(PatchOp"],"Operations":[{"op":"add","path":"members",)",
                                       R"("value":[{"value":")", user1, R"("}]}]})");
  ASSERT_EQ(HttpPatch(Url("/Groups/" + group_id), world_.token(), add).status, 204);
  EXPECT_EQ(Members("Sales").size(), 3u) << "an add of a present member doubled it";

  const std::string remove =
      absl::StrCat(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)",
                   R"({"op":"remove","path":"members[value eq \")", user1, R"(\"]"}]})");
  ASSERT_EQ(HttpPatch(Url("/Groups/" + group_id), world_.token(), remove).status, 204);
  ASSERT_EQ(Members("Sales").size(), 2u);
  EXPECT_EQ(PlannedOps(), std::multiset<std::string>{"update user1@example.com"});
  Sync();
  EXPECT_EQ(Members("Sales").size(), 3u);
  EXPECT_TRUE(PlannedOps().empty());

  // The switch under test: Users carry "groups" only without --no-user-groups, in the listing
  // and in a single GET alike.
  const bool carried = !GetParam();
  EXPECT_EQ(JsonView(HttpGet(Url("/Users/" + user1), world_.token()).body).Has("/groups"), carried);
  JsonView listing(HttpGet(Url("/Users?startIndex=1&count=10"), world_.token()).body);
  ASSERT_EQ(listing.Int("/totalResults"), 3);
  for (int index = 0; index < 3; ++index) {
    EXPECT_EQ(listing.Has(absl::StrCat("/Resources/", index, "/groups")), carried) << index;
  }
}

// A plan file written before the move applies as it was planned: `apply` re-reads the
// membership the same way, so its drift check sees the group each user is in.
TEST_P(ScimUserGroupsTest, PlannedMoveApplies) {
  WriteRule("user_group = \"Sales\"\n");
  Sync();
  WriteRule("user_group = \"Ops\"\n");
  ProcessResult plan = world_.Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  ProcessResult apply = world_.Usersync({"apply", "--plan", "plan.json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_TRUE(Members("Sales").empty());
  EXPECT_EQ(Members("Ops").size(), 3u);
  EXPECT_TRUE(PlannedOps().empty());
}

INSTANTIATE_TEST_SUITE_P(UserGroupsOnUsers, ScimUserGroupsTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "NoUserGroups" : "WithUserGroups";
                         });

}  // namespace
}  // namespace usersync
