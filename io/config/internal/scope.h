// The [scope] section (README "Scope"): groups, users, filter, require_rule, validated_domains.
// Used by io/config/config.cc's ParseTable after [source] is read; not a public API.
//
// - groups: DNs of scoped groups (nested members count). users: DNs or directory ids assigned
//   directly. Both: non-empty strings, trimmed.
// - filter: an RFC 4515 filter (core/ldap_filter.h) on users, parsed here and refused with
//   file:line:col when it does not parse. It is evaluated on the directory snapshot (never sent
//   to an LDAP server), so the attributes it names must be read by the source: those that are
//   not a fixed column (source.attributes id, user_name, email, first_name, last_name,
//   display_name, language) are appended to source.attributes.extra. The snapshot keeps the
//   first value of each attribute, so objectClass and memberOf (multi-valued) are refused with
//   a hint: select by object class in source.user_filter, by group in scope.groups.
// - require_rule: a boolean.
// - validated_domains: lower-cased, a leading '@' dropped, each once.
//
// Errors are kInvalidArgument "<file>:<line>:<col>: key 'scope.X' ...". Thread-compatible.
#pragma once

#include "absl/status/status.h"
#include "io/config/config.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// Reads [scope] (`table` may be null: the defaults) into `config`. REQUIRES: config->source was
// read (the filter's attributes resolve against its schema, and extend its extra list).
absl::Status ParseScope(const Ctx& ctx, const toml::table* table, Config* config);

}  // namespace usersync::io::internal
