// core::Accounts: a snapshot of the target's accounts, as the target driver decoded it.
//
// Each Account holds views into the snapshot's own StringArena. Multi-valued settings are kept
// in canonical form (sorted, de-duplicated, comma-joined: "G2M,G2W") so that comparing desired
// and actual is one string compare. Thread-safety: immutable once built; readable from any
// thread. Views live as long as the Accounts object.
#pragma once

#include <string_view>
#include <vector>

#include "core/string_arena.h"

namespace usersync::core {

struct Account {
  std::string_view id;           // the target's id (SCIM id, GoTo userKey)
  std::string_view user_name;    // SCIM userName
  std::string_view email;        // primary email as the target holds it (not normalized)
  std::string_view external_id;  // SCIM externalId: the directory id usersync wrote
  std::string_view first_name;
  std::string_view last_name;
  std::string_view display_name;
  std::string_view language;
  std::string_view products;    // canonical list, e.g. "G2M,G2W"
  std::string_view admin_role;  // "", "full" or "manager"
  std::string_view user_group;  // name of the user group, "" for none
  std::string_view version;     // meta.version / ETag, "" when the target gives none
  bool active = true;
};

struct Accounts {
  StringArena arena;
  std::vector<Account> items;

  // Copies `value` into the arena (convenience for decoders and tests).
  std::string_view Store(std::string_view value) { return arena.Store(value); }
};

}  // namespace usersync::core
