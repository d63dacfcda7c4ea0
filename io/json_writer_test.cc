#include "io/json_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace usersync::io {
namespace {

std::string Quoted(std::string_view value) {
  std::string out;
  JsonWriter::AppendQuoted(&out, value);
  return out;
}

TEST(JsonWriter, WritesNestedValuesWithCommas) {
  JsonWriter w;
  w.BeginObject().Field("a", "x").Key("b").BeginArray().Int(1).Bool(false).Null().EndArray();
  w.Key("c").BeginObject().EndObject().EndObject();
  EXPECT_EQ(w.str(), R"({"a":"x","b":[1,false,null],"c":{}})");
}

TEST(JsonWriter, EscapesWhatJsonRequires) {
  EXPECT_EQ(Quoted(""), R"("")");
  EXPECT_EQ(Quoted("W/\"3\" a\\b"), R"("W/\"3\" a\\b")");
  EXPECT_EQ(Quoted("\n\r\t\b\f\x01\x1f"), R"("\n\r\t\b\f\u0001\u001f")");
  EXPECT_EQ(Quoted("Åsa Ström \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"Åsa Ström \xe2\x82\xac \xf0\x9f\x98\x80\"");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence, an overlong '/') is replaced.
  EXPECT_EQ(Quoted("a\x80z\xc3"), "\"a\xef\xbf\xbdz\xef\xbf\xbd\"");
  EXPECT_EQ(Quoted("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
}

// Plain runs are found eight bytes a step: a byte that needs escaping is seen at every offset
// of a word and in the tail, next to plain bytes 0x20 and 0x7f that need none.
TEST(JsonWriter, EscapesAtEveryOffset) {
  const std::string specials[] = {"\"", "\\", "\n", "\x1f", "\xc3\xa9", "\xff"};
  const std::string escaped[] = {"\\\"", "\\\\", "\\n", "\\u001f", "\xc3\xa9", "\xef\xbf\xbd"};
  for (size_t special_idx = 0; special_idx < std::size(specials); ++special_idx) {
    for (size_t offset = 0; offset < 19; ++offset) {
      SCOPED_TRACE(testing::Message() << "special " << special_idx << " at " << offset);
      const std::string before(offset, offset % 2 == 0 ? ' ' : '\x7f');
      const std::string after(18 - offset, '~');
      EXPECT_EQ(Quoted(before + specials[special_idx] + after),
                "\"" + before + escaped[special_idx] + after + "\"");
    }
  }
}

}  // namespace
}  // namespace usersync::io
