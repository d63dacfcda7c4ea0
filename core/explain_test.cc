#include "core/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestGroup;
using testing::AddTestUser;
using ::testing::ElementsAre;
using testing::GroupDn;
using ::testing::HasSubstr;
using testing::SyncedAccount;
using testing::UserDn;

const SettingOrigin* FindSetting(const Explanation& e, std::string_view name) {
  for (const SettingOrigin& setting : e.settings) {
    if (setting.setting == name) return &setting;
  }
  return nullptr;
}

// all ∋ sales ∋ team-a ∋ ann (three levels of nesting); bob sits directly in all; out is in no
// scoped group; off is disabled. Rules: Organizers (priority 1, team-a) and Staff (priority 5,
// all), both with device groups; Staff also sets a language.
class ExplainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DirectoryBuilder builder;
    AddTestUser(builder, {.name = "ann", .language = "fr_FR"});
    AddTestUser(builder, {.name = "bob", .language = "not a tag!"});
    AddTestUser(builder, {.name = "out"});
    AddTestUser(builder, {.name = "off", .disabled = true});
    AddTestUser(builder, {.name = "cy"});
    AddTestGroup(builder, "all", {"g:sales", "bob", "off", "cy"});
    AddTestGroup(builder, "sales", {"g:team-a"});
    AddTestGroup(builder, "team-a", {"ann", "g:sales"});  // a cycle: sales ∋ team-a ∋ sales
    AddTestGroup(builder, "other", {"out"});
    dir_ = std::move(builder).Finish();

    config_.scope_groups = {GroupDn("all")};
    config_.validated_domains = {"example.com"};
    config_.deprovision.max_changes_percent = 100;
    Rule staff;
    staff.name = "Staff";
    staff.priority = 5;
    staff.group = GroupDn("all");
    staff.products = {"G2M"};
    staff.language = "de_DE";
    staff.user_group = "Everyone";
    staff.device_groups = {"DG-all"};
    Rule organizers;
    organizers.name = "Organizers";
    organizers.priority = 1;
    organizers.group = GroupDn("team-a");
    organizers.products = {"G2W", "G2M"};
    organizers.admin = AdminRole::kManager;
    organizers.user_group = "Sales";
    organizers.welcome_template = "welcome-sales";
    organizers.device_groups = {"DG-sales", "DG-all"};
    organizers.managed_groups = {"Sales", "Europe"};
    organizers.settings_template = "Organizer settings";
    config_.rules = {staff, organizers};  // configuration order is not priority order

    Account bob = SyncedAccount(accounts_, "bob", "acc-bob");
    bob.external_id = {};
    bob.products = accounts_.Store("G2M");
    bob.user_group = accounts_.Store("Everyone");
    bob.language = accounts_.Store("de_DE");
    accounts_.items.push_back(bob);
    Account cy = SyncedAccount(accounts_, "someone-else", "acc-cy");
    cy.external_id = {};
    accounts_.items.push_back(cy);
    accounts_.items.push_back(SyncedAccount(accounts_, "stranger", "acc-stranger"));
    manual_ = {{"id-cy", "acc-cy", true}};
  }

  std::vector<Explanation> Run(std::string_view query) {
    plan_ = ComputePlan(dir_, accounts_, links_, manual_, config_);
    return Explain(dir_, accounts_, links_, manual_, config_, plan_, query);
  }

  Directory dir_;
  Accounts accounts_;
  std::vector<Link> links_;
  std::vector<Link> manual_;
  PlanConfig config_;
  Plan plan_;
};

TEST_F(ExplainTest, GroupPathFollowsEveryNestingStep) {
  std::vector<Explanation> found = Run("ann@example.com");
  ASSERT_EQ(found.size(), 1u);
  const Explanation& ann = found[0];
  EXPECT_EQ(ann.subject, ExplainSubject::kDirectoryUser);
  EXPECT_TRUE(ann.in_scope);
  EXPECT_THAT(ann.scope_path, ElementsAre(GroupDn("all"), GroupDn("sales"), GroupDn("team-a")));
  EXPECT_EQ(ann.category, "new");
  EXPECT_EQ(ann.match_method, "none");
  ASSERT_EQ(ann.operations.size(), 1u);
  EXPECT_EQ(ann.operations[0].kind, OpKind::kCreate);
}

