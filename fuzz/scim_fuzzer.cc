// Fuzz target: the SCIM response decoders (io/scim/scim_decode.cc, io/scim/scim_codec.h), each
// run on the same body: a ListResponse page of users, one User, /ServiceProviderConfig, a
// ListResponse of Groups, one Group, a BulkResponse and an Error. One body for all, so that a
// seed of any kind reaches every decoder.
// Properties: no crash or UB; every decoded view is readable; ErrorDetail stays within its
// documented 200 bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/accounts.h"
#include "fuzz/fuzz_accounts.h"
#include "fuzz/fuzz_check.h"
#include "io/scim/scim_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(usersync::fuzz::AsText(data, size));
  volatile size_t sink = 0;
  {
    usersync::core::Accounts page;
    int64_t total_results = -1;
    (void)usersync::io::DecodeListResponse(body, &page, &total_results);
    sink = sink + usersync::fuzz::TouchAccounts(page);
  }
  {
    usersync::core::Accounts user;
    (void)usersync::io::DecodeUser(body, &user);
    sink = sink + usersync::fuzz::TouchAccounts(user);
  }
  (void)usersync::io::DecodeServiceProviderConfig(body);
  {
    std::vector<usersync::io::ScimGroup> groups;
    int64_t total_results = -1;
    (void)usersync::io::DecodeGroupList(body, &groups, &total_results);
  }
  (void)usersync::io::DecodeGroup(body);
  (void)usersync::io::DecodeBulkResponse(body);
  const std::string detail = usersync::io::ErrorDetail(body);
  usersync::fuzz::Check(detail.size() <= 200, "ErrorDetail is at most 200 bytes", detail);
  return 0;
}
