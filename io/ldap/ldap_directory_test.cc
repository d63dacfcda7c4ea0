// LdapDirectorySource against a small loopback LDAP responder (liblber on the server side):
// the Windows-only forced ranged retrieval (a group answered with member;range=0-2 although
// plain member was asked, as a DC does past MaxValRange), objectGUID, userAccountControl, a
// range that cannot be read, and RFC 4533 answers no real slapd gives on demand (a refresh
// required, malformed controls). The real servers (slapd, Samba AD) are in
// tests/ldap_integration_test.cc.
#include "io/ldap/ldap_directory.h"

#include <arpa/inet.h>
#include <lber.h>
#include <ldap.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/directory/entry_mapper.h"
#include "io/ldap/ldap_sync_control.h"
#include "io/ldap/ldap_usn.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;

constexpr char kBase[] = "DC=ad,DC=test";
constexpr char kGroupDn[] = "CN=big,DC=ad,DC=test";
constexpr int kUsers = 8;
constexpr int kMaxValRange = 3;  // the responder hands out 3 member values a read
constexpr char kDcName[] = "CN=NTDS Settings,CN=DC2,CN=Servers,DC=ad,DC=test";

std::string UserDn(int idx) { return absl::StrCat("CN=User ", idx, ",DC=ad,DC=test"); }
std::string Guid(int idx) {
  std::string bytes(16, '\0');
  for (int byte = 0; byte < 16; ++byte) bytes[byte] = static_cast<char>(idx * 16 + byte);
  return bytes;
}

struct Attribute {
  std::string name;
  std::vector<std::string> values;
};

// How the responder answers an RFC 4533 sync search (its rootDSE lists the Sync Request
// control).
enum class SyncAnswer {
  kRefreshRequired,  // e-syncRefreshRequired (4096)
  kMalformedDone,    // success, with a Sync Done control holding an INTEGER
  kNoState,          // an entry without a Sync State control
  // The first two sync searches: a Sync Info new cookie ("mid"), then the connection drops;
  // the rest: nothing changed (Sync Done with cookie "done", refreshDeletes).
  kNewCookieThenDrop,
};

// Answers binds (any password but "wrong"), the user and group searches in one page, and
// base-scope member;range=LOW-* reads, kMaxValRange values at a time; the rootDSE and sync
// searches as `sync_answer` says. One thread per connection. With `fail_range_from` >= 0, a
// range read from that value on answers noSuchObject, or (`silent`) nothing at all.
class Responder {
 public:
  // Set before the source connects.
  SyncAnswer sync_answer = SyncAnswer::kRefreshRequired;

