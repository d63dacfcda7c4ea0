// Conformance: the GoTo codec against the request and answer examples of GoTo's public
// documentation and of third-party code that calls the real service, transcribed into
// io/goto/testdata/ (README.md there names each source). No emulator is involved.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/goto/goto_codec.h"
#include "io/goto/goto_dialect.h"
#include "io/goto/goto_role_sets.h"
#include "simdjson.h"

namespace usersync::io {
namespace {

namespace od = simdjson::ondemand;
using ::testing::Pair;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(USERSYNC_GOTO_TESTDATA) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << "no fixture " << name;
  return text.str();
}

std::string Trim(std::string_view raw) {
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  return std::string(raw);
}

// A canonical text of a JSON value: object members sorted by key, no whitespace, numbers
// and strings as their source text (so a 26-digit number is compared exactly).
std::string Canonical(od::value value) {
  od::json_type type = value.type().value();
  if (type == od::json_type::object) {
    std::vector<std::pair<std::string, std::string>> members;
    // Named first: a temporary simdjson_result in the range-init would die before the loop
    // (C++20 keeps only the outermost temporary alive; ASan saw it).
    od::object object = value.get_object().value();
    for (auto field : object) {
      std::string key(field.unescaped_key().value());
      members.emplace_back(std::move(key), Canonical(field.value().value()));
    }
    std::sort(members.begin(), members.end());
    std::string out = "{";
    for (const auto& [key, text] : members) {
      out += (out.size() > 1 ? "," : "") + ("\"" + key + "\":") + text;
    }
    return out + "}";
  }
  if (type == od::json_type::array) {
    std::string out = "[";
    od::array array = value.get_array().value();
    for (auto element : array) {
      out += (out.size() > 1 ? "," : "") + Canonical(element.value());
    }
    return out + "]";
  }
  return Trim(value.raw_json_token());
}

std::string CanonicalJson(const std::string& text) {
  od::parser parser;
  simdjson::padded_string padded(text);
  od::document doc = parser.iterate(padded).value();
  return Canonical(doc.get_value().value());
}

TEST(GotoConformance, CanonicalJsonTellsDocumentsApart) {
  EXPECT_EQ(CanonicalJson(R"({"b": [1, 2], "a": "x"})"), CanonicalJson(R"({"a":"x","b":[1,2]})"));
  EXPECT_NE(CanonicalJson(R"({"a": [1, 2]})"), CanonicalJson(R"({"a": [2, 1]})"));
  EXPECT_NE(CanonicalJson(R"([78888886011013972886849029])"),
            CanonicalJson(R"([78888886011013972886849028])"));
}

// [DOC] §3a: the create request of the manage-users guide.
TEST(GotoConformance, CreateRequestEqualsTheDocumentedOne) {
  core::AccountSpec janco;
  janco.user_name = janco.email = "jtianno@company.com";
  janco.first_name = "Janco";
  janco.last_name = "Tianno";
  EXPECT_EQ(CanonicalJson(EncodeGotoCreateBatch({&janco}, /*suppress_email=*/true)),
            CanonicalJson(Fixture("create_request.json")));
}

// [3P] §3b: licenseKeys beside users, a 19-digit key as a JSON number.
TEST(GotoConformance, CreateRequestWithLicenseKeysEqualsTheScriptsOne) {
  core::AccountSpec ann;
  ann.user_name = ann.email = "ann@example.com";
  ann.first_name = "Ann";
  ann.last_name = "Lee";
  const std::string body =
      EncodeGotoCreateBatch({&ann}, /*suppress_email=*/false, {"7902142105473202120"});
  std::string expected = Fixture("create_request_license.json");
  expected.insert(expected.rfind('}'), R"(,"suppressEmail":false)");
  EXPECT_EQ(CanonicalJson(body), CanonicalJson(expected));
}

// [DOC] §3a: the answer is an array of {key, email}; the key has 26 digits, beyond 64 bits.
TEST(GotoConformance, DecodesTheDocumentedCreateAnswer) {
  absl::StatusOr<std::vector<GotoMemberResult>> results =
      DecodeGotoBatchResults(Fixture("create_answer.json"));
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].user_key, "78888886011013972886849029");
  EXPECT_EQ((*results)[0].email, "jtianno@company.com");
  EXPECT_EQ((*results)[0].kind, GotoMemberResult::Kind::kListed);
}

