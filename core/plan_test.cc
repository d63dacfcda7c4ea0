#include "core/plan.h"

#include <gtest/gtest.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestGroup;
using testing::AddTestUser;
using testing::GroupDn;
using testing::SyncedAccount;

int Count(const Plan& plan, OpKind kind) {
  int n = 0;
  for (const Operation& op : plan.operations) n += op.kind == kind;
  return n;
}

const Operation* FindOp(const Plan& plan, std::string_view directory_id) {
  for (const Operation& op : plan.operations) {
    if (op.directory_id == directory_id) return &op;
  }
  return nullptr;
}

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DirectoryBuilder builder;
    // in scope: synced, changed, fresh, noemail; out of scope: gone; disabled: off
    for (const char* name : {"synced", "changed", "fresh", "gone"}) {
      AddTestUser(builder, {.name = name});
    }
    AddTestUser(builder, {.name = "noemail", .email = ""});
    AddTestUser(builder, {.name = "off", .disabled = true});
    AddTestGroup(builder, "scope", {"g:staff", "noemail", "off"});
    AddTestGroup(builder, "staff", {"synced", "changed", "fresh", "g:scope"});
    AddTestGroup(builder, "contractors", {"gone"});
    dir_ = std::move(builder).Finish();
    config_.scope_groups = {GroupDn("scope")};
    config_.validated_domains = {"example.com"};
    config_.deprovision.max_changes_percent = 100;

    accounts_.items.push_back(SyncedAccount(accounts_, "synced", "a-synced"));
    Account changed = SyncedAccount(accounts_, "changed", "a-changed");
    changed.last_name = accounts_.Store("Old-Name");
    changed.external_id = {};
    accounts_.items.push_back(changed);
    accounts_.items.push_back(SyncedAccount(accounts_, "gone", "a-gone"));
    accounts_.items.push_back(SyncedAccount(accounts_, "off", "a-off"));
    Account stranger = SyncedAccount(accounts_, "stranger", "a-stranger");
    stranger.external_id = {};
    accounts_.items.push_back(stranger);
  }
  Plan Compute() { return ComputePlan(dir_, accounts_, links_, {}, config_); }
  // One rule for the members of `group` (a test group name).
  void UseRule(const std::string& name, const std::string& group, std::vector<std::string> products,
               const std::string& language = "") {
    Rule rule;
    rule.name = name;
    rule.group = GroupDn(group);
    rule.products = std::move(products);
    rule.language = language;
    config_.rules = {rule};
  }

  Directory dir_;
  Accounts accounts_;
  std::vector<Link> links_;
  PlanConfig config_;
};

TEST_F(PlanTest, EveryCategoryIsReported) {
  Plan plan = Compute();
  EXPECT_EQ(plan.count(Category::kMatched), 1);      // synced (linked by externalId)
  EXPECT_EQ(plan.count(Category::kUpdate), 1);       // changed
  EXPECT_EQ(plan.count(Category::kNew), 1);          // fresh
  EXPECT_EQ(plan.count(Category::kInvalid), 1);      // noemail
  EXPECT_EQ(plan.count(Category::kAccountOnly), 1);  // stranger
  EXPECT_EQ(plan.count(Category::kDeparted), 2);     // gone (out of scope), off (disabled)

  const Operation* changed = FindOp(plan, "id-changed");
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->kind, OpKind::kLink);  // matched by email: link it, and write the changes
  ASSERT_EQ(changed->changes.size(), 2u) << changed->reason;
  EXPECT_EQ(changed->changes[0].field, core::Field::kExternalId);
  EXPECT_EQ(changed->changes[1].field, core::Field::kLastName);
  EXPECT_EQ(changed->changes[1].before, "Old-Name");
  EXPECT_EQ(changed->changes[1].after, "Last-changed");

  const Operation* fresh = FindOp(plan, "id-fresh");
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->kind, OpKind::kCreate);
  EXPECT_EQ(fresh->spec.user_name, "fresh@example.com");
  EXPECT_EQ(fresh->spec.external_id, "id-fresh");

  const Operation* gone = FindOp(plan, "id-gone");
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->kind, OpKind::kDeactivate);
  EXPECT_EQ(gone->reason, "departed: no longer in a scoped group");
  const Operation* off = FindOp(plan, "id-off");
  ASSERT_NE(off, nullptr);
  EXPECT_EQ(off->reason, "departed: disabled in the directory");
  EXPECT_FALSE(plan.deprovision_held);
}

