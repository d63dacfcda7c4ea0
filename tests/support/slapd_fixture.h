// SlapdFixture: a private OpenLDAP slapd (Debian's /usr/sbin/slapd) for integration tests.
//
// Start() writes a slapd.conf (core, cosine, nis and inetorgperson schemas; one mdb database
// with the given suffix, a root DN with a plain rootpw, equality and subinitial indexes on
// objectClass and uid) into a fresh directory under ::testing::TempDir(), loads the LDIF with
// `slapadd -q`, and starts `slapd -d stats -h ldap://127.0.0.1:PORT/` on a free loopback
// port, waiting until the port accepts connections. With `tls`, it first makes a test CA and
// a server certificate (SANs 127.0.0.1 and localhost) with openssl, plus a second, unrelated
// CA (other_ca_file()) for negative tests, and listens on ldaps:// too; StartTLS works on the
// ldap:// port. The destructor kills slapd (SIGKILL); nothing outside the directory is touched.
//
// Thread-compatible. The slapd log (-d stats: one line per operation and result) is in
// log(), which tests may poll to act at a given point of a read.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"

namespace usersync::testing {

struct SlapdOptions {
  std::string suffix = "dc=example,dc=com";
  std::string root_dn = "cn=admin,dc=example,dc=com";
  std::string root_password = "admin-secret";
  bool tls = false;
  // Lines added to the database section (e.g. "limits users size=500").
  std::string extra_database_config;
  // Loads the syncprov overlay (RFC 4533 content synchronization provider) on the database.
  bool syncprov = false;
};

class SlapdFixture {
 public:
  // Errors: Internal / Unavailable with the failing command's output (slapadd, openssl, slapd
  // exiting or not listening within 10 s).
  static absl::StatusOr<std::unique_ptr<SlapdFixture>> Start(const std::string& ldif,
                                                             SlapdOptions options = {});
  ~SlapdFixture();
  SlapdFixture(const SlapdFixture&) = delete;
  SlapdFixture& operator=(const SlapdFixture&) = delete;

  // Kills slapd with SIGKILL and reaps it (the database stays).
  void Kill();
  // Starts slapd again on the same port(s) over the same database; waits until it listens.
  absl::Status Restart();
  // Kills slapd, rewrites its configuration with `options` (tls stays as started; e.g. the
  // syncprov overlay added or removed) and starts it again over the same database.
  absl::Status Reconfigure(SlapdOptions options);

  std::string url() const;        // ldap://127.0.0.1:PORT
  std::string ldaps_url() const;  // ldaps://127.0.0.1:PORT (tls only)
  const std::string& ca_file() const { return ca_file_; }
  const std::string& other_ca_file() const { return other_ca_file_; }
  const SlapdOptions& options() const { return options_; }
  const std::string& dir() const { return dir_; }
  // slapd's stderr so far (its -d stats log).
  std::string log() const;

 private:
  SlapdFixture() = default;
  absl::Status Launch();
  absl::Status WriteConfig() const;

  SlapdOptions options_;
  std::string dir_;
  std::string config_;
  std::string tls_config_;  // the TLS lines of the configuration ("" without tls)
  std::string ca_file_;
  std::string other_ca_file_;
  int port_ = 0;
  int ldaps_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  std::string previous_log_;  // logs of killed instances
};

// A loopback TCP port that was free a moment ago (bound to port 0, then closed).
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace usersync::testing
