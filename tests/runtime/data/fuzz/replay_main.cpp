// Without libFuzzer: replays the data loader's fuzz target over its corpus
// (corpus/: the examples' data files and broken variants, each behind the
// byte that chooses the model) and deterministic mutations of it —
// truncations, byte flips, digits grown into huge sizes — so that every
// build exercises the loader on hostile data.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void feed(const std::string& s) { LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<std::string> seeds;
  for (const auto& e : fs::directory_iterator(VIREO_SOURCE_DIR "/tests/runtime/data/fuzz/corpus")) {
    std::ifstream in(e.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (int i = 1; i < argc; ++i) {  // explicit inputs, e.g. a crash file
    std::ifstream in(argv[i], std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (seeds.empty()) return 1;
  std::uint64_t state = 0x9e3779b97f4a7c15ull;  // fixed seed: the run is reproducible
  auto next = [&] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  const std::string junk = "[]{},:\"-+.eE0123456789 \ntrufalsnNI";
  std::size_t runs = 0;
  for (const auto& s : seeds) {
    feed(s), ++runs;
    for (int model = 0; model < 256; model += 37) feed(std::string(1, static_cast<char>(model)) + s.substr(1)), ++runs;
    // About 64 truncations per seed: the large data files would otherwise dominate (and slow the ASan tree).
    const std::size_t stride = std::max<std::size_t>(5, s.size() / 64);
    for (std::size_t cut = 1; cut < s.size(); cut += stride) feed(s.substr(0, cut)), ++runs;
    for (int m = 0; m < 150 && s.size() > 1; ++m, ++runs) {
      std::string t = s;
      for (int k = 0; k < 1 + static_cast<int>(next() % 4); ++k) {
        std::size_t at = 1 + next() % (t.size() - 1);
        switch (next() % 5) {
          case 0: t[at] = junk[next() % junk.size()]; break;
          case 1: t.erase(at, 1 + next() % 6); break;
          case 2: t.insert(at, "000000000000"); break;  // a size of 10^12 or more
          case 3: t.insert(at, "-"); break;
          default: t.insert(at, 1, junk[next() % junk.size()]);
        }
        if (t.size() < 2) t = s;
      }
      feed(t);
    }
  }
  std::printf("data loader survived %zu inputs\n", runs);
  return 0;
}
