#include "core/mapping.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/hash.h"
#include "core/hash_join.h"
#include "core/normalize.h"
#include "core/str.h"

namespace usersync::core {
namespace {

// A user's values of the built-in fields a mapping may replace: the directory's, or mapped.
struct UserValues {
  std::string_view id;
  std::string_view first_name;
  std::string_view last_name;
  std::string_view display_name;
  std::string_view language;
};

// Outcome of the per-user checks that need no other user.
struct Candidate {
  uint32_t user;
  std::string_view email;  // normalized, in the result's arena
  std::string reason;      // non-empty: invalid
  UserValues values;
  uint32_t attributes = 0;  // first of its values in MappingResult::attribute_values
};

// The mappings in the order MapUsers applies them: replacements of built-in fields, and the
// attributes of their own sorted by path (MappingResult::attribute_paths).
struct MappingOrder {
  std::vector<size_t> replacements;
  std::vector<size_t> attributes;
};

MappingOrder OrderMappings(const ResolvedMappings* mappings) {
  MappingOrder order;
  if (mappings == nullptr) return order;
  for (size_t idx = 0; idx < mappings->size(); ++idx) {
    (mappings->mapping(idx).field == Field::kAttribute ? order.attributes : order.replacements)
        .push_back(idx);
  }
  std::sort(order.attributes.begin(), order.attributes.end(), [&](size_t a, size_t b) {
    return mappings->mapping(a).target < mappings->mapping(b).target;
  });
  return order;
}

// The slot of `values` a replacement of built-in `field` fills; nullptr for a field no mapping
// replaces (the configuration refuses those).
std::string_view* ReplacedValue(Field field, UserValues& values) {
  switch (field) {
    case Field::kExternalId:
      return &values.id;
    case Field::kFirstName:
      return &values.first_name;
    case Field::kLastName:
      return &values.last_name;
    case Field::kDisplayName:
      return &values.display_name;
    case Field::kLanguage:
      return &values.language;
    default:
      return nullptr;
  }
}

// The mapped values of `user`: built-in replacements into the result, the attributes of their
// own appended to out.attribute_values. An expression's result is copied into out.arena.
class UserMapper {
 public:
  UserMapper(const Directory& dir, const ResolvedMappings* mappings, MappingResult& out)
      : dir_(dir), mappings_(mappings), order_(OrderMappings(mappings)), out_(out) {
    for (size_t idx : order_.attributes) {
      out_.attribute_paths.push_back(mappings_->mapping(idx).target);
    }
  }

  UserValues Map(uint32_t user) {
    UserValues values{dir_.user_id[user], dir_.first_name[user], dir_.last_name[user],
                      dir_.display_name[user], dir_.language[user]};
    for (size_t idx : order_.replacements) {
      std::string_view* slot = ReplacedValue(mappings_->mapping(idx).field, values);
      if (slot != nullptr) *slot = Value(idx, user);
    }
    for (size_t idx : order_.attributes) out_.attribute_values.push_back(Value(idx, user));
    return values;
  }

 private:
  std::string_view Value(size_t idx, uint32_t user) {
    bool used_default = false;
    std::string_view value = mappings_->Evaluate(idx, user, &scratch_, &used_default);
    return ResolvedMappings::IsScratch(value, scratch_) ? out_.arena.Store(value) : value;
  }

