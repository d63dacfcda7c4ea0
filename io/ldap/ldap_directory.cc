#include "io/ldap/ldap_directory.h"

#include <ldap.h>
#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/backoff.h"
#include "core/ldap_filter.h"
#include "core/retry.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "core/string_arena.h"
#include "io/directory/attribute_name.h"
#include "io/directory/entry_mapper.h"
#include "io/ldap/ldap_query.h"

namespace usersync::io {
namespace {

using Clock = std::chrono::steady_clock;
using core::EqualsIgnoreCase;
using ldap_internal::ValueRange;

// ldap_result() waits in slices this long, so a search notices a stop request quickly.
constexpr std::chrono::milliseconds kPollSlice{100};
// Page sizes tried, in order, after the server refused a bigger one.
constexpr int kFallbackPageSizes[] = {1000, 500, 100, 10};
// Flavor kAd asks groups for member;range=0-1499 (Windows' default MaxValRange): Windows
// answers so past 1,500 values anyway, and Samba only splits when asked.
constexpr int64_t kFirstRangeHigh = 1499;
// Follow-up range reads of one group before it is declared broken (AD gives 1,500 values a
// read: this is 1.5 billion members).
constexpr int kMaxRangeReads = 1'000'000;

timeval ToTimeval(std::chrono::milliseconds duration) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

std::string_view ToView(const berval& bv) {
  return bv.bv_val == nullptr ? std::string_view() : std::string_view(bv.bv_val, bv.bv_len);
}

// The server's diagnostic message for the last operation on `ld` ("" when none).
std::string Diagnostic(LDAP* ld) {
  if (ld == nullptr) return "";
  char* text = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &text) != LDAP_OPT_SUCCESS ||
      text == nullptr) {
    return "";
  }
  std::string out(text);
  ldap_memfree(text);
  return out;
}

// True when a read on `ld` would not block: bytes buffered in libldap's Sockbuf (read-ahead,
// TLS) or waiting in the socket. Costs one poll(2) with no timeout when the buffer is empty.
bool InputPending(LDAP* ld) {
  Sockbuf* sb = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS || sb == nullptr) return true;
  if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_DATA_READY, nullptr) != 0) return true;
  int fd = -1;
  if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0) return true;
  pollfd ready{fd, POLLIN, 0};
  return ::poll(&ready, 1, /*timeout=*/0) != 0;
}

int LastResultCode(LDAP* ld) {
  int code = LDAP_OTHER;
  ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code);
  return code;
}

// The status code that an LDAP result code stands for (STYLE.md §5).
absl::StatusCode CodeFor(int rc) {
  switch (rc) {
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
    case LDAP_LOOP_DETECT:
      return absl::StatusCode::kUnavailable;
    case LDAP_TIMEOUT:
    case LDAP_TIMELIMIT_EXCEEDED:
      return absl::StatusCode::kDeadlineExceeded;
    case LDAP_INVALID_CREDENTIALS:
      return absl::StatusCode::kUnauthenticated;
    case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_STRONG_AUTH_REQUIRED:
    case LDAP_CONFIDENTIALITY_REQUIRED:
    case LDAP_INAPPROPRIATE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case LDAP_NO_SUCH_OBJECT:
      return absl::StatusCode::kNotFound;
    case LDAP_ADMINLIMIT_EXCEEDED:
    case LDAP_SIZELIMIT_EXCEEDED:
      return absl::StatusCode::kResourceExhausted;
    case LDAP_NO_MEMORY:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kFailedPrecondition;
  }
}

