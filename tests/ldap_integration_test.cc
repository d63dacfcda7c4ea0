// The LDAP source against a real OpenLDAP slapd started by the test (tests/support/
// slapd_fixture.h), through the real `usersync` binary and a real `usersync-target`:
// kind = "ldap" plans exactly what kind = "ldif" plans for the same data; every partition
// count reads every entry once on a skewed directory; a slapd killed mid-read leads to a
// retry or a clean exit 4, never a partial plan; a wrong password and an unreachable server
// exit 4 with a clear message; TLS (StartTLS, ldaps) verifies the server's certificate.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "io/ldap/ldap_directory.h"
#include "tests/support/plan_json.h"
#include "tests/support/samba_fixture.h"
#include "tests/support/slapd_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::Lacks;
using testing::ProcessResult;
using testing::SlapdFixture;
using testing::SlapdOptions;
using testing::SyncWorld;
using testing::WorldConfig;
constexpr char kPasswordEnv[] = "USERSYNC_TEST_LDAP_PASSWORD";
constexpr char kAdminPassword[] = "admin-secret";
constexpr char kReaderPassword[] = "reader-secret";

std::string Uuid(int idx) { return absl::StrFormat("%08x-0000-4000-8000-%012x", idx, idx); }

// "name: value", base64 when the value is not plain ASCII (RFC 2849 SAFE-STRING).
std::string Line(const std::string& name, const std::string& value) {
  bool safe = !value.empty() && value[0] != ' ' && value[0] != ':' && value[0] != '<';
  for (char c : value) safe = safe && static_cast<unsigned char>(c) < 0x80 && c != '\n';
  if (safe) return absl::StrCat(name, ": ", value, "\n");
  return absl::StrCat(name, ":: ", absl::Base64Escape(value), "\n");
}

// A skewed directory of `user_count` users: 90% of uids start with 'a'; the rest start with
// digits, upper-case or non-ASCII letters, have two uids, or have none at all. All are members
// of cn=staff (directly or through the nested cn=sub), which also names a member that does not
// exist. Returns the LDIF; `ids` gets every user's entryUUID.
std::string SkewedLdif(int user_count, std::set<std::string>* ids) {
  std::string out =
      "dn: dc=example,dc=com\nobjectClass: top\nobjectClass: dcObject\n"
      "objectClass: organization\no: Example\ndc: example\n\n"
      "dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n"
      "dn: ou=groups,dc=example,dc=com\nobjectClass: organizationalUnit\nou: groups\n\n"
      "dn: cn=reader,dc=example,dc=com\nobjectClass: organizationalRole\n"
      "objectClass: simpleSecurityObject\ncn: reader\n";
  absl::StrAppend(&out, "userPassword: ", kReaderPassword, "\n\n");
  std::vector<std::string> staff;
  std::vector<std::string> sub;
  for (int idx = 0; idx < user_count; ++idx) {
    std::vector<std::string> uids;
    switch (idx % 100) {
      case 90:
      case 91:
      case 92:
        uids = {absl::StrCat(idx, "num")};
        break;
      case 93:
      case 94:
        uids = {absl::StrCat("Zed", idx)};
        break;
      case 95:
        uids = {absl::StrCat("Mike", idx)};
        break;
      case 96:
        uids = {absl::StrCat("\xc3\xbcmit", idx)};  // ümit
        break;
      case 97:
        uids = {absl::StrCat("\xc3\x89va", idx)};  // Éva
        break;
      case 98:
        uids = {absl::StrCat("bob", idx), absl::StrCat("zz", idx)};
        break;
      case 99:
        break;  // no uid at all
      default:
        uids = {absl::StrCat("a", idx % 7 == 0 ? "A" : "", "user", idx)};
    }
    const std::string dn = uids.empty()
                               ? absl::StrCat("cn=nouid", idx, ",ou=people,dc=example,dc=com")
                               : absl::StrCat("uid=", uids[0], ",ou=people,dc=example,dc=com");
    absl::StrAppend(&out, Line("dn", dn),
                    "objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\n"
                    "objectClass: inetOrgPerson\n");
    for (const std::string& uid : uids) absl::StrAppend(&out, Line("uid", uid));
    absl::StrAppend(&out, "entryUUID: ", Uuid(idx), "\n");
    absl::StrAppend(&out, Line("cn", uids.empty() ? absl::StrCat("nouid", idx)
                                                  : absl::StrCat("User ", uids[0])));
    absl::StrAppend(&out, "givenName: Given", idx, "\nsn: Sn", idx, "\n");
    if (idx % 10 == 3) absl::StrAppend(&out, "employeeType: Contractor\n");  // scope.filter
    absl::StrAppend(&out, "mail: user", idx, "@example.com\n\n");
    (idx % 10 == 5 ? sub : staff).push_back(dn);
    if (ids != nullptr) ids->insert(Uuid(idx));
  }
  absl::StrAppend(&out,
                  "dn: cn=sub,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: sub\n");
  for (const std::string& dn : sub) absl::StrAppend(&out, Line("member", dn));
  absl::StrAppend(&out,
                  "\ndn: cn=staff,ou=groups,dc=example,dc=com\n"
                  "objectClass: groupOfNames\ncn: staff\n"
                  "member: cn=sub,ou=groups,dc=example,dc=com\n"
                  "member: uid=ghost,ou=people,dc=example,dc=com\n");
  for (const std::string& dn : staff) absl::StrAppend(&out, Line("member", dn));
  out += "\n";
  return out;
}

