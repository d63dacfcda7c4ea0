// ldap_read_bench: times usersync's LDAP source alone (io::LdapDirectorySource::Read, the
// `source.kind = "ldap"` path) against a running server, and checks what it read. Driven by
// bench/ldap_read_bench.sh, which starts a private slapd, loads generated directories and runs
// ldapsearch against the same server for comparison.
//
//   ldap_read_bench --url ldap://127.0.0.1:PORT --base-dn dc=u100000,dc=example,dc=com
//       --bind-dn cn=admin,dc=u100000,dc=example,dc=com [--password-env VAR]
//       [--connections K] [--page-size P] [--merge-chunk C] [--read-coalesce-us U]
//       [--runs R] [--label L]
//       [--expect-users N] [--expect-groups G] [--expect-members M]
//       [--check-ldif FILE] [--expect-digest D] [--skip-digest]
//   ldap_read_bench --ldif FILE [--runs R] [--label L] [--expect-...] [--skip-digest]
//
// One CSV line per run on stdout:
//   tool,label,connections,run,read_s,cpu_user_s,cpu_sys_s,users,groups,member_edges,unresolved,
//   digest
// digest: an order-independent hash of the whole Directory read (every user's DN, id and
// mapped attributes; every group's DN, name and resolved members, named by id or DN), so that
// a faster read that drops or garbles an attribute cannot pass. --skip-digest prints "-" instead
// and checks only the counts (so that a profile of the whole process is the read's). --check-ldif
// reads FILE (the same directory as LDIF) through the LDIF source first and requires every run to
// match it.
// --ldif times the LDIF source reading FILE (io::ReadLdifDirectory) instead, with the same
// schema, checks and CSV line (tool "ldif"): the same DN table and builder, fed in file order
// (users before the groups that name them).
// read_s is the wall time of Read() alone (connect, bind, every search, the merge into a
// core::Directory); the CPU columns are this process's (all threads) over the same span.
// Exit codes: 0 every read matched the expectations; 1 a read failed or a count differs;
// 2 bad usage.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "core/normalize.h"
#include "io/ldap/ldap_directory.h"
#include "io/ldif/ldif_reader.h"
#include "tools/gen/ldif_generator.h"

