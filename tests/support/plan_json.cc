#include "tests/support/plan_json.h"

#include <simdjson.h>

#include <string_view>

namespace usersync::testing {
namespace {

// A string member's value; "" for null or another type.
std::string StringOr(simdjson::ondemand::value value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return "";
  return std::string(text);
}

PlannedOperation ParseOperation(simdjson::ondemand::object object) {
  PlannedOperation op;
  for (auto field : object) {
    const std::string_view key = field.unescaped_key().value();
    if (key == "op") op.op = StringOr(field.value());
    if (key == "directory_id") op.directory_id = StringOr(field.value());
    if (key == "account_id") op.account_id = StringOr(field.value());
    if (key == "email") op.email = StringOr(field.value());
    if (key == "reason") op.reason = StringOr(field.value());
  }
  return op;
}

InvalidUser ParseInvalid(simdjson::ondemand::object object) {
  InvalidUser user;
  for (auto field : object) {
    const std::string_view key = field.unescaped_key().value();
    if (key == "directory_id") user.directory_id = StringOr(field.value());
    if (key == "reason") user.reason = StringOr(field.value());
  }
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
