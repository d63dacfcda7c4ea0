#include "core/expression_functions.h"

#include <array>
#include <cstring>

namespace usersync::core::internal {
namespace {

constexpr uint32_t kInvalid = 0xFFFFFFFF;

struct Decoded {
  uint32_t code_point;  // kInvalid for a byte that starts no well-formed sequence
  size_t length;        // bytes consumed, 1..4
};

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// RFC 3629 section 4's table of well-formed sequences.
Decoded Decode(std::string_view s, size_t pos) {
  const auto byte_at = [&](size_t offset) { return static_cast<unsigned char>(s[pos + offset]); };
  const unsigned char lead = byte_at(0);
  if (lead < 0x80) return {lead, 1};
  const size_t left = s.size() - pos;
  if (lead >= 0xC2 && lead <= 0xDF) {
    if (left < 2 || !IsContinuation(byte_at(1))) return {kInvalid, 1};
    return {(uint32_t{lead} & 0x1F) << 6 | (byte_at(1) & 0x3F), 2};
  }
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (left < 3 || !IsContinuation(byte_at(1)) || !IsContinuation(byte_at(2))) {
      return {kInvalid, 1};
    }
    const uint32_t cp =
        (uint32_t{lead} & 0x0F) << 12 | uint32_t{byte_at(1) & 0x3Fu} << 6 | (byte_at(2) & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return {kInvalid, 1};
    return {cp, 3};
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (left < 4 || !IsContinuation(byte_at(1)) || !IsContinuation(byte_at(2)) ||
        !IsContinuation(byte_at(3))) {
      return {kInvalid, 1};
    }
    const uint32_t cp = (uint32_t{lead} & 0x07) << 18 | uint32_t{byte_at(1) & 0x3Fu} << 12 |
                        uint32_t{byte_at(2) & 0x3Fu} << 6 | (byte_at(3) & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) return {kInvalid, 1};
    return {cp, 4};
  }
  return {kInvalid, 1};
}

// Only code points below U+0800 are ever written (the mappings stay in U+0000-U+021B).
void AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Latin Extended-A pairs its letters upper/lower, starting on an even code point in
// U+0100-U+0137 and U+014A-U+0177 and on an odd one in U+0139-U+0148 and U+0179-U+017E.
bool IsExtendedAUpper(uint32_t cp) {
  if (cp == 0x130) return false;  // İ: no invariant lower case of one code point
  if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) return cp % 2 == 0;
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) return cp % 2 == 1;
  return false;
}

uint32_t ToLowerCodePoint(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp == 0x178) return 0xFF;
  if (IsExtendedAUpper(cp)) return cp + 1;
  return cp;
}

uint32_t ToUpperCodePoint(uint32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 32;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
  if (cp == 0xFF) return 0x178;
  if (cp == 0x131) return cp;  // ı: its upper case I would not round-trip
  if (cp > 0x100 && cp <= 0x17E && IsExtendedAUpper(cp - 1)) return cp - 1;
  return cp;
}

// The end of the run of ASCII bytes starting at in[pos], read 8 bytes at a time: names are
// mostly ASCII, and a run is copied (or mapped) as a whole.
size_t AsciiRunEnd(std::string_view in, size_t pos) {
  constexpr uint64_t kHighBits = 0x8080808080808080;
  while (pos + 8 <= in.size()) {
    uint64_t word;
    std::memcpy(&word, in.data() + pos, 8);
    if ((word & kHighBits) != 0) break;
    pos += 8;
  }
  while (pos < in.size() && static_cast<unsigned char>(in[pos]) < 0x80) ++pos;
  return pos;
}

template <bool kUpper>
void AppendMapped(std::string_view in, std::string* out) {
  out->reserve(out->size() + in.size());
  // ASCII letters differ from their other case in bit 0x20 only.
  constexpr unsigned char kFrom = kUpper ? 'a' : 'A';
  for (size_t pos = 0; pos < in.size();) {
    const size_t run_end = AsciiRunEnd(in, pos);
    if (run_end > pos) {
      const size_t begin = out->size();
      out->append(in.substr(pos, run_end - pos));
      for (char* c = out->data() + begin; c != out->data() + out->size(); ++c) {
        if (static_cast<unsigned char>(*c - kFrom) < 26) *c = static_cast<char>(*c ^ 0x20);
      }
      pos = run_end;
      continue;
    }
    const Decoded decoded = Decode(in, pos);
    if (decoded.code_point < 0x180) {
      const uint32_t cp = decoded.code_point;
      AppendCodePoint(kUpper ? ToUpperCodePoint(cp) : ToLowerCodePoint(cp), out);
    } else {
      out->append(in.substr(pos, decoded.length));
    }
    pos += decoded.length;
  }
}

