#include "io/config/config.h"

#include <toml++/toml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/config/internal/logs.h"
#include "io/config/internal/mappings.h"
#include "io/config/internal/notify.h"
#include "io/config/internal/rule_roles.h"
#include "io/config/internal/rule_settings.h"
#include "io/config/internal/schedule.h"
#include "io/config/internal/scope.h"
#include "io/config/internal/source_entra.h"
#include "io/config/internal/target_auth.h"
#include "io/config/internal/target_products.h"
#include "io/config/internal/toml_section.h"
#include "io/config/transport_check.h"

namespace usersync::io {
namespace {

namespace fs = std::filesystem;
using internal::CheckEnvName;
using internal::CheckKeys;
using internal::CheckRuleRoles;
using internal::Ctx;
using internal::ResolveInput;
using internal::ResolveOutput;
using internal::RoleSetNames;
using internal::Section;
using internal::StartsWith;
using internal::TypeName;

// ---------------------------------------------------------------------------------------------
// Sections.

constexpr std::string_view kTopLevel[] = {"source",      "scope",    "target",  "matching",
                                          "deprovision", "rules",    "state",   "logs",
                                          "notify",      "mappings", "schedule"};

absl::Status ParseAttributes(const Ctx& ctx, const toml::table* table, DirectorySchema* schema) {
  if (table == nullptr) return absl::OkStatus();
  static constexpr std::string_view kKeys[] = {
      "id",           "user_name", "email",  "first_name", "last_name",
      "display_name", "language",  "member", "group_name", "extra"};
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "source.attributes", kKeys));
  const Section section(ctx, table, "source.attributes");
  struct Field {
    std::string_view key;
    std::string* out;
    bool required;
  };
  const Field fields[] = {
      {"id", &schema->id, true},
      {"user_name", &schema->user_name, false},
      {"email", &schema->email, true},
      {"first_name", &schema->first_name, true},
      {"last_name", &schema->last_name, true},
      {"display_name", &schema->display_name, false},
      {"language", &schema->language, false},
      {"member", &schema->member, true},
      {"group_name", &schema->group_name, true},
  };
  for (const Field& field : fields) {
    USERSYNC_RETURN_IF_ERROR(section.String(field.key, field.out));
    absl::StripAsciiWhitespace(field.out);
    if (field.required && field.out->empty()) {
      return section.ValueError(field.key, "must name a directory attribute (it is empty)");
    }
  }
  USERSYNC_RETURN_IF_ERROR(section.StringArray("extra", &schema->extra));
  for (std::string& attribute : schema->extra) {
    absl::StripAsciiWhitespace(&attribute);
    if (attribute.empty()) return section.ValueError("extra", "holds an empty attribute name");
  }
  return absl::OkStatus();
}

absl::Status ParseSourceKind(const Section& section, SourceKind* kind) {
  static constexpr std::string_view kKinds[] = {"ldap", "ldif", "entra"};
  std::string name(SourceKindName(*kind));
  USERSYNC_RETURN_IF_ERROR(section.Enum("kind", kKinds, &name));
  *kind = name == "ldif"    ? SourceKind::kLdif
          : name == "entra" ? SourceKind::kEntra
                            : SourceKind::kLdap;
  return absl::OkStatus();
}

// source.flavor, and the attribute defaults it switches (explicit keys read later still win).
absl::Status ParseFlavor(const Section& section, DirectorySchema* schema) {
  static constexpr std::string_view kFlavors[] = {"openldap", "ad"};
  std::string flavor = "openldap";
  USERSYNC_RETURN_IF_ERROR(section.Enum("flavor", kFlavors, &flavor));
  schema->flavor = flavor == "ad" ? DirectoryFlavor::kAd : DirectoryFlavor::kOpenLdap;
  if (schema->flavor == DirectoryFlavor::kAd) {  // Active Directory's names
    schema->id = "objectGUID";
    schema->user_name = "userPrincipalName";
    schema->user_filter = "(&(objectClass=user)(objectCategory=person))";
    schema->group_filter = "(objectClass=group)";
  }
  return absl::OkStatus();
}