  explicit Responder(int fail_range_from = -1, bool silent = false)
      : fail_range_from_(fail_range_from), silent_(silent) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~Responder() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();  // no worker starts after this
    std::vector<std::thread> workers;
    std::vector<int> fds;
    {
      absl::MutexLock lock(&mu_);
      for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
      workers.swap(workers_);
      fds = client_fds_;
    }
    // Joined without the lock: a worker still answering takes it (sync_requests_).
    for (std::thread& thread : workers) thread.join();
    for (int fd : fds) ::close(fd);
  }
  std::string url() const { return absl::StrCat("ldap://127.0.0.1:", port_); }
  // The sync search requests received, whole.
  std::vector<std::string> sync_requests() {
    absl::MutexLock lock(&mu_);
    return sync_requests_;
  }
  int range_reads() const { return range_reads_.load(); }

 private:
  void Accept() {
    while (!stopping_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      absl::MutexLock lock(&mu_);
      client_fds_.push_back(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  static bool ReadFull(int fd, unsigned char* out, size_t n) {
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(fd, out + got, n - got);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }

  // One whole BER element (tag, length, contents).
  static bool ReadMessage(int fd, std::string& out) {
    unsigned char head[2];
    if (!ReadFull(fd, head, 2)) return false;
    out.assign(reinterpret_cast<char*>(head), 2);
    size_t length = head[1];
    if (head[1] & 0x80) {
      const int count = head[1] & 0x7f;
      unsigned char bytes[8];
      if (count > 8 || !ReadFull(fd, bytes, count)) return false;
      out.append(reinterpret_cast<char*>(bytes), count);
      length = 0;
      for (int idx = 0; idx < count; ++idx) length = (length << 8) | bytes[idx];
    }
    std::string body(length, '\0');
    if (!ReadFull(fd, reinterpret_cast<unsigned char*>(body.data()), length)) return false;
    out += body;
    return true;
  }

  static void Send(int fd, BerElement* ber) {
    berval* bv = nullptr;
    if (ber_flatten(ber, &bv) == 0) {
      // MSG_NOSIGNAL: a client that refused an entry may have closed already (no SIGPIPE).
      (void)!::send(fd, bv->bv_val, bv->bv_len, MSG_NOSIGNAL);
      ber_bvfree(bv);
    }
    ber_free(ber, 1);
  }

  static void SendEntry(int fd, ber_int_t msgid, const std::string& dn,
                        const std::vector<Attribute>& attributes) {
    BerElement* ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{s{", msgid, LDAP_RES_SEARCH_ENTRY, dn.c_str());
    for (const Attribute& attribute : attributes) {
      ber_printf(ber, "{s[", attribute.name.c_str());
      for (const std::string& value : attribute.values) {
        ber_printf(ber, "o", value.data(), static_cast<ber_len_t>(value.size()));
      }
      ber_printf(ber, "]N}");
    }
    ber_printf(ber, "}N}N}");
    Send(fd, ber);
  }

  static void SendDone(int fd, ber_int_t msgid, ber_tag_t type, ber_int_t result) {
    BerElement* ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{ess}N}", msgid, type, result, "", "");
    Send(fd, ber);
  }

  // A search result with one control (`oid`, `value`).
  static void SendDoneWithControl(int fd, ber_int_t msgid, ber_int_t result, const char* oid,
                                  std::string value) {
    BerElement* ber = ber_alloc_t(LBER_USE_DER);
    berval bv{value.size(), value.data()};
    ber_printf(ber, "{it{ess}t{{sO}}}", msgid, LDAP_RES_SEARCH_RESULT, result, "", "",
               static_cast<ber_tag_t>(0xa0), oid, &bv);
    Send(fd, ber);
  }

  // False when the connection was dropped.
  bool AnswerSync(int fd, ber_int_t msgid) {
    switch (sync_answer) {
      case SyncAnswer::kRefreshRequired:
        SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, ldap_internal::kSyncRefreshRequired);
        return true;
      case SyncAnswer::kMalformedDone:
        SendDoneWithControl(fd, msgid, LDAP_SUCCESS, ldap_internal::kSyncDoneOid,
                            std::string("\x30\x03\x02\x01\x01", 5));
        return true;
      case SyncAnswer::kNoState:
        SendEntry(fd, msgid, UserDn(0), {{"uid", {"user0"}}});
        SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS);
        return true;
      case SyncAnswer::kNewCookieThenDrop:
        if (drops_left_.fetch_sub(1) > 0) {
          BerElement* ber = ber_alloc_t(LBER_USE_DER);
          std::string value("\x80\x03mid", 5);  // syncInfoValue newcookie [0] "mid"
          berval bv{value.size(), value.data()};
          ber_printf(ber, "{it{tstO}}", msgid, LDAP_RES_INTERMEDIATE, static_cast<ber_tag_t>(0x80),
                     ldap_internal::kSyncInfoOid, static_cast<ber_tag_t>(0x81), &bv);
          Send(fd, ber);
          ::shutdown(fd, SHUT_RDWR);
          return false;
        }
        // SEQUENCE { cookie "done", refreshDeletes TRUE }
        SendDoneWithControl(fd, msgid, LDAP_SUCCESS, ldap_internal::kSyncDoneOid,
                            std::string("\x30\x09\x04\x04"
                                        "done"
                                        "\x01\x01\xff",
                                        11));
        return true;
    }
    return true;
  }

  // Members low.. of the big group: up to kMaxValRange, and the description for them.
  static Attribute MemberRange(int low) {
    const int high = std::min(low + kMaxValRange, kUsers) - 1;
    Attribute attribute;
    attribute.name = high == kUsers - 1 ? absl::StrCat("member;range=", low, "-*")
                                        : absl::StrCat("member;range=", low, "-", high);
    for (int idx = low; idx <= high; ++idx) attribute.values.push_back(UserDn(idx));
    return attribute;
  }

  void Serve(int fd) {
    std::string message;
    while (ReadMessage(fd, message)) {
      berval bv{message.size(), message.data()};
      BerElement* ber = ber_init(&bv);
      ber_int_t msgid = 0;
      ber_len_t len = 0;
      ber_scanf(ber, "{i", &msgid);
      const ber_tag_t op = ber_peek_tag(ber, &len);
      ber_free(ber, 1);
      if (op == LDAP_REQ_UNBIND) return;
      if (op == LDAP_REQ_BIND) {
        const bool wrong = message.find("wrong") != std::string::npos;
        SendDone(fd, msgid, LDAP_RES_BIND, wrong ? LDAP_INVALID_CREDENTIALS : LDAP_SUCCESS);
        continue;
      }
      if (op != LDAP_REQ_SEARCH) continue;
      if (message.find("supportedControl") != std::string::npos) {
        SendEntry(fd, msgid, "", {{"supportedControl", {ldap_internal::kSyncRequestOid}}});
        SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS);
        continue;
      }
      if (message.find("highestCommittedUSN") != std::string::npos) {
        SendEntry(fd, msgid, "", {{"highestCommittedUSN", {"100"}}, {"dsServiceName", {kDcName}}});
        SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS);
        continue;
      }
      if (message.find("defaultNamingContext") != std::string::npos) {
        SendEntry(fd, msgid, "", {{"defaultNamingContext", {kBase}}});
        SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS);
        continue;
      }
      if (message.find(ldap_internal::kShowDeletedOid) != std::string::npos) {
        // User 3's tombstone.
        SendEntry(fd, msgid, "CN=User 3\\0ADEL:x,CN=Deleted Objects,DC=ad,DC=test",
                  {{"objectGUID", {Guid(3)}}, {"objectClass", {"top", "person", "user"}}});
        SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS);
        continue;
      }
      if (message.find("invocationId") != std::string::npos) {
        SendEntry(fd, msgid, kDcName, {{"invocationId", {Guid(9)}}});
        SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS);
        continue;
      }
      if (message.find(ldap_internal::kSyncRequestOid) != std::string::npos) {
        {
          absl::MutexLock lock(&mu_);
          sync_requests_.push_back(message);
        }
        if (!AnswerSync(fd, msgid)) return;
        continue;
      }
      // The request's strings are enough to tell the searches apart.
      const size_t range_at = message.find("member;range=");
      if (message.find(kGroupDn) != std::string::npos && range_at != std::string::npos) {
        ++range_reads_;
        const int low = std::atoi(message.c_str() + range_at + 13);
        if (fail_range_from_ >= 0 && low >= fail_range_from_) {
          if (!silent_) SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, LDAP_NO_SUCH_OBJECT);
          continue;
        }
        SendEntry(fd, msgid, kGroupDn, {MemberRange(low)});
      } else if (message.find("member") != std::string::npos) {
        // The group search: the first range only, whatever was asked (as Windows does).
        SendEntry(fd, msgid, kGroupDn, {{"cn", {"big"}}, MemberRange(0)});
      } else {
        for (int idx = 0; idx < kUsers; ++idx) {
          SendEntry(fd, msgid, UserDn(idx),
                    {{"objectGUID", {Guid(idx)}},
                     {"userPrincipalName", {absl::StrCat("user", idx, "@ad.test")}},
                     {"mail", {absl::StrCat("user", idx, "@example.com")}},
                     {"givenName", {"Given"}},
                     {"sn", {absl::StrCat("Sn", idx)}},
                     {"userAccountControl", {idx == 2 ? "514" : "512"}}});
        }
      }
      SendDone(fd, msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS);
    }
  }

  const int fail_range_from_;
  const bool silent_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> range_reads_{0};
  std::atomic<int> drops_left_{2};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<int> client_fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> sync_requests_ ABSL_GUARDED_BY(mu_);
};

