// The replay driver: a main() for a fuzz target's LLVMFuzzerTestOneInput built without
// libFuzzer (gcc, the unit-test build), so ctest replays the seed corpus and every regression
// input on each run (`fuzz_regressions_<target>`).
//
// Usage: <target>_fuzz_replay CORPUS_DIR [MORE_DIR...]. The first directory must hold at least
// one file (a wrong path must not pass as "nothing to replay"); the others may be missing or
// empty (a target with no regression yet). Every regular file is one input, run in name order.
// Exit 0 when every input ran; a crash or a broken property aborts inside the target.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool Replay(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", file.c_str());
    return false;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, so that ASan builds see a read past its end.
  std::vector<uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.data(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MORE_DIR...]\n", argv[0]);
    return 2;
  }
  size_t replayed = 0;
  for (int arg_idx = 1; arg_idx < argc; ++arg_idx) {
    const std::vector<fs::path> files = FilesIn(argv[arg_idx]);
    if (arg_idx == 1 && files.empty()) {
      std::fprintf(stderr, "%s: no inputs (wrong corpus directory?)\n", argv[arg_idx]);
      return 1;
    }
    for (const fs::path& file : files) {
      if (!Replay(file)) return 1;
      ++replayed;
    }
    std::printf("%s: %zu inputs\n", argv[arg_idx], files.size());
  }
  std::printf("replayed %zu inputs\n", replayed);
  return 0;
}
