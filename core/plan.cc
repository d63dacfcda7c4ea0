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
#include "core/plan_diff.h"
#include "core/str.h"

namespace usersync::core {
namespace {

// The mapped attributes of `desired` into spec.attributes (sorted by path, as attribute_paths).
void FillAttributes(const MappingResult& mapping, const DesiredUser& desired, AccountSpec& spec) {
  spec.attributes.reserve(mapping.attribute_paths.size());
  for (size_t path_idx = 0; path_idx < mapping.attribute_paths.size(); ++path_idx) {
    spec.attributes.emplace_back(mapping.attribute_paths[path_idx],
                                 mapping.attribute_values[desired.attributes + path_idx]);
  }
}

// The text of each rule's settings that the planner compares and writes: canonical lists made
// once per rule rather than once per user.
struct RuleTexts {
  std::string privileges;      // manager only
  std::string managed_groups;  // manager only
};

std::vector<RuleTexts> MakeRuleTexts(const std::vector<Rule>& rules) {
  std::vector<RuleTexts> texts(rules.size());
  for (size_t rule_idx = 0; rule_idx < rules.size(); ++rule_idx) {
    const Rule& rule = rules[rule_idx];
    if (rule.admin != AdminRole::kManager) continue;
    texts[rule_idx] = {CanonicalList(rule.privileges), CanonicalList(rule.managed_groups)};
  }
  return texts;
}

// What `desired`'s account should hold, as views into the mapping, the rules and `texts`: the
// planner compares it with the account before copying anything (SpecFrom makes the spec of an
// operation it keeps).
SpecValues DesiredValues(const RuleAssignment& rules, const std::vector<RuleTexts>& texts,
                         const DesiredUser& desired) {
  SpecValues want;
  want[Field::kUserName] = desired.email;
  want[Field::kEmail] = desired.email;
  want[Field::kExternalId] = desired.external_id;
  want[Field::kFirstName] = desired.first_name;
  want[Field::kLastName] = desired.last_name;
  want[Field::kDisplayName] = desired.display_name;
  want[Field::kLanguage] = desired.language;
  if (desired.rule == kNoRule) return want;
  const Rule& rule = rules.rules[desired.rule];
  want[Field::kProducts] = rules.canonical_products[desired.rule];
  want[Field::kAdminRole] = AdminRoleName(rule.admin);
  if (rule.admin == AdminRole::kManager) {
    want[Field::kPrivileges] = texts[desired.rule].privileges;
    want[Field::kRoleSet] = rule.role_set;
    want[Field::kManagedGroups] = texts[desired.rule].managed_groups;
  }
  if (!rules.merged_device_groups.empty()) {
    want[Field::kDeviceGroups] = rules.merged_device_groups[desired.user];
  }
  want[Field::kUserGroup] = rule.user_group;
  want[Field::kSettingsTemplate] = rule.settings_template;
  return want;
}

constexpr uint32_t Bit(Field field) { return 1u << static_cast<unsigned>(field); }

// The wanted values a kept operation views in Plan::strings instead of copying them
// (CompactString::Borrow; a million operations then hold no copy of their emails and ids):
// the email (the row's: the mapping's or the directory's), the products (the row's, stored
// once per list), the admin role (a constant), and the directory's id and names where no
// [[mappings]] entry replaces them (a mapping's constant lives in the configuration, which a
// plan does not keep). The rest (the rules' settings, the language) is copied.
uint32_t BorrowedFields(const PlanConfig& config) {
  uint32_t borrowed = Bit(Field::kUserName) | Bit(Field::kEmail) | Bit(Field::kProducts) |
                      Bit(Field::kAdminRole) | Bit(Field::kExternalId) | Bit(Field::kFirstName) |
                      Bit(Field::kLastName) | Bit(Field::kDisplayName);
  for (const AttributeMapping& mapping : config.mappings) {
    if (mapping.field != Field::kAttribute) borrowed &= ~Bit(mapping.field);
  }
  return borrowed;
}

// The spec of an operation the planner keeps, without the mapped attributes (FillAttributes).
// `want`'s products are the row's; `borrowed`: BorrowedFields.
AccountSpec MakeSpec(const RuleAssignment& rules, const SpecValues& want,
                     const DesiredUser& desired, bool suppress_welcome, uint32_t borrowed) {
  if (desired.rule == kNoRule) return SpecFrom(want, "", suppress_welcome, borrowed);
  const Rule& rule = rules.rules[desired.rule];
  return SpecFrom(want, rule.welcome_template, rule.suppress_welcome.value_or(suppress_welcome),
                  borrowed);
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
  if (!added_only) return absl::StrSplit(Sv(op.spec.products), ',', absl::SkipEmpty());
  std::vector<absl::string_view> out;
  for (const Change& change : op.changes) {
    if (change.field != Field::kProducts) continue;
    const std::vector<absl::string_view> before =
        absl::StrSplit(Sv(change.before), ',', absl::SkipEmpty());
    for (absl::string_view product : absl::StrSplit(Sv(change.after), ',', absl::SkipEmpty())) {
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
  op.reason = absl::StrCat(Sv(op.reason), "; products left unchanged: no seat for ", missing);
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
      row.reason =
          plan.strings.Store(absl::StrCat("no seat for ", missing, " (", Sv(row.reason),
                                          nothing_left ? ")" : "; the other changes are applied)"));
    } else {
      dropped[user.op_idx] = 1;
      row.reason =
          plan.strings.Store(absl::StrCat("no seat for ", missing, " (", Sv(row.reason), ")"));
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

// Stores text in a plan's strings once per distinct value: a million rows saying "linked, in
// sync" hold one copy of it.
class TextStore {
 public:
  explicit TextStore(StringArena& arena) : arena_(arena) {}

  std::string_view operator()(std::string_view text) {
    if (text.empty()) return {};
    if (auto it = stored_.find(text); it != stored_.end()) return *it;
    const std::string_view stored = arena_.Store(text);
    stored_.insert(stored);
    return stored;
  }

 private:
  StringArena& arena_;
  absl::flat_hash_set<std::string_view> stored_;
};

// What ComputePlan's steps read: the inputs and the pure stages' results.
struct PlanInputs {
  const Directory& dir;
  const Accounts& accounts;
  const PlanConfig& config;
  const RuleAssignment& rules;
  const MappingResult& mapping;
  const MatchResult& match;
  const ScopeResult& scope;
  const std::vector<RuleTexts>& rule_texts;
  uint32_t borrowed_fields;  // BorrowedFields(config)
};

// What the steps share while they build the plan.
struct PlanState {
  Plan& plan;
  std::vector<SeatUser> seat_users;      // creates, reactivations, product-adding updates
  std::vector<uint8_t> account_settled;  // per account: claimed by a row already
  TextStore text;                        // into plan.strings
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

void EmitInvalid(const Directory& dir, uint32_t user, std::string_view reason, PlanState& state,
                 bool replan = false) {
  UserRow row;
  row.category = Category::kInvalid;
  row.directory_id = dir.user_id[user];
  row.dn = dir.user_dn[user];
  row.email = dir.email[user];
  row.reason = state.text(reason);
  row.replan = replan;
  state.plan.rows.push_back(row);
}

// The operation that brings `desired`'s account in step, filled but for its kind and reason.
Operation MakeOperation(const PlanInputs& in, const DesiredUser& desired, const SpecValues& want,
                        std::vector<Change> changes, const UserRow& row) {
  Operation op;
  // The row's text is the plan's (Plan::strings): the operation views it too.
  op.directory_id = CompactString::Borrow(row.directory_id);
  op.dn = CompactString::Borrow(row.dn);
  op.email = CompactString::Borrow(row.email);
  op.account_id = CompactString::Borrow(row.account_id);
  op.changes = std::move(changes);
  op.spec = MakeSpec(in.rules, want, desired, in.config.suppress_welcome, in.borrowed_fields);
  FillAttributes(in.mapping, desired, op.spec);
  return op;
}

// How `desired_idx` was matched, for its row: "linked", "matched by email", ...
std::string MatchedHow(const PlanInputs& in, size_t desired_idx) {
  const MatchMethod method = in.match.method[desired_idx];
  if (method == MatchMethod::kLink && in.match.has_stored_link[desired_idx] != 0) return "linked";
  return absl::StrCat(
      "matched by ",
      Sv(method == MatchMethod::kLink        ? std::string_view("externalId")
         : method == MatchMethod::kAttribute ? in.match.matched_attribute[desired_idx]
                                             : MatchMethodName(method)));
}

// The row and, unless the account is in step, the operation of one desired user. What the
// account should hold is compared as views; only an operation kept copies it (MakeOperation).
void PlanDesiredUser(const PlanInputs& in, size_t desired_idx, PlanState& state) {
  const Directory& dir = in.dir;
  Plan& plan = state.plan;
  const DesiredUser& desired = in.mapping.desired[desired_idx];
  const uint32_t user = desired.user;
  if (!in.match.conflict[desired_idx].empty()) {
    EmitInvalid(dir, user, in.match.conflict[desired_idx], state, /*replan=*/true);
    return;
  }
  SpecValues want = DesiredValues(in.rules, in.rule_texts, desired);
  UserRow row;
  row.directory_id = dir.user_id[user];
  row.dn = dir.user_dn[user];
  row.email = desired.email;
  row.rule =
      desired.rule == kNoRule ? std::string_view() : state.text(in.rules.rules[desired.rule].name);
  row.products = state.text(want[Field::kProducts]);
  want[Field::kProducts] = row.products;  // stored once per list: operations view it
  const std::string rule_text = desired.rule == kNoRule ? std::string("no rule (no products)")
                                                        : absl::StrCat("rule ", Sv(row.rule));

  const int64_t account_idx = in.match.account_of_desired[desired_idx];
  if (account_idx < 0) {
    row.category = Category::kNew;
    const std::string reason = absl::StrCat("in scope, no account; ", rule_text);
    row.reason = state.text(reason);
    Operation op = MakeOperation(in, desired, want, {}, row);
    op.kind = OpKind::kCreate;
    op.reason = CompactString::Borrow(row.reason);
    state.seat_users.push_back({plan.operations.size(), plan.rows.size(), false});
    plan.operations.push_back(std::move(op));
    plan.rows.push_back(row);
    return;
  }
  const Account& account = in.accounts.items[account_idx];
  state.account_settled[account_idx] = 1;
  row.account_id = account.id;
  std::vector<Change> changes;
  // The account's text is the plan's too (Plan::strings shares the snapshot's).
  const uint32_t borrowed = in.borrowed_fields | kBorrowHeld;
  DiffCommonFields(want, account, in.config.target_has_display_name, changes, borrowed);
  DiffOwnFieldsAndActive(want, account, changes, borrowed);
  DiffMappedAttributes(in.mapping, desired, account, changes);
  const bool link_stored = in.match.has_stored_link[desired_idx] != 0;
  row.category = changes.empty() ? Category::kMatched : Category::kUpdate;
  const std::string how = MatchedHow(in, desired_idx);
  const std::string reason = changes.empty()
                                 ? absl::StrCat(how, ", in sync")
                                 : absl::StrCat(how, "; changed: ", ChangedFields(changes));
  row.reason = state.text(reason);
  OpKind kind = OpKind::kUpdate;
  if (!account.active) {
    kind = OpKind::kReactivate;
  } else if (!link_stored) {
    kind = OpKind::kLink;
  } else if (changes.empty()) {
    plan.rows.push_back(row);
    return;
  }
  const bool adds_products = ChangesField(changes, Field::kProducts);
  Operation op = MakeOperation(in, desired, want, std::move(changes), row);
  op.kind = kind;
  op.precondition_version = CompactString::Borrow(account.version);
  op.precondition_active = account.active;
  op.reason = CompactString::Borrow(state.text(absl::StrCat(reason, "; ", rule_text)));
  if (op.kind == OpKind::kReactivate) {
    state.seat_users.push_back({plan.operations.size(), plan.rows.size(), false});
  } else if (adds_products) {
    state.seat_users.push_back({plan.operations.size(), plan.rows.size(), /*added_only=*/true});
  }
  plan.operations.push_back(std::move(op));
  plan.rows.push_back(row);
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
      if (in.config.Plans(invalid.user)) EmitInvalid(in.dir, invalid.user, invalid.reason, state);
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
    // A link's directory id lives in the caller's links: stored, not shared.
    row.directory_id = plan.strings.Store(gone.directory_id);
    row.dn = user ? dir.user_dn[*user] : std::string_view();
    row.email = account.email.empty() ? account.user_name : account.email;
    row.account_id = account.id;
    row.products = account.products;
    const DeprovisionAction action = in.config.deprovision.action;
    if (!account.active || action == DeprovisionAction::kNone) {
      row.reason = state.text(
          absl::StrCat("departed (", why, "); ",
                       !account.active ? "account already inactive" : "deprovision.action = none"));
      plan.rows.push_back(row);
      continue;
    }
    Operation op;
    op.kind = action == DeprovisionAction::kDelete ? OpKind::kDelete : OpKind::kDeactivate;
    op.directory_id = CompactString::Borrow(row.directory_id);
    op.dn = CompactString::Borrow(row.dn);
    op.account_id = CompactString::Borrow(row.account_id);
    op.email = CompactString::Borrow(row.email);
    op.precondition_version = CompactString::Borrow(account.version);
    op.precondition_active = account.active;
    row.reason = state.text(absl::StrCat("departed: ", why));
    op.reason = CompactString::Borrow(row.reason);
    if (op.kind == OpKind::kDeactivate) op.changes.push_back({Field::kActive, "true", "false"});
    plan.operations.push_back(std::move(op));
    plan.rows.push_back(row);
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
  static constexpr std::string_view kReason =
      "no directory user matches this account; left untouched";
  for (uint32_t idx = 0; idx < accounts.items.size(); ++idx) {
    if (state.account_settled[idx] || linked_accounts[idx]) continue;
    const Account& account = accounts.items[idx];
    UserRow row;
    row.category = Category::kAccountOnly;
    row.email = account.email.empty() ? account.user_name : account.email;
    row.account_id = account.id;
    row.products = account.products;
    row.reason = kReason;
    plan.rows.push_back(row);
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
  const std::vector<RuleTexts> rule_texts = MakeRuleTexts(rules.rules);
  const PlanInputs in{
      dir, accounts, config, rules, mapping, match, scope, rule_texts, BorrowedFields(config)};
  // The rows view the directory's, the accounts' and the mapping's text: shared, not copied.
  plan.strings.Share(dir.strings());
  plan.strings.Share(accounts.arena);
  plan.strings.Share(mapping.arena);
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
  PlanState state{
      plan, {}, std::vector<uint8_t>(accounts.items.size(), 0), TextStore(plan.strings)};
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