// "<what>: <ldap error text> (<server diagnostic>)".
absl::Status LdapError(int rc, std::string_view what, std::string_view diagnostic) {
  std::string message = absl::StrCat(Sv(what), ": ", ldap_err2string(rc));
  if (!diagnostic.empty()) absl::StrAppend(&message, " (", Sv(diagnostic), ")");
  return absl::Status(CodeFor(rc), message);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

struct MessageFree {
  void operator()(LDAPMessage* msg) const { ldap_msgfree(msg); }
};
using MessagePtr = std::unique_ptr<LDAPMessage, MessageFree>;

// ---------------------------------------------------------------------------------------------
// A bound connection.

class Connection {
 public:
  ~Connection() {
    if (ld_ != nullptr) ldap_unbind_ext_s(ld_, nullptr, nullptr);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects (TLS as configured) and binds. Errors: see the header's list.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const LdapSourceOptions& options) {
    std::unique_ptr<Connection> conn(new Connection());
    int rc = ldap_initialize(&conn->ld_, options.url.c_str());
    if (rc != LDAP_SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("source.url \"", options.url, "\": ", ldap_err2string(rc)));
    }
    LDAP* ld = conn->ld_;
    const int version = LDAP_VERSION3;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    const timeval network_timeout = ToTimeval(options.network_timeout);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &network_timeout);
    // Synchronous operations (StartTLS, bind, the range reads) wait at most this long.
    const timeval timeout = ToTimeval(options.timeout);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout);
    const int no_limit = LDAP_NO_LIMIT;
    ldap_set_option(ld, LDAP_OPT_SIZELIMIT, &no_limit);
    ldap_set_option(ld, LDAP_OPT_TIMELIMIT, &no_limit);

    const bool ldaps = StartsWith(options.url, "ldaps://");
    if (ldaps || options.start_tls) {
      if (!options.ca_file.empty()) {
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, options.ca_file.c_str());
        if (rc != LDAP_OPT_SUCCESS) {
          return absl::InvalidArgumentError(
              absl::StrCat("source.ca_file \"", options.ca_file, "\" cannot be used"));
        }
      }
      const int require = options.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
      ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
      const int is_server = 0;
      rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
      if (rc != LDAP_OPT_SUCCESS) {
        return absl::InvalidArgumentError(
            absl::StrCat("TLS setup for ", options.url, " failed (source.ca_file \"",
                         options.ca_file, "\"): ", ldap_err2string(rc), " ", Diagnostic(ld)));
      }
    }
    if (options.start_tls) {
      rc = ldap_start_tls_s(ld, nullptr, nullptr);
      if (rc != LDAP_SUCCESS) {
        absl::Status error =
            LdapError(rc, absl::StrCat("StartTLS with ", options.url), Diagnostic(ld));
        // Without TLS nothing else may go over this connection; a failed handshake is a
        // connection problem.
        return absl::UnavailableError(error.message());
      }
    }

    berval credentials;
    credentials.bv_val = const_cast<char*>(options.bind_password.data());
    credentials.bv_len = options.bind_password.size();
    rc = ldap_sasl_bind_s(ld, options.bind_dn.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr,
                          nullptr, nullptr);
    if (rc == LDAP_INVALID_CREDENTIALS) {
      return absl::UnauthenticatedError(absl::StrCat(
          "bind as ", options.bind_dn, " refused: invalid credentials (", options.url, ")"));
    }
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT) {
      const std::string diagnostic = Diagnostic(ld);
      return absl::UnavailableError(
          absl::StrCat("cannot reach ", options.url, ": ", ldap_err2string(rc),
                       diagnostic.empty() ? "" : absl::StrCat(" (", diagnostic, ")")));
    }
    if (rc != LDAP_SUCCESS) {
      return LdapError(
          rc,
          absl::StrCat("bind as ", options.bind_dn.empty() ? "anonymous" : options.bind_dn, " at ",
                       options.url),
          Diagnostic(ld));
    }
    // libldap reads a TCP connection with two read(2)s and a poll(2) per message (header,
    // then body): 3 system calls per entry, a third of the client's CPU on a big read. A
    // read-ahead layer under the protocol (below TLS, if any) fills a 64 KiB buffer per
    // read(2), and ldap_result() then finds the next message buffered without polling:
    // 0.08 system calls per entry. Measured in bench/RESULTS.md ("LDAP read").
    Sockbuf* sb = nullptr;
    if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != nullptr) {
      ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead, LBER_SBIOD_LEVEL_PROVIDER, nullptr);
      ber_len_t readahead_bytes = 64 * 1024;
      ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_READAHEAD, &readahead_bytes);
    }
    return conn;
  }

  LDAP* ld() const { return ld_; }

 private:
  Connection() = default;
  LDAP* ld_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Decoded entries, owned (the LDAP messages are freed once decoded).
//
// Layout: every string lives in `arena_`; an entry is a DN and a run of slots in `slots_`,
// one per requested attribute it has, each a run of values in `values_`:
//   entries_[e] = {dn, slot_begin, slot_count}
//   slots_[s]   = {attr_idx, value_begin, value_count}   (attr_idx into the requested names)
//   values_[v]  = view into arena_

class EntryBatch {
 public:
  explicit EntryBatch(const std::vector<std::string>* names) : names_(names) {}

  void Clear() {
    arena_ = core::StringArena();
    entries_.clear();
    slots_.clear();
    values_.clear();
  }

