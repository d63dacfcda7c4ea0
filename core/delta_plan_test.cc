// The exactness invariant of delta cycles (issue 15 item 5), pure: rounds of random directory
// changes, each planned once in full against one in-memory target and once as a delta (the
// snapshot plus the changes, the affected users, look-ups only) against another; after every
// round both targets hold the same accounts and links.
#include "core/delta_plan.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/directory_changes.h"
#include "core/normalize.h"
#include "gtest/gtest.h"

namespace usersync::core {
namespace {

constexpr int kPoolUsers = 40;
constexpr int kGroups = 6;

std::string Dn(int user) { return "uid=u" + std::to_string(user) + ",ou=people,dc=x"; }
std::string GroupDnOf(int group) { return "cn=g" + std::to_string(group) + ",ou=groups,dc=x"; }

// The directory as the source holds it: what a full read sees.
struct Model {
  std::map<std::string, UserEntry> users;                // by id
  std::map<std::string, std::set<std::string>> members;  // group DN -> member DNs

  Directory Build() const {
    DirectoryBuilder builder;
    for (const auto& [id, user] : users) builder.AddUser(user.Record());
    for (const auto& [dn, group_members] : members) {
      builder.AddGroup(dn, dn.substr(3, 2));
      for (const std::string& member : group_members) builder.AddMember(member);
    }
    return std::move(builder).Finish();
  }
};

UserEntry NewUser(int user, std::mt19937& rng) {
  UserEntry entry;
  entry.id = "id-" + std::to_string(user);
  entry.dn = Dn(user);
  entry.user_name = "u" + std::to_string(user);
  // A few shared addresses make duplicates come and go.
  entry.email = rng() % 8 == 0 ? "shared" + std::to_string(rng() % 2) + "@example.com"
                               : entry.user_name + "@example.com";
  entry.first_name = rng() % 20 == 0 ? "" : "F" + std::to_string(rng() % 3);
  entry.last_name = "L" + std::to_string(user);
  entry.disabled = rng() % 10 == 0;
  return entry;
}

// One random change to `model`, recorded in `changes` (a group's members as a whole or as
// adds/removes, at random).
void Mutate(Model& model, DirectoryChanges& changes, std::mt19937& rng) {
  const int user = static_cast<int>(rng() % kPoolUsers);
  const std::string id = "id-" + std::to_string(user);
  const bool present = model.users.contains(id);
  switch (rng() % 6) {
    case 0:
    case 1: {  // add or change a user
      UserEntry entry = NewUser(user, rng);
      if (present && rng() % 2 == 0) {
        entry = model.users[id];
        entry.first_name = "F" + std::to_string(rng() % 3);
        entry.disabled = rng() % 4 == 0;
        if (rng() % 3 == 0) entry.email = "shared0@example.com";
      }
      model.users[id] = entry;
      std::erase(changes.removed_users, id);  // a source hands over the net change
      changes.users.push_back(entry);
      return;
    }
    case 2:  // remove a user (its DN stays a member wherever it was: unresolved)
      if (!present) return;
      model.users.erase(id);
      std::erase_if(changes.users, [&](const UserEntry& entry) { return entry.id == id; });
      changes.removed_users.push_back(id);
      return;
    default: {  // add or remove a member, a user or a nested group
      const int group = static_cast<int>(rng() % kGroups);
      const std::string dn = GroupDnOf(group);
      const std::string member =
          rng() % 4 == 0 ? GroupDnOf(static_cast<int>(rng() % kGroups)) : Dn(user);
      std::set<std::string>& held = model.members[dn];
      const bool remove = held.contains(member) && rng() % 2 == 0;
      if (remove) {
        held.erase(member);
      } else {
        held.insert(member);
      }
      // A group changed twice in a round: one entry, with its whole member list.
      const bool again = std::erase_if(changes.groups, [&](const GroupEntry& group_entry) {
                           return group_entry.dn == dn;
                         }) > 0;
      GroupEntry entry{dn, dn.substr(3, 2), again || rng() % 2 == 0, {}, {}};
      if (entry.members_complete) {
        entry.members.assign(held.begin(), held.end());
      } else {
        (remove ? entry.removed_members : entry.members).push_back(member);
      }
      changes.groups.push_back(std::move(entry));
    }
  }
}

// An in-memory target: accounts (owned fields) and the state store's links.
struct FakeTarget {
  struct Held {
    AccountSpec spec;
    bool active = true;
  };
  std::map<std::string, Held> accounts;      // by account id
  std::map<std::string, std::string> links;  // directory id -> account id
  std::map<std::string, int> creates;        // directory id -> creates so far

