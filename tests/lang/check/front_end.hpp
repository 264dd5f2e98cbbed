// Test helpers: compile program text to a site graph, failing the test with
// the rendered diagnostics when it does not check.
#pragma once
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "lang/ir/compile.hpp"

namespace vireo::test {

inline ir::Graph compile_ok(const std::string& text, const std::string& name = "test.vireo") {
  lang::SourceFile file(name, text);
  lang::Diagnostics diags;
  std::optional<ir::Graph> g = ir::compile(file, diags);
  BOOST_TEST_REQUIRE(g.has_value(), "does not compile:\n" << diags.render(file));
  BOOST_TEST(diags.render(file).empty(), "diagnostics:\n" << diags.render(file));
  return std::move(*g);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The site of `side` named `name`; fails when there is not exactly one.
inline ir::SiteId site(const ir::Graph& g, const std::string& name, ir::BodyKind side = ir::BodyKind::Model) {
  auto ids = g.find_sites(side, name);
  BOOST_TEST_REQUIRE(ids.size() == 1u, "sites named " << name << ": " << ids.size());
  return ids[0];
}

inline const ir::Edge* edge(const ir::Graph& g, const std::string& from, const std::string& to,
                            ir::BodyKind side = ir::BodyKind::Model) {
  return g.find_edge(site(g, from, side), site(g, to, side), side);
}

}  // namespace vireo::test
