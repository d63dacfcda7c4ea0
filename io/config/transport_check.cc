#include "io/config/transport_check.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/str.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io {
namespace {

// "user:pw@host:port" of "scheme://user:pw@host:port/path?q".
std::string_view Authority(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  return rest.substr(0, rest.find_first_of("/?#"));
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// 127.a.b.c with each part a number up to 255.
bool IsLoopbackIpv4(std::string_view host) {
  const std::vector<absl::string_view> parts = absl::StrSplit(Sv(host), '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  for (absl::string_view part : parts) {
    int value = 0;
    if (part.empty() || part.size() > 3 || !absl::SimpleAtoi(part, &value) || value > 255) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string UrlHost(std::string_view url) {
  std::string_view authority = Authority(url);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host;
  if (StartsWith(authority, "[")) {
    host = authority.substr(1, authority.find(']') == std::string_view::npos
                                   ? std::string_view::npos
                                   : authority.find(']') - 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  return absl::AsciiStrToLower(Sv(host));
}

bool IsLoopbackUrl(std::string_view url) {
  const std::string host = UrlHost(url);
  return host == "localhost" || host == "::1" || IsLoopbackIpv4(host);
}

bool UrlHasPassword(std::string_view url) {
  const std::string_view authority = Authority(url);
  const size_t at = authority.rfind('@');
  return at != std::string_view::npos &&
         authority.substr(0, at).find(':') != std::string_view::npos;
}

absl::Status CheckUrlPassword(const internal::Section& section, std::string_view url,
                              std::string_view use_instead) {
  if (!UrlHasPassword(url)) return absl::OkStatus();
  return section.ValueError(
      "url", absl::StrCat("holds a password (user:password@): secrets never stand in the "
                          "configuration file: remove it from the URL and use ",
                          Sv(use_instead), " instead"));
}

absl::Status CheckTargetTransport(const internal::Section& section, const TargetConfig& target) {
  const bool has_token = !target.token_env.empty() || !target.token_file.empty();
  if (has_token && StartsWith(target.url, "http://") && !IsLoopbackUrl(target.url) &&
      !target.allow_insecure) {
    return section.ValueError(
        "url", absl::StrCat("is http:// to ", UrlHost(target.url),
                            ", which would send the bearer token in clear: use https://, or set "
                            "target.allow_insecure = true if the network is trusted"));
  }
  return absl::OkStatus();
}

absl::Status CheckSourceTransport(const internal::Section& section, const SourceConfig& source) {
  if (source.kind != SourceKind::kLdap) return absl::OkStatus();
  if (!source.bind_dn.empty() && StartsWith(source.url, "ldap://") && !source.start_tls &&
      !IsLoopbackUrl(source.url) && !source.allow_insecure) {
    return section.ValueError(
        "url", absl::StrCat("is ldap:// to ", UrlHost(source.url),
                            " without StartTLS, which would send the bind password in clear: set "
                            "start_tls = true or use ldaps://, or set source.allow_insecure = "
                            "true if the network is trusted"));
  }
  return absl::OkStatus();
}

std::vector<std::string> InsecureTransportWarnings(const Config& config) {
  std::vector<std::string> warnings;
  const TargetConfig& target = config.target;
  if (target.allow_insecure && StartsWith(target.url, "http://") && !IsLoopbackUrl(target.url)) {
    warnings.push_back(absl::StrCat("warning: target.url is http:// to ", UrlHost(target.url),
                                    ": the bearer token travels in clear "
                                    "(target.allow_insecure = true)"));
  }
  const SourceConfig& source = config.source;
  if (source.kind == SourceKind::kLdap && source.allow_insecure && !source.bind_dn.empty() &&
      StartsWith(source.url, "ldap://") && !source.start_tls && !IsLoopbackUrl(source.url)) {
    warnings.push_back(absl::StrCat("warning: source.url is ldap:// to ", UrlHost(source.url),
                                    " without StartTLS: the bind password travels in clear "
                                    "(source.allow_insecure = true)"));
  }
  return warnings;
}

}  // namespace usersync::io
