#include "tools/gen/ldif_generator.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "tools/gen/ldif_generator_internal.h"

namespace usersync::io {
namespace {

using namespace gen_internal;  // NOLINT(build/namespaces): the generator's own internals

// The base DN: dc=/o=/ou= first, dc= values make the mail domain.
absl::Status PlanBase(const LdifGenOptions& options, Plan& plan) {
  if (options.base_dn.empty() || options.base_dn.size() > 256) {
    return absl::InvalidArgumentError("--base-dn must be 1 to 256 characters");
  }
  std::vector<std::string> domain_labels;
  bool first = true;
  for (absl::string_view rdn : absl::StrSplit(Sv(options.base_dn), ',')) {
    rdn = absl::StripAsciiWhitespace(rdn);
    const size_t eq = rdn.find('=');
    if (eq == absl::string_view::npos || eq == 0 || eq + 1 == rdn.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--base-dn \"", options.base_dn, "\": \"", rdn, "\" is not type=value"));
    }
    const std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rdn.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(rdn.substr(eq + 1)));
    if (value.find_first_of("+\"\\<>;#=") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--base-dn \"", options.base_dn, "\": values with special characters are not supported"));
    }
    if (first) {
      if (type != "dc" && type != "o" && type != "ou") {
        return absl::InvalidArgumentError(
            absl::StrCat("--base-dn \"", options.base_dn, "\" must start with dc=, o= or ou="));
      }
      plan.first_rdn_type = type;
      plan.first_rdn_value = value;
      first = false;
    }
    if (type == "dc") domain_labels.push_back(absl::AsciiStrToLower(value));
  }
  plan.base_dn = options.base_dn;
  plan.domain = domain_labels.empty() ? "example.com" : absl::StrJoin(domain_labels, ".");

  return absl::OkStatus();
}

// Pass 1: the users' traits and the counts that follow from them.
void CountUsers(uint64_t seed, const Plan& plan, int64_t n, LdifGenSummary& s) {
  bool previous_in_scope = false;
  for (int64_t user_idx = 0; user_idx < n; ++user_idx) {
    const UserTraits t = Traits(seed, plan.ad, user_idx);
    const bool in_scope = t.in_scope();
    s.outside_users += t.outside;
    s.scope_users += !t.outside;
    s.contractors += t.contractor;
    s.disabled += t.disabled;
    s.in_scope += in_scope;
    s.organizers += t.organizer;
    s.trainers += t.trainer;
    s.utf8_names += !IsAscii(t.first->display) || !IsAscii(t.last->display);
    switch (t.messy) {
      case Messy::kNone:
        break;
      case Messy::kMixedCase:
        ++s.mixed_case_emails;
        break;
      case Messy::kPadded:
        ++s.padded_emails;
        break;
      case Messy::kNoEmail:
        ++s.no_email;
        s.invalid_no_email += in_scope;
        break;
      case Messy::kForeign:
        ++s.foreign_domain;
        s.invalid_foreign_domain += in_scope;
        break;
      case Messy::kDuplicate:
        s.duplicate_email_users += 2;
        if (in_scope && previous_in_scope) s.invalid_duplicate_email += 2;
        break;
      case Messy::kNoGiven:
        ++s.no_given_name;
        s.invalid_no_given_name += in_scope;
        break;
      case Messy::kBadLanguage:
        ++s.bad_language;
        break;
    }
    previous_in_scope = in_scope;
  }
  s.invalid = s.invalid_no_email + s.invalid_foreign_domain + s.invalid_duplicate_email +
              s.invalid_no_given_name;
}

// Big groups at the end of the tree (leaves), rule teams in its middle.
void PlaceBigAndRuleTeams(const LdifGenSummary& s, Plan& plan) {
  if (s.scope_users >= kBigMinScoped && plan.tree >= 4) {
    plan.big = std::min({std::max<int64_t>(1, s.scope_users / kBigScopedPerGroup), kBigMaxGroups,
                         std::max<int64_t>(1, plan.tree / 10)});
  }
  if (plan.tree >= 4) {
    if (plan.tree / 2 < plan.tree - plan.big) plan.organizers_team = plan.tree / 2;
    if (plan.tree / 2 + 1 < plan.tree - plan.big) plan.trainers_team = plan.tree / 2 + 1;
  }
}

// The groups that list user `user_idx` directly: its home group, about `memberships` more,
// the rule groups; for an outside user, cn=contractors or none.
//
// Extra memberships: offsets (home + 1 + (start + k * stride) mod (G-1)) mod G are distinct
// for k < G-1 when gcd(stride, G-1) = 1, and never the home group.
class GroupsOfUser {
 public:
  GroupsOfUser(const LdifGenOptions& options, const Plan& plan)
      : plan_(plan),
        seed_(options.seed),
        g_count_(options.groups),
        whole_(static_cast<int64_t>(std::floor(options.memberships))),
        fraction_(options.memberships - static_cast<double>(whole_)),
        span_(g_count_ - 1) {
    if (span_ > 1) {
      for (int64_t candidate : {7919, 104729, 1299709, 15485863, 1}) {
        if (std::gcd(candidate % span_, span_) == 1) {
          stride_ = candidate % span_;
          break;
        }
      }
    }
  }