// After the plan is applied (links stored, attributes written, departed deactivated), the
// same directory plans nothing.
// Every text of `op`, to compare an operation before and after its inputs are gone.
std::string TextOf(const Operation& op) {
  std::string out = absl::StrCat(Sv(OpKindName(op.kind)), "|", Sv(op.directory_id), "|", Sv(op.dn),
                                 "|", Sv(op.email), "|", Sv(op.account_id), "|", Sv(op.reason), "|",
                                 Sv(op.precondition_version));
  for (size_t field = 0; field < static_cast<size_t>(Field::kActive); ++field) {
    absl::StrAppend(&out, "|", Sv(op.spec.Get(static_cast<Field>(field))));
  }
  for (const auto& [path, value] : op.spec.attributes) {
    absl::StrAppend(&out, "|", Sv(path), "=", Sv(value));
  }
  for (const Change& change : op.changes) {
    absl::StrAppend(&out, "|", ChangeName(change), ":", Sv(change.before), ">", Sv(change.after));
  }
  return out;
}

// Operations view the text Plan::strings keeps (the directory's, the snapshot's, the mapping's
// and the plan's own) rather than copying it: they must read the same once the directory, the
// account snapshot and the configuration they were planned from are gone (under ASan a
// dangling view is a use after free; without it the freed 1 MiB arena blocks are unmapped).
TEST_F(PlanTest, OperationsOutliveTheInputsTheyWerePlannedFrom) {
  UseRule("Engineering West", "staff", {"G2M", "G2W"}, "de_DE");
  config_.rules[0].user_group = "Engineering and Product, West";
  AttributeMapping title;
  title.target = "title";
  title.kind = MappingSourceKind::kConstant;
  title.constant = "Member of the technical staff";
  config_.mappings = {title};
  Plan plan = Compute();
  ASSERT_GE(plan.operations.size(), 3u);
  std::vector<std::string> planned;
  bool any_borrowed = false;
  for (const Operation& op : plan.operations) {
    planned.push_back(TextOf(op));
    any_borrowed = any_borrowed || op.dn.borrowed() || op.spec.email.borrowed();
    const Operation copy = op;  // a copy owns its text
    EXPECT_FALSE(copy.dn.borrowed() || copy.email.borrowed() || copy.spec.user_name.borrowed());
  }
  EXPECT_TRUE(any_borrowed);  // else this test would prove nothing

  dir_ = Directory();
  accounts_ = Accounts();
  config_ = PlanConfig();
  Plan moved = std::move(plan);  // a plan moves with its strings
  for (size_t op_idx = 0; op_idx < moved.operations.size(); ++op_idx) {
    EXPECT_EQ(TextOf(moved.operations[op_idx]), planned[op_idx]);
  }
  const Operation* changed = FindOp(moved, "id-changed");
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->dn, "uid=changed,ou=people,dc=example,dc=com");
  EXPECT_EQ(changed->spec.user_group, "Engineering and Product, West");
  EXPECT_EQ(changed->spec.Attribute("title"), "Member of the technical staff");
}

