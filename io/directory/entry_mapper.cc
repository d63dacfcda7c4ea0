#include "io/directory/entry_mapper.h"

#include <span>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/normalize.h"
#include "core/str.h"
#include "io/directory/attribute_name.h"

namespace usersync::io {
namespace {

using core::EqualsIgnoreCase;

// AD's objectGUID: 16 bytes, Data1..Data3 little-endian → "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
void FormatGuid(std::string_view bytes, char out[36]) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr int kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  int pos = 0;
  for (int idx = 0; idx < 16; ++idx) {
    if (idx == 4 || idx == 6 || idx == 8 || idx == 10) out[pos++] = '-';
    const auto byte = static_cast<unsigned char>(bytes[kOrder[idx]]);
    out[pos++] = kHex[byte >> 4];
    out[pos++] = kHex[byte & 0xf];
  }
}

bool IsGuidString(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t idx = 0; idx < s.size(); ++idx) {
    const char c = s[idx];
    if (idx == 8 || idx == 13 || idx == 18 || idx == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string_view First(const core::EntryView& entry, std::string_view name) {
  if (name.empty()) return {};
  std::span<const std::string_view> values = entry.Values(name);
  return values.empty() ? std::string_view() : values.front();
}

// The value of a DN's first RDN: "CN=Person,CN=Schema,CN=Configuration,DC=x" → "Person".
std::string_view FirstRdnValue(std::string_view dn) {
  const size_t equals = dn.find('=');
  if (equals == std::string_view::npos) return dn;
  size_t end = equals + 1;
  while (end < dn.size() && dn[end] != ',' && dn[end] != '+') {
    end += (dn[end] == '\\' && end + 1 < dn.size()) ? 2 : 1;
  }
  return core::TrimWhitespace(dn.substr(equals + 1, end - equals - 1));
}

// AD stores objectCategory as the DN of a schema class, and a domain controller matches
// "(objectCategory=person)" against it by the class name; that is the filter AD admins write
// (and the "ad" flavor's default). This view lets an exported AD entry match it too: its
// objectCategory values are the DN itself and the DN's first RDN value ("Person").
class AdCategoryView final : public core::EntryView {
 public:
  explicit AdCategoryView(const core::EntryView& entry) : entry_(entry) {
    std::span<const std::string_view> values = entry.Values("objectCategory");
    if (!values.empty()) {  // single-valued in AD
      category_[0] = values[0];
      category_[1] = FirstRdnValue(values[0]);
      has_category_ = true;
    }
  }
  std::string_view Dn() const override { return entry_.Dn(); }
  std::span<const std::string_view> Values(std::string_view name) const override {
    if (has_category_ && EqualsIgnoreCase(AttributeBaseName(name), "objectCategory"))
      return category_;
    return entry_.Values(name);
  }

 private:
  const core::EntryView& entry_;
  std::string_view category_[2];
  bool has_category_ = false;
};

}  // namespace

std::string GuidString(std::string_view bytes) {
  char guid[36];
  FormatGuid(bytes, guid);
  return std::string(guid, sizeof(guid));
}

absl::StatusOr<EntryMapper> EntryMapper::Create(DirectorySchema schema) {
  EntryMapper mapper;
  absl::StatusOr<core::LdapFilter> user_filter = core::ParseLdapFilter(schema.user_filter);
  if (!user_filter.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("source.user_filter: ", user_filter.status().message()));
  }
  absl::StatusOr<core::LdapFilter> group_filter = core::ParseLdapFilter(schema.group_filter);
  if (!group_filter.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("source.group_filter: ", group_filter.status().message()));
  }
  mapper.user_filter_ = *std::move(user_filter);
  mapper.group_filter_ = *std::move(group_filter);
  const bool ad = schema.flavor == DirectoryFlavor::kAd;
  mapper.binary_guid_id_ = ad && EqualsIgnoreCase(schema.id, "objectGUID");
  mapper.ad_flavor_ = ad;
  mapper.schema_ = std::move(schema);
  mapper.record_.extra.reserve(mapper.schema_.extra.size());
  return mapper;
}

