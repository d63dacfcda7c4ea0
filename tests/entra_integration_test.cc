// End-to-end for issue 15 items 1-3: `usersync` with source.kind = "entra" reading the Graph
// face (usersync-graph) with the client credentials grant, provisioning into usersync-target.
//  - the application's assignments are the scope: a directly assigned user, an assigned group
//    and the group nested inside it are provisioned; a disabled assigned user and an
//    unassigned user are not; a rule keyed on an app role ("app-role:<id>") applies;
//  - paging: $top = 2 makes every collection several pages, all followed;
//  - a 429 storm on Graph completes (Retry-After honoured) with the same result;
//  - tokens that live 2 s, renewed during the run, cost no failed operation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/graph_process.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::GraphProcess;
using testing::ProcessResult;
using testing::RuleToml;
using testing::SyncWorld;
using testing::WorldConfig;

constexpr char kServicePrincipal[] = "sp-0001";
constexpr char kAdminRole[] = "role-admin-0001";
constexpr char kUserRole[] = "role-user-0002";

std::string User(const std::string& id, const std::string& name, bool enabled = true) {
  return absl::StrCat(R"({"id":")", id, R"(","userPrincipalName":")", name,
                      R"(@example.com","mail":")", name, R"(@example.com","givenName":")", name,
                      R"(","surname":"Test","displayName":")", name,
                      R"( Test","preferredLanguage":"en-US","accountEnabled":)",
                      enabled ? "true" : "false", R"(,"businessPhones":[]})");
}

// alice: assigned directly (admin role); sales (user role) holds bob and the nested group
// nested, which holds carol; dave is assigned directly but disabled; erin is in no assignment.
std::string Seed() {
  return absl::StrCat(R"({"users":[)", User("u-alice", "alice"), ",", User("u-bob", "bob"), ",",
                      User("u-carol", "carol"), ",", User("u-dave", "dave", false), ",",
                      User("u-erin", "erin"),
                      R"(],"groups":[
        {"id":"g-sales","displayName":"Sales","members":["u-bob","g-nested"]},
        {"id":"g-nested","displayName":"Sales EMEA","members":["u-carol"]},
        {"id":"g-other","displayName":"Other","members":["u-erin"]}],
      "servicePrincipals":[{"id":")",
                      kServicePrincipal, R"(","appRoleAssignedTo":[
        {"principalId":"u-alice","principalType":"User","appRoleId":")",
                      kAdminRole, R"("},
        {"principalId":"g-sales","principalType":"Group","appRoleId":")",
                      kUserRole, R"("},
        {"principalId":"u-dave","principalType":"User","appRoleId":")",
                      kUserRole, R"("}]}]})");
}

class EntraIntegrationTest : public ::testing::Test {
 protected:
  void StartGraph(std::vector<std::string> args = {}) {
    ASSERT_TRUE(world_.StartTarget().ok());
    world_.WriteFile("graph_seed.json", Seed());
    absl::StatusOr<std::unique_ptr<GraphProcess>> graph =
        GraphProcess::Start(world_.Path("graph_seed.json"), std::move(args));
    ASSERT_TRUE(graph.ok()) << graph.status();
    graph_ = *std::move(graph);
    WorldConfig config;
    config.source =
        absl::StrCat("kind = \"entra\"\ngraph_url = \"", graph_->base_url(), "\"\nauthority = \"",
                     graph_->base_url(), "\"\ntenant_id = \"", testing::kGraphTenant,
                     "\"\nclient_id = \"", testing::kGraphClientId,
                     "\"\nclient_secret_env = \"ENTRA_SECRET\"\n", "service_principal_id = \"",
                     kServicePrincipal, "\"\npage_size = 2\nrate = 1000\n", "burst = 100\n");
    config.scope_group = "app-assignments";
    config.rules = RuleToml("Admins", 1, absl::StrCat("app-role:", kAdminRole), "\"G2M\"") +
                   RuleToml("Users", 2, "app-assignments", "\"G2W\"");
    world_.WriteConfig(config);
  }

  ProcessResult Usersync(std::vector<std::string> args) {
    return world_.Usersync(std::move(args), {{"ENTRA_SECRET", testing::kGraphClientSecret}});
  }