  Accounts List(const std::set<std::string>* ids = nullptr,
                const std::set<std::string>* emails = nullptr) const {
    Accounts out;
    for (const auto& [id, held] : accounts) {
      if (ids != nullptr && !ids->contains(id) && !emails->contains(held.spec.user_name.str())) {
        continue;
      }
      Account account;
      account.id = out.Store(id);
      account.user_name = out.Store(held.spec.user_name);
      account.email = out.Store(held.spec.email);
      account.external_id = out.Store(held.spec.external_id);
      account.first_name = out.Store(held.spec.first_name);
      account.last_name = out.Store(held.spec.last_name);
      account.display_name = out.Store(held.spec.display_name);
      account.language = out.Store(held.spec.language);
      account.products = out.Store(held.spec.products);
      account.active = held.active;
      out.items.push_back(account);
    }
    return out;
  }

  std::vector<Link> LinkViews() const {
    std::vector<Link> out;
    for (const auto& [directory_id, account_id] : links) out.push_back({directory_id, account_id});
    return out;
  }

  void Apply(const Plan& plan) {
    for (const Operation& op : plan.operations) {
      if (op.held) continue;
      switch (op.kind) {
        case OpKind::kCreate: {
          const std::string id = "acc-" + op.directory_id.str() + "-" +
                                 std::to_string(creates[op.directory_id.str()]++);
          accounts[id] = {op.spec, true};
          links[op.directory_id.str()] = id;
          break;
        }
        case OpKind::kUpdate:
        case OpKind::kLink:
        case OpKind::kReactivate:
          accounts[op.account_id.str()] = {op.spec, true};
          links[op.directory_id.str()] = op.account_id.str();
          break;
        case OpKind::kDeactivate:
          accounts[op.account_id.str()].active = false;
          break;
        case OpKind::kDelete:
          accounts.erase(op.account_id.str());
          links.erase(op.directory_id.str());
          break;
      }
    }
  }

  // Same accounts (every field a plan compares, and the active flag) and the same links.
  bool operator==(const FakeTarget& other) const {
    if (links != other.links) return false;
    const Accounts mine = List();
    const Accounts theirs = other.List();
    if (mine.items.size() != theirs.items.size()) return false;
    for (size_t idx = 0; idx < mine.items.size(); ++idx) {
      const Account& a = mine.items[idx];
      const Account& b = theirs.items[idx];
      if (a.id != b.id) return false;
      for (Field field : kAllFields) {
        if (a.Get(field) != b.Get(field)) return false;
      }
    }
    return true;
  }
};

PlanConfig TestConfig() {
  PlanConfig config;
  config.scope_groups = {GroupDnOf(0)};
  Rule organizers;
  organizers.name = "organizers";
  organizers.priority = 1;
  organizers.group = GroupDnOf(1);
  organizers.products = {"G2M", "G2W"};
  Rule attendees;
  attendees.name = "attendees";
  attendees.priority = 2;
  attendees.group = GroupDnOf(2);
  attendees.products = {"G2M"};
  attendees.language = "de_DE";
  config.rules = {organizers, attendees};
  config.deprovision.max_changes = 1'000'000;
  config.deprovision.max_changes_percent = 100;
  return config;
}

// The users a plan leaves invalid for what the target or other users decide: planned again by
// the next delta cycle (as io/commands/delta_cycle.cc keeps them).
std::vector<std::string> Pending(const Plan& plan) {
  std::vector<std::string> ids;
  for (const UserRow& row : plan.rows) {
    if (row.replan) ids.emplace_back(row.directory_id);
  }
  return ids;
}

class DeltaWorld {
 public:
  explicit DeltaWorld(const PlanConfig& config) : config_(config) {}

  // The first cycle is a full one.
  void Start(Directory directory) {
    snapshot_ = std::move(directory);
    Plan plan = ComputePlan(snapshot_, target_.List(), target_.LinkViews(), {}, config_);
    target_.Apply(plan);
    pending_ = Pending(plan);
  }