// The location source.kind needs: an LDAP URL (with a TLS mode that fits it) or an LDIF path.
absl::Status CheckSourceLocation(const Ctx& ctx, const toml::table* table, const Section& section,
                                 const SourceConfig& source) {
  if (source.kind == SourceKind::kLdap) {
    if (source.url.empty()) {
      return ctx.Error(table,
                       "missing required key 'source.url' (the LDAP server, e.g. "
                       "\"ldaps://ldap.example.com\") for source.kind = \"ldap\"");
    }
    if (!StartsWith(source.url, "ldap://") && !StartsWith(source.url, "ldaps://") &&
        !StartsWith(source.url, "ldapi://")) {
      return section.ValueError("url", absl::StrCat("must start with ldap://, ldaps:// or "
                                                    "ldapi:// (got \"",
                                                    source.url, "\")"));
    }
    if (source.start_tls && StartsWith(source.url, "ldaps://")) {
      return section.ValueError("start_tls",
                                "cannot be used with an ldaps:// URL (that connection is TLS "
                                "already); use ldap:// with start_tls = true, or ldaps://");
    }
  } else if (source.kind == SourceKind::kLdif && source.path.empty()) {
    return ctx.Error(table,
                     "missing required key 'source.path' (the LDIF file) for source.kind = "
                     "\"ldif\"");
  }
  return absl::OkStatus();
}

absl::Status ParseSource(const Ctx& ctx, const toml::table* table, const std::string& base_dir,
                         SourceConfig* source) {
  static constexpr std::string_view kKeys[] = {"kind",
                                               "flavor",
                                               "url",
                                               "start_tls",
                                               "ca_file",
                                               "tls_verify",
                                               "bind_dn",
                                               "bind_password_env",
                                               "bind_password_file",
                                               "base_dn",
                                               "user_filter",
                                               "group_filter",
                                               "page_size",
                                               "connections",
                                               "network_timeout",
                                               "timeout",
                                               "path",
                                               "max_shrink_percent",
                                               "attributes",
                                               "allow_insecure"};
  std::vector<std::string_view> keys(std::begin(kKeys), std::end(kKeys));
  keys.insert(keys.end(), std::begin(internal::kEntraSourceKeys),
              std::end(internal::kEntraSourceKeys));
  if (table == nullptr) {
    return ctx.Error(nullptr,
                     "missing section [source]: it must give the directory's location "
                     "(source.url for kind \"ldap\", source.path for kind \"ldif\")");
  }
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "source", keys));
  const Section section(ctx, table, "source");

  USERSYNC_RETURN_IF_ERROR(ParseSourceKind(section, &source->kind));
  DirectorySchema& schema = source->schema;
  USERSYNC_RETURN_IF_ERROR(ParseFlavor(section, &schema));
  if (source->kind == SourceKind::kEntra) {
    internal::ApplyEntraSchemaDefaults(&schema);
    USERSYNC_RETURN_IF_ERROR(internal::ParseEntraSource(ctx, table, section, base_dir, source));
  }

  USERSYNC_RETURN_IF_ERROR(section.String("url", &source->url));
  USERSYNC_RETURN_IF_ERROR(
      CheckUrlPassword(section, source->url, "'bind_password_env' or 'bind_password_file'"));
  USERSYNC_RETURN_IF_ERROR(section.Bool("start_tls", &source->start_tls));
  USERSYNC_RETURN_IF_ERROR(section.String("ca_file", &source->ca_file));
  USERSYNC_RETURN_IF_ERROR(section.Bool("tls_verify", &source->tls_verify));
  USERSYNC_RETURN_IF_ERROR(section.String("bind_dn", &source->bind_dn));
  USERSYNC_RETURN_IF_ERROR(section.String("bind_password_env", &source->bind_password_env));
  USERSYNC_RETURN_IF_ERROR(CheckEnvName(section, "bind_password_env", source->bind_password_env));
  USERSYNC_RETURN_IF_ERROR(section.String("bind_password_file", &source->bind_password_file));
  USERSYNC_RETURN_IF_ERROR(section.String("base_dn", &source->base_dn));
  USERSYNC_RETURN_IF_ERROR(section.String("user_filter", &schema.user_filter));
  USERSYNC_RETURN_IF_ERROR(section.String("group_filter", &schema.group_filter));
  USERSYNC_RETURN_IF_ERROR(section.Int("page_size", &source->page_size));
  USERSYNC_RETURN_IF_ERROR(section.Int("connections", &source->connections));
  USERSYNC_RETURN_IF_ERROR(section.Duration("network_timeout", &source->network_timeout));
  USERSYNC_RETURN_IF_ERROR(section.Duration("timeout", &source->timeout));
  USERSYNC_RETURN_IF_ERROR(section.String("path", &source->path));
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* attributes, section.Table("attributes"));
  USERSYNC_RETURN_IF_ERROR(ParseAttributes(ctx, attributes, &schema));

  if (source->page_size < 1) {
    return section.ValueError("page_size",
                              absl::StrCat("must be at least 1 (got ", source->page_size, ")"));
  }
  if (source->connections < 1) {
    return section.ValueError("connections",
                              absl::StrCat("must be at least 1 (got ", source->connections, ")"));
  }
  if (source->network_timeout.count() <= 0) {
    return section.ValueError("network_timeout", "must be longer than 0");
  }
  if (source->timeout.count() <= 0) return section.ValueError("timeout", "must be longer than 0");
  USERSYNC_RETURN_IF_ERROR(section.Number("max_shrink_percent", &source->max_shrink_percent));
  if (!(source->max_shrink_percent >= 0 && source->max_shrink_percent <= 100)) {
    return section.ValueError("max_shrink_percent", absl::StrCat("must be between 0 and 100 (got ",
                                                                 source->max_shrink_percent, ")"));
  }
  if (!source->bind_password_env.empty() && !source->bind_password_file.empty()) {
    return section.ValueError("bind_password_file",
                              "cannot be set together with 'source.bind_password_env': "
                              "choose one place for the bind password");
  }

  USERSYNC_RETURN_IF_ERROR(CheckSourceLocation(ctx, table, section, *source));
  USERSYNC_RETURN_IF_ERROR(section.Bool("allow_insecure", &source->allow_insecure));
  USERSYNC_RETURN_IF_ERROR(CheckSourceTransport(section, *source));

  source->path = ResolveInput(base_dir, source->path);
  source->ca_file = ResolveInput(base_dir, source->ca_file);
  source->bind_password_file = ResolveInput(base_dir, source->bind_password_file);
  return absl::OkStatus();
}

