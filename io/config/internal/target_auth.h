// The [target] keys of authentication: target.auth and, for "oauth2", the OAuth 2.0 client
// (io/config/config.h OAuth2Config). Used by io/config/config.cc's ParseTarget; not a public
// API. Thread-compatible.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "io/config/config.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// Reads target.auth and the OAuth 2.0 keys into `target`, after the bearer keys were read.
// Refusals ("<file>:<line>:<col>: key 'target.X' ...", kInvalidArgument): an OAuth key with
// auth = "bearer"; for "oauth2", a missing token_url, client_id or refresh_token_file, a URL that
// is not http(s) or carries a password, a token_url http:// to a host that is not loopback
// without target.allow_insecure, client_secret_env together with client_secret_file, or
// token_env / token_file set too (the token comes from the grant), a client_auth other than
// "basic" or "basic_form", or a client_id holding ':' with client_auth = "basic" (the default).
// Paths are resolved against `base_dir`.
absl::Status ParseTargetAuth(const Ctx& ctx, const toml::table* table, const Section& section,
                             const std::string& base_dir, TargetConfig* target);

}  // namespace usersync::io::internal
