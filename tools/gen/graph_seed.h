// The Graph face's seed (tools/target/emulator_graph.h) from a generated directory, so that the
// demo and benchmark data can be served as Microsoft Graph (`usersync-gen-ldif --graph-seed`).
//
// Mapping: a user's `id` is its directory id (entryUUID), `userPrincipalName` its email (its
// user name when it has none), `mail`, `givenName`, `surname`, `displayName`,
// `preferredLanguage` as the directory holds them, `accountEnabled` = not disabled. A group's
// `id` is its name (cn: unique in the generator's output, and URL-safe), its members the ids of
// the users and groups it holds (dangling member DNs are dropped). One service principal,
// kGraphSeedServicePrincipal, has the group named `assigned_group` assigned with the default
// app role (00000000-0000-0000-0000-000000000000) and, when present, "organizers" with
// kGraphSeedOrganizerRole.
//
// Thread-safety: a pure function of its arguments.
#pragma once

#include <string>
#include <string_view>

#include "core/directory.h"

namespace usersync::io {

inline constexpr char kGraphSeedServicePrincipal[] = "sp-usersync-demo";
inline constexpr char kGraphSeedOrganizerRole[] = "6f0e4a2c-0000-4000-8000-000000000001";

std::string GraphSeedJson(const core::Directory& dir, std::string_view assigned_group);

}  // namespace usersync::io