absl::Status CheckTarget(const Ctx& ctx, const toml::table* table, const Section& section,
                         TargetConfig* target);

absl::Status ParseTarget(const Ctx& ctx, const toml::table* table, const std::string& base_dir,
                         TargetConfig* target) {
  static constexpr std::string_view kKeys[] = {
      "kind",           "url",          "account_key",        "token_env",
      "token_file",     "rate",         "burst",              "adaptive",
      "batch",          "concurrency",  "timeout",            "max_retries",
      "max_accounts",   "allow_insecure", "max_response_bytes", "max_retry_after",
      "retry_budget",   "auth",         "token_url",          "authorize_url",
      "redirect_uri",   "client_id",    "client_secret_env",  "client_secret_file",
      "refresh_token_file", "client_auth", "suppress_welcome", "products",
      "grant",          "scope"};
  if (table == nullptr) {
    return ctx.Error(nullptr,
                     "missing section [target]: it must give target.url (the target's base "
                     "URL)");
  }
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "target", kKeys));
  const Section section(ctx, table, "target");
  static constexpr std::string_view kKinds[] = {"scim", "goto"};
  std::string kind(TargetKindName(target->kind));
  USERSYNC_RETURN_IF_ERROR(section.Enum("kind", kKinds, &kind));
  target->kind = kind == "goto" ? TargetKind::kGoto : TargetKind::kScim;
  USERSYNC_RETURN_IF_ERROR(section.String("url", &target->url));
  USERSYNC_RETURN_IF_ERROR(CheckUrlPassword(section, target->url, "'token_env' or 'token_file'"));
  USERSYNC_RETURN_IF_ERROR(section.String("account_key", &target->account_key));
  USERSYNC_RETURN_IF_ERROR(section.String("token_env", &target->token_env));
  USERSYNC_RETURN_IF_ERROR(CheckEnvName(section, "token_env", target->token_env));
  USERSYNC_RETURN_IF_ERROR(section.String("token_file", &target->token_file));
  USERSYNC_RETURN_IF_ERROR(section.Number("rate", &target->rate));
  USERSYNC_RETURN_IF_ERROR(section.Number("burst", &target->burst));
  USERSYNC_RETURN_IF_ERROR(section.Bool("adaptive", &target->adaptive));
  USERSYNC_RETURN_IF_ERROR(section.Int("batch", &target->batch));
  USERSYNC_RETURN_IF_ERROR(section.Int("concurrency", &target->concurrency));
  USERSYNC_RETURN_IF_ERROR(section.Duration("timeout", &target->timeout));
  USERSYNC_RETURN_IF_ERROR(section.Int("max_retries", &target->max_retries));
  USERSYNC_RETURN_IF_ERROR(section.Int64("max_accounts", &target->max_accounts));
  USERSYNC_RETURN_IF_ERROR(section.Int64("max_response_bytes", &target->max_response_bytes));
  USERSYNC_RETURN_IF_ERROR(section.Duration("max_retry_after", &target->max_retry_after));
  USERSYNC_RETURN_IF_ERROR(section.Duration("retry_budget", &target->retry_budget));
  USERSYNC_ASSIGN_OR_RETURN(
      std::optional<bool> suppress_welcome,
      internal::ReadSuppressWelcome(section, target->kind == TargetKind::kGoto));
  target->suppress_welcome = suppress_welcome.value_or(false);
  USERSYNC_RETURN_IF_ERROR(internal::ReadTargetProducts(section, target));
  USERSYNC_RETURN_IF_ERROR(CheckTarget(ctx, table, section, target));
  USERSYNC_RETURN_IF_ERROR(section.Bool("allow_insecure", &target->allow_insecure));
  USERSYNC_RETURN_IF_ERROR(CheckTargetTransport(section, *target));
  target->token_file = ResolveInput(base_dir, target->token_file);
  USERSYNC_RETURN_IF_ERROR(internal::ParseTargetAuth(ctx, table, section, base_dir, target));
  return absl::OkStatus();
}

