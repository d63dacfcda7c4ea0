// Normalization and syntax checks of directory values (DESIGN.md "Normalization"). Pure
// functions, thread-safe, no allocation except where a std::string is returned.
#pragma once

#include <string>
#include <string_view>

namespace usersync::core {

// `s` without surrounding ASCII white space (space, tab, CR, LF, FF, VT).
std::string_view TrimWhitespace(std::string_view s);

// The normalized email: trimmed, whole address lower-cased (ASCII). "  Ann.Lee@Example.COM "
// becomes "ann.lee@example.com".
std::string NormalizeEmail(std::string_view email);

// True when `email` (already normalized) is an address: one '@', a non-empty local part of
// printable characters without white space, and a domain of dot-separated labels of letters,
// digits and hyphens with at least one dot. Deliberately stricter than RFC 5322 (no quoted
// local parts, no address literals): those cannot be provisioned as SaaS user names anyway.
bool IsValidEmail(std::string_view email);

// The part after the last '@' (empty if none).
std::string_view EmailDomain(std::string_view email);

// True if `domain` (normalized) equals `validated` or is a subdomain of it ("eu.example.com"
// is inside "example.com"; "badexample.com" is not). Case-insensitive.
bool DomainIsWithin(std::string_view domain, std::string_view validated);

// The canonical form of a DN used as a hash key: lower-cased, with white space around ',', '='
// and '+' removed, and surrounding white space trimmed. "CN=Ann Lee , OU=People,dc=Example"
// becomes "cn=ann lee,ou=people,dc=example". Escaped separators ("\,") are kept as they are.
std::string NormalizeDn(std::string_view dn);
// The same into `*out` (its old contents replaced). Reusing one string across calls saves an
// allocation per DN on hot paths (a million-user read normalizes ~3M DNs).
// REQUIRES: `dn` does not view `*out`.
void NormalizeDnInto(std::string_view dn, std::string* out);

// True for a BCP 47-like language tag as SaaS targets take it: "en", "en_US", "en-US",
// "zh_Hans_CN" (2-3 letter language, then 2-8 alphanumeric subtags).
bool IsLanguageTag(std::string_view tag);

// ASCII lower-case copy.
std::string AsciiLower(std::string_view s);

}  // namespace usersync::core
