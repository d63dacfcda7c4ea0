#include "tools/target/emulator_oauth.h"

#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "httplib.h"

namespace usersync::io::emulator {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// application/x-www-form-urlencoded decoding ('+' is a space); nullopt-free: a bad escape is
// kept as it is, so it simply fails the comparison.
std::string FormDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && absl::ascii_isxdigit(text[i + 1]) &&
               absl::ascii_isxdigit(text[i + 2])) {
      auto hex = [](char h) { return absl::ascii_isdigit(h) ? h - '0' : (h | 0x20) - 'a' + 10; };
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void ReplyOAuthError(httplib::Response& res, int status, std::string_view error) {
  res.status = status;
  if (status == 401) res.set_header("WWW-Authenticate", "Basic realm=\"usersync-target\"");
  res.set_header("Cache-Control", "no-store");
  res.set_content(absl::StrCat("{\"error\":\"", Sv(error), "\"}"), "application/json");
}

}  // namespace

OAuthAuthority::OAuthAuthority(OAuthOptions options)
    : options_(std::move(options)),
      rng_state_((uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()) {}

std::string OAuthAuthority::NewToken(std::string_view prefix) {
  return absl::StrCat(Sv(prefix), absl::Hex(SplitMix64(rng_state_), absl::kZeroPad16),
                      absl::Hex(SplitMix64(rng_state_), absl::kZeroPad16));
}

bool OAuthAuthority::ClientAuthenticated(const httplib::Request& req) const {
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(Sv(std::string_view(header).substr(0, kScheme.size())),
                              Sv(kScheme))) {
    return false;
  }
  std::string decoded;
  if (!absl::Base64Unescape(header.substr(kScheme.size()), &decoded)) return false;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  const std::string_view id = std::string_view(decoded).substr(0, colon);
  const std::string_view secret = std::string_view(decoded).substr(colon + 1);
  if (options_.client_auth == ClientAuth::kBasic) {
    return id == options_.client_id && secret == options_.client_secret;
  }
  return FormDecode(id) == options_.client_id && FormDecode(secret) == options_.client_secret;
}

std::string OAuthAuthority::Grant(bool new_refresh) {
  const std::string access = NewToken("at-");
  const Clock::time_point now = Clock::now();
  // Forget expired tokens so the table stays as small as the live ones.
  absl::erase_if(access_tokens_, [now](const auto& entry) { return entry.second <= now; });
  access_tokens_[access] = now + options_.access_token_ttl;
  ++stats_.access_tokens_issued;
  std::string body =
      absl::StrCat("{\"access_token\":\"", access, "\",\"token_type\":\"Bearer\",\"expires_in\":",
                   options_.access_token_ttl.count(), ",\"principal\":\"admin@example.com\"");
  if (new_refresh) {
    std::string refresh = NewToken("rt-");
    refresh_tokens_.insert(refresh);
    ++stats_.refresh_tokens_issued;
    stats_.last_refresh_token = refresh;
    absl::StrAppend(&body, ",\"refresh_token\":\"", refresh, "\"");
  }
  return body + "}";
}

void OAuthAuthority::HandleToken(const httplib::Request& req, httplib::Response& res) {
  if (req.method != "POST") return ReplyOAuthError(res, 405, "invalid_request");
  if (!ClientAuthenticated(req)) return ReplyOAuthError(res, 401, "invalid_client");
  const std::string grant_type = req.get_param_value("grant_type");
  absl::MutexLock lock(&mu_);
  std::string body;
  if (grant_type == "authorization_code") {
    if (codes_.erase(req.get_param_value("code")) == 0) {
      ++stats_.grants_refused;
      return ReplyOAuthError(res, 400, "invalid_grant");
    }
    body = Grant(/*new_refresh=*/true);
  } else if (grant_type == "refresh_token") {
    const std::string refresh = req.get_param_value("refresh_token");
    if (!refresh_tokens_.contains(refresh)) {
      ++stats_.grants_refused;
      return ReplyOAuthError(res, 400, "invalid_grant");
    }
    if (options_.rotate_refresh_tokens) refresh_tokens_.erase(refresh);  // spent on use
    body = Grant(options_.rotate_refresh_tokens);
  } else if (grant_type == "client_credentials") {  // RFC 6749 §4.4: no refresh token (§4.4.3)
    body = Grant(/*new_refresh=*/false);
  } else {
    return ReplyOAuthError(res, 400, "unsupported_grant_type");
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, "application/json");
}

std::string OAuthAuthority::IssueCode() {
  absl::MutexLock lock(&mu_);
  std::string code = NewToken("code-");
  codes_.insert(code);
  return code;
}

bool OAuthAuthority::AcceptsAccessToken(std::string_view token) const {
  absl::MutexLock lock(&mu_);
  auto it = access_tokens_.find(std::string(token));
  return it != access_tokens_.end() && Clock::now() < it->second;
}

OAuthAuthority::Stats OAuthAuthority::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace usersync::io::emulator
