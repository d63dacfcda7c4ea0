#include "core/group_closure.h"

#include <algorithm>

namespace usersync::core {

ClosureResult GroupClosure(const Directory& dir, std::span<const uint32_t> roots) {
  constexpr int64_t kNotReached = -2;
  constexpr int64_t kRoot = -1;
  ClosureResult result;
  result.user_in.assign(dir.user_count(), 0);
  result.parent_group.assign(dir.user_count(), 0);
  result.group_parent.assign(dir.group_count(), kNotReached);

  // Breadth-first over groups; each group enters the queue at most once, which is what makes
  // cycles terminate and keeps the walk linear in the edges reached.
  std::vector<uint32_t> queue;
  for (uint32_t root : roots) {
    if (root < dir.group_count() && result.group_parent[root] == kNotReached) {
      result.group_parent[root] = kRoot;
      queue.push_back(root);
    }
  }
  for (size_t head = 0; head < queue.size(); ++head) {
    const uint32_t group_idx = queue[head];
    auto [begin, end] = dir.MembersOf(group_idx);
    for (const MemberRef* member = begin; member != end; ++member) {
      const uint32_t idx = member->index();
      if (member->is_group()) {
        if (result.group_parent[idx] == kNotReached) {
          result.group_parent[idx] = group_idx;
          queue.push_back(idx);
        }
      } else if (!result.user_in[idx]) {
        result.user_in[idx] = 1;
        result.parent_group[idx] = group_idx;
        ++result.users_reached;
      }
    }
  }
  result.groups_reached = queue.size();
  return result;
}

std::vector<uint32_t> GroupPath(const ClosureResult& closure, uint32_t group_idx) {
  std::vector<uint32_t> path;
  if (group_idx >= closure.group_parent.size() || closure.group_parent[group_idx] < -1) {
    return path;
  }
  int64_t current = group_idx;
  while (current >= 0) {
    path.push_back(static_cast<uint32_t>(current));
    current = closure.group_parent[current];
  }
  std::reverse(path.begin(), path.end());
  return path;
}

}  // namespace usersync::core
