#include "tests/support/hostile_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::testing::hostile {
namespace {

constexpr size_t kMaxHeadBytes = 64 << 10;
constexpr size_t kMaxRequestBody = 16 << 20;
constexpr size_t kMaxAnswerBytes = 64 << 20;

bool IsHopHeader(std::string_view name) {
  for (std::string_view hop :
       {"content-length", "transfer-encoding", "connection", "keep-alive", "expect"}) {
    if (core::EqualsIgnoreCase(name, hop)) return true;
  }
  return false;
}

// Splits a head (up to, without, the blank line) into its first line and headers.
absl::StatusOr<std::string> ParseHead(std::string_view head, Headers& headers) {
  size_t line_end = head.find("\r\n");
  std::string first(head.substr(0, line_end));
  while (line_end != std::string_view::npos) {
    size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string_view line = head.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("header without ':': ", Sv(line)));
    }
    headers.emplace_back(std::string(line.substr(0, colon)),
                         std::string(absl::StripAsciiWhitespace(Sv(line.substr(colon + 1)))));
  }
  return first;
}

// Reads from `fd` until `buffered` holds `size` bytes. False on EOF or error.
bool ReadAtLeast(int fd, std::string& buffered, size_t size) {
  char chunk[65536];
  while (buffered.size() < size) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffered.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// The body of a chunked answer. Errors: Unavailable when malformed or cut.
absl::StatusOr<std::string> Dechunk(std::string_view raw) {
  std::string body;
  size_t pos = 0;
  while (true) {
    size_t line_end = raw.find("\r\n", pos);
    if (line_end == std::string_view::npos) return absl::UnavailableError("chunk size cut off");
    std::string_view size_text = raw.substr(pos, line_end - pos);
    size_text = size_text.substr(0, size_text.find(';'));
    uint64_t size = 0;
    if (!absl::SimpleHexAtoi(Sv(size_text), &size)) {
      return absl::UnavailableError(absl::StrCat("bad chunk size '", Sv(size_text), "'"));
    }
    pos = line_end + 2;
    if (size == 0) return body;
    if (raw.size() < pos + size + 2) return absl::UnavailableError("chunk cut off");
    body.append(raw.substr(pos, size));
    pos += size + 2;
  }
}

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval timeout{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The whole answer on `fd`, read until the server closes it (bounded).
absl::StatusOr<std::string> ReadToEof(int fd) {
  std::string raw;
  char chunk[65536];
  while (true) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
    if (n == 0) return raw;
    raw.append(chunk, static_cast<size_t>(n));
    if (raw.size() > kMaxAnswerBytes) return absl::UnavailableError("answer over 64 MiB");
  }
}

absl::StatusOr<HttpAnswer> ParseAnswer(std::string_view raw) {
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return absl::UnavailableError("answer without head");
  Headers headers;
  absl::StatusOr<std::string> first = ParseHead(raw.substr(0, head_end), headers);
  if (!first.ok()) return absl::UnavailableError(first.status().message());
  // "HTTP/1.1 200 OK"
  HttpAnswer answer;
  size_t space = first->find(' ');
  if (space == std::string::npos ||
      !absl::SimpleAtoi(first->substr(space + 1, 3), &answer.status)) {
    return absl::UnavailableError(absl::StrCat("bad status line '", *first, "'"));
  }
  answer.reason = first->size() > space + 5 ? first->substr(space + 5) : "";
  std::string_view rest = raw.substr(head_end + 4);
  std::optional<std::string> encoding = HeaderValue(headers, "transfer-encoding");
  std::optional<std::string> length = HeaderValue(headers, "content-length");
  if (encoding.has_value() && encoding->find("chunked") != std::string::npos) {
    absl::StatusOr<std::string> body = Dechunk(rest);
    if (!body.ok()) return body.status();
    answer.body = *std::move(body);
  } else if (length.has_value()) {
    size_t size = 0;
    if (!absl::SimpleAtoi(*length, &size) || size > rest.size()) {
      return absl::UnavailableError(absl::StrCat("answer shorter than Content-Length ", *length));
    }
    answer.body = std::string(rest.substr(0, size));
  } else {
    answer.body = std::string(rest);
  }
  for (auto& [name, value] : headers) {
    if (!IsHopHeader(name)) answer.headers.emplace_back(std::move(name), std::move(value));
  }
  return answer;
}

}  // namespace

std::string_view HttpRequest::path() const {
  return std::string_view(target).substr(0, target.find('?'));
}

std::string_view HttpRequest::query() const {
  size_t mark = target.find('?');
  return mark == std::string::npos ? std::string_view() : std::string_view(target).substr(mark + 1);
}

std::optional<std::string> HeaderValue(const Headers& headers, std::string_view name) {
  for (const auto& [header, value] : headers) {
    if (core::EqualsIgnoreCase(header, name)) return value;
  }
  return std::nullopt;
}

