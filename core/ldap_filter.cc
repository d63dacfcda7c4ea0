#include "core/ldap_filter.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::core {
namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxQuotedFilterBytes = 200;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Surrounding spaces are insignificant in caseIgnoreMatch (RFC 4518 §2.6.1).
std::string_view TrimSpaces(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && s[begin] == ' ') ++begin;
  while (end > begin && s[end - 1] == ' ') --end;
  return s.substr(begin, end - begin);
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

// Position of the first case-insensitive occurrence of `needle` in `s`, or npos. Values are
// short (names, mail addresses), so the plain quadratic scan is the fast one here.
size_t FindIgnoreCase(std::string_view s, std::string_view needle) {
  if (needle.size() > s.size()) return std::string_view::npos;
  const char first = Lower(needle[0]);
  for (size_t start = 0; start + needle.size() <= s.size(); ++start) {
    if (Lower(s[start]) == first && EqualsIgnoreCase(s.substr(start, needle.size()), needle)) {
      return start;
    }
  }
  return std::string_view::npos;
}

bool MatchesSubstrings(const LdapFilter& filter, std::string_view value) {
  std::string_view rest = TrimSpaces(value);
  if (!filter.initial.empty()) {
    if (!StartsWithIgnoreCase(rest, filter.initial)) return false;
    rest.remove_prefix(filter.initial.size());
  }
  // Take the final piece off first so that no `any` piece may overlap it.
  if (!filter.final_part.empty()) {
    if (!EndsWithIgnoreCase(rest, filter.final_part)) return false;
    rest.remove_suffix(filter.final_part.size());
  }
  for (const std::string& piece : filter.any) {
    size_t at = FindIgnoreCase(rest, piece);
    if (at == std::string_view::npos) return false;
    rest.remove_prefix(at + piece.size());
  }
  return true;
}

