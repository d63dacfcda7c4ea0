#include "core/explain.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/group_closure.h"
#include "core/mapping.h"
#include "core/normalize.h"
#include "core/rules.h"
#include "core/str.h"

namespace usersync::core {
namespace {

bool SameText(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(Sv(a), Sv(b));
}

std::vector<std::string> GroupDns(const Directory& dir, const std::vector<uint32_t>& path) {
  std::vector<std::string> out;
  out.reserve(path.size());
  for (uint32_t group_idx : path) out.emplace_back(dir.group_dn[group_idx]);
  return out;
}

std::string RuleLabel(const Rule& rule) {
  return absl::StrCat("rule ", rule.name, " (priority ", rule.priority, ")");
}

// Everything Explain needs about the directory as a whole, computed once per call.
struct Context {
  const Directory& dir;
  const Accounts& accounts;
  std::span<const Link> links;
  const PlanConfig& config;
  const Plan& plan;
  ScopeResult scope;  // ComputeScope's, after LeaveOutUncovered when scope.require_rule
  RuleAssignment rules;
  std::vector<ClosureResult> rule_closure;  // per rule (sorted order); empty when group missing
  MappingResult mapping;
  MatchResult match;
};

// One setting per [[mappings]] entry, in file order: "mapping TARGET", its value for the user,
// and where it came from ("attribute departmentNumber", "... is empty: the default").
void ExplainMappings(const Context& ctx, uint32_t user, Explanation& out) {
  const ResolvedMappings mappings(ctx.dir, ctx.config.mappings);
  ResolvedMappings::Scratch scratch;
  for (size_t idx = 0; idx < mappings.size(); ++idx) {
    const AttributeMapping& mapping = mappings.mapping(idx);
    bool used_default = false;
    std::string value(mappings.Evaluate(idx, user, &scratch, &used_default));
    std::string origin = mapping.Describe();
    if (used_default) {
      absl::StrAppend(&origin, " is empty: the default");
    } else if (value.empty()) {
      absl::StrAppend(&origin, " is empty: the attribute is absent");
    }
    out.settings.push_back(
        {absl::StrCat("mapping ", mapping.target), std::move(value), std::move(origin)});
  }
}

void ExplainSettings(const Context& ctx, uint32_t user, Explanation& out) {
  const int32_t winner = ctx.rules.rule_of_user[user];
  const Rule* rule = winner == kNoRule ? nullptr : &ctx.rules.rules[winner];
  const std::string origin = rule ? RuleLabel(*rule) : std::string("no rule holds the user");
  out.settings.push_back(
      {"products", rule ? ctx.rules.canonical_products[winner] : std::string(), origin});
  out.settings.push_back(
      {"admin role", rule ? std::string(AdminRoleName(rule->admin)) : std::string(), origin});
  // A manager's privileges and custom role: shown only when a rule sets them.
  if (rule && rule->admin == AdminRole::kManager && !rule->privileges.empty()) {
    out.settings.push_back({"privileges", CanonicalList(rule->privileges), origin});
  }
  if (rule && rule->admin == AdminRole::kManager && !rule->role_set.empty()) {
    out.settings.push_back({"role set", rule->role_set, origin});
  }
  if (rule && rule->admin == AdminRole::kManager && !rule->managed_groups.empty()) {
    out.settings.push_back({"managed groups", CanonicalList(rule->managed_groups), origin});
  }

  // Language: the rule's, else the directory's when it is a language tag (as MapUsers does).
  SettingOrigin language{"language", "", origin};
  if (rule && !rule->language.empty()) {
    language.value = rule->language;
  } else if (!ctx.dir.language[user].empty() && IsLanguageTag(ctx.dir.language[user])) {
    language.value = std::string(ctx.dir.language[user]);
    language.origin = rule ? "the directory (the rule sets none)" : "the directory";
  } else if (!ctx.dir.language[user].empty()) {
    language.origin = absl::StrCat("the directory's \"", Sv(ctx.dir.language[user]),
                                   "\" is not a language tag: left out");
  } else if (rule) {
    language.origin = absl::StrCat(origin, " sets none and the directory has none");
  }
  out.settings.push_back(std::move(language));
  out.settings.push_back({"user group", rule ? rule->user_group : std::string(), origin});
  out.settings.push_back({"welcome template", rule ? rule->welcome_template : std::string(),
                          rule ? absl::StrCat(origin, " (sent on create only)") : origin});
  // A suppressed welcome email (GoTo only: elsewhere the setting is refused at load).
  const bool rule_says = rule && rule->suppress_welcome.has_value();
  if (rule_says ? *rule->suppress_welcome : ctx.config.suppress_welcome) {
    out.settings.push_back(
        {"welcome email", "suppressed", rule_says ? origin : "target.suppress_welcome"});
  }
  out.settings.push_back(
      {"settings template", rule ? rule->settings_template : std::string(), origin});

  // Device groups: merged across every rule that holds the user.
  std::vector<std::string> all;
  std::string from;
  for (const RuleHit& hit : out.rules) {
    if (hit.device_groups.empty()) continue;
    all.insert(all.end(), hit.device_groups.begin(), hit.device_groups.end());
    absl::StrAppend(&from, from.empty() ? "merged: " : "; ", "rule ", hit.name, ": ",
                    CanonicalList(hit.device_groups));
  }
  out.settings.push_back({"device groups", CanonicalList(std::move(all)),
                          from.empty() ? std::string("no matching rule names any") : from});
  ExplainMappings(ctx, user, out);
}

void ExplainMatch(const Context& ctx, uint32_t user, Explanation& out) {
  for (const InvalidUser& invalid : ctx.mapping.invalid) {
    if (invalid.user == user) {
      out.match_method = "invalid";
      out.match_detail = invalid.reason;
      return;
    }
  }
  for (size_t desired_idx = 0; desired_idx < ctx.mapping.desired.size(); ++desired_idx) {
    if (ctx.mapping.desired[desired_idx].user != user) continue;
    if (!ctx.match.conflict[desired_idx].empty()) {
      out.match_method = "conflict";
      out.match_detail = std::string(ctx.match.conflict[desired_idx]);
      return;
    }
    const int64_t account_idx = ctx.match.account_of_desired[desired_idx];
    if (account_idx < 0) {
      out.match_method = "none";
      return;
    }
    out.account_id = std::string(ctx.accounts.items[account_idx].id);
    const MatchMethod method = ctx.match.method[desired_idx];
    if (method == MatchMethod::kLink) {
      bool stored = false;
      for (const Link& link : ctx.links) {
        if (link.directory_id == ctx.dir.user_id[user] &&
            link.account_id == ctx.accounts.items[account_idx].id) {
          stored = true;
        }
      }
      out.match_method = stored ? "link" : "externalId";
    } else {
      out.match_method = method == MatchMethod::kAttribute
                             ? std::string(ctx.match.matched_attribute[desired_idx])
                             : std::string(MatchMethodName(method));
    }
    return;
  }
}

// Why a user none of the configured assignments selects is out of scope, naming each of them:
// "not a member (direct or nested) of any scoped group; not in scope.users".
std::string NotSelectedReason(const Explanation& e) {
  std::string out;
  if (e.scope_groups_configured) out = "not a member (direct or nested) of any scoped group";
  if (e.scope_users_configured)
    absl::StrAppend(&out, out.empty() ? "" : "; ", "not in scope.users");
  if (!e.scope_filter_text.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", "does not match scope.filter ",
                    e.scope_filter_text);
  }
  return out;
}

// What selected the user (group path, scope.users, scope.filter) or left it out.
void ExplainScope(const Context& ctx, uint32_t user, Explanation& out) {
  const PlanConfig& config = ctx.config;
  const uint8_t selected_by = ctx.scope.selected_by[user];
  out.in_scope = ctx.scope.in_scope[user] != 0;
  out.scope_everyone = (selected_by & kSelectedByEveryone) != 0;
  out.scope_groups_configured = !config.scope_groups.empty();
  out.scope_users_configured = !config.scope_users.empty();
  if (config.scope_filter) out.scope_filter_text = config.scope_filter->text;
  if (selected_by & kSelectedByGroup) {
    out.scope_path =
        GroupDns(ctx.dir, GroupPath(ctx.scope.groups, ctx.scope.groups.parent_group[user]));
  }
  out.scope_direct = (selected_by & kSelectedByUser) != 0;
  out.scope_filter = (selected_by & kSelectedByFilter) != 0;
  out.no_rule = !ctx.scope.no_rule.empty() && ctx.scope.no_rule[user];
}

Explanation ExplainUser(const Context& ctx, uint32_t user) {
  const Directory& dir = ctx.dir;
  Explanation out;
  out.subject = ExplainSubject::kDirectoryUser;
  out.directory_id = std::string(dir.user_id[user]);
  out.dn = std::string(dir.user_dn[user]);
  out.email = std::string(dir.email[user]);
  out.user_name = std::string(dir.user_name[user]);
  out.disabled = dir.disabled[user] != 0;
  ExplainScope(ctx, user, out);

  for (size_t rule_idx = 0; rule_idx < ctx.rules.rules.size(); ++rule_idx) {
    const ClosureResult& closure = ctx.rule_closure[rule_idx];
    if (closure.user_in.empty() || !closure.user_in[user]) continue;
    const Rule& rule = ctx.rules.rules[rule_idx];
    RuleHit hit;
    hit.name = rule.name;
    hit.priority = rule.priority;
    hit.winner = ctx.rules.rule_of_user[user] == static_cast<int32_t>(rule_idx);
    hit.group_path = GroupDns(dir, GroupPath(closure, closure.parent_group[user]));
    hit.device_groups = rule.device_groups;
    out.rules.push_back(std::move(hit));
  }
  if (out.in_scope) {
    ExplainSettings(ctx, user, out);
    ExplainMatch(ctx, user, out);
  }

  for (const UserRow& row : ctx.plan.rows) {
    if (row.directory_id != out.directory_id) continue;
    out.category = std::string(CategoryName(row.category));
    out.reason = row.reason;
    if (!row.account_id.empty()) out.account_id = row.account_id;
    break;
  }
  if (out.category.empty()) {
    out.category = "out_of_scope";
    if (out.disabled) {
      out.reason = "disabled in the directory";
    } else if (out.no_rule) {
      out.reason = std::string(kNoRuleReason);
    } else if (ctx.scope.selected_by[user] == 0) {
      out.reason = NotSelectedReason(out);
    } else {
      out.reason = "not in scope";
    }
  }
  for (const Operation& op : ctx.plan.operations) {
    if (op.directory_id == out.directory_id) out.operations.push_back(op);
  }
  return out;
}

Explanation ExplainAccount(const Context& ctx, const Account* account, const UserRow* row) {
  Explanation out;
  out.subject = ExplainSubject::kAccount;
  if (account != nullptr) {
    out.account_id = std::string(account->id);
    out.email = std::string(account->email.empty() ? account->user_name : account->email);
    out.user_name = std::string(account->user_name);
  }
  if (row == nullptr && account != nullptr) {
    for (const UserRow& candidate : ctx.plan.rows) {
      if (candidate.account_id == account->id) {
        row = &candidate;
        break;
      }
    }
  }
  if (row != nullptr) {
    out.category = std::string(CategoryName(row->category));
    out.reason = row->reason;
    out.directory_id = row->directory_id;
    out.dn = row->dn;
    if (out.account_id.empty()) out.account_id = row->account_id;
    if (out.email.empty()) out.email = row->email;
  } else {
    out.category = "account_only";
    out.reason = "no directory user matches this account";
  }
  for (const Operation& op : ctx.plan.operations) {
    if (!out.account_id.empty() && op.account_id == out.account_id) out.operations.push_back(op);
  }
  return out;
}

}  // namespace

