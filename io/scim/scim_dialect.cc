#include "io/scim/scim_dialect.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "core/retry.h"
#include "io/http/http_util.h"
#include "io/scim/scim_codec.h"

namespace usersync::io {
namespace {

// What the answer for bulkId `member_idx` means.
MemberVerdict Verdict(const ScimBulkResult& result, size_t member_idx) {
  MemberVerdict verdict;
  const int code = result.status;
  const std::string context = absl::StrCat("POST /Bulk (POST /Users, bulkId ", member_idx,
                                           "): HTTP ", code, result.detail.empty() ? "" : " (",
                                           result.detail, result.detail.empty() ? "" : ")");
  if (code == 200 || code == 201) {
    verdict.http_status = code;
    if (result.id.empty()) {
      verdict.status = absl::DataLossError(absl::StrCat(context, ": the answer names no id"));
      return verdict;  // kLookUp
    }
    verdict.kind = MemberVerdict::Kind::kCreated;
    verdict.account_id = result.id;
  } else if (code == 409) {
    verdict.http_status = code;
    verdict.kind = MemberVerdict::Kind::kConflict;
    verdict.status = core::StatusFromHttp(code, context);
  } else if (code == 408 || code == 429 || code == 503) {
    // Refused before anything was done: send it again in a later bulk.
    verdict.kind = MemberVerdict::Kind::kRetry;
    verdict.status = core::StatusFromHttp(code, context);
  } else if (code == 0 || code == 500 || code == 502 || code == 504) {
    verdict.status = code == 0 ? absl::UnknownError(context) : core::StatusFromHttp(code, context);
  } else {
    verdict.http_status = code;
    verdict.kind = MemberVerdict::Kind::kFailed;
    verdict.status = core::StatusFromHttp(code, context);
  }
  return verdict;
}

}  // namespace

ScimDialect::ScimDialect(std::string_view base)
    : HttpDialect(DialectTraits{
          /*name=*/"SCIM", /*permission_hint=*/"the token needs user provisioning rights",
          /*content_type=*/"application/scim+json", /*page_base=*/1, /*position_name=*/"startIndex",
          /*total_name=*/"totalResults", /*resend_noun=*/"sends", /*lookup_name=*/"userName"}),
      base_(base) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

std::string ScimDialect::ErrorDetail(const std::string& body) const {
  return io::ErrorDetail(body);
}

absl::Status ScimDialect::ErrorInSuccess(const HttpResponse& response) const {
  std::optional<std::string> error = ScimErrorIn(response.body);
  if (!error) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("HTTP ", response.http_status, " carrying a SCIM Error (", *error, ")"));
}

absl::Status ScimDialect::DecodeListPage(const std::string& body, core::Accounts* out,
                                         int64_t* total) const {
  return DecodeListResponse(body, out, total);
}

absl::StatusOr<std::vector<MemberVerdict>> ScimDialect::MemberVerdicts(
    const std::vector<HttpOpPtr>& members, const std::string& body) const {
  absl::StatusOr<std::vector<ScimBulkResult>> results = DecodeBulkResponse(body);
  if (!results.ok()) return results.status();
  // bulkId is the member's index in this request; answers without one go by position.
  std::vector<const ScimBulkResult*> by_member(members.size(), nullptr);
  for (size_t result_idx = 0; result_idx < results->size(); ++result_idx) {
    const ScimBulkResult& result = (*results)[result_idx];
    size_t member_idx = 0;
    if (absl::SimpleAtoi(result.bulk_id, &member_idx)) {
      if (member_idx < members.size()) by_member[member_idx] = &result;
    } else if (result.bulk_id.empty() && result_idx < members.size() &&
               by_member[result_idx] == nullptr) {
      by_member[result_idx] = &result;
    }
  }
  std::vector<MemberVerdict> verdicts;
  verdicts.reserve(members.size());
  for (size_t member_idx = 0; member_idx < members.size(); ++member_idx) {
    if (by_member[member_idx] == nullptr) {
      MemberVerdict missing;  // kLookUp
      missing.status =
          absl::UnknownError(absl::StrCat("POST /Bulk: no answer for bulkId ", member_idx));
      verdicts.push_back(std::move(missing));
      continue;
    }
    verdicts.push_back(Verdict(*by_member[member_idx], member_idx));
  }
  return verdicts;
}

std::string ScimDialect::LookUpPath(std::string_view value, std::string_view holder_key) const {
  if (!holder_key.empty()) return absl::StrCat("/Users/", UrlEncode(holder_key));
  return absl::StrCat("/Users?filter=", UrlEncode(FilterEq("userName", value)));
}

absl::Status ScimDialect::DecodeLookUp(const std::string& body, bool by_key,
                                       core::Accounts* out) const {
  if (by_key) return DecodeUser(body, out);
  int64_t total = 0;
  return DecodeListResponse(body, out, &total);
}

absl::Status ScimDialect::ForeignHolder(const core::AccountSpec& spec,
                                        const core::Account& holder) const {
  return absl::AlreadyExistsError(
      absl::StrCat("userName ", Sv(spec.user_name), " already exists at the target as account ",
                   Sv(holder.id), " with externalId \"", Sv(holder.external_id),
                   "\", which usersync did not create for directory id ", Sv(spec.external_id),
                   "; match it (usersync match) or remove it"));
}

}  // namespace usersync::io