LdapSourceOptions AdOptions(const Responder& responder, int connections) {
  LdapSourceOptions options;
  options.url = responder.url();
  options.bind_dn = "Administrator@ad.test";
  options.bind_password = "secret";
  options.base_dn = kBase;
  options.connections = connections;
  options.timeout = std::chrono::seconds(10);
  options.max_attempts = 1;
  options.log = nullptr;
  options.schema.flavor = DirectoryFlavor::kAd;
  options.schema.id = "objectGUID";
  options.schema.user_name = "userPrincipalName";
  options.schema.user_filter = "(&(objectClass=user)(objectCategory=person))";
  options.schema.group_filter = "(objectClass=group)";
  return options;
}

// A group answered with member;range=0-2 is read whole with follow-up range reads; objectGUID
// becomes the canonical id and userAccountControl 514 marks the user disabled.
TEST(LdapDirectorySource, ReadsForcedRangesWholeWithGuidsAndDisabledUsers) {
  for (int connections : {1, 3}) {
    Responder responder;
    LdapDirectorySource source(AdOptions(responder, connections));
    absl::StatusOr<core::Directory> directory = source.Read();
    ASSERT_TRUE(directory.ok()) << directory.status();
    // Each partition's search gets all users from this responder, so count only with one.
    if (connections == 1) {
      ASSERT_EQ(directory->user_count(), static_cast<size_t>(kUsers));
      EXPECT_EQ(directory->user_id[0], "03020100-0504-0706-0809-0a0b0c0d0e0f");
      EXPECT_EQ(directory->disabled[2], 1);
      EXPECT_EQ(directory->disabled[3], 0);
    }
    ASSERT_EQ(directory->group_count(), 1u);
    auto [begin, end] = directory->MembersOf(0);
    EXPECT_EQ(end - begin, kUsers);
    EXPECT_EQ(directory->unresolved_member_count, 0u);
    EXPECT_EQ(source.stats().ranged_groups, 1);
    EXPECT_EQ(source.stats().range_searches, 2);  // 3-5, then 6-*
    EXPECT_EQ(responder.range_reads(), 2);
  }
}

