// LdapReader: one Read() of the LDAP source (internal to io/ldap; the design is in
// io/ldap/ldap_directory.h). Its parts live in two files:
//  - io/ldap/ldap_reader.cc: the plan of a read (attributes, jobs), the search threads with
//    their retries, and the merge of their entries into one Directory on the calling thread;
//  - io/ldap/ldap_search.cc: what one search thread does on its connection: the paged search,
//    the decoding of entries, and Active Directory's ranged member retrieval;
//  - io/ldap/ldap_sync_search.cc: a job's search as an RFC 4533 refreshOnly content
//    synchronization instead (delta reads of a server with syncprov, see SyncRun).
//
// Thread-safety: Read() runs on the calling thread (the merge) and starts one thread per job
// (RunJob); they share stop_, done_, error_ and published_ under mu_. A job's results belong to
// its thread until it is done (or, eager, until a chunk is published), then to the merging
// thread. A reader is used for one Read() and borrows the options for its life.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/directory.h"
#include "io/directory/entry_mapper.h"
#include "io/ldap/ldap_connection.h"
#include "io/ldap/ldap_directory.h"
#include "io/ldap/ldap_entry_batch.h"
#include "io/ldap/ldap_query.h"
#include "io/ldap/ldap_sync_control.h"

namespace usersync::io::ldap_internal {

// One RFC 4533 refreshOnly search: where it starts, and what the server answered besides the
// entries it sent whole (those go into the job's batch as any entry). Reset when the search
// starts again after a dropped connection.
struct SyncRun {
  std::string cookie;    // the cookie to start from ("" = a first refresh); a retry starts here
  size_t max_uuids = 0;  // bound on the UUIDs of one answer (present + deleted + changed)
  // The answer. new_cookie: the last cookie the server sent ("" when none: nothing changed).
  // refresh_deletes (the Sync Done control): true when the server named what was deleted
  // (`deleted`; a session log, or nothing changed); false after a present phase: every entry
  // that is neither in `present` nor in `changed` is gone.
  std::string new_cookie;
  bool refresh_deletes = false;
  std::vector<SyncUuid> present;
  std::vector<SyncUuid> deleted;
  std::vector<SyncUuid> changed;  // entries sent whole (add, modify), in the batch's order

  void ClearAnswer() {
    new_cookie.clear();
    refresh_deletes = false;
    present.clear();
    deleted.clear();
    changed.clear();
  }
  size_t uuid_count() const { return present.size() + deleted.size() + changed.size(); }
  // Where the next search starts.
  const std::string& next_cookie() const { return new_cookie.empty() ? cookie : new_cookie; }
};

// The two sync searches of a delta read: users and groups, each with its own cookie.
struct SyncRequests {
  SyncRun users;
  SyncRun groups;
};

// A search job: one partition of the users, or the groups.
struct Job {
  explicit Job(const std::vector<std::string>* names) : batch(names) {}

  std::string what;  // "users (partition 2 of 4)", for messages
  std::string filter;
  bool groups = false;
  // Results (owned by the job's thread until `done`, then by the merging thread). In an eager
  // read a user partition's batch holds only the chunk being decoded.
  EntryBatch batch;
  int64_t published_entries = 0;  // handed to the merging thread in this attempt
  // Groups with ranged members: entry index → every member value.
  absl::flat_hash_map<uint32_t, std::vector<std::string_view>> full_members;
  int64_t range_searches = 0;
  int64_t restarts = 0;
  SyncRun* sync = nullptr;  // set: an RFC 4533 search, not a paged one (not owned)
};

// A group whose member list came back ranged and continues at `next_low`.
struct PendingRange {
  uint32_t entry_idx;
  int64_t next_low;
};

struct RangeRead;  // one group's ranged member retrieval (ldap_search.cc)

class LdapReader {
 public:
  explicit LdapReader(const LdapSourceOptions& options) : options_(options) {
    page_size_.store(options.page_size);
  }

  // The whole read (see ldap_directory.h), `stats` filled as it goes. With `sync`, the users
  // and the groups are each read by one RFC 4533 refreshOnly search (no partitions, no
  // paging: syncprov refuses paging with sync) from their cookies, and the answers beside
  // the entries land in `sync`. Errors of a sync search the server refuses or answers
  // malformed: kOutOfRange, naming the server (the caller reads in full).
  absl::StatusOr<core::Directory> Read(LdapReadStats& stats, SyncRequests* sync = nullptr);

 private:
  using FullMembers = absl::flat_hash_map<uint32_t, std::vector<std::string_view>>;
  // One attempt's merge into the Directory, on the calling thread.
  struct Merge {
    core::DirectoryBuilder builder;
    EntryMapper& user_mapper;
    EntryMapper& group_mapper;
    LdapReadStats& stats;
    absl::Status error{};  // an entry the mapper cannot take: the read's answer
    bool failed = false;   // a search failed: error_ says why
    bool tainted = false;  // an eager partition restarted after part of it was merged
    std::vector<std::string_view> hint_dns{};  // MergeBatch's scratch for HintDns
  };

