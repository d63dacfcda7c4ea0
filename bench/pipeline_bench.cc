// HttpPipeline throughput against a bare libcurl-multi loop (issue 5, bench (a)).
// Run: build-release/bench/pipeline_bench
//
// One in-process usersync-target emulator (EmulatorServer: no rate limit, no token, 64
// worker threads) holding 1,000 users. Each iteration sends the same kRequests requests,
// `GET /scim/v2/Users/{id}` cycling over the 1,000 ids, at concurrency 16 through
//   - "pipeline": io::HttpPipeline (rate 0 = unlimited, one pipeline per benchmark run,
//     Submit() of every request then Drain()), and
//   - "baseline": a bare libcurl multi loop (one CURLM, 16 easy handles reused with
//     keep-alive; a new request started on each CURLMSG_DONE).
// The two are registered alternately (kRounds rounds) so both sides of the ratio see the
// same machine load; main() prints the median requests/s of each and pipeline/baseline.
// Every answer is counted (200 with a body); a run with any other answer is an error.
#include <benchmark/benchmark.h>
#include <curl/curl.h>

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

constexpr int kUsers = 1000;
constexpr int kRequests = 20000;
constexpr int kConcurrency = 16;
constexpr int kRounds = 5;

struct Fixture {
  std::unique_ptr<emulator::EmulatorServer> server;
  std::vector<std::string> urls;  // kUsers user URLs
};

Fixture& Shared() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    emulator::EmulatorOptions options;
    options.rate = 0;
    options.threads = 64;
    auto server = emulator::EmulatorServer::Start(options);
    USERSYNC_CHECK(server.ok());
    f->server = *std::move(server);
    for (int i = 0; i < kUsers; ++i) {
      emulator::EmulatorUser user;
      user.user_name = "user" + std::to_string(i) + "@example.com";
      user.email = user.user_name;
      user.first_name = "First" + std::to_string(i);
      user.last_name = "Last" + std::to_string(i);
      user.display_name = user.first_name + " " + user.last_name;
      user.products = {"G2M"};
      auto view = f->server->store().CreateUser(std::move(user));
      USERSYNC_CHECK(view.ok());
      f->urls.push_back(f->server->scim_base_url() + "/Users/" + view->user->id);
    }
    return f;
  }();
  return *fixture;
}

std::vector<double> pipeline_rps;
std::vector<double> baseline_rps;

void BM_Pipeline(benchmark::State& state) {
  Fixture& fixture = Shared();
  PipelineOptions options;
  options.concurrency = kConcurrency;
  options.rate = 0;
  options.adaptive = false;
  auto pipeline = HttpPipeline::Start(options);
  USERSYNC_CHECK(pipeline.ok());
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> answered{0};
  int64_t sent = 0;
  for (auto _ : state) {
    for (int i = 0; i < kRequests; ++i) {
      HttpRequest request;
      request.method = "GET";
      request.url = fixture.urls[static_cast<size_t>(i % kUsers)];
      (*pipeline)->Submit(std::move(request), [&](HttpResponse response) {
        answered.fetch_add(1, std::memory_order_relaxed);
        if (response.status.ok() && response.http_status == 200 && !response.body.empty()) {
          ok.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    (*pipeline)->Drain();
    sent += kRequests;
  }
  const PipelineStats stats = (*pipeline)->stats();
  if (answered.load() != sent || ok.load() != sent) {
    state.SkipWithError("pipeline: not every request answered 200");
  }
  state.SetItemsProcessed(sent);
  state.counters["connections"] = static_cast<double>(stats.connections_opened);
  state.counters["max_in_flight"] = stats.max_in_flight;
}

struct Slot {
  CURL* easy = nullptr;
  std::string body;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

void BM_Baseline(benchmark::State& state) {
  Fixture& fixture = Shared();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  USERSYNC_CHECK(multi != nullptr);
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(kConcurrency));
  std::vector<Slot> slots(kConcurrency);
  for (Slot& slot : slots) {
    slot.easy = curl_easy_init();
    USERSYNC_CHECK(slot.easy != nullptr);
    curl_easy_setopt(slot.easy, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(slot.easy, CURLOPT_WRITEDATA, &slot.body);
    curl_easy_setopt(slot.easy, CURLOPT_PRIVATE, &slot);
    curl_easy_setopt(slot.easy, CURLOPT_NOSIGNAL, 1L);
  }
  int64_t ok = 0;
  int64_t answered = 0;
  int64_t sent = 0;
  for (auto _ : state) {
    int next = 0;
    auto start = [&](Slot& slot) {
      slot.body.clear();
      curl_easy_setopt(slot.easy, CURLOPT_URL,
                       fixture.urls[static_cast<size_t>(next % kUsers)].c_str());
      ++next;
      curl_multi_add_handle(multi, slot.easy);
    };
    for (Slot& slot : slots) start(slot);
    int running = 1;
    int64_t done = 0;
    while (done < kRequests) {
      curl_multi_perform(multi, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* easy = msg->easy_handle;
        const CURLcode result = msg->data.result;
        Slot* slot = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&slot));
        long code = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
        curl_multi_remove_handle(multi, easy);
        ++done;
        ++answered;
        if (result == CURLE_OK && code == 200 && !slot->body.empty()) ++ok;
        if (next < kRequests) start(*slot);
      }
      if (done < kRequests) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    sent += kRequests;
  }
  for (Slot& slot : slots) curl_easy_cleanup(slot.easy);
  curl_multi_cleanup(multi);
  if (answered != sent || ok != sent) {
    state.SkipWithError("baseline: not every request answered 200");
  }
  state.SetItemsProcessed(sent);
}

// Collects each run's items/s by name, then prints the medians and the ratio.
class Collector : public benchmark::ConsoleReporter {
 public:
  Collector() : ConsoleReporter(OO_None) {}  // plain text: no colour, one header

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      const std::string name = run.benchmark_name();
      if (name.rfind("pipeline", 0) == 0) pipeline_rps.push_back(it->second.value);
      if (name.rfind("baseline", 0) == 0) baseline_rps.push_back(it->second.value);
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
    benchmark::RegisterBenchmark(("baseline" + suffix).c_str(), BM_Baseline)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
    benchmark::RegisterBenchmark(("pipeline" + suffix).c_str(), BM_Pipeline)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const double pipeline = Median(pipeline_rps);
  const double baseline = Median(baseline_rps);
  std::printf(
      "\n%d requests x %d iterations per run, concurrency %d, %zu+%zu runs\n"
      "median requests/s: pipeline %.0f, baseline %.0f, ratio pipeline/baseline %.3f\n",
      kRequests, 2, kConcurrency, pipeline_rps.size(), baseline_rps.size(), pipeline, baseline,
      baseline > 0 ? pipeline / baseline : 0.0);
  return pipeline_rps.size() == static_cast<size_t>(kRounds) &&
                 baseline_rps.size() == static_cast<size_t>(kRounds)
             ? 0
             : 1;
}
