// The users page as one self-contained HTML file (`usersync users --format html`): the counts
// per category as a bar chart, and a searchable, sortable, pageable table of every row of the
// plan (category, email, directory id, DN, account id, products, rule, reason) — the same rows,
// in the same order, as UsersCsv / UsersJson in io/report/plan_report.h.
//
// The file makes no network fetch: styles and script are inline, there are no images, fonts,
// links or frames, and a Content-Security-Policy (`default-src 'none'`) forbids any load. The
// rows are embedded as JSON in a `<script type="application/json" id="users-data">` element
// with `<`, `>` and `&` written as \u003c, \u003e, \u0026, so no user-provided string can
// close the element or open markup; the inline script renders them with textContent only. Every
// other user-provided string (title, generated_at, warnings, the hold reason) is HTML-escaped.
//
// Page state in the URL (read on load and on `hashchange`; written back as the user works, so a
// view can be bookmarked or shared). Fragment or query, the fragment wins:
//   file:///tmp/users.html#q=alice&sort=email&dir=desc&cat=new,invalid&page=2&size=100
//   q     search: whitespace-separated terms, each a case-insensitive substring of some column
//         (category label included); a row must hold every term
//   sort  category | email | directory_id | dn | account_id | products | rule | reason
//         (category sorts in the order of the chart; empty values sort last both ways;
//         ties keep plan order)
//   dir   asc (default) | desc
//   cat   comma-separated categories to show (account_only or account-only); none: all
//   page  1-based page number;  size  rows per page (default 1000) or "all"
//
// Only one page of rows is in the DOM at a time (default 1,000), so a plan of 1,000,000 rows
// opens in a few seconds (measured: ~5 s to a searched, sorted first page in Chromium here).
// The chart's counts are plan.summary; the chips show the counts matching the search.
//
// Each rendered table row is `<tr data-row="I" data-category="NAME">`, I being the row's index
// in plan.rows; `#status` carries data-first/data-last/data-matching/data-total; each chart bar
// is `.bar-row[data-category][data-count]`. Tests and scripts may rely on these attributes.
//
// Pure formatting: no I/O, no clock (the caller passes the time). Thread-compatible.
// Cost: linear in the rows; the page is ~24 KB of markup, style and script plus the rows, which
// take about 0.7× the bytes of UsersJson's output (arrays, not objects with keys).
#pragma once

#include <string>
#include <string_view>

#include "core/plan.h"

namespace usersync::io {

// The whole HTML document. `title` heads the page (e.g. the config's target or file name);
// `generated_at` is shown as given (e.g. "2024-05-01 02:00:00 UTC"). Both may hold any bytes.
std::string UsersHtml(const core::Plan& plan, std::string_view title,
                      std::string_view generated_at);

}  // namespace usersync::io
