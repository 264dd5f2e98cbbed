// Posterior accuracy against long NUTS runs (../shared/reference/posteriors:
// Stan 2.21, 40000 draws, n_eff ≥ 2.8·10^4): eight schools (M1), logistic
// regression (M2) and LANGUAGE.md's random walk, each fitted through the
// embedding API with the full-rank Gaussian guide and the path-derivative
// (STL) gradient, compared element by element.
//
// Where the tolerances come from (z = (fit mean − NUTS mean) / NUTS sd):
// - Monte Carlo: 20000 guide draws give a mean's z an sd of 1/√20000 = 0.007
//   and an sd's ratio an sd of 1/√40000 = 0.005; NUTS's own error is below
//   1/√n_eff = 0.006. Over the ≤ 51 elements of a model the largest of
//   these stays below 4 of its sds: 0.03 and 0.02.
// - The fit's own noise: a stochastic optimiser stops at a random point
//   near the optimum. Measured over seeds 1–7 of the configuration below,
//   eight schools' mu and theta means moved by an sd of about 0.07 in z.
// - The family's bias: a Gaussian in the unconstrained space is the
//   posterior's family only approximately. M2 (N = 5000) is very nearly
//   Gaussian. In eight schools tau's posterior on the log scale is skewed:
//   seeds 1–7 all gave z −0.16 to −0.20 and an sd ratio 0.82–0.86 for tau,
//   which pulls mu and theta down by up to 0.2 too. The random walk's sigma
//   sits in a funnel with the increments of x; a Gaussian guide there
//   underestimates sigma's sd by more than half (a ratio of 0.39), a known
//   limit of the family, so only sigma's mean is checked.
// Each bound is the bias band plus three of the noise sds above.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "vireo/vireo.hpp"

namespace {

const std::string examples = VIREO_SOURCE_DIR "/examples/";
const std::string shared = VIREO_SHARED_DIR "/";

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  return nlohmann::json::parse(in);
}

// The configuration measured above: auto_mvn, STL, 4 particles, initial
// scale 0.1, ClippedAdam at 0.01 decaying by 0.9995 a step, the last iterate.
vireo::FitOptions full_rank(std::uint64_t seed) {
  vireo::FitOptions o;
  o.guide = vireo::Guide::AutoMvn;
  o.estimator = vireo::Estimator::Stl;
  o.particles = 4;
  o.optim = vireo::Optimizer::ClippedAdam;
  o.lr = 0.01;
  o.lrd = 0.9995;
  o.seed = seed;
  o.init_scale = 0.1;
  o.lr_schedule = vireo::LrSchedule();  // ClippedAdam's lrd is the decay
  o.average_last = 0;
  return o;
}

// The summary of site `name`'s element i: sites of a `for` loop are named
// `x[i]`, one per iteration; a plated site holds its elements itself.
const vireo::SiteSummary* find_site(const vireo::Summary& s, const std::string& name) {
  for (const auto& site : s.sites)
    if (site.name == name) return &site;
  return nullptr;
}

struct Element {
  double mean = NAN, sd = NAN;
};
Element element(const vireo::Summary& s, const std::string& name, std::size_t i, bool looped) {
  const vireo::SiteSummary* site = looped ? find_site(s, name + "[" + std::to_string(i) + "]") : find_site(s, name);
  BOOST_REQUIRE_MESSAGE(site, "the summary has no site " << name);
  std::size_t k = looped ? 0 : i;
  BOOST_REQUIRE(k < site->mean.size());
  return {site->mean[k], site->sd[k]};
}

struct Bounds {
  double z = 0;                       // |z| of the mean at most this
  double sd_low = 0, sd_high = 0;     // the sd ratio within [sd_low, sd_high]; sd_low = 0: not checked
};