// The bounds on answers and on retry waits.
absl::Status CheckTargetLimits(const Section& section, const TargetConfig& target) {
  constexpr int64_t kMinResponse = 64 << 10;
  constexpr int64_t kMaxResponse = int64_t{1} << 30;
  if (target.max_response_bytes < kMinResponse || target.max_response_bytes > kMaxResponse) {
    return section.ValueError(
        "max_response_bytes",
        absl::StrCat("must be between 65536 (64 KiB) and 1073741824 (1 GiB) (got ",
                     target.max_response_bytes, "); the default 67108864 fits the largest page"));
  }
  if (target.max_retry_after.count() <= 0) {
    return section.ValueError("max_retry_after", "must be longer than 0");
  }
  if (target.retry_budget < target.max_retry_after) {
    // Blame the key the file sets (the other one is the default).
    return section.Has("retry_budget")
               ? section.ValueError("retry_budget",
                                    "must be at least target.max_retry_after (one full wait)")
               : section.ValueError("max_retry_after",
                                    "must not be longer than target.retry_budget (default 10m)");
  }
  return absl::OkStatus();
}

// The [target] values that must hold together; each refusal names its key and a hint.
absl::Status CheckTarget(const Ctx& ctx, const toml::table* table, const Section& section,
                         TargetConfig* target) {
  if (target->url.empty()) {
    return ctx.Error(table,
                     "missing required key 'target.url' (the target's base URL, e.g. "
                     "\"https://scim.example.com/scim/v2\")");
  }
  if (!StartsWith(target->url, "http://") && !StartsWith(target->url, "https://")) {
    return section.ValueError(
        "url", absl::StrCat("must start with http:// or https:// (got \"", target->url, "\")"));
  }
  if (target->kind == TargetKind::kGoto && target->account_key.empty()) {
    return ctx.Error(table,
                     "missing required key 'target.account_key' for target.kind = \"goto\" "
                     "(the account whose users are managed)");
  }
  if (!(target->rate > 0)) {
    return section.ValueError("rate", absl::StrCat("must be greater than 0 requests per second "
                                                   "(got ",
                                                   target->rate, ")"));
  }
  if (!(target->burst >= 1)) {
    return section.ValueError("burst",
                              absl::StrCat("must be at least 1 (got ", target->burst, ")"));
  }
  if (section.Has("batch") && target->batch < 1) {
    return section.ValueError("batch",
                              absl::StrCat("must be at least 1 (got ", target->batch, ")"));
  }
  if (target->kind == TargetKind::kGoto && target->batch > kGotoMaxBatch) {
    return section.ValueError("batch", absl::StrCat("GoTo takes at most ", kGotoMaxBatch,
                                                    " users per request (got ", target->batch,
                                                    "); leave it unset for the largest"));
  }
  if (target->concurrency < 1) {
    return section.ValueError("concurrency",
                              absl::StrCat("must be at least 1 (got ", target->concurrency, ")"));
  }
  if (target->timeout.count() <= 0) return section.ValueError("timeout", "must be longer than 0");
  if (target->max_retries < 0) {
    return section.ValueError("max_retries",
                              absl::StrCat("must be 0 or more (got ", target->max_retries, ")"));
  }
  if (target->max_accounts < 1) {
    return section.ValueError("max_accounts",
                              absl::StrCat("must be at least 1 (got ", target->max_accounts, ")"));
  }
  USERSYNC_RETURN_IF_ERROR(CheckTargetLimits(section, *target));
  if (!target->token_file.empty()) {
    if (section.Has("token_env") && !target->token_env.empty()) {
      return section.ValueError("token_file",
                                "cannot be set together with 'target.token_env': choose one place "
                                "for the token");
    }
    target->token_env.clear();  // the file replaces the default variable
  }
  return absl::OkStatus();
}

