#include "io/config/internal/target_auth.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/config/transport_check.h"

namespace usersync::io::internal {
namespace {

constexpr std::string_view kOAuthKeys[] = {
    "token_url",          "authorize_url",      "redirect_uri", "client_id", "client_secret_env",
    "client_secret_file", "refresh_token_file", "client_auth",  "grant",     "scope"};

// An http(s) URL without credentials in it (they would be a secret in the file).
absl::Status CheckAuthUrl(const Section& section, std::string_view key, const std::string& url) {
  if (!StartsWith(url, "https://") && !StartsWith(url, "http://")) {
    return section.ValueError(key, "must start with https:// (or http:// for a local test)");
  }
  const size_t host = url.find("://") + 3;
  const size_t at = url.find('@', host);
  if (at != std::string::npos && url.find('/', host) > at) {
    return section.ValueError(key,
                              "must not carry credentials: the client is authenticated "
                              "with client_id and the client secret");
  }
  return absl::OkStatus();
}

absl::Status Require(const Ctx& ctx, const toml::table* table, std::string_view key,
                     std::string_view what) {
  return ctx.Error(table, absl::StrCat("missing required key 'target.", Sv(key),
                                       "' for target.auth = \"oauth2\" (", Sv(what), ")"));
}

// target.client_auth: "basic" (the default) or "basic_form". Raw Basic cannot carry a ':' in the
// id (RFC 7617 §2: the server splits at the first one), so that pair is refused here.
absl::Status ReadClientAuth(const Section& section, OAuth2Config* oauth) {
  static constexpr std::string_view kClientAuths[] = {ClientAuthName(ClientAuth::kBasic),
                                                      ClientAuthName(ClientAuth::kBasicForm)};
  std::string name(ClientAuthName(oauth->client_auth));
  USERSYNC_RETURN_IF_ERROR(section.Enum("client_auth", kClientAuths, &name));
  oauth->client_auth = ParseClientAuth(name).value_or(ClientAuth::kBasic);  // Enum checked it
  if (oauth->client_auth == ClientAuth::kBasic && oauth->client_id.find(':') != std::string::npos) {
    constexpr std::string_view kWhy =
        ": the server splits id:secret at the first ':'. Set target.client_auth = \"basic_form\" "
        "(RFC 6749's form encoding, ':' sent as %3A) if the token endpoint decodes that";
    if (section.Has("client_auth")) {
      return section.ValueError(
          "client_auth",
          absl::StrCat("= \"basic\" (raw HTTP Basic) cannot carry target.client_id, which holds "
                       "':'",
                       Sv(kWhy)));
    }
    return section.ValueError("client_id",
                              absl::StrCat("holds ':', which raw HTTP Basic (target.client_auth = "
                                           "\"basic\", the default) cannot carry",
                                           Sv(kWhy)));
  }
  return absl::OkStatus();
}

// target.grant and target.scope; refresh_token_file required with (and only with) the
// refresh-token grant.
absl::Status ReadGrant(const Ctx& ctx, const toml::table* table, const Section& section,
                       OAuth2Config* oauth) {
  static constexpr std::string_view kGrants[] = {"refresh_token", "client_credentials"};
  std::string grant = "refresh_token";
  USERSYNC_RETURN_IF_ERROR(section.Enum("grant", kGrants, &grant));
  oauth->client_credentials = grant == "client_credentials";
  USERSYNC_RETURN_IF_ERROR(section.String("scope", &oauth->scope));
  if (oauth->client_credentials) {
    if (section.Has("refresh_token_file")) {
      return section.ValueError("refresh_token_file",
                                "is not used with target.grant = \"client_credentials\" (no "
                                "refresh token is issued): remove it");
    }
  } else if (section.Has("scope")) {
    return section.ValueError("scope", "is read only with target.grant = \"client_credentials\"");
  } else if (oauth->refresh_token_file.empty()) {
    return Require(ctx, table, "refresh_token_file",
                   "where `usersync authorize` stores the refresh token");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseTargetAuth(const Ctx& ctx, const toml::table* table, const Section& section,
                             const std::string& base_dir, TargetConfig* target) {
  static constexpr std::string_view kAuths[] = {"bearer", "oauth2"};
  std::string auth = target->auth == TargetAuth::kOAuth2 ? "oauth2" : "bearer";
  USERSYNC_RETURN_IF_ERROR(section.Enum("auth", kAuths, &auth));
  target->auth = auth == "oauth2" ? TargetAuth::kOAuth2 : TargetAuth::kBearer;
  if (target->auth == TargetAuth::kBearer) {
    for (std::string_view key : kOAuthKeys) {
      if (section.Has(key)) {
        return section.ValueError(key, "is read only with target.auth = \"oauth2\"");
      }
    }
    return absl::OkStatus();
  }
  for (std::string_view key : {"token_env", "token_file"}) {
    if (section.Has(key)) {
      return section.ValueError(key,
                                "is not used with target.auth = \"oauth2\" (the access "
                                "token comes from the token endpoint): remove it");
    }
  }
  target->token_env.clear();
  OAuth2Config& oauth = target->oauth2;
  USERSYNC_RETURN_IF_ERROR(section.String("token_url", &oauth.token_url));
  USERSYNC_RETURN_IF_ERROR(section.String("authorize_url", &oauth.authorize_url));
  USERSYNC_RETURN_IF_ERROR(section.String("redirect_uri", &oauth.redirect_uri));
  USERSYNC_RETURN_IF_ERROR(ReadClientKeys(section, &oauth.client_id, &oauth.client_secret_env,
                                          &oauth.client_secret_file));
  USERSYNC_RETURN_IF_ERROR(section.String("refresh_token_file", &oauth.refresh_token_file));
  if (oauth.token_url.empty()) {
    return Require(ctx, table, "token_url", "the OAuth 2.0 token endpoint");
  }
  USERSYNC_RETURN_IF_ERROR(CheckAuthUrl(section, "token_url", oauth.token_url));
  if (StartsWith(oauth.token_url, "http://") && !IsLoopbackUrl(oauth.token_url) &&
      !target->allow_insecure) {
    return section.ValueError(
        "token_url", absl::StrCat("is http:// to ", UrlHost(oauth.token_url),
                                  ", which would send the client secret and the tokens in "
                                  "clear: use https://, or set target.allow_insecure = true if "
                                  "the network is trusted"));
  }
  if (!oauth.authorize_url.empty()) {
    USERSYNC_RETURN_IF_ERROR(CheckAuthUrl(section, "authorize_url", oauth.authorize_url));
  }
  if (oauth.client_id.empty()) {
    return Require(ctx, table, "client_id", "the OAuth client's id");
  }
  USERSYNC_RETURN_IF_ERROR(ReadGrant(ctx, table, section, &oauth));
  USERSYNC_RETURN_IF_ERROR(ReadClientAuth(section, &oauth));
  if (!oauth.client_secret_file.empty()) {
    if (section.Has("client_secret_env")) {
      return section.ValueError("client_secret_file",
                                "cannot be set together with 'target.client_secret_env': choose "
                                "one place for the client secret");
    }
    oauth.client_secret_env.clear();  // the file replaces the default variable
  }
  oauth.client_secret_file = ResolveInput(base_dir, oauth.client_secret_file);
  // Written, not read: resolved like state.path, against the configuration's directory.
  if (!oauth.client_credentials) {
    oauth.refresh_token_file = ResolveOutput(base_dir, oauth.refresh_token_file);
  }
  return absl::OkStatus();
}

}  // namespace usersync::io::internal