// Compares every element of `param` in the reference with the fit's summary.
void compare(const vireo::Summary& fit, const nlohmann::json& ref, const std::string& param, const Bounds& b,
             bool looped = false) {
  const auto& m = ref["mean"][param];
  const auto& s = ref["sd"][param];
  std::size_t n = m.is_array() ? m.size() : 1;
  for (std::size_t i = 0; i < n; ++i) {
    double want = m.is_array() ? m[i].get<double>() : m.get<double>();
    double sd = s.is_array() ? s[i].get<double>() : s.get<double>();
    Element got = element(fit, param, i, looped);
    double z = (got.mean - want) / sd, ratio = got.sd / sd;
    BOOST_TEST(std::abs(z) <= b.z, param << "[" << i << "]: mean " << got.mean << " vs NUTS " << want << " (z " << z
                                          << ", bound " << b.z << ")");
    if (b.sd_low > 0)
      BOOST_TEST((ratio >= b.sd_low && ratio <= b.sd_high),
                 param << "[" << i << "]: sd " << got.sd << " vs NUTS " << sd << " (ratio " << ratio << ", bounds ["
                       << b.sd_low << ", " << b.sd_high << "])");
  }
}

vireo::Summary fit_and_summarize(const std::string& model_file, const std::string& data_file, vireo::FitOptions o,
                                 long steps) {
  vireo::Model model = vireo::Model::from_file(model_file);
  vireo::Data data = vireo::Data::from_json_file(model, data_file);
  vireo::Fit fit(model, data, o);
  fit.run(steps);
  BOOST_TEST(fit.rejected_steps() == 0);
  return fit.summarize(20000);
}

}  // namespace

// M1, non-centred. mu and theta: bias up to 0.2 plus 3 × 0.07 noise, plus MC
// 0.03 → 0.45; their sds within 10% (measured 0.91–1.03). eta: nearly
// standard normal, z within 0.03 + 3 × 0.05 ≈ 0.2 and sd within 10%. tau:
// z in the measured band −0.20…−0.16, ±0.15; sd ratio 0.82–0.86 ± 0.08.
BOOST_AUTO_TEST_CASE(eight_schools_against_nuts) {
  nlohmann::json ref = read_json(shared + "reference/posteriors/eight_schools.json");
  for (std::uint64_t seed : {2u, 3u}) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      vireo::Summary s = fit_and_summarize(examples + "eight_schools.vireo", shared + "bench/data/eight_schools.json",
                                           full_rank(seed), 5000);
      compare(s, ref, "mu", {0.45, 0.9, 1.1});
      compare(s, ref, "theta", {0.45, 0.9, 1.1});
      compare(s, ref, "eta", {0.2, 0.9, 1.1});
      compare(s, ref, "tau", {0.35, 0.74, 0.94});
    }
  }
}

// M2: nearly Gaussian; means within 0.03 (MC) + 3 × 0.03 (fit noise on a
// 1-particle-per-coordinate scale) ≈ 0.15 sd, sds within 10% (measured
// 0.95–1.05 over the 51 coefficients).
BOOST_AUTO_TEST_CASE(logistic_regression_against_nuts) {
  nlohmann::json ref = read_json(shared + "reference/posteriors/logistic_regression.json");
  vireo::Summary s = fit_and_summarize(examples + "logistic_regression.vireo",
                                       shared + "bench/data/logistic_regression.json", full_rank(1), 5000);
  compare(s, ref, "w", {0.15, 0.9, 1.1});
  compare(s, ref, "b", {0.15, 0.9, 1.1});
}

// The random walk (T = 25): x given sigma is Gaussian and the guide gets it
// (measured |z| ≤ 0.11, sd ratios 0.91–0.98); sigma's mean within 0.2.
BOOST_AUTO_TEST_CASE(random_walk_against_nuts) {
  nlohmann::json ref = read_json(shared + "reference/posteriors/random_walk.json");
  vireo::Summary s = fit_and_summarize(examples + "random_walk.vireo",
                                       shared + "reference/posteriors/random_walk.data.json", full_rank(1), 5000);
  compare(s, ref, "x", {0.25, 0.85, 1.1}, /*looped=*/true);
  compare(s, ref, "sigma", {0.2, 0, 0});
}
