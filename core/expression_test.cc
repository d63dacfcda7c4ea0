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
  EXPECT_EQ(ParseError(R"(Jion(" ", [a]))"),
            "column 1: unknown function 'Jion' (did you mean Join?)");
}

// The reference: "Append([userPrincipalName], ".test")", INPUT "John.Doe@contoso.com",
// OUTPUT "John.Doe@contoso.com.test".
TEST(Expression, AppendFromTheReference) {
  EXPECT_EQ(Eval(R"(Append([userPrincipalName], ".test"))", {"John.Doe@contoso.com"}),
            "John.Doe@contoso.com.test");
  EXPECT_EQ(Eval(R"(Append([a], "x"))", {""}), "x");
}

// The reference: "Coalesce([mail],[userPrincipalName])", mail NULL, userPrincipalName
// "John.Doe@contoso.com", OUTPUT "John.Doe@contoso.com".
TEST(Expression, CoalesceFromTheReference) {
  EXPECT_EQ(Eval("Coalesce([mail],[userPrincipalName])", {"", "John.Doe@contoso.com"}),
            "John.Doe@contoso.com");
  EXPECT_EQ(Eval("Coalesce([mail],[userPrincipalName])", {"m@x", "u@x"}), "m@x");
  EXPECT_EQ(Eval(R"(Coalesce([a], [b], "default"))", {"", ""}), "default");
  EXPECT_EQ(Eval("Coalesce([a], [b])", {"", ""}), "");
}

// The reference: "IIF([country]="USA",[country],[department])", and its AND/OR workarounds.
TEST(Expression, IifFromTheReference) {
  const std::string_view kIif = R"(IIF([country]="USA",[country],[department]))";
  EXPECT_EQ(Eval(kIif, {"USA", "Sales"}), "USA");
  EXPECT_EQ(Eval(kIif, {"France", "Sales"}), "Sales");
  const std::string_view kAnd = R"(IIF([country]="USA",IIF([state]="CA","True","False"),"False"))";
  EXPECT_EQ(Eval(kAnd, {"USA", "CA"}), "True");
  EXPECT_EQ(Eval(kAnd, {"USA", "NY"}), "False");
  const std::string_view kOr = R"(IIF([country]="USA","True",IIF([state]="CA","True","False")))";
  EXPECT_EQ(Eval(kOr, {"FR", "CA"}), "True");
  EXPECT_EQ(Eval(kOr, {"FR", "NY"}), "False");
  // Entra fails the condition on an empty attribute; here "" is a value like any other.
  EXPECT_EQ(Eval(R"(IIF([country]="","Other",[country]))", {""}), "Other");
  EXPECT_EQ(Eval(R"(IIF(IsPresent([country]),[country],"Other"))", {""}), "Other");
  EXPECT_EQ(Eval(R"(IIF("true", "y", "n"))"), "y");  // "True" compares case-insensitively
  EXPECT_EQ(Eval(R"(IIF("yes", "y", "n"))"), "n");
}

TEST(Expression, Comparisons) {
  EXPECT_EQ(Eval(R"(IIF([a] <> "x", "ne", "eq"))", {"x"}), "eq");
  EXPECT_EQ(Eval(R"([a] = "X")", {"x"}), "False");  // exact, case-sensitive
  // Integers compare as numbers, other values byte by byte.
  EXPECT_EQ(Eval("[n] > 5", {"10"}), "True");
  EXPECT_EQ(Eval("[n] >= 10", {"10"}), "True");
  EXPECT_EQ(Eval("[n] < -3", {"-7"}), "True");
  EXPECT_EQ(Eval(R"([s] < "b")", {"abc"}), "True");
  // Long numbers saturate (found by the fuzzer: an overflow on the way).
  EXPECT_EQ(Eval("40 <= 44444444444444444444444444444444489"), "True");
  EXPECT_EQ(Eval("-99999999999999999999 < -5"), "True");
  EXPECT_EQ(Eval(R"([s] <= "10")", {"9x"}), "False");
}

