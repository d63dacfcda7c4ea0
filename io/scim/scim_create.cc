// ScimTarget's creates: one POST /Users each, or /Bulk batches when the server offers them
// (scim_target.h). The batch answer, the retries and the look-up before a resend are
// HttpTarget's; this file says how SCIM sends.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "io/http/http_util.h"
#include "io/scim/scim_target.h"

namespace usersync::io {
namespace {

// /Bulk creates per request when `batch` is not set: the server's maxOperations up to this
// (a request and its answer stay a few MB), or this when the server states none.
constexpr int64_t kMaxBulkBatch = 1000;
constexpr int64_t kUnstatedBulkBatch = 100;

}  // namespace

void ScimTarget::PostUser(StatePtr state) {
  ++state->sends;
  pipeline().Submit(Request("POST", "/Users", EncodeUser(state->op->spec), /*idempotent=*/false),
                    [this, state](HttpResponse response) {
                      state->Count(response);
                      if (response.status.ok()) {
                        absl::Status answer = Enrich(response);  // a SCIM Error in a 201
                        if (!answer.ok()) {
                          Finish(state, WithPrefix(answer, "POST /Users"));
                          return;
                        }
                        core::Accounts created;
                        std::string id;
                        // RFC 7644 3.3: the body SHOULD be the created User; Location MUST
                        // name it. An empty body is allowed; a broken one is not trusted.
                        const absl::Status decoded = response.body.empty()
                                                         ? absl::OkStatus()
                                                         : DecodeUser(response.body, &created);
                        if (decoded.ok() && !created.items.empty()) {
                          id = std::string(created.items[0].id);
                        } else if (!response.location.empty()) {
                          id = IdFromLocation(response.location);
                        }
                        if (!decoded.ok()) {
                          // Created all the same: linked by the id Location names (or found by
                          // the next run's look-up) and completed by the next run's plan.
                          state->outcome.account_id = std::move(id);
                          Finish(state, absl::DataLossError(absl::StrCat(
                                            "POST /Users: the answer is not a readable User (",
                                            decoded.message(), ")")));
                          return;
                        }
                        if (id.empty()) {
                          Finish(state, absl::DataLossError("POST /Users: the answer names no id"));
                          return;
                        }
                        state->outcome.account_id = std::move(id);
                        UserGroupStep(state);
                        return;
                      }
                      if (response.http_status == 409) {
                        LookUpCreated(state, "", /*after_unknown_outcome=*/false, Enrich(response));
                      } else if (response.ambiguous) {
                        LookUpCreated(state, "", /*after_unknown_outcome=*/true, Enrich(response));
                      } else {
                        Finish(state, Enrich(response));
                      }
                    });
}

void ScimTarget::OnCreated(HttpOpPtr state) {
  UserGroupStep(std::static_pointer_cast<OpState>(std::move(state)));
}

void ScimTarget::Resend(HttpOpPtr state, absl::Status why) {
  if (state->sends < kMaxCreateSends) {
    PostUser(std::static_pointer_cast<OpState>(std::move(state)));
    return;
  }
  Finish(std::move(state), std::move(why));
}

// --- /Bulk creates ---------------------------------------------------------------------------

BatchQueue<HttpOpPtr>* ScimTarget::BulkQueue() {
  if (options_.batch == 1) return nullptr;
  int64_t size = options_.batch;
  {
    absl::MutexLock lock(&mu_);
    if (!config_.has_value() || !config_->bulk || bulk_refused_) return nullptr;
    const int64_t server_max = config_->bulk_max_operations;
    if (size <= 0) size = server_max > 0 ? std::min(server_max, kMaxBulkBatch) : kUnstatedBulkBatch;
    if (server_max > 0) size = std::min(size, server_max);
  }
  if (size <= 1) return nullptr;
  return MakeQueue(static_cast<size_t>(size));
}

void ScimTarget::SendBatch(std::vector<HttpOpPtr> members) {
  CountBatch(members.size());
  SendBulkPart(std::move(members), std::make_shared<std::atomic<int>>(1));
}

void ScimTarget::SendBulkPart(std::vector<HttpOpPtr> members,
                              std::shared_ptr<std::atomic<int>> parts_left) {
  bool refused = false;
  int64_t max_payload = 0;
  {
    absl::MutexLock lock(&mu_);
    refused = bulk_refused_;
    if (config_.has_value()) max_payload = config_->bulk_max_payload_bytes;
  }
  auto part_done = [this, parts_left] {
    if (parts_left->fetch_sub(1) == 1) queue()->BatchDone();
  };
  if (refused) {  // learnt since these were queued: one POST /Users each
    for (HttpOpPtr& member : members) PostUser(std::static_pointer_cast<OpState>(member));
    part_done();
    return;
  }
  std::vector<const core::AccountSpec*> specs;
  specs.reserve(members.size());
  for (const HttpOpPtr& member : members) specs.push_back(&member->op->spec);
  std::string body = EncodeBulkCreate(specs);
  if (max_payload > 0 && static_cast<int64_t>(body.size()) > max_payload && members.size() > 1) {
    // Over the server's bulk.maxPayloadSize: two halves, each its own request.
    const size_t half = members.size() / 2;
    std::vector<HttpOpPtr> second(members.begin() + static_cast<ptrdiff_t>(half), members.end());
    members.resize(half);
    parts_left->fetch_add(1);
    SendBulkPart(std::move(members), parts_left);
    SendBulkPart(std::move(second), parts_left);
    return;
  }
  for (const HttpOpPtr& member : members) ++member->sends;
  pipeline().Submit(Request("POST", "/Bulk", std::move(body), /*idempotent=*/false),
                    [this, members = std::move(members), part_done](HttpResponse response) {
                      OnBatchAnswer(members, response);
                      part_done();  // after the retried members were re-queued
                    });
}

bool ScimTarget::OnBatchRefused(const std::vector<HttpOpPtr>& members,
                                const HttpResponse& response) {
  const int code = response.http_status;
  if (code == 404 || code == 405 || code == 501) {
    absl::MutexLock lock(&mu_);
    bulk_refused_ = true;  // ServiceProviderConfig said yes, the server says no
  }
  if (code != 404 && code != 405 && code != 501 && code != 400 && code != 413) return false;
  // The bulk as such was refused, nothing was created: one POST /Users each.
  for (const HttpOpPtr& member : members) {
    --member->sends;
    PostUser(std::static_pointer_cast<OpState>(member));
  }
  return true;
}

}  // namespace usersync::io
