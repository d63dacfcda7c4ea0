#include "tools/gen/ldif_generator.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/group_closure.h"
#include "core/mapping.h"
#include "core/normalize.h"
#include "core/str.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/ldif/ldif_reader.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<LdifGenerator> MakeGenerator(LdifGenOptions options) {
  absl::StatusOr<std::unique_ptr<LdifGenerator>> gen = LdifGenerator::Create(std::move(options));
  EXPECT_TRUE(gen.ok()) << gen.status();
  return gen.ok() ? *std::move(gen) : nullptr;
}

std::string TempPath(std::string_view name) {
  return absl::StrCat(::testing::TempDir(), "/ldif_generator_test_", ::getpid(), "_", Sv(name));
}

// Writes the generator's LDIF to a temp file and reads it back with the LDIF source.
core::Directory ReadBack(const LdifGenerator& gen, std::string_view name,
                         LdifReadStats* stats = nullptr) {
  const std::string path = TempPath(name);
  absl::StatusOr<uint64_t> bytes = gen.WriteFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<core::Directory> dir = ReadLdifDirectory(path, gen.DefaultSchema(), stats);
  EXPECT_TRUE(dir.ok()) << dir.status();
  std::remove(path.c_str());
  return dir.ok() ? *std::move(dir) : core::Directory();
}

// Users in scope as a sync sees them: under the scope group, not disabled.
std::vector<uint8_t> InScope(const core::Directory& dir, const LdifGenSummary& summary,
                             uint64_t* reached = nullptr) {
  const std::optional<uint32_t> scope = dir.FindGroupByDn(summary.scope_group_dn);
  EXPECT_TRUE(scope.has_value());
  if (!scope.has_value()) return std::vector<uint8_t>(dir.user_count(), 0);
  const uint32_t roots[] = {*scope};
  core::ClosureResult closure = core::GroupClosure(dir, roots);
  if (reached != nullptr) *reached = closure.users_reached;
  for (size_t user = 0; user < dir.user_count(); ++user) {
    if (dir.disabled[user]) closure.user_in[user] = 0;
  }
  return closure.user_in;
}

TEST(LdifGenerator, SameSeedGivesSameBytes) {
  LdifGenOptions options;
  options.users = 3000;
  options.groups = 150;
  options.seed = 7;
  const std::string first = MakeGenerator(options)->WriteString();
  const std::string second = MakeGenerator(options)->WriteString();
  EXPECT_EQ(first, second);
  EXPECT_GT(first.size(), 3000u * 200);
  options.seed = 8;
  EXPECT_NE(first, MakeGenerator(options)->WriteString());
}