// What a plan says, in comparable form.
struct PlanView {
  std::multiset<std::string> ops;  // "create ID EMAIL"
  std::multiset<std::string> ids;  // directory ids of operations and invalid users
  std::vector<std::string> warnings;
  bool parsed = false;
};

PlanView ParsePlan(const std::string& json) {
  const testing::PlanJson plan = testing::ParsePlanJson(json);
  PlanView view;
  view.parsed = plan.parsed;
  for (const testing::PlannedOperation& op : plan.operations) {
    view.ops.insert(absl::StrCat(op.op, " ", op.directory_id, " ", op.email));
    view.ids.insert(op.directory_id);
  }
  for (const testing::InvalidUser& user : plan.invalid) view.ids.insert(user.directory_id);
  view.warnings = plan.warnings;
  return view;
}

class LdapIntegrationTest : public ::testing::Test {
 protected:
  static constexpr int kUsers = 3000;

  // One slapd (and one LDIF) for the tests that only read.
  static void SetUpTestSuite() {
    expected_ids_ = new std::set<std::string>();
    ldif_ = new std::string(SkewedLdif(kUsers, expected_ids_));
    // The reader may page through everything, 500 entries a page at most (AD's MaxPageSize
    // works so).
    SlapdOptions options;
    options.extra_database_config =
        "limits dn.exact=\"cn=reader,dc=example,dc=com\" size.soft=500 size.hard=500 "
        "size.pr=500 size.prtotal=unlimited";
    StartSharedSlapd(options);
  }
  static void TearDownTestSuite() {
    delete slapd_;
    slapd_ = nullptr;
    delete ldif_;
    ldif_ = nullptr;
    delete expected_ids_;
    expected_ids_ = nullptr;
    delete setup_error_;
    setup_error_ = nullptr;
  }

  // Starts the suite's slapd on *ldif_. A failure is kept in setup_error_, not asserted here:
  // GoogleTest (1.12) reports every test of a suite whose SetUpTestSuite failed as skipped, and
  // ctest counts a skip as a pass; SetUp() fails each test with the reason instead.
  static void StartSharedSlapd(const SlapdOptions& options) {
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start(*ldif_, options);
    if (!slapd.ok()) {
      setup_error_ = new std::string(slapd.status().ToString());
      return;
    }
    slapd_ = slapd->release();
  }

  void SetUp() override {
    if (setup_error_ != nullptr) FAIL() << "the suite's slapd did not start: " << *setup_error_;
    // The shared slapd started, unless this suite starts its own (no LDIF then).
    ASSERT_TRUE(slapd_ != nullptr || ldif_ == nullptr);
    if (ldif_ != nullptr) world_.WriteLdif(*ldif_);
    ASSERT_TRUE(world_.StartTarget().ok());
  }

  // Writes NAME.toml with the given [source] keys (state and logs of its own) and returns its
  // path.
  std::string WriteConfig(const std::string& name, const std::string& source_keys,
                          WorldConfig config = {}) {
    config.source = source_keys;
    config.state_path = "state-" + name + ".db";
    config.logs_dir = "logs-" + name;
    return world_.WriteConfig(config, name);
  }

  static std::string LdapKeys(const std::string& url, int connections, int page_size = 1000,
                              const std::string& bind_dn = "cn=admin,dc=example,dc=com") {
    return absl::StrCat(
        "kind = \"ldap\"\nurl = \"", url, "\"\nbind_dn = \"", bind_dn, "\"\nbind_password_env = \"",
        kPasswordEnv, "\"\nbase_dn = \"dc=example,dc=com\"\n", "connections = ", connections,
        "\npage_size = ", page_size, "\nnetwork_timeout = \"3s\"\ntimeout = \"20s\"\n");
  }

