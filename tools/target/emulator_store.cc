#include "tools/target/emulator_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "tools/target/emulator_json.h"

namespace usersync::io::emulator {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// UUID-v4-shaped and unique: the last 12 hex digits are the counter, the rest a hash of it.
std::string FormatId(int64_t seq) {
  uint64_t h = SplitMix64(static_cast<uint64_t>(seq));
  uint64_t h2 = SplitMix64(h);
  return absl::StrFormat("%08x-%04x-4%03x-8%03x-%012x", h >> 32, (h >> 16) & 0xffff,
                         (h >> 4) & 0xfff, h2 & 0xfff,
                         static_cast<uint64_t>(seq) & 0xffffffffffffULL);
}

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(Sv(s)); }

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

bool SameAttributes(const EmulatorUser& a, const EmulatorUser& b) {
  return a.user_name == b.user_name && a.external_id == b.external_id && a.email == b.email &&
         a.first_name == b.first_name && a.last_name == b.last_name &&
         a.display_name == b.display_name && a.language == b.language && a.products == b.products &&
         a.roles == b.roles && a.active == b.active;
}

std::string EncodeList(const std::vector<std::string>& values) {
  JsonWriter writer;
  writer.BeginArray();
  for (const std::string& value : values) writer.String(value);
  writer.EndArray();
  return writer.Release();
}

absl::StatusOr<std::vector<std::string>> DecodeList(std::string_view text) {
  std::vector<std::string> values;
  if (text == "[]" || text.empty()) return values;
  absl::StatusOr<JsonValue> json = ParseJson(text);
  if (!json.ok() || !json->is_array())
    return absl::DataLossError("a list column is not a JSON array");
  for (JsonValue& item : json->items) {
    if (!item.is_string()) return absl::DataLossError("a list column holds a non-string");
    values.push_back(std::move(item.string));
  }
  return values;
}

constexpr char kNoSeatPayload[] = "usersync/emulator/noSeat";
constexpr char kConflictingUserPayload[] = "usersync/emulator/conflictingUser";

bool Holds(const EmulatorUser& user, std::string_view product) {
  return std::find(user.products.begin(), user.products.end(), product) != user.products.end();
}

// The products of `user`, each once (lists are short: O(k^2) is fine). Plain loops over the
// result, not callbacks, keep the lock analysis able to see the caller's lock.
std::vector<std::string_view> DistinctProducts(const EmulatorUser& user) {
  std::vector<std::string_view> products;
  for (const std::string& product : user.products) {
    if (std::find(products.begin(), products.end(), product) == products.end()) {
      products.push_back(product);
    }
  }
  return products;
}

absl::Status UserNameTaken(std::string_view user_name, std::string_view holder_id) {
  absl::Status status =
      absl::AlreadyExistsError(absl::StrCat("userName ", Sv(user_name), " is taken"));
  status.SetPayload(kConflictingUserPayload, absl::Cord(Sv(holder_id)));
  return status;
}

}  // namespace

absl::Status NoSeatError(std::string_view product, int64_t seats, int64_t used) {
  absl::Status status = absl::ResourceExhaustedError(absl::StrCat(
      "no free seat for product ", Sv(product), " (", used, " of ", seats, " in use)"));
  status.SetPayload(kNoSeatPayload, absl::Cord(Sv(product)));
  return status;
}

