// usersync: the command line (DESIGN.md "Command line"). Parses flags, fills the options and
// calls the io/ command; maps nothing itself: the commands return the exit codes.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "io/commands/commands.h"
#include "tools/usersync/demo.h"

namespace {

using usersync::io::CommandOptions;

std::atomic<bool> g_interrupted{false};

extern "C" void OnSigint(int) {
  if (g_interrupted.exchange(true)) std::_Exit(130);  // a second Ctrl-C stops at once
}

// The demo's files: the source tree's fixtures/ in a build, else those `cmake --install` put
// beside the installed program (PREFIX/bin/usersync → PREFIX/share/usersync/demo).
std::string DefaultFixturesDir() {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::exists(fs::path(USERSYNC_DEFAULT_FIXTURES_DIR) / "demo.toml", error)) {
    return USERSYNC_DEFAULT_FIXTURES_DIR;
  }
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) return USERSYNC_DEFAULT_FIXTURES_DIR;
  return (self.parent_path().parent_path() / "share" / "usersync" / "demo").string();
}

// The command line being built: the options every subcommand fills, and what each one runs.
struct Cli {
  CLI::App app{"usersync: keeps a SaaS account's users in step with a company directory"};
  CommandOptions options;
  std::string fixtures = DefaultFixturesDir();
  std::string every;
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;

  // A subcommand taking -c CONFIG that runs `run`.
  CLI::App* Add(const char* name, const char* help, std::function<int()> run) {
    CLI::App* command = app.add_subcommand(name, help);
    command->add_option("-c,--config", options.config_path, "configuration file (TOML)")
        ->required();
    commands.emplace_back(command, std::move(run));
    return command;
  }
};

int RunEvery(const CommandOptions& options, const std::string& every) {
  absl::StatusOr<absl::Duration> interval = usersync::io::ParseInterval(every);
  if (!interval.ok()) {
    std::fprintf(stderr, "usersync run: %s\n", std::string(interval.status().message()).c_str());
    return usersync::io::kExitUsage;
  }
  return usersync::io::RunPollingCommand(options, *interval);
}

// --progress and --quiet (sync, apply, run): the progress display on stderr.
void AddProgressFlags(CLI::App* command, CommandOptions& o) {
  command->add_option("--progress", o.progress,
                      "auto (on a terminal) | off | tty | plain | plain:DURATION (a line every "
                      "DURATION, default 10s)");
  command->add_flag("--quiet", o.quiet, "no progress display (--progress off)");
}

// A command after which the process exits: its session leaves its large structures to the
// operating system (CommandOptions::process_exits_after).
int OneShot(CommandOptions& o, int (*command)(const CommandOptions&)) {
  o.process_exits_after = true;
  return command(o);
}

// plan, apply, sync (in the order of `usersync --help`).
void AddPlanCommands(Cli& cli) {
  CommandOptions& o = cli.options;
  CLI::App* plan = cli.Add("plan", "dry run: show what a sync would change",
                           [&o] { return OneShot(o, usersync::io::RunPlanCommand); });
  plan->add_option("--format", o.format, "table | json")->check(CLI::IsMember({"table", "json"}));
  plan->add_option("--out", o.out_path, "also write the plan (JSON) to this file");

  CLI::App* apply = cli.Add("apply", "apply exactly a reviewed plan",
                            [&o] { return OneShot(o, usersync::io::RunApplyCommand); });
  apply->add_option("--plan", o.plan_path, "plan file written by `plan --out`")->required();
  AddProgressFlags(apply, o);

  CLI::App* sync = cli.Add("sync", "plan and apply in one go",
                           [&o] { return OneShot(o, usersync::io::RunSyncCommand); });
  sync->add_flag("--dry-run", o.dry_run, "plan only; change nothing");
  sync->add_flag("--delta", o.delta,
                 "plan only what changed since the last cycle (a full cycle when it cannot be "
                 "trusted, and every schedule.full_every)");
  AddProgressFlags(sync, o);
}