// The first rule by priority gives every single-valued setting, even where a later rule also
// sets one (Staff's language); device groups are merged across both rules.
TEST_F(ExplainTest, FirstRuleWinsAndDeviceGroupsMerge) {
  std::vector<Explanation> found = Run("id-ann");
  ASSERT_EQ(found.size(), 1u);
  const Explanation& ann = found[0];
  ASSERT_EQ(ann.rules.size(), 2u);
  EXPECT_EQ(ann.rules[0].name, "Organizers");
  EXPECT_TRUE(ann.rules[0].winner);
  EXPECT_THAT(ann.rules[0].group_path, ElementsAre(GroupDn("team-a")));
  EXPECT_EQ(ann.rules[1].name, "Staff");
  EXPECT_FALSE(ann.rules[1].winner);
  EXPECT_THAT(ann.rules[1].group_path,
              ElementsAre(GroupDn("all"), GroupDn("sales"), GroupDn("team-a")));

  const SettingOrigin* products = FindSetting(ann, "products");
  ASSERT_NE(products, nullptr);
  EXPECT_EQ(products->value, "G2M,G2W");
  EXPECT_EQ(products->origin, "rule Organizers (priority 1)");
  EXPECT_EQ(FindSetting(ann, "admin role")->value, "manager");
  EXPECT_EQ(FindSetting(ann, "user group")->value, "Sales");
  EXPECT_EQ(FindSetting(ann, "welcome template")->value, "welcome-sales");
  EXPECT_THAT(FindSetting(ann, "welcome template")->origin, HasSubstr("create only"));
  EXPECT_EQ(FindSetting(ann, "managed groups")->value, "Europe,Sales");
  EXPECT_EQ(FindSetting(ann, "settings template")->value, "Organizer settings");
  // Organizers sets no language: the directory's, not Staff's.
  EXPECT_EQ(FindSetting(ann, "language")->value, "fr_FR");
  EXPECT_THAT(FindSetting(ann, "language")->origin, HasSubstr("the directory"));
  const SettingOrigin* devices = FindSetting(ann, "device groups");
  EXPECT_EQ(devices->value, "DG-all,DG-sales");
  EXPECT_THAT(devices->origin, HasSubstr("rule Organizers: DG-all,DG-sales"));
  EXPECT_THAT(devices->origin, HasSubstr("rule Staff: DG-all"));
  // The plan agrees with the explanation.
  EXPECT_EQ(ann.operations[0].spec.products, products->value);
  EXPECT_EQ(ann.operations[0].spec.language, "fr_FR");
  EXPECT_EQ(ann.operations[0].spec.device_groups, devices->value);
  EXPECT_EQ(ann.operations[0].spec.managed_groups, "Europe,Sales");

  const std::string text = FormatExplanation(ann);
  EXPECT_THAT(text, HasSubstr("* Organizers (priority 1) [first: wins]"));
  EXPECT_THAT(text, HasSubstr("> " + UserDn("ann")));
}

TEST_F(ExplainTest, DirectMemberMatchedByEmailInSync) {
  std::vector<Explanation> found = Run("BOB");  // by user name, any case
  ASSERT_EQ(found.size(), 1u);
  const Explanation& bob = found[0];
  EXPECT_THAT(bob.scope_path, ElementsAre(GroupDn("all")));
  ASSERT_EQ(bob.rules.size(), 1u);
  EXPECT_EQ(bob.rules[0].name, "Staff");
  EXPECT_EQ(FindSetting(bob, "language")->value, "de_DE");
  EXPECT_EQ(FindSetting(bob, "language")->origin, "rule Staff (priority 5)");
  EXPECT_EQ(bob.match_method, "email");
  EXPECT_EQ(bob.account_id, "acc-bob");
  ASSERT_EQ(bob.operations.size(), 1u);  // link it (externalId is written)
  EXPECT_EQ(bob.operations[0].kind, OpKind::kLink);
}

TEST_F(ExplainTest, ManualMatchIsNamed) {
  std::vector<Explanation> found = Run("cy@example.com");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].match_method, "manual");
  EXPECT_EQ(found[0].account_id, "acc-cy");
  EXPECT_THAT(FormatExplanation(found[0]), HasSubstr("Match: manual → account acc-cy"));
}

TEST_F(ExplainTest, OutOfScopeAndDisabledUsersSayWhy) {
  std::vector<Explanation> out = Run("out@example.com");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].in_scope);
  EXPECT_EQ(out[0].category, "out_of_scope");
  EXPECT_TRUE(out[0].scope_path.empty());
  EXPECT_TRUE(out[0].settings.empty());
  EXPECT_THAT(FormatExplanation(out[0]), HasSubstr("not a member (direct or nested)"));

  std::vector<Explanation> off = Run(UserDn("off"));  // by DN
  ASSERT_EQ(off.size(), 1u);
  EXPECT_FALSE(off[0].in_scope);
  EXPECT_EQ(off[0].reason, "disabled in the directory");
  EXPECT_THAT(off[0].scope_path, ElementsAre(GroupDn("all")));
}

TEST_F(ExplainTest, AccountOnlyByAccountId) {
  std::vector<Explanation> found = Run("acc-stranger");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].subject, ExplainSubject::kAccount);
  EXPECT_EQ(found[0].category, "account_only");
  EXPECT_TRUE(found[0].operations.empty());
  EXPECT_THAT(FormatExplanation(found[0]), HasSubstr("Category: account-only"));
}

TEST_F(ExplainTest, UnknownUserFindsNothing) {
  EXPECT_TRUE(Run("nobody@example.com").empty());
  EXPECT_TRUE(Run("  ").empty());
}

// The welcome-email setting: the winning rule's when it says, else the target's; the plan's
// create carries the same value. Shown only when suppressed.
TEST_F(ExplainTest, WelcomeEmailFollowsTheWinningRuleElseTheTarget) {
  Rule& organizers = config_.rules[1];
  config_.suppress_welcome = true;
  Explanation ann = Run("id-ann").at(0);
  ASSERT_NE(FindSetting(ann, "welcome email"), nullptr);
  EXPECT_EQ(FindSetting(ann, "welcome email")->value, "suppressed");
  EXPECT_EQ(FindSetting(ann, "welcome email")->origin, "target.suppress_welcome");
  EXPECT_TRUE(ann.operations.at(0).spec.suppress_welcome);

  organizers.suppress_welcome = false;
  ann = Run("id-ann").at(0);
  EXPECT_EQ(FindSetting(ann, "welcome email"), nullptr);
  EXPECT_FALSE(ann.operations.at(0).spec.suppress_welcome);

  config_.suppress_welcome = false;
  organizers.suppress_welcome = true;
  ann = Run("id-ann").at(0);
  ASSERT_NE(FindSetting(ann, "welcome email"), nullptr);
  EXPECT_EQ(FindSetting(ann, "welcome email")->origin, "rule Organizers (priority 1)");
  EXPECT_TRUE(ann.operations.at(0).spec.suppress_welcome);
}

}  // namespace
}  // namespace usersync::core