absl::StatusOr<bool> ReadRequest(int fd, std::string& buffered, HttpRequest& request) {
  size_t head_end;
  char chunk[65536];
  while ((head_end = buffered.find("\r\n\r\n")) == std::string::npos) {
    if (buffered.size() > kMaxHeadBytes) return absl::InvalidArgumentError("head over 64 KiB");
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && buffered.empty()) return false;
    if (n <= 0) return absl::UnavailableError("the client went away mid-request");
    buffered.append(chunk, static_cast<size_t>(n));
  }
  request = HttpRequest();
  absl::StatusOr<std::string> first =
      ParseHead(std::string_view(buffered).substr(0, head_end), request.headers);
  if (!first.ok()) return first.status();
  // "GET /path?query HTTP/1.1"
  size_t space1 = first->find(' ');
  size_t space2 = first->rfind(' ');
  if (space1 == std::string::npos || space2 == space1) {
    return absl::InvalidArgumentError(absl::StrCat("bad request line '", *first, "'"));
  }
  request.method = first->substr(0, space1);
  request.target = first->substr(space1 + 1, space2 - space1 - 1);
  buffered.erase(0, head_end + 4);
  if (HeaderValue(request.headers, "transfer-encoding").has_value()) {
    return absl::InvalidArgumentError("chunked requests are not read by this proxy");
  }
  size_t length = 0;
  std::optional<std::string> length_text = HeaderValue(request.headers, "content-length");
  if (length_text.has_value() &&
      (!absl::SimpleAtoi(*length_text, &length) || length > kMaxRequestBody)) {
    return absl::InvalidArgumentError(absl::StrCat("bad Content-Length ", *length_text));
  }
  std::optional<std::string> expect = HeaderValue(request.headers, "expect");
  if (expect.has_value() && core::EqualsIgnoreCase(*expect, "100-continue") && length > 0) {
    if (!SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
      return absl::UnavailableError("the client went away");
    }
  }
  if (!ReadAtLeast(fd, buffered, length)) {
    return absl::UnavailableError("the client went away mid-body");
  }
  request.body = buffered.substr(0, length);
  buffered.erase(0, length);
  return true;
}

absl::StatusOr<HttpAnswer> Exchange(int port, const HttpRequest& request) {
  std::string raw = absl::StrCat(request.method, " ", request.target, " HTTP/1.1\r\n");
  for (const auto& [name, value] : request.headers) {
    if (!IsHopHeader(name)) absl::StrAppend(&raw, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&raw, "Content-Length: ", request.body.size(), "\r\nConnection: close\r\n\r\n",
                  request.body);
  int fd = ConnectLoopback(port);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot connect to 127.0.0.1:", port));
  }
  absl::StatusOr<std::string> answer =
      SendAll(fd, raw) ? ReadToEof(fd) : absl::UnavailableError("send to the target failed");
  ::close(fd);
  if (!answer.ok()) return answer.status();
  return ParseAnswer(*answer);
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool WriteAnswer(int fd, const HttpAnswer& answer, bool keep_alive,
                 std::optional<int64_t> content_length) {
  std::string head = absl::StrCat("HTTP/1.1 ", answer.status, " ",
                                  answer.reason.empty() ? "Whatever" : answer.reason, "\r\n");
  for (const auto& [name, value] : answer.headers)
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  absl::StrAppend(&head, "Content-Length: ", content_length.value_or(answer.body.size()),
                  "\r\nConnection: ", keep_alive ? "keep-alive" : "close", "\r\n\r\n");
  return SendAll(fd, head) && SendAll(fd, answer.body);
}

std::string WithQueryParam(std::string_view target, std::string_view name, std::string_view value) {
  size_t mark = target.find('?');
  std::string out(target.substr(0, mark));
  std::string_view query = mark == std::string_view::npos ? "" : target.substr(mark + 1);
  bool replaced = false;
  char separator = '?';
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (pair.substr(0, pair.find('=')) == name) {
      absl::StrAppend(&out, std::string(1, separator), Sv(name), "=", Sv(value));
      replaced = true;
    } else {
      absl::StrAppend(&out, std::string(1, separator), Sv(pair));
    }
    separator = '&';
  }
  if (!replaced) absl::StrAppend(&out, std::string(1, separator), Sv(name), "=", Sv(value));
  return out;
}

std::string WithTotalResults(std::string_view body, std::string_view total) {
  size_t key = body.find("\"totalResults\"");
  if (key == std::string_view::npos) return std::string(body);
  size_t start = body.find(':', key);
  if (start == std::string_view::npos) return std::string(body);
  ++start;
  while (start < body.size() && body[start] == ' ') ++start;
  size_t end = start;
  while (end < body.size() && absl::ascii_isdigit(static_cast<unsigned char>(body[end]))) ++end;
  return absl::StrCat(Sv(body.substr(0, start)), Sv(total), Sv(body.substr(end)));
}

std::string WithFirstResourceRepeated(std::string_view body) {
  size_t key = body.find("\"Resources\"");
  if (key == std::string_view::npos) return std::string(body);
  size_t open = body.find('[', key);
  if (open == std::string_view::npos) return std::string(body);
  size_t start = body.find('{', open);
  if (start == std::string_view::npos) return std::string(body);
  // The matching '}', skipping strings.
  int depth = 0;
  bool in_string = false;
  for (size_t pos = start; pos < body.size(); ++pos) {
    char c = body[pos];
    if (in_string) {
      if (c == '\\')
        ++pos;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) {
      std::string_view first = body.substr(start, pos + 1 - start);
      return absl::StrCat(Sv(body.substr(0, pos + 1)), ",", Sv(first), Sv(body.substr(pos + 1)));
    }
  }
  return std::string(body);
}

}  // namespace usersync::testing::hostile
