// EmulatorStore: the target emulator's accounts (users and groups) and seats, shared by its
// faces (SCIM 2.0 and the GoTo admin API shape).
//
// The store is face-neutral: a user has a user name, an email, first/last/display name,
// language, products, roles, an active flag (GoTo: suspended = !active) and group memberships
// (GoTo's one "user group" is a group the user belongs to). Faces translate their wire format
// to and from these records.
//
// Memory: users and groups are immutable records behind std::shared_ptr<const ...>; a change
// installs a new record, so readers copy pointers under a short shared lock and render JSON
// after releasing it. Users are indexed by id, by lower-cased user name (unique,
// case-insensitive) and by external id; groups by id and lower-cased display name (unique).
// Listing is in creation order through CreationOrder, O(log n + page) per page.
//
// Persistence: with a database path, every change is written through to SQLite (WAL,
// synchronous=NORMAL) in its own transaction before it becomes visible in memory, and the
// database is loaded at Open. A change whose write fails changes nothing and returns
// Internal. Without a path the store lives in memory only.
//
// Seats (the GoTo face's licenses, enforced on every face): SetSeatLimits gives some products
// a number of seats. Every active user holding a product uses one of its seats (a product
// listed twice on a user counts once; an inactive, i.e. suspended, user uses none). A create,
// or an update that makes a user newly use a seat of a limited product (adds the product, or
// reactivates a user holding it), fails with NoSeatError when that product has no free seat;
// products without a limit are unlimited. Product names compare exactly ("G2M" != "g2m").
// Loading a database never fails on seats: when --seats is lowered below what a database
// already uses, `used` exceeds `seats` and no seat is given until enough are freed.
//
// Ids: users and groups draw from one counter (persisted), so ids are unique across both and
// never reused after a delete, even across restarts. An id looks like a UUID
// ("1b9d6bcd-bbfd-4b2d-8b5d-00000000002a"); the last 12 hex digits are the counter.
//
// Thread-safety: all methods are thread-safe (one absl::Mutex; reads take it shared).
// Returned views own their records (shared pointers): they stay valid after later changes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tools/target/creation_order.h"

struct sqlite3;

namespace usersync::io::emulator {

// A User Sync rule's settings that neither face has a standard place for: the SCIM face's
// extension (io/scim_extension.h) and the GoTo face's deviceGroups / settingsTemplate /
// welcomeTemplate (emulator_goto.h). Bounded (CheckRuleSettings): at most kMaxRuleSettingValues
// values per list, each value at most kMaxRuleSettingBytes.
struct RuleSettings {
  std::vector<std::string> privileges;  // SCIM extension only: GoTo's are its adminRoles
                                        // (EmulatorUser::roles), kept apart (a face shortcut)
  std::vector<std::string> managed_groups;
  std::vector<std::string> device_groups;
  std::string settings_template;
  std::string welcome_template;  // as given on create (both faces keep what they were sent)

  bool operator==(const RuleSettings&) const = default;

  // The lists with their wire names: "privileges", "managedGroups", "deviceGroups".
  std::array<std::pair<std::string_view, const std::vector<std::string>*>, 3> Lists() const {
    return {{{"privileges", &privileges},
             {"managedGroups", &managed_groups},
             {"deviceGroups", &device_groups}}};
  }
  // The list of that wire name (compared exactly), nullptr for another name.
  std::vector<std::string>* MutableList(std::string_view name) {
    for (const auto& [list_name, list] : Lists()) {
      if (list_name == name) return const_cast<std::vector<std::string>*>(list);
    }
    return nullptr;
  }
};
inline constexpr size_t kMaxRuleSettingValues = 100;
inline constexpr size_t kMaxRuleSettingBytes = 256;

// InvalidArgument naming the attribute when `settings` exceeds the bounds above.
absl::Status CheckRuleSettings(const RuleSettings& settings);

struct EmulatorUser {
  std::string id;         // opaque, unique; the store assigns one when empty on create
  std::string user_name;  // required; unique, compared case-insensitively (SCIM userName)
  std::string external_id;
  std::string email;  // the primary (work) email
  std::string first_name;
  std::string last_name;
  std::string display_name;
  std::string language;
  std::vector<std::string> products;  // e.g. "G2M" (SCIM entitlements)
  std::vector<std::string> roles;     // SCIM roles ("full", "manager"); the GoTo face adds
                                      // its system roles by name ("MANAGE_USERS")
  bool active = true;                 // false: deactivated (GoTo: suspended)
  // The attributes usersync's [[mappings]] write beyond the fields above (SCIM face only):
  // (canonical path of io/scim/scim_attributes.h, value), sorted by path, each path once, no
  // empty value. Bounded by that closed list (15 paths).
  std::vector<std::pair<std::string, std::string>> attributes;
  RuleSettings rule_settings;

