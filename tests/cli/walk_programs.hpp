// The programs the walks run (issue 13: check ≡ run), and data for each:
// every examples/*.vireo and every .vireo test case under tests/lang/cases/
// check and syntax. The command-line walk (tests/cli/walk_test.cpp) runs them
// through `vireo check` and `vireo run`; the in-process walk
// (tests/api/test_walk.cpp) through Model, Data and Fit, fast enough for the
// sanitizer tree, where a process per program costs half a second.
//
// Data: examples/NAME.json or examples/data/NAME.json when it exists (the
// shipped data), else NAME.json beside a test case, else generated from the
// data block (a scale_tril must be given as a file: all_builtins_ok.json): every int scalar 20 (within its literal bounds), arrays filled
// with a value inside their bounds (ints alternate between their bounds), so
// that subsampled plates of up to 20 fit.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lang/ast.hpp"
#include "lang/diagnostic.hpp"
#include "lang/parse.hpp"
#include "lang/source.hpp"

namespace vireo_test::walk {

namespace fs = std::filesystem;
namespace ast = vireo::lang::ast;

inline std::string slurp_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::optional<double> literal(const std::optional<ast::Box<ast::Expr>>& e) {
  if (!e) return std::nullopt;
  if (const auto* n = std::get_if<ast::NumberLit>(&(*e)->node)) return n->value;
  return std::nullopt;
}

// A value for every data item of the file's data block (see the header).
inline nlohmann::json generated_data(const fs::path& file) {
  vireo::lang::SourceFile src(file.filename().string(), slurp_text(file));
  vireo::lang::Diagnostics diags;
  ast::Program program = vireo::lang::parse(src, diags);
  nlohmann::json out = nlohmann::json::object();
  std::map<std::string, std::int64_t> ints;
  for (const auto& item : program.items) {
    const auto* block = std::get_if<ast::DataBlock>(&item);
    if (!block) continue;
    for (const auto& d : block->decls) {
      const ast::TypeExpr& t = d.type;
      std::optional<double> lo = literal(t.lower), hi = literal(t.upper);
      std::vector<std::int64_t> dims;
      for (const auto& e : t.dims) {
        if (const auto* n = std::get_if<ast::NumberLit>(&e.node)) dims.push_back(static_cast<std::int64_t>(n->value));
        else if (const auto* r = std::get_if<ast::NameRef>(&e.node); r && ints.count(r->name)) dims.push_back(ints[r->name]);
        else dims.push_back(3);
      }
      auto value = [&](std::int64_t i) -> nlohmann::json {
        switch (t.base) {
          case ast::BaseType::Bool: return i % 2 == 0;
          case ast::BaseType::Simplex: return 1.0 / static_cast<double>(dims.empty() ? 1 : dims.back());
          case ast::BaseType::Int: {
            if (dims.empty()) return static_cast<std::int64_t>(hi ? std::min(*hi, 20.0) : std::max(lo.value_or(20), 20.0));
            double a = lo.value_or(hi ? *hi - 1 : 0), b = hi.value_or(a + 1);
            return static_cast<std::int64_t>(i % 2 == 0 ? a : b);
          }
          case ast::BaseType::Real: break;
        }
        double a = lo.value_or(hi ? *hi - 1 : -0.5);
        return hi ? (a + *hi) / 2 : a + 1.0;
      };
      std::function<nlohmann::json(std::size_t, std::int64_t&)> fill = [&](std::size_t k, std::int64_t& i) {
        if (k == dims.size()) return value(i++);
        nlohmann::json a = nlohmann::json::array();
        for (std::int64_t j = 0; j < dims[k]; ++j) a.push_back(fill(k + 1, i));
        return a;
      };
      std::int64_t i = 0;
      nlohmann::json v = fill(0, i);
      if (dims.empty() && t.base == ast::BaseType::Int) ints[d.name] = v.get<std::int64_t>();
      out[d.name] = v;
    }
  }
  return out;
}

// The data file for `file`; a generated one is written to the temporary
// folder under a name unique to this process.
inline fs::path data_for(const fs::path& file, bool example) {
  std::string stem = file.stem().string();
  std::vector<fs::path> candidates = {file.parent_path() / (stem + ".json")};
  if (example) candidates.push_back(file.parent_path() / "data" / (stem + ".json"));
  for (const auto& c : candidates)
    if (fs::exists(c)) return c;
  fs::path p = fs::temp_directory_path() / (std::to_string(::getpid()) + "_walk_" + stem + ".json");
  std::ofstream(p) << generated_data(file).dump();
  return p;
}

// Every program of the walk, sorted: (path, is an example).
inline std::vector<std::pair<fs::path, bool>> programs() {
  std::vector<std::pair<fs::path, bool>> files;
  for (const auto& e : fs::directory_iterator(VIREO_SOURCE_DIR "/examples"))
    if (e.path().extension() == ".vireo") files.push_back({e.path(), true});
  for (const char* dir : {"/tests/lang/cases/check", "/tests/lang/cases/syntax"})
    for (const auto& e : fs::directory_iterator(std::string(VIREO_SOURCE_DIR) + dir))
      if (e.path().extension() == ".vireo") files.push_back({e.path(), false});
  std::sort(files.begin(), files.end());
  return files;
}

// Examples written to fail, whose failure is asserted where they are tested.
inline bool meant_to_fail(const fs::path& file) {
  return file.filename() == "vae_blowup.vireo";  // tests/api/test_vae.cpp
}

}  // namespace vireo_test::walk

