#include "tests/support/sync_world.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/file.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"

namespace usersync::testing {
namespace {

namespace fs = std::filesystem;

// The counters of /_emulator/stats, by name.
constexpr std::pair<std::string_view, int64_t TargetStats::*> kCounters[] = {
    {"users", &TargetStats::users},
    {"active_users", &TargetStats::active_users},
    {"groups", &TargetStats::groups},
    {"requests", &TargetStats::requests},
    {"throttled", &TargetStats::throttled},
    {"injected_failures", &TargetStats::injected_failures},
    {"creates", &TargetStats::creates},
    {"create_conflicts", &TargetStats::create_conflicts},
    {"updates", &TargetStats::updates},
    {"deletes", &TargetStats::deletes},
    {"group_creates", &TargetStats::group_creates},
    {"group_updates", &TargetStats::group_updates},
    {"group_deletes", &TargetStats::group_deletes},
    {"batch_creates", &TargetStats::batch_creates},
    {"batch_members", &TargetStats::batch_members},
    {"suspensions", &TargetStats::suspensions},
    {"seat_denials", &TargetStats::seat_denials},
    {"welcome_emails", &TargetStats::welcome_emails},
    {"user_reads", &TargetStats::user_reads},
    {"user_filters", &TargetStats::user_filters},
    {"bulk_requests", &TargetStats::bulk_requests},
    {"bulk_operations", &TargetStats::bulk_operations},
    {"admitted", &TargetStats::admitted},
    {"admitted_max_in_window", &TargetStats::admitted_max_in_window},
};

// The measured figures that are not whole numbers.
constexpr std::pair<std::string_view, double TargetStats::*> kMeasures[] = {
    {"measured_span_s", &TargetStats::measured_span_s},
    {"measured_rate", &TargetStats::measured_rate},
};

std::string StringValue(simdjson::ondemand::value value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return "";
  return std::string(text);
}

// One SCIM user resource.
ScimAccount ParseScimAccount(simdjson::ondemand::object user) {
  ScimAccount account;
  for (auto field : user) {
    const std::string_view key = field.unescaped_key().value();
    simdjson::ondemand::value value = field.value();
    if (key == "id") account.id = StringValue(value);
    if (key == "userName") account.user_name = StringValue(value);
    if (key == "externalId") account.external_id = StringValue(value);
    if (key == "active") account.active = value.get_bool().value();
    if (key == "name") {
      for (auto part : value.get_object()) {
        if (part.unescaped_key().value() == "familyName") {
          account.family_name = StringValue(part.value());
        }
      }
    }
  }
  return account;
}

// `text` for a message: its first 4,000 characters.
std::string Excerpt(const std::string& text) {
  constexpr size_t kMax = 4000;
  if (text.size() <= kMax) return text;
  return absl::StrCat(text.substr(0, kMax), "... (", text.size() - kMax, " more characters)");
}

}  // namespace

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess() << "\"" << part << "\" is in:\n" << Excerpt(text);
  }
  return ::testing::AssertionFailure() << "\"" << part << "\" is not in:\n" << Excerpt(text);
}

::testing::AssertionResult Lacks(const std::string& text, const std::string& part) {
  if (text.find(part) == std::string::npos) {
    return ::testing::AssertionSuccess() << "\"" << part << "\" is not in:\n" << Excerpt(text);
  }
  return ::testing::AssertionFailure() << "\"" << part << "\" is in:\n" << Excerpt(text);
}

absl::StatusOr<std::unique_ptr<HeldFileLock>> HeldFileLock::Hold(const std::string& path,
                                                                 std::string_view contents) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", path));
  auto lock = std::unique_ptr<HeldFileLock>(new HeldFileLock(fd));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is locked"));
  }
  if (::ftruncate(fd, 0) != 0 ||
      ::write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return lock;
}

HeldFileLock::~HeldFileLock() { ::close(fd_); }

std::vector<DirectoryUser> NumberedUsers(int count) {
  std::vector<DirectoryUser> users;
  for (int i = 1; i <= count; ++i) {
    users.push_back({absl::StrCat("user", i), absl::StrCat("Sn", i)});
  }
  return users;
}

