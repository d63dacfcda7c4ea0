#include "io/ldap/ldap_connection.h"

#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"

namespace usersync::io::ldap_internal {
namespace {

// The status code that an LDAP result code stands for (STYLE.md §5).
absl::StatusCode CodeFor(int rc) {
  auto one_of = [rc](std::initializer_list<int> codes) {
    return std::find(codes.begin(), codes.end(), rc) != codes.end();
  };
  if (one_of(
          {LDAP_SERVER_DOWN, LDAP_CONNECT_ERROR, LDAP_BUSY, LDAP_UNAVAILABLE, LDAP_LOOP_DETECT})) {
    return absl::StatusCode::kUnavailable;
  }
  if (one_of({LDAP_TIMEOUT, LDAP_TIMELIMIT_EXCEEDED})) return absl::StatusCode::kDeadlineExceeded;
  if (rc == LDAP_INVALID_CREDENTIALS) return absl::StatusCode::kUnauthenticated;
  if (one_of({LDAP_INSUFFICIENT_ACCESS, LDAP_STRONG_AUTH_REQUIRED, LDAP_CONFIDENTIALITY_REQUIRED,
              LDAP_INAPPROPRIATE_AUTH})) {
    return absl::StatusCode::kPermissionDenied;
  }
  if (rc == LDAP_NO_SUCH_OBJECT) return absl::StatusCode::kNotFound;
  if (one_of({LDAP_ADMINLIMIT_EXCEEDED, LDAP_SIZELIMIT_EXCEEDED, LDAP_NO_MEMORY})) {
    return absl::StatusCode::kResourceExhausted;
  }
  return absl::StatusCode::kFailedPrecondition;
}

// Protocol version, no referrals, the timeouts, no client-side limits.
void SetSessionOptions(LDAP* ld, const LdapSourceOptions& options) {
  const int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  const timeval network_timeout = ToTimeval(options.network_timeout);
  ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &network_timeout);
  // Synchronous operations (StartTLS, bind, the range reads) wait at most this long.
  const timeval timeout = ToTimeval(options.timeout);
  ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout);
  const int no_limit = LDAP_NO_LIMIT;
  ldap_set_option(ld, LDAP_OPT_SIZELIMIT, &no_limit);
  ldap_set_option(ld, LDAP_OPT_TIMELIMIT, &no_limit);
}

// libldap's TLS connect callback (LDAP_OPT_X_TLS_CONNECT_CB; its type is in libldap's private
// header): called once the TCP connection stands, just before the handshake. `arg` is the
// Connection's tls_handshake_started_ flag: set, a failure that follows is the handshake's.
int OnTlsConnect(LDAP* /*ld*/, void* /*session*/, void* /*ctx*/, void* arg) {
  *static_cast<bool*>(arg) = true;
  return 0;
}

// A TLS handshake that failed after the TCP connection stood. libldap (GnuTLS) keeps no
// verification detail ("(unknown error code)"), so the message names the likely causes and the
// keys that decide them.
absl::Status TlsHandshakeError(LDAP* ld, const LdapSourceOptions& options, std::string_view how) {
  const std::string diagnostic = Diagnostic(ld);
  const std::string ca_file = options.ca_file.empty() ? std::string("unset: the system's CAs")
                                                      : absl::StrCat("\"", options.ca_file, "\"");
  const std::string cause =
      options.tls_verify
          ? "the server's certificate was not accepted (certificate not signed by a CA in "
            "source.ca_file, expired, or not issued for this host name)"
          : "source.tls_verify = false, so not the certificate: does the server speak TLS there?";
  return absl::UnavailableError(
      absl::StrCat(options.url, ": TLS handshake failed", Sv(how), ": ", cause,
                   diagnostic.empty() ? "" : absl::StrCat(" [libldap: ", diagnostic, "]"),
                   "; check source.ca_file (now ", ca_file, ")"));
}

