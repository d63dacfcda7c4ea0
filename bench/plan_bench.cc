// The whole plan (closure → rules → mapping → match → diff → operations) on a generated
// directory and account base. Run: build-release/bench/plan_bench
//
// Shape of the data (fixed seed): N users; groups of 1,000 users nested under one scope group
// (with a cycle); 2 rule groups; accounts for a given percent of the valid users, of which 1 in
// 10 differs in its last name; 3% of users invalid (no email / duplicate emails).
// BM_PlanMapped: the same with two extra directory attributes (departmentNumber, title) and
// three [[mappings]]: the enterprise department from departmentNumber, userType a constant, and
// title an expression over both; the accounts hold the mapped values, so the categories and
// operations are BM_Plan's. Compare the two back to back (README "Attribute mappings").
// BM_PlanKeysJoin: the bare partitioned join (core/hash_join.h) of the same data set's keys,
// the accounts' userNames against the directory's emails, measured beside the plan (issue 17:
// the plan should cost at most 10 of it).
// USERSYNC_BENCH_10M=1 adds both at 10,000,000 users (about 13 GB, minutes: the growth table).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/expression.h"
#include "core/hash_join.h"
#include "core/plan.h"

namespace usersync::core {
namespace {

struct Dataset {
  Directory dir;
  Accounts accounts;
  std::vector<std::string> link_ids;  // storage for the links' views
  std::vector<Link> links;
  PlanConfig config;
  // Expected counts, computed while generating.
  int64_t expect_new = 0;
  int64_t expect_update = 0;
  int64_t expect_matched = 0;
  int64_t expect_invalid = 0;
};

std::string UserDn(size_t i) {
  return "uid=u" + std::to_string(i) + ",ou=people,dc=example,dc=com";
}
std::string GroupDn(std::string_view name) {
  return "cn=" + std::string(name) + ",ou=groups,dc=example,dc=com";
}

constexpr char kDepartment[] =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

std::string Department(size_t i) { return "Dept" + std::to_string(i % 50); }
std::string Title(size_t i) { return "Title" + std::to_string(i % 7); }

// The three mappings of BM_PlanMapped.
std::vector<AttributeMapping> BenchMappings() {
  AttributeMapping department;
  department.target = kDepartment;
  department.source = "departmentNumber";
  AttributeMapping user_type;
  user_type.target = "userType";
  user_type.kind = MappingSourceKind::kConstant;
  user_type.constant = "Employee";
  AttributeMapping title;
  title.target = "title";
  title.kind = MappingSourceKind::kExpression;
  title.expression = std::make_shared<const Expression>(
      *Expression::Parse("Join(\" \", [title], \"of\", [departmentNumber])"));
  return {department, user_type, title};
}

Dataset MakeDataset(size_t user_count, int account_percent, bool mapped = false) {
  Dataset data;
  std::mt19937_64 rng(42);
  DirectoryBuilder builder(mapped ? std::vector<std::string>{"departmentNumber", "title"}
                                  : std::vector<std::string>{});
  for (size_t i = 0; i < user_count; ++i) {
    const std::string dn = UserDn(i);
    const std::string id = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
    std::string email = "user" + std::to_string(i) + "@example.com";
    const bool no_email = i % 100 == 7;
    const bool duplicate = i % 100 == 9;  // shares user i-1's email
    if (duplicate) email = "user" + std::to_string(i - 1) + "@example.com";
    const std::string first = "First" + std::to_string(i);
    const std::string last = "Last" + std::to_string(i);
    const std::string display = first + " " + last;
    UserRecord record;
    record.dn = dn;
    record.id = id;
    record.email = no_email ? std::string_view() : std::string_view(email);
    record.first_name = first;
    record.last_name = last;
    record.display_name = display;
    const std::string department = Department(i);
    const std::string title = Title(i);
    if (mapped) record.extra = {department, title};
    builder.AddUser(record);
  }
  const size_t chunk = 1000;
  const size_t group_count = (user_count + chunk - 1) / chunk;
  builder.AddGroup(GroupDn("scope"), "scope");
  for (size_t g = 0; g < group_count; ++g) builder.AddMember(GroupDn("team" + std::to_string(g)));
  for (size_t g = 0; g < group_count; ++g) {
    builder.AddGroup(GroupDn("team" + std::to_string(g)), "team");
    for (size_t i = g * chunk; i < std::min(user_count, (g + 1) * chunk); ++i) {
      builder.AddMember(UserDn(i));
    }
    if (g == 0) builder.AddMember(GroupDn("scope"));  // a cycle
  }
  for (const char* rule_group : {"organizers", "trainers"}) {
    builder.AddGroup(GroupDn(rule_group), rule_group);
    for (size_t i = 0; i < user_count; i += 7) builder.AddMember(UserDn(i));
  }
  data.dir = std::move(builder).Finish();

  data.config.scope_groups = {GroupDn("scope")};
  data.config.validated_domains = {"example.com"};
  data.config.deprovision.max_changes = 1 << 30;
  data.config.deprovision.max_changes_percent = 100;
  Rule organizers;
  organizers.name = "Organizers";
  organizers.priority = 1;
  organizers.group = GroupDn("organizers");
  organizers.products = {"G2M", "G2W"};
  Rule everyone;
  everyone.name = "Everyone";
  everyone.priority = 10;
  everyone.group = GroupDn("scope");
  everyone.products = {"G2M"};
  data.config.rules = {organizers, everyone};
  if (mapped) data.config.mappings = BenchMappings();

  data.link_ids.reserve(user_count);
  for (size_t i = 0; i < user_count; ++i) {
    const bool invalid = i % 100 == 7 || i % 100 == 8 || i % 100 == 9;  // 8 and 9 share one email
    const bool has_account = static_cast<int>(rng() % 100) < account_percent;
    if (invalid) {
      ++data.expect_invalid;
      continue;
    }
    if (!has_account) {
      ++data.expect_new;
      continue;
    }
    Account account;
    const std::string n = std::to_string(i);
    account.id = data.accounts.Store("acc-" + n);
    account.user_name = data.accounts.Store("user" + n + "@example.com");
    account.email = account.user_name;
    account.external_id = data.dir.user_id[i];
    account.first_name = data.accounts.Store("First" + n);
    const bool changed = i % 10 == 3;
    account.last_name = data.accounts.Store(changed ? "Old" + n : "Last" + n);
    account.display_name = data.accounts.Store("First" + n + " Last" + n);
    account.products = data.accounts.Store(i % 7 == 0 ? "G2M,G2W" : "G2M");
    account.active = true;
    if (mapped) {  // sorted by path, as a decoder gives them
      account.attributes = {{"title", data.accounts.Store(Title(i) + " of " + Department(i))},
                            {kDepartment, data.accounts.Store(Department(i))},
                            {"userType", "Employee"}};
    }
    data.accounts.items.push_back(account);
    data.link_ids.push_back("acc-" + n);
    data.links.push_back({data.dir.user_id[i], data.link_ids.back(), true});
    if (changed) {
      ++data.expect_update;
    } else {
      ++data.expect_matched;
    }
  }
  return data;
}

void CheckPlan(const Dataset& data, const Plan& plan) {
  USERSYNC_CHECK(plan.count(Category::kNew) == data.expect_new);
  USERSYNC_CHECK(plan.count(Category::kUpdate) == data.expect_update);
  USERSYNC_CHECK(plan.count(Category::kMatched) == data.expect_matched);
  USERSYNC_CHECK(plan.count(Category::kInvalid) == data.expect_invalid);
  USERSYNC_CHECK(static_cast<int64_t>(plan.operations.size()) ==
                 data.expect_new + data.expect_update);
  // The mapped values, once, on the first operation's spec.
  if (!data.config.mappings.empty() && !plan.operations.empty()) {
    const Operation& op = plan.operations.front();
    const std::optional<uint32_t> user = data.dir.FindUserById(op.directory_id);
    USERSYNC_CHECK(user.has_value());
    const AccountSpec& spec = op.spec;
    USERSYNC_CHECK(spec.attributes.size() == 3);
    USERSYNC_CHECK(spec.Attribute("title") == Title(*user) + " of " + Department(*user));
    USERSYNC_CHECK(spec.Attribute(kDepartment) == Department(*user));
    USERSYNC_CHECK(spec.Attribute("userType") == "Employee");
  }
}

// A /proc/self/status field in bytes (VmRSS: now; VmHWM: the process's peak).
double ProcStatusBytes(const char* field) {
  std::FILE* file = std::fopen("/proc/self/status", "r");
  if (file == nullptr) return 0;
  char line[256];
  double kib = 0;
  const size_t field_len = std::strlen(field);
  while (std::fgets(line, sizeof(line), file) != nullptr) {
    if (std::strncmp(line, field, field_len) == 0 && line[field_len] == ':') {
      kib = std::atof(line + field_len + 1);
      break;
    }
  }
  std::fclose(file);
  return kib * 1024;
}

void RunPlan(benchmark::State& state, bool mapped) {
  const Dataset data =
      MakeDataset(static_cast<size_t>(state.range(0)), static_cast<int>(state.range(1)), mapped);
  const double users = static_cast<double>(state.range(0));
  const double inputs_rss = ProcStatusBytes("VmRSS");
  CheckPlan(data, ComputePlan(data.dir, data.accounts, data.links, {}, data.config));
  for (auto _ : state) {
    Plan plan = ComputePlan(data.dir, data.accounts, data.links, {}, data.config);
    benchmark::DoNotOptimize(plan.operations.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  // Memory per directory user: the resident inputs (directory, accounts, links) before
  // planning, and the process's peak (inputs + the plan and its temporaries; generating the
  // data set may set the peak for small sizes).
  state.counters["inputs_B_per_user"] = inputs_rss / users;
  state.counters["peak_B_per_user"] = ProcStatusBytes("VmHWM") / users;
}

void BM_Plan(benchmark::State& state) { RunPlan(state, false); }

void BM_PlanKeysJoin(benchmark::State& state) {
  const Dataset data =
      MakeDataset(static_cast<size_t>(state.range(0)), static_cast<int>(state.range(1)), false);
  std::vector<std::string_view> build;
  build.reserve(data.accounts.items.size());
  for (const Account& account : data.accounts.items) build.push_back(account.user_name);
  const std::span<const std::string_view> probe = data.dir.email;
  for (auto _ : state) {
    std::vector<int64_t> matched = PartitionedJoin(build, probe);
    benchmark::DoNotOptimize(matched.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_PlanMapped(benchmark::State& state) { RunPlan(state, true); }
// Args: users, percent of them with an account. 60%: a migration-like run with many creates;
// 100%: a nightly run over a million accounts, where most users are matched.
BENCHMARK(BM_Plan)
    ->Args({10'000, 60})
    ->Args({100'000, 60})
    ->Args({100'000, 100})
    ->Args({1'000'000, 60})
    ->Args({1'000'000, 100})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PlanKeysJoin)
    ->Args({100'000, 100})
    ->Args({1'000'000, 100})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PlanMapped)
    ->Args({10'000, 60})
    ->Args({1'000'000, 60})
    ->Args({1'000'000, 100})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

void RegisterTenMillion() {
  benchmark::RegisterBenchmark("BM_Plan", BM_Plan)
      ->Args({10'000'000, 100})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_PlanKeysJoin", BM_PlanKeysJoin)
      ->Args({10'000'000, 100})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace usersync::core

int main(int argc, char** argv) {
  const char* ten_million = std::getenv("USERSYNC_BENCH_10M");
  if (ten_million != nullptr && std::strcmp(ten_million, "1") == 0) {
    usersync::core::RegisterTenMillion();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
