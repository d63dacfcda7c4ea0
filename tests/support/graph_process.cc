#include "tests/support/graph_process.h"

#include <chrono>
#include <csignal>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"

namespace usersync::testing {
namespace {

constexpr char kSecretVariable[] = "USERSYNC_GRAPH_TEST_SECRET";
constexpr char kListening[] = "usersync-graph listening on http://127.0.0.1:";

}  // namespace

absl::StatusOr<std::unique_ptr<GraphProcess>> GraphProcess::Start(
    const std::string& seed_path, std::vector<std::string> extra_args) {
  auto graph = std::unique_ptr<GraphProcess>(new GraphProcess());
  std::vector<std::string> argv = {USERSYNC_GRAPH_BINARY,
                                   "--port",
                                   "0",
                                   "--seed",
                                   seed_path,
                                   "--tenant",
                                   kGraphTenant,
                                   "--client-id",
                                   kGraphClientId,
                                   "--client-secret-env",
                                   kSecretVariable};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  absl::Status started = graph->process_.Start(argv, {{kSecretVariable, kGraphClientSecret}});
  if (!started.ok()) return started;
  absl::StatusOr<std::string> line = graph->process_.ReadStdoutLine(std::chrono::seconds(10));
  int port = 0;
  if (!line.ok() || !absl::StartsWith(*line, kListening) ||
      !absl::SimpleAtoi(line->substr(sizeof(kListening) - 1), &port)) {
    graph->process_.Signal(SIGKILL);
    const int code = graph->process_.Wait();
    return absl::UnavailableError(absl::StrCat("usersync-graph did not start (exit code ", code,
                                               "): ", graph->process_.stderr_output()));
  }
  graph->port_ = port;
  return graph;
}

std::string GraphProcess::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }

std::string GraphProcess::StatsJson() const {
  return HttpGet(absl::StrCat(base_url(), "/_graph/stats"), "").body;
}

void GraphProcess::Storm(int count) const {
  HttpPost(absl::StrCat(base_url(), "/_graph/storm?count=", count), "", "");
}

int GraphProcess::Mutate(const std::string& json) const {
  return static_cast<int>(HttpPost(absl::StrCat(base_url(), "/_graph/mutate"), "", json).status);
}

int GraphProcess::ExpireDeltas() const {
  return static_cast<int>(
      HttpPost(absl::StrCat(base_url(), "/_graph/expire_deltas"), "", "").status);
}

}  // namespace usersync::testing