std::string NoSeatProduct(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kNoSeatPayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

std::string ConflictingUserId(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kConflictingUserPayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

// ---- SQLite write-through ----

class EmulatorStore::Db {
 public:
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path) {
    auto db = std::unique_ptr<Db>(new Db());
    int rc =
        sqlite3_open_v2(path.c_str(), &db->db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      return absl::InternalError(
          absl::StrCat("emulator db ", path,
                       ": cannot open: ", db->db_ ? sqlite3_errmsg(db->db_) : sqlite3_errstr(rc)));
    }
    sqlite3_busy_timeout(db->db_, 5000);
    absl::Status status = db->Exec(
        // One process owns the database: exclusive locking saves the per-transaction file
        // locks and shared-memory index of WAL, and keeps a second server off the file.
        "PRAGMA locking_mode=EXCLUSIVE;"
        "PRAGMA journal_mode=WAL;"
        // An emulator's store must survive its process, not a power cut: no fsync.
        "PRAGMA synchronous=OFF;"
        "CREATE TABLE IF NOT EXISTS users(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
        " user_name TEXT NOT NULL, external_id TEXT NOT NULL, email TEXT NOT NULL,"
        " first_name TEXT NOT NULL, last_name TEXT NOT NULL, display_name TEXT NOT NULL,"
        " language TEXT NOT NULL, products TEXT NOT NULL, roles TEXT NOT NULL,"
        " active INTEGER NOT NULL, version INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
        " last_modified_ms INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS groups(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
        " display_name TEXT NOT NULL, external_id TEXT NOT NULL, version INTEGER NOT NULL,"
        " created_ms INTEGER NOT NULL, last_modified_ms INTEGER NOT NULL);"
        // rowid order = the order memberships were made (the order they load in).
        "CREATE TABLE IF NOT EXISTS members(group_id TEXT NOT NULL, user_id TEXT NOT NULL,"
        " UNIQUE(group_id, user_id));"
        "CREATE INDEX IF NOT EXISTS members_by_user ON members(user_id);"
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);");
    if (!status.ok()) return Annotate(status, path);
    return db;
  }

  ~Db() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    if (db_ != nullptr) sqlite3_close(db_);
  }

  absl::Status Exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      return absl::InternalError(absl::StrCat("emulator db: ", text));
    }
    return absl::OkStatus();
  }

  absl::Status Begin() { return Exec("BEGIN IMMEDIATE"); }
  absl::Status Commit() { return Exec("COMMIT"); }
  void Rollback() {
    // The transaction may already be gone (SQLite rolls back on some errors by itself).
    if (!sqlite3_get_autocommit(db_)) Exec("ROLLBACK").IgnoreError();
  }

  absl::Status PutUser(const EmulatorUser& user) {
    sqlite3_stmt* stmt = Prepare(
        "INSERT OR REPLACE INTO users(seq, id, user_name, external_id, email, first_name,"
        " last_name, display_name, language, products, roles, active, version, created_ms,"
        " last_modified_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (stmt == nullptr) return Error("prepare");
    std::string products = EncodeList(user.products);
    std::string roles = EncodeList(user.roles);
    sqlite3_bind_int64(stmt, 1, user.seq);
    BindText(stmt, 2, user.id);
    BindText(stmt, 3, user.user_name);
    BindText(stmt, 4, user.external_id);
    BindText(stmt, 5, user.email);
    BindText(stmt, 6, user.first_name);
    BindText(stmt, 7, user.last_name);
    BindText(stmt, 8, user.display_name);
    BindText(stmt, 9, user.language);
    BindText(stmt, 10, products);
    BindText(stmt, 11, roles);
    sqlite3_bind_int(stmt, 12, user.active ? 1 : 0);
    sqlite3_bind_int64(stmt, 13, user.version);
    sqlite3_bind_int64(stmt, 14, user.created_ms);
    sqlite3_bind_int64(stmt, 15, user.last_modified_ms);
    return Step(stmt, "write user");
  }

  absl::Status DeleteUser(std::string_view id) {
    sqlite3_stmt* stmt = Prepare("DELETE FROM members WHERE user_id = ?");
    if (stmt == nullptr) return Error("prepare");
    BindText(stmt, 1, id);
    USERSYNC_RETURN_IF_ERROR(Step(stmt, "delete memberships"));
    stmt = Prepare("DELETE FROM users WHERE id = ?");
    if (stmt == nullptr) return Error("prepare");
    BindText(stmt, 1, id);
    return Step(stmt, "delete user");
  }

  absl::Status PutGroup(const EmulatorGroup& group) {
    sqlite3_stmt* stmt = Prepare(
        "INSERT OR REPLACE INTO groups(seq, id, display_name, external_id, version, created_ms,"
        " last_modified_ms) VALUES(?,?,?,?,?,?,?)");
    if (stmt == nullptr) return Error("prepare");
    sqlite3_bind_int64(stmt, 1, group.seq);
    BindText(stmt, 2, group.id);
    BindText(stmt, 3, group.display_name);
    BindText(stmt, 4, group.external_id);
    sqlite3_bind_int64(stmt, 5, group.version);
    sqlite3_bind_int64(stmt, 6, group.created_ms);
    sqlite3_bind_int64(stmt, 7, group.last_modified_ms);
    return Step(stmt, "write group");
  }

  absl::Status DeleteGroup(std::string_view id) {
    USERSYNC_RETURN_IF_ERROR(RemoveAllMembers(id));
    sqlite3_stmt* stmt = Prepare("DELETE FROM groups WHERE id = ?");
    if (stmt == nullptr) return Error("prepare");
    BindText(stmt, 1, id);
    return Step(stmt, "delete group");
  }

  absl::Status AddMember(std::string_view group_id, std::string_view user_id) {
    sqlite3_stmt* stmt = Prepare("INSERT OR REPLACE INTO members(group_id, user_id) VALUES(?,?)");
    if (stmt == nullptr) return Error("prepare");
    BindText(stmt, 1, group_id);
    BindText(stmt, 2, user_id);
    return Step(stmt, "add member");
  }

  absl::Status RemoveMember(std::string_view group_id, std::string_view user_id) {
    sqlite3_stmt* stmt = Prepare("DELETE FROM members WHERE group_id = ? AND user_id = ?");
    if (stmt == nullptr) return Error("prepare");
    BindText(stmt, 1, group_id);
    BindText(stmt, 2, user_id);
    return Step(stmt, "remove member");
  }

  absl::Status RemoveAllMembers(std::string_view group_id) {
    sqlite3_stmt* stmt = Prepare("DELETE FROM members WHERE group_id = ?");
    if (stmt == nullptr) return Error("prepare");
    BindText(stmt, 1, group_id);
    return Step(stmt, "remove members");
  }

  absl::Status PutNextSeq(int64_t next_seq) {
    sqlite3_stmt* stmt = Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('next_seq', ?)");
    if (stmt == nullptr) return Error("prepare");
    sqlite3_bind_int64(stmt, 1, next_seq);
    return Step(stmt, "write counter");
  }

  // Calls `row(stmt)` for each row of `sql`; stops at the first error.
  template <typename RowFn>
  absl::Status Query(const char* sql, RowFn&& row) {
    sqlite3_stmt* stmt = Prepare(sql);
    if (stmt == nullptr) return Error("prepare");
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        absl::Status status = Error("read");
        sqlite3_reset(stmt);
        return status;
      }
      absl::Status status = row(stmt);
      if (!status.ok()) {
        sqlite3_reset(stmt);
        return status;
      }
    }
    sqlite3_reset(stmt);
    return absl::OkStatus();
  }

  static std::string Text(sqlite3_stmt* stmt, int column) {
    const unsigned char* text = sqlite3_column_text(stmt, column);
    if (text == nullptr) return std::string();
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
  }

 private:
  Db() = default;

  static absl::Status Annotate(const absl::Status& status, const std::string& path) {
    return absl::Status(status.code(), absl::StrCat(status.message(), " (", path, ")"));
  }

  absl::Status Error(std::string_view operation) {
    return absl::InternalError(
        absl::StrCat("emulator db: ", Sv(operation), ": ", sqlite3_errmsg(db_)));
  }

  sqlite3_stmt* Prepare(const char* sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return nullptr;
    }
    statements_.emplace(sql, stmt);
    return stmt;
  }

  static void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
    sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }

  absl::Status Step(sqlite3_stmt* stmt, std::string_view operation) {
    int rc = sqlite3_step(stmt);
    absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : Error(operation);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return status;
  }

  sqlite3* db_ = nullptr;
  // Keyed by the SQL text's address: every statement is a string literal.
  absl::flat_hash_map<const char*, sqlite3_stmt*> statements_;
};

