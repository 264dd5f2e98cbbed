// The embedding API (include/vireo/vireo.hpp) as a host program uses it.
#include <boost/test/unit_test.hpp>

#include "vireo/vireo.hpp"

BOOST_AUTO_TEST_CASE(api_loads_and_draws) {
  vireo::Model m = vireo::Model::from_file(VIREO_SOURCE_DIR "/examples/eight_schools.vireo");
  BOOST_TEST(!m.has_guide());
  BOOST_TEST(m.graph_dot().find("digraph") != std::string::npos);
  BOOST_TEST(m.graph_text().find("edge model theta -> y (data)") != std::string::npos);
  BOOST_TEST((m.latent_sites() == std::vector<std::string>{"mu", "tau", "eta"}));
  BOOST_TEST((m.data_names() == std::vector<std::string>{"J", "y", "sigma"}));
  vireo::Model g = vireo::Model::from_file(VIREO_SOURCE_DIR "/examples/gmm.vireo");
  BOOST_TEST(g.has_guide());
  BOOST_TEST(g.graph_dot(true).find("guide.phi") != std::string::npos);
  vireo::Model moved = std::move(g);
  BOOST_TEST(moved.file_name().find("gmm.vireo") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(api_errors_are_structured) {
  const std::string text = "model {\n  mu ~ Normul(0, 5)\n  x = 1\n}\n";
  try {
    vireo::Model::from_string(text, "inline.vireo");
    BOOST_FAIL("expected vireo::Error");
  } catch (const vireo::Error& e) {
    const auto& d = e.diagnostics();
    BOOST_TEST_REQUIRE(d.size() == 2u);
    BOOST_TEST(d[0].file == "inline.vireo");
    BOOST_TEST(d[0].line == 2);
    BOOST_TEST(d[0].column == 8);
    BOOST_TEST(d[0].message == "unknown distribution 'Normul'");
    BOOST_TEST(d[0].hint == "did you mean 'Normal'?");
    BOOST_TEST(d[1].line == 3);
    BOOST_TEST(std::string(e.what()).find("inline.vireo:2:8: error: unknown distribution 'Normul'") !=
               std::string::npos);
    const std::runtime_error& base = e;  // hosts may catch std::runtime_error
    BOOST_TEST(std::string(base.what()).find("^~~~~~") != std::string::npos);
  }
  BOOST_CHECK_THROW(vireo::Model::from_file("/nonexistent.vireo"), vireo::Error);
}

BOOST_AUTO_TEST_CASE(api_keeps_warnings) {
  vireo::Model m = vireo::Model::from_string("model {\n  tau ~ HalfCauchy(1)\n}\nguide {\n  tau ~ Normal(0, 1)\n}\n",
                                             "warn.vireo");
  BOOST_TEST_REQUIRE(m.warnings().size() == 1u);
  BOOST_TEST((m.warnings()[0].severity == vireo::Diagnostic::Severity::Warning));
  BOOST_TEST(m.warnings()[0].line == 5);
  BOOST_TEST(m.rendered_warnings().find("warn.vireo:5:3: warning:") != std::string::npos, m.rendered_warnings());
}
