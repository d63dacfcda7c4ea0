// Explaining one user (`usersync explain`, DESIGN.md "Command line"): its category, what put it
// in scope (the group path, each nesting step from the scoped group down; scope.users; the
// scope.filter) or left it out (scope.require_rule), every rule whose
// group holds it and which one gave each setting (the first by priority for single-valued
// settings; device groups merged across every matching rule), how it was matched, and the
// operation the plan holds for it.
//
// Explain recomputes the closure, rules, mapping and matching for the whole directory (the same
// pure steps ComputePlan runs) and reads the category and pending operation from the plan that
// was computed from the same inputs, so the two never disagree. Cost: one closure walk for the
// scope and one per rule, O(rules * (groups + edges)), plus one mapping and one match: about a
// plan's worth, once per command. Pure; thread-compatible.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/accounts.h"
#include "core/directory.h"
#include "core/match.h"
#include "core/plan.h"

namespace usersync::core {

// One setting the account gets, and what gave it.
struct SettingOrigin {
  std::string setting;  // "products", "admin role", "language", "user group",
                        // "welcome template", "welcome email" (only when suppressed),
                        // "settings template", "device groups", "mapping TARGET" (one
                        // per [[mappings]] entry)
  std::string value;    // as the account gets it; "" = none
  std::string origin;   // "rule Organizers (priority 1)", "the directory", "no rule", ...
};

// A rule whose group holds the user, directly or nested.
struct RuleHit {
  std::string name;
  int priority = 0;
  bool winner = false;  // the first by priority: it gives the single-valued settings
  std::vector<std::string> group_path;  // the rule's group first, down to the group that
                                        // holds the user directly (DNs as in the directory)
  std::vector<std::string> device_groups;
};

enum class ExplainSubject : uint8_t { kDirectoryUser, kAccount };

struct Explanation {
  ExplainSubject subject = ExplainSubject::kDirectoryUser;

  // The directory user (subject kDirectoryUser; for an account, the linked directory id if any).
  std::string directory_id;
  std::string dn;
  std::string email;  // as in the directory (or the account's)
  std::string user_name;
  bool disabled = false;

  // Scope. scope_everyone: no scope groups, users or filter are configured, every enabled user
  // is in scope. Otherwise the user is selected by any of: scope_path, scope_direct,
  // scope_filter (several may hold).
  bool in_scope = false;
  bool scope_everyone = false;
  std::vector<std::string> scope_path;  // scoped group first, down to the group that holds the
                                        // user directly; empty when not in a scoped group
  bool scope_direct = false;            // named in scope.users (by DN or directory id)
  bool scope_filter = false;            // matches scope.filter
  std::string scope_filter_text;        // scope.filter as configured; "" when none
  bool scope_groups_configured = false;
  bool scope_users_configured = false;
  bool no_rule = false;  // selected and enabled, left out by scope.require_rule (no rule)

  std::vector<RuleHit> rules;           // by priority (the order rules are applied)
  std::vector<SettingOrigin> settings;  // empty when not in scope

  // Category: CategoryName(), or "out_of_scope" for a directory user the plan does not list.
  std::string category;
  std::string reason;

  // Matching: "link" (stored link), "externalId" (the account's externalId names the user),
  // "manual", "email", "none" (no account), "conflict", "invalid" (not matched: the user
  // cannot be provisioned), or "" (not in scope, or subject kAccount).
  std::string match_method;
  std::string match_detail;  // the conflict's reason, if any
  std::string account_id;

  std::vector<Operation> operations;  // the plan's pending operations for this user/account
};

// Explains every directory user that `query` names (its directory id, DN, normalized email or
// user name, case-insensitive) or, when none does, every account it names (account id,
// userName or email) and plan row whose directory id it is (a departed user gone from the
// directory). An empty result means nothing matches. `plan` must be ComputePlan's result for
// the same directory, accounts, links, manual matches and config.
std::vector<Explanation> Explain(const Directory& dir, const Accounts& accounts,
                                 std::span<const Link> links, std::span<const Link> manual,
                                 const PlanConfig& config, const Plan& plan,
                                 std::string_view query);

// The explanation as text for people, several lines ending in '\n'.
std::string FormatExplanation(const Explanation& explanation);

}  // namespace usersync::core