std::string StaffDirectory::Ldif() const {
  std::string out =
      "version: 1\n\n"
      "dn: dc=example,dc=com\nobjectClass: domain\ndc: example\n\n";
  auto add_user = [&](const std::string& uid, const std::string& sn) {
    absl::StrAppend(&out, "dn: uid=", uid, ",ou=people,dc=example,dc=com\n",
                    "objectClass: inetOrgPerson\nuid: ", uid, "\n", "entryUUID: uuid-", uid, "\n",
                    "cn: First ", sn, "\ngivenName: First\nsn: ", sn, "\n", "mail: ", uid, "@",
                    mail_domain, "\n\n");
  };
  for (const DirectoryUser& user : users) add_user(user.uid, user.sn);
  for (const std::string& uid : team) add_user(uid, "Team");
  absl::StrAppend(&out, "dn: ", kStaffGroup, "\nobjectClass: groupOfNames\ncn: staff\n");
  for (const DirectoryUser& user : users) {
    if (user.in_scope)
      absl::StrAppend(&out, "member: uid=", user.uid, ",ou=people,dc=example,dc=com\n");
  }
  if (team_group) {
    absl::StrAppend(&out, "member: ", kTeamGroup, "\n\n", "dn: ", kTeamGroup,
                    "\nobjectClass: groupOfNames\ncn: team\n");
    for (const std::string& uid : team) {
      absl::StrAppend(&out, "member: uid=", uid, ",ou=people,dc=example,dc=com\n");
    }
  }
  return out;
}

std::string RuleToml(const std::string& name, int priority, const std::string& group,
                     const std::string& products, const std::string& more_keys) {
  return absl::StrCat("[[rules]]\nname = \"", name, "\"\npriority = ", priority, "\ngroup = \"",
                      group, "\"\nproducts = [", products, "]\n", more_keys);
}

int64_t TargetStats::writes() const {
  return creates + create_conflicts + updates + deletes + group_creates + group_updates +
         group_deletes + batch_creates + suspensions + seat_denials + bulk_requests;
}

::testing::AssertionResult TargetStats::AdmittedWithin(double rate, double burst) const {
  // The span is printed with 6 significant digits: allow for its rounding.
  const double allowance = burst + rate * measured_span_s * (1 + 1e-5);
  ::testing::AssertionResult result = admitted_max_in_window < burst + rate && admitted <= allowance
                                          ? ::testing::AssertionSuccess()
                                          : ::testing::AssertionFailure();
  return result << absl::StrCat("admitted ", admitted, " (at most ", allowance, ") over ",
                                measured_span_s, " s, ", measured_rate, "/s; at most ",
                                admitted_max_in_window, " in a second (limit below ", burst + rate,
                                "); rate ", rate, ", burst ", burst);
}

absl::StatusOr<TargetStats> ParseTargetStats(std::string_view json) {
  TargetStats stats;
  std::vector<bool> seen(std::size(kCounters), false);
  std::vector<bool> seen_measures(std::size(kMeasures), false);
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("stats are not a JSON object: ", std::string(json)));
  }
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat("bad stats: ", std::string(json)));
    }
    for (size_t idx = 0; idx < std::size(kCounters); ++idx) {
      if (kCounters[idx].first != key) continue;
      if (field.value().get_int64().get(stats.*kCounters[idx].second) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(
            absl::StrCat("stats: ", std::string(key), " is not an integer"));
      }
      seen[idx] = true;
    }
    for (size_t idx = 0; idx < std::size(kMeasures); ++idx) {
      if (kMeasures[idx].first != key) continue;
      if (field.value().get_double().get(stats.*kMeasures[idx].second) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(
            absl::StrCat("stats: ", std::string(key), " is not a number"));
      }
      seen_measures[idx] = true;
    }
  }
  for (size_t idx = 0; idx < std::size(kCounters); ++idx) {
    if (!seen[idx]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stats lack \"", std::string(kCounters[idx].first), "\": ", std::string(json)));
    }
  }
  for (size_t idx = 0; idx < std::size(kMeasures); ++idx) {
    if (!seen_measures[idx]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stats lack \"", std::string(kMeasures[idx].first), "\": ", std::string(json)));
    }
  }
  return stats;
}

SyncWorld::SyncWorld(const std::string& prefix) {
  absl::StatusOr<fs::path> dir = FreshTempDir(absl::StrCat(prefix, "-", CurrentTestName()));
  if (!dir.ok()) {
    ADD_FAILURE() << dir.status();
    return;
  }
  dir_ = *std::move(dir);
  ok_ = true;
}

absl::Status SyncWorld::StartTarget(std::vector<std::string> args) {
  target_.reset();
  absl::StatusOr<std::unique_ptr<EmulatorProcess>> target =
      EmulatorProcess::Start(std::move(args), token_);
  if (!target.ok()) {
    ADD_FAILURE() << target.status();
    return target.status();
  }
  target_ = *std::move(target);
  return absl::OkStatus();
}

