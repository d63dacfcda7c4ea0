// ReadLdifDirectory and the LDIF source (declared in io/ldif/ldif_reader.h): LdifReader's
// records mapped by io::EntryMapper into a core::Directory.
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "io/directory/entry_mapper.h"
#include "io/ldif/ldif_reader.h"

namespace usersync::io {

absl::StatusOr<core::Directory> ReadLdifDirectory(const std::string& path,
                                                  const DirectorySchema& schema,
                                                  LdifReadStats* stats) {
  LdifReadStats local_stats;
  LdifReadStats& counts = stats != nullptr ? *stats : local_stats;
  counts = LdifReadStats{};
  USERSYNC_ASSIGN_OR_RETURN(EntryMapper mapper, EntryMapper::Create(schema));
  USERSYNC_ASSIGN_OR_RETURN(std::unique_ptr<LdifReader> reader, LdifReader::Open(path));
  core::DirectoryBuilder builder = mapper.NewBuilder();
  while (true) {
    USERSYNC_ASSIGN_OR_RETURN(bool more, reader->Next());
    if (!more) break;
    const LdifEntry& entry = reader->entry();
    ++counts.records;
    std::string_view failed_attribute;
    absl::StatusOr<EntryMapper::Kind> kind = mapper.Add(entry, builder, &failed_attribute);
    if (!kind.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", entry.LineOf(failed_attribute), ": ", kind.status().message()));
    }
    switch (*kind) {
      case EntryMapper::Kind::kUser:
        ++counts.users;
        break;
      case EntryMapper::Kind::kGroup:
        ++counts.groups;
        counts.member_values += static_cast<int64_t>(entry.Values(schema.member).size());
        break;
      case EntryMapper::Kind::kIgnored:
        ++counts.ignored;
        break;
    }
  }
  return std::move(builder).Finish();
}

namespace {

class LdifSource final : public DirectorySource {
 public:
  LdifSource(std::string path, DirectorySchema schema)
      : path_(std::move(path)), schema_(std::move(schema)) {}

  absl::StatusOr<core::Directory> Read() override { return ReadLdifDirectory(path_, schema_); }

 private:
  std::string path_;
  DirectorySchema schema_;
};

}  // namespace

std::unique_ptr<DirectorySource> MakeLdifSource(std::string path, DirectorySchema schema) {
  return std::make_unique<LdifSource>(std::move(path), std::move(schema));
}

}  // namespace usersync::io
