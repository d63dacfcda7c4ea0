#include "io/config/internal/scope.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/ldap_filter.h"
#include "core/scope.h"
#include "core/status_macros.h"
#include "core/str.h"

namespace usersync::io::internal {
namespace {

// scope.groups or scope.users: trimmed, none empty.
absl::Status ReadNames(const Section& section, std::string_view key, std::string_view what,
                       std::vector<std::string>* out) {
  USERSYNC_RETURN_IF_ERROR(section.StringArray(key, out));
  for (std::string& name : *out) {
    absl::StripAsciiWhitespace(&name);
    if (name.empty()) return section.ValueError(key, absl::StrCat("holds an empty ", Sv(what)));
  }
  return absl::OkStatus();
}

// Multi-valued attributes a filter on the snapshot (first value only) would get wrong, and
// where to select by them instead.
struct MultiValued {
  std::string_view attribute;
  std::string_view instead;
};
constexpr MultiValued kMultiValued[] = {
    {"objectClass", "select users by object class in source.user_filter"},
    {"memberOf", "select users by group in scope.groups (nested members count)"},
};

// scope.filter: parsed, its attributes checked, and those no fixed column holds added to the
// source's extra attributes (each once, ASCII case-insensitively).
absl::Status ReadFilter(const Section& section, Config* config) {
  std::string text;
  USERSYNC_RETURN_IF_ERROR(section.String("filter", &text));
  absl::StripAsciiWhitespace(&text);
  if (text.empty()) return absl::OkStatus();
  absl::StatusOr<core::LdapFilter> parsed = core::ParseLdapFilter(text);
  if (!parsed.ok()) {
    return section.ValueError(
        "filter", absl::StrCat("is not an RFC 4515 filter: ", parsed.status().message()));
  }
  DirectorySchema& schema = config->source.schema;
  core::ScopeFilter filter;
  filter.columns = {schema.id,        schema.user_name,    schema.email,   schema.first_name,
                    schema.last_name, schema.display_name, schema.language};
  for (const std::string& attribute : core::FilterAttributes(*parsed)) {
    for (const MultiValued& multi : kMultiValued) {
      if (core::EqualsIgnoreCase(attribute, multi.attribute)) {
        return section.ValueError(
            "filter", absl::StrCat("names ", attribute,
                                   ", a multi-valued attribute: the filter is evaluated on the "
                                   "directory snapshot, which keeps one value of each attribute; ",
                                   Sv(multi.instead)));
      }
    }
    bool read = filter.columns.Holds(attribute);
    for (const std::string& extra : schema.extra) {
      read = read || core::EqualsIgnoreCase(extra, attribute);
    }
    if (!read) schema.extra.push_back(attribute);
  }
  filter.text = std::move(text);
  filter.filter = *std::move(parsed);
  config->scope_filter = std::move(filter);
  return absl::OkStatus();
}

absl::Status ReadDomains(const Section& section, Config* config) {
  std::vector<std::string> domains;
  USERSYNC_RETURN_IF_ERROR(section.StringArray("validated_domains", &domains));
  config->validated_domains.clear();
  absl::flat_hash_set<std::string> seen;
  for (std::string& domain : domains) {
    absl::StripAsciiWhitespace(&domain);
    absl::AsciiStrToLower(&domain);
    if (!domain.empty() && domain[0] == '@') domain.erase(0, 1);
    if (domain.empty()) return section.ValueError("validated_domains", "holds an empty domain");
    if (domain.find_first_of(" @/") != std::string::npos) {
      return section.ValueError("validated_domains",
                                absl::StrCat("holds \"", domain, "\", which is not a domain"));
    }
    if (seen.insert(domain).second) config->validated_domains.push_back(std::move(domain));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseScope(const Ctx& ctx, const toml::table* table, Config* config) {
  if (table == nullptr) return absl::OkStatus();
  static constexpr std::string_view kKeys[] = {"groups", "users", "filter", "require_rule",
                                               "validated_domains"};
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "scope", kKeys));
  const Section section(ctx, table, "scope");
  USERSYNC_RETURN_IF_ERROR(ReadNames(section, "groups", "group DN", &config->scope_groups));
  USERSYNC_RETURN_IF_ERROR(
      ReadNames(section, "users", "user (a DN or a directory id)", &config->scope_users));
  USERSYNC_RETURN_IF_ERROR(ReadFilter(section, config));
  USERSYNC_RETURN_IF_ERROR(section.Bool("require_rule", &config->require_rule));
  return ReadDomains(section, config);
}

}  // namespace usersync::io::internal
