#include "core/expression.h"

#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace usersync::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Parses `text` (which must parse) and evaluates it with `values` in attributes() order.
std::string Eval(std::string_view text, std::vector<std::string_view> values = {}) {
  const absl::StatusOr<Expression> expr = Expression::Parse(text);
  EXPECT_TRUE(expr.ok()) << text << ": " << expr.status();
  if (!expr.ok()) return "<parse error>";
  std::string out = "stale";
  expr->Evaluate(values, &out);
  return out;
}

// The message of the error Parse gives for `text` ("" when it parses).
std::string ParseError(std::string_view text) {
  const absl::StatusOr<Expression> expr = Expression::Parse(text);
  if (expr.ok()) return "";
  EXPECT_EQ(expr.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(expr.status().message());
}

TEST(Expression, AttributesDeduplicatedInFirstAppearanceOrder) {
  const absl::StatusOr<Expression> expr =
      Expression::Parse(R"(Join(" ", [givenName], [sn], ToUpper([givenName])))");
  ASSERT_TRUE(expr.ok()) << expr.status();
  EXPECT_THAT(expr->attributes(), ElementsAre("givenName", "sn"));
  EXPECT_EQ(expr->text(), R"(Join(" ", [givenName], [sn], ToUpper([givenName])))");
  std::string out;
  const std::vector<std::string_view> values = {"Ann", "Lee"};
  expr->Evaluate(values, &out);
  EXPECT_EQ(out, "Ann Lee ANN");
}

TEST(Expression, AttributeAndLiteralAlone) {
  EXPECT_EQ(Eval("[mail]", {"a@example.com"}), "a@example.com");
  EXPECT_EQ(Eval(R"("Sales")"), "Sales");
  EXPECT_EQ(Eval("42"), "42");
}

// "For string constants, if you need a backslash ( \ ) or quotation mark ( " ) in the string,
// it must be escaped with the backslash ( \ ) symbol. For example: "Company name: \"Contoso\"""
TEST(Expression, StringEscapesFromTheReference) {
  EXPECT_EQ(Eval(R"("Company name: \"Contoso\"")"), R"(Company name: "Contoso")");
  EXPECT_EQ(Eval(R"("a\\b")"), R"(a\b)");
}

// Join(", ", "", [surname], [givenName]) gives "Doe, John": empty values are skipped.
TEST(Expression, JoinFromTheReference) {
  EXPECT_EQ(Eval(R"(Join(", ", "", [surname], [givenName]))", {"Doe", "John"}), "Doe, John");
  EXPECT_EQ(Eval(R"(Join(" ", [givenName], [sn]))", {"", ""}), "");
}

TEST(Expression, UnknownFunctionSuggests) {
  EXPECT_EQ(ParseError(R"(Jion(" ", [a]))"), "column 1: unknown function 'Jion' (did you mean Join?)");
}

TEST(Expression, MissingValuesReadAsEmpty) {
  EXPECT_EQ(Eval(R"(Join("-", [a], [b], "x"))", {"1"}), "1-x");
}

}  // namespace
}  // namespace usersync::core
