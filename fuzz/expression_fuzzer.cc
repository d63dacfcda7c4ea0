// Fuzz target: attribute-mapping expressions (core/expression.h Parse and Evaluate).
// Input: the expression text, then a NUL byte, then attribute values separated by NUL bytes
// (attributes() takes them in order; missing ones read as "").
// Properties: no crash or UB (nesting and length are bounded, Replace's growth is capped); a
// parse error starts with "column N: "; evaluation is deterministic and does not leak values
// between calls (values, other values, values again give the first result twice); and when the
// text and every value are valid UTF-8, so is the result (no code point is ever split).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/expression.h"
#include "core/expression_functions.h"
#include "core/str.h"
#include "fuzz/fuzz_check.h"

namespace {

using usersync::core::Expression;

bool IsValidUtf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = usersync::core::internal::Utf8CharLength(text, pos);
    if (length == 1 && static_cast<unsigned char>(text[pos]) >= 0x80) return false;
    pos += length;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = usersync::fuzz::AsText(data, size);
  const size_t text_end = input.find('\0');
  const std::string_view text = input.substr(0, text_end);
  std::vector<std::string_view> values;
  if (text_end != std::string_view::npos) {
    std::string_view rest = input.substr(text_end + 1);
    while (true) {
      const size_t value_end = rest.find('\0');
      values.push_back(rest.substr(0, value_end));
      if (value_end == std::string_view::npos) break;
      rest.remove_prefix(value_end + 1);
    }
  }

  const absl::StatusOr<Expression> expr = Expression::Parse(text);
  if (!expr.ok()) {
    const std::string_view message = usersync::StdSv(expr.status().message());
    usersync::fuzz::Check(message.starts_with("column "), "a parse error names its column", text,
                          message);
    return 0;
  }
  std::string first;
  expr->Evaluate(values, &first);
  // Other values (each value reversed, so lengths match and contents differ), then the same.
  std::vector<std::string> reversed(values.begin(), values.end());
  std::vector<std::string_view> other;
  for (std::string& value : reversed) {
    value.assign(value.rbegin(), value.rend());
    other.emplace_back(value);
  }
  std::string scratch;
  expr->Evaluate(other, &scratch);
  std::string again = "not cleared";
  expr->Evaluate(values, &again);
  usersync::fuzz::Check(first == again, "Evaluate is deterministic across calls", first, again);

  bool all_valid = IsValidUtf8(text);
  for (const std::string_view value : values) all_valid = all_valid && IsValidUtf8(value);
  if (all_valid) {
    usersync::fuzz::Check(IsValidUtf8(first), "valid UTF-8 in gives valid UTF-8 out", text, first);
  }
  return 0;
}
