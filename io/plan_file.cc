#include "io/plan_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/normalize.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/report/plan_report.h"
#include "simdjson.h"

namespace usersync::io {
namespace {

namespace od = simdjson::ondemand;
using core::OpKind;

constexpr std::string_view kFields[] = {"user_name",  "email",        "external_id", "first_name",
                                        "last_name",  "display_name", "language",    "products",
                                        "admin_role", "user_group",   "active"};

// "operations[3]" + "spec" → "operations[3].spec"; "" + "op" → "op".
std::string Child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(Sv(path), ".", Sv(key));
}

bool IsKnownField(std::string_view field) {
  for (std::string_view known : kFields) {
    if (known == field) return true;
  }
  return false;
}

std::string KnownFields() {
  std::string out;
  for (std::string_view known : kFields) absl::StrAppend(&out, out.empty() ? "" : ", ", Sv(known));
  return out;
}

std::optional<OpKind> KindFromName(std::string_view name) {
  for (OpKind kind : {OpKind::kCreate, OpKind::kUpdate, OpKind::kDeactivate, OpKind::kReactivate,
                      OpKind::kDelete, OpKind::kLink}) {
    if (core::OpKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// Builds error messages "ORIGIN: PATH: WHAT" and reads typed values strictly.
class Reader {
 public:
  explicit Reader(std::string_view origin) : origin_(origin) {}

  absl::Status Error(std::string_view path, std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(origin_), ": ", Sv(path.empty() ? std::string_view("document") : path), ": ", Sv(what)));
  }
  absl::Status Error(std::string_view path, simdjson::error_code error) const {
    return Error(path, absl::StrCat("malformed JSON (", simdjson::error_message(error), ")"));
  }

  absl::Status String(od::value& v, std::string_view path, std::string* out) const {
    std::string_view text;
    if (auto error = v.get_string().get(text)) {
      return error == simdjson::INCORRECT_TYPE ? Error(path, "expected a string")
                                               : Error(path, error);
    }
    out->assign(text);
    return absl::OkStatus();
  }

  absl::Status Bool(od::value& v, std::string_view path, bool* out) const {
    if (auto error = v.get_bool().get(*out)) {
      return error == simdjson::INCORRECT_TYPE ? Error(path, "expected true or false")
                                               : Error(path, error);
    }
    return absl::OkStatus();
  }

  // A string, or null (read as "").
  absl::Status StringOrNull(od::value& v, std::string_view path, std::string* out) const {
    od::json_type type;
    if (auto error = v.type().get(type)) return Error(path, error);
    if (type == od::json_type::null) {
      bool is_null = false;
      if (auto error = v.is_null().get(is_null)) return Error(path, error);
      out->clear();
      return absl::OkStatus();
    }
    return String(v, path, out);
  }

  // Calls fn(key, value, key_path) for each field of the object `v`.
  template <typename Fn>
  absl::Status ForEachField(od::value& v, std::string_view path, Fn&& fn) const {
    od::object object;
    if (auto error = v.get_object().get(object)) {
      return error == simdjson::INCORRECT_TYPE ? Error(path, "expected an object")
                                               : Error(path, error);
    }
    return ForEachField(object, path, std::forward<Fn>(fn));
  }

  template <typename Fn>
  absl::Status ForEachField(od::object& object, std::string_view path, Fn&& fn) const {
    for (auto field_result : object) {
      od::field field;
      if (auto error = std::move(field_result).get(field)) return Error(path, error);
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return Error(path, error);
      std::string key_copy(key);
      const std::string key_path = Child(path, key_copy);
      od::value value = field.value();
      if (absl::Status s = fn(key_copy, value, key_path); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::string origin_;
};

absl::Status ParseSpec(const Reader& reader, od::value& v, const std::string& path,
                       core::AccountSpec* spec) {
  struct Slot {
    std::string_view key;
    std::string* value;
    bool seen = false;
  };
  Slot slots[] = {{"user_name", &spec->user_name},
                  {"email", &spec->email},
                  {"external_id", &spec->external_id},
                  {"first_name", &spec->first_name},
                  {"last_name", &spec->last_name},
                  {"display_name", &spec->display_name},
                  {"language", &spec->language},
                  {"products", &spec->products},
                  {"admin_role", &spec->admin_role},
                  {"user_group", &spec->user_group},
                  {"welcome_template", &spec->welcome_template},
                  {"settings_template", &spec->settings_template}};
  bool active_seen = false;
  absl::Status parsed = reader.ForEachField(
      v, path,
      [&](const std::string& key, od::value& value, const std::string& key_path) -> absl::Status {
        if (key == "active") {
          active_seen = true;
          return reader.Bool(value, key_path, &spec->active);
        }
        for (Slot& slot : slots) {
          if (slot.key != key) continue;
          slot.seen = true;
          return reader.String(value, key_path, slot.value);
        }
        return absl::OkStatus();  // a key added by a later version
      });
  if (!parsed.ok()) return parsed;
  for (const Slot& slot : slots) {
    if (!slot.seen) return reader.Error(Child(path, slot.key), "missing");
  }
  if (!active_seen) return reader.Error(Child(path, "active"), "missing");
  return absl::OkStatus();
}

absl::StatusOr<core::Operation> ParseOperation(const Reader& reader, od::value& v,
                                               const std::string& path) {
  core::Operation op;
  bool seen_op = false, seen_directory_id = false, seen_account_id = false, seen_email = false;
  bool seen_reason = false, seen_held = false, seen_changes = false, seen_precondition = false;
  bool seen_spec = false;
  std::optional<std::string> version;
  std::optional<bool> active;
  std::optional<bool> account_exists;
  std::vector<std::pair<std::string, std::string>> before;  // precondition fields, file order

  absl::Status parsed = reader.ForEachField(
      v, path,
      [&](const std::string& key, od::value& value, const std::string& key_path) -> absl::Status {
        if (key == "op") {
          seen_op = true;
          std::string name;
          if (absl::Status s = reader.String(value, key_path, &name); !s.ok()) return s;
          std::optional<OpKind> kind = KindFromName(name);
          if (!kind) {
            return reader.Error(key_path,
                                absl::StrCat("unknown op \"", name,
                                             "\" (create, update, deactivate, reactivate, "
                                             "delete, link)"));
          }
          op.kind = *kind;
        } else if (key == "directory_id") {
          seen_directory_id = true;
          return reader.String(value, key_path, &op.directory_id);
        } else if (key == "account_id") {
          seen_account_id = true;
          return reader.StringOrNull(value, key_path, &op.account_id);
        } else if (key == "email") {
          seen_email = true;
          return reader.String(value, key_path, &op.email);
        } else if (key == "dn") {
          return reader.String(value, key_path, &op.dn);
        } else if (key == "reason") {
          seen_reason = true;
          return reader.String(value, key_path, &op.reason);
        } else if (key == "held") {
          seen_held = true;
          return reader.Bool(value, key_path, &op.held);
        } else if (key == "changes") {
          seen_changes = true;
          return reader.ForEachField(
              value, key_path,
              [&](const std::string& field, od::value& change,
                  const std::string& field_path) -> absl::Status {
                if (!IsKnownField(field)) {
                  return reader.Error(field_path, absl::StrCat("unknown field \"", field, "\" (",
                                                               KnownFields(), ")"));
                }
                for (const core::Change& earlier : op.changes) {
                  if (earlier.field == field) return reader.Error(field_path, "given twice");
                }
                core::Change change_read{field, "", ""};
                bool seen_before = false, seen_after = false;
                absl::Status sides = reader.ForEachField(
                    change, field_path,
                    [&](const std::string& side, od::value& text,
                        const std::string& side_path) -> absl::Status {
                      if (side == "before") {
                        seen_before = true;
                        return reader.String(text, side_path, &change_read.before);
                      }
                      if (side == "after") {
                        seen_after = true;
                        return reader.String(text, side_path, &change_read.after);
                      }
                      return absl::OkStatus();
                    });
                if (!sides.ok()) return sides;
                if (!seen_before) return reader.Error(Child(field_path, "before"), "missing");
                if (!seen_after) return reader.Error(Child(field_path, "after"), "missing");
                op.changes.push_back(std::move(change_read));
                return absl::OkStatus();
              });
        } else if (key == "precondition") {
          seen_precondition = true;
          return reader.ForEachField(
              value, key_path,
              [&](const std::string& name, od::value& item,
                  const std::string& item_path) -> absl::Status {
                if (name == "version") {
                  version.emplace();
                  return reader.String(item, item_path, &*version);
                }
                if (name == "active") {
                  active.emplace();
                  return reader.Bool(item, item_path, &*active);
                }
                if (name == "account_exists") {
                  account_exists.emplace();
                  return reader.Bool(item, item_path, &*account_exists);
                }
                if (!IsKnownField(name)) {
                  return reader.Error(item_path, absl::StrCat("unknown field \"", name, "\""));
                }
                before.emplace_back(name, "");
                return reader.String(item, item_path, &before.back().second);
              });
        } else if (key == "spec") {
          seen_spec = true;
          return ParseSpec(reader, value, key_path, &op.spec);
        }
        return absl::OkStatus();  // summary keys and keys added by a later version
      });
  if (!parsed.ok()) return parsed;

  const std::pair<bool, std::string_view> required[] = {{seen_op, "op"},
                                                        {seen_directory_id, "directory_id"},
                                                        {seen_account_id, "account_id"},
                                                        {seen_email, "email"},
                                                        {seen_reason, "reason"},
                                                        {seen_held, "held"},
                                                        {seen_changes, "changes"},
                                                        {seen_precondition, "precondition"}};
  for (const auto& [seen, key] : required) {
    if (!seen) return reader.Error(Child(path, key), "missing");
  }
  const std::string_view kind_name = core::OpKindName(op.kind);
  const bool deprovision = op.kind == OpKind::kDeactivate || op.kind == OpKind::kDelete;
  if (!deprovision && !seen_spec) {
    return reader.Error(Child(path, "spec"), absl::StrCat("missing (op \"", Sv(kind_name),
                                                          "\" needs the account's spec)"));
  }
  const std::string pre_path = Child(path, "precondition");
  if (op.kind == OpKind::kCreate) {
    if (!op.account_id.empty()) {
      return reader.Error(Child(path, "account_id"), "a create names no account (expected null)");
    }
    if (!account_exists.has_value() || *account_exists) {
      return reader.Error(pre_path, "a create's precondition is {\"account_exists\": false}");
    }
    if (version || active || !before.empty() || !op.changes.empty()) {
      return reader.Error(pre_path,
                          "a create's precondition holds only \"account_exists\": false, and "
                          "its changes are empty");
    }
    return op;
  }
  if (op.account_id.empty()) {
    return reader.Error(Child(path, "account_id"),
                        absl::StrCat("op \"", Sv(kind_name), "\" needs an account id"));
  }
  if (account_exists.has_value() && !*account_exists) {
    return reader.Error(Child(pre_path, "account_exists"),
                        absl::StrCat("op \"", Sv(kind_name), "\" needs an existing account"));
  }
  if (!version) return reader.Error(Child(pre_path, "version"), "missing");
  if (!active) return reader.Error(Child(pre_path, "active"), "missing");
  op.precondition_version = *std::move(version);
  op.precondition_active = *active;
  // The precondition names exactly the changed fields, with their `before` values.
  for (const auto& [field, value] : before) {
    const core::Change* change = nullptr;
    for (const core::Change& candidate : op.changes) {
      if (candidate.field == field) change = &candidate;
    }
    if (change == nullptr) {
      return reader.Error(Child(pre_path, field),
                          "names a field that the operation does not change");
    }
    if (change->before != value) {
      return reader.Error(Child(pre_path, field),
                          absl::StrCat("\"", value, "\" disagrees with changes.", field,
                                       ".before \"", change->before, "\""));
    }
  }
  for (const core::Change& change : op.changes) {
    if (change.field == "active") {  // stands in precondition.active
      if (change.before != (op.precondition_active ? "true" : "false")) {
        return reader.Error(
            Child(pre_path, "active"),
            absl::StrCat(op.precondition_active ? "true" : "false",
                         " disagrees with changes.active.before \"", change.before, "\""));
      }
      continue;
    }
    bool found = false;
    for (const auto& item : before) found = found || item.first == change.field;
    if (!found) return reader.Error(Child(pre_path, change.field), "missing");
  }
  return op;
}

}  // namespace

absl::StatusOr<PlanFile> ParsePlanJson(std::string_view json, std::string_view origin) {
  const Reader reader(origin);
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (auto error = parser.iterate(padded).get(doc)) return reader.Error("", error);
  od::object top;
  if (auto error = doc.get_object().get(top)) {
    return error == simdjson::INCORRECT_TYPE ? reader.Error("", "expected a JSON object")
                                             : reader.Error("", error);
  }
  PlanFile plan;
  bool seen_plan_id = false;
  bool seen_operations = false;
  absl::Status parsed = reader.ForEachField(
      top, "",
      [&](const std::string& key, od::value& value, const std::string& key_path) -> absl::Status {
        if (key == "plan_id") {
          seen_plan_id = true;
          return reader.String(value, key_path, &plan.plan_id);
        }
        if (key == "config") return reader.String(value, key_path, &plan.config_path);
        if (key == "target") return reader.String(value, key_path, &plan.target_url);
        if (key == "hold_reason") return reader.String(value, key_path, &plan.hold_reason);
        if (key != "operations") return absl::OkStatus();
        seen_operations = true;
        od::array array;
        if (auto error = value.get_array().get(array)) {
          return error == simdjson::INCORRECT_TYPE ? reader.Error(key_path, "expected an array")
                                                   : reader.Error(key_path, error);
        }
        size_t index = 0;
        for (auto element : array) {
          const std::string element_path = absl::StrCat("operations[", index++, "]");
          od::value item;
          if (auto error = std::move(element).get(item)) return reader.Error(element_path, error);
          absl::StatusOr<core::Operation> op = ParseOperation(reader, item, element_path);
          if (!op.ok()) return op.status();
          plan.operations.push_back(*std::move(op));
        }
        return absl::OkStatus();
      });
  if (!parsed.ok()) return parsed;
  if (!seen_operations) return reader.Error("operations", "missing: this is not a plan file");
  if (!seen_plan_id) {
    return reader.Error("plan_id",
                        "missing: not a plan file written by `usersync plan --out` (make one)");
  }
  plan.computed_plan_id = PlanFingerprint(plan.operations);
  return plan;
}

absl::StatusOr<core::Operation> ParseOperationJson(std::string_view json, std::string_view origin) {
  const Reader reader(origin);
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (auto error = parser.iterate(padded).get(doc)) return reader.Error("", error);
  od::value value;
  if (auto error = doc.get_value().get(value)) {
    return error == simdjson::SCALAR_DOCUMENT_AS_VALUE ? reader.Error("", "expected an object")
                                                       : reader.Error("", error);
  }
  return ParseOperation(reader, value, "");
}

absl::StatusOr<PlanFile> ReadPlanFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open the plan file ", path, ": ", std::strerror(errno)));
  }
  std::string content;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) content.append(buffer, got);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    return absl::NotFoundError(absl::StrCat("cannot read the plan file ", path));
  }
  return ParsePlanJson(content, path);
}

