// Reading the configuration's TOML: the error context ("<origin>:<line>:<col>: ..."), typed
// reads from one table (Section), key checks with a did-you-mean, durations, and resolving the
// paths the file names. Used by io/config/config.cc's section parsers; not a public API.
// Thread-compatible: plain values over a parsed toml::table that the caller owns and keeps alive.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"

namespace usersync::io::internal {

// ---------------------------------------------------------------------------------------------
// Error context: every message starts with "<origin>:<line>:<col>: " when the offending node is
// known, so an administrator can jump to the line.

class Ctx {
 public:
  explicit Ctx(std::string origin) : origin_(std::move(origin)) {}

  absl::Status Error(const toml::node* node, std::string_view message) const {
    if (node != nullptr && node->source().begin.line > 0) {
      const toml::source_position& pos = node->source().begin;
      return absl::InvalidArgumentError(
          absl::StrCat(origin_, ":", pos.line, ":", pos.column, ": ", Sv(message)));
    }
    return absl::InvalidArgumentError(absl::StrCat(origin_, ": ", Sv(message)));
  }

  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

// "a table", "a string", ...: what a node is, for messages.
std::string_view TypeName(const toml::node& node);
// "source.attributes" from "source" and "attributes"; `key` alone when `prefix` is empty.
std::string Join(std::string_view prefix, std::string_view key);
// Every key of `table` must be in `allowed`. Secrets written into the file get their own message.
absl::Status CheckKeys(const Ctx& ctx, const toml::table& table, std::string_view prefix,
                       std::span<const std::string_view> allowed);
// Parses "30s", "500ms", "2m", "1h", "1m30s", "1.5s"; nullopt with `*why` set when it cannot.
std::optional<std::chrono::milliseconds> ParseDurationText(std::string_view text, std::string* why);

// Typed reads from one table. Each returns OK and leaves `*out` alone when the key is absent.
class Section {
 public:
  Section(const Ctx& ctx, const toml::table* table, std::string prefix)
      : ctx_(ctx), table_(table), prefix_(std::move(prefix)) {}

  bool Has(std::string_view key) const { return table_ != nullptr && table_->contains(key); }
  const toml::node* Node(std::string_view key) const {
    return table_ == nullptr ? nullptr : table_->get(key);
  }
  std::string Path(std::string_view key) const { return Join(prefix_, key); }

  absl::Status TypeError(const toml::node& node, std::string_view key,
                         std::string_view expected) const {
    return ctx_.Error(&node, absl::StrCat("key '", Path(key), "' must be ", Sv(expected), ", not ",
                                          Sv(TypeName(node))));
  }
  absl::Status ValueError(std::string_view key, std::string_view why) const {
    return ctx_.Error(Node(key), absl::StrCat("key '", Path(key), "' ", Sv(why)));
  }

  absl::Status String(std::string_view key, std::string* out) const {
    const toml::node* node = Node(key);
    if (node == nullptr) return absl::OkStatus();
    const toml::value<std::string>* value = node->as_string();
    if (value == nullptr) return TypeError(*node, key, "a string");
    *out = value->get();
    return absl::OkStatus();
  }

  absl::Status Bool(std::string_view key, bool* out) const {
    const toml::node* node = Node(key);
    if (node == nullptr) return absl::OkStatus();
    const toml::value<bool>* value = node->as_boolean();
    if (value == nullptr) return TypeError(*node, key, "a boolean (true or false)");
    *out = value->get();
    return absl::OkStatus();
  }

  absl::Status Int64(std::string_view key, int64_t* out) const {
    const toml::node* node = Node(key);
    if (node == nullptr) return absl::OkStatus();
    const toml::value<int64_t>* value = node->as_integer();
    if (value == nullptr) return TypeError(*node, key, "an integer");
    *out = value->get();
    return absl::OkStatus();
  }

  absl::Status Int(std::string_view key, int* out) const {
    int64_t value = *out;
    USERSYNC_RETURN_IF_ERROR(Int64(key, &value));
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      return ValueError(key, absl::StrCat("is out of range (got ", value, ")"));
    }
    *out = static_cast<int>(value);
    return absl::OkStatus();
  }