// <0, 0, >0 like strcmp: numerically when both are integers, else by lower-cased bytes.
int CompareOrdering(std::string_view value, std::string_view assertion) {
  value = TrimSpaces(value);
  assertion = TrimSpaces(assertion);
  int64_t value_number = 0;
  int64_t assertion_number = 0;
  if (absl::SimpleAtoi(Sv(value), &value_number) &&
      absl::SimpleAtoi(Sv(assertion), &assertion_number)) {
    return value_number < assertion_number ? -1 : (value_number > assertion_number ? 1 : 0);
  }
  const size_t common = std::min(value.size(), assertion.size());
  for (size_t i = 0; i < common; ++i) {
    unsigned char a = static_cast<unsigned char>(Lower(value[i]));
    unsigned char b = static_cast<unsigned char>(Lower(assertion[i]));
    if (a != b) return a < b ? -1 : 1;
  }
  return value.size() < assertion.size() ? -1 : (value.size() > assertion.size() ? 1 : 0);
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<LdapFilter> Parse() {
    size_t end = text_.size();
    while (pos_ < end && IsSpace(text_[pos_])) ++pos_;
    while (end > pos_ && IsSpace(text_[end - 1])) --end;
    if (pos_ == end) return Error("empty filter");
    end_ = end;
    LdapFilter filter;
    if (text_[pos_] == '(') {
      auto parsed = ParseFilter(0);
      if (!parsed.ok()) return parsed.status();
      filter = *std::move(parsed);
    } else {
      // A bare item, as OpenLDAP's tools accept it: "objectClass=person".
      auto parsed = ParseItem(/*in_parens=*/false);
      if (!parsed.ok()) return parsed.status();
      filter = *std::move(parsed);
    }
    if (pos_ != end_) return Error("unexpected characters after the filter");
    return filter;
  }

 private:
  absl::Status Error(std::string_view reason) const {
    // Filters come from the configuration (never secret); a huge one is shortened.
    std::string_view quoted = text_.substr(0, kMaxQuotedFilterBytes);
    return absl::InvalidArgumentError(absl::StrCat("invalid LDAP filter \"", Sv(quoted),
                                                   quoted.size() < text_.size() ? "..." : "",
                                                   "\": position ", pos_ + 1, ": ", Sv(reason)));
  }
  bool AtEnd() const { return pos_ >= end_; }
  char Peek() const { return text_[pos_]; }
  void SkipSpaces() {
    while (!AtEnd() && IsSpace(Peek())) ++pos_;
  }

  // filter = "(" filtercomp ")"
  absl::StatusOr<LdapFilter> ParseFilter(int depth) {
    if (depth >= kMaxDepth) return Error("filter nested too deeply");
    if (AtEnd() || Peek() != '(') return Error("expected '('");
    ++pos_;
    if (AtEnd()) return Error("expected a filter component after '('");
    LdapFilter filter;
    const char c = Peek();
    if (c == '&' || c == '|') {
      ++pos_;
      filter.kind = c == '&' ? LdapFilter::Kind::kAnd : LdapFilter::Kind::kOr;
      SkipSpaces();
      while (!AtEnd() && Peek() == '(') {
        auto child = ParseFilter(depth + 1);
        if (!child.ok()) return child.status();
        filter.children.push_back(*std::move(child));
        SkipSpaces();
      }
    } else if (c == '!') {
      ++pos_;
      filter.kind = LdapFilter::Kind::kNot;
      SkipSpaces();
      auto child = ParseFilter(depth + 1);
      if (!child.ok()) return child.status();
      filter.children.push_back(*std::move(child));
      SkipSpaces();
    } else {
      auto item = ParseItem(/*in_parens=*/true);
      if (!item.ok()) return item.status();
      filter = *std::move(item);
    }
    if (AtEnd()) return Error("expected ')'");
    if (Peek() != ')') {
      return Error(filter.kind == LdapFilter::Kind::kNot ? "'!' takes exactly one filter"
                                                         : "expected ')'");
    }
    ++pos_;
    return filter;
  }

  // item = attr ("=" / "~=" / ">=" / "<=") value; stops before ')' or at the end.
  absl::StatusOr<LdapFilter> ParseItem(bool in_parens) {
    LdapFilter filter;
    const size_t attr_begin = pos_;
    if (AtEnd() || !IsAlnum(Peek())) return Error("expected an attribute name");
    while (!AtEnd() && (IsAlnum(Peek()) || Peek() == '-' || Peek() == '.')) ++pos_;
    filter.attribute.assign(text_.substr(attr_begin, pos_ - attr_begin));
    const size_t options_begin = pos_;
    while (!AtEnd() && Peek() == ';') {  // options: kept out of the name
      ++pos_;
      const size_t option_begin = pos_;
      while (!AtEnd() && (IsAlnum(Peek()) || Peek() == '-')) ++pos_;
      if (pos_ == option_begin) return Error("empty attribute option");
    }
    filter.options.assign(text_.substr(options_begin, pos_ - options_begin));
    if (AtEnd()) return Error("expected '=', '~=', '>=' or '<=' after the attribute name");
    bool allow_wildcard = false;
    switch (Peek()) {
      case '=':
        filter.kind = LdapFilter::Kind::kEquality;
        allow_wildcard = true;
        ++pos_;
        break;
      case '~':
      case '>':
      case '<':
        if (pos_ + 1 >= end_ || text_[pos_ + 1] != '=') {
          return Error("expected '=', '~=', '>=' or '<=' after the attribute name");
        }
        filter.kind = Peek() == '~'   ? LdapFilter::Kind::kApprox
                      : Peek() == '>' ? LdapFilter::Kind::kGreaterOrEqual
                                      : LdapFilter::Kind::kLessOrEqual;
        pos_ += 2;
        break;
      case ':':
        return Error("extensible match (':=') is not supported");
      default:
        return Error("expected '=', '~=', '>=' or '<=' after the attribute name");
    }
    // The value, split at unescaped '*'.
    std::vector<std::string> pieces(1);
    while (!AtEnd() && Peek() != ')') {
      const char c = Peek();
      if (c == '*') {
        if (!allow_wildcard) return Error("'*' is only allowed with '=' (escape it as \\2a)");
        pieces.emplace_back();
        ++pos_;
      } else if (c == '\\') {
        int high = pos_ + 1 < end_ ? HexValue(text_[pos_ + 1]) : -1;
        int low = pos_ + 2 < end_ ? HexValue(text_[pos_ + 2]) : -1;
        if (high < 0 || low < 0) return Error("'\\' must be followed by two hex digits");
        pieces.back().push_back(static_cast<char>(high * 16 + low));
        pos_ += 3;
      } else if (c == '(') {
        return Error("unescaped '(' in a value (escape it as \\28)");
      } else if (c == '\0') {
        return Error("NUL byte in a value (escape it as \\00)");
      } else {
        pieces.back().push_back(c);
        ++pos_;
      }
    }
    if (!in_parens && !AtEnd()) return Error("unexpected ')'");
    if (pieces.size() == 1) {
      filter.value = std::move(pieces[0]);
    } else if (std::all_of(pieces.begin(), pieces.end(),
                           [](const std::string& piece) { return piece.empty(); })) {
      // "(a=*)", and "(a=**)" alike: no piece to match, so the attribute only has to be there.
      filter.kind = LdapFilter::Kind::kPresent;
    } else {
      filter.kind = LdapFilter::Kind::kSubstrings;
      filter.initial = std::move(pieces.front());
      filter.final_part = std::move(pieces.back());
      for (size_t piece_idx = 1; piece_idx + 1 < pieces.size(); ++piece_idx) {
        if (!pieces[piece_idx].empty()) filter.any.push_back(std::move(pieces[piece_idx]));
      }
    }
    return filter;
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t end_ = 0;
};

void Format(const LdapFilter& filter, std::string& out) {
  out.push_back('(');
  const std::string attribute = filter.attribute + filter.options;
  switch (filter.kind) {
    case LdapFilter::Kind::kAnd:
    case LdapFilter::Kind::kOr:
    case LdapFilter::Kind::kNot:
      out.push_back(filter.kind == LdapFilter::Kind::kAnd  ? '&'
                    : filter.kind == LdapFilter::Kind::kOr ? '|'
                                                           : '!');
      for (const LdapFilter& child : filter.children) Format(child, out);
      break;
    case LdapFilter::Kind::kEquality:
      absl::StrAppend(&out, attribute, "=", EscapeFilterValue(filter.value));
      break;
    case LdapFilter::Kind::kApprox:
      absl::StrAppend(&out, attribute, "~=", EscapeFilterValue(filter.value));
      break;
    case LdapFilter::Kind::kGreaterOrEqual:
      absl::StrAppend(&out, attribute, ">=", EscapeFilterValue(filter.value));
      break;
    case LdapFilter::Kind::kLessOrEqual:
      absl::StrAppend(&out, attribute, "<=", EscapeFilterValue(filter.value));
      break;
    case LdapFilter::Kind::kPresent:
      absl::StrAppend(&out, attribute, "=*");
      break;
    case LdapFilter::Kind::kSubstrings:
      absl::StrAppend(&out, attribute, "=", EscapeFilterValue(filter.initial), "*");
      for (const std::string& piece : filter.any) {
        absl::StrAppend(&out, EscapeFilterValue(piece), "*");
      }
      out += EscapeFilterValue(filter.final_part);
      break;
  }
  out.push_back(')');
}

}  // namespace

