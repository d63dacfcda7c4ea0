// The plan: categories per user and the operations that bring the target in step with the
// directory (DESIGN.md core::plan). ComputePlan runs the whole pure pipeline: closure of the
// scoped groups → rules → mapping → match → attribute diff → operations, then applies the
// deprovisioning safety threshold and the shrink guard.
//
// Output order is deterministic: operations and rows follow directory order, then account
// order, so plans and reports can be compared as golden files. Pure; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/accounts.h"
#include "core/attribute_mapping.h"
#include "core/compact_string.h"
#include "core/directory.h"
#include "core/match.h"
#include "core/rules.h"
#include "core/scope.h"
#include "core/string_arena.h"

namespace usersync::core {

enum class OpKind : uint8_t { kCreate, kUpdate, kDeactivate, kReactivate, kDelete, kLink };
enum class Category : uint8_t { kMatched, kUpdate, kNew, kInvalid, kAccountOnly, kDeparted };
inline constexpr size_t kCategoryCount = 6;

std::string_view OpKindName(OpKind kind);          // "create", "update", ...
std::string_view CategoryName(Category category);  // "matched", "update", "new", "invalid",
                                                   // "account_only", "departed"

// What an account should hold, as usersync writes it to the target.
struct AccountSpec {
  CompactString user_name;  // = normalized email
  CompactString email;
  CompactString external_id;  // = directory id
  CompactString first_name;
  CompactString last_name;
  CompactString display_name;
  CompactString language;
  CompactString products;    // canonical list
  CompactString admin_role;  // "", "full", "manager"
  CompactString privileges;  // manager only: canonical list of target privileges
  CompactString role_set;    // manager only: a custom role's name, "" for none
  CompactString user_group;
  CompactString managed_groups;     // manager only: canonical list (SCIM only; refused for GoTo)
  CompactString device_groups;      // canonical list, merged across every rule holding the user
  CompactString settings_template;  // the settings template's name, "" for none
  // Create only: GoTo sends the welcome email once, on create, and no target reads the template
  // back, so it is never compared (a change of it plans nothing for existing accounts).
  CompactString welcome_template;
  bool suppress_welcome = false;  // create only: true = the target sends no welcome email
  bool active = true;
  // The mapped attributes beyond the fixed fields ([[mappings]]): (path, value), sorted by path,
  // one per mapping; a value "" means the attribute should be absent.
  std::vector<std::pair<CompactString, CompactString>> attributes;

  // The spec's value of `field` (kActive: "true" / "false"; kAttribute: "", see Attribute).
  // Lives as long as the spec.
  std::string_view Get(Field field) const {
    if (field == Field::kAttribute) return {};
    return field == Field::kActive ? BoolText(active) : (this->*Member(field)).view();
  }
  // The spec's string for `field`, to fill it; nullptr for kActive (a bool) and kAttribute.
  CompactString* Mutable(Field field) {
    if (field == Field::kAttribute) return nullptr;
    return field == Field::kActive ? nullptr : &(this->*Member(field));
  }
  // The value of mapped attribute `path`; "" when the spec has none (or maps it to "").
  std::string_view Attribute(std::string_view path) const {
    for (const auto& [name, value] : attributes) {
      if (name == path) return value;
    }
    return {};
  }

 private:
  // REQUIRES: field is neither kActive nor kAttribute.
  static CompactString AccountSpec::*Member(Field field) {
    // Indexed by Field.
    static constexpr CompactString AccountSpec::*kValues[] = {
        &AccountSpec::user_name,      &AccountSpec::email,         &AccountSpec::external_id,
        &AccountSpec::first_name,     &AccountSpec::last_name,     &AccountSpec::display_name,
        &AccountSpec::language,       &AccountSpec::products,      &AccountSpec::admin_role,
        &AccountSpec::privileges,     &AccountSpec::role_set,      &AccountSpec::user_group,
        &AccountSpec::managed_groups, &AccountSpec::device_groups, &AccountSpec::settings_template};
    static_assert(std::size(kValues) == static_cast<size_t>(Field::kActive));
    return kValues[static_cast<size_t>(field)];
  }
};

// One attribute that differs: the account holds `before`, the plan writes `after`. A mapped
// attribute (field kAttribute) is named by `path`; for the fixed fields `path` is empty.
struct Change {
  Change() = default;
  Change(Field field_in, CompactString before_in, CompactString after_in,
         CompactString path_in = {})
      : field(field_in),
        before(std::move(before_in)),
        after(std::move(after_in)),
        path(std::move(path_in)) {}