// NormalizeDiacritics of U+00C0-U+017F, one entry per code point; "" = copy unchanged.
// clang-format off
constexpr std::array<const char*, 0x180 - 0xC0> kFolded = {
    // U+00C0 À Á Â Ã Ä Å Æ Ç È É Ê Ë Ì Í Î Ï
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
    // U+00D0 Ð Ñ Ò Ó Ô Õ Ö × Ø Ù Ú Û Ü Ý Þ ß
    "D", "N", "O", "O", "O", "O", "O", "", "OE", "U", "U", "U", "U", "Y", "", "ss",
    // U+00E0 à á â ã ä å æ ç è é ê ë ì í î ï
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    // U+00F0 ð ñ ò ó ô õ ö ÷ ø ù ú û ü ý þ ÿ
    "d", "n", "o", "o", "o", "o", "o", "", "oe", "u", "u", "u", "u", "y", "", "y",
    // U+0100 Ā ā Ă ă Ą ą Ć ć Ĉ ĉ Ċ ċ Č č Ď ď
    "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d",
    // U+0110 Đ đ Ē ē Ĕ ĕ Ė ė Ę ę Ě ě Ĝ ĝ Ğ ğ
    "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g",
    // U+0120 Ġ ġ Ģ ģ Ĥ ĥ Ħ ħ Ĩ ĩ Ī ī Ĭ ĭ Į į
    "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i",
    // U+0130 İ ı Ĳ ĳ Ĵ ĵ Ķ ķ ĸ Ĺ ĺ Ļ ļ Ľ ľ Ŀ
    "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L",
    // U+0140 ŀ Ł ł Ń ń Ņ ņ Ň ň ŉ Ŋ ŋ Ō ō Ŏ ŏ
    "l", "L", "l", "N", "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o",
    // U+0150 Ő ő Œ œ Ŕ ŕ Ŗ ŗ Ř ř Ś ś Ŝ ŝ Ş ş
    "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s",
    // U+0160 Š š Ţ ţ Ť ť Ŧ ŧ Ũ ũ Ū ū Ŭ ŭ Ů ů
    "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u",
    // U+0170 Ű ű Ų ų Ŵ ŵ Ŷ ŷ Ÿ Ź ź Ż ż Ž ž ſ
    "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s",
};
// clang-format on

// Ș ș Ț ț (U+0218-U+021B), which Entra's table lists beside their cedilla twins.
constexpr std::array<const char*, 4> kFoldedCommaBelow = {"S", "s", "T", "t"};

bool IsCombiningMark(uint32_t cp) { return cp >= 0x300 && cp <= 0x36F; }

// Whether the character at in[pos] (of `length` bytes) is one of the characters of `set`.
bool InCharacterSet(std::string_view in, size_t pos, size_t length, std::string_view set) {
  const std::string_view character = in.substr(pos, length);
  for (size_t set_pos = 0; set_pos < set.size();) {
    const size_t set_length = Utf8CharLength(set, set_pos);
    if (set.substr(set_pos, set_length) == character) return true;
    set_pos += set_length;
  }
  return false;
}

bool IsDefaultWordSeparator(uint32_t cp) {
  if (cp >= 0x80) return cp == 0xA0;  // no-break space; other non-ASCII characters are letters
  return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
}

}  // namespace

size_t Utf8CharLength(std::string_view s, size_t pos) { return Decode(s, pos).length; }

size_t Utf8Skip(std::string_view s, int64_t chars) {
  size_t pos = 0;
  for (int64_t char_idx = 0; char_idx < chars && pos < s.size(); ++char_idx) {
    pos += Utf8CharLength(s, pos);
  }
  return pos;
}

void AppendLower(std::string_view in, std::string* out) { AppendMapped<false>(in, out); }

void AppendUpper(std::string_view in, std::string* out) { AppendMapped<true>(in, out); }

void AppendNormalizedDiacritics(std::string_view in, std::string* out) {
  out->reserve(out->size() + in.size());
  for (size_t pos = 0; pos < in.size();) {
    const size_t run_end = AsciiRunEnd(in, pos);
    if (run_end > pos) {
      out->append(in.substr(pos, run_end - pos));
      pos = run_end;
      continue;
    }
    const Decoded decoded = Decode(in, pos);
    const uint32_t cp = decoded.code_point;
    const char* folded = "";
    if (cp >= 0xC0 && cp < 0x180) {
      folded = kFolded[cp - 0xC0];
    } else if (cp >= 0x218 && cp <= 0x21B) {
      folded = kFoldedCommaBelow[cp - 0x218];
    }
    if (*folded != '\0') {
      out->append(folded);
    } else if (!IsCombiningMark(cp)) {
      out->append(in.substr(pos, decoded.length));
    }
    pos += decoded.length;
  }
}

void AppendProperCase(std::string_view in, std::string_view separators, std::string* out) {
  out->reserve(out->size() + in.size());
  bool at_word_start = true;
  for (size_t pos = 0; pos < in.size();) {
    const Decoded decoded = Decode(in, pos);
    const bool is_separator = separators.empty()
                                  ? IsDefaultWordSeparator(decoded.code_point)
                                  : InCharacterSet(in, pos, decoded.length, separators);
    if (is_separator || decoded.code_point >= 0x180) {
      out->append(in.substr(pos, decoded.length));
    } else {
      const uint32_t cp = decoded.code_point;
      AppendCodePoint(at_word_start ? ToUpperCodePoint(cp) : ToLowerCodePoint(cp), out);
    }
    at_word_start = is_separator;
    pos += decoded.length;
  }
}

std::string_view WordAt(std::string_view s, int64_t number, std::string_view delimiters) {
  if (number < 1) return {};
  int64_t word_number = 0;
  size_t word_begin = 0;
  bool in_word = false;
  for (size_t pos = 0; pos <= s.size();) {
    const size_t length = pos < s.size() ? Utf8CharLength(s, pos) : 0;
    const bool is_delimiter = pos == s.size() || InCharacterSet(s, pos, length, delimiters);
    if (is_delimiter && in_word) {
      if (++word_number == number) return s.substr(word_begin, pos - word_begin);
      in_word = false;
    } else if (!is_delimiter && !in_word) {
      word_begin = pos;
      in_word = true;
    }
    if (pos == s.size()) break;
    pos += length;
  }
  return {};
}

int64_t ParseInteger(std::string_view s, int64_t fallback) {
  constexpr int64_t kLimit = int64_t{1} << 62;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return fallback;
  int64_t value = 0;
  for (const char digit : s) {
    if (digit < '0' || digit > '9') return fallback;
    value = value <= (kLimit - 9) / 10 ? value * 10 + (digit - '0') : kLimit;
  }
  return negative ? -value : value;
}

}  // namespace usersync::core::internal
