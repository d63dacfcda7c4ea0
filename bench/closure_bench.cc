// Nested-group closure (core::GroupClosure) and rule assignment (core::AssignRules) at scale:
// 1,000,000 users, 100,000 groups and 10,000,000 member edges (and a 10x smaller case).
// Run: build-gen/bench/closure_bench --benchmark_min_time=1
//
// The directory comes from the fixture generator (tools/gen/ldif_generator.h), built straight into
// a core::Directory through io::EntryMapper (no LDIF text), fixed seed 42: a tree of groups of
// fan-out 8 under cn=goto-users (6 levels at 100k groups), a 25-deep chain closing a cycle,
// ~2,000 grandparent back edges (cycles), 30 teams of 5,000+ members, rule groups with nested
// teams, 3% of the users outside the scope. The extra memberships per user are calibrated so
// that the member edges come to 10M (10 groups per user on average).
//
// Checked once, outside the timed loop: the closure of goto-users reaches exactly the users the
// generator placed under it (counted while generating, from its own plan, not from a closure),
// every group but cn=contractors, and the rules give every one of those users a rule.
//
// Memory, as counters: rss_dir_mb (resident after the build and a malloc_trim: the Directory
// plus the generator's plan), build_peak_mb (VmHWM of the build), run_peak_mb (VmHWM while the
// benchmark runs, after resetting it through /proc/self/clear_refs: the Directory plus the
// closure's own arrays).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/group_closure.h"
#include "core/rules.h"
#include "tools/gen/ldif_generator.h"

namespace usersync {
namespace {

constexpr uint64_t kSeed = 42;

// A /proc/self/status field in kB ("VmHWM", "VmRSS"); -1 if absent.
int64_t StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      return std::stoll(line.substr(len + 1));
    }
  }
  return -1;
}

// Resets VmHWM to the current RSS (Linux >= 4.0). False when not allowed.
bool ResetPeakRss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

struct Dataset {
  int64_t users = 0;
  std::unique_ptr<io::LdifGenerator> gen;
  core::Directory dir;
  uint32_t scope = 0;
  std::vector<core::Rule> rules;
  double build_seconds = 0;
  int64_t rss_dir_kb = 0;
  int64_t build_peak_kb = 0;
};

