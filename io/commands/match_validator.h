// What a manual match (`usersync match`) must not contradict: the directory, the target's
// accounts, the stored links and manual matches, and the current plan. Thread-compatible; holds
// pointers into the values it was built from, which must outlive it.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/directory.h"
#include "core/plan.h"
#include "io/commands/match_csv.h"
#include "io/state/state_store.h"

namespace usersync::io {

class MatchValidator {
 public:
  MatchValidator(const core::Directory& directory, const core::Accounts& accounts,
                 const std::vector<LinkRow>& links, const std::vector<ManualMatch>& manual,
                 const core::Plan& plan);

  // "" when `pair` may be stored, else why not. Also refuses a directory id or an account
  // named twice across the pairs checked so far (a CSV import).
  std::string Check(const MatchPair& pair);

  // The account with this id, or nullptr.
  const core::Account* Account(const std::string& id) const;

 private:
  // Why the stored links, manual matches or the plan contradict x → y, or "".
  std::string Contradiction(const std::string& x, const std::string& y) const;

  const core::Directory& directory_;
  absl::flat_hash_map<std::string, const LinkRow*> link_by_directory_, link_by_account_;
  absl::flat_hash_map<std::string, const ManualMatch*> manual_by_directory_, manual_by_account_;
  absl::flat_hash_map<std::string, const core::Account*> account_by_id_;
  absl::flat_hash_map<std::string, const core::UserRow*> row_by_account_, row_by_directory_;
  absl::flat_hash_map<std::string, int> seen_source_, seen_target_;
};

}  // namespace usersync::io
