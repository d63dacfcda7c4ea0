#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expression.h"
#include "core/expression_functions.h"
#include "core/str.h"

// Evaluation of the compiled form that expression.cc's parser builds. Every node has its own
// scratch string (slot i for node i), so an argument's value stays valid while its siblings
// are evaluated; attributes and literals are read in place, never copied.

namespace usersync::core {

using Op = internal::ExpressionOp;

namespace {

constexpr std::string_view kTrue = "True";
constexpr std::string_view kFalse = "False";

bool IsTrue(std::string_view value) { return EqualsIgnoreCase(value, kTrue); }

// Integers compare as numbers, anything else byte by byte (ordinal).
int Compare(std::string_view a, std::string_view b) {
  constexpr int64_t kNotANumber = INT64_MIN;  // ParseInteger saturates well above it
  const int64_t a_number = internal::ParseInteger(a, kNotANumber);
  const int64_t b_number = internal::ParseInteger(b, kNotANumber);
  if (a_number != kNotANumber && b_number != kNotANumber) {
    return a_number < b_number ? -1 : (a_number > b_number ? 1 : 0);
  }
  const int order = a.compare(b);
  return order < 0 ? -1 : (order > 0 ? 1 : 0);
}

// Replace is the one function whose result can outgrow its arguments many times over (nested,
// each level multiplies), so a result that grows is cut at this size.
constexpr size_t kMaxGrownReplaceBytes = size_t{64} << 10;

// Appends `in` with every occurrence of `from` (non-overlapping, left to right) replaced by
// `to`; with an empty `from`, appends `in` unchanged. What is appended is cut, on a character
// boundary, to max(in.size(), kMaxGrownReplaceBytes) bytes.
void AppendReplaced(std::string_view in, std::string_view from, std::string_view to,
                    std::string* out) {
  const size_t begin_size = out->size();
  const size_t limit = std::max(in.size(), kMaxGrownReplaceBytes);
  if (from.empty()) {
    out->append(in);
    return;
  }
  size_t begin = 0;
  for (size_t found = in.find(from); found != std::string_view::npos;
       found = in.find(from, begin)) {
    out->append(in.substr(begin, found - begin));
    out->append(to);
    begin = found + from.size();
    if (out->size() - begin_size > limit) break;
  }
  if (out->size() - begin_size <= limit) out->append(in.substr(begin));
  if (out->size() - begin_size <= limit) return;
  const std::string_view appended = std::string_view(*out).substr(begin_size);
  size_t keep = 0;
  while (keep < appended.size()) {
    const size_t length = internal::Utf8CharLength(appended, keep);
    if (keep + length > limit) break;
    keep += length;
  }
  out->resize(begin_size + keep);
}

std::string_view TrimSpace(std::string_view value) {
  constexpr std::string_view kSpaces = " \t\r\n";
  const size_t begin = value.find_first_not_of(kSpaces);
  if (begin == std::string_view::npos) return {};
  return value.substr(begin, value.find_last_not_of(kSpaces) - begin + 1);
}

}  // namespace

// One evaluation: a tree walk over the node array with a switch per node. `scratch` holds a
// string per node (slot i for node i), reused across calls.
class ExpressionEvaluator {
 public:
  ExpressionEvaluator(const Expression& expr, std::span<const std::string_view> values,
                      std::string* scratch)
      : expr_(expr), values_(values), scratch_(scratch) {}

  // The value of node `node_idx`: in place for attributes and literals, else evaluated into the
  // node's scratch slot. Valid until that node is evaluated again.
  std::string_view View(uint32_t node_idx) {
    const Expression::Node& node = expr_.nodes_[node_idx];
    switch (static_cast<Op>(node.op)) {
      case Op::kAttribute:
        return node.index < values_.size() ? values_[node.index] : std::string_view();
      case Op::kLiteral:
        return expr_.literals_[node.index];
      default:
        Eval(node_idx, &scratch_[node_idx]);
        return scratch_[node_idx];
    }
  }

  // Writes the value of node `node_idx` into *out (cleared first).
  void Eval(uint32_t node_idx, std::string* out);

 private:
  std::string_view Arg(const Expression::Node& node, uint32_t arg_idx) {
    return View(expr_.args_[node.index + arg_idx]);
  }
  static void AppendBool(bool value, std::string* out) { out->append(value ? kTrue : kFalse); }
  void EvalText(const Expression::Node& node, std::string* out);

