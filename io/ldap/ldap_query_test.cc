#include "io/ldap/ldap_query.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ldap_filter.h"
#include "core/str.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/directory/attribute_name.h"

namespace usersync::io::ldap_internal {
namespace {

using ::testing::HasSubstr;

// A test entry: a DN and one multi-valued attribute "uid".
class UidEntry final : public core::EntryView {
 public:
  explicit UidEntry(std::vector<std::string> uids) : uids_(std::move(uids)) {
    for (const std::string& uid : uids_) views_.push_back(uid);
  }
  std::string_view Dn() const override { return "uid=x,dc=example,dc=com"; }
  std::span<const std::string_view> Values(std::string_view name) const override {
    if (core::EqualsIgnoreCase(name, "uid")) return views_;
    return {};
  }

 private:
  std::vector<std::string> uids_;
  std::vector<std::string_view> views_;
};

// How many of the partitions' filters `entry` matches (with core's two-valued evaluation).
int MatchCount(const std::vector<std::string>& partitions, const core::EntryView& entry) {
  int count = 0;
  for (const std::string& text : partitions) {
    absl::StatusOr<core::LdapFilter> filter = core::ParseLdapFilter(text);
    EXPECT_TRUE(filter.ok()) << text << ": " << filter.status();
    if (filter.ok() && core::Matches(*filter, entry)) ++count;
  }
  return count;
}

TEST(PlanUserPartitions, OneConnectionIsOnePlainSearch) {
  EXPECT_EQ(PlanUserPartitions("uid", 1), std::vector<std::string>{""});
  EXPECT_EQ(PlanUserPartitions("uid", 0), std::vector<std::string>{""});
}

TEST(PlanUserPartitions, TwoPartitionsAreAPrefixSetAndItsComplement) {
  std::vector<std::string> partitions = PlanUserPartitions("uid", 2);
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_THAT(partitions[0], ::testing::StartsWith("(|(uid=a*)(uid=b*)"));
  EXPECT_THAT(partitions[1], ::testing::StartsWith("(|(!(uid=*))(!(|(uid=a*)"));
  // The complement names exactly the letters of the first partition.
  EXPECT_EQ(partitions[1], "(|(!(uid=*))(!" + partitions[0] + "))");
}

// Every entry, however skewed or odd its naming values, matches exactly one partition.
TEST(PlanUserPartitions, EveryEntryMatchesExactlyOnePartition) {
  const std::vector<std::vector<std::string>> samples = {
      {"alice"}, {"Alice"},        {"aaron"},     {"bob"},
      {"zoe"},   {"Zed"},          {"mike"},      {"42x"},
      {"0"},     {"\xc3\x9cmit"},  {"_svc"},      {"-dash"},
      {""},      {"alice", "bob"}, {"zoe", "al"}, {"x", "9"},
      {},        {"(paren"},       {"*star"},     {"q"},
      {"u"},     {"yann"}};
  for (int count : {2, 3, 4, 7, 13, 26, 40}) {
    const std::vector<std::string> partitions = PlanUserPartitions("uid", count);
    EXPECT_EQ(partitions.size(), static_cast<size_t>(std::min(count, 26)));
    for (const std::vector<std::string>& uids : samples) {
      EXPECT_EQ(MatchCount(partitions, UidEntry(uids)), 1)
          << count << " partitions, uid " << (uids.empty() ? "(none)" : uids.front());
    }
  }
}

// Each letter belongs to exactly one partition's own prefix set, and none is left out.
TEST(PlanUserPartitions, EveryLetterHasAnOwnerAndPartitionsAreNotEmpty) {
  for (int count : {2, 4, 7, 26}) {
    const std::vector<std::string> partitions = PlanUserPartitions("uid", count);
    std::vector<int> owner(26, -1);
    for (char letter = 'a'; letter <= 'z'; ++letter) {
      const UidEntry entry({std::string(1, letter) + "user"});
      for (size_t idx = 0; idx < partitions.size(); ++idx) {
        absl::StatusOr<core::LdapFilter> filter = core::ParseLdapFilter(partitions[idx]);
        ASSERT_TRUE(filter.ok());
        if (core::Matches(*filter, entry)) owner[letter - 'a'] = static_cast<int>(idx);
      }
    }
    for (size_t idx = 0; idx < partitions.size(); ++idx) {
      EXPECT_NE(std::find(owner.begin(), owner.end(), static_cast<int>(idx)), owner.end())
          << "partition " << idx << " of " << count << " owns no letter";
    }
  }
}

TEST(UserSearchFilter, ExcludesGroupsAndAddsThePartition) {
  EXPECT_EQ(UserSearchFilter("(objectClass=inetOrgPerson)", "(objectClass=groupOfNames)", ""),
            "(&(objectClass=inetOrgPerson)(!(objectClass=groupOfNames)))");
  EXPECT_EQ(UserSearchFilter("(a=b)", "(c=d)", "(uid=x*)"), "(&(a=b)(!(c=d))(uid=x*))");
}

TEST(CanonicalFilters, AddsParenthesesAndRejectsBadFilters) {
  absl::StatusOr<SearchFilters> filters = CanonicalFilters("objectClass=person", "(cn=g\\2a)");
  ASSERT_TRUE(filters.ok()) << filters.status();
  EXPECT_EQ(filters->user, "(objectClass=person)");
  EXPECT_EQ(filters->group, "(cn=g\\2a)");
  absl::StatusOr<SearchFilters> bad = CanonicalFilters("(&(a=b)", "(c=d)");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("source.user_filter"));
  EXPECT_THAT(CanonicalFilters("(a=b)", "((").status().message(), HasSubstr("source.group_filter"));
}

TEST(ParseValueRange, ReadsAdRangeOptions) {
  EXPECT_EQ(ParseValueRange("member;range=0-1499").value(), (ValueRange{0, 1499}));
  EXPECT_EQ(ParseValueRange("member;range=1500-*").value(), (ValueRange{1500, -1}));
  EXPECT_TRUE(ParseValueRange("member;range=1500-*").value()->last());
  EXPECT_EQ(ParseValueRange("member;binary;RANGE=3-4").value(), (ValueRange{3, 4}));
  EXPECT_EQ(ParseValueRange("member;Range=10-20;x-opt").value(), (ValueRange{10, 20}));
  EXPECT_FALSE(ParseValueRange("member").value().has_value());
  EXPECT_FALSE(ParseValueRange("member;lang-en").value().has_value());
  EXPECT_FALSE(ParseValueRange("member;ranger").value().has_value());
}

TEST(ParseValueRange, MalformedRangeIsDataLoss) {
  for (std::string_view bad : {"member;range=", "member;range=x-1", "member;range=5-2",
                               "member;range=1", "member;range=-1-3", "member;range=0-"}) {
    absl::StatusOr<std::optional<ValueRange>> range = ParseValueRange(bad);
    ASSERT_FALSE(range.ok()) << bad;
    EXPECT_EQ(range.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(range.status().message(), HasSubstr(std::string(bad)));
  }
}

TEST(RangedDescription, AsksForTheRestFromLow) {
  EXPECT_EQ(RangedDescription("member", 1500), "member;range=1500-*");
  EXPECT_EQ(RangedDescription("member", 0), "member;range=0-*");
  EXPECT_EQ(RangedDescription("member", 0, 1499), "member;range=0-1499");
  EXPECT_EQ(AttributeBaseName("member;range=0-*"), "member");
  EXPECT_EQ(AttributeBaseName("cn"), "cn");
}

}  // namespace
}  // namespace usersync::io::ldap_internal
