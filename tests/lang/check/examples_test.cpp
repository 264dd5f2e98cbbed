// Every program of examples/ (LANGUAGE.md's contracts) checks clean, lowers,
// and draws the graph a student expects.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "front_end.hpp"
#include "lang/ir/print.hpp"

namespace fs = std::filesystem;
using vireo::ir::BodyKind;
using vireo::ir::SiteKind;
using vireo::test::compile_ok;
using vireo::test::edge;
using vireo::test::read_file;
using vireo::test::site;

namespace {

vireo::ir::Graph example(const std::string& name) {
  return compile_ok(read_file(VIREO_SOURCE_DIR "/examples/" + name + ".vireo"), name + ".vireo");
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_example_checks_lowers_and_draws) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(VIREO_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".vireo") continue;
    BOOST_TEST_CONTEXT(entry.path().filename().string()) {
      ++count;
      auto g = compile_ok(read_file(entry.path().string()), entry.path().filename().string());
      BOOST_TEST(g.model != vireo::ir::none);
      BOOST_TEST(!g.model_sites.empty());
      std::string dot = vireo::ir::to_dot(g, {true});
      BOOST_TEST(contains(dot, "digraph"));
      BOOST_TEST(!vireo::ir::to_text(g).empty());
    }
  }
  BOOST_TEST(count >= 7);
}

BOOST_AUTO_TEST_CASE(eight_schools_graph) {
  auto g = example("eight_schools");
  std::string dot = vireo::ir::to_dot(g);
  for (const char* node : {"mu", "tau", "eta", "theta", "y"})
    BOOST_TEST(contains(dot, std::string("\"") + node + "\" [label="), node);
  BOOST_TEST(contains(dot, "label=\"schools (J)\""));
  BOOST_TEST(contains(dot, "subgraph cluster_"));
  BOOST_TEST(contains(dot, "\"y\" [label=\"y\", shape=ellipse, style=filled"));
  BOOST_TEST(contains(dot, "\"theta\" [label=\"theta\", shape=ellipse, style=dashed"));
  for (const char* e : {"\"mu\" -> \"theta\"", "\"tau\" -> \"theta\"", "\"eta\" -> \"theta\"", "\"theta\" -> \"y\""})
    BOOST_TEST(contains(dot, e), e);
  BOOST_TEST(!contains(dot, "\"mu\" -> \"y\""));
  // The plate holds eta, theta and y, and not mu.
  std::size_t cluster = dot.find("subgraph cluster_");
  BOOST_TEST(dot.find("\"eta\" [") > cluster);
  BOOST_TEST(dot.find("\"mu\" [") < cluster);

  // The IR behind it.
  const auto& y = g.site(site(g, "y"));
  BOOST_TEST((y.kind == SiteKind::Observe));
  BOOST_TEST(y.plates.size() == 1u);
  BOOST_TEST(g.plate(y.plates[0]).name == "schools");
  BOOST_TEST(vireo::ir::expr_text(g, g.plate(y.plates[0]).body, g.plate(y.plates[0]).size) == "J");
  BOOST_TEST(vireo::sig::get(y.dist).name == "Normal");
  BOOST_TEST(g.data.size() == 3u);
  BOOST_TEST(edge(g, "mu", "theta")->exact);
}

BOOST_AUTO_TEST_CASE(gmm_graph_and_guide) {
  auto g = example("gmm");
  std::string dot = vireo::ir::to_dot(g);
  BOOST_TEST(contains(dot, "\"loc\" -> \"x\""));
  BOOST_TEST(contains(dot, "\"z\" -> \"x\""));
  BOOST_TEST(contains(dot, "label=\"data (N)\""));
  BOOST_TEST(!contains(dot, "guide"));
  std::string with_guide = vireo::ir::to_dot(g, {true});
  BOOST_TEST(contains(with_guide, "\"guide.phi\" [label=\"phi\", shape=box"));
  BOOST_TEST(contains(with_guide, "\"guide.phi\" -> \"guide.z\""));
  BOOST_TEST(contains(with_guide, "\"guide.m\" -> \"guide.loc\""));
  const auto& z = g.site(site(g, "z", BodyKind::Guide));
  BOOST_TEST(z.baseline.given);
  BOOST_TEST(z.baseline.beta.value_or(0) == 0.9);
  // Categorical(logits = phi): the logits operand in the second parameter position.
  const auto& call = g.body(z.body).expr(z.dist_call);
  BOOST_TEST(g.body(z.body).operand(call, 0) == vireo::ir::no_expr);
  BOOST_TEST(g.body(z.body).operand(call, 1) != vireo::ir::no_expr);
}

BOOST_AUTO_TEST_CASE(dot_is_valid_graphviz) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) return;  // graphviz not installed: nothing to run
  auto g = example("gmm");
  fs::path path = fs::temp_directory_path() / "vireo_test_gmm.dot";
  std::ofstream(path) << vireo::ir::to_dot(g, {true});
  BOOST_TEST(std::system(("dot -Tsvg " + path.string() + " -o /dev/null").c_str()) == 0);
  fs::remove(path);
}

BOOST_AUTO_TEST_CASE(random_walk_loop_carried_edge) {
  auto g = example("random_walk");
  const auto* self = edge(g, "x", "x");
  BOOST_TEST_REQUIRE(self);
  BOOST_TEST(!self->exact);
  BOOST_TEST(edge(g, "x", "y")->exact);
  BOOST_TEST(edge(g, "sigma", "x")->exact);
  BOOST_TEST(g.site(site(g, "y")).loops.size() == 1u);
}

BOOST_AUTO_TEST_CASE(geometric_recursion) {
  auto g = example("geometric");
  BodyKind m = BodyKind::Model;
  BOOST_TEST(g.body(g.find_fn("geometric")).recursive);
  BOOST_TEST_REQUIRE(edge(g, "p", "flip", m));
  BOOST_TEST_REQUIRE(edge(g, "flip", "k", m));
  BOOST_TEST(!edge(g, "flip", "k", m)->exact);
  const auto* self = edge(g, "flip", "flip", m);
  BOOST_TEST_REQUIRE(self);  // the recursive call happens only when flip was 0
  BOOST_TEST(self->control);
}
