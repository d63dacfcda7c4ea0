#include "io/commands/match_validator.h"

#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::io {

MatchValidator::MatchValidator(const core::Directory& directory, const core::Accounts& accounts,
                               const std::vector<LinkRow>& links,
                               const std::vector<ManualMatch>& manual, const core::Plan& plan)
    : directory_(directory) {
  for (const LinkRow& link : links) {
    link_by_directory_.emplace(link.directory_id, &link);
    link_by_account_.emplace(link.account_id, &link);
  }
  for (const ManualMatch& match : manual) {
    manual_by_directory_.emplace(match.directory_id, &match);
    manual_by_account_.emplace(match.account_id, &match);
  }
  for (const core::Account& account : accounts.items) {
    account_by_id_.emplace(std::string(account.id), &account);
  }
  for (const core::UserRow& row : plan.rows) {
    if (row.directory_id.empty() || row.account_id.empty()) continue;
    row_by_account_.emplace(row.account_id, &row);
    row_by_directory_.emplace(row.directory_id, &row);
  }
}

std::string MatchValidator::Check(const MatchPair& pair) {
  const std::string& x = pair.source_id;
  const std::string& y = pair.target_id;
  if (!directory_.FindUserById(x)) return absl::StrCat("no directory user has id '", x, "'");
  if (!account_by_id_.contains(y)) return absl::StrCat("the target has no account '", y, "'");
  if (auto [it, fresh] = seen_source_.emplace(x, pair.line); !fresh) {
    return absl::StrCat("directory id '", x, "' is matched on line ", it->second, " already");
  }
  if (auto [it, fresh] = seen_target_.emplace(y, pair.line); !fresh) {
    return absl::StrCat("account '", y, "' is matched on line ", it->second, " already");
  }
  return Contradiction(x, y);
}

std::string MatchValidator::Contradiction(const std::string& x, const std::string& y) const {
  if (auto it = link_by_directory_.find(x);
      it != link_by_directory_.end() && it->second->account_id != y) {
    return absl::StrCat("directory id '", x, "' is already linked to account '",
                        it->second->account_id, "' (", it->second->origin, ")");
  }
  if (auto it = link_by_account_.find(y);
      it != link_by_account_.end() && it->second->directory_id != x) {
    return absl::StrCat("account '", y, "' is already linked to directory id '",
                        it->second->directory_id, "' (", it->second->origin, ")");
  }
  if (auto it = manual_by_directory_.find(x);
      it != manual_by_directory_.end() && it->second->account_id != y) {
    return absl::StrCat("directory id '", x, "' is already matched to account '",
                        it->second->account_id, "' (usersync match)");
  }
  if (auto it = manual_by_account_.find(y);
      it != manual_by_account_.end() && it->second->directory_id != x) {
    return absl::StrCat("account '", y, "' is already matched to directory id '",
                        it->second->directory_id, "' (usersync match)");
  }
  if (auto it = row_by_account_.find(y);
      it != row_by_account_.end() && it->second->directory_id != x) {
    return absl::StrCat(
        "account '", y, "' is already claimed by directory user '", Sv(it->second->directory_id),
        "' (", Sv(core::CategoryName(it->second->category)), ": ", Sv(it->second->reason), ")");
  }
  if (auto it = row_by_directory_.find(x);
      it != row_by_directory_.end() && it->second->account_id != y) {
    return absl::StrCat(
        "directory user '", x, "' already matches account '", Sv(it->second->account_id), "' (",
        Sv(core::CategoryName(it->second->category)), ": ", Sv(it->second->reason), ")");
  }
  return std::string();
}

const core::Account* MatchValidator::Account(const std::string& id) const {
  auto it = account_by_id_.find(id);
  return it == account_by_id_.end() ? nullptr : it->second;
}

}  // namespace usersync::io
