#include "tools/usersync/demo.h"

#include <cstdlib>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "io/commands/commands.h"
#include "tools/target/emulator_server.h"
#include "io/output.h"

namespace usersync::io {
namespace {

std::string RandomToken() {
  std::random_device device;
  std::string token;
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 32; ++i) token.push_back(kAlphabet[device() % (sizeof(kAlphabet) - 1)]);
  return token;
}

}  // namespace

int RunDemoCommand(const DemoOptions& options) {
  namespace fs = std::filesystem;
  const fs::path fixtures(options.fixtures_dir);
  for (const char* name : {"demo.toml", "demo.ldif", "demo-accounts.jsonl"}) {
    if (!fs::exists(fixtures / name)) {
      Print(options.err, absl::StrCat("usersync demo: ", (fixtures / name).string(),
                                      " not found (pass --fixtures DIR)\n"));
      return kExitUsage;
    }
  }
  std::string work_dir = options.work_dir;
  if (work_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ =
        absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/usersync-demo-XXXXXX");
    if (mkdtemp(templ.data()) == nullptr) {
      Print(options.err, "usersync demo: cannot create a temporary directory\n");
      return kExitUsage;
    }
    work_dir = templ;
  }

  emulator::EmulatorOptions target;
  target.token = RandomToken();
  target.seed_accounts_path = (fixtures / "demo-accounts.jsonl").string();
  absl::StatusOr<std::unique_ptr<emulator::EmulatorServer>> server =
      emulator::EmulatorServer::Start(target);
  if (!server.ok()) {
    Print(options.err, absl::StrCat("usersync demo: cannot start the target emulator: ",
                                    server.status().message(), "\n"));
    return kExitUnreachable;
  }

  CommandOptions run;
  run.config_path = (fixtures / "demo.toml").string();
  run.target_url = (*server)->scim_base_url();
  run.target_token = target.token;
  run.state_path = (fs::path(work_dir) / "usersync.db").string();
  run.logs_dir = (fs::path(work_dir) / "logs").string();
  run.out = options.out;
  run.err = options.err;

  Print(options.out,
        absl::StrCat("usersync demo\n  directory: ", (fixtures / "demo.ldif").string(),
                     "\n  target:    SCIM emulator at ", run.target_url, " seeded with ",
                     (fixtures / "demo-accounts.jsonl").string(), "\n  state:     ", work_dir,
                     "\n\n== First run: plan and apply ==\n"));
  const int first = RunSyncCommand(run);
  if (first != kExitOk) {
    Print(options.err,
          absl::StrCat("usersync demo: the first run ended with exit code ", first, "\n"));
    return first;
  }
  Print(options.out, "\n== Second run: the target is in step, so nothing is planned ==\n");
  const int second = RunSyncCommand(run);
  if (second != kExitOk) return second;
  Print(options.out,
        absl::StrCat("\nDemo done. Inspect it again with:\n  usersync users -c ", run.config_path,
                     "  (against your own target)\n  logs: ", run.logs_dir, "\n"));
  (*server)->Stop();
  return kExitOk;
}

}  // namespace usersync::io
