// Fuzz target: DN normalization (core/normalize.h NormalizeDn, NormalizeDnInto) and the DN
// look-ups of core::Directory that rest on it.
// Properties: normalizing twice equals normalizing once; NormalizeDnInto into a reused string
// equals NormalizeDn; a group added under a DN is found by that DN and by its normalized form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/directory.h"
#include "core/normalize.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dn(usersync::fuzz::AsText(data, size));
  const std::string once = usersync::core::NormalizeDn(dn);
  const std::string twice = usersync::core::NormalizeDn(once);
  usersync::fuzz::Check(once == twice, "NormalizeDn(NormalizeDn(dn)) == NormalizeDn(dn)", once,
                        twice);

  // A reused string holding a longer, unrelated DN, as the directory's scratch key does.
  static std::string scratch;
  scratch.assign("cn=previous value,ou=a much longer organizational unit,dc=example,dc=com");
  usersync::core::NormalizeDnInto(dn, &scratch);
  usersync::fuzz::Check(scratch == once, "NormalizeDnInto == NormalizeDn", scratch, once);

  usersync::core::DirectoryBuilder builder;
  if (!builder.AddGroup(dn, "fuzz")) return 0;
  const usersync::core::Directory directory = std::move(builder).Finish();
  usersync::fuzz::Check(directory.FindGroupByDn(dn).has_value(), "a group is found by its DN", dn);
  usersync::fuzz::Check(directory.FindGroupByDn(once).has_value(),
                        "a group is found by its normalized DN", once);
  return 0;
}
