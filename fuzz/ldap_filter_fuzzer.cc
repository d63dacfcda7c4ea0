// Fuzz target: the RFC 4515 filter parser (core/ldap_filter.h ParseLdapFilter), its printer
// (FormatLdapFilter) and evaluation (Matches) against a fixed entry.
// Properties: no crash or UB (nesting is bounded, so no stack exhaustion); for every filter
// that parses, parse(print(parse(x))) == parse(x), print is a fixed point, and both trees
// match the same entry.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/ldap_filter.h"
#include "core/str.h"
#include "fuzz/fuzz_check.h"

namespace {

using usersync::core::LdapFilter;

bool SameTree(const LdapFilter& a, const LdapFilter& b) {
  if (a.kind != b.kind || a.attribute != b.attribute || a.options != b.options ||
      a.value != b.value || a.initial != b.initial || a.any != b.any ||
      a.final_part != b.final_part || a.children.size() != b.children.size()) {
    return false;
  }
  for (size_t child_idx = 0; child_idx < a.children.size(); ++child_idx) {
    if (!SameTree(a.children[child_idx], b.children[child_idx])) return false;
  }
  return true;
}

// An inetOrgPerson with a few multi-valued attributes, numbers and an empty value.
class FixedEntry final : public usersync::core::EntryView {
 public:
  std::string_view Dn() const override { return "uid=ann,ou=People,dc=example,dc=com"; }
  std::span<const std::string_view> Values(std::string_view name) const override {
    static constexpr std::string_view kObjectClass[] = {"top", "person", "inetOrgPerson"};
    static constexpr std::string_view kCn[] = {"Ann Lee", " ann*lee ", "A(nn)\\"};
    static constexpr std::string_view kUidNumber[] = {"1001", "-7", "x12"};
    static constexpr std::string_view kMail[] = {"ann.lee@example.com", ""};
    using usersync::core::EqualsIgnoreCase;
    if (EqualsIgnoreCase(name, "objectClass")) return kObjectClass;
    if (EqualsIgnoreCase(name, "cn")) return kCn;
    if (EqualsIgnoreCase(name, "uidNumber")) return kUidNumber;
    if (EqualsIgnoreCase(name, "mail")) return kMail;
    return {};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = usersync::fuzz::AsText(data, size);
  const absl::StatusOr<LdapFilter> parsed = usersync::core::ParseLdapFilter(text);
  if (!parsed.ok()) return 0;
  const FixedEntry entry;
  const bool matches = usersync::core::Matches(*parsed, entry);

  const std::string printed = usersync::core::FormatLdapFilter(*parsed);
  const absl::StatusOr<LdapFilter> reparsed = usersync::core::ParseLdapFilter(printed);
  usersync::fuzz::Check(reparsed.ok(), "print(parse(x)) parses", printed,
                        reparsed.status().ToString());
  usersync::fuzz::Check(SameTree(*parsed, *reparsed), "parse(print(parse(x))) == parse(x)", text,
                        printed);
  const std::string reprinted = usersync::core::FormatLdapFilter(*reparsed);
  usersync::fuzz::Check(reprinted == printed, "print(parse(print(t))) == print(t)", printed,
                        reprinted);
  usersync::fuzz::Check(usersync::core::Matches(*reparsed, entry) == matches,
                        "the reparsed filter matches as the parsed one", text, printed);
  return 0;
}
