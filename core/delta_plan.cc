#include "core/delta_plan.h"

#include <algorithm>
#include <utility>

#include "core/hash.h"
#include "core/normalize.h"

namespace usersync::core {
namespace {

void SortUnique(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

bool Contains(std::span<const std::string> sorted, std::string_view value) {
  return std::binary_search(sorted.begin(), sorted.end(), value,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

// The links the delta plan keeps: those of affected users, and those naming an account looked
// up (so a stored link still claims its account before an affected user's email does). Adds
// the owners of the latter to `owners`.
std::vector<Link> KeptLinks(std::span<const Link> links, std::span<const std::string> affected,
                            const StrViewSet& looked_up, std::vector<std::string>& owners) {
  std::vector<Link> kept;
  for (const Link& link : links) {
    const bool account_read = looked_up.contains(link.account_id);
    if (account_read) owners.emplace_back(link.directory_id);
    if (account_read || Contains(affected, link.directory_id)) kept.push_back(link);
  }
  return kept;
}

}  // namespace

bool DeltaSupported(const PlanConfig& config) {
  return std::none_of(config.match_order.begin(), config.match_order.end(),
                      [](MatchMethod method) { return method == MatchMethod::kAttribute; });
}

AccountLookups DeltaLookups(const Directory& dir, std::span<const std::string> affected,
                            std::span<const Link> links, std::span<const Link> manual) {
  AccountLookups lookups;
  for (std::span<const Link> stored : {links, manual}) {
    for (const Link& link : stored) {
      if (Contains(affected, link.directory_id)) lookups.account_ids.emplace_back(link.account_id);
    }
  }
  for (const std::string& id : affected) {
    std::optional<uint32_t> user = dir.FindUserById(id);
    if (user.has_value() && !dir.email[*user].empty()) {
      lookups.emails.push_back(NormalizeEmail(dir.email[*user]));
    }
  }
  SortUnique(lookups.account_ids);
  SortUnique(lookups.emails);
  return lookups;
}

Plan ComputeDeltaPlan(const Directory& dir, const Accounts& looked_up,
                      std::span<const std::string> affected, std::span<const Link> links,
                      std::span<const Link> manual, PlanConfig config, int64_t managed_accounts) {
  StrViewSet read_ids;
  for (const Account& account : looked_up.items) read_ids.insert(account.id);
  std::vector<std::string> owners;
  const std::vector<Link> kept_links = KeptLinks(links, affected, read_ids, owners);
  const std::vector<Link> kept_manual = KeptLinks(manual, affected, read_ids, owners);
  SortUnique(owners);

  config.managed_accounts_base = managed_accounts;
  config.plan_only.assign(dir.user_count(), 0);
  for (std::span<const std::string> ids : {affected, std::span<const std::string>(owners)}) {
    for (const std::string& id : ids) {
      if (std::optional<uint32_t> user = dir.FindUserById(id)) config.plan_only[*user] = 1;
    }
  }
  Plan plan = ComputePlan(dir, looked_up, kept_links, kept_manual, config);
  // Rows of accounts no planned user claims (account-only, or held by a user not planned) say
  // nothing about the whole target: dropped.
  std::erase_if(plan.rows, [](const UserRow& row) { return row.directory_id.empty(); });
  plan.summary = {};
  for (const UserRow& row : plan.rows) ++plan.summary[static_cast<size_t>(row.category)];
  plan.managed_accounts = managed_accounts;
  return plan;
}

}  // namespace usersync::core