  const Directory& dir_;
  const ResolvedMappings* mappings_;
  MappingOrder order_;
  MappingResult& out_;
  ResolvedMappings::Scratch scratch_;
};

// At most this many bytes of a value reach a message: a 1 MB value is named, not printed.
constexpr size_t kQuotedBytes = 80;

// `value` cut to kQuotedBytes for a message ("..." marks the cut).
std::string Quoted(std::string_view value) {
  if (value.size() <= kQuotedBytes) return std::string(value);
  return absl::StrCat(Sv(value.substr(0, kQuotedBytes)), "...");
}

// Why a value cannot be sent to the target as it is: over kMaxValueBytes, or not UTF-8 (a
// target would take U+FFFD instead, silently). Empty when it can.
std::string CheckValue(std::string_view name, std::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return absl::StrCat(Sv(name), " is ", value.size(), " bytes, over the limit of ",
                        kMaxValueBytes);
  }
  const size_t bad = InvalidUtf8Offset(value);
  if (bad == std::string_view::npos) return std::string();
  return absl::StrFormat("%s is not valid UTF-8 (byte 0x%02X at offset %d)", Sv(name),
                         static_cast<unsigned char>(value[bad]), bad);
}

// The first value of `candidate` that cannot be sent (CheckValue), in column order, then the
// mapped attributes; empty if none. The extra attributes are not checked as such: only what a
// mapping makes of them reaches the target (an attribute read for scope.filter alone never
// does, so a value of it that is not UTF-8 does not make its user invalid).
std::string CheckValues(const Directory& dir, const Candidate& candidate,
                        const MappingResult& out) {
  const ColumnNames& names = dir.column_names;
  const uint32_t user = candidate.user;
  const UserValues& values = candidate.values;
  const std::pair<const std::string*, std::string_view> columns[] = {
      {&names.id, values.id},
      {&names.email, dir.email[user]},
      {&names.first_name, values.first_name},
      {&names.last_name, values.last_name},
      {&names.display_name, values.display_name}};
  for (const auto& [name, value] : columns) {
    std::string reason = CheckValue(*name, value);
    if (!reason.empty()) return reason;
  }
  for (size_t path_idx = 0; path_idx < out.attribute_paths.size(); ++path_idx) {
    std::string reason = CheckValue(out.attribute_paths[path_idx],
                                    out.attribute_values[candidate.attributes + path_idx]);
    if (!reason.empty()) return reason;
  }
  return std::string();
}

// RFC 5321's limits on an address (4.5.3.1.3 path, 4.5.3.1.1 local part); "" within them.
std::string CheckEmailLength(std::string_view name, std::string_view email) {
  if (email.size() > kMaxEmailOctets) {
    return absl::StrCat(Sv(name), " is ", email.size(), " octets, over the ", kMaxEmailOctets,
                        " of an address (RFC 5321)");
  }
  const size_t at = email.rfind('@');
  if (at != std::string_view::npos && at > kMaxLocalPartOctets) {
    return absl::StrCat(Sv(name), "'s local part is ", at, " octets, over the ",
                        kMaxLocalPartOctets, " of an address (RFC 5321)");
  }
  return std::string();
}

// The checks of one user that need no other user: values the target can take, an email that
// is an address within the validated domains, and both names. Empty when valid.
std::string CheckUser(const Directory& dir, const Candidate& candidate,
                      const MappingOptions& options, const MappingResult& out) {
  const uint32_t user = candidate.user;
  const std::string_view email = candidate.email;
  if (email.empty()) return "no email";
  if (std::string reason = CheckValues(dir, candidate, out); !reason.empty()) return reason;
  if (std::string reason = CheckEmailLength(dir.column_names.email, email); !reason.empty()) {
    return reason;
  }
  if (!IsValidEmail(email)) {
    return absl::StrCat("email is not an address: \"", Quoted(dir.email[user]), "\"");
  }
  std::string_view domain = EmailDomain(email);
  const bool within =
      options.validated_domains.empty() ||
      std::any_of(options.validated_domains.begin(), options.validated_domains.end(),
                  [&](const std::string& validated) { return DomainIsWithin(domain, validated); });
  if (!within) return absl::StrCat("email outside the validated domains: ", Sv(email));
  if (candidate.values.first_name.empty()) return "no first name";
  if (candidate.values.last_name.empty()) return "no last name";
  return std::string();
}

// Duplicate emails: every user sharing an otherwise valid email is invalid, naming another
// holder so the administrator can find the pair. Counting is a partitioned parallel self-join;
// naming the other holder only looks at the (rare) duplicates.
void MarkDuplicateEmails(const Directory& dir, std::vector<Candidate>& candidates) {
  std::vector<std::string_view> valid_emails(candidates.size());
  for (size_t idx = 0; idx < candidates.size(); ++idx) {
    if (candidates[idx].reason.empty()) valid_emails[idx] = candidates[idx].email;
  }
  const std::vector<uint32_t> email_count = CountEqualKeys(valid_emails);
  struct Holders {
    uint32_t first = 0;
    uint32_t second = 0;
    bool has_first = false;
    bool has_second = false;
  };
  StrViewMap<Holders> holders;
  for (size_t idx = 0; idx < candidates.size(); ++idx) {
    if (valid_emails[idx].empty() || email_count[idx] < 2) continue;
    Holders& entry = holders[valid_emails[idx]];
    if (!entry.has_first) {
      entry.first = candidates[idx].user;
      entry.has_first = true;
    } else if (!entry.has_second) {
      entry.second = candidates[idx].user;
      entry.has_second = true;
    }
  }
  for (size_t idx = 0; idx < candidates.size(); ++idx) {
    Candidate& candidate = candidates[idx];
    if (!candidate.reason.empty() || email_count[idx] < 2) continue;
    const Holders& entry = holders.at(candidate.email);
    const uint32_t other = entry.first == candidate.user ? entry.second : entry.first;
    candidate.reason = absl::StrCat("duplicate email ", Sv(candidate.email), " (also ",
                                    Sv(dir.user_dn[other]), ")");
  }
}

// A valid user's desired account: its rule, language (the rule's, else a valid directory
// tag, else none with a warning) and display name (the directory's, else "first last").
DesiredUser Desire(const Candidate& candidate, const RuleAssignment& rules, MappingResult& out) {
  const uint32_t user = candidate.user;
  DesiredUser desired;
  desired.user = user;
  desired.rule = rules.rule_of_user.empty() ? kNoRule : rules.rule_of_user[user];
  desired.email = candidate.email;
  const UserValues& values = candidate.values;
  desired.external_id = values.id;
  desired.first_name = values.first_name;
  desired.last_name = values.last_name;
  desired.attributes = candidate.attributes;
  if (desired.rule != kNoRule && !rules.rules[desired.rule].language.empty()) {
    desired.language = rules.rules[desired.rule].language;
  } else if (!values.language.empty()) {
    if (IsLanguageTag(values.language)) {
      desired.language = values.language;
    } else {
      out.warnings.push_back({user, absl::StrCat("language \"", Quoted(values.language),
                                                 "\" is not a language tag: left out")});
    }
  }
  if (!values.display_name.empty()) {
    desired.display_name = values.display_name;
  } else {
    desired.display_name =
        out.arena.Store(absl::StrCat(Sv(values.first_name), " ", Sv(values.last_name)));
  }
  return desired;
}

// Per user, whether MapUsers maps it when only `only` is wanted (MappingOptions::only): those
// users, and every user in scope sharing one's normalized email. Empty: everyone.
std::vector<uint8_t> MappedUsers(const Directory& dir, const std::vector<uint8_t>& in_scope,
                                 const std::vector<uint8_t>* only) {
  if (only == nullptr || only->empty()) return {};
  std::vector<uint8_t> mapped(dir.user_count(), 0);
  absl::flat_hash_set<std::string> emails;
  for (uint32_t user = 0; user < dir.user_count(); ++user) {
    if (in_scope[user] && (*only)[user]) emails.insert(NormalizeEmail(dir.email[user]));
  }
  std::string scratch;
  for (uint32_t user = 0; user < dir.user_count(); ++user) {
    if (!in_scope[user]) continue;
    std::string_view email = dir.email[user];
    if (std::any_of(email.begin(), email.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      scratch = NormalizeEmail(email);
      email = scratch;
    }
    mapped[user] = (*only)[user] || emails.contains(absl::string_view(email.data(), email.size()));
  }
  return mapped;
}

}  // namespace

MappingResult MapUsers(const Directory& dir, std::vector<uint8_t> in_scope,
                       const RuleAssignment& rules, const MappingOptions& options) {
  MappingResult out;
  out.in_scope = std::move(in_scope);
  std::vector<Candidate> candidates;
  UserMapper mapper(dir, options.mappings, out);
  if (!out.attribute_paths.empty()) {
    const size_t users = std::count(out.in_scope.begin(), out.in_scope.end(), uint8_t{1});
    out.attribute_values.reserve(users * out.attribute_paths.size());
  }
  const std::vector<uint8_t> mapped = MappedUsers(dir, out.in_scope, options.only);
  for (uint32_t user = 0; user < dir.user_count(); ++user) {
    if (!out.in_scope[user] || (!mapped.empty() && !mapped[user])) continue;
    // Most directories already hold lower-case addresses: keep the view, copy only otherwise.
    std::string_view email = dir.email[user];
    if (std::any_of(email.begin(), email.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      email = out.arena.Store(NormalizeEmail(email));
    }
    Candidate candidate{
        user, email, std::string(), {}, static_cast<uint32_t>(out.attribute_values.size())};
    candidate.values = mapper.Map(user);
    candidate.reason = CheckUser(dir, candidate, options, out);
    candidates.push_back(std::move(candidate));
  }
  MarkDuplicateEmails(dir, candidates);
  out.desired.reserve(candidates.size());
  for (Candidate& candidate : candidates) {
    if (!candidate.reason.empty()) {
      out.invalid.push_back({candidate.user, std::move(candidate.reason)});
    } else {
      out.desired.push_back(Desire(candidate, rules, out));
    }
  }
  return out;
}

}  // namespace usersync::core