// [3P] §3c: the same array with the key as a string.
TEST(GotoConformance, DecodesACreateAnswerWithAStringKey) {
  absl::StatusOr<std::vector<GotoMemberResult>> results =
      DecodeGotoBatchResults(Fixture("create_answer_string_key.json"));
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].user_key, "7843266547734050054");
  EXPECT_EQ((*results)[0].email, "dennis@eckersly.com");
}

// [3P] §2c: a listing page with key as a string, status SUSPENDED and fields usersync ignores.
TEST(GotoConformance, DecodesTheListUsersPage) {
  core::Accounts accounts;
  int64_t total = 0;
  ASSERT_TRUE(DecodeGotoUserList(Fixture("list_users_answer.json"), &accounts, &total).ok());
  EXPECT_EQ(total, 14);
  ASSERT_EQ(accounts.items.size(), 1u);
  const core::Account& al = accounts.items[0];
  EXPECT_EQ(Sv(al.id), "2326735236025616133");
  EXPECT_EQ(Sv(al.email), "al@leiter.com");
  EXPECT_EQ(Sv(al.first_name), "Allan");
  EXPECT_EQ(Sv(al.last_name), "Leiter");
  EXPECT_EQ(Sv(al.language), "en_US");
  EXPECT_FALSE(al.active);
}

// A listed user whose key is a bare 26-digit number keeps every digit.
TEST(GotoConformance, DecodesAListedUserKeyBeyond64Bits) {
  core::Accounts accounts;
  int64_t total = 0;
  ASSERT_TRUE(DecodeGotoUserList(
                  R"({"results":[{"key":78888886011013972886849029,"email":"j@c.com"}],"total":1})",
                  &accounts, &total)
                  .ok());
  ASSERT_EQ(accounts.items.size(), 1u);
  EXPECT_EQ(Sv(accounts.items[0].id), "78888886011013972886849029");
}

TEST(GotoConformance, RefusesAKeyThatIsNotAWholeNumber) {
  core::Accounts accounts;
  int64_t total = 0;
  absl::Status status =
      DecodeGotoUserList(R"({"results":[{"key":1.5e3,"email":"j@c.com"}]})", &accounts, &total);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("results[0].key"));
}

// [3P] §5a: the Admin reference's license sample: products[] with seats and userCount.
TEST(GotoConformance, DecodesTheLicenseListing) {
  absl::StatusOr<FreeSeatList> seats = DecodeGotoLicenses(Fixture("licenses_answer.json"));
  ASSERT_TRUE(seats.ok()) << seats.status();
  EXPECT_THAT(*seats, ::testing::ElementsAre(Pair("G2M", 0)));
  seats = DecodeGotoLicenses(
      R"({"results":[{"key":7902142105473202120,"products":["G2M","G2W"],"seats":10,"userCount":4}]})");
  ASSERT_TRUE(seats.ok()) << seats.status();
  EXPECT_THAT(*seats, ::testing::ElementsAre(Pair("G2M", 6), Pair("G2W", 6)));
}

// [DOC] §1a: /me lists the accounts, keys as strings of 22 and 23 digits; [3P] §1b: a root
// accountKey comes first.
TEST(GotoConformance, DecodesTheAccountsOfMe) {
  absl::StatusOr<std::vector<GotoAccountRef>> accounts = DecodeGotoMe(Fixture("me_answer.json"));
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ((*accounts)[0].key, "8887380153236031176710");
  EXPECT_EQ((*accounts)[0].name, "My Great Account");
  EXPECT_EQ((*accounts)[1].key, "88881601234581673744646");
  EXPECT_EQ((*accounts)[1].name, "My Other Great Account");
  // The root accountKey (a bare number here) comes first, named from accounts[]; no repeats.
  accounts = DecodeGotoMe(
      R"({"key":1,"accountKey":88881601234581673744646,"accounts":[{"key":"8887380153236031176710"},{"key":"88881601234581673744646","name":"Other"}]})");
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ((*accounts)[0].key, "88881601234581673744646");
  EXPECT_EQ((*accounts)[0].name, "Other");
  EXPECT_EQ((*accounts)[1].key, "8887380153236031176710");
  EXPECT_TRUE(absl::IsDataLoss(DecodeGotoMe(R"({"email":"a@b.c"})").status()));
}