  ProcessResult Plan(const std::string& config, const std::string& password = kAdminPassword) {
    return world_.UsersyncArgs({"plan", "-c", config, "--format", "json"},
                               {{kPasswordEnv, password}}, std::chrono::seconds(120));
  }

  static SlapdFixture* slapd_;
  static std::string* ldif_;
  static std::set<std::string>* expected_ids_;
  static std::string* setup_error_;  // why SetUpTestSuite failed; null when it did not
  SyncWorld world_{"ldap"};
};

std::string* LdapIntegrationTest::setup_error_ = nullptr;
SlapdFixture* LdapIntegrationTest::slapd_ = nullptr;
std::string* LdapIntegrationTest::ldif_ = nullptr;
std::set<std::string>* LdapIntegrationTest::expected_ids_ = nullptr;

// (a) The same data through slapd and as an LDIF file plans the same operations, byte for
// byte with one connection (both read in entry order), and as the same set with four.
TEST_F(LdapIntegrationTest, LdapAndLdifGiveTheSamePlan) {
  ASSERT_NE(slapd_, nullptr);
  ProcessResult ldif = Plan(WriteConfig("ldif", "kind = \"ldif\"\npath = \"directory.ldif\"\n"));
  ASSERT_EQ(ldif.exit_code, 0) << ldif.err;
  ProcessResult ldap = Plan(WriteConfig("ldap", LdapKeys(slapd_->url(), 1)));
  ASSERT_EQ(ldap.exit_code, 0) << ldap.err;
  // The plan names the configuration file it came from; everything else must be identical.
  auto without_config_path = [](std::string json) {
    const size_t key = json.find("\"config\":\"");
    if (key != std::string::npos) json.erase(key, json.find("\",", key + 10) + 2 - key);
    return json;
  };
  EXPECT_EQ(without_config_path(ldap.out), without_config_path(ldif.out));

  const PlanView ldif_plan = ParsePlan(ldif.out);
  ASSERT_TRUE(ldif_plan.parsed) << ldif.out.substr(0, 500);
  EXPECT_EQ(ldif_plan.ops.size(), static_cast<size_t>(kUsers));
  EXPECT_EQ(std::set<std::string>(ldif_plan.ids.begin(), ldif_plan.ids.end()), *expected_ids_);

  ProcessResult parallel = Plan(WriteConfig("ldap4", LdapKeys(slapd_->url(), 4)));
  ASSERT_EQ(parallel.exit_code, 0) << parallel.err;
  const PlanView parallel_plan = ParsePlan(parallel.out);
  ASSERT_TRUE(parallel_plan.parsed);
  EXPECT_EQ(parallel_plan.ops, ldif_plan.ops);
  EXPECT_EQ(parallel_plan.warnings, ldif_plan.warnings);
}

// scope.filter is evaluated on the snapshot, so the attribute it names (employeeType, no fixed
// column) must be requested from the server: through slapd the filter selects the same users as
// from the LDIF file, beside the members of cn=sub.
TEST_F(LdapIntegrationTest, ScopeFilterSelectsTheSameUsersAsFromLdif) {
  WorldConfig config;
  config.scope_group = "cn=sub,ou=groups,dc=example,dc=com";
  config.scope_keys = "filter = \"(employeeType=contractor)\"\n";
  ProcessResult ldif =
      Plan(WriteConfig("fldif", "kind = \"ldif\"\npath = \"directory.ldif\"\n", config));
  ASSERT_EQ(ldif.exit_code, 0) << ldif.err;
  ProcessResult ldap = Plan(WriteConfig("fldap", LdapKeys(slapd_->url(), 2), config));
  ASSERT_EQ(ldap.exit_code, 0) << ldap.err;
  const PlanView ldif_plan = ParsePlan(ldif.out);
  const PlanView ldap_plan = ParsePlan(ldap.out);
  ASSERT_TRUE(ldif_plan.parsed && ldap_plan.parsed);
  EXPECT_EQ(ldap_plan.ops, ldif_plan.ops);
  // A tenth of the users are in cn=sub and a tenth are contractors.
  EXPECT_EQ(ldif_plan.ids.size(), static_cast<size_t>(kUsers / 5));
  EXPECT_EQ(ldif_plan.ids.count(Uuid(3)), 1u);  // a contractor
  EXPECT_EQ(ldif_plan.ids.count(Uuid(5)), 1u);  // in cn=sub
  EXPECT_EQ(ldif_plan.ids.count(Uuid(4)), 0u);  // neither
}

