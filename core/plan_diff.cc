#include "core/plan_diff.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::core {
namespace {

constexpr std::string_view kAttributePrefix = "attribute:";

}  // namespace

SpecValues ValuesOf(const AccountSpec& spec) {
  SpecValues values;
  for (size_t idx = 0; idx < values.fields.size(); ++idx) {
    values.fields[idx] = spec.Get(static_cast<Field>(idx));
  }
  return values;
}

AccountSpec SpecFrom(const SpecValues& values, std::string_view welcome_template,
                     bool suppress_welcome, uint32_t borrowed) {
  AccountSpec spec;
  for (size_t idx = 0; idx < values.fields.size(); ++idx) {
    *spec.Mutable(static_cast<Field>(idx)) = (borrowed >> idx) & 1
                                                 ? CompactString::Borrow(values.fields[idx])
                                                 : CompactString(values.fields[idx]);
  }
  spec.welcome_template = welcome_template;
  spec.suppress_welcome = suppress_welcome;
  spec.active = true;
  return spec;
}

void DiffCommonFields(const SpecValues& want, const Account& account, bool compare_display_name,
                      std::vector<Change>& changes, uint32_t borrowed) {
  // Spelled out rather than a loop over kAllFields with Get(): this runs once per matched user.
  DiffField(changes, Field::kUserName, account.user_name, want[Field::kUserName], borrowed);
  DiffField(changes, Field::kEmail, account.email, want[Field::kEmail], borrowed);
  DiffField(changes, Field::kExternalId, account.external_id, want[Field::kExternalId], borrowed);
  DiffField(changes, Field::kFirstName, account.first_name, want[Field::kFirstName], borrowed);
  DiffField(changes, Field::kLastName, account.last_name, want[Field::kLastName], borrowed);
  if (compare_display_name) {
    DiffField(changes, Field::kDisplayName, account.display_name, want[Field::kDisplayName],
              borrowed);
  }
  DiffField(changes, Field::kLanguage, account.language, want[Field::kLanguage], borrowed);
  DiffField(changes, Field::kProducts, account.products, want[Field::kProducts], borrowed);
  DiffField(changes, Field::kAdminRole, account.admin_role, want[Field::kAdminRole], borrowed);
  if (account.Returned(Field::kPrivileges)) {  // SCIM keeps them in usersync's extension
    DiffField(changes, Field::kPrivileges, account.privileges, want[Field::kPrivileges], borrowed);
  }
  DiffField(changes, Field::kRoleSet, account.role_set, want[Field::kRoleSet], borrowed);
  DiffField(changes, Field::kUserGroup, account.user_group, want[Field::kUserGroup], borrowed);
}

void DiffOwnFieldsAndActive(const SpecValues& want, const Account& account,
                            std::vector<Change>& changes, uint32_t borrowed) {
  // usersync's own shapes: a target that does not return them cannot be compared (it would
  // plan the same update forever), so they are left alone there.
  for (Field field : {Field::kManagedGroups, Field::kDeviceGroups, Field::kSettingsTemplate}) {
    if (account.Returned(field))
      DiffField(changes, field, account.Get(field), want[field], borrowed);
  }
  if (!account.active) changes.push_back({Field::kActive, "false", "true"});
}

std::vector<Change> DiffAccount(const AccountSpec& spec, const Account& account,
                                bool compare_display_name) {
  std::vector<Change> changes;
  const SpecValues want = ValuesOf(spec);
  DiffCommonFields(want, account, compare_display_name, changes);
  DiffAttributes(
      changes, spec.attributes.size(),
      [&](size_t idx) {
        return std::pair<std::string_view, std::string_view>(spec.attributes[idx].first,
                                                             spec.attributes[idx].second);
      },
      account);
  DiffOwnFieldsAndActive(want, account, changes);
  return changes;
}

std::string ChangeName(const Change& change) {
  if (change.field == Field::kAttribute) return absl::StrCat(Sv(kAttributePrefix), Sv(change.path));
  return std::string(FieldName(change.field));
}

bool ParseChangeName(std::string_view name, Field* field, CompactString* path) {
  if (name.substr(0, kAttributePrefix.size()) == kAttributePrefix) {
    if (name.size() == kAttributePrefix.size()) return false;
    *field = Field::kAttribute;
    *path = name.substr(kAttributePrefix.size());
    return true;
  }
  std::optional<Field> fixed = ParseField(name);
  if (!fixed) return false;
  *field = *fixed;
  path->clear();
  return true;
}

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kCreate:
      return "create";
    case OpKind::kUpdate:
      return "update";
    case OpKind::kDeactivate:
      return "deactivate";
    case OpKind::kReactivate:
      return "reactivate";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kLink:
      return "link";
  }
  return "";
}

std::string_view CategoryName(Category category) {
  switch (category) {
    case Category::kMatched:
      return "matched";
    case Category::kUpdate:
      return "update";
    case Category::kNew:
      return "new";
    case Category::kInvalid:
      return "invalid";
    case Category::kAccountOnly:
      return "account_only";
    case Category::kDeparted:
      return "departed";
  }
  return "";
}

}  // namespace usersync::core