// ---- Store ----

EmulatorStore::EmulatorStore() = default;
EmulatorStore::~EmulatorStore() = default;

absl::StatusOr<std::unique_ptr<EmulatorStore>> EmulatorStore::Open(const std::string& db_path) {
  auto store = std::unique_ptr<EmulatorStore>(new EmulatorStore());
  if (db_path.empty()) return store;
  absl::MutexLock lock(&store->mu_);
  absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(db_path);
  if (!db.ok()) return db.status();
  store->db_ = *std::move(db);
  absl::Status status = store->Load();
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(status.message(), " (", db_path, ")"));
  }
  return store;
}

absl::Status EmulatorStore::Load() {
  int64_t max_seq = 0;
  USERSYNC_RETURN_IF_ERROR(db_->Query(
      "SELECT seq, id, user_name, external_id, email, first_name, last_name, display_name,"
      " language, products, roles, active, version, created_ms, last_modified_ms FROM users"
      " ORDER BY seq",
      [&](sqlite3_stmt* stmt) -> absl::Status {
        mu_.AssertHeld();  // Load's caller holds it; tells the lock analysis inside the lambda
        auto user = std::make_shared<EmulatorUser>();
        user->seq = sqlite3_column_int64(stmt, 0);
        user->id = Db::Text(stmt, 1);
        user->user_name = Db::Text(stmt, 2);
        user->external_id = Db::Text(stmt, 3);
        user->email = Db::Text(stmt, 4);
        user->first_name = Db::Text(stmt, 5);
        user->last_name = Db::Text(stmt, 6);
        user->display_name = Db::Text(stmt, 7);
        user->language = Db::Text(stmt, 8);
        absl::StatusOr<std::vector<std::string>> products = DecodeList(Db::Text(stmt, 9));
        absl::StatusOr<std::vector<std::string>> roles = DecodeList(Db::Text(stmt, 10));
        if (!products.ok()) return products.status();
        if (!roles.ok()) return roles.status();
        user->products = *std::move(products);
        user->roles = *std::move(roles);
        user->active = sqlite3_column_int(stmt, 11) != 0;
        user->version = sqlite3_column_int64(stmt, 12);
        user->created_ms = sqlite3_column_int64(stmt, 13);
        user->last_modified_ms = sqlite3_column_int64(stmt, 14);
        if (users_.contains(user->id) || users_by_name_.contains(Lower(user->user_name))) {
          return absl::DataLossError(absl::StrCat("duplicate user ", user->id));
        }
        max_seq = std::max(max_seq, user->seq);
        InsertUserInMemory(std::move(user));
        return absl::OkStatus();
      }));
  USERSYNC_RETURN_IF_ERROR(
      db_->Query("SELECT seq, id, display_name, external_id, version, created_ms, last_modified_ms"
                 " FROM groups ORDER BY seq",
                 [&](sqlite3_stmt* stmt) -> absl::Status {
                   mu_.AssertHeld();
                   auto group = std::make_shared<EmulatorGroup>();
                   group->seq = sqlite3_column_int64(stmt, 0);
                   group->id = Db::Text(stmt, 1);
                   group->display_name = Db::Text(stmt, 2);
                   group->external_id = Db::Text(stmt, 3);
                   group->version = sqlite3_column_int64(stmt, 4);
                   group->created_ms = sqlite3_column_int64(stmt, 5);
                   group->last_modified_ms = sqlite3_column_int64(stmt, 6);
                   if (IdTaken(group->id) || groups_by_name_.contains(Lower(group->display_name))) {
                     return absl::DataLossError(absl::StrCat("duplicate group ", group->id));
                   }
                   max_seq = std::max(max_seq, group->seq);
                   InsertGroupInMemory(std::move(group));
                   return absl::OkStatus();
                 }));
  USERSYNC_RETURN_IF_ERROR(
      db_->Query("SELECT group_id, user_id FROM members ORDER BY rowid", [&](sqlite3_stmt* stmt) {
        mu_.AssertHeld();
        auto group = groups_.find(Db::Text(stmt, 0));
        auto user = users_.find(Db::Text(stmt, 1));
        if (group == groups_.end() || user == users_.end()) {
          return absl::DataLossError("a membership names an unknown user or group");
        }
        AddMemberInMemory(group->second.get(), user->second.get());
        return absl::OkStatus();
      }));
  next_seq_ = max_seq + 1;
  return db_->Query("SELECT value FROM meta WHERE key = 'next_seq'", [&](sqlite3_stmt* stmt) {
    mu_.AssertHeld();
    next_seq_ = std::max<int64_t>(next_seq_, sqlite3_column_int64(stmt, 0));
    return absl::OkStatus();
  });
}

std::string EmulatorStore::NextId(int64_t* seq) {
  *seq = next_seq_++;
  std::string id = FormatId(*seq);
  while (IdTaken(id)) id = FormatId(next_seq_++);
  return id;
}

