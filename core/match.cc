#include "core/match.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/hash.h"
#include "core/hash_join.h"
#include "core/normalize.h"
#include "core/str.h"
#include "core/string_arena.h"

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
    case MatchMethod::kNone:
      return "none";
    case MatchMethod::kLink:
      return "link";
    case MatchMethod::kManual:
      return "manual";
    case MatchMethod::kEmail:
      return "email";
    case MatchMethod::kAttribute:
      return "attribute";
  }
  return "none";
}

namespace {

constexpr int64_t kNone = -1;
constexpr int64_t kGone = -2;  // a link or manual match whose account does not exist

// One matching pass: the candidates of each method for every desired user, then one round per
// method in the configured order. Holds views into its arguments; lives for one MatchAccounts.
class Matcher {
 public:
  Matcher(const Directory& dir, const MappingResult& mapping, const Accounts& accounts,
          std::span<const Link> links, std::span<const Link> manual)
      : dir_(dir), mapping_(mapping), accounts_(accounts), links_(links), manual_(manual) {}

  MatchResult Run(std::span<const MatchMethod> order, std::span<const MatchAttribute> attributes) {
    Init();
    const std::vector<int64_t> wanted_account = JoinAccountIds();
    LinkCandidates();
    ExternalIdCandidates();
    ManualCandidates(wanted_account);
    if (std::find(order.begin(), order.end(), MatchMethod::kEmail) != order.end()) {
      EmailCandidates();
    }
    // One round per method, so a higher-precedence method claims its accounts before a lower
    // one can (an email match never steals a linked account).
    size_t attribute_idx = 0;
    for (MatchMethod method : order) {
      if (method == MatchMethod::kAttribute) {
        if (attribute_idx >= attributes.size()) continue;
        const MatchAttribute& attribute = attributes[attribute_idx++];
        AttributeCandidates(attribute);
        if (out_.matched_attribute.empty()) out_.matched_attribute.resize(mapping_.desired.size());
        attribute_path_ = attribute.path;
      }
      Round(method);
    }
    return std::move(out_);
  }

 private:
  void Init() {
    const size_t desired_count = mapping_.desired.size();
    const size_t account_count = accounts_.items.size();
    out_.account_of_desired.assign(desired_count, kNone);
    out_.method.assign(desired_count, MatchMethod::kNone);
    out_.conflict.resize(desired_count);
    out_.desired_of_account.assign(account_count, kNone);
    out_.has_stored_link.assign(desired_count, 0);
    out_.account_has_stored_link.assign(account_count, 0);
    out_.external_owner.assign(account_count, kNone);
    desired_of_user_.assign(dir_.user_count(), kNone);
    for (size_t desired_idx = 0; desired_idx < desired_count; ++desired_idx) {
      desired_of_user_[mapping_.desired[desired_idx].user] = static_cast<int64_t>(desired_idx);
    }
    link_candidate_.assign(desired_count, kNone);
    manual_candidate_.assign(desired_count, kNone);
    linked_owner_.assign(account_count, std::string_view());
    user_has_stored_link_.assign(dir_.user_count(), 0);
  }

  // Links and manual matches name accounts by id: one join for both. Fills link_account.
  std::vector<int64_t> JoinAccountIds() {
    const size_t account_count = accounts_.items.size();
    std::vector<std::string_view> account_ids(account_count);
    for (size_t account_idx = 0; account_idx < account_count; ++account_idx) {
      account_ids[account_idx] = accounts_.items[account_idx].id;
    }
    std::vector<std::string_view> wanted_ids;
    wanted_ids.reserve(links_.size() + manual_.size());
    for (const Link& link : links_) wanted_ids.push_back(link.account_id);
    for (const Link& match : manual_) wanted_ids.push_back(match.account_id);
    std::vector<int64_t> wanted_account = PartitionedJoin(account_ids, wanted_ids);
    out_.link_account.assign(wanted_account.begin(), wanted_account.begin() + links_.size());
    return wanted_account;
  }

  // Stored links, and the owner of each linked account: an email match must not take an
  // account that belongs to another directory user.
  void LinkCandidates() {
    for (size_t link_idx = 0; link_idx < links_.size(); ++link_idx) {
      const int64_t account_idx = out_.link_account[link_idx];
      std::optional<uint32_t> user = dir_.FindUserById(links_[link_idx].directory_id);
      if (user) user_has_stored_link_[*user] = 1;
      if (account_idx >= 0) {
        out_.account_has_stored_link[account_idx] = 1;
        linked_owner_[account_idx] = links_[link_idx].directory_id;
      } else {
        out_.dangling_links.emplace_back(std::string(links_[link_idx].directory_id),
                                         std::string(links_[link_idx].account_id));
      }
      if (!user || desired_of_user_[*user] < 0) continue;
      const int64_t desired_idx = desired_of_user_[*user];
      out_.has_stored_link[desired_idx] = 1;
      link_candidate_[desired_idx] = account_idx >= 0 ? account_idx : kGone;
    }
  }