// users, explain, match.
void AddUserCommands(Cli& cli) {
  CommandOptions& o = cli.options;
  CLI::App* users = cli.Add("users", "the users page: every user and its category",
                            [&o] { return OneShot(o, usersync::io::RunUsersCommand); });
  users->add_option("--format", o.format, "table | csv | json | html")
      ->check(CLI::IsMember({"table", "csv", "json", "html"}));
  users->add_option("--out", o.out_path, "write to this file instead of stdout");

  CLI::App* explain = cli.Add("explain", "why a user gets what it gets",
                              [&o] { return OneShot(o, usersync::io::RunExplainCommand); });
  explain->add_option("user", o.user, "email, user name, directory id, DN or account id")
      ->required();

  CLI::App* history = cli.Add("history", "everything done to one user, with the reasons",
                              [&o] { return usersync::io::RunHistoryCommand(o); });
  history->add_option("user", o.user, "email, directory id, DN or account id")->required();

  CLI::App* match = cli.Add("match", "store a manual match, or forget stored links (--unlink)",
                            [&o] { return usersync::io::RunMatchCommand(o); });
  CLI::Option* source_id = match->add_option("--source-id", o.source_id, "directory id");
  CLI::Option* target_id = match->add_option("--target-id", o.target_id, "account id");
  CLI::Option* csv = match->add_option(
      "--csv", o.csv_path,
      "CSV file of matches (header source_id,target_id); with --unlink: of ids (header source_id)");
  CLI::Option* unlink =
      match
          ->add_option_function<std::vector<std::string>>(
              "--unlink",
              [&o](const std::vector<std::string>& ids) {
                o.unlink = true;  // bare `--unlink` (the CSV form) arrives as one empty id
                for (const std::string& id : ids) {
                  if (!id.empty()) o.unlink_ids.push_back(id);
                }
              },
              "forget the stored links of these directory ids (or of --csv FILE's)")
          ->expected(0, CLI::detail::expected_max_vector_size)
          ->allow_extra_args();
  source_id->needs(target_id)->excludes(csv)->excludes(unlink);
  target_id->needs(source_id)->excludes(csv)->excludes(unlink);
}

// release, status, authorize, check, pause, resume, run.
void AddOperatorCommands(Cli& cli) {
  CommandOptions& o = cli.options;
  CLI::App* release = cli.Add("release", "release held deactivations/deletions",
                              [&o] { return usersync::io::RunReleaseCommand(o); });
  CLI::Option* release_all =
      release->add_flag("--all", o.release_all, "release every held operation");
  release->add_option("--id", o.release_ids, "hold ids to release (as listed)")
      ->excludes(release_all);

  CLI::App* status = cli.Add("status", "recent runs and the daily status",
                             [&o] { return usersync::io::RunStatusCommand(o); });
  status->add_option("--format", o.format, "table | json")->check(CLI::IsMember({"table", "json"}));

  CLI::App* authorize = cli.Add("authorize", "OAuth 2.0: authorize once, store the refresh token",
                                [&o] { return usersync::io::RunAuthorizeCommand(o); });
  authorize->add_option("--code", o.auth_code,
                        "the authorization code (default: read it from standard input)");

  cli.Add("check", "test the source and the target connections",
          [&o] { return usersync::io::RunCheckCommand(o); });

  CLI::App* pause = cli.Add("pause", "provisioning off: sync, apply and run rounds do nothing",
                            [&o] { return usersync::io::RunPauseCommand(o); });
  pause->add_option("--reason", o.pause_reason, "why (shown by status and by the stopped runs)");
  cli.Add("resume", "provisioning on again (after pause)",
          [&o] { return usersync::io::RunResumeCommand(o); });

  CLI::App* run = cli.Add("run", "polling mode: sync every DURATION",
                          [&cli] { return RunEvery(cli.options, cli.every); });
  run->add_option("--every", cli.every, "interval, e.g. 15m")->required();
  AddProgressFlags(run, o);
}

void AddDemoCommand(Cli& cli) {
  CLI::App* demo = cli.app.add_subcommand("demo", "sync the embedded demo into an embedded target");
  demo->add_option("--fixtures", cli.fixtures,
                   "directory holding demo.toml, demo.ldif, demo-accounts.jsonl");
  cli.commands.emplace_back(demo, [&cli] {
    usersync::io::DemoOptions demo_options;
    demo_options.fixtures_dir = cli.fixtures;
    return usersync::io::RunDemoCommand(demo_options);
  });
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli;
  cli.app.require_subcommand(1);
  cli.app.set_version_flag("--version", "usersync 0.1.0");
  cli.options.interrupted = &g_interrupted;
  AddPlanCommands(cli);
  AddUserCommands(cli);
  AddOperatorCommands(cli);
  AddDemoCommand(cli);
  try {
    cli.app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.app.exit(e);
    return code == 0 ? 0 : usersync::io::kExitUsage;
  }

  std::signal(SIGINT, OnSigint);
  std::signal(SIGTERM, OnSigint);
  for (const auto& [command, run] : cli.commands) {
    if (*command) return run();
  }
  return usersync::io::kExitUsage;
}