// The TLS context (CA file, verification, the handshake probe), then StartTLS when asked for.
absl::Status SetUpTls(LDAP* ld, const LdapSourceOptions& options, bool* handshake_started) {
  if (!UsesTls(options)) return absl::OkStatus();
  ldap_set_option(ld, LDAP_OPT_X_TLS_CONNECT_CB, reinterpret_cast<void*>(&OnTlsConnect));
  ldap_set_option(ld, LDAP_OPT_X_TLS_CONNECT_ARG, handshake_started);
  int rc = LDAP_SUCCESS;
  if (!options.ca_file.empty()) {
    rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, options.ca_file.c_str());
    if (rc != LDAP_OPT_SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("source.ca_file \"", options.ca_file, "\" cannot be used"));
    }
  }
  const int require = options.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
  ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
  const int is_server = 0;
  rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
  if (rc != LDAP_OPT_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS setup for ", options.url, " failed (source.ca_file \"", options.ca_file,
                     "\"): ", ldap_err2string(rc), " ", Diagnostic(ld)));
  }
  if (!options.start_tls) return absl::OkStatus();
  rc = ldap_start_tls_s(ld, nullptr, nullptr);
  if (rc != LDAP_SUCCESS && *handshake_started) {
    return TlsHandshakeError(ld, options, " after StartTLS");
  }
  if (rc != LDAP_SUCCESS) {
    absl::Status error = LdapError(rc, absl::StrCat("StartTLS with ", options.url), Diagnostic(ld));
    // Without TLS nothing else may go over this connection; a failed handshake is a
    // connection problem.
    return absl::UnavailableError(error.message());
  }
  return absl::OkStatus();
}

// A simple bind (anonymous when bind_dn is empty). Over ldaps:// the connection, and so the
// TLS handshake, happens here: `*handshake_started` (set during the bind by OnTlsConnect) tells
// its failure from an unreachable host.
absl::Status Bind(LDAP* ld, const LdapSourceOptions& options, const bool* handshake_started) {
  berval credentials;
  credentials.bv_val = const_cast<char*>(options.bind_password.data());
  credentials.bv_len = options.bind_password.size();
  const int rc = ldap_sasl_bind_s(ld, options.bind_dn.c_str(), LDAP_SASL_SIMPLE, &credentials,
                                  nullptr, nullptr, nullptr);
  if (rc == LDAP_SUCCESS) return absl::OkStatus();
  if (rc == LDAP_INVALID_CREDENTIALS) {
    return absl::UnauthenticatedError(absl::StrCat(
        "bind as ", options.bind_dn, " refused: invalid credentials (", options.url, ")"));
  }
  if ((rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) && *handshake_started) {
    return TlsHandshakeError(ld, options, "");
  }
  if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT) {
    const std::string diagnostic = Diagnostic(ld);
    return absl::UnavailableError(
        absl::StrCat("cannot reach ", options.url, ": ", ldap_err2string(rc),
                     diagnostic.empty() ? "" : absl::StrCat(" (", diagnostic, ")")));
  }
  return LdapError(rc,
                   absl::StrCat("bind as ", options.bind_dn.empty() ? "anonymous" : options.bind_dn,
                                " at ", options.url),
                   Diagnostic(ld));
}

// libldap reads a TCP connection with two read(2)s and a poll(2) per message (header, then
// body): 3 system calls per entry, a third of the client's CPU on a big read. A read-ahead
// layer under the protocol (below TLS, if any) fills a 64 KiB buffer per read(2), and
// ldap_result() then finds the next message buffered without polling: 0.08 system calls per
// entry. Measured in bench/RESULTS.md ("LDAP read").
// Also bounds one incoming message (an entry) at max_entry_bytes + 1 MiB of protocol: libldap
// would otherwise allocate whatever length a message header claims.
void AddReadAhead(LDAP* ld, const LdapSourceOptions& options) {
  Sockbuf* sb = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != nullptr) {
    ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead, LBER_SBIOD_LEVEL_PROVIDER, nullptr);
    ber_len_t readahead_bytes = 64 * 1024;
    ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_READAHEAD, &readahead_bytes);
    ber_len_t max_incoming = options.max_entry_bytes + (ber_len_t{1} << 20);
    ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max_incoming);
  }
}

}  // namespace

