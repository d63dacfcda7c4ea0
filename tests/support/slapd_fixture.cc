#include "tests/support/slapd_fixture.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/support/temp_files.h"

namespace usersync::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kSlapd[] = "/usr/sbin/slapd";
constexpr char kSlapadd[] = "/usr/sbin/slapadd";
constexpr char kOpenssl[] = "/usr/bin/openssl";

// True when something accepts TCP connections on 127.0.0.1:port.
bool Listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A CA (EC P-256, self-signed) as DIR/NAME.key and DIR/NAME.pem.
absl::Status MakeCa(const std::string& dir, const std::string& name) {
  return RunToSuccess(
      {kOpenssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-days", "2", "-subj", absl::StrCat("/CN=usersync test CA ", name), "-keyout",
       absl::StrCat(dir, "/", name, ".key"), "-out", absl::StrCat(dir, "/", name, ".pem")},
      dir);
}

}  // namespace

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return absl::InternalError("cannot bind a loopback port");
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

absl::StatusOr<std::unique_ptr<SlapdFixture>> SlapdFixture::Start(const std::string& ldif,
                                                                  SlapdOptions options) {
  static std::atomic<int> counter{0};
  std::unique_ptr<SlapdFixture> slapd(new SlapdFixture());
  slapd->options_ = std::move(options);
  const SlapdOptions& opts = slapd->options_;
  absl::StatusOr<fs::path> fresh = FreshTempDir(absl::StrCat("slapd-", ::getpid(), "-", counter++));
  if (!fresh.ok()) return fresh.status();
  slapd->dir_ = fresh->string();
  std::error_code ec;
  fs::create_directories(slapd->dir_ + "/db", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", slapd->dir_, "/db"));
  const std::string& dir = slapd->dir_;

  std::string tls_config;
  if (opts.tls) {
    if (absl::Status s = MakeCa(dir, "ca"); !s.ok()) return s;
    if (absl::Status s = MakeCa(dir, "other-ca"); !s.ok()) return s;
    if (absl::Status s = RunToSuccess(
            {kOpenssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", "/CN=127.0.0.1", "-keyout", dir + "/server.key", "-out", dir + "/server.csr"},
            dir);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = WriteFile(dir + "/server.ext",
                                   "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                                   "extendedKeyUsage = serverAuth\n");
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            RunToSuccess({kOpenssl, "x509", "-req", "-in", dir + "/server.csr", "-CA",
                          dir + "/ca.pem", "-CAkey", dir + "/ca.key", "-CAcreateserial", "-days",
                          "2", "-extfile", dir + "/server.ext", "-out", dir + "/server.pem"},
                         dir);
        !s.ok()) {
      return s;
    }
    slapd->ca_file_ = dir + "/ca.pem";
    slapd->other_ca_file_ = dir + "/other-ca.pem";
    tls_config = absl::StrCat("TLSCACertificateFile ", dir, "/ca.pem\n", "TLSCertificateFile ", dir,
                              "/server.pem\n", "TLSCertificateKeyFile ", dir, "/server.key\n");
  }

  slapd->config_ = dir + "/slapd.conf";
  slapd->tls_config_ = std::move(tls_config);
  if (absl::Status s = slapd->WriteConfig(); !s.ok()) return s;
  if (absl::Status s = WriteFile(dir + "/data.ldif", ldif); !s.ok()) return s;
  if (absl::Status s =
          RunToSuccess({kSlapadd, "-q", "-f", slapd->config_, "-l", dir + "/data.ldif"});
      !s.ok()) {
    return s;
  }

  absl::StatusOr<int> port = FreeLoopbackPort();
  if (!port.ok()) return port.status();
  slapd->port_ = *port;
  if (opts.tls) {
    absl::StatusOr<int> ldaps_port = FreeLoopbackPort();
    if (!ldaps_port.ok()) return ldaps_port.status();
    slapd->ldaps_port_ = *ldaps_port;
  }
  if (absl::Status s = slapd->Launch(); !s.ok()) return s;
  return slapd;
}

absl::Status SlapdFixture::WriteConfig() const {
  const SlapdOptions& opts = options_;
  const std::string& dir = dir_;
  const std::string config = absl::StrCat(
      "include /etc/ldap/schema/core.schema\n"
      "include /etc/ldap/schema/cosine.schema\n"
      "include /etc/ldap/schema/nis.schema\n"
      "include /etc/ldap/schema/inetorgperson.schema\n",
      "pidfile ", dir, "/slapd.pid\n", "argsfile ", dir, "/slapd.args\n",
      "modulepath /usr/lib/ldap\n"
      "moduleload back_mdb\n",
      opts.syncprov ? "moduleload syncprov\n" : "", tls_config_,
      "database mdb\n"
      "maxsize 4294967296\n",
      "suffix \"", opts.suffix, "\"\n", "rootdn \"", opts.root_dn, "\"\n", "rootpw ",
      opts.root_password, "\n", "directory ", dir, "/db\n",
      "index objectClass eq\n"
      "index uid eq,sub\n"
      "index entryUUID eq\n",
      opts.syncprov ? "overlay syncprov\nsyncprov-checkpoint 100 10\n" : "",
      opts.extra_database_config, "\n");
  return WriteFile(config_, config);
}

absl::Status SlapdFixture::Reconfigure(SlapdOptions options) {
  Kill();
  options.tls = options_.tls;
  options_ = std::move(options);
  if (absl::Status s = WriteConfig(); !s.ok()) return s;
  return Launch();
}

absl::Status SlapdFixture::Launch() {
  std::string listen = url() + "/";
  if (ldaps_port_ != 0) absl::StrAppend(&listen, " ", ldaps_url(), "/");
  process_ = std::make_unique<ChildProcess>();
  if (absl::Status s = process_->Start({kSlapd, "-d", "stats", "-f", config_, "-h", listen});
      !s.ok()) {
    return s;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Listening(port_) && (ldaps_port_ == 0 || Listening(ldaps_port_))) {
      return absl::OkStatus();
    }
    absl::StatusOr<int> exited = process_->WaitFor(std::chrono::milliseconds(20));
    if (exited.ok()) {
      return absl::UnavailableError(
          absl::StrCat("slapd exited with ", *exited, ": ", process_->stderr_output()));
    }
  }
  return absl::UnavailableError(absl::StrCat("slapd is not listening on ", url(),
                                             " after 10 s: ", process_->stderr_output()));
}

SlapdFixture::~SlapdFixture() { Kill(); }

void SlapdFixture::Kill() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  process_->Wait();
  previous_log_ += process_->stderr_output();
  process_.reset();
}

absl::Status SlapdFixture::Restart() {
  Kill();
  return Launch();
}

std::string SlapdFixture::url() const { return absl::StrCat("ldap://127.0.0.1:", port_); }
std::string SlapdFixture::ldaps_url() const {
  return absl::StrCat("ldaps://127.0.0.1:", ldaps_port_);
}

std::string SlapdFixture::log() const {
  return previous_log_ + (process_ == nullptr ? "" : process_->stderr_output());
}

}  // namespace usersync::testing
