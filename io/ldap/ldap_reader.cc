// The plan of an LDAP read, its search threads with their retries, and the merge of their
// entries into one Directory (see io/ldap/ldap_reader.h).
#include "io/ldap/ldap_reader.h"

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/backoff.h"
#include "core/retry.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/directory/attribute_name.h"

namespace usersync::io::ldap_internal {
namespace {

using core::EqualsIgnoreCase;

// Page sizes tried, in order, after the server refused a bigger one.
constexpr int kFallbackPageSizes[] = {1000, 500, 100, 10};
// Flavor kAd asks groups for member;range=0-1499 (Windows' default MaxValRange): Windows
// answers so past 1,500 values anyway, and Samba only splits when asked.
constexpr int64_t kFirstRangeHigh = 1499;

}  // namespace

absl::StatusOr<core::Directory> LdapReader::Read(LdapReadStats& stats, SyncRequests* sync) {
  const DirectorySchema& schema = options_.schema;
  USERSYNC_ASSIGN_OR_RETURN(SearchFilters filters,
                            CanonicalFilters(schema.user_filter, schema.group_filter));

  // The mappers take the server's word for what an entry is (see the header): their filters
  // are "always" and "never".
  DirectorySchema user_schema = schema;
  user_schema.user_filter = "(&)";
  user_schema.group_filter = "(|)";
  DirectorySchema group_schema = schema;
  group_schema.user_filter = "(|)";
  group_schema.group_filter = "(&)";
  USERSYNC_ASSIGN_OR_RETURN(EntryMapper user_mapper, EntryMapper::Create(user_schema));
  USERSYNC_ASSIGN_OR_RETURN(EntryMapper group_mapper, EntryMapper::Create(group_schema));
  PlanAttributes(schema);

  // The naming attribute the partitions split on.
  const std::string& partition_attribute =
      !schema.user_name.empty() ? schema.user_name : schema.display_name;
  const std::vector<std::string> partitions =
      PlanUserPartitions(partition_attribute, sync != nullptr ? 1 : options_.connections);
  stats.partitions = static_cast<int>(partitions.size());

  if (!options_.tls_verify && UsesTls(options_)) {
    Warn(absl::StrCat("source.tls_verify = false: the certificate of ", options_.url,
                      " is not checked; anyone on the network path can read the directory "
                      "and the bind password"));
  }

  // An eager attempt first; a buffered one if a partition restarted after being merged in part.
  for (int attempt = 0;; ++attempt) {
    eager_ = attempt == 0 && options_.merge_chunk_entries > 0 && sync == nullptr;
    {
      absl::MutexLock lock(&mu_);
      stop_ = false;
      error_ = absl::OkStatus();
    }
    std::vector<std::unique_ptr<Job>> jobs = MakeJobs(filters, partitions, sync);
    bool tainted = false;
    absl::StatusOr<core::Directory> dir = ReadOnce(jobs, user_mapper, group_mapper, stats, tainted);
    if (!tainted || !eager_) return dir;
    Warn(
        "a user partition restarted after part of it was merged; reading the whole directory "
        "again, each partition merged once complete");
  }
}

void LdapReader::PlanAttributes(const DirectorySchema& schema) {
  const bool ad = schema.flavor == DirectoryFlavor::kAd;
  auto add_attribute = [](std::vector<std::string>& list, const std::string& name) {
    if (name.empty()) return;
    for (const std::string& have : list) {
      if (EqualsIgnoreCase(have, name)) return;
    }
    list.push_back(name);
  };
  for (const std::string* name : {&schema.id, &schema.user_name, &schema.email, &schema.first_name,
                                  &schema.last_name, &schema.display_name, &schema.language}) {
    add_attribute(user_attributes_, *name);
  }
  for (const std::string& name : schema.extra) add_attribute(user_attributes_, name);
  if (ad) add_attribute(user_attributes_, "userAccountControl");
  add_attribute(group_attributes_, schema.group_name);
  member_request_ = ad ? RangedDescription(schema.member, 0, kFirstRangeHigh) : schema.member;
  add_attribute(group_attributes_, member_request_);
  for (const std::string& name : user_attributes_) {
    user_bases_.push_back(AttributeBaseName(name));
  }
  for (const std::string& name : group_attributes_) {
    group_bases_.push_back(AttributeBaseName(name));
  }
}

std::vector<std::unique_ptr<Job>> LdapReader::MakeJobs(const SearchFilters& filters,
                                                       const std::vector<std::string>& partitions,
                                                       SyncRequests* sync) {
  std::vector<std::unique_ptr<Job>> jobs;
  for (size_t partition_idx = 0; partition_idx < partitions.size(); ++partition_idx) {
    auto job = std::make_unique<Job>(&user_attributes_);
    job->what = partitions.size() == 1 ? std::string("users")
                                       : absl::StrCat("users (partition ", partition_idx + 1,
                                                      " of ", partitions.size(), ")");
    job->filter = UserSearchFilter(filters.user, filters.group, partitions[partition_idx]);
    if (sync != nullptr) job->sync = &sync->users;
    jobs.push_back(std::move(job));
  }
  auto job = std::make_unique<Job>(&group_attributes_);
  job->what = "groups";
  job->filter = filters.group;
  job->groups = true;
  if (sync != nullptr) job->sync = &sync->groups;
  jobs.push_back(std::move(job));
  return jobs;
}

absl::StatusOr<core::Directory> LdapReader::ReadOnce(std::vector<std::unique_ptr<Job>>& jobs,
                                                     EntryMapper& user_mapper,
                                                     EntryMapper& group_mapper,
                                                     LdapReadStats& stats, bool& tainted) {
  // The first connection fails fast and clearly (wrong password, server down).
  USERSYNC_ASSIGN_OR_RETURN(std::unique_ptr<Connection> first, Connection::Open(options_));
  std::vector<std::thread> threads = StartJobs(jobs, std::move(first));

  Merge merge{.builder = user_mapper.NewBuilder(),
              .user_mapper = user_mapper,
              .group_mapper = group_mapper,
              .stats = stats};
  stats.users = 0;
  stats.groups = 0;
  stats.ranged_groups = 0;
  // Merge while the searches go on: first the groups (the last job; their search is short, so
  // their members are normalized while the users still arrive, not after them), then the user
  // partitions in order, an eager one chunk by chunk as it arrives, a buffered one once it is
  // complete. Users and groups are numbered apart, so this order gives the same Directory as
  // any other; it is fixed so that the issues come out in the same order every time.
  std::vector<size_t> merge_order = {jobs.size() - 1};
  for (size_t job_idx = 0; job_idx + 1 < jobs.size(); ++job_idx) merge_order.push_back(job_idx);
  for (size_t job_idx : merge_order) {
    if (!merge.error.ok() || merge.failed || merge.tainted) break;
    Job& job = *jobs[job_idx];
    if (eager_ && !job.groups) {
      MergeEagerPartition(merge, job_idx);
    } else {
      MergeCompleteJob(merge, job, job_idx);
    }
  }
  tainted = merge.tainted;
  // A tainted attempt lets the searches run to their end: if one of them fails for good, that
  // error is the answer, not a second attempt.
  const absl::Status error = JoinJobs(threads, /*stop=*/!merge.error.ok());
  for (const std::unique_ptr<Job>& job : jobs) {
    stats.range_searches += job->range_searches;
    stats.restarts += job->restarts;
  }
  stats.page_size = page_size_.load();
  if (!merge.error.ok()) return merge.error;
  if (!error.ok()) {
    tainted = false;
    return error;
  }
  if (tainted) return absl::AbortedError("tainted");
  return std::move(merge.builder).Finish();
}

std::vector<std::thread> LdapReader::StartJobs(std::vector<std::unique_ptr<Job>>& jobs,
                                               std::unique_ptr<Connection> first) {
  {
    absl::MutexLock lock(&mu_);
    done_.assign(jobs.size(), 0);
    published_.clear();
    published_.resize(jobs.size());
  }
  std::vector<std::thread> threads;
  threads.reserve(jobs.size());
  for (size_t job_idx = 0; job_idx < jobs.size(); ++job_idx) {
    std::unique_ptr<Connection> conn = job_idx == 0 ? std::move(first) : nullptr;
    threads.emplace_back([this, &jobs, job_idx, conn = std::move(conn)]() mutable {
      absl::Status status = RunJob(*jobs[job_idx], job_idx, std::move(conn));
      absl::MutexLock lock(&mu_);
      if (!status.ok() && !absl::IsCancelled(status) && error_.ok()) {
        error_ = status;
        stop_ = true;
      }
      done_[job_idx] = 1;
    });
  }
  return threads;
}

absl::Status LdapReader::JoinJobs(std::vector<std::thread>& threads, bool stop) {
  if (stop) {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& thread : threads) thread.join();
  absl::MutexLock lock(&mu_);
  published_.clear();
  return error_;
}

absl::Status LdapReader::MergeBatch(Merge& merge, bool groups, const EntryBatch& batch,
                                    const FullMembers* full_members) {
  EntryMapper& mapper = groups ? merge.group_mapper : merge.user_mapper;
  // Users come after the groups, so each user's DN is in the DN table already (put there by a
  // member value) and its look-up waits for cache misses: hint the builder a window ahead so
  // that it prefetches them for the window at once (core::DirectoryBuilder::HintDns).
  constexpr size_t kHintWindow = 16;
  for (size_t entry_idx = 0; entry_idx < batch.size(); ++entry_idx) {
    if (!groups && entry_idx % kHintWindow == 0) {
      merge.hint_dns.clear();
      const size_t window_end = std::min(batch.size(), entry_idx + kHintWindow);
      for (size_t idx = entry_idx; idx < window_end; ++idx) merge.hint_dns.push_back(batch.Dn(idx));
      merge.builder.HintDns(merge.hint_dns);
    }
    const std::vector<std::string_view>* members = nullptr;
    if (full_members != nullptr) {
      auto full = full_members->find(static_cast<uint32_t>(entry_idx));
      if (full != full_members->end()) members = &full->second;
    }
    const BatchEntryView view(batch, entry_idx, options_.schema.member, members);
    USERSYNC_ASSIGN_OR_RETURN(EntryMapper::Kind kind, mapper.Add(view, merge.builder));
    if (kind == EntryMapper::Kind::kUser) ++merge.stats.users;
    if (kind == EntryMapper::Kind::kGroup) ++merge.stats.groups;
  }
  return absl::OkStatus();
}

void LdapReader::MergeEagerPartition(Merge& merge, size_t job_idx) {
  bool merged_any = false;
  int generation = 0;
  while (merge.error.ok()) {
    std::unique_ptr<EntryBatch> chunk;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [&]() {
        return !published_[job_idx].chunks.empty() || done_[job_idx] != 0 || !error_.ok();
      };
      mu_.Await(absl::Condition(&ready));
      if (!error_.ok()) {
        merge.failed = true;
        return;
      }
      Published& published = published_[job_idx];
      if (!merged_any) generation = published.generation;
      if (published.generation != generation) {
        merge.tainted = true;
        return;
      }
      if (published.chunks.empty()) return;  // done, and every chunk merged
      chunk = std::move(published.chunks.front());
      published.chunks.pop_front();
    }
    merge.error = MergeBatch(merge, /*groups=*/false, *chunk, nullptr);
    merged_any = true;
    if (options_.chunk_merged_for_test) options_.chunk_merged_for_test(merge.stats.users);
  }
}

