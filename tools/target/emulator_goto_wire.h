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
#include "tools/target/emulator_licenses.h"
#include "tools/target/emulator_store.h"

namespace usersync::io::emulator::goto_internal {

// Why a member's or a PUT's "products" is refused: GoTo grants products through licenses.
inline constexpr std::string_view kNoMemberProducts =
    "GoTo has no per-user products field: products come from licenseKeys";

// InvalidArgument "FIELD: WHAT".
absl::Status Invalid(std::string_view field, std::string_view what);

// A "licenseKeys" array: each key a JSON number (its text kept, any length) or a string,
// duplicates dropped, order kept. Errors: InvalidArgument naming FIELD[i].
absl::StatusOr<std::vector<std::string>> LicenseKeyList(const JsonValue& value,
                                                        std::string_view field);

// One member of a batch create.
struct NewMember {
  EmulatorUser user;
  std::string user_group;        // "" for none
  std::string welcome_template;  // also kept in user.rule_settings
};

// users[index] of a batch create. Errors: InvalidArgument naming the field.
absl::StatusOr<NewMember> DecodeMember(const JsonValue& item, size_t index);

// A PUT body: the fields present.
struct UserChange {
  std::optional<std::string> email;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> language;  // "" clears
  // "licenseKeys": the user's licenses become exactly these (replace; GOTO_API_RESEARCH.md
  // §5b open question 5: INFERRED). The face turns them into `products`.
  std::optional<std::vector<std::string>> license_keys;
  std::optional<std::vector<std::string>> products;  // set from license_keys, never decoded
  std::optional<std::vector<std::string>> roles;
  std::optional<bool> active;
  std::optional<std::string> user_group;  // "" removes the user from its groups
  std::optional<std::string> external_id;
  std::optional<std::vector<std::string>> device_groups;  // [] or null clears
  std::optional<std::string> settings_template;           // "" clears
};

// A PUT body. Errors: InvalidArgument naming the field.
absl::StatusOr<UserChange> DecodeChange(const JsonValue& body);

// A user as GET /users/{key} answers it; "licenseKeys" are derived from its products
// (LicenseCatalog::LicenseKeysOf); "roleSets" lists `role_set_ids`.
void WriteGotoUser(const UserView& view, const LicenseCatalog& licenses, JsonWriter* writer,
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