  void BeginEntry(std::string_view dn) {
    current_dn_ = arena_.Store(dn);
    pending_.clear();
  }
  void AddValue(uint32_t attr_idx, std::string_view value) {
    pending_.emplace_back(attr_idx, arena_.Store(value));
  }
  // Groups the values by attribute (the server may send "cn" and "cn;lang-en" apart).
  void EndEntry() {
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const auto slot_begin = static_cast<uint32_t>(slots_.size());
    for (size_t idx = 0; idx < pending_.size(); ++idx) {
      if (idx == 0 || pending_[idx].first != pending_[idx - 1].first) {
        slots_.push_back(Slot{pending_[idx].first, static_cast<uint32_t>(values_.size()), 0});
      }
      values_.push_back(pending_[idx].second);
      ++slots_.back().value_count;
    }
    entries_.push_back(
        Entry{current_dn_, slot_begin, static_cast<uint32_t>(slots_.size()) - slot_begin});
  }

  std::string_view Store(std::string_view s) { return arena_.Store(s); }

  size_t size() const { return entries_.size(); }
  std::string_view Dn(size_t entry_idx) const { return entries_[entry_idx].dn; }
  std::span<const std::string_view> Values(size_t entry_idx, std::string_view name) const {
    const Entry& entry = entries_[entry_idx];
    for (uint32_t slot_idx = entry.slot_begin; slot_idx < entry.slot_begin + entry.slot_count;
         ++slot_idx) {
      const Slot& slot = slots_[slot_idx];
      if (EqualsIgnoreCase(AttributeBaseName((*names_)[slot.attr_idx]), name)) {
        return std::span<const std::string_view>(values_.data() + slot.value_begin,
                                                 slot.value_count);
      }
    }
    return {};
  }

 private:
  struct Entry {
    std::string_view dn;
    uint32_t slot_begin;
    uint32_t slot_count;
  };
  struct Slot {
    uint32_t attr_idx;
    uint32_t value_begin;
    uint32_t value_count;
  };
  const std::vector<std::string>* names_;  // not owned
  core::StringArena arena_;
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  std::vector<std::string_view> values_;
  std::string_view current_dn_;
  std::vector<std::pair<uint32_t, std::string_view>> pending_;
};

// One entry of a batch, as EntryMapper sees it. `members`, when set, replaces the values of
// the member attribute (a group whose members took ranged retrieval).
class BatchEntryView final : public core::EntryView {
 public:
  BatchEntryView(const EntryBatch& batch, size_t entry_idx, std::string_view member_attribute,
                 const std::vector<std::string_view>* members)
      : batch_(batch),
        entry_idx_(entry_idx),
        member_attribute_(member_attribute),
        members_(members) {}
  std::string_view Dn() const override { return batch_.Dn(entry_idx_); }
  std::span<const std::string_view> Values(std::string_view name) const override {
    if (members_ != nullptr && EqualsIgnoreCase(name, member_attribute_)) return *members_;
    return batch_.Values(entry_idx_, name);
  }

 private:
  const EntryBatch& batch_;
  size_t entry_idx_;
  std::string_view member_attribute_;
  const std::vector<std::string_view>* members_;
};

// ---------------------------------------------------------------------------------------------
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
};

// A group whose member list came back ranged and continues at `next_low`.
struct PendingRange {
  uint32_t entry_idx;
  int64_t next_low;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The read: shared state of the search threads and the merging thread.

class LdapReader {
 public:
  explicit LdapReader(const LdapSourceOptions& options) : options_(options) {
    page_size_.store(options.page_size);
  }

  absl::StatusOr<core::Directory> Read(LdapReadStats& stats);

