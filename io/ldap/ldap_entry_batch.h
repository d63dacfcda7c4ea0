// Decoded LDAP search entries, owned (the LDAP messages are freed once decoded), and the view
// of one of them that io::EntryMapper reads. Internal to io/ldap.
//
// Thread-safety: an EntryBatch is written by one thread (its search's) and then handed whole
// to the merging thread; it is never shared while written.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ldap_filter.h"
#include "core/str.h"
#include "core/string_arena.h"
#include "io/directory/attribute_name.h"

namespace usersync::io::ldap_internal {

// Decoded entries, owned (the LDAP messages are freed once decoded).
//
// Layout: every string lives in `arena_`; an entry is a DN and a run of slots in `slots_`,
// one per requested attribute it has, each a run of values in `values_`:
//   entries_[e] = {dn, slot_begin, slot_count}
//   slots_[s]   = {attr_idx, value_begin, value_count}   (attr_idx into the requested names)
//   values_[v]  = view into arena_
class EntryBatch {
 public:
  explicit EntryBatch(const std::vector<std::string>* names) : names_(names) {}

  void Clear() {
    arena_ = core::StringArena();
    entries_.clear();
    slots_.clear();
    values_.clear();
  }

  void BeginEntry(std::string_view dn) {
    current_dn_ = arena_.Store(dn);
    pending_.clear();
  }
  void AddValue(uint32_t attr_idx, std::string_view value) {
    pending_.emplace_back(attr_idx, arena_.Store(value));
  }
  // Groups the values by attribute (the server may send "cn" and "cn;lang-en" apart).
  void EndEntry() {
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const auto slot_begin = static_cast<uint32_t>(slots_.size());
    for (size_t idx = 0; idx < pending_.size(); ++idx) {
      if (idx == 0 || pending_[idx].first != pending_[idx - 1].first) {
        slots_.push_back(Slot{pending_[idx].first, static_cast<uint32_t>(values_.size()), 0});
      }
      values_.push_back(pending_[idx].second);
      ++slots_.back().value_count;
    }
    entries_.push_back(
        Entry{current_dn_, slot_begin, static_cast<uint32_t>(slots_.size()) - slot_begin});
  }

  std::string_view Store(std::string_view s) { return arena_.Store(s); }

  size_t size() const { return entries_.size(); }
  std::string_view Dn(size_t entry_idx) const { return entries_[entry_idx].dn; }
  std::span<const std::string_view> Values(size_t entry_idx, std::string_view name) const {
    const Entry& entry = entries_[entry_idx];
    for (uint32_t slot_idx = entry.slot_begin; slot_idx < entry.slot_begin + entry.slot_count;
         ++slot_idx) {
      const Slot& slot = slots_[slot_idx];
      if (core::EqualsIgnoreCase(AttributeBaseName((*names_)[slot.attr_idx]), name)) {
        return std::span<const std::string_view>(values_.data() + slot.value_begin,
                                                 slot.value_count);
      }
    }
    return {};
  }

 private:
  struct Entry {
    std::string_view dn;
    uint32_t slot_begin;
    uint32_t slot_count;
  };
  struct Slot {
    uint32_t attr_idx;
    uint32_t value_begin;
    uint32_t value_count;
  };
  const std::vector<std::string>* names_;  // not owned
  core::StringArena arena_;
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  std::vector<std::string_view> values_;
  std::string_view current_dn_;
  std::vector<std::pair<uint32_t, std::string_view>> pending_;
};

// One entry of a batch, as EntryMapper sees it. `members`, when set, replaces the values of
// the member attribute (a group whose members took ranged retrieval).
class BatchEntryView final : public core::EntryView {
 public:
  BatchEntryView(const EntryBatch& batch, size_t entry_idx, std::string_view member_attribute,
                 const std::vector<std::string_view>* members)
      : batch_(batch),
        entry_idx_(entry_idx),
        member_attribute_(member_attribute),
        members_(members) {}
  std::string_view Dn() const override { return batch_.Dn(entry_idx_); }
  std::span<const std::string_view> Values(std::string_view name) const override {
    if (members_ != nullptr && core::EqualsIgnoreCase(name, member_attribute_)) return *members_;
    return batch_.Values(entry_idx_, name);
  }

 private:
  const EntryBatch& batch_;
  size_t entry_idx_;
  std::string_view member_attribute_;
  const std::vector<std::string_view>* members_;
};

}  // namespace usersync::io::ldap_internal
