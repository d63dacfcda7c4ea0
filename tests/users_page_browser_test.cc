// The HTML users page (io/report/users_html.h) in a real browser: Debian's Chromium, headless,
// loads the page from a file, runs its script, and dumps the DOM (--dump-dom). The checks read
// the rendered rows, the chart, the chips and the status line, and load the page with URL
// state (#q=...&sort=...) to exercise search, sort, category filter and paging. One case loads
// the page that `usersync users --format html --out FILE` wrote, end to end.
//
// Chromium is required: a missing browser fails the test (tools/dev installs the package;
// USERSYNC_CHROMIUM may point elsewhere).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/plan.h"
#include "io/report/users_html.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"
#include "tests/support/temp_files.h"

namespace usersync {
namespace {

namespace fs = std::filesystem;
using core::Category;
using core::Plan;
using core::UserRow;
using testing::ProcessResult;
using testing::RunProcess;

constexpr Category kCategories[] = {Category::kMatched,     Category::kUpdate,
                                    Category::kNew,         Category::kInvalid,
                                    Category::kAccountOnly, Category::kDeparted};
constexpr std::string_view kLabels[] = {"matched", "update",       "new",
                                        "invalid", "account-only", "departed"};

// Strings a hostile directory or target could hold. Each must show as text, and none may
// add an element or run script.
const std::vector<std::string>& HostileStrings() {
  static const auto* strings = new std::vector<std::string>{
      "</script><script>document.body.setAttribute('data-pwned','1')</script>",
      "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">",
      "\"'><svg onload=document.body.setAttribute('data-pwned','3')>",
      "<!-- comment <script>",
      "Tom & Jerry &amp; &lt;b&gt; Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac",
  };
  return *strings;
}

// A few hundred rows of every category, in category-interleaved order (as a plan would list
// them), plus hostile rows. Some emails and DNs are empty, some names repeat across rows.
Plan BuildPlan(int rows_per_category) {
  const char* names[] = {"alice", "bob", "carol", "dave", "erin", "frank", "Alice", "mallory"};
  Plan plan;
  for (int row_idx = 0; row_idx < rows_per_category; ++row_idx) {
    for (size_t cat_idx = 0; cat_idx < std::size(kCategories); ++cat_idx) {
      const Category category = kCategories[cat_idx];
      UserRow row;
      row.category = category;
      const std::string name = std::string(names[(row_idx + cat_idx) % std::size(names)]) + "." +
                               std::to_string(row_idx) + "." + std::to_string(cat_idx);
      std::string lower_name = name;
      std::transform(lower_name.begin(), lower_name.end(), lower_name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const bool no_email = category == Category::kInvalid && row_idx % 4 == 0;
      core::StringArena& text = plan.strings;  // what the rows view, as the planner's do
      row.email = no_email ? "" : text.Store(lower_name + "@example.com");
      if (category != Category::kAccountOnly) {
        row.directory_id =
            text.Store("dir-" + std::to_string(cat_idx) + "-" + std::to_string(row_idx));
        row.dn = text.Store("uid=" + name + ",ou=people,dc=example,dc=com");
      }
      if (category != Category::kNew && category != Category::kInvalid) {
        row.account_id = text.Store("acct-" + std::to_string(1000 + row_idx * 6 + cat_idx));
      }
      if (category != Category::kInvalid && category != Category::kAccountOnly) {
        row.products = row_idx % 3 == 0 ? "G2M,G2W" : "G2M";
        row.rule = row_idx % 3 == 0 ? "Organizers" : "Default";
      }
      row.reason = no_email ? "no email (reason: no mail attribute)"
                            : text.Store(std::string(kLabels[cat_idx]) + " reason " + name);
      ++plan.summary[cat_idx];
      plan.rows.push_back(std::move(row));
    }
  }
  const std::vector<std::string>& hostile = HostileStrings();
  for (size_t str_idx = 0; str_idx < hostile.size(); ++str_idx) {
    UserRow row;
    row.category = str_idx % 2 == 0 ? Category::kInvalid : Category::kAccountOnly;
    row.email = plan.strings.Store("hostile" + std::to_string(str_idx) + "@example.com");
    row.directory_id = hostile[str_idx];
    row.dn = plan.strings.Store("cn=" + hostile[str_idx] + ",dc=example,dc=com");
    row.account_id = hostile[str_idx];
    row.products = hostile[str_idx];
    row.rule = hostile[str_idx];
    row.reason = hostile[str_idx];
    ++plan.summary[static_cast<size_t>(row.category)];
    plan.rows.push_back(std::move(row));
  }
  plan.warnings.push_back("<script>document.body.setAttribute('data-pwned','4')</script>");
  return plan;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The row's columns as the page shows them (category as its label).
std::vector<std::string> Columns(const UserRow& row) {
  return {std::string(kLabels[static_cast<size_t>(row.category)]),
          std::string(row.email),
          std::string(row.directory_id),
          std::string(row.dn),
          std::string(row.account_id),
          std::string(row.products),
          std::string(row.rule),
          std::string(row.reason)};
}

// What the page promises for `#q=...&sort=...&dir=...&cat=...` (users_html.h): rows where every
// whitespace-separated term occurs in some column, case-insensitively; of the chosen
// categories; sorted by the lower-cased column (category: chart order), empty values last,
// ties in plan order. ASCII-only queries and keys here, where lower-casing agrees with JS.
std::vector<size_t> ExpectedView(const Plan& plan, std::string_view query, int sort_col, bool desc,
                                 const std::set<Category>& categories) {
  std::vector<std::string> terms;
  std::string lowered = LowerAscii(query);
  for (size_t pos = 0; pos < lowered.size();) {
    size_t end = lowered.find(' ', pos);
    if (end == std::string::npos) end = lowered.size();
    if (end > pos) terms.push_back(lowered.substr(pos, end - pos));
    pos = end + 1;
  }
  std::vector<size_t> view;
  for (size_t row_idx = 0; row_idx < plan.rows.size(); ++row_idx) {
    const UserRow& row = plan.rows[row_idx];
    if (!categories.empty() && !categories.contains(row.category)) continue;
    std::string haystack;
    for (const std::string& column : Columns(row)) haystack += LowerAscii(column) + "\x01";
    bool all = true;
    for (const std::string& term : terms) all = all && haystack.find(term) != std::string::npos;
    if (all) view.push_back(row_idx);
  }
  if (sort_col < 0) return view;
  auto key = [&](size_t row_idx) {
    const UserRow& row = plan.rows[row_idx];
    if (sort_col == 0)
      return std::string(1, static_cast<char>('0' + static_cast<int>(row.category)));
    return LowerAscii(Columns(row)[sort_col]);
  };
  std::stable_sort(view.begin(), view.end(), [&](size_t a, size_t b) {
    const std::string ka = key(a), kb = key(b);
    if (ka == kb) return false;
    if (ka.empty()) return false;
    if (kb.empty()) return true;
    return desc ? ka > kb : ka < kb;
  });
  return view;
}

// ---- A small reader for Chromium's serialized DOM -------------------------------------------
// --dump-dom prints document.documentElement.outerHTML: every attribute double-quoted with
// '&' and '"' escaped, text with '&', '<', '>' escaped, script and style bodies raw.

struct Token {
  enum Kind { kOpen, kClose, kText } kind = kText;
  std::string name;                          // tag name, lower case
  std::map<std::string, std::string> attrs;  // decoded values
  std::string text;                          // decoded text
};

std::string DecodeEntities(std::string_view s) {
  static const std::pair<std::string_view, std::string_view> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&nbsp;", "\xc2\xa0"}};
  std::string out;
  for (size_t pos = 0; pos < s.size();) {
    bool replaced = false;
    if (s[pos] == '&') {
      for (const auto& [entity, value] : kEntities) {
        if (s.substr(pos, entity.size()) == entity) {
          out.append(value);
          pos += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(s[pos++]);
  }
  return out;
}

std::vector<Token> Tokenize(std::string_view html) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (pos < html.size()) {
    if (html[pos] != '<') {
      size_t end = html.find('<', pos);
      if (end == std::string_view::npos) end = html.size();
      tokens.push_back({Token::kText, "", {}, DecodeEntities(html.substr(pos, end - pos))});
      pos = end;
      continue;
    }
    if (html.substr(pos, 2) == "<!") {  // doctype or comment: skip
      size_t end = html.substr(pos, 4) == "<!--" ? html.find("-->", pos) : html.find('>', pos);
      pos = end == std::string_view::npos ? html.size() : end + 1;
      continue;
    }
    Token token;
    token.kind = html[pos + 1] == '/' ? Token::kClose : Token::kOpen;
    pos += token.kind == Token::kClose ? 2 : 1;
    while (pos < html.size() &&
           (std::isalnum(static_cast<unsigned char>(html[pos])) || html[pos] == '-')) {
      token.name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(html[pos]))));
      ++pos;
    }
    // Attributes: name="value" pairs up to '>'.
    while (pos < html.size() && html[pos] != '>') {
      if (std::isspace(static_cast<unsigned char>(html[pos])) || html[pos] == '/') {
        ++pos;
        continue;
      }
      size_t name_end = html.find_first_of("= >", pos);
      if (name_end == std::string_view::npos) name_end = html.size();
      std::string name(html.substr(pos, name_end - pos));
      pos = name_end;
      std::string value;
      if (pos < html.size() && html[pos] == '=' && pos + 1 < html.size() && html[pos + 1] == '"') {
        size_t value_end = html.find('"', pos + 2);
        if (value_end == std::string_view::npos) value_end = html.size();
        value = DecodeEntities(html.substr(pos + 2, value_end - pos - 2));
        pos = value_end + 1;
      }
      token.attrs[name] = value;
    }
    ++pos;
    const bool raw_text =
        token.kind == Token::kOpen && (token.name == "script" || token.name == "style");
    const std::string name = token.name;
    tokens.push_back(std::move(token));
    if (raw_text) {
      size_t end = html.find("</" + name, pos);
      if (end == std::string_view::npos) end = html.size();
      tokens.push_back({Token::kText, "", {}, std::string(html.substr(pos, end - pos))});
      pos = end;
    }
  }
  return tokens;
}

struct RenderedRow {
  size_t index = 0;
  std::string category;
  std::vector<std::string> cells;  // text of each cell
};

struct Page {
  std::vector<Token> tokens;
  std::vector<RenderedRow> rows;              // tbody#rows, in display order
  std::map<std::string, std::string> status;  // #status attributes
  std::string status_text;
  std::string page_info;
  std::vector<std::pair<std::string, std::string>> bars;  // chart: category → data-count
  std::map<std::string, std::string> chip_counts;         // chip category → shown count
  std::map<std::string, std::string> html_attrs;
  std::map<std::string, std::string> body_attrs;
  size_t tables = 0;

  size_t CountElements(std::string_view name) const {
    return std::count_if(tokens.begin(), tokens.end(), [&](const Token& token) {
      return token.kind == Token::kOpen && token.name == name;
    });
  }
};

Page ReadPage(std::string_view dom) {
  Page page;
  page.tokens = Tokenize(dom);
  bool in_rows = false;
  RenderedRow* row = nullptr;
  std::string* cell = nullptr;
  std::string* capture = nullptr;  // text of an element whose content we want
  std::string capture_end;         // closing tag that ends the capture
  std::string chip;                // category of the chip being read
  bool in_chip_count = false;
  for (const Token& token : page.tokens) {
    const auto attr = [&](const std::string& name) {
      auto it = token.attrs.find(name);
      return it == token.attrs.end() ? std::string() : it->second;
    };
    if (token.kind == Token::kOpen) {
      if (token.name == "html") page.html_attrs = token.attrs;
      if (token.name == "body") page.body_attrs = token.attrs;
      if (token.name == "table" && attr("id") == "users-table") ++page.tables;
      if (token.name == "tbody" && attr("id") == "rows") in_rows = true;
      if (in_rows && token.name == "tr" && token.attrs.contains("data-row")) {
        page.rows.push_back({std::stoul(attr("data-row")), attr("data-category"), {}});
        row = &page.rows.back();
      }
      if (row != nullptr && token.name == "td") {
        row->cells.emplace_back();
        cell = &row->cells.back();
      }
      if (token.name == "div" && attr("id") == "status") {
        page.status = token.attrs;
        capture = &page.status_text;
        capture_end = "div";
      }
      if (token.name == "span" && attr("id") == "page-info") {
        capture = &page.page_info;
        capture_end = "span";
      }
      if (token.name == "div" && token.attrs.contains("data-count") &&
          attr("class").starts_with("bar-row")) {
        page.bars.emplace_back(attr("data-category"), attr("data-count"));
      }
      if (token.name == "button" && attr("class").starts_with("chip")) chip = attr("data-category");
      if (!chip.empty() && token.name == "span" && attr("class") == "chip-count") {
        in_chip_count = true;
      }
    } else if (token.kind == Token::kClose) {
      if (token.name == "tbody") in_rows = false;
      if (token.name == "tr") row = nullptr;
      if (token.name == "td") cell = nullptr;
      if (token.name == capture_end) capture = nullptr;
      if (token.name == "button") chip.clear();
      if (token.name == "span") in_chip_count = false;
    } else {
      if (cell != nullptr) cell->append(token.text);
      if (capture != nullptr) capture->append(token.text);
      if (in_chip_count) page.chip_counts[chip] += token.text;
    }
  }
  return page;
}

std::string Grouped(int64_t value) {
  std::string digits = std::to_string(value), out;
  for (size_t digit_idx = 0; digit_idx < digits.size(); ++digit_idx) {
    if (digit_idx > 0 && (digits.size() - digit_idx) % 3 == 0) out.push_back(',');
    out.push_back(digits[digit_idx]);
  }
  return out;
}

std::vector<size_t> Indices(const Page& page) {
  std::vector<size_t> out;
  for (const RenderedRow& row : page.rows) out.push_back(row.index);
  return out;
}

class UsersPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* from_env = std::getenv("USERSYNC_CHROMIUM");
    chromium_ = from_env != nullptr && *from_env != '\0' ? from_env : "/usr/bin/chromium";
    ASSERT_EQ(access(chromium_.c_str(), X_OK), 0)
        << "Chromium is required for the users page browser test and was not found at " << chromium_
        << ". Install Debian's package: `tools/dev deps` (or `apt-get install "
        << "--no-install-recommends chromium`), or set USERSYNC_CHROMIUM to a Chromium binary.";
    absl::StatusOr<fs::path> dir = testing::FreshTempDir(
        "users-page-" + testing::CurrentTestName() + "-" + std::to_string(getpid()));
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  void TearDown() override {
    std::error_code ignored;  // best effort: a leftover temp dir is harmless
    fs::remove_all(dir_, ignored);
  }

  // Writes `plan`'s page and returns the DOM Chromium built from it, loaded with `suffix`
  // ("#q=alice", "?q=bob", "") after the file URL. `after_script`, if any, is appended to the
  // page as one more script (a test driving the page as a person would); then Chromium runs
  // timers for up to 2 s of virtual time before dumping.
  std::string DumpDom(const Plan& plan, const std::string& suffix,
                      const std::string& after_script = "") {
    std::string html = io::UsersHtml(plan, "Example <Corp> & \"Co\"", "2024-05-01 02:00:00 UTC");
    if (!after_script.empty()) {
      const size_t body_end = html.rfind("</body>");
      EXPECT_NE(body_end, std::string::npos);
      html.insert(body_end, "<script>" + after_script + "</script>\n");
    }
    const fs::path file = dir_ / "users.html";
    absl::Status written = testing::WriteFile(file, html);
    EXPECT_TRUE(written.ok()) << written;
    return DumpFileDom(file, suffix, /*run_timers=*/!after_script.empty());
  }

  // The DOM Chromium built from the page in `file` (loaded with `suffix`); with `run_timers`,
  // after up to 2 s of virtual time.
  std::string DumpFileDom(const fs::path& file, const std::string& suffix, bool run_timers) {
    const fs::path profile = dir_ / ("profile-" + std::to_string(++runs_));
    fs::create_directories(profile);
    std::vector<std::string> argv = {chromium_,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-quic",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--user-data-dir=" + profile.string()};
    if (run_timers) argv.push_back("--virtual-time-budget=2000");
    argv.push_back("--dump-dom");
    argv.push_back("file://" + file.string() + suffix);
    ProcessResult result = RunProcess(argv, {}, "", std::chrono::seconds(180));
    EXPECT_EQ(result.exit_code, 0) << "chromium failed; stderr:\n" << result.err;
    EXPECT_NE(result.out.find("</html>"), std::string::npos) << "no DOM from chromium; stderr:\n"
                                                             << result.err;
    return result.out;
  }

  // The page rendered by its script, without injected elements or script runs.
  void ExpectRenderedAndClean(const Page& page) {
    EXPECT_EQ(page.html_attrs.count("data-rendered"), 1u) << "the page's script did not finish";
    EXPECT_EQ(page.tables, 1u);
    EXPECT_EQ(page.body_attrs.count("data-pwned"), 0u) << "a user string ran as script";
    EXPECT_EQ(page.CountElements("script"), 2u) << "a user string added a script element";
    EXPECT_EQ(page.CountElements("img"), 0u);
    EXPECT_EQ(page.CountElements("svg"), 0u);
    EXPECT_EQ(page.CountElements("b"), 0u);
  }

  std::string chromium_;
  fs::path dir_;
  int runs_ = 0;
};

TEST_F(UsersPageTest, RendersEveryRowTheChartAndTheCounts) {
  const Plan plan = BuildPlan(150);  // 900 rows + hostile ones: under one page of 1,000
  ASSERT_LT(plan.rows.size(), 1000u);
  const Page page = ReadPage(DumpDom(plan, ""));
  ExpectRenderedAndClean(page);

  ASSERT_EQ(page.rows.size(), plan.rows.size());
  std::map<std::string, int64_t> rendered_per_category;
  for (size_t row_idx = 0; row_idx < page.rows.size(); ++row_idx) {
    const RenderedRow& shown = page.rows[row_idx];
    ASSERT_EQ(shown.index, row_idx) << "plan order";
    const UserRow& row = plan.rows[row_idx];
    EXPECT_EQ(shown.category, core::CategoryName(row.category));
    EXPECT_EQ(shown.cells, Columns(row)) << "row " << row_idx;
    ++rendered_per_category[shown.category];
  }

  ASSERT_EQ(page.bars.size(), std::size(kCategories));
  for (size_t cat_idx = 0; cat_idx < std::size(kCategories); ++cat_idx) {
    const std::string name(core::CategoryName(kCategories[cat_idx]));
    const int64_t count = plan.count(kCategories[cat_idx]);
    EXPECT_EQ(page.bars[cat_idx].first, name) << "chart order";
    EXPECT_EQ(page.bars[cat_idx].second, std::to_string(count)) << name;
    EXPECT_EQ(page.chip_counts.at(name), Grouped(count)) << name;
    EXPECT_EQ(rendered_per_category[name], count) << name;
  }
  EXPECT_EQ(page.chip_counts.at("all"), Grouped(static_cast<int64_t>(plan.rows.size())));

  const std::string n = std::to_string(plan.rows.size());
  EXPECT_EQ(page.status.at("data-total"), n);
  EXPECT_EQ(page.status.at("data-matching"), n);
  EXPECT_EQ(page.status.at("data-first"), "1");
  EXPECT_EQ(page.status.at("data-last"), n);
  EXPECT_EQ(page.status_text, "Showing 1\xe2\x80\x93" + n + " of " + n);
  EXPECT_EQ(page.page_info, "Page 1 of 1");
}

TEST_F(UsersPageTest, HostileStringsShowAsText) {
  const Plan plan = BuildPlan(2);
  const std::string dom = DumpDom(plan, "#q=hostile");
  const Page page = ReadPage(dom);
  ExpectRenderedAndClean(page);
  const std::vector<std::string>& hostile = HostileStrings();
  ASSERT_EQ(page.rows.size(), hostile.size());
  for (size_t str_idx = 0; str_idx < hostile.size(); ++str_idx) {
    const RenderedRow& shown = page.rows[str_idx];
    EXPECT_EQ(shown.cells, Columns(plan.rows[shown.index]));
    EXPECT_EQ(shown.cells[7], hostile[str_idx]);
  }
  // As text the markup is escaped in the serialized DOM.
  EXPECT_NE(dom.find("&lt;/script&gt;&lt;script&gt;document.body.setAttribute"), std::string::npos);
  EXPECT_NE(dom.find("<h1>Example &lt;Corp&gt; &amp; \"Co\"</h1>"), std::string::npos);
}

// The page reads its state from the URL fragment: search, then sort by email.
TEST_F(UsersPageTest, FragmentSearchesAndSorts) {
  const Plan plan = BuildPlan(100);
  const std::vector<size_t> expected = ExpectedView(plan, "alice", 1, false, {});
  ASSERT_GT(expected.size(), 50u);
  ASSERT_LT(expected.size(), plan.rows.size() / 2);
  ASSERT_NE(expected, ExpectedView(plan, "alice", -1, false, {})) << "the sort must matter";

  const Page page = ReadPage(DumpDom(plan, "#q=alice&sort=email"));
  ExpectRenderedAndClean(page);
  EXPECT_EQ(Indices(page), expected);
  for (const RenderedRow& row : page.rows) {
    EXPECT_NE(LowerAscii(row.cells[1] + row.cells[3] + row.cells[7]).find("alice"),
              std::string::npos);
  }
  EXPECT_EQ(page.status.at("data-matching"), std::to_string(expected.size()));
  EXPECT_EQ(page.status.at("data-total"), std::to_string(plan.rows.size()));
  // Chip counts follow the search.
  int64_t invalid_matches = 0;
  for (size_t row_idx : expected)
    invalid_matches += plan.rows[row_idx].category == Category::kInvalid;
  EXPECT_EQ(page.chip_counts.at("invalid"), Grouped(invalid_matches));
  // The sorted column is marked.
  bool marked = false;
  for (const Token& token : page.tokens) {
    if (token.kind == Token::kOpen && token.name == "th" && token.attrs.count("class") &&
        token.attrs.at("class") == "col-email") {
      marked = token.attrs.at("aria-sort") == "ascending";
    }
  }
  EXPECT_TRUE(marked);
}

// Several terms, descending sort with empty values last, and a category filter.
TEST_F(UsersPageTest, FragmentFiltersCategoriesAndSortsDescending) {
  const Plan plan = BuildPlan(100);
  const std::set<Category> categories = {Category::kInvalid, Category::kAccountOnly};
  const std::vector<size_t> expected = ExpectedView(plan, "example reason", 1, true, categories);
  ASSERT_GT(expected.size(), 100u);
  ASSERT_TRUE(plan.rows[expected.back()].email.empty()) << "empty emails sort last";

  const Page page =
      ReadPage(DumpDom(plan, "#q=Example%20REASON&sort=email&dir=desc&cat=invalid,account-only"));
  ExpectRenderedAndClean(page);
  EXPECT_EQ(Indices(page), expected);
  for (const RenderedRow& row : page.rows) {
    EXPECT_TRUE(row.category == "invalid" || row.category == "account_only") << row.category;
  }
}

// Paging: page 3 of 100-row pages, sorted by category descending (ties in plan order).
TEST_F(UsersPageTest, FragmentPages) {
  const Plan plan = BuildPlan(100);  // 605 rows
  std::vector<size_t> sorted = ExpectedView(plan, "", 0, true, {});
  ASSERT_EQ(sorted.size(), plan.rows.size());
  const std::vector<size_t> expected(sorted.begin() + 200, sorted.begin() + 300);

  const Page page = ReadPage(DumpDom(plan, "#sort=category&dir=desc&size=100&page=3"));
  ExpectRenderedAndClean(page);
  EXPECT_EQ(Indices(page), expected);
  EXPECT_EQ(page.status.at("data-first"), "201");
  EXPECT_EQ(page.status.at("data-last"), "300");
  EXPECT_EQ(page.status.at("data-matching"), std::to_string(plan.rows.size()));
  EXPECT_EQ(page.page_info, "Page 3 of 7");
}

// The query string works too; a key in the fragment wins over the same key in the query.
TEST_F(UsersPageTest, QueryStringAndFragmentPrecedence) {
  const Plan plan = BuildPlan(40);
  const Page page = ReadPage(DumpDom(plan, "?q=zzz-no-match&sort=dn#q=bob"));
  ExpectRenderedAndClean(page);
  EXPECT_EQ(Indices(page), ExpectedView(plan, "bob", 3, false, {}));
  EXPECT_FALSE(page.rows.empty());
}

// The page's own controls: click the Email header twice (descending), the "invalid" chip,
// type a search (debounced), then page size and the chart. The DOM and the URL fragment show
// the result.
TEST_F(UsersPageTest, ControlsSearchSortFilterAndWriteTheFragment) {
  const Plan plan = BuildPlan(1000);  // 250 matched rows match "alice"
  const std::string driver = R"js(
    var heads = document.querySelectorAll('#users-table th button');
    heads[1].click();
    heads[1].click();
    document.querySelector('#chips .chip[data-category=invalid]').click();
    var search = document.getElementById('search');
    search.value = 'ALICE';
    search.dispatchEvent(new Event('input'));
    setTimeout(function () {
      document.body.setAttribute('data-hash-after-search', location.hash);
      document.querySelector('.bar-row[data-category=matched]').click();
      var size = document.getElementById('page-size');
      size.value = '100';
      size.dispatchEvent(new Event('change'));
      document.getElementById('next').click();
      document.body.setAttribute('data-hash-final', location.hash);
    }, 500);
  )js";
  const Page page = ReadPage(DumpDom(plan, "", driver));
  EXPECT_EQ(page.body_attrs.count("data-pwned"), 0u);
  ASSERT_EQ(page.body_attrs.count("data-hash-after-search"), 1u) << "the driver did not finish";
  EXPECT_EQ(page.body_attrs.at("data-hash-after-search"),
            "#q=ALICE&sort=email&dir=desc&cat=invalid");
  // The chart bar shows "matched" alone; rows 101-200 of the sorted, searched matches.
  EXPECT_EQ(page.body_attrs.at("data-hash-final"),
            "#q=ALICE&sort=email&dir=desc&cat=matched&page=2&size=100");
  const std::vector<size_t> matched = ExpectedView(plan, "alice", 1, true, {Category::kMatched});
  ASSERT_GT(matched.size(), 200u);
  const std::vector<size_t> expected(matched.begin() + 100, matched.begin() + 200);
  EXPECT_EQ(Indices(page), expected);
  EXPECT_EQ(page.status.at("data-matching"), std::to_string(matched.size()));
}

// The page as `usersync users --format html --out FILE` writes it (not built in-process): a
// world with a row in every category (synced, then one user out of the group, one renamed, one
// added, one without an email, and an account no user matches), rendered by Chromium. Each row
// shows what `users --format json` says of it, in the same order, and the chart and status line
// count them.
TEST_F(UsersPageTest, PageWrittenByTheCommandRendersItsUsers) {
  testing::SyncWorld world("users-page-command");
  world.WriteFile("seed.jsonl",
                  R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], )"
                  R"("userName": "stranger@example.com", "name": {"givenName": "Stan", )"
                  R"("familyName": "Stranger"}, "active": true})"
                  "\n");
  ASSERT_TRUE(world.StartTarget({"--seed-accounts", world.Path("seed.jsonl")}).ok());
  testing::StaffDirectory directory(testing::NumberedUsers(5));
  // user5 has no email: invalid.
  auto ldif = [&directory] {
    std::string text = directory.Ldif();
    const std::string mail = "mail: user5@" + directory.mail_domain + "\n";
    const size_t at = text.find(mail);
    EXPECT_NE(at, std::string::npos) << text;
    if (at != std::string::npos) text.erase(at, mail.size());
    return text;
  };
  world.WriteLdif(ldif());
  world.WriteConfig();
  ProcessResult sync = world.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  directory.users[0].in_scope = false;          // departed
  directory.users[1].sn = "Renamed";            // update
  directory.users.push_back({"user6", "Sn6"});  // new
  world.WriteLdif(ldif());

  ProcessResult json = world.Usersync({"users", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
  ProcessResult html =
      world.Usersync({"users", "--format", "html", "--out", world.Path("users.html")});
  ASSERT_EQ(html.exit_code, 0) << html.out << html.err;
  EXPECT_EQ(html.out, "Users page written to " + world.Path("users.html") + "\n");

  // What the JSON says, as the page's columns (category as its label).
  std::vector<std::vector<std::string>> expected;
  std::vector<std::string> expected_categories;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json.out);
  simdjson::ondemand::document doc = parser.iterate(padded);
  for (auto element : doc.get_array()) {
    simdjson::ondemand::object object = element.get_object();
    std::vector<std::string> row;
    for (const char* name :
         {"category", "email", "directory_id", "dn", "account_id", "products", "rule", "reason"}) {
      row.emplace_back(std::string_view(object[name].get_string().value()));
    }
    expected_categories.push_back(row[0]);
    if (row[0] == "account_only") row[0] = "account-only";
    expected.push_back(std::move(row));
  }
  // One of each: matched user3 and user4, then in plan order.
  EXPECT_EQ(expected_categories,
            (std::vector<std::string>{"update", "matched", "matched", "invalid", "new", "departed",
                                      "account_only"}));

  const Page page = ReadPage(DumpFileDom(world.Path("users.html"), "", /*run_timers=*/false));
  ExpectRenderedAndClean(page);
  ASSERT_EQ(page.rows.size(), expected.size());
  for (size_t row_idx = 0; row_idx < page.rows.size(); ++row_idx) {
    EXPECT_EQ(page.rows[row_idx].index, row_idx) << "plan order";
    EXPECT_EQ(page.rows[row_idx].category, expected_categories[row_idx]);
    EXPECT_EQ(page.rows[row_idx].cells, expected[row_idx]) << "row " << row_idx;
  }
  const std::vector<std::pair<std::string, std::string>> bars = {
      {"matched", "2"}, {"update", "1"},       {"new", "1"},
      {"invalid", "1"}, {"account_only", "1"}, {"departed", "1"}};
  EXPECT_EQ(page.bars, bars);
  EXPECT_EQ(page.chip_counts.at("all"), "7");
  EXPECT_EQ(page.status.at("data-total"), "7");
  EXPECT_EQ(page.status_text,
            "Showing 1\xe2\x80\x93"
            "7 of 7");
  // users only reads.
  EXPECT_EQ(world.Stats().creates, 4);
  EXPECT_EQ(world.Stats().updates, 0);
}

}  // namespace
}  // namespace usersync