// (b) Every partition count returns every entry exactly once on a skewed directory: the ids
// are all there, none twice (a duplicate DN or id would also show up as a warning).
TEST_F(LdapIntegrationTest, EveryPartitionCountReadsEveryEntryOnce) {
  for (int connections : {1, 2, 4, 7}) {
    SCOPED_TRACE(absl::StrCat(connections, " connections"));
    ProcessResult plan = Plan(
        WriteConfig(absl::StrCat("c", connections), LdapKeys(slapd_->url(), connections, 200)));
    ASSERT_EQ(plan.exit_code, 0) << plan.err;
    const PlanView view = ParsePlan(plan.out);
    ASSERT_TRUE(view.parsed);
    EXPECT_EQ(view.ids.size(), static_cast<size_t>(kUsers));
    EXPECT_EQ(std::set<std::string>(view.ids.begin(), view.ids.end()), *expected_ids_);
    for (const std::string& warning : view.warnings) {
      EXPECT_TRUE(Lacks(warning, "duplicate"));
    }
  }
}

// A non-admin bind is held to slapd's 500-entry size limit: a page of 5,000 is refused
// (adminLimitExceeded) and the source falls back to a page the server allows, reading all.
TEST_F(LdapIntegrationTest, RefusedPageSizeFallsBackToAnAllowedOne) {
  ProcessResult plan =
      Plan(WriteConfig("reader", LdapKeys(slapd_->url(), 2, 5000, "cn=reader,dc=example,dc=com")),
           kReaderPassword);
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_TRUE(Contains(plan.err, "retrying with pages of"));
  const PlanView view = ParsePlan(plan.out);
  EXPECT_EQ(std::set<std::string>(view.ids.begin(), view.ids.end()), *expected_ids_);
  EXPECT_EQ(view.ids.size(), static_cast<size_t>(kUsers));
}

// (d) A wrong password exits 4 naming the bind DN, without printing the password.
TEST_F(LdapIntegrationTest, WrongPasswordExits4WithoutThePassword) {
  const std::string wrong = "Wr0ng-Passw0rd-xyz";
  ProcessResult plan = Plan(WriteConfig("wrong", LdapKeys(slapd_->url(), 2)), wrong);
  EXPECT_EQ(plan.exit_code, 4) << plan.err;
  EXPECT_TRUE(Contains(plan.err,
                       "bind as cn=admin,dc=example,dc=com refused: invalid "
                       "credentials"));
  EXPECT_TRUE(Lacks(plan.err + plan.out, wrong));
  EXPECT_TRUE(Lacks(plan.out, "\"operations\""));
}

// (d) A server nobody listens on exits 4 naming the URL.
TEST_F(LdapIntegrationTest, UnreachableServerExits4NamingTheUrl) {
  absl::StatusOr<int> port = testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  const std::string url = absl::StrCat("ldap://127.0.0.1:", *port);
  ProcessResult plan = Plan(WriteConfig("down", LdapKeys(url, 2)));
  EXPECT_EQ(plan.exit_code, 4) << plan.err;
  EXPECT_TRUE(Contains(plan.err, url));
  EXPECT_TRUE(Lacks(plan.out, "\"operations\""));
}

// A missing password variable is a configuration error (exit 2), named.
TEST_F(LdapIntegrationTest, MissingPasswordVariableExits2) {
  const std::string config = WriteConfig("nopass", LdapKeys(slapd_->url(), 1));
  ProcessResult plan = world_.UsersyncArgs({"plan", "-c", config, "--format", "json"},
                                           {{kPasswordEnv, ""}}, std::chrono::seconds(60));
  EXPECT_EQ(plan.exit_code, 2) << plan.err;
  EXPECT_TRUE(Contains(plan.err, kPasswordEnv));
}

// ---------------------------------------------------------------------------------------------
// (c) slapd killed in the middle of a read.

class LdapKillTest : public LdapIntegrationTest {
 protected:
  static constexpr int kBigUsers = 6000;

  // Each test starts its own slapd.
  static void SetUpTestSuite() {}

  // Runs `usersync plan` on a thread; kills slapd once it has answered `pages` user pages;
  // restarts it when `restart`. Returns the plan's result.
  ProcessResult PlanWithKill(SlapdFixture& slapd, bool restart, const std::string& name) {
    const std::string config = WriteConfig(name, LdapKeys(slapd.url(), 2, 10));
    ProcessResult result;
    std::thread runner([&] { result = Plan(config); });
    // slapd logs one "SEARCH RESULT" line per page it answered.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    size_t pages = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string log = slapd.log();
      pages = 0;
      for (size_t pos = log.find("SEARCH RESULT"); pos != std::string::npos;
           pos = log.find("SEARCH RESULT", pos + 1)) {
        ++pages;
      }
      if (pages >= 20) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    slapd.Kill();
    if (restart) {
      absl::Status restarted = slapd.Restart();
      EXPECT_TRUE(restarted.ok()) << restarted;
    }
    runner.join();
    EXPECT_GE(pages, 20u) << "slapd never answered 20 pages";
    return result;
  }
};

