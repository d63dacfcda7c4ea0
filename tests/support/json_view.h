// JsonView: a parsed response body for tests. Accessors take JSON pointers ("/Resources/0/id")
// and return a marker value for anything missing ("<missing>", -999, -1), so a failed look-up
// fails the comparison that uses it instead of crashing the test. Not thread-safe; one per body.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace usersync::testing {

class JsonView {
 public:
  explicit JsonView(const std::string& text) {
    ok_ = parser_.parse(text).get(root_) == simdjson::SUCCESS;
  }
  // root_ points into parser_: neither may move.
  JsonView(const JsonView&) = delete;
  JsonView& operator=(const JsonView&) = delete;

  bool ok() const { return ok_; }
  bool Has(std::string_view pointer) const {
    simdjson::dom::element element;
    return ok_ && root_.at_pointer(pointer).get(element) == simdjson::SUCCESS;
  }
  bool IsNull(std::string_view pointer) const {
    simdjson::dom::element element;
    return ok_ && root_.at_pointer(pointer).get(element) == simdjson::SUCCESS && element.is_null();
  }
  std::string Str(std::string_view pointer) const {
    std::string_view value;
    if (!ok_ || root_.at_pointer(pointer).get(value) != simdjson::SUCCESS) return "<missing>";
    return std::string(value);
  }
  int64_t Int(std::string_view pointer) const {
    int64_t value;
    if (!ok_ || root_.at_pointer(pointer).get(value) != simdjson::SUCCESS) return -999;
    return value;
  }
  // 1 true, 0 false, -1 missing.
  int Bool(std::string_view pointer) const {
    bool value;
    if (!ok_ || root_.at_pointer(pointer).get(value) != simdjson::SUCCESS) return -1;
    return value ? 1 : 0;
  }
  int64_t Size(std::string_view pointer) const {
    simdjson::dom::array array;
    if (!ok_ || root_.at_pointer(pointer).get(array) != simdjson::SUCCESS) return -1;
    return static_cast<int64_t>(array.size());
  }
  // The strings of an array, "<missing>" for an element that is not a string.
  std::vector<std::string> Strings(std::string_view pointer) const {
    std::vector<std::string> values;
    for (int64_t index = 0; index < Size(pointer); ++index) {
      values.push_back(Str(absl::StrCat(std::string(pointer), "/", index)));
    }
    return values;
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
  bool ok_ = false;
};

}  // namespace usersync::testing
