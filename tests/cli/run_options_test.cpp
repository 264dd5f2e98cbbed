// `vireo run` / `trace` / `evidence` options of issue 13: a model without a
// data block needs no --data; --max-depth; --init-values.
#include <boost/test/unit_test.hpp>

#include <string>

#include "cli/vireo_process.hpp"

using namespace vireo_test;

// A model that declares no data runs, traces and estimates its evidence
// without --data; one that declares data says which items it needs.
BOOST_AUTO_TEST_CASE(no_data_block_needs_no_data) {
  fs::path prior = write_temp("prior.vireo", "model {\n  mu ~ Normal(0, 1)\n  s ~ HalfNormal(1)\n}\n");
  Run r = vireo("run '" + prior.string() + "' --steps 20 --num-draws 20");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "mu"), r.out);
  r = vireo("trace '" + prior.string() + "'");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "mu"), r.out);
  r = vireo("evidence '" + prior.string() + "' --draws 50");
  BOOST_TEST(r.status == 0, r.err);
  r = vireo("run " + examples + "eight_schools.vireo --steps 5");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "this model has a data block (J, y, sigma): pass its values with --data FILE.json"), r.err);
  fs::remove(prior);
}
