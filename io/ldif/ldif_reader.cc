#include "io/ldif/ldif_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/normalize.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/directory/attribute_name.h"

namespace usersync::io {
namespace {

using core::EqualsIgnoreCase;

constexpr size_t kInitialBufferBytes = size_t{4} << 20;
constexpr size_t kMinScratchBlockBytes = size_t{64} << 10;
constexpr size_t kMaxQuotedNameBytes = 64;

bool IsAttrChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

// True for an RFC 2849 AttributeDescription: a name of letters, digits, '-' and '.' (OIDs),
// then ";option"s. '=' is allowed in options for AD's "member;range=0-1499".
bool IsValidDescription(std::string_view description) {
  std::string_view base = AttributeBaseName(description);
  if (base.empty()) return false;
  for (char c : base) {
    if (!IsAttrChar(c)) return false;
  }
  std::string_view options = description.substr(base.size());
  while (!options.empty()) {  // options[0] == ';'
    options.remove_prefix(1);
    size_t len = 0;
    while (len < options.size() && (IsAttrChar(options[len]) || options[len] == '=')) ++len;
    if (len == 0) return false;
    options.remove_prefix(len);
    if (!options.empty() && options[0] != ';') return false;
  }
  return true;
}

// A name as it may appear in an error message: bounded, non-printable bytes escaped.
std::string QuoteName(std::string_view name) {
  std::string out = absl::CHexEscape(Sv(name.substr(0, kMaxQuotedNameBytes)));
  if (name.size() > kMaxQuotedNameBytes) out += "...";
  return out;
}

// Strict base64 (RFC 4648 §4): length a multiple of 4, '=' only as the final padding. Writes
// at most in.size() / 4 * 3 bytes to `out`; returns the count, or -1 when `in` is not base64.
int64_t DecodeBase64(std::string_view in, char* out) {
  static constexpr auto kTable = [] {
    std::array<int8_t, 256> table{};
    table.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int8_t idx = 0; idx < 64; ++idx) table[static_cast<unsigned char>(alphabet[idx])] = idx;
    return table;
  }();
  if (in.size() % 4 != 0) return -1;
  size_t padding = 0;
  if (!in.empty() && in.back() == '=')
    padding = (in.size() >= 2 && in[in.size() - 2] == '=') ? 2 : 1;
  const size_t data_chars = in.size() - padding;
  const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());
  char* write = out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t idx = 0; idx < data_chars; ++idx) {
    const int8_t v = kTable[bytes[idx]];
    if (v < 0) return -1;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *write++ = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return write - out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// LdifEntry

const LdifEntry::Attr* LdifEntry::Find(std::string_view name) const {
  name = AttributeBaseName(name);
  for (size_t attr_idx = 0; attr_idx < attr_count_; ++attr_idx) {
    if (EqualsIgnoreCase(attrs_[attr_idx].name, name)) return &attrs_[attr_idx];
  }
  return nullptr;
}

std::span<const std::string_view> LdifEntry::Values(std::string_view name) const {
  const Attr* attr = Find(name);
  return attr == nullptr ? std::span<const std::string_view>() : attr->values;
}

int64_t LdifEntry::LineOf(std::string_view name) const {
  const Attr* attr = Find(name);
  return attr == nullptr ? line_ : attr->line;
}

void LdifEntry::AddValue(std::string_view name, std::string_view value, int64_t line) {
  // Writers keep an attribute's values together, so the last attribute is the likely one.
  if (attr_count_ > 0 && EqualsIgnoreCase(attrs_[attr_count_ - 1].name, name)) {
    attrs_[attr_count_ - 1].values.push_back(value);
    return;
  }
  for (size_t attr_idx = 0; attr_idx + 1 < attr_count_; ++attr_idx) {
    if (EqualsIgnoreCase(attrs_[attr_idx].name, name)) {
      attrs_[attr_idx].values.push_back(value);
      return;
    }
  }
  if (attr_count_ == attrs_.size()) attrs_.emplace_back();
  Attr& attr = attrs_[attr_count_++];
  attr.name = name;
  attr.values.clear();
  attr.values.push_back(value);
  attr.line = line;
}

// ---------------------------------------------------------------------------------------------
// LdifReader

char* LdifReader::Scratch::Allocate(size_t n) {
  while (block_idx_ < blocks_.size()) {
    Block& block = blocks_[block_idx_];
    if (block.size - used_ >= n) {
      char* out = block.data.get() + used_;
      used_ += n;
      return out;
    }
    ++block_idx_;
    used_ = 0;
  }
  const size_t size = std::max(n, kMinScratchBlockBytes);
  blocks_.push_back(Block{std::unique_ptr<char[]>(new char[size]), size});
  block_idx_ = blocks_.size() - 1;
  used_ = n;
  return blocks_.back().data.get();
}

LdifReader::LdifReader(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}

LdifReader::~LdifReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<LdifReader>> LdifReader::Open(std::string path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    return absl::Status(absl::ErrnoToStatusCode(err),
                        absl::StrCat(path, ": cannot open: ", std::strerror(err)));
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not an LDIF file"));
  }
  std::unique_ptr<LdifReader> reader(new LdifReader(std::move(path), fd));
  reader->capacity_ = kInitialBufferBytes;
  reader->buf_.reset(new char[reader->capacity_]);
  return reader;
}