bool EmulatorStore::IdTaken(std::string_view id) const {
  return users_.contains(Sv(id)) || groups_.contains(Sv(id));
}

absl::Status EmulatorStore::CheckNewUser(const EmulatorUser& user) const {
  if (user.user_name.empty()) return absl::InvalidArgumentError("userName is required");
  auto holder = users_by_name_.find(Lower(user.user_name));
  if (holder != users_by_name_.end())
    return UserNameTaken(user.user_name, holder->second->user->id);
  if (!user.id.empty() && IdTaken(user.id)) {
    return absl::AlreadyExistsError(absl::StrCat("id ", user.id, " is taken"));
  }
  return absl::OkStatus();
}

absl::Status EmulatorStore::CheckSeats(
    const EmulatorUser* old_user, const EmulatorUser& user,
    const absl::flat_hash_map<std::string, int64_t>* pending) const {
  if (!user.active || seat_limits_.empty()) return absl::OkStatus();
  for (std::string_view product : DistinctProducts(user)) {
    auto limit = seat_limits_.find(Sv(product));
    if (limit == seat_limits_.end()) continue;
    if (old_user != nullptr && old_user->active && Holds(*old_user, product)) continue;
    int64_t used = 0;
    if (auto it = seats_used_.find(Sv(product)); it != seats_used_.end()) used += it->second;
    if (pending != nullptr) {
      if (auto it = pending->find(Sv(product)); it != pending->end()) used += it->second;
    }
    if (used >= limit->second) return NoSeatError(product, limit->second, used);
  }
  return absl::OkStatus();
}

void EmulatorStore::CountSeats(const EmulatorUser& user, int64_t delta) {
  if (!user.active) return;
  for (std::string_view product : DistinctProducts(user)) {
    auto [it, inserted] = seats_used_.try_emplace(Sv(product), 0);
    it->second += delta;
    if (it->second <= 0) seats_used_.erase(it);
  }
}

void EmulatorStore::SetSeatLimits(const std::map<std::string, int64_t>& seats) {
  absl::MutexLock lock(&mu_);
  seat_limits_.clear();
  for (const auto& [product, count] : seats) seat_limits_[product] = count;
}

std::vector<SeatUsage> EmulatorStore::SeatUsages(
    const std::vector<std::string>& always_listed) const {
  absl::ReaderMutexLock lock(&mu_);
  std::map<std::string, SeatUsage> by_product;
  auto entry = [&](const std::string& product) -> SeatUsage& {
    SeatUsage& usage = by_product[product];
    usage.product = product;
    return usage;
  };
  for (const std::string& product : always_listed) entry(product);
  for (const auto& [product, count] : seat_limits_) entry(product).seats = count;
  for (const auto& [product, used] : seats_used_) entry(product).used = used;
  std::vector<SeatUsage> usages;
  usages.reserve(by_product.size());
  for (auto& [product, usage] : by_product) usages.push_back(std::move(usage));
  return usages;
}

void EmulatorStore::StampNewUser(EmulatorUser* user, int64_t now_ms) {
  user->seq = next_seq_++;
  if (user->id.empty()) user->id = FormatId(user->seq);
  while (IdTaken(user->id)) user->id = FormatId(next_seq_++);
  user->version = 1;
  user->created_ms = now_ms;
  user->last_modified_ms = now_ms;
}

EmulatorStore::UserEntry* EmulatorStore::InsertUserInMemory(UserPtr user) {
  auto entry = std::make_unique<UserEntry>();
  UserEntry* raw = entry.get();
  users_by_name_.emplace(Lower(user->user_name), raw);
  if (!user->external_id.empty()) users_by_external_id_[user->external_id].push_back(raw);
  if (user->active) ++active_users_;
  CountSeats(*user, +1);
  entry->user = std::move(user);
  user_order_.Append(raw);
  users_.emplace(raw->user->id, std::move(entry));
  return raw;
}

EmulatorStore::GroupEntry* EmulatorStore::InsertGroupInMemory(GroupPtr group) {
  auto entry = std::make_unique<GroupEntry>();
  GroupEntry* raw = entry.get();
  groups_by_name_.emplace(Lower(group->display_name), raw);
  entry->group = std::move(group);
  group_order_.Append(raw);
  groups_.emplace(raw->group->id, std::move(entry));
  return raw;
}

void EmulatorStore::AddMemberInMemory(GroupEntry* group, UserEntry* user) {
  if (!group->member_pos.emplace(user, group->members.size()).second) return;
  group->members.push_back(user);
  user->groups.push_back(group);
}

void EmulatorStore::RemoveMemberInMemory(GroupEntry* group, UserEntry* user) {
  auto it = group->member_pos.find(user);
  if (it == group->member_pos.end()) return;
  size_t pos = it->second;
  group->member_pos.erase(it);
  // Swap-remove: O(1); member order is not part of the contract.
  if (pos + 1 != group->members.size()) {
    UserEntry* last = group->members.back();
    group->members[pos] = last;
    group->member_pos[last] = pos;
  }
  group->members.pop_back();
  auto& groups = user->groups;
  groups.erase(std::find(groups.begin(), groups.end(), group));
}

UserView EmulatorStore::ViewOf(const UserEntry& entry) const {
  UserView view;
  view.user = entry.user;
  view.groups.reserve(entry.groups.size());
  for (const GroupEntry* group : entry.groups) view.groups.push_back(group->group);
  return view;
}

GroupView EmulatorStore::ViewOf(const GroupEntry& entry, bool with_members) const {
  GroupView view;
  view.group = entry.group;
  view.member_count = static_cast<int64_t>(entry.members.size());
  if (with_members) {
    view.members.reserve(entry.members.size());
    for (const UserEntry* user : entry.members) view.members.push_back(user->user);
  }
  return view;
}

