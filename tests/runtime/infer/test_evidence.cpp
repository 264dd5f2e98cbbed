// The evidence estimate and its Pareto k̂: psis_khat on weights of known tail
// shape, the summary statistics on hand-made log-weights, and importance
// sampling on a Normal–Normal model whose log Z is known in closed form,
// with an exact, a good and a bad proposal. The M4 check is in
// test_evidence_m4.cpp (long).
#include <fmt/format.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <memory>
#include <numeric>

#include "runtime/infer/evidence.hpp"
#include "runtime/rng/generator.hpp"
#include "runtime/rng/samplers.hpp"
#include "support/fit.hpp"

using namespace vireo;
using I = interp::Kind;

namespace {

// log of S draws from GPD(k, σ = 1) by the inverse CDF:
// x = ((1 − u)^(−k) − 1) / k.
std::vector<double> gpd_log_draws(double k, long s, std::uint64_t seed) {
  rng::Generator g(seed);
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(s));
  for (long i = 0; i < s; ++i) out.push_back(std::log(std::expm1(-k * std::log1p(-g.uniform_open())) / k));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(tail_length_and_threshold) {
  BOOST_TEST(infer::psis_tail_length(10000) == 300);   // 3√S
  BOOST_TEST(infer::psis_tail_length(100) == 20);      // S/5
  BOOST_TEST(infer::khat_threshold(100) == 0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(infer::khat_threshold(10000) == 0.7);
  BOOST_TEST(std::isinf(infer::psis_khat(std::vector<double>(20, 0.0))));  // a tail of 4: too short to fit
}

BOOST_AUTO_TEST_CASE(khat_recovers_known_shapes) {
  // Weights drawn from GPD(k): the exceedances of any threshold are GPD(k)
  // again, so k̂ estimates k. At S = 10^4 the tail has M = 300 points; the
  // maximum-likelihood sd of k at M points is (1 + k)/√M (Zhang & Stephens'
  // estimator is as efficient here), 0.069–0.110; the prior toward 0.5 moves
  // k by (5 − 10k)/(M + 10), at most 0.013. Each replicate must lie within
  // 4 sd; the mean of R = 16 replicates within 4 sd/√R + the prior's pull.
  const long s = 10000;
  const double m = 300, reps = 16;
  for (double k : {0.2, 0.6, 0.9}) {
    const double sd = (1 + k) / std::sqrt(m), pull = std::abs(5 - 10 * k) / (m + 10);
    double sum = 0;
    for (int r = 0; r < reps; ++r) {
      const double khat = infer::psis_khat(gpd_log_draws(k, s, 1000 + static_cast<std::uint64_t>(r)));
      BOOST_TEST(std::abs(khat - k) < 4 * sd, "k " << k << " replicate " << r << ": k̂ " << khat);
      sum += khat;
    }
    const double mean = sum / reps;
    BOOST_TEST_MESSAGE("k " << k << ": mean k̂ over " << reps << " replicates " << mean << " (sd of one " << sd << ")");
    BOOST_TEST(std::abs(mean - k) < 4 * sd / std::sqrt(reps) + pull, "k " << k << ": mean k̂ " << mean);
  }
}

BOOST_AUTO_TEST_CASE(khat_is_shift_invariant_and_never_underflows) {
  const auto lw = gpd_log_draws(0.6, 4000, 7);
  const double k0 = infer::psis_khat(lw);
  for (double shift : {-1e4, 1e4}) {
    auto moved = lw;
    for (double& v : moved) v += shift;
    BOOST_TEST(infer::psis_khat(moved) == k0, boost::test_tools::tolerance(1e-9));
  }
  // Log-weights spread over 10^4 nats (e^{−1e4} underflows in any linear
  // scale): an extreme tail, and a finite k̂ far above 0.7.
  rng::Generator g(3);
  std::vector<double> wide;
  for (int i = 0; i < 4000; ++i) wide.push_back(2000 * rng::standard_normal(g));
  const double k = infer::psis_khat(wide);
  BOOST_TEST_MESSAGE("k̂ of log-weights with sd 2000: " << k);
  BOOST_TEST(std::isfinite(k));
  BOOST_TEST(k > 0.7);
}

BOOST_AUTO_TEST_CASE(equal_weights_have_a_low_khat) {
  // A point mass: no tail at all.
  const double k = infer::psis_khat(std::vector<double>(4000, -123.4));
  BOOST_TEST_MESSAGE("k̂ of equal weights: " << k);
  BOOST_TEST(k < 0);
  // Bounded weights (uniform on (0, 1)): GPD k = −1, fitted well below 0.5.
  rng::Generator g(5);
  std::vector<double> lw;
  for (int i = 0; i < 4000; ++i) lw.push_back(std::log(g.uniform_open()));
  const double ku = infer::psis_khat(lw);
  BOOST_TEST_MESSAGE("k̂ of uniform weights: " << ku);
  BOOST_TEST(ku < 0);
}

BOOST_AUTO_TEST_CASE(summary_statistics) {
  // Weights 1, 2, 3, 4 (times e^{500}, which would overflow unshifted).
  std::vector<double> lw;
  for (int rep = 0; rep < 100; ++rep)
    for (double w : {1.0, 2.0, 3.0, 4.0}) lw.push_back(500 + std::log(w));
  auto e = infer::evidence_from_log_weights(lw);
  BOOST_TEST(e.draws == 400);
  BOOST_TEST(e.log_z == 500 + std::log(2.5), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(e.ess == 400 * 2.5 * 2.5 / 7.5, boost::test_tools::tolerance(1e-12));  // (Σw)²/Σw² = S·mean²/mean(w²)
  // sd(w) = √(5/4 · 400/399), mean 2.5: se = sd / (√400 · 2.5).
  BOOST_TEST(e.se == std::sqrt(1.25 * 400 / 399) / (20 * 2.5), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(e.reliable);
  BOOST_TEST(e.warning.empty());

  // −inf log-weights (the model rules out the draw) count as weight 0; a NaN
  // log-weight is unknown: counted, left out, and the estimate not reliable.
  std::vector<double> half;
  for (int i = 0; i < 6; ++i)
    for (double v : {0.0, -std::numeric_limits<double>::infinity(), 0.0, std::nan("")}) half.push_back(v);
  auto h = infer::evidence_from_log_weights(half);
  BOOST_TEST(h.log_z == std::log(2.0 / 3), boost::test_tools::tolerance(1e-12));  // 12 of the 18 kept weigh 1
  BOOST_TEST(h.nan_draws == 6);
  BOOST_TEST(h.zero_draws == 6);
  BOOST_TEST(!h.reliable);
  BOOST_TEST(h.warning.find("6 of 24 draws had a NaN log-weight") != std::string::npos, h.warning);

  // None finite: log Z = −inf, and a warning that says why.
  auto none = infer::evidence_from_log_weights(std::vector<double>(50, -std::numeric_limits<double>::infinity()));
  BOOST_TEST((none.log_z == -std::numeric_limits<double>::infinity()));
  BOOST_TEST(!none.reliable);
  BOOST_TEST(none.warning.find("none of the 50 draws") != std::string::npos);

  // One weight e^{1e4} times the rest (M5's situation): ESS 1, and k̂ says so.
  std::vector<double> deg(20000, 0.0);
  rng::Generator g(11);
  for (double& v : deg) v = rng::standard_normal(g);
  deg[1234] = 1e4;
  auto d = infer::evidence_from_log_weights(deg);
  BOOST_TEST_MESSAGE("degenerate: log Z " << d.log_z << " ± " << d.se << ", ESS " << d.ess << ", k̂ " << d.khat);
  BOOST_TEST(d.ess == 1.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(d.khat > 0.7);
  BOOST_TEST(!d.reliable);
  BOOST_TEST(d.warning.find("cannot be trusted") != std::string::npos);
  BOOST_TEST(d.warning.find("more draws will not help") != std::string::npos);
}

namespace {

// y_i ~ N(mu, 1), mu ~ N(0, 1), i = 1..n: posterior N(Σy / (n + 1), 1 / (n + 1)),
// log Z = log N(y; 0, I + 11ᵀ) = −n/2 log 2π − ½ log(n + 1) − ½ (Σy² − (Σy)²/(n + 1)).
struct NormalNormal {
  std::vector<double> y = {1.2, 0.8, 2.1, 1.7, 0.4};
  double n() const { return static_cast<double>(y.size()); }
  double sum() const { return std::accumulate(y.begin(), y.end(), 0.0); }
  double post_mean() const { return sum() / (n() + 1); }
  double post_sd() const { return 1 / std::sqrt(n() + 1); }
  double log_z() const {
    double ss = 0;
    for (double v : y) ss += v * v;
    return -0.5 * n() * std::log(2 * M_PI) - 0.5 * std::log(n() + 1) - 0.5 * (ss - sum() * sum() / (n() + 1));
  }
  // The model with a guide N(m, s) whose parameters start at (m, s). (On the
  // heap: the Fit's context points into it.)
  std::unique_ptr<test::Fit> fit(double m, double s) const {
    const std::string text = fmt::format(R"(data {{ N: int  y: real[N] }}
model {{ mu ~ Normal(0, 1)  plate data(N) {{ observe y ~ Normal(mu, 1) }} }}
guide {{ param m: real = {:.17g}  param s: real<lower=0> = {:.17g}  mu ~ Normal(m, s) }})",
                                         m, s);
    auto f = std::make_unique<test::Fit>(
        text, test::dataset({{ad::Tensor(n()), I::Int}, {ad::Tensor::vector(y), I::Real}}), 1);
    guide::GuideOptions go;
    go.kind = "custom";
    f->guide = guide::make_guide(go, f->graph);
    return f;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(exact_proposal_gives_constant_weights) {
  NormalNormal nn;
  auto f = nn.fit(nn.post_mean(), nn.post_sd());
  auto e = infer::estimate_evidence(*f->ctx, *f->guide, 1000);
  BOOST_TEST_MESSAGE("exact guide: log Z " << e.log_z << " ± " << e.se << " (exact " << nn.log_z() << "), k̂ " << e.khat);
  // Every weight is Z itself, up to rounding in the log-densities.
  BOOST_TEST(std::abs(e.log_z - nn.log_z()) < 1e-10);
  BOOST_TEST(e.se < 1e-10);
  BOOST_TEST(e.ess == 1000, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(e.exact);  // the rounding in log w is no tail: an exact proposal, no fit
  BOOST_TEST(e.khat <= 0.5);
  BOOST_TEST(e.reliable);
  BOOST_TEST(e.warning.empty());
}

BOOST_AUTO_TEST_CASE(wide_proposal_is_within_its_standard_error) {
  // q = N(mean + 0.3 sd, (1.5 sd)²): wider than the posterior, so the weights
  // are bounded (k < 0) and the delta-method SE is a fair yardstick.
  NormalNormal nn;
  auto f = nn.fit(nn.post_mean() + 0.3 * nn.post_sd(), 1.5 * nn.post_sd());
  auto e = infer::estimate_evidence(*f->ctx, *f->guide, 4000);
  BOOST_TEST_MESSAGE("wide guide: log Z " << e.log_z << " ± " << e.se << " (exact " << nn.log_z() << "), k̂ " << e.khat
                                          << ", ESS " << e.ess);
  BOOST_TEST(e.se > 0);
  BOOST_TEST(std::abs(e.log_z - nn.log_z()) < 4 * e.se);
  BOOST_TEST(e.khat < 0.5);
  BOOST_TEST(e.reliable);
}

BOOST_AUTO_TEST_CASE(narrow_offset_proposal_is_flagged) {
  // q = N(mean + 3 sd, (0.3 sd)²): the weights' tail has k = 1 − 0.3² ≈ 0.9
  // (P(w > t) ~ t^{−1/(1 − σ_q²/σ_p²)}), reached slowly from an offset start:
  // over 50 seeds of 4000 draws k̂ averaged 1.06, the least 0.73.
  NormalNormal nn;
  auto f = nn.fit(nn.post_mean() + 3 * nn.post_sd(), 0.3 * nn.post_sd());
  auto e = infer::estimate_evidence(*f->ctx, *f->guide, 4000);
  BOOST_TEST_MESSAGE("narrow guide: log Z " << e.log_z << " ± " << e.se << " (exact " << nn.log_z() << "), k̂ " << e.khat
                                            << ", ESS " << e.ess << "\n" << e.warning);
  BOOST_TEST(e.khat > 0.7);
  BOOST_TEST(!e.reliable);
  BOOST_TEST(e.warning.find("cannot be trusted") != std::string::npos);
  BOOST_TEST(e.warning.find("k̂") != std::string::npos);
  BOOST_TEST(e.warning.find("effective sample size") != std::string::npos);
  BOOST_TEST(e.warning.find("better guide") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(draws_rewind_the_tape_and_reseed_on_request) {
  NormalNormal nn;
  auto f = nn.fit(nn.post_mean() + 0.3 * nn.post_sd(), 1.5 * nn.post_sd());
  long calls = 0;
  auto reseed = [&](long i) {
    ++calls;
    f->rng = rng::Generator(100 + static_cast<std::uint64_t>(i));
  };
  auto a = infer::estimate_evidence(*f->ctx, *f->guide, 200, reseed);
  auto b = infer::estimate_evidence(*f->ctx, *f->guide, 200, reseed);
  BOOST_TEST(calls == 400);
  BOOST_TEST(a.log_z == b.log_z);  // the same generators, the same draws
  BOOST_CHECK_THROW(infer::estimate_evidence(*f->ctx, *f->guide, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(nan_and_infinite_log_weights_are_counted_never_dropped) {
  // Log-weights of a good proposal (sd 0.1: k̂ well below 0.7) with a few
  // draws that are not numbers.
  rng::Generator g(21);
  std::vector<double> lw;
  for (int i = 0; i < 4000; ++i) lw.push_back(0.1 * rng::standard_normal(g));
  const auto clean = infer::evidence_from_log_weights(lw);
  BOOST_TEST_REQUIRE(clean.reliable);
  BOOST_TEST(clean.nan_draws == 0);
  BOOST_TEST(clean.inf_draws == 0);

  // One NaN among 4001: reported, and the verdict is "not reliable" though
  // k̂ is fine; the estimate is that of the other 4000.
  auto with_nan = lw;
  with_nan.push_back(std::nan(""));
  const auto n = infer::evidence_from_log_weights(with_nan);
  BOOST_TEST(n.draws == 4001);
  BOOST_TEST(n.nan_draws == 1);
  BOOST_TEST(n.log_z == clean.log_z, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(n.khat == clean.khat, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(!n.reliable);
  BOOST_TEST(n.warning.rfind("the evidence estimate cannot be trusted: 1 of 4001 draws had a NaN log-weight", 0) == 0,
             n.warning);

  // +inf: unbounded weights, flagged likewise.
  auto with_inf = lw;
  with_inf.push_back(std::numeric_limits<double>::infinity());
  const auto i = infer::evidence_from_log_weights(with_inf);
  BOOST_TEST(i.inf_draws == 1);
  BOOST_TEST(!i.reliable);
  BOOST_TEST(i.warning.find("log-weight of +inf") != std::string::npos, i.warning);

  // −inf: weight 0, a valid importance weight: counted in S, noted, still reliable.
  auto with_zero = lw;
  with_zero.push_back(-std::numeric_limits<double>::infinity());
  const auto z = infer::evidence_from_log_weights(with_zero);
  BOOST_TEST(z.zero_draws == 1);
  BOOST_TEST(z.log_z == clean.log_z + std::log(4000.0 / 4001), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(z.reliable);
  BOOST_TEST(z.warning.find("note: 1 of 4001 draws had a log-weight of -inf") == 0, z.warning);

  // Only NaN: nothing to estimate, and not "−inf".
  const auto all_nan = infer::evidence_from_log_weights(std::vector<double>(100, std::nan("")));
  BOOST_TEST(std::isnan(all_nan.log_z));
  BOOST_TEST(all_nan.nan_draws == 100);
  BOOST_TEST(!all_nan.reliable);
}

BOOST_AUTO_TEST_CASE(khat_of_generalized_pareto_weights_is_within_0_2) {
  // S = 10^4 weights drawn from GPD(k) by the inverse CDF: k̂ within ±0.2 of
  // k on each of seeds 0–9. Measured over seeds 0–19: sd of k̂ 0.060
  // (k = 0.2), 0.080 (0.5), 0.108 (0.9) — the ML sd (1 + k)/√M at M = 300 —
  // and means within 0.025 of k. So ±0.2 is 3.3, 2.5 and only 1.9 sd: at
  // k = 0.9 about one seed in 17 misses it (one of seeds 10–19 does, by
  // 0.01). With these fixed seeds it is a regression check; the statistical
  // check, with 4 sd, is khat_recovers_known_shapes.
  for (double k : {0.2, 0.5, 0.9})
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      const double khat = infer::psis_khat(gpd_log_draws(k, 10000, seed));
      BOOST_TEST(std::abs(khat - k) < 0.2, "k " << k << " seed " << seed << ": k̂ " << khat);
    }
}

BOOST_AUTO_TEST_CASE(an_exact_proposal_is_reported_as_exact) {
  // All weights equal: no tail, and no fit pretending to measure one.
  const auto e = infer::evidence_from_log_weights(std::vector<double>(10000, -42.5));
  BOOST_TEST(e.exact);
  BOOST_TEST((e.khat == -std::numeric_limits<double>::infinity()));
  BOOST_TEST(e.reliable);
  BOOST_TEST(e.ess == 10000, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(e.warning.empty());
  // Equal up to rounding in the log-densities (relative 1e-13): still exact.
  rng::Generator g(4);
  std::vector<double> lw;
  for (int i = 0; i < 10000; ++i) lw.push_back(-42.5 * (1 + 1e-13 * rng::standard_normal(g)));
  BOOST_TEST(infer::evidence_from_log_weights(lw).exact);
  // Not equal (relative 1e-6): fitted, not exact.
  for (double& v : lw) v = -42.5 + 1e-6 * rng::standard_normal(g);
  const auto f = infer::evidence_from_log_weights(lw);
  BOOST_TEST(!f.exact);
  BOOST_TEST(f.khat <= 0.5);
}

BOOST_AUTO_TEST_CASE(a_normal_proposal_offset_by_3_sd_is_not_reliable) {
  // Target N(0, 1), proposal N(3, 1): log w(x) = −x²/2 + (x − 3)²/2 = 4.5 − 3x
  // for x ~ N(3, 1): lognormal weights with log-sd 3. Their ESS, S e^{−9} ≈ 1.2
  // in expectation, reads 20–80 in 10^4 draws (the largest weights are not
  // drawn yet): under 1% of S on every seed tried.
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    rng::Generator g(seed);
    std::vector<double> lw;
    for (int i = 0; i < 10000; ++i) lw.push_back(4.5 - 3 * (3 + rng::standard_normal(g)));
    const auto e = infer::evidence_from_log_weights(lw);
    BOOST_TEST_MESSAGE("offset 3 sd, seed " << seed << ": ESS " << e.ess << ", k̂ " << e.khat);
    BOOST_TEST(e.ess < 100);
    BOOST_TEST(e.khat > 0.7);
    BOOST_TEST(!e.reliable);
    BOOST_TEST(!e.exact);
  }
}

BOOST_AUTO_TEST_CASE(a_heavy_tail_of_nearly_equal_weights_is_explained) {
  // 9990 weights within 1e-4 of each other and 10 above (e^{0.1 j}, at most
  // 2.7 times the mean): ESS ≈ S, and the tail of the largest weights is
  // heavy in shape but small in size. Trusted, with a note saying why k̂ is high.
  rng::Generator g(8);
  std::vector<double> lw;
  for (int i = 0; i < 9990; ++i) lw.push_back(1e-4 * rng::standard_normal(g));
  for (int j = 1; j <= 10; ++j) lw.push_back(0.1 * j);
  const auto e = infer::evidence_from_log_weights(lw);
  BOOST_TEST_MESSAGE("nearly equal weights with a heavy tail: ESS " << e.ess << ", k̂ " << e.khat);
  BOOST_TEST_REQUIRE(e.khat > 0.7);
  BOOST_TEST(e.ess > 9900);
  BOOST_TEST(e.reliable);
  BOOST_TEST(e.warning.find("heavy in shape") != std::string::npos, e.warning);
  // One draw 30 times the mean keeps the ESS above 90% of S, but it alone
  // holds 0.3% of the estimate, and its tail is where unseen draws lie: not trusted.
  lw.back() = std::log(30.0);
  const auto f = infer::evidence_from_log_weights(lw);
  BOOST_TEST_MESSAGE("one weight 30 times the mean: ESS " << f.ess << ", k̂ " << f.khat);
  BOOST_TEST(f.ess > 9000);
  BOOST_TEST(!f.reliable);
}

BOOST_AUTO_TEST_CASE(a_near_exact_gaussian_guide_of_a_beta_posterior_is_trusted) {
  // The Beta(9, 5) posterior of a coin in logit space and a Normal guide 10%
  // wider than its Laplace approximation: ESS ≈ 98% of S, while the weights
  // grow as exp(c ε²) far out, where the posterior's tails are exponential
  // (k̂ about 3.6 in 10^4 draws). Seen before: `vireo evidence` on the coin
  // example said NOT RELIABLE with ESS 9983 of 10000.
  const double a = 9, b = 5, m = std::log(a / b);
  const double pz = 1 / (1 + std::exp(-m)), sd = 1.1 / std::sqrt((a + b) * pz * (1 - pz));
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    rng::Generator g(seed);
    std::vector<double> lw;
    for (int i = 0; i < 10000; ++i) {
      const double eps = rng::standard_normal(g), z = m + sd * eps;
      lw.push_back(a * z - (a + b) * std::log1p(std::exp(z)) + 0.5 * eps * eps + std::log(sd));
    }
    const auto e = infer::evidence_from_log_weights(lw);
    BOOST_TEST_MESSAGE("Beta posterior, Gaussian guide, seed " << seed << ": ESS " << e.ess << ", k̂ " << e.khat);
    BOOST_TEST(e.ess > 9500);
    BOOST_TEST(e.reliable, e.warning);
  }
}
