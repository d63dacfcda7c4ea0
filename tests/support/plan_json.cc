#include "tests/support/plan_json.h"

#include <simdjson.h>

#include <initializer_list>
#include <string_view>
#include <utility>

namespace usersync::testing {
namespace {

// A string member's value; "" for null or another type.
std::string StringOr(simdjson::ondemand::value value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return "";
  return std::string(text);
}

// Copies the string members named in `members` out of `object`; the others are skipped.
void ReadStrings(simdjson::ondemand::object object,
                 std::initializer_list<std::pair<std::string_view, std::string*>> members) {
  for (auto field : object) {
    const std::string_view key = field.unescaped_key().value();
    for (const auto& [name, out] : members) {
      if (key == name) *out = StringOr(field.value());
    }
  }
}

// {"field": {"before": ..., "after": ...}, ...} → (field, after) pairs.
std::vector<std::pair<std::string, std::string>> ParseChanges(simdjson::ondemand::object object) {
  std::vector<std::pair<std::string, std::string>> changes;
  for (auto field : object) {
    std::string name(field.unescaped_key().value());
    std::string after;
    simdjson::ondemand::object change;
    if (field.value().get_object().get(change) == simdjson::SUCCESS) {
      ReadStrings(change, {{"after", &after}});
    }
    changes.emplace_back(std::move(name), std::move(after));
  }
  return changes;
}

PlannedOperation ParseOperation(simdjson::ondemand::object object) {
  PlannedOperation op;
  for (auto field : object) {
    const std::string_view key = field.unescaped_key().value();
    if (key == "changes") {
      simdjson::ondemand::object changes;
      if (field.value().get_object().get(changes) == simdjson::SUCCESS) {
        op.changes = ParseChanges(changes);
      }
      continue;
    }
    for (const auto& [name, out] : std::initializer_list<std::pair<std::string_view, std::string*>>{
             {"op", &op.op},
             {"directory_id", &op.directory_id},
             {"account_id", &op.account_id},
             {"email", &op.email},
             {"reason", &op.reason}}) {
      if (key == name) *out = StringOr(field.value());
    }
  }
  return op;
}

InvalidUser ParseInvalid(simdjson::ondemand::object object) {
  InvalidUser user;
  ReadStrings(object, {{"directory_id", &user.directory_id}, {"reason", &user.reason}});
  return user;
}

}  // namespace

PlanJson ParsePlanJson(const std::string& json) {
  PlanJson plan;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(root) != simdjson::SUCCESS) {
    return plan;
  }
  for (auto field : root) {
    const std::string_view key = field.unescaped_key().value();
    if (key == "operations") {
      for (auto op : field.value().get_array()) plan.operations.push_back(ParseOperation(op));
    } else if (key == "invalid") {
      for (auto row : field.value().get_array()) plan.invalid.push_back(ParseInvalid(row));
    } else if (key == "warnings") {
      for (auto warning : field.value().get_array()) {
        simdjson::ondemand::value value;
        if (warning.get(value) == simdjson::SUCCESS) plan.warnings.push_back(StringOr(value));
      }
    }
  }
  plan.parsed = true;
  return plan;
}

}  // namespace usersync::testing
