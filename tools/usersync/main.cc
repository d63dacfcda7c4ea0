// usersync: the command line (DESIGN.md "Command line"). Parses flags, fills the options and
// calls the io/ command; maps nothing itself: the commands return the exit codes.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "io/demo.h"
#include "io/sync_runner.h"

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void OnSigint(int) {
  if (g_interrupted.exchange(true)) std::_Exit(130);  // a second Ctrl-C stops at once
}

}  // namespace

int main(int argc, char** argv) {
  using usersync::io::CommandOptions;
  CLI::App app{"usersync: keeps a SaaS account's users in step with a company directory"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "usersync 0.1.0");

  CommandOptions options;
  options.interrupted = &g_interrupted;
  std::string fixtures = USERSYNC_DEFAULT_FIXTURES_DIR;
  std::string every;

  auto add_config = [&](CLI::App* command) {
    command->add_option("-c,--config", options.config_path, "configuration file (TOML)")
        ->required();
  };

  CLI::App* plan = app.add_subcommand("plan", "dry run: show what a sync would change");
  add_config(plan);
  plan->add_option("--format", options.format, "table | json")
      ->check(CLI::IsMember({"table", "json"}));
  plan->add_option("--out", options.out_path, "also write the plan (JSON) to this file");

  CLI::App* apply = app.add_subcommand("apply", "apply exactly a reviewed plan");
  add_config(apply);
  apply->add_option("--plan", options.plan_path, "plan file written by `plan --out`")->required();

  CLI::App* sync = app.add_subcommand("sync", "plan and apply in one go");
  add_config(sync);
  sync->add_flag("--dry-run", options.dry_run, "plan only; change nothing");

  CLI::App* users = app.add_subcommand("users", "the users page: every user and its category");
  add_config(users);
  users->add_option("--format", options.format, "table | csv | json | html")
      ->check(CLI::IsMember({"table", "csv", "json", "html"}));
  users->add_option("--out", options.out_path, "write to this file instead of stdout");

  CLI::App* explain = app.add_subcommand("explain", "why a user gets what it gets");
  add_config(explain);
  explain->add_option("user", options.user, "email, user name, directory id, DN or account id")
      ->required();

  CLI::App* match = app.add_subcommand("match", "store a manual match");
  add_config(match);
  CLI::Option* source_id = match->add_option("--source-id", options.source_id, "directory id");
  CLI::Option* target_id = match->add_option("--target-id", options.target_id, "account id");
  CLI::Option* csv = match->add_option("--csv", options.csv_path,
                                       "CSV file of matches (header source_id,target_id)");
  source_id->needs(target_id)->excludes(csv);
  target_id->needs(source_id)->excludes(csv);

  CLI::App* release = app.add_subcommand("release", "release held deactivations/deletions");
  add_config(release);
  CLI::Option* release_all =
      release->add_flag("--all", options.release_all, "release every held operation");
  release->add_option("--id", options.release_ids, "hold ids to release (as listed)")
      ->excludes(release_all);

  CLI::App* status = app.add_subcommand("status", "recent runs and the daily status");
  add_config(status);
  status->add_option("--format", options.format, "table | json")
      ->check(CLI::IsMember({"table", "json"}));

  CLI::App* check = app.add_subcommand("check", "test the source and the target connections");
  add_config(check);

  CLI::App* run = app.add_subcommand("run", "polling mode: sync every DURATION");
  add_config(run);
  run->add_option("--every", every, "interval, e.g. 15m")->required();

  CLI::App* demo = app.add_subcommand("demo", "sync the embedded demo into an embedded target");
  demo->add_option("--fixtures", fixtures, "directory holding demo.toml, demo.ldif, "
                                           "demo-accounts.jsonl");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : usersync::io::kExitUsage;
  }

  std::signal(SIGINT, OnSigint);
  std::signal(SIGTERM, OnSigint);

  if (*plan) return usersync::io::RunPlanCommand(options);
  if (*sync) return usersync::io::RunSyncCommand(options);
  if (*users) return usersync::io::RunUsersCommand(options);
  if (*check) return usersync::io::RunCheckCommand(options);
  if (*demo) {
    usersync::io::DemoOptions demo_options;
    demo_options.fixtures_dir = fixtures;
    return usersync::io::RunDemoCommand(demo_options);
  }
  if (*apply) return usersync::io::RunApplyCommand(options);
  if (*explain) return usersync::io::RunExplainCommand(options);
  if (*match) return usersync::io::RunMatchCommand(options);
  if (*release) return usersync::io::RunReleaseCommand(options);
  if (*status) return usersync::io::RunStatusCommand(options);
  if (*run) {
    absl::StatusOr<absl::Duration> interval = usersync::io::ParseInterval(every);
    if (!interval.ok()) {
      std::fprintf(stderr, "usersync run: %s\n", std::string(interval.status().message()).c_str());
      return usersync::io::kExitUsage;
    }
    return usersync::io::RunPollingCommand(options, *interval);
  }
  return usersync::io::kExitUsage;
}