// The reference: "IsNull([displayName])" and "IsNullOrEmpty([displayName])" return True if
// the attribute isn't present; IsPresent is the inverse.
TEST(Expression, PresenceFunctions) {
  EXPECT_EQ(Eval("IsNull([displayName])", {""}), "True");
  EXPECT_EQ(Eval("IsNullOrEmpty([displayName])", {""}), "True");
  EXPECT_EQ(Eval("IsNullOrEmpty([displayName])", {"Ann"}), "False");
  EXPECT_EQ(Eval("IsPresent([displayName])", {"Ann"}), "True");
  EXPECT_EQ(Eval("IsPresent([displayName])", {""}), "False");
  // The reference's IsPresent example picks the first manager present.
  const std::string_view kManager =
      "Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),"
      "[skiplevelManager], IsPresent([director]),[director])";
  EXPECT_EQ(Eval(kManager, {"", "", ""}), "");
}

// "Flips the boolean value of the source. If source value is True, returns False. Otherwise,
// returns True."
TEST(Expression, Not) {
  EXPECT_EQ(Eval(R"(Not("True"))"), "False");
  EXPECT_EQ(Eval(R"(Not("False"))"), "True");
  EXPECT_EQ(Eval(R"(Not(""))"), "True");
  EXPECT_EQ(Eval("Not(IsPresent([a]))", {"x"}), "False");
}

// The reference: "Left("John Doe", 3)" returns "Joh"; numChars 0 gives "", a negative one the
// input, more than the length the whole string.
TEST(Expression, LeftFromTheReference) {
  EXPECT_EQ(Eval(R"(Left("John Doe", 3))"), "Joh");
  EXPECT_EQ(Eval(R"(Left("John Doe", 0))"), "");
  EXPECT_EQ(Eval(R"(Left("John Doe", -1))"), "John Doe");
  EXPECT_EQ(Eval(R"(Left("John Doe", 99))"), "John Doe");
  EXPECT_EQ(Eval(R"(Left([a], 2))", {""}), "");
  EXPECT_EQ(Eval(R"(Left("John", "x"))"), "");  // not a number: 0
  EXPECT_EQ(Eval("Left([a], [n])", {"Zoë", " 3 "}), "Zoë");
}

// Characters, not bytes: ë is two bytes, 🙂 four; neither is ever split.
TEST(Expression, LeftAndMidCountCodePoints) {
  EXPECT_EQ(Eval(R"(Left("Zoë Ång", 3))"), "Zoë");
  EXPECT_EQ(Eval(R"(Left("🙂ab", 1))"), "🙂");
  EXPECT_EQ(Eval(R"(Mid("Zoë Ång", 3, 3))"), "ë Å");
  EXPECT_EQ(Eval(R"(Mid("a🙂b", 2, 1))"), "🙂");
}

// The reference: "Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))", John / Doe → "JohDoe".
TEST(Expression, MidFromTheReference) {
  EXPECT_EQ(Eval("Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))", {"John", "Doe"}),
            "JohDoe");
  EXPECT_EQ(Eval(R"(Mid("abcdef", 2, 3))"), "bcd");
  EXPECT_EQ(Eval(R"(Mid("abcdef", 5, 99))"), "ef");  // "returns substring ... until end"
  EXPECT_EQ(Eval(R"(Mid("abcdef", 0, 2))"), "ab");   // a start below 1 reads as 1
  EXPECT_EQ(Eval(R"(Mid("abcdef", -5, 2))"), "ab");
  EXPECT_EQ(Eval(R"(Mid("abcdef", 7, 2))"), "");  // past the end
  EXPECT_EQ(Eval(R"(Mid("abcdef", 2, 0))"), "");
  EXPECT_EQ(Eval(R"(Mid("abcdef", 2, -1))"), "");
}

// The reference: NormalizeDiacritics([givenName]) turns "Zoë" into "Zoe"; its table maps
// æ → ae, ø → oe, ß → ss, ł → l, ș → s and decomposed letters (ā́ = ā + U+0301) to their base.
TEST(Expression, NormalizeDiacriticsFromTheReference) {
  EXPECT_EQ(Eval("NormalizeDiacritics([givenName])", {"Zoë"}), "Zoe");
  EXPECT_EQ(Eval(R"(NormalizeDiacritics("Zoë Ångström"))"), "Zoe Angstrom");
  EXPECT_EQ(Eval(R"(NormalizeDiacritics("Æsir Ørsted Straße Łódź Ștefan Țara Œuvre"))"),
            "AEsir OErsted Strasse Lodz Stefan Tara OEuvre");
  EXPECT_EQ(Eval(R"(NormalizeDiacritics("ā́ e̱ Ğğ İı Ÿÿ Ňň Řř Žž"))"), "a e Gg Ii Yy Nn Rr Zz");
  // Outside the table: unchanged.
  EXPECT_EQ(Eval(R"(NormalizeDiacritics("Þór × Ωμέγα 東京"))"), "Þor × Ωμέγα 東京");
}