  // Maintained by the store; ignored in the input of CreateUser and of an update's mutation.
  int64_t version = 0;     // 1 on create, +1 on every change of the attributes above
  int64_t seq = 0;         // position of the id counter it was created at (creation order)
  int64_t created_ms = 0;  // Unix time, milliseconds
  int64_t last_modified_ms = 0;
};

struct EmulatorGroup {
  std::string id;
  std::string display_name;  // required; unique, compared case-insensitively
  std::string external_id;
  int64_t version = 0;  // 1 on create, +1 on every change (membership included)
  int64_t seq = 0;
  int64_t created_ms = 0;
  int64_t last_modified_ms = 0;
};

using UserPtr = std::shared_ptr<const EmulatorUser>;
using GroupPtr = std::shared_ptr<const EmulatorGroup>;

// A user and the groups it belongs to, one consistent snapshot.
struct UserView {
  UserPtr user;
  std::vector<GroupPtr> groups;  // in the order the memberships were made
};

// A group, its member count and (when asked for) its members.
struct GroupView {
  GroupPtr group;
  int64_t member_count = 0;
  std::vector<UserPtr> members;  // empty unless requested
};

template <typename T>
struct StorePage {
  int64_t total = 0;     // matching items, all pages
  std::vector<T> items;  // this page
};

// A product's seats: `seats` -1 = unlimited; `used` = active users holding it.
struct SeatUsage {
  std::string product;
  int64_t seats = -1;
  int64_t used = 0;
};

// The error a create or update gets when `product` has no free seat: ResourceExhausted,
// "no free seat for product G2W (3 of 3 in use)", with the product as a payload (NoSeatProduct).
absl::Status NoSeatError(std::string_view product, int64_t seats, int64_t used);
// The product of a NoSeatError; "" for any other status.
std::string NoSeatProduct(const absl::Status& status);
// The id of the user holding the user name when `status` is the AlreadyExists of a create or
// rename onto a taken user name; "" for any other status (an id clash included).
std::string ConflictingUserId(const absl::Status& status);

// The user attributes a look-up can key on.
enum class UserKey { kId, kUserName, kExternalId };
enum class GroupKey { kId, kDisplayName, kExternalId };

// A change to a group, applied atomically: attributes, then membership operations in order.
struct GroupChange {
  struct MemberOp {
    enum class Kind { kAdd, kRemove, kRemoveAll };
    Kind kind = Kind::kAdd;
    std::string user_id;  // empty for kRemoveAll
  };
  std::optional<std::string> display_name;  // nullopt: unchanged
  std::optional<std::string> external_id;   // nullopt: unchanged; "" clears
  std::vector<MemberOp> member_ops;
};

class EmulatorStore {
 public:
  // Opens the store; `db_path` empty: memory only. Otherwise opens or creates the SQLite
  // database and loads it. Errors: Internal (cannot open/create), DataLoss (unreadable rows).
  static absl::StatusOr<std::unique_ptr<EmulatorStore>> Open(const std::string& db_path);
  ~EmulatorStore();

  EmulatorStore(const EmulatorStore&) = delete;
  EmulatorStore& operator=(const EmulatorStore&) = delete;

  // ---- Users ----

  // Creates `user` (store-maintained fields are set here). Keeps user.id when given.
  // Errors: InvalidArgument (empty user name), AlreadyExists (user name taken, see
  // ConflictingUserId; or id taken by a user or a group), ResourceExhausted (no seat, see
  // NoSeatError), Internal (database write).
  absl::StatusOr<UserView> CreateUser(EmulatorUser user);