namespace {

// The account's current value of a plan field ("true"/"false" for active).
std::string FieldOf(const core::Account& account, std::string_view field) {
  if (field == "user_name") return std::string(account.user_name);
  if (field == "email") return std::string(account.email);
  if (field == "external_id") return std::string(account.external_id);
  if (field == "first_name") return std::string(account.first_name);
  if (field == "last_name") return std::string(account.last_name);
  if (field == "display_name") return std::string(account.display_name);
  if (field == "language") return std::string(account.language);
  if (field == "products") return std::string(account.products);
  if (field == "admin_role") return std::string(account.admin_role);
  if (field == "user_group") return std::string(account.user_group);
  if (field == "active") return account.active ? "true" : "false";
  return std::string();
}

std::string OpKey(std::string_view directory_id, std::string_view account_id) {
  return absl::StrCat(Sv(directory_id), "\x1f", Sv(account_id));
}

const core::Change* FindChange(const core::Operation& op, std::string_view field) {
  for (const core::Change& change : op.changes) {
    if (change.field == field) return &change;
  }
  return nullptr;
}

std::string Quoted(std::string_view value) { return absl::StrCat("'", Sv(value), "'"); }

// Target side: does the account still look as the plan saw it?
void CheckAccount(const core::Operation& op, const core::Account* account,
                  std::vector<std::string>& reasons) {
  const std::string who = absl::StrCat("account ", op.account_id);
  if (account == nullptr) {
    reasons.push_back(absl::StrCat(who, " no longer exists at the target"));
    return;
  }
  for (const core::Change& change : op.changes) {
    if (change.field == "active") continue;  // the active flag is checked once, below
    const std::string now = FieldOf(*account, change.field);
    if (now != change.before) {
      reasons.push_back(absl::StrCat(who, ": ", change.field, " is now ", Quoted(now),
                                     ", plan expected ", Quoted(change.before)));
    }
  }
  if (account->active != op.precondition_active) {
    reasons.push_back(absl::StrCat(who, ": active is now ", account->active ? "true" : "false",
                                   ", plan expected ", op.precondition_active ? "true" : "false"));
  }
  if (!op.precondition_version.empty() && account->version != op.precondition_version) {
    reasons.push_back(absl::StrCat(who, ": modified at the target since the plan (version ",
                                   Sv(account->version), ", plan expected ",
                                   op.precondition_version, ")"));
  }
}

// Directory side, for a create: the current create must write the same spec.
void CompareSpecs(const std::string& who, const core::AccountSpec& planned,
                  const core::AccountSpec& now, std::vector<std::string>& reasons) {
  const std::pair<std::string_view, std::pair<const std::string*, const std::string*>> fields[] = {
      {"user_name", {&planned.user_name, &now.user_name}},
      {"email", {&planned.email, &now.email}},
      {"external_id", {&planned.external_id, &now.external_id}},
      {"first_name", {&planned.first_name, &now.first_name}},
      {"last_name", {&planned.last_name, &now.last_name}},
      {"display_name", {&planned.display_name, &now.display_name}},
      {"language", {&planned.language, &now.language}},
      {"products", {&planned.products, &now.products}},
      {"admin_role", {&planned.admin_role, &now.admin_role}},
      {"user_group", {&planned.user_group, &now.user_group}},
      {"welcome_template", {&planned.welcome_template, &now.welcome_template}},
      {"settings_template", {&planned.settings_template, &now.settings_template}}};
  for (const auto& [field, values] : fields) {
    if (*values.first != *values.second) {
      reasons.push_back(absl::StrCat(who, ": ", Sv(field), " should now be ",
                                     Quoted(*values.second), ", plan writes ",
                                     Quoted(*values.first)));
    }
  }
}

// Directory side: does the current plan still want this operation?
void CheckWanted(const core::Operation& op, const core::Operation* now, const core::UserRow* row,
                 std::vector<std::string>& reasons) {
  const std::string who = absl::StrCat("directory user ", op.directory_id);
  if (now == nullptr) {
    if (row != nullptr) {
      reasons.push_back(absl::StrCat(who, ": no longer planned; now ",
                                     Sv(core::CategoryName(row->category)), " (", row->reason,
                                     ")"));
    } else {
      reasons.push_back(absl::StrCat(who, ": no longer planned (not in the directory's scope)"));
    }
    return;
  }
  if (now->kind != op.kind) {
    reasons.push_back(absl::StrCat(who, ": the plan now makes a ", Sv(core::OpKindName(now->kind)),
                                   ", not a ", Sv(core::OpKindName(op.kind))));
    return;
  }
  if (op.kind == OpKind::kCreate) {
    CompareSpecs(who, op.spec, now->spec, reasons);
    return;
  }
  for (const core::Change& change : op.changes) {
    const core::Change* wanted = FindChange(*now, change.field);
    if (wanted == nullptr) {
      reasons.push_back(absl::StrCat(who, ": ", change.field, " no longer changes"));
    } else if (wanted->after != change.after) {
      reasons.push_back(absl::StrCat(who, ": ", change.field, " should now be ",
                                     Quoted(wanted->after), ", plan writes ",
                                     Quoted(change.after)));
    }
  }
  for (const core::Change& change : now->changes) {
    if (FindChange(op, change.field) == nullptr) {
      reasons.push_back(absl::StrCat(who, ": ", change.field, " now changes too (",
                                     Quoted(change.before), " → ", Quoted(change.after), ")"));
    }
  }
}

}  // namespace

