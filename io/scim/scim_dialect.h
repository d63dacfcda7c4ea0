// ScimDialect: SCIM 2.0 (RFC 7643/7644) as an HttpDialect (DESIGN.md "Target kinds"): URLs under
// the base, 1-based `startIndex` paging with `count`, /Bulk answers read by bulkId, look-ups by
// `userName eq "..."`, and SCIM Error bodies (scimType, detail). The SCIM driver
// (scim_target.h) runs it on the shared HttpTarget skeleton.
//
// Thread-safety: immutable after construction; every method is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/http/http_target.h"

namespace usersync::io {

class ScimDialect final : public HttpDialect {
 public:
  // `base`: e.g. http://127.0.0.1:8080/scim/v2 (a trailing '/' is ignored).
  explicit ScimDialect(std::string_view base);

  std::string_view base() const override { return base_; }
  std::string ErrorDetail(const std::string& body) const override;

  std::string Url(std::string_view path_and_query) const override {
    return absl::StrCat(base_, Sv(path_and_query));
  }

  std::string ListPath(int64_t position, int64_t count) const override {
    return absl::StrCat("/Users?startIndex=", position, "&count=", count);
  }
  std::string ListLabel() const override { return absl::StrCat("GET ", base_, "/Users"); }
  absl::Status DecodeListPage(const std::string& body, core::Accounts* out,
                              int64_t* total) const override;

  absl::Status ErrorInSuccess(const HttpResponse& response) const override;

  std::string BatchLabel() const override { return "POST /Bulk"; }
  bool HasMemberResults(const HttpResponse& response) const override {
    return response.status.ok();
  }
  absl::StatusOr<std::vector<MemberVerdict>> MemberVerdicts(const std::vector<HttpOpPtr>& members,
                                                            const std::string& body) const override;

  std::string_view LookUpValue(const core::AccountSpec& spec) const override {
    return spec.user_name;
  }
  std::string_view AccountValue(const core::Account& account) const override {
    return account.user_name;
  }
  std::string LookUpPath(std::string_view value, std::string_view holder_key) const override;
  absl::Status DecodeLookUp(const std::string& body, bool by_key,
                            core::Accounts* out) const override;
  std::string LookUpContext(std::string_view, bool decoding) const override {
    return decoding ? "GET /Users?filter=userName" : "looking up userName";
  }
  absl::Status ForeignHolder(const core::AccountSpec& spec,
                             const core::Account& holder) const override;

 private:
  std::string base_;
};

}  // namespace usersync::io
