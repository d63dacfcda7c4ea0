// The entra source against the Graph face in-process (tools/target/emulator_graph.h on a
// loopback server), and against scripted answers for what the face never sends.
#include "io/entra/entra_directory.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "httplib.h"
#include "io/http/testing/fake_target_server.h"
#include "tools/target/emulator_graph.h"

namespace usersync::io {
namespace {

using http_testing::FakeTargetServer;

constexpr char kSecret[] = "s3cr+t";

constexpr char kSeed[] = R"json({
  "users": [
    {"id":"u-1","userPrincipalName":"ann@example.com","mail":"Ann@example.com","givenName":"Ann",
     "surname":"Lee","displayName":"Ann Lee","department":"Sales","accountEnabled":true},
    {"id":"u-2","userPrincipalName":"bob@example.com","mail":null,"givenName":"Bob",
     "surname":"Roe","accountEnabled":false},
    {"id":"u-3","userPrincipalName":"cy@example.com","mail":"cy@example.com","accountEnabled":true}
  ],
  "groups": [
    {"id":"g-a","displayName":"Alpha","members":["u-1","g-b"]},
    {"id":"g-b","displayName":"Beta","members":["u-3"]}
  ],
  "servicePrincipals": [{"id":"sp","appRoleAssignedTo":[
    {"principalId":"u-2","principalType":"User","appRoleId":"r-1"},
    {"principalId":"g-a","principalType":"Group","appRoleId":"r-2"},
    {"principalId":"sp-client","principalType":"ServicePrincipal","appRoleId":"r-1"}]}]
})json";

EntraSourceOptions Options(const FakeTargetServer& server) {
  EntraSourceOptions options;
  options.graph_url = server.base("");
  options.token_url = server.base("/tenant/oauth2/v2.0/token");
  options.client_id = "client";
  options.client_secret = kSecret;
  options.service_principal_id = "sp";
  options.page_size = 1;  // every collection is several pages
  options.schema.id = "id";
  options.schema.user_name = "userPrincipalName";
  options.schema.last_name = "surname";
  options.schema.display_name = "displayName";
  options.schema.extra = {"department"};
  options.pipeline = http_testing::FastPipeline();
  return options;
}

class EntraSourceTest : public ::testing::Test {
 protected:
  void StartFace() {
    absl::StatusOr<emulator::GraphSeed> seed = emulator::ParseGraphSeed(kSeed);
    ASSERT_TRUE(seed.ok()) << seed.status();
    face_ = std::make_unique<emulator::GraphFace>(
        emulator::GraphFaceOptions{
            .tenant_id = "tenant", .client_id = "client", .client_secret = kSecret},
        *std::move(seed));
    face_->Register(server_.server(), "");
    server_.Start();
    face_->SetBaseUrl(server_.base(""));
  }

  // A token endpoint granting every request, for the scripted tests.
  void ServeTokens() {
    server_.server().Post(
        "/tenant/oauth2/v2.0/token", [](const httplib::Request&, httplib::Response& res) {
          res.set_content(R"({"access_token":"t","expires_in":3600})", "application/json");
        });
  }

  // GET `path` answers `status` with `body`.
  void Serve(const std::string& path, int status, std::string body) {
    server_.server().Get(path, [status, body](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(body, "application/json");
    });
  }

  absl::StatusOr<core::Directory> Read(EntraSourceOptions options) {
    absl::StatusOr<std::unique_ptr<DirectorySource>> source = MakeEntraSource(std::move(options));
    if (!source.ok()) return source.status();
    return (*source)->Read();
  }

  FakeTargetServer server_;
  std::unique_ptr<emulator::GraphFace> face_;
};