absl::StatusOr<UserView> EmulatorStore::CreateUser(EmulatorUser user) {
  absl::MutexLock lock(&mu_);
  USERSYNC_RETURN_IF_ERROR(CheckNewUser(user));
  USERSYNC_RETURN_IF_ERROR(CheckSeats(nullptr, user, nullptr));
  int64_t saved_next_seq = next_seq_;
  StampNewUser(&user, NowMs());
  if (db_ != nullptr) {
    // One statement, its own transaction. The counter is not written: at load it restarts
    // past the largest seq stored (deletions record it, see DeleteUser).
    absl::Status status = db_->PutUser(user);
    if (!status.ok()) {
      next_seq_ = saved_next_seq;
      return status;
    }
  }
  UserEntry* entry = InsertUserInMemory(std::make_shared<const EmulatorUser>(std::move(user)));
  return ViewOf(*entry);
}

absl::Status EmulatorStore::CreateUsers(std::vector<EmulatorUser> users, size_t* failed_index) {
  absl::MutexLock lock(&mu_);
  // Check the batch against the store and against itself before writing anything.
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<std::string> ids;
  absl::flat_hash_map<std::string, int64_t> pending_seats;
  names.reserve(users.size());
  for (size_t index = 0; index < users.size(); ++index) {
    const EmulatorUser& user = users[index];
    absl::Status status = CheckNewUser(user);
    if (status.ok() && !names.insert(Lower(user.user_name)).second) {
      status = absl::AlreadyExistsError(absl::StrCat("userName ", user.user_name, " is taken"));
    }
    if (status.ok() && !user.id.empty() && !ids.insert(user.id).second) {
      status = absl::AlreadyExistsError(absl::StrCat("id ", user.id, " is taken"));
    }
    if (status.ok()) status = CheckSeats(nullptr, user, &pending_seats);
    if (!status.ok()) {
      if (failed_index != nullptr) *failed_index = index;
      return status;
    }
    if (user.active) {
      for (std::string_view product : DistinctProducts(user)) ++pending_seats[Sv(product)];
    }
  }
  names.clear();
  users_.reserve(users_.size() + users.size());
  users_by_name_.reserve(users_by_name_.size() + users.size());
  int64_t saved_next_seq = next_seq_;
  int64_t now_ms = NowMs();
  // Creation order is the batch's order; an assigned id must not collide with an id given
  // later in the batch either.
  for (EmulatorUser& user : users) {
    bool assigned = user.id.empty();
    StampNewUser(&user, now_ms);
    if (!assigned) continue;
    while (ids.contains(user.id)) user.id = FormatId(next_seq_++);
    ids.insert(user.id);
  }
  if (db_ != nullptr) {
    absl::Status status = db_->Begin();
    for (size_t index = 0; status.ok() && index < users.size(); ++index) {
      status = db_->PutUser(users[index]);
    }
    if (status.ok()) status = db_->Commit();
    if (!status.ok()) {
      db_->Rollback();
      next_seq_ = saved_next_seq;
      return status;
    }
  }
  for (EmulatorUser& user : users) {
    InsertUserInMemory(std::make_shared<const EmulatorUser>(std::move(user)));
  }
  return absl::OkStatus();
}

std::vector<absl::StatusOr<UserView>> EmulatorStore::CreateUsersEach(
    std::vector<EmulatorUser> users) {
  absl::MutexLock lock(&mu_);
  std::vector<absl::Status> errors(users.size());
  // Users of this batch accepted so far: lower-cased name → index, and their seats.
  absl::flat_hash_map<std::string, size_t> staged_names;
  absl::flat_hash_set<std::string> staged_ids;
  absl::flat_hash_map<std::string, int64_t> pending_seats;
  int64_t saved_next_seq = next_seq_;
  int64_t now_ms = NowMs();
  for (size_t index = 0; index < users.size(); ++index) {
    EmulatorUser& user = users[index];
    absl::Status status = CheckNewUser(user);
    std::string key = Lower(user.user_name);
    if (status.ok()) {
      auto earlier = staged_names.find(key);
      if (earlier != staged_names.end()) {
        status = UserNameTaken(user.user_name, users[earlier->second].id);
      } else if (!user.id.empty() && staged_ids.contains(user.id)) {
        status = absl::AlreadyExistsError(absl::StrCat("id ", user.id, " is taken"));
      }
    }
    if (status.ok()) status = CheckSeats(nullptr, user, &pending_seats);
    if (!status.ok()) {
      errors[index] = std::move(status);
      continue;
    }
    bool assigned = user.id.empty();
    StampNewUser(&user, now_ms);
    if (assigned) {
      while (staged_ids.contains(user.id)) user.id = FormatId(next_seq_++);
    }
    staged_ids.insert(user.id);
    staged_names.emplace(std::move(key), index);
    if (user.active) {
      for (std::string_view product : DistinctProducts(user)) ++pending_seats[Sv(product)];
    }
  }
  if (db_ != nullptr && !staged_names.empty()) {
    absl::Status status = db_->Begin();
    for (size_t index = 0; status.ok() && index < users.size(); ++index) {
      if (errors[index].ok()) status = db_->PutUser(users[index]);
    }
    if (status.ok()) status = db_->Commit();
    if (!status.ok()) {
      db_->Rollback();
      next_seq_ = saved_next_seq;
      return std::vector<absl::StatusOr<UserView>>(users.size(), status);
    }
  }
  std::vector<absl::StatusOr<UserView>> results;
  results.reserve(users.size());
  for (size_t index = 0; index < users.size(); ++index) {
    if (!errors[index].ok()) {
      results.emplace_back(std::move(errors[index]));
      continue;
    }
    UserEntry* entry =
        InsertUserInMemory(std::make_shared<const EmulatorUser>(std::move(users[index])));
    results.emplace_back(ViewOf(*entry));
  }
  return results;
}