 private:
  // One attempt at the whole read over fresh `jobs`. Sets `tainted` (and returns no
  // directory) when an eager attempt must be done again buffered (see published_).
  absl::StatusOr<core::Directory> ReadOnce(std::vector<std::unique_ptr<Job>>& jobs,
                                           EntryMapper& user_mapper, EntryMapper& group_mapper,
                                           LdapReadStats& stats, bool& tainted);
  // Eager reads: hands the user partition's decoded entries to the merging thread once they
  // make a chunk, or (final) whatever is left.
  void Publish(Job& job, size_t job_idx, bool final);
  absl::Status RunJob(Job& job, size_t job_idx, std::unique_ptr<Connection> first);
  absl::Status Search(Connection& conn, Job& job, size_t job_idx, int page_size,
                      std::vector<PendingRange>& ranges);
  absl::Status DecodeEntry(LDAP* ld, LDAPMessage* msg, Job& job, std::vector<PendingRange>& ranges);
  absl::Status ReadRanges(Connection& conn, Job& job, const std::vector<PendingRange>& ranges);
  // Waits for the answer to `msgid`; nullptr on a stop request. Errors: the connection's.
  absl::StatusOr<MessagePtr> NextMessage(LDAP* ld, int msgid, std::string_view what);
  // A smaller page after the server refused `refused`; false when there is none.
  bool ShrinkPageSize(int refused);
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

absl::StatusOr<MessagePtr> LdapReader::NextMessage(LDAP* ld, int msgid, std::string_view what) {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  while (true) {
    if (Stopped()) {
      ldap_abandon_ext(ld, msgid, nullptr, nullptr);
      return MessagePtr();
    }
    if (options_.read_coalesce.count() > 0 && !InputPending(ld)) {
      absl::SleepFor(absl::FromChrono(options_.read_coalesce));
    }
    timeval slice = ToTimeval(kPollSlice);
    LDAPMessage* msg = nullptr;
    const int rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &slice, &msg);
    if (rc > 0) return MessagePtr(msg);
    if (rc < 0) {
      const int code = LastResultCode(ld);
      return LdapError(code, absl::StrCat(Sv(what), ": connection to ", options_.url),
                       Diagnostic(ld));
    }
    if (Clock::now() >= deadline) {
      ldap_abandon_ext(ld, msgid, nullptr, nullptr);
      return absl::DeadlineExceededError(
          absl::StrCat(Sv(what), ": no answer from ", options_.url, " in ",
                       absl::FormatDuration(absl::FromChrono(options_.timeout))));
    }
  }
}

absl::Status LdapReader::DecodeEntry(LDAP* ld, LDAPMessage* msg, Job& job,
                                     std::vector<PendingRange>& ranges) {
  const std::vector<std::string_view>& bases = job.groups ? group_bases_ : user_bases_;
  BerElement* ber = nullptr;
  berval dn;
  int rc = ldap_get_dn_ber(ld, msg, &ber, &dn);
  if (rc != LDAP_SUCCESS) {
    if (ber != nullptr) ber_free(ber, 0);
    return absl::DataLossError(absl::StrCat(job.what, ": undecodable entry from ", options_.url,
                                            ": ", ldap_err2string(rc)));
  }
  job.batch.BeginEntry(ToView(dn));
  std::optional<ValueRange> member_range;
  absl::Status status;
  uint32_t next_attr = 0;
  berval attribute;
  BerVarray values = nullptr;
  for (rc = ldap_get_attribute_ber(ld, msg, ber, &attribute, &values); rc == LDAP_SUCCESS;
       rc = ldap_get_attribute_ber(ld, msg, ber, &attribute, &values)) {
    if (attribute.bv_val == nullptr) break;
    const std::string_view description = ToView(attribute);
    const std::string_view base = AttributeBaseName(description);
    // Servers send the attributes in one order for every entry: try the one after the last.
    uint32_t attr_idx = next_attr;
    if (attr_idx >= bases.size() || !EqualsIgnoreCase(bases[attr_idx], base)) {
      attr_idx = 0;
      while (attr_idx < bases.size() && !EqualsIgnoreCase(bases[attr_idx], base)) ++attr_idx;
    }
    next_attr = attr_idx + 1;
    if (attr_idx < bases.size() && values != nullptr) {
      if (job.groups && EqualsIgnoreCase(base, options_.schema.member)) {
        absl::StatusOr<std::optional<ValueRange>> range =
            ldap_internal::ParseValueRange(description);
        if (!range.ok()) {
          status = absl::DataLossError(
              absl::StrCat("group \"", Sv(ToView(dn)), "\": ", range.status().message()));
        } else if (range->has_value()) {
          member_range = **range;
        }
      }
      for (size_t value_idx = 0; values[value_idx].bv_val != nullptr; ++value_idx) {
        job.batch.AddValue(attr_idx, ToView(values[value_idx]));
      }
    }
    if (values != nullptr) ber_memfree(values);
    values = nullptr;
  }
  if (ber != nullptr) ber_free(ber, 0);
  job.batch.EndEntry();
  if (member_range.has_value() && !member_range->last()) {
    ranges.push_back(
        PendingRange{static_cast<uint32_t>(job.batch.size() - 1), member_range->high + 1});
  }
  return status;
}

absl::Status LdapReader::Search(Connection& conn, Job& job, size_t job_idx, int page_size,
                                std::vector<PendingRange>& ranges) {
  LDAP* ld = conn.ld();
  const std::vector<std::string>& names = job.groups ? group_attributes_ : user_attributes_;
  std::vector<char*> attrs;
  for (const std::string& name : names) attrs.push_back(const_cast<char*>(name.c_str()));
  attrs.push_back(nullptr);

  std::string cookie;
  std::vector<MessagePtr> pending;  // entries of the last page, decoded after the next request
  auto decode_pending = [&]() -> absl::Status {
    for (MessagePtr& msg : pending) {
      USERSYNC_RETURN_IF_ERROR(DecodeEntry(ld, msg.get(), job, ranges));
      msg.reset();
    }
    pending.clear();
    Publish(job, job_idx, /*final=*/false);
    return absl::OkStatus();
  };

  while (true) {
    berval cookie_bv{cookie.size(), cookie.empty() ? nullptr : cookie.data()};
    LDAPControl* page_control = nullptr;
    int rc = ldap_create_page_control(ld, static_cast<ber_int_t>(page_size), &cookie_bv,
                                      /*iscritical=*/1, &page_control);
    if (rc != LDAP_SUCCESS) return LdapError(rc, job.what, "cannot build the paging control");
    LDAPControl* server_controls[] = {page_control, nullptr};
    int msgid = 0;
    rc = ldap_search_ext(ld, options_.base_dn.c_str(), LDAP_SCOPE_SUBTREE, job.filter.c_str(),
                         attrs.data(), /*attrsonly=*/0, server_controls, nullptr, nullptr,
                         LDAP_NO_LIMIT, &msgid);
    ldap_control_free(page_control);
    if (rc != LDAP_SUCCESS) {
      return LdapError(rc, absl::StrCat(job.what, ": search under ", options_.base_dn),
                       Diagnostic(ld));
    }
    // The server works on this page while the last one is decoded.
    USERSYNC_RETURN_IF_ERROR(decode_pending());

    while (true) {
      USERSYNC_ASSIGN_OR_RETURN(MessagePtr msg, NextMessage(ld, msgid, job.what));
      if (msg == nullptr) return absl::CancelledError("stopped");
      const int type = ldap_msgtype(msg.get());
      if (type == LDAP_RES_SEARCH_ENTRY) {
        pending.push_back(std::move(msg));
        continue;
      }
      if (type == LDAP_RES_SEARCH_REFERENCE) continue;  // referrals are not chased
      if (type != LDAP_RES_SEARCH_RESULT) continue;
      int result = LDAP_SUCCESS;
      char* diagnostic = nullptr;
      LDAPControl** controls = nullptr;
      rc = ldap_parse_result(ld, msg.get(), &result, nullptr, &diagnostic, nullptr, &controls,
                             /*freeit=*/0);
      const std::string diagnostic_text = diagnostic == nullptr ? "" : diagnostic;
      if (diagnostic != nullptr) ldap_memfree(diagnostic);
      if (rc != LDAP_SUCCESS) {
        if (controls != nullptr) ldap_controls_free(controls);
        return LdapError(rc, absl::StrCat(job.what, ": search result"), "");
      }
      if (result != LDAP_SUCCESS) {
        if (controls != nullptr) ldap_controls_free(controls);
        if (result == LDAP_ADMINLIMIT_EXCEEDED || result == LDAP_SIZELIMIT_EXCEEDED) {
          return absl::ResourceExhaustedError(absl::StrCat(
              job.what, ": the server refused pages of ", page_size, " entries after ",
              job.published_entries + static_cast<int64_t>(job.batch.size() + pending.size()),
              " entries: ", ldap_err2string(result), diagnostic_text.empty() ? "" : " (",
              diagnostic_text, diagnostic_text.empty() ? "" : ")",
              " (a limit on the bind DN's searches: it must be allowed to read every entry)"));
        }
        if (result == LDAP_REFERRAL) {
          return absl::FailedPreconditionError(absl::StrCat(
              job.what, ": ", options_.url, " answered the search under ", options_.base_dn,
              " with a referral (referrals are not chased): point source.url at a server "
              "that holds this base DN"));
        }
        return LdapError(
            result,
            absl::StrCat(job.what, ": search under ", options_.base_dn, " at ", options_.url),
            diagnostic_text);
      }
      cookie.clear();
      LDAPControl* page_response =
          controls == nullptr ? nullptr
                              : ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nullptr);
      if (page_response != nullptr) {
        ber_int_t estimate = 0;
        berval next_cookie{0, nullptr};
        if (ldap_parse_pageresponse_control(ld, page_response, &estimate, &next_cookie) ==
            LDAP_SUCCESS) {
          cookie.assign(ToView(next_cookie));
          ber_memfree(next_cookie.bv_val);
        }
      }
      if (controls != nullptr) ldap_controls_free(controls);
      break;
    }
    if (cookie.empty()) {
      USERSYNC_RETURN_IF_ERROR(decode_pending());
      Publish(job, job_idx, /*final=*/true);
      return absl::OkStatus();
    }
  }
}

