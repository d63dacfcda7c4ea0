// The directory read's pure hot path: DN normalization (core::NormalizeDnInto, ~3 DNs per
// user) and building the columnar directory (DirectoryBuilder: users, groups, member edges).
// The delta cycle's directory side at the same size: the snapshot's directory image written
// and read back (core/directory_image.h), and 100 changed users applied to the previous
// directory, patched (ApplyChanges' fast path) beside rebuilt (RebuildWithChanges). And member
// resolution alone against a table of 1M user DNs, members scattered (BM_AddMembersScattered).
// Run: build-release/bench/directory_bench
//
// Shape of the data (fixed): N users "uid=uN,ou=People,dc=Example,dc=com" (mixed case, as
// directories hand them over), groups of 1,000 members whose member values carry spaces after
// the commas, and 1 DN in 100 with an escaped comma ("cn=Lee\, Ann ...").
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/directory.h"
#include "core/directory_changes.h"
#include "core/directory_image.h"
#include "core/normalize.h"

namespace usersync::core {
namespace {

std::string UserDn(size_t idx) {
  if (idx % 100 == 3)
    return "cn=Lee\\, Ann " + std::to_string(idx) + ",ou=People,dc=Example,dc=com";
  return "uid=u" + std::to_string(idx) + ",ou=People,dc=Example,dc=com";
}

// The member value form of a user DN: spaces after the commas, upper-case types.
std::string MemberDn(size_t idx) {
  if (idx % 100 == 3)
    return "CN=Lee\\2C Ann " + std::to_string(idx) + ", OU=People, DC=Example, DC=com";
  return "UID=u" + std::to_string(idx) + ", OU=People, DC=Example, DC=com";
}

void BM_NormalizeDn(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  std::vector<std::string> dns;
  dns.reserve(count * 2);
  for (size_t idx = 0; idx < count; ++idx) {
    dns.push_back(UserDn(idx));
    dns.push_back(MemberDn(idx));
  }
  // Checked once: both spellings of a DN normalize to the same key.
  USERSYNC_CHECK(NormalizeDn(dns[0]) == NormalizeDn(dns[1]));
  std::string out;
  for (auto _ : state) {
    for (const std::string& dn : dns) {
      NormalizeDnInto(dn, &out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(dns.size()));
}

struct Inputs {
  std::vector<std::string> user_dns;
  std::vector<std::string> member_dns;
  std::vector<std::string> ids;
};

Directory Build(const Inputs& in) {
  DirectoryBuilder builder;
  UserRecord record;
  for (size_t idx = 0; idx < in.ids.size(); ++idx) {
    record.dn = in.user_dns[idx];
    record.id = in.ids[idx];
    record.email = in.ids[idx];
    builder.AddUser(record);
  }
  for (size_t idx = 0; idx < in.ids.size(); ++idx) {
    if (idx % 1000 == 0) builder.AddGroup("cn=g" + std::to_string(idx / 1000) + ",ou=groups", "");
    builder.AddMember(in.member_dns[idx]);
  }
  return std::move(builder).Finish();
}

void BM_BuildDirectory(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  Inputs in;
  for (size_t idx = 0; idx < count; ++idx) {
    in.user_dns.push_back(UserDn(idx));
    in.member_dns.push_back(MemberDn(idx));
    in.ids.push_back("id-" + std::to_string(idx));
  }
  // Checked once: every member value names a user (a normalization that disagrees with itself
  // leaves members unresolved).
  USERSYNC_CHECK(Build(in).unresolved_member_count == 0);
  for (auto _ : state) {
    Directory dir = Build(in);
    benchmark::DoNotOptimize(dir.members.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

Inputs MakeInputs(size_t count) {
  Inputs in;
  for (size_t idx = 0; idx < count; ++idx) {
    in.user_dns.push_back(UserDn(idx));
    in.member_dns.push_back(MemberDn(idx));
    in.ids.push_back("id-" + std::to_string(idx));
  }
  return in;
}

void BM_DirectoryImageWrite(benchmark::State& state) {
  const Directory dir = Build(MakeInputs(static_cast<size_t>(state.range(0))));
  size_t bytes = 0;
  for (auto _ : state) {
    ByteWriter w;
    AppendDirectoryImage(dir, w);
    bytes = w.out().size();
    benchmark::DoNotOptimize(w.out().data());
  }
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_DirectoryImageRead(benchmark::State& state) {
  ByteWriter w;
  AppendDirectoryImage(Build(MakeInputs(static_cast<size_t>(state.range(0)))), w);
  const std::string& bytes = w.out();
  for (auto _ : state) {
    state.PauseTiming();  // the file's read(2) is not the image's cost
    auto storage = std::make_unique_for_overwrite<char[]>(bytes.size());
    std::memcpy(storage.get(), bytes.data(), bytes.size());
    ByteReader r(std::string_view(storage.get(), bytes.size()));
    state.ResumeTiming();
    absl::StatusOr<Directory> dir = ReadDirectoryImage(r, std::move(storage), bytes.size());
    USERSYNC_CHECK(dir.ok());
    benchmark::DoNotOptimize(dir->members.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// 100 users of the directory changed (a new first name), as a delta cycle hands them over.
DirectoryChanges HundredChanges(const Inputs& in) {
  DirectoryChanges changes;
  for (size_t idx = 0; idx < 100; ++idx) {
    const size_t user = idx * (in.ids.size() / 100);
    UserEntry entry;
    entry.dn = in.user_dns[user];
    entry.id = in.ids[user];
    entry.email = in.ids[user];
    entry.first_name = "Changed";
    changes.users.push_back(std::move(entry));
  }
  return changes;
}

template <Directory (*kApply)(const Directory&, const DirectoryChanges&)>
void BM_ApplyHundredChanges(benchmark::State& state) {
  const Inputs in = MakeInputs(static_cast<size_t>(state.range(0)));
  const Directory previous = Build(in);
  const DirectoryChanges changes = HundredChanges(in);
  for (auto _ : state) {
    Directory next = kApply(previous, changes);
    benchmark::DoNotOptimize(next.members.data());
  }
}

// The data of BM_AddMembersScattered: N users in normal form, N/100 groups of kMembersPerGroup
// member values, the values one after another as in a decoded page of entries.
struct ScatteredMembers {
  static constexpr size_t kMembersPerGroup = 200;
  std::vector<std::string> user_dns;
  std::vector<std::string> ids;
  std::vector<std::string> group_dns;
  std::string member_bytes;
  std::vector<std::pair<size_t, size_t>> member_spans;  // (offset, size) in member_bytes

  explicit ScatteredMembers(size_t count) {
    for (size_t idx = 0; idx < count; ++idx) {
      user_dns.push_back(NormalizeDn(UserDn(idx)));
      ids.push_back("id-" + std::to_string(idx));
    }
    for (size_t group_idx = 0; group_idx < count / 100; ++group_idx) {
      group_dns.push_back("cn=g" + std::to_string(group_idx) + ",ou=groups,dc=example,dc=com");
      for (size_t k = 0; k < kMembersPerGroup; ++k) {
        const std::string& dn = user_dns[(group_idx * 7919 + k * 4999) % count];
        member_spans.emplace_back(member_bytes.size(), dn.size());
        member_bytes += dn;
      }
    }
  }
  std::string_view Member(size_t group_idx, size_t k) const {
    const auto [offset, size] = member_spans[group_idx * kMembersPerGroup + k];
    return std::string_view(member_bytes).substr(offset, size);
  }
};

// Member resolution as a directory read meets it: N users added first (not timed), then N/100
// groups of 200 member values each, every value the normal form of a user DN (as slapd and the
// generator hand them over), a group's members spread over the whole user range as the
// generator spreads them. Each value is a hit in a DN table of N keys that fits no cache: the
// cost is DirectoryBuilder::AddMember (normalize, hash, probe, compare keys) plus Finish.
void BM_AddMembersScattered(benchmark::State& state) {
  const ScatteredMembers in(static_cast<size_t>(state.range(0)));
  const size_t per_group = ScatteredMembers::kMembersPerGroup;
  for (auto _ : state) {
    state.PauseTiming();
    auto builder = std::make_unique<DirectoryBuilder>();
    UserRecord record;
    for (size_t idx = 0; idx < in.user_dns.size(); ++idx) {
      record.dn = in.user_dns[idx];
      record.id = in.ids[idx];
      builder->AddUser(record);
    }
    state.ResumeTiming();
    for (size_t group_idx = 0; group_idx < in.group_dns.size(); ++group_idx) {
      builder->AddGroup(in.group_dns[group_idx], "");
      for (size_t k = 0; k < per_group; ++k) builder->AddMember(in.Member(group_idx, k));
    }
    Directory dir = std::move(*builder).Finish();
    USERSYNC_CHECK(dir.unresolved_member_count == 0);
    USERSYNC_CHECK(dir.members.size() == in.member_spans.size());
    state.PauseTiming();
    builder.reset();
    { Directory gone = std::move(dir); }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(in.member_spans.size()));
}

BENCHMARK(BM_NormalizeDn)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DirectoryImageWrite)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DirectoryImageRead)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ApplyHundredChanges<ApplyChanges>)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ApplyHundredChanges<RebuildWithChanges>)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildDirectory)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AddMembersScattered)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace usersync::core

BENCHMARK_MAIN();
