#include "core/expression.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/expression_functions.h"
#include "core/str.h"

// The compiled form. A call's node precedes its arguments' nodes, a comparison's follows its
// operands'; root_ names the top node. A call's argument node indices sit contiguously in args_:
//
//   Join(" ", [givenName], ToUpper([sn]))
//   nodes_: 0 Join{index 1, count 3}   1 Literal{0}   2 Attribute{0}
//           3 ToUpper{index 0, count 1}   4 Attribute{1}
//   args_:  [4, 1, 2, 3]            attributes_: ["givenName", "sn"]   literals_: [" "]
//   root_:  0    (ToUpper's argument list is complete first, so it comes first in args_)
//
// expression_eval.cc evaluates it.

namespace usersync::core {

namespace {

using Op = internal::ExpressionOp;

constexpr uint32_t kUnbounded = 0xFFFFFFFF;

struct FunctionInfo {
  std::string_view name;
  Op op;
  uint32_t min_args;
  uint32_t max_args;
};

// Sorted by name; names are case-sensitive, as the Microsoft reference says.
constexpr FunctionInfo kFunctions[] = {
    {"Append", Op::kAppend, 2, 2},
    {"CStr", Op::kCStr, 1, 1},
    {"Coalesce", Op::kCoalesce, 1, kUnbounded},
    {"ConvertToUTF8Hex", Op::kConvertToUtf8Hex, 1, 1},
    {"IIF", Op::kIif, 3, 3},
    {"IsNull", Op::kIsNull, 1, 1},
    {"IsNullOrEmpty", Op::kIsNullOrEmpty, 1, 1},
    {"IsPresent", Op::kIsPresent, 1, 1},
    {"Join", Op::kJoin, 2, kUnbounded},
    {"Left", Op::kLeft, 2, 2},
    {"Mid", Op::kMid, 3, 3},
    {"NormalizeDiacritics", Op::kNormalizeDiacritics, 1, 1},
    {"Not", Op::kNot, 1, 1},
    {"PCase", Op::kPCase, 1, 2},
    {"Replace", Op::kReplace, 7, 7},
    {"StripSpaces", Op::kStripSpaces, 1, 1},
    {"Switch", Op::kSwitch, 4, kUnbounded},
    {"ToLower", Op::kToLower, 1, 2},
    {"ToUpper", Op::kToUpper, 1, 2},
    {"Trim", Op::kTrim, 1, 1},
    {"Word", Op::kWord, 3, 3},
};

const FunctionInfo* FindFunction(std::string_view name) {
  for (const FunctionInfo& function : kFunctions) {
    if (function.name == name) return &function;
  }
  return nullptr;
}

// Levenshtein distance of the ASCII-lowercased names, capped: names are short identifiers.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t b_idx = 0; b_idx <= b.size(); ++b_idx) row[b_idx] = b_idx;
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  for (size_t a_idx = 1; a_idx <= a.size(); ++a_idx) {
    size_t diagonal = row[0];
    row[0] = a_idx;
    for (size_t b_idx = 1; b_idx <= b.size(); ++b_idx) {
      const size_t substitution = diagonal + (lower(a[a_idx - 1]) == lower(b[b_idx - 1]) ? 0 : 1);
      diagonal = row[b_idx];
      row[b_idx] = std::min({row[b_idx] + 1, row[b_idx - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

std::string UnknownFunctionMessage(std::string_view name) {
  std::string message = absl::StrCat("unknown function '", Sv(name), "'");
  const FunctionInfo* best = nullptr;
  size_t best_distance = 3;  // suggest only within two edits
  for (const FunctionInfo& function : kFunctions) {
    const size_t distance = EditDistance(name, function.name);
    if (distance < best_distance) {
      best = &function;
      best_distance = distance;
    }
  }
  if (best != nullptr && EqualsIgnoreCase(name, best->name)) {
    absl::StrAppend(&message, " (did you mean ", Sv(best->name),
                    "? function names are case-sensitive)");
  } else if (best != nullptr) {
    absl::StrAppend(&message, " (did you mean ", Sv(best->name), "?)");
  } else {
    absl::StrAppend(&message, " (known functions:");
    for (const FunctionInfo& function : kFunctions) {
      absl::StrAppend(&message, " ", Sv(function.name));
    }
    absl::StrAppend(&message, ")");
  }
  return message;
}

std::string ArgumentCountMessage(const FunctionInfo& function, size_t got) {
  std::string expected;
  if (function.max_args == kUnbounded) {
    expected = absl::StrCat("at least ", function.min_args);
  } else if (function.min_args == function.max_args) {
    expected = absl::StrCat(function.min_args);
  } else {
    expected = absl::StrCat(function.min_args, " or ", function.max_args);
  }
  return absl::StrCat(Sv(function.name), " takes ", expected, " argument",
                      function.max_args == 1 ? "" : "s", ", got ", got);
}

bool IsIdentifierStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// How an unexpected byte is named in a message: printable ASCII as itself, others in hex.
std::string Describe(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x21 && byte < 0x7F) return absl::StrCat("'", std::string(1, c), "'");
  constexpr char kHex[] = "0123456789ABCDEF";
  return absl::StrCat("byte 0x", std::string(1, kHex[byte >> 4]), std::string(1, kHex[byte & 15]));
}

}  // namespace

// Recursive descent over the grammar
//   expression := argument
//   argument   := <empty> | operand [ ("=" | "<>" | "<" | "<=" | ">" | ">=") operand ]
//   operand    := "[" name "]" | '"' chars '"' | ["-"] digits | Name "(" argument {"," argument}
//   ")"
// (an empty argument only inside a call's parentheses).
class ExpressionParser {
 public:
  ExpressionParser(std::string_view text, Expression* expr) : text_(text), expr_(expr) {}

  absl::Status Run() {
    if (text_.size() > Expression::kMaxTextBytes) {
      return Error(Expression::kMaxTextBytes,
                   absl::StrCat("expression longer than ", Expression::kMaxTextBytes, " bytes"));
    }
    SkipSpace();
    if (AtEnd()) return Error(pos_, "empty expression");
    absl::StatusOr<uint32_t> root = ParseComparison(0);
    if (!root.ok()) return root.status();
    expr_->root_ = *root;
    SkipSpace();
    if (!AtEnd()) {
      return Error(
          pos_, absl::StrCat("unexpected ", Describe(Peek()), " after the end of the expression"));
    }
    return absl::OkStatus();
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(Peek())) ++pos_;
  }
  absl::Status Error(size_t pos, std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("column ", pos + 1, ": ", Sv(message)));
  }

  uint32_t AddNode(Op op, uint32_t index, uint32_t count) {
    expr_->nodes_.push_back(Expression::Node{static_cast<uint8_t>(op), index, count});
    return static_cast<uint32_t>(expr_->nodes_.size() - 1);
  }
  uint32_t AddLiteral(std::string value) {
    expr_->literals_.push_back(std::move(value));
    return AddNode(Op::kLiteral, static_cast<uint32_t>(expr_->literals_.size() - 1), 0);
  }
  uint32_t AddAttribute(std::string_view name) {
    std::vector<std::string>& attributes = expr_->attributes_;
    const auto found = std::find(attributes.begin(), attributes.end(), name);
    const auto index = static_cast<uint32_t>(found - attributes.begin());
    if (found == attributes.end()) attributes.emplace_back(name);
    return AddNode(Op::kAttribute, index, 0);
  }

  absl::StatusOr<uint32_t> ParseComparison(int depth);
  absl::StatusOr<uint32_t> ParseOperand(int depth);
  absl::StatusOr<uint32_t> ParseCall(int depth);
  absl::StatusOr<uint32_t> ParseAttribute();
  absl::StatusOr<uint32_t> ParseString();
  absl::Status CheckCall(const FunctionInfo& function, size_t name_pos,
                         const std::vector<uint32_t>& args,
                         const std::vector<size_t>& arg_positions) const;
  bool IsEmptyLiteral(uint32_t node_idx) const {
    const Expression::Node& node = expr_->nodes_[node_idx];
    return static_cast<Op>(node.op) == Op::kLiteral && expr_->literals_[node.index].empty();
  }

  std::string_view text_;
  Expression* expr_;
  size_t pos_ = 0;
};

absl::StatusOr<uint32_t> ExpressionParser::ParseComparison(int depth) {
  absl::StatusOr<uint32_t> lhs = ParseOperand(depth);
  if (!lhs.ok()) return lhs.status();
  SkipSpace();
  struct Operator {
    std::string_view token;
    Op op;
  };
  static constexpr Operator kOperators[] = {
      {"<>", Op::kNotEqual}, {"<=", Op::kLessOrEqual}, {">=", Op::kGreaterOrEqual},
      {"=", Op::kEqual},     {"<", Op::kLess},         {">", Op::kGreater},
  };
  const Operator* matched = nullptr;
  for (const Operator& candidate : kOperators) {
    if (text_.substr(pos_).starts_with(candidate.token)) {
      matched = &candidate;
      break;
    }
  }
  if (matched == nullptr) return lhs;
  pos_ += matched->token.size();
  SkipSpace();
  if (AtEnd() || Peek() == ',' || Peek() == ')') {
    return Error(pos_, absl::StrCat("missing the right side of '", Sv(matched->token), "'"));
  }
  absl::StatusOr<uint32_t> rhs = ParseOperand(depth);
  if (!rhs.ok()) return rhs.status();
  const auto args_begin = static_cast<uint32_t>(expr_->args_.size());
  expr_->args_.push_back(*lhs);
  expr_->args_.push_back(*rhs);
  return AddNode(matched->op, args_begin, 2);
}

absl::StatusOr<uint32_t> ExpressionParser::ParseOperand(int depth) {
  if (AtEnd()) return Error(pos_, "unexpected end of the expression");
  const char c = Peek();
  if (c == '[') return ParseAttribute();
  if (c == '"') return ParseString();
  if (IsDigit(c) || (c == '-' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1]))) {
    const size_t begin = pos_++;
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
    return AddLiteral(std::string(text_.substr(begin, pos_ - begin)));
  }
  if (IsIdentifierStart(c)) return ParseCall(depth);
  if (c == ']') return Error(pos_, "']' without a matching '['");
  if (c == ')') return Error(pos_, "')' without a matching '('");
  return Error(pos_,
               absl::StrCat("unexpected ", Describe(c),
                            " (expected [attribute], \"string\", a number or Function(...))"));
}

absl::StatusOr<uint32_t> ExpressionParser::ParseAttribute() {
  const size_t open_pos = pos_++;
  const size_t begin = pos_;
  while (!AtEnd() && Peek() != ']') {
    const auto byte = static_cast<unsigned char>(Peek());
    if (std::string_view("[](),\"\\").find(Peek()) != std::string_view::npos) {
      return Error(pos_,
                   absl::StrCat(Describe(Peek()), " inside an attribute name (missing ']'?)"));
    }
    if (byte <= 0x20 || byte == 0x7F) {
      return Error(pos_,
                   absl::StrCat("attribute names hold no spaces or control characters, found ",
                                byte == ' ' ? std::string("a space") : Describe(Peek())));
    }
    ++pos_;
  }
  if (AtEnd()) return Error(open_pos, "unterminated attribute name: '[' without ']'");
  const std::string_view name = text_.substr(begin, pos_ - begin);
  ++pos_;
  if (name.empty()) return Error(open_pos, "empty attribute name '[]'");
  return AddAttribute(name);
}

absl::StatusOr<uint32_t> ExpressionParser::ParseString() {
  const size_t open_pos = pos_++;
  std::string value;
  while (!AtEnd() && Peek() != '"') {
    if (Peek() == '\\') {
      if (pos_ + 1 < text_.size() && (text_[pos_ + 1] == '"' || text_[pos_ + 1] == '\\')) {
        value.push_back(text_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      if (pos_ + 1 < text_.size()) {
        return Error(pos_, absl::StrCat("unknown escape '\\", std::string(1, text_[pos_ + 1]),
                                        "' in a string (write \\\\ for a backslash, \\\" for a "
                                        "quotation mark)"));
      }
      break;  // a backslash just before the end: unterminated
    }
    value.push_back(Peek());
    ++pos_;
  }
  if (AtEnd()) return Error(open_pos, "unterminated string: '\"' without a closing '\"'");
  ++pos_;
  return AddLiteral(std::move(value));
}

absl::StatusOr<uint32_t> ExpressionParser::ParseCall(int depth) {
  const size_t name_pos = pos_;
  while (!AtEnd() && IsIdentifierChar(Peek())) ++pos_;
  const std::string_view name = text_.substr(name_pos, pos_ - name_pos);
  const FunctionInfo* function = FindFunction(name);
  if (function == nullptr) return Error(name_pos, UnknownFunctionMessage(name));
  if (depth + 1 > Expression::kMaxDepth) {
    return Error(name_pos,
                 absl::StrCat("function calls nested deeper than ", Expression::kMaxDepth));
  }
  SkipSpace();
  if (AtEnd() || Peek() != '(') {
    return Error(pos_, absl::StrCat("expected '(' after ", Sv(name)));
  }
  ++pos_;
  const uint32_t node_idx = AddNode(function->op, 0, 0);
  std::vector<uint32_t> args;
  std::vector<size_t> arg_positions;
  SkipSpace();
  if (!AtEnd() && Peek() == ')') {
    ++pos_;
  } else {
    while (true) {
      SkipSpace();
      arg_positions.push_back(pos_);
      if (!AtEnd() && (Peek() == ',' || Peek() == ')')) {
        args.push_back(
            AddLiteral(""));  // an omitted argument, as in Replace([a], "x", , , "y", , )
      } else {
        absl::StatusOr<uint32_t> arg = ParseComparison(depth + 1);
        if (!arg.ok()) return arg.status();
        args.push_back(*arg);
      }
      SkipSpace();
      if (AtEnd()) {
        return Error(pos_,
                     absl::StrCat("missing ')' to close ", Sv(name), "( of column ", name_pos + 1));
      }
      if (Peek() == ')') {
        ++pos_;
        break;
      }
      if (Peek() != ',') {
        return Error(pos_, absl::StrCat("expected ',' or ')' in the arguments of ", Sv(name),
                                        ", found ", Describe(Peek())));
      }
      ++pos_;
    }
  }
  if (absl::Status status = CheckCall(*function, name_pos, args, arg_positions); !status.ok()) {
    return status;
  }
  expr_->nodes_[node_idx].index = static_cast<uint32_t>(expr_->args_.size());
  expr_->nodes_[node_idx].count = static_cast<uint32_t>(args.size());
  expr_->args_.insert(expr_->args_.end(), args.begin(), args.end());
  return node_idx;
}

absl::Status ExpressionParser::CheckCall(const FunctionInfo& function, size_t name_pos,
                                         const std::vector<uint32_t>& args,
                                         const std::vector<size_t>& arg_positions) const {
  if (args.size() < function.min_args || args.size() > function.max_args) {
    return Error(name_pos, ArgumentCountMessage(function, args.size()));
  }
  if (function.op == Op::kSwitch && args.size() % 2 != 0) {
    return Error(name_pos, absl::StrCat("Switch takes source, defaultValue, then key/value pairs "
                                        "(an even number of arguments), got ",
                                        args.size()));
  }
  if (function.op == Op::kReplace) {
    // Only the forms without a regular expression; see the README, "Mapping expressions".
    static constexpr std::pair<size_t, std::string_view> kRegexOnly[] = {
        {2, "regexPattern"}, {3, "regexGroupName"}, {5, "replacementAttributeName"}};
    for (const auto& [arg_idx, arg_name] : kRegexOnly) {
      if (!IsEmptyLiteral(args[arg_idx])) {
        return Error(arg_positions[arg_idx],
                     absl::StrCat("Replace with a ", Sv(arg_name),
                                  " is not supported: usersync implements Replace(source, "
                                  "oldValue, , , replacementValue, , ) and Replace(source, "
                                  "oldValue, , , , , template); leave argument ",
                                  arg_idx + 1, " empty"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Expression> Expression::Parse(std::string_view text) {
  Expression expr;
  expr.text_ = std::string(text);
  ExpressionParser parser(expr.text_, &expr);
  if (absl::Status status = parser.Run(); !status.ok()) return status;
  return expr;
}

}  // namespace usersync::core
