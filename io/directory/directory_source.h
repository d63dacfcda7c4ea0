// The directory-source seam: what a directory source is (DirectorySource), and the schema
// that says which entries are users and groups and which attribute feeds which field
// (DirectorySchema, DESIGN.md [source.attributes]). The LDIF reader (io/ldif) and the LDAP
// source (io/ldap) implement it; neither sees the other, the configuration or the run.
//
// Attribute names compare ASCII case-insensitively. Thread-safety: a source's Read() is called
// from one thread at a time; it may use threads of its own inside. A DirectorySchema is a plain
// value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory.h"
#include "core/directory_changes.h"

namespace usersync::io {

// Which kind of server the directory comes from (`source.flavor`, parsed once by the config).
// kAd changes the defaults of the schema (see io/config/config.h) and how entries are mapped
// (io/directory/entry_mapper.h: objectGUID, userAccountControl, objectCategory).
enum class DirectoryFlavor : uint8_t { kOpenLdap, kAd };

struct DirectorySchema {
  DirectoryFlavor flavor = DirectoryFlavor::kOpenLdap;
  std::string user_filter = "(objectClass=inetOrgPerson)";
  std::string group_filter = "(objectClass=groupOfNames)";
  std::string id = "entryUUID";   // AD: objectGUID (binary; rendered in canonical string form)
  std::string user_name = "uid";  // AD: userPrincipalName
  std::string email = "mail";
  std::string first_name = "givenName";
  std::string last_name = "sn";
  std::string display_name = "cn";
  std::string language = "preferredLanguage";
  std::string member = "member";
  std::string group_name = "cn";
  std::vector<std::string> extra;
};

// What a delta read gives (DirectorySource::ReadDelta).
struct DirectoryDelta {
  core::DirectoryChanges changes;
  std::string cursor;        // where the next delta read starts
  int64_t entries_read = 0;  // directory objects the source answered with
  std::string feed;          // how it was read, for the run report ("RFC 4533 content sync")
};

class DirectorySource {
 public:
  virtual ~DirectorySource() = default;
  // Reads the whole directory. Errors: kNotFound / kInvalidArgument (bad file or data, with
  // file and line), kUnavailable (server unreachable), kUnauthenticated (bind refused).
  virtual absl::StatusOr<core::Directory> Read() = 0;

  // Delta reads (io/commands/delta_cycle.h), for sources that can read only what changed
  // (Graph delta queries). The default: none (kUnimplemented); the run then compares a full
  // read with its snapshot.
  virtual bool SupportsDelta() const { return false; }
  // The cursor of "now". Called before Read(), so a change made during the read is read again
  // by the next delta (applying it twice is harmless), never missed.
  virtual absl::StatusOr<std::string> StartCursor() {
    return absl::UnimplementedError("this source reads no deltas");
  }
  // The changes since `cursor`, and the next cursor. `previous` is the directory the cursor
  // belongs to (what the source re-reads whole each time is compared with it). Errors:
  // kOutOfRange when the cursor expired or was refused (the caller reads in full), else as
  // Read().
  virtual absl::StatusOr<DirectoryDelta> ReadDelta(std::string_view cursor,
                                                   const core::Directory& previous) {
    (void)cursor;
    (void)previous;
    return absl::UnimplementedError("this source reads no deltas");
  }
};

}  // namespace usersync::io