absl::StatusOr<UserView> EmulatorStore::GetUser(std::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = users_.find(Sv(id));
  if (it == users_.end()) return absl::NotFoundError(absl::StrCat("user ", Sv(id), " not found"));
  return ViewOf(*it->second);
}

absl::StatusOr<UserView> EmulatorStore::UpdateUser(std::string_view id, int64_t expected_version,
                                                   UserMutation mutate) {
  absl::MutexLock lock(&mu_);
  auto it = users_.find(Sv(id));
  if (it == users_.end()) return absl::NotFoundError(absl::StrCat("user ", Sv(id), " not found"));
  UserEntry* entry = it->second.get();
  const EmulatorUser& old_user = *entry->user;
  if (expected_version != 0 && expected_version != old_user.version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "user ", Sv(id), " is at version ", old_user.version, ", not ", expected_version));
  }
  EmulatorUser user = old_user;
  USERSYNC_RETURN_IF_ERROR(mutate(user));
  user.id = old_user.id;
  user.seq = old_user.seq;
  user.version = old_user.version;
  user.created_ms = old_user.created_ms;
  user.last_modified_ms = old_user.last_modified_ms;
  if (user.user_name.empty()) return absl::InvalidArgumentError("userName is required");
  if (SameAttributes(user, old_user)) return ViewOf(*entry);
  std::string new_key = Lower(user.user_name);
  std::string old_key = Lower(old_user.user_name);
  if (new_key != old_key) {
    auto holder = users_by_name_.find(new_key);
    if (holder != users_by_name_.end()) {
      return UserNameTaken(user.user_name, holder->second->user->id);
    }
  }
  USERSYNC_RETURN_IF_ERROR(CheckSeats(&old_user, user, nullptr));
  user.version = old_user.version + 1;
  user.last_modified_ms = std::max(NowMs(), old_user.last_modified_ms);
  if (db_ != nullptr) USERSYNC_RETURN_IF_ERROR(db_->PutUser(user));

  if (new_key != old_key) {
    users_by_name_.erase(old_key);
    users_by_name_.emplace(std::move(new_key), entry);
  }
  if (user.external_id != old_user.external_id) {
    if (!old_user.external_id.empty()) {
      auto& list = users_by_external_id_[old_user.external_id];
      list.erase(std::find(list.begin(), list.end(), entry));
      if (list.empty()) users_by_external_id_.erase(old_user.external_id);
    }
    if (!user.external_id.empty()) {
      // Keep each list in creation order.
      auto& list = users_by_external_id_[user.external_id];
      list.insert(std::upper_bound(
                      list.begin(), list.end(), user.seq,
                      [](int64_t seq, const UserEntry* other) { return seq < other->user->seq; }),
                  entry);
    }
  }
  active_users_ += (user.active ? 1 : 0) - (old_user.active ? 1 : 0);
  CountSeats(old_user, -1);
  CountSeats(user, +1);
  entry->user = std::make_shared<const EmulatorUser>(std::move(user));
  return ViewOf(*entry);
}

absl::Status EmulatorStore::DeleteUser(std::string_view id, int64_t expected_version) {
  absl::MutexLock lock(&mu_);
  auto it = users_.find(Sv(id));
  if (it == users_.end()) return absl::NotFoundError(absl::StrCat("user ", Sv(id), " not found"));
  UserEntry* entry = it->second.get();
  const EmulatorUser& user = *entry->user;
  if (expected_version != 0 && expected_version != user.version) {
    return absl::FailedPreconditionError(
        absl::StrCat("user ", Sv(id), " is at version ", user.version, ", not ", expected_version));
  }
  // The groups it leaves change: new versions.
  int64_t now_ms = NowMs();
  std::vector<GroupPtr> changed_groups;
  for (const GroupEntry* group : entry->groups) {
    auto changed = std::make_shared<EmulatorGroup>(*group->group);
    changed->version += 1;
    changed->last_modified_ms = std::max(now_ms, changed->last_modified_ms);
    changed_groups.push_back(std::move(changed));
  }
  if (db_ != nullptr) {
    absl::Status status = db_->Begin();
    if (status.ok()) status = db_->DeleteUser(user.id);
    // The deleted user may hold the largest seq: record the counter so ids are not reused.
    if (status.ok()) status = db_->PutNextSeq(next_seq_);
    for (size_t index = 0; status.ok() && index < changed_groups.size(); ++index) {
      status = db_->PutGroup(*changed_groups[index]);
    }
    if (status.ok()) status = db_->Commit();
    if (!status.ok()) {
      db_->Rollback();
      return status;
    }
  }
  std::vector<GroupEntry*> groups = entry->groups;
  for (size_t index = 0; index < groups.size(); ++index) {
    RemoveMemberInMemory(groups[index], entry);
    groups[index]->group = std::move(changed_groups[index]);
  }
  users_by_name_.erase(Lower(user.user_name));
  if (!user.external_id.empty()) {
    auto& list = users_by_external_id_[user.external_id];
    list.erase(std::find(list.begin(), list.end(), entry));
    if (list.empty()) users_by_external_id_.erase(user.external_id);
  }
  if (user.active) --active_users_;
  CountSeats(user, -1);
  user_order_.Remove(entry);
  users_.erase(it);  // destroys `entry` and `user`
  return absl::OkStatus();
}