absl::Status ParseDeprovision(const Ctx& ctx, const toml::table* table,
                              core::DeprovisionPolicy* policy) {
  if (table == nullptr) return absl::OkStatus();
  static constexpr std::string_view kKeys[] = {"action", "max_changes", "max_changes_percent"};
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "deprovision", kKeys));
  const Section section(ctx, table, "deprovision");
  static constexpr std::string_view kActions[] = {"deactivate", "delete", "none"};
  std::string action = "deactivate";
  USERSYNC_RETURN_IF_ERROR(section.Enum("action", kActions, &action));
  if (action == "deactivate") {
    policy->action = core::DeprovisionAction::kDeactivate;
  } else if (action == "delete") {
    policy->action = core::DeprovisionAction::kDelete;
  } else {
    policy->action = core::DeprovisionAction::kNone;
  }
  USERSYNC_RETURN_IF_ERROR(section.Int64("max_changes", &policy->max_changes));
  if (policy->max_changes < 0) {
    return section.ValueError("max_changes",
                              absl::StrCat("must be 0 or more (got ", policy->max_changes, ")"));
  }
  USERSYNC_RETURN_IF_ERROR(section.Number("max_changes_percent", &policy->max_changes_percent));
  if (!(policy->max_changes_percent >= 0 && policy->max_changes_percent <= 100)) {
    return section.ValueError(
        "max_changes_percent",
        absl::StrCat("must be between 0 and 100 (got ", policy->max_changes_percent, ")"));
  }
  return absl::OkStatus();
}

