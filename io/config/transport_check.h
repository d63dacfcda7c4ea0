// Credentials and the way they travel (issue 12, item 5): a password written into a URL is
// refused like any secret in the configuration file, and a credential that would cross the
// network in clear (target.url http:// with a token, source.url ldap:// without StartTLS with a
// bind_dn) is refused unless `allow_insecure = true` says so; loopback hosts (127.0.0.0/8, ::1,
// localhost) never leave the machine and are always allowed.
// Pure functions over the parsed values; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "io/config/config.h"

namespace usersync::io {
namespace internal {
class Section;  // io/config/internal/toml_section.h
}  // namespace internal

// The host of `url` ("ldap://[::1]:389/x" → "::1"), lower-cased; "" when it has none.
std::string UrlHost(std::string_view url);
// Whether `url`'s host is 127.0.0.0/8, ::1 or localhost.
bool IsLoopbackUrl(std::string_view url);
// Whether `url` carries "user:password@" before its host.
bool UrlHasPassword(std::string_view url);

// The refusals, each naming `section`'s file:line and key with a hint, never the secret.
// CheckUrlPassword runs as soon as the section's `url` is read (before any message could echo
// the URL); `use_instead` names the keys that hold the secret ("'token_env' or 'token_file'").
absl::Status CheckUrlPassword(const internal::Section& section, std::string_view url,
                              std::string_view use_instead);
// These run after the section's other checks (the URL's scheme is known to be valid).
absl::Status CheckTargetTransport(const internal::Section& section, const TargetConfig& target);
absl::Status CheckSourceTransport(const internal::Section& section, const SourceConfig& source);

// One line per allow_insecure that is in effect ("warning: target.url ... sends the bearer
// token in clear (target.allow_insecure = true)"); empty when none.
std::vector<std::string> InsecureTransportWarnings(const Config& config);

}  // namespace usersync::io
