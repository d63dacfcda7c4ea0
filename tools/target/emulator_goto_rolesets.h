// GotoRoleSets: the GoTo face's role sets (custom roles) and who holds them, the shapes of
// GOTO_API_RESEARCH.md §6 ([3P] only: GoTo Connect's PowerShell wizard; io/goto/GOTO_SHAPES.md):
//
//   GET    /accounts/{k}/rolesets → 200 {"results": [{"id": 1001, "name": "Helpdesk"}, ...]}
//          (ids as given to --role-set, written as JSON numbers when all digits)
//   PUT    /accounts/{k}/rolesets/{id}/users?filter=email%20eq%20%22EMAIL%22   body {} or empty
//          → 200 {"id", "name", "userKey"}: the user now holds exactly that role set (one
//          replaces another: GoTo's rule is not documented). Unknown id → 404 NOT_FOUND; no
//          user with that email → 404 NOT_FOUND; a missing or other filter, or a '+' in it
//          → 400 INVALID_FILTER.
//   DELETE /accounts/{k}/users/rolesets?filter=email%20eq%20%22EMAIL%22
//          → 204: the user holds no role set (also when it held none).
// Users carry "roleSets": [id] (or []) in every user object. System roles (adminRoles) and a
// role set are kept independently: whether GoTo allows both at once is not documented.
// Memberships live in memory only (a restart with --db forgets them).
//
// Thread-safety: thread-safe (one mutex). The store is the caller's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "tools/target/emulator_store.h"

namespace httplib {
struct Request;
}  // namespace httplib

namespace usersync::io::emulator {

// (id, name) pairs; --role-set ID=NAME. None given: DefaultRoleSets().
using RoleSetList = std::vector<std::pair<std::string, std::string>>;
RoleSetList DefaultRoleSets();  // {1001, "Helpdesk"}, {1002, "Sales managers"}

class GotoRoleSets {
 public:
  explicit GotoRoleSets(RoleSetList role_sets);

  struct Answer {
    int status = 200;
    std::string body;  // JSON; empty for 204
  };
  // Serves `segments` (the path after /accounts/{k}, split at '/') when it is a role-set
  // endpoint above; nullopt otherwise (the caller routes it).
  std::optional<Answer> Handle(const std::vector<std::string>& segments,
                               const httplib::Request& req, EmulatorStore& store);

  // The role set ids user `user_id` holds (at most one).
  std::vector<std::string> Of(std::string_view user_id) const;

 private:
  Answer List() const;
  Answer Assign(const std::string& id, const httplib::Request& req, EmulatorStore& store);
  Answer Remove(const httplib::Request& req, EmulatorStore& store);

  const RoleSetList role_sets_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> held_ ABSL_GUARDED_BY(mu_);  // user id → id
};

}  // namespace usersync::io::emulator
