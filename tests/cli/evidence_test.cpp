// `vireo evidence` and `vireo run --evidence N` end to end: the estimate
// against a closed-form log Z with an exact guide, the verdict printed with
// the number when k̂ says it cannot be trusted, the summary JSON's
// "evidence" object, the same draws from both commands, and the mistakes
// (parameters of another guide, no draws).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/vireo_process.hpp"

using namespace vireo_test;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

fs::path out_path(const std::string& name) {
  return fs::temp_directory_path() / ("vireo_evidence_" + std::to_string(::getpid()) + "_" + name);
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// y_i ~ N(mu, 1), mu ~ N(0, 1), y = (1.2, 0.8, 2.1, 1.7, 0.4): posterior
// N(6.2/6, 1/6); log Z = −5/2 log 2π − ½ log 6 − ½ (Σy² − (Σy)²/6).
const double sum_y = 6.2, sum_y2 = 1.44 + 0.64 + 4.41 + 2.89 + 0.16;
const double exact_log_z = -2.5 * std::log(2 * M_PI) - 0.5 * std::log(6.0) - 0.5 * (sum_y2 - sum_y * sum_y / 6);

// The model with a guide N(m, s) whose parameters start at (m, s).
fs::path model_with_guide(const std::string& name, double m, double s) {
  char text[512];
  std::snprintf(text, sizeof text, R"(data { N: int  y: real[N] }
model { mu ~ Normal(0, 1)  plate data(N) { observe y ~ Normal(mu, 1) } }
guide { param m: real = %.17g  param s: real<lower=0> = %.17g  mu ~ Normal(m, s) }
)",
                m, s);
  return write_temp(name, text);
}

fs::path data_file() { return write_temp("nn_data.json", R"({"N": 5, "y": [1.2, 0.8, 2.1, 1.7, 0.4]})"); }

// The number after "log Z = " on stdout.
double printed_log_z(const std::string& out) {
  auto at = out.find("log Z = ");
  return at == std::string::npos ? std::nan("") : std::stod(out.substr(at + 8));
}

}  // namespace

BOOST_AUTO_TEST_CASE(evidence_with_the_exact_guide_is_log_z) {
  const fs::path model = model_with_guide("nn_exact.vireo", sum_y / 6, 1 / std::sqrt(6.0)), data = data_file();
  Run r = vireo("evidence " + q(model) + " --data " + q(data) + " --draws 1000");
  BOOST_TEST_REQUIRE(r.status == 0, r.err);
  BOOST_TEST_MESSAGE(r.out);
  // Printed to 4 decimals; every weight is Z.
  BOOST_TEST(std::abs(printed_log_z(r.out) - exact_log_z) < 1e-4, r.out << " exact " << exact_log_z);
  BOOST_TEST(has(r.out, "1000 draws"));
  BOOST_TEST(has(r.out, ": reliable"));
  // Every weight equal to rounding: said so, not a fitted tail.
  BOOST_TEST(has(r.out, "every weight equal to rounding: the guide is exact"), r.out);
  BOOST_TEST(!has(r.out, "warning"));
  BOOST_TEST(has(r.err, "no --load-params"));  // it says which parameters it used
}

BOOST_AUTO_TEST_CASE(an_untrustworthy_estimate_says_so_next_to_its_number) {
  // q = N(mean + 3 sd, (0.3 sd)²): a tail of k ≈ 0.9 (test_evidence.cpp).
  const double sd = 1 / std::sqrt(6.0);
  const fs::path model = model_with_guide("nn_narrow.vireo", sum_y / 6 + 3 * sd, 0.3 * sd), data = data_file();
  Run r = vireo("evidence " + q(model) + " --data " + q(data) + " --draws 4000 --seed 3");
  BOOST_TEST_REQUIRE(r.status == 0, r.err);
  BOOST_TEST_MESSAGE(r.out);
  BOOST_TEST(has(r.out, "NOT RELIABLE"));
  BOOST_TEST(has(r.out, "Pareto k̂"));
  BOOST_TEST(has(r.out, "warning: the evidence estimate cannot be trusted"));
  BOOST_TEST(has(r.out, "more draws will not help"));
}

