#include "io/ldap/ldap_query.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/ldap_filter.h"
#include "core/str.h"

namespace usersync::io::ldap_internal {
namespace {

constexpr int kLetters = 26;

// How often user names start with each letter a..z (per mille, rounded; from given names and
// surnames in US/European directories). Only the balance of the partitions depends on it,
// never their exactness.
constexpr std::array<int, kLetters> kLetterWeight = {
    70, 55, 70, 60, 35, 25, 35, 40, 10, 80, 55, 50, 90,  // a..m
    25, 10, 40, 2,  50, 85, 45, 3,  15, 25, 1,  5,  5,   // n..z
};

// (|(attr=x*)(attr=y*)...) over the letters [first, last).
std::string PrefixFilter(std::string_view attribute, int first, int last) {
  std::string out = last - first > 1 ? "(|" : "";
  for (int letter = first; letter < last; ++letter) {
    const char prefix[1] = {static_cast<char>('a' + letter)};
    absl::StrAppend(&out, "(", Sv(attribute), "=",
                    core::EscapeFilterValue(std::string_view(prefix, 1)), "*)");
  }
  if (last - first > 1) out += ")";
  return out;
}

}  // namespace

std::vector<std::string> PlanUserPartitions(std::string_view attribute, int count) {
  if (count <= 1) return {std::string()};
  count = std::min(count, kLetters);
  // Letter boundaries: partition p takes the letters [bounds[p], bounds[p + 1]) so that the
  // cumulative weight crosses (p + 1) / count of the total at its end.
  int total = 0;
  for (int weight : kLetterWeight) total += weight;
  std::vector<int> bounds = {0};
  int cumulative = 0;
  for (int letter = 0; letter < kLetters; ++letter) {
    cumulative += kLetterWeight[letter];
    const int partition = static_cast<int>(bounds.size()) - 1;
    const int letters_left = kLetters - (letter + 1);
    const int partitions_left = count - (partition + 1);
    const bool weight_reached =
        static_cast<int64_t>(cumulative) * count >= static_cast<int64_t>(total) * (partition + 1);
    // Close the partition when its weight is reached, or when every remaining partition needs
    // a letter of its own.
    if (partitions_left > 0 && (weight_reached || letters_left == partitions_left)) {
      bounds.push_back(letter + 1);
    }
  }
  bounds.push_back(kLetters);

  std::vector<std::string> filters;
  filters.reserve(count);
  for (int partition = 0; partition + 1 < count; ++partition) {
    const std::string own = PrefixFilter(attribute, bounds[partition], bounds[partition + 1]);
    if (partition == 0) {
      filters.push_back(own);
    } else {
      filters.push_back(
          absl::StrCat("(&", own, "(!", PrefixFilter(attribute, 0, bounds[partition]), "))"));
    }
  }
  // The complement of every earlier partition. `(!(attr=*))` catches entries without the
  // attribute, for which the prefix items are Undefined (RFC 4511 §4.5.1.7) and so is their
  // negation.
  filters.push_back(absl::StrCat("(|(!(", Sv(attribute), "=*))(!",
                                 PrefixFilter(attribute, 0, bounds[count - 1]), "))"));
  return filters;
}

std::string UserSearchFilter(std::string_view user_filter, std::string_view group_filter,
                             std::string_view partition) {
  return absl::StrCat("(&", Sv(user_filter), "(!", Sv(group_filter), ")", Sv(partition), ")");
}

absl::StatusOr<SearchFilters> CanonicalFilters(std::string_view user_filter,
                                               std::string_view group_filter) {
  absl::StatusOr<core::LdapFilter> user = core::ParseLdapFilter(user_filter);
  if (!user.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("source.user_filter: ", user.status().message()));
  }
  absl::StatusOr<core::LdapFilter> group = core::ParseLdapFilter(group_filter);
  if (!group.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("source.group_filter: ", group.status().message()));
  }
  return SearchFilters{core::FormatLdapFilter(*user), core::FormatLdapFilter(*group)};
}

absl::StatusOr<std::optional<ValueRange>> ParseValueRange(std::string_view description) {
  constexpr std::string_view kRange = "range=";
  size_t semicolon = description.find(';');
  while (semicolon != std::string_view::npos) {
    std::string_view option = description.substr(semicolon + 1);
    semicolon = option.find(';');
    if (semicolon != std::string_view::npos) {
      semicolon += static_cast<size_t>(option.data() - description.data());
    }
    option = option.substr(0, option.find(';'));
    if (option.size() < kRange.size() ||
        !core::EqualsIgnoreCase(option.substr(0, kRange.size()), kRange)) {
      continue;
    }
    const std::string_view bounds = option.substr(kRange.size());
    const size_t dash = bounds.find('-');
    ValueRange range;
    bool ok = dash != std::string_view::npos &&
              absl::SimpleAtoi(Sv(bounds.substr(0, dash)), &range.low) && range.low >= 0;
    if (ok) {
      const std::string_view high = bounds.substr(dash + 1);
      if (high == "*") {
        range.high = -1;
      } else {
        ok = absl::SimpleAtoi(Sv(high), &range.high) && range.high >= range.low;
      }
    }
    if (!ok) {
      return absl::DataLossError(
          absl::StrCat("malformed range option in attribute \"", Sv(description), "\""));
    }
    return std::optional<ValueRange>(range);
  }
  return std::optional<ValueRange>();
}

std::string RangedDescription(std::string_view attribute, int64_t low, int64_t high) {
  if (high >= low) return absl::StrCat(Sv(attribute), ";range=", low, "-", high);
  return absl::StrCat(Sv(attribute), ";range=", low, "-*");
}

}  // namespace usersync::io::ldap_internal
