#include "io/directory_source.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/config/config.h"
#include "io/entra/entra_directory.h"
#include "io/ldap/ldap_directory.h"
#include "io/ldif/ldif_reader.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

// The LDAP source's options as the configuration gives them, with the bind password read.
absl::StatusOr<LdapSourceOptions> LdapOptionsFromConfig(const SourceConfig& source) {
  std::string password;
  if (!source.bind_dn.empty() || !source.bind_password_env.empty() ||
      !source.bind_password_file.empty()) {
    absl::StatusOr<std::string> secret =
        ReadSecret(source.bind_password_env, source.bind_password_file, "LDAP bind password");
    if (!secret.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("source: ", secret.status().message()));
    }
    password = *std::move(secret);
    RegisterSecret(password);  // whatever echoes it back is redacted at every sink
  }
  return LdapSourceOptions{
      .url = source.url,
      .start_tls = source.start_tls,
      .ca_file = source.ca_file,
      .tls_verify = source.tls_verify,
      .bind_dn = source.bind_dn,
      .bind_password = std::move(password),
      .base_dn = source.base_dn,
      .page_size = source.page_size,
      .connections = source.connections,
      .network_timeout = source.network_timeout,
      .timeout = source.timeout,
      .schema = source.schema,
  };
}

// The entra source's options as the configuration gives them, with the client secret read.
absl::StatusOr<EntraSourceOptions> EntraOptionsFromConfig(const SourceConfig& source) {
  const EntraConfig& entra = source.entra;
  absl::StatusOr<std::string> secret =
      ReadSecret(entra.client_secret_env, entra.client_secret_file, "Entra client secret");
  if (!secret.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("source: ", secret.status().message()));
  }
  RegisterSecret(*secret);
  EntraSourceOptions options;
  options.graph_url = entra.graph_url;
  options.token_url = EntraTokenUrl(entra);
  options.client_id = entra.client_id;
  options.client_secret = *std::move(secret);
  options.scope = entra.scope;
  options.service_principal_id = entra.service_principal_id;
  options.page_size = source.page_size;
  options.schema = source.schema;
  options.pipeline.rate = entra.rate;
  options.pipeline.burst = entra.burst;
  options.pipeline.concurrency = std::max(4, source.connections);
  options.pipeline.timeout = source.timeout;
  options.pipeline.connect_timeout = source.network_timeout;
  options.pipeline.adaptive = true;
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectorySource>> MakeDirectorySource(const SourceConfig& source) {
  switch (source.kind) {
    case SourceKind::kLdif:
      return MakeLdifSource(source.path, source.schema);
    case SourceKind::kLdap: {
      USERSYNC_ASSIGN_OR_RETURN(LdapSourceOptions options, LdapOptionsFromConfig(source));
      return MakeLdapSource(std::move(options));
    }
    case SourceKind::kEntra: {
      USERSYNC_ASSIGN_OR_RETURN(EntraSourceOptions options, EntraOptionsFromConfig(source));
      return MakeEntraSource(std::move(options));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown source.kind \"", Sv(SourceKindName(source.kind)), "\""));
}

}  // namespace usersync::io