void LdapReader::MergeCompleteJob(Merge& merge, Job& job, size_t job_idx) {
  {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() { return done_[job_idx] != 0 || !error_.ok(); };
    mu_.Await(absl::Condition(&ready));
    if (!error_.ok()) {
      merge.failed = true;
      return;
    }
  }
  merge.error = MergeBatch(merge, job.groups, job.batch, &job.full_members);
  merge.stats.ranged_groups += static_cast<int64_t>(job.full_members.size());
  job.batch.Clear();  // merged: give the memory back early
  job.full_members.clear();
}

absl::Status LdapReader::RunJob(Job& job, size_t job_idx, std::unique_ptr<Connection> first) {
  std::minstd_rand random(static_cast<uint32_t>(job_idx) + 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int failures = 0;
  for (bool first_attempt = true;; first_attempt = false) {
    if (Stopped()) return absl::CancelledError("stopped");
    job.batch.Clear();
    job.full_members.clear();
    job.published_entries = 0;
    if (!first_attempt && eager_ && !job.groups) {
      absl::MutexLock lock(&mu_);
      published_[job_idx].chunks.clear();
      ++published_[job_idx].generation;
    }
    absl::Status status;
    const int page_size = page_size_.load();
    std::unique_ptr<Connection> conn = std::move(first);
    if (conn == nullptr) {
      absl::StatusOr<std::unique_ptr<Connection>> opened = Connection::Open(options_);
      if (opened.ok()) {
        conn = *std::move(opened);
      } else {
        status = opened.status();
      }
    }
    if (conn != nullptr) {
      std::vector<PendingRange> ranges;
      status = Search(*conn, job, job_idx, page_size, ranges);
      if (status.ok() && !ranges.empty()) status = ReadRanges(*conn, job, ranges);
    }
    if (status.ok() || absl::IsCancelled(status)) return status;
    if (absl::IsResourceExhausted(status)) {
      if (!ShrinkPageSize(page_size)) return status;
      Warn(absl::StrCat(status.message(), "; retrying with pages of ", page_size_.load()));
      ++job.restarts;
      continue;
    }
    if (!core::IsRetryable(status)) return status;
    ++failures;
    if (failures >= options_.max_attempts) {
      return absl::UnavailableError(absl::StrCat(job.what, ": gave up after ", failures,
                                                 " attempts; last error: ", status.message()));
    }
    const core::Duration delay =
        core::BackoffDelay(failures - 1, options_.retry_base, options_.retry_cap, unit(random));
    Warn(absl::StrCat(status.message(), "; reconnecting and reading ", job.what,
                      " again from the start (attempt ", failures + 1, " of ",
                      options_.max_attempts, ")"));
    ++job.restarts;
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::FromChrono(delay));
  }
}

void LdapReader::Publish(Job& job, size_t job_idx, bool final) {
  if (!eager_ || job.groups || job.batch.size() == 0) return;
  if (!final && job.batch.size() < options_.merge_chunk_entries) return;
  auto chunk = std::make_unique<EntryBatch>(std::move(job.batch));
  job.batch.Clear();  // the moved-from arena must not be written again
  job.published_entries += static_cast<int64_t>(chunk->size());
  absl::MutexLock lock(&mu_);
  published_[job_idx].chunks.push_back(std::move(chunk));
}

bool LdapReader::ShrinkPageSize(int refused) {
  for (int candidate : kFallbackPageSizes) {
    if (candidate >= refused) continue;
    int expected = refused;
    // When this fails another partition has shrunk the page already, to `expected`.
    page_size_.compare_exchange_strong(expected, candidate);
    return true;
  }
  return false;
}

}  // namespace usersync::io::ldap_internal
