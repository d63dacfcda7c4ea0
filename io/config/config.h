// The configuration file (TOML), DESIGN.md "Configuration". LoadConfig validates every key and
// names the file, the key and the reason on error (kInvalidArgument). Unknown keys are errors:
// a typo must not silently fall back to a default. A missing key takes the default shown in
// DESIGN.md. Secrets are never read from the file: only the names of environment variables or
// files that hold them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/plan.h"
#include "core/rules.h"
#include "io/client_auth.h"
#include "io/config/notify_config.h"
#include "io/directory/directory_source.h"

namespace usersync::io {

// Which directory source reads the users (source.kind), parsed when the configuration loads.
enum class SourceKind { kLdap, kLdif, kEntra };
// Which target dialect the driver speaks (target.kind).
enum class TargetKind { kScim, kGoto };

// "ldap", "ldif" / "scim", "goto": the configuration's spelling.
std::string_view SourceKindName(SourceKind kind);
std::string_view TargetKindName(TargetKind kind);

// source.kind = "entra": Microsoft Graph with the client credentials grant (the keys and their
// defaults: io/config/internal/source_entra.h; the wire: io/entra/GRAPH_SHAPES.md).
struct EntraConfig {
  std::string graph_url = "https://graph.microsoft.com";
  std::string authority = "https://login.microsoftonline.com";
  std::string tenant_id;
  std::string client_id;
  std::string client_secret_env = "USERSYNC_ENTRA_CLIENT_SECRET";
  std::string client_secret_file;  // replaces client_secret_env when set (resolved)
  std::string scope;               // default {graph_url}/.default
  std::string service_principal_id;
  double rate = 20;
  double burst = 20;
};

// {authority}/{tenant_id}/oauth2/v2.0/token
std::string EntraTokenUrl(const EntraConfig& entra);

struct SourceConfig {
  SourceKind kind = SourceKind::kLdap;
  EntraConfig entra;  // kind "entra" only
  std::string url;
  bool start_tls = false;
  std::string ca_file;
  bool tls_verify = true;
  std::string bind_dn;
  std::string bind_password_env;
  std::string bind_password_file;
  std::string base_dn;
  int page_size = 1000;
  // 1, not DESIGN.md's example 4: measured on a 2-core box, extra partitions cost slapd more
  // than they gain (bench/RESULTS.md, issue 3); set it higher for a domain controller with
  // cores to spare and an indexed naming attribute.
  int connections = 1;
  std::chrono::milliseconds network_timeout{10'000};
  std::chrono::milliseconds timeout{120'000};
  std::string path;  // kind = "ldif": resolved (see LoadConfig)
  // The shrink guard (core::PlanConfig::max_shrink_percent): users in scope may fall by this
  // percent since the last successful run before deprovisioning is held. 0-100.
  double max_shrink_percent = 20;
  DirectorySchema schema;
  // ldap:// without StartTLS to a host that is not loopback, with a bind_dn: allowed (with a
  // warning) only when true (io/config/transport_check.h).
  bool allow_insecure = false;
};

// How the target driver authenticates (target.auth).
enum class TargetAuth { kBearer, kOAuth2 };

// target.auth = "oauth2": the refresh-token grant (io/http/oauth2_client.h). Secrets stay out of
// the file: the client secret comes from an environment variable or a file, the refresh token
// from refresh_token_file (written by `usersync authorize`, rewritten on rotation).
struct OAuth2Config {
  std::string token_url;      // required
  std::string authorize_url;  // required by `usersync authorize` only
  std::string redirect_uri;   // optional; sent in both the authorization URL and the exchange
  std::string client_id;      // required
  std::string client_secret_env = "USERSYNC_CLIENT_SECRET";
  std::string client_secret_file;  // replaces client_secret_env when set
  std::string refresh_token_file;  // required with the refresh-token grant, resolved
  // target.grant: "refresh_token" (default; `usersync authorize` first) or "client_credentials"
  // (RFC 6749 §4.4: the client's own credentials, no refresh token, no authorize step).
  bool client_credentials = false;
  std::string scope;  // target.scope: sent with the client credentials grant when set
  // How id and secret go into the Basic header (target.client_auth). "basic" (raw, GoTo's guide)
  // refuses a client id holding ':' at load: the server would split the id there.
  ClientAuth client_auth = ClientAuth::kBasic;
};

// GoTo takes 1 to 1,000 users per batch create (tools/target/GOTO_API_RESEARCH.md).
inline constexpr int kGotoMaxBatch = 1000;

struct TargetConfig {
  TargetKind kind = TargetKind::kScim;
  TargetAuth auth = TargetAuth::kBearer;
  OAuth2Config oauth2;  // read only when auth is kOAuth2
  std::string url;
  std::string account_key;
  // goto: the role sets (custom roles) the rules name, sorted, each once; filled at load from
  // [[rules]] role_set, for the driver to check against the account's.
  std::vector<std::string> role_sets;
  // goto only: creates of users whose rule does not say otherwise send no welcome email
  // ("suppressEmail": true); refused for a SCIM target (nothing to suppress).
  bool suppress_welcome = false;
  // scim only: the products the SCIM server offers (target.products, e.g. ["G2M", "G2W", "G2T",
  // "OPENVOICE"]): a rule naming another is refused at load. Empty (the default): any product
  // is accepted, as a SCIM server has no /licenses to check against. Refused for a goto target,
  // whose products come from the account's licenses (checked before each plan and by `check`).
  std::vector<std::string> products;
  std::string token_env = "USERSYNC_TARGET_TOKEN";
  std::string token_file;
  double rate = 10;
  double burst = 10;
  bool adaptive = true;
  // Users per batch request (GoTo's batch create, SCIM /Bulk). 0 (not set): the largest the
  // target accepts: GoTo 1,000 (kGotoMaxBatch); SCIM the server's /Bulk maxOperations, at most
  // 1,000. GoTo takes 1 to 1,000 (more is refused at load).
  int batch = 0;
  int concurrency = 16;
  std::chrono::milliseconds timeout{30'000};
  int max_retries = 6;
  // A listing that claims more accounts than this is refused (exit 4) before it is read.
  int64_t max_accounts = 50'000'000;
  // http:// to a host that is not loopback, with a token: allowed (with a warning) only when
  // true (io/config/transport_check.h).
  bool allow_insecure = false;
  // An answer body larger than this is refused (exit 4); at least 64 KiB, at most 1 GiB.
  int64_t max_response_bytes = 64 << 20;
  // A longer Retry-After is cut to this; the delays of one request's retries add up to at most
  // retry_budget (>= max_retry_after).
  std::chrono::milliseconds max_retry_after{60'000};
  std::chrono::milliseconds retry_budget{600'000};
};

// [logs] rotation (io/config/internal/logs.h, io/report/log_rotation.h).
struct LogsConfig {
  int64_t max_size_bytes = 64 << 20;  // 0 = never rotate audit.jsonl / errors.log
  int keep = 5;                       // rotated files kept per log
  int keep_days = 90;                 // status-DAY.log files kept; 0 = forever
};

struct Config {
  std::string path;  // the file this was loaded from
  SourceConfig source;
  // [scope] (io/config/internal/scope.h): a user is in scope when a scoped group holds it, it is
  // named in scope_users (DN or directory id) or it matches scope_filter (parsed at load; its
  // attributes are added to source.attributes.extra so the source reads them); with none of
  // the three, every user is. require_rule: a user no rule covers is out of scope.
  std::vector<std::string> scope_groups;
  std::vector<std::string> scope_users;
  std::optional<core::ScopeFilter> scope_filter;
  bool require_rule = false;
  std::vector<std::string> validated_domains;  // lower-cased
  TargetConfig target;
  std::vector<core::MatchMethod> match_order = {
      core::MatchMethod::kLink, core::MatchMethod::kManual, core::MatchMethod::kEmail};
  // The attribute of each kAttribute entry of match_order, in order.
  std::vector<core::MatchAttribute> match_attributes;
  core::DeprovisionPolicy deprovision;
  std::vector<core::Rule> rules;
  // [[mappings]], in file order (io/config/internal/mappings.h).
  std::vector<core::AttributeMapping> mappings;
  // What loads but deserves the administrator's eye ("FILE:LINE:COL: warning: ..."): an extra
  // attribute no mapping reads. Printed on stderr by the commands and kept in the plan.
  std::vector<std::string> warnings;
  std::string state_path = "usersync.db";  // resolved
  std::string logs_dir = "logs";           // resolved
  NotifyConfig notify;                     // [notify] (io/config/internal/notify.h)
  LogsConfig logs;                         // [logs] rotation (io/config/internal/logs.h)
  // [schedule] full_every: a delta-capable run plans in full when this long has passed since
  // the last full cycle (io/config/internal/schedule.h).
  std::chrono::milliseconds full_every{std::chrono::hours(24)};
};

// Loads and validates `path`. Relative paths inside (source.path, state.path, logs.dir,
// source.ca_file, bind_password_file, token_file) are resolved against the config file's
// directory; if no such file exists there but it does relative to the current directory, the
// latter is used (so `path = "fixtures/demo.ldif"` works from the project root too). state.path
// and logs.dir, which may not exist yet, always resolve against the config file's directory.
// Resolved paths are absolute; ":memory:" stays as it is.
//
// Durations (timeouts) are strings with units ms, s, m, h, compounds allowed ("500ms", "30s",
// "1m30s", "1.5s"), or a bare TOML integer of seconds. [source] flavor = "ad" switches the
// defaults of id, user_name, user_filter and group_filter to Active Directory's names; keys
// given explicitly still win. Setting target.token_file clears the default token_env.
//
// Errors: kNotFound (the file cannot be opened); kInvalidArgument for everything in it, as
// "<path>:<line>:<column>: <what is wrong>" naming the key (TOML syntax errors, unknown sections
// or keys with a did-you-mean, a secret written into the file, wrong types, values out of range
// or not in the allowed set, a missing source location or target URL, duplicate rule names).
// Messages never echo a secret.
absl::StatusOr<Config> LoadConfig(const std::string& path);

// Parses TOML text (for tests). `origin` names the text in errors; `base_dir` resolves
// relative paths.
absl::StatusOr<Config> ParseConfig(std::string_view toml_text, const std::string& origin,
                                   const std::string& base_dir);

// The core's view of the configuration.
core::PlanConfig ToPlanConfig(const Config& config);

// Whether the target keeps a display name of its own (GoTo derives it from first and last name,
// so there it is never a difference to write or to wait for).
inline bool TargetHoldsDisplayName(TargetKind kind) { return kind != TargetKind::kGoto; }

// Reads a secret from the environment variable `env_name` (which must be set and non-empty) or,
// if `env_name` is "", from the file `file_path` (trailing newlines trimmed; must not be empty).
// `what` ("LDAP bind password", "target token") names the secret in errors. Errors
// (kInvalidArgument) name the variable or file, never the value.
absl::StatusOr<std::string> ReadSecret(const std::string& env_name, const std::string& file_path,
                                       std::string_view what);

}  // namespace usersync::io
