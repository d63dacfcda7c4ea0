#include "io/ldap/ldap_usn.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/directory/entry_mapper.h"
#include "io/ldap/ldap_connection.h"

namespace usersync::io::ldap_internal {
namespace {

constexpr std::string_view kUsnPrefix = "usn:";

}  // namespace

std::string FormatUsnCursor(const DcState& state) {
  return absl::StrCat(Sv(kUsnPrefix), state.usn, ":", absl::Base64Escape(state.invocation_id), ":",
                      state.dc);
}

bool IsUsnCursor(std::string_view cursor) { return cursor.starts_with(kUsnPrefix); }

absl::StatusOr<DcState> ParseUsnCursor(std::string_view cursor) {
  const absl::Status refused = absl::OutOfRangeError(
      absl::StrCat("the stored cursor \"", Sv(cursor), "\" is no uSNChanged cursor"));
  if (!IsUsnCursor(cursor)) return refused;
  const std::string_view body = cursor.substr(kUsnPrefix.size());
  const size_t first = body.find(':');
  if (first == std::string_view::npos) return refused;
  const size_t second = body.find(':', first + 1);
  if (second == std::string_view::npos) return refused;
  DcState state;
  if (!absl::SimpleAtoi(Sv(body.substr(0, first)), &state.usn) || state.usn < 0 ||
      !absl::Base64Unescape(Sv(body.substr(first + 1, second - first - 1)), &state.invocation_id)) {
    return refused;
  }
  state.dc = std::string(body.substr(second + 1));
  if (state.dc.empty()) return refused;
  return state;
}

absl::StatusOr<DcState> ReadDcState(LDAP* ld, const LdapSourceOptions& options) {
  USERSYNC_ASSIGN_OR_RETURN(
      const auto root, ReadEntryValues(ld, options, "", {"highestCommittedUSN", "dsServiceName"}));
  DcState state;
  bool have_usn = false;
  for (const auto& [name, value] : root) {
    if (core::EqualsIgnoreCase(name, "highestCommittedUSN")) {
      have_usn = absl::SimpleAtoi(value, &state.usn);
    } else if (core::EqualsIgnoreCase(name, "dsServiceName")) {
      state.dc = value;
    }
  }
  if (!have_usn || state.dc.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the rootDSE of ", options.url,
        " shows no highestCommittedUSN or dsServiceName: is it Active Directory (source.flavor)?"));
  }
  // The bind DN may not be allowed to read the NTDS Settings object: then the DC is known by
  // its name only (a restore from backup is not detected).
  const absl::StatusOr<std::vector<std::pair<std::string, std::string>>> settings =
      ReadEntryValues(ld, options, state.dc, {"invocationId"});
  if (settings.ok()) {
    for (const auto& [name, value] : *settings) {
      if (core::EqualsIgnoreCase(name, "invocationId")) state.invocation_id = value;
    }
  } else if (!absl::IsPermissionDenied(settings.status()) && !absl::IsNotFound(settings.status())) {
    return settings.status();
  }
  return state;
}

absl::StatusOr<std::vector<Tombstone>> ReadTombstones(LDAP* ld, const LdapSourceOptions& options,
                                                      int64_t since, size_t max) {
  USERSYNC_ASSIGN_OR_RETURN(const auto root,
                            ReadEntryValues(ld, options, "", {"defaultNamingContext"}));
  std::string naming_context;
  for (const auto& [name, value] : root) {
    if (core::EqualsIgnoreCase(name, "defaultNamingContext")) naming_context = value;
  }
  if (naming_context.empty()) {
    return absl::NotFoundError(
        absl::StrCat("the rootDSE of ", options.url, " shows no defaultNamingContext"));
  }
  const std::string base = absl::StrCat("CN=Deleted Objects,", naming_context);
  const std::string filter = absl::StrCat("(&(isDeleted=TRUE)(uSNChanged>=", since, "))");
  char guid_attribute[] = "objectGUID";
  char class_attribute[] = "objectClass";
  char* attrs[] = {guid_attribute, class_attribute, nullptr};
  LDAPControl show_deleted;
  show_deleted.ldctl_oid = const_cast<char*>(kShowDeletedOid);
  show_deleted.ldctl_value = berval{0, nullptr};
  show_deleted.ldctl_iscritical = 1;
  LDAPControl* controls[] = {&show_deleted, nullptr};
  timeval timeout = ToTimeval(options.timeout);
  LDAPMessage* raw = nullptr;
  const int rc = ldap_search_ext_s(ld, base.c_str(), LDAP_SCOPE_ONELEVEL, filter.c_str(), attrs, 0,
                                   controls, nullptr, &timeout, static_cast<int>(max) + 1, &raw);
  std::unique_ptr<LDAPMessage, decltype(&ldap_msgfree)> result(raw, &ldap_msgfree);
  if (rc == LDAP_SIZELIMIT_EXCEEDED) {
    return absl::OutOfRangeError(absl::StrCat("more than ", max, " objects deleted on ",
                                              options.url, " since the last cycle"));
  }
  if (rc != LDAP_SUCCESS) {
    return LdapError(rc, absl::StrCat("reading the tombstones in ", base, " at ", options.url),
                     Diagnostic(ld));
  }
  std::vector<Tombstone> out;
  for (LDAPMessage* entry = ldap_first_entry(ld, result.get()); entry != nullptr;
       entry = ldap_next_entry(ld, entry)) {
    Tombstone tombstone;
    berval** guids = ldap_get_values_len(ld, entry, guid_attribute);
    if (guids != nullptr && guids[0] != nullptr && guids[0]->bv_len == 16) {
      tombstone.guid = GuidString(ToView(*guids[0]));
    }
    if (guids != nullptr) ldap_value_free_len(guids);
    berval** classes = ldap_get_values_len(ld, entry, class_attribute);
    for (size_t idx = 0; classes != nullptr && classes[idx] != nullptr; ++idx) {
      if (core::EqualsIgnoreCase(ToView(*classes[idx]), "group")) tombstone.group = true;
    }
    if (classes != nullptr) ldap_value_free_len(classes);
    if (!tombstone.guid.empty()) out.push_back(std::move(tombstone));
  }
  return out;
}

}  // namespace usersync::io::ldap_internal
