// WriteFileAtomically: a file that a reader sees whole or not at all (the metrics file that
// node_exporter reads, a plan file that `apply` reads). Written to PATH.tmp-PID in the same
// directory (created if need be), with permissions `mode` whatever the umask (a metrics file
// must stay readable by the collector when the service runs with UMask=0077), flushed to disk,
// then renamed over `path`. On failure the temp file is removed and the old file (if any)
// stays. Errors: kFailedPrecondition naming the path and the reason, or the producer's error.
// Thread-compatible; two processes writing one path each rename a whole file (the last wins).
//
//   WriteFileAtomically(path, "text\n");
//   WriteFileAtomically(path, [&](ByteSink write) {   // streamed: never whole in memory
//     for (const Piece& piece : pieces) USERSYNC_RETURN_IF_ERROR(write(piece.text()));
//     return absl::OkStatus();
//   });
#pragma once

#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usersync::io {

// Appends bytes to the file being written; an error stops the write.
using ByteSink = absl::FunctionRef<absl::Status(std::string_view)>;

// Calls `produce` once with a sink for the file's content, in pieces. The file is put in place
// only when `produce` and every write succeeded.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::FunctionRef<absl::Status(ByteSink)> produce,
                                 int mode = 0644);

// The whole content at once.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content,
                                 int mode = 0644);

// The whole content of the file at `path`, read in 64 KiB pieces. Errors: kNotFound (it cannot
// be opened; the message is the system's reason), kDataLoss (a read failed).
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace usersync::io