  Field field = Field::kUserName;
  CompactString before;
  CompactString after;
  CompactString path;
};

// How plans, the journal and reports name a change: FieldName for a fixed field,
// "attribute:PATH" for a mapped attribute ("attribute:title").
std::string ChangeName(const Change& change);

// The Change (field and path) ChangeName names; false for a name that is neither.
bool ParseChangeName(std::string_view name, Field* field, CompactString* path);

// The account's value of what `change` names: the fixed field, or the mapped attribute.
inline std::string_view HeldValue(const Account& account, const Change& change) {
  return change.field == Field::kAttribute ? account.Attribute(change.path)
                                           : account.Get(change.field);
}

// Whether two changes name the same attribute.
inline bool SameTarget(const Change& a, const Change& b) {
  return a.field == b.field && a.path == b.path;
}

struct Operation {
  OpKind kind = OpKind::kCreate;
  bool precondition_active = true;  // account's active flag at plan time
  bool held = false;                // deprovisioning held by the safety threshold
  CompactString directory_id;
  CompactString dn;
  CompactString account_id;  // empty for create
  CompactString email;       // normalized
  CompactString reason;      // why: rule, match method, changed attributes, departure
  std::vector<Change> changes;
  AccountSpec spec;                    // create/update/link/reactivate: the desired state
  CompactString precondition_version;  // account version at plan time ("" if none)
};

// A view that will not bind to a temporary string, which would leave it dangling:
// `row.reason = absl::StrCat(...)` does not compile; `row.reason = plan.strings.Store(...)` does.
class RowText : public std::string_view {
 public:
  using std::string_view::string_view;
  constexpr RowText(std::string_view text) : std::string_view(text) {}  // NOLINT: a view is one
  RowText(const std::string& text) : std::string_view(text) {}          // NOLINT: likewise
  RowText(std::string&&) = delete;
  RowText(const std::string&&) = delete;
};

// One line of the users page. Its text views the plan's strings (Plan::strings): the
// directory's and the account snapshot's own (shared, not copied), or text the plan stored.
// Code that fills a row stores new text there first (plan.strings.Store(...)).
struct UserRow {
  Category category = Category::kMatched;
  // Invalid for what the target or another user decides (a matching conflict, a missing seat),
  // not for its own directory data: a delta cycle plans it again (core/delta_plan.h). Beside
  // the category, so a row is 120 bytes, not 128.
  bool replan = false;
  RowText directory_id;  // empty for account-only rows
  RowText dn;
  RowText email;
  RowText account_id;
  RowText reason;
  RowText products;
  RowText rule;
};

enum class DeprovisionAction : uint8_t { kDeactivate, kDelete, kNone };

struct DeprovisionPolicy {
  DeprovisionAction action = DeprovisionAction::kDeactivate;
  int64_t max_changes = 500;
  double max_changes_percent = 5;
};

struct PlanConfig {
  // The scope (core/scope.h): a user in a scoped group (DNs, nested members count), named in
  // scope_users (DNs or directory ids) or matching scope_filter is in scope; with none of the
  // three, every user is. Disabled users never are.
  std::vector<std::string> scope_groups;
  std::vector<std::string> scope_users;
  std::optional<ScopeFilter> scope_filter;
  // scope.require_rule: a user in scope that no rule covers is left out. Not yet linked: an
  // invalid row, kNoRuleReason. Linked: departed (deprovisioned by policy, under the threshold).
  bool require_rule = false;
  std::vector<std::string> validated_domains;
  std::vector<Rule> rules;
  std::vector<MatchMethod> match_order = {MatchMethod::kLink, MatchMethod::kManual,
                                          MatchMethod::kEmail};
  // The attribute of each kAttribute entry of match_order, in order.
  std::vector<MatchAttribute> match_attributes;
  DeprovisionPolicy deprovision;
  // Free seats per product at the target (GoTo's /licenses). A product not listed is
  // unlimited. Creates and reactivations that would need a seat beyond these are not planned:
  // the user is reported invalid with "no seat for PRODUCT" (retried next run). An update (or
  // link) whose products change adds a product beyond these keeps its other changes and loses
  // its products change (its spec keeps the account's products); its row is invalid with "no
  // seat for PRODUCT (...; the other changes are applied)", and an update left with no change
  // is not planned. Seats go to these operations in plan order, so a plan is stable.
  // Example: 1 free G2W seat; ann (new, rule G2W) then bob (update: language, + G2W) →
  // ann's create takes the seat; bob's update writes the language only, bob's row is invalid.
  std::vector<std::pair<std::string, int64_t>> free_seats;
  // The shrink guard: the number of users in scope at the last successful run (-1: none
  // recorded, e.g. the first run) and the percent by which it may fall before this run's
  // deactivations/deletions are held like the threshold's (source.max_shrink_percent). A
  // directory export that lost 300 of 1,000 users (30% > 20) holds their 300 deactivations.
  int64_t previous_in_scope = -1;
  double max_shrink_percent = 20;
  // False for targets that hold no display name of their own (GoTo derives it from first and
  // last name): display_name is then never a difference to write.
  bool target_has_display_name = true;
  // target.suppress_welcome: the creates of users whose rule does not say (or who have no rule)
  // send no welcome email.
  bool suppress_welcome = false;
  // [[mappings]], in file order: replacements of built-in fields and attributes of their own.
  // Empty: the built-in mapping only (DESIGN.md "SCIM mapping").
  std::vector<AttributeMapping> mappings;
  // The base of deprovision.max_changes_percent, when larger than the accounts this plan links
  // (plan.managed_accounts): a delta plan (core/delta_plan.h) sees only the accounts it looked
  // up, so it passes the whole target's managed accounts (the stored links). -1: none.
  int64_t managed_accounts_base = -1;
  // Non-empty (one byte per directory user): only the users marked 1 get rows and operations
  // of their own (a delta plan's affected users); the others still count for scope, duplicate
  // emails and matching. Empty: every user.
  std::vector<uint8_t> plan_only;

