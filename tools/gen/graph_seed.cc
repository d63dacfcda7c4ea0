#include "tools/gen/graph_seed.h"

#include "io/json_writer.h"

namespace usersync::io {
namespace {

constexpr char kDefaultAppRole[] = "00000000-0000-0000-0000-000000000000";

void WriteUsers(const core::Directory& dir, JsonWriter& w) {
  w.Key("users").BeginArray();
  for (size_t user_idx = 0; user_idx < dir.user_count(); ++user_idx) {
    const std::string_view email = dir.email[user_idx];
    w.BeginObject()
        .Field("id", dir.user_id[user_idx])
        .Field("userPrincipalName", email.empty() ? dir.user_name[user_idx] : email);
    w.Key("mail");
    email.empty() ? w.Null() : w.String(email);
    w.Field("givenName", dir.first_name[user_idx])
        .Field("surname", dir.last_name[user_idx])
        .Field("displayName", dir.display_name[user_idx])
        .Field("preferredLanguage", dir.language[user_idx]);
    w.Key("accountEnabled").Bool(dir.disabled[user_idx] == 0);
    w.EndObject();
  }
  w.EndArray();
}

void WriteGroups(const core::Directory& dir, JsonWriter& w) {
  w.Key("groups").BeginArray();
  for (size_t group_idx = 0; group_idx < dir.group_count(); ++group_idx) {
    w.BeginObject().Field("id", dir.group_name[group_idx]);
    w.Field("displayName", dir.group_name[group_idx]);
    w.Key("members").BeginArray();
    auto [begin, end] = dir.MembersOf(static_cast<uint32_t>(group_idx));
    for (const core::MemberRef* member = begin; member != end; ++member) {
      w.String(member->is_group() ? dir.group_name[member->index()] : dir.user_id[member->index()]);
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
}

bool HasGroup(const core::Directory& dir, std::string_view name) {
  for (std::string_view group_name : dir.group_name) {
    if (group_name == name) return true;
  }
  return false;
}

void Assign(JsonWriter& w, std::string_view group, std::string_view role) {
  w.BeginObject()
      .Field("principalId", group)
      .Field("principalType", "Group")
      .Field("appRoleId", role)
      .EndObject();
}

}  // namespace

std::string GraphSeedJson(const core::Directory& dir, std::string_view assigned_group) {
  JsonWriter w;
  w.BeginObject();
  WriteUsers(dir, w);
  WriteGroups(dir, w);
  w.Key("servicePrincipals").BeginArray().BeginObject();
  w.Field("id", kGraphSeedServicePrincipal).Key("appRoleAssignedTo").BeginArray();
  Assign(w, assigned_group, kDefaultAppRole);
  if (HasGroup(dir, "organizers")) Assign(w, "organizers", kGraphSeedOrganizerRole);
  w.EndArray().EndObject().EndArray();
  w.EndObject();
  return w.Release();
}

}  // namespace usersync::io
