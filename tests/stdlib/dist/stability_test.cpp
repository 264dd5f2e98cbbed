// stability_test.cpp — log-densities and their gradients stay finite (and
// right) where the mathematics is finite: narrow Normals far in the tail,
// Bernoulli/Binomial/Categorical with logits ±40, Gamma with concentration
// 0.3, Beta near 0 and 1, Poisson with rate 1e-8.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "dist_test_util.hpp"

using namespace vireo;
using namespace vireo::dist;
using namespace vireo::dist::testing;

namespace {

struct StableCase {
  std::string dist;
  NamedTensors params;
  ad::Tensor value;
  bool value_is_continuous;
};

const std::vector<StableCase> cases = {
    {"Normal", {{"loc", 0.0}, {"scale", 1e-3}}, vec({-10.0, 5.0, 1e3}), true},
    {"Bernoulli", {{"logits", vec({-40.0, 40.0})}}, vec({1.0, 0.0}), false},
    {"Bernoulli", {{"logits", vec({-40.0, 40.0})}}, vec({0.0, 1.0}), false},
    {"Binomial", {{"total_count", 10.0}, {"logits", vec({-40.0, 40.0})}}, vec({3.0, 3.0}), false},
    {"Binomial", {{"total_count", 10.0}, {"logits", vec({-40.0, 40.0})}}, vec({10.0, 0.0}), false},
    {"Categorical", {{"logits", vec({40.0, -40.0, 0.0})}}, vec({0.0, 1.0, 2.0}), false},
    {"Gamma", {{"concentration", 0.3}, {"rate", 2.0}}, vec({1e-300, 1e-10, 1e-4, 50.0}), true},
    {"Beta", {{"concentration1", 0.5}, {"concentration0", 0.5}}, vec({1e-12, 1.0 - 1e-12}), true},
    {"Beta", {{"concentration1", 2.0}, {"concentration0", 5.0}}, vec({1e-12, 1.0 - 1e-12}), true},
    {"Poisson", {{"rate", 1e-8}}, vec({0.0, 1.0, 5.0}), false},
};

bool all_finite(const ad::Tensor& t) {
  for (std::int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i])) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(finite_log_densities_and_gradients) {
  for (const StableCase& c : cases) {
    BOOST_TEST_CONTEXT(c.dist << " " << c.params[0].first) {
      ad::Tape tape;
      Params p;
      std::vector<ad::Var> leaves;
      for (const auto& [k, v] : c.params) {
        const ad::Var leaf = k == "total_count" ? tape.constant(v) : tape.leaf(v);
        p.emplace(k, leaf);
        leaves.push_back(leaf);
      }
      const ad::Var x = c.value_is_continuous ? tape.leaf(c.value) : tape.constant(c.value);
      const ad::Var lp = make_distribution(c.dist, tape, p)->log_prob(x);
      BOOST_TEST(all_finite(lp.value()));
      tape.backward(ad::sum(lp));
      for (const ad::Var v : leaves) BOOST_TEST(all_finite(v.grad()));
      if (c.value_is_continuous) BOOST_TEST(all_finite(x.grad()));
    }
  }
}

// Values, not just finiteness, at the extremes.
BOOST_AUTO_TEST_CASE(extreme_values_are_right) {
  ad::Tape tape;
  // Bernoulli(logits = −40) at 1: −40 − log(1 + e^−40).
  const auto b = bernoulli(std::nullopt, tape.leaf(-40.0));
  BOOST_TEST(b->log_prob(tape.constant(1.0)).item() == -40.0 - std::log1p(std::exp(-40.0)), boost::test_tools::tolerance(1e-15));
  BOOST_TEST(b->log_prob(tape.constant(0.0)).item() == -std::log1p(std::exp(-40.0)), boost::test_tools::tolerance(1e-15));
  // Normal(0, 1e-3) at 10: −½·10^8 − log(1e-3) − ½ log 2π.
  const auto n = normal(tape.leaf(0.0), tape.leaf(1e-3));
  BOOST_TEST(n->log_prob(tape.constant(10.0)).item() == -0.5e8 - std::log(1e-3) - 0.5 * std::log(2 * M_PI),
             boost::test_tools::tolerance(1e-15));
  // Poisson(1e-8) at 0: −1e-8.
  const auto po = poisson(tape.leaf(1e-8));
  BOOST_TEST(po->log_prob(tape.constant(0.0)).item() == -1e-8, boost::test_tools::tolerance(1e-12));
  // Categorical(logits = [40, −40, 0]) at 1: −80 − log(1 + e^−80 + e^−40).
  const auto cat = categorical(std::nullopt, tape.leaf(vec({40.0, -40.0, 0.0})));
  BOOST_TEST(cat->log_prob(tape.constant(1.0)).item() == -80.0 - std::log1p(std::exp(-80.0) + std::exp(-40.0)),
             boost::test_tools::tolerance(1e-15));
  // Outside the support: −∞.
  BOOST_TEST(po->log_prob(tape.constant(-1.0)).item() == -INFINITY);
  const auto u = uniform(tape.leaf(0.0), tape.leaf(1.0));
  BOOST_TEST(u->log_prob(tape.constant(2.0)).item() == -INFINITY);
}

// Reparameterised draws with small concentrations: finite values and gradients.
BOOST_AUTO_TEST_CASE(small_concentration_rsample) {
  ad::Tape tape;
  rng::Generator g(5);
  const ad::Var a = tape.leaf(0.3), b = tape.leaf(0.3);
  const ad::Var x = beta(a, b)->rsample(g, ad::Shape{200});
  const ad::Var z = gamma(a, tape.leaf(1.0))->rsample(g, ad::Shape{200});
  tape.backward(ad::sum(x) + ad::sum(ad::log(z)));
  BOOST_TEST(all_finite(x.value()));
  BOOST_TEST(all_finite(a.grad()));
  BOOST_TEST(all_finite(b.grad()));
}
