// The LDIF source: a streaming RFC 2849 reader (LdifReader, io/ldif/ldif_reader.cc), and the
// function that reads a whole LDIF file into a Directory with io::EntryMapper
// (ReadLdifDirectory, behind MakeLdifSource; io/ldif/ldif_directory.cc).
//
// LdifReader reads the file in large chunks and hands out one record at a time; the record's
// views point into the reader's chunk buffer or into a scratch buffer that is reused from
// record to record, so reading costs no heap allocation per attribute once warm. Supported:
// "version: 1", comments (folded ones too), folded lines, "attr: value", "attr:: base64",
// "dn::", attribute options (looked up by their base name), CRLF line ends, multi-valued
// attributes, and "changetype: add" records (read as content). Not supported, reported as
// errors naming the line: "attr:< URL" values and every other changetype.
//
// Thread-safety: an LdifReader and an LdifEntry are each used by one thread at a time
// (thread-compatible). Ownership: the reader owns its file descriptor and buffers; an
// LdifEntry belongs to its reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/directory.h"
#include "core/ldap_filter.h"
#include "io/directory/directory_source.h"

namespace usersync::io {

// One LDIF record: a DN and its attributes, each with its values in file order. Attribute
// names are kept without options ("cn;lang-en" is stored under "cn") and looked up
// ASCII case-insensitively.
class LdifEntry final : public core::EntryView {
 public:
  LdifEntry() = default;
  LdifEntry(const LdifEntry&) = delete;
  LdifEntry& operator=(const LdifEntry&) = delete;

  std::string_view Dn() const override { return dn_; }
  // Cost: a scan over the record's attributes (a dozen in a typical entry); no allocation.
  std::span<const std::string_view> Values(std::string_view name) const override;

  // The 1-based line of the record's "dn:" line.
  int64_t line() const { return line_; }
  // The line of the first value of attribute `name`, or line() when the record has none.
  int64_t LineOf(std::string_view name) const;

  // The attributes in order of first appearance.
  size_t attribute_count() const { return attr_count_; }
  std::string_view attribute_name(size_t attr_idx) const { return attrs_[attr_idx].name; }
  std::span<const std::string_view> attribute_values(size_t attr_idx) const {
    return attrs_[attr_idx].values;
  }

 private:
  friend class LdifReader;
  struct Attr {
    std::string_view name;
    std::vector<std::string_view> values;  // capacity reused across records
    int64_t line = 0;
  };
  void Clear() {
    dn_ = {};
    line_ = 0;
    attr_count_ = 0;
  }
  void AddValue(std::string_view name, std::string_view value, int64_t line);
  const Attr* Find(std::string_view name) const;

  std::string_view dn_;
  int64_t line_ = 0;
  std::vector<Attr> attrs_;  // the first attr_count_ are this record's; the rest are spares
  size_t attr_count_ = 0;
};

// Streaming RFC 2849 reader over a file (or a string, for tests).
//
// Error messages read "NAME:LINE: reason" with NAME the path as given and LINE the 1-based line
// of the offending (first physical) line, e.g.
//   demo.ldif:17: attribute line without ':'
//   x.ldif:3: invalid base64 in value of 'cn'
//   x.ldif:1: record does not start with dn:
//   x.ldif:9: folded line continues nothing
// No input makes the reader crash or read out of bounds; the buffer grows to the longest record.
class LdifReader {
 public:
  // Opens `path`. Errors: kNotFound (no such file), kPermissionDenied, kInvalidArgument (a
  // directory or another unreadable kind of file), each naming the path.
  static absl::StatusOr<std::unique_ptr<LdifReader>> Open(std::string path);
  // Reads `contents` as if it were the file `name` (tests, in-memory exports).
  static std::unique_ptr<LdifReader> FromString(std::string name, std::string contents);

  ~LdifReader();
  LdifReader(const LdifReader&) = delete;
  LdifReader& operator=(const LdifReader&) = delete;

