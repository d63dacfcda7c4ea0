#include "io/gen/ldif_generator.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <numeric>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/check.h"
#include "core/ldap_filter.h"
#include "core/str.h"
#include "io/directory/entry_mapper.h"

namespace usersync::io {
namespace {

constexpr int64_t kFanOut = 8;
constexpr int64_t kChainLength = 25;
constexpr int64_t kChainMinGroups = 100;  // fewer generated groups: no chain
constexpr int64_t kFixedGroups = 4;
constexpr int64_t kBigMinScoped = 20'000;  // fewer scoped users: no big groups
constexpr int64_t kBigScopedPerGroup = 32'000;
constexpr int64_t kBigMaxGroups = 30;
constexpr size_t kBufferBytes = size_t{1} << 20;
constexpr int64_t kMaxCount = (int64_t{1} << 31) - 1 - kFixedGroups;

// Rates per 10,000 users.
constexpr uint32_t kRateMixedCase = 100;
constexpr uint32_t kRatePadded = 30;
constexpr uint32_t kRateNoEmail = 30;
constexpr uint32_t kRateForeign = 20;
constexpr uint32_t kRateDuplicate = 20;
constexpr uint32_t kRateNoGiven = 20;
constexpr uint32_t kRateBadLanguage = 20;
constexpr uint32_t kRateLanguage = 2000;
constexpr uint32_t kRateOutside = 300;
constexpr uint32_t kRateDisabled = 100;
constexpr uint32_t kRateOrganizer = 200;
constexpr uint32_t kRateTrainer = 100;
constexpr uint32_t kCycleEvery = 50;      // groups at depth >= 3 listing their grandparent: 1 in 50
constexpr int64_t kDanglingEvery = 1000;  // generated groups with a dangling member

// Hash salts: one independent stream per decision.
enum Salt : uint64_t {
  kSaltNames = 1,
  kSaltScope = 2,
  kSaltHome = 3,
  kSaltCycle = 4,
  kSaltExtra = 5,
  kSaltUuid = 6,
};

// splitmix64's finalizer: a bijection with good avalanche.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Hash(uint64_t seed, uint64_t salt, uint64_t index) {
  return Mix(Mix(seed * 0x2545f4914f6cdd1dULL + salt) + index);
}

uint32_t Per10k(uint64_t bits) { return static_cast<uint32_t>(bits % 10'000); }

struct Name {
  std::string_view display;  // UTF-8
  std::string_view ascii;    // lower-case, for uid and mail
};

// First names, their first letters spread roughly like io/ldap/ldap_query.cc's letter table
// (the prefix partitions of the LDAP source then come out balanced); 4 of 64 are UTF-8.
constexpr std::array<Name, 64> kFirstNames = {{
    {"Ann", "ann"},
    {"Amir", "amir"},
    {"Alice", "alice"},
    {"Anna", "anna"},
    {"Bob", "bob"},
    {"Beatriz", "beatriz"},
    {"Bruno", "bruno"},
    {"Carol", "carol"},
    {"Chen", "chen"},
    {"Clara", "clara"},
    {"Carlos", "carlos"},
    {"Dave", "dave"},
    {"Diana", "diana"},
    {"Dmitri", "dmitri"},
    {"Daniel", "daniel"},
    {"Erin", "erin"},
    {"Elena", "elena"},
    {"Frank", "frank"},
    {"Fatima", "fatima"},
    {"Grace", "grace"},
    {"Gustavo", "gustavo"},
    {"Heidi", "heidi"},
    {"Hiro", "hiro"},
    {"Hannah", "hannah"},
    {"Ivan", "ivan"},
    {"Judy", "judy"},
    {"James", "james"},
    {"J\xc3\xbcrgen", "juergen"},
    {"Jos\xc3\xa9", "jose"},
    {"Julia", "julia"},
    {"Ken", "ken"},
    {"Kim", "kim"},
    {"Kofi", "kofi"},
    {"Laura", "laura"},
    {"Liam", "liam"},
    {"Lena", "lena"},
    {"Mallory", "mallory"},
    {"Maria", "maria"},
    {"Mohammed", "mohammed"},
    {"Mei", "mei"},
    {"Marco", "marco"},
    {"Martin", "martin"},
    {"Niaj", "niaj"},
    {"Nina", "nina"},
    {"Olivia", "olivia"},
    {"Peggy", "peggy"},
    {"Priya", "priya"},
    {"Paul", "paul"},
    {"Quentin", "quentin"},
    {"Rupert", "rupert"},
    {"Rosa", "rosa"},
    {"Raj", "raj"},
    {"Sybil", "sybil"},
    {"Sofia", "sofia"},
    {"Sven", "sven"},
    {"Sarah", "sarah"},
    {"Samuel", "samuel"},
    {"Trent", "trent"},
    {"Tom\xc3\xa1s", "tomas"},
    {"Thomas", "thomas"},
    {"Victor", "victor"},
    {"Walter", "walter"},
    {"Yusuf", "yusuf"},
    {"Zo\xc3\xab", "zoe"},
}};

constexpr std::array<Name, 64> kLastNames = {{
    {"Lee", "lee"},
    {"Smith", "smith"},
    {"Jones", "jones"},
    {"Brown", "brown"},
    {"Davis", "davis"},
    {"Miller", "miller"},
    {"Wilson", "wilson"},
    {"Moore", "moore"},
    {"Taylor", "taylor"},
    {"Anderson", "anderson"},
    {"Thomas", "thomas"},
    {"Jackson", "jackson"},
    {"White", "white"},
    {"Harris", "harris"},
    {"Martin", "martin"},
    {"Thompson", "thompson"},
    {"Garcia", "garcia"},
    {"Martinez", "martinez"},
    {"Robinson", "robinson"},
    {"Clark", "clark"},
    {"Rodriguez", "rodriguez"},
    {"Lewis", "lewis"},
    {"Walker", "walker"},
    {"Young", "young"},
    {"M\xc3\xbcller", "mueller"},
    {"Schmidt", "schmidt"},
    {"Nguyen", "nguyen"},
    {"Kim", "kim"},
    {"Park", "park"},
    {"Chen", "chen"},
    {"Wang", "wang"},
    {"Singh", "singh"},
    {"Patel", "patel"},
    {"Khan", "khan"},
    {"Ali", "ali"},
    {"Novak", "novak"},
    {"Kowalski", "kowalski"},
    {"Rossi", "rossi"},
    {"Bianchi", "bianchi"},
    {"Dubois", "dubois"},
    {"Laurent", "laurent"},
    {"Silva", "silva"},
    {"Santos", "santos"},
    {"Costa", "costa"},
    {"Ivanova", "ivanova"},
    {"Petrov", "petrov"},
    {"Jensen", "jensen"},
    {"Hansen", "hansen"},
    {"Nielsen", "nielsen"},
    {"Johansson", "johansson"},
    {"Larsen", "larsen"},
    {"Berg", "berg"},
    {"Yamamoto", "yamamoto"},
    {"Tanaka", "tanaka"},
    {"Sato", "sato"},
    {"Okafor", "okafor"},
    {"Mensah", "mensah"},
    {"Haddad", "haddad"},
    {"Cohen", "cohen"},
    {"Levi", "levi"},
    {"\xc3\x85"
     "berg",
     "aaberg"},
    {"Murphy", "murphy"},
    {"Kelly", "kelly"},
    {"Walsh", "walsh"},
}};

constexpr std::array<std::string_view, 8> kTitles = {
    "Engineer",      "Account Executive", "Account Manager", "Trainer",
    "Event Manager", "Recruiter",         "Controller",      "Site Reliability Engineer",
};

constexpr std::array<std::string_view, 5> kLanguages = {"en_US", "de_DE", "fr_FR", "en_GB",
                                                        "es_ES"};
constexpr std::string_view kNotALanguage = "Deutsch (Schweiz)";
constexpr std::string_view kForeignDomain = "gmail.com";

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

enum class Messy : uint8_t {
  kNone,
  kMixedCase,
  kPadded,
  kNoEmail,
  kForeign,
  kDuplicate,  // shares user i-1's mailbox
  kNoGiven,
  kBadLanguage,
};

Messy RawMessy(uint64_t names_hash) {
  uint32_t roll = Per10k(names_hash >> 40);
  for (auto [rate, messy] :
       {std::pair{kRateMixedCase, Messy::kMixedCase}, std::pair{kRatePadded, Messy::kPadded},
        std::pair{kRateNoEmail, Messy::kNoEmail}, std::pair{kRateForeign, Messy::kForeign},
        std::pair{kRateDuplicate, Messy::kDuplicate}, std::pair{kRateNoGiven, Messy::kNoGiven},
        std::pair{kRateBadLanguage, Messy::kBadLanguage}}) {
    if (roll < rate) return messy;
    roll -= rate;
  }
  return Messy::kNone;
}

// Everything about user i that comes from the hashes.
struct UserTraits {
  const Name* first = nullptr;
  const Name* last = nullptr;
  std::string_view title;
  std::string_view language;  // "" for none
  Messy messy = Messy::kNone;
  bool outside = false;     // not under goto-users
  bool contractor = false;  // outside, in cn=contractors
  bool disabled = false;    // ad only
  bool organizer = false;
  bool trainer = false;

  bool in_scope() const { return !outside && !disabled; }
};

UserTraits Traits(uint64_t seed, bool ad, int64_t user_idx) {
  const uint64_t names = Hash(seed, kSaltNames, static_cast<uint64_t>(user_idx));
  const uint64_t scope = Hash(seed, kSaltScope, static_cast<uint64_t>(user_idx));
  UserTraits t;
  t.first = &kFirstNames[names & 63];
  t.last = &kLastNames[(names >> 6) & 63];
  t.title = kTitles[(names >> 12) & 7];
  if (Per10k(names >> 16) < kRateLanguage)
    t.language = kLanguages[(names >> 30) % kLanguages.size()];
  t.messy = RawMessy(names);
  if (t.messy == Messy::kDuplicate &&
      (user_idx == 0 ||
       RawMessy(Hash(seed, kSaltNames, static_cast<uint64_t>(user_idx - 1))) != Messy::kNone)) {
    t.messy = Messy::kNone;  // a pair needs a plain partner
  }
  if (t.messy == Messy::kBadLanguage) t.language = kNotALanguage;
  t.outside = Per10k(scope) < kRateOutside;
  t.contractor = t.outside && ((scope >> 14) & 1) != 0;
  t.disabled = ad && Per10k(scope >> 16) < kRateDisabled;
  t.organizer = !t.outside && Per10k(scope >> 30) < kRateOrganizer;
  t.trainer = !t.outside && Per10k(scope >> 44) < kRateTrainer;
  return t;
}

// A fixed-capacity text buffer: values are composed here without allocating.
class Text {
 public:
  void Clear() { size_ = 0; }
  Text& Add(std::string_view s) {
    USERSYNC_CHECK(size_ + s.size() <= sizeof(buf_));
    std::memcpy(buf_ + size_, s.data(), s.size());
    size_ += s.size();
    return *this;
  }
  Text& Add(char c) { return Add(std::string_view(&c, 1)); }
  Text& AddInt(uint64_t value) {
    char digits[20];
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    USERSYNC_CHECK(size_ + n <= sizeof(buf_));
    while (n > 0) buf_[size_++] = digits[--n];
    return *this;
  }
  Text& AddHex(uint64_t value, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    USERSYNC_CHECK(size_ + static_cast<size_t>(digits) <= sizeof(buf_));
    for (int idx = digits - 1; idx >= 0; --idx) {
      buf_[size_++] = kHex[(value >> (4 * idx)) & 15];
    }
    return *this;
  }
  // Upper-cases the bytes from `from` on (ASCII only).
  void UpperFrom(size_t from) {
    for (size_t idx = from; idx < size_; ++idx) {
      buf_[idx] = absl::ascii_toupper(static_cast<unsigned char>(buf_[idx]));
    }
  }
  void UpperAt(size_t idx) {
    buf_[idx] = absl::ascii_toupper(static_cast<unsigned char>(buf_[idx]));
  }
  size_t size() const { return size_; }
  std::string_view view() const { return std::string_view(buf_, size_); }

 private:
  char buf_[1024];
  size_t size_ = 0;
};

// The 16 bytes of entry `index`'s UUID (version 4 layout; the last 48 bits are the index, so
// no two entries share one).
std::array<unsigned char, 16> UuidBytes(uint64_t seed, uint64_t index) {
  const uint64_t h = Hash(seed, kSaltUuid, index);
  const uint64_t high = (h & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t clock_seq = 0x8000 | ((h >> 20) & 0x3fff);
  std::array<unsigned char, 16> out;
  for (int idx = 0; idx < 8; ++idx) out[idx] = static_cast<unsigned char>(high >> (56 - 8 * idx));
  out[8] = static_cast<unsigned char>(clock_seq >> 8);
  out[9] = static_cast<unsigned char>(clock_seq);
  for (int idx = 0; idx < 6; ++idx) {
    out[10 + idx] = static_cast<unsigned char>(index >> (40 - 8 * idx));
  }
  return out;
}

void AddUuidString(const std::array<unsigned char, 16>& bytes, Text& out) {
  for (size_t idx = 0; idx < bytes.size(); ++idx) {
    if (idx == 4 || idx == 6 || idx == 8 || idx == 10) out.Add('-');
    out.AddHex(bytes[idx], 2);
  }
}

// Index spaces of UUIDs: users are 0..N-1, groups have bit 47 set.
constexpr uint64_t kGroupUuidBit = uint64_t{1} << 47;

enum class MemberKind : uint8_t { kUser, kGroup, kDangling };

size_t DecimalDigits(uint64_t value) {
  size_t digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Sinks: where the entries go.

class LdifGenerator::EntrySink {
 public:
  virtual ~EntrySink() = default;
  virtual void Begin(std::string_view dn) = 0;
  // `value` need only live for the call.
  virtual void Add(std::string_view name, std::string_view value) = 0;
  virtual void End() = 0;
  // Text before the first entry ("version: 1"); LDIF only.
  virtual void Preamble(std::string_view) {}
};

// RFC 2849 text into a buffer that is flushed to an fd or appended to a string.
class LdifGenerator::LdifSink final : public EntrySink {
 public:
  LdifSink(int fd, std::string* out) : fd_(fd), out_(out), buf_(new char[kBufferBytes]) {}

  void Preamble(std::string_view text) override { Put(text); }
  void Begin(std::string_view dn) override { Line("dn", dn); }
  void Add(std::string_view name, std::string_view value) override { Line(name, value); }
  void End() override { Put("\n"); }

  // Writes what is buffered. Returns errno of a failed write (0: none).
  int Finish() {
    Flush();
    return error_;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  // RFC 2849 SAFE-STRING, and no trailing space (it would not survive a round trip).
  static bool Safe(std::string_view value) {
    if (value.empty()) return true;
    const auto first = static_cast<unsigned char>(value.front());
    if (first == ' ' || first == ':' || first == '<') return false;
    if (value.back() == ' ') return false;
    for (char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte == 0 || byte == '\n' || byte == '\r' || byte >= 0x80) return false;
    }
    return true;
  }

  void Line(std::string_view name, std::string_view value) {
    // name + ":: " + base64 + "\n" fits: values are short (< 1 KiB).
    Reserve(name.size() + 4 + (value.size() + 2) / 3 * 4);
    Append(name);
    if (Safe(value)) {
      Append(": ");
      Append(value);
    } else {
      Append(":: ");
      AppendBase64(value);
    }
    Append("\n");
  }

  void AppendBase64(std::string_view value) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* in = reinterpret_cast<const unsigned char*>(value.data());
    size_t idx = 0;
    char* out = buf_.get() + used_;
    for (; idx + 3 <= value.size(); idx += 3) {
      const uint32_t n = (uint32_t{in[idx]} << 16) | (uint32_t{in[idx + 1]} << 8) | in[idx + 2];
      *out++ = kAlphabet[(n >> 18) & 63];
      *out++ = kAlphabet[(n >> 12) & 63];
      *out++ = kAlphabet[(n >> 6) & 63];
      *out++ = kAlphabet[n & 63];
    }
    if (idx < value.size()) {
      uint32_t n = uint32_t{in[idx]} << 16;
      if (idx + 1 < value.size()) n |= uint32_t{in[idx + 1]} << 8;
      *out++ = kAlphabet[(n >> 18) & 63];
      *out++ = kAlphabet[(n >> 12) & 63];
      *out++ = idx + 1 < value.size() ? kAlphabet[(n >> 6) & 63] : '=';
      *out++ = '=';
    }
    used_ = static_cast<size_t>(out - buf_.get());
  }

  void Reserve(size_t n) {
    USERSYNC_CHECK(n <= kBufferBytes);
    if (used_ + n > kBufferBytes) Flush();
  }
  // REQUIRES: Reserve() made room.
  void Append(std::string_view s) {
    std::memcpy(buf_.get() + used_, s.data(), s.size());
    used_ += s.size();
  }
  void Put(std::string_view s) {
    Reserve(s.size());
    Append(s);
  }

  void Flush() {
    bytes_ += used_;
    if (out_ != nullptr) {
      out_->append(buf_.get(), used_);
    } else {
      size_t done = 0;
      while (error_ == 0 && done < used_) {
        const ssize_t n = ::write(fd_, buf_.get() + done, used_ - done);
        if (n < 0) {
          if (errno == EINTR) continue;
          error_ = errno;
        } else {
          done += static_cast<size_t>(n);
        }
      }
    }
    used_ = 0;
  }

  int fd_;
  std::string* out_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;
  uint64_t bytes_ = 0;
  int error_ = 0;
};

// Entries mapped straight into a DirectoryBuilder by io::EntryMapper.
class LdifGenerator::BuilderSink final : public EntrySink {
 public:
  explicit BuilderSink(EntryMapper mapper)
      : mapper_(std::move(mapper)), builder_(mapper_.extra_names()) {}

  void Begin(std::string_view dn) override {
    entry_.Clear();
    block_idx_ = 0;
    block_used_ = 0;
    entry_.dn = Store(dn);
  }
  void Add(std::string_view name, std::string_view value) override {
    entry_.AddValue(name, Store(value));
  }
  void End() override {
    if (!status_.ok()) return;
    absl::StatusOr<EntryMapper::Kind> kind = mapper_.Add(entry_, builder_);
    if (!kind.ok()) status_ = kind.status();
  }

  absl::StatusOr<core::Directory> Finish() && {
    if (!status_.ok()) return status_;
    return std::move(builder_).Finish();
  }

 private:
  // One entry, as EntryMapper reads it. Attribute names are the generator's literals.
  class Entry final : public core::EntryView {
   public:
    std::string_view Dn() const override { return dn; }
    std::span<const std::string_view> Values(std::string_view name) const override {
      for (size_t attr_idx = 0; attr_idx < attr_count_; ++attr_idx) {
        if (core::EqualsIgnoreCase(attrs_[attr_idx].name, name)) return attrs_[attr_idx].values;
      }
      return {};
    }
    void Clear() { attr_count_ = 0; }
    void AddValue(std::string_view name, std::string_view value) {
      // Values of one attribute come together, so only the last attribute can match.
      if (attr_count_ == 0 || attrs_[attr_count_ - 1].name != name) {
        if (attr_count_ == attrs_.size()) attrs_.emplace_back();
        attrs_[attr_count_].name = name;
        attrs_[attr_count_].values.clear();
        ++attr_count_;
      }
      attrs_[attr_count_ - 1].values.push_back(value);
    }

    std::string_view dn;

   private:
    struct Attr {
      std::string_view name;
      std::vector<std::string_view> values;  // capacity reused from entry to entry
    };
    std::vector<Attr> attrs_;
    size_t attr_count_ = 0;
  };

  // Copies `s` into blocks that are reused from entry to entry.
  std::string_view Store(std::string_view s) {
    USERSYNC_CHECK(s.size() <= kBufferBytes);
    if (block_idx_ < blocks_.size() && block_used_ + s.size() > kBufferBytes) {
      ++block_idx_;
      block_used_ = 0;
    }
    if (block_idx_ == blocks_.size()) blocks_.emplace_back(new char[kBufferBytes]);
    char* out = blocks_[block_idx_].get() + block_used_;
    std::memcpy(out, s.data(), s.size());
    block_used_ += s.size();
    return std::string_view(out, s.size());
  }

  EntryMapper mapper_;
  core::DirectoryBuilder builder_;
  Entry entry_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_idx_ = 0;
  size_t block_used_ = 0;
  absl::Status status_;
};

// ---------------------------------------------------------------------------------------------
// The plan: group layout and the user members of every group.
//
// Group indices: generated groups 0..G-1 (the tree 0..tree-1, then the chain), then the fixed
// ones: G goto-users, G+1 organizers, G+2 trainers, G+3 contractors.

struct LdifGenerator::Plan {
  bool ad = false;
  std::string base_dn;
  std::string domain;
  std::string first_rdn_type;   // "dc", "o" or "ou"
  std::string first_rdn_value;  // of the base entry
  int64_t users = 0;
  int64_t groups = 0;  // generated
  int64_t tree = 0;
  int64_t chain = 0;
  int64_t big = 0;  // big groups: tree-1, tree-2, ..., tree-big
  int64_t organizers_team = -1;
  int64_t trainers_team = -1;
  std::vector<int64_t> member_begin;  // CSR over all groups (G + 4 + 1)
  std::vector<uint32_t> user_members;

  int64_t goto_users() const { return groups; }
  int64_t organizers() const { return groups + 1; }
  int64_t trainers() const { return groups + 2; }
  int64_t contractors() const { return groups + 3; }
  int64_t all_groups() const { return groups + kFixedGroups; }

  // Nesting level of tree group g under goto-users (the roots are at 1).
  static int64_t TreeDepth(int64_t g) {
    int64_t depth = 1;
    while (g >= kFanOut) {
      g = g / kFanOut - 1;
      ++depth;
    }
    return depth;
  }
  static int64_t TreeParent(int64_t g) { return g / kFanOut - 1; }  // REQUIRES: g >= kFanOut

  bool HasBackEdge(uint64_t seed, int64_t g) const {
    return g < tree && TreeDepth(g) >= 3 &&
           Hash(seed, kSaltCycle, static_cast<uint64_t>(g)) % kCycleEvery == 0;
  }

  template <typename F>
  void ForEachMember(uint64_t seed, int64_t g, F&& f) const;
};

// Calls f(kind, index) for each member of group `g`, in LDIF order. kDangling: index -1 is
// uid=ghost (goto-users), else the generated group's own index (uid=gone-<g>).
template <typename F>
void LdifGenerator::Plan::ForEachMember(uint64_t seed, int64_t g, F&& f) const {
  const Plan& plan = *this;
  int64_t count = 0;
  auto emit = [&](MemberKind kind, int64_t idx) {
    ++count;
    f(kind, idx);
  };
  auto direct_users = [&]() {
    for (int64_t pos = plan.member_begin[g]; pos < plan.member_begin[g + 1]; ++pos) {
      emit(MemberKind::kUser, plan.user_members[pos]);
    }
  };
  if (g < plan.tree) {
    for (int64_t child = kFanOut * (g + 1); child < std::min(kFanOut * (g + 2), plan.tree);
         ++child) {
      emit(MemberKind::kGroup, child);
    }
    if (g == 0) {
      emit(MemberKind::kGroup, plan.goto_users());  // a cycle through the scope group
      if (plan.chain > 0) emit(MemberKind::kGroup, plan.tree);
    }
    if (plan.HasBackEdge(seed, g)) {
      emit(MemberKind::kGroup, TreeParent(TreeParent(g)));
    }
    direct_users();
    if (g % kDanglingEvery == kDanglingEvery - 1) emit(MemberKind::kDangling, g);
  } else if (g < plan.groups) {
    const int64_t link = g + 1 < plan.groups ? g + 1 : plan.tree;  // the last closes the cycle
    emit(MemberKind::kGroup, link);
    direct_users();
  } else if (g == plan.goto_users()) {
    for (int64_t root = 0; root < std::min(kFanOut, plan.tree); ++root) {
      emit(MemberKind::kGroup, root);
    }
    emit(MemberKind::kGroup, plan.organizers());
    emit(MemberKind::kGroup, plan.trainers());
    direct_users();
    emit(MemberKind::kDangling, -1);
  } else if (g == plan.organizers() || g == plan.trainers()) {
    const int64_t team = g == plan.organizers() ? plan.organizers_team : plan.trainers_team;
    if (team >= 0) emit(MemberKind::kGroup, team);
    direct_users();
  } else {
    direct_users();
  }
  // groupOfNames must have a member.
  if (count == 0 && !plan.ad) f(MemberKind::kGroup, g);
}

// ---------------------------------------------------------------------------------------------

std::string FormatGenSummary(const LdifGenSummary& s) {
  std::string out;
  auto line = [&](std::string_view key, int64_t value) {
    absl::StrAppend(&out, Sv(key), ": ", value, "\n");
  };
  line("users", s.users);
  line("groups", s.groups);
  line("fixed_groups", s.fixed_groups);
  line("entries", s.entries);
  line("member_values", s.member_values);
  line("user_members", s.user_members);
  line("group_members", s.group_members);
  line("dangling_members", s.dangling_members);
  line("self_members", s.self_members);
  line("largest_group", s.largest_group);
  line("groups_5000", s.groups_5000);
  line("max_depth", s.max_depth);
  line("cycles", s.cycles);
  line("scope_users", s.scope_users);
  line("outside_users", s.outside_users);
  line("contractors", s.contractors);
  line("disabled", s.disabled);
  line("in_scope", s.in_scope);
  line("organizers", s.organizers);
  line("trainers", s.trainers);
  line("mixed_case_emails", s.mixed_case_emails);
  line("padded_emails", s.padded_emails);
  line("no_email", s.no_email);
  line("foreign_domain", s.foreign_domain);
  line("duplicate_email_users", s.duplicate_email_users);
  line("no_given_name", s.no_given_name);
  line("bad_language", s.bad_language);
  line("utf8_names", s.utf8_names);
  line("invalid_no_email", s.invalid_no_email);
  line("invalid_foreign_domain", s.invalid_foreign_domain);
  line("invalid_duplicate_email", s.invalid_duplicate_email);
  line("invalid_no_given_name", s.invalid_no_given_name);
  line("invalid", s.invalid);
  absl::StrAppend(&out, "domain: ", s.domain, "\n");
  absl::StrAppend(&out, "scope_group: ", s.scope_group_dn, "\n");
  return out;
}

LdifGenerator::LdifGenerator(LdifGenOptions options)
    : options_(std::move(options)), plan_(std::make_unique<Plan>()) {}

LdifGenerator::~LdifGenerator() = default;

absl::StatusOr<std::unique_ptr<LdifGenerator>> LdifGenerator::Create(LdifGenOptions options) {
  if (options.users < 0 || options.users > kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("--users must be between 0 and ", kMaxCount, ", got ", options.users));
  }
  if (options.groups < 0 || options.groups > kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("--groups must be between 0 and ", kMaxCount, ", got ", options.groups));
  }
  if (!(options.memberships >= 0) || !std::isfinite(options.memberships)) {
    return absl::InvalidArgumentError("--memberships must be a number >= 0");
  }
  if (options.flavor != "openldap" && options.flavor != "ad") {
    return absl::InvalidArgumentError(
        absl::StrCat("--flavor must be openldap or ad, got \"", options.flavor, "\""));
  }
  std::unique_ptr<LdifGenerator> gen(new LdifGenerator(options));
  Plan& plan = *gen->plan_;
  plan.ad = options.flavor == "ad";

  // The base DN: dc=/o=/ou= first, dc= values make the mail domain.
  if (options.base_dn.empty() || options.base_dn.size() > 256) {
    return absl::InvalidArgumentError("--base-dn must be 1 to 256 characters");
  }
  std::vector<std::string> domain_labels;
  bool first = true;
  for (absl::string_view rdn : absl::StrSplit(Sv(options.base_dn), ',')) {
    rdn = absl::StripAsciiWhitespace(rdn);
    const size_t eq = rdn.find('=');
    if (eq == absl::string_view::npos || eq == 0 || eq + 1 == rdn.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--base-dn \"", options.base_dn, "\": \"", rdn, "\" is not type=value"));
    }
    const std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rdn.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(rdn.substr(eq + 1)));
    if (value.find_first_of("+\"\\<>;#=") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--base-dn \"", options.base_dn, "\": values with special characters are not supported"));
    }
    if (first) {
      if (type != "dc" && type != "o" && type != "ou") {
        return absl::InvalidArgumentError(
            absl::StrCat("--base-dn \"", options.base_dn, "\" must start with dc=, o= or ou="));
      }
      plan.first_rdn_type = type;
      plan.first_rdn_value = value;
      first = false;
    }
    if (type == "dc") domain_labels.push_back(absl::AsciiStrToLower(value));
  }
  plan.base_dn = options.base_dn;
  plan.domain = domain_labels.empty() ? "example.com" : absl::StrJoin(domain_labels, ".");

  const uint64_t seed = options.seed;
  const int64_t n = options.users;
  const int64_t g_count = options.groups;
  plan.users = n;
  plan.groups = g_count;
  plan.chain = g_count >= kChainMinGroups ? kChainLength : 0;
  plan.tree = g_count - plan.chain;

  LdifGenSummary& s = gen->summary_;
  s.users = n;
  s.groups = g_count;
  s.fixed_groups = kFixedGroups;
  s.entries = 3 + n + g_count + kFixedGroups;
  s.domain = plan.domain;
  s.scope_group_dn = absl::StrCat("cn=goto-users,ou=groups,", plan.base_dn);
  s.organizers_dn = absl::StrCat("cn=organizers,ou=groups,", plan.base_dn);
  s.trainers_dn = absl::StrCat("cn=trainers,ou=groups,", plan.base_dn);

  // Pass 1: the users' traits and the counts that follow from them.
  bool previous_in_scope = false;
  for (int64_t user_idx = 0; user_idx < n; ++user_idx) {
    const UserTraits t = Traits(seed, plan.ad, user_idx);
    const bool in_scope = t.in_scope();
    s.outside_users += t.outside;
    s.scope_users += !t.outside;
    s.contractors += t.contractor;
    s.disabled += t.disabled;
    s.in_scope += in_scope;
    s.organizers += t.organizer;
    s.trainers += t.trainer;
    s.utf8_names += !IsAscii(t.first->display) || !IsAscii(t.last->display);
    switch (t.messy) {
      case Messy::kNone:
        break;
      case Messy::kMixedCase:
        ++s.mixed_case_emails;
        break;
      case Messy::kPadded:
        ++s.padded_emails;
        break;
      case Messy::kNoEmail:
        ++s.no_email;
        s.invalid_no_email += in_scope;
        break;
      case Messy::kForeign:
        ++s.foreign_domain;
        s.invalid_foreign_domain += in_scope;
        break;
      case Messy::kDuplicate:
        s.duplicate_email_users += 2;
        if (in_scope && previous_in_scope) s.invalid_duplicate_email += 2;
        break;
      case Messy::kNoGiven:
        ++s.no_given_name;
        s.invalid_no_given_name += in_scope;
        break;
      case Messy::kBadLanguage:
        ++s.bad_language;
        break;
    }
    previous_in_scope = in_scope;
  }
  s.invalid = s.invalid_no_email + s.invalid_foreign_domain + s.invalid_duplicate_email +
              s.invalid_no_given_name;

  // Big groups at the end of the tree (leaves), rule teams in its middle.
  if (s.scope_users >= kBigMinScoped && plan.tree >= 4) {
    plan.big = std::min({std::max<int64_t>(1, s.scope_users / kBigScopedPerGroup), kBigMaxGroups,
                         std::max<int64_t>(1, plan.tree / 10)});
  }
  if (plan.tree >= 4) {
    if (plan.tree / 2 < plan.tree - plan.big) plan.organizers_team = plan.tree / 2;
    if (plan.tree / 2 + 1 < plan.tree - plan.big) plan.trainers_team = plan.tree / 2 + 1;
  }

  // Extra memberships: offsets (home + 1 + (start + k * stride) mod (G-1)) mod G are distinct
  // for k < G-1 when gcd(stride, G-1) = 1, and never the home group.
  const int64_t whole = static_cast<int64_t>(std::floor(options.memberships));
  const double fraction = options.memberships - static_cast<double>(whole);
  const int64_t span = g_count - 1;
  int64_t stride = 1;
  if (span > 1) {
    for (int64_t candidate : {7919, 104729, 1299709, 15485863, 1}) {
      if (std::gcd(candidate % span, span) == 1) {
        stride = candidate % span;
        break;
      }
    }
  }

  // Calls add(group) for each group that lists user `user_idx` directly.
  auto for_each_group_of = [&](int64_t user_idx, const UserTraits& t, auto&& add) {
    if (t.outside) {
      if (t.contractor) add(plan.contractors());
      return;
    }
    const uint64_t h = Hash(seed, kSaltHome, static_cast<uint64_t>(user_idx));
    int64_t home = plan.goto_users();
    if (g_count > 0) {
      if (plan.big > 0 && (h & 3) == 0) {
        home = plan.tree - 1 - static_cast<int64_t>((h >> 2) % static_cast<uint64_t>(plan.big));
      } else {
        home = static_cast<int64_t>((h >> 8) % static_cast<uint64_t>(g_count));
      }
    }
    add(home);
    if (span >= 1) {
      const double roll = static_cast<double>(h >> 40) / static_cast<double>(uint64_t{1} << 24);
      const int64_t extra = std::min(span, whole + (roll < fraction ? 1 : 0));
      const uint64_t start =
          Hash(seed, kSaltExtra, static_cast<uint64_t>(user_idx)) % static_cast<uint64_t>(span);
      for (int64_t k = 0; k < extra; ++k) {
        const int64_t offset =
            1 + static_cast<int64_t>((start + static_cast<uint64_t>(k * stride)) %
                                     static_cast<uint64_t>(span));
        add((home + offset) % g_count);
      }
    }
    if (t.organizer) add(plan.organizers());
    if (t.trainer) add(plan.trainers());
  };

  // Passes 2 and 3: count, then fill, the user members of every group (CSR).
  const int64_t all_groups = plan.all_groups();
  plan.member_begin.assign(all_groups + 1, 0);
  for (int64_t user_idx = 0; user_idx < n; ++user_idx) {
    const UserTraits t = Traits(seed, plan.ad, user_idx);
    for_each_group_of(user_idx, t, [&](int64_t group) { ++plan.member_begin[group + 1]; });
  }
  for (int64_t group = 0; group < all_groups; ++group) {
    plan.member_begin[group + 1] += plan.member_begin[group];
  }
  plan.user_members.resize(static_cast<size_t>(plan.member_begin[all_groups]));
  {
    std::vector<int64_t> cursor(plan.member_begin.begin(), plan.member_begin.end() - 1);
    for (int64_t user_idx = 0; user_idx < n; ++user_idx) {
      const UserTraits t = Traits(seed, plan.ad, user_idx);
      for_each_group_of(user_idx, t, [&](int64_t group) {
        plan.user_members[cursor[group]++] = static_cast<uint32_t>(user_idx);
      });
    }
  }

  // Group-side counts.
  for (int64_t group = 0; group < all_groups; ++group) {
    int64_t values = 0;
    plan.ForEachMember(seed, group, [&](MemberKind kind, int64_t idx) {
      ++values;
      if (kind == MemberKind::kUser) ++s.user_members;
      if (kind == MemberKind::kGroup) ++s.group_members;
      if (kind == MemberKind::kGroup && idx == group) ++s.self_members;
      if (kind == MemberKind::kDangling) ++s.dangling_members;
    });
    s.member_values += values;
    s.largest_group = std::max(s.largest_group, values);
    s.groups_5000 += values >= 5000;
    if (plan.HasBackEdge(seed, group)) ++s.cycles;
  }
  if (plan.tree > 0) ++s.cycles;   // dept-0 ∋ goto-users
  if (plan.chain > 0) ++s.cycles;  // chain-24 ∋ chain-0
  if (plan.tree > 0) s.max_depth = Plan::TreeDepth(plan.tree - 1);
  if (plan.chain > 0) s.max_depth = std::max(s.max_depth, 1 + plan.chain);
  return gen;
}

