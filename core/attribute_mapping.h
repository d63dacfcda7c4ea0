// Attribute mappings ([[mappings]] in the configuration, README "Attribute mappings"): what
// value each mapped target attribute of an account takes, from a directory attribute, a
// constant or an expression, with a default when that yields "".
//
// A mapping's target is either a built-in field (first name, last name, display name, external
// id, language: the mapping replaces the built-in source of that field, and the field's checks
// still apply to the result) or a target attribute path beyond the fixed fields ("title",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"), which AccountSpec and
// Account carry in their `attributes` lists. Which paths a target kind takes is the
// configuration's business (io/config/internal/mappings.h); core compares and carries them.
//
// An empty result means "absent": a mapped attribute whose result is "" and that the account
// lacks is in step; one the account holds is cleared (SCIM PATCH "remove").
//
// Thread-safety: AttributeMapping is immutable once loaded; ResolvedMappings is read-only after
// Resolve and may be shared by threads, but EvaluateInto takes a caller-owned scratch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/accounts.h"
#include "core/directory.h"

namespace usersync::core {

class Expression;

enum class MappingSourceKind : uint8_t { kSource, kConstant, kExpression };

struct AttributeMapping {
  // The target path as the configuration gives it ("title", "name.givenName", "firstName").
  std::string target;
  // The built-in field this mapping replaces, or Field::kAttribute for a path of its own.
  Field field = Field::kAttribute;
  MappingSourceKind kind = MappingSourceKind::kSource;
  std::string source;                            // kSource: the directory attribute
  std::string constant;                          // kConstant
  std::shared_ptr<const Expression> expression;  // kExpression
  std::string default_value;                     // used when the above yields ""

  // How explain names where the value comes from: "attribute departmentNumber", "constant
  // \"Sales\"", "expression Join(\" \", [givenName], [sn])".
  std::string Describe() const;
};

// The mappings of a plan resolved against one directory: each directory attribute they read
// is found among the directory's columns (the fixed ones by their configured source name, then
// the extra ones), case-insensitively as LDAP names compare. An attribute the directory does not
// read (the configuration refuses that) reads as "".
class ResolvedMappings {
 public:
  ResolvedMappings(const Directory& dir, const std::vector<AttributeMapping>& mappings);

  size_t size() const { return mappings_.size(); }
  const AttributeMapping& mapping(size_t idx) const { return *mappings_[idx].mapping; }

  // Per-call scratch: reused across users so that evaluation allocates only when a value
  // outgrows what an earlier one needed.
  struct Scratch {
    std::vector<std::string_view> values;
    std::string out;
  };

  // The value of mapping `idx` for `user`; sets *used_default when the default replaced an
  // empty result. The view points into the directory (a source), the mapping (a constant, a
  // default) or, for an expression's result, scratch->out: that one is overwritten by the next
  // call, so copy it (IsScratch) before. Cost: one column read for a source, the expression's
  // evaluation for an expression; no allocation once scratch has grown.
  std::string_view Evaluate(size_t idx, uint32_t user, Scratch* scratch, bool* used_default) const;
  static bool IsScratch(std::string_view value, const Scratch& scratch) {
    return !value.empty() && value.data() == scratch.out.data();
  }

 private:
  struct Entry {
    const AttributeMapping* mapping;
    std::vector<const std::vector<std::string_view>*> columns;  // nullptr: not read
  };
  std::vector<Entry> mappings_;
};

}  // namespace usersync::core
