#include "core/match.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/normalize.h"
#include "core/str.h"

namespace usersync::core {
namespace {

using ViewMap = absl::flat_hash_map<std::string_view, uint32_t, absl::Hash<std::string_view>>;

bool IsNormalizedEmail(std::string_view email) {
  if (email != TrimWhitespace(email)) return false;
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
  const size_t desired_count = mapping.desired.size();
  const size_t account_count = accounts.items.size();
  MatchResult out;
  out.account_of_desired.assign(desired_count, -1);
  out.method.assign(desired_count, MatchMethod::kNone);
  out.conflict.resize(desired_count);
  out.desired_of_account.assign(account_count, -1);

  // Indexes over the accounts. Emails are normalized; most targets already hold them that
  // way, so the arena only pays for the ones that are not.
  StringArena scratch;
  ViewMap account_by_id;
  ViewMap account_by_email;
  ViewMap account_by_external_id;
  account_by_id.reserve(account_count);
  account_by_email.reserve(account_count);
  for (uint32_t account_idx = 0; account_idx < account_count; ++account_idx) {
    const Account& account = accounts.items[account_idx];
    account_by_id.emplace(account.id, account_idx);
    std::string_view email = account.email.empty() ? account.user_name : account.email;
    if (!IsNormalizedEmail(email)) email = scratch.Store(NormalizeEmail(email));
    if (!email.empty()) account_by_email.emplace(email, account_idx);
    if (!account.external_id.empty()) account_by_external_id.emplace(account.external_id, account_idx);
  }

  // Who each account is linked to, by stored link: an email match must not take an account
  // that belongs to another directory user.
  ViewMap link_of_directory_id;
  absl::flat_hash_map<uint32_t, std::string_view> linked_owner;  // account → directory id
  for (uint32_t link_idx = 0; link_idx < links.size(); ++link_idx) {
    link_of_directory_id.emplace(links[link_idx].directory_id, link_idx);
    if (auto it = account_by_id.find(links[link_idx].account_id); it != account_by_id.end()) {
      linked_owner.emplace(it->second, links[link_idx].directory_id);
    } else {
      out.dangling_links.emplace_back(std::string(links[link_idx].directory_id),
                                      std::string(links[link_idx].account_id));
    }
  }
  ViewMap manual_of_directory_id;
  for (uint32_t manual_idx = 0; manual_idx < manual.size(); ++manual_idx) {
    manual_of_directory_id.emplace(manual[manual_idx].directory_id, manual_idx);
  }

  auto claim = [&](size_t desired_idx, uint32_t account_idx, MatchMethod method) {
    const int64_t holder = out.desired_of_account[account_idx];
    if (holder >= 0) {
      out.conflict[desired_idx] = absl::StrCat(
          "account ", Sv(accounts.items[account_idx].id), " is already matched to ",
          Sv(dir.user_dn[mapping.desired[holder].user]), " (by ", Sv(MatchMethodName(out.method[holder])), ")");
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
          if (auto it = link_of_directory_id.find(directory_id); it != link_of_directory_id.end()) {
            const Link& link = links[it->second];
            if (auto acc = account_by_id.find(link.account_id); acc != account_by_id.end()) {
              claim(desired_idx, acc->second, MatchMethod::kLink);
            } else {
              out.conflict[desired_idx] = absl::StrCat(
                  "linked account ", Sv(link.account_id),
                  " no longer exists at the target (re-link with `usersync match`)");
            }
          } else if (auto acc = account_by_external_id.find(directory_id);
                     acc != account_by_external_id.end() && !linked_owner.contains(acc->second)) {
            // The target holds the link itself: usersync writes externalId = directory id.
            claim(desired_idx, acc->second, MatchMethod::kLink);
          }
          break;
        }
        case MatchMethod::kManual: {
          auto it = manual_of_directory_id.find(directory_id);
          if (it == manual_of_directory_id.end()) break;
          if (auto acc = account_by_id.find(manual[it->second].account_id);
              acc != account_by_id.end()) {
            claim(desired_idx, acc->second, MatchMethod::kManual);
          } else {
            out.conflict[desired_idx] =
                absl::StrCat("manual match names account ", Sv(manual[it->second].account_id),
                             ", which does not exist at the target");
          }
          break;
        }
        case MatchMethod::kEmail: {
          auto acc = account_by_email.find(desired.email);
          if (acc == account_by_email.end()) break;
          const uint32_t account_idx = acc->second;
          if (auto owner = linked_owner.find(account_idx);
              owner != linked_owner.end() && owner->second != directory_id) {
            out.conflict[desired_idx] =
                absl::StrCat("email matches account ", Sv(accounts.items[account_idx].id),
                             ", which is linked to directory id ", Sv(owner->second));
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