  // The target holds the link itself: usersync writes externalId = directory id.
  void ExternalIdCandidates() {
    for (size_t account_idx = 0; account_idx < accounts_.items.size(); ++account_idx) {
      std::string_view external_id = accounts_.items[account_idx].external_id;
      if (external_id.empty() || out_.account_has_stored_link[account_idx]) continue;
      std::optional<uint32_t> user = dir_.FindUserById(external_id);
      if (!user || user_has_stored_link_[*user]) continue;
      if (out_.external_owner[account_idx] == kNone) out_.external_owner[account_idx] = *user;
      const int64_t desired_idx = desired_of_user_[*user];
      if (desired_idx >= 0 && link_candidate_[desired_idx] == kNone) {
        link_candidate_[desired_idx] = static_cast<int64_t>(account_idx);
      }
    }
  }

  void ManualCandidates(const std::vector<int64_t>& wanted_account) {
    for (size_t manual_idx = 0; manual_idx < manual_.size(); ++manual_idx) {
      std::optional<uint32_t> user = dir_.FindUserById(manual_[manual_idx].directory_id);
      if (!user || desired_of_user_[*user] < 0) continue;
      const int64_t account_idx = wanted_account[links_.size() + manual_idx];
      manual_candidate_[desired_of_user_[*user]] = account_idx >= 0 ? account_idx : kGone;
    }
  }

  // A partitioned join of the desired users' normalized emails against the accounts'.
  void EmailCandidates() {
    const size_t account_count = accounts_.items.size();
    std::vector<std::string_view> account_emails(account_count);
    for (size_t account_idx = 0; account_idx < account_count; ++account_idx) {
      const Account& account = accounts_.items[account_idx];
      std::string_view email = account.email.empty() ? account.user_name : account.email;
      account_emails[account_idx] =
          IsNormalizedEmail(email) ? email : scratch_.Store(NormalizeEmail(email));
    }
    std::vector<std::string_view> desired_emails(mapping_.desired.size());
    for (size_t desired_idx = 0; desired_idx < desired_emails.size(); ++desired_idx) {
      desired_emails[desired_idx] = mapping_.desired[desired_idx].email;
    }
    email_candidate_ = PartitionedJoin(account_emails, desired_emails);
  }

  // The desired users' values of `attribute` (the mapping result's) joined against the
  // accounts' (a built-in field, or the account's mapped attribute). "" matches nothing.
  void AttributeCandidates(const MatchAttribute& attribute) {
    const size_t account_count = accounts_.items.size();
    std::vector<std::string_view> account_values(account_count);
    for (size_t account_idx = 0; account_idx < account_count; ++account_idx) {
      const Account& account = accounts_.items[account_idx];
      account_values[account_idx] = attribute.field == Field::kAttribute
                                        ? account.Attribute(attribute.path)
                                        : account.Get(attribute.field);
    }
    const auto path_it =
        std::find(mapping_.attribute_paths.begin(), mapping_.attribute_paths.end(), attribute.path);
    const size_t path_idx = static_cast<size_t>(path_it - mapping_.attribute_paths.begin());
    std::vector<std::string_view> desired_values(mapping_.desired.size());
    for (size_t desired_idx = 0; desired_idx < desired_values.size(); ++desired_idx) {
      const DesiredUser& desired = mapping_.desired[desired_idx];
      desired_values[desired_idx] = DesiredValue(desired, attribute.field, path_idx);
    }
    attribute_candidate_ = PartitionedJoin(account_values, desired_values);
    for (size_t desired_idx = 0; desired_idx < desired_values.size(); ++desired_idx) {
      if (desired_values[desired_idx].empty()) attribute_candidate_[desired_idx] = kNone;
    }
  }

  std::string_view DesiredValue(const DesiredUser& desired, Field field, size_t path_idx) const {
    switch (field) {
      case Field::kExternalId:
        return desired.external_id;
      case Field::kFirstName:
        return desired.first_name;
      case Field::kLastName:
        return desired.last_name;
      case Field::kDisplayName:
        return desired.display_name;
      case Field::kLanguage:
        return desired.language;
      case Field::kAttribute:
        return path_idx < mapping_.attribute_paths.size()
                   ? mapping_.attribute_values[desired.attributes + path_idx]
                   : std::string_view();
      default:
        return {};
    }
  }