  // Calls add(group) for each group that lists user `user_idx` (traits `t`) directly.
  template <typename F>
  void ForEach(int64_t user_idx, const UserTraits& t, F&& add) const {
    if (t.outside) {
      if (t.contractor) add(plan_.contractors());
      return;
    }
    const uint64_t h = Hash(seed_, kSaltHome, static_cast<uint64_t>(user_idx));
    int64_t home = plan_.goto_users();
    if (g_count_ > 0) {
      if (plan_.big > 0 && (h & 3) == 0) {
        home = plan_.tree - 1 - static_cast<int64_t>((h >> 2) % static_cast<uint64_t>(plan_.big));
      } else {
        home = static_cast<int64_t>((h >> 8) % static_cast<uint64_t>(g_count_));
      }
    }
    add(home);
    if (span_ >= 1) {
      const double roll = static_cast<double>(h >> 40) / static_cast<double>(uint64_t{1} << 24);
      const int64_t extra = std::min(span_, whole_ + (roll < fraction_ ? 1 : 0));
      const uint64_t start =
          Hash(seed_, kSaltExtra, static_cast<uint64_t>(user_idx)) % static_cast<uint64_t>(span_);
      for (int64_t k = 0; k < extra; ++k) {
        const int64_t offset =
            1 + static_cast<int64_t>((start + static_cast<uint64_t>(k * stride_)) %
                                     static_cast<uint64_t>(span_));
        add((home + offset) % g_count_);
      }
    }
    if (t.organizer) add(plan_.organizers());
    if (t.trainer) add(plan_.trainers());
  }

 private:
  const Plan& plan_;
  const uint64_t seed_;
  const int64_t g_count_;
  const int64_t whole_;
  const double fraction_;
  const int64_t span_;
  int64_t stride_ = 1;
};

// Passes 2 and 3: count, then fill, the user members of every group (CSR).
void PlanUserMembers(uint64_t seed, const GroupsOfUser& groups_of, Plan& plan) {
  const int64_t all_groups = plan.all_groups();
  plan.member_begin.assign(all_groups + 1, 0);
  for (int64_t user_idx = 0; user_idx < plan.users; ++user_idx) {
    const UserTraits t = Traits(seed, plan.ad, user_idx);
    groups_of.ForEach(user_idx, t, [&](int64_t group) { ++plan.member_begin[group + 1]; });
  }
  for (int64_t group = 0; group < all_groups; ++group) {
    plan.member_begin[group + 1] += plan.member_begin[group];
  }
  plan.user_members.resize(static_cast<size_t>(plan.member_begin[all_groups]));
  std::vector<int64_t> cursor(plan.member_begin.begin(), plan.member_begin.end() - 1);
  for (int64_t user_idx = 0; user_idx < plan.users; ++user_idx) {
    const UserTraits t = Traits(seed, plan.ad, user_idx);
    groups_of.ForEach(user_idx, t, [&](int64_t group) {
      plan.user_members[cursor[group]++] = static_cast<uint32_t>(user_idx);
    });
  }
}

// The options' errors, before anything is planned.
absl::Status ValidateOptions(const LdifGenOptions& options) {
  if (options.users < 0 || options.users > kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("--users must be between 0 and ", kMaxCount, ", got ", options.users));
  }
  if (options.groups < 0 || options.groups > kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("--groups must be between 0 and ", kMaxCount, ", got ", options.groups));
  }
  if (!(options.memberships >= 0) || !std::isfinite(options.memberships)) {
    return absl::InvalidArgumentError("--memberships must be a number >= 0");
  }
  if (options.flavor != "openldap" && options.flavor != "ad") {
    return absl::InvalidArgumentError(
        absl::StrCat("--flavor must be openldap or ad, got \"", options.flavor, "\""));
  }
  return absl::OkStatus();
}