  std::vector<std::string> UserNames() const {
    std::vector<std::string> names;
    for (const auto& [id, account] : world_.ScimAccounts()) {
      if (account.active) names.push_back(account.user_name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  SyncWorld world_{"entra"};
  std::unique_ptr<GraphProcess> graph_;
};

// A counter of the face's /_graph/stats ({"requests":N,...}); -1 when absent.
int64_t GraphStat(const std::string& json, const std::string& name) {
  const std::string key = absl::StrCat("\"", name, "\":");
  const size_t at = json.find(key);
  int64_t value = -1;
  if (at == std::string::npos) return value;
  const std::string rest = json.substr(at + key.size());
  if (!absl::SimpleAtoi(rest.substr(0, rest.find_first_of(",}")), &value)) return -1;
  return value;
}

const std::vector<std::string> kAssigned = {"alice@example.com", "bob@example.com",
                                            "carol@example.com"};

TEST_F(EntraIntegrationTest, AssignedUsersAndNestedGroupMembersAreProvisioned) {
  StartGraph();
  ProcessResult sync = Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(UserNames(), kAssigned);
  EXPECT_EQ(world_.Stats().creates, 3);
  // Nothing secret reached the output.
  EXPECT_EQ(sync.err.find(testing::kGraphClientSecret), std::string::npos);
  EXPECT_EQ(sync.out.find(testing::kGraphClientSecret), std::string::npos);
}

// alice's rule comes from her app role, the others' from the assignment group.
TEST_F(EntraIntegrationTest, ARuleKeyedOnAnAppRoleApplies) {
  StartGraph();
  ProcessResult plan = Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  testing::PlanJson json = testing::ParsePlanJson(plan.out);
  ASSERT_TRUE(json.parsed) << plan.out;
  ASSERT_EQ(json.operations.size(), 3u) << plan.out;
  for (const testing::PlannedOperation& op : json.operations) {
    EXPECT_EQ(op.op, "create");
    const std::string rule = op.directory_id == "u-alice" ? "Admins" : "Users";
    EXPECT_TRUE(Contains(op.reason, absl::StrCat("rule ", rule))) << op.directory_id;
  }
}

// Every 3rd Graph request answers 429 (Retry-After: 1): the read completes, as without.
TEST_F(EntraIntegrationTest, AThrottlingStormCompletes) {
  StartGraph({"--throttle-every", "3"});
  ProcessResult sync = Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(UserNames(), kAssigned);
  const std::string stats = graph_->StatsJson();
  EXPECT_GE(GraphStat(stats, "throttled"), 3) << stats;
}

// A storm: the first 4 Graph requests in a row answer 429; the first page is retried through
// all of them and the run ends as without.
TEST_F(EntraIntegrationTest, ConsecutiveThrottlingIsWaitedOut) {
  StartGraph({"--retry-after", "0"});
  graph_->Storm(4);
  ProcessResult sync = Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(UserNames(), kAssigned);
  EXPECT_EQ(GraphStat(graph_->StatsJson(), "throttled"), 4) << graph_->StatsJson();
}

// Tokens live 2 s and every request waits out a 1 s Retry-After every other time: the run
// outlives several tokens, renews them, and no Graph request is refused for its token.
TEST_F(EntraIntegrationTest, ShortLivedTokensAreRenewedMidRun) {
  StartGraph({"--token-ttl", "2", "--throttle-every", "2"});
  ProcessResult sync = Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(UserNames(), kAssigned);
  const std::string stats = graph_->StatsJson();
  EXPECT_EQ(GraphStat(stats, "unauthorized"), 0) << stats;
  EXPECT_GE(GraphStat(stats, "tokens"), 2) << stats;
}

// A wrong client secret stops the run before anything is planned, naming the cause.
TEST_F(EntraIntegrationTest, AWrongSecretIsRefused) {
  StartGraph();
  ProcessResult sync = world_.Usersync({"sync"}, {{"ENTRA_SECRET", "not-the-secret"}});
  EXPECT_NE(sync.exit_code, 0);
  EXPECT_TRUE(Contains(sync.err, "invalid_client")) << sync.err;
  EXPECT_EQ(world_.Stats().creates, 0);
}

// Issue 15's delta cases on the Graph face. A first `sync --delta` is full (and takes the
// delta links); then three changes in Entra (carol renamed, bob deleted and so out of Sales,
// erin added to Sales) make a delta cycle that reads those three entries only, deactivates bob,
// updates carol and creates erin; a full plan afterwards has nothing to do.
TEST_F(EntraIntegrationTest, ADeltaCycleReadsAndAppliesExactlyThreeChanges) {
  StartGraph();
  ProcessResult first = Usersync({"sync", "--delta"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_TRUE(Contains(first.out, "Cycle: full (no snapshot of an earlier cycle"));
  EXPECT_EQ(UserNames(), kAssigned);

  std::string carol = User("u-carol", "carol");
  carol.replace(carol.find("\"surname\":\"Test\""), 16, "\"surname\":\"Renamed\"");
  ASSERT_EQ(
      graph_->Mutate(absl::StrCat(R"({"upsert_users":[)", carol, R"(],"delete_users":["u-bob"],)",
                                  R"("remove_members":[["g-sales","u-bob"]],)",
                                  R"("add_members":[["g-sales","u-erin"]]})")),
      204);
  ProcessResult delta = Usersync({"sync", "--delta"});
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_TRUE(Contains(delta.out,
                       "Cycle: delta (read 3 directory entries, 3 changed; 3 users "
                       "planned"));
  EXPECT_EQ(UserNames(), (std::vector<std::string>{"alice@example.com", "carol@example.com",
                                                   "erin@example.com"}));
  EXPECT_EQ(world_.ScimAccounts()["carol@example.com"].family_name, "Renamed");
  EXPECT_FALSE(world_.ScimAccounts()["bob@example.com"].active);
  ProcessResult plan = Usersync({"plan", "--format", "json"});
  testing::PlanJson json = testing::ParsePlanJson(plan.out);
  ASSERT_TRUE(json.parsed) << plan.out << plan.err;
  EXPECT_TRUE(json.operations.empty()) << plan.out;
}

// Graph no longer serves the stored delta links (syncStateNotFound): the next cycle is a full
// one that says so and applies the change all the same; the one after is a delta again.
TEST_F(EntraIntegrationTest, AnExpiredDeltaLinkFallsBackToAFullCycle) {
  StartGraph();
  ASSERT_EQ(Usersync({"sync", "--delta"}).exit_code, 0);
  ASSERT_EQ(graph_->ExpireDeltas(), 204);
  ASSERT_EQ(graph_->Mutate(R"({"add_members":[["g-sales","u-erin"]]})"), 204);
  ProcessResult expired = Usersync({"sync", "--delta"});
  ASSERT_EQ(expired.exit_code, 0) << expired.out << expired.err;
  EXPECT_TRUE(Contains(expired.out,
                       "Cycle: full (Microsoft Graph, GET /users/delta: the delta "
                       "link expired or was refused (HTTP 400)"));
  EXPECT_EQ(world_.Stats().creates, 4);
  ProcessResult next = Usersync({"sync", "--delta"});
  EXPECT_TRUE(Contains(next.out, "Cycle: delta (read 0 directory entries")) << next.out;
}

}  // namespace
}  // namespace usersync