  void Cycle(const DirectoryChanges& changes) {
    Directory next = ApplyChanges(snapshot_, changes);
    std::vector<std::string> affected = AffectedUsers(snapshot_, next, changes);
    affected.insert(affected.end(), pending_.begin(), pending_.end());
    std::sort(affected.begin(), affected.end());
    affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
    const std::vector<Link> links = target_.LinkViews();
    const AccountLookups lookups = DeltaLookups(next, affected, links, {});
    const std::set<std::string> ids(lookups.account_ids.begin(), lookups.account_ids.end());
    const std::set<std::string> emails(lookups.emails.begin(), lookups.emails.end());
    Plan plan = ComputeDeltaPlan(next, target_.List(&ids, &emails), affected, links, {}, config_,
                                 static_cast<int64_t>(links.size()));
    target_.Apply(plan);
    pending_ = Pending(plan);
    snapshot_ = std::move(next);
  }

  const Directory& snapshot() const { return snapshot_; }
  const FakeTarget& target() const { return target_; }

 private:
  PlanConfig config_;
  Directory snapshot_;
  FakeTarget target_;
  std::vector<std::string> pending_;
};

std::string Describe(const FakeTarget& target) {
  std::string out;
  for (const auto& [id, held] : target.accounts) {
    out += id + " " + held.spec.email.str() + " " + held.spec.first_name.str() + " " +
           held.spec.products.str() + " " + held.spec.language.str() +
           (held.active ? " active\n" : " inactive\n");
  }
  return out;
}

// 100 rounds of 1-4 random changes: the delta world's snapshot is the full read, and its target
// the full world's, after every round.
TEST(DeltaPlan, RandomRoundsMatchFullCycles) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    Model model;
    DirectoryChanges ignored;
    for (int step = 0; step < 60; ++step) Mutate(model, ignored, rng);
    const PlanConfig config = TestConfig();
    FakeTarget full;
    full.Apply(ComputePlan(model.Build(), full.List(), full.LinkViews(), {}, config));
    DeltaWorld delta(config);
    delta.Start(model.Build());
    for (int round = 0; round < 100; ++round) {
      DirectoryChanges changes;
      const int count = 1 + static_cast<int>(rng() % 4);
      for (int change = 0; change < count; ++change) Mutate(model, changes, rng);
      const Directory directory = model.Build();
      full.Apply(ComputePlan(directory, full.List(), full.LinkViews(), {}, config));
      delta.Cycle(changes);
      ASSERT_TRUE(DiffDirectories(directory, delta.snapshot()).empty())
          << "seed " << seed << " round " << round;
      ASSERT_TRUE(full == delta.target()) << "seed " << seed << " round " << round << "\nfull:\n"
                                          << Describe(full) << "delta:\n"
                                          << Describe(delta.target());
    }
  }
}

// The invariant's own check can fail: a delta cycle that skips the group closure (only the
// changed users affected) leaves a member of a changed group unprovisioned.
TEST(DeltaPlan, AffectedUsersIncludesNestedMembersOfChangedGroups) {
  Model model;
  std::mt19937 rng(7);
  for (int user : {1, 2, 3}) model.users["id-" + std::to_string(user)] = NewUser(user, rng);
  for (auto& [id, user] : model.users) {
    user.disabled = false;
    user.first_name = "F";
    user.email = user.user_name + "@example.com";
  }
  model.members[GroupDnOf(0)] = {Dn(1), GroupDnOf(3)};
  model.members[GroupDnOf(3)] = {Dn(2)};
  const Directory before = model.Build();
  // g3 gains u3; g0 ∋ g3, so u3 enters scope. u1 (in g0 directly) and u2 (in g3 before and
  // after) are not affected.
  DirectoryChanges changes;
  changes.groups.push_back({GroupDnOf(3), "g3", false, {Dn(3)}, {}});
  const Directory after = ApplyChanges(before, changes);
  EXPECT_EQ(AffectedUsers(before, after, changes), (std::vector<std::string>{"id-3"}));
  model.members[GroupDnOf(3)].insert(Dn(3));
  EXPECT_TRUE(DiffDirectories(model.Build(), after).empty());
}

