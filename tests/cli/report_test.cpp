// `vireo run --report / --elbo-history`, `vireo report`, and the API behind
// them (issue 20), end to end from the command line: what each writes, a
// failed fit writing its report alone, a report path refused before the fit.
// The page itself is checked in a browser by tests/report (headless Chromium).
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <cmath>
#include <sstream>

#include "cli/vireo_process.hpp"
#include "vireo/vireo.hpp"

using namespace vireo_test;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh scratch folder per test case: what a run leaves in it is what it wrote.
fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("vireo_report_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

// The model the guard stops (tests/cli/run_test.cpp's): SGD at lr 1 on data a
// thousand prior sds away overflows the guide's scale at the second step.
const char* far_model = R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  plate data(N) { observe y ~ Normal(mu, 0.01) }
})";

}  // namespace

BOOST_AUTO_TEST_CASE(elbo_history_has_a_row_per_step_with_lr_weight_and_refusals) {
  fs::path dir = scratch("history");
  fs::path hist = dir / "h.csv";
  Run r = vireo_test::vireo("run " + examples + "eight_schools.vireo --data " + examples +
                "eight_schools.json --steps 40 --kl-anneal 20 --kl-floor 0.1 --lr-schedule exp:0.9 --elbo-history " + q(hist));
  BOOST_TEST_REQUIRE(r.status == 0, r.err);
  auto rows = lines(slurp(hist));
  BOOST_TEST_REQUIRE(rows.size() == 41u);
  BOOST_TEST(rows[0] == "step,elbo,lr,latent_weight,rejected");
  // Step 1 at the floor, step 11 halfway (0.1 + 0.9·10/20), step 21 on at 1;
  // the rate 0.05·0.9^(t−1) for an applied step t (nothing refused here).
  BOOST_TEST(rows[1].rfind("1,", 0) == 0);
  auto cells = [&](int i) {
    std::vector<std::string> c;
    std::istringstream in(rows[static_cast<std::size_t>(i)]);
    for (std::string x; std::getline(in, x, ',');) c.push_back(x);
    return c;
  };
  BOOST_TEST(std::stod(cells(1)[3]) == 0.1, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(std::stod(cells(11)[3]) == 0.55, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(std::stod(cells(21)[3]) == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(std::stod(cells(1)[2]) == 0.05, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(std::stod(cells(3)[2]) == 0.05 * 0.81, boost::test_tools::tolerance(1e-12));
  for (int i = 1; i <= 40; ++i) BOOST_TEST(cells(i)[4] == "0");

  fs::remove_all(dir);
}

// A refused step is recorded with its reason and a non-finite ELBO; the CSV
// marks it rejected (skip goes on past it).
BOOST_AUTO_TEST_CASE(refused_steps_are_marked) {
  vireo::Model model = vireo::Model::from_string(far_model, "far.vireo");
  vireo::Data data = vireo::Data::from_json_string(model, R"({"N": 3, "y": [1000, 1000, 1000]})");
  vireo::Fit fit(model, data, {.optim = vireo::Optimizer::Sgd, .lr = 1.0});
  fit.run(5);
  const auto& steps = fit.step_history();
  BOOST_TEST_REQUIRE(steps.size() == 5u);
  BOOST_TEST(!steps[0].rejected);
  BOOST_TEST(steps[1].rejected);
  BOOST_TEST(!std::isfinite(steps[1].elbo));
  BOOST_TEST(has(steps[1].rejected_because, "scale must be positive"), steps[1].rejected_because);
  BOOST_TEST(steps[1].lr == 1.0);
  const auto rows = lines(fit.step_history_csv());
  BOOST_TEST_REQUIRE(rows.size() == 6u);
  BOOST_TEST(rows[2].rfind("2,nan,1,1,1", 0) == 0, rows[2]);
}

BOOST_AUTO_TEST_CASE(run_writes_the_report_with_the_other_outputs) {
  fs::path dir = scratch("run");
  Run r = vireo_test::vireo("run " + examples + "eight_schools.vireo --data " + examples + "eight_schools.json --steps 200 --seed 3" +
                " --evidence 200 --report " + q(dir / "r.html") + " --summary " + q(dir / "s.json"));
  BOOST_TEST_REQUIRE(r.status == 0, r.err);
  const std::string page = slurp(dir / "r.html");
  BOOST_TEST(page.rfind("<!DOCTYPE html>", 0) == 0);
  BOOST_TEST(has(page, "Content-Security-Policy\" content=\"default-src 'none';"));
  for (const char* site : {"mu", "tau", "eta", "theta"})
    BOOST_TEST(has(page, std::string("data-site=\"") + site + "\""), site);
  BOOST_TEST(has(page, "<a class=\"site-link\" href=\"#site-mu\">mu</a>"));  // the source links to the panel
  BOOST_TEST(has(page, "id=\"elbo-plot\""));
  BOOST_TEST(has(page, "prior Normal(0, 5)"));
  BOOST_TEST(has(page, "HalfCauchy(5)"));
  BOOST_TEST(has(page, "<h3 id=\"evidence\">"));  // --evidence's k̂ and verdict
  BOOST_TEST(has(page, "--steps 200 --seed 3"));  // the command line
  BOOST_TEST(has(page, "<svg"));                  // the plate diagram (graphviz is a dependency)
  BOOST_TEST(!has(page, "src=\"http"));
  BOOST_TEST(files_in(dir) == 2u);  // no temporary left
  fs::remove_all(dir);
}

// A failed fit writes none of its outputs but the report, alone, with the
// guard's message and the steps up to the failure.
BOOST_AUTO_TEST_CASE(a_failed_fit_writes_the_report_alone) {
  fs::path dir = scratch("failed");
  fs::path model = write_temp("report_far2.vireo", far_model);
  fs::path data = write_temp("report_far2.json", R"({"N": 3, "y": [1000, 1000, 1000]})");
  Run r = vireo_test::vireo("run " + q(model) + " --data " + q(data) + " --optim sgd --lr 1 --steps 100 --on-nonfinite stop" +
                " --summary " + q(dir / "s.json") + " --draws " + q(dir / "d.csv") + " --elbo-history " +
                q(dir / "h.csv") + " --report " + q(dir / "r.html"));
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "the fit stopped at step"), r.err);
  BOOST_TEST_REQUIRE(fs::exists(dir / "r.html"), r.err);
  BOOST_TEST(!fs::exists(dir / "s.json"));
  BOOST_TEST(!fs::exists(dir / "d.csv"));
  BOOST_TEST(!fs::exists(dir / "h.csv"));
  BOOST_TEST(files_in(dir) == 1u);  // atomic: no temporary beside it
  const std::string page = slurp(dir / "r.html");
  BOOST_TEST(has(page, "id=\"failure\""));
  BOOST_TEST(has(page, "the fit stopped at step 2"));
  BOOST_TEST(has(page, "scale must be positive"));
  BOOST_TEST(has(page, "2 steps;"));  // the ELBO of the steps up to the failure
  BOOST_TEST(has(page, "data-site=\"mu\""));
  fs::remove_all(dir);
  fs::remove(model);
  fs::remove(data);
}

// A report path that cannot be written fails before the fit starts.
BOOST_AUTO_TEST_CASE(an_unwritable_report_path_fails_before_the_fit) {
  fs::path dir = scratch("unwritable");
  for (const fs::path& bad : {dir / "no_such_folder" / "r.html", dir}) {
    Run r = vireo_test::vireo("run " + examples + "eight_schools.vireo --data " + examples + "eight_schools.json --steps 100000" +
                  " --summary " + q(dir / "s.json") + " --report " + q(bad));
    BOOST_TEST(r.status == 1);
    BOOST_TEST(has(r.err, "--report: cannot write"), r.err);
    BOOST_TEST(!has(r.err, "fitting"), r.err);  // the header of a fit that started
    BOOST_TEST(!fs::exists(dir / "s.json"));
  }
  Run r = vireo_test::vireo("run " + examples + "eight_schools.vireo --data " + examples + "eight_schools.json --steps 100000" +
                " --elbo-history " + q(dir / "none" / "h.csv"));
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "--elbo-history: cannot write"), r.err);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(report_from_saved_outputs) {
  fs::path dir = scratch("saved");
  Run r = vireo_test::vireo("run " + examples + "gmm.vireo --data " + examples + "gmm.json --steps 50 --summary " + q(dir / "s.json") +
                " --draws " + q(dir / "d.csv") + " --elbo-history " + q(dir / "h.csv"));
  BOOST_TEST_REQUIRE(r.status == 0, r.err);
  r = vireo_test::vireo("report " + examples + "gmm.vireo --summary " + q(dir / "s.json") + " --draws " + q(dir / "d.csv") +
            " --elbo-history " + q(dir / "h.csv") + " --command 'vireo run gmm.vireo' -o " + q(dir / "r.html"));
  BOOST_TEST_REQUIRE(r.status == 0, r.err);
  const std::string page = slurp(dir / "r.html");
  BOOST_TEST(has(page, "data-site=\"loc\""));
  BOOST_TEST(has(page, "data-site=\"z\""));
  BOOST_TEST(has(page, "P(z = v)"));  // the discrete site's probability table
  BOOST_TEST(has(page, "50 steps;"));
  BOOST_TEST(has(page, "vireo run gmm.vireo"));
  // A malformed input is an error naming it; nothing is written.
  std::ofstream(dir / "bad.csv") << "step,elbo\n1,2\n";
  r = vireo_test::vireo("report " + examples + "gmm.vireo --elbo-history " + q(dir / "bad.csv") + " -o " + q(dir / "r2.html"));
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "--elbo-history"), r.err);
  BOOST_TEST(!fs::exists(dir / "r2.html"));
  r = vireo_test::vireo("report " + examples + "gmm.vireo --summary " + q(dir / "missing.json") + " -o " + q(dir / "r2.html"));
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "cannot read"), r.err);
  fs::remove_all(dir);
}

