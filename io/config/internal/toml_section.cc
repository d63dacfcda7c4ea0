#include "io/config/internal/toml_section.h"

#include <cctype>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"

namespace usersync::io::internal {

namespace fs = std::filesystem;

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string Join(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return absl::StrCat(Sv(prefix), ".", Sv(key));
}

// Edit distance counting a swap of two neighbours as one edit (optimal string alignment), the
// commonest typo in a key.
size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t width = b.size() + 1;
  std::vector<size_t> d((a.size() + 1) * width);
  auto at = [&](size_t a_idx, size_t b_idx) -> size_t& { return d[a_idx * width + b_idx]; };
  for (size_t a_idx = 0; a_idx <= a.size(); ++a_idx) at(a_idx, 0) = a_idx;
  for (size_t b_idx = 0; b_idx <= b.size(); ++b_idx) at(0, b_idx) = b_idx;
  for (size_t a_idx = 1; a_idx <= a.size(); ++a_idx) {
    for (size_t b_idx = 1; b_idx <= b.size(); ++b_idx) {
      const size_t cost = a[a_idx - 1] == b[b_idx - 1] ? 0 : 1;
      size_t best = std::min(
          {at(a_idx - 1, b_idx) + 1, at(a_idx, b_idx - 1) + 1, at(a_idx - 1, b_idx - 1) + cost});
      if (a_idx > 1 && b_idx > 1 && a[a_idx - 1] == b[b_idx - 2] && a[a_idx - 2] == b[b_idx - 1]) {
        best = std::min(best, at(a_idx - 2, b_idx - 2) + 1);
      }
      at(a_idx, b_idx) = best;
    }
  }
  return at(a.size(), b.size());
}

// The closest allowed key within a small edit distance, or "".
std::string_view Suggest(std::string_view key, std::span<const std::string_view> allowed) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : allowed) {
    const size_t distance = EditDistance(key, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  const size_t limit = key.size() <= 3 ? 1 : 2;
  return best_distance <= limit ? best : std::string_view();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Keys that would hold a secret in the file itself.
bool LooksLikeSecretKey(std::string_view key) {
  static constexpr std::string_view kSecretKeys[] = {
      "password", "passwd",        "pass",         "pw",        "bind_password", "bind_pw",
      "token",    "bearer_token",  "access_token", "api_token", "api_key",       "apikey",
      "secret",   "client_secret", "credentials",  "credential"};
  for (std::string_view secret : kSecretKeys) {
    if (key == secret) return true;
  }
  return EndsWith(key, "_password") || EndsWith(key, "_secret") || EndsWith(key, "_token");
}

// Every key of `table` must be in `allowed`. Secrets written into the file get their own message.
absl::Status CheckKeys(const Ctx& ctx, const toml::table& table, std::string_view prefix,
                       std::span<const std::string_view> allowed) {
  for (auto&& [key, node] : table) {
    const std::string_view name = key.str();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    const std::string path = Join(prefix, name);
    if (LooksLikeSecretKey(name)) {
      std::string instead = "a *_env key (an environment variable's name) or a *_file key";
      if (prefix == "source") {
        instead = "'bind_password_env' (an environment variable's name) or 'bind_password_file'";
      } else if (prefix == "target") {
        instead = "'token_env' (an environment variable's name) or 'token_file'";
      }
      return ctx.Error(&node, absl::StrCat("key '", path,
                                           "' would put a secret in the configuration file; "
                                           "secrets never stand in the file: use ",
                                           instead, " instead"));
    }
    std::string message = prefix.empty() ? absl::StrCat("unknown section '", path, "'")
                                         : absl::StrCat("unknown key '", path, "'");
    const std::string_view suggestion = Suggest(name, allowed);
    if (!suggestion.empty()) absl::StrAppend(&message, " (did you mean '", Sv(suggestion), "'?)");
    return ctx.Error(&node, message);
  }
  return absl::OkStatus();
}

// Parses "30s", "500ms", "2m", "1h", "1m30s", "1.5s". A TOML integer means seconds.
std::optional<std::chrono::milliseconds> ParseDurationText(std::string_view text,
                                                           std::string* why) {
  text = StdSv(absl::StripAsciiWhitespace(Sv(text)));
  if (text.empty()) {
    *why = "is empty";
    return std::nullopt;
  }
  double total_ms = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t number_start = pos;
    while (pos < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) {
      ++pos;
    }
    if (pos == number_start) {
      *why = "is not a duration (expected e.g. \"30s\", \"500ms\", \"2m\", \"1h\")";
      return std::nullopt;
    }
    const std::string number(text.substr(number_start, pos - number_start));
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(number.c_str(), &end);
    if (errno != 0 || end != number.c_str() + number.size()) {
      *why = "is not a duration (expected e.g. \"30s\", \"500ms\", \"2m\", \"1h\")";
      return std::nullopt;
    }
    const size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1'000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit.empty()) {
      *why = "needs a unit: ms, s, m or h (e.g. \"30s\")";
      return std::nullopt;
    } else {
      *why = absl::StrCat("has an unknown unit '", Sv(unit), "' (use ms, s, m or h)");
      return std::nullopt;
    }
    total_ms += value * scale;
  }
  // Ten years is far beyond any sensible timeout; it also keeps the cast below defined.
  if (total_ms > 10.0 * 365 * 24 * 3'600'000) {
    *why = "is too long";
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(total_ms)));
}

bool LooksLikeEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Checks that a *_env key names a variable. Never echoes the value: a mistaken secret pasted
// there must not reach the error log.
absl::Status CheckEnvName(const Section& section, std::string_view key, std::string_view value) {
  if (value.empty() || LooksLikeEnvName(value)) return absl::OkStatus();
  return section.ValueError(
      key,
      "must name an environment variable (letters, digits and '_'); put the secret itself "
      "in that variable, never in the file");
}

absl::Status ReadClientKeys(const Section& section, std::string* client_id,
                            std::string* client_secret_env, std::string* client_secret_file) {
  USERSYNC_RETURN_IF_ERROR(section.String("client_id", client_id));
  USERSYNC_RETURN_IF_ERROR(section.String("client_secret_env", client_secret_env));
  USERSYNC_RETURN_IF_ERROR(CheckEnvName(section, "client_secret_env", *client_secret_env));
  return section.String("client_secret_file", client_secret_file);
}

bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::string Absolute(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  return (ec ? path : absolute.lexically_normal()).string();
}

// An input file: the config file's directory first, then the current directory.
std::string ResolveInput(const std::string& base_dir, const std::string& path) {
  if (path.empty()) return path;
  const fs::path given(path);
  if (given.is_absolute()) return path;
  const fs::path beside_config = fs::path(base_dir) / given;
  if (base_dir.empty() || Exists(beside_config)) return Absolute(beside_config);
  if (Exists(given)) return Absolute(given);
  return Absolute(beside_config);  // does not exist anywhere: the reader reports this path
}

// An output location that may not exist yet: always beside the config file.
std::string ResolveOutput(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path == ":memory:") return path;
  const fs::path given(path);
  if (given.is_absolute()) return path;
  return Absolute(fs::path(base_dir) / given);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
}  // namespace usersync::io::internal