// Group-side counts.
void CountGroups(uint64_t seed, const Plan& plan, LdifGenSummary& s) {
  const int64_t all_groups = plan.all_groups();
  for (int64_t group = 0; group < all_groups; ++group) {
    int64_t values = 0;
    plan.ForEachMember(seed, group, [&](MemberKind kind, int64_t idx) {
      ++values;
      if (kind == MemberKind::kUser) ++s.user_members;
      if (kind == MemberKind::kGroup) ++s.group_members;
      if (kind == MemberKind::kGroup && idx == group) ++s.self_members;
      if (kind == MemberKind::kDangling) ++s.dangling_members;
    });
    s.member_values += values;
    s.largest_group = std::max(s.largest_group, values);
    s.groups_5000 += values >= 5000;
    if (plan.HasBackEdge(seed, group)) ++s.cycles;
  }
  if (plan.tree > 0) ++s.cycles;   // dept-0 ∋ goto-users
  if (plan.chain > 0) ++s.cycles;  // chain-24 ∋ chain-0
  if (plan.tree > 0) s.max_depth = Plan::TreeDepth(plan.tree - 1);
  if (plan.chain > 0) s.max_depth = std::max(s.max_depth, 1 + plan.chain);
}

}  // namespace

std::string FormatGenSummary(const LdifGenSummary& s) {
  std::string out;
  auto line = [&](std::string_view key, int64_t value) {
    absl::StrAppend(&out, Sv(key), ": ", value, "\n");
  };
  line("users", s.users);
  line("groups", s.groups);
  line("fixed_groups", s.fixed_groups);
  line("entries", s.entries);
  line("member_values", s.member_values);
  line("user_members", s.user_members);
  line("group_members", s.group_members);
  line("dangling_members", s.dangling_members);
  line("self_members", s.self_members);
  line("largest_group", s.largest_group);
  line("groups_5000", s.groups_5000);
  line("max_depth", s.max_depth);
  line("cycles", s.cycles);
  line("scope_users", s.scope_users);
  line("outside_users", s.outside_users);
  line("contractors", s.contractors);
  line("disabled", s.disabled);
  line("in_scope", s.in_scope);
  line("organizers", s.organizers);
  line("trainers", s.trainers);
  line("mixed_case_emails", s.mixed_case_emails);
  line("padded_emails", s.padded_emails);
  line("no_email", s.no_email);
  line("foreign_domain", s.foreign_domain);
  line("duplicate_email_users", s.duplicate_email_users);
  line("no_given_name", s.no_given_name);
  line("bad_language", s.bad_language);
  line("utf8_names", s.utf8_names);
  line("invalid_no_email", s.invalid_no_email);
  line("invalid_foreign_domain", s.invalid_foreign_domain);
  line("invalid_duplicate_email", s.invalid_duplicate_email);
  line("invalid_no_given_name", s.invalid_no_given_name);
  line("invalid", s.invalid);
  absl::StrAppend(&out, "domain: ", s.domain, "\n");
  absl::StrAppend(&out, "scope_group: ", s.scope_group_dn, "\n");
  return out;
}

LdifGenerator::LdifGenerator(LdifGenOptions options)
    : options_(std::move(options)), plan_(std::make_unique<Plan>()) {}

LdifGenerator::~LdifGenerator() = default;

absl::StatusOr<std::unique_ptr<LdifGenerator>> LdifGenerator::Create(LdifGenOptions options) {
  USERSYNC_RETURN_IF_ERROR(ValidateOptions(options));
  std::unique_ptr<LdifGenerator> gen(new LdifGenerator(options));
  Plan& plan = *gen->plan_;
  plan.ad = options.flavor == "ad";
  USERSYNC_RETURN_IF_ERROR(PlanBase(options, plan));

  const uint64_t seed = options.seed;
  const int64_t n = options.users;
  const int64_t g_count = options.groups;
  plan.users = n;
  plan.groups = g_count;
  plan.chain = g_count >= kChainMinGroups ? kChainLength : 0;
  plan.tree = g_count - plan.chain;

  LdifGenSummary& s = gen->summary_;
  s.users = n;
  s.groups = g_count;
  s.fixed_groups = kFixedGroups;
  s.entries = 3 + n + g_count + kFixedGroups;
  s.domain = plan.domain;
  s.scope_group_dn = absl::StrCat("cn=goto-users,ou=groups,", plan.base_dn);
  s.organizers_dn = absl::StrCat("cn=organizers,ou=groups,", plan.base_dn);
  s.trainers_dn = absl::StrCat("cn=trainers,ou=groups,", plan.base_dn);

  CountUsers(seed, plan, n, s);
  PlaceBigAndRuleTeams(s, plan);
  PlanUserMembers(seed, GroupsOfUser(options, plan), plan);
  CountGroups(seed, plan, s);
  return gen;
}

DirectorySchema LdifGenerator::DefaultSchema() const {
  DirectorySchema schema;
  if (plan_->ad) {
    schema.flavor = DirectoryFlavor::kAd;
    schema.id = "objectGUID";
    schema.user_name = "userPrincipalName";
    schema.user_filter = "(&(objectClass=user)(objectCategory=person))";
    schema.group_filter = "(objectClass=group)";
  }
  return schema;
}

}  // namespace usersync::io