TEST(LdifGenerator, WriteFileMatchesWriteString) {
  LdifGenOptions options;
  options.users = 500;
  options.groups = 20;
  std::unique_ptr<LdifGenerator> gen = MakeGenerator(options);
  const std::string path = TempPath("file.ldif");
  absl::StatusOr<uint64_t> bytes = gen->WriteFile(path);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  std::ifstream in(path, std::ios::binary);
  const std::string contents((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  EXPECT_EQ(contents, gen->WriteString());
  EXPECT_EQ(*bytes, contents.size());
  EXPECT_TRUE(absl::StartsWith(contents, "version: 1\n\ndn: dc=example,dc=com\n"));
}

TEST(LdifGenerator, ParsesIntoTheCountedDirectory) {
  LdifGenOptions options;
  options.users = 8000;
  options.groups = 150;
  options.seed = 11;
  std::unique_ptr<LdifGenerator> gen = MakeGenerator(options);
  const LdifGenSummary& s = gen->summary();
  LdifReadStats stats;
  const core::Directory dir = ReadBack(*gen, "counted.ldif", &stats);

  EXPECT_EQ(dir.user_count(), 8000u);
  EXPECT_EQ(dir.group_count(), 150u + 4);
  EXPECT_EQ(s.fixed_groups, 4);
  EXPECT_EQ(stats.records, s.entries);
  EXPECT_EQ(stats.member_values, s.member_values);
  EXPECT_EQ(static_cast<int64_t>(dir.members.size()), s.user_members + s.group_members);
  EXPECT_EQ(static_cast<int64_t>(dir.unresolved_member_count), s.dangling_members);
  EXPECT_TRUE(dir.issues.empty()) << dir.issues.front().dn << ": " << dir.issues.front().reason;
  EXPECT_GE(s.dangling_members, 1);
  EXPECT_GE(s.cycles, 2);
  EXPECT_EQ(s.max_depth, 26);  // dept-0 → chain-0 .. chain-24

  // Every kind of messy data occurs (fixed seed: this is a property of the data set).
  EXPECT_GT(s.mixed_case_emails, 0);
  EXPECT_GT(s.padded_emails, 0);
  EXPECT_GT(s.no_email, 0);
  EXPECT_GT(s.foreign_domain, 0);
  EXPECT_GT(s.duplicate_email_users, 0);
  EXPECT_GT(s.no_given_name, 0);
  EXPECT_GT(s.bad_language, 0);
  EXPECT_GT(s.utf8_names, 0);
  EXPECT_GT(s.outside_users, 0);
  EXPECT_GT(s.contractors, 0);
  EXPECT_EQ(s.disabled, 0);  // openldap has no disabled flag

  uint64_t reached = 0;
  std::vector<uint8_t> in_scope = InScope(dir, s, &reached);
  EXPECT_EQ(static_cast<int64_t>(reached), s.scope_users);
  EXPECT_EQ(s.scope_users + s.outside_users, s.users);
  core::MappingOptions mapping;
  mapping.validated_domains = {s.domain};
  const core::MappingResult result = core::MapUsers(dir, std::move(in_scope), {}, mapping);
  int64_t no_email = 0, foreign = 0, duplicate = 0, no_given = 0;
  for (const core::InvalidUser& invalid : result.invalid) {
    if (invalid.reason == "no email") {
      ++no_email;
    } else if (absl::StartsWith(invalid.reason, "email outside the validated domains")) {
      ++foreign;
    } else if (absl::StartsWith(invalid.reason, "duplicate email")) {
      ++duplicate;
    } else if (invalid.reason == "no first name") {
      ++no_given;
    } else {
      ADD_FAILURE() << "unexpected reason: " << invalid.reason;
    }
  }
  EXPECT_EQ(static_cast<int64_t>(result.invalid.size()), s.invalid);
  EXPECT_EQ(no_email, s.invalid_no_email);
  EXPECT_EQ(foreign, s.invalid_foreign_domain);
  EXPECT_EQ(duplicate, s.invalid_duplicate_email);
  EXPECT_EQ(no_given, s.invalid_no_given_name);
  EXPECT_EQ(static_cast<int64_t>(result.desired.size()), s.in_scope - s.invalid);
  EXPECT_GT(s.invalid_duplicate_email, 0);

  // Users under the rule groups are all in scope.
  const std::optional<uint32_t> organizers = dir.FindGroupByDn(s.organizers_dn);
  ASSERT_TRUE(organizers.has_value());
  const uint32_t roots[] = {*organizers};
  const core::ClosureResult rule = core::GroupClosure(dir, roots);
  EXPECT_GT(rule.users_reached, static_cast<uint64_t>(s.organizers));
  for (size_t user = 0; user < dir.user_count(); ++user) {
    if (rule.user_in[user]) {
      EXPECT_TRUE(result.in_scope[user]) << dir.user_dn[user];
    }
  }
}

TEST(LdifGenerator, IdsAndEmailsAreUniqueButForThePairs) {
  LdifGenOptions options;
  options.users = 5000;
  options.groups = 40;
  std::unique_ptr<LdifGenerator> gen = MakeGenerator(options);
  const core::Directory dir = ReadBack(*gen, "unique.ldif");
  absl::flat_hash_set<std::string_view> ids(dir.user_id.begin(), dir.user_id.end());
  EXPECT_EQ(ids.size(), dir.user_count());
  for (std::string_view id : dir.user_id) ASSERT_EQ(id.size(), 36u) << id;
  absl::flat_hash_set<std::string> emails;
  int64_t repeated = 0;
  for (std::string_view email : dir.email) {
    if (email.empty()) continue;
    std::string normalized(core::TrimWhitespace(email));
    for (char& c : normalized) c = absl::ascii_tolower(static_cast<unsigned char>(c));
    repeated += !emails.insert(normalized).second;
  }
  EXPECT_EQ(repeated * 2, gen->summary().duplicate_email_users);
}

TEST(LdifGenerator, ActiveDirectoryFlavor) {
  LdifGenOptions options;
  options.users = 6000;
  options.groups = 60;
  options.flavor = "ad";
  options.base_dn = "DC=corp,DC=example,DC=org";
  std::unique_ptr<LdifGenerator> gen = MakeGenerator(options);
  const LdifGenSummary& s = gen->summary();
  EXPECT_EQ(s.domain, "corp.example.org");
  const std::string text = gen->WriteString();
  EXPECT_THAT(text, HasSubstr("\nobjectGUID:: "));
  EXPECT_THAT(text, HasSubstr("\nuserAccountControl: 514\n"));
  EXPECT_THAT(text, HasSubstr("\nobjectCategory: CN=Person,CN=Schema,CN=Configuration,"));
  const core::Directory dir = ReadBack(*gen, "ad.ldif");
  EXPECT_EQ(dir.user_count(), 6000u);
  EXPECT_EQ(dir.group_count(), 64u);
  EXPECT_EQ(static_cast<int64_t>(dir.unresolved_member_count), s.dangling_members);
  EXPECT_GT(s.disabled, 0);
  int64_t disabled = 0;
  for (uint8_t flag : dir.disabled) disabled += flag;
  EXPECT_EQ(disabled, s.disabled);
  absl::flat_hash_set<std::string_view> ids;
  for (size_t user = 0; user < dir.user_count(); ++user) {
    ASSERT_EQ(dir.user_id[user].size(), 36u);  // objectGUID in its canonical string form
    ids.insert(dir.user_id[user]);
    EXPECT_TRUE(absl::EndsWith(Sv(dir.user_name[user]), "@corp.example.org"))
        << dir.user_name[user];
  }
  EXPECT_EQ(ids.size(), dir.user_count());

  uint64_t reached = 0;
  std::vector<uint8_t> in_scope = InScope(dir, s, &reached);
  EXPECT_EQ(static_cast<int64_t>(reached), s.scope_users);
  core::MappingOptions mapping;
  mapping.validated_domains = {s.domain};
  const core::MappingResult result = core::MapUsers(dir, std::move(in_scope), {}, mapping);
  EXPECT_EQ(static_cast<int64_t>(result.invalid.size()), s.invalid);
  EXPECT_EQ(static_cast<int64_t>(result.desired.size()), s.in_scope - s.invalid);
}

// A quarter of the users go to big teams once there are 20,000+ in scope; the chain nests 25
// groups below dept-0 and closes a cycle.
TEST(LdifGenerator, BigGroupsAndADeepChain) {
  LdifGenOptions options;
  options.users = 30'000;
  options.groups = 300;
  std::unique_ptr<LdifGenerator> gen = MakeGenerator(options);
  const LdifGenSummary& s = gen->summary();
  EXPECT_GE(s.groups_5000, 1);
  EXPECT_GE(s.largest_group, 5000);
  absl::StatusOr<core::Directory> dir = gen->BuildDirectory();
  ASSERT_TRUE(dir.ok()) << dir.status();
  size_t largest = 0;
  for (uint32_t group = 0; group < dir->group_count(); ++group) {
    largest = std::max<size_t>(largest, dir->member_begin[group + 1] - dir->member_begin[group]);
  }
  EXPECT_EQ(static_cast<int64_t>(largest), s.largest_group);

  const std::optional<uint32_t> scope = dir->FindGroupByDn(s.scope_group_dn);
  const std::optional<uint32_t> last =
      dir->FindGroupByDn("cn=chain-24,ou=groups,dc=example,dc=com");
  ASSERT_TRUE(scope.has_value());
  ASSERT_TRUE(last.has_value());
  const uint32_t roots[] = {*scope};
  const core::ClosureResult closure = core::GroupClosure(*dir, roots);
  EXPECT_EQ(static_cast<int64_t>(closure.users_reached), s.scope_users);
  EXPECT_EQ(closure.groups_reached, 300u + 3);  // all but contractors
  // goto-users, dept-0, chain-0 .. chain-24.
  EXPECT_EQ(core::GroupPath(closure, *last).size(), 27u);
}

// The in-memory path (benchmarks) gives the same directory as writing and reading the LDIF.
TEST(LdifGenerator, BuildDirectoryEqualsTheLdifRead) {
  LdifGenOptions options;
  options.users = 2000;
  options.groups = 120;
  options.memberships = 2.5;
  std::unique_ptr<LdifGenerator> gen = MakeGenerator(options);
  const core::Directory from_ldif = ReadBack(*gen, "same.ldif");
  absl::StatusOr<core::Directory> built = gen->BuildDirectory();
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ(built->user_count(), from_ldif.user_count());
  ASSERT_EQ(built->group_count(), from_ldif.group_count());
  for (size_t user = 0; user < built->user_count(); ++user) {
    ASSERT_EQ(built->user_dn[user], from_ldif.user_dn[user]);
    ASSERT_EQ(built->user_id[user], from_ldif.user_id[user]);
    ASSERT_EQ(built->email[user], from_ldif.email[user]);
    ASSERT_EQ(built->first_name[user], from_ldif.first_name[user]);
  }
  EXPECT_EQ(built->member_begin, from_ldif.member_begin);
  ASSERT_EQ(built->members.size(), from_ldif.members.size());
  for (size_t edge = 0; edge < built->members.size(); ++edge) {
    ASSERT_EQ(built->members[edge].value, from_ldif.members[edge].value);
  }
  // 2.5 extra memberships on average, besides the home group.
  const double per_user =
      static_cast<double>(gen->summary().user_members) / gen->summary().scope_users;
  EXPECT_GT(per_user, 3.3);
  EXPECT_LT(per_user, 3.7);
}

TEST(LdifGenerator, SmallAndEmptyDirectories) {
  for (int64_t groups : {0, 1, 3}) {
    LdifGenOptions options;
    options.users = 50;
    options.groups = groups;
    std::unique_ptr<LdifGenerator> gen = MakeGenerator(options);
    const core::Directory dir = ReadBack(*gen, "small.ldif");
    EXPECT_EQ(dir.user_count(), 50u);
    EXPECT_EQ(dir.group_count(), static_cast<size_t>(groups) + 4);
    uint64_t reached = 0;
    InScope(dir, gen->summary(), &reached);
    EXPECT_EQ(static_cast<int64_t>(reached), gen->summary().scope_users) << groups;
  }
  LdifGenOptions none;
  none.users = 0;
  none.groups = 0;
  const core::Directory dir = ReadBack(*MakeGenerator(none), "none.ldif");
  EXPECT_EQ(dir.user_count(), 0u);
  EXPECT_EQ(dir.group_count(), 4u);
}

TEST(LdifGenerator, RejectsBadOptions) {
  auto error = [](LdifGenOptions options) {
    absl::StatusOr<std::unique_ptr<LdifGenerator>> gen = LdifGenerator::Create(options);
    return gen.ok() ? std::string("ok") : std::string(gen.status().message());
  };
  LdifGenOptions options;
  options.users = -1;
  EXPECT_THAT(error(options), HasSubstr("--users"));
  options = {};
  options.groups = int64_t{1} << 40;
  EXPECT_THAT(error(options), HasSubstr("--groups"));
  options = {};
  options.flavor = "novell";
  EXPECT_THAT(error(options), HasSubstr("--flavor"));
  options = {};
  options.base_dn = "cn=admin,dc=example,dc=com";
  EXPECT_THAT(error(options), HasSubstr("must start with dc=, o= or ou="));
  options = {};
  options.base_dn = "dc=example,com";
  EXPECT_THAT(error(options), HasSubstr("is not type=value"));
  options = {};
  options.memberships = -1;
  EXPECT_THAT(error(options), HasSubstr("--memberships"));
}

TEST(LdifGenerator, SummaryLines) {
  LdifGenOptions options;
  options.users = 100;
  options.groups = 10;
  const std::string text = FormatGenSummary(MakeGenerator(options)->summary());
  EXPECT_THAT(text, HasSubstr("users: 100\n"));
  EXPECT_THAT(text, HasSubstr("groups: 10\n"));
  EXPECT_THAT(text, HasSubstr("scope_group: cn=goto-users,ou=groups,dc=example,dc=com\n"));
  EXPECT_THAT(text, HasSubstr("domain: example.com\n"));
}

// Runs `command` through the shell; returns its exit status and output.
int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Debian's slapadd loads the output into a private mdb database (nothing is started).
TEST(LdifGenerator, SlapaddAcceptsIt) {
  constexpr char kSlapadd[] = "/usr/sbin/slapadd";
  if (::access(kSlapadd, X_OK) != 0) GTEST_SKIP() << kSlapadd << " is not installed";
  const std::string dir = TempPath("slapadd");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((dir + "/db").c_str(), 0700), 0);
  {
    std::ofstream conf(dir + "/slapd.conf");
    conf << "include /etc/ldap/schema/core.schema\n"
            "include /etc/ldap/schema/cosine.schema\n"
            "include /etc/ldap/schema/nis.schema\n"
            "include /etc/ldap/schema/inetorgperson.schema\n"
            "modulepath /usr/lib/ldap\n"
            "moduleload back_mdb\n"
            "database mdb\n"
            "maxsize 1073741824\n"
            "suffix \"dc=example,dc=com\"\n"
            "rootdn \"cn=admin,dc=example,dc=com\"\n"
            "directory "
         << dir << "/db\n";
  }
  LdifGenOptions options;
  options.users = 2000;
  options.groups = 120;
  options.version_line = false;
  std::unique_ptr<LdifGenerator> gen = MakeGenerator(options);
  ASSERT_TRUE(gen->WriteFile(dir + "/data.ldif").ok());
  std::string output;
  const int code = RunCommand(
      absl::StrCat(kSlapadd, " -q -f ", dir, "/slapd.conf -l ", dir, "/data.ldif"), &output);
  EXPECT_EQ(code, 0) << output;
  // slapcat counts what went in.
  output.clear();
  ASSERT_EQ(RunCommand(absl::StrCat("/usr/sbin/slapcat -f ", dir, "/slapd.conf | grep -c '^dn:'"),
                       &output),
            0);
  EXPECT_EQ(output, absl::StrCat(gen->summary().entries, "\n"));
  RunCommand(absl::StrCat("rm -rf ", dir), &output);
}

}  // namespace
}  // namespace usersync::io