DirectorySchema LdifGenerator::DefaultSchema() const {
  DirectorySchema schema;
  if (plan_->ad) {
    schema.flavor = DirectoryFlavor::kAd;
    schema.id = "objectGUID";
    schema.user_name = "userPrincipalName";
    schema.user_filter = "(&(objectClass=user)(objectCategory=person))";
    schema.group_filter = "(objectClass=group)";
  }
  return schema;
}

void LdifGenerator::Emit(EntrySink& sink) const {
  const Plan& plan = *plan_;
  const uint64_t seed = options_.seed;
  const bool ad = plan.ad;
  const std::string_view base = plan.base_dn;
  Text dn;
  Text value;

  if (options_.version_line) sink.Preamble("version: 1\n\n");

  // The base entry and the two OUs.
  sink.Begin(base);
  sink.Add("objectClass", "top");
  if (plan.first_rdn_type == "dc") {
    sink.Add("objectClass", "dcObject");
    sink.Add("objectClass", "organization");
    sink.Add("dc", plan.first_rdn_value);
    sink.Add("o", plan.first_rdn_value);
  } else if (plan.first_rdn_type == "o") {
    sink.Add("objectClass", "organization");
    sink.Add("o", plan.first_rdn_value);
  } else {
    sink.Add("objectClass", "organizationalUnit");
    sink.Add("ou", plan.first_rdn_value);
  }
  sink.End();
  for (std::string_view ou : {"people", "groups"}) {
    dn.Clear();
    dn.Add("ou=").Add(ou).Add(',').Add(base);
    sink.Begin(dn.view());
    sink.Add("objectClass", "top");
    sink.Add("objectClass", "organizationalUnit");
    sink.Add("ou", ou);
    sink.End();
  }

  // uid (openldap) or sAMAccountName-style login: ascii first "." ascii last + index.
  auto add_uid = [](Text& out, const UserTraits& t, int64_t user_idx) {
    out.Add(t.first->ascii).Add('.').Add(t.last->ascii).AddInt(static_cast<uint64_t>(user_idx));
  };
  auto add_user_dn = [&](Text& out, const UserTraits& t, int64_t user_idx) {
    if (ad) {
      out.Add("cn=").Add(t.first->display).Add(' ').Add(t.last->display).Add(' ');
      out.AddInt(static_cast<uint64_t>(user_idx));
    } else {
      out.Add("uid=");
      add_uid(out, t, user_idx);
    }
    out.Add(",ou=people,").Add(base);
  };
  auto add_group_name = [&](Text& out, int64_t group) {
    if (group == plan.goto_users()) {
      out.Add("goto-users");
    } else if (group == plan.organizers()) {
      out.Add("organizers");
    } else if (group == plan.trainers()) {
      out.Add("trainers");
    } else if (group == plan.contractors()) {
      out.Add("contractors");
    } else if (group >= plan.tree) {
      out.Add("chain-").AddInt(static_cast<uint64_t>(group - plan.tree));
    } else if (group < kFanOut) {
      out.Add("dept-").AddInt(static_cast<uint64_t>(group));
    } else {
      out.Add("team-").AddInt(static_cast<uint64_t>(group));
    }
  };
  auto add_group_dn = [&](Text& out, int64_t group) {
    out.Add("cn=");
    add_group_name(out, group);
    out.Add(",ou=groups,").Add(base);
  };

  // Users.
  for (int64_t user_idx = 0; user_idx < plan.users; ++user_idx) {
    const UserTraits t = Traits(seed, ad, user_idx);
    dn.Clear();
    add_user_dn(dn, t, user_idx);
    sink.Begin(dn.view());
    sink.Add("objectClass", "top");
    sink.Add("objectClass", "person");
    sink.Add("objectClass", "organizationalPerson");
    const auto uuid = UuidBytes(seed, static_cast<uint64_t>(user_idx));
    if (ad) {
      sink.Add("objectClass", "user");
      value.Clear();
      value.Add("CN=Person,CN=Schema,CN=Configuration,").Add(base);
      sink.Add("objectCategory", value.view());
      value.Clear();
      value.Add(t.first->display).Add(' ').Add(t.last->display).Add(' ');
      value.AddInt(static_cast<uint64_t>(user_idx));
      sink.Add("cn", value.view());
      // sAMAccountName: at most 20 characters, the index always whole.
      value.Clear();
      value.Add(t.first->ascii.substr(0, 1));
      const size_t digits = DecimalDigits(static_cast<uint64_t>(user_idx));
      value.Add(t.last->ascii.substr(0, 19 - digits)).AddInt(static_cast<uint64_t>(user_idx));
      sink.Add("sAMAccountName", value.view());
      value.Clear();
      add_uid(value, t, user_idx);
      value.Add('@').Add(plan.domain);
      sink.Add("userPrincipalName", value.view());
      sink.Add("objectGUID",
               std::string_view(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
    } else {
      sink.Add("objectClass", "inetOrgPerson");
      value.Clear();
      add_uid(value, t, user_idx);
      sink.Add("uid", value.view());
      value.Clear();
      AddUuidString(uuid, value);
      sink.Add("entryUUID", value.view());
      value.Clear();
      value.Add(t.first->display).Add(' ').Add(t.last->display);
      sink.Add("cn", value.view());
    }
    if (t.messy != Messy::kNoGiven) sink.Add("givenName", t.first->display);
    sink.Add("sn", t.last->display);
    if (ad) {
      value.Clear();
      value.Add(t.first->display).Add(' ').Add(t.last->display);
      sink.Add("displayName", value.view());
    }
    // mail
    value.Clear();
    switch (t.messy) {
      case Messy::kNoEmail:
        break;
      case Messy::kForeign:
        add_uid(value, t, user_idx);
        value.Add('@').Add(kForeignDomain);
        break;
      case Messy::kMixedCase:
      case Messy::kPadded: {
        if (t.messy == Messy::kPadded) value.Add("  ");
        const size_t at = value.size();
        add_uid(value, t, user_idx);
        value.UpperAt(at);
        value.Add('@');
        const size_t domain_at = value.size();
        value.Add(plan.domain);
        value.UpperFrom(domain_at);
        if (t.messy == Messy::kPadded) value.Add(' ');
        break;
      }
      case Messy::kDuplicate: {
        // The previous user's mailbox, spelled in other case.
        const UserTraits partner = Traits(seed, ad, user_idx - 1);
        add_uid(value, partner, user_idx - 1);
        value.UpperAt(0);
        value.Add('@').Add(plan.domain);
        break;
      }
      default:
        add_uid(value, t, user_idx);
        value.Add('@').Add(plan.domain);
        break;
    }
    if (value.size() > 0) sink.Add("mail", value.view());
    if (!t.language.empty()) sink.Add("preferredLanguage", t.language);
    value.Clear();
    value.AddInt(static_cast<uint64_t>(user_idx % 997 + 100));
    sink.Add(ad ? "department" : "departmentNumber", value.view());
    sink.Add("title", t.title);
    value.Clear();
    value.AddInt(static_cast<uint64_t>(user_idx));
    sink.Add(ad ? "employeeID" : "employeeNumber", value.view());
    if (ad) sink.Add("userAccountControl", t.disabled ? "514" : "512");
    sink.End();
  }

  // Groups: the fixed ones first, then the generated ones.
  auto emit_group = [&](int64_t group) {
    dn.Clear();
    add_group_dn(dn, group);
    sink.Begin(dn.view());
    sink.Add("objectClass", "top");
    sink.Add("objectClass", ad ? "group" : "groupOfNames");
    value.Clear();
    add_group_name(value, group);
    sink.Add("cn", value.view());
    const auto uuid = UuidBytes(seed, kGroupUuidBit | static_cast<uint64_t>(group));
    if (ad) {
      sink.Add("sAMAccountName", value.view());
      sink.Add("objectGUID",
               std::string_view(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
    } else {
      value.Clear();
      AddUuidString(uuid, value);
      sink.Add("entryUUID", value.view());
    }
    plan.ForEachMember(seed, group, [&](MemberKind kind, int64_t idx) {
      value.Clear();
      if (kind == MemberKind::kUser) {
        add_user_dn(value, Traits(seed, ad, idx), idx);
      } else if (kind == MemberKind::kGroup) {
        add_group_dn(value, idx);
      } else if (idx < 0) {
        value.Add(ad ? "cn=ghost" : "uid=ghost").Add(",ou=people,").Add(base);
      } else {
        value.Add(ad ? "cn=gone-" : "uid=gone-").AddInt(static_cast<uint64_t>(idx));
        value.Add(",ou=people,").Add(base);
      }
      sink.Add("member", value.view());
    });
    sink.End();
  };
  for (int64_t group = plan.groups; group < plan.all_groups(); ++group) emit_group(group);
  for (int64_t group = 0; group < plan.groups; ++group) emit_group(group);
}

absl::StatusOr<uint64_t> LdifGenerator::WriteFd(int fd, const std::string& name_for_errors) const {
  LdifSink sink(fd, nullptr);
  Emit(sink);
  const int error = sink.Finish();
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat(name_for_errors, ": write failed: ", std::strerror(error)));
  }
  return sink.bytes();
}

absl::StatusOr<uint64_t> LdifGenerator::WriteFile(const std::string& path) const {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    const std::string message = absl::StrCat(path, ": cannot open: ", std::strerror(error));
    if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::UnavailableError(message);
  }
  absl::StatusOr<uint64_t> bytes = WriteFd(fd, path);
  if (::close(fd) != 0 && bytes.ok()) {
    return absl::UnavailableError(absl::StrCat(path, ": close failed: ", std::strerror(errno)));
  }
  return bytes;
}

std::string LdifGenerator::WriteString() const {
  std::string out;
  LdifSink sink(-1, &out);
  Emit(sink);
  sink.Finish();
  return out;
}

absl::StatusOr<core::Directory> LdifGenerator::BuildDirectory() const {
  absl::StatusOr<EntryMapper> mapper = EntryMapper::Create(DefaultSchema());
  if (!mapper.ok()) return mapper.status();
  BuilderSink sink(*std::move(mapper));
  Emit(sink);
  return std::move(sink).Finish();
}

}  // namespace usersync::io