void SyncWorld::WriteFile(std::string_view name, std::string_view contents) const {
  absl::Status written = testing::WriteFile(dir_ / name, contents);
  EXPECT_TRUE(written.ok()) << written;
}

std::string SyncWorld::ReadFile(std::string_view name) const {
  return testing::ReadFile(dir_ / name);
}

void SyncWorld::WriteDirectory(const StaffDirectory& directory) const {
  WriteLdif(directory.Ldif());
}

std::string SyncWorld::WriteConfig(const WorldConfig& config, const std::string& name) {
  std::string url = config.target_url;
  if (url.empty()) {
    EXPECT_TRUE(has_target()) << "no emulator to point the configuration at";
    if (has_target()) {
      url = config.target_kind == "goto" ? target_->base_url() + "/admin/rest/v1"
                                         : target_->scim_url();
    }
  }
  const std::string path = Path(absl::StrCat(name, ".toml"));
  WriteFile(
      absl::StrCat(name, ".toml"),
      absl::StrCat("[source]\n", config.source, "[scope]\ngroups = [\"", config.scope_group,
                   "\"]\nvalidated_domains = [\"example.com\"]\n", config.scope_keys,
                   "[target]\nkind = \"",
                   config.target_kind, "\"\nurl = \"", url, "\"\n",
                   config.target_kind == "goto" ? "account_key = \"demo\"\n" : "",
                   config.target_auth.empty()
                       ? absl::StrCat("token_env = \"", kTargetTokenEnv, "\"\n")
                       : config.target_auth,
                   config.target_keys, "[deprovision]\n",
                   config.deprovision, config.rules, config.extra, "[state]\npath = \"",
                   config.state_path, "\"\n[logs]\ndir = \"", config.logs_dir, "\"\n"));
  return path;
}

EnvList SyncWorld::Environment(const EnvList& env) const {
  EnvList out = {{kTargetTokenEnv, token_}};
  out.insert(out.end(), env.begin(), env.end());  // later entries win
  return out;
}

std::vector<std::string> SyncWorld::WithConfig(std::vector<std::string> args) const {
  args.insert(args.begin() + (args.empty() ? 0 : 1), {"-c", config()});
  return args;
}

ProcessResult SyncWorld::Usersync(std::vector<std::string> args, const EnvList& env,
                                  std::chrono::seconds timeout) const {
  return UsersyncArgs(WithConfig(std::move(args)), env, timeout);
}

ProcessResult SyncWorld::UsersyncArgs(std::vector<std::string> args, const EnvList& env,
                                      std::chrono::seconds timeout) const {
  args.insert(args.begin(), USERSYNC_BINARY);
  return RunProcess(args, Environment(env), dir_.string(), timeout);
}

absl::Status SyncWorld::StartUsersync(ChildProcess& child, std::vector<std::string> args,
                                      const EnvList& env) const {
  args = WithConfig(std::move(args));
  args.insert(args.begin(), USERSYNC_BINARY);
  return child.Start(args, Environment(env));
}

absl::StatusOr<TargetStats> SyncWorld::TryStats() const {
  HttpResult result = HttpGet(target_->base_url() + "/_emulator/stats", token_);
  if (result.status != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET /_emulator/stats: ", result.status, " ", result.error, result.body));
  }
  return ParseTargetStats(result.body);
}

TargetStats SyncWorld::Stats() const {
  absl::StatusOr<TargetStats> stats = TryStats();
  if (!stats.ok()) {
    ADD_FAILURE() << stats.status();
    return TargetStats();
  }
  return *stats;
}

std::map<std::string, ScimAccount> SyncWorld::ScimAccounts() const {
  std::map<std::string, ScimAccount> out;
  simdjson::ondemand::parser parser;
  for (int start = 1;; start += 1000) {
    HttpResult page = HttpGet(
        absl::StrCat(target_->scim_url(), "/Users?startIndex=", start, "&count=1000"), token_);
    EXPECT_EQ(page.status, 200) << page.body;
    if (page.status != 200) return out;
    simdjson::padded_string json(page.body);
    simdjson::ondemand::document doc = parser.iterate(json);
    const int64_t total = doc["totalResults"].get_int64().value();
    size_t seen = 0;
    for (auto resource : doc["Resources"].get_array()) {
      ScimAccount account = ParseScimAccount(resource.get_object());
      EXPECT_FALSE(out.contains(account.user_name)) << "two accounts for " << account.user_name;
      out[account.user_name] = std::move(account);
      ++seen;
    }
    if (seen == 0 || start + 1000 > total) break;
  }
  return out;
}

}  // namespace usersync::testing