// The API: step_history beside elbo_history, and report_html from a Fit.
BOOST_AUTO_TEST_CASE(api_step_history_and_report) {
  vireo::Model model = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data data = vireo::Data::from_json_file(model, examples + "eight_schools.json");
  vireo::Fit fit(model, data, {.seed = 2});
  fit.run(30);
  const auto& steps = fit.step_history();
  BOOST_TEST_REQUIRE(steps.size() == 30u);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    BOOST_TEST(steps[i].step == static_cast<long>(i + 1));
    BOOST_TEST(steps[i].elbo == fit.elbo_history()[i]);
    BOOST_TEST(steps[i].lr == 0.05);
    BOOST_TEST(!steps[i].rejected);
  }
  const std::string page = vireo::report_html(fit, {.command_line = "host program", .num_draws = 100});
  BOOST_TEST(has(page, "data-site=\"eta\""));
  BOOST_TEST(has(page, "host program"));
  BOOST_TEST(has(page, "30 steps;"));
  BOOST_TEST(!has(page, "unsafe-eval"));  // Vega runs with its expression interpreter
  // Without Graphviz the page says so, with the graph as DOT text, rather than failing.
  const std::string no_dot = vireo::report_html(fit, {.num_draws = 10, .dot = "/nonexistent/dot"});
  BOOST_TEST(has(no_dot, "id=\"plate-missing\""));
  BOOST_TEST(has(no_dot, "could not be run"));
  BOOST_TEST(has(no_dot, "digraph"));
}