StorePage<UserView> EmulatorStore::ListUsers(int64_t start, int64_t count) const {
  StorePage<UserView> page;
  absl::ReaderMutexLock lock(&mu_);
  page.total = static_cast<int64_t>(user_order_.size());
  if (start < 0 || count <= 0) return page;
  page.items.reserve(static_cast<size_t>(std::min<int64_t>(count, page.total)));
  user_order_.ForRange(static_cast<size_t>(start), static_cast<size_t>(count),
                       [&](const UserEntry* entry) {
                         mu_.AssertReaderHeld();
                         page.items.push_back(ViewOf(*entry));
                       });
  return page;
}

StorePage<UserView> EmulatorStore::FindUsers(UserKey key, std::string_view value, int64_t start,
                                             int64_t count) const {
  StorePage<UserView> page;
  absl::ReaderMutexLock lock(&mu_);
  std::vector<const UserEntry*> matches;
  switch (key) {
    case UserKey::kId: {
      auto it = users_.find(Sv(value));
      if (it != users_.end()) matches.push_back(it->second.get());
      break;
    }
    case UserKey::kUserName: {
      auto it = users_by_name_.find(Lower(value));
      if (it != users_by_name_.end()) matches.push_back(it->second);
      break;
    }
    case UserKey::kExternalId: {
      auto it = users_by_external_id_.find(Sv(value));
      if (it != users_by_external_id_.end()) matches.assign(it->second.begin(), it->second.end());
      break;
    }
  }
  page.total = static_cast<int64_t>(matches.size());
  for (int64_t index = std::max<int64_t>(start, 0);
       index < page.total && static_cast<int64_t>(page.items.size()) < count; ++index) {
    page.items.push_back(ViewOf(*matches[static_cast<size_t>(index)]));
  }
  return page;
}

absl::StatusOr<GroupView> EmulatorStore::CreateGroup(EmulatorGroup group,
                                                     const std::vector<std::string>& member_ids) {
  absl::MutexLock lock(&mu_);
  if (group.display_name.empty()) return absl::InvalidArgumentError("displayName is required");
  if (groups_by_name_.contains(Lower(group.display_name))) {
    return absl::AlreadyExistsError(absl::StrCat("displayName ", group.display_name, " is taken"));
  }
  if (!group.id.empty() && IdTaken(group.id)) {
    return absl::AlreadyExistsError(absl::StrCat("id ", group.id, " is taken"));
  }
  std::vector<UserEntry*> members;
  absl::flat_hash_set<UserEntry*> seen;
  for (const std::string& member_id : member_ids) {
    auto it = users_.find(member_id);
    if (it == users_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("member ", member_id, " is not a user"));
    }
    if (seen.insert(it->second.get()).second) members.push_back(it->second.get());
  }
  int64_t saved_next_seq = next_seq_;
  if (group.id.empty()) {
    group.id = NextId(&group.seq);
  } else {
    group.seq = next_seq_++;
  }
  group.version = 1;
  group.created_ms = group.last_modified_ms = NowMs();
  if (db_ != nullptr) {
    absl::Status status = db_->Begin();
    if (status.ok()) status = db_->PutGroup(group);
    for (size_t index = 0; status.ok() && index < members.size(); ++index) {
      status = db_->AddMember(group.id, members[index]->user->id);
    }
    if (status.ok()) status = db_->Commit();
    if (!status.ok()) {
      db_->Rollback();
      next_seq_ = saved_next_seq;
      return status;
    }
  }
  GroupEntry* entry = InsertGroupInMemory(std::make_shared<const EmulatorGroup>(std::move(group)));
  for (UserEntry* member : members) AddMemberInMemory(entry, member);
  return ViewOf(*entry, /*with_members=*/true);
}

absl::StatusOr<GroupView> EmulatorStore::GetGroup(std::string_view id, bool with_members) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = groups_.find(Sv(id));
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("group ", Sv(id), " not found"));
  }
  return ViewOf(*it->second, with_members);
}