TEST_F(PlanTest, AppliedPlanConvergesToNoOperations) {
  Plan first = Compute();
  Accounts after;
  for (const Account& account : accounts_.items) {
    Account copy = account;
    const Operation* op = nullptr;
    for (const Operation& candidate : first.operations) {
      if (candidate.account_id == account.id) op = &candidate;
    }
    if (op && (op->kind == OpKind::kLink || op->kind == OpKind::kUpdate)) {
      copy.external_id = after.Store(op->spec.external_id);
      copy.last_name = after.Store(op->spec.last_name);
    }
    if (op && op->kind == OpKind::kDeactivate) copy.active = false;
    after.items.push_back(copy);
  }
  Account created = SyncedAccount(after, "fresh", "a-fresh");
  after.items.push_back(created);
  std::vector<Link> links = {{"id-synced", "a-synced", true},
                             {"id-changed", "a-changed", true},
                             {"id-fresh", "a-fresh", true},
                             {"id-gone", "a-gone", true},
                             {"id-off", "a-off", true}};
  Plan second = ComputePlan(dir_, after, links, {}, config_);
  EXPECT_TRUE(second.operations.empty()) << second.operations[0].reason;
  EXPECT_EQ(second.count(Category::kMatched), 3);
  EXPECT_EQ(second.count(Category::kDeparted), 2);  // listed, already inactive
}

// The default match order is link, manual, email: a user with a stored link and a manual match
// to another account keeps the linked account, and the manually named one stays untouched.
TEST_F(PlanTest, DefaultOrderPrefersStoredLinkOverManualMatch) {
  links_ = {{"id-synced", "a-synced", true}};
  const std::vector<Link> manual = {{"id-synced", "a-stranger", true}};
  Plan plan = ComputePlan(dir_, accounts_, links_, manual, config_);
  const UserRow* synced = nullptr;
  const UserRow* stranger = nullptr;
  for (const UserRow& row : plan.rows) {
    if (row.directory_id == "id-synced") synced = &row;
    if (row.account_id == "a-stranger") stranger = &row;
  }
  ASSERT_NE(synced, nullptr);
  EXPECT_EQ(synced->category, Category::kMatched);
  EXPECT_EQ(synced->account_id, "a-synced");
  EXPECT_EQ(FindOp(plan, "id-synced"), nullptr);
  ASSERT_NE(stranger, nullptr);
  EXPECT_EQ(stranger->category, Category::kAccountOnly);
}

TEST_F(PlanTest, InactiveMatchedAccountIsReactivated) {
  accounts_.items[0].active = false;
  Plan plan = Compute();
  const Operation* synced = FindOp(plan, "id-synced");
  ASSERT_NE(synced, nullptr);
  EXPECT_EQ(synced->kind, OpKind::kReactivate);
  EXPECT_FALSE(synced->precondition_active);
}

TEST_F(PlanTest, ThresholdHoldsDeprovisioningOnly) {
  config_.deprovision.max_changes = 1;
  Plan plan = Compute();
  EXPECT_TRUE(plan.deprovision_held);
  for (const Operation& op : plan.operations) {
    EXPECT_EQ(op.held, op.kind == OpKind::kDeactivate) << OpKindName(op.kind);
  }
  EXPECT_NE(plan.hold_reason.find("max_changes = 1"), std::string::npos);
}

// The threshold holds what exceeds max_changes: exactly max_changes deprovisions go ahead.
TEST_F(PlanTest, ThresholdAllowsExactlyMaxChanges) {
  config_.deprovision.max_changes = 2;  // gone and off depart
  Plan plan = Compute();
  EXPECT_EQ(Count(plan, OpKind::kDeactivate), 2);
  EXPECT_FALSE(plan.deprovision_held) << plan.hold_reason;
  for (const Operation& op : plan.operations) EXPECT_FALSE(op.held) << OpKindName(op.kind);
  config_.deprovision.max_changes = 1;
  EXPECT_TRUE(Compute().deprovision_held);
}