  // An integer or a float.
  absl::Status Number(std::string_view key, double* out) const {
    const toml::node* node = Node(key);
    if (node == nullptr) return absl::OkStatus();
    if (const toml::value<int64_t>* integer = node->as_integer()) {
      *out = static_cast<double>(integer->get());
    } else if (const toml::value<double>* floating = node->as_floating_point()) {
      *out = floating->get();
      if (!std::isfinite(*out)) return ValueError(key, "must be a finite number");
    } else {
      return TypeError(*node, key, "a number");
    }
    return absl::OkStatus();
  }

  absl::Status Duration(std::string_view key, std::chrono::milliseconds* out) const {
    const toml::node* node = Node(key);
    if (node == nullptr) return absl::OkStatus();
    if (const toml::value<int64_t>* seconds = node->as_integer()) {
      if (seconds->get() < 0 || seconds->get() > int64_t{10} * 365 * 24 * 3600) {
        return ValueError(key, absl::StrCat("is out of range (got ", seconds->get(), ")"));
      }
      *out = std::chrono::seconds(seconds->get());
      return absl::OkStatus();
    }
    const toml::value<std::string>* text = node->as_string();
    if (text == nullptr) {
      return TypeError(*node, key, "a duration (a string such as \"30s\", or seconds)");
    }
    std::string why;
    std::optional<std::chrono::milliseconds> parsed = ParseDurationText(text->get(), &why);
    if (!parsed.has_value()) {
      return ValueError(key, absl::StrCat("= \"", text->get(), "\" ", why));
    }
    *out = *parsed;
    return absl::OkStatus();
  }

  absl::Status StringArray(std::string_view key, std::vector<std::string>* out) const {
    const toml::node* node = Node(key);
    if (node == nullptr) return absl::OkStatus();
    const toml::array* array = node->as_array();
    if (array == nullptr) return TypeError(*node, key, "an array of strings");
    std::vector<std::string> values;
    values.reserve(array->size());
    for (size_t item_idx = 0; item_idx < array->size(); ++item_idx) {
      const toml::node& item = *array->get(item_idx);
      const toml::value<std::string>* value = item.as_string();
      if (value == nullptr) {
        return ctx_.Error(&item, absl::StrCat("key '", Path(key),
                                              "' must be an array of strings; "
                                              "item ",
                                              item_idx, " is ", Sv(TypeName(item))));
      }
      values.push_back(value->get());
    }
    *out = std::move(values);
    return absl::OkStatus();
  }

  // A sub-table, or nullptr when absent.
  absl::StatusOr<const toml::table*> Table(std::string_view key) const {
    const toml::node* node = Node(key);
    if (node == nullptr) return nullptr;
    const toml::table* table = node->as_table();
    if (table == nullptr) return TypeError(*node, key, "a table");
    return table;
  }

  // `*out` must be one of `allowed`.
  absl::Status Enum(std::string_view key, std::span<const std::string_view> allowed,
                    std::string* out) const {
    std::string value = *out;
    USERSYNC_RETURN_IF_ERROR(String(key, &value));
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      return ValueError(key, absl::StrCat("must be ", Quoted(allowed), " (got \"", value, "\")"));
    }
    *out = std::move(value);
    return absl::OkStatus();
  }

  static std::string Quoted(std::span<const std::string_view> allowed) {
    std::string text;
    for (size_t idx = 0; idx < allowed.size(); ++idx) {
      if (idx > 0) absl::StrAppend(&text, idx + 1 == allowed.size() ? " or " : ", ");
      absl::StrAppend(&text, "\"", Sv(allowed[idx]), "\"");
    }
    return text;
  }

 private:
  const Ctx& ctx_;
  const toml::table* table_;
  std::string prefix_;
};

// Checks that a *_env key names a variable. Never echoes the value: a mistaken secret pasted
// there must not reach the error log.
absl::Status CheckEnvName(const Section& section, std::string_view key, std::string_view value);
// The OAuth 2.0 client's keys, read alike wherever a client is configured (source.* for Entra,
// target.* for auth = "oauth2"): client_id, client_secret_env (checked by CheckEnvName) and
// client_secret_file. Keys absent leave the values as they are.
absl::Status ReadClientKeys(const Section& section, std::string* client_id,
                            std::string* client_secret_env, std::string* client_secret_file);
// An input file: the config file's directory first, then the current directory.
std::string ResolveInput(const std::string& base_dir, const std::string& path);
// An output location that may not exist yet: always beside the config file.
std::string ResolveOutput(const std::string& base_dir, const std::string& path);
bool StartsWith(std::string_view s, std::string_view prefix);

}  // namespace usersync::io::internal
