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

constexpr std::string_view kStyle = R"css(
:root{--fg:#1f2937;--muted:#6b7280;--border:#e5e7eb;--bg:#f4f5f7;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
code{background:#f3f4f6;padding:1px 5px;border-radius:4px;font-size:12px}
.cat-matched{--c:#15803d;--c-bg:#dcfce7}
.cat-update{--c:#1d4ed8;--c-bg:#dbeafe}
.cat-new{--c:#7c3aed;--c-bg:#ede9fe}
.cat-invalid{--c:#b91c1c;--c-bg:#fee2e2}
.cat-account_only{--c:#b45309;--c-bg:#fef3c7}
.cat-departed{--c:#4b5563;--c-bg:#e5e7eb}
.page-header{background:#111827;color:#f9fafb;padding:20px 32px 22px}
.page-header .brand{font-size:11px;letter-spacing:.1em;text-transform:uppercase;color:#9ca3af}
.page-header h1{margin:4px 0 4px;font-size:22px;font-weight:600;overflow-wrap:anywhere}
.page-header .meta{margin:0;color:#d1d5db;font-size:13px}
.page-header .meta strong{color:#fff}
main{max-width:1680px;margin:0 auto;padding:20px 32px 32px}
.card{background:var(--card);border:1px solid var(--border);border-radius:10px;padding:18px 20px;margin-bottom:20px;box-shadow:0 1px 2px rgba(16,24,40,.05)}
.card h2{margin:0 0 14px;font-size:15px;font-weight:600}
.notice{border-radius:8px;padding:10px 14px;margin-bottom:16px;font-size:13px;overflow-wrap:anywhere}
.notice-held{background:#fef2f2;border:1px solid #fecaca;color:#991b1b}
.notice-warn{background:#fffbeb;border:1px solid #fde68a;color:#92400e}
.notice-warn summary{cursor:pointer;font-weight:600}
.notice-warn ul{margin:8px 0 0;padding-left:20px}
.chart{display:flex;flex-direction:column;gap:4px}
.bar-row{display:grid;grid-template-columns:minmax(0,340px) 1fr 90px 56px;gap:16px;align-items:center;padding:4px 6px;border-radius:6px;cursor:pointer}
.bar-row:hover{background:#f9fafb}
.bar-row:focus-visible{outline:2px solid var(--accent);outline-offset:0}
.bar-label{display:flex;align-items:baseline;gap:8px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.bar-name{font-weight:600;color:var(--c)}
.bar-desc{color:var(--muted);font-size:12px}
.dot{width:10px;height:10px;border-radius:50%;background:var(--c);display:inline-block;flex:none;align-self:center}
.bar-track{height:20px;background:#f3f4f6;border-radius:5px;overflow:hidden}
.bar-fill{display:block;height:100%;background:var(--c);border-radius:5px}
.bar-count{font-variant-numeric:tabular-nums;font-weight:600;text-align:right}
.bar-pct{color:var(--muted);font-variant-numeric:tabular-nums;text-align:right;min-width:4em}
.toolbar{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin-bottom:10px}
#search{flex:1 1 300px;max-width:460px;padding:8px 12px;border:1px solid #d1d5db;border-radius:8px;font:inherit;background:#fff}
#search:focus{outline:2px solid var(--accent);outline-offset:-1px}
.chips{display:flex;flex-wrap:wrap;gap:6px}
.chip-all{--c:#374151;--c-bg:#eef2ff}
.chip{display:inline-flex;align-items:center;gap:6px;border:1px solid var(--border);background:#fff;border-radius:999px;padding:4px 11px;font:inherit;font-size:13px;cursor:pointer;color:var(--fg)}
.chip:hover{border-color:var(--c)}
.chip:focus-visible{outline:2px solid var(--accent);outline-offset:1px}
.chip[aria-pressed=true]{background:var(--c-bg);border-color:var(--c);color:var(--c);font-weight:600}
.chip-count{color:var(--muted);font-variant-numeric:tabular-nums;font-weight:400}
.status{color:var(--muted);font-size:13px;margin:2px 0 10px}
.table-wrap{overflow:auto;max-height:72vh;border:1px solid var(--border);border-radius:8px}
table{border-collapse:separate;border-spacing:0;width:100%;min-width:1080px;table-layout:fixed;font-size:13px}
th.col-category{width:116px}
th.col-email{width:17%}
th.col-directory_id,th.col-dn{width:12%}
th.col-account_id,th.col-rule{width:9%}
th.col-products{width:10%}
thead th{position:sticky;top:0;z-index:1;background:#f9fafb;border-bottom:1px solid var(--border);text-align:left;padding:0;white-space:nowrap}
th button{all:unset;box-sizing:border-box;display:flex;align-items:center;gap:5px;width:100%;padding:9px 12px;cursor:pointer;font-weight:600;color:#374151}
th button:hover{color:#111827;background:#f3f4f6}
th button:focus-visible{outline:2px solid var(--accent);outline-offset:-2px}
th .arrow{color:var(--accent);font-size:10px;min-width:10px}
td{padding:7px 12px;border-bottom:1px solid #f0f1f3;vertical-align:top;overflow-wrap:break-word}
tbody tr:nth-child(even) td{background:#fcfcfd}
tbody tr:hover td{background:#f5f7fb}
td:empty::before{content:"\2014";color:#c4c8cf}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;background:var(--c-bg);color:var(--c);font-weight:600;font-size:12px;white-space:nowrap}
td.col-email{overflow-wrap:anywhere}
td.col-directory_id,td.col-account_id,td.col-dn{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px;color:#374151}
td.col-dn,td.col-directory_id,td.col-account_id{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
td.col-reason{overflow-wrap:anywhere}
tr.empty-row td{text-align:center;color:var(--muted);padding:28px;background:#fff}
.pager{display:flex;flex-wrap:wrap;align-items:center;gap:8px;justify-content:flex-end;margin-top:12px;font-size:13px;color:#374151}
.pager label{margin-right:auto;color:var(--muted)}
.pager button,.pager select{border:1px solid #d1d5db;background:#fff;border-radius:6px;padding:4px 10px;font:inherit;color:inherit;cursor:pointer}
.pager button:disabled{opacity:.4;cursor:default}
.pager #page-info{min-width:110px;text-align:center;font-variant-numeric:tabular-nums}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 16px 28px}
)css";

constexpr std::string_view kScript = R"js(
(function () {
  'use strict';
  var CATS = ['matched', 'update', 'new', 'invalid', 'account_only', 'departed'];
  var LABELS = ['matched', 'update', 'new', 'invalid', 'account-only', 'departed'];
  var COLS = ['category', 'email', 'directory_id', 'dn', 'account_id', 'products', 'rule',
              'reason'];
  var DEFAULT_SIZE = 1000;
  var data = JSON.parse(document.getElementById('users-data').textContent);
  var n = data.length;
  var catOf = new Uint8Array(n);
  for (var i = 0; i < n; i++) catOf[i] = Math.max(0, CATS.indexOf(data[i][0]));

  var $ = function (id) { return document.getElementById(id); };
  var search = $('search'), tbody = $('rows'), status = $('status'), pageInfo = $('page-info');
  var sizeSelect = $('page-size');
  var chips = Array.prototype.slice.call(document.querySelectorAll('#chips .chip'));
  var heads = Array.prototype.slice.call(document.querySelectorAll('#users-table th'));
  var fmt = function (x) { return x.toLocaleString('en-US'); };

  var hay = null;   // per row: every column, lower-cased, joined by U+0001; built on first search
  var keys = [];    // per column: sort keys, built on first sort by that column
  var view = [];    // indices into data of the matching rows, in display order
  var chipCounts = [0, 0, 0, 0, 0, 0];

  function catIndex(name) {
    return CATS.indexOf(String(name).trim().toLowerCase().replace('-', '_'));
  }

  function defaults() {
    return {q: '', sort: -1, desc: false, cats: [false, false, false, false, false, false],
            page: 1, size: DEFAULT_SIZE};
  }

  /* State from the URL: each key from the fragment if it has it, else from the query. */
  function readState() {
    var query = new URLSearchParams(location.search);
    var frag = new URLSearchParams(location.hash.replace(/^#/, ''));
    var get = function (k) { return frag.has(k) ? frag.get(k) : query.get(k); };
    var s = defaults();
    s.q = get('q') || '';
    var sort = get('sort');
    if (sort) s.sort = COLS.indexOf(sort.trim().toLowerCase().replace(/-/g, '_'));
    s.desc = (get('dir') || '').trim().toLowerCase() === 'desc';
    (get('cat') || '').split(',').forEach(function (name) {
      var k = catIndex(name);
      if (k >= 0) s.cats[k] = true;
    });
    var page = parseInt(get('page'), 10);
    if (page > 0) s.page = page;
    var size = (get('size') || '').trim().toLowerCase();
    if (size === 'all') s.size = 0;
    else if (parseInt(size, 10) > 0) s.size = parseInt(size, 10);
    return s;
  }

  /* Writes the state into the fragment so the view can be bookmarked or shared. */
  function writeState() {
    var query = new URLSearchParams(location.search);
    var p = new URLSearchParams();
    var put = function (k, value, isDefault) { if (!isDefault || query.has(k)) p.set(k, value); };
    put('q', state.q, !state.q);
    put('sort', state.sort >= 0 ? COLS[state.sort] : '', state.sort < 0);
    put('dir', state.desc ? 'desc' : 'asc', !state.desc);
    var cats = CATS.filter(function (_, k) { return state.cats[k]; });
    put('cat', cats.join(','), cats.length === 0);
    put('page', String(state.page), state.page === 1);
    put('size', state.size ? String(state.size) : 'all', state.size === DEFAULT_SIZE);
    var text = p.toString();
    try {
      history.replaceState(null, '', location.href.split('#')[0] + (text ? '#' + text : ''));
    } catch (e) { /* some file: URLs refuse; the page works the same */ }
  }

  function haystack() {
    if (!hay) {
      hay = new Array(n);
      for (var i = 0; i < n; i++) {
        var r = data[i];
        hay[i] = (LABELS[catOf[i]] + '\u0001' + r.slice(1).join('\u0001')).toLowerCase();
      }
    }
    return hay;
  }

  function sortKeys(col) {
    if (!keys[col]) {
      var k = new Array(n);
      for (var i = 0; i < n; i++) k[i] = col === 0 ? catOf[i] : data[i][col].toLowerCase();
      keys[col] = k;
    }
    return keys[col];
  }

  /* Filters by the search terms (all must occur, each in some column) and the category chips,
     counts the matches per category for the chips, then sorts: empty values last both ways,
     ties in plan order. */
  function computeView() {
    var terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    var h = terms.length ? haystack() : null;
    var anyCat = state.cats.indexOf(true) >= 0;
    var out = [], counts = [0, 0, 0, 0, 0, 0];
    for (var i = 0; i < n; i++) {
      if (h) {
        var s = h[i], t = 0;
        while (t < terms.length && s.indexOf(terms[t]) >= 0) t++;
        if (t < terms.length) continue;
      }
      var c = catOf[i];
      counts[c]++;
      if (!anyCat || state.cats[c]) out.push(i);
    }
    if (state.sort >= 0) {
      var k = sortKeys(state.sort), sign = state.desc ? -1 : 1;
      out.sort(function (a, b) {
        var x = k[a], y = k[b];
        if (x !== y) {
          if (x === '') return 1;
          if (y === '') return -1;
          return x < y ? -sign : sign;
        }
        return a - b;
      });
    }
    view = out;
    chipCounts = counts;
  }

  /* "G2M,G2W,G2T" as text that may wrap after each comma. */
  function appendBreakable(td, text) {
    var parts = text.split(',');
    for (var k = 0; k < parts.length; k++) {
      if (k > 0) td.appendChild(document.createElement('wbr'));
      td.appendChild(document.createTextNode(parts[k] + (k + 1 < parts.length ? ',' : '')));
    }
  }

  function makeRow(i) {
    var r = data[i], c = catOf[i];
    var tr = document.createElement('tr');
    tr.setAttribute('data-row', String(i));
    tr.setAttribute('data-category', CATS[c]);
    var td = document.createElement('td');
    var badge = document.createElement('span');
    badge.className = 'badge cat-' + CATS[c];
    badge.textContent = LABELS[c];
    td.appendChild(badge);
    tr.appendChild(td);
    for (var col = 1; col < COLS.length; col++) {
      td = document.createElement('td');
      td.className = 'col-' + COLS[col];
      if (r[col] && COLS[col] === 'products') {
        appendBreakable(td, r[col]);
      } else if (r[col]) {
        td.textContent = r[col];
        if (col === 2 || col === 3 || col === 4) td.title = r[col];
      }
      tr.appendChild(td);
    }
    return tr;
  }

  function render() {
    var total = view.length, size = state.size;
    var pages = size ? Math.max(1, Math.ceil(total / size)) : 1;
    if (state.page > pages) state.page = pages;
    var first = size ? (state.page - 1) * size : 0;
    var last = size ? Math.min(total, first + size) : total;
    var frag = document.createDocumentFragment();
    for (var p = first; p < last; p++) frag.appendChild(makeRow(view[p]));
    if (total === 0) {
      var tr = document.createElement('tr'), td = document.createElement('td');
      tr.className = 'empty-row';
      td.colSpan = COLS.length;
      td.textContent = n ? 'No users match the search and filters.' : 'The plan has no users.';
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    tbody.textContent = '';
    tbody.appendChild(frag);

    status.textContent = total === 0
        ? 'No matching users' + (n ? ' (' + fmt(n) + ' in total)' : '')
        : 'Showing ' + fmt(first + 1) + '\u2013' + fmt(last) + ' of ' + fmt(total) +
              (total !== n ? ' matching (' + fmt(n) + ' in total)' : '');
    status.setAttribute('data-first', String(total ? first + 1 : 0));
    status.setAttribute('data-last', String(last));
    status.setAttribute('data-matching', String(total));
    status.setAttribute('data-total', String(n));

    pageInfo.textContent = 'Page ' + fmt(state.page) + ' of ' + fmt(pages);
    $('first').disabled = $('prev').disabled = state.page <= 1;
    $('next').disabled = $('last').disabled = state.page >= pages;

    var anyCat = state.cats.indexOf(true) >= 0;
    var matching = chipCounts.reduce(function (a, b) { return a + b; }, 0);
    chips.forEach(function (chip) {
      var k = catIndex(chip.getAttribute('data-category'));
      chip.setAttribute('aria-pressed', String(k < 0 ? !anyCat : state.cats[k]));
      chip.querySelector('.chip-count').textContent = fmt(k < 0 ? matching : chipCounts[k]);
    });
    heads.forEach(function (th, col) {
      var on = col === state.sort;
      th.setAttribute('aria-sort', on ? (state.desc ? 'descending' : 'ascending') : 'none');
      th.querySelector('.arrow').textContent = on ? (state.desc ? '\u25bc' : '\u25b2') : '';
    });
    var sizeText = size ? String(size) : 'all';
    if (!Array.prototype.some.call(sizeSelect.options, function (o) { return o.value === sizeText; })) {
      sizeSelect.add(new Option(sizeText, sizeText));
    }
    sizeSelect.value = sizeText;
  }

  function refresh(recompute) {
    if (recompute) computeView();
    render();
    writeState();
  }

  var state = readState();
  search.value = state.q;

  var timer = 0;
  search.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      state.q = search.value;
      state.page = 1;
      refresh(true);
    }, 150);
  });
  search.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && search.value) {
      search.value = '';
      search.dispatchEvent(new Event('input'));
    }
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== search && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      search.focus();
    }
  });
  chips.forEach(function (chip) {
    chip.addEventListener('click', function () {
      var k = catIndex(chip.getAttribute('data-category'));
      if (k < 0) state.cats = defaults().cats;
      else state.cats[k] = !state.cats[k];
      state.page = 1;
      refresh(true);
    });
  });
  /* A bar of the chart shows that category alone (again: all). */
  function pickBar(row) {
    var k = catIndex(row.getAttribute('data-category'));
    var only = state.cats.every(function (on, j) { return on === (j === k); });
    state.cats = defaults().cats;
    if (!only) state.cats[k] = true;
    state.page = 1;
    refresh(true);
    $('users').scrollIntoView({block: 'start'});
  }
  Array.prototype.forEach.call(document.querySelectorAll('.bar-row'), function (row) {
    row.addEventListener('click', function () { pickBar(row); });
    row.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pickBar(row); }
    });
  });
  heads.forEach(function (th, col) {
    th.querySelector('button').addEventListener('click', function () {
      if (state.sort === col) state.desc = !state.desc;
      else { state.sort = col; state.desc = false; }
      state.page = 1;
      refresh(true);
    });
  });
  var go = function (page) { state.page = Math.max(1, page); refresh(false); };
  $('first').addEventListener('click', function () { go(1); });
  $('prev').addEventListener('click', function () { go(state.page - 1); });
  $('next').addEventListener('click', function () { go(state.page + 1); });
  $('last').addEventListener('click', function () { go(Infinity); });
  sizeSelect.addEventListener('change', function () {
    var size = parseInt(sizeSelect.value, 10);
    state.size = sizeSelect.value === 'all' ? 0 : size > 0 ? size : DEFAULT_SIZE;
    state.page = 1;
    refresh(false);
  });
  window.addEventListener('hashchange', function () {
    state = readState();
    search.value = state.q;
    refresh(true);
  });

  computeView();
  render();
  document.documentElement.setAttribute('data-rendered', 'true');
})();
)js";

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
    for (const std::string* field : {&row.email, &row.directory_id, &row.dn, &row.account_id,
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
