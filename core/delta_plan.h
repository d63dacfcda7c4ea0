// The plan of a delta cycle: the operations a full plan would give for the users a change can
// affect (core/directory_changes.h AffectedUsers), computed from the accounts of those users
// alone, so that the target need not be listed.
//
// How it stays exact. The full plan of a user depends on: the whole directory (scope, nested
// groups, rules, duplicate emails: the delta cycle passes the whole rebuilt directory, so these
// are computed as in a full cycle), the accounts it may match (its stored link's account, its
// manual match's account, the accounts holding its email: the caller looks these up at the
// target, DeltaLookups), and who else claims those accounts (the stored links of other users to
// them: kept, so a link still wins over an email match). Links to accounts not looked up are
// left out, so unaffected users plan as "new"; their operations are dropped (their accounts
// were in step at the last cycle, and nothing changed for them since).
// Not covered, so the caller must fall back to a full plan: matching on attributes other than
// link, manual and email (matching.order naming a target attribute: DeltaSupported).
// Deprovisioning thresholds count against `managed_accounts` (the whole target's, from the
// state store's links) rather than the accounts looked up; seats go to the delta's operations
// in plan order (users refused for want of a seat are "invalid" and come back as pending).
//
// Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/accounts.h"
#include "core/directory.h"
#include "core/match.h"
#include "core/plan.h"

namespace usersync::core {

// What a delta cycle must read from the target: accounts by id (stored links and manual
// matches of the affected users) and by normalized email (the affected users' emails in the
// new directory). Sorted, unique.
struct AccountLookups {
  std::vector<std::string> account_ids;
  std::vector<std::string> emails;
};

// Whether a delta plan can be exact under `config` (every matching method is link, manual or
// email); false: plan in full.
bool DeltaSupported(const PlanConfig& config);

// `affected`: sorted directory ids (AffectedUsers plus the users pending from the last cycle).
AccountLookups DeltaLookups(const Directory& dir, std::span<const std::string> affected,
                            std::span<const Link> links, std::span<const Link> manual);

// The full plan's operations and rows for the affected users (and for the owners of stored
// links to the accounts looked up), computed from `looked_up` (the accounts DeltaLookups named,
// as the target holds them now; ids not found simply absent). `managed_accounts`: the stored
// links' count, the base of max_changes_percent. summary counts the rows kept; in_scope is the
// whole directory's. REQUIRES: `affected` sorted; DeltaSupported(config).
Plan ComputeDeltaPlan(const Directory& dir, const Accounts& looked_up,
                      std::span<const std::string> affected, std::span<const Link> links,
                      std::span<const Link> manual, PlanConfig config, int64_t managed_accounts);

}  // namespace usersync::core
