#include "core/normalize.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace usersync::core {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `dn` without surrounding white space, except that a trailing escaped space ("cn=a\ ") stays:
// it belongs to the value (RFC 4514 2.4). An odd run of backslashes before the cut escapes it.
std::string_view TrimDn(std::string_view dn) {
  std::string_view trimmed = TrimWhitespace(dn);
  const size_t cut = static_cast<size_t>(trimmed.data() - dn.data()) + trimmed.size();
  if (cut == dn.size()) return trimmed;
  size_t backslashes = 0;
  while (backslashes < trimmed.size() && trimmed[trimmed.size() - 1 - backslashes] == '\\') {
    ++backslashes;
  }
  return backslashes % 2 == 1 ? std::string_view(trimmed.data(), trimmed.size() + 1) : trimmed;
}

// An escaped space was written as a plain one: where it starts or ends a value (or a malformed
// type) it must stay escaped ("\ "), or normalizing the result again would trim it (RFC 4514
// 2.4). In `dn` every space next to a separator or an end came from an escape: the unescaped ones
// were trimmed. Rare: a copy.
void EscapeEdgeSpaces(std::string& dn) {
  std::string out;
  out.reserve(dn.size() + 4);
  bool in_value = false;
  size_t segment_start = 0;  // in `dn`: after the last separator
  auto is_separator = [&](size_t at) {
    return dn[at] == ',' || dn[at] == '+' || (dn[at] == '=' && !in_value);
  };
  for (size_t i = 0; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == '\\' && i + 1 < dn.size()) {
      out.push_back(c);
      out.push_back(dn[++i]);
      continue;
    }
    if (is_separator(i)) {
      in_value = c == '=';
      segment_start = i + 1;
      out.push_back(c);
      continue;
    }
    if (IsSpace(c)) {
      size_t first = segment_start;
      while (first < i && IsSpace(dn[first])) ++first;
      size_t next = i + 1;
      while (next < dn.size() && IsSpace(dn[next])) ++next;
      if (first == i || next == dn.size() || is_separator(next)) out.push_back('\\');
    }
    out.push_back(c);
  }
  dn = std::move(out);
}

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
  dn = TrimDn(dn);
  // The result is never longer than the input ("\2C" → "\,"): write in place, then cut.
  std::string& out = *out_ptr;
  out.resize(dn.size());
  char* const begin = out.data();
  char* end = begin;
  char* keep = begin;  // spaces before this are part of a value (escaped): never trimmed
  bool in_value = false;
  bool escaped_space = false;
  for (size_t i = 0; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == '\\' && i + 1 < dn.size()) {
      // One form per character: "\2C", "\2c" and "\," are all "\,"; "\41" and "\A" are "a".
      char decoded = dn[i + 1];
      int high = 0;
      int low = 0;
      if (i + 2 < dn.size() && (high = HexValue(dn[i + 1])) >= 0 &&
          (low = HexValue(dn[i + 2])) >= 0) {
        decoded = static_cast<char>((high << 4) | low);
        i += 2;
      } else {
        ++i;
      }
      // Re-escaped where it would otherwise separate: ',' '+' '\\' always, '=' in a type.
      if (decoded == ',' || decoded == '+' || decoded == '\\' || (decoded == '=' && !in_value)) {
        *end++ = '\\';
      }
      escaped_space |= IsSpace(decoded);
      *end++ = Lower(decoded);
      keep = end;
      continue;
    }
    if (c == ',' || c == '+' || (c == '=' && !in_value)) {
      while (end > keep && end[-1] == ' ') --end;
      *end++ = c;
      while (i + 1 < dn.size() && IsSpace(dn[i + 1])) ++i;
      keep = end;
      in_value = c == '=';
      continue;
    }
    *end++ = Lower(c);
  }
  out.resize(static_cast<size_t>(end - begin));
  if (escaped_space) EscapeEdgeSpaces(out);
}

size_t InvalidUtf8Offset(std::string_view s) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(s.data());
  const size_t size = s.size();
  size_t pos = 0;
  while (pos < size) {
    // Directory values are mostly ASCII: skip 8 bytes at a time while no high bit is set.
    if (pos + 8 <= size) {
      uint64_t word;
      std::memcpy(&word, bytes + pos, sizeof(word));
      if ((word & 0x8080808080808080ull) == 0) {
        pos += 8;
        continue;
      }
    }
    const unsigned char lead = bytes[pos];
    if (lead < 0x80) {
      ++pos;
      continue;
    }
    // The Unicode standard's table 3-7: the lead byte fixes the length and the range of the
    // second byte; every later byte is 80..BF.
    size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return pos;
    }
    if (pos + length > size) return pos;
    if (bytes[pos + 1] < low || bytes[pos + 1] > high) return pos;
    for (size_t next = 2; next < length; ++next) {
      if (bytes[pos + next] < 0x80 || bytes[pos + next] > 0xBF) return pos;
    }
    pos += length;
  }
  return std::string_view::npos;
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