// A range that cannot be read fails the read loudly, naming the group and the count so far.
TEST(LdapDirectorySource, UnreadableRangeIsDataLossNotATruncatedGroup) {
  Responder responder(/*fail_range_from=*/kMaxValRange * 2);
  LdapDirectorySource source(AdOptions(responder, 1));
  absl::StatusOr<core::Directory> directory = source.Read();
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kDataLoss) << directory.status();
  EXPECT_THAT(directory.status().message(), HasSubstr(kGroupDn));
  EXPECT_THAT(directory.status().message(), HasSubstr("6 members read"));
}

// A clock that has moved an hour on each time it is read.
class RacingClock final : public Clock {
 public:
  core::MonoTime Now() const override { return core::MonoTime() + std::chrono::hours(++reads_); }
  std::chrono::system_clock::time_point WallNow() const override { return {}; }
  void SleepFor(core::Duration) const override {}

 private:
  mutable std::atomic<int64_t> reads_{0};
};

// The answer deadlines read the source's clock: a range read that the server never answers
// gives up as soon as that clock says `timeout` (10 s) has passed, not after 10 s of real time.
TEST(LdapDirectorySource, AnswerDeadlineReadsTheSourcesClock) {
  Responder responder(/*fail_range_from=*/kMaxValRange, /*silent=*/true);
  RacingClock clock;
  LdapSourceOptions options = AdOptions(responder, 1);
  options.clock = &clock;
  LdapDirectorySource source(options);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<core::Directory> directory = source.Read();
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.status().message(), HasSubstr("no answer from " + responder.url()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(LdapDirectorySource, WrongPasswordIsUnauthenticatedWithoutThePassword) {
  Responder responder;
  LdapSourceOptions options = AdOptions(responder, 1);
  options.bind_password = "wrong-pass";
  LdapDirectorySource source(options);
  absl::StatusOr<core::Directory> directory = source.Read();
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(directory.status().message(),
              HasSubstr("bind as Administrator@ad.test refused: invalid credentials"));
  EXPECT_THAT(directory.status().message(), ::testing::Not(HasSubstr("wrong-pass")));
}

// An entry over the bounds on values or bytes fails the read naming the entry, before its
// values are kept (kResourceExhausted: exit 4).
TEST(LdapDirectorySource, EntryOverTheBoundsIsRefusedNamingItsDn) {
  Responder responder;
  LdapSourceOptions options = AdOptions(responder, 1);
  options.max_entry_values = 3;
  LdapDirectorySource by_values(options);
  absl::StatusOr<core::Directory> directory = by_values.Read();
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kResourceExhausted) << directory.status();
  EXPECT_THAT(directory.status().message(), HasSubstr("entry \"CN="));
  EXPECT_THAT(directory.status().message(), HasSubstr("has more than 3 values"));

  options = AdOptions(responder, 1);
  options.max_entry_bytes = 10;  // an objectGUID alone is 16
  LdapDirectorySource by_bytes(options);
  directory = by_bytes.Read();
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kResourceExhausted) << directory.status();
  EXPECT_THAT(directory.status().message(), HasSubstr("entry \"CN="));
  EXPECT_THAT(directory.status().message(), HasSubstr("holds more than 10 bytes of values"));
}

