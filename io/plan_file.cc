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
#include "io/atomic_file.h"
#include "io/operation_codec.h"
#include "io/report/plan_report.h"
#include "simdjson.h"

namespace usersync::io {
namespace {

namespace od = simdjson::ondemand;
using core::OpKind;

// "plan_format": 1 or 2 (PlanFormat); a later one is refused, as its operations may mean more
// than this build reads.
absl::Status ReadFormat(const JsonReader& reader, od::value& v, const std::string& path,
                        int64_t* format) {
  if (auto error = v.get_int64().get(*format)) {
    return error == simdjson::INCORRECT_TYPE ? reader.Error(path, "expected an integer")
                                             : reader.Error(path, error);
  }
  if (*format != static_cast<int64_t>(PlanFormat::kFull) &&
      *format != static_cast<int64_t>(PlanFormat::kCompact)) {
    return reader.Error(path, absl::StrCat(*format,
                                           ": written by a later usersync (this one "
                                           "reads 1 and 2); make the plan again"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PlanFile> ParsePlanJson(std::string_view json, std::string_view origin) {
  const JsonReader reader(origin);
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  USERSYNC_RETURN_IF_ERROR(reader.Iterate(parser, padded, &doc));
  od::object top;
  if (auto error = doc.get_object().get(top)) {
    return error == simdjson::INCORRECT_TYPE ? reader.Error("", "expected a JSON object")
                                             : reader.Error("", error);
  }
  PlanFile plan;
  bool seen_plan_id = false;
  bool seen_operations = false;
  int64_t format = static_cast<int64_t>(PlanFormat::kFull);  // absent: before issue 17
  absl::Status parsed = reader.ForEachField(
      top, "",
      [&](const std::string& key, od::value& value, const std::string& key_path) -> absl::Status {
        if (key == "plan_id") {
          seen_plan_id = true;
          return reader.String(value, key_path, &plan.plan_id);
        }
        if (key == "plan_format") return ReadFormat(reader, value, key_path, &format);
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
  plan.computed_plan_id = PlanFingerprint(plan.operations, static_cast<PlanFormat>(format));
  return plan;
}

absl::StatusOr<PlanFile> ReadPlanFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (absl::IsNotFound(content.status())) {
    return absl::NotFoundError(
        absl::StrCat("cannot open the plan file ", path, ": ", content.status().message()));
  }
  if (!content.ok()) {
    return absl::NotFoundError(absl::StrCat("cannot read the plan file ", path));
  }
  return ParsePlanJson(*content, path);
}

namespace {

std::string OpKey(std::string_view directory_id, std::string_view account_id) {
  return absl::StrCat(Sv(directory_id), "\x1f", Sv(account_id));
}

const core::Change* FindChange(const core::Operation& op, const core::Change& like) {
  for (const core::Change& change : op.changes) {
    if (core::SameTarget(change, like)) return &change;
  }
  return nullptr;
}

std::string Quoted(std::string_view value) { return absl::StrCat("'", Sv(value), "'"); }

// Target side: does the account still look as the plan saw it?
void CheckAccount(const core::Operation& op, const core::Account* account,
                  std::vector<std::string>& reasons) {
  const std::string who = absl::StrCat("account ", Sv(op.account_id));
  if (account == nullptr) {
    reasons.push_back(absl::StrCat(who, " no longer exists at the target"));
    return;
  }
  for (const core::Change& change : op.changes) {
    if (change.field == core::Field::kActive) continue;  // the active flag is checked once, below
    const std::string_view now = core::HeldValue(*account, change);
    if (now != change.before) {
      reasons.push_back(absl::StrCat(who, ": ", core::ChangeName(change), " is now ", Quoted(now),
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
                                   Sv(op.precondition_version), ")"));
  }
}

// Directory side, for a create: the current create must write the same spec.
void CompareSpecs(const std::string& who, const core::AccountSpec& planned,
                  const core::AccountSpec& now, std::vector<std::string>& reasons) {
  auto compare = [&](std::string_view field, std::string_view planned_value,
                     std::string_view now_value) {
    if (planned_value != now_value) {
      reasons.push_back(absl::StrCat(who, ": ", Sv(field), " should now be ", Quoted(now_value),
                                     ", plan writes ", Quoted(planned_value)));
    }
  };
  for (core::Field field : core::kAllFields) {
    if (field != core::Field::kActive) {
      compare(core::FieldName(field), planned.Get(field), now.Get(field));
    }
  }
  compare("welcome_template", planned.welcome_template, now.welcome_template);
  compare("suppress_welcome", core::BoolText(planned.suppress_welcome),
          core::BoolText(now.suppress_welcome));
  for (const auto& [path, value] : now.attributes) {
    compare(absl::StrCat("attribute:", Sv(path)), planned.Attribute(path), value);
  }
  for (const auto& [path, value] : planned.attributes) {
    if (now.Attribute(path).empty()) compare(absl::StrCat("attribute:", Sv(path)), value, "");
  }
}

// Directory side: does the current plan still want this operation?
void CheckWanted(const core::Operation& op, const core::Operation* now, const core::UserRow* row,
                 std::vector<std::string>& reasons) {
  const std::string who = absl::StrCat("directory user ", Sv(op.directory_id));
  if (now == nullptr) {
    if (row != nullptr) {
      reasons.push_back(absl::StrCat(who, ": no longer planned; now ",
                                     Sv(core::CategoryName(row->category)), " (", Sv(row->reason),
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
    const core::Change* wanted = FindChange(*now, change);
    if (wanted == nullptr) {
      reasons.push_back(absl::StrCat(who, ": ", core::ChangeName(change), " no longer changes"));
    } else if (wanted->after != change.after) {
      reasons.push_back(absl::StrCat(who, ": ", core::ChangeName(change), " should now be ",
                                     Quoted(wanted->after), ", plan writes ",
                                     Quoted(change.after)));
    }
  }
  for (const core::Change& change : now->changes) {
    if (FindChange(op, change) == nullptr) {
      reasons.push_back(absl::StrCat(who, ": ", core::ChangeName(change), " now changes too (",
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
        how = absl::StrCat("userName ", Sv(op.spec.user_name));
      } else if (auto it2 = by_name.find(core::NormalizeEmail(op.spec.email));
                 it2 != by_name.end()) {
        existing = it2->second;
        how = absl::StrCat("email ", Sv(op.spec.email));
      } else if (auto it3 = by_external_id.find(op.spec.external_id);
                 !op.spec.external_id.empty() && it3 != by_external_id.end()) {
        existing = it3->second;
        how = absl::StrCat("externalId ", Sv(op.spec.external_id));
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
