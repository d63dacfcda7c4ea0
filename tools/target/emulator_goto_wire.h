// The GoTo admin API's wire shapes, as the emulator's GoTo face reads and writes them
// (emulator_goto.h documents them): a batch-create member and a PUT body decoded from JSON,
// a user and a group summary written. Private to emulator_goto*.cc. Thread-safety: plain
// functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/json_writer.h"
#include "tools/target/emulator_json.h"
#include "tools/target/emulator_store.h"

namespace usersync::io::emulator::goto_internal {

// InvalidArgument "FIELD: WHAT".
absl::Status Invalid(std::string_view field, std::string_view what);

// One member of a batch create.
struct NewMember {
  EmulatorUser user;
  std::string user_group;  // "" for none
  std::string welcome_template;
};

// users[index] of a batch create. Errors: InvalidArgument naming the field.
absl::StatusOr<NewMember> DecodeMember(const JsonValue& item, size_t index);

// A PUT body: the fields present.
struct UserChange {
  std::optional<std::string> email;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> language;  // "" clears
  std::optional<std::vector<std::string>> products;
  std::optional<std::vector<std::string>> roles;
  std::optional<bool> active;
  std::optional<std::string> user_group;  // "" removes the user from its groups
  std::optional<std::string> external_id;
};

// A PUT body. Errors: InvalidArgument naming the field.
absl::StatusOr<UserChange> DecodeChange(const JsonValue& body);

// A user as GET /users/{key} answers it; "roleSets" lists `role_set_ids`.
void WriteGotoUser(const UserView& view, JsonWriter* writer,
                   const std::vector<std::string>& role_set_ids = {});

// Writes `key` as a member "key": a JSON number when the id is 1 to 64 decimal digits (GoTo's
// keys are numbers, GOTO_API_RESEARCH.md §3a: a seeded user's id may be one, of any length),
// else a JSON string (the store's own UUID-like ids).
void WriteGotoKey(std::string_view id, JsonWriter* writer);
// The same for any member name (a role set's "id"), and for an array element.
void WriteGotoId(std::string_view name, std::string_view id, JsonWriter* writer);
void WriteGotoIdValue(std::string_view id, JsonWriter* writer);
// {"groupKey", "name", "userCount"}.
void WriteGroupSummary(const GroupView& view, JsonWriter* writer);

}  // namespace usersync::io::emulator::goto_internal
