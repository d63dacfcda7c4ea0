#include "core/scope.h"

#include <optional>
#include <utility>

#include "core/str.h"

namespace usersync::core {
namespace {

// A directory user as the scope filter sees it. The attributes the filter names are resolved to
// columns once, when the view is made; Values() then scans that short list.
class UserEntryView final : public EntryView {
 public:
  UserEntryView(const Directory& dir, const ScopeFilter& filter) : dir_(dir) {
    const UserColumnNames& names = filter.columns;
    const std::pair<const std::string*, const std::vector<std::string_view>*> fixed[] = {
        {&names.id, &dir.user_id},          {&names.user_name, &dir.user_name},
        {&names.email, &dir.email},         {&names.first_name, &dir.first_name},
        {&names.last_name, &dir.last_name}, {&names.display_name, &dir.display_name},
        {&names.language, &dir.language}};
    for (const std::string& attribute : FilterAttributes(filter.filter)) {
      const std::vector<std::string_view>* column = nullptr;
      for (const auto& [name, values] : fixed) {
        if (!name->empty() && EqualsIgnoreCase(*name, attribute)) {
          column = values;
          break;
        }
      }
      for (size_t extra_idx = 0; column == nullptr && extra_idx < dir.extra_names.size();
           ++extra_idx) {
        if (EqualsIgnoreCase(dir.extra_names[extra_idx], attribute)) column = &dir.extra[extra_idx];
      }
      if (column != nullptr) columns_.push_back({attribute, column});
    }
  }

  void set_user(uint32_t user) { user_ = user; }

  std::string_view Dn() const override { return dir_.user_dn[user_]; }

  std::span<const std::string_view> Values(std::string_view name) const override {
    for (const Column& column : columns_) {
      if (!EqualsIgnoreCase(column.name, name)) continue;
      const std::string_view& value = (*column.values)[user_];
      if (value.empty()) return {};
      return std::span<const std::string_view>(&value, 1);
    }
    return {};
  }

 private:
  struct Column {
    std::string name;
    const std::vector<std::string_view>* values;
  };
  const Directory& dir_;
  std::vector<Column> columns_;
  uint32_t user_ = 0;
};

void CollectAttributes(const LdapFilter& filter, std::vector<std::string>& out) {
  for (const LdapFilter& child : filter.children) CollectAttributes(child, out);
  if (filter.attribute.empty()) return;
  for (const std::string& seen : out) {
    if (EqualsIgnoreCase(seen, filter.attribute)) return;
  }
  out.push_back(filter.attribute);
}

}  // namespace

bool UserColumnNames::Holds(std::string_view attribute) const {
  for (const std::string* name :
       {&id, &user_name, &email, &first_name, &last_name, &display_name, &language}) {
    if (!name->empty() && EqualsIgnoreCase(*name, attribute)) return true;
  }
  return false;
}

std::vector<std::string> FilterAttributes(const LdapFilter& filter) {
  std::vector<std::string> out;
  CollectAttributes(filter, out);
  return out;
}

ScopeResult ComputeScope(const Directory& dir, std::span<const std::string> groups,
                         std::span<const std::string> users, const ScopeFilter* filter) {
  ScopeResult out;
  const size_t user_count = dir.user_count();
  out.selected_by.assign(user_count, 0);
  if (groups.empty() && users.empty() && filter == nullptr) {
    out.selected_by.assign(user_count, kSelectedByEveryone);
  }
  if (!groups.empty()) {
    std::vector<uint32_t> roots;
    for (const std::string& group : groups) {
      if (std::optional<uint32_t> idx = dir.FindGroupByDn(group)) {
        roots.push_back(*idx);
      } else {
        out.missing_groups.push_back(group);
      }
    }
    out.groups = GroupClosure(dir, roots);
    for (size_t user = 0; user < user_count; ++user) {
      if (out.groups.user_in[user]) out.selected_by[user] |= kSelectedByGroup;
    }
  }
  for (const std::string& name : users) {
    std::optional<uint32_t> user = dir.FindUserByDn(name);
    if (!user) user = dir.FindUserById(name);
    if (user) {
      out.selected_by[*user] |= kSelectedByUser;
    } else {
      out.missing_users.push_back(name);
    }
  }
  if (filter != nullptr) {
    UserEntryView view(dir, *filter);
    for (uint32_t user = 0; user < user_count; ++user) {
      view.set_user(user);
      if (Matches(filter->filter, view)) out.selected_by[user] |= kSelectedByFilter;
    }
  }
  out.in_scope.resize(user_count);
  for (size_t user = 0; user < user_count; ++user) {
    out.in_scope[user] = out.selected_by[user] != 0 && !dir.disabled[user];
  }
  return out;
}

void LeaveOutUncovered(const RuleAssignment& rules, ScopeResult& scope) {
  scope.no_rule.assign(scope.in_scope.size(), 0);
  for (size_t user = 0; user < scope.in_scope.size(); ++user) {
    if (scope.in_scope[user] && rules.rule_of_user[user] == kNoRule) {
      scope.in_scope[user] = 0;
      scope.no_rule[user] = 1;
    }
  }
}

}  // namespace usersync::core