  // Whether user `user_idx` gets its own row and operation (plan_only).
  bool Plans(uint32_t user_idx) const { return plan_only.empty() || plan_only[user_idx] != 0; }
};

struct Plan {
  std::array<int64_t, kCategoryCount> summary{};  // indexed by Category
  std::vector<Operation> operations;
  std::vector<UserRow> rows;  // every user in scope and every unclaimed account
  // What the rows' text views: the directory's, the accounts' and the mapping's storage,
  // shared (a million rows cost no copy of their DNs, ids and emails, and stay valid after
  // the directory and the snapshot are gone), and the text the plan composed (reasons, stored
  // once each). A copy of the plan shares it too.
  StringArena strings;
  bool deprovision_held = false;
  std::string hold_reason;
  int64_t managed_accounts = 0;  // linked accounts that exist at the target
  int64_t in_scope = 0;          // users in scope (selected, not disabled, covered if required)
  int64_t stored_links = 0;      // links the state store holds
  int64_t dangling_links = 0;    // of those, links whose account the target does not list
  // Non-empty: the plan must not be used (DanglingLinksRefusal); the reason, without the fix.
  std::string refusal;
  // Missing scope groups/users, rule groups, unresolved members, ...
  std::vector<std::string> warnings;

  int64_t count(Category category) const { return summary[static_cast<size_t>(category)]; }
};

// What `account` lacks of `spec`: one change per field the planner compares (the create-only
// welcome template is not read back from a target, so it never differs; display_name only when
// `compare_display_name`; a field the target did not return, Account::Returned, never), and
// active when the account is not. The planner's updates and the
// recovery of an interrupted create use this one comparison.
std::vector<Change> DiffAccount(const AccountSpec& spec, const Account& account,
                                bool compare_display_name);

// The dangling-links guard. A state store whose links mostly name accounts the target does not
// list belongs to another tenant, or the target was emptied: planning on it would report every
// linked user invalid ("linked account ... no longer exists"). Refused when at least
// kDanglingGuardMinLinks links are stored and more than kDanglingGuardPercent of them dangle:
// 6 of 10 (60% > 50) refuses, 5 of 10 (50%) and 9 of 9 (too few links to judge) do not.
inline constexpr int64_t kDanglingGuardMinLinks = 10;
inline constexpr double kDanglingGuardPercent = 50;

// The reason to refuse a plan with `dangling` of `stored` links dangling, or "" to go on:
// "8 of 10 stored links (80%) name accounts the target does not list (more than 50% of at
// least 10 links): the state store probably belongs to another tenant, or the target was
// emptied".
std::string DanglingLinksRefusal(int64_t stored, int64_t dangling);

// Computes the plan. `links` and `manual` come from the state store.
Plan ComputePlan(const Directory& dir, const Accounts& accounts, std::span<const Link> links,
                 std::span<const Link> manual, const PlanConfig& config);

}  // namespace usersync::core
