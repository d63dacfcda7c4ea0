#include "io/config/internal/source_entra.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "io/config/transport_check.h"

namespace usersync::io::internal {
namespace {

bool IsHttpUrl(std::string_view url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

void TrimSlashes(std::string* url) {
  while (!url->empty() && url->back() == '/') url->pop_back();
}

}  // namespace

void ApplyEntraSchemaDefaults(DirectorySchema* schema) {
  schema->id = "id";
  schema->user_name = "userPrincipalName";
  schema->email = "mail";
  schema->first_name = "givenName";
  schema->last_name = "surname";
  schema->display_name = "displayName";
  schema->language = "preferredLanguage";
  schema->group_name = "displayName";
}

absl::Status ParseEntraSource(const Ctx& ctx, const toml::table* table, const Section& section,
                              const std::string& base_dir, SourceConfig* source) {
  EntraConfig& entra = source->entra;
  USERSYNC_RETURN_IF_ERROR(section.String("graph_url", &entra.graph_url));
  USERSYNC_RETURN_IF_ERROR(section.String("authority", &entra.authority));
  USERSYNC_RETURN_IF_ERROR(section.String("tenant_id", &entra.tenant_id));
  USERSYNC_RETURN_IF_ERROR(ReadClientKeys(section, &entra.client_id, &entra.client_secret_env,
                                          &entra.client_secret_file));
  USERSYNC_RETURN_IF_ERROR(section.String("scope", &entra.scope));
  USERSYNC_RETURN_IF_ERROR(section.String("service_principal_id", &entra.service_principal_id));
  USERSYNC_RETURN_IF_ERROR(section.Number("rate", &entra.rate));
  USERSYNC_RETURN_IF_ERROR(section.Number("burst", &entra.burst));
  if (section.Has("client_secret_env") && !entra.client_secret_file.empty()) {
    return section.ValueError("client_secret_file",
                              "cannot be set together with 'source.client_secret_env': choose "
                              "one place for the client secret");
  }
  if (!entra.client_secret_file.empty()) entra.client_secret_env.clear();
  TrimSlashes(&entra.graph_url);
  TrimSlashes(&entra.authority);
  if (!IsHttpUrl(entra.graph_url)) {
    return section.ValueError("graph_url", "must start with https:// (or http:// for a test)");
  }
  if (!IsHttpUrl(entra.authority)) {
    return section.ValueError("authority", "must start with https:// (or http:// for a test)");
  }
  // http:// only to a loopback host (tests, the face): the secret and the tokens travel in it.
  for (const auto& [key, url] :
       {std::pair<std::string_view, const std::string*>{"graph_url", &entra.graph_url},
        {"authority", &entra.authority}}) {
    if (url->starts_with("http://") && !IsLoopbackUrl(*url)) {
      return section.ValueError(key,
                                "is http:// to a host that is not loopback: the client "
                                "secret and the tokens would travel in clear; use https://");
    }
  }
  if (entra.tenant_id.empty()) {
    return ctx.Error(table,
                     "missing required key 'source.tenant_id' (the directory (tenant) id) "
                     "for source.kind = \"entra\"");
  }
  if (entra.client_id.empty()) {
    return ctx.Error(table,
                     "missing required key 'source.client_id' (the application (client) "
                     "id of the app registration) for source.kind = \"entra\"");
  }
  if (!(entra.rate >= 0)) return section.ValueError("rate", "must be 0 (unlimited) or more");
  if (!(entra.burst >= 1)) return section.ValueError("burst", "must be at least 1");
  if (entra.scope.empty()) entra.scope = absl::StrCat(entra.graph_url, "/.default");
  entra.client_secret_file = ResolveInput(base_dir, entra.client_secret_file);
  return absl::OkStatus();
}

}  // namespace usersync::io::internal

namespace usersync::io {

std::string EntraTokenUrl(const EntraConfig& entra) {
  return absl::StrCat(entra.authority, "/", entra.tenant_id, "/oauth2/v2.0/token");
}

}  // namespace usersync::io
