// usersync-gen-ldif: writes a deterministic (seeded) LDIF directory of N users and G groups for
// tests and benchmarks; the shape is documented in tools/gen/ldif_generator.h and in --help.
// Flags → LdifGenOptions → LdifGenerator → LDIF on stdout or --out, and a summary of what was
// generated ("key: value" lines) on stderr. Exit codes: 0 written; 2 bad usage; 1 a write
// failed.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/gen/graph_seed.h"
#include "tools/gen/ldif_generator.h"

namespace {

constexpr char kShape[] = R"(
Shape (same options, same bytes):
  BASE (dcObject/organization), ou=people, ou=groups
  N users uid=<first>.<last><i>,ou=people,BASE (inetOrgPerson + entryUUID; ad: user with
    objectGUID (binary), userPrincipalName, userAccountControl 512, or 514 (disabled) for 1%)
  cn=goto-users,ou=groups,BASE  the scope: dept-0..7 -> team-... (a tree of fan-out 8),
    chain-0 -> ... -> chain-24 -> chain-0 (G >= 100: 25 levels deep and a cycle), every
    ~50th group at depth >= 3 also lists its grandparent, dept-0 lists goto-users (cycles),
    organizers and trainers (rule groups: ~2% / ~1% of users, plus a nested team each),
    uid=ghost (dangling; so is one member of every 1000th group)
  cn=contractors  half of the ~3% users outside the scope (the other half are in no group)
  Every scoped user has a home group plus --memberships more on average; with 20,000+ scoped
  users a quarter of them go to 1..30 big teams of 5,000+ members.
Messy users: 1% mixed-case mail, 0.3% mixed case padded with spaces (base64), 0.3% no mail,
  0.2% @gmail.com, 0.2% sharing the previous user's mailbox (both invalid), 0.2% no givenName,
  0.2% a preferredLanguage that is no language tag; ~9% UTF-8 names (base64).
The summary on stderr counts all of these, and the invalid users a sync with
  scope goto-users and validated domain = the base DN's dc= values would report.)";

int Fail(int code, const std::string& message) {
  std::cerr << "usersync-gen-ldif: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  usersync::io::LdifGenOptions options;
  std::string out_path;
  bool no_version_line = false;
  bool quiet = false;
  std::string graph_seed_path;
  std::string graph_assigned_group = "goto-users";

  CLI::App app("usersync-gen-ldif: a deterministic LDIF directory for tests and benchmarks",
               "usersync-gen-ldif");
  app.footer(kShape);
  app.add_option("--users", options.users, "number of users")->required();
  app.add_option("--groups", options.groups, "number of generated groups (4 fixed ones besides)")
      ->required();
  app.add_option("--seed", options.seed, "RNG seed")->capture_default_str();
  app.add_option("--out", out_path, "write here instead of stdout");
  app.add_option("--flavor", options.flavor, "openldap | ad")->capture_default_str();
  app.add_option("--base-dn", options.base_dn, "base DN (dc=... components)")
      ->capture_default_str();
  app.add_option("--memberships", options.memberships,
                 "average extra group memberships per scoped user")
      ->capture_default_str();
  app.add_flag("--no-version-line", no_version_line, "omit \"version: 1\" (slapadd rejects it)");
  app.add_flag("--quiet", quiet, "no summary on stderr");
  app.add_option("--graph-seed", graph_seed_path,
                 "also write the same directory as a seed of the Graph face (usersync-graph)");
  app.add_option("--graph-assigned-group", graph_assigned_group,
                 "the group assigned to the seed's application")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  options.version_line = !no_version_line;

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<usersync::io::LdifGenerator>> gen =
      usersync::io::LdifGenerator::Create(options);
  if (!gen.ok()) return Fail(2, std::string(gen.status().message()));
  const auto planned = std::chrono::steady_clock::now();
  absl::StatusOr<uint64_t> bytes =
      out_path.empty() ? (*gen)->WriteFd(STDOUT_FILENO, "stdout") : (*gen)->WriteFile(out_path);
  if (!bytes.ok()) return Fail(1, std::string(bytes.status().message()));
  if (!graph_seed_path.empty()) {
    absl::StatusOr<usersync::core::Directory> dir = (*gen)->BuildDirectory();
    if (!dir.ok()) return Fail(1, std::string(dir.status().message()));
    std::ofstream seed(graph_seed_path, std::ios::binary | std::ios::trunc);
    seed << usersync::io::GraphSeedJson(*dir, graph_assigned_group);
    if (!seed.flush()) return Fail(1, "cannot write " + graph_seed_path);
  }
  const auto done = std::chrono::steady_clock::now();

  if (!quiet) {
    const double plan_s = std::chrono::duration<double>(planned - start).count();
    const double write_s = std::chrono::duration<double>(done - planned).count();
    std::string text = usersync::io::FormatGenSummary((*gen)->summary());
    absl::StrAppend(&text, "bytes: ", *bytes, "\n");
    absl::StrAppend(&text, "seconds_plan: ", absl::StrFormat("%.3f", plan_s), "\n");
    absl::StrAppend(&text, "seconds_write: ", absl::StrFormat("%.3f", write_s), "\n");
    absl::StrAppend(&text, "mb_per_s: ",
                    absl::StrFormat("%.0f", write_s > 0 ? *bytes / 1e6 / write_s : 0.0), "\n");
    std::fputs(text.c_str(), stderr);
  }
  return 0;
}