// The responder answers a search in one page whatever the page size: with pages of 2, its 8
// users are more than a page may hold, and the read stops instead of buffering them all.
TEST(LdapDirectorySource, PageOverTwicePageSizeIsRefused) {
  Responder responder;
  LdapSourceOptions options = AdOptions(responder, 1);
  options.page_size = 2;
  LdapDirectorySource source(options);
  absl::StatusOr<core::Directory> directory = source.Read();
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kResourceExhausted) << directory.status();
  EXPECT_THAT(directory.status().message(),
              HasSubstr("sent more than 4 entries in one page of 2 (the server does not honour "
                        "paging); last entry \"CN=User 4,DC=ad,DC=test\""));
}

// Each answer a sync search must not be trusted with is kOutOfRange (the delta cycle falls
// back to a full one and prints the reason), naming the server and what was wrong.
TEST(LdapDirectorySource, UnusableSyncAnswersAreAFullCycleNamingTheServer) {
  const std::pair<SyncAnswer, std::string> cases[] = {
      {SyncAnswer::kRefreshRequired,
       "cannot resume from the stored cookie (e-syncRefreshRequired)"},
      {SyncAnswer::kMalformedDone, "malformed Sync Done control (1.3.6.1.4.1.4203.1.9.1.3)"},
      {SyncAnswer::kNoState, "sent an entry without a Sync State control"},
  };
  for (const auto& [answer, why] : cases) {
    Responder responder;
    responder.sync_answer = answer;
    LdapSourceOptions options = AdOptions(responder, 1);
    options.schema = DirectorySchema{};  // OpenLDAP, id = entryUUID
    LdapDirectorySource source(options);
    const core::Directory previous;
    absl::StatusOr<DirectoryDelta> delta =
        source.ReadDelta(ldap_internal::FormatSyncCursor({"c1", "c2"}), previous);
    ASSERT_FALSE(delta.ok()) << why;
    EXPECT_EQ(delta.status().code(), absl::StatusCode::kOutOfRange) << delta.status();
    EXPECT_THAT(delta.status().message(), HasSubstr(why));
    EXPECT_THAT(delta.status().message(), HasSubstr(responder.url()));
  }
}