  // Creates all `users` (in this order) in one transaction, or none. Errors as CreateUser
  // (also for two users of the batch sharing a user name or id, or needing more seats than
  // are free together); then `*failed_index`, when given, is the index of the offending user.
  // For seeding: O(batch), one lock hold.
  absl::Status CreateUsers(std::vector<EmulatorUser> users, size_t* failed_index = nullptr);

  // Creates each of `users` on its own, in order, under one lock hold and (with a database)
  // one transaction: a user that cannot be created is skipped with its error (as CreateUser's;
  // a user name taken by an earlier user of the same batch is AlreadyExists naming that
  // user's new id; seats are counted as the batch goes, so with 3 free seats the first 3 users
  // wanting the product get them and the next ones get NoSeatError), the others are created.
  // Returns one result per user, in order. Should the database write fail, nothing is created
  // and every result is that Internal error. O(batch).
  std::vector<absl::StatusOr<UserView>> CreateUsersEach(std::vector<EmulatorUser> users);

  // NotFound if there is no user `id`.
  absl::StatusOr<UserView> GetUser(std::string_view id) const;

  // Applies `mutate` to a copy of user `id` and installs the result (version +1) unless it
  // changed nothing (then the current user is returned as is). `expected_version` != 0: the
  // change is refused with FailedPrecondition unless the user is at that version (If-Match;
  // pass -1 for a tag this store never issued).
  // `mutate` runs under the store's lock: it must be quick and must not call the store; its
  // changes to id/version/seq/timestamps are ignored. Errors: NotFound, FailedPrecondition,
  // the error `mutate` returns (nothing changes), InvalidArgument (empty user name),
  // AlreadyExists (the new user name belongs to another user, see ConflictingUserId),
  // ResourceExhausted (the change needs a seat that is not free, see NoSeatError), Internal
  // (database write).
  using UserMutation = absl::FunctionRef<absl::Status(EmulatorUser&)>;
  absl::StatusOr<UserView> UpdateUser(std::string_view id, int64_t expected_version,
                                      UserMutation mutate);

  // Deletes user `id` and its group memberships (those groups' versions go up).
  // Errors: NotFound, FailedPrecondition (expected_version != 0 and differs), Internal.
  absl::Status DeleteUser(std::string_view id, int64_t expected_version = 0);

  // Users in creation order: `count` from 0-based position `start`. O(log n + count).
  StorePage<UserView> ListUsers(int64_t start, int64_t count) const;

  // Users whose `key` equals `value` (user name: case-insensitively; external id and id:
  // exactly), in creation order, paged like ListUsers. O(matches).
  StorePage<UserView> FindUsers(UserKey key, std::string_view value, int64_t start,
                                int64_t count) const;

  // ---- Groups ----

  // Creates `group` with members `member_ids` (duplicates ignored). Keeps group.id when given.
  // Errors: InvalidArgument (empty display name, or a member id that is not a user),
  // AlreadyExists (display name or id taken), Internal. The view lists the members.
  absl::StatusOr<GroupView> CreateGroup(EmulatorGroup group,
                                        const std::vector<std::string>& member_ids);

  // NotFound if there is no group `id`. `with_members`: fill GroupView::members (O(members)).
  absl::StatusOr<GroupView> GetGroup(std::string_view id, bool with_members) const;

  // Applies `change` atomically (version +1 if anything changed). Adding a member twice or
  // removing a non-member is a no-op. Errors: NotFound, FailedPrecondition (version),
  // InvalidArgument (empty display name, unknown user id), AlreadyExists (display name),
  // Internal. Cost: O(member ops), plus O(members) for kRemoveAll. No member list returned.
  absl::StatusOr<GroupView> UpdateGroup(std::string_view id, int64_t expected_version,
                                        const GroupChange& change);

  // Deletes group `id` (its users stay). Errors: NotFound, FailedPrecondition, Internal.
  absl::Status DeleteGroup(std::string_view id, int64_t expected_version = 0);

  // Groups in creation order, paged like ListUsers.
  StorePage<GroupView> ListGroups(int64_t start, int64_t count, bool with_members) const;
  StorePage<GroupView> FindGroups(GroupKey key, std::string_view value, int64_t start,
                                  int64_t count, bool with_members) const;