DriftReport CheckDrift(std::span<const core::Operation> planned, const core::Accounts& accounts,
                       const core::Plan& current) {
  using ViewMap = absl::flat_hash_map<std::string, const core::Account*>;
  ViewMap by_id, by_name, by_external_id;
  for (const core::Account& account : accounts.items) {
    by_id.emplace(std::string(account.id), &account);
    if (!account.user_name.empty())
      by_name.emplace(core::NormalizeEmail(account.user_name), &account);
    if (!account.email.empty()) by_name.emplace(core::NormalizeEmail(account.email), &account);
    if (!account.external_id.empty()) {
      by_external_id.emplace(std::string(account.external_id), &account);
    }
  }
  absl::flat_hash_map<std::string, const core::Operation*> current_ops;
  for (const core::Operation& op : current.operations) {
    current_ops.emplace(OpKey(op.directory_id, op.account_id), &op);
  }
  absl::flat_hash_map<std::string, const core::UserRow*> rows_by_directory_id;
  for (const core::UserRow& row : current.rows) {
    if (!row.directory_id.empty()) rows_by_directory_id.emplace(row.directory_id, &row);
  }

  DriftReport report;
  report.reasons.resize(planned.size());
  absl::flat_hash_map<std::string, int> planned_keys;
  for (size_t op_idx = 0; op_idx < planned.size(); ++op_idx) {
    const core::Operation& op = planned[op_idx];
    std::vector<std::string>& reasons = report.reasons[op_idx];
    planned_keys.emplace(OpKey(op.directory_id, op.account_id), 0);
    if (op.kind == OpKind::kCreate) {
      const core::Account* existing = nullptr;
      std::string how;
      if (auto it = by_name.find(core::NormalizeEmail(op.spec.user_name)); it != by_name.end()) {
        existing = it->second;
        how = absl::StrCat("userName ", op.spec.user_name);
      } else if (auto it2 = by_name.find(core::NormalizeEmail(op.spec.email));
                 it2 != by_name.end()) {
        existing = it2->second;
        how = absl::StrCat("email ", op.spec.email);
      } else if (auto it3 = by_external_id.find(op.spec.external_id);
                 !op.spec.external_id.empty() && it3 != by_external_id.end()) {
        existing = it3->second;
        how = absl::StrCat("externalId ", op.spec.external_id);
      }
      if (existing != nullptr) {
        reasons.push_back(absl::StrCat("an account with ", how, " now exists at the target (",
                                       Sv(existing->id), "); plan expected none"));
      }
    } else {
      auto it = by_id.find(op.account_id);
      CheckAccount(op, it == by_id.end() ? nullptr : it->second, reasons);
    }
    auto now = current_ops.find(OpKey(op.directory_id, op.account_id));
    auto row = rows_by_directory_id.find(op.directory_id);
    CheckWanted(op, now == current_ops.end() ? nullptr : now->second,
                row == rows_by_directory_id.end() ? nullptr : row->second, reasons);
    if (!reasons.empty()) ++report.drifted;
  }
  for (const core::Operation& op : current.operations) {
    if (!planned_keys.contains(OpKey(op.directory_id, op.account_id))) ++report.not_in_plan;
  }
  return report;
}

}  // namespace usersync::io
