// The `vireo` command end to end: exit codes, stdout, stderr.
#include <boost/test/unit_test.hpp>

#include "cli/vireo_process.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace vireo_test;

BOOST_AUTO_TEST_CASE(check_good_file) {
  Run r = vireo("check " + examples + "eight_schools.vireo");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r.out, "eight_schools.vireo: ok"));
  BOOST_TEST(r.err.empty(), r.err);
}

BOOST_AUTO_TEST_CASE(check_bad_file_reports_every_error) {
  fs::path bad = write_temp("bad.vireo",
                            "data {\n  y: real\n}\nmodel {\n  mu ~ Normul(0, 5)\n  y ~ Normal(mu, 1)\n}\n");
  Run r = vireo("check '" + bad.string() + "'");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, bad.string() + ":5:8: error: unknown distribution 'Normul'"), r.err);
  BOOST_TEST(has(r.err, "    5 |   mu ~ Normul(0, 5)\n"), r.err);
  BOOST_TEST(has(r.err, "      |        ^~~~~~\n"), r.err);
  BOOST_TEST(has(r.err, "hint: did you mean 'Normal'?"), r.err);
  BOOST_TEST(has(r.err, ":6:3: error: 'y' is data: write `observe y ~ …`"), r.err);
  BOOST_TEST(r.out.empty());
  fs::remove(bad);
}

// `check --data` (LANGUAGE.md): the data against the declarations, then one
// execution, so that what only the data show is reported before `run`: here
// an index beyond the array it reads and a scale that the data make negative.
BOOST_AUTO_TEST_CASE(check_with_data_reports_what_the_data_show) {
  fs::path model = write_temp("gather.vireo",
                              "data {\n  N: int\n  K: int\n  z: int<lower=0>[N]\n  s: real\n  y: real[N]\n}\n"
                              "model {\n  w: real[K] ~ Normal(0, 1)\n  t ~ Normal(0, s)\n"
                              "  plate data(N) {\n    observe y ~ Normal(w[z], 1)\n  }\n}\n");
  fs::path good = write_temp("gather_good.json", R"({"N": 3, "K": 3, "z": [0, 2, 1], "s": 1, "y": [0.1, 0.2, 0.3]})");
  fs::path far = write_temp("gather_far.json", R"({"N": 3, "K": 3, "z": [0, 5, 1], "s": 1, "y": [0.1, 0.2, 0.3]})");
  fs::path negative = write_temp("gather_neg.json", R"({"N": 3, "K": 3, "z": [0, 2, 1], "s": -1, "y": [0.1, 0.2, 0.3]})");
  Run r = vireo("check '" + model.string() + "'");
  BOOST_TEST(r.status == 0, r.err);  // the program text alone is fine
  r = vireo("check '" + model.string() + "' --data '" + good.string() + "'");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "gather.vireo: ok"), r.out);
  r = vireo("check '" + model.string() + "' --data '" + far.string() + "'");
  BOOST_TEST(r.status == 1, r.out);
  BOOST_TEST(has(r.err, model.string() + ":12:"), r.err);
  BOOST_TEST(has(r.err, "index 5 is out of range"), r.err);
  BOOST_TEST(!has(r.out, "ok"), r.out);
  r = vireo("check '" + model.string() + "' --data '" + negative.string() + "'");
  BOOST_TEST(r.status == 1, r.out);
  BOOST_TEST(has(r.err, model.string() + ":10:"), r.err);
  BOOST_TEST(has(r.err, "scale"), r.err);
  for (const auto& p : {model, good, far, negative}) fs::remove(p);
}

BOOST_AUTO_TEST_CASE(missing_file) {
  Run r = vireo("check /nonexistent/model.vireo");
  BOOST_TEST(r.status != 0);
  BOOST_TEST(has(r.err, "cannot open '/nonexistent/model.vireo'"), r.err);
  r = vireo("graph /nonexistent/model.vireo");
  BOOST_TEST(r.status != 0);
}

BOOST_AUTO_TEST_CASE(graph_writes_dot) {
  Run r = vireo("graph " + examples + "eight_schools.vireo | cat");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r.out, "digraph"));
  BOOST_TEST(has(r.out, "\"theta\" -> \"y\""));
  BOOST_TEST(has(r.out, "schools (J)"));
  r = vireo("graph " + examples + "gmm.vireo --guide");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r.out, "cluster_guide"));
  r = vireo("graph " + examples + "gmm.vireo --format text");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r.out, "edge model z -> x (data)"), r.out);
  r = vireo("graph " + examples + "gmm.vireo --format svg");
  BOOST_TEST(r.status != 0);
}

BOOST_AUTO_TEST_CASE(usage_errors) {
  Run r = vireo("frobnicate x.vireo");
  BOOST_TEST(r.status != 0);
  BOOST_TEST(has(r.err, "unknown command 'frobnicate'"), r.err);
  r = vireo("");
  BOOST_TEST(r.status != 0);
  r = vireo("check");
  BOOST_TEST(r.status != 0);
  r = vireo("--help");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r.out, "check"));
  BOOST_TEST(has(r.out, "graph"));
}
