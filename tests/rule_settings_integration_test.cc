// End-to-end for issue 14 item 1 (the whole User Sync rule reaches both faces): the real
// `usersync` binary against the real `usersync-target`, on its SCIM face and on its GoTo face.
// A rule using every setting gives an account holding each, read back from the emulator
// directly (SCIM: core attributes and usersync's extension, io/scim_extension.h; GoTo: the
// user object, io/goto/GOTO_SHAPES.md); changing any single setting plans exactly that update,
// and once applied the next plan is empty. The welcome template is create-only: changing it
// plans nothing (README "Rules").
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/scim_extension.h"
#include "tests/support/http_client.h"
#include "tests/support/json_view.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using Strings = std::vector<std::string>;

// A rule's settings, written as TOML keys; each test changes one of them.
struct RuleSettingsToml {
  std::string products = "\"G2M\"";
  std::string admin = "manager";
  std::string privileges = "\"MANAGE_USERS\"";
  std::string managed_groups = "\"Sales\"";  // SCIM only: refused for goto targets
  std::string language = "de_DE";
  std::string user_group = "Staff";
  std::string device_groups = "\"Laptops\", \"Kiosks\"";
  std::string settings_template = "Standard";
  std::string welcome_template = "onboarding";
};

class RuleSettingsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.StartTarget().ok());
    testing::StaffDirectory directory(std::vector<testing::DirectoryUser>{{"user1", "Sn-user1"}});
    directory.mail_domain = "example.com";
    world_.WriteLdif(directory.Ldif());
  }

  bool is_goto() const { return GetParam() == "goto"; }

  void WriteRule(const RuleSettingsToml& settings) {
    std::string keys = absl::StrCat(
        "admin = \"", settings.admin, "\"\nprivileges = [", settings.privileges, "]\n",
        "language = \"", settings.language, "\"\nuser_group = \"", settings.user_group, "\"\n",
        "device_groups = [", settings.device_groups, "]\n", "settings_template = \"",
        settings.settings_template, "\"\nwelcome_template = \"", settings.welcome_template, "\"\n");
    if (!is_goto()) absl::StrAppend(&keys, "managed_groups = [", settings.managed_groups, "]\n");
    testing::WorldConfig config;
    config.target_kind = GetParam();
    config.rules = testing::RuleToml("Staff", 1, testing::kStaffGroup, settings.products, keys);
    world_.WriteConfig(config);
  }

  void Sync() {
    testing::ProcessResult run = world_.Usersync({"sync"});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  }

  testing::PlanJson Plan() {
    testing::ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
    EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
    return testing::ParsePlanJson(plan.out);
  }

  // user1 as the face lists it: GoTo's user object, or SCIM's User resource.
  testing::JsonView User() const {
    const std::string url = is_goto()
                                ? world_.target().base_url() +
                                      "/admin/rest/v1/accounts/demo/users?filter=email%20eq%20%22"
                                      "user1%40example.com%22"
                                : world_.target().scim_url() +
                                      "/Users?filter=userName%20eq%20%22user1%40example.com%22";
    testing::HttpResult page = testing::HttpGet(url, world_.token());
    EXPECT_EQ(page.status, 200) << page.body;
    return testing::JsonView(page.body);
  }
  static std::string Pointer(const std::string& under, const std::string& name) {
    return absl::StrCat(under, "/", name);
  }
  // SCIM: "/Resources/0/<URN>/NAME" (JSON pointer: the URN holds no '/' or '~').
  static std::string Extension(const std::string& name) {
    return absl::StrCat("/Resources/0/", std::string(io::kRuleSettingsUrn), "/", name);
  }

  testing::SyncWorld world_{"rule_settings"};
};

// Every setting of one rule reaches the account, read from the emulator itself.
TEST_P(RuleSettingsTest, EverySettingReachesTheAccount) {
  WriteRule(RuleSettingsToml());
  Sync();
  const testing::JsonView user = User();
  if (is_goto()) {
    const std::string at = "/results/0";
    EXPECT_EQ(user.Strings(Pointer(at, "products")), (Strings{"G2M"}));
    EXPECT_EQ(user.Strings(Pointer(at, "adminRoles")), (Strings{"MANAGE_USERS"}));
    EXPECT_EQ(user.Str(Pointer(at, "locale")), "de_DE");
    EXPECT_EQ(user.Str(Pointer(at, "userGroup")), "Staff");
    EXPECT_EQ(user.Strings(Pointer(at, "deviceGroups")), (Strings{"Kiosks", "Laptops"}));
    EXPECT_EQ(user.Str(Pointer(at, "settingsTemplate")), "Standard");
    testing::HttpResult outbox =
        testing::HttpGet(world_.target().base_url() + "/_emulator/outbox", world_.token());
    ASSERT_EQ(outbox.status, 200);
    EXPECT_NE(outbox.body.find(R"("template":"onboarding")"), std::string::npos) << outbox.body;
  } else {
    const std::string at = "/Resources/0";
    EXPECT_EQ(user.Str(Pointer(at, "entitlements/0/value")), "G2M");
    EXPECT_EQ(user.Str(Pointer(at, "roles/0/value")), "manager");
    EXPECT_EQ(user.Str(Pointer(at, "preferredLanguage")), "de_DE");
    EXPECT_EQ(user.Str(Pointer(at, "groups/0/display")), "Staff");
    EXPECT_EQ(
        user.Strings(Pointer(at, "schemas")),
        (Strings{"urn:ietf:params:scim:schemas:core:2.0:User", std::string(io::kRuleSettingsUrn)}));
    EXPECT_EQ(user.Strings(Extension("privileges")), (Strings{"MANAGE_USERS"}));
    EXPECT_EQ(user.Strings(Extension("managedGroups")), (Strings{"Sales"}));
    EXPECT_EQ(user.Strings(Extension("deviceGroups")), (Strings{"Kiosks", "Laptops"}));
    EXPECT_EQ(user.Str(Extension("settingsTemplate")), "Standard");
    EXPECT_EQ(user.Str(Extension("welcomeTemplate")), "onboarding");
  }
  const testing::PlanJson again = Plan();
  EXPECT_TRUE(again.operations.empty()) << again.operations[0].reason;
}