  const Expression& expr_;
  std::span<const std::string_view> values_;
  std::string* scratch_;
};

void ExpressionEvaluator::Eval(uint32_t node_idx, std::string* out) {
  out->clear();
  const Expression::Node& node = expr_.nodes_[node_idx];
  switch (static_cast<Op>(node.op)) {
    case Op::kAttribute:
    case Op::kLiteral:
      out->append(View(node_idx));
      return;
    case Op::kEqual:
      return AppendBool(Arg(node, 0) == Arg(node, 1), out);
    case Op::kNotEqual:
      return AppendBool(Arg(node, 0) != Arg(node, 1), out);
    case Op::kLess:
      return AppendBool(Compare(Arg(node, 0), Arg(node, 1)) < 0, out);
    case Op::kLessOrEqual:
      return AppendBool(Compare(Arg(node, 0), Arg(node, 1)) <= 0, out);
    case Op::kGreater:
      return AppendBool(Compare(Arg(node, 0), Arg(node, 1)) > 0, out);
    case Op::kGreaterOrEqual:
      return AppendBool(Compare(Arg(node, 0), Arg(node, 1)) >= 0, out);
    case Op::kCoalesce:
      for (uint32_t arg_idx = 0; arg_idx < node.count; ++arg_idx) {
        const std::string_view value = Arg(node, arg_idx);
        if (!value.empty()) {
          out->append(value);
          return;
        }
      }
      return;
    case Op::kIif:
      out->append(Arg(node, IsTrue(Arg(node, 0)) ? 1 : 2));
      return;
    case Op::kIsNull:
    case Op::kIsNullOrEmpty:
      return AppendBool(Arg(node, 0).empty(), out);
    case Op::kIsPresent:
      return AppendBool(!Arg(node, 0).empty(), out);
    case Op::kNot:
      return AppendBool(!IsTrue(Arg(node, 0)), out);
    case Op::kSwitch: {
      const std::string_view source = Arg(node, 0);
      for (uint32_t key_idx = 2; key_idx + 1 < node.count; key_idx += 2) {
        if (Arg(node, key_idx) == source) {
          out->append(Arg(node, key_idx + 1));
          return;
        }
      }
      out->append(Arg(node, 1));
      return;
    }
    default:
      return EvalText(node, out);
  }
}

// The functions that transform text.
void ExpressionEvaluator::EvalText(const Expression::Node& node, std::string* out) {
  switch (static_cast<Op>(node.op)) {
    case Op::kAppend: {
      const std::string_view source = Arg(node, 0);
      const std::string_view suffix = Arg(node, 1);
      out->append(source).append(suffix);
      return;
    }
    case Op::kJoin: {
      const std::string_view separator = Arg(node, 0);
      bool first = true;
      for (uint32_t arg_idx = 1; arg_idx < node.count; ++arg_idx) {
        const std::string_view value = Arg(node, arg_idx);
        if (value.empty()) continue;
        if (!first) out->append(separator);
        out->append(value);
        first = false;
      }
      return;
    }
    case Op::kLeft: {
      const std::string_view source = Arg(node, 0);
      const int64_t chars = internal::ParseInteger(Arg(node, 1), 0);
      out->append(chars < 0 ? source : source.substr(0, internal::Utf8Skip(source, chars)));
      return;
    }
    case Op::kMid: {
      const std::string_view source = Arg(node, 0);
      const int64_t start = std::max<int64_t>(internal::ParseInteger(Arg(node, 1), 1), 1);
      const int64_t length = internal::ParseInteger(Arg(node, 2), 0);
      if (length <= 0) return;
      const std::string_view rest = source.substr(internal::Utf8Skip(source, start - 1));
      out->append(rest.substr(0, internal::Utf8Skip(rest, length)));
      return;
    }
    case Op::kCStr:  // every value is a string already
      out->append(Arg(node, 0));
      return;
    case Op::kConvertToUtf8Hex:
      for (const char c : Arg(node, 0)) {
        constexpr char kHex[] = "0123456789ABCDEF";
        const auto byte = static_cast<unsigned char>(c);
        out->push_back(kHex[byte >> 4]);
        out->push_back(kHex[byte & 15]);
      }
      return;
    case Op::kNormalizeDiacritics:
      return internal::AppendNormalizedDiacritics(Arg(node, 0), out);
    case Op::kToLower:  // the culture argument is not read: invariant culture
      return internal::AppendLower(Arg(node, 0), out);
    case Op::kToUpper:
      return internal::AppendUpper(Arg(node, 0), out);
    case Op::kPCase: {
      const std::string_view source = Arg(node, 0);
      const std::string_view separators = node.count > 1 ? Arg(node, 1) : std::string_view();
      return internal::AppendProperCase(source, separators, out);
    }
    case Op::kReplace: {
      const std::string_view source = Arg(node, 0);
      const std::string_view old_value = Arg(node, 1);
      const std::string_view templ = Arg(node, 6);
      if (!templ.empty()) {
        if (!source.empty()) AppendReplaced(templ, old_value, source, out);
        return;
      }
      return AppendReplaced(source, old_value, Arg(node, 4), out);
    }
    case Op::kStripSpaces:
      return AppendReplaced(Arg(node, 0), " ", "", out);
    case Op::kTrim:
      out->append(TrimSpace(Arg(node, 0)));
      return;
    case Op::kWord: {
      const std::string_view source = Arg(node, 0);
      const int64_t number = internal::ParseInteger(Arg(node, 1), 0);
      out->append(internal::WordAt(source, number, Arg(node, 2)));
      return;
    }
    default:
      return;  // every Op is handled above or in Eval
  }
}

void Expression::Evaluate(std::span<const std::string_view> values, std::string* out) const {
  // One slot per node, kept per thread so that warm calls do not allocate.
  if (nodes_.empty()) {  // default-constructed
    out->clear();
    return;
  }
  thread_local std::vector<std::string> scratch;
  if (scratch.size() < nodes_.size()) scratch.resize(nodes_.size());
  ExpressionEvaluator(*this, values, scratch.data()).Eval(root_, out);
}

}  // namespace usersync::core