// A hostile /me listing more accounts than any administrator has is refused, not collected.
TEST(GotoConformance, MeWithTooManyAccountsIsRefused) {
  std::string body = R"({"accounts":[)";
  for (size_t i = 0; i <= kMaxMeAccounts; ++i) {
    absl::StrAppend(&body, i == 0 ? "" : ",", R"({"key":)", i + 1, "}");
  }
  body += "]}";
  absl::StatusOr<std::vector<GotoAccountRef>> accounts = DecodeGotoMe(body);
  ASSERT_TRUE(absl::IsDataLoss(accounts.status())) << accounts.status();
  EXPECT_THAT(std::string(accounts.status().message()), ::testing::HasSubstr("more than 10000"));
}

// [3P] §4a: a super admin is PUT {"adminRoles": ["SUPER_USER"]}; demoting PUTs a blank array.
TEST(GotoConformance, AdminRoleUpdatesEqualTheScriptsOnes) {
  core::AccountSpec spec;
  spec.user_name = spec.email = "ann@example.com";
  spec.admin_role = "full";
  const std::vector<core::Change> changes = {{core::Field::kAdminRole, "", "full"}};
  EXPECT_EQ(CanonicalJson(EncodeGotoUpdate(changes, spec, std::nullopt)),
            CanonicalJson(Fixture("update_admin_roles_request.json")));
  spec.admin_role = "";
  EXPECT_EQ(CanonicalJson(EncodeGotoUpdate(changes, spec, std::nullopt)),
            CanonicalJson(Fixture("update_clear_admin_roles_request.json")));
}

// [3P] §6: role sets are listed as {"results":[{"id","name"}]}, assigned by
// PUT rolesets/{id}/users?filter=email eq "..." and removed by DELETE users/rolesets?filter=...
TEST(GotoConformance, RoleSetShapesFollowTheScript) {
  absl::StatusOr<std::vector<GotoRoleSet>> role_sets = DecodeGotoRoleSets(
      R"({"results":[{"id":7001,"name":"Helpdesk"},{"id":"7002","name":"Ops"}]})");
  ASSERT_TRUE(role_sets.ok()) << role_sets.status();
  ASSERT_EQ(role_sets->size(), 2u);
  EXPECT_EQ((*role_sets)[0].id, "7001");
  EXPECT_EQ((*role_sets)[1].name, "Ops");
  EXPECT_EQ(GotoAssignRoleSetPath("7001", "ann lee@example.com"),
            "/rolesets/7001/users?filter=email%20eq%20%22ann%20lee%40example.com%22");
  EXPECT_EQ(GotoRemoveRoleSetPath("ann@example.com"),
            "/users/rolesets?filter=email%20eq%20%22ann%40example.com%22");
}

// [DOC] §2a paging by offset and pageSize; [3P] §2b the `email eq "..."` filter with %20.
TEST(GotoConformance, PagesByOffsetAndFiltersWithPercentTwenty) {
  GotoDialect dialect("https://api.getgo.com/admin/rest/v1", "1234");
  EXPECT_EQ(dialect.ListPath(10, 10), "/users?pageSize=10&offset=10");
  const std::string look_up = dialect.LookUpPath("ann lee@example.com", "");
  EXPECT_THAT(look_up, ::testing::HasSubstr("filter=email%20eq%20%22ann%20lee%40example.com%22"));
  EXPECT_EQ(look_up.find('+'), std::string::npos);
}

}  // namespace
}  // namespace usersync::io
