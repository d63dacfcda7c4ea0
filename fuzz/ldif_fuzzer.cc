// Fuzz target: the LDIF reader (io/ldif) over a byte buffer read as a file, each record mapped
// into a core::Directory by both flavors' EntryMapper, then the nested-group closure.
// Properties: no crash or UB; every view the reader hands out lies inside live memory (ASan
// sees each byte touched); once Next() fails, it keeps failing with the same error.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory.h"
#include "core/group_closure.h"
#include "fuzz/fuzz_check.h"
#include "io/directory/entry_mapper.h"
#include "io/ldif/ldif_reader.h"

namespace {

using usersync::io::EntryMapper;

EntryMapper& Mapper(usersync::io::DirectoryFlavor flavor) {
  auto make = [](usersync::io::DirectoryFlavor f) {
    usersync::io::DirectorySchema schema;
    schema.flavor = f;
    if (f == usersync::io::DirectoryFlavor::kAd) {
      schema.user_filter = "(&(objectCategory=person)(objectClass=user))";
      schema.group_filter = "(objectClass=group)";
      schema.id = "objectGUID";
      schema.user_name = "userPrincipalName";
    }
    schema.extra = {"department", "title"};
    return new EntryMapper(*EntryMapper::Create(schema));
  };
  static EntryMapper* const open_ldap = make(usersync::io::DirectoryFlavor::kOpenLdap);
  static EntryMapper* const ad = make(usersync::io::DirectoryFlavor::kAd);
  return flavor == usersync::io::DirectoryFlavor::kAd ? *ad : *open_ldap;
}

size_t TouchEntry(const usersync::io::LdifEntry& entry) {
  size_t sum = usersync::fuzz::TouchText(entry.Dn()) + static_cast<size_t>(entry.line());
  for (size_t attr_idx = 0; attr_idx < entry.attribute_count(); ++attr_idx) {
    const std::string_view name = entry.attribute_name(attr_idx);
    sum += usersync::fuzz::TouchText(name) + static_cast<size_t>(entry.LineOf(name));
    for (std::string_view value : entry.attribute_values(attr_idx))
      sum += usersync::fuzz::TouchText(value);
    sum += entry.Values(name).size();
  }
  return sum;
}

void Closure(const usersync::core::Directory& directory) {
  std::vector<uint32_t> roots(directory.group_count());
  std::iota(roots.begin(), roots.end(), uint32_t{0});
  (void)usersync::core::GroupClosure(directory, roots);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<usersync::io::LdifReader> reader = usersync::io::LdifReader::FromString(
      "fuzz.ldif", std::string(usersync::fuzz::AsText(data, size)));
  EntryMapper& open_ldap = Mapper(usersync::io::DirectoryFlavor::kOpenLdap);
  EntryMapper& ad = Mapper(usersync::io::DirectoryFlavor::kAd);
  usersync::core::DirectoryBuilder open_ldap_builder(open_ldap.extra_names());
  usersync::core::DirectoryBuilder ad_builder(ad.extra_names());
  volatile size_t sink = 0;
  while (true) {
    const absl::StatusOr<bool> more = reader->Next();
    if (!more.ok()) {
      const absl::StatusOr<bool> again = reader->Next();
      usersync::fuzz::Check(!again.ok() && again.status() == more.status(),
                            "Next() after an error returns the same error",
                            more.status().ToString(), again.status().ToString());
      break;
    }
    if (!*more) break;
    sink = sink + TouchEntry(reader->entry());
    (void)open_ldap.Add(reader->entry(), open_ldap_builder);
    (void)ad.Add(reader->entry(), ad_builder);
  }
  Closure(std::move(open_ldap_builder).Finish());
  Closure(std::move(ad_builder).Finish());
  return 0;
}
