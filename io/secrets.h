// The process's secrets, for redaction at every sink (issue 12, item 5). The code that reads a
// credential (the target's bearer token, the LDAP bind password) registers its value once; every
// place that writes text from outside to a person or a file (Print, the run's logs, the state
// store's rows, reports) passes it through Redact, so a value a server echoes back never reaches
// stderr, a log, the journal or a plan file.
//
// Each registered value is matched as it is, percent-encoded (as in a URL or a form) and in
// base64 (as in an HTTP Basic header), when those forms differ. Values shorter than
// kMinSecretLength are not registered: redacting "ab" everywhere would garble every message
// and protect nothing.
//
// Thread-safe: registration and redaction may happen from any thread (a mutex guards the
// registry; redaction takes it shared). Values are kept for the life of the process.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace usersync::io {

inline constexpr size_t kMinSecretLength = 4;
inline constexpr std::string_view kRedacted = "[redacted]";

// Remembers `value` (and its encoded forms) as a secret. Registering one twice is harmless.
void RegisterSecret(std::string_view value);

// Whether `text` holds any registered secret. Cost: one substring search per registered form
// (none registered, or `text` shorter than every form: one atomic load). Measured: about 60 ns
// for a 43-byte field with one token registered, 0.35 s for a 900 MB text.
bool ContainsSecret(std::string_view text);

// `text` with every occurrence of a registered secret replaced by "[redacted]". Longer forms
// are replaced first, so a value that contains another is redacted whole.
// Example: with "s3cr3t-token" registered, "Bearer s3cr3t-token refused" → "Bearer [redacted]
// refused".
std::string Redact(std::string_view text);

// Forgets every registered secret (tests only: the registry is process-wide).
void ClearSecretsForTest();

}  // namespace usersync::io
