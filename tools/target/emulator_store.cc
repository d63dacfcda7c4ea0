#include "tools/target/emulator_store.h"

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
#include "tools/target/emulator_store_db.h"
#include "tools/target/emulator_store_internal.h"

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

bool SameAttributes(const EmulatorUser& a, const EmulatorUser& b) {
  return a.user_name == b.user_name && a.external_id == b.external_id && a.email == b.email &&
         a.first_name == b.first_name && a.last_name == b.last_name &&
         a.display_name == b.display_name && a.language == b.language && a.products == b.products &&
         a.roles == b.roles && a.active == b.active && a.attributes == b.attributes &&
         a.rule_settings == b.rule_settings;
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

using store_internal::CheckVersion;
using store_internal::Lower;
using store_internal::NowMs;
using store_internal::PageOf;

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
  USERSYNC_RETURN_IF_ERROR(db_->ForEachUser([&](EmulatorUser user) -> absl::Status {
    mu_.AssertHeld();  // Load's caller holds it; tells the lock analysis inside the lambda
    if (users_.contains(user.id) || users_by_name_.contains(Lower(user.user_name))) {
      return absl::DataLossError(absl::StrCat("duplicate user ", user.id));
    }
    max_seq = std::max(max_seq, user.seq);
    InsertUserInMemory(std::make_shared<const EmulatorUser>(std::move(user)));
    return absl::OkStatus();
  }));
  USERSYNC_RETURN_IF_ERROR(db_->ForEachGroup([&](EmulatorGroup group) -> absl::Status {
    mu_.AssertHeld();
    if (IdTaken(group.id) || groups_by_name_.contains(Lower(group.display_name))) {
      return absl::DataLossError(absl::StrCat("duplicate group ", group.id));
    }
    max_seq = std::max(max_seq, group.seq);
    InsertGroupInMemory(std::make_shared<const EmulatorGroup>(std::move(group)));
    return absl::OkStatus();
  }));
  USERSYNC_RETURN_IF_ERROR(
      db_->ForEachMember([&](const std::string& group_id, const std::string& user_id) {
        mu_.AssertHeld();
        auto group = groups_.find(group_id);
        auto user = users_.find(user_id);
        if (group == groups_.end() || user == users_.end()) {
          return absl::DataLossError("a membership names an unknown user or group");
        }
        AddMemberInMemory(group->second.get(), user->second.get());
        return absl::OkStatus();
      }));
  USERSYNC_ASSIGN_OR_RETURN(int64_t stored_next_seq, db_->NextSeq());
  next_seq_ = std::max(max_seq + 1, stored_next_seq);
  return absl::OkStatus();
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

absl::Status CheckRuleSettings(const RuleSettings& settings) {
  auto check_value = [](std::string_view name, std::string_view value) {
    if (value.size() <= kMaxRuleSettingBytes) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(name), ": a value longer than ", kMaxRuleSettingBytes, " bytes"));
  };
  for (const auto& [name, list] : settings.Lists()) {
    if (list->size() > kMaxRuleSettingValues) {
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(name), ": more than ", kMaxRuleSettingValues, " values"));
    }
    for (const std::string& value : *list) USERSYNC_RETURN_IF_ERROR(check_value(name, value));
  }
  USERSYNC_RETURN_IF_ERROR(check_value("settingsTemplate", settings.settings_template));
  return check_value("welcomeTemplate", settings.welcome_template);
}

