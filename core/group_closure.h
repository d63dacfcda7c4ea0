// Nested-group closure: which users a set of groups holds, through any depth of nesting.
//
// Cycle-safe: each group is expanded at most once per walk, so cycles (A ∋ B ∋ A) and deep
// chains (depth 20+) terminate in O(groups + edges reached). Iterative (no recursion), so depth
// is bounded by memory, not the stack. Pure; thread-compatible (a Directory may be walked by
// several threads at once).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/directory.h"

namespace usersync::core {

struct ClosureResult {
  std::vector<uint8_t> user_in;        // per user: 1 if any root holds it (directly or nested)
  std::vector<uint32_t> parent_group;  // per user: the group through which it was first reached
  std::vector<int64_t> group_parent;   // per group: the group it was reached from (-1: a root,
                                       // -2: not reached); parents give the nesting path
  uint64_t users_reached = 0;
  uint64_t groups_reached = 0;
};

// Users held by `roots` (group indices), directly or through nested groups.
ClosureResult GroupClosure(const Directory& dir, std::span<const uint32_t> roots);

// The nesting path from a root to `group_idx` (root first), from a ClosureResult.
std::vector<uint32_t> GroupPath(const ClosureResult& closure, uint32_t group_idx);

}  // namespace usersync::core