TEST_F(PlanTest, ThresholdByPercentOfManagedAccounts) {
  // Managed: synced, gone and off (linked by externalId); 2 of 3 is 66.7%.
  config_.deprovision.max_changes_percent = 67;
  EXPECT_FALSE(Compute().deprovision_held);
  config_.deprovision.max_changes_percent = 66;
  EXPECT_TRUE(Compute().deprovision_held);
}

// In scope: synced, changed, fresh and noemail (off is disabled). From 5 to 4 is 20%: not
// over 20; from 6 to 4 is 33.3%: the two deactivations are held, nothing else.
TEST_F(PlanTest, ShrinkGuardHoldsDeprovisioningWhenScopeShrank) {
  config_.max_shrink_percent = 20;
  config_.previous_in_scope = 5;
  Plan plan = Compute();
  EXPECT_EQ(plan.in_scope, 4);
  EXPECT_FALSE(plan.deprovision_held) << plan.hold_reason;
  config_.previous_in_scope = 6;
  plan = Compute();
  EXPECT_TRUE(plan.deprovision_held);
  EXPECT_EQ(plan.hold_reason,
            "the directory shrank from 6 to 4 users in scope (33.3% > source.max_shrink_percent "
            "20) since the last successful run: 2 deactivations/deletions held until `usersync "
            "release`");
  for (const Operation& op : plan.operations) {
    EXPECT_EQ(op.held, op.kind == OpKind::kDeactivate) << OpKindName(op.kind);
  }
}

// No baseline (the first run), a grown directory, or nothing to deprovision: no hold.
TEST_F(PlanTest, ShrinkGuardNeedsABaselineAndSomethingToHold) {
  config_.max_shrink_percent = 0;
  config_.previous_in_scope = -1;
  EXPECT_FALSE(Compute().deprovision_held);
  config_.previous_in_scope = 4;
  EXPECT_FALSE(Compute().deprovision_held);
  config_.previous_in_scope = 100;
  config_.deprovision.action = DeprovisionAction::kNone;
  EXPECT_FALSE(Compute().deprovision_held);
}

// Both guards at once: one reason after the other.
TEST_F(PlanTest, ShrinkGuardAddsToTheThresholdReason) {
  config_.deprovision.max_changes = 1;
  config_.previous_in_scope = 100;
  const Plan plan = Compute();
  EXPECT_NE(plan.hold_reason.find("max_changes = 1"), std::string::npos) << plan.hold_reason;
  EXPECT_NE(plan.hold_reason.find("; the directory shrank from 100 to 4"), std::string::npos)
      << plan.hold_reason;
}

// The dangling-links guard's bounds: at least 10 links, more than 50% of them dangling.
TEST(DanglingLinksRefusal, RefusesOnlyMostOfEnoughLinks) {
  EXPECT_EQ(DanglingLinksRefusal(0, 0), "");
  EXPECT_EQ(DanglingLinksRefusal(9, 9), "");   // too few links to judge
  EXPECT_EQ(DanglingLinksRefusal(10, 5), "");  // 50% is not more than 50%
  EXPECT_EQ(DanglingLinksRefusal(1000, 500), "");
  EXPECT_EQ(DanglingLinksRefusal(10, 6),
            "6 of 10 stored links (60%) name accounts the target does not list (more than 50% "
            "of at least 10 links): the state store probably belongs to another tenant, or the "
            "target was emptied");
  EXPECT_NE(DanglingLinksRefusal(1000, 501), "");
}

// Twelve links to accounts the target does not list, two to accounts it does: the plan says
// it must not be used, and counts both.
TEST_F(PlanTest, MostlyDanglingLinksRefuseThePlan) {
  std::vector<std::string> ids;
  for (int link_idx = 0; link_idx < 12; ++link_idx) ids.push_back(absl::StrCat("gone-", link_idx));
  for (const std::string& id : ids) links_.push_back({id, id, true});
  links_.push_back({"id-synced", "a-synced", true});
  links_.push_back({"id-gone", "a-gone", true});
  Plan plan = Compute();
  EXPECT_EQ(plan.stored_links, 14);
  EXPECT_EQ(plan.dangling_links, 12);
  EXPECT_NE(plan.refusal.find("12 of 14 stored links (85.7%)"), std::string::npos) << plan.refusal;
  links_.resize(12 - 6);  // 6 dangling of 6 + 2 = 8: too few links to judge
  links_.push_back({"id-synced", "a-synced", true});
  links_.push_back({"id-gone", "a-gone", true});
  EXPECT_EQ(Compute().refusal, "");
}

