#include "tests/support/samba_fixture.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tests/support/temp_files.h"

namespace usersync::testing {
namespace {

constexpr char kSamba[] = "/usr/sbin/samba";
constexpr char kSambaTool[] = "/usr/bin/samba-tool";
constexpr char kLdbadd[] = "/usr/bin/ldbadd";
constexpr char kLdapsearch[] = "/usr/bin/ldapsearch";

}  // namespace

std::string SambaAdFixture::Available() {
  std::string missing;
  for (const char* path : {kSamba, kSambaTool, kLdbadd, kLdapsearch}) {
    if (::access(path, X_OK) != 0) absl::StrAppend(&missing, missing.empty() ? "" : ", ", path);
  }
  if (missing.empty()) return "";
  return absl::StrCat("not installed: ", missing,
                      " (Debian packages samba samba-ad-provision samba-dsdb-modules "
                      "samba-vfs-modules ldb-tools ldap-utils; tools/dev deps installs them)");
}

absl::StatusOr<std::unique_ptr<SambaAdFixture>> SambaAdFixture::Start(const std::string& ldif) {
  static std::atomic<int> counter{0};
  std::unique_ptr<SambaAdFixture> samba(new SambaAdFixture());
  const int instance = counter++;
  absl::StatusOr<std::filesystem::path> fresh =
      FreshTempDir(absl::StrCat("samba-", ::getpid(), "-", instance));
  if (!fresh.ok()) return fresh.status();
  samba->dir_ = fresh->string();
  // One loopback address per fixture (and per test process, for parallel ctest runs).
  samba->address_ =
      absl::StrCat("127.0.", 1 + (::getpid() / 250) % 250, ".", 2 + (::getpid() + instance) % 250);
  const std::string& dir = samba->dir_;

  if (absl::Status s = RunToSuccess(
          {kSambaTool, "domain", "provision", "--use-rfc2307", "--realm=AD.EXAMPLE.TEST",
           "--domain=ADEX", "--server-role=dc", "--dns-backend=NONE", "--host-name=DC1",
           "--adminpass=" + samba->admin_password_, "--targetdir=" + dir},
          "", std::chrono::seconds(120));
      !s.ok()) {
    return s;
  }
  const std::string config = dir + "/etc/smb.conf";
  const std::string smb_conf = absl::StrCat(
      "[global]\n"
      "netbios name = DC1\nrealm = AD.EXAMPLE.TEST\nworkgroup = ADEX\n"
      "server role = active directory domain controller\n"
      "server services = ldap\n"
      "interfaces = ",
      samba->address_,
      "/8\nbind interfaces only = yes\n"
      "ldap server require strong auth = no\n"
      "tls enabled = no\n"
      "panic action =\n"
      "private dir = ",
      dir, "/private\nstate directory = ", dir, "/state\ncache directory = ", dir,
      "/cache\nlock directory = ", dir, "\nbinddns dir = ", dir, "/bind-dns\nlog file = ", dir,
      "/log.%m\nidmap_ldb:use rfc2307 = yes\n");
  if (absl::Status s = WriteFile(config, smb_conf); !s.ok()) return s;
  if (absl::Status s = WriteFile(dir + "/data.ldif", ldif); !s.ok()) return s;
  if (absl::Status s = RunToSuccess(
          {kLdbadd, "-H", dir + "/private/sam.ldb", "-o", "batch_mode:1", dir + "/data.ldif"}, "",
          std::chrono::seconds(300));
      !s.ok()) {
    return s;
  }

  samba->process_ = std::make_unique<ChildProcess>();
  if (absl::Status s = samba->process_->Start(
          {kSamba, "-s", config, "--foreground", "--no-process-group", "-M", "single",
           "--maximum-runtime=900", "--log-basename=" + dir + "/log"});
      !s.ok()) {
    return s;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    ProcessResult root_dse = RunProcess(
        {kLdapsearch, "-x", "-H", samba->url(), "-b", "", "-s", "base", "namingContexts"}, {}, "",
        std::chrono::seconds(5));
    if (root_dse.exit_code == 0) return samba;
    absl::StatusOr<int> exited = samba->process_->WaitFor(std::chrono::milliseconds(100));
    if (exited.ok()) {
      return absl::UnavailableError(
          absl::StrCat("samba exited with ", *exited, ": ", samba->process_->stderr_output()));
    }
  }
  return absl::UnavailableError(absl::StrCat("samba does not answer on ", samba->url(),
                                             " after 30 s: ", samba->process_->stderr_output()));
}

SambaAdFixture::~SambaAdFixture() {
  if (process_ == nullptr) return;
  process_->Signal(SIGTERM);
  if (!process_->WaitFor(std::chrono::seconds(5)).ok()) process_->Signal(SIGKILL);
  process_->Wait();
}

std::string SambaAdFixture::url() const { return absl::StrCat("ldap://", address_); }

}  // namespace usersync::testing
