#include "core/plan.h"

#include <algorithm>
#include <iterator>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/group_closure.h"
#include "core/mapping.h"
#include "core/str.h"

namespace usersync::core {
namespace {

constexpr std::string_view kAttributePrefix = "attribute:";

// The mapped attributes of `desired` into spec.attributes (sorted by path, as attribute_paths).
void FillAttributes(const MappingResult& mapping, const DesiredUser& desired, AccountSpec& spec) {
  spec.attributes.reserve(mapping.attribute_paths.size());
  for (size_t path_idx = 0; path_idx < mapping.attribute_paths.size(); ++path_idx) {
    spec.attributes.emplace_back(mapping.attribute_paths[path_idx],
                                 mapping.attribute_values[desired.attributes + path_idx]);
  }
}

// Without the mapped attributes: the planner adds them (FillAttributes) only to the specs of
// operations it keeps, so a matched user in step costs no copy of them.
AccountSpec MakeSpec(const RuleAssignment& rules, const DesiredUser& desired,
                     bool suppress_welcome) {
  AccountSpec spec;
  spec.user_name = std::string(desired.email);
  spec.email = std::string(desired.email);
  spec.external_id = std::string(desired.external_id);
  spec.first_name = std::string(desired.first_name);
  spec.last_name = std::string(desired.last_name);
  spec.display_name = std::string(desired.display_name);
  spec.language = std::string(desired.language);
  spec.suppress_welcome = suppress_welcome;
  if (desired.rule != kNoRule) {
    const Rule& rule = rules.rules[desired.rule];
    spec.products = rules.canonical_products[desired.rule];
    spec.admin_role = std::string(AdminRoleName(rule.admin));
    if (rule.admin == AdminRole::kManager) {
      spec.privileges = CanonicalList(rule.privileges);
      spec.role_set = rule.role_set;
      spec.managed_groups = CanonicalList(rule.managed_groups);
    }
    if (!rules.merged_device_groups.empty()) {
      spec.device_groups = rules.merged_device_groups[desired.user];
    }
    spec.user_group = rule.user_group;
    spec.welcome_template = rule.welcome_template;
    spec.suppress_welcome = rule.suppress_welcome.value_or(suppress_welcome);
    spec.settings_template = rule.settings_template;
  }
  spec.active = true;
  return spec;
}

void DiffField(std::vector<Change>& changes, Field field, std::string_view before,
               std::string_view after) {
  if (before != after) changes.push_back({field, std::string(before), std::string(after)});
}

// The mapped attributes that differ. Both lists are sorted by path; an attribute the account
// holds and the spec does not map is not usersync's, and one the spec maps to "" that the
// account lacks is in step.
// `wanted(idx)` is the idx-th (path, value) of `count`, sorted by path.
template <typename Wanted>
void DiffAttributes(std::vector<Change>& changes, size_t count, Wanted wanted,
                    const Account& account) {
  auto held = account.attributes.begin();
  for (size_t idx = 0; idx < count; ++idx) {
    const auto [path, value] = wanted(idx);
    while (held != account.attributes.end() && held->first < path) ++held;
    const std::string_view before =
        held != account.attributes.end() && held->first == path ? held->second : "";
    if (before != value) {
      changes.push_back(
          {Field::kAttribute, std::string(before), std::string(value), std::string(path)});
    }
  }
}

// The mapped attributes of `desired` that `account` lacks, read from the mapping result (the
// spec holds none yet); inserted before a trailing active change, where DiffAccount puts them.
void DiffMappedAttributes(const MappingResult& mapping, const DesiredUser& desired,
                          const Account& account, std::vector<Change>& changes) {
  const bool active_last = !changes.empty() && changes.back().field == Field::kActive;
  std::optional<Change> active;
  if (active_last) {
    active = std::move(changes.back());
    changes.pop_back();
  }
  DiffAttributes(
      changes, mapping.attribute_paths.size(),
      [&](size_t idx) {
        return std::pair<std::string_view, std::string_view>(
            mapping.attribute_paths[idx], mapping.attribute_values[desired.attributes + idx]);
      },
      account);
  if (active) changes.push_back(*std::move(active));
}

bool ChangesField(const std::vector<Change>& changes, Field field) {
  return std::any_of(changes.begin(), changes.end(),
                     [field](const Change& change) { return change.field == field; });
}

std::string ChangedFields(const std::vector<Change>& changes) {
  std::string out;
  for (const Change& change : changes) {
    if (!out.empty()) out.append(", ");
    out.append(ChangeName(change));
  }
  return out;
}

// An operation that needs seats, and its row. A create or reactivation needs one for every
// product of its spec; an update or link (`added_only`) only for the products its change adds.
struct SeatUser {
  size_t op_idx;
  size_t row_idx;
  bool added_only = false;
};

// The products `op` needs seats for: its spec's, or (added_only) those its products change adds.
// The views point into `op`.
std::vector<absl::string_view> SeatProducts(const Operation& op, bool added_only) {
  if (!added_only) return absl::StrSplit(op.spec.products, ',', absl::SkipEmpty());
  std::vector<absl::string_view> out;
  for (const Change& change : op.changes) {
    if (change.field != Field::kProducts) continue;
    const std::vector<absl::string_view> before =
        absl::StrSplit(change.before, ',', absl::SkipEmpty());
    for (absl::string_view product : absl::StrSplit(change.after, ',', absl::SkipEmpty())) {
      if (std::find(before.begin(), before.end(), product) == before.end()) {
        out.push_back(product);
      }
    }
  }
  return out;
}

// An update or link lacking a seat: its products change is dropped (the account keeps its
// products, the spec says so too, so a PUT of the whole spec keeps them) and the other changes
// stay. Returns true when the operation has nothing left to do (an update with no other change;
// a link still stores its link).
bool DropProductsChange(Operation& op, const std::string& missing) {
  auto products = std::find_if(op.changes.begin(), op.changes.end(), [](const Change& change) {
    return change.field == Field::kProducts;
  });
  op.spec.products = products->before;
  op.changes.erase(products);
  op.reason = absl::StrCat(op.reason, "; products left unchanged: no seat for ", missing);
  return op.changes.empty() && op.kind == OpKind::kUpdate;
}

// Gives seats to creates, reactivations and product-adding updates in plan order (so the plan is
// stable); a create or reactivation that lacks a seat for any of its products is dropped from
// the operations, an update or link loses its products change only (DropProductsChange). Either
// way the row becomes invalid ("no seat for G2W"). Seats freed by this run's deactivations and
// product removals are not counted: they may be applied later.
void ApplySeats(const std::vector<std::pair<std::string, int64_t>>& free_seats,
                const std::vector<SeatUser>& seat_users, Plan& plan) {
  if (free_seats.empty() || seat_users.empty()) return;
  absl::flat_hash_map<std::string, int64_t> remaining(free_seats.begin(), free_seats.end());
  std::vector<uint8_t> dropped(plan.operations.size(), 0);
  for (const SeatUser& user : seat_users) {
    Operation& op = plan.operations[user.op_idx];
    const std::vector<absl::string_view> needed = SeatProducts(op, user.added_only);
    std::string missing;
    for (absl::string_view product : needed) {
      auto it = remaining.find(product);
      if (it != remaining.end() && it->second <= 0) {
        missing = std::string(product);
        break;
      }
    }
    if (missing.empty()) {
      for (absl::string_view product : needed) {
        if (auto it = remaining.find(product); it != remaining.end()) --it->second;
      }
      continue;
    }
    UserRow& row = plan.rows[user.row_idx];
    row.category = Category::kInvalid;
    row.replan = true;
    if (user.added_only) {
      const bool nothing_left = DropProductsChange(op, missing);
      dropped[user.op_idx] = nothing_left;
      row.reason = absl::StrCat("no seat for ", missing, " (", row.reason,
                                nothing_left ? ")" : "; the other changes are applied)");
    } else {
      dropped[user.op_idx] = 1;
      row.reason = absl::StrCat("no seat for ", missing, " (", row.reason, ")");
    }
  }
  size_t kept = 0;
  for (size_t op_idx = 0; op_idx < plan.operations.size(); ++op_idx) {
    if (dropped[op_idx]) continue;
    if (kept != op_idx) plan.operations[kept] = std::move(plan.operations[op_idx]);
    ++kept;
  }
  plan.operations.resize(kept);
}

std::string RuleName(const RuleAssignment& rules, int32_t rule) {
  return rule == kNoRule ? std::string() : rules.rules[rule].name;
}

// What ComputePlan's steps read: the inputs and the pure stages' results.
struct PlanInputs {
  const Directory& dir;
  const Accounts& accounts;
  const PlanConfig& config;
  const RuleAssignment& rules;
  const MappingResult& mapping;
  const MatchResult& match;
  const ScopeResult& scope;
};

// What the steps share while they build the plan.
struct PlanState {
  Plan& plan;
  std::vector<SeatUser> seat_users;      // creates, reactivations, product-adding updates
  std::vector<uint8_t> account_settled;  // per account: claimed by a row already
};

// 1. Scope (core/scope.h): the users the scope's groups, users and filter select, minus users
//    disabled in the directory; the entries the directory lacks are warned about.
ScopeResult ScopeUsers(const Directory& dir, const PlanConfig& config, Plan& plan) {
  ScopeResult scope =
      ComputeScope(dir, config.scope_groups, config.scope_users,
                   config.scope_filter.has_value() ? &*config.scope_filter : nullptr);
  for (const std::string& group : scope.missing_groups) {
    plan.warnings.push_back(absl::StrCat("scope group not found in the directory: ", group));
  }
  for (const std::string& user : scope.missing_users) {
    plan.warnings.push_back(absl::StrCat("scope user not found in the directory: ", user));
  }
  return scope;
}

void WarnAboutGroups(const Directory& dir, const RuleAssignment& rules, Plan& plan) {
  for (const std::string& group : rules.missing_groups) {
    plan.warnings.push_back(absl::StrCat("rule group not found in the directory: ", group));
  }
  if (dir.unresolved_member_count > 0) {
    const auto& [group, member] = dir.unresolved_examples.front();
    plan.warnings.push_back(absl::StrCat(dir.unresolved_member_count,
                                         " group member value(s) name no user or group in the "
                                         "directory, e.g. ",
                                         member, " in ", group));
  }
}

void EmitInvalid(const Directory& dir, uint32_t user, const std::string& reason, Plan& plan,
                 bool replan = false) {
  UserRow row;
  row.category = Category::kInvalid;
  row.directory_id = std::string(dir.user_id[user]);
  row.dn = std::string(dir.user_dn[user]);
  row.email = std::string(dir.email[user]);
  row.reason = reason;
  row.replan = replan;
  plan.rows.push_back(std::move(row));
}

// The row and, unless the account is in step, the operation of one desired user.
void PlanDesiredUser(const PlanInputs& in, size_t desired_idx, PlanState& state) {
  const Directory& dir = in.dir;
  Plan& plan = state.plan;
  const DesiredUser& desired = in.mapping.desired[desired_idx];
  const uint32_t user = desired.user;
  if (!in.match.conflict[desired_idx].empty()) {
    EmitInvalid(dir, user, in.match.conflict[desired_idx], plan, /*replan=*/true);
    return;
  }
  UserRow row;
  row.directory_id = std::string(dir.user_id[user]);
  row.dn = std::string(dir.user_dn[user]);
  row.email = std::string(desired.email);
  row.rule = RuleName(in.rules, desired.rule);
  Operation op;
  op.directory_id = row.directory_id;
  op.dn = row.dn;
  op.email = row.email;
  op.spec = MakeSpec(in.rules, desired, in.config.suppress_welcome);
  row.products = op.spec.products;
  const std::string rule_text = desired.rule == kNoRule ? std::string("no rule (no products)")
                                                        : absl::StrCat("rule ", Sv(row.rule));

  const int64_t account_idx = in.match.account_of_desired[desired_idx];
  if (account_idx < 0) {
    row.category = Category::kNew;
    row.reason = absl::StrCat("in scope, no account; ", rule_text);
    op.kind = OpKind::kCreate;
    op.reason = row.reason;
    FillAttributes(in.mapping, desired, op.spec);
    state.seat_users.push_back({plan.operations.size(), plan.rows.size(), false});
    plan.operations.push_back(std::move(op));
    plan.rows.push_back(std::move(row));
    return;
  }
  const Account& account = in.accounts.items[account_idx];
  state.account_settled[account_idx] = 1;
  row.account_id = std::string(account.id);
  op.account_id = row.account_id;
  op.precondition_version = std::string(account.version);
  op.precondition_active = account.active;
  op.changes = DiffAccount(op.spec, account, in.config.target_has_display_name);
  DiffMappedAttributes(in.mapping, desired, account, op.changes);
  const MatchMethod method = in.match.method[desired_idx];
  const bool link_stored = in.match.has_stored_link[desired_idx] != 0;
  row.category = op.changes.empty() ? Category::kMatched : Category::kUpdate;
  std::string how =
      method == MatchMethod::kLink && link_stored
          ? std::string("linked")
          : absl::StrCat(
                "matched by ",
                Sv(method == MatchMethod::kLink        ? std::string_view("externalId")
                   : method == MatchMethod::kAttribute ? in.match.matched_attribute[desired_idx]
                                                       : MatchMethodName(method)));
  row.reason = op.changes.empty() ? absl::StrCat(how, ", in sync")
                                  : absl::StrCat(how, "; changed: ", ChangedFields(op.changes));
  if (!account.active) {
    op.kind = OpKind::kReactivate;
  } else if (!link_stored) {
    op.kind = OpKind::kLink;
  } else if (!op.changes.empty()) {
    op.kind = OpKind::kUpdate;
  } else {
    plan.rows.push_back(std::move(row));
    return;
  }
  FillAttributes(in.mapping, desired, op.spec);
  op.reason = absl::StrCat(row.reason, "; ", rule_text);
  if (op.kind == OpKind::kReactivate) {
    state.seat_users.push_back({plan.operations.size(), plan.rows.size(), false});
  } else if (ChangesField(op.changes, Field::kProducts)) {
    state.seat_users.push_back({plan.operations.size(), plan.rows.size(), /*added_only=*/true});
  }
  plan.operations.push_back(std::move(op));
  plan.rows.push_back(std::move(row));
}

// 5. Desired users and invalid users, interleaved in directory order.
void PlanDirectoryUsers(const PlanInputs& in, PlanState& state) {
  const MappingResult& mapping = in.mapping;
  size_t invalid_idx = 0;
  for (size_t desired_idx = 0; desired_idx <= mapping.desired.size(); ++desired_idx) {
    const uint32_t next_user = desired_idx < mapping.desired.size()
                                   ? mapping.desired[desired_idx].user
                                   : static_cast<uint32_t>(in.dir.user_count());
    for (; invalid_idx < mapping.invalid.size() && mapping.invalid[invalid_idx].user < next_user;
         ++invalid_idx) {
      const InvalidUser& invalid = mapping.invalid[invalid_idx];
      if (in.config.Plans(invalid.user))
        EmitInvalid(in.dir, invalid.user, invalid.reason, state.plan);
    }
    if (desired_idx == mapping.desired.size()) break;
    if (in.config.Plans(next_user)) PlanDesiredUser(in, desired_idx, state);
  }
}

struct DepartedAccount {
  uint32_t account_idx;
  std::string_view directory_id;
};

// 6a. Accounts linked to a directory user that is no longer a valid user in scope (left the
//     scoped groups, disabled, or gone from the directory), in account order. Users in scope
//     but invalid are not departed: their data needs fixing, not their account removing. Also
//     sets plan.managed_accounts and marks `linked_accounts`.
std::vector<DepartedAccount> FindDeparted(const PlanInputs& in, std::span<const Link> links,
                                          std::vector<uint8_t>& linked_accounts, Plan& plan) {
  auto still_in_scope = [&](std::string_view directory_id) {
    std::optional<uint32_t> user = in.dir.FindUserById(directory_id);
    return user.has_value() && in.mapping.in_scope[*user];
  };
  std::vector<DepartedAccount> departed;
  for (size_t link_idx = 0; link_idx < links.size(); ++link_idx) {
    const int64_t account_idx = in.match.link_account[link_idx];
    if (account_idx < 0 || linked_accounts[account_idx]) continue;
    linked_accounts[account_idx] = 1;
    const Link& link = links[link_idx];
    if (!link.managed || still_in_scope(link.directory_id)) continue;
    departed.push_back({static_cast<uint32_t>(account_idx), link.directory_id});
  }
  for (uint32_t idx = 0; idx < in.accounts.items.size(); ++idx) {
    // Linked at the target only (externalId = a directory id): counts as linked.
    const int64_t owner = in.match.external_owner[idx];
    if (owner < 0 || linked_accounts[idx]) continue;
    linked_accounts[idx] = 1;
    if (!in.mapping.in_scope[owner]) departed.push_back({idx, in.dir.user_id[owner]});
  }
  int64_t managed = 0;
  for (uint8_t linked : linked_accounts) managed += linked;
  plan.managed_accounts = managed;
  std::sort(departed.begin(), departed.end(),
            [](const DepartedAccount& a, const DepartedAccount& b) {
              return a.account_idx < b.account_idx;
            });
  return departed;
}

// Why the directory user `user` (nullopt: gone from the directory) of a departed account is no
// longer a user in scope.
std::string DepartureReason(const PlanInputs& in, std::optional<uint32_t> user) {
  if (!user) return "no longer in the directory";
  if (in.dir.disabled[*user]) return "disabled in the directory";
  if (!in.scope.no_rule.empty() && in.scope.no_rule[*user]) return std::string(kNoRuleReason);
  if (in.config.scope_users.empty() && !in.config.scope_filter)
    return "no longer in a scoped group";
  return "no longer selected by scope.groups, scope.users or scope.filter";
}

// 6b. A row for each departed account and, when it is active and the policy acts, its
//     deactivation or deletion. Returns how many operations it planned.
int64_t PlanDeparted(const PlanInputs& in, const std::vector<DepartedAccount>& departed,
                     PlanState& state) {
  const Directory& dir = in.dir;
  Plan& plan = state.plan;
  int64_t deprovisions = 0;
  for (const DepartedAccount& gone : departed) {
    if (state.account_settled[gone.account_idx]) continue;  // claimed by a user in scope
    state.account_settled[gone.account_idx] = 1;
    const Account& account = in.accounts.items[gone.account_idx];
    std::optional<uint32_t> user = dir.FindUserById(gone.directory_id);
    const std::string why = DepartureReason(in, user);
    UserRow row;
    row.category = Category::kDeparted;
    row.directory_id = std::string(gone.directory_id);
    row.dn = user ? std::string(dir.user_dn[*user]) : std::string();
    row.email = std::string(account.email.empty() ? account.user_name : account.email);
    row.account_id = std::string(account.id);
    row.products = std::string(account.products);
    const DeprovisionAction action = in.config.deprovision.action;
    if (!account.active || action == DeprovisionAction::kNone) {
      row.reason =
          absl::StrCat("departed (", why, "); ",
                       !account.active ? "account already inactive" : "deprovision.action = none");
      plan.rows.push_back(std::move(row));
      continue;
    }
    Operation op;
    op.kind = action == DeprovisionAction::kDelete ? OpKind::kDelete : OpKind::kDeactivate;
    op.directory_id = row.directory_id;
    op.dn = row.dn;
    op.account_id = row.account_id;
    op.email = row.email;
    op.precondition_version = std::string(account.version);
    op.precondition_active = account.active;
    op.reason = absl::StrCat("departed: ", why);
    if (op.kind == OpKind::kDeactivate) op.changes.push_back({Field::kActive, "true", "false"});
    row.reason = op.reason;
    plan.operations.push_back(std::move(op));
    plan.rows.push_back(std::move(row));
    ++deprovisions;
  }
  return deprovisions;
}

// 6c. scope.require_rule: a user left out for want of a rule is shown as invalid with the reason
//     (merged into `invalid`, which stays in directory order), unless a linked account makes it
//     departed: then its departed row says why.
void AddUncoveredRows(const Directory& dir, const ScopeResult& scope,
                      const std::vector<DepartedAccount>& departed,
                      std::vector<InvalidUser>& invalid) {
  if (scope.no_rule.empty()) return;
  std::vector<uint8_t> has_account(dir.user_count(), 0);
  for (const DepartedAccount& gone : departed) {
    if (std::optional<uint32_t> user = dir.FindUserById(gone.directory_id)) has_account[*user] = 1;
  }
  std::vector<InvalidUser> uncovered;
  for (uint32_t user = 0; user < scope.no_rule.size(); ++user) {
    if (scope.no_rule[user] && !has_account[user]) {
      uncovered.push_back({user, std::string(kNoRuleReason)});
    }
  }
  if (uncovered.empty()) return;
  std::vector<InvalidUser> merged;
  merged.reserve(invalid.size() + uncovered.size());
  std::merge(std::make_move_iterator(invalid.begin()), std::make_move_iterator(invalid.end()),
             std::make_move_iterator(uncovered.begin()), std::make_move_iterator(uncovered.end()),
             std::back_inserter(merged),
             [](const InvalidUser& a, const InvalidUser& b) { return a.user < b.user; });
  invalid = std::move(merged);
}

// 7. Account-only: accounts no directory user matches and none is linked to. Never touched.
void PlanAccountOnly(const Accounts& accounts, const std::vector<uint8_t>& linked_accounts,
                     const PlanState& state, Plan& plan) {
  for (uint32_t idx = 0; idx < accounts.items.size(); ++idx) {
    if (state.account_settled[idx] || linked_accounts[idx]) continue;
    const Account& account = accounts.items[idx];
    UserRow row;
    row.category = Category::kAccountOnly;
    row.email = std::string(account.email.empty() ? account.user_name : account.email);
    row.account_id = std::string(account.id);
    row.products = std::string(account.products);
    row.reason = "no directory user matches this account; left untouched";
    plan.rows.push_back(std::move(row));
  }
}

// 8. Safety threshold: too many deactivations/deletions at once are held, not applied. The
//    deprovisioning operations are plan.operations[first_op...].
void ApplyThreshold(const PlanConfig& config, int64_t deprovisions, size_t first_op, Plan& plan) {
  const DeprovisionPolicy& policy = config.deprovision;
  const int64_t managed = std::max(config.managed_accounts_base, plan.managed_accounts);
  const bool over_count = deprovisions > policy.max_changes;
  const bool over_percent =
      managed > 0 && static_cast<double>(deprovisions) * 100.0 >
                         policy.max_changes_percent * static_cast<double>(managed);
  if (deprovisions == 0 || (!over_count && !over_percent)) return;
  plan.deprovision_held = true;
  plan.hold_reason = absl::StrCat(
      deprovisions,
      " deactivations/deletions exceed the safety threshold (max_changes = ", policy.max_changes,
      ", max_changes_percent = ", policy.max_changes_percent, "% of ", managed,
      " managed accounts): held until `usersync release`");
  for (size_t op_idx = first_op; op_idx < plan.operations.size(); ++op_idx) {
    plan.operations[op_idx].held = true;
  }
}

// 9. Shrink guard: the users in scope fell by more than max_shrink_percent since the last
//    successful run (a partial export, a wrong base DN): the deprovisioning is held as in 8.
void ApplyShrinkGuard(const PlanConfig& config, int64_t deprovisions, size_t first_op, Plan& plan) {
  const int64_t before = config.previous_in_scope;
  if (deprovisions == 0 || before <= 0 || plan.in_scope >= before) return;
  const double shrink_percent =
      static_cast<double>(before - plan.in_scope) * 100.0 / static_cast<double>(before);
  if (shrink_percent <= config.max_shrink_percent) return;
  const std::string reason = absl::StrFormat(
      "the directory shrank from %d to %d users in scope (%.3g%% > source.max_shrink_percent "
      "%g) since the last successful run: %d deactivations/deletions held until `usersync "
      "release`",
      before, plan.in_scope, shrink_percent, config.max_shrink_percent, deprovisions);
  plan.hold_reason = plan.deprovision_held ? absl::StrCat(plan.hold_reason, "; ", reason) : reason;
  plan.deprovision_held = true;
  for (size_t op_idx = first_op; op_idx < plan.operations.size(); ++op_idx) {
    plan.operations[op_idx].held = true;
  }
}

}  // namespace

std::string DanglingLinksRefusal(int64_t stored, int64_t dangling) {
  if (stored < kDanglingGuardMinLinks) return "";
  const double percent = static_cast<double>(dangling) * 100.0 / static_cast<double>(stored);
  if (percent <= kDanglingGuardPercent) return "";
  return absl::StrFormat(
      "%d of %d stored links (%.3g%%) name accounts the target does not list (more than %g%% "
      "of at least %d links): the state store probably belongs to another tenant, or the "
      "target was emptied",
      dangling, stored, percent, kDanglingGuardPercent, kDanglingGuardMinLinks);
}

std::vector<Change> DiffAccount(const AccountSpec& spec, const Account& account,
                                bool compare_display_name) {
  std::vector<Change> changes;
  // Spelled out rather than a loop over kAllFields with Get(): this runs once per matched user.
  DiffField(changes, Field::kUserName, account.user_name, spec.user_name);
  DiffField(changes, Field::kEmail, account.email, spec.email);
  DiffField(changes, Field::kExternalId, account.external_id, spec.external_id);
  DiffField(changes, Field::kFirstName, account.first_name, spec.first_name);
  DiffField(changes, Field::kLastName, account.last_name, spec.last_name);
  if (compare_display_name) {
    DiffField(changes, Field::kDisplayName, account.display_name, spec.display_name);
  }
  DiffField(changes, Field::kLanguage, account.language, spec.language);
  DiffField(changes, Field::kProducts, account.products, spec.products);
  DiffField(changes, Field::kAdminRole, account.admin_role, spec.admin_role);
  if (account.Returned(Field::kPrivileges)) {  // SCIM keeps them in usersync's extension
    DiffField(changes, Field::kPrivileges, account.privileges, spec.privileges);
  }
  DiffField(changes, Field::kRoleSet, account.role_set, spec.role_set);
  DiffField(changes, Field::kUserGroup, account.user_group, spec.user_group);
  DiffAttributes(
      changes, spec.attributes.size(),
      [&](size_t idx) {
        return std::pair<std::string_view, std::string_view>(spec.attributes[idx].first,
                                                             spec.attributes[idx].second);
      },
      account);
  // usersync's own shapes: a target that does not return them cannot be compared (it would
  // plan the same update forever), so they are left alone there.
  for (Field field : {Field::kManagedGroups, Field::kDeviceGroups, Field::kSettingsTemplate}) {
    if (account.Returned(field)) DiffField(changes, field, account.Get(field), spec.Get(field));
  }
  if (!account.active) changes.push_back({Field::kActive, "false", "true"});
  return changes;
}

std::string ChangeName(const Change& change) {
  if (change.field == Field::kAttribute) return absl::StrCat(Sv(kAttributePrefix), change.path);
  return std::string(FieldName(change.field));
}

bool ParseChangeName(std::string_view name, Field* field, std::string* path) {
  if (name.substr(0, kAttributePrefix.size()) == kAttributePrefix) {
    if (name.size() == kAttributePrefix.size()) return false;
    *field = Field::kAttribute;
    *path = std::string(name.substr(kAttributePrefix.size()));
    return true;
  }
  std::optional<Field> fixed = ParseField(name);
  if (!fixed) return false;
  *field = *fixed;
  path->clear();
  return true;
}

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kCreate:
      return "create";
    case OpKind::kUpdate:
      return "update";
    case OpKind::kDeactivate:
      return "deactivate";
    case OpKind::kReactivate:
      return "reactivate";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kLink:
      return "link";
  }
  return "";
}

