// Helpers the SCIM files share (emulator_scim.cc: decoding, paths, filters, rendering;
// emulator_scim_patch.cc: PATCH applied). Not part of the SCIM face's interface.
// Thread-safety: plain functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/str.h"
#include "io/scim/scim_attributes.h"
#include "tools/target/emulator_json.h"
#include "tools/target/emulator_scim.h"

namespace usersync::io::emulator::scim_internal {

std::string Lower(std::string_view s);
using core::EqualsIgnoreCase;
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

// 400s with their scimType (ScimError).
absl::Status InvalidValue(std::string_view detail);
absl::Status InvalidPath(std::string_view detail);
absl::Status InvalidFilter(std::string_view detail);
absl::Status Mutability(std::string_view detail);
absl::Status NoTarget(std::string_view detail);

// Strips "<schema>:" from a path or attribute name (case-insensitively). A different URN is
// an error: the emulator serves no schema extensions.
absl::StatusOr<std::string_view> StripSchema(std::string_view path, std::string_view schema);
bool IsAttributeChar(char c);
std::string_view TrimSpaces(std::string_view s);

// Sets mapped attribute `path` (a canonical path of io/scim/scim_attributes.h) to `value`,
// removing it when `value` is "" (user.attributes stays sorted).
void SetMappedAttribute(EmulatorUser& user, std::string_view path, std::string value);
// The members of the enterprise extension's object (RFC 7643 §4.3) into user.attributes:
// the mapped ones, manager as {"value": ...}; others are ignored.
absl::Status DecodeEnterprise(const JsonValue& value, EmulatorUser& user);

// A string attribute (null: ""), or invalidValue naming `attribute`.
absl::StatusOr<std::string> StringValue(const JsonValue& value, std::string_view attribute);
// A boolean attribute (also "True"/"False"), or invalidValue naming `attribute`.
absl::StatusOr<bool> BoolValue(const JsonValue& value, std::string_view attribute);
// The values of a multi-valued attribute of the {"value": "..."} kind (entitlements, roles):
// an array of such objects (or of plain strings), or one of them alone.
absl::StatusOr<std::vector<std::string>> ValueList(const JsonValue& value,
                                                   std::string_view attribute);
void AddUnique(std::vector<std::string>* list, const std::string& value);
std::vector<std::string> Deduplicated(std::vector<std::string> values);
// The email to keep from an "emails" value: the primary one, else the "work" one, else the
// first. Accepts an array of {"value", "type", "primary"} objects or one such object.
absl::StatusOr<std::string> PickEmail(const JsonValue& value);

// A PATCH path: attribute[filter].sub, with `schema`'s URN stripped. Errors: invalidPath. A
// path under usersync's extension URN (io/scim_extension.h) has `extension` set and the URN
// stripped ("<URN>:deviceGroups" → "devicegroups"; the URN alone → "").
absl::StatusOr<PatchPath> ParsePath(std::string_view text, std::string_view schema);

// ---- usersync's extension (emulator_scim_extension.cc; io/scim_extension.h) ----

// The rest of `path` after "<URN>:" ("" for the URN alone); nullopt when it is not under it.
std::optional<std::string_view> StripRuleSettingsUrn(std::string_view path);
// A POST/PUT User's extension object: `settings` becomes exactly what it says (unknown
// attributes skipped). Errors: invalidValue.
absl::Status DecodeRuleSettings(const JsonValue& value, RuleSettings* settings);
// One PATCH operation whose path has `extension` set: add/replace/remove an attribute (an
// attribute "" is the extension as a whole). Errors: invalidPath, invalidValue.
absl::Status ApplyRuleSettingsPatch(PatchOp::Kind kind, const PatchPath& path,
                                    const JsonValue* value, RuleSettings& settings);
// Whether any setting has a value; when one does, WriteRuleSettings writes the member
// "<URN>": {the attributes with a value}, else nothing.
bool HasRuleSettings(const RuleSettings& settings);
void WriteRuleSettings(const RuleSettings& settings, JsonWriter* writer);

}  // namespace usersync::io::emulator::scim_internal