TEST_F(PlanTest, DeleteAndNonePolicies) {
  config_.deprovision.action = DeprovisionAction::kDelete;
  EXPECT_EQ(Count(Compute(), OpKind::kDelete), 2);
  config_.deprovision.action = DeprovisionAction::kNone;
  Plan plan = Compute();
  EXPECT_EQ(Count(plan, OpKind::kDelete) + Count(plan, OpKind::kDeactivate), 0);
  EXPECT_EQ(plan.count(Category::kDeparted), 2);
}

// Accounts usersync never created or linked are never deprovisioned.
TEST_F(PlanTest, UnmanagedLinkIsNeverDeprovisioned) {
  accounts_.items[2].external_id = {};  // a-gone no longer carries the directory id
  links_ = {{"id-gone", "a-gone", false}};
  Plan plan = Compute();
  EXPECT_EQ(FindOp(plan, "id-gone"), nullptr);
}

TEST_F(PlanTest, RulesDecideProducts) {
  UseRule("Staff", "staff", {"G2W", "G2M"}, "en_US");
  Plan plan = Compute();
  const Operation* fresh = FindOp(plan, "id-fresh");
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->spec.products, "G2M,G2W");
  EXPECT_EQ(fresh->spec.language, "en_US");
  EXPECT_NE(fresh->reason.find("rule Staff"), std::string::npos);
}

// A manager's privileges reach the spec in canonical form, and an account holding other
// privileges gets exactly that one change.
TEST_F(PlanTest, ManagerPrivilegesArePlannedAndCompared) {
  Rule rule;
  rule.name = "Managers";
  rule.group = GroupDn("staff");
  rule.admin = AdminRole::kManager;
  rule.privileges = {"RUN_REPORTS", "MANAGE_USERS", "RUN_REPORTS"};
  config_.rules = {rule};
  accounts_.items[0].admin_role = "manager";
  accounts_.items[0].privileges = "MANAGE_USERS";
  Plan plan = Compute();
  EXPECT_EQ(FindOp(plan, "id-fresh")->spec.privileges, "MANAGE_USERS,RUN_REPORTS");
  const Operation* synced = FindOp(plan, "id-synced");
  ASSERT_NE(synced, nullptr);
  ASSERT_EQ(synced->changes.size(), 1u);
  EXPECT_EQ(synced->changes[0].field, Field::kPrivileges);
  EXPECT_EQ(synced->changes[0].before, "MANAGE_USERS");
  EXPECT_EQ(synced->changes[0].after, "MANAGE_USERS,RUN_REPORTS");
  // Privileges and role sets belong to managers only: a full admin's spec carries none.
  config_.rules[0].admin = AdminRole::kFull;
  config_.rules[0].role_set = "Helpdesk";
  EXPECT_EQ(FindOp(Compute(), "id-fresh")->spec.privileges, "");
  EXPECT_EQ(FindOp(Compute(), "id-fresh")->spec.role_set, "");
}