std::string_view CategoryName(Category category) {
  switch (category) {
    case Category::kMatched:
      return "matched";
    case Category::kUpdate:
      return "update";
    case Category::kNew:
      return "new";
    case Category::kInvalid:
      return "invalid";
    case Category::kAccountOnly:
      return "account_only";
    case Category::kDeparted:
      return "departed";
  }
  return "";
}

Plan ComputePlan(const Directory& dir, const Accounts& accounts, std::span<const Link> links,
                 std::span<const Link> manual, const PlanConfig& config) {
  Plan plan;
  ScopeResult scope = ScopeUsers(dir, config, plan);

  // 2. Rules, 3. mapping and validation, 4. matching.
  RuleAssignment rules = AssignRules(dir, config.rules);
  WarnAboutGroups(dir, rules, plan);
  if (config.require_rule) LeaveOutUncovered(rules, scope);
  plan.in_scope = std::count(scope.in_scope.begin(), scope.in_scope.end(), uint8_t{1});
  const ResolvedMappings mappings(dir, config.mappings);
  MappingOptions mapping_options{config.validated_domains, &mappings, &config.plan_only};
  MappingResult mapping = MapUsers(dir, scope.in_scope, rules, mapping_options);
  MatchResult match = MatchAccounts(dir, mapping, accounts, links, manual, config.match_order,
                                    config.match_attributes);
  const PlanInputs in{dir, accounts, config, rules, mapping, match, scope};
  plan.stored_links = static_cast<int64_t>(links.size());
  plan.dangling_links = static_cast<int64_t>(match.dangling_links.size());
  plan.refusal = DanglingLinksRefusal(plan.stored_links, plan.dangling_links);

  // Every directory user and every account makes at most one row and one operation: reserving
  // that bound up front saves the vectors' regrowth (a copy of every row each time, and fresh
  // pages to fault in); the untouched tail of the reservation is never faulted in.
  plan.rows.reserve(dir.user_count() + accounts.items.size());
  plan.operations.reserve(dir.user_count() + accounts.items.size());
  std::vector<uint8_t> linked_accounts(accounts.items.size(), 0);
  const std::vector<DepartedAccount> departed = FindDeparted(in, links, linked_accounts, plan);
  AddUncoveredRows(dir, scope, departed, mapping.invalid);
  PlanState state{plan, {}, std::vector<uint8_t>(accounts.items.size(), 0)};
  PlanDirectoryUsers(in, state);
  ApplySeats(config.free_seats, state.seat_users, plan);

  const size_t first_deprovision_op = plan.operations.size();
  const int64_t deprovisions = PlanDeparted(in, departed, state);
  PlanAccountOnly(accounts, linked_accounts, state, plan);
  ApplyThreshold(config, deprovisions, first_deprovision_op, plan);
  ApplyShrinkGuard(config, deprovisions, first_deprovision_op, plan);

  for (const UserRow& row : plan.rows) ++plan.summary[static_cast<size_t>(row.category)];
  return plan;
}

}  // namespace usersync::core
