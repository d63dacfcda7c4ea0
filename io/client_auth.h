// ClientAuth: how an OAuth 2.0 client puts its id and secret into the HTTP Basic header of a
// token request (target.client_auth). One enum for the three places that meet it: the
// configuration reads it, the token endpoint (io/http/oauth2_token_endpoint.h) encodes it, and
// the emulator's token endpoint (tools/target/emulator_oauth.h) decodes it.
//
// Thread-safety: plain values and constexpr functions, safe from any thread.
#pragma once

#include <optional>
#include <string_view>

namespace usersync::io {

// E.g. id "app" and secret "a+b=": kBasic sends base64("app:a+b="), kBasicForm sends
// base64("app:a%2Bb%3D"). Secrets of only ALPHA / DIGIT / "-" / "." / "_" / "~" give the same
// bytes either way.
enum class ClientAuth {
  kBasic,      // "basic": base64 of the raw id ":" secret (GoTo's guide, curl -u, RFC 7617)
  kBasicForm,  // "basic_form": each part form-encoded first (RFC 6749 §2.3.1)
};

// The configuration's spelling: "basic" or "basic_form".
constexpr std::string_view ClientAuthName(ClientAuth auth) {
  return auth == ClientAuth::kBasicForm ? "basic_form" : "basic";
}

// The inverse of ClientAuthName; nullopt for any other text.
constexpr std::optional<ClientAuth> ParseClientAuth(std::string_view name) {
  if (name == "basic") return ClientAuth::kBasic;
  if (name == "basic_form") return ClientAuth::kBasicForm;
  return std::nullopt;
}

}  // namespace usersync::io