  void Round(MatchMethod method) {
    for (size_t desired_idx = 0; desired_idx < mapping_.desired.size(); ++desired_idx) {
      if (out_.account_of_desired[desired_idx] >= 0 || !out_.conflict[desired_idx].empty()) {
        continue;
      }
      std::string_view directory_id = dir_.user_id[mapping_.desired[desired_idx].user];
      switch (method) {
        case MatchMethod::kLink:
          ByStoredMatch(desired_idx, link_candidate_[desired_idx], MatchMethod::kLink, links_,
                        directory_id);
          break;
        case MatchMethod::kManual:
          ByStoredMatch(desired_idx, manual_candidate_[desired_idx], MatchMethod::kManual, manual_,
                        directory_id);
          break;
        case MatchMethod::kEmail:
          ByValue(desired_idx, directory_id, email_candidate_[desired_idx], MatchMethod::kEmail,
                  "email");
          break;
        case MatchMethod::kAttribute:
          ByValue(desired_idx, directory_id, attribute_candidate_[desired_idx],
                  MatchMethod::kAttribute, attribute_path_);
          if (out_.method[desired_idx] == MatchMethod::kAttribute) {
            out_.matched_attribute[desired_idx] = attribute_path_;
          }
          break;
        case MatchMethod::kNone:
          break;
      }
    }
  }

  // A stored link or manual match: claims its account, or names the account that is gone.
  void ByStoredMatch(size_t desired_idx, int64_t account_idx, MatchMethod method,
                     std::span<const Link> stored, std::string_view directory_id) {
    if (account_idx >= 0) {
      Claim(desired_idx, account_idx, method);
      return;
    }
    if (account_idx != kGone) return;
    std::string_view account_id;
    for (const Link& link : stored) {
      if (link.directory_id == directory_id) account_id = link.account_id;
    }
    out_.conflict[desired_idx] =
        method == MatchMethod::kLink
            ? absl::StrCat("linked account ", Sv(account_id),
                           " no longer exists at the target (forget the link with `usersync "
                           "match --unlink ",
                           Sv(directory_id), "`: the next plan matches or creates again)")
            : absl::StrCat("manual match names account ", Sv(account_id),
                           ", which does not exist at the target");
  }

  // A match by a value (email, a mapped attribute named `what`): claims the account unless
  // another directory user owns it (a stored link, or its externalId).
  void ByValue(size_t desired_idx, std::string_view directory_id, int64_t account_idx,
               MatchMethod method, std::string_view what) {
    if (account_idx < 0) return;
    const Account& account = accounts_.items[account_idx];
    std::string_view owner = linked_owner_[account_idx];
    if (!owner.empty() && owner != directory_id) {
      out_.conflict[desired_idx] = absl::StrCat(Sv(what), " matches account ", Sv(account.id),
                                                ", which is linked to directory id ", Sv(owner));
      return;
    }
    std::string_view external_id = account.external_id;
    if (!external_id.empty() && external_id != directory_id &&
        dir_.FindUserById(external_id).has_value()) {
      out_.conflict[desired_idx] =
          absl::StrCat(Sv(what), " matches account ", Sv(account.id),
                       ", whose externalId names another directory user (", Sv(external_id), ")");
      return;
    }
    Claim(desired_idx, account_idx, method);
  }

  void Claim(size_t desired_idx, int64_t account_idx, MatchMethod method) {
    const int64_t holder = out_.desired_of_account[account_idx];
    if (holder >= 0) {
      out_.conflict[desired_idx] =
          absl::StrCat("account ", Sv(accounts_.items[account_idx].id), " is already matched to ",
                       Sv(dir_.user_dn[mapping_.desired[holder].user]), " (by ",
                       Sv(MatchMethodName(out_.method[holder])), ")");
      return;
    }
    out_.desired_of_account[account_idx] = static_cast<int64_t>(desired_idx);
    out_.account_of_desired[desired_idx] = account_idx;
    out_.method[desired_idx] = method;
  }

  const Directory& dir_;
  const MappingResult& mapping_;
  const Accounts& accounts_;
  std::span<const Link> links_;
  std::span<const Link> manual_;
  MatchResult out_;
  std::vector<int64_t> desired_of_user_;
  std::vector<int64_t> link_candidate_;
  std::vector<int64_t> manual_candidate_;
  std::vector<int64_t> email_candidate_;
  std::vector<int64_t> attribute_candidate_;  // of the attribute round in progress
  std::string_view attribute_path_;
  std::vector<std::string_view> linked_owner_;
  std::vector<uint8_t> user_has_stored_link_;
  StringArena scratch_;  // normalized account emails that were not in normal form
};

}  // namespace

MatchResult MatchAccounts(const Directory& dir, const MappingResult& mapping,
                          const Accounts& accounts, std::span<const Link> links,
                          std::span<const Link> manual, std::span<const MatchMethod> order,
                          std::span<const MatchAttribute> attributes) {
  return Matcher(dir, mapping, accounts, links, manual).Run(order, attributes);
}

}  // namespace usersync::core
