#include "core/compact_string.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace usersync::core {
namespace {

const std::string kLong = "uid=ann,ou=people,dc=example,dc=com";  // past the inline 15 bytes

TEST(CompactString, HoldsTextInlineUpToFifteenBytesAndOnTheHeapPast) {
  for (size_t size : {0, 1, 14, 15, 16, 17, 300}) {
    const std::string text(size, 'x');
    const CompactString held(text);
    EXPECT_EQ(held.size(), size);
    EXPECT_EQ(held.view(), text);
    // Inline text lives inside the object; longer text does not.
    const bool inside = held.data() >= reinterpret_cast<const char*>(&held) &&
                        held.data() < reinterpret_cast<const char*>(&held + 1);
    EXPECT_EQ(inside, size <= CompactString::kInlineCapacity) << size;
    EXPECT_FALSE(held.borrowed());
  }
}

TEST(CompactString, CopiesAndMovesLikeAString) {
  CompactString a(kLong);
  CompactString b = a;
  EXPECT_EQ(b, kLong);
  EXPECT_NE(a.data(), b.data());  // a copy owns its own text
  CompactString c = std::move(a);
  EXPECT_EQ(c, kLong);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  b = "short";
  EXPECT_EQ(b, "short");
  b = c;
  EXPECT_EQ(b, kLong);
  c = std::move(b);
  EXPECT_EQ(c, kLong);
  c.clear();
  EXPECT_TRUE(c.empty());
}

TEST(CompactString, AssignsFromAViewOfItself) {
  CompactString held(kLong);
  held = held.substr(4);  // the view points into the text being replaced
  EXPECT_EQ(held, kLong.substr(4));
  CompactString small("abcdefgh");
  small = small.substr(2, 3);
  EXPECT_EQ(small, "cde");
}

TEST(CompactString, BorrowViewsLongTextAndACopyOwnsIt) {
  std::string source = kLong;
  CompactString borrowed = CompactString::Borrow(source);
  EXPECT_TRUE(borrowed.borrowed());
  EXPECT_EQ(borrowed.data(), source.data());
  CompactString moved = std::move(borrowed);  // a move keeps the view
  EXPECT_TRUE(moved.borrowed());
  EXPECT_EQ(moved.data(), source.data());
  const CompactString copy = moved;  // a copy owns
  EXPECT_FALSE(copy.borrowed());
  source[0] = 'U';
  EXPECT_EQ(moved.view().front(), 'U');
  EXPECT_EQ(copy, kLong);
  // Short text is copied inline, borrowed or not.
  const std::string short_text = "G2M";
  const CompactString inline_copy = CompactString::Borrow(short_text);
  EXPECT_FALSE(inline_copy.borrowed());
  EXPECT_NE(inline_copy.data(), short_text.data());
}

TEST(CompactString, ComparesHashesAndPrintsAsText) {
  const CompactString a("alpha"), b(kLong);
  EXPECT_TRUE(a == "alpha");
  EXPECT_TRUE("alpha" == a);
  EXPECT_TRUE(a == std::string("alpha"));
  EXPECT_TRUE(a < b);  // 'a' < 'u'
  EXPECT_TRUE(a != b);
  std::vector<std::pair<CompactString, CompactString>> pairs = {{"b", "1"}, {"a", "2"}};
  std::sort(pairs.begin(), pairs.end());
  EXPECT_EQ(pairs.front().first, "a");
  absl::flat_hash_set<CompactString> set = {a, b};
  EXPECT_TRUE(set.contains(CompactString("alpha")));
  EXPECT_EQ(absl::StrCat("[", absl::string_view(a), "]"), "[alpha]");
  EXPECT_EQ("x " + a, "x alpha");
  EXPECT_EQ(std::string(b), kLong);
  EXPECT_EQ(b.find("ou="), kLong.find("ou="));
  EXPECT_TRUE(b.starts_with("uid="));
}

}  // namespace
}  // namespace usersync::core
