// Helpers the Graph face's files share (emulator_graph.cc, emulator_graph_delta.cc); not an API.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/target/emulator_graph.h"

namespace usersync::io::emulator {

// Sets `res` to Graph's error body {"error":{"code","message"}} with HTTP `status`.
void ReplyGraphError(httplib::Response& res, int status, std::string_view code,
                     std::string_view message);
// `text` as a JSON string (quotes and backslashes escaped).
std::string GraphQuoted(std::string_view text);
// The JSON text of one user with only the $select'ed properties (all when none), id always.
std::string UserJson(const GraphSeedObject& user, const std::vector<std::string>& select);

}  // namespace usersync::io::emulator