namespace {

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

// A hash that is the same in every process (absl::Hash is seeded per process, so digests
// printed by two runs could not be compared): FNV-1a over the fields, each followed by its
// length, then a splitmix64 finish.
class StableHash {
 public:
  StableHash& Add(std::string_view s) {
    for (unsigned char c : s) state_ = (state_ ^ c) * 0x100000001b3ULL;
    return Add(static_cast<uint64_t>(s.size()));
  }
  StableHash& Add(uint64_t v) {
    for (int i = 0; i < 8; ++i) state_ = (state_ ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    return *this;
  }
  uint64_t Finish() const {
    uint64_t z = state_ + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_ = 0xcbf29ce484222325ULL;
};

// See the file comment. Sums of per-entry hashes: the same for any order of users, groups and
// members.
uint64_t Digest(const usersync::core::Directory& dir) {
  using usersync::core::NormalizeDn;
  uint64_t users = 0;
  for (size_t u = 0; u < dir.user_count(); ++u) {
    StableHash h;
    h.Add(NormalizeDn(dir.user_dn[u])).Add(dir.user_id[u]).Add(dir.user_name[u]).Add(dir.email[u]);
    h.Add(dir.first_name[u]).Add(dir.last_name[u]).Add(dir.display_name[u]).Add(dir.language[u]);
    h.Add(dir.disabled[u]);
    for (const auto& column : dir.extra) h.Add(column[u]);
    users += h.Finish();
  }
  uint64_t groups = 0;
  for (uint32_t g = 0; g < dir.group_count(); ++g) {
    uint64_t members = 0;
    auto [begin, end] = dir.MembersOf(g);
    for (const usersync::core::MemberRef* m = begin; m != end; ++m) {
      members += m->is_group()
                     ? StableHash().Add("g").Add(NormalizeDn(dir.group_dn[m->index()])).Finish()
                     : StableHash().Add("u").Add(dir.user_id[m->index()]).Finish();
    }
    groups += StableHash()
                  .Add(NormalizeDn(dir.group_dn[g]))
                  .Add(dir.group_name[g])
                  .Add(members)
                  .Add(static_cast<uint64_t>(end - begin))
                  .Finish();
  }
  return StableHash()
      .Add(users)
      .Add(groups)
      .Add(dir.user_count())
      .Add(dir.group_count())
      .Add(dir.unresolved_member_count)
      .Finish();
}

}  // namespace

int main(int argc, char** argv) {
  usersync::io::LdapSourceOptions options;
  std::string password_env = "USERSYNC_LDAP_PASSWORD";
  std::string label = "read";
  std::string flavor = "openldap";
  int runs = 1;
  int64_t expect_users = -1;
  int64_t expect_groups = -1;
  int64_t expect_members = -1;

  CLI::App app("ldap_read_bench: time usersync's LDAP source", "ldap_read_bench");
  std::string ldif;
  app.add_option("--ldif", ldif, "time the LDIF source reading this file instead");
  app.add_option("--url", options.url, "ldap://HOST:PORT")->excludes("--ldif");
  app.add_option("--base-dn", options.base_dn, "search base");
  app.add_option("--bind-dn", options.bind_dn, "bind DN (empty: anonymous)");
  app.add_option("--password-env", password_env, "environment variable with the password")
      ->capture_default_str();
  app.add_option("--connections", options.connections, "user partitions")->capture_default_str();
  app.add_option("--page-size", options.page_size, "RFC 2696 page size")->capture_default_str();
  app.add_option("--merge-chunk", options.merge_chunk_entries,
                 "entries a partition hands to the merge at a time (0: buffered)")
      ->capture_default_str();
  int64_t coalesce_us = options.read_coalesce.count();
  app.add_option("--read-coalesce-us", coalesce_us,
                 "wait before sleeping on an empty connection (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--flavor", flavor, "openldap | ad (the generator's schema)")
      ->capture_default_str();
  app.add_option("--runs", runs, "timed reads")->capture_default_str();
  app.add_option("--label", label, "first CSV column after the tool")->capture_default_str();
  app.add_option("--expect-users", expect_users, "users every read must return");
  app.add_option("--expect-groups", expect_groups, "groups every read must return");
  app.add_option("--expect-members", expect_members, "resolved member edges every read must hold");
  std::string check_ldif;
  app.add_option("--check-ldif", check_ldif,
                 "the same directory as LDIF: every read must equal the LDIF source's");
  std::string expect_digest;
  app.add_option("--expect-digest", expect_digest, "the digest every read must have (hex)");
  bool skip_digest = false;
  app.add_flag("--skip-digest", skip_digest, "print - for the digest, check only the counts");
  try {
    app.parse(argc, argv);
    options.read_coalesce = std::chrono::microseconds(coalesce_us);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  if (ldif.empty() && (options.url.empty() || options.base_dn.empty())) {
    std::cerr << "ldap_read_bench: --url and --base-dn are required (or --ldif)\n";
    return 2;
  }
  if (!options.bind_dn.empty()) {
    const char* password = std::getenv(password_env.c_str());
    if (password == nullptr) {
      std::cerr << "ldap_read_bench: " << password_env << " is not set\n";
      return 2;
    }
    options.bind_password = password;
  }
  // The generator's schema: the attributes a sync with the default configuration asks for.
  usersync::io::LdifGenOptions gen_options;
  gen_options.users = 0;
  gen_options.groups = 0;
  gen_options.flavor = flavor;
  absl::StatusOr<std::unique_ptr<usersync::io::LdifGenerator>> gen =
      usersync::io::LdifGenerator::Create(gen_options);
  if (!gen.ok()) {
    std::cerr << "ldap_read_bench: " << gen.status().message() << "\n";
    return 2;
  }
  options.schema = (*gen)->DefaultSchema();
  if (!check_ldif.empty()) {
    absl::StatusOr<usersync::core::Directory> reference =
        usersync::io::ReadLdifDirectory(check_ldif, options.schema);
    if (!reference.ok()) {
      std::cerr << "ldap_read_bench: " << reference.status().message() << "\n";
      return 1;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Digest(*reference)));
    expect_digest = hex;
  }

  int exit_code = 0;
  for (int run = 1; run <= runs; ++run) {
    usersync::io::LdapDirectorySource source(options);
    rusage before{};
    rusage after{};
    getrusage(RUSAGE_SELF, &before);
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<usersync::core::Directory> dir =
        ldif.empty() ? source.Read() : usersync::io::ReadLdifDirectory(ldif, options.schema);
    const auto end = std::chrono::steady_clock::now();
    getrusage(RUSAGE_SELF, &after);
    if (!dir.ok()) {
      std::cerr << "ldap_read_bench: read failed: " << dir.status() << "\n";
      return 1;
    }
    const double read_s = std::chrono::duration<double>(end - start).count();
    char digest[17] = "-";
    if (!skip_digest) {
      std::snprintf(digest, sizeof digest, "%016llx",
                    static_cast<unsigned long long>(Digest(*dir)));
    }
    std::printf("%s,%s,%d,%d,%.3f,%.3f,%.3f,%zu,%zu,%zu,%llu,%s\n",
                ldif.empty() ? "usersync" : "ldif", label.c_str(), options.connections, run, read_s,
                Seconds(after.ru_utime) - Seconds(before.ru_utime),
                Seconds(after.ru_stime) - Seconds(before.ru_stime), dir->user_count(),
                dir->group_count(), dir->members.size(),
                static_cast<unsigned long long>(dir->unresolved_member_count), digest);
    std::fflush(stdout);
    auto mismatch = [&](const char* what, int64_t expected, size_t got) {
      if (expected >= 0 && static_cast<int64_t>(got) != expected) {
        std::cerr << "ldap_read_bench: run " << run << " read " << got << " " << what
                  << ", expected " << expected << "\n";
        exit_code = 1;
      }
    };
    mismatch("users", expect_users, dir->user_count());
    mismatch("groups", expect_groups, dir->group_count());
    mismatch("member edges", expect_members, dir->members.size());
    if (!skip_digest && !expect_digest.empty() && expect_digest != digest) {
      std::cerr << "ldap_read_bench: run " << run << " read a directory with digest " << digest
                << ", expected " << expect_digest
                << (check_ldif.empty() ? "" : " (the LDIF source's)") << "\n";
      exit_code = 1;
    }
  }
  return exit_code;
}
