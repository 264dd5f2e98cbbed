// M4 at d = 100 (bench/MODELS.md): conjugate linear regression
//   beta_d ~ N(0, 1),  y_n ~ N(X_n · beta, 1),  N = 200, D = 100,
// fitted with auto_mvn. The family holds the exact posterior, so the fit is
// asked to reach it: every posterior mean within 0.1 posterior sd, every sd
// within 10%, and the ELBO within 1 nat of the exact log evidence (reference
// systems: NumPyro's AutoMultivariateNormal with Adam(0.01) stops 13.8 nats
// short after 5000 steps, Stan's full-rank ADVI 1.31 after 10^4;
// ../shared/bench/ANCHORS.md).
//
// What gets there, found with a sweep of lr, lr decay, particles, initial
// scale and estimator over seeds:
//  - "sticking the landing" (Roeder, Wu & Duvenaud 2017): its gradient's
//    variance vanishes at the exact posterior, so the fit settles there;
//    with Pyro's estimator a single-particle fit is still 1–2 nats short
//    after a few thousand steps of any decay tried (0.8 after 10^4 steps);
//  - an lr decay (clipped_adam, lr ← 0.999 lr every step): Adam divides by
//    the gradient's running rms, so as the STL gradient vanishes its steps
//    stay lr-sized and a constant lr wanders off the optimum again;
//  - either an initial scale of 1 (the prior's) with lr 0.01, lrd 0.999,
//    or the default 0.1 with a gentler lr 0.005, lrd 0.9995: from a narrow
//    start the STL estimate of the scale gradient is noisy enough to derail
//    a fit at lr 0.01 (0.1, lr 0.01, lrd 0.999 ends 5 nats short).
// Over seeds 1–10 the first ends 0.000–0.002 nats below log Z, means within
// 0.005 sd and sds within 0.7% after 2000 steps (Release: ≈0.4 s per fit);
// the second 0.000–0.003 nats, 0.026 sd and 0.4% after 4000 steps. The first schedule without STL ends ≈2.2 nats short (1.3 after 3000
// steps, 0.3 with 8 particles); Adam(0.01) for 5000 steps with
// init scale 0.1, no decay, no STL ends 13.3 nats short, as NumPyro.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "vector_fit.hpp"

using namespace vireo;

namespace {

struct M4Data {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  // From ..._truth.json.
  double log_z = 0;
  Eigen::VectorXd post_mean, post_sd;
};

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  return nlohmann::json::parse(f);
}

M4Data read_m4(const std::string& stem) {
  const nlohmann::json j = read_json(stem + ".json");
  const nlohmann::json t = read_json(stem + "_truth.json");
  const int n = j.at("N"), d = j.at("D");
  M4Data m;
  m.x.resize(n, d);
  m.y.resize(n);
  for (int i = 0; i < n; ++i) {
    m.y[i] = j.at("y").at(i);
    for (int k = 0; k < d; ++k) m.x(i, k) = j.at("X").at(i).at(k);
  }
  m.log_z = t.at("log_marginal_likelihood");
  m.post_mean.resize(d);
  m.post_sd.resize(d);
  for (int k = 0; k < d; ++k) {
    m.post_mean[k] = t.at("post_mean").at(k);
    m.post_sd[k] = t.at("post_sd").at(k);
  }
  return m;
}

const std::string d100 = VIREO_SHARED_DIR "/bench/data/conjugate_linreg_d100";

// STL from the prior's scale: the fastest.
test::Schedule wide_start() {
  test::Schedule s;
  s.guide = "auto_mvn";
  s.lr = 0.01;
  s.lrd = 0.999;  // 0.01 → 1.4e-3 over 2000 steps
  s.particles = 1;
  s.steps = 2000;
  s.stl = true;
  s.init_scale = 1.0;
  return s;
}

// STL from the default initial scale 0.1, with a gentler lr.
test::Schedule default_start() {
  test::Schedule s = wide_start();
  s.lr = 0.005;
  s.lrd = 0.9995;  // 0.005 → 6.8e-4 over 4000 steps
  s.steps = 4000;
  s.init_scale = 0.1;
  return s;
}

