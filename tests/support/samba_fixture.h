// SambaAdFixture: a private Active Directory domain controller (Debian's Samba 4.17 `samba`)
// for integration tests, per shared/notes/samba-ad-fixture.md.
//
// Start() provisions the domain AD.EXAMPLE.TEST (NetBIOS ADEX) into a fresh directory under
// ::testing::TempDir() with `samba-tool domain provision` (about 8 s), writes an smb.conf that
// keeps every path inside that directory and serves only LDAP on one loopback address
// (127.0.0.N: AD's ports cannot move off 389, so each fixture takes its own address), loads
// the given LDIF into sam.ldb with `ldbadd -o batch_mode:1` while samba is stopped, then
// starts `samba --foreground -M single` and waits until the rootDSE answers. The destructor
// stops samba (SIGTERM, then SIGKILL). Nothing under /etc, /var or /run is written.
//
// Available() says whether the packages are installed (tests skip otherwise and say why).
// Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"

namespace usersync::testing {

class SambaAdFixture {
 public:
  static constexpr char kBaseDn[] = "DC=ad,DC=example,DC=test";
  static constexpr char kAdminBind[] = "Administrator@AD.EXAMPLE.TEST";

  // "" when samba, samba-tool and ldbadd are installed; else what is missing.
  static std::string Available();

  // Errors: Internal with the failing command's output; Unavailable when samba does not answer
  // within 30 s.
  static absl::StatusOr<std::unique_ptr<SambaAdFixture>> Start(const std::string& ldif);
  ~SambaAdFixture();
  SambaAdFixture(const SambaAdFixture&) = delete;
  SambaAdFixture& operator=(const SambaAdFixture&) = delete;

  std::string url() const;  // ldap://127.0.0.N
  const std::string& admin_password() const { return admin_password_; }
  const std::string& dir() const { return dir_; }

 private:
  SambaAdFixture() = default;

  std::string dir_;
  std::string address_;
  std::string admin_password_ = "Adm1n-Passw0rd!";
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace usersync::testing
