#include "io/http/oauth2_client.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

// The margin before expiry at which a token is renewed: min(60 s, life / 10).
core::Duration RenewMargin(std::chrono::seconds life) {
  return std::min<core::Duration>(std::chrono::seconds(60), life / 10);
}

}  // namespace

absl::StatusOr<std::shared_ptr<OAuth2Client>> OAuth2Client::Create(OAuth2ClientOptions options) {
  if (options.grant == OAuth2Grant::kClientCredentials) {
    return std::shared_ptr<OAuth2Client>(new OAuth2Client(std::move(options), std::string()));
  }
  const std::string& path = options.refresh_token_file;
  std::ifstream in(path, std::ios::binary);
  std::string token;
  if (in) {
    std::ostringstream text;
    text << in.rdbuf();
    token = text.str();
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no refresh token in target.refresh_token_file (", path,
                     "): run `usersync authorize -c CONFIG` once to obtain one"));
  }
  if (token.size() > kMaxTokenBytes || token.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("target.refresh_token_file (", path,
                     ") does not hold a refresh token (one line of at "
                     "most ",
                     kMaxTokenBytes, " characters without spaces)"));
  }
  RegisterSecret(token);
  return std::shared_ptr<OAuth2Client>(new OAuth2Client(std::move(options), std::move(token)));
}

OAuth2Client::OAuth2Client(OAuth2ClientOptions options, std::string refresh_token)
    : options_(std::move(options)), refresh_token_(std::move(refresh_token)) {}

absl::StatusOr<std::string> OAuth2Client::Token() {
  absl::MutexLock lock(&mu_);
  if (access_token_.empty() || options_.clock->Now() >= renew_at_) {
    absl::Status status = RenewLocked();
    if (!status.ok()) return status;
  }
  return access_token_;
}

absl::StatusOr<std::string> OAuth2Client::RenewAfterRejection(std::string_view rejected) {
  absl::MutexLock lock(&mu_);
  if (access_token_.empty() || access_token_ == rejected || options_.clock->Now() >= renew_at_) {
    absl::Status status = RenewLocked();
    if (!status.ok()) return status;
  }
  return access_token_;
}

std::string OAuth2Client::GrantForm() const {
  if (options_.grant == OAuth2Grant::kClientCredentials) {
    std::string form = "grant_type=client_credentials";
    if (!options_.scope.empty()) absl::StrAppend(&form, "&scope=", FormEncode(options_.scope));
    return form;
  }
  return absl::StrCat("grant_type=refresh_token&refresh_token=", FormEncode(refresh_token_));
}

int64_t OAuth2Client::renewals() const {
  absl::MutexLock lock(&mu_);
  return renewals_;
}

absl::Status OAuth2Client::RenewLocked() {
  ++renewals_;
  const core::MonoTime asked_at = options_.clock->Now();
  absl::StatusOr<TokenAnswer> answer = RequestToken(options_.endpoint, GrantForm());
  if (!answer.ok()) return answer.status();
  RegisterSecret(answer->access_token);
  if (options_.grant == OAuth2Grant::kRefreshToken && !answer->refresh_token.empty() &&
      answer->refresh_token != refresh_token_) {
    RegisterSecret(answer->refresh_token);
    // Stored before the new access token is used: the server may already have spent the old
    // refresh token, and the file must never hold only a spent one.
    absl::Status stored = WriteSecretFileAtomically(options_.refresh_token_file,
                                                    absl::StrCat(answer->refresh_token, "\n"));
    if (!stored.ok()) {
      return absl::InternalError(absl::StrCat(
          "the token endpoint issued a new refresh token that could not be stored (",
          stored.message(), "); the old one may be spent: run `usersync authorize -c CONFIG`"));
    }
    refresh_token_ = std::move(answer->refresh_token);
  }
  access_token_ = std::move(answer->access_token);
  // Measured from the time the grant was sent: the token's life began no later than that.
  renew_at_ = asked_at + answer->expires_in - RenewMargin(answer->expires_in);
  return absl::OkStatus();
}

}  // namespace usersync::io
