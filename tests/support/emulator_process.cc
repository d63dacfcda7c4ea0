#include "tests/support/emulator_process.h"

#include <chrono>
#include <csignal>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace usersync::testing {
namespace {

constexpr char kTokenVariable[] = "USERSYNC_TARGET_TEST_TOKEN";
constexpr char kListeningPrefix[] = "usersync-target listening on http://";

}  // namespace

absl::StatusOr<std::unique_ptr<EmulatorProcess>> EmulatorProcess::Start(
    std::vector<std::string> extra_args, std::string token) {
  auto emulator = std::unique_ptr<EmulatorProcess>(new EmulatorProcess());
  emulator->token_ = std::move(token);
  std::vector<std::string> argv = {USERSYNC_TARGET_BINARY, "--port", "0"};
  EnvList env;
  if (!emulator->token_.empty()) {
    argv.push_back("--token-env");
    argv.push_back(kTokenVariable);
    env.emplace_back(kTokenVariable, emulator->token_);
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  absl::Status started = emulator->process_.Start(argv, env);
  if (!started.ok()) return started;

  absl::StatusOr<std::string> line = emulator->process_.ReadStdoutLine(std::chrono::seconds(10));
  auto fail = [&](absl::string_view why) {
    emulator->process_.Signal(SIGKILL);
    int code = emulator->process_.Wait();
    return absl::UnavailableError(absl::StrCat("usersync-target did not start (", why,
                                               "; exit code ", code,
                                               "): ", emulator->process_.stderr_output()));
  };
  if (!line.ok()) return fail(line.status().message());
  if (!absl::StartsWith(*line, kListeningPrefix)) return fail(absl::StrCat("got '", *line, "'"));
  size_t colon = line->rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(line->substr(colon + 1), &port) ||
      port <= 0) {
    return fail(absl::StrCat("no port in '", *line, "'"));
  }
  emulator->port_ = port;
  return emulator;
}

std::string EmulatorProcess::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }

std::string EmulatorProcess::scim_url() const { return absl::StrCat(base_url(), "/scim/v2"); }

}  // namespace usersync::testing
