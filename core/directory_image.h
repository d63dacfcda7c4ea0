// A core::Directory as bytes, and back without rebuilding it: the directory snapshot that delta
// cycles start from (io/state/directory_snapshot.h) is read back at the cost of copying its
// columns, not of a DirectoryBuilder pass (DN normalization and a hash look-up per user and per
// member: 2.7 s at a million users, where this takes a tenth of it; bench/RESULTS.md).
//
// What is kept: every column, the member edges as they are (CSR, by index), the unresolved
// members and examples, the issues, and the table of normalized DNs. The hash indexes (DN and
// id) are rebuilt on reading: their hash is seeded per process.
//
// Layout (core/byte_codec.h; a "column" of n strings is u32 lengths[n] then their bytes):
//   u32 n + n str extra_names; 7 str column names;
//   u32 users; columns dn, id, user_name, email, first_name, last_name, display_name,
//     language, then one per extra name; u8 disabled[users];
//   u32 groups; columns dn, name; u32 member_begin[groups + 1]; u32 edges; u32 members[edges];
//   u64 unresolved_member_count; u32 n; u32 group[n]; column of n DNs;
//   u32 n + n (str group, str member) examples; u32 n + n (str dn, str reason) issues;
//   u32 slots; u32 user[slots]; u32 group[slots]; column of keys, where the length kSharedKey
//     means "the DN of the slot's user (else group)", which holds the same bytes.
//
// Reading is bounded and checked: every length and count against the bytes left, every index
// against what it indexes, member_begin ascending, ids and keys unique. A damaged image is
// kDataLoss, never a crash.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "core/byte_codec.h"
#include "core/directory.h"

namespace usersync::core {

// Appends the image of `dir` to `w`.
void AppendDirectoryImage(const Directory& dir, ByteWriter& w);

// Reads an image from `r`, which reads from the bytes `storage` holds: the directory takes
// `storage` and its strings stay where they are in it. Errors: kDataLoss (what is wrong).
absl::StatusOr<Directory> ReadDirectoryImage(ByteReader& r, std::unique_ptr<char[]> storage,
                                             size_t storage_size);

}  // namespace usersync::core