// Built once per size and kept (the benchmarks of one size share it); a new size frees the
// old one first.
Dataset& GetDataset(int64_t users) {
  static std::unique_ptr<Dataset> cached;
  if (cached != nullptr && cached->users == users) return *cached;
  cached.reset();
  ResetPeakRss();
  auto data = std::make_unique<Dataset>();
  data->users = users;
  const int64_t groups = users / 10;
  const int64_t target_edges = users * 10;

  io::LdifGenOptions options;
  options.users = users;
  options.groups = groups;
  options.seed = kSeed;
  options.memberships = 9;
  // Calibrate: the edges other than extra memberships are fixed by the seed; solve for the
  // average number of extra memberships that brings the total to target_edges.
  {
    absl::StatusOr<std::unique_ptr<io::LdifGenerator>> probe = io::LdifGenerator::Create(options);
    USERSYNC_CHECK(probe.ok());
    const io::LdifGenSummary& s = (*probe)->summary();
    const double extra_now = options.memberships * static_cast<double>(s.scope_users);
    const double other = static_cast<double>(s.member_values - s.dangling_members) - extra_now;
    options.memberships =
        (static_cast<double>(target_edges) - other) / static_cast<double>(s.scope_users);
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<io::LdifGenerator>> gen = io::LdifGenerator::Create(options);
  USERSYNC_CHECK(gen.ok());
  data->gen = *std::move(gen);
  absl::StatusOr<core::Directory> dir = data->gen->BuildDirectory();
  USERSYNC_CHECK(dir.ok());
  data->dir = *std::move(dir);
  data->build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  data->build_peak_kb = StatusKb("VmHWM");
  ::malloc_trim(0);  // give the builder's freed scratch back, so RSS is what the data holds
  data->rss_dir_kb = StatusKb("VmRSS");

  const io::LdifGenSummary& s = data->gen->summary();
  std::optional<uint32_t> scope = data->dir.FindGroupByDn(s.scope_group_dn);
  USERSYNC_CHECK(scope.has_value());
  data->scope = *scope;
  core::Rule organizers;
  organizers.name = "Organizers";
  organizers.priority = 1;
  organizers.group = s.organizers_dn;
  organizers.products = {"G2M", "G2W"};
  core::Rule trainers;
  trainers.name = "Trainers";
  trainers.priority = 2;
  trainers.group = s.trainers_dn;
  trainers.products = {"G2T"};
  core::Rule everyone;
  everyone.name = "Everyone";
  everyone.priority = 10;
  everyone.group = s.scope_group_dn;
  everyone.products = {"G2M"};
  data->rules = {organizers, trainers, everyone};

  std::fprintf(stderr,
               "dataset: %lld users, %zu groups, %zu member edges (%lld dangling), built in "
               "%.2f s; RSS %.0f MB, build peak %.0f MB\n",
               static_cast<long long>(users), data->dir.group_count(), data->dir.members.size(),
               static_cast<long long>(data->dir.unresolved_member_count), data->build_seconds,
               data->rss_dir_kb / 1024.0, data->build_peak_kb / 1024.0);
  cached = std::move(data);
  return *cached;
}

void AddMemoryCounters(benchmark::State& state, const Dataset& data, int64_t peak_kb) {
  state.counters["users"] = static_cast<double>(data.dir.user_count());
  state.counters["groups"] = static_cast<double>(data.dir.group_count());
  state.counters["edges"] = static_cast<double>(data.dir.members.size());
  state.counters["build_s"] = data.build_seconds;
  state.counters["rss_dir_mb"] = data.rss_dir_kb / 1024.0;
  state.counters["build_peak_mb"] = data.build_peak_kb / 1024.0;
  state.counters["run_peak_mb"] = peak_kb / 1024.0;
}

void BM_GroupClosure(benchmark::State& state) {
  Dataset& data = GetDataset(state.range(0));
  const io::LdifGenSummary& s = data.gen->summary();
  const uint32_t roots[] = {data.scope};
  {
    const core::ClosureResult check = core::GroupClosure(data.dir, roots);
    USERSYNC_CHECK(static_cast<int64_t>(check.users_reached) == s.scope_users);
    // Every group but cn=contractors (goto-users included: dept-0 lists it).
    USERSYNC_CHECK(static_cast<int64_t>(check.groups_reached) == s.groups + s.fixed_groups - 1);
    // goto-users → dept-0 → chain-0 → ... → chain-24.
    const std::optional<uint32_t> deepest =
        data.dir.FindGroupByDn("cn=chain-24,ou=groups," + data.gen->options().base_dn);
    USERSYNC_CHECK(deepest.has_value());
    USERSYNC_CHECK(core::GroupPath(check, *deepest).size() == 27);
  }
  ResetPeakRss();
  for (auto _ : state) {
    core::ClosureResult closure = core::GroupClosure(data.dir, roots);
    benchmark::DoNotOptimize(closure.users_reached);
  }
  AddMemoryCounters(state, data, StatusKb("VmHWM"));
  state.counters["users_reached"] = static_cast<double>(s.scope_users);
  // Items: member edges walked per closure.
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.dir.members.size()));
}

void BM_AssignRules(benchmark::State& state) {
  Dataset& data = GetDataset(state.range(0));
  const io::LdifGenSummary& s = data.gen->summary();
  {
    const core::RuleAssignment check = core::AssignRules(data.dir, data.rules);
    USERSYNC_CHECK(check.missing_groups.empty());
    int64_t with_rule = 0;
    int64_t organizers = 0;
    for (int32_t rule : check.rule_of_user) {
      with_rule += rule != core::kNoRule;
      organizers += rule == 0;
    }
    USERSYNC_CHECK(with_rule == s.scope_users);
    USERSYNC_CHECK(organizers >= s.organizers);  // direct members, plus a nested team's
  }
  ResetPeakRss();
  for (auto _ : state) {
    core::RuleAssignment rules = core::AssignRules(data.dir, data.rules);
    benchmark::DoNotOptimize(rules.rule_of_user.data());
  }
  AddMemoryCounters(state, data, StatusKb("VmHWM"));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// One size after the other, so each directory is built once.
BENCHMARK(BM_GroupClosure)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AssignRules)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GroupClosure)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AssignRules)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace usersync

BENCHMARK_MAIN();