std::unique_ptr<LdifReader> LdifReader::FromString(std::string name, std::string contents) {
  std::unique_ptr<LdifReader> reader(new LdifReader(std::move(name), -1));
  reader->capacity_ = std::max<size_t>(contents.size(), 1);
  reader->buf_.reset(new char[reader->capacity_]);
  if (!contents.empty()) std::memcpy(reader->buf_.get(), contents.data(), contents.size());
  reader->end_ = contents.size();
  reader->has_nul_ = contents.find('\0') != std::string::npos;
  reader->eof_ = true;
  return reader;
}

void LdifReader::Fail(int64_t line, std::string_view reason) {
  error_ = absl::InvalidArgumentError(absl::StrCat(name_, ":", line, ": ", Sv(reason)));
}

absl::Status LdifReader::Refill() {
  if (eof_ || fd_ < 0) {
    eof_ = true;
    return absl::OkStatus();
  }
  // Keep the unconsumed tail (a partial record) and make room after it.
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) {  // one record larger than the buffer: grow
    const size_t new_capacity = capacity_ * 2;
    std::unique_ptr<char[]> bigger(new char[new_capacity]);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    capacity_ = new_capacity;
  }
  // Fill the buffer completely (or hit the end), so that a record is re-parsed at most a
  // few times however the kernel splits the reads.
  while (end_ < capacity_) {
    const ssize_t n = ::read(fd_, buf_.get() + end_, capacity_ - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return absl::UnavailableError(absl::StrCat(name_, ": read failed: ", std::strerror(err)));
    }
    if (n == 0) {
      eof_ = true;
      break;
    }
    // One scan per chunk instead of one per line: NUL bytes are rare, so lines are only
    // checked for them once the file is known to hold one.
    const size_t bytes_read = static_cast<size_t>(n);
    if (!has_nul_) has_nul_ = std::memchr(buf_.get() + end_, '\0', bytes_read) != nullptr;
    end_ += bytes_read;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> LdifReader::Next() {
  if (!error_.ok()) return error_;
  while (true) {
    switch (ParseRecord()) {
      case Step::kRecord:
        return true;
      case Step::kEnd:
        return false;
      case Step::kError:
        return error_;
      case Step::kNeedMore: {
        absl::Status status = Refill();
        if (!status.ok()) {
          error_ = status;
          return error_;
        }
        break;
      }
    }
  }
}

// Reads one logical line (a physical line plus its folded continuations) starting at `pos`.
// On kLine and kBlank, advances `pos` and `line` past it. kNeedMore: the line (or whether a
// continuation follows it) is not in the buffer yet; nothing was consumed.
LdifReader::LineKind LdifReader::ReadLogicalLine(size_t& pos, int64_t& line, LogicalLine& out) {
  const char* buf = buf_.get();
  if (pos >= end_) return eof_ ? LineKind::kEof : LineKind::kNeedMore;

  // One physical line from `start`: its content (without CR LF) and where the next one begins.
  // False when the line is not complete in the buffer yet.
  auto physical = [&](size_t start, std::string_view& content, size_t& next) {
    const void* nl = std::memchr(buf + start, '\n', end_ - start);
    size_t content_end;
    if (nl == nullptr) {
      if (!eof_) return false;
      content_end = end_;
      next = end_;
    } else {
      content_end = static_cast<size_t>(static_cast<const char*>(nl) - buf);
      next = content_end + 1;
    }
    if (content_end > start && buf[content_end - 1] == '\r') --content_end;
    content = std::string_view(buf + start, content_end - start);
    return true;
  };

  std::string_view first;
  size_t next = 0;
  if (!physical(pos, first, next)) return LineKind::kNeedMore;
  out.line = line;
  if (first.empty()) {
    pos = next;
    ++line;
    return LineKind::kBlank;
  }
  if (first[0] == ' ') {
    Fail(line, "folded line continues nothing");
    return LineKind::kError;
  }

  segments_.clear();
  segments_.push_back(first);
  size_t total = first.size();
  int64_t physical_lines = 1;
  while (true) {
    if (next >= end_) {
      if (!eof_) return LineKind::kNeedMore;  // a continuation may follow
      break;
    }
    if (buf[next] != ' ') break;
    std::string_view continuation;
    size_t after = 0;
    if (!physical(next, continuation, after)) return LineKind::kNeedMore;
    continuation.remove_prefix(1);  // the folding space
    segments_.push_back(continuation);
    total += continuation.size();
    ++physical_lines;
    next = after;
  }

  if (segments_.size() == 1) {
    out.text = first;
  } else {
    char* joined = scratch_.Allocate(total);
    size_t offset = 0;
    for (std::string_view segment : segments_) {
      std::memcpy(joined + offset, segment.data(), segment.size());
      offset += segment.size();
    }
    out.text = std::string_view(joined, total);
  }
  // RFC 2849 lines end in a line separator; a last line without one is how a cut-off export
  // ends ("member: uid=qu"), and reading it as a value would drop or change an entry unseen.
  if (eof_ && next == end_ && buf[end_ - 1] != '\n') {
    Fail(line + physical_lines - 1,
         "the file ends in the middle of this line (no line break after it): it looks "
         "truncated; export the directory again");
    return LineKind::kError;
  }
  pos = next;
  line += physical_lines;
  return LineKind::kLine;
}

bool LdifReader::ParseAttributeLine(const LogicalLine& line, std::string_view& name,
                                    std::string_view& value) {
  const std::string_view text = line.text;
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    Fail(line.line, "attribute line without ':'");
    return false;
  }
  const std::string_view description = text.substr(0, colon);
  if (description.empty()) {
    Fail(line.line, "attribute line without a name before ':'");
    return false;
  }
  if (!IsValidDescription(description)) {
    Fail(line.line, absl::StrCat("invalid attribute name '", QuoteName(description), "'"));
    return false;
  }
  name = AttributeBaseName(description);
  std::string_view rest = text.substr(colon + 1);
  if (!rest.empty() && rest[0] == ':') {
    rest.remove_prefix(1);
    rest = core::TrimWhitespace(rest);
    char* decoded = scratch_.Allocate(rest.size() / 4 * 3 + 1);
    const int64_t decoded_size = DecodeBase64(rest, decoded);
    if (decoded_size < 0) {
      Fail(line.line, absl::StrCat("invalid base64 in value of '", QuoteName(description), "'"));
      return false;
    }
    value = std::string_view(decoded, static_cast<size_t>(decoded_size));
    return true;
  }
  if (!rest.empty() && rest[0] == '<') {
    Fail(line.line, absl::StrCat("URL value ('", QuoteName(description),
                                 ":<') is not supported: inline the value or base64 it"));
    return false;
  }
  size_t fill = 0;
  while (fill < rest.size() && rest[fill] == ' ') ++fill;
  value = rest.substr(fill);
  return true;
}

