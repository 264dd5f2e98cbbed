// Elementwise functions and arithmetic: values against <cmath>, finite-difference
// gradients (including every broadcasting pattern), stability at ±1000.
#include "helpers.hpp"

#include <boost/math/special_functions/digamma.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

using namespace vireo::ad;
using namespace vireo::ad::test;

namespace {

struct UnaryCase {
  std::string name;
  std::function<Var(Var)> op;
  std::function<double(double)> ref;
  double lo, hi;  // domain sampled for the checks
};

const std::vector<UnaryCase>& unary_cases() {
  static const std::vector<UnaryCase> cases = {
      {"exp", [](Var x) { return exp(x); }, [](double x) { return std::exp(x); }, -3, 3},
      {"log", [](Var x) { return log(x); }, [](double x) { return std::log(x); }, 0.1, 5},
      {"log1p", [](Var x) { return log1p(x); }, [](double x) { return std::log1p(x); }, -0.9, 5},
      {"expm1", [](Var x) { return expm1(x); }, [](double x) { return std::expm1(x); }, -3, 3},
      {"sqrt", [](Var x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0.1, 5},
      {"square", [](Var x) { return square(x); }, [](double x) { return x * x; }, -3, 3},
      {"abs", [](Var x) { return abs(x); }, [](double x) { return std::abs(x); }, -3, 3},
      {"sin", [](Var x) { return sin(x); }, [](double x) { return std::sin(x); }, -3, 3},
      {"cos", [](Var x) { return cos(x); }, [](double x) { return std::cos(x); }, -3, 3},
      {"tanh", [](Var x) { return tanh(x); }, [](double x) { return std::tanh(x); }, -3, 3},
      {"sigmoid", [](Var x) { return sigmoid(x); }, [](double x) { return 1 / (1 + std::exp(-x)); }, -5, 5},
      {"logit", [](Var x) { return logit(x); }, [](double x) { return std::log(x / (1 - x)); }, 0.05, 0.95},
      {"softplus", [](Var x) { return softplus(x); }, [](double x) { return std::log1p(std::exp(x)); }, -5, 5},
      {"log_sigmoid", [](Var x) { return log_sigmoid(x); }, [](double x) { return -std::log1p(std::exp(-x)); }, -5, 5},
      {"log1m_exp", [](Var x) { return log1m_exp(x); }, [](double x) { return std::log(1 - std::exp(x)); }, -4, -0.05},
      {"relu", [](Var x) { return relu(x); }, [](double x) { return x > 0 ? x : 0; }, -3, 3},
      {"lgamma", [](Var x) { return lgamma(x); }, [](double x) { return std::lgamma(x); }, 0.2, 6},
      {"digamma", [](Var x) { return digamma(x); }, [](double x) { return boost::math::digamma(x); }, 0.2, 6},
      {"neg", [](Var x) { return -x; }, [](double x) { return -x; }, -3, 3},
      {"x+c", [](Var x) { return x + 1.5; }, [](double x) { return x + 1.5; }, -3, 3},
      {"c+x", [](Var x) { return 1.5 + x; }, [](double x) { return 1.5 + x; }, -3, 3},
      {"x-c", [](Var x) { return x - 1.5; }, [](double x) { return x - 1.5; }, -3, 3},
      {"c-x", [](Var x) { return 1.5 - x; }, [](double x) { return 1.5 - x; }, -3, 3},
      {"x*c", [](Var x) { return x * 1.5; }, [](double x) { return x * 1.5; }, -3, 3},
      {"c*x", [](Var x) { return 1.5 * x; }, [](double x) { return 1.5 * x; }, -3, 3},
      {"x/c", [](Var x) { return x / 1.5; }, [](double x) { return x / 1.5; }, -3, 3},
      {"c/x", [](Var x) { return 1.5 / x; }, [](double x) { return 1.5 / x; }, 0.5, 3},
      {"pow(x,c)", [](Var x) { return pow(x, 2.5); }, [](double x) { return std::pow(x, 2.5); }, 0.2, 3},
      {"pow(c,x)", [](Var x) { return pow(2.5, x); }, [](double x) { return std::pow(2.5, x); }, -2, 2},
      {"clamp", [](Var x) { return clamp(x, -1.0, 1.0); }, [](double x) { return std::min(1.0, std::max(-1.0, x)); }, -3, 3},
  };
  return cases;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(elementwise)

BOOST_AUTO_TEST_CASE(unary_values_and_gradients) {
  for (const auto& c : unary_cases()) {
    BOOST_TEST_CONTEXT("op " << c.name) {
      const Tensor x = uniform(Shape{3, 4}, c.lo, c.hi, 7);
      Tape tape;
      Tensor y = c.op(tape.constant(x)).value();
      BOOST_TEST((y.shape() == x.shape()));
      for (std::int64_t i = 0; i < x.numel(); ++i)
        BOOST_TEST(y[i] == c.ref(x[i]), boost::test_tools::tolerance(1e-12));
      VIREO_CHECK_GRAD([&](Tape&, const std::vector<Var>& v) { return c.op(v[0]); }, {x});
      // The scalar path (rank 0) too.
      VIREO_CHECK_GRAD([&](Tape&, const std::vector<Var>& v) { return c.op(v[0]); },
                       {Tensor(0.5 * (c.lo + c.hi) + 0.1)});
    }
  }
}

BOOST_AUTO_TEST_CASE(binary_values_and_gradients) {
  using BinOp = std::function<Var(Var, Var)>;
  const std::vector<std::pair<std::string, BinOp>> ops = {
      {"+", [](Var a, Var b) { return a + b; }},     {"-", [](Var a, Var b) { return a - b; }},
      {"*", [](Var a, Var b) { return a * b; }},     {"/", [](Var a, Var b) { return a / b; }},
      {"pow", [](Var a, Var b) { return pow(a, b); }},
      {"minimum", [](Var a, Var b) { return minimum(a, b); }},
      {"maximum", [](Var a, Var b) { return maximum(a, b); }},
  };
  // Same shape, scalar on either side, row/column broadcasting, rank growth.
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {Shape{3, 4}, Shape{3, 4}}, {Shape{3, 4}, Shape{}},     {Shape{}, Shape{3, 4}},
      {Shape{3, 4}, Shape{4}},    {Shape{3, 1}, Shape{1, 4}}, {Shape{2, 1, 3}, Shape{4, 1}},
      {Shape{}, Shape{}},
  };
  for (const auto& [name, binary] : ops)
    for (const auto& [sa, sb] : shapes) {
      BOOST_TEST_CONTEXT("op " << name << " " << to_string(sa) << " with " << to_string(sb)) {
        const Tensor a = uniform(sa, 0.5, 2.0, 3), b = uniform(sb, 0.5, 2.0, 4);
        const auto& op = binary;  // a lambda may not capture a structured binding (clang 14)
        VIREO_CHECK_GRAD([&](Tape&, const std::vector<Var>& v) { return op(v[0], v[1]); }, {a, b});
      }
    }
  Tape tape;
  Var a = tape.constant(Tensor(Shape{2, 1}, {1.0, 2.0}));
  Var b = tape.constant(Tensor::vector({10.0, 20.0, 30.0}));
  Tensor s = (a + b).value();
  BOOST_TEST((s.shape() == Shape{2, 3}));
  BOOST_TEST(s.at({1, 2}) == 32.0);
  BOOST_TEST((a / b).value().at({0, 1}) == 1.0 / 20.0);
  BOOST_TEST(pow(a, b).value().at({1, 0}) == std::pow(2.0, 10.0));
  BOOST_CHECK_THROW(a + tape.constant(Tensor::vector({1, 2, 3, 4}).reshaped(Shape{4, 1})),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(same_input_twice) {
  VIREO_CHECK_GRAD([](Tape&, const std::vector<Var>& v) { return v[0] * v[0] + v[0] / v[0]; },
                   {uniform(Shape{5}, 0.5, 2, 9)});
}

BOOST_AUTO_TEST_CASE(stable_at_extremes) {
  Tape tape;
  Var x = tape.leaf(Tensor::vector({-1000.0, -50.0, 0.0, 50.0, 1000.0}));
  Tensor sp = softplus(x).value(), ls = log_sigmoid(x).value(), sg = sigmoid(x).value();
  for (std::int64_t i = 0; i < 5; ++i) {
    BOOST_TEST(std::isfinite(sp[i]));
    BOOST_TEST(std::isfinite(ls[i]));
    BOOST_TEST(std::isfinite(sg[i]));
  }
  BOOST_TEST(sp[4] == 1000.0);
  BOOST_TEST(sp[0] == 0.0);
  BOOST_TEST(ls[0] == -1000.0);
  BOOST_TEST(sp[2] == std::log(2.0), boost::test_tools::tolerance(1e-15));
  Var total = sum(softplus(x) + log_sigmoid(x) + sigmoid(x));
  tape.backward(total);
  Tensor g = tape.grad(x);
  for (std::int64_t i = 0; i < 5; ++i) BOOST_TEST(std::isfinite(g[i]));
  BOOST_TEST(g[4] == 1.0);  // d softplus = 1, d log_sigmoid = 0, d sigmoid = 0 at +1000

  // log1m_exp: accurate near 0 and far below it.
  Var y = tape.constant(Tensor::vector({-1e-10, -1000.0}));
  Tensor l = log1m_exp(y).value();
  BOOST_TEST(l[0] == std::log(1e-10), boost::test_tools::tolerance(1e-9));
  BOOST_TEST(l[1] == 0.0);
}

// Arrays from 32 elements take softplus's vectorised path (kernels.hpp kVectorMin).
BOOST_AUTO_TEST_CASE(softplus_array_path) {
  std::vector<double> xs = {-1000.0, -745.0, -700.0, 1000.0, 0.0, -1e-300, 1e-300};
  for (int i = 0; i <= 200; ++i) xs.push_back(-50.0 + 0.5 * i);
  Tape tape;
  Var x = tape.leaf(Tensor::vector(xs));
  Var y = softplus(x);
  const Tensor v = y.value();
  tape.backward(sum(y));
  const Tensor g = tape.grad(x);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    BOOST_TEST_CONTEXT("x = " << xs[i]) {
      const double ref = std::max(xs[i], 0.0) + std::log1p(std::exp(-std::abs(xs[i])));
      const double sig = xs[i] >= 0 ? 1 / (1 + std::exp(-xs[i])) : std::exp(xs[i]) / (1 + std::exp(xs[i]));
      BOOST_TEST(v[static_cast<std::int64_t>(i)] == ref, boost::test_tools::tolerance(1e-14));
      BOOST_TEST(g[static_cast<std::int64_t>(i)] == sig, boost::test_tools::tolerance(1e-14));
    }
  }
  VIREO_CHECK_GRAD([](Tape&, const std::vector<Var>& v) { return softplus(v[0]); },
                   {uniform(Shape{8, 5}, -6, 6, 13)});
  VIREO_CHECK_GRAD([](Tape&, const std::vector<Var>& v) { return log_sigmoid(v[0]); },
                   {uniform(Shape{8, 5}, -6, 6, 14)});
}

// relu of 32 elements or more takes the vectorised path: values, the
// gradient 1 above 0 and 0 below, accumulated into an adjoint already holding
// another term's gradient.
BOOST_AUTO_TEST_CASE(relu_array_path) {
  std::vector<double> xs;
  for (int i = 0; i < 64; ++i) xs.push_back(-3.15 + 0.1 * i);
  Tape tape;
  Var x = tape.leaf(Tensor::vector(xs));
  Var y = relu(x);
  const Tensor v = y.value();
  tape.backward(sum(y) + sum(x));
  const Tensor g = tape.grad(x);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    BOOST_TEST(v[static_cast<std::int64_t>(i)] == std::max(xs[i], 0.0));
    BOOST_TEST(g[static_cast<std::int64_t>(i)] == (xs[i] > 0 ? 2.0 : 1.0));
  }
}

BOOST_AUTO_TEST_CASE(comparisons_and_where) {
  Tape tape;
  Var a = tape.leaf(Tensor::vector({1.0, 2.0, 3.0}));
  Var b = tape.leaf(Tensor::vector({3.0, 2.0, 1.0}));
  BOOST_TEST((a < b).value().values() == std::vector<double>({1, 0, 0}));
  BOOST_TEST((a <= b).value().values() == std::vector<double>({1, 1, 0}));
  BOOST_TEST((a > b).value().values() == std::vector<double>({0, 0, 1}));
  BOOST_TEST((a >= b).value().values() == std::vector<double>({0, 1, 1}));
  BOOST_TEST((a == b).value().values() == std::vector<double>({0, 1, 0}));
  BOOST_TEST((a != b).value().values() == std::vector<double>({1, 0, 1}));
  BOOST_TEST((a > 1.5).value().values() == std::vector<double>({0, 1, 1}));
  BOOST_TEST((a <= 1.5).value().values() == std::vector<double>({1, 0, 0}));
  BOOST_TEST((a == 2.0).value().values() == std::vector<double>({0, 1, 0}));
  BOOST_TEST(!(a < b).requires_grad());
  BOOST_TEST(where(a < b, a, b).value().values() == std::vector<double>({1, 2, 1}));
  BOOST_TEST(where(a < b, a, 0.0).value().values() == std::vector<double>({1, 0, 0}));
  BOOST_TEST(where(a < b, 0.0, b).value().values() == std::vector<double>({0, 2, 1}));

  const Tensor x = uniform(Shape{3, 4}, -1, 1, 5), y = uniform(Shape{4}, -1, 1, 6);
  VIREO_CHECK_GRAD([](Tape&, const std::vector<Var>& v) { return where(v[0] > v[1], v[0], v[1] * 2.0); },
                   {x, y});
  // A scalar mask broadcasting against both sides.
  VIREO_CHECK_GRAD([](Tape& t, const std::vector<Var>& v) {
    return where(t.constant(1.0), v[0], v[1]) + where(t.constant(0.0), v[0], v[1]);
  }, {x, y});
}

BOOST_AUTO_TEST_CASE(detach_stops_gradients) {
  Tape tape;
  Var x = tape.leaf(Tensor::vector({1.0, 2.0}));
  Var y = sum(x * detach(x));
  BOOST_TEST(detach(x).value().values() == x.value().values());
  tape.backward(y);
  BOOST_TEST(tape.grad(x).values() == std::vector<double>({1.0, 2.0}));  // not 2x
  Var z = sum(exp(detach(x)));
  BOOST_TEST(!z.requires_grad());
  tape.backward(z);
  BOOST_TEST(tape.grad(x).values() == std::vector<double>({0.0, 0.0}));
}

BOOST_AUTO_TEST_SUITE_END()
