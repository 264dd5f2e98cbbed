// kl_test.cpp — every row of the KL table against a Monte Carlo estimate
// E_p[log p(x) − log q(x)] from 2·10^4 draws of p (fixed seed), within 5
// standard errors (the SE of a mean: sample sd / sqrt(n)); and its gradient
// w.r.t. every parameter of both sides through gradcheck. (SciPy reference
// values for four pairs are checked in reference_test.cpp.)
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "dist_test_util.hpp"
#include "stdlib/dist/kl.hpp"
#include "support/gradcheck.hpp"

using namespace vireo;
using namespace vireo::dist;
using namespace vireo::dist::testing;

namespace {

struct Side {
  std::string dist;
  NamedTensors params;
};
struct KlCase {
  Side p, q;
  bool differentiable = true;  // Uniform–Uniform: gradcheck too (inside the support), all are
};

const std::vector<KlCase> cases = {
    {{"Normal", {{"loc", 0.5}, {"scale", 0.8}}}, {"Normal", {{"loc", -1.0}, {"scale", 2.0}}}},
    {{"LogNormal", {{"loc", 0.1}, {"scale", 0.5}}}, {"LogNormal", {{"loc", 0.4}, {"scale", 0.9}}}},
    {{"HalfNormal", {{"scale", 0.7}}}, {"HalfNormal", {{"scale", 1.9}}}},
    {{"Gamma", {{"concentration", 2.0}, {"rate", 3.0}}}, {"Gamma", {{"concentration", 1.5}, {"rate", 0.5}}}},
    {{"Beta", {{"concentration1", 2.0}, {"concentration0", 3.0}}},
     {"Beta", {{"concentration1", 1.2}, {"concentration0", 0.8}}}},
    {{"Dirichlet", {{"concentration", vec({1.5, 2.0, 0.7})}}}, {"Dirichlet", {{"concentration", vec({1.0, 1.0, 1.0})}}}},
    {{"Bernoulli", {{"probs", 0.3}}}, {"Bernoulli", {{"logits", 1.2}}}},
    {{"Categorical", {{"probs", vec({0.2, 0.5, 0.3})}}}, {"Categorical", {{"logits", vec({0.0, -1.0, 2.0})}}}},
    {{"Poisson", {{"rate", 3.5}}}, {"Poisson", {{"rate", 2.0}}}},
    {{"Geometric", {{"probs", 0.25}}}, {"Geometric", {{"probs", 0.6}}}},
    {{"Exponential", {{"rate", 2.0}}}, {"Exponential", {{"rate", 0.7}}}},
    {{"Laplace", {{"loc", 0.5}, {"scale", 1.5}}}, {"Laplace", {{"loc", -0.3}, {"scale", 0.9}}}},
    {{"Uniform", {{"low", 0.0}, {"high", 1.0}}}, {"Uniform", {{"low", -1.0}, {"high", 3.0}}}},
    {{"MultivariateNormal", {{"loc", vec({1.0, 0.0})}, {"scale_tril", mat({{1.5, 0.0}, {-0.4, 0.8}})}}},
     {"MultivariateNormal", {{"loc", vec({0.0, 0.5})}, {"covariance_matrix", mat({{2.0, 0.3}, {0.3, 1.0}})}}}},
};

}  // namespace

BOOST_AUTO_TEST_CASE(kl_table_against_monte_carlo) {
  BOOST_TEST(kl_pairs().size() == cases.size());  // every row of the table has a case
  constexpr std::int64_t n = 20000;
  for (const KlCase& c : cases) {
    BOOST_TEST_CONTEXT("KL(" << c.p.dist << " || " << c.q.dist << ")") {
      BOOST_TEST(has_kl(c.p.dist, c.q.dist));
      ad::Tape tape;
      const DistributionPtr p = make_with_leaves(c.p.dist, tape, c.p.params);
      const DistributionPtr q = make_with_leaves(c.q.dist, tape, c.q.params);
      const double kl = kl_divergence(*p, *q).item();
      rng::Generator g(77);
      const ad::Var x = tape.constant(p->sample(g, ad::Shape{n}));
      const Tensor diff = (p->log_prob(x) - q->log_prob(x)).value();
      double s1 = 0, s2 = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        s1 += diff[i];
        s2 += diff[i] * diff[i];
      }
      const double mean = s1 / n, se = std::sqrt(std::max(s2 / n - mean * mean, 0.0) / n);
      BOOST_TEST(std::abs(kl - mean) <= 5 * se + 1e-12, "closed form " << kl << ", Monte Carlo " << mean << " ± " << se);
    }
  }
}

BOOST_AUTO_TEST_CASE(kl_gradients) {
  for (const KlCase& c : cases) {
    BOOST_TEST_CONTEXT("KL(" << c.p.dist << " || " << c.q.dist << ")") {
      std::vector<ad::Tensor> inputs;
      for (const auto& [k, v] : c.p.params) inputs.push_back(v);
      for (const auto& [k, v] : c.q.params) inputs.push_back(v);
      const auto r = vireo::testing::gradcheck(
          [&](ad::Tape& tape, const std::vector<ad::Var>& leaves) {
            Params pp, qp;
            std::size_t i = 0;
            const auto bind = [&](const std::string& k) {
              ad::Var v = leaves[i++];
              // Matrix parameters are passed symmetrised / lower-triangular
              // so that single-entry steps keep them valid.
              if (k == "covariance_matrix") v = 0.5 * (v + ad::transpose(v));
              if (k == "scale_tril") v = v * tape.constant(mat({{1.0, 0.0}, {1.0, 1.0}}));
              return v;
            };
            for (const auto& [k, v] : c.p.params) pp.emplace(k, bind(k));
            for (const auto& [k, v] : c.q.params) qp.emplace(k, bind(k));
            return kl_divergence(*make_distribution(c.p.dist, tape, pp), *make_distribution(c.q.dist, tape, qp));
          },
          inputs);
      BOOST_TEST(r.ok, r.message);
    }
  }
}