absl::Status ParseRule(const Ctx& ctx, const toml::table& table, size_t rule_idx, bool goto_target,
                       core::Rule* rule) {
  static constexpr std::string_view kKeys[] = {"name",
                                               "priority",
                                               "group",
                                               "products",
                                               "admin",
                                               "privileges",
                                               "managed_groups",
                                               "role_set",
                                               "language",
                                               "user_group",
                                               "welcome_template",
                                               "suppress_welcome",
                                               "settings_template",
                                               "device_groups"};
  const std::string prefix = absl::StrCat("rules[", rule_idx, "]");
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, table, prefix, kKeys));
  const Section section(ctx, &table, prefix);
  USERSYNC_RETURN_IF_ERROR(section.String("name", &rule->name));
  absl::StripAsciiWhitespace(&rule->name);
  rule->priority = internal::ImplicitPriority(rule_idx);  // no `priority`: its position in the file
  USERSYNC_RETURN_IF_ERROR(section.Int("priority", &rule->priority));
  USERSYNC_RETURN_IF_ERROR(section.String("group", &rule->group));
  absl::StripAsciiWhitespace(&rule->group);
  if (rule->group.empty()) {
    return ctx.Error(&table, absl::StrCat(prefix, rule->name.empty() ? "" : " '" + rule->name + "'",
                                          ": missing required key 'group' (the DN of the group "
                                          "whose members the rule applies to)"));
  }
  if (rule->name.empty()) rule->name = rule->group;
  if (rule->priority < 1) {
    return section.ValueError(
        "priority", absl::StrCat("must be 1 or more; 1 is the highest (got ", rule->priority, ")"));
  }
  USERSYNC_RETURN_IF_ERROR(section.StringArray("products", &rule->products));
  for (std::string& product : rule->products) {
    absl::StripAsciiWhitespace(&product);
    if (product.empty()) return section.ValueError("products", "holds an empty product name");
  }
  static constexpr std::string_view kAdmins[] = {"none", "full", "manager"};
  std::string admin = "none";
  USERSYNC_RETURN_IF_ERROR(section.Enum("admin", kAdmins, &admin));
  rule->admin = admin == "full"      ? core::AdminRole::kFull
                : admin == "manager" ? core::AdminRole::kManager
                                     : core::AdminRole::kNone;
  USERSYNC_RETURN_IF_ERROR(section.StringArray("privileges", &rule->privileges));
  USERSYNC_RETURN_IF_ERROR(section.StringArray("managed_groups", &rule->managed_groups));
  USERSYNC_RETURN_IF_ERROR(section.StringArray("device_groups", &rule->device_groups));
  USERSYNC_RETURN_IF_ERROR(internal::CheckRuleNameLists(section, rule));
  if (rule->admin != core::AdminRole::kManager) {
    if (!rule->privileges.empty()) {
      return section.ValueError("privileges", "applies only to admin = \"manager\"");
    }
    if (!rule->managed_groups.empty()) {
      return section.ValueError("managed_groups", "applies only to admin = \"manager\"");
    }
  }
  USERSYNC_RETURN_IF_ERROR(section.String("role_set", &rule->role_set));
  absl::StripAsciiWhitespace(&rule->role_set);
  USERSYNC_RETURN_IF_ERROR(CheckRuleRoles(section, goto_target, rule));
  USERSYNC_RETURN_IF_ERROR(section.String("language", &rule->language));
  USERSYNC_RETURN_IF_ERROR(section.String("user_group", &rule->user_group));
  USERSYNC_RETURN_IF_ERROR(section.String("welcome_template", &rule->welcome_template));
  USERSYNC_ASSIGN_OR_RETURN(rule->suppress_welcome,
                            internal::ReadSuppressWelcome(section, goto_target));
  USERSYNC_RETURN_IF_ERROR(section.String("settings_template", &rule->settings_template));
  return absl::OkStatus();
}

