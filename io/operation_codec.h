// The operation codec: the one JSON form of a core::Operation, written and read here only. The
// plan JSON (io/report/plan_report.h, DESIGN.md "plan --format json"), a plan file read back
// for `apply --plan` (io/plan_file.h), a held operation in the state store and the executor's
// journal payload are all this form:
//
//   {"op":"update","directory_id":"id-7","account_id":"acc-7","email":"bob@example.com",
//    "dn":"uid=bob,...","reason":"linked; changed: last_name; rule Staff","held":false,
//    "changes":{"last_name":{"before":"Old","after":"New"}},
//    "precondition":{"version":"W/\"3\"","active":true,"last_name":"Old"},
//    "spec":{"user_name":...,"welcome_template":"","settings_template":"",
//            "suppress_welcome":false,"active":true}}
//
// A create's account_id is null and its precondition {"account_exists":false}; deactivate and
// delete carry no spec. Field keys are core::FieldName's.
//
// The spec has two forms (SpecForm). The full form above, every key, is what a held operation
// and a journal payload hold. The compact form, the plan file's (issue 17: it makes the plan
// file of a million operations 568 MB where the full form took 889 MB), leaves out every key
// that holds its default: a string field "", user_name equal to the spec's email, email equal
// to the operation's email, external_id equal to its directory_id, welcome_template "",
// suppress_welcome false, active true:
//
//   "spec":{"first_name":"Bob","last_name":"New","display_name":"Bob New","products":"G2M"}
//
// The strict reader gives every missing spec key its default, so it reads both forms, and plan
// files written before a key existed ("privileges", "role_set", "managed_groups",
// "device_groups", "suppress_welcome": "" and false were what they meant then).
//
// Reading is strict (ParseMode::kStrict) where it matters for applying: every key an operation
// needs must be there with the right JSON type, "op" must be a known kind, a change must name a
// known field, and the precondition must agree with the changes. Errors are kInvalidArgument
// and read "ORIGIN: PATH: WHAT" ("plan.json: operations[3].precondition.version: expected a
// string"). Keys this reader does not know are skipped: DESIGN.md lets later versions add keys.
// ParseMode::kJournal reads a journal payload, also as older builds wrote it (a change as its
// `after` string, the spec's active flag as "true"/"false", keys missing): it checks types only.
//
// Stateless; thread-safe. simdjson types appear here for the documents that hold operations
// (io/plan_file.cc); other callers use the string forms.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/plan.h"
#include "io/json_writer.h"
#include "simdjson.h"

namespace usersync::io {

enum class SpecForm : uint8_t {
  kFull,     // every spec key: held operations, journal payloads, plan files before issue 17
  kCompact,  // the plan file's: only the keys that differ from their default (above)
};

// Writes `op` as one JSON object (the form above) into `w`, its spec in `form`.
void WriteOperation(JsonWriter& w, const core::Operation& op, SpecForm form = SpecForm::kFull);

// `op` as one JSON object (the form above), its spec whole.
std::string OperationJson(const core::Operation& op);

enum class ParseMode : uint8_t {
  kStrict,   // plan files and holds: the whole form, consistent
  kJournal,  // journal payloads, of this build or older ones: types only
};

// Parses one operation as OperationJson writes it; `origin` names it in errors.
absl::StatusOr<core::Operation> ParseOperationJson(std::string_view json, std::string_view origin,
                                                   ParseMode mode = ParseMode::kStrict);

// Strict typed reads of simdjson values with "ORIGIN: PATH: WHAT" errors (kInvalidArgument).
class JsonReader {
 public:
  explicit JsonReader(std::string_view origin) : origin_(origin) {}

  // "operations[3]" + "spec" → "operations[3].spec"; "" + "op" → "op".
  static std::string Child(std::string_view path, std::string_view key);

  absl::Status Error(std::string_view path, std::string_view what) const;
  absl::Status Error(std::string_view path, simdjson::error_code error) const;

  // Starts reading `json` (kept alive by the caller, as `parser`) into `*doc`.
  absl::Status Iterate(simdjson::ondemand::parser& parser, const simdjson::padded_string& json,
                       simdjson::ondemand::document* doc) const;

  // A string, into a std::string or a core::CompactString.
  template <typename Out>
  absl::Status String(simdjson::ondemand::value& v, std::string_view path, Out* out) const {
    return TextInto(v, path, /*or_null=*/false, out);
  }
  absl::Status Bool(simdjson::ondemand::value& v, std::string_view path, bool* out) const;
  // A string, or null (read as "").
  template <typename Out>
  absl::Status StringOrNull(simdjson::ondemand::value& v, std::string_view path, Out* out) const {
    return TextInto(v, path, /*or_null=*/true, out);
  }

  // Calls fn(key, value, key_path) -> absl::Status for each field of the object `v`; stops at
  // the first error.
  template <typename Fn>
  absl::Status ForEachField(simdjson::ondemand::value& v, std::string_view path, Fn&& fn) const {
    simdjson::ondemand::object object;
    if (auto error = v.get_object().get(object)) {
      return error == simdjson::INCORRECT_TYPE ? Error(path, "expected an object")
                                               : Error(path, error);
    }
    return ForEachField(object, path, std::forward<Fn>(fn));
  }

  template <typename Fn>
  absl::Status ForEachField(simdjson::ondemand::object& object, std::string_view path,
                            Fn&& fn) const {
    for (auto field_result : object) {
      simdjson::ondemand::field field;
      if (auto error = std::move(field_result).get(field)) return Error(path, error);
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return Error(path, error);
      std::string key_copy(key);
      const std::string key_path = Child(path, key_copy);
      simdjson::ondemand::value value = field.value();
      if (absl::Status s = fn(key_copy, value, key_path); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  // The string at `v`, a view into the parser's buffer; "" for null when `or_null`.
  absl::Status Text(simdjson::ondemand::value& v, std::string_view path, bool or_null,
                    std::string_view* out) const;
  template <typename Out>
  absl::Status TextInto(simdjson::ondemand::value& v, std::string_view path, bool or_null,
                        Out* out) const {
    std::string_view text;
    if (absl::Status status = Text(v, path, or_null, &text); !status.ok()) return status;
    *out = text;
    return absl::OkStatus();
  }

  std::string origin_;
};

// Parses the operation `v` found at `path` of a document `reader` reads.
absl::StatusOr<core::Operation> ParseOperation(const JsonReader& reader,
                                               simdjson::ondemand::value& v,
                                               const std::string& path,
                                               ParseMode mode = ParseMode::kStrict);

}  // namespace usersync::io