// One setting changed in the file → one update holding exactly that change; applied, the
// next plan is empty.
TEST_P(RuleSettingsTest, ChangingAnySingleSettingPlansExactlyThatUpdate) {
  WriteRule(RuleSettingsToml());
  Sync();
  struct Case {
    std::string field;  // the plan's field name
    std::string after;  // its value in the plan
    void (*change)(RuleSettingsToml&);
  };
  std::vector<Case> cases = {
      {"products", "G2M,G2W", [](RuleSettingsToml& s) { s.products = "\"G2W\", \"G2M\""; }},
      {"privileges", "MANAGE_SEATS,MANAGE_USERS",
       [](RuleSettingsToml& s) { s.privileges = "\"MANAGE_USERS\", \"MANAGE_SEATS\""; }},
      {"language", "fr_FR", [](RuleSettingsToml& s) { s.language = "fr_FR"; }},
      {"user_group", "Support", [](RuleSettingsToml& s) { s.user_group = "Support"; }},
      {"device_groups", "Kiosks", [](RuleSettingsToml& s) { s.device_groups = "\"Kiosks\""; }},
      {"settings_template", "Restricted",
       [](RuleSettingsToml& s) { s.settings_template = "Restricted"; }},
  };
  if (!is_goto()) {
    cases.push_back({"managed_groups", "Sales,Support",
                     [](RuleSettingsToml& s) { s.managed_groups = "\"Support\", \"Sales\""; }});
  }
  RuleSettingsToml settings;
  for (const Case& one : cases) {
    SCOPED_TRACE(one.field);
    one.change(settings);
    WriteRule(settings);
    const testing::PlanJson plan = Plan();
    ASSERT_EQ(plan.operations.size(), 1u);
    EXPECT_EQ(plan.operations[0].op, "update");
    EXPECT_EQ(plan.operations[0].changes,
              (std::vector<std::pair<std::string, std::string>>{{one.field, one.after}}))
        << plan.operations[0].reason;
    Sync();
    const testing::PlanJson after = Plan();
    EXPECT_TRUE(after.operations.empty()) << after.operations[0].reason;
  }
  // Create-only: a new welcome template plans nothing for an existing account.
  settings.welcome_template = "second-welcome";
  WriteRule(settings);
  EXPECT_TRUE(Plan().operations.empty());
}

// Removing the lists and templates clears them at the target, and the state is stable.
TEST_P(RuleSettingsTest, ClearedSettingsLeaveTheAccount) {
  WriteRule(RuleSettingsToml());
  Sync();
  RuleSettingsToml cleared;
  cleared.device_groups = "";
  cleared.settings_template = "";
  WriteRule(cleared);
  const testing::PlanJson plan = Plan();
  ASSERT_EQ(plan.operations.size(), 1u);
  EXPECT_EQ(plan.operations[0].changes, (std::vector<std::pair<std::string, std::string>>{
                                            {"device_groups", ""}, {"settings_template", ""}}));
  Sync();
  EXPECT_TRUE(Plan().operations.empty());
  const testing::JsonView user = User();
  if (is_goto()) {
    EXPECT_EQ(user.Size("/results/0/deviceGroups"), 0);
    EXPECT_TRUE(user.IsNull("/results/0/settingsTemplate"));
  } else {
    EXPECT_FALSE(user.Has(Extension("deviceGroups")));
    EXPECT_FALSE(user.Has(Extension("settingsTemplate")));
    EXPECT_EQ(user.Strings(Extension("privileges")), (Strings{"MANAGE_USERS"}));
  }
}

INSTANTIATE_TEST_SUITE_P(BothFaces, RuleSettingsTest, ::testing::Values("scim", "goto"),
                         [](const ::testing::TestParamInfo<std::string>& face) {
                           return face.param;
                         });

}  // namespace
}  // namespace usersync
