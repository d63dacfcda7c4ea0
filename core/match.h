// Matching desired users to existing accounts: a hash join with precedence (DESIGN.md
// core::match). For each desired user, the methods of `order` are tried in turn:
//   link   — the state store's directory id → account id link;
//   manual — an administrator's stored match (usersync match);
//   email  — the account whose normalized email (or userName) equals the user's;
//   attribute — the account whose value of a mapped target attribute (MatchAttribute: a built-in
//            field such as externalId, or a [[mappings]] path such as the enterprise
//            employeeNumber) equals the user's mapped value; "" never matches.
// An account is claimed by at most one user; a second claim is a conflict with a reason, never
// a guess. The email method is a partitioned parallel hash join (core/hash_join.h); links and
// externalIds resolve through the directory's own id index. Pure; thread-compatible (uses TBB).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/accounts.h"
#include "core/compact_string.h"
#include "core/directory.h"
#include "core/mapping.h"

namespace usersync::core {

enum class MatchMethod : uint8_t { kNone, kLink, kManual, kEmail, kAttribute };

// "none", "link", "manual", "email", "attribute".
std::string_view MatchMethodName(MatchMethod method);

// A target attribute `matching.order` names: a built-in field (`field`, path its target name), or
// a mapped attribute of its own (field kAttribute, `path` as in MappingResult::attribute_paths).
struct MatchAttribute {
  std::string path;
  Field field = Field::kAttribute;
};

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
  std::vector<CompactString> conflict;  // non-empty: cannot be matched safely (reason)
  // Per account: the desired user that claimed it, or -1.
  std::vector<int64_t> desired_of_account;
  // Links whose account no longer exists at the target (directory id, account id).
  std::vector<std::pair<std::string, std::string>> dangling_links;

  // Per desired user: 1 when the state store holds a link for its directory id.
  std::vector<uint8_t> has_stored_link;
  // Per link (the `links` argument's order): its account's index, or -1 when it is gone.
  std::vector<int64_t> link_account;
  // Per account: 1 when a stored link points to it.
  std::vector<uint8_t> account_has_stored_link;
  // Per account: the directory user whose id equals the account's externalId, when neither
  // the account nor that user has a stored link (the link the target holds itself); else -1.
  std::vector<int64_t> external_owner;
  // Per desired user matched by kAttribute: the attribute's path; empty otherwise (and empty
  // altogether when no attribute is in the order).
  std::vector<std::string_view> matched_attribute;
};

// REQUIRES: `order` lists link, manual and email at most once each; its i-th kAttribute entry
// matches on attributes[i] (one per kAttribute entry).
MatchResult MatchAccounts(const Directory& dir, const MappingResult& mapping,
                          const Accounts& accounts, std::span<const Link> links,
                          std::span<const Link> manual, std::span<const MatchMethod> order,
                          std::span<const MatchAttribute> attributes = {});

}  // namespace usersync::core