// The rule settings usersync keeps in its own shapes (issue 14): device groups merged across
// every rule holding the user, a manager's groups, the settings template; each a one-field
// change when the account differs, and the welcome template (create only) never one.
TEST_F(PlanTest, RuleSettingsArePlannedAndCompared) {
  Rule managers;
  managers.name = "Managers";
  managers.group = GroupDn("staff");
  managers.admin = AdminRole::kManager;
  managers.managed_groups = {"Support", "Sales"};
  managers.device_groups = {"Laptops"};
  managers.settings_template = "Standard";
  managers.welcome_template = "onboarding";
  Rule everyone;
  everyone.name = "Everyone";
  everyone.priority = 2000;
  everyone.group = GroupDn("scope");
  everyone.device_groups = {"Kiosks", "Laptops"};
  everyone.settings_template = "Ignored: lower priority";
  config_.rules = {managers, everyone};
  Account& synced = accounts_.items[0];
  synced.admin_role = "manager";
  synced.managed_groups = "Sales,Support";
  synced.device_groups = "Kiosks";
  synced.settings_template = "Standard";
  Plan plan = Compute();
  const Operation* fresh = FindOp(plan, "id-fresh");
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->spec.managed_groups, "Sales,Support");
  EXPECT_EQ(fresh->spec.device_groups, "Kiosks,Laptops");
  EXPECT_EQ(fresh->spec.settings_template, "Standard");
  EXPECT_EQ(fresh->spec.welcome_template, "onboarding");
  const Operation* update = FindOp(plan, "id-synced");
  ASSERT_NE(update, nullptr);
  ASSERT_EQ(update->changes.size(), 1u);
  EXPECT_EQ(update->changes[0].field, Field::kDeviceGroups);
  EXPECT_EQ(update->changes[0].before, "Kiosks");
  EXPECT_EQ(update->changes[0].after, "Kiosks,Laptops");
  // A manager's groups belong to managers only.
  config_.rules[0].admin = AdminRole::kFull;
  EXPECT_EQ(FindOp(Compute(), "id-fresh")->spec.managed_groups, "");
}

// A target that did not return a setting (a SCIM server without usersync's extension) is not
// asked for it again on every run: that field is not compared; the others still are.
TEST(DiffAccount, SkipsFieldsTheTargetDidNotReturn) {
  AccountSpec spec;
  spec.privileges = "MANAGE_USERS";
  spec.device_groups = "Kiosks";
  spec.settings_template = "Standard";
  spec.managed_groups = "Sales";
  spec.language = "de_DE";
  Account account;
  for (Field field : {Field::kPrivileges, Field::kManagedGroups, Field::kDeviceGroups,
                      Field::kSettingsTemplate}) {
    account.MarkUnreturned(field);
    EXPECT_FALSE(account.Returned(field));
  }
  std::vector<Change> changes = DiffAccount(spec, account, false);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].field, Field::kLanguage);
  changes = DiffAccount(spec, Account(), false);  // returned (empty): every one differs
  EXPECT_EQ(changes.size(), 5u);
}

// Two users need a G2W seat and one is free: the first (directory order) gets it, the second is
// reported invalid with the reason instead of failing at the target.
TEST_F(PlanTest, SeatShortfallMakesCreatesInvalid) {
  DirectoryBuilder builder;
  for (const char* name : {"ann", "bob", "cid"}) AddTestUser(builder, {.name = name});
  AddTestGroup(builder, "scope", {"ann", "bob", "cid"});
  dir_ = std::move(builder).Finish();
  accounts_ = Accounts();
  Rule rule;
  rule.name = "Webinars";
  rule.group = GroupDn("scope");
  rule.products = {"G2W", "G2M"};
  config_.rules = {rule};
  config_.free_seats = {{"G2W", 1}, {"G2M", 10}};
  Plan plan = Compute();
  EXPECT_EQ(Count(plan, OpKind::kCreate), 1);
  EXPECT_NE(FindOp(plan, "id-ann"), nullptr);
  EXPECT_EQ(plan.count(Category::kNew), 1);
  EXPECT_EQ(plan.count(Category::kInvalid), 2);
  int no_seat = 0;
  for (const UserRow& row : plan.rows) {
    if (row.reason.rfind("no seat for G2W", 0) == 0) ++no_seat;
  }
  EXPECT_EQ(no_seat, 2);
  config_.free_seats = {{"G2W", 5}};  // G2M unlimited
  EXPECT_EQ(Count(Compute(), OpKind::kCreate), 3);
}