LdifReader::Step LdifReader::ParseRecord() {
  entry_.Clear();
  scratch_.Reset();
  size_t pos = begin_;
  int64_t line = line_;
  bool in_record = false;
  bool in_header = false;  // right after dn: where control: and changetype: may stand
  LogicalLine logical;

  while (true) {
    switch (ReadLogicalLine(pos, line, logical)) {
      case LineKind::kNeedMore:
        return Step::kNeedMore;
      case LineKind::kError:
        return Step::kError;
      case LineKind::kEof:
        begin_ = pos;
        line_ = line;
        return in_record ? Step::kRecord : Step::kEnd;
      case LineKind::kBlank:
        begin_ = pos;
        line_ = line;
        if (in_record) return Step::kRecord;
        continue;
      case LineKind::kLine:
        break;
    }
    if (has_nul_ && std::memchr(logical.text.data(), '\0', logical.text.size()) != nullptr) {
      Fail(logical.line, "NUL byte in line");
      return Step::kError;
    }
    if (logical.text[0] == '#') {
      if (!in_record) {  // nothing refers to it: consume it for good
        begin_ = pos;
        line_ = line;
      }
      continue;
    }
    std::string_view name;
    std::string_view value;
    if (!ParseAttributeLine(logical, name, value)) return Step::kError;
    if (in_record) {
      if (!AddRecordLine(logical, name, value, in_header)) return Step::kError;
      continue;
    }
    switch (OpenRecord(logical, name, value)) {
      case Opening::kError:
        return Step::kError;
      case Opening::kVersion:
        begin_ = pos;
        line_ = line;
        break;
      case Opening::kDn:
        in_record = true;
        in_header = true;
        break;
    }
  }
}

