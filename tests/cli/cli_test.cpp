// The `vireo` command end to end: exit codes, stdout, stderr.
#define BOOST_TEST_MODULE vireo_cli
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace {

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs `vireo ARGS`, capturing stdout and stderr through temporary files.
Run vireo(const std::string& args) {
  static int counter = 0;
  fs::path dir = fs::temp_directory_path();
  std::string tag = std::to_string(::getpid()) + "_" + std::to_string(counter++);
  fs::path out = dir / ("vireo_cli_out_" + tag), err = dir / ("vireo_cli_err_" + tag);
  std::string cmd = std::string("'") + VIREO_EXE + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  int raw = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  r.out = slurp(out);
  r.err = slurp(err);
  fs::remove(out);
  fs::remove(err);
  return r;
}

fs::path write_temp(const std::string& name, const std::string& text) {
  fs::path p = fs::temp_directory_path() / (std::to_string(::getpid()) + "_" + name);
  std::ofstream(p) << text;
  return p;
}

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

const std::string examples = VIREO_SOURCE_DIR "/examples/";

}  // namespace

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
