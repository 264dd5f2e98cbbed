// libFuzzer target for the data loader: JSON text from a user checked against
// a model's data block. The first byte chooses one of a handful of the
// examples' models (low bits) and whether observed-only items may be left out
// (bit 7); the rest is the JSON. Whatever the bytes, the loader returns a
// DataSet or throws its own errors (DataError, MissingItemsError) — never
// another exception, a crash, a hang or a huge allocation (a size of 10^12
// from the data must not make a placeholder of that size).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "lang/ir/compile.hpp"
#include "runtime/data/data_loader.hpp"

namespace {

struct Compiled {
  vireo::lang::SourceFile source;
  vireo::ir::Graph graph;
};

// Models whose data blocks cover ints with bounds, reals with bounds, sizes
// used by later items, matrices, and observed-only items.
const std::vector<Compiled>& models() {
  static const std::vector<Compiled> all = [] {
    std::vector<Compiled> out;
    for (const char* name : {"eight_schools", "coin", "gmm", "horseshoe_logistic", "hmm", "changepoint", "vae",
                             "geometric"}) {
      const std::string path = std::string(VIREO_SOURCE_DIR "/examples/") + name + ".vireo";
      std::ifstream in(path, std::ios::binary);
      vireo::lang::SourceFile file(path, std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
      vireo::lang::Diagnostics diags;
      std::optional<vireo::ir::Graph> g = vireo::ir::compile(file, diags);
      if (!g) __builtin_trap();  // an example that does not compile: the harness is broken
      out.push_back({std::move(file), std::move(*g)});
    }
    return out;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& all = models();
  const Compiled& m = all[(data[0] & 0x7f) % all.size()];
  vireo::data::LoadOptions options;
  options.allow_missing_observed = (data[0] & 0x80) != 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<vireo::data::DataIssue> warnings;
  try {
    vireo::interp::DataSet set = vireo::data::load_json_text(m.graph, text, m.source, "fuzz.json", &warnings, options);
    (void)set;
  } catch (const vireo::data::DataError& e) {
    for (const auto& issue : e.issues()) (void)vireo::data::render(issue, "fuzz.json", m.source.name());
  } catch (const vireo::data::MissingItemsError& e) {
    (void)e.diagnostics();
  }
  return 0;
}