TEST_F(EntraSourceTest, ReadsUsersGroupsAndAssignments) {
  StartFace();
  absl::StatusOr<core::Directory> dir = Read(Options(server_));
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_EQ(dir->user_count(), 3u);
  EXPECT_EQ(dir->user_id[0], "u-1");
  EXPECT_EQ(dir->email[0], "Ann@example.com");
  EXPECT_EQ(dir->email[1], "bob@example.com");  // no mail: the userPrincipalName
  EXPECT_EQ(dir->disabled[0], 0);
  EXPECT_EQ(dir->disabled[1], 1);
  EXPECT_EQ(dir->last_name[0], "Lee");
  EXPECT_EQ(dir->extra[0][0], "Sales");
  // g-a, g-b, then app-assignments and one group per app role, sorted.
  std::vector<std::string> groups(dir->group_dn.begin(), dir->group_dn.end());
  EXPECT_EQ(groups, (std::vector<std::string>{"g-a", "g-b", "app-assignments", "app-role:r-1",
                                              "app-role:r-2"}));
  EXPECT_EQ(dir->group_name[0], "Alpha");
  const auto member_count = [&](size_t group_idx) {
    auto [begin, end] = dir->MembersOf(static_cast<uint32_t>(group_idx));
    return end - begin;
  };
  EXPECT_EQ(member_count(0), 2);  // u-1 and the nested g-b
  EXPECT_EQ(member_count(2), 2);  // u-2 and g-a; the service principal is skipped
  EXPECT_EQ(member_count(3), 1);
  EXPECT_EQ(dir->unresolved_member_count, 0u);
}

TEST_F(EntraSourceTest, WithoutServicePrincipalNoAssignmentGroups) {
  StartFace();
  EntraSourceOptions options = Options(server_);
  options.service_principal_id.clear();
  absl::StatusOr<core::Directory> dir = Read(std::move(options));
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(dir->group_count(), 2u);
}

TEST_F(EntraSourceTest, AWrongSecretIsUnauthenticated) {
  StartFace();
  EntraSourceOptions options = Options(server_);
  options.client_secret = "wrong";
  absl::StatusOr<core::Directory> dir = Read(std::move(options));
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kUnauthenticated) << dir.status();
  EXPECT_EQ(std::string(dir.status().message()).find("wrong"), std::string::npos);
}

// A nextLink to another host would carry the token there: refused.
TEST_F(EntraSourceTest, ANextLinkOffTheGraphUrlIsRefused) {
  ServeTokens();
  Serve("/v1.0/users", 200,
        R"({"value":[],"@odata.nextLink":"https://elsewhere.example/v1.0/users?$skiptoken=1"})");
  server_.Start();
  absl::StatusOr<core::Directory> dir = Read(Options(server_));
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kDataLoss) << dir.status();
  EXPECT_NE(std::string(dir.status().message()).find("nextLink"), std::string::npos);
}

// A group deleted between the listing and its members read (404) is read as empty.
TEST_F(EntraSourceTest, AGroupGoneBeforeItsMembersAreReadIsEmpty) {
  ServeTokens();
  Serve("/v1.0/users", 200, R"({"value":[{"id":"u-1","userPrincipalName":"a@example.com"}]})");
  Serve("/v1.0/groups", 200, R"({"value":[{"id":"g-gone","displayName":"Gone"}]})");
  Serve("/v1.0/groups/g-gone/members", 404, R"({"error":{"code":"Request_ResourceNotFound"}})");
  server_.Start();
  EntraSourceOptions options = Options(server_);
  options.service_principal_id.clear();
  absl::StatusOr<core::Directory> dir = Read(std::move(options));
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_EQ(dir->group_count(), 1u);
  EXPECT_TRUE(dir->members.empty());
}

// HTTP 403 names the Graph permission the application lacks.
TEST_F(EntraSourceTest, AForbiddenCallNamesThePermission) {
  ServeTokens();
  Serve("/v1.0/users", 200, R"({"value":[]})");
  Serve("/v1.0/groups", 403, R"({"error":{"code":"Authorization_RequestDenied"}})");
  server_.Start();
  absl::StatusOr<core::Directory> dir = Read(Options(server_));
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kPermissionDenied) << dir.status();
  EXPECT_NE(std::string(dir.status().message()).find("GroupMember.Read.All"), std::string::npos)
      << dir.status();
}

}  // namespace
}  // namespace usersync::io
