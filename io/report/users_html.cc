#include "io/report/users_html.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/json_writer.h"

namespace usersync::io {
namespace {

using core::Category;

struct CategoryInfo {
  Category category;
  std::string_view label;        // as people read it
  std::string_view description;  // DESIGN.md "Categories a run reports"
};

// DESIGN.md order; the script's CATS array follows it too.
constexpr std::array<CategoryInfo, core::kCategoryCount> kCategoryInfo = {{
    {Category::kMatched, "matched", "linked, in sync"},
    {Category::kUpdate, "update", "linked, attributes differ"},
    {Category::kNew, "new", "no account yet: will be created"},
    {Category::kInvalid, "invalid", "in scope, cannot be provisioned"},
    {Category::kAccountOnly, "account-only", "no directory user matches"},
    {Category::kDeparted, "departed", "linked earlier, now out of scope"},
}};

void AppendHtmlEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&#39;");
        break;
      default:
        out->push_back(c);
    }
  }
}

std::string HtmlEscaped(std::string_view text) {
  std::string out;
  AppendHtmlEscaped(&out, text);
  return out;
}

// Appends JSON that is safe inside a <script> element: '<', '>' and '&' only ever occur inside
// JSON strings, where \u escapes mean the same characters, so "</script>" and "<!--" cannot
// appear in the element's text.
void AppendScriptSafe(std::string* out, std::string_view json) {
  for (char c : json) {
    switch (c) {
      case '<':
        out->append("\\u003c");
        break;
      case '>':
        out->append("\\u003e");
        break;
      case '&':
        out->append("\\u0026");
        break;
      default:
        out->push_back(c);
    }
  }
}

// 1234567 → "1,234,567".
std::string Grouped(int64_t value) {
  std::string digits = absl::StrCat(value < 0 ? -value : value);
  std::string out;
  for (size_t digit_idx = 0; digit_idx < digits.size(); ++digit_idx) {
    if (digit_idx > 0 && (digits.size() - digit_idx) % 3 == 0) out.push_back(',');
    out.push_back(digits[digit_idx]);
  }
  return value < 0 ? absl::StrCat("-", out) : out;
}

std::string Percent(double numerator, double denominator, const char* format) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), format, denominator > 0 ? 100.0 * numerator / denominator : 0.0);
  return buf;
}

// kStyle (CSS) and kScript (JS).
#include "io/report/users_html_assets.inc"

// Columns, in the order of each embedded row (and of the script's COLS).
constexpr std::string_view kColumnNames[] = {"category",   "email",    "directory_id", "dn",
                                             "account_id", "products", "rule",         "reason"};
constexpr std::string_view kColumnHeads[] = {"Category",   "Email",    "Directory ID", "DN",
                                             "Account ID", "Products", "Rule",         "Reason"};

void AppendChart(std::string* out, const core::Plan& plan) {
  int64_t total = 0;
  int64_t largest = 0;
  for (const CategoryInfo& info : kCategoryInfo) {
    total += plan.count(info.category);
    largest = std::max(largest, plan.count(info.category));
  }
  out->append(
      "<section class=\"card\" id=\"summary\">\n<h2>Users by category</h2>\n"
      "<div class=\"chart\" id=\"chart\">\n");
  for (const CategoryInfo& info : kCategoryInfo) {
    const std::string_view name = core::CategoryName(info.category);
    const int64_t count = plan.count(info.category);
    absl::StrAppend(out, "<div class=\"bar-row cat-", Sv(name), "\" data-category=\"", Sv(name),
                    "\" data-count=\"", count, "\" role=\"button\" tabindex=\"0\" title=\"Show ",
                    Sv(info.label), " only\">");
    absl::StrAppend(
        out, "<span class=\"bar-label\"><span class=\"dot\"></span><span class=\"bar-name\">",
        Sv(info.label), "</span><span class=\"bar-desc\">", Sv(info.description), "</span></span>");
    absl::StrAppend(out, "<span class=\"bar-track\"><span class=\"bar-fill\" style=\"width:",
                    Percent(static_cast<double>(count), static_cast<double>(largest), "%.2f%%"),
                    "\"></span></span>");
    absl::StrAppend(out, "<span class=\"bar-count\">", Grouped(count), "</span>");
    absl::StrAppend(out, "<span class=\"bar-pct\">",
                    Percent(static_cast<double>(count), static_cast<double>(total), "%.1f%%"),
                    "</span></div>\n");
  }
  out->append("</div>\n</section>\n");
}