// A server that lists the Sync Request control but gives no cookie (syncprov on another of
// its databases, say) stays on modifyTimestamp watermarks: the watermark delta runs, not a
// full cycle every time.
TEST(LdapDirectorySource, ListedButRefusedContentSyncStaysOnWatermarks) {
  Responder responder;
  responder.sync_answer = SyncAnswer::kRefreshRequired;
  LdapSourceOptions options = AdOptions(responder, 1);
  options.schema = DirectorySchema{};  // OpenLDAP, id = entryUUID
  LdapDirectorySource source(options);
  absl::StatusOr<std::string> now = source.StartCursor();
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_FALSE(ldap_internal::IsSyncCursor(*now)) << *now;
  const core::Directory previous;
  absl::StatusOr<DirectoryDelta> delta = source.ReadDelta(*now, previous);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->feed, "modifyTimestamp watermark");
}

// A sync search whose connection drops after the server sent a new cookie starts again from
// the stored cookie, not the new one (the entries of the lost attempt are gone with it), and
// the cursor after the read is the cookie of the attempt that completed.
TEST(LdapDirectorySource, ARetriedSyncSearchStartsFromTheStoredCookie) {
  Responder responder;
  responder.sync_answer = SyncAnswer::kNewCookieThenDrop;
  LdapSourceOptions options = AdOptions(responder, 1);
  options.schema = DirectorySchema{};  // OpenLDAP, id = entryUUID
  options.max_attempts = 3;
  options.retry_base = std::chrono::milliseconds(1);
  LdapDirectorySource source(options);
  const core::Directory previous;
  absl::StatusOr<DirectoryDelta> delta =
      source.ReadDelta(ldap_internal::FormatSyncCursor({"cookie-u", "cookie-g"}), previous);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->cursor, ldap_internal::FormatSyncCursor({"done", "done"}));
  const std::vector<std::string> requests = responder.sync_requests();
  ASSERT_EQ(requests.size(), 4u);  // users and groups, each twice
  for (const std::string& request : requests) {
    EXPECT_EQ(request.find("mid"), std::string::npos);
    EXPECT_TRUE(request.find("cookie-u") != std::string::npos ||
                request.find("cookie-g") != std::string::npos);
  }
}

// uSNChanged cursors are bound to their DC: another DC, or the same one with a new
// invocationId (restored from a backup), is kOutOfRange (a full cycle); the right one reads
// the changed entries and the tombstones, and moves the cursor to the DC's
// highestCommittedUSN.
TEST(LdapDirectorySource, UsnCursorIsBoundToItsDomainController) {
  Responder responder;
  LdapDirectorySource source(AdOptions(responder, 1));
  const core::Directory previous;
  absl::StatusOr<std::string> now = source.StartCursor();
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(*now, ldap_internal::FormatUsnCursor({100, Guid(9), kDcName}));

  absl::StatusOr<DirectoryDelta> other = source.ReadDelta(
      ldap_internal::FormatUsnCursor({50, Guid(9), "CN=NTDS Settings,CN=DC1"}), previous);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kOutOfRange) << other.status();
  EXPECT_THAT(other.status().message(), HasSubstr("CN=DC1"));
  EXPECT_THAT(other.status().message(), HasSubstr("CN=DC2"));

  absl::StatusOr<DirectoryDelta> restored =
      source.ReadDelta(ldap_internal::FormatUsnCursor({50, Guid(8), kDcName}), previous);
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kOutOfRange) << restored.status();
  EXPECT_THAT(restored.status().message(), HasSubstr("restored"));

  // The responder answers every search whole; User 3 also has a tombstone, which a delta
  // from a directory that holds User 3 removes.
  absl::StatusOr<core::Directory> holding = source.Read();
  ASSERT_TRUE(holding.ok()) << holding.status();
  absl::StatusOr<DirectoryDelta> delta =
      source.ReadDelta(ldap_internal::FormatUsnCursor({50, Guid(9), kDcName}), *holding);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->feed, "uSNChanged watermark");
  EXPECT_EQ(delta->cursor, *now);
  EXPECT_EQ(delta->changes.users.size(), static_cast<size_t>(kUsers));
  EXPECT_EQ(delta->changes.removed_users, std::vector<std::string>{GuidString(Guid(3))});
  EXPECT_TRUE(delta->changes.removed_groups.empty());
  EXPECT_EQ(delta->entries_read, kUsers + 2);
}

}  // namespace
}  // namespace usersync::io