absl::Status ParseRules(const Ctx& ctx, const toml::node* node, bool goto_target,
                        std::vector<core::Rule>* rules) {
  if (node == nullptr) return absl::OkStatus();
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    return ctx.Error(node, absl::StrCat("'rules' must be an array of tables ([[rules]]), not ",
                                        Sv(TypeName(*node))));
  }
  absl::flat_hash_set<std::string> names;
  std::vector<internal::RuleSource> sources;
  for (size_t rule_idx = 0; rule_idx < array->size(); ++rule_idx) {
    const toml::node& item = *array->get(rule_idx);
    const toml::table* table = item.as_table();
    if (table == nullptr) {
      return ctx.Error(
          &item, absl::StrCat("rules[", rule_idx, "] must be a table, not ", Sv(TypeName(item))));
    }
    core::Rule rule;
    USERSYNC_RETURN_IF_ERROR(ParseRule(ctx, *table, rule_idx, goto_target, &rule));
    if (!names.insert(rule.name).second) {
      return ctx.Error(
          table, absl::StrCat("duplicate rule name '", rule.name, "': rule names must be unique"));
    }
    rules->push_back(std::move(rule));
    sources.push_back({table, table->get("priority")});
  }
  return internal::CheckRulePriorities(ctx, *rules, sources);
}

absl::Status ParsePathSection(const Ctx& ctx, const toml::table* table, std::string_view name,
                              std::string_view key, std::string* out) {
  if (table == nullptr) return absl::OkStatus();
  const std::string_view keys[] = {key};
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, name, keys));
  const Section section(ctx, table, std::string(name));
  USERSYNC_RETURN_IF_ERROR(section.String(key, out));
  if (out->empty()) return section.ValueError(key, "must not be empty");
  return absl::OkStatus();
}

absl::StatusOr<const toml::table*> TopTable(const Ctx& ctx, const toml::table& root,
                                            std::string_view name) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return nullptr;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    return ctx.Error(node, absl::StrCat("'", Sv(name), "' must be a section ([", Sv(name),
                                        "]), not ", Sv(TypeName(*node))));
  }
  return table;
}

absl::StatusOr<Config> ParseTable(const Ctx& ctx, const toml::table& root,
                                  const std::string& base_dir) {
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, root, "", kTopLevel));
  Config config;
  config.path = ctx.origin();
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* source, TopTable(ctx, root, "source"));
  USERSYNC_RETURN_IF_ERROR(ParseSource(ctx, source, base_dir, &config.source));
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* scope, TopTable(ctx, root, "scope"));
  USERSYNC_RETURN_IF_ERROR(internal::ParseScope(ctx, scope, &config));
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* target, TopTable(ctx, root, "target"));
  USERSYNC_RETURN_IF_ERROR(ParseTarget(ctx, target, base_dir, &config.target));
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* matching, TopTable(ctx, root, "matching"));
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* deprovision, TopTable(ctx, root, "deprovision"));
  USERSYNC_RETURN_IF_ERROR(ParseDeprovision(ctx, deprovision, &config.deprovision));
  if (config.target.kind == TargetKind::kGoto &&
      config.deprovision.action == core::DeprovisionAction::kDelete) {
    // GoTo suspends; it offers no delete. Refuse now rather than fail every departed user later.
    return absl::InvalidArgumentError(
        absl::StrCat(ctx.origin(),
                     ": deprovision.action = \"delete\" is not possible with target.kind = "
                     "\"goto\" (GoTo suspends accounts): use \"deactivate\" or \"none\""));
  }
  USERSYNC_RETURN_IF_ERROR(
      ParseRules(ctx, root.get("rules"), config.target.kind == TargetKind::kGoto, &config.rules));
  config.target.role_sets = RoleSetNames(config.rules);
  USERSYNC_RETURN_IF_ERROR(
      internal::CheckRuleProducts(ctx, root.get("rules"), config.rules, config.target.products));
  USERSYNC_RETURN_IF_ERROR(internal::ParseMappings(
      ctx, root.get("mappings"), root.at_path("source.attributes.extra").node(),
      config.target.kind == TargetKind::kGoto, &config.source.schema, &config.mappings,
      &config.warnings));
  USERSYNC_RETURN_IF_ERROR(internal::ParseMatching(ctx, matching, &config));
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* state, TopTable(ctx, root, "state"));
  USERSYNC_RETURN_IF_ERROR(ParsePathSection(ctx, state, "state", "path", &config.state_path));
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* logs, TopTable(ctx, root, "logs"));
  USERSYNC_RETURN_IF_ERROR(internal::ParseLogsSection(ctx, logs, &config));
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* schedule, TopTable(ctx, root, "schedule"));
  USERSYNC_RETURN_IF_ERROR(internal::ParseScheduleSection(ctx, schedule, &config));
  config.state_path = ResolveOutput(base_dir, config.state_path);
  config.logs_dir = ResolveOutput(base_dir, config.logs_dir);
  USERSYNC_ASSIGN_OR_RETURN(const toml::table* notify, TopTable(ctx, root, "notify"));
  USERSYNC_RETURN_IF_ERROR(internal::ParseNotify(ctx, notify, base_dir, &config.notify));
  return config;
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kLdif:
      return "ldif";
    case SourceKind::kEntra:
      return "entra";
    case SourceKind::kLdap:
      break;
  }
  return "ldap";
}