// A restarted slapd: the dropped partitions are read again from the start and the plan is
// whole (every id once), and the retry shows in the log.
TEST_F(LdapKillTest, KilledAndRestartedSlapdIsRetriedToACompletePlan) {
  std::set<std::string> ids;
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd =
      SlapdFixture::Start(SkewedLdif(kBigUsers, &ids));
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  ProcessResult plan = PlanWithKill(**slapd, /*restart=*/true, "restart");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_TRUE(Contains(plan.err, "reconnecting"));
  const PlanView view = ParsePlan(plan.out);
  ASSERT_TRUE(view.parsed);
  EXPECT_EQ(view.ids.size(), static_cast<size_t>(kBigUsers));
  EXPECT_EQ(std::set<std::string>(view.ids.begin(), view.ids.end()), ids);
}

// A slapd that stays down: exit 4 after the bounded retries, and no plan at all.
TEST_F(LdapKillTest, KilledSlapdThatStaysDownExits4WithoutAPlan) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd =
      SlapdFixture::Start(SkewedLdif(kBigUsers, nullptr));
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  ProcessResult plan = PlanWithKill(**slapd, /*restart=*/false, "down");
  EXPECT_EQ(plan.exit_code, 4) << plan.err;
  EXPECT_TRUE(Contains(plan.err, "gave up after"));
  EXPECT_TRUE(Contains(plan.err, (*slapd)->url()));
  EXPECT_TRUE(Lacks(plan.out, "\"operations\""));
}

// A partition that restarts after part of it was merged into the Directory (eager merge,
// chunks of 10 entries; slapd is killed and restarted right after the first chunk is merged):
// the merged part cannot be taken back, so the whole directory is read again, buffered; the
// result is whole (every id once) and the warning says so.
TEST_F(LdapKillTest, RestartAfterAPartialMergeRereadsTheWholeDirectory) {
  std::set<std::string> ids;
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd =
      SlapdFixture::Start(SkewedLdif(kBigUsers, &ids));
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  std::FILE* log = std::tmpfile();
  ASSERT_NE(log, nullptr);
  io::LdapSourceOptions options;
  options.url = (*slapd)->url();
  options.bind_dn = (*slapd)->options().root_dn;
  options.bind_password = (*slapd)->options().root_password;
  options.base_dn = (*slapd)->options().suffix;
  options.page_size = 10;
  options.connections = 1;
  options.merge_chunk_entries = 10;
  options.retry_base = std::chrono::milliseconds(50);
  options.log = log;
  int64_t merged_at_kill = -1;
  absl::Status restarted;
  options.chunk_merged_for_test = [&](int64_t merged_users) {
    if (merged_at_kill >= 0) return;
    merged_at_kill = merged_users;
    (*slapd)->Kill();
    restarted = (*slapd)->Restart();
  };
  io::LdapDirectorySource source(options);
  absl::StatusOr<core::Directory> dir = source.Read();
  ASSERT_TRUE(restarted.ok()) << restarted;
  ASSERT_GT(merged_at_kill, 0);
  ASSERT_LT(merged_at_kill, kBigUsers);
  ASSERT_TRUE(dir.ok()) << dir.status();
  std::rewind(log);
  std::string warnings;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), log)) > 0;) warnings.append(buf, n);
  std::fclose(log);
  EXPECT_TRUE(Contains(warnings, "reconnecting"));
  EXPECT_TRUE(Contains(warnings, "reading the whole directory again"));
  EXPECT_GE(source.stats().restarts, 1);
  EXPECT_EQ(source.stats().users, kBigUsers);
  EXPECT_EQ(dir->user_count(), static_cast<size_t>(kBigUsers));
  EXPECT_EQ(std::set<std::string>(dir->user_id.begin(), dir->user_id.end()), ids);
}

// ---------------------------------------------------------------------------------------------
// (e) TLS with a test CA.

class LdapTlsTest : public LdapIntegrationTest {
 protected:
  static void SetUpTestSuite() {
    expected_ids_ = new std::set<std::string>();
    ldif_ = new std::string(SkewedLdif(200, expected_ids_));
    SlapdOptions options;
    options.tls = true;
    StartSharedSlapd(options);
  }

  PlanView PlanOk(const std::string& name, const std::string& keys) {
    ProcessResult plan = Plan(WriteConfig(name, keys));
    EXPECT_EQ(plan.exit_code, 0) << plan.err;
    last_err_ = plan.err;
    return ParsePlan(plan.out);
  }
  std::string last_err_;
};