BOOST_AUTO_TEST_CASE(run_with_evidence_prints_it_and_writes_it_to_the_summary) {
  const fs::path model = model_with_guide("nn_fit.vireo", 0, 1), data = data_file();
  const fs::path summary = out_path("summary.json"), params = out_path("params.json");
  Run r = vireo("run " + q(model) + " --data " + q(data) + " --steps 300 --lr 0.05 --seed 2 --evidence 2000 --summary " +
                q(summary) + " --save-params " + q(params));
  BOOST_TEST_REQUIRE(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "evidence: log Z = "));
  auto j = nlohmann::json::parse(slurp(summary));
  BOOST_TEST_REQUIRE(j.contains("evidence"));
  const auto& e = j["evidence"];
  for (const std::string& key : {"log_z", "se", "ess", "khat", "khat_threshold", "draws", "reliable", "warning",
                                  "nan_draws", "inf_draws", "zero_draws", "exact"})
    BOOST_TEST(e.contains(key), key);
  BOOST_TEST(e["nan_draws"].get<long>() == 0);
  BOOST_TEST(e["inf_draws"].get<long>() == 0);
  BOOST_TEST(!e["exact"].get<bool>());
  BOOST_TEST(e["draws"].get<long>() == 2000);
  BOOST_TEST(e["khat_threshold"].get<double>() == 1 - 1 / std::log10(2000.0), boost::test_tools::tolerance(1e-12));
  // A Gaussian guide on a Gaussian posterior after 300 steps: near, and trusted.
  BOOST_TEST(std::abs(e["log_z"].get<double>() - exact_log_z) < 0.05, e.dump());
  BOOST_TEST(e["reliable"].get<bool>(), e.dump());

  // `vireo evidence` at the saved parameters with the same seed draws the
  // same proposals (draw i from (seed, i)): the same estimate.
  Run again = vireo("evidence " + q(model) + " --data " + q(data) + " --load-params " + q(params) + " --draws 2000 --seed 2");
  BOOST_TEST_REQUIRE(again.status == 0, again.err);
  BOOST_TEST(printed_log_z(again.out) == printed_log_z(r.out.substr(r.out.find("evidence: "))));

  // Without --evidence there is no evidence object.
  Run plain = vireo("run " + q(model) + " --data " + q(data) + " --steps 10 --summary " + q(summary));
  BOOST_TEST_REQUIRE(plain.status == 0, plain.err);
  BOOST_TEST(!nlohmann::json::parse(slurp(summary)).contains("evidence"));
  BOOST_TEST(!has(plain.out, "evidence:"));
  fs::remove(summary);
  fs::remove(params);
}

BOOST_AUTO_TEST_CASE(evidence_mistakes) {
  const fs::path model = model_with_guide("nn_mistakes.vireo", 0, 1), data = data_file();
  const fs::path params = out_path("mistake_params.json");
  Run fit = vireo("run " + q(model) + " --data " + q(data) + " --steps 5 --save-params " + q(params));
  BOOST_TEST_REQUIRE(fit.status == 0, fit.err);
  // Parameters of the custom guide given to auto_normal: refused, not
  // silently estimated at auto_normal's initial values.
  Run other = vireo("evidence " + q(model) + " --data " + q(data) + " --load-params " + q(params) +
                    " --guide auto_normal --draws 100");
  BOOST_TEST(other.status == 1);
  BOOST_TEST(has(other.err, "does not hold the parameters of the guide auto_normal"), other.err);
  BOOST_TEST(has(other.err, "hint:"), other.err);
  BOOST_TEST(other.out.empty());
  // No draws: a command-line mistake.
  BOOST_TEST(vireo("evidence " + q(model) + " --data " + q(data) + " --draws 0").status == 2);
  BOOST_TEST(vireo("run " + q(model) + " --data " + q(data) + " --evidence -1").status == 2);
  fs::remove(params);
}

