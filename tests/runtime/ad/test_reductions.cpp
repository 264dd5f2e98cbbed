// Reductions and normalisations: values, gradients for every axis, stability.
#include "helpers.hpp"

#include <cmath>
#include <functional>
#include <string>

using namespace vireo::ad;
using namespace vireo::ad::test;

BOOST_AUTO_TEST_SUITE(reductions)

BOOST_AUTO_TEST_CASE(values) {
  Tape tape;
  Var x = tape.constant(Tensor(Shape{2, 3}, {1, 5, 3, 4, 2, 6}));
  BOOST_TEST(sum(x).item() == 21.0);
  BOOST_TEST(mean(x).item() == 3.5);
  BOOST_TEST(max(x).item() == 6.0);
  BOOST_TEST(min(x).item() == 1.0);
  BOOST_TEST(sum(x, 0).value().values() == std::vector<double>({5, 7, 9}));
  BOOST_TEST(sum(x, -1).value().values() == std::vector<double>({9, 12}));
  BOOST_TEST((sum(x, 1, true).shape() == Shape{2, 1}));
  BOOST_TEST(mean(x, 1).value().values() == std::vector<double>({3, 4}));
  BOOST_TEST(max(x, 0).value().values() == std::vector<double>({4, 5, 6}));
  BOOST_TEST(min(x, 1).value().values() == std::vector<double>({1, 2}));
  const double lse0 = std::log(std::exp(1) + std::exp(5) + std::exp(3));
  BOOST_TEST(logsumexp(x, 1).value()[0] == lse0, boost::test_tools::tolerance(1e-14));
  Tensor sm = softmax(x).value();
  BOOST_TEST(sm.at({0, 1}) == std::exp(5 - lse0), boost::test_tools::tolerance(1e-14));
  Tensor lsm = log_softmax(x, 0).value();
  BOOST_TEST(lsm.at({1, 0}) == 4 - std::log(std::exp(1) + std::exp(4)),
             boost::test_tools::tolerance(1e-14));
  BOOST_CHECK_THROW(sum(x, 2), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(gradients_every_axis) {
  using Red = std::function<Var(Var, int)>;
  const std::vector<std::pair<std::string, Red>> ops = {
      {"sum", [](Var x, int a) { return sum(x, a); }},
      {"sum_keep", [](Var x, int a) { return sum(x, a, true); }},
      {"mean", [](Var x, int a) { return mean(x, a); }},
      {"max", [](Var x, int a) { return max(x, a); }},
      {"min", [](Var x, int a) { return min(x, a, true); }},
      {"logsumexp", [](Var x, int a) { return logsumexp(x, a); }},
      {"softmax", [](Var x, int a) { return softmax(x, a); }},
      {"log_softmax", [](Var x, int a) { return log_softmax(x, a); }},
  };
  const Tensor x = uniform(Shape{2, 3, 4}, -2, 2, 11);
  for (const auto& [name, reduce] : ops)
    for (int axis : {0, 1, 2, -1}) {
      BOOST_TEST_CONTEXT(name << " axis " << axis) {
        const auto& op = reduce;  // a lambda may not capture a structured binding (clang 14)
        VIREO_CHECK_GRAD([&](Tape&, const std::vector<Var>& v) { return op(v[0], axis); }, {x});
      }
    }
  const std::vector<std::pair<std::string, std::function<Var(Var)>>> full = {
      {"sum", [](Var x) { return sum(x); }},   {"mean", [](Var x) { return mean(x); }},
      {"max", [](Var x) { return max(x); }},   {"min", [](Var x) { return min(x); }},
      {"logsumexp", [](Var x) { return logsumexp(x); }},
  };
  for (const auto& [name, reduce] : full) {
    BOOST_TEST_CONTEXT(name) {
      const auto& op = reduce;
      VIREO_CHECK_GRAD([&](Tape&, const std::vector<Var>& v) { return op(v[0]); }, {x});
    }
  }
}

BOOST_AUTO_TEST_CASE(stable_at_extremes) {
  Tape tape;
  Var x = tape.leaf(Tensor::vector({1000.0, -1000.0, 999.0}));
  BOOST_TEST(logsumexp(x).item() == 1000.0 + std::log1p(std::exp(-1.0)),
             boost::test_tools::tolerance(1e-14));
  Var y = tape.leaf(Tensor::vector({-1000.0, -1001.0}));
  BOOST_TEST(logsumexp(y).item() == -1000.0 + std::log1p(std::exp(-1.0)),
             boost::test_tools::tolerance(1e-14));
  Tensor ls = log_softmax(x).value();
  BOOST_TEST(ls[1] == -2000.0 - std::log1p(std::exp(-1.0)), boost::test_tools::tolerance(1e-14));
  Tensor sm = softmax(x).value();
  BOOST_TEST(std::isfinite(sm[0]));
  BOOST_TEST(sm[1] == 0.0);
  tape.backward(logsumexp(x) + sum(log_softmax(y)) + sum(softmax(x)));
  const Tensor gx = tape.grad(x), gy = tape.grad(y);
  for (double g : gx.values()) BOOST_TEST(std::isfinite(g));
  for (double g : gy.values()) BOOST_TEST(std::isfinite(g));
  // All -inf: logsumexp is -inf with a zero (not NaN) gradient.
  Var z = tape.leaf(Tensor::vector({-INFINITY, -INFINITY}));
  Var l = logsumexp(z);
  BOOST_TEST(std::isinf(l.item()));
  tape.backward(l);
  const Tensor gz = tape.grad(z);
  for (double g : gz.values()) BOOST_TEST(g == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