TEST_F(LdapTlsTest, StartTlsAndLdapsVerifyAgainstTheCaFile) {
  const std::string ca = absl::StrCat("ca_file = \"", slapd_->ca_file(), "\"\n");
  PlanView start_tls = PlanOk("starttls", LdapKeys(slapd_->url(), 2) + "start_tls = true\n" + ca);
  EXPECT_EQ(start_tls.ids.size(), 200u);
  PlanView ldaps = PlanOk("ldaps", LdapKeys(slapd_->ldaps_url(), 1) + ca);
  EXPECT_EQ(ldaps.ids.size(), 200u);
  EXPECT_TRUE(Lacks(last_err_, "tls_verify"));
}

// A certificate not signed by ca_file is refused (exit 4), over ldaps and StartTLS alike.
TEST_F(LdapTlsTest, CertificateFromAnotherCaIsRefused) {
  const std::string other = absl::StrCat("ca_file = \"", slapd_->other_ca_file(), "\"\n");
  ProcessResult ldaps = Plan(WriteConfig("ldaps-other", LdapKeys(slapd_->ldaps_url(), 1) + other));
  EXPECT_EQ(ldaps.exit_code, 4) << ldaps.err;
  // The message says what failed (the handshake, the certificate) and which key to check.
  const std::string check_ca =
      absl::StrCat("check source.ca_file (now \"", slapd_->other_ca_file(), "\")");
  EXPECT_TRUE(Contains(ldaps.err, absl::StrCat(slapd_->ldaps_url(),
                                               ": TLS handshake failed: "
                                               "the server's certificate was not accepted")));
  EXPECT_TRUE(Contains(ldaps.err, check_ca));
  EXPECT_TRUE(Lacks(ldaps.err, "Can't contact LDAP server"));
  EXPECT_TRUE(Lacks(ldaps.out, "\"operations\""));
  ProcessResult start_tls = Plan(
      WriteConfig("starttls-other", LdapKeys(slapd_->url(), 1) + "start_tls = true\n" + other));
  EXPECT_EQ(start_tls.exit_code, 4) << start_tls.err;
  EXPECT_TRUE(Contains(start_tls.err,
                       "TLS handshake failed after StartTLS: the server's "
                       "certificate was not accepted"));
  EXPECT_TRUE(Contains(start_tls.err, check_ca));
}

// tls_verify = false accepts it, and says so.
TEST_F(LdapTlsTest, TlsVerifyFalseAcceptsAnyCertificateWithAWarning) {
  const std::string other = absl::StrCat("ca_file = \"", slapd_->other_ca_file(), "\"\n");
  PlanView plan =
      PlanOk("noverify", LdapKeys(slapd_->ldaps_url(), 1) + other + "tls_verify = false\n");
  EXPECT_EQ(plan.ids.size(), 200u);
  EXPECT_TRUE(Contains(last_err_, "tls_verify = false"));
}

// ---------------------------------------------------------------------------------------------
// Active Directory: Samba's AD DC (shared/notes/samba-ad-fixture.md). One test, because
// provisioning a domain costs about 15 s.

namespace ad {

// AD renders objectGUID with its first three groups little-endian.
std::string GuidString(const std::string& bytes) {
  if (bytes.size() != 16) return "";
  static constexpr int kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string out;
  for (int idx = 0; idx < 16; ++idx) {
    if (idx == 4 || idx == 6 || idx == 8 || idx == 10) out += '-';
    absl::StrAppend(&out,
                    absl::Hex(static_cast<unsigned char>(bytes[kOrder[idx]]), absl::kZeroPad2));
  }
  return out;
}

constexpr int kAdUsers = 2000;
constexpr int kDisabledUser = 7;

std::string AdLdif() {
  const std::string base = testing::SambaAdFixture::kBaseDn;
  std::string out;
  for (int idx = 0; idx < kAdUsers; ++idx) {
    absl::StrAppend(&out, "dn: CN=User ", idx, ",CN=Users,", base,
                    "\nobjectClass: user\nsAMAccountName: user", idx, "\nuserPrincipalName: user",
                    idx, "@ad.example.test\nmail: user", idx, "@example.com\ngivenName: Given", idx,
                    "\nsn: Sn", idx, "\nuserAccountControl: ", idx == kDisabledUser ? 514 : 512,
                    "\n\n");
  }
  absl::StrAppend(&out, "dn: CN=big,CN=Users,", base,
                  "\nobjectClass: group\nsAMAccountName: big\n");
  for (int idx = 0; idx < kAdUsers; ++idx) {
    absl::StrAppend(&out, "member: CN=User ", idx, ",CN=Users,", base, "\n");
  }
  return out + "\n";
}

}  // namespace ad

