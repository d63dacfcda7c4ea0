#include "core/normalize.h"

#include <cstddef>

namespace usersync::core {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string_view TrimWhitespace(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && IsSpace(s[begin])) ++begin;
  while (end > begin && IsSpace(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string NormalizeEmail(std::string_view email) { return AsciiLower(TrimWhitespace(email)); }

std::string_view EmailDomain(std::string_view email) {
  size_t at = email.rfind('@');
  return at == std::string_view::npos ? std::string_view() : email.substr(at + 1);
}

bool IsValidEmail(std::string_view email) {
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view local = email.substr(0, at);
  for (char c : local) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '(' || c == ')' || c == ',' ||
        c == ':' || c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  std::string_view domain = email.substr(at + 1);
  if (domain.empty() || domain.size() > 253) return false;
  size_t labels = 0;
  size_t label_len = 0;
  char prev = '.';
  for (char c : domain) {
    if (c == '.') {
      if (label_len == 0 || prev == '-') return false;
      ++labels;
      label_len = 0;
    } else if (IsAlpha(c) || IsDigit(c) || c == '-') {
      if (label_len == 0 && c == '-') return false;
      if (++label_len > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  if (label_len == 0 || prev == '-') return false;
  return labels >= 1;
}

bool DomainIsWithin(std::string_view domain, std::string_view validated) {
  if (domain.size() < validated.size()) return false;
  size_t offset = domain.size() - validated.size();
  for (size_t i = 0; i < validated.size(); ++i) {
    if (Lower(domain[offset + i]) != Lower(validated[i])) return false;
  }
  return offset == 0 || domain[offset - 1] == '.';
}

std::string NormalizeDn(std::string_view dn) {
  std::string out;
  NormalizeDnInto(dn, &out);
  return out;
}

void NormalizeDnInto(std::string_view dn, std::string* out_ptr) {
  dn = TrimWhitespace(dn);
  // The result is never longer than the input: write in place, then cut to length.
  std::string& out = *out_ptr;
  out.resize(dn.size());
  char* const begin = out.data();
  char* end = begin;
  for (size_t i = 0; i < dn.size(); ++i) {
    char c = dn[i];
    if (c == '\\' && i + 1 < dn.size()) {
      *end++ = c;
      *end++ = Lower(dn[++i]);
      continue;
    }
    if (c == ',' || c == '=' || c == '+') {
      while (end != begin && end[-1] == ' ' && !(end - begin >= 2 && end[-2] == '\\')) --end;
      *end++ = c;
      while (i + 1 < dn.size() && IsSpace(dn[i + 1])) ++i;
      continue;
    }
    *end++ = Lower(c);
  }
  out.resize(static_cast<size_t>(end - begin));
}

bool IsLanguageTag(std::string_view tag) {
  size_t pos = 0;
  size_t lang = 0;
  while (pos < tag.size() && IsAlpha(tag[pos])) ++pos, ++lang;
  if (lang < 2 || lang > 3) return false;
  while (pos < tag.size()) {
    if (tag[pos] != '_' && tag[pos] != '-') return false;
    ++pos;
    size_t len = 0;
    while (pos < tag.size() && (IsAlpha(tag[pos]) || IsDigit(tag[pos]))) ++pos, ++len;
    if (len < 2 || len > 8) return false;
  }
  return true;
}

}  // namespace usersync::core