  // ldap_reader.cc: the plan and the merge.
  // The attributes the searches ask for (user_attributes_, group_attributes_, their bases,
  // member_request_).
  void PlanAttributes(const DirectorySchema& schema);
  std::vector<std::unique_ptr<Job>> MakeJobs(const SearchFilters& filters,
                                             const std::vector<std::string>& partitions,
                                             SyncRequests* sync);
  // One attempt at the whole read over fresh `jobs`. Sets `tainted` (and returns no
  // directory) when an eager attempt must be done again buffered (see published_).
  absl::StatusOr<core::Directory> ReadOnce(std::vector<std::unique_ptr<Job>>& jobs,
                                           EntryMapper& user_mapper, EntryMapper& group_mapper,
                                           LdapReadStats& stats, bool& tainted);
  // Starts one thread per job (RunJob); job 0 gets the connection `first`.
  std::vector<std::thread> StartJobs(std::vector<std::unique_ptr<Job>>& jobs,
                                     std::unique_ptr<Connection> first);
  // Stops the searches when `stop` (the merge failed), joins them; the first search error.
  absl::Status JoinJobs(std::vector<std::thread>& threads, bool stop);
  // Adds a batch's entries to the directory. `full_members`: ranged groups' members (see Job),
  // null for an eager chunk (whose job's thread may still be running).
  absl::Status MergeBatch(Merge& merge, bool groups, const EntryBatch& batch,
                          const FullMembers* full_members);
  // Merges an eager user partition chunk by chunk as it is published.
  void MergeEagerPartition(Merge& merge, size_t job_idx);
  // Merges a job once it is complete.
  void MergeCompleteJob(Merge& merge, Job& job, size_t job_idx);
  // The job's search with its retries: reconnects after a dropped connection, shrinks the page
  // after a refused one. Runs on the job's thread.
  absl::Status RunJob(Job& job, size_t job_idx, std::unique_ptr<Connection> first);
  // Eager reads: hands the user partition's decoded entries to the merging thread once they
  // make a chunk, or (final) whatever is left.
  void Publish(Job& job, size_t job_idx, bool final);
  // A smaller page after the server refused `refused`; false when there is none.
  bool ShrinkPageSize(int refused);

  // ldap_search.cc: one job's search on its connection.
  absl::Status Search(Connection& conn, Job& job, size_t job_idx, int page_size,
                      std::vector<PendingRange>& ranges);
  // The result that ends a page: the cookie of the next page ("" after the last), or the
  // server's error. `entries` is how many entries the job has read so far (for messages).
  absl::Status EndPage(LDAP* ld, LDAPMessage* msg, const Job& job, int page_size, int64_t entries,
                       std::string& cookie);
  // The attributes a job asks for, as libldap takes them (null-terminated; views of names).
  std::vector<char*> AttributeList(const Job& job);

  // ldap_sync_search.cc: a job's search as RFC 4533 refreshOnly (job.sync).
  absl::Status SyncSearch(Connection& conn, Job& job, std::vector<PendingRange>& ranges);
  // One entry of a sync search: its Sync State control says present, deleted or sent whole.
  absl::Status SyncEntry(LDAP* ld, LDAPMessage* msg, Job& job, std::vector<PendingRange>& ranges);
  // A Sync Info intermediate message (a new cookie, a set of present or deleted UUIDs).
  absl::Status SyncInfo(LDAP* ld, LDAPMessage* msg, Job& job);
  // The result that ends a sync search: the Sync Done control's cookie and refreshDeletes.
  absl::Status EndSync(LDAP* ld, LDAPMessage* msg, Job& job);
  // kOutOfRange "<job>: <url> <why> (RFC 4533 content synchronization)".
  absl::Status SyncRefused(const Job& job, std::string_view why) const;
  absl::Status DecodeEntry(LDAP* ld, LDAPMessage* msg, Job& job, std::vector<PendingRange>& ranges);
  // Adds one attribute's `values` to an entry's running counts; kResourceExhausted naming `dn`
  // once they pass options_.max_entry_values or max_entry_bytes.
  absl::Status CheckEntryBounds(std::string_view dn, const berval* values, size_t& value_count,
                                size_t& value_bytes) const;
  absl::Status ReadRanges(Connection& conn, Job& job, const std::vector<PendingRange>& ranges);
  // One range read's answer: its values added to `read`. Errors: kDataLoss (the answer does
  // not fit the request), the connection's.
  absl::Status AwaitRange(LDAP* ld, int msgid, Job& job, RangeRead& read);
  // Waits for the answer to `msgid`; nullptr on a stop request. Errors: the connection's.
  absl::StatusOr<MessagePtr> NextMessage(LDAP* ld, int msgid, std::string_view what);

  bool Stopped() {
    absl::MutexLock lock(&mu_);
    return stop_;
  }
  void Warn(std::string_view message) {
    if (options_.log == nullptr) return;
    absl::MutexLock lock(&log_mu_);
    std::fprintf(options_.log, "usersync: warning: %.*s\n", static_cast<int>(message.size()),
                 message.data());
    std::fflush(options_.log);
  }

  const LdapSourceOptions& options_;
  std::vector<std::string> user_attributes_;
  std::vector<std::string> group_attributes_;
  // Their names without options ("member" for "member;range=0-1499"), for DecodeEntry.
  std::vector<std::string_view> user_bases_;
  std::vector<std::string_view> group_bases_;
  std::string member_request_;  // "member" or, for AD, "member;range=0-1499"
  std::atomic<int> page_size_{0};

  absl::Mutex log_mu_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint8_t> done_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);

  // Eager merge (the first attempt): user partitions publish their entries in chunks as they
  // are decoded, and the merging thread adds them to the Directory while the server is still
  // sending, partition by partition in order (so the result is the same as a buffered read's).
  // A partition that restarts after some of its entries were merged taints the attempt: the
  // directory is then read again, buffered (each partition merged once it is complete).
  struct Published {
    std::deque<std::unique_ptr<EntryBatch>> chunks;
    int generation = 0;  // bumped when the partition restarts
  };
  bool eager_ = true;  // set between attempts, while no search thread runs
  std::deque<Published> published_ ABSL_GUARDED_BY(mu_);  // per job (a deque: Published moves)
};

}  // namespace usersync::io::ldap_internal
