// `usersync authorize`: the one interactive step of OAuth 2.0 (RFC 6749 §4.1): an administrator
// opens the printed URL, signs in, and hands back the code; the refresh token it buys is stored
// for every later run.
#include <random>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/commands/commands.h"
#include "io/commands/run_context.h"
#include "io/http/oauth2_token_endpoint.h"
#include "io/output.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

constexpr size_t kMaxCodeLine = 16 << 10;

std::string RandomState() {
  std::random_device device;
  return absl::StrCat(absl::Hex(device(), absl::kZeroPad8), absl::Hex(device(), absl::kZeroPad8));
}

std::string AuthorizationUrl(const OAuth2Config& oauth, std::string_view state) {
  std::string url = absl::StrCat(oauth.authorize_url,
                                 oauth.authorize_url.find('?') == std::string::npos ? "?" : "&",
                                 "client_id=", FormEncode(oauth.client_id), "&response_type=code");
  if (!oauth.redirect_uri.empty()) {
    absl::StrAppend(&url, "&redirect_uri=", FormEncode(oauth.redirect_uri));
  }
  absl::StrAppend(&url, "&state=", Sv(state));
  return url;
}

// The value of `name` in a query string or address ("...?code=X&state=Y"), percent-decoded
// only as far as a code needs (codes are URL-safe); empty when absent.
std::string QueryValue(std::string_view text, std::string_view name) {
  const std::string key = absl::StrCat(Sv(name), "=");
  for (size_t pos = text.find(key); pos != std::string_view::npos; pos = text.find(key, pos + 1)) {
    if (pos != 0 && text[pos - 1] != '?' && text[pos - 1] != '&') continue;
    std::string_view value = text.substr(pos + key.size());
    return std::string(value.substr(0, value.find_first_of("&#")));
  }
  return "";
}

// One line from `in`, trimmed; the code itself, or the address the browser came back to.
absl::StatusOr<std::string> ReadCode(std::FILE* in, std::string_view state) {
  std::string line;
  int c = 0;
  while ((c = std::fgetc(in)) != EOF && c != '\n') {
    if (line.size() >= kMaxCodeLine) {
      return absl::InvalidArgumentError("the code line is longer than 16 KiB");
    }
    line.push_back(static_cast<char>(c));
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  while (!line.empty() && line.front() == ' ') line.erase(0, 1);
  if (line.find("code=") == std::string::npos) return line;
  const std::string returned_state = QueryValue(line, "state");
  if (!returned_state.empty() && returned_state != state) {
    return absl::InvalidArgumentError(
        "the address pasted carries another state than this authorization's: it answers "
        "another request; open the URL printed above and paste what it sends back");
  }
  return QueryValue(line, "code");
}

absl::Status Authorize(const CommandOptions& options, const TargetConfig& target) {
  if (target.auth != TargetAuth::kOAuth2) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.config_path, ": target.auth is not \"oauth2\": there is nothing to authorize"));
  }
  const OAuth2Config& oauth = target.oauth2;
  if (oauth.client_credentials) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.config_path,
                     ": target.grant is \"client_credentials\": usersync obtains its tokens "
                     "with the client id and secret alone, there is nothing to authorize"));
  }
  std::string code = options.auth_code;
  if (code.empty()) {
    if (oauth.authorize_url.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(options.config_path,
                       ": target.authorize_url is needed to print the authorization URL "
                       "(or pass --code CODE)"));
    }
    const std::string state = RandomState();
    Print(options.out,
          absl::StrCat("Open this URL, sign in as an administrator and allow access:\n\n  ",
                       AuthorizationUrl(oauth, state),
                       "\n\nThen paste the code (or the whole address you were sent back to): "));
    std::fflush(options.out);
    absl::StatusOr<std::string> read = ReadCode(options.in, state);
    if (!read.ok()) return read.status();
    code = *std::move(read);
  }
  if (code.empty()) return absl::InvalidArgumentError("no authorization code was given");
  RegisterSecret(code);
  absl::StatusOr<TokenEndpointOptions> endpoint = OAuth2Endpoint(target);
  if (!endpoint.ok()) return endpoint.status();
  std::string form = absl::StrCat("grant_type=authorization_code&code=", FormEncode(code));
  if (!oauth.redirect_uri.empty()) {
    absl::StrAppend(&form, "&redirect_uri=", FormEncode(oauth.redirect_uri));
  }
  absl::StatusOr<TokenAnswer> answer = RequestToken(*endpoint, form);
  if (!answer.ok()) return answer.status();
  RegisterSecret(answer->access_token);
  if (answer->refresh_token.empty()) {
    return absl::FailedPreconditionError(
        "the token endpoint answered without a refresh token: check that the OAuth client may "
        "use refresh tokens (offline access)");
  }
  RegisterSecret(answer->refresh_token);
  absl::Status stored = WriteSecretFileAtomically(oauth.refresh_token_file,
                                                  absl::StrCat(answer->refresh_token, "\n"));
  if (!stored.ok()) return stored;
  Print(options.out,
        absl::StrCat("\nAuthorized: the refresh token is stored in ", oauth.refresh_token_file,
                     " (readable by this user only). usersync can now run.\n"));
  return absl::OkStatus();
}

}  // namespace

int RunAuthorizeCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = LoadSessionConfig(session); !s.ok()) return Report(options, s);
  if (absl::Status s = Authorize(options, session.config.target); !s.ok()) {
    return Report(options, s);
  }
  return kExitOk;
}

}  // namespace usersync::io
