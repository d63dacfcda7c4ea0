#include "io/operation_codec.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::io {
namespace {

namespace od = simdjson::ondemand;
using core::Field;
using core::OpKind;

// The spec's string that is no Field: written on create only, never compared at the target.
constexpr std::string_view kWelcomeTemplate = "welcome_template";
// Create only too, and added after plan files existed (issue 14): absent means false, what a
// plan written before it meant (every create sent its welcome email).
constexpr std::string_view kSuppressWelcome = "suppress_welcome";
constexpr std::string_view kAttributes = "attributes";

std::string KnownFields() {
  std::string out;
  for (Field field : core::kAllFields) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", Sv(core::FieldName(field)));
  }
  absl::StrAppend(&out, ", attribute:PATH");
  return out;
}

std::optional<OpKind> KindFromName(std::string_view name) {
  for (OpKind kind : {OpKind::kCreate, OpKind::kUpdate, OpKind::kDeactivate, OpKind::kReactivate,
                      OpKind::kDelete, OpKind::kLink}) {
    if (core::OpKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// What a compact spec leaves out for `field` (a string field): user_name's default is the
// spec's email, email's the operation's, external_id's the operation's directory id; the others'
// "". The reader gives a missing key this value (email before user_name).
std::string_view SpecDefault(const core::Operation& op, Field field) {
  switch (field) {
    case Field::kUserName:
      return op.spec.email;
    case Field::kEmail:
      return op.email;
    case Field::kExternalId:
      return op.directory_id;
    default:
      return {};
  }
}

void WriteSpec(JsonWriter& w, const core::Operation& op, SpecForm form) {
  const core::AccountSpec& spec = op.spec;
  const bool full = form == SpecForm::kFull;
  w.BeginObject();
  for (Field field : core::kAllFields) {
    if (field == Field::kActive) continue;
    const std::string_view value = spec.Get(field);
    if (full || value != SpecDefault(op, field)) w.Field(core::FieldName(field), value);
  }
  if (full || !spec.welcome_template.empty()) w.Field(kWelcomeTemplate, spec.welcome_template);
  if (full || spec.suppress_welcome) w.Key(kSuppressWelcome).Bool(spec.suppress_welcome);
  if (full || !spec.active) w.Key("active").Bool(spec.active);
  // Mapped attributes (issue 14): absent when there are none, as in plans written before them.
  if (!spec.attributes.empty()) {
    w.Key(kAttributes).BeginObject();
    for (const auto& [path, value] : spec.attributes) w.Field(path, value);
    w.EndObject();
  }
  w.EndObject();
}

// spec.attributes: {"PATH": "value", ...}, kept sorted by path (AccountSpec's order).
absl::Status ParseAttributes(const JsonReader& reader, od::value& v, const std::string& path,
                             core::AccountSpec* spec) {
  spec->attributes.clear();
  absl::Status parsed = reader.ForEachField(
      v, path,
      [&](const std::string& key, od::value& value, const std::string& key_path) -> absl::Status {
        for (const auto& earlier : spec->attributes) {
          if (earlier.first == key) return reader.Error(key_path, "given twice");
        }
        spec->attributes.emplace_back(key, "");
        return reader.String(value, key_path, &spec->attributes.back().second);
      });
  std::sort(spec->attributes.begin(), spec->attributes.end());
  return parsed;
}

// What one parse saw, before it is checked as a whole.
struct ParsedOperation {
  core::Operation op;
  bool seen_op = false, seen_directory_id = false, seen_account_id = false, seen_email = false;
  bool seen_reason = false, seen_held = false, seen_changes = false, seen_precondition = false;
  bool seen_spec = false;
  bool seen_spec_field[std::size(core::kAllFields)] = {};  // spec keys, by Field
  std::optional<std::string> version;
  std::optional<bool> active;
  std::optional<bool> account_exists;
  std::vector<core::Change> before;  // precondition fields (field, path, value in `before`)
};

// A bool, or (kJournal: older payloads) "true" / "false".
absl::Status ReadActive(const JsonReader& reader, od::value& v, const std::string& path,
                        ParseMode mode, bool* out) {
  od::json_type type;
  if (auto error = v.type().get(type)) return reader.Error(path, error);
  if (mode == ParseMode::kJournal && type == od::json_type::string) {
    std::string text;
    if (absl::Status s = reader.String(v, path, &text); !s.ok()) return s;
    *out = text == "true";
    return absl::OkStatus();
  }
  return reader.Bool(v, path, out);
}

// The spec's keys as they are; ResolveSpecDefaults fills in what a compact spec left out.
absl::Status ParseSpec(const JsonReader& reader, od::value& v, const std::string& path,
                       ParseMode mode, ParsedOperation& parsed) {
  core::AccountSpec* spec = &parsed.op.spec;
  return reader.ForEachField(
      v, path,
      [&](const std::string& key, od::value& value, const std::string& key_path) -> absl::Status {
        if (std::optional<Field> field = core::ParseField(key)) {
          parsed.seen_spec_field[static_cast<size_t>(*field)] = true;
          if (*field == Field::kActive)
            return ReadActive(reader, value, key_path, mode, &spec->active);
          return reader.String(value, key_path, spec->Mutable(*field));
        }
        if (key == kWelcomeTemplate) return reader.String(value, key_path, &spec->welcome_template);
        if (key == kSuppressWelcome) return reader.Bool(value, key_path, &spec->suppress_welcome);
        if (key == kAttributes) return ParseAttributes(reader, value, key_path, spec);
        return absl::OkStatus();  // a key added by a later version
      });
}

// A spec key that is missing reads as its SpecDefault: the compact form leaves those out, and
// fields added after plan files existed (privileges, role_set, managed_groups, device_groups,
// suppress_welcome) are missing from files written before them, where "" / false is what they
// meant. A missing "active" reads true, "welcome_template" "". Strict mode only: a journal
// payload is always written whole, and one of an older build keeps what it held.
void ResolveSpecDefaults(ParsedOperation& parsed) {
  for (Field field : {Field::kEmail, Field::kExternalId, Field::kUserName}) {
    if (!parsed.seen_spec_field[static_cast<size_t>(field)]) {
      *parsed.op.spec.Mutable(field) = std::string(SpecDefault(parsed.op, field));
    }
  }
}

// One entry of "changes": {"before": ..., "after": ...}, or (kJournal) the `after` string.
absl::Status ParseChange(const JsonReader& reader, const std::string& name, od::value& v,
                         const std::string& path, ParseMode mode, core::Operation& op) {
  core::Change change;
  if (!core::ParseChangeName(name, &change.field, &change.path)) {
    if (mode == ParseMode::kJournal) return absl::OkStatus();  // not checked
    return reader.Error(path, absl::StrCat("unknown field \"", name, "\" (", KnownFields(), ")"));
  }
  for (const core::Change& earlier : op.changes) {
    if (core::SameTarget(earlier, change)) return reader.Error(path, "given twice");
  }
  od::json_type type;
  if (auto error = v.type().get(type)) return reader.Error(path, error);
  if (mode == ParseMode::kJournal && type == od::json_type::string) {
    if (absl::Status s = reader.String(v, path, &change.after); !s.ok()) return s;
    op.changes.push_back(std::move(change));
    return absl::OkStatus();
  }
  bool seen_before = false, seen_after = false;
  absl::Status sides = reader.ForEachField(
      v, path,
      [&](const std::string& side, od::value& text, const std::string& side_path) -> absl::Status {
        if (side == "before") {
          seen_before = true;
          return reader.String(text, side_path, &change.before);
        }
        if (side == "after") {
          seen_after = true;
          return reader.String(text, side_path, &change.after);
        }
        return absl::OkStatus();
      });
  if (!sides.ok()) return sides;
  if (mode == ParseMode::kStrict) {
    if (!seen_before) return reader.Error(JsonReader::Child(path, "before"), "missing");
    if (!seen_after) return reader.Error(JsonReader::Child(path, "after"), "missing");
  }
  op.changes.push_back(std::move(change));
  return absl::OkStatus();
}

absl::Status ParsePrecondition(const JsonReader& reader, od::value& v, const std::string& path,
                               ParsedOperation& parsed) {
  return reader.ForEachField(
      v, path,
      [&](const std::string& name, od::value& item, const std::string& item_path) -> absl::Status {
        if (name == "version") {
          parsed.version.emplace();
          return reader.String(item, item_path, &*parsed.version);
        }
        if (name == "active") {
          parsed.active.emplace();
          return reader.Bool(item, item_path, &*parsed.active);
        }
        if (name == "account_exists") {
          parsed.account_exists.emplace();
          return reader.Bool(item, item_path, &*parsed.account_exists);
        }
        core::Change item_change;
        if (!core::ParseChangeName(name, &item_change.field, &item_change.path)) {
          return reader.Error(item_path, absl::StrCat("unknown field \"", name, "\""));
        }
        parsed.before.push_back(std::move(item_change));
        return reader.String(item, item_path, &parsed.before.back().before);
      });
}

// One key of the operation object.
absl::Status ParseKey(const JsonReader& reader, const std::string& key, od::value& value,
                      const std::string& key_path, ParseMode mode, ParsedOperation& parsed) {
  core::Operation& op = parsed.op;
  if (key == "op") {
    parsed.seen_op = true;
    std::string name;
    if (absl::Status s = reader.String(value, key_path, &name); !s.ok()) return s;
    std::optional<OpKind> kind = KindFromName(name);
    if (!kind) {
      return reader.Error(key_path, absl::StrCat("unknown op \"", name,
                                                 "\" (create, update, deactivate, reactivate, "
                                                 "delete, link)"));
    }
    op.kind = *kind;
  } else if (key == "directory_id") {
    parsed.seen_directory_id = true;
    return reader.String(value, key_path, &op.directory_id);
  } else if (key == "account_id") {
    parsed.seen_account_id = true;
    return reader.StringOrNull(value, key_path, &op.account_id);
  } else if (key == "email") {
    parsed.seen_email = true;
    return reader.String(value, key_path, &op.email);
  } else if (key == "dn") {
    return reader.String(value, key_path, &op.dn);
  } else if (key == "reason") {
    parsed.seen_reason = true;
    return reader.String(value, key_path, &op.reason);
  } else if (key == "held") {
    parsed.seen_held = true;
    return reader.Bool(value, key_path, &op.held);
  } else if (key == "changes") {
    parsed.seen_changes = true;
    return reader.ForEachField(
        value, key_path,
        [&](const std::string& field, od::value& change, const std::string& field_path) {
          return ParseChange(reader, field, change, field_path, mode, op);
        });
  } else if (key == "precondition") {
    parsed.seen_precondition = true;
    return ParsePrecondition(reader, value, key_path, parsed);
  } else if (key == "spec") {
    parsed.seen_spec = true;
    return ParseSpec(reader, value, key_path, mode, parsed);
  }
  return absl::OkStatus();  // summary keys and keys added by a later version
}

// The precondition of an operation on an existing account names exactly the changed fields,
// with their `before` values; "active" stands in precondition.active.
absl::Status CheckPreconditionFields(const JsonReader& reader, const std::string& pre_path,
                                     const ParsedOperation& parsed) {
  const core::Operation& op = parsed.op;
  for (const core::Change& item : parsed.before) {
    const std::string name = core::ChangeName(item);
    const std::string_view value = item.before;
    const core::Change* change = nullptr;
    for (const core::Change& candidate : op.changes) {
      if (core::SameTarget(candidate, item)) change = &candidate;
    }
    if (change == nullptr) {
      return reader.Error(JsonReader::Child(pre_path, name),
                          "names a field that the operation does not change");
    }
    if (change->before != value) {
      return reader.Error(JsonReader::Child(pre_path, name),
                          absl::StrCat("\"", Sv(value), "\" disagrees with changes.", name,
                                       ".before \"", Sv(change->before), "\""));
    }
  }
  for (const core::Change& change : op.changes) {
    if (change.field == Field::kActive) {
      if (change.before != core::BoolText(op.precondition_active)) {
        return reader.Error(
            JsonReader::Child(pre_path, "active"),
            absl::StrCat(Sv(core::BoolText(op.precondition_active)),
                         " disagrees with changes.active.before \"", Sv(change.before), "\""));
      }
      continue;
    }
    bool found = false;
    for (const core::Change& item : parsed.before) found = found || core::SameTarget(item, change);
    if (!found) {
      return reader.Error(JsonReader::Child(pre_path, core::ChangeName(change)), "missing");
    }
  }
  return absl::OkStatus();
}

// The strict checks of a whole operation: required keys, and the precondition agreeing with
// the kind and the changes. Fills op's precondition.
absl::Status CheckOperation(const JsonReader& reader, const std::string& path,
                            ParsedOperation& parsed) {
  const auto child = &JsonReader::Child;
  const std::pair<bool, std::string_view> required[] = {{parsed.seen_op, "op"},
                                                        {parsed.seen_directory_id, "directory_id"},
                                                        {parsed.seen_account_id, "account_id"},
                                                        {parsed.seen_email, "email"},
                                                        {parsed.seen_reason, "reason"},
                                                        {parsed.seen_held, "held"},
                                                        {parsed.seen_changes, "changes"},
                                                        {parsed.seen_precondition, "precondition"}};
  for (const auto& [seen, key] : required) {
    if (!seen) return reader.Error(child(path, key), "missing");
  }
  core::Operation& op = parsed.op;
  const std::string_view kind_name = core::OpKindName(op.kind);
  const bool deprovision = op.kind == OpKind::kDeactivate || op.kind == OpKind::kDelete;
  if (!deprovision && !parsed.seen_spec) {
    return reader.Error(child(path, "spec"), absl::StrCat("missing (op \"", Sv(kind_name),
                                                          "\" needs the account's spec)"));
  }
  const std::string pre_path = child(path, "precondition");
  if (op.kind == OpKind::kCreate) {
    if (!op.account_id.empty()) {
      return reader.Error(child(path, "account_id"), "a create names no account (expected null)");
    }
    if (!parsed.account_exists.has_value() || *parsed.account_exists) {
      return reader.Error(pre_path, "a create's precondition is {\"account_exists\": false}");
    }
    if (parsed.version || parsed.active || !parsed.before.empty() || !op.changes.empty()) {
      return reader.Error(pre_path,
                          "a create's precondition holds only \"account_exists\": false, and "
                          "its changes are empty");
    }
    return absl::OkStatus();
  }
  if (op.account_id.empty()) {
    return reader.Error(child(path, "account_id"),
                        absl::StrCat("op \"", Sv(kind_name), "\" needs an account id"));
  }
  if (parsed.account_exists.has_value() && !*parsed.account_exists) {
    return reader.Error(child(pre_path, "account_exists"),
                        absl::StrCat("op \"", Sv(kind_name), "\" needs an existing account"));
  }
  if (!parsed.version) return reader.Error(child(pre_path, "version"), "missing");
  if (!parsed.active) return reader.Error(child(pre_path, "active"), "missing");
  op.precondition_version = *std::move(parsed.version);
  op.precondition_active = *parsed.active;
  return CheckPreconditionFields(reader, pre_path, parsed);
}

}  // namespace

std::string JsonReader::Child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(Sv(path), ".", Sv(key));
}

absl::Status JsonReader::Error(std::string_view path, std::string_view what) const {
  return absl::InvalidArgumentError(absl::StrCat(
      Sv(origin_), ": ", Sv(path.empty() ? std::string_view("document") : path), ": ", Sv(what)));
}

absl::Status JsonReader::Error(std::string_view path, simdjson::error_code error) const {
  return Error(path, absl::StrCat("malformed JSON (", simdjson::error_message(error), ")"));
}

absl::Status JsonReader::Iterate(od::parser& parser, const simdjson::padded_string& json,
                                 od::document* doc) const {
  if (auto error = parser.iterate(json).get(*doc)) return Error("", error);
  return absl::OkStatus();
}

absl::Status JsonReader::Text(od::value& v, std::string_view path, bool or_null,
                              std::string_view* out) const {
  if (or_null) {
    od::json_type type;
    if (auto error = v.type().get(type)) return Error(path, error);
    if (type == od::json_type::null) {
      bool is_null = false;
      if (auto error = v.is_null().get(is_null)) return Error(path, error);
      *out = {};
      return absl::OkStatus();
    }
  }
  if (auto error = v.get_string().get(*out)) {
    return error == simdjson::INCORRECT_TYPE ? Error(path, "expected a string")
                                             : Error(path, error);
  }
  return absl::OkStatus();
}

absl::Status JsonReader::Bool(od::value& v, std::string_view path, bool* out) const {
  if (auto error = v.get_bool().get(*out)) {
    return error == simdjson::INCORRECT_TYPE ? Error(path, "expected true or false")
                                             : Error(path, error);
  }
  return absl::OkStatus();
}

void WriteOperation(JsonWriter& w, const core::Operation& op, SpecForm form) {
  w.BeginObject();
  w.Field("op", core::OpKindName(op.kind));
  w.Field("directory_id", op.directory_id);
  w.Key("account_id");
  if (op.account_id.empty()) {
    w.Null();
  } else {
    w.String(op.account_id);
  }
  w.Field("email", op.email).Field("dn", op.dn).Field("reason", op.reason);
  w.Key("held").Bool(op.held);
  w.Key("changes").BeginObject();
  for (const core::Change& change : op.changes) {
    w.Key(core::ChangeName(change)).BeginObject();
    w.Field("before", change.before).Field("after", change.after).EndObject();
  }
  w.EndObject();
  w.Key("precondition").BeginObject();
  if (!op.account_id.empty()) {
    w.Field("version", op.precondition_version);
    w.Key("active").Bool(op.precondition_active);
    for (const core::Change& change : op.changes) {
      // "active" is the flag above; a second "active" key would make the object ambiguous.
      if (change.field != Field::kActive) w.Field(core::ChangeName(change), change.before);
    }
  } else {
    w.Key("account_exists").Bool(false);
  }
  w.EndObject();
  if (op.kind != OpKind::kDeactivate && op.kind != OpKind::kDelete) {
    w.Key("spec");
    WriteSpec(w, op, form);
  }
  w.EndObject();
}

std::string OperationJson(const core::Operation& op) {
  JsonWriter w;
  WriteOperation(w, op);
  return w.Release();
}

absl::StatusOr<core::Operation> ParseOperation(const JsonReader& reader, od::value& v,
                                               const std::string& path, ParseMode mode) {
  ParsedOperation parsed;
  absl::Status status = reader.ForEachField(
      v, path, [&](const std::string& key, od::value& value, const std::string& key_path) {
        return ParseKey(reader, key, value, key_path, mode, parsed);
      });
  if (!status.ok()) return status;
  if (mode == ParseMode::kJournal) {
    if (parsed.version) parsed.op.precondition_version = *std::move(parsed.version);
    if (parsed.active) parsed.op.precondition_active = *parsed.active;
    return std::move(parsed.op);
  }
  if (absl::Status s = CheckOperation(reader, path, parsed); !s.ok()) return s;
  if (parsed.seen_spec) ResolveSpecDefaults(parsed);
  return std::move(parsed.op);
}

absl::StatusOr<core::Operation> ParseOperationJson(std::string_view json, std::string_view origin,
                                                   ParseMode mode) {
  const JsonReader reader(origin);
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (absl::Status s = reader.Iterate(parser, padded, &doc); !s.ok()) return s;
  od::value value;
  if (auto error = doc.get_value().get(value)) {
    return error == simdjson::SCALAR_DOCUMENT_AS_VALUE ? reader.Error("", "expected an object")
                                                       : reader.Error("", error);
  }
  return ParseOperation(reader, value, "", mode);
}

}  // namespace usersync::io
