#include "core/match.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/hash.h"
#include "core/hash_join.h"
#include "core/normalize.h"
#include "core/str.h"

namespace usersync::core {
namespace {

bool IsNormalizedEmail(std::string_view email) {
  if (email.empty() || email != TrimWhitespace(email)) return email.empty();
  for (char c : email) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

}  // namespace

std::string_view MatchMethodName(MatchMethod method) {
  switch (method) {
    case MatchMethod::kNone: return "none";
    case MatchMethod::kLink: return "link";
    case MatchMethod::kManual: return "manual";
    case MatchMethod::kEmail: return "email";
  }
  return "none";
}

MatchResult MatchAccounts(const Directory& dir, const MappingResult& mapping,
                          const Accounts& accounts, std::span<const Link> links,
                          std::span<const Link> manual, std::span<const MatchMethod> order) {
  constexpr int64_t kNone = -1;
  constexpr int64_t kGone = -2;  // a link or manual match whose account does not exist
  const size_t desired_count = mapping.desired.size();
  const size_t account_count = accounts.items.size();
  MatchResult out;
  out.account_of_desired.assign(desired_count, kNone);
  out.method.assign(desired_count, MatchMethod::kNone);
  out.conflict.resize(desired_count);
  out.desired_of_account.assign(account_count, kNone);
  out.has_stored_link.assign(desired_count, 0);
  out.account_has_stored_link.assign(account_count, 0);
  out.external_owner.assign(account_count, kNone);

  std::vector<int64_t> desired_of_user(dir.user_count(), kNone);
  for (size_t desired_idx = 0; desired_idx < desired_count; ++desired_idx) {
    desired_of_user[mapping.desired[desired_idx].user] = static_cast<int64_t>(desired_idx);
  }

  // Account ids: links and manual matches name accounts by id (one join for both).
  std::vector<std::string_view> account_ids(account_count);
  for (size_t account_idx = 0; account_idx < account_count; ++account_idx) {
    account_ids[account_idx] = accounts.items[account_idx].id;
  }
  std::vector<std::string_view> wanted_ids;
  wanted_ids.reserve(links.size() + manual.size());
  for (const Link& link : links) wanted_ids.push_back(link.account_id);
  for (const Link& match : manual) wanted_ids.push_back(match.account_id);
  const std::vector<int64_t> wanted_account = PartitionedJoin(account_ids, wanted_ids);
  out.link_account.assign(wanted_account.begin(), wanted_account.begin() + links.size());

  // Candidates per desired user, by method. Owner of each account by stored link: an email
  // match must not take an account that belongs to another directory user.
  std::vector<int64_t> link_candidate(desired_count, kNone);
  std::vector<std::string_view> linked_owner(account_count);
  std::vector<uint8_t> user_has_stored_link(dir.user_count(), 0);
  for (size_t link_idx = 0; link_idx < links.size(); ++link_idx) {
    const int64_t account_idx = out.link_account[link_idx];
    std::optional<uint32_t> user = dir.FindUserById(links[link_idx].directory_id);
    if (user) user_has_stored_link[*user] = 1;
    if (account_idx >= 0) {
      out.account_has_stored_link[account_idx] = 1;
      linked_owner[account_idx] = links[link_idx].directory_id;
    } else {
      out.dangling_links.emplace_back(std::string(links[link_idx].directory_id),
                                      std::string(links[link_idx].account_id));
    }
    if (!user || desired_of_user[*user] < 0) continue;
    const int64_t desired_idx = desired_of_user[*user];
    out.has_stored_link[desired_idx] = 1;
    link_candidate[desired_idx] = account_idx >= 0 ? account_idx : kGone;
  }
  // The target holds the link itself: usersync writes externalId = directory id.
  for (size_t account_idx = 0; account_idx < account_count; ++account_idx) {
    std::string_view external_id = accounts.items[account_idx].external_id;
    if (external_id.empty() || out.account_has_stored_link[account_idx]) continue;
    std::optional<uint32_t> user = dir.FindUserById(external_id);
    if (!user || user_has_stored_link[*user]) continue;
    if (out.external_owner[account_idx] == kNone) out.external_owner[account_idx] = *user;
    const int64_t desired_idx = desired_of_user[*user];
    if (desired_idx >= 0 && link_candidate[desired_idx] == kNone) {
      link_candidate[desired_idx] = static_cast<int64_t>(account_idx);
    }
  }
  std::vector<int64_t> manual_candidate(desired_count, kNone);
  for (size_t manual_idx = 0; manual_idx < manual.size(); ++manual_idx) {
    std::optional<uint32_t> user = dir.FindUserById(manual[manual_idx].directory_id);
    if (!user || desired_of_user[*user] < 0) continue;
    const int64_t account_idx = wanted_account[links.size() + manual_idx];
    manual_candidate[desired_of_user[*user]] = account_idx >= 0 ? account_idx : kGone;
  }

  // Email: a partitioned join of the desired users' normalized emails against the accounts'.
  StringArena scratch;
  std::vector<std::string_view> account_emails(account_count);
  for (size_t account_idx = 0; account_idx < account_count; ++account_idx) {
    const Account& account = accounts.items[account_idx];
    std::string_view email = account.email.empty() ? account.user_name : account.email;
    account_emails[account_idx] =
        IsNormalizedEmail(email) ? email : scratch.Store(NormalizeEmail(email));
  }
  std::vector<std::string_view> desired_emails(desired_count);
  for (size_t desired_idx = 0; desired_idx < desired_count; ++desired_idx) {
    desired_emails[desired_idx] = mapping.desired[desired_idx].email;
  }
  std::vector<int64_t> email_candidate;
  const bool wants_email = std::find(order.begin(), order.end(), MatchMethod::kEmail) != order.end();
  if (wants_email) email_candidate = PartitionedJoin(account_emails, desired_emails);

  auto claim = [&](size_t desired_idx, int64_t account_idx, MatchMethod method) {
    const int64_t holder = out.desired_of_account[account_idx];
    if (holder >= 0) {
      out.conflict[desired_idx] = absl::StrCat(
          "account ", Sv(accounts.items[account_idx].id), " is already matched to ",
          Sv(dir.user_dn[mapping.desired[holder].user]), " (by ",
          Sv(MatchMethodName(out.method[holder])), ")");
      return;
    }
    out.desired_of_account[account_idx] = static_cast<int64_t>(desired_idx);
    out.account_of_desired[desired_idx] = account_idx;
    out.method[desired_idx] = method;
  };

  // One round per method, so a higher-precedence method claims its accounts before a lower one
  // can (an email match never steals a linked account).
  for (MatchMethod method : order) {
    for (size_t desired_idx = 0; desired_idx < desired_count; ++desired_idx) {
      if (out.account_of_desired[desired_idx] >= 0 || !out.conflict[desired_idx].empty()) continue;
      const DesiredUser& desired = mapping.desired[desired_idx];
      std::string_view directory_id = dir.user_id[desired.user];
      switch (method) {
        case MatchMethod::kLink: {
          const int64_t account_idx = link_candidate[desired_idx];
          if (account_idx == kGone) {
            std::string_view account_id;
            for (const Link& link : links) {
              if (link.directory_id == directory_id) account_id = link.account_id;
            }
            out.conflict[desired_idx] = absl::StrCat(
                "linked account ", Sv(account_id),
                " no longer exists at the target (re-link with `usersync match`)");
          } else if (account_idx >= 0) {
            claim(desired_idx, account_idx, MatchMethod::kLink);
          }
          break;
        }
        case MatchMethod::kManual: {
          const int64_t account_idx = manual_candidate[desired_idx];
          if (account_idx == kGone) {
            std::string_view account_id;
            for (const Link& match : manual) {
              if (match.directory_id == directory_id) account_id = match.account_id;
            }
            out.conflict[desired_idx] =
                absl::StrCat("manual match names account ", Sv(account_id),
                             ", which does not exist at the target");
          } else if (account_idx >= 0) {
            claim(desired_idx, account_idx, MatchMethod::kManual);
          }
          break;
        }
        case MatchMethod::kEmail: {
          const int64_t account_idx = email_candidate[desired_idx];
          if (account_idx < 0) break;
          std::string_view owner = linked_owner[account_idx];
          if (!owner.empty() && owner != directory_id) {
            out.conflict[desired_idx] =
                absl::StrCat("email matches account ", Sv(accounts.items[account_idx].id),
                             ", which is linked to directory id ", Sv(owner));
            break;
          }
          std::string_view external_id = accounts.items[account_idx].external_id;
          if (!external_id.empty() && external_id != directory_id &&
              dir.FindUserById(external_id).has_value()) {
            out.conflict[desired_idx] = absl::StrCat(
                "email matches account ", Sv(accounts.items[account_idx].id),
                ", whose externalId names another directory user (", Sv(external_id), ")");
            break;
          }
          claim(desired_idx, account_idx, MatchMethod::kEmail);
          break;
        }
        case MatchMethod::kNone:
          break;
      }
    }
  }
  return out;
}

}  // namespace usersync::core