std::vector<Explanation> Explain(const Directory& dir, const Accounts& accounts,
                                 std::span<const Link> links, std::span<const Link> manual,
                                 const PlanConfig& config, const Plan& plan,
                                 std::string_view query) {
  std::vector<Explanation> out;
  query = TrimWhitespace(query);
  if (query.empty()) return out;

  // Which directory users does the query name?
  const std::string query_email = NormalizeEmail(query);
  std::vector<uint32_t> users;
  for (uint32_t user = 0; user < dir.user_count(); ++user) {
    if (dir.user_id[user] == query || NormalizeEmail(dir.email[user]) == query_email ||
        (!dir.user_name[user].empty() && SameText(dir.user_name[user], query))) {
      users.push_back(user);
    }
  }
  if (users.empty()) {
    if (std::optional<uint32_t> user = dir.FindUserByDn(query)) users.push_back(*user);
  }

  Context ctx{dir, accounts, links, config, plan, {}, {}, {}, {}, {}};
  if (!users.empty()) {
    // The same pipeline as ComputePlan: scope, rules, mapping, matching.
    ctx.scope = ComputeScope(dir, config.scope_groups, config.scope_users,
                             config.scope_filter.has_value() ? &*config.scope_filter : nullptr);
    ctx.rules = AssignRules(dir, config.rules);
    if (config.require_rule) LeaveOutUncovered(ctx.rules, ctx.scope);
    ctx.rule_closure.resize(ctx.rules.rules.size());
    for (size_t rule_idx = 0; rule_idx < ctx.rules.rules.size(); ++rule_idx) {
      if (ctx.rules.rule_group[rule_idx] < 0) continue;
      const uint32_t root = static_cast<uint32_t>(ctx.rules.rule_group[rule_idx]);
      ctx.rule_closure[rule_idx] = GroupClosure(dir, std::span<const uint32_t>(&root, 1));
    }
    const ResolvedMappings mappings(dir, config.mappings);
    ctx.mapping = MapUsers(dir, ctx.scope.in_scope, ctx.rules,
                           MappingOptions{config.validated_domains, &mappings});
    ctx.match = MatchAccounts(dir, ctx.mapping, accounts, links, manual, config.match_order,
                              config.match_attributes);
    for (uint32_t user : users) out.push_back(ExplainUser(ctx, user));
    return out;
  }

  // No directory user: accounts by id, userName or email, and plan rows by directory id (a
  // departed user who is gone from the directory).
  for (const Account& account : accounts.items) {
    if (account.id == query || NormalizeEmail(account.user_name) == query_email ||
        NormalizeEmail(account.email) == query_email) {
      out.push_back(ExplainAccount(ctx, &account, nullptr));
    }
  }
  if (out.empty()) {
    for (const UserRow& row : plan.rows) {
      if (!row.directory_id.empty() && row.directory_id == query) {
        const Account* account = nullptr;
        for (const Account& candidate : accounts.items) {
          if (candidate.id == row.account_id) account = &candidate;
        }
        out.push_back(ExplainAccount(ctx, account, &row));
      }
    }
  }
  return out;
}

