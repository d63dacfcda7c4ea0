// Internal to core/expression*: the operations of an Expression's compiled form, and the string
// primitives behind its functions: UTF-8 stepping, case mapping, diacritics folding, integer
// reading and word splitting.
//
// UTF-8 handling: a "character" is one well-formed UTF-8 sequence (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF); every byte that does not start a well-formed sequence counts
// as one character of its own and passes through unchanged, so invalid input never crashes and
// a valid code point is never split.
//
// Thread-safety: all functions are pure and thread-safe. The Append* functions append to *out
// (they never clear it); REQUIRES: `in` does not alias *out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace usersync::core::internal {

// What a node of a compiled Expression computes (expression.cc parses into it,
// expression_eval.cc evaluates it).
enum class ExpressionOp : uint8_t {
  kAttribute,
  kLiteral,
  kEqual,  // the comparisons of IIF's condition: =, <>, <, <=, >, >=
  kNotEqual,
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual,
  kAppend,
  kCoalesce,
  kConvertToUtf8Hex,
  kCStr,
  kIif,
  kIsNull,
  kIsNullOrEmpty,
  kIsPresent,
  kJoin,
  kLeft,
  kMid,
  kNormalizeDiacritics,
  kNot,
  kPCase,
  kReplace,
  kStripSpaces,
  kSwitch,
  kToLower,
  kToUpper,
  kTrim,
  kWord,
};

// Byte length of the character starting at s[pos] (1..4; 1 for an invalid byte).
// REQUIRES: pos < s.size().
size_t Utf8CharLength(std::string_view s, size_t pos);

// The byte offset just past the first `chars` characters of `s` (s.size() when it holds fewer).
size_t Utf8Skip(std::string_view s, int64_t chars);

// Case mapping of the invariant culture for ASCII, Latin-1 Supplement and Latin Extended-A
// (U+0000-U+017F); every other character is copied unchanged (ß stays ß, as in .NET's
// invariant culture; dotted İ and dotless ı keep their form).
//   AppendLower("ÅNGSTRÖM Zoë", &out) appends "ångström zoë"
void AppendLower(std::string_view in, std::string* out);
void AppendUpper(std::string_view in, std::string* out);

// Entra's NormalizeDiacritics for Latin-1 Supplement, Latin Extended-A and Ș/ș/Ț/ț: letters
// with diacritics become their base letters (Æ → AE, Ø → OE, Œ → OE, ß → ss, Ł → L), and
// combining diacritical marks (U+0300-U+036F) are dropped, so decomposed forms fold too.
// Other characters (Ð → D is folded; Þ, ×, ÷, Greek, Cyrillic, CJK) are copied unchanged.
//   AppendNormalizedDiacritics("Zoë Ångström", &out) appends "Zoe Angstrom"
void AppendNormalizedDiacritics(std::string_view in, std::string* out);

// Proper case: the first character of each word upper case, the others lower case (as
// AppendUpper/AppendLower). Words are separated by any character of `separators` (compared as
// whole characters), or, when `separators` is empty, by whitespace and ASCII punctuation.
//   AppendProperCase("PINTO-DE'SILVA", " '-", &out) appends "Pinto-De'Silva"
void AppendProperCase(std::string_view in, std::string_view separators, std::string* out);

// The `number`-th (1-based) word of `s`, words being maximal runs of characters that are not in
// `delimiters` (compared as whole characters); "" when number < 1 or there are fewer words.
//   WordAt("This,string!has&many separators", 3, ",!&#") == "has"
std::string_view WordAt(std::string_view s, int64_t number, std::string_view delimiters);

// A decimal integer with optional surrounding ASCII spaces and an optional sign, saturating at
// ±2^62; anything else reads as `fallback`.
//   ParseInteger(" -12 ", 0) == -12;  ParseInteger("1x", 0) == 0
int64_t ParseInteger(std::string_view s, int64_t fallback);

}  // namespace usersync::core::internal
