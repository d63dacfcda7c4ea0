#include "io/report/users_html.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace usersync::io {
namespace {

using core::Category;
using core::Plan;
using core::UserRow;

constexpr char kDataOpen[] = "<script type=\"application/json\" id=\"users-data\">";

// A row whose text lives in `plan`'s strings, as the planner's does.
UserRow Row(Plan& plan, Category category, std::string email, std::string reason = "",
            std::string dn = "") {
  core::StringArena& text = plan.strings;
  UserRow row;
  row.category = category;
  row.email = text.Store(email);
  row.directory_id = email.empty() ? "" : text.Store("id-" + email);
  row.dn = text.Store(dn.empty() ? "uid=" + email + ",ou=people,dc=example,dc=com" : dn);
  row.account_id = category == Category::kNew ? "" : text.Store("acct-" + email);
  row.products = "G2M,G2W";
  row.rule = "Organizers";
  row.reason = text.Store(reason);
  return row;
}

void Add(Plan& plan, UserRow row) {
  ++plan.summary[static_cast<size_t>(row.category)];
  plan.rows.push_back(std::move(row));
}

// 3 matched, 2 update, 5 new, 1 invalid, 4 account-only, 0 departed.
Plan CountsPlan() {
  Plan plan;
  const std::pair<Category, int> counts[] = {{Category::kMatched, 3},
                                             {Category::kUpdate, 2},
                                             {Category::kNew, 5},
                                             {Category::kInvalid, 1},
                                             {Category::kAccountOnly, 4}};
  for (const auto& [category, count] : counts) {
    for (int row_idx = 0; row_idx < count; ++row_idx) {
      Add(plan, Row(plan, category,
                    std::string(core::CategoryName(category)) + "." + std::to_string(row_idx) +
                        "@example.com"));
    }
  }
  return plan;
}

// Strings that would break out of a naive page: script end tags, comment openers, attribute
// quotes, markup, JSON escapes, line separators.
const std::vector<std::string>& HostileStrings() {
  static const auto* strings = new std::vector<std::string>{
      "</script><script>document.body.dataset.pwned='1'</script>",
      "</SCRIPT ><img src=x onerror=alert(1)>",
      "<!--<script>",
      "\"'><svg onload=alert(2)>",
      "back\\slash \"quoted\" & amp; &lt;",
      "line\nbreak\ttab\r\x01",
      "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m \xe6\x97\xa5\xe6\x9c\xac \xe2\x80\xa8 sep",
      "]]></script><!-- ]}",
  };
  return *strings;
}

Plan HostilePlan() {
  Plan plan;
  const std::vector<std::string>& hostile = HostileStrings();
  for (size_t str_idx = 0; str_idx < hostile.size(); ++str_idx) {
    UserRow row = Row(plan, Category::kInvalid, "h" + std::to_string(str_idx) + "@example.com",
                      hostile[str_idx], "cn=" + hostile[str_idx] + ",dc=example,dc=com");
    row.rule = hostile[str_idx];
    row.products = hostile[str_idx];
    row.account_id = hostile[str_idx];
    row.directory_id = hostile[str_idx];
    Add(plan, std::move(row));
  }
  Add(plan, Row(plan, Category::kAccountOnly, "</script>@evil.example", "<b>bold</b>"));
  plan.warnings.push_back("group <script>alert(3)</script> not found");
  plan.deprovision_held = true;
  plan.hold_reason = "7 > 5 <img src=x onerror=alert(4)>";
  return plan;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t count = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++count;
  }
  return count;
}

// The text of the embedded data element ("" if absent).
std::string_view DataText(std::string_view page) {
  size_t begin = page.find(kDataOpen);
  if (begin == std::string_view::npos) return "";
  begin += std::string_view(kDataOpen).size();
  size_t end = page.find("</script>", begin);
  if (end == std::string_view::npos) return "";
  return page.substr(begin, end - begin);
}

TEST(UsersHtml, ShowsCountsPerCategoryInDesignOrder) {
  const Plan plan = CountsPlan();
  const std::string page = UsersHtml(plan, "Example Corp", "2024-05-01 02:00:00 UTC");
  const char* expected[] = {
      R"(data-category="matched" data-count="3")",
      R"(data-category="update" data-count="2")",
      R"(data-category="new" data-count="5")",
      R"(data-category="invalid" data-count="1")",
      R"(data-category="account_only" data-count="4")",
      R"(data-category="departed" data-count="0")",
  };
  size_t last = 0;
  for (const char* bar : expected) {
    size_t pos = page.find(bar);
    ASSERT_NE(pos, std::string::npos) << bar;
    EXPECT_GT(pos, last) << bar << " is out of DESIGN.md order";
    last = pos;
  }
  EXPECT_EQ(Count(page, "class=\"bar-row "), 6u);
  // The largest category fills its bar; shares are of all rows.
  EXPECT_NE(page.find("width:100.00%"), std::string::npos);
  EXPECT_NE(page.find(">33.3%<"), std::string::npos);  // 5 of 15
  EXPECT_NE(page.find("<strong id=\"total-count\">15</strong>"), std::string::npos);
  EXPECT_NE(page.find("2024-05-01 02:00:00 UTC"), std::string::npos);
  EXPECT_NE(page.find("<h1>Example Corp</h1>"), std::string::npos);
}