namespace {

std::string OrNone(std::string_view value) {
  return value.empty() ? std::string("none") : std::string(value);
}

// Who is explained, and the category.
void FormatSubject(const Explanation& e, std::string& out) {
  if (e.subject == ExplainSubject::kDirectoryUser) {
    absl::StrAppend(&out, "Directory user ", e.dn, "\n");
    absl::StrAppend(&out, "  id: ", e.directory_id, " · email: ", OrNone(e.email),
                    " · user name: ", OrNone(e.user_name), e.disabled ? " · DISABLED" : "", "\n");
  } else {
    absl::StrAppend(&out, "Account ", OrNone(e.account_id), "\n");
    absl::StrAppend(&out, "  email: ", OrNone(e.email), " · userName: ", OrNone(e.user_name), "\n");
    if (!e.directory_id.empty()) {
      absl::StrAppend(&out, "  linked to directory id ", e.directory_id, e.dn.empty() ? "" : " (",
                      e.dn, e.dn.empty() ? "" : ")", "\n");
    }
  }
  std::string category = e.category;
  if (category == "account_only") category = "account-only";
  if (category == "out_of_scope") category = "out of scope";
  absl::StrAppend(&out, "Category: ", category, e.reason.empty() ? "" : " — ", e.reason, "\n");
}

// A directory user's scope path and rules.
void FormatScopeAndRules(const Explanation& e, std::string& out) {
  const char* const disabled = e.disabled ? "  (disabled: out of scope)" : "";
  if (e.scope_everyone) {
    out.append(
        "Scope: no scope groups, users or filter are configured: every enabled user is in "
        "scope\n");
  } else if (e.scope_path.empty() && !e.scope_direct && !e.scope_filter) {
    absl::StrAppend(&out, "Scope: ", NotSelectedReason(e), "\n");
  }
  if (!e.scope_path.empty()) {
    out.append("In scope through:\n");
    for (size_t step = 0; step < e.scope_path.size(); ++step) {
      absl::StrAppend(&out, "  ", std::string(2 * step, ' '), step == 0 ? "" : "> ",
                      e.scope_path[step], step == 0 ? "  (scoped group)" : "", "\n");
    }
    absl::StrAppend(&out, "  ", std::string(2 * e.scope_path.size(), ' '), "> ", e.dn, disabled,
                    "\n");
  }
  if (e.scope_direct) {
    absl::StrAppend(&out, "In scope: directly assigned (scope.users)", disabled, "\n");
  }
  if (e.scope_filter) {
    absl::StrAppend(&out, "In scope: matches scope.filter ", e.scope_filter_text, disabled, "\n");
  }
  if (e.no_rule) absl::StrAppend(&out, "Out of scope: ", Sv(kNoRuleReason), "\n");
  if (e.rules.empty()) {
    out.append(e.no_rule ? "Rules: no rule's group holds the user (left out of scope)\n"
                         : "Rules: no rule's group holds the user (an account with no products)\n");
    return;
  }
  out.append("Rules holding the user (the first by priority gives single-valued settings):\n");
  for (const RuleHit& hit : e.rules) {
    std::string path;
    for (const std::string& group : hit.group_path) {
      absl::StrAppend(&path, path.empty() ? "" : " > ", group);
    }
    absl::StrAppend(&out, hit.winner ? "  * " : "    ", hit.name, " (priority ", hit.priority, ")",
                    hit.winner ? " [first: wins]" : "", " through ", path, "\n");
  }
}

// A directory user's settings and match.
void FormatSettingsAndMatch(const Explanation& e, std::string& out) {
  if (!e.settings.empty()) {
    out.append("Settings:\n");
    for (const SettingOrigin& setting : e.settings) {
      std::string name = setting.setting;
      name.resize(std::max<size_t>(name.size(), 18), ' ');
      std::string value = OrNone(setting.value);
      value.resize(std::max<size_t>(value.size(), 16), ' ');
      absl::StrAppend(&out, "  ", name, " ", value, " ← ", setting.origin, "\n");
    }
  }
  if (e.match_method.empty()) return;
  out.append("Match: ");
  if (e.match_method == "none") {
    out.append("none: no account matches (will be created)\n");
  } else if (e.match_method == "conflict" || e.match_method == "invalid") {
    absl::StrAppend(&out, "not matched (", e.match_method, "): ", e.match_detail, "\n");
  } else {
    absl::StrAppend(&out, e.match_method, " → account ", e.account_id, "\n");
  }
}

void FormatOperations(const Explanation& e, std::string& out) {
  if (e.operations.empty()) {
    out.append("Pending operation: none\n");
  }
  for (const Operation& op : e.operations) {
    absl::StrAppend(&out, "Pending operation: ", Sv(OpKindName(op.kind)),
                    op.account_id.empty() ? "" : " account ", Sv(op.account_id),
                    op.held ? " [HELD by the safety threshold]" : "", "\n");
    absl::StrAppend(&out, "  reason: ", Sv(op.reason), "\n");
    for (const Change& change : op.changes) {
      absl::StrAppend(&out, "  ", Sv(FieldName(change.field)), ": \"", Sv(change.before), "\" → \"",
                      Sv(change.after), "\"\n");
    }
    if (op.kind == OpKind::kCreate) {
      absl::StrAppend(&out, "  creates ", Sv(op.spec.user_name), " (", Sv(op.spec.first_name), " ",
                      Sv(op.spec.last_name), "), products: ", OrNone(op.spec.products), "\n");
    }
  }
}

}  // namespace

std::string FormatExplanation(const Explanation& e) {
  std::string out;
  FormatSubject(e, out);
  if (e.subject == ExplainSubject::kDirectoryUser) {
    FormatScopeAndRules(e, out);
    FormatSettingsAndMatch(e, out);
  }
  FormatOperations(e, out);
  return out;
}

}  // namespace usersync::core