  // ---- Seats ----

  // Sets the seat limits (product → seats, >= 0); products not named are unlimited. Replaces
  // earlier limits; users already stored keep their seats even beyond a new limit.
  void SetSeatLimits(const std::map<std::string, int64_t>& seats);

  // ---- Duplicates (a test switch: --allow-duplicate-user-names) ----

  // `allow`: a create (CreateUser) whose user name is already held stores a second user
  // instead of failing AlreadyExists, as a target that does not enforce unique userNames
  // would. A look-up by user name (FindUsers) then returns every holder, in creation order.
  // Batches (CreateUsers, CreateUsersEach) still refuse two users of one batch sharing a name.
  // A database holding duplicates does not load again (Open: DataLoss): a test switch.
  void SetAllowDuplicateUserNames(bool allow);

  // The seats of every product that has a limit, that an active user holds, or that
  // `always_listed` names, sorted by product. O(products).
  std::vector<SeatUsage> SeatUsages(const std::vector<std::string>& always_listed) const;

  // ---- Counts ----
  struct Counts {
    int64_t users = 0;
    int64_t active_users = 0;
    int64_t groups = 0;
  };
  Counts counts() const;

 private:
  struct GroupEntry;
  struct UserEntry {
    UserPtr user;
    size_t order_slot = 0;            // owned by CreationOrder
    std::vector<GroupEntry*> groups;  // memberships, in the order they were made
  };
  struct GroupEntry {
    GroupPtr group;
    size_t order_slot = 0;
    std::vector<UserEntry*> members;
    absl::flat_hash_map<UserEntry*, size_t> member_pos;  // index into `members`
  };
  class Db;

  EmulatorStore();

  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NextId(int64_t* seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IdTaken(std::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status CheckNewUser(const EmulatorUser& user) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // OK unless `user` (replacing `old_user`, null for a create) would newly use a seat of a
  // product that has none free, counting `pending` (product → seats taken by a batch so far,
  // may be null) as used.
  absl::Status CheckSeats(const EmulatorUser* old_user, const EmulatorUser& user,
                          const absl::flat_hash_map<std::string, int64_t>* pending) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Adds `delta` (+1/-1) to the seats used by each distinct product of `user`, if active.
  void CountSeats(const EmulatorUser& user, int64_t delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Prepares `user` (id, seq, version, timestamps) for insertion. REQUIRES: CheckNewUser ok.
  void StampNewUser(EmulatorUser* user, int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  UserEntry* InsertUserInMemory(UserPtr user) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes `entry` out of users_by_name_ under `key`; another holder of the name (duplicates
  // allowed) takes its place. O(users) only then.
  void UnindexUserName(const std::string& key, UserEntry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  GroupEntry* InsertGroupInMemory(GroupPtr group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddMemberInMemory(GroupEntry* group, UserEntry* user) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveMemberInMemory(GroupEntry* group, UserEntry* user) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  UserView ViewOf(const UserEntry& entry) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  GroupView ViewOf(const GroupEntry& entry, bool with_members) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::unique_ptr<Db> db_ ABSL_GUARDED_BY(mu_);  // null: memory only
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t active_users_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int64_t> seat_limits_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> seats_used_ ABSL_GUARDED_BY(mu_);  // > 0 only
  bool allow_duplicate_user_names_ ABSL_GUARDED_BY(mu_) = false;

  absl::flat_hash_map<std::string, std::unique_ptr<UserEntry>> users_ ABSL_GUARDED_BY(mu_);
  // The first holder of each lower-cased name (the only one unless duplicates are allowed).
  absl::flat_hash_map<std::string, UserEntry*> users_by_name_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<UserEntry*>> users_by_external_id_
      ABSL_GUARDED_BY(mu_);
  CreationOrder<UserEntry> user_order_ ABSL_GUARDED_BY(mu_);

  absl::flat_hash_map<std::string, std::unique_ptr<GroupEntry>> groups_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, GroupEntry*> groups_by_name_ ABSL_GUARDED_BY(mu_);
  CreationOrder<GroupEntry> group_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace usersync::io::emulator