absl::StatusOr<GroupView> EmulatorStore::UpdateGroup(std::string_view id, int64_t expected_version,
                                                     const GroupChange& change) {
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(Sv(id));
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("group ", Sv(id), " not found"));
  }
  GroupEntry* entry = it->second.get();
  const EmulatorGroup& old_group = *entry->group;
  if (expected_version != 0 && expected_version != old_group.version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "group ", Sv(id), " is at version ", old_group.version, ", not ", expected_version));
  }
  EmulatorGroup group = old_group;
  if (change.display_name.has_value()) group.display_name = *change.display_name;
  if (change.external_id.has_value()) group.external_id = *change.external_id;
  if (group.display_name.empty()) return absl::InvalidArgumentError("displayName is required");
  std::string new_key = Lower(group.display_name);
  std::string old_key = Lower(old_group.display_name);
  if (new_key != old_key && groups_by_name_.contains(new_key)) {
    return absl::AlreadyExistsError(absl::StrCat("displayName ", group.display_name, " is taken"));
  }

  // Replay the membership operations on an overlay of the current membership, then derive
  // the net additions and removals: nothing is touched until every operation is valid.
  bool cleared = false;
  absl::flat_hash_map<UserEntry*, bool> overlay;  // user → member after the ops so far
  std::vector<UserEntry*> overlay_order;          // first-touch order, for stable additions
  for (const GroupChange::MemberOp& op : change.member_ops) {
    if (op.kind == GroupChange::MemberOp::Kind::kRemoveAll) {
      cleared = true;
      overlay.clear();
      overlay_order.clear();
      continue;
    }
    auto user = users_.find(op.user_id);
    if (user == users_.end()) {
      if (op.kind == GroupChange::MemberOp::Kind::kRemove) continue;
      return absl::InvalidArgumentError(absl::StrCat("member ", op.user_id, " is not a user"));
    }
    auto [slot, inserted] =
        overlay.emplace(user->second.get(), op.kind == GroupChange::MemberOp::Kind::kAdd);
    if (inserted) {
      overlay_order.push_back(user->second.get());
    } else {
      slot->second = op.kind == GroupChange::MemberOp::Kind::kAdd;
    }
  }
  std::vector<UserEntry*> removed;
  std::vector<UserEntry*> added;
  if (cleared) {
    for (UserEntry* member : entry->members) {
      auto found = overlay.find(member);
      if (found == overlay.end() || !found->second) removed.push_back(member);
    }
  }
  for (UserEntry* user : overlay_order) {
    bool is_member = entry->member_pos.contains(user);
    bool wanted = overlay[user];
    if (wanted && !is_member) added.push_back(user);
    if (!wanted && is_member && !cleared) removed.push_back(user);
  }
  bool attributes_changed =
      group.display_name != old_group.display_name || group.external_id != old_group.external_id;
  if (!attributes_changed && added.empty() && removed.empty()) return ViewOf(*entry, false);

  group.version = old_group.version + 1;
  group.last_modified_ms = std::max(NowMs(), old_group.last_modified_ms);
  if (db_ != nullptr) {
    absl::Status status = db_->Begin();
    if (status.ok()) status = db_->PutGroup(group);
    if (status.ok() && cleared && removed.size() == entry->members.size()) {
      status = db_->RemoveAllMembers(group.id);
    } else {
      for (size_t index = 0; status.ok() && index < removed.size(); ++index) {
        status = db_->RemoveMember(group.id, removed[index]->user->id);
      }
    }
    for (size_t index = 0; status.ok() && index < added.size(); ++index) {
      status = db_->AddMember(group.id, added[index]->user->id);
    }
    if (status.ok()) status = db_->Commit();
    if (!status.ok()) {
      db_->Rollback();
      return status;
    }
  }
  for (UserEntry* user : removed) RemoveMemberInMemory(entry, user);
  for (UserEntry* user : added) AddMemberInMemory(entry, user);
  if (new_key != old_key) {
    groups_by_name_.erase(old_key);
    groups_by_name_.emplace(std::move(new_key), entry);
  }
  entry->group = std::make_shared<const EmulatorGroup>(std::move(group));
  return ViewOf(*entry, /*with_members=*/false);
}

absl::Status EmulatorStore::DeleteGroup(std::string_view id, int64_t expected_version) {
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(Sv(id));
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("group ", Sv(id), " not found"));
  }
  GroupEntry* entry = it->second.get();
  if (expected_version != 0 && expected_version != entry->group->version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "group ", Sv(id), " is at version ", entry->group->version, ", not ", expected_version));
  }
  if (db_ != nullptr) {
    absl::Status status = db_->Begin();
    if (status.ok()) status = db_->DeleteGroup(entry->group->id);
    if (status.ok()) status = db_->PutNextSeq(next_seq_);
    if (status.ok()) status = db_->Commit();
    if (!status.ok()) {
      db_->Rollback();
      return status;
    }
  }
  std::vector<UserEntry*> members = entry->members;
  for (UserEntry* user : members) RemoveMemberInMemory(entry, user);
  groups_by_name_.erase(Lower(entry->group->display_name));
  group_order_.Remove(entry);
  groups_.erase(it);
  return absl::OkStatus();
}

StorePage<GroupView> EmulatorStore::ListGroups(int64_t start, int64_t count,
                                               bool with_members) const {
  StorePage<GroupView> page;
  absl::ReaderMutexLock lock(&mu_);
  page.total = static_cast<int64_t>(group_order_.size());
  if (start < 0 || count <= 0) return page;
  group_order_.ForRange(static_cast<size_t>(start), static_cast<size_t>(count),
                        [&](const GroupEntry* entry) {
                          mu_.AssertReaderHeld();
                          page.items.push_back(ViewOf(*entry, with_members));
                        });
  return page;
}

StorePage<GroupView> EmulatorStore::FindGroups(GroupKey key, std::string_view value, int64_t start,
                                               int64_t count, bool with_members) const {
  StorePage<GroupView> page;
  absl::ReaderMutexLock lock(&mu_);
  std::vector<const GroupEntry*> matches;
  switch (key) {
    case GroupKey::kId: {
      auto it = groups_.find(Sv(value));
      if (it != groups_.end()) matches.push_back(it->second.get());
      break;
    }
    case GroupKey::kDisplayName: {
      auto it = groups_by_name_.find(Lower(value));
      if (it != groups_by_name_.end()) matches.push_back(it->second);
      break;
    }
    case GroupKey::kExternalId:
      // Groups are few: a scan in creation order is fine.
      group_order_.ForRange(0, group_order_.size(), [&](const GroupEntry* entry) {
        if (entry->group->external_id == value) matches.push_back(entry);
      });
      break;
  }
  page.total = static_cast<int64_t>(matches.size());
  for (int64_t index = std::max<int64_t>(start, 0);
       index < page.total && static_cast<int64_t>(page.items.size()) < count; ++index) {
    page.items.push_back(ViewOf(*matches[static_cast<size_t>(index)], with_members));
  }
  return page;
}

EmulatorStore::Counts EmulatorStore::counts() const {
  absl::ReaderMutexLock lock(&mu_);
  Counts counts;
  counts.users = static_cast<int64_t>(users_.size());
  counts.active_users = active_users_;
  counts.groups = static_cast<int64_t>(groups_.size());
  return counts;
}

}  // namespace usersync::io::emulator