// Updates adding a product take seats too, in plan order after nothing else: with 1 free G2W
// seat, ann's create takes it; bob's update keeps its language change and loses its products
// change; cid's update (products only) is not planned; eve's link (matched by email) still
// links and writes the language; dan already holds G2W and needs no seat. Each lacking one is an
// invalid row "no seat for G2W".
TEST_F(PlanTest, UpdateWithoutASeatKeepsItsOtherChanges) {
  DirectoryBuilder builder;
  for (const char* name : {"ann", "bob", "cid", "dan", "eve"}) AddTestUser(builder, {.name = name});
  AddTestGroup(builder, "scope", {"ann", "bob", "cid", "dan", "eve"});
  dir_ = std::move(builder).Finish();
  accounts_ = Accounts();
  for (const char* name : {"bob", "cid", "dan", "eve"}) {
    Account account = SyncedAccount(accounts_, name, absl::StrCat("a-", name));
    const bool holds_g2w = std::string_view(name) == "dan";
    account.products = accounts_.Store(holds_g2w ? "G2M,G2W" : "G2M");
    if (std::string_view(name) != "bob" && std::string_view(name) != "eve") {
      account.language = accounts_.Store("de_DE");
    }
    if (std::string_view(name) == "eve") account.external_id = {};
    accounts_.items.push_back(account);
  }
  links_ = {{"id-bob", "a-bob", true}, {"id-cid", "a-cid", true}, {"id-dan", "a-dan", true}};
  UseRule("Webinars", "scope", {"G2M", "G2W"}, "de_DE");
  config_.free_seats = {{"G2W", 1}};
  Plan plan = Compute();

  ASSERT_NE(FindOp(plan, "id-ann"), nullptr);
  EXPECT_EQ(FindOp(plan, "id-ann")->spec.products, "G2M,G2W");
  const Operation* bob = FindOp(plan, "id-bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->kind, OpKind::kUpdate);
  ASSERT_EQ(bob->changes.size(), 1u);
  EXPECT_EQ(bob->changes[0].field, Field::kLanguage);
  EXPECT_EQ(bob->spec.products, "G2M");  // a whole-resource PUT keeps the account's products
  EXPECT_NE(bob->reason.find("products left unchanged: no seat for G2W"), std::string::npos);
  EXPECT_EQ(FindOp(plan, "id-cid"), nullptr);
  EXPECT_EQ(FindOp(plan, "id-dan"), nullptr);
  const Operation* eve = FindOp(plan, "id-eve");
  ASSERT_NE(eve, nullptr);
  EXPECT_EQ(eve->kind, OpKind::kLink);
  ASSERT_EQ(eve->changes.size(), 2u);  // externalId, language
  EXPECT_EQ(eve->changes[1].field, Field::kLanguage);

  std::vector<std::string> invalid;
  for (const UserRow& row : plan.rows) {
    if (row.category == Category::kInvalid)
      invalid.push_back(absl::StrCat(Sv(row.directory_id), ": ", Sv(row.reason)));
  }
  ASSERT_EQ(invalid.size(), 3u);
  EXPECT_EQ(invalid[0].rfind("id-bob: no seat for G2W (linked; changed: language, products", 0), 0u)
      << invalid[0];
  EXPECT_NE(invalid[0].find("the other changes are applied"), std::string::npos);
  EXPECT_EQ(invalid[1], "id-cid: no seat for G2W (linked; changed: products)");
  EXPECT_EQ(invalid[2].rfind("id-eve: no seat for G2W", 0), 0u) << invalid[2];
  EXPECT_EQ(plan.count(Category::kNew), 1);
  EXPECT_EQ(plan.count(Category::kMatched), 1);  // dan
  EXPECT_EQ(plan.count(Category::kUpdate), 0);
  EXPECT_EQ(plan.count(Category::kInvalid), 3);

  // Two seats: plan order gives the second to bob, not cid.
  config_.free_seats = {{"G2W", 2}};
  plan = Compute();
  EXPECT_EQ(FindOp(plan, "id-bob")->changes.size(), 2u);
  EXPECT_EQ(FindOp(plan, "id-cid"), nullptr);
  EXPECT_EQ(plan.count(Category::kInvalid), 2);
  // Enough seats: every product change is planned.
  config_.free_seats = {{"G2W", 4}};
  plan = Compute();
  EXPECT_EQ(FindOp(plan, "id-cid")->changes.size(), 1u);
  EXPECT_EQ(FindOp(plan, "id-eve")->spec.products, "G2M,G2W");
  EXPECT_EQ(plan.count(Category::kInvalid), 0);
}

// GoTo keeps no display name of its own: a differing one is not a change to write there.
TEST_F(PlanTest, DisplayNameIgnoredForTargetsWithoutIt) {
  accounts_.items[0].display_name = accounts_.Store("Something Else");
  EXPECT_EQ(FindOp(Compute(), "id-synced")->kind, OpKind::kLink);
  EXPECT_EQ(FindOp(Compute(), "id-synced")->changes.size(), 1u);  // display_name
  config_.target_has_display_name = false;
  EXPECT_TRUE(FindOp(Compute(), "id-synced")->changes.empty());
}

TEST_F(PlanTest, OrderIsDeterministic) {
  Plan a = Compute();
  Plan b = Compute();
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) {
    EXPECT_EQ(a.rows[i].directory_id, b.rows[i].directory_id);
    EXPECT_EQ(a.rows[i].account_id, b.rows[i].account_id);
  }
}