absl::StatusOr<LdapFilter> ParseLdapFilter(std::string_view text) { return Parser(text).Parse(); }

bool Matches(const LdapFilter& filter, const EntryView& entry) {
  switch (filter.kind) {
    case LdapFilter::Kind::kAnd:
      for (const LdapFilter& child : filter.children) {
        if (!Matches(child, entry)) return false;
      }
      return true;
    case LdapFilter::Kind::kOr:
      for (const LdapFilter& child : filter.children) {
        if (Matches(child, entry)) return true;
      }
      return false;
    case LdapFilter::Kind::kNot:
      return filter.children.empty() || !Matches(filter.children[0], entry);
    case LdapFilter::Kind::kPresent:
      return !entry.Values(filter.attribute).empty();
    case LdapFilter::Kind::kEquality:
    case LdapFilter::Kind::kApprox: {
      const std::string_view assertion = TrimSpaces(filter.value);
      for (std::string_view value : entry.Values(filter.attribute)) {
        if (EqualsIgnoreCase(TrimSpaces(value), assertion)) return true;
      }
      return false;
    }
    case LdapFilter::Kind::kSubstrings:
      for (std::string_view value : entry.Values(filter.attribute)) {
        if (MatchesSubstrings(filter, value)) return true;
      }
      return false;
    case LdapFilter::Kind::kGreaterOrEqual:
      for (std::string_view value : entry.Values(filter.attribute)) {
        if (CompareOrdering(value, filter.value) >= 0) return true;
      }
      return false;
    case LdapFilter::Kind::kLessOrEqual:
      for (std::string_view value : entry.Values(filter.attribute)) {
        if (CompareOrdering(value, filter.value) <= 0) return true;
      }
      return false;
  }
  return false;
}

std::string FormatLdapFilter(const LdapFilter& filter) {
  std::string out;
  Format(filter, out);
  return out;
}

std::string EscapeFilterValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0') {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('\\');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace usersync::core
