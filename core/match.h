// Matching desired users to existing accounts: a hash join with precedence (DESIGN.md
// core::match). For each desired user, the methods of `order` are tried in turn:
//   link   — the state store's directory id → account id link;
//   manual — an administrator's stored match (usersync match);
//   email  — the account whose normalized email (or userName) equals the user's.
// An account is claimed by at most one user; a second claim is a conflict with a reason, never
// a guess. Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/accounts.h"
#include "core/directory.h"
#include "core/mapping.h"

namespace usersync::core {

enum class MatchMethod : uint8_t { kNone, kLink, kManual, kEmail };

std::string_view MatchMethodName(MatchMethod method);  // "none", "link", "manual", "email"

// A stored association between a directory id and an account id.
struct Link {
  std::string_view directory_id;
  std::string_view account_id;
  bool managed = true;  // usersync created the account or linked it (may deprovision it)
};

struct MatchResult {
  // Per desired user (MappingResult::desired order).
  std::vector<int64_t> account_of_desired;  // account index, or -1
  std::vector<MatchMethod> method;
  std::vector<std::string> conflict;  // non-empty: cannot be matched safely (reason)
  // Per account: the desired user that claimed it, or -1.
  std::vector<int64_t> desired_of_account;
  // Links whose account no longer exists at the target (directory id, account id).
  std::vector<std::pair<std::string, std::string>> dangling_links;
};

// REQUIRES: `order` lists each method at most once.
MatchResult MatchAccounts(const Directory& dir, const MappingResult& mapping,
                          const Accounts& accounts, std::span<const Link> links,
                          std::span<const Link> manual, std::span<const MatchMethod> order);

}  // namespace usersync::core
