// Attribute-mapping expressions: a parser and evaluator of the expression language Microsoft
// Entra ID provisioning uses for attribute mappings, for the functions usersync supports.
// The contract is Microsoft's "Reference for writing expressions for attribute mappings in
// Microsoft Entra ID" (https://learn.microsoft.com/entra/identity/app-provisioning/
// functions-for-customizing-application-data); the README's "Mapping expressions" lists every
// function with an example, and where usersync differs from Entra.
//
// Syntax (as the reference states it): an expression is an attribute `[givenName]`, a string
// constant `"United States"` (a backslash escapes `\"` and `\\`, and the reference requires
// both to be escaped, so any other `\x` is refused), or a function call `Name(arg, ...)` whose
// arguments are expressions; calls nest. The reference's examples also use bare integers
// (`Left("John Doe", 3)`), omitted arguments (`Replace([a], "x", , , "y", , )`: an omitted
// argument is ""), and IIF conditions with a comparison (`IIF([country]="USA", ...)`: one of
// = <> < <= > >= between two operands, giving "True" or "False"; both accepted here as any
// argument). Function names are case-sensitive ("The syntax is case-sensitive"): `join(...)`
// is refused with a hint. Whitespace between tokens is ignored. Attribute names hold no spaces
// or control characters.
//
// Values are strings. An absent attribute is the empty string: usersync does not tell null from
// "" (so IsNull = IsNullOrEmpty, and Coalesce skips empty values). Booleans are the strings
// "True" and "False" (IIF and Not read "True", compared case-insensitively, as true and any
// other value as false).
//
// Parse errors are absl::InvalidArgumentError whose message begins "column N: " (1-based, in
// bytes of `text`), e.g. "column 1: unknown function 'Jion' (did you mean Join?)". Bounds:
// text of at most kMaxTextBytes bytes, calls nested at most kMaxDepth deep.
//
// Speed: Parse compiles to a flat array of nodes; Evaluate walks it without virtual calls and,
// once warmed up, without allocating (per-thread scratch strings are reused across calls).
//
// Thread-safety: an Expression is immutable after Parse; Evaluate may run on any number of
// threads at once (its scratch is thread_local). Expression is a value type (copyable,
// movable); it owns its text, literals and attribute names.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::core {

class Expression {
 public:
  static constexpr size_t kMaxTextBytes = 4096;
  static constexpr int kMaxDepth = 32;

  // The empty expression: no attributes, text "", evaluates to "" (so that a holder of an
  // Expression can be default-constructed before it is assigned a parsed one).
  Expression() = default;

  // Parses `text` once (at configuration load). Errors as above; on success the expression is
  // ready to evaluate. Cost: linear in the text.
  static absl::StatusOr<Expression> Parse(std::string_view text);

  // Directory attribute names referenced as [name], deduplicated (exact bytes), in
  // first-appearance order. Evaluate's `values` follow this order.
  const std::vector<std::string>& attributes() const { return attributes_; }

  // Evaluates for one user: values[i] is the user's value of attributes()[i] ("" when absent;
  // a missing trailing entry reads as ""). Writes the result into *out (cleared first); ""
  // means absent. Never fails at run time: out-of-range Left/Mid arguments clamp, non-numbers
  // read as 0 (the README's "Mapping expressions" documents each function's edge cases).
  // Values need not be valid UTF-8: invalid bytes pass through unchanged. REQUIRES: out != nullptr, and out does not
  // alias a value.
  void Evaluate(std::span<const std::string_view> values, std::string* out) const;

  // The source text, as given to Parse, for explain and messages.
  std::string_view text() const { return text_; }

 private:
  friend class ExpressionParser;
  friend class ExpressionEvaluator;

  // The compiled form (expression.cc draws it).
  struct Node {
    uint8_t op;          // an Op of expression.cc
    uint32_t index = 0;  // attribute: into attributes_; literal: into literals_; call: into args_
    uint32_t count = 0;  // call: number of arguments (args_[index .. index+count))
  };

  std::string text_;
  std::vector<std::string> attributes_;
  std::vector<std::string> literals_;
  std::vector<Node> nodes_;
  uint32_t root_ = 0;           // the node whose value Evaluate returns
  std::vector<uint32_t> args_;  // the argument node indices of each call, contiguous
};

}  // namespace usersync::core