// A user entering scope with a colleague's address makes both invalid: both are affected.
TEST(DeltaPlan, AffectedUsersIncludesEmailSharers) {
  Model model;
  UserEntry ann{Dn(1), "id-1", "ann", "ann@example.com", "Ann", "A", "", "", false, {}};
  UserEntry bob{Dn(2), "id-2", "bob", "bob@example.com", "Bob", "B", "", "", false, {}};
  model.users = {{"id-1", ann}, {"id-2", bob}};
  const Directory before = model.Build();
  DirectoryChanges changes;
  bob.email = "ANN@example.com";
  changes.users.push_back(bob);
  const Directory after = ApplyChanges(before, changes);
  EXPECT_EQ(AffectedUsers(before, after, changes), (std::vector<std::string>{"id-1", "id-2"}));
}

// An unresolved member DN resolves once an entry carrying it arrives, as in a full read.
// The patched ApplyChanges (and ApplyChangesInPlace) gives exactly the rebuild's directory: the
// same users and groups at the same indices, the same edges in the same order, the same unresolved
// members and look-ups (rounds with a removal or a DN seen before take the rebuild itself).
TEST(DirectoryChanges, PatchedEqualsRebuiltEveryRound) {
  std::mt19937 rng(7);
  Model model;
  DirectoryChanges ignored;
  for (int step = 0; step < 60; ++step) Mutate(model, ignored, rng);
  Directory previous = model.Build();
  for (int round = 0; round < 300; ++round) {
    DirectoryChanges changes;
    const int count = 1 + static_cast<int>(rng() % 4);
    for (int change = 0; change < count; ++change) Mutate(model, changes, rng);
    Directory in_place = ApplyChanges(previous, DirectoryChanges{});  // a copy
    ApplyChangesInPlace(in_place, changes);
    Directory patched = ApplyChanges(previous, changes);
    const Directory rebuilt = RebuildWithChanges(previous, changes);
    SCOPED_TRACE(::testing::Message() << "round " << round);
    ASSERT_EQ(in_place.user_dn, rebuilt.user_dn);
    ASSERT_EQ(in_place.member_begin, rebuilt.member_begin);
    ASSERT_EQ(MemberDns(in_place), MemberDns(rebuilt));
    ASSERT_EQ(in_place.unresolved_examples, rebuilt.unresolved_examples);
    ASSERT_EQ(patched.user_dn, rebuilt.user_dn);
    ASSERT_EQ(patched.user_id, rebuilt.user_id);
    ASSERT_EQ(patched.email, rebuilt.email);
    ASSERT_EQ(patched.first_name, rebuilt.first_name);
    ASSERT_EQ(patched.disabled, rebuilt.disabled);
    ASSERT_EQ(patched.group_dn, rebuilt.group_dn);
    ASSERT_EQ(patched.group_name, rebuilt.group_name);
    ASSERT_EQ(patched.member_begin, rebuilt.member_begin);
    ASSERT_EQ(MemberDns(patched), MemberDns(rebuilt));
    ASSERT_EQ(patched.unresolved_member_count, rebuilt.unresolved_member_count);
    ASSERT_EQ(patched.unresolved_examples, rebuilt.unresolved_examples);
    for (uint32_t user = 0; user < rebuilt.user_count(); ++user) {
      ASSERT_EQ(patched.FindUserById(rebuilt.user_id[user]), user);
      ASSERT_EQ(patched.FindUserByDn(rebuilt.user_dn[user]), user);
    }
    for (uint32_t group = 0; group < rebuilt.group_count(); ++group) {
      ASSERT_EQ(patched.FindGroupByDn(rebuilt.group_dn[group]), group);
    }
    ASSERT_TRUE(DiffDirectories(model.Build(), patched).empty());
    previous = std::move(patched);
  }
}

TEST(DirectoryChanges, UnresolvedMemberResolvesLater) {
  Model model;
  model.members[GroupDnOf(0)] = {Dn(5)};
  const Directory before = model.Build();
  EXPECT_EQ(before.unresolved_member_count, 1u);
  DirectoryChanges changes;
  changes.users.push_back({Dn(5), "id-5", "u5", "u5@example.com", "F", "L", "", "", false, {}});
  const Directory after = ApplyChanges(before, changes);
  EXPECT_EQ(after.unresolved_member_count, 0u);
  ASSERT_EQ(after.group_count(), 1u);
  auto [first, last] = after.MembersOf(0);
  ASSERT_EQ(last - first, 1);
  EXPECT_EQ(after.user_id[first->index()], "id-5");
}

}  // namespace
}  // namespace usersync::core
