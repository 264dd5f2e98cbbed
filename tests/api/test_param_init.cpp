// Issue 16, item 1: a param's random initialiser (init_normal, init_uniform,
// glorot_uniform, he_normal) draws from the run's seed in a stream of the
// param's own name: reproducible for a seed, different for another, unmoved
// by other params; glorot's and he's draws have the moments of their
// definitions (site.cpp). The values are read before any step
// (Fit::learned_params runs one execution and updates nothing).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "vireo/vireo.hpp"

namespace {

// The initial values of param `name` in `program` (a model without data).
std::vector<double> initial(const std::string& program, const std::string& name, std::uint64_t seed) {
  vireo::Model model = vireo::Model::from_string(program, "init.vireo");
  vireo::Data data = vireo::Data::from_arrays(model, {});
  vireo::Fit fit(model, data, {.seed = seed});
  for (const vireo::LearnedParam& p : fit.learned_params())
    if (p.name == name) return p.value;
  BOOST_FAIL("no param " + name);
  return {};
}

struct Moments {
  double mean = 0, var = 0, kurtosis = 0, min = 1e300, max = -1e300;
};
Moments moments(const std::vector<double>& x) {
  Moments m;
  const double n = static_cast<double>(x.size());
  for (double v : x) {
    m.mean += v / n;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  double m4 = 0;
  for (double v : x) {
    m.var += (v - m.mean) * (v - m.mean) / n;
    m4 += std::pow(v - m.mean, 4) / n;
  }
  m.kurtosis = m4 / (m.var * m.var);
  return m;
}

const char* const one = "model {\n  param W: real[4, 3] = glorot_uniform()\n  mu ~ Normal(sum(W), 1)\n}\n";
const char* const two =
    "model {\n  param V: real[4, 3] = glorot_uniform()\n  param W: real[4, 3] = glorot_uniform()\n"
    "  mu ~ Normal(sum(W) + sum(V), 1)\n}\n";

}  // namespace

BOOST_AUTO_TEST_CASE(same_seed_same_values_other_seed_other_values) {
  std::vector<double> a = initial(one, "W", 7), b = initial(one, "W", 7), c = initial(one, "W", 8);
  BOOST_TEST_REQUIRE(a.size() == 12u);
  BOOST_TEST(a == b);
  int same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == c[i];
  BOOST_TEST(same == 0);
  // Not zero, not one value repeated: the hidden units differ.
  BOOST_TEST(a[0] != a[1]);
  const double bound = std::sqrt(6.0 / 7.0);
  for (double v : a) BOOST_TEST(std::abs(v) < bound);
}

BOOST_AUTO_TEST_CASE(another_param_does_not_move_the_first) {
  std::vector<double> alone = initial(one, "W", 3), with_v = initial(two, "W", 3), v = initial(two, "V", 3);
  BOOST_TEST(alone == with_v);
  BOOST_TEST(v != with_v);  // streams of different names
}

// glorot_uniform on real[200, 300]: U(-a, a), a = sqrt(6/500), so mean 0 and
// variance a²/3 = 2/500 = 0.004, kurtosis 9/5. With n = 60000 draws the
// sample mean has sd sqrt(0.004/n) = 2.6e-4 (assert within 5 sd = 1.3e-3);
// the sample variance has sd sqrt((E x⁴ − σ⁴)/n) = sqrt((a⁴/5 − a⁴/9)/n) =
// 1.5e-5 (assert 5 sd = 7.5e-5); the sample kurtosis m4/σ⁴ has sd at most
// about sqrt((μ8 − μ4²)/n)/σ⁴ = 9·sqrt((1/9 − 1/25)/n) = 0.0098 (assert 0.05).
BOOST_AUTO_TEST_CASE(glorot_uniform_moments) {
  std::vector<double> w = initial("model {\n  param W: real[200, 300] = glorot_uniform()\n  mu ~ Normal(0, 1)\n}\n", "W", 11);
  BOOST_TEST_REQUIRE(w.size() == 60000u);
  Moments m = moments(w);
  const double a = std::sqrt(6.0 / 500.0);
  BOOST_TEST(std::abs(m.mean) < 1.3e-3);
  BOOST_TEST(std::abs(m.var - a * a / 3) < 7.5e-5, "var " << m.var);
  BOOST_TEST(std::abs(m.kurtosis - 1.8) < 0.05, "kurtosis " << m.kurtosis);
  BOOST_TEST(m.max < a);
  BOOST_TEST(m.min > -a);
  BOOST_TEST(m.max > a * 0.999);  // the support is all of (-a, a): P(max < 0.999a) = 0.9995^60000 ≈ e^-30
}

// he_normal on real[400, 100]: N(0, sqrt(2/400)), variance 0.005, kurtosis
// 3. n = 40000: the mean's sd is sqrt(0.005/n) = 3.5e-4 (assert 1.8e-3); the
// variance's sd is sqrt(2σ⁴/n) = 3.5e-5 (assert 1.8e-4); the kurtosis's sd is
// sqrt(24/n) = 0.024 (assert 0.12, which still tells 3 from glorot's 1.8).
// Fan-in is the first of the last two dims: real[100, 400] would give 0.02.
BOOST_AUTO_TEST_CASE(he_normal_moments) {
  std::vector<double> w = initial("model {\n  param W: real[400, 100] = he_normal()\n  mu ~ Normal(0, 1)\n}\n", "W", 5);
  BOOST_TEST_REQUIRE(w.size() == 40000u);
  Moments m = moments(w);
  BOOST_TEST(std::abs(m.mean) < 1.8e-3);
  BOOST_TEST(std::abs(m.var - 0.005) < 1.8e-4, "var " << m.var);
  BOOST_TEST(std::abs(m.kurtosis - 3.0) < 0.12, "kurtosis " << m.kurtosis);
}

// A vector's fan-in and fan-out are its length (he_normal on real[20000]:
// variance 2/20000 = 1e-4, sd of the sample variance sqrt(2/n)·1e-4 = 1e-6,
// assert 5e-6); a scalar's are 1 (glorot_uniform: |W| < sqrt(3)).
// init_normal(2, 0.5) on real[10000]: mean's sd 0.005 (assert 0.025),
// variance 0.25 with sd sqrt(2/n)·0.25 = 0.0035 (assert 0.018).
BOOST_AUTO_TEST_CASE(vectors_scalars_and_the_plain_initialisers) {
  Moments v = moments(initial("model {\n  param v: real[20000] = he_normal()\n  mu ~ Normal(0, 1)\n}\n", "v", 2));
  BOOST_TEST(std::abs(v.var - 1e-4) < 5e-6, "var " << v.var);
  std::vector<double> s = initial("model {\n  param s: real = glorot_uniform()\n  mu ~ Normal(s, 1)\n}\n", "s", 2);
  BOOST_TEST_REQUIRE(s.size() == 1u);
  BOOST_TEST(std::abs(s[0]) < std::sqrt(3.0));
  Moments n = moments(initial("model {\n  param n: real[10000] = init_normal(2, 0.5)\n  mu ~ Normal(0, 1)\n}\n", "n", 2));
  BOOST_TEST(std::abs(n.mean - 2) < 0.025);
  BOOST_TEST(std::abs(n.var - 0.25) < 0.018);
  Moments u = moments(initial(
      "model {\n  param u: real<lower=0>[10000] = init_uniform(1, 3)\n  mu ~ Normal(0, 1)\n}\n", "u", 2));
  BOOST_TEST(u.min > 1);
  BOOST_TEST(u.max < 3);
  BOOST_TEST(std::abs(u.mean - 2) < 0.03);  // sd of the mean sqrt((4/12)/n) = 0.0058
}
