// The planner's attribute comparison (core/plan.h DiffAccount), over views: what an account
// should hold is compared with what it holds before any of it is copied, so a user whose
// account is in step costs no allocation. Internal to core/plan*.cc. Pure; thread-compatible.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/accounts.h"
#include "core/plan.h"

namespace usersync::core {

// The fixed string fields of what an account should hold, kUserName to kSettingsTemplate, as
// views (into an AccountSpec, or the directory, the mapping and the rules).
struct SpecValues {
  std::array<std::string_view, static_cast<size_t>(Field::kActive)> fields;

  std::string_view operator[](Field field) const { return fields[static_cast<size_t>(field)]; }
  std::string_view& operator[](Field field) { return fields[static_cast<size_t>(field)]; }
};

// `spec`'s fields as views into it.
SpecValues ValuesOf(const AccountSpec& spec);

// An AccountSpec holding `values` (active, no mapped attributes: the caller adds them). The
// fields whose bit (1 << Field) is set in `borrowed` view their value (CompactString::Borrow:
// the planner's text that Plan::strings keeps); the others copy it.
AccountSpec SpecFrom(const SpecValues& values, std::string_view welcome_template,
                     bool suppress_welcome, uint32_t borrowed = 0);

// How the changes a diff makes hold their text: a field's bit (1 << Field) set, the change
// views the wanted value (`after`) instead of copying it (CompactString::Borrow); kBorrowHeld
// set, it views the account's value (`before`) too. 0, the changes own their text: DiffAccount,
// whose callers keep them past the account. The planner borrows what Plan::strings keeps.
inline constexpr uint32_t kBorrowHeld = 1u << 31;

inline CompactString TextOf(std::string_view text, bool borrow) {
  return borrow ? CompactString::Borrow(text) : CompactString(text);
}

inline void DiffField(std::vector<Change>& changes, Field field, std::string_view before,
                      std::string_view after, uint32_t borrowed = 0) {
  if (before == after) return;
  changes.push_back({field, TextOf(before, (borrowed & kBorrowHeld) != 0),
                     TextOf(after, ((borrowed >> static_cast<unsigned>(field)) & 1) != 0)});
}

// The mapped attributes that differ. Both lists are sorted by path; an attribute the account
// holds and the spec does not map is not usersync's, and one the spec maps to "" that the
// account lacks is in step. `wanted(idx)` is the idx-th (path, value) of `count`, sorted by
// path.
template <typename Wanted>
void DiffAttributes(std::vector<Change>& changes, size_t count, Wanted wanted,
                    const Account& account) {
  auto held = account.attributes.begin();
  for (size_t idx = 0; idx < count; ++idx) {
    const auto [path, value] = wanted(idx);
    while (held != account.attributes.end() && held->first < path) ++held;
    const std::string_view before =
        held != account.attributes.end() && held->first == path ? held->second : "";
    if (before != value) {
      changes.push_back({Field::kAttribute, before, value, path});
    }
  }
}

// DiffAccount's fixed fields up to kUserGroup: those every target compares. `borrowed`: see
// DiffField.
void DiffCommonFields(const SpecValues& want, const Account& account, bool compare_display_name,
                      std::vector<Change>& changes, uint32_t borrowed = 0);

// DiffAccount's last fields: usersync's own shapes (compared only where the target returns
// them) and active.
void DiffOwnFieldsAndActive(const SpecValues& want, const Account& account,
                            std::vector<Change>& changes, uint32_t borrowed = 0);

}  // namespace usersync::core
