// The keys of [source] for kind "entra" (README "Entra ID", io/entra/GRAPH_SHAPES.md). Used by
// io/config/config.cc's ParseSource; not a public API.
//
//   graph_url            the Graph service root, default "https://graph.microsoft.com"
//                        (national clouds: e.g. "https://graph.microsoft.us")
//   authority            the identity platform, default "https://login.microsoftonline.com";
//                        the token endpoint is {authority}/{tenant_id}/oauth2/v2.0/token
//   tenant_id            required
//   client_id            required (the application (client) id of the registration)
//   client_secret_env    the variable holding the client secret, default
//                        "USERSYNC_ENTRA_CLIENT_SECRET"; client_secret_file replaces it
//   scope                default "{graph_url}/.default"
//   service_principal_id the enterprise application's object id: its assignments become the
//                        groups "app-assignments" and "app-role:<appRoleId>"
//   rate, burst          the pipeline's token bucket (requests per second), default 20 / 20
// graph_url and authority must be https:// (http:// only to a loopback host: tests).
//
// Attribute defaults for kind entra (source.attributes still wins): id "id", user_name
// "userPrincipalName", email "mail" (userPrincipalName when mail is empty), first_name
// "givenName", last_name "surname", display_name "displayName", language "preferredLanguage".
// Thread-compatible.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "io/config/config.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// The keys above, for CheckKeys beside the LDAP ones.
inline constexpr std::string_view kEntraSourceKeys[] = {"graph_url",
                                                        "authority",
                                                        "tenant_id",
                                                        "client_id",
                                                        "client_secret_env",
                                                        "client_secret_file",
                                                        "scope",
                                                        "service_principal_id",
                                                        "rate",
                                                        "burst"};

// Sets the attribute defaults of kind entra. REQUIRES: before source.attributes is read.
void ApplyEntraSchemaDefaults(DirectorySchema* schema);

// Reads the entra keys into source->entra and checks them (kind "entra" only): kInvalidArgument
// "<file>:<line>:<col>: key 'source.X' ..." or the missing key named.
absl::Status ParseEntraSource(const Ctx& ctx, const toml::table* table, const Section& section,
                              const std::string& base_dir, SourceConfig* source);

}  // namespace usersync::io::internal