// The reference's UPN example: ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",
// [PreferredFirstName], [PreferredLastName]))), "contoso.com")), John Smith →
// "john.smith@contoso.com".
TEST(Expression, ToLowerFromTheReference) {
  const std::string_view kUpn =
      R"(ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], )"
      R"([PreferredLastName]))), "contoso.com")))";
  EXPECT_EQ(Eval(kUpn, {"John", "Smith"}), "john.smith@contoso.com");
  EXPECT_EQ(Eval(kUpn, {"Zoë Anne", "Ångström"}), "zoeanne.angstrom@contoso.com");
}

// ASCII, Latin-1 Supplement and Latin Extended-A change case; the culture is not read.
TEST(Expression, CaseMapping) {
  EXPECT_EQ(Eval(R"(ToUpper("zoë ångström"))"), "ZOË ÅNGSTRÖM");
  EXPECT_EQ(Eval(R"(ToLower("ZOË ÅNGSTRÖM ŁÓDŹ Ÿ"))"), "zoë ångström łódź ÿ");
  EXPECT_EQ(Eval(R"(ToUpper("łódź ÿ ß", "pl-PL"))"), "ŁÓDŹ Ÿ ß");
  EXPECT_EQ(Eval(R"(ToUpper("ωμέγα 東京 ı"))"), "ωμέγα 東京 ı");  // outside the range: unchanged
  EXPECT_EQ(Eval(R"(ToLower("İ"))"), "İ");
}