absl::Status LdapReader::ReadRanges(Connection& conn, Job& job,
                                    const std::vector<PendingRange>& ranges) {
  LDAP* ld = conn.ld();
  const std::string& member = options_.schema.member;
  for (const PendingRange& pending : ranges) {
    const std::string_view dn = job.batch.Dn(pending.entry_idx);
    std::span<const std::string_view> first = job.batch.Values(pending.entry_idx, member);
    std::vector<std::string_view> members(first.begin(), first.end());
    int64_t low = pending.next_low;
    auto incomplete = [&](std::string_view why) {
      return absl::DataLossError(
          absl::StrCat("group \"", Sv(dn), "\": member list incomplete: ", members.size(),
                       " members read, then ", Sv(why), " (the group is not used cut short)"));
    };
    for (int reads = 0;; ++reads) {
      if (reads >= kMaxRangeReads) return incomplete("too many range reads");
      if (Stopped()) return absl::CancelledError("stopped");
      const std::string request = ldap_internal::RangedDescription(member, low);
      char* attrs[] = {const_cast<char*>(request.c_str()), nullptr};
      const std::string base(dn);
      int msgid = 0;
      int rc = ldap_search_ext(ld, base.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0,
                               nullptr, nullptr, nullptr, LDAP_NO_LIMIT, &msgid);
      ++job.range_searches;
      if (rc != LDAP_SUCCESS) {
        absl::Status error = LdapError(rc, absl::StrCat("reading ", request), Diagnostic(ld));
        if (core::IsRetryable(error)) return error;
        return incomplete(StdSv(error.message()));
      }
      std::optional<ValueRange> got;
      bool have_result = false;
      while (!have_result) {
        absl::StatusOr<MessagePtr> msg = NextMessage(ld, msgid, job.what);
        if (!msg.ok()) {
          return absl::Status(msg.status().code(),
                              absl::StrCat("group \"", Sv(dn), "\" after ", members.size(),
                                           " members: ", msg.status().message()));
        }
        if (*msg == nullptr) return absl::CancelledError("stopped");
        const int type = ldap_msgtype(msg->get());
        if (type == LDAP_RES_SEARCH_ENTRY) {
          BerElement* ber = nullptr;
          berval entry_dn;
          if (ldap_get_dn_ber(ld, msg->get(), &ber, &entry_dn) != LDAP_SUCCESS) {
            if (ber != nullptr) ber_free(ber, 0);
            return incomplete("an undecodable answer");
          }
          berval attribute;
          BerVarray values = nullptr;
          absl::Status status;
          for (rc = ldap_get_attribute_ber(ld, msg->get(), ber, &attribute, &values);
               rc == LDAP_SUCCESS && attribute.bv_val != nullptr;
               rc = ldap_get_attribute_ber(ld, msg->get(), ber, &attribute, &values)) {
            const std::string_view description = ToView(attribute);
            if (EqualsIgnoreCase(AttributeBaseName(description), member) && status.ok()) {
              absl::StatusOr<std::optional<ValueRange>> range =
                  ldap_internal::ParseValueRange(description);
              if (!range.ok()) {
                status = incomplete(StdSv(range.status().message()));
              } else if (!range->has_value() || (*range)->low != low) {
                status = incomplete(absl::StrCat("the server answered \"", Sv(description),
                                                 "\" to a request for ", request));
              } else {
                got = **range;
                for (size_t value_idx = 0; values != nullptr && values[value_idx].bv_val != nullptr;
                     ++value_idx) {
                  members.push_back(job.batch.Store(ToView(values[value_idx])));
                }
              }
            }
            if (values != nullptr) ber_memfree(values);
            values = nullptr;
          }
          if (ber != nullptr) ber_free(ber, 0);
          USERSYNC_RETURN_IF_ERROR(status);
        } else if (type == LDAP_RES_SEARCH_RESULT) {
          int result = LDAP_SUCCESS;
          char* diagnostic = nullptr;
          ldap_parse_result(ld, msg->get(), &result, nullptr, &diagnostic, nullptr, nullptr, 0);
          const std::string diagnostic_text = diagnostic == nullptr ? "" : diagnostic;
          if (diagnostic != nullptr) ldap_memfree(diagnostic);
          if (result != LDAP_SUCCESS) {
            absl::Status error =
                LdapError(result, absl::StrCat("reading ", request), diagnostic_text);
            if (core::IsRetryable(error)) return error;
            return incomplete(StdSv(error.message()));
          }
          have_result = true;
        }
      }
      if (!got.has_value()) {
        return incomplete(absl::StrCat("the server returned no values for ", request));
      }
      if (got->last()) break;
      low = got->high + 1;
    }
    job.full_members[pending.entry_idx] = std::move(members);
  }
  return absl::OkStatus();
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

absl::StatusOr<core::Directory> LdapReader::Read(LdapReadStats& stats) {
  const DirectorySchema& schema = options_.schema;
  const bool ad = schema.flavor == DirectoryFlavor::kAd;
  USERSYNC_ASSIGN_OR_RETURN(
      ldap_internal::SearchFilters filters,
      ldap_internal::CanonicalFilters(schema.user_filter, schema.group_filter));

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
  member_request_ =
      ad ? ldap_internal::RangedDescription(schema.member, 0, kFirstRangeHigh) : schema.member;
  add_attribute(group_attributes_, member_request_);
  for (const std::string& name : user_attributes_) {
    user_bases_.push_back(AttributeBaseName(name));
  }
  for (const std::string& name : group_attributes_) {
    group_bases_.push_back(AttributeBaseName(name));
  }

  // The naming attribute the partitions split on.
  const std::string& partition_attribute =
      !schema.user_name.empty() ? schema.user_name : schema.display_name;
  const std::vector<std::string> partitions =
      ldap_internal::PlanUserPartitions(partition_attribute, options_.connections);

  auto make_jobs = [&]() {
    std::vector<std::unique_ptr<Job>> jobs;
    for (size_t partition_idx = 0; partition_idx < partitions.size(); ++partition_idx) {
      auto job = std::make_unique<Job>(&user_attributes_);
      job->what = partitions.size() == 1 ? std::string("users")
                                         : absl::StrCat("users (partition ", partition_idx + 1,
                                                        " of ", partitions.size(), ")");
      job->filter =
          ldap_internal::UserSearchFilter(filters.user, filters.group, partitions[partition_idx]);
      jobs.push_back(std::move(job));
    }
    auto job = std::make_unique<Job>(&group_attributes_);
    job->what = "groups";
    job->filter = filters.group;
    job->groups = true;
    jobs.push_back(std::move(job));
    return jobs;
  };
  stats.partitions = static_cast<int>(partitions.size());

  if (!options_.tls_verify && (options_.start_tls || StartsWith(options_.url, "ldaps://"))) {
    Warn(absl::StrCat("source.tls_verify = false: the certificate of ", options_.url,
                      " is not checked; anyone on the network path can read the directory "
                      "and the bind password"));
  }

  // An eager attempt first; a buffered one if a partition restarted after being merged in part.
  for (int attempt = 0;; ++attempt) {
    eager_ = attempt == 0 && options_.merge_chunk_entries > 0;
    {
      absl::MutexLock lock(&mu_);
      stop_ = false;
      error_ = absl::OkStatus();
    }
    std::vector<std::unique_ptr<Job>> jobs = make_jobs();
    bool tainted = false;
    absl::StatusOr<core::Directory> dir = ReadOnce(jobs, user_mapper, group_mapper, stats, tainted);
    if (!tainted || !eager_) return dir;
    Warn(
        "a user partition restarted after part of it was merged; reading the whole directory "
        "again, each partition merged once complete");
  }
}

absl::StatusOr<core::Directory> LdapReader::ReadOnce(std::vector<std::unique_ptr<Job>>& jobs,
                                                     EntryMapper& user_mapper,
                                                     EntryMapper& group_mapper,
                                                     LdapReadStats& stats, bool& tainted) {
  const DirectorySchema& schema = options_.schema;
  // The first connection fails fast and clearly (wrong password, server down).
  USERSYNC_ASSIGN_OR_RETURN(std::unique_ptr<Connection> first, Connection::Open(options_));

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

  core::DirectoryBuilder builder(user_mapper.extra_names());
  stats.users = 0;
  stats.groups = 0;
  stats.ranged_groups = 0;
  // Adds a batch's entries to the directory. `full_members`: ranged groups' members (see Job),
  // null for an eager chunk (whose job's thread may still be running).
  using FullMembers = absl::flat_hash_map<uint32_t, std::vector<std::string_view>>;
  auto merge = [&](bool groups, const EntryBatch& batch,
                   const FullMembers* full_members) -> absl::Status {
    EntryMapper& mapper = groups ? group_mapper : user_mapper;
    for (size_t entry_idx = 0; entry_idx < batch.size(); ++entry_idx) {
      const std::vector<std::string_view>* members = nullptr;
      if (full_members != nullptr) {
        auto full = full_members->find(static_cast<uint32_t>(entry_idx));
        if (full != full_members->end()) members = &full->second;
      }
      const BatchEntryView view(batch, entry_idx, schema.member, members);
      USERSYNC_ASSIGN_OR_RETURN(EntryMapper::Kind kind, mapper.Add(view, builder));
      if (kind == EntryMapper::Kind::kUser) ++stats.users;
      if (kind == EntryMapper::Kind::kGroup) ++stats.groups;
    }
    return absl::OkStatus();
  };

  // Merge while the searches go on: first the groups (the last job; their search is short, so
  // their members are normalized while the users still arrive, not after them), then the user
  // partitions in order, an eager one chunk by chunk as it arrives, a buffered one once it is
  // complete. Users and groups are numbered apart, so this order gives the same Directory as
  // any other; it is fixed so that the issues come out in the same order every time.
  std::vector<size_t> merge_order = {jobs.size() - 1};
  for (size_t job_idx = 0; job_idx + 1 < jobs.size(); ++job_idx) merge_order.push_back(job_idx);
  absl::Status merge_error;
  bool failed = false;  // a search failed: error_ says why
  for (size_t job_idx : merge_order) {
    if (!merge_error.ok() || failed || tainted) break;
    Job& job = *jobs[job_idx];
    if (eager_ && !job.groups) {
      bool merged_any = false;
      int generation = 0;
      while (merge_error.ok()) {
        std::unique_ptr<EntryBatch> chunk;
        {
          absl::MutexLock lock(&mu_);
          auto ready = [&]() {
            return !published_[job_idx].chunks.empty() || done_[job_idx] != 0 || !error_.ok();
          };
          mu_.Await(absl::Condition(&ready));
          if (!error_.ok()) {
            failed = true;
            break;
          }
          Published& published = published_[job_idx];
          if (!merged_any) generation = published.generation;
          if (published.generation != generation) {
            tainted = true;
            break;
          }
          if (published.chunks.empty()) break;  // done, and every chunk merged
          chunk = std::move(published.chunks.front());
          published.chunks.pop_front();
        }
        merge_error = merge(/*groups=*/false, *chunk, nullptr);
        merged_any = true;
        if (options_.chunk_merged_for_test) options_.chunk_merged_for_test(stats.users);
      }
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      auto ready = [&]() { return done_[job_idx] != 0 || !error_.ok(); };
      mu_.Await(absl::Condition(&ready));
      if (!error_.ok()) {
        failed = true;
        break;
      }
    }
    merge_error = merge(job.groups, job.batch, &job.full_members);
    stats.ranged_groups += static_cast<int64_t>(job.full_members.size());
    job.batch.Clear();  // merged: give the memory back early
    job.full_members.clear();
  }
  // A tainted attempt lets the searches run to their end: if one of them fails for good, that
  // error is the answer, not a second attempt.
  absl::Status error;
  {
    absl::MutexLock lock(&mu_);
    if (!merge_error.ok()) stop_ = true;
  }
  for (std::thread& thread : threads) thread.join();
  {
    absl::MutexLock lock(&mu_);
    error = error_;
    published_.clear();
  }
  for (const std::unique_ptr<Job>& job : jobs) {
    stats.range_searches += job->range_searches;
    stats.restarts += job->restarts;
  }
  stats.page_size = page_size_.load();
  if (!merge_error.ok()) return merge_error;
  if (!error.ok()) {
    tainted = false;
    return error;
  }
  if (tainted) return absl::AbortedError("tainted");
  return std::move(builder).Finish();
}

// ---------------------------------------------------------------------------------------------

LdapDirectorySource::LdapDirectorySource(LdapSourceOptions options)
    : options_(std::move(options)) {}

LdapDirectorySource::~LdapDirectorySource() = default;

absl::StatusOr<core::Directory> LdapDirectorySource::Read() {
  stats_ = LdapReadStats{};
  LdapReader reader(options_);
  return reader.Read(stats_);
}

absl::StatusOr<std::unique_ptr<DirectorySource>> MakeLdapSource(LdapSourceOptions options) {
  USERSYNC_RETURN_IF_ERROR(
      ldap_internal::CanonicalFilters(options.schema.user_filter, options.schema.group_filter)
          .status());
  return std::make_unique<LdapDirectorySource>(std::move(options));
}

}  // namespace usersync::io
