// Normalization and syntax checks of directory values (DESIGN.md "Normalization"). Pure
// functions, thread-safe, no allocation except where a std::string is returned.
#pragma once

#include <cstddef>
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

// The canonical form of a DN used as a hash key (RFC 4514 equality as far as a string key
// can carry it): lower-cased (ASCII), white space around ',', '+' and the type's '=' removed,
// surrounding white space trimmed, and every escape in one form: a hex pair is decoded
// ("\2C", "\2c" and "\," are the same; "\41nn" is "ann"; "\C3\A9" is "é"), and of the
// decoded characters only ',', '+' and '\' stay escaped (so "cn=a\,b" never meets "cn=a,b").
// An escaped space is part of the value ("cn=a\ " keeps its trailing space). Not covered:
// attribute types given as OIDs, "#" BER values and the order of a multi-valued RDN's parts.
//   "CN=Ann Lee , OU=People,dc=Example" → "cn=ann lee,ou=people,dc=example"
//   "cn=Lee\2C Ann,dc=x" → "cn=lee\, ann,dc=x"
std::string NormalizeDn(std::string_view dn);
// The same into `*out` (its old contents replaced). Reusing one string across calls saves an
// allocation per DN on hot paths (a million-user read normalizes ~3M DNs). Cost: one pass,
// no allocation once `*out` has grown to the longest DN.
// REQUIRES: `dn` does not view `*out`.
void NormalizeDnInto(std::string_view dn, std::string* out);

// Where `s` stops being well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF, no cut-off sequence): the offset of the first byte that does not
// start a valid sequence, or std::string_view::npos when all of `s` is valid. Cost: 8 bytes per
// step while the text is ASCII, byte by byte otherwise. "Ren\xC3\xA9" → npos; "Ren\xC3" → 3.
size_t InvalidUtf8Offset(std::string_view s);

// True for a BCP 47-like language tag as SaaS targets take it: "en", "en_US", "en-US",
// "zh_Hans_CN" (2-3 letter language, then 2-8 alphanumeric subtags).
bool IsLanguageTag(std::string_view tag);

// ASCII lower-case copy.
std::string AsciiLower(std::string_view s);

}  // namespace usersync::core