core::DirectoryBuilder EntryMapper::NewBuilder() const {
  core::DirectoryBuilder builder(schema_.extra);
  core::ColumnNames names;
  auto name_or = [](const std::string& attribute, std::string& name) {
    if (!attribute.empty()) name = attribute;
  };
  name_or(schema_.id, names.id);
  name_or(schema_.email, names.email);
  name_or(schema_.first_name, names.first_name);
  name_or(schema_.last_name, names.last_name);
  name_or(schema_.display_name, names.display_name);
  name_or(schema_.user_name, names.user_name);
  name_or(schema_.language, names.language);
  builder.SetColumnNames(std::move(names));
  return builder;
}

EntryMapper::Kind EntryMapper::Classify(const core::EntryView& entry) const {
  if (ad_flavor_) {  // flavor kAd
    const AdCategoryView view(entry);
    if (core::Matches(group_filter_, view)) return Kind::kGroup;
    if (core::Matches(user_filter_, view)) return Kind::kUser;
    return Kind::kIgnored;
  }
  if (core::Matches(group_filter_, entry)) return Kind::kGroup;
  if (core::Matches(user_filter_, entry)) return Kind::kUser;
  return Kind::kIgnored;
}

absl::StatusOr<EntryMapper::Kind> EntryMapper::Add(const core::EntryView& entry,
                                                   core::DirectoryBuilder& builder,
                                                   std::string_view* failed_attribute) {
  const Kind kind = Classify(entry);
  if (kind == Kind::kIgnored) return kind;
  if (kind == Kind::kGroup) {
    builder.AddGroup(entry.Dn(), First(entry, schema_.group_name));
    if (!schema_.member.empty()) {
      for (std::string_view member : entry.Values(schema_.member)) builder.AddMember(member);
    }
    return kind;
  }

  auto fail = [&](std::string_view attribute, std::string_view reason) {
    if (failed_attribute != nullptr) *failed_attribute = attribute;
    return absl::InvalidArgumentError(absl::StrCat("entry \"", Sv(entry.Dn()), "\": ", Sv(reason)));
  };

  core::UserRecord& record = record_;
  record.dn = entry.Dn();
  record.id = First(entry, schema_.id);
  char guid[36];
  if (binary_guid_id_ && !record.id.empty()) {
    if (record.id.size() == 16) {
      FormatGuid(record.id, guid);
      record.id = std::string_view(guid, sizeof(guid));
    } else if (IsGuidString(record.id)) {
      for (size_t idx = 0; idx < sizeof(guid); ++idx) {
        const char c = record.id[idx];
        guid[idx] = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
      }
      record.id = std::string_view(guid, sizeof(guid));
    } else {
      return fail(schema_.id, absl::StrCat(schema_.id, " is ", record.id.size(),
                                           " bytes, expected a 16-byte binary GUID"));
    }
  }
  record.user_name = First(entry, schema_.user_name);
  record.email = First(entry, schema_.email);
  record.first_name = First(entry, schema_.first_name);
  record.last_name = First(entry, schema_.last_name);
  record.display_name = First(entry, schema_.display_name);
  record.language = First(entry, schema_.language);
  record.disabled = false;
  if (ad_flavor_) {
    const std::string_view uac = core::TrimWhitespace(First(entry, "userAccountControl"));
    if (!uac.empty()) {
      int64_t flags = 0;
      if (!absl::SimpleAtoi(Sv(uac), &flags)) {
        return fail("userAccountControl",
                    absl::StrCat("userAccountControl '", absl::CHexEscape(Sv(uac.substr(0, 32))),
                                 "' is not an integer"));
      }
      record.disabled = (flags & 2) != 0;  // ACCOUNTDISABLE
    }
  }
  record.extra.clear();
  for (const std::string& extra_name : schema_.extra) {
    record.extra.push_back(First(entry, extra_name));
  }
  builder.AddUser(record);
  return kind;
}

}  // namespace usersync::io