absl::Status EmulatorStore::CheckNewUser(const EmulatorUser& user) const {
  if (user.user_name.empty()) return absl::InvalidArgumentError("userName is required");
  USERSYNC_RETURN_IF_ERROR(CheckRuleSettings(user.rule_settings));
  auto holder = users_by_name_.find(Lower(user.user_name));
  if (holder != users_by_name_.end() && !allow_duplicate_user_names_)
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

void EmulatorStore::SetAllowDuplicateUserNames(bool allow) {
  absl::MutexLock lock(&mu_);
  allow_duplicate_user_names_ = allow;
}

void EmulatorStore::UnindexUserName(const std::string& key, UserEntry* entry) {
  auto holder = users_by_name_.find(key);
  if (holder == users_by_name_.end() || holder->second != entry) return;
  users_by_name_.erase(holder);
  if (!allow_duplicate_user_names_) return;
  user_order_.ForRange(0, user_order_.size(), [&](UserEntry* other) {
    mu_.AssertHeld();
    if (other != entry && Lower(other->user->user_name) == key)
      users_by_name_.try_emplace(key, other);
  });
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
    absl::Status status = db_->InTransaction([&](Db& db) {
      for (const EmulatorUser& user : users) USERSYNC_RETURN_IF_ERROR(db.PutUser(user));
      return absl::OkStatus();
    });
    if (!status.ok()) {
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
    absl::Status status = db_->InTransaction([&](Db& db) {
      for (size_t index = 0; index < users.size(); ++index) {
        if (errors[index].ok()) USERSYNC_RETURN_IF_ERROR(db.PutUser(users[index]));
      }
      return absl::OkStatus();
    });
    if (!status.ok()) {
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
  USERSYNC_RETURN_IF_ERROR(CheckVersion("user", id, old_user.version, expected_version));
  EmulatorUser user = old_user;
  USERSYNC_RETURN_IF_ERROR(mutate(user));
  user.id = old_user.id;
  user.seq = old_user.seq;
  user.version = old_user.version;
  user.created_ms = old_user.created_ms;
  user.last_modified_ms = old_user.last_modified_ms;
  if (user.user_name.empty()) return absl::InvalidArgumentError("userName is required");
  USERSYNC_RETURN_IF_ERROR(CheckRuleSettings(user.rule_settings));
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
    UnindexUserName(old_key, entry);
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
  USERSYNC_RETURN_IF_ERROR(CheckVersion("user", id, user.version, expected_version));
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
    absl::Status written = db_->InTransaction([&](Db& db) {
      USERSYNC_RETURN_IF_ERROR(db.DeleteUser(user.id));
      // The deleted user may hold the largest seq: record the counter so ids are not reused.
      mu_.AssertHeld();
      USERSYNC_RETURN_IF_ERROR(db.PutNextSeq(next_seq_));
      for (const GroupPtr& group : changed_groups) USERSYNC_RETURN_IF_ERROR(db.PutGroup(*group));
      return absl::OkStatus();
    });
    if (!written.ok()) return written;
  }
  std::vector<GroupEntry*> groups = entry->groups;
  for (size_t index = 0; index < groups.size(); ++index) {
    RemoveMemberInMemory(groups[index], entry);
    groups[index]->group = std::move(changed_groups[index]);
  }
  UnindexUserName(Lower(user.user_name), entry);
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
  absl::ReaderMutexLock lock(&mu_);
  std::vector<const UserEntry*> matches;
  switch (key) {
    case UserKey::kId: {
      auto it = users_.find(Sv(value));
      if (it != users_.end()) matches.push_back(it->second.get());
      break;
    }
    case UserKey::kUserName: {
      const std::string name = Lower(value);
      if (allow_duplicate_user_names_) {
        user_order_.ForRange(0, user_order_.size(), [&](const UserEntry* entry) {
          mu_.AssertReaderHeld();
          if (Lower(entry->user->user_name) == name) matches.push_back(entry);
        });
        break;
      }
      auto it = users_by_name_.find(name);
      if (it != users_by_name_.end()) matches.push_back(it->second);
      break;
    }
    case UserKey::kExternalId: {
      auto it = users_by_external_id_.find(Sv(value));
      if (it != users_by_external_id_.end()) matches.assign(it->second.begin(), it->second.end());
      break;
    }
  }
  return PageOf<UserView>(matches, start, count, [&](const UserEntry& entry) {
    mu_.AssertReaderHeld();
    return ViewOf(entry);
  });
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