class SambaAdTest : public LdapIntegrationTest {
 protected:
  static void SetUpTestSuite() {}

  // The big group in scope, no rules.
  static WorldConfig AdScope() {
    WorldConfig config;
    config.scope_group = absl::StrCat("CN=big,CN=Users,", testing::SambaAdFixture::kBaseDn);
    config.rules = "";
    return config;
  }

  std::string AdConfig(const std::string& name, const std::string& url, int connections) {
    return WriteConfig(
        name,
        absl::StrCat("kind = \"ldap\"\nflavor = \"ad\"\nurl = \"", url, "\"\nbind_dn = \"",
                     testing::SambaAdFixture::kAdminBind, "\"\nbind_password_env = \"",
                     kPasswordEnv, "\"\nbase_dn = \"", testing::SambaAdFixture::kBaseDn,
                     "\"\nconnections = ", connections, "\npage_size = 500\n"),
        AdScope());
  }
};

// A 2,000-member group read whole through member;range= retrieval (only 1,500 would come back
// otherwise), the disabled user (userAccountControl 514) left out, objectGUID as the id in its
// canonical form, and the same set with two partitions.
TEST_F(SambaAdTest, RangedMembersDisabledUserAndObjectGuid) {
  const std::string missing = testing::SambaAdFixture::Available();
  if (!missing.empty()) GTEST_SKIP() << "Samba AD DC unavailable: " << missing;
  absl::StatusOr<std::unique_ptr<testing::SambaAdFixture>> samba =
      testing::SambaAdFixture::Start(ad::AdLdif());
  ASSERT_TRUE(samba.ok()) << samba.status();
  const std::string password = (*samba)->admin_password();

  // The GUIDs as the server holds them.
  // ldapsearch reads the password from a file (-y), written and removed by the shell.
  ProcessResult guids =
      testing::RunProcess({"/bin/sh", "-c",
                           "printf %s \"$PW\" > pw && /usr/bin/ldapsearch -x -LLL -o ldif-wrap=no "
                           "-H \"$URL\" -D \"$DN\" -y pw -b \"$BASE\" '(sAMAccountName=user*)' "
                           "objectGUID mail; rc=$?; rm -f pw; exit $rc"},
                          {{"PW", password},
                           {"URL", (*samba)->url()},
                           {"DN", testing::SambaAdFixture::kAdminBind},
                           {"BASE", testing::SambaAdFixture::kBaseDn}},
                          world_.dir().string(), std::chrono::seconds(60));
  ASSERT_EQ(guids.exit_code, 0) << guids.err;
  std::map<std::string, std::string> guid_by_mail;
  std::string guid;
  for (absl::string_view line : absl::StrSplit(guids.out, '\n')) {
    if (absl::StartsWith(line, "objectGUID:: ")) {
      std::string bytes;
      ASSERT_TRUE(absl::Base64Unescape(line.substr(13), &bytes));
      guid = ad::GuidString(bytes);
    } else if (absl::StartsWith(line, "mail: ")) {
      guid_by_mail[std::string(line.substr(6))] = guid;
    }
  }
  ASSERT_EQ(guid_by_mail.size(), static_cast<size_t>(ad::kAdUsers));

  for (int connections : {1, 2}) {
    SCOPED_TRACE(absl::StrCat(connections, " connections"));
    ProcessResult plan =
        Plan(AdConfig(absl::StrCat("ad", connections), (*samba)->url(), connections), password);
    ASSERT_EQ(plan.exit_code, 0) << plan.err;
    const PlanView view = ParsePlan(plan.out);
    ASSERT_TRUE(view.parsed);
    std::multiset<std::string> expected;
    for (int idx = 0; idx < ad::kAdUsers; ++idx) {
      if (idx == ad::kDisabledUser) continue;
      const std::string mail = absl::StrCat("user", idx, "@example.com");
      expected.insert(absl::StrCat("create ", guid_by_mail[mail], " ", mail));
    }
    EXPECT_EQ(view.ops.size(), static_cast<size_t>(ad::kAdUsers - 1));
    EXPECT_TRUE(view.ops == expected) << "first op: " << *view.ops.begin();
  }

  // Delta cycles on AD (issue 15): after a full cycle, three users change (a last name, a
  // first name, one disabled) and one leaves the scoped group; the delta cycle reads only
  // those four entries (uSNChanged above the DC's highestCommittedUSN of the last cycle: the
  // three users and the group, whole with its 2,000 members), plans exactly those four users
  // and applies two updates and two deactivations; a full plan then has nothing to do.
  const std::string delta_config = AdConfig("addelta", (*samba)->url(), 1);
  const auto sync_delta = [&] {
    return world_.UsersyncArgs({"sync", "--delta", "-c", delta_config}, {{kPasswordEnv, password}},
                               std::chrono::seconds(120));
  };
  const ProcessResult full = sync_delta();
  ASSERT_EQ(full.exit_code, 0) << full.out << full.err;
  EXPECT_TRUE(Contains(full.out, "Cycle: full (")) << full.out;
  const testing::TargetStats before = world_.Stats();
  EXPECT_EQ(before.active_users, ad::kAdUsers - 1);

  const std::string base = testing::SambaAdFixture::kBaseDn;
  world_.WriteFile(
      "change.ldif",
      absl::StrCat(
          "dn: CN=User 10,CN=Users,", base, "\nchangetype: modify\nreplace: sn\n",
          "sn: Renamed\n\ndn: CN=User 11,CN=Users,", base,
          "\nchangetype: modify\nreplace: givenName\ngivenName: Newname\n\n",
          "dn: CN=User 12,CN=Users,", base, "\nchangetype: modify\nreplace: userAccountControl\n",
          "userAccountControl: 514\n\ndn: CN=big,CN=Users,", base,
          "\nchangetype: modify\ndelete: member\nmember: CN=User 13,CN=Users,", base, "\n"));
  // An OpenLDAP client `tool` run as Administrator with `args` (shell words; $ARG is `arg`),
  // the password in a file (-y) the shell writes and removes.
  const auto as_admin = [&](const std::string& tool, const std::string& args,
                            const std::string& arg) {
    return testing::RunProcess(
        {"/bin/sh", "-c",
         absl::StrCat("printf %s \"$PW\" > pw && ", tool, " -x -H \"$URL\" -D \"$DN\" -y pw ", args,
                      "; rc=$?; rm -f pw; exit $rc")},
        {{"PW", password},
         {"URL", (*samba)->url()},
         {"DN", testing::SambaAdFixture::kAdminBind},
         {"ARG", arg}},
        world_.dir().string(), std::chrono::seconds(60));
  };
  // The operations a full plan still has.
  const auto full_plan_ops = [&]() -> size_t {
    const ProcessResult settled = Plan(delta_config, password);
    EXPECT_EQ(settled.exit_code, 0) << settled.err;
    const PlanView view = ParsePlan(settled.out);
    EXPECT_TRUE(view.parsed);
    return view.ops.size();
  };
  const ProcessResult modified = as_admin("/usr/bin/ldapmodify", "-f change.ldif", "");
  ASSERT_EQ(modified.exit_code, 0) << modified.out << modified.err;

  // A delta cycle that reads `entries` changed entries by uSNChanged and plans as many users.
  const auto expect_delta_of = [&](int entries) {
    const ProcessResult delta = sync_delta();
    EXPECT_EQ(delta.exit_code, 0) << delta.out << delta.err;
    EXPECT_TRUE(
        Contains(delta.out, absl::StrCat("Cycle: delta (read ", entries, " directory entries, ",
                                         entries, " changed; ", entries, " users planned; ")))
        << delta.out;
    EXPECT_TRUE(Contains(delta.out, "read by uSNChanged watermark)")) << delta.out;
  };
  expect_delta_of(4);
  const testing::TargetStats after = world_.Stats();
  EXPECT_EQ(after.updates - before.updates, 4);
  EXPECT_EQ(after.creates, before.creates);
  EXPECT_EQ(after.active_users, ad::kAdUsers - 3);
  EXPECT_EQ(world_.ScimAccounts()["user10@example.com"].family_name, "Renamed");

  EXPECT_EQ(full_plan_ops(), 0u);

  // A user deleted in AD: its tombstone (Deleted Objects, read with the show-deleted control,
  // which Administrator may) makes the next delta deactivate it, reading that one entry
  // (Samba does not move the group's uSNChanged when the deletion drops its link: the
  // snapshot's group keeps the DN as an unresolved member until the next full cycle, which
  // changes no plan). A full plan then has nothing to do.
  const ProcessResult deleted =
      as_admin("/usr/bin/ldapdelete", "\"$ARG\"", absl::StrCat("CN=User 20,CN=Users,", base));
  ASSERT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
  expect_delta_of(1);
  EXPECT_EQ(world_.Stats().active_users, ad::kAdUsers - 4);
  EXPECT_EQ(full_plan_ops(), 0u);
}

}  // namespace
}  // namespace usersync