// Every field has a name, its name parses back, and each accessor reads the matching member.
TEST(Field, NamesAndAccessorsAgree) {
  AccountSpec spec;
  Accounts accounts;
  Account account;
  for (Field field : kAllFields) {
    const std::string_view name = FieldName(field);
    EXPECT_EQ(ParseField(name), field) << name;
    if (field == Field::kActive) continue;
    *spec.Mutable(field) = absl::StrCat("spec ", Sv(name));
  }
  account.user_name = accounts.Store("account user_name");
  account.email = accounts.Store("account email");
  account.external_id = accounts.Store("account external_id");
  account.first_name = accounts.Store("account first_name");
  account.last_name = accounts.Store("account last_name");
  account.display_name = accounts.Store("account display_name");
  account.language = accounts.Store("account language");
  account.products = accounts.Store("account products");
  account.admin_role = accounts.Store("account admin_role");
  account.privileges = accounts.Store("account privileges");
  account.role_set = accounts.Store("account role_set");
  account.user_group = accounts.Store("account user_group");
  account.managed_groups = accounts.Store("account managed_groups");
  account.device_groups = accounts.Store("account device_groups");
  account.settings_template = accounts.Store("account settings_template");
  account.active = false;
  spec.active = true;
  EXPECT_EQ(spec.first_name, "spec first_name");
  EXPECT_EQ(spec.user_group, "spec user_group");
  for (Field field : kAllFields) {
    const std::string_view name = FieldName(field);
    if (field == Field::kActive) {
      EXPECT_EQ(spec.Get(field), "true");
      EXPECT_EQ(account.Get(field), "false");
      EXPECT_EQ(spec.Mutable(field), nullptr);
      continue;
    }
    EXPECT_EQ(spec.Get(field), absl::StrCat("spec ", Sv(name)));
    EXPECT_EQ(account.Get(field), absl::StrCat("account ", Sv(name)));
  }
  EXPECT_EQ(ParseField("welcome_template"), std::nullopt);
  EXPECT_EQ(ParseField("firstName"), std::nullopt);
}

}  // namespace
}  // namespace usersync::core
