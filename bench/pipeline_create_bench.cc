// HttpPipeline creates: POST /scim/v2/Users through the pipeline against the in-process
// emulator (no rate limit, no token), concurrency 16 (issue 12: no hidden resend).
// Run: build-release/bench/pipeline_create_bench
//
// Two kinds of the same create, registered alternately (kRounds rounds) so both see the same
// machine load:
//   - "create": idempotent = false, as drivers send creates (since issue 12 libcurl's own
//     resend of it is refused in the pre-request callback; see io/http/curl_transfer.h);
//   - "create_postfields": idempotent = true (no guard), how every create was sent before.
// Both hand the body over as CURLOPT_POSTFIELDS. (A read callback with a refusing seek
// callback, tried first, measured a median pair ratio create/create_postfields of 0.87 over 30
// pairs where two identical paths measured 0.95 to 1.01 on the same busy 2-core machine.)
// Every iteration creates kRequests new users (unique userNames); each answer must be a 201
// with a body, else the run is an error. main() prints the median creates/s of each and the
// ratio create/create_postfields.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/check.h"
#include "io/http/http_pipeline.h"
#include "tools/target/emulator_server.h"

namespace usersync::io {
namespace {

constexpr int kRequests = 5000;
constexpr int kConcurrency = 16;
constexpr int kRounds = 5;

emulator::EmulatorServer& Server() {
  static emulator::EmulatorServer* server = [] {
    emulator::EmulatorOptions options;
    options.rate = 0;
    options.threads = 64;
    auto started = emulator::EmulatorServer::Start(options);
    USERSYNC_CHECK(started.ok());
    return started->release();
  }();
  return *server;
}

std::atomic<int64_t> next_user{0};
std::vector<double> readfn_rps;
std::vector<double> postfields_rps;

std::string CreateBody(int64_t n) {
  const std::string name = "bench" + std::to_string(n) + "@example.com";
  return R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":")" + name +
         R"(","externalId":"dir-)" + std::to_string(n) +
         R"(","name":{"givenName":"First","familyName":"Last"},"emails":[{"value":")" + name +
         R"(","primary":true}],"active":true})";
}

void BM_Create(benchmark::State& state, bool idempotent) {
  emulator::EmulatorServer& server = Server();
  const std::string url = server.scim_base_url() + "/Users";
  PipelineOptions options;
  options.concurrency = kConcurrency;
  options.rate = 0;
  options.adaptive = false;
  auto pipeline = HttpPipeline::Start(options);
  USERSYNC_CHECK(pipeline.ok());
  // Bodies are made before the timed loop.
  std::vector<std::string> bodies;
  std::atomic<int64_t> created{0};
  int64_t sent = 0;
  for (auto _ : state) {
    state.PauseTiming();
    bodies.clear();
    for (int i = 0; i < kRequests; ++i) bodies.push_back(CreateBody(next_user++));
    state.ResumeTiming();
    for (std::string& body : bodies) {
      HttpRequest request;
      request.method = "POST";
      request.url = url;
      request.body = std::move(body);
      request.idempotent = idempotent;
      (*pipeline)->Submit(std::move(request), [&](HttpResponse response) {
        if (response.status.ok() && response.http_status == 201 && !response.body.empty()) {
          created.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    (*pipeline)->Drain();
    sent += kRequests;
  }
  const PipelineStats stats = (*pipeline)->stats();
  if (created.load() != sent || stats.requests != sent) {
    state.SkipWithError("create: not every POST answered 201 exactly once");
  }
  state.SetItemsProcessed(sent);
  state.counters["connections"] = static_cast<double>(stats.connections_opened);
}

class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      const std::string name = run.benchmark_name();
      if (name.rfind("create_postfields", 0) == 0) {
        postfields_rps.push_back(it->second.value);
      } else if (name.rfind("create", 0) == 0) {
        readfn_rps.push_back(it->second.value);
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace
}  // namespace usersync::io

int main(int argc, char** argv) {
  using namespace usersync::io;
  for (int round = 0; round < kRounds; ++round) {
    const std::string suffix = "/round:" + std::to_string(round);
    benchmark::RegisterBenchmark(("create_postfields" + suffix).c_str(), BM_Create, true)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
    benchmark::RegisterBenchmark(("create" + suffix).c_str(), BM_Create, false)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const double readfn = Median(readfn_rps);
  const double postfields = Median(postfields_rps);
  std::printf(
      "\n%d creates x %d iterations per run, concurrency %d, %zu+%zu runs\n"
      "median creates/s: create %.0f, create_postfields %.0f, ratio %.3f\n",
      kRequests, 2, kConcurrency, readfn_rps.size(), postfields_rps.size(), readfn, postfields,
      postfields > 0 ? readfn / postfields : 0.0);
  return readfn_rps.size() == static_cast<size_t>(kRounds) &&
                 postfields_rps.size() == static_cast<size_t>(kRounds)
             ? 0
             : 1;
}