  // Advances to the next record: true when entry() now holds it, false at the end of the input.
  // Errors: kInvalidArgument (malformed LDIF, "NAME:LINE: reason"), kUnavailable (a read
  // failed). After an error every further call returns the same error.
  // Invalidates every view of the previous entry.
  absl::StatusOr<bool> Next();

  // The current record. REQUIRES: the last Next() returned true.
  const LdifEntry& entry() const { return entry_; }
  const std::string& name() const { return name_; }

 private:
  enum class Step : uint8_t { kRecord, kEnd, kNeedMore, kError };
  enum class LineKind : uint8_t { kLine, kBlank, kEof, kNeedMore, kError };
  struct LogicalLine {
    std::string_view text;
    int64_t line = 0;
  };

  // Reuse-in-place scratch storage for unfolded lines and decoded base64. Blocks stay
  // allocated between records; Reset() makes them all free again.
  class Scratch {
   public:
    void Reset() {
      block_idx_ = 0;
      used_ = 0;
    }
    char* Allocate(size_t n);

   private:
    struct Block {
      std::unique_ptr<char[]> data;
      size_t size = 0;
    };
    std::vector<Block> blocks_;
    size_t block_idx_ = 0;
    size_t used_ = 0;
  };

  LdifReader(std::string name, int fd);

  // What a line outside a record was: the version line, or the dn: that opens a record.
  enum class Opening : uint8_t { kVersion, kDn, kError };

  Step ParseRecord();
  // A line before a record: "version: 1" (only before everything else) or the record's dn:.
  // kError: error_ is set.
  Opening OpenRecord(const LogicalLine& logical, std::string_view name, std::string_view value);
  // A line inside a record: control: and changetype: right after dn: (`in_header`), else an
  // attribute value. False (and error_ set) on a line that does not belong there.
  bool AddRecordLine(const LogicalLine& logical, std::string_view name, std::string_view value,
                     bool& in_header);
  LineKind ReadLogicalLine(size_t& pos, int64_t& line, LogicalLine& out);
  // Splits "name: value" / "name:: base64"; false (and error_ set) on malformed input.
  bool ParseAttributeLine(const LogicalLine& line, std::string_view& name, std::string_view& value);
  absl::Status Refill();
  void Fail(int64_t line, std::string_view reason);

  std::string name_;
  int fd_ = -1;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t begin_ = 0;              // first byte not yet consumed
  size_t end_ = 0;                // end of the data read so far
  bool eof_ = false;              // no more data beyond end_
  bool has_nul_ = false;          // some byte read so far is NUL: lines must be checked for it
  int64_t line_ = 1;              // line number at begin_
  bool seen_first_line_ = false;  // a version line is only allowed before everything else
  absl::Status error_;
  Scratch scratch_;
  std::vector<std::string_view> segments_;  // physical pieces of a folded line
  LdifEntry entry_;
};

// Counts of one LDIF read.
struct LdifReadStats {
  int64_t records = 0;
  int64_t users = 0;
  int64_t groups = 0;
  int64_t ignored = 0;  // entries that matched neither filter (ou=..., the base entry, ...)
  int64_t member_values = 0;
};

// Reads the LDIF file at `path` into a Directory with `schema`. Member DNs naming no entry are
// counted by the Directory (unresolved_member_count). Errors: those of LdifReader::Open and
// Next, EntryMapper::Create, and mapping errors as "PATH:LINE: entry \"DN\": reason" with the
// line of the offending attribute. `stats`, when given, is filled (also on error, up to it).
absl::StatusOr<core::Directory> ReadLdifDirectory(const std::string& path,
                                                  const DirectorySchema& schema,
                                                  LdifReadStats* stats = nullptr);

// The LDIF source (`source.kind = "ldif"`): Read() is ReadLdifDirectory(path, schema).
std::unique_ptr<DirectorySource> MakeLdifSource(std::string path, DirectorySchema schema);

}  // namespace usersync::io