TEST(UsersHtml, EmbedsEveryRowInPlanOrder) {
  Plan plan = CountsPlan();
  const Plan hostile = HostilePlan();
  plan.strings.Share(hostile.strings);  // the rows' text lives there
  for (const UserRow& row : hostile.rows) Add(plan, row);
  const std::string page = UsersHtml(plan, "t", "now");
  const std::string_view data = DataText(page);
  ASSERT_FALSE(data.empty());
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(data);
  simdjson::ondemand::document doc = parser.iterate(json);
  size_t row_idx = 0;
  for (auto element : doc.get_array()) {
    ASSERT_LT(row_idx, plan.rows.size());
    const UserRow& want = plan.rows[row_idx];
    std::vector<std::string> got;
    for (auto field : element.get_array()) got.emplace_back(field.get_string().value());
    const std::vector<std::string> expected = {std::string(core::CategoryName(want.category)),
                                               std::string(want.email),
                                               std::string(want.directory_id),
                                               std::string(want.dn),
                                               std::string(want.account_id),
                                               std::string(want.products),
                                               std::string(want.rule),
                                               std::string(want.reason)};
    EXPECT_EQ(got, expected) << "row " << row_idx;
    ++row_idx;
  }
  EXPECT_EQ(row_idx, plan.rows.size());
}

// No user-provided string can end the data element early, open a tag or an attribute.
TEST(UsersHtml, UserStringsCannotBreakOut) {
  const std::string hostile_title = "Acme <script>alert(5)</script> \"&'";
  const std::string page = UsersHtml(HostilePlan(), hostile_title, "<b>now</b>");
  const std::string lower = Lower(page);
  // Exactly the page's own two script elements, each opened and closed once.
  EXPECT_EQ(Count(lower, "<script"), 2u);
  EXPECT_EQ(Count(lower, "</script"), 2u);
  EXPECT_EQ(Count(lower, "<!--"), 0u);
  EXPECT_EQ(Count(lower, "<img"), 0u);
  EXPECT_EQ(Count(lower, "<svg"), 0u);
  EXPECT_EQ(Count(lower, "<b>"), 0u);
  const std::string_view data = DataText(page);
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.find_first_of("<>&"), std::string_view::npos);
  EXPECT_NE(data.find("\\u003c/script\\u003e"), std::string_view::npos);
  // Title, time, warning and hold reason are HTML text.
  EXPECT_NE(page.find("<h1>Acme &lt;script&gt;alert(5)&lt;/script&gt; &quot;&amp;&#39;</h1>"),
            std::string::npos);
  EXPECT_NE(page.find("<time>&lt;b&gt;now&lt;/b&gt;</time>"), std::string::npos);
  EXPECT_NE(page.find("group &lt;script&gt;alert(3)&lt;/script&gt; not found"), std::string::npos);
  EXPECT_NE(page.find("7 &gt; 5 &lt;img src=x onerror=alert(4)&gt;"), std::string::npos);
  // The script renders with textContent only.
  EXPECT_EQ(page.find("innerHTML"), std::string::npos);
  EXPECT_EQ(page.find("insertAdjacentHTML"), std::string::npos);
  EXPECT_EQ(page.find("document.write"), std::string::npos);
}

TEST(UsersHtml, MakesNoNetworkFetch) {
  const std::string lower = Lower(UsersHtml(CountsPlan(), "Example Corp", "now"));
  for (const char* fetch : {"http://", "https://", "//cdn", "src=", "href=", "url(", "@import",
                            "<link", "<iframe", "<img", "<object", "<embed", "fetch(",
                            "xmlhttprequest", "websocket", "eventsource", "import("}) {
    EXPECT_EQ(lower.find(fetch), std::string::npos) << fetch;
  }
  EXPECT_NE(lower.find("content-security-policy\" content=\"default-src 'none'"),
            std::string::npos);
}

TEST(UsersHtml, HeldDeprovisioningAndWarningsShown) {
  Plan plan = CountsPlan();
  EXPECT_EQ(UsersHtml(plan, "t", "now").find("id=\"held\""), std::string::npos);
  plan.deprovision_held = true;
  plan.hold_reason = "12 deactivations exceed max_changes 10";
  plan.warnings = {"rule group cn=x not found", "2 unresolved members"};
  const std::string page = UsersHtml(plan, "t", "now");
  EXPECT_NE(page.find("12 deactivations exceed max_changes 10"), std::string::npos);
  EXPECT_NE(page.find("<summary>2 warnings</summary>"), std::string::npos);
  EXPECT_NE(page.find("<li>2 unresolved members</li>"), std::string::npos);
}

TEST(UsersHtml, EmptyPlanIsAValidPage) {
  const std::string page = UsersHtml(Plan{}, "", "now");
  EXPECT_NE(page.find(std::string(kDataOpen) + "[]</script>"), std::string::npos);
  EXPECT_EQ(Count(page, "data-count=\"0\""), 6u);
  EXPECT_EQ(page.find("nan"), std::string::npos);
  EXPECT_EQ(page.find("inf%"), std::string::npos);
  EXPECT_NE(page.find("<h1>Users</h1>"), std::string::npos);
  EXPECT_NE(page.find("</html>"), std::string::npos);
}

TEST(UsersHtml, LargeCountsAreGrouped) {
  Plan plan;
  plan.summary[static_cast<size_t>(Category::kNew)] = 1234567;
  const std::string page = UsersHtml(plan, "t", "now");
  EXPECT_NE(page.find("data-count=\"1234567\""), std::string::npos);
  EXPECT_NE(page.find("<span class=\"bar-count\">1,234,567</span>"), std::string::npos);
}

TEST(UsersHtml, Deterministic) {
  const Plan plan = HostilePlan();
  EXPECT_EQ(UsersHtml(plan, "t", "now"), UsersHtml(plan, "t", "now"));
}

}  // namespace
}  // namespace usersync::io
