// Attribute-mapping expressions (core/expression.h): the cost per user of evaluating a mapping,
// against a hand-written baseline doing the same string work, and the cost of parsing.
// Run: build-release/bench/expression_bench
//
// Shape of the data (fixed seed): N users with a givenName and an sn of 3 to 10 letters; one
// user in 8 has a letter with a diacritic (é, ö, å, ł: two bytes each) in each name, one in 16
// a space inside its givenName.
//
// The budget these numbers are read against (issue 14): the plan of 1M users with three mapped
// attributes, one an expression, within 1.2x of the plan without mappings, i.e. a few hundred
// ns per user for all the mappings together on the plan's ~2 s at 1M.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/check.h"
#include "core/expression.h"

namespace usersync::core {
namespace {

// Entra's UPN example (Microsoft's reference, ToLower), on the directory's attribute names.
constexpr std::string_view kUpn =
    R"(ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], [sn]))), )"
    R"("example.com")))";
constexpr std::string_view kDisplayName = R"(Join(" ", [givenName], [sn]))";

struct Users {
  std::vector<std::string> given_names;
  std::vector<std::string> surnames;
};

std::string Name(std::mt19937_64& rng, bool diacritic, bool space) {
  static constexpr std::string_view kAccented[] = {"é", "ö", "å", "ł"};
  const size_t length = 3 + rng() % 8;
  std::string name;
  for (size_t char_idx = 0; char_idx < length; ++char_idx) {
    const char letter = static_cast<char>('a' + rng() % 26);
    name.push_back(char_idx == 0 ? static_cast<char>(letter - 'a' + 'A') : letter);
    if (diacritic && char_idx == 1) name.append(kAccented[rng() % 4]);
    if (space && char_idx == 2) name.push_back(' ');
  }
  return name;
}

Users MakeUsers(size_t count) {
  std::mt19937_64 rng(14);
  Users users;
  users.given_names.reserve(count);
  users.surnames.reserve(count);
  for (size_t user_idx = 0; user_idx < count; ++user_idx) {
    const bool diacritic = user_idx % 8 == 0;
    users.given_names.push_back(Name(rng, diacritic, user_idx % 16 == 1));
    users.surnames.push_back(Name(rng, diacritic, false));
  }
  return users;
}

Expression ParseOrDie(std::string_view text) {
  absl::StatusOr<Expression> expr = Expression::Parse(text);
  USERSYNC_CHECK(expr.ok());
  return *std::move(expr);
}

void Evaluate(const Expression& expr, std::string_view given, std::string_view sn,
              std::string* out) {
  const std::string_view values[] = {given, sn};
  expr.Evaluate(values, out);
}

// Evaluates `text` for every user; checks once that (check_given, check_sn) gives `expected`.
void BM_Expression(benchmark::State& state, std::string_view text, std::string_view check_given,
                   std::string_view check_sn, std::string_view expected) {
  const Users users = MakeUsers(static_cast<size_t>(state.range(0)));
  const Expression expr = ParseOrDie(text);
  std::string out;
  Evaluate(expr, check_given, check_sn, &out);
  USERSYNC_CHECK(out == expected);
  for (auto _ : state) {
    for (size_t user_idx = 0; user_idx < users.given_names.size(); ++user_idx) {
      Evaluate(expr, users.given_names[user_idx], users.surnames[user_idx], &out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(users.given_names.size()));
}

// The floor: what a hard-coded "given sn" costs (the same output as BM_Expression/DisplayName).
void BM_HandWrittenDisplayName(benchmark::State& state) {
  const Users users = MakeUsers(static_cast<size_t>(state.range(0)));
  const Expression expr = ParseOrDie(kDisplayName);
  std::string out;
  std::string expected;
  Evaluate(expr, users.given_names[0], users.surnames[0], &expected);
  for (auto _ : state) {
    for (size_t user_idx = 0; user_idx < users.given_names.size(); ++user_idx) {
      out.clear();
      out.append(users.given_names[user_idx]).append(" ").append(users.surnames[user_idx]);
      benchmark::DoNotOptimize(out.data());
    }
  }
  out.clear();
  out.append(users.given_names[0]).append(" ").append(users.surnames[0]);
  USERSYNC_CHECK(out == expected);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(users.given_names.size()));
}

void BM_ExpressionParse(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<Expression> expr = Expression::Parse(kUpn);
    benchmark::DoNotOptimize(expr);
  }
  USERSYNC_CHECK(ParseOrDie(kUpn).attributes().size() == 2);
  state.SetItemsProcessed(state.iterations());
}

// A name with a diacritic and a space folds as Microsoft's reference says.
BENCHMARK_CAPTURE(BM_Expression, Upn, kUpn, "Zoë Anne", "Ångström", "zoeanne.angstrom@example.com")
    ->Arg(10'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Expression, DisplayName, kDisplayName, "Ann", "Lee", "Ann Lee")
    ->Arg(10'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HandWrittenDisplayName)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExpressionParse)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace usersync::core

BENCHMARK_MAIN();
