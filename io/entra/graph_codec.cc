#include "io/entra/graph_codec.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/http/json_util.h"

namespace usersync::io {
namespace {

namespace od = simdjson::ondemand;
using json::Path;

absl::Status DecodeObject(od::value& v, const Path& where, GraphObject* object);

// One scalar as text (see GraphObject); false when the value is an array or an object.
simdjson::error_code ScalarText(od::value& v, std::string* out, bool* kept) {
  od::json_type type;
  if (auto error = v.type().get(type)) return error;
  *kept = true;
  switch (type) {
    case od::json_type::string: {
      std::string_view s;
      if (auto error = v.get_string().get(s)) return error;
      *out = std::string(s);
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto error = v.get_bool().get(b)) return error;
      *out = b ? "true" : "false";
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      std::string_view raw;
      raw = v.raw_json_token();
      *out = std::string(raw);
      while (!out->empty() && out->back() == ' ') out->pop_back();
      return simdjson::SUCCESS;
    }
    case od::json_type::null:
      out->clear();
      return simdjson::SUCCESS;
    default:
      *kept = false;
      return simdjson::SUCCESS;
  }
}

// "@removed": {"reason": "..."}.
absl::Status DecodeRemoved(od::value& v, const Path& where, GraphObject* object) {
  object->removed = true;
  return json::ForEachField(v, where.In("@removed"),
                            [&](std::string_view key, od::value& fv) -> absl::Status {
                              if (key != "reason") return absl::OkStatus();
                              std::string_view reason;
                              if (auto error = json::GetString(fv, &reason)) {
                                return json::Fail(where, "@removed.reason", error);
                              }
                              object->removed_reason = std::string(reason);
                              return absl::OkStatus();
                            });
}

// "members@delta": [{"@odata.type", "id", "@removed"?}].
absl::Status DecodeMembersDelta(od::value& v, const Path& where, GraphObject* object) {
  object->has_members_delta = true;
  return json::ForEachElement(v, where.In("members@delta"), [&](const Path& at, od::value& e) {
    GraphObject member;
    USERSYNC_RETURN_IF_ERROR(DecodeObject(e, at, &member));
    object->members_delta.push_back(
        {std::string(member.Get("id")), std::string(member.Get("@odata.type")), member.removed});
    return absl::OkStatus();
  });
}

absl::Status DecodeObject(od::value& v, const Path& where, GraphObject* object) {
  return json::ForEachField(v, where, [&](std::string_view key, od::value& fv) -> absl::Status {
    if (key == "@removed") return DecodeRemoved(fv, where, object);
    if (key == "members@delta") return DecodeMembersDelta(fv, where, object);
    std::string text;
    bool kept = false;
    if (auto error = ScalarText(fv, &text, &kept)) return json::Fail(where, key, error);
    if (kept) object->properties.emplace_back(std::string(key), std::move(text));
    return absl::OkStatus();
  });
}

// The code of a Graph error answer ({"error":{"code":"..."}}), read leniently.
std::string GraphErrorCode(od::value& v) {
  od::object error_object;
  if (v.get_object().get(error_object)) return "?";
  std::string_view code;
  if (error_object.find_field_unordered("code").get_string().get(code)) return "?";
  return std::string(code);
}

}  // namespace

std::string_view GraphObject::Get(std::string_view name) const {
  for (const auto& [key, value] : properties) {
    if (core::EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

bool GraphObject::Has(std::string_view name) const {
  for (const auto& [key, value] : properties) {
    if (core::EqualsIgnoreCase(key, name)) return true;
  }
  return false;
}

absl::StatusOr<GraphPage> DecodeGraphPage(const std::string& body, std::string_view what) {
  const Path root = Path::Root(what);
  simdjson::padded_string copy;
  od::document doc;
  if (auto error = json::ThreadParser().iterate(json::Padded(body, &copy)).get(doc)) {
    return json::Fail(what, "document", error);
  }
  od::object top;
  if (auto error = doc.get_object().get(top)) return json::Fail(what, "document", error);
  GraphPage page;
  bool has_value = false;
  for (auto field_result : top) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return json::Fail(what, "document", error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return json::Fail(what, "document", error);
    if (key == "value") {
      has_value = true;
      absl::Status status = json::ForEachElement(
          field.value(), root.List("value"), [&](const Path& at, od::value& element) {
            if (page.objects.size() >= kMaxGraphPageObjects) {
              return json::Fail(
                  at, "", absl::StrCat("more than ", kMaxGraphPageObjects, " objects in one page"));
            }
            page.objects.emplace_back();
            return DecodeObject(element, at, &page.objects.back());
          });
      if (!status.ok()) return status;
    } else if (key == "@odata.nextLink") {
      std::string_view link;
      if (auto error = json::GetString(field.value(), &link)) {
        return json::Fail(what, "@odata.nextLink", error);
      }
      page.next_link = std::string(link);
    } else if (key == "@odata.deltaLink") {
      std::string_view link;
      if (auto error = json::GetString(field.value(), &link)) {
        return json::Fail(what, "@odata.deltaLink", error);
      }
      page.delta_link = std::string(link);
    } else if (key == "error") {
      od::value error_value = field.value();
      return json::Fail(
          what, "document",
          absl::StrCat("a Graph error (", GraphErrorCode(error_value), "), not a collection"));
    }
  }
  if (!has_value) return json::Fail(what, "document", "not a collection (no \"value\")");
  return page;
}

GraphObjectKind KindOfODataType(std::string_view odata_type) {
  if (core::EqualsIgnoreCase(odata_type, "#microsoft.graph.user")) return GraphObjectKind::kUser;
  if (core::EqualsIgnoreCase(odata_type, "#microsoft.graph.group")) return GraphObjectKind::kGroup;
  return GraphObjectKind::kOther;
}

GraphObjectKind KindOfPrincipalType(std::string_view principal_type) {
  if (core::EqualsIgnoreCase(principal_type, "User")) return GraphObjectKind::kUser;
  if (core::EqualsIgnoreCase(principal_type, "Group")) return GraphObjectKind::kGroup;
  return GraphObjectKind::kOther;
}

}  // namespace usersync::io