timeval ToTimeval(std::chrono::milliseconds duration) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

std::string Diagnostic(LDAP* ld) {
  if (ld == nullptr) return "";
  char* text = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &text) != LDAP_OPT_SUCCESS ||
      text == nullptr) {
    return "";
  }
  std::string out(text);
  ldap_memfree(text);
  return out;
}

bool InputPending(LDAP* ld) {
  Sockbuf* sb = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS || sb == nullptr) return true;
  if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_DATA_READY, nullptr) != 0) return true;
  int fd = -1;
  if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0) return true;
  pollfd ready{fd, POLLIN, 0};
  return ::poll(&ready, 1, /*timeout=*/0) != 0;
}

int LastResultCode(LDAP* ld) {
  int code = LDAP_OTHER;
  ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code);
  return code;
}

absl::Status LdapError(int rc, std::string_view what, std::string_view diagnostic) {
  std::string message = absl::StrCat(Sv(what), ": ", ldap_err2string(rc));
  if (!diagnostic.empty()) absl::StrAppend(&message, " (", Sv(diagnostic), ")");
  return absl::Status(CodeFor(rc), message);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadEntryValues(
    LDAP* ld, const LdapSourceOptions& options, const std::string& dn,
    const std::vector<std::string>& attributes) {
  std::vector<char*> attrs;
  for (const std::string& name : attributes) attrs.push_back(const_cast<char*>(name.c_str()));
  attrs.push_back(nullptr);
  timeval timeout = ToTimeval(options.timeout);
  LDAPMessage* raw = nullptr;
  const int rc = ldap_search_ext_s(ld, dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", attrs.data(),
                                   0, nullptr, nullptr, &timeout, /*sizelimit=*/1, &raw);
  std::unique_ptr<LDAPMessage, decltype(&ldap_msgfree)> result(raw, &ldap_msgfree);
  if (rc != LDAP_SUCCESS) {
    return LdapError(
        rc,
        absl::StrCat("reading ", dn.empty() ? std::string("the rootDSE") : dn, " at ", options.url),
        Diagnostic(ld));
  }
  std::vector<std::pair<std::string, std::string>> out;
  LDAPMessage* entry = ldap_first_entry(ld, result.get());
  if (entry == nullptr) return out;
  BerElement* ber = nullptr;
  for (char* name = ldap_first_attribute(ld, entry, &ber); name != nullptr;
       name = ldap_next_attribute(ld, entry, ber)) {
    berval** values = ldap_get_values_len(ld, entry, name);
    for (size_t idx = 0; values != nullptr && values[idx] != nullptr; ++idx) {
      out.emplace_back(name, std::string(ToView(*values[idx])));
    }
    if (values != nullptr) ldap_value_free_len(values);
    ldap_memfree(name);
  }
  if (ber != nullptr) ber_free(ber, 0);
  return out;
}

bool UsesTls(const LdapSourceOptions& options) {
  return options.start_tls || options.url.substr(0, 8) == "ldaps://";
}

Connection::~Connection() {
  if (ld_ != nullptr) ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const LdapSourceOptions& options) {
  std::unique_ptr<Connection> conn(new Connection());
  const int rc = ldap_initialize(&conn->ld_, options.url.c_str());
  if (rc != LDAP_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("source.url \"", options.url, "\": ", ldap_err2string(rc)));
  }
  SetSessionOptions(conn->ld_, options);
  USERSYNC_RETURN_IF_ERROR(SetUpTls(conn->ld_, options, &conn->tls_handshake_started_));
  USERSYNC_RETURN_IF_ERROR(Bind(conn->ld_, options, &conn->tls_handshake_started_));
  AddReadAhead(conn->ld_, options);
  return conn;
}

}  // namespace usersync::io::ldap_internal