BOOST_AUTO_TEST_CASE(a_recursion_deeper_than_the_fit_saw_starts_from_init) {
  // geometric.vireo's site set changes from run to run (flip, flip#1, …):
  // a 3-step fit saw a few depths; 30000 draws reach deeper ones, whose
  // per-site guides start from their init, as they would in the fit.
  const std::string model = examples + "geometric.vireo", data = examples + "data/geometric.json";
  const fs::path params = out_path("geometric_params.json");
  Run fit = vireo("run " + q(model) + " --data " + q(data) + " --steps 3 --save-params " + q(params));
  BOOST_TEST_REQUIRE(fit.status == 0, fit.err);
  const auto saved = nlohmann::json::parse(slurp(params));
  std::size_t depths = 0;
  for (const auto& p : saved["params"]) depths += p["name"].get<std::string>().rfind("auto.logits.flip", 0) == 0;
  Run r = vireo("evidence " + q(model) + " --data " + q(data) + " --load-params " + q(params) + " --draws 30000");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "evidence: log Z = "), r.out);
  BOOST_TEST_MESSAGE("the fit saw " << depths << " depths");
  BOOST_TEST(depths < 15u);  // P(depth ≥ 15) is tiny in 3 draws; 30000 draws at p ≈ 0.5 go past it

  // Still refused: a stored parameter of the wrong shape for its site.
  nlohmann::json bad = saved;
  for (auto& p : bad["params"])
    if (p["name"] == "auto.loc.p") {
      p["shape"] = {2};
      p["unconstrained"] = {0.1, 0.2};
    }
  const fs::path wrong = write_temp("geometric_wrong_shape.json", bad.dump());
  Run w = vireo("evidence " + q(model) + " --data " + q(data) + " --load-params " + q(wrong) + " --draws 100");
  BOOST_TEST(w.status == 1);
  BOOST_TEST(has(w.err, "site 'p' has shape [2] but the site has shape []"), w.err);
  fs::remove(params);
}

BOOST_AUTO_TEST_CASE(parameters_of_another_model_are_refused) {
  const fs::path data = data_file(), params = out_path("other_model_params.json");
  // A custom guide of another model (parameters a, b; this guide has m, s).
  const fs::path other = write_temp("nn_other.vireo", R"(data { N: int  y: real[N] }
model { mu ~ Normal(0, 1)  plate data(N) { observe y ~ Normal(mu, 1) } }
guide { param a: real = 0  param b: real<lower=0> = 1  mu ~ Normal(a, b) }
)");
  Run fit = vireo("run " + q(other) + " --data " + q(data) + " --steps 5 --save-params " + q(params));
  BOOST_TEST_REQUIRE(fit.status == 0, fit.err);
  const fs::path model = model_with_guide("nn_this.vireo", 0, 1);
  Run r = vireo("evidence " + q(model) + " --data " + q(data) + " --load-params " + q(params) + " --draws 100");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "does not hold the parameters of the guide custom for this model"), r.err);

  // A joint-vector guide whose site set changed (one continuous site in the
  // fit, two here): refused by the guide.
  const fs::path two = write_temp("nn_two.vireo", R"(data { N: int  y: real[N] }
model { mu ~ Normal(0, 1)  tau ~ Normal(0, 1)  plate data(N) { observe y ~ Normal(mu + tau, 1) } }
)");
  Run mvn = vireo("run " + q(other) + " --data " + q(data) + " --guide auto_mvn --steps 5 --save-params " + q(params));
  BOOST_TEST_REQUIRE(mvn.status == 0, mvn.err);
  Run j = vireo("evidence " + q(two) + " --data " + q(data) + " --guide auto_mvn --load-params " + q(params) + " --draws 100");
  BOOST_TEST(j.status == 1);
  BOOST_TEST(has(j.err, "the parameters belong to another model"), j.err);
  fs::remove(params);
}
