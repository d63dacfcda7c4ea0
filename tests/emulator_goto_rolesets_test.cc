// Integration tests of usersync-target's GoTo role sets (tools/target/emulator_goto_rolesets.h):
// the real program on a loopback port, over real HTTP.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/emulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/json_view.h"

namespace usersync::testing {
namespace {

using Strings = std::vector<std::string>;

class EmulatorGotoRoleSetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator =
        EmulatorProcess::Start({"--role-set", "77=Helpdesk", "--role-set", "abc=Sales leads"});
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = *std::move(emulator);
    HttpResult created = Call("POST", "/users",
                              R"({"users":[{"email":"ann@example.com","firstName":"Ann",)"
                              R"("lastName":"Lee"}],"suppressEmail":true})");
    ASSERT_EQ(created.status, 201) << created.body;
  }

  HttpResult Call(const std::string& method, const std::string& path,
                  const std::string& body = "") const {
    return HttpRequest(method, emulator_->base_url() + "/admin/rest/v1/accounts/demo" + path,
                       emulator_->token(), body);
  }
  // Ann's roleSets, as the listing shows them (ids as text).
  Strings AnnRoleSets() const {
    JsonView listing(Call("GET", "/users").body);
    Strings ids;
    for (int64_t index = 0; index < listing.Size("/results/0/roleSets"); ++index) {
      const std::string at = absl::StrCat("/results/0/roleSets/", index);
      ids.push_back(listing.Int(at) != -999 ? std::to_string(listing.Int(at)) : listing.Str(at));
    }
    return ids;
  }

  std::unique_ptr<EmulatorProcess> emulator_;
};

constexpr char kAnnFilter[] = "?filter=email%20eq%20%22ann%40example.com%22";

TEST_F(EmulatorGotoRoleSetsTest, ListAssignReplaceAndRemove) {
  JsonView role_sets(Call("GET", "/rolesets").body);
  ASSERT_EQ(role_sets.Size("/results"), 2);
  EXPECT_EQ(role_sets.Int("/results/0/id"), 77);  // all digits: a JSON number
  EXPECT_EQ(role_sets.Str("/results/0/name"), "Helpdesk");
  EXPECT_EQ(role_sets.Str("/results/1/id"), "abc");
  EXPECT_TRUE(AnnRoleSets().empty());

  HttpResult assigned = Call("PUT", absl::StrCat("/rolesets/77/users", kAnnFilter), "{}");
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  EXPECT_EQ(AnnRoleSets(), (Strings{"77"}));
  // Another role set replaces the first.
  ASSERT_EQ(Call("PUT", absl::StrCat("/rolesets/abc/users", kAnnFilter), "{}").status, 200);
  EXPECT_EQ(AnnRoleSets(), (Strings{"abc"}));

  HttpResult removed = Call("DELETE", absl::StrCat("/users/rolesets", kAnnFilter));
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_TRUE(AnnRoleSets().empty());
}

TEST_F(EmulatorGotoRoleSetsTest, RefusesUnknownRoleSetsUsersAndFilters) {
  HttpResult unknown = Call("PUT", absl::StrCat("/rolesets/5/users", kAnnFilter), "{}");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(JsonView(unknown.body).Str("/errorCode"), "NOT_FOUND");
  HttpResult nobody =
      Call("PUT", "/rolesets/77/users?filter=email%20eq%20%22bob%40example.com%22", "{}");
  EXPECT_EQ(nobody.status, 404) << nobody.body;
  HttpResult plus = Call("PUT", "/rolesets/77/users?filter=email+eq+%22ann%40example.com%22", "{}");
  EXPECT_EQ(plus.status, 400) << plus.body;
  EXPECT_EQ(JsonView(plus.body).Str("/errorCode"), "INVALID_FILTER");
  EXPECT_EQ(Call("PUT", "/rolesets/77/users", "{}").status, 400);
  EXPECT_EQ(Call("POST", "/rolesets").status, 405);
  EXPECT_TRUE(AnnRoleSets().empty());
}

}  // namespace
}  // namespace usersync::testing
