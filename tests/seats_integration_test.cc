// End-to-end for issue 14 item 6, "Seats on updates too": the real `usersync` binary against
// the real `usersync-target --seats G2W=1`, on the GoTo face and on the SCIM face. An update
// adding G2W together with a language change, when no G2W seat is free, applies the language
// and reports the product "no seat for G2W"; once a seat is free, the next run adds it.
//
// The GoTo face reads the free seats before planning, so the plan itself leaves the products
// out (the user is in the invalid list, the update writes the language only, nothing is
// refused). The SCIM face says nothing of seats: the PATCH is refused (409 "NO_SEAT: ..."),
// sent again without the entitlements, and the product is reported in errors.log (exit 1).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/emulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/json_view.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::JsonView;
using testing::kStaffGroup;
using testing::ProcessResult;
using testing::RuleToml;
using testing::SyncWorld;
using testing::WorldConfig;

// An account of another company holding the only G2W seat.
constexpr char kHolder[] = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
                           R"("userName":"holder@other.org","externalId":"holder",)"
                           R"("name":{"givenName":"Seat","familyName":"Holder"},"active":true,)"
                           R"("entitlements":[{"value":"G2W"}]})"
                           "\n";

class SeatsOnUpdatesTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::string face() const { return GetParam(); }

  void WriteConfig(const std::string& products, const std::string& language) {
    WorldConfig config;
    config.target_kind = face();
    config.rules = RuleToml("Staff", 1, kStaffGroup, products,
                            absl::StrCat("language = \"", language, "\"\n"));
    world_.WriteConfig(config);
  }

  std::string GotoUsers() const {
    return world_.target().base_url() + "/admin/rest/v1/accounts/demo/users";
  }

  // The GoTo face's user with `email` (one store behind both faces), as JSON.
  std::string GotoUser(const std::string& email) const {
    const std::string url = absl::StrCat(GotoUsers(), "?filter=email%20eq%20%22", email, "%22");
    testing::HttpResult result = testing::HttpGet(url, world_.token());
    EXPECT_EQ(result.status, 200) << result.body;
    return result.body;
  }

  SyncWorld world_{"seats"};
};

TEST_P(SeatsOnUpdatesTest, UpdateLackingASeatAppliesTheRestAndReportsTheProduct) {
  world_.WriteFile("seed.jsonl", kHolder);
  ASSERT_TRUE(
      world_.StartTarget({"--seats", "G2W=1", "--seed-accounts", world_.Path("seed.jsonl")}).ok());
  world_.WriteDirectory(testing::NumberedUsers(1));
  WriteConfig("\"G2M\"", "de_DE");
  ProcessResult create = world_.Usersync({"sync"});
  ASSERT_EQ(create.exit_code, 0) << create.out << create.err;

  // The rule now adds G2W and changes the language; the holder keeps the only G2W seat.
  WriteConfig("\"G2M\", \"G2W\"", "fr_FR");
  ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const testing::PlanJson planned = testing::ParsePlanJson(plan.out);
  ASSERT_EQ(planned.operations.size(), 1u) << plan.out;
  if (face() == "goto") {  // seats known at plan time: the products are left out of the plan
    ASSERT_EQ(planned.invalid.size(), 1u) << plan.out;
    EXPECT_TRUE(Contains(planned.invalid[0].reason, "no seat for G2W"));
    EXPECT_TRUE(Contains(plan.out, R"("language":{"before")"));
    EXPECT_TRUE(testing::Lacks(plan.out, R"("products":{"before")"));
  }

  ProcessResult partial = world_.Usersync({"sync"});
  EXPECT_EQ(partial.exit_code, face() == "goto" ? 0 : 1) << partial.out << partial.err;
  if (face() == "goto") {  // the plan's invalid list, as the run prints it
    EXPECT_TRUE(Contains(partial.out, "no seat for G2W"));
  } else {  // the refused products, in the error log
    EXPECT_TRUE(Contains(world_.ReadFile("logs/errors.log"), "no seat for G2W"));
  }
  {
    JsonView user(GotoUser("user1@example.com"));
    EXPECT_EQ(user.Str("/results/0/locale"), "fr_FR");
    EXPECT_EQ(user.Strings("/results/0/products"), std::vector<std::string>{"G2M"});
  }

  // A seat comes free (the holder is suspended): the next run adds the product.
  JsonView holder(GotoUser("holder@other.org"));
  const std::string holder_key = holder.Str("/results/0/key");
  testing::HttpResult suspend = testing::HttpPut(absl::StrCat(GotoUsers(), "/", holder_key),
                                                 world_.token(), R"({"status":"SUSPENDED"})");
  ASSERT_EQ(suspend.status, 200) << suspend.body;
  ProcessResult full = world_.Usersync({"sync"});
  EXPECT_EQ(full.exit_code, 0) << full.out << full.err;
  JsonView user(GotoUser("user1@example.com"));
  EXPECT_EQ(user.Strings("/results/0/products"), (std::vector<std::string>{"G2M", "G2W"}));
  EXPECT_EQ(user.Str("/results/0/locale"), "fr_FR");

  ProcessResult settled = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(settled.exit_code, 0) << settled.err;
  EXPECT_TRUE(testing::ParsePlanJson(settled.out).operations.empty()) << settled.out;
}

INSTANTIATE_TEST_SUITE_P(Faces, SeatsOnUpdatesTest, ::testing::Values("goto", "scim"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

}  // namespace
}  // namespace usersync
