// sampling_test.cpp — sample (and rsample, where defined) of every family:
// 10^5 draws with a fixed seed; each element's sample mean and second moment
// lie within 5 standard errors of the closed forms (mean() and variance(),
// themselves checked against SciPy). SE of a mean of y is sd(y)/sqrt(n),
// with sd(y) estimated from the draws (for y = x², from the fourth moment).
// Heavy-tailed families without moments check P(X ≤ t) instead (binomial SE).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <optional>

#include "dist_test_util.hpp"

using namespace vireo;
using namespace vireo::dist;
using namespace vireo::dist::testing;

namespace {

constexpr std::int64_t n_draws = 100000;

struct SampleCase {
  std::string dist;
  NamedTensors params;
  // For families without moments: P(X ≤ t) = p for every element.
  std::optional<std::pair<double, double>> cdf_point = std::nullopt;
  // Categorical: compare category frequencies with probs instead of moments.
  bool frequencies = false;
};

const std::vector<SampleCase> cases = {
    {"Normal", {{"loc", vec({0.5, -3.0})}, {"scale", vec({2.0, 0.1})}}},
    {"HalfNormal", {{"scale", 1.5}}},
    {"LogNormal", {{"loc", 0.2}, {"scale", 0.5}}},
    {"Cauchy", {{"loc", -1.0}, {"scale", 0.5}}, std::pair{-0.5, 0.75}},
    {"HalfCauchy", {{"scale", 2.0}}, std::pair{2.0, 0.5}},
    {"StudentT", {{"df", 6.0}, {"loc", 1.0}, {"scale", 2.0}}},
    {"Laplace", {{"loc", 0.5}, {"scale", 1.5}}},
    {"Exponential", {{"rate", 2.0}}},
    {"Gamma", {{"concentration", vec({0.3, 2.5, 40.0})}, {"rate", 1.5}}},
    {"InverseGamma", {{"concentration", 5.0}, {"rate", 2.0}}},
    {"Beta", {{"concentration1", vec({2.0, 0.1})}, {"concentration0", vec({5.0, 0.2})}}},
    {"Uniform", {{"low", -1.0}, {"high", 3.0}}},
    {"Bernoulli", {{"probs", vec({0.3, 0.99})}}},
    {"Bernoulli", {{"logits", -1.0}}},
    {"Binomial", {{"total_count", vec({10.0, 1000.0})}, {"probs", vec({0.35, 0.6})}}},
    {"Categorical", {{"probs", vec({0.2, 0.5, 0.3})}}, std::nullopt, true},
    {"Categorical", {{"logits", vec({0.0, 2.0, -1.0, 0.5})}}, std::nullopt, true},
    {"Poisson", {{"rate", vec({0.01, 3.5, 120.0})}}},
    {"Geometric", {{"probs", vec({0.25, 0.9})}}},
    {"NegativeBinomial", {{"total_count", 4.0}, {"probs", 0.3}}},
    {"MultivariateNormal",
     {{"loc", vec({1.0, 0.0, -1.0})}, {"covariance_matrix", mat({{2.0, 0.3, 0.0}, {0.3, 1.0, -0.4}, {0.0, -0.4, 1.5}})}}},
    {"Dirichlet", {{"concentration", vec({1.5, 2.0, 0.7})}}},
};

void check_draws(const SampleCase& c, const Distribution& d, const Tensor& draws, const char* how) {
  const std::int64_t m = draws.numel() / n_draws;  // elements per draw
  BOOST_TEST_REQUIRE(m >= 1);
  const double n = static_cast<double>(n_draws);
  if (c.frequencies) {
    const Tensor probs = d.param("probs").value();
    for (std::int64_t k = 0; k < probs.numel(); ++k) {
      double count = 0;
      for (std::int64_t i = 0; i < n_draws; ++i) count += draws[i] == static_cast<double>(k);
      const double p = probs[k], se = std::sqrt(p * (1 - p) / n);
      BOOST_TEST(std::abs(count / n - p) <= 5 * se, how << " category " << k << ": " << count / n << " vs " << p);
    }
    return;
  }
  if (c.cdf_point) {
    const auto [t, p] = *c.cdf_point;
    double below = 0;
    for (std::int64_t i = 0; i < draws.numel(); ++i) below += draws[i] <= t;
    const double se = std::sqrt(p * (1 - p) / static_cast<double>(draws.numel()));
    BOOST_TEST(std::abs(below / draws.numel() - p) <= 5 * se, how << ": P(X <= " << t << ") " << below / draws.numel());
    return;
  }
  ad::Shape one = d.batch_shape();
  for (auto e : d.event_shape()) one.push_back(e);
  const Tensor mean = ad::broadcast_to(d.mean(), one).value();
  const Tensor var = ad::broadcast_to(d.variance(), one).value();
  for (std::int64_t j = 0; j < m; ++j) {
    double s1 = 0, s2 = 0, s4 = 0;
    for (std::int64_t i = 0; i < n_draws; ++i) {
      const double x = draws[i * m + j];
      s1 += x;
      s2 += x * x;
      s4 += x * x * x * x;
    }
    const double m1 = s1 / n, m2 = s2 / n, m4 = s4 / n;
    const double second = var[j] + mean[j] * mean[j];
    BOOST_TEST(std::abs(m1 - mean[j]) <= 5 * std::sqrt(var[j] / n),
               how << " element " << j << ": mean " << m1 << " vs " << mean[j]);
    BOOST_TEST(std::abs(m2 - second) <= 5 * std::sqrt(std::max(m4 - m2 * m2, 0.0) / n),
               how << " element " << j << ": second moment " << m2 << " vs " << second);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(sample_and_rsample_moments) {
  int seed = 100;
  for (const SampleCase& c : cases) {
    BOOST_TEST_CONTEXT(c.dist << " " << c.params[0].first) {
      ad::Tape tape;
      const DistributionPtr d = make_with_leaves(c.dist, tape, c.params);
      rng::Generator g(seed++);
      const Tensor draws = d->sample(g, ad::Shape{n_draws});
      BOOST_TEST_REQUIRE(draws.numel() == n_draws * d->batch_shape().numel() *
                                              std::max<std::int64_t>(1, d->event_shape().numel()));
      check_draws(c, *d, draws, "sample");
      if (d->has_rsample()) check_draws(c, *d, d->rsample(g, ad::Shape{n_draws}).value(), "rsample");
    }
  }
}
