#include "io/commands/match_csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace usersync::io {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(SplitCsvLine, QuotesAndTrimming) {
  EXPECT_THAT(SplitCsvLine(" a , b ").value(), ElementsAre("a", "b"));
  EXPECT_THAT(SplitCsvLine(R"("a,b","say ""hi""")").value(), ElementsAre("a,b", R"(say "hi")"));
  EXPECT_THAT(SplitCsvLine("a,,").value(), ElementsAre("a", "", ""));
  EXPECT_EQ(SplitCsvLine(R"("open,b)").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseMatchCsv, ReadsPairsWithTheirLineNumbers) {
  std::vector<LineError> errors;
  const std::vector<MatchPair> pairs = ParseMatchCsv(
      "Source_ID,target_id\r\nid-1,acc-1\r\n\n  \nid-2 , \"acc,2\"\n", "m.csv", &errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].source_id, "id-1");
  EXPECT_EQ(pairs[0].target_id, "acc-1");
  EXPECT_EQ(pairs[0].line, 2);
  EXPECT_EQ(pairs[1].target_id, "acc,2");
  EXPECT_EQ(pairs[1].line, 5);
}

// Every bad line is reported with FILE:LINE; the good ones are still returned.
TEST(ParseMatchCsv, ReportsEveryBadLine) {
  std::vector<LineError> errors;
  const std::vector<MatchPair> pairs =
      ParseMatchCsv("source,target\nid-1\nid-2,acc-2,x\n,acc-3\nid-4,\n\"id-5,acc-5\nid-6,acc-6\n",
                    "m.csv", &errors);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].source_id, "id-6");
  EXPECT_THAT(
      errors,
      ElementsAre(Pair(1, "m.csv:1: the header must be \"source_id,target_id\""),
                  Pair(2, "m.csv:2: expected 2 fields (source_id,target_id), found 1"),
                  Pair(3, "m.csv:3: expected 2 fields (source_id,target_id), found 3"),
                  Pair(4, "m.csv:4: source_id is empty"), Pair(5, "m.csv:5: target_id is empty"),
                  Pair(6, "m.csv:6: a quoted field is not closed")));
}

TEST(ParseMatchCsv, EmptyFileHasNoHeader) {
  std::vector<LineError> errors;
  EXPECT_TRUE(ParseMatchCsv("\n\n", "m.csv", &errors).empty());
  EXPECT_THAT(errors, ElementsAre(Pair(0, "m.csv: empty: no header")));
}

// The unlink file: header "source_id", one id a line; bad lines named as in a match file.
TEST(ParseUnlinkCsv, ReadsIdsAndReportsBadLines) {
  std::vector<LineError> errors;
  const std::vector<MatchPair> ids =
      ParseUnlinkCsv("SOURCE_ID\r\nid-1\r\n\"id,2\"\nid-3,acc-3\n\"\"\n", "u.csv", &errors);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].source_id, "id-1");
  EXPECT_EQ(ids[0].line, 2);
  EXPECT_EQ(ids[1].source_id, "id,2");
  EXPECT_EQ(ids[1].target_id, "");
  EXPECT_THAT(errors, ElementsAre(Pair(4, "u.csv:4: expected 1 field (source_id), found 2"),
                                  Pair(5, "u.csv:5: source_id is empty")));
  errors.clear();
  EXPECT_TRUE(ParseUnlinkCsv("source_id,target_id\nid-1,acc-1\n", "u.csv", &errors).empty());
  EXPECT_THAT(errors, ElementsAre(Pair(1, "u.csv:1: the header must be \"source_id\""),
                                  Pair(2, "u.csv:2: expected 1 field (source_id), found 2")));
}

TEST(ReadMatchCsv, MissingFileIsNotFound) {
  std::vector<LineError> errors;
  EXPECT_EQ(ReadMatchCsv("/nonexistent/usersync/m.csv", &errors).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace usersync::io
