// The LDAP source's connection layer over libldap (internal to io/ldap): opening a bound
// connection (TLS as configured, a simple bind, a read-ahead buffer under the protocol), and
// libldap's result codes turned into Status with the policy of STYLE.md §5.
//
// Thread-safety: a Connection is used by one thread at a time and owns its LDAP handle; the
// free functions are thread-safe.
#pragma once

#include <ldap.h>
#include <sys/time.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/ldap/ldap_directory.h"

namespace usersync::io::ldap_internal {

timeval ToTimeval(std::chrono::milliseconds duration);

// A view of `bv` (empty for a null value). Valid as long as `bv`'s memory.
inline std::string_view ToView(const berval& bv) {
  return bv.bv_val == nullptr ? std::string_view() : std::string_view(bv.bv_val, bv.bv_len);
}

// The server's diagnostic message for the last operation on `ld` ("" when none).
std::string Diagnostic(LDAP* ld);

// True when a read on `ld` would not block: bytes buffered in libldap's Sockbuf (read-ahead,
// TLS) or waiting in the socket. Costs one poll(2) with no timeout when the buffer is empty.
bool InputPending(LDAP* ld);

// The result code of the last operation on `ld`.
int LastResultCode(LDAP* ld);

// "<what>: <ldap error text> (<server diagnostic>)", with the status code that the LDAP result
// code `rc` stands for (kUnavailable for a server down or busy, kDeadlineExceeded, ...).
absl::Status LdapError(int rc, std::string_view what, std::string_view diagnostic);

// The values of `attributes` of the entry `dn` (base search; "" = the rootDSE: supportedControl,
// highestCommittedUSN, ...), read on `ld` synchronously (options.timeout), as (attribute,
// value) pairs in the server's order and spelling; an attribute the server does not show has
// no pair. Errors: the search's, as LdapError gives them, naming the URL and the DN.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadEntryValues(
    LDAP* ld, const LdapSourceOptions& options, const std::string& dn,
    const std::vector<std::string>& attributes);

// True when the source talks TLS: ldaps://, or ldap:// with StartTLS.
bool UsesTls(const LdapSourceOptions& options);

struct MessageFree {
  void operator()(LDAPMessage* msg) const { ldap_msgfree(msg); }
};
using MessagePtr = std::unique_ptr<LDAPMessage, MessageFree>;

// A bound connection.
class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects (TLS as configured) and binds. Errors: kInvalidArgument (a URL or CA file libldap
  // cannot use), kUnavailable (cannot connect; a TLS handshake that failed, "URL: TLS handshake
  // failed: ... certificate ...; check source.ca_file (now ...)"), kUnauthenticated (bind refused),
  // kPermissionDenied (stronger authentication wanted); never the password.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const LdapSourceOptions& options);

  LDAP* ld() const { return ld_; }

 private:
  Connection() = default;
  LDAP* ld_ = nullptr;
  // Set by libldap's TLS connect callback when a handshake begins (ldap_connection.cc).
  bool tls_handshake_started_ = false;
};

}  // namespace usersync::io::ldap_internal