void AppendTableSection(std::string* out, const core::Plan& plan) {
  out->append(
      "<section class=\"card\" id=\"users\">\n<h2>Users</h2>\n<div class=\"toolbar\">\n"
      "<input type=\"search\" id=\"search\" placeholder=\"Search all columns  (press /)\" "
      "aria-label=\"Search all columns\" autocomplete=\"off\" spellcheck=\"false\">\n"
      "<div class=\"chips\" id=\"chips\" role=\"group\" aria-label=\"Filter by category\">\n");
  absl::StrAppend(out,
                  "<button type=\"button\" class=\"chip chip-all\" data-category=\"all\" "
                  "aria-pressed=\"true\">All <span class=\"chip-count\">",
                  Grouped(static_cast<int64_t>(plan.rows.size())), "</span></button>\n");
  for (const CategoryInfo& info : kCategoryInfo) {
    const std::string_view name = core::CategoryName(info.category);
    absl::StrAppend(out, "<button type=\"button\" class=\"chip cat-", Sv(name),
                    "\" data-category=\"", Sv(name), "\" aria-pressed=\"false\">",
                    "<span class=\"dot\"></span>", Sv(info.label), " <span class=\"chip-count\">",
                    Grouped(plan.count(info.category)), "</span></button>\n");
  }
  out->append(
      "</div>\n</div>\n"
      "<div class=\"status\" id=\"status\" aria-live=\"polite\">"
      "<noscript>The table needs JavaScript. The same rows: "
      "<code>usersync users --format csv</code>.</noscript></div>\n"
      "<div class=\"table-wrap\">\n<table id=\"users-table\">\n<thead><tr>");
  for (size_t col_idx = 0; col_idx < std::size(kColumnHeads); ++col_idx) {
    absl::StrAppend(out, "<th scope=\"col\" class=\"col-", Sv(kColumnNames[col_idx]),
                    "\" aria-sort=\"none\"><button type=\"button\">", Sv(kColumnHeads[col_idx]),
                    "<span class=\"arrow\"></span></button></th>");
  }
  out->append(
      "</tr></thead>\n<tbody id=\"rows\"></tbody>\n</table>\n</div>\n"
      "<div class=\"pager\">\n"
      "<label>Rows per page <select id=\"page-size\">"
      "<option>100</option><option>250</option><option>500</option><option>1000</option>"
      "<option>5000</option></select></label>\n"
      "<button type=\"button\" id=\"first\" aria-label=\"First page\">&laquo;</button>\n"
      "<button type=\"button\" id=\"prev\">&lsaquo; Prev</button>\n"
      "<span id=\"page-info\"></span>\n"
      "<button type=\"button\" id=\"next\">Next &rsaquo;</button>\n"
      "<button type=\"button\" id=\"last\" aria-label=\"Last page\">&raquo;</button>\n"
      "</div>\n</section>\n");
}

// The rows as a JSON array of arrays, one per row, columns in kColumnHeads order with the
// category as its CategoryName ("account_only").
void AppendData(std::string* out, const core::Plan& plan) {
  out->append("<script type=\"application/json\" id=\"users-data\">[");
  std::string json;
  for (size_t row_idx = 0; row_idx < plan.rows.size(); ++row_idx) {
    const core::UserRow& row = plan.rows[row_idx];
    json.clear();
    if (row_idx > 0) json.append(",\n");
    json.push_back('[');
    JsonWriter::AppendQuoted(&json, core::CategoryName(row.category));
    for (const std::string_view* field : {&row.email, &row.directory_id, &row.dn, &row.account_id,
                                          &row.products, &row.rule, &row.reason}) {
      json.push_back(',');
      JsonWriter::AppendQuoted(&json, *field);
    }
    json.push_back(']');
    AppendScriptSafe(out, json);
  }
  out->append("]</script>\n");
}

}  // namespace

std::string UsersHtml(const core::Plan& plan, std::string_view title,
                      std::string_view generated_at) {
  std::string out;
  out.reserve(kStyle.size() + kScript.size() + 16384 + plan.rows.size() * 200);
  const std::string page_title = title.empty() ? "Users" : HtmlEscaped(title);
  absl::StrAppend(
      &out,
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // Self-contained by policy too: the browser refuses every load (fonts, images, fetches).
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; "
      "form-action 'none'\">\n"
      "<meta name=\"generator\" content=\"usersync\">\n<title>",
      page_title, " \xe2\x80\x94 usersync users</title>\n<style>", Sv(kStyle),
      "</style>\n</head>\n<body>\n<header class=\"page-header\">\n"
      "<div class=\"brand\">usersync \xc2\xb7 users report</div>\n<h1>",
      page_title, "</h1>\n<p class=\"meta\">Generated <time>", HtmlEscaped(generated_at),
      "</time> \xc2\xb7 <strong id=\"total-count\">",
      Grouped(static_cast<int64_t>(plan.rows.size())),
      "</strong> directory users and accounts</p>\n</header>\n<main>\n");
  if (plan.deprovision_held) {
    absl::StrAppend(&out,
                    "<div class=\"notice notice-held\" role=\"alert\" id=\"held\"><strong>"
                    "Deprovisioning held:</strong> ",
                    HtmlEscaped(plan.hold_reason),
                    " (<code>usersync release</code> lets it go)</div>\n");
  }
  if (!plan.warnings.empty()) {
    absl::StrAppend(&out, "<details class=\"notice notice-warn\" id=\"warnings\"><summary>",
                    plan.warnings.size(), plan.warnings.size() == 1 ? " warning" : " warnings",
                    "</summary><ul>\n");
    for (const std::string& warning : plan.warnings) {
      absl::StrAppend(&out, "<li>", HtmlEscaped(warning), "</li>\n");
    }
    out.append("</ul></details>\n");
  }
  AppendChart(&out, plan);
  AppendTableSection(&out, plan);
  out.append(
      "</main>\n<footer>A self-contained page: it loads nothing from the network. The same rows: "
      "<code>usersync users --format csv</code> or <code>--format json</code>.</footer>\n");
  AppendData(&out, plan);
  absl::StrAppend(&out, "<script>", Sv(kScript), "</script>\n</body>\n</html>\n");
  return out;
}

}  // namespace usersync::io