LdifReader::Opening LdifReader::OpenRecord(const LogicalLine& logical, std::string_view name,
                                           std::string_view value) {
  if (!seen_first_line_ && EqualsIgnoreCase(name, "version")) {
    seen_first_line_ = true;
    if (core::TrimWhitespace(value) != "1") {
      Fail(logical.line,
           absl::StrCat("unsupported LDIF version '", QuoteName(value), "' (only 1)"));
      return Opening::kError;
    }
    return Opening::kVersion;
  }
  seen_first_line_ = true;
  if (!EqualsIgnoreCase(name, "dn")) {
    Fail(logical.line, "record does not start with dn:");
    return Opening::kError;
  }
  entry_.dn_ = value;
  entry_.line_ = logical.line;
  return Opening::kDn;
}

bool LdifReader::AddRecordLine(const LogicalLine& logical, std::string_view name,
                               std::string_view value, bool& in_header) {
  if (in_header) {
    if (EqualsIgnoreCase(name, "control")) return true;
    in_header = false;
    if (EqualsIgnoreCase(name, "changetype")) {
      const std::string_view change = core::TrimWhitespace(value);
      if (!EqualsIgnoreCase(change, "add")) {
        Fail(logical.line, absl::StrCat("changetype: ", QuoteName(change),
                                        " is not supported (only content records and "
                                        "changetype: add)"));
        return false;
      }
      return true;
    }
  }
  if (EqualsIgnoreCase(name, "dn")) {
    Fail(logical.line, "second dn: in one record (a blank line must separate records)");
    return false;
  }
  entry_.AddValue(name, value, logical.line);
  return true;
}

}  // namespace usersync::io
