// The fixture generator's internals, shared by its two files: ldif_generator.cc (options,
// planning, the summary) and ldif_generator_emit.cc (the entries, the LDIF and Directory
// sinks). Not part of the generator's interface: the hash streams that make every choice, the
// name tables, a user's traits, the fixed-size text buffer, the sink interface and the plan.
//
// Thread-safety: constants and pure functions; a Plan is immutable once planned.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "core/check.h"

namespace usersync::io::gen_internal {

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
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t Hash(uint64_t seed, uint64_t salt, uint64_t index) {
  return Mix(Mix(seed * 0x2545f4914f6cdd1dULL + salt) + index);
}

inline uint32_t Per10k(uint64_t bits) { return static_cast<uint32_t>(bits % 10'000); }

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

inline bool IsAscii(std::string_view s) {
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

inline Messy RawMessy(uint64_t names_hash) {
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

inline UserTraits Traits(uint64_t seed, bool ad, int64_t user_idx) {
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
inline std::array<unsigned char, 16> UuidBytes(uint64_t seed, uint64_t index) {
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

inline void AddUuidString(const std::array<unsigned char, 16>& bytes, Text& out) {
  for (size_t idx = 0; idx < bytes.size(); ++idx) {
    if (idx == 4 || idx == 6 || idx == 8 || idx == 10) out.Add('-');
    out.AddHex(bytes[idx], 2);
  }
}

// Index spaces of UUIDs: users are 0..N-1, groups have bit 47 set.
constexpr uint64_t kGroupUuidBit = uint64_t{1} << 47;

enum class MemberKind : uint8_t { kUser, kGroup, kDangling };

inline size_t DecimalDigits(uint64_t value) {
  size_t digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

// ---------------------------------------------------------------------------------------------
// Sinks: where the entries go.

class EntrySink {
 public:
  virtual ~EntrySink() = default;
  virtual void Begin(std::string_view dn) = 0;
  // `value` need only live for the call.
  virtual void Add(std::string_view name, std::string_view value) = 0;
  virtual void End() = 0;
  // Text before the first entry ("version: 1"); LDIF only.
  virtual void Preamble(std::string_view) {}
};

// The plan: group layout and the user members of every group.
//
// Group indices: generated groups 0..G-1 (the tree 0..tree-1, then the chain), then the fixed
// ones: G goto-users, G+1 organizers, G+2 trainers, G+3 contractors.

struct Plan {
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
void Plan::ForEachMember(uint64_t seed, int64_t g, F&& f) const {
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

}  // namespace usersync::io::gen_internal