// The reference's PCase examples: "PABLO GONSALVES (SECOND)" → "Pablo Gonsalves (Second)",
// PCase([lastName]," '-") of "PINTO-DE'SILVA" → "Pinto-De'Silva", and
// PCase(Join(" ",[firstName],[lastName])) of GREGORY, JAMES → "Gregory James".
TEST(Expression, PCaseFromTheReference) {
  EXPECT_EQ(Eval("PCase([firstName])", {"PABLO GONSALVES (SECOND)"}), "Pablo Gonsalves (Second)");
  EXPECT_EQ(Eval(R"(PCase([lastName]," '-"))", {"PINTO-DE'SILVA"}), "Pinto-De'Silva");
  EXPECT_EQ(Eval(R"(PCase(Join(" ",[firstName],[lastName])))", {"GREGORY", "JAMES"}),
            "Gregory James");
  EXPECT_EQ(Eval("PCase([a])", {"ÉLODIE ÅSA"}), "Élodie Åsa");
}

// The reference's Replace examples without a regular expression.
TEST(Expression, ReplaceFromTheReference) {
  EXPECT_EQ(Eval(R"(Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , ))",
                 {"Product Developer"}),
            "Software Engineer");
  EXPECT_EQ(Eval(R"(Replace([UserID],"<username>", , , , , "<username>@contoso.com"))", {"jsmith"}),
            "jsmith@contoso.com");
  EXPECT_EQ(Eval(R"(Replace([mail], "@contoso.com", , ,"", ,))", {"john.doe@contoso.com"}),
            "john.doe");
}

TEST(Expression, ReplaceEdgeCases) {
  EXPECT_EQ(Eval(R"(Replace([a], "a", , , "bb", , ))", {"banana"}), "bbbnbbnbb");
  EXPECT_EQ(Eval(R"(Replace([a], "", , , "x", , ))", {"abc"}), "abc");   // no oldValue: as is
  EXPECT_EQ(Eval(R"(Replace([a], "aa", , , "b", , ))", {"aaa"}), "ba");  // left to right
  // A template with an empty source gives "" (absent), not the bare template.
  EXPECT_EQ(Eval(R"(Replace([a], "<u>", , , , , "<u>@x.com"))", {""}), "");
  // Nested, each level doubles; a result that grows is cut at 64 KiB, on a character boundary.
  std::string nested = "[a]";
  for (int level = 0; level < 30; ++level) {
    nested = "Replace(" + nested + R"(, "é", , , "éé", , ))";
  }
  const std::string doubled = Eval(nested, {"é"});
  EXPECT_EQ(doubled.size(), size_t{64} << 10);
  EXPECT_EQ(doubled.find_first_not_of("\xC3\xA9"), std::string::npos);
  // 70001 bytes in: the result is cut to 70001 bytes, less the half "é" that would not fit.
  EXPECT_EQ(Eval(R"(Replace([a], "x", , , "é", , ))", {std::string(70001, 'x')}).size(), 70000);
  // The regular expression forms are refused at parse time, at the argument's column.
  EXPECT_THAT(ParseError(R"(Replace([mobile], , "[()\\s-]+", , "", , ))"),
              StartsWith("column 21: Replace with a regexPattern is not supported"));
  EXPECT_THAT(ParseError(R"(Replace([a], , , "g", "", , ))"),
              StartsWith("column 18: Replace with a regexGroupName is not supported"));
  EXPECT_THAT(ParseError(R"(Replace([a], , , , , [mobile], ))"),
              StartsWith("column 22: Replace with a replacementAttributeName is not supported"));
}

// The reference: ConvertToUTF8Hex("Hello world!") returns 48656C6C6F20776F726C6421;
// CStr([dn]) returns "cn=Joe,dc=contoso,dc=com".
TEST(Expression, ConversionsFromTheReference) {
  EXPECT_EQ(Eval(R"(ConvertToUTF8Hex("Hello world!"))"), "48656C6C6F20776F726C6421");
  EXPECT_EQ(Eval(R"(ConvertToUTF8Hex("ë"))"), "C3AB");
  EXPECT_EQ(Eval("CStr([dn])", {"cn=Joe,dc=contoso,dc=com"}), "cn=Joe,dc=contoso,dc=com");
}

// "Removes all space (" ") characters from the source string."
TEST(Expression, StripSpaces) {
  EXPECT_EQ(Eval("StripSpaces([a])", {" Mary Ann  Lee "}), "MaryAnnLee");
  EXPECT_EQ(Eval("StripSpaces([a])", {"a\tb"}), "a\tb");  // only " "
}

// The reference: Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD",
// "Australia/Brisbane", "SA", "Australia/Adelaide") with QLD → "Australia/Brisbane"; and
// Switch([statusFlag], "Default Value", "true", "1", "", "0") with an empty statusFlag → "0".
TEST(Expression, SwitchFromTheReference) {
  const std::string_view kState =
      R"(Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", )"
      R"("Australia/Brisbane", "SA", "Australia/Adelaide"))";
  EXPECT_EQ(Eval(kState, {"QLD"}), "Australia/Brisbane");
  EXPECT_EQ(Eval(kState, {"WA"}), "Australia/Sydney");
  EXPECT_EQ(Eval(kState, {"qld"}), "Australia/Sydney");  // case-sensitive
  const std::string_view kFlag = R"(Switch([statusFlag], "Default Value", "true", "1", "", "0"))";
  EXPECT_EQ(Eval(kFlag, {""}), "0");
  EXPECT_EQ(Eval(kFlag, {"true"}), "1");
  EXPECT_EQ(Eval(kFlag, {"no"}), "Default Value");
  EXPECT_EQ(Eval(R"(Switch([country],[country],"","Other"))", {"FR"}), "FR");
  EXPECT_EQ(Eval(R"(Switch([Active], , "1", "yes", "0", "no"))", {"2"}), "");
}

// Trim is usersync's: Entra has no Trim. Surrounding ASCII whitespace goes.
TEST(Expression, Trim) {
  EXPECT_EQ(Eval("Trim([a])", {" \t Ann Lee \r\n"}), "Ann Lee");
  EXPECT_EQ(Eval("Trim([a])", {"   "}), "");
}

// The reference: Word("The quick brown fox",3," ") → "brown";
// Word("This,string!has&many separators",3,",!&#") → "has".
TEST(Expression, WordFromTheReference) {
  EXPECT_EQ(Eval(R"(Word("The quick brown fox",3," "))"), "brown");
  EXPECT_EQ(Eval(R"(Word("This,string!has&many separators",3,",!&#"))"), "has");
  EXPECT_EQ(Eval(R"(Word("a  b", 2, " "))"), "b");  // runs of delimiters separate once
  EXPECT_EQ(Eval(R"(Word("a b", 0, " "))"), "");
  EXPECT_EQ(Eval(R"(Word("a b", 3, " "))"), "");
  EXPECT_EQ(Eval(R"(Word("a·b·c", 2, "·"))"), "b");  // a multi-byte delimiter
}

TEST(Expression, InvalidUtf8PassesThrough) {
  const std::string bad = "a\xC3(\xFF\xE2\x82z\xED\xA0\x80";  // truncated, invalid, surrogate
  const std::vector<std::string_view> value = {bad};
  EXPECT_EQ(Eval("ToUpper([a])", value), "A\xC3(\xFF\xE2\x82Z\xED\xA0\x80");
  EXPECT_EQ(Eval("NormalizeDiacritics([a])", value), bad);
  EXPECT_EQ(Eval("Left([a], 3)", value), "a\xC3(");  // each invalid byte is one character
  EXPECT_EQ(Eval("Mid([a], 4, 20)", value), "\xFF\xE2\x82z\xED\xA0\x80");
  EXPECT_EQ(Eval("PCase([a])", value), "A\xC3(\xFF\xE2\x82z\xED\xA0\x80");
  EXPECT_EQ(Eval("Word([a], 2, \"(\")", value), "\xFF\xE2\x82z\xED\xA0\x80");
}

// Arguments of Coalesce, IIF and Switch past the chosen one are not evaluated; their slots may
// hold values of an earlier call, which must not leak.
TEST(Expression, ReusesScratchAcrossCallsWithoutLeaking) {
  const absl::StatusOr<Expression> expr =
      Expression::Parse(R"(Coalesce(ToUpper([a]), Join("-", [b], [c])))");
  ASSERT_TRUE(expr.ok()) << expr.status();
  std::string out;
  const std::vector<std::string_view> first = {"", "x", "y"};
  expr->Evaluate(first, &out);
  EXPECT_EQ(out, "x-y");
  const std::vector<std::string_view> second = {"q", "", ""};
  expr->Evaluate(second, &out);
  EXPECT_EQ(out, "Q");
  const std::vector<std::string_view> third = {"", "", ""};
  expr->Evaluate(third, &out);
  EXPECT_EQ(out, "");
}

TEST(Expression, CopiesEvaluateAlike) {
  absl::StatusOr<Expression> expr = Expression::Parse(R"(Join(" ", [a], "b"))");
  ASSERT_TRUE(expr.ok());
  const Expression copy = *expr;
  const Expression moved = *std::move(expr);
  std::string out;
  const std::vector<std::string_view> values = {"a"};
  copy.Evaluate(values, &out);
  EXPECT_EQ(out, "a b");
  moved.Evaluate(values, &out);
  EXPECT_EQ(out, "a b");
  EXPECT_EQ(copy.text(), moved.text());
}

TEST(Expression, DefaultConstructedIsEmpty) {
  const Expression expr;
  EXPECT_TRUE(expr.attributes().empty());
  EXPECT_EQ(expr.text(), "");
  std::string out = "stale";
  expr.Evaluate({}, &out);
  EXPECT_EQ(out, "");
}

TEST(Expression, WhitespaceBetweenTokens) {
  EXPECT_EQ(Eval(" Join ( \"-\" ,\n[a] , \t[b] ) ", {"1", "2"}), "1-2");
}

// Each parse error, with its 1-based column.
TEST(Expression, ParseErrorsNameTheirColumn) {
  EXPECT_EQ(ParseError(R"(Join(" ", [givenName], Jion([sn])))"),
            "column 24: unknown function 'Jion' (did you mean Join?)");
  EXPECT_EQ(ParseError("join([a], [b])"),
            "column 1: unknown function 'join' (did you mean Join? function names are "
            "case-sensitive)");
  EXPECT_THAT(ParseError("Frobnicate([a])"),
              StartsWith("column 1: unknown function 'Frobnicate' (known functions: Append"));
  EXPECT_EQ(ParseError(R"(Join(" "))"), "column 1: Join takes at least 2 arguments, got 1");
  EXPECT_EQ(ParseError("ToLower([a], [b], [c])"),
            "column 1: ToLower takes 1 or 2 arguments, got 3");
  EXPECT_EQ(ParseError("Trim()"), "column 1: Trim takes 1 argument, got 0");
  EXPECT_EQ(ParseError(R"(Mid([a], 1))"), "column 1: Mid takes 3 arguments, got 2");
  EXPECT_THAT(ParseError(R"(Switch([a], "d", "k", "v", "k2"))"),
              StartsWith("column 1: Switch takes source, defaultValue, then key/value pairs"));
  EXPECT_EQ(ParseError(R"(Append([a], "x)"),
            "column 13: unterminated string: '\"' without a closing '\"'");
  EXPECT_THAT(ParseError(R"("a\nb")"), StartsWith("column 3: unknown escape '\\n'"));
  EXPECT_EQ(ParseError("Append([a, \"x\")"),
            "column 10: ',' inside an attribute name (missing ']'?)");
  EXPECT_EQ(ParseError("Append([a"), "column 8: unterminated attribute name: '[' without ']'");
  EXPECT_EQ(ParseError("Append([a[b])"), "column 10: '[' inside an attribute name (missing ']'?)");
  EXPECT_EQ(ParseError("Append(], \"x\")"), "column 8: ']' without a matching '['");
  EXPECT_EQ(ParseError("Append([a], \"x\""), "column 16: missing ')' to close Append( of column 1");
  EXPECT_EQ(ParseError("Append([a], \"x\"))"),
            "column 17: unexpected ')' after the end of the expression");
  EXPECT_EQ(ParseError("[a] [b]"), "column 5: unexpected '[' after the end of the expression");
  EXPECT_EQ(ParseError("Append([a] \"x\")"),
            "column 12: expected ',' or ')' in the arguments of Append, found '\"'");
  EXPECT_EQ(ParseError("Append([], \"x\")"), "column 8: empty attribute name '[]'");
  EXPECT_EQ(ParseError("[given Name]"),
            "column 7: attribute names hold no spaces or control characters, found a space");
  EXPECT_EQ(ParseError(""), "column 1: empty expression");
  EXPECT_EQ(ParseError("   "), "column 4: empty expression");
  EXPECT_EQ(ParseError("Trim"), "column 5: expected '(' after Trim");
  EXPECT_EQ(ParseError("Trim(,"), "column 7: unexpected end of the expression");
  EXPECT_EQ(ParseError("[a] ="), "column 6: missing the right side of '='");
  EXPECT_THAT(ParseError("Trim(@)"), StartsWith("column 6: unexpected '@' (expected"));
  EXPECT_EQ(ParseError("Trim(\x01)"),
            "column 6: unexpected byte 0x01 (expected [attribute], \"string\", a number or "
            "Function(...))");
}

TEST(Expression, NestingIsBounded) {
  std::string nested;
  for (int depth = 0; depth < Expression::kMaxDepth; ++depth) nested += "Trim(";
  nested += "[a]";
  nested += std::string(Expression::kMaxDepth, ')');
  EXPECT_EQ(Eval(nested, {" x "}), "x");
  const std::string deeper = "Trim(" + nested + ")";
  EXPECT_EQ(ParseError(deeper), "column 161: function calls nested deeper than 32");
}

TEST(Expression, LengthIsBounded) {
  const std::string longest = "\"" + std::string(Expression::kMaxTextBytes - 2, 'x') + "\"";
  EXPECT_EQ(Eval(longest).size(), Expression::kMaxTextBytes - 2);
  EXPECT_EQ(ParseError(longest + " "), "column 4097: expression longer than 4096 bytes");
}

TEST(Expression, MissingValuesReadAsEmpty) {
  EXPECT_EQ(Eval(R"(Join("-", [a], [b], "x"))", {"1"}), "1-x");
}

}  // namespace
}  // namespace usersync::core