// Fits M4 d = 100 with `s` for seeds 1–3 and checks the three criteria.
void reaches_the_exact_posterior(const test::Schedule& s) {
  const M4Data m = read_m4(d100);
  const test::ConjugateLinreg exact(m.x, m.y);
  for (std::uint64_t seed : {1, 2, 3}) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      test::VectorFit fit(test::linreg_model, exact.data(), seed);
      fit.setup(s);
      BOOST_TEST(fit.train(s.steps) == 0);
      guide::AutoContinuous* g = fit.joint();
      BOOST_REQUIRE(g);
      // beta is unconstrained, so q's moments in u are beta's.
      const Eigen::VectorXd mean = g->mean(fit.store);
      const Eigen::VectorXd sd = g->covariance(fit.store).diagonal().cwiseSqrt();
      const double mean_err = ((mean - m.post_mean).array() / m.post_sd.array()).abs().maxCoeff();
      const double sd_err = (sd.array() / m.post_sd.array() - 1).abs().maxCoeff();
      // The ELBO from 2000 fresh draws, each its own execution; se is its
      // Monte Carlo standard error. The ELBO estimate is honest only if the
      // whole 3-se interval lies within 1 nat below log Z; it may not lie
      // above log Z (ELBO ≤ log Z; 1e-6 for rounding when se ≈ 0 at the
      // optimum, where every draw's log p − log q equals log Z).
      const auto [elbo, se] = fit.elbo_estimate(2000);
      BOOST_TEST_MESSAGE("seed " << seed << ": max |mean − truth| / sd " << mean_err << ", max |sd / truth − 1| "
                                 << sd_err << ", ELBO " << elbo << " ± " << se << ", log Z " << m.log_z << ", gap "
                                 << m.log_z - elbo);
      BOOST_TEST(mean_err <= 0.1);
      BOOST_TEST(sd_err <= 0.1);
      BOOST_TEST(m.log_z - (elbo - 3 * se) <= 1.0);
      BOOST_TEST(elbo - 3 * se <= m.log_z + 1e-6);
      BOOST_TEST(std::abs(m.log_z - elbo) <= 1.0);
    }
  }
}

}  // namespace

// The truth file and the exact computation from the data agree, so that the
// criteria below measure the fit and not the data reading. make_data.py
// rounds X and y to 6 decimals but computes the truth from the unrounded
// values: log Z moves by ≈5e-5, far inside the 1-nat criterion.
BOOST_AUTO_TEST_CASE(truth_file_matches_the_exact_posterior) {
  const M4Data m = read_m4(d100);
  const test::ConjugateLinreg exact(m.x, m.y);
  BOOST_TEST(m.x.rows() == 200);
  BOOST_TEST(m.x.cols() == 100);
  BOOST_TEST(std::abs(exact.log_z - m.log_z) < 1e-3);
  const Eigen::VectorXd sd = exact.post_cov.diagonal().cwiseSqrt();
  BOOST_TEST((exact.post_mean - m.post_mean).cwiseAbs().maxCoeff() < 1e-5);
  BOOST_TEST((sd - m.post_sd).cwiseAbs().maxCoeff() < 1e-5);
}

BOOST_AUTO_TEST_CASE(auto_mvn_reaches_the_exact_posterior_from_a_wide_start) { reaches_the_exact_posterior(wide_start()); }

BOOST_AUTO_TEST_CASE(auto_mvn_reaches_the_exact_posterior_from_the_default_start) {
  reaches_the_exact_posterior(default_start());
}

// auto_realnvp (4 coupling layers of hidden width 32, soft clamp, LOFT) on
// the same data: issue 7 asks for an ELBO within 2 nats of log Z. STL from
// the prior's scale, lr 0.005 decayed by 0.9995 per step for 4000 steps
// (≈6 s in Release) ends 1.55 nats below log Z; hidden width 64 ends 1.03,
// 8 layers 1.46; with relu nets instead of tanh 2.5–2.8; the flow with no
// coupling layer (a diagonal Gaussian) 5.4. Schedule from the environment for sweeps: VIREO_FLOW_STEPS, VIREO_FLOW_LR, VIREO_FLOW_LRD, VIREO_FLOW_SCALE,
// VIREO_FLOW_LAYERS, VIREO_FLOW_HIDDEN.
BOOST_AUTO_TEST_CASE(auto_realnvp_elbo_within_two_nats) {
  const M4Data m = read_m4(d100);
  const test::ConjugateLinreg exact(m.x, m.y);
  auto env = [](const char* n, double dflt) {
    const char* v = std::getenv(n);
    return v ? std::atof(v) : dflt;
  };
  test::Schedule s = wide_start();
  s.guide = "auto_realnvp";
  s.steps = static_cast<int>(env("VIREO_FLOW_STEPS", 4000));
  s.lr = env("VIREO_FLOW_LR", 0.005);
  s.lrd = env("VIREO_FLOW_LRD", 0.9995);
  s.init_scale = env("VIREO_FLOW_SCALE", 1.0);
  s.flow_layers = static_cast<int>(env("VIREO_FLOW_LAYERS", 4));
  s.flow_hidden = static_cast<int>(env("VIREO_FLOW_HIDDEN", 32));
  test::VectorFit fit(test::linreg_model, exact.data(), 1);
  fit.setup(s);
  BOOST_TEST(fit.train(s.steps) == 0);
  const auto [elbo, se] = fit.elbo_estimate(2000);
  BOOST_TEST_MESSAGE("auto_realnvp: ELBO " << elbo << " ± " << se << ", log Z " << m.log_z << ", gap " << m.log_z - elbo);
  BOOST_TEST(elbo - 3 * se <= m.log_z + 1e-6);
  BOOST_TEST(m.log_z - elbo <= 2.0);
}