std::string_view TargetKindName(TargetKind kind) {
  switch (kind) {
    case TargetKind::kGoto:
      return "goto";
    case TargetKind::kScim:
      break;
  }
  return "scim";
}

absl::StatusOr<Config> ParseConfig(std::string_view toml_text, const std::string& origin,
                                   const std::string& base_dir) {
  const Ctx ctx(origin);
  toml::table root;
  // toml++ (built with exceptions on Debian) reports syntax errors by throwing; convert here.
  try {
    root = toml::parse(toml_text, std::string_view(origin));
  } catch (const toml::parse_error& error) {
    const toml::source_position& pos = error.source().begin;
    return absl::InvalidArgumentError(absl::StrCat(
        origin, ":", pos.line, ":", pos.column, ": TOML syntax error: ", Sv(error.description())));
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat(origin, ": reading TOML failed: ", error.what()));
  }
  return ParseTable(ctx, root, base_dir);
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("configuration file '", path, "' cannot be opened: ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::FailedPreconditionError(
        absl::StrCat("configuration file '", path, "' could not be read: ", std::strerror(errno)));
  }
  const std::string base_dir = fs::path(path).parent_path().string();
  return ParseConfig(text.str(), path, base_dir);
}

core::PlanConfig ToPlanConfig(const Config& config) {
  core::PlanConfig plan;
  plan.scope_groups = config.scope_groups;
  plan.scope_users = config.scope_users;
  plan.scope_filter = config.scope_filter;
  plan.require_rule = config.require_rule;
  plan.validated_domains = config.validated_domains;
  plan.rules = config.rules;  // SCIM keeps privileges in usersync's extension (README "Rules")
  plan.match_order = config.match_order;
  plan.match_attributes = config.match_attributes;
  plan.deprovision = config.deprovision;
  plan.target_has_display_name = TargetHoldsDisplayName(config.target.kind);
  plan.suppress_welcome = config.target.suppress_welcome;
  plan.mappings = config.mappings;
  return plan;
}

absl::StatusOr<std::string> ReadSecret(const std::string& env_name, const std::string& file_path,
                                       std::string_view what) {
  if (!env_name.empty()) {
    const char* value = std::getenv(env_name.c_str());
    if (value == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("the ", Sv(what),
                                                     " is read from environment "
                                                     "variable ",
                                                     env_name, ", which is not set"));
    }
    if (*value == '\0') {
      return absl::InvalidArgumentError(absl::StrCat("the ", Sv(what),
                                                     " is read from environment "
                                                     "variable ",
                                                     env_name, ", which is empty"));
    }
    return std::string(value);
  }
  if (file_path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no ", Sv(what),
                     " configured: set an environment variable (*_env) or a "
                     "file (*_file)"));
  }
  std::ifstream in(file_path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("the ", Sv(what), " file '", file_path,
                                                   "' cannot be opened: ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", Sv(what), " file '", file_path, "' could not be read"));
  }
  std::string secret = std::move(text).str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", Sv(what), " file '", file_path, "' is empty"));
  }
  return secret;
}

}  // namespace usersync::io
