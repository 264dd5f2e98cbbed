// transform_test.cpp — every transform of biject_to (and softplus): forward
// lands in the support, inverse(forward(x)) = x, log|det J| equals the log
// absolute determinant of a finite-difference Jacobian (for simplex and
// lower-Cholesky, of the map onto the free coordinates: the first K − 1
// simplex entries, the packed lower triangle), and the tape gradients of
// forward and log|det J| pass gradcheck.
#include <boost/test/unit_test.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <functional>
#include <vector>

#include "stdlib/constraints/biject_to.hpp"
#include "support/gradcheck.hpp"

using namespace vireo;
using namespace vireo::constraints;
using ad::Shape;
using ad::Tensor;

namespace {

Tensor vec(std::vector<double> v) { return Tensor::vector(std::move(v)); }

// The free coordinates of one constrained event (the whole event if none are implied).
using Reduce = std::function<std::vector<double>(const std::vector<double>&)>;

std::vector<double> keep_all(const std::vector<double>& y) { return y; }
std::vector<double> drop_last(const std::vector<double>& y) { return {y.begin(), y.end() - 1}; }
std::vector<double> lower_triangle(const std::vector<double>& y) {
  const auto d = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(y.size()))));
  std::vector<double> out;
  for (std::size_t r = 0; r < d; ++r)
    for (std::size_t c = 0; c <= r; ++c) out.push_back(y[r * d + c]);
  return out;
}

struct TransformCase {
  const char* what;
  Constraint constraint;
  TransformPtr transform;  // nullptr: biject_to(constraint)
  Tensor x;                // unconstrained input
  Reduce reduce = keep_all;
};

std::vector<TransformCase> cases() {
  const Tensor x5 = vec({-3.0, -0.7, 0.0, 0.4, 2.5});
  return {
      {"real", real(), nullptr, x5},
      {"positive (exp)", positive(), nullptr, x5},
      {"positive (softplus)", positive(), softplus_transform(), x5},
      {"nonnegative", nonnegative(), nullptr, x5},
      {"greater_than(2)", greater_than(2.0), nullptr, x5},
      {"less_than(-1)", less_than(-1.0), nullptr, x5},
      {"interval(-1, 3)", interval(-1.0, 3.0), nullptr, x5},
      {"interval with array bounds", interval(vec({0, 0, -5, 1, 2}), vec({1, 10, 5, 1.5, 2.1})), nullptr, x5},
      {"unit_interval", unit_interval(), nullptr, x5},
      {"simplex K=4", simplex(), nullptr, vec({0.3, -1.2, 2.0}), drop_last},
      {"simplex K=2", simplex(), nullptr, vec({-0.4}), drop_last},
      {"simplex batch", simplex(), nullptr, Tensor(Shape{2, 3}, {0.3, -1.2, 2.0, 5.0, -4.0, 0.0}), drop_last},
      {"lower_cholesky D=3", lower_cholesky(), nullptr, vec({0.2, -0.5, 0.7, 1.1, 0.3, -0.9}), lower_triangle},
      {"lower_cholesky D=1", lower_cholesky(), nullptr, vec({-0.3}), lower_triangle},
  };
}

TransformPtr transform_of(const TransformCase& c) { return c.transform ? c.transform : biject_to(c.constraint); }

// forward(x) as plain values, on a scratch tape.
Tensor forward_values(const Transform& t, const Tensor& x) {
  ad::Tape tape;
  return t.forward(tape.constant(x)).value();
}

}  // namespace

BOOST_AUTO_TEST_CASE(forward_lands_in_support_and_round_trips) {
  for (const TransformCase& c : cases()) {
    BOOST_TEST_CONTEXT(c.what) {
      const TransformPtr t = transform_of(c);
      ad::Tape tape;
      const ad::Var y = t->forward(tape.constant(c.x));
      BOOST_TEST((y.shape() == t->constrained_shape(c.x.shape())));
      BOOST_TEST((t->unconstrained_shape(y.shape()) == c.x.shape()));
      const Tensor inside = c.constraint.check(y.value());
      for (std::int64_t i = 0; i < inside.numel(); ++i) BOOST_TEST(inside[i] == 1.0);
      const Tensor back = t->inverse(y).value();
      for (std::int64_t i = 0; i < back.numel(); ++i)
        BOOST_TEST(std::abs(back[i] - c.x[i]) <= 1e-10 * std::max(1.0, std::abs(c.x[i])), "x[" << i << "]");
    }
  }
}

BOOST_AUTO_TEST_CASE(log_det_jacobian_matches_finite_differences) {
  for (const TransformCase& c : cases()) {
    BOOST_TEST_CONTEXT(c.what) {
      const TransformPtr t = transform_of(c);
      ad::Tape tape;
      const ad::Var x = tape.constant(c.x);
      const Tensor log_det = t->log_abs_det_jacobian(x, t->forward(x)).value();
      // One event at a time: n unconstrained coordinates.
      const std::int64_t n = t->unconstrained_event_dim() == 0 ? 1 : c.x.shape()[c.x.rank() - 1];
      const std::int64_t events = c.x.numel() / n;
      BOOST_TEST_REQUIRE(log_det.numel() == events);
      const std::int64_t m = forward_values(*t, c.x).numel() / events;  // constrained entries per event
      for (std::int64_t e = 0; e < events; ++e) {
        Eigen::MatrixXd jac(n, n);
        for (std::int64_t j = 0; j < n; ++j) {
          const double h = 1e-6;
          Tensor xp = c.x, xm = c.x;
          xp[e * n + j] += h;
          xm[e * n + j] -= h;
          const Tensor yp = forward_values(*t, xp), ym = forward_values(*t, xm);
          const auto slice = [&](const Tensor& y) {
            return c.reduce(std::vector<double>(y.data() + e * m, y.data() + (e + 1) * m));
          };
          const std::vector<double> fp = slice(yp), fm = slice(ym);
          BOOST_TEST_REQUIRE(static_cast<std::int64_t>(fp.size()) == n);
          for (std::int64_t i = 0; i < n; ++i) jac(i, j) = (fp[i] - fm[i]) / (2 * h);
        }
        const double numeric = std::log(std::abs(jac.determinant()));
        BOOST_TEST(std::abs(log_det[e] - numeric) <= 1e-6 * std::max(1.0, std::abs(numeric)),
                   "event " << e << ": " << log_det[e] << " vs " << numeric);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(tape_gradients) {
  for (const TransformCase& c : cases()) {
    BOOST_TEST_CONTEXT(c.what) {
      const TransformPtr t = transform_of(c);
      const auto fwd = vireo::testing::gradcheck(
          [&](ad::Tape&, const std::vector<ad::Var>& v) { return t->forward(v[0]); }, {c.x});
      BOOST_TEST(fwd.ok, "forward: " << fwd.message);
      const auto ldj = vireo::testing::gradcheck(
          [&](ad::Tape&, const std::vector<ad::Var>& v) { return t->log_abs_det_jacobian(v[0], t->forward(v[0])); },
          {c.x});
      BOOST_TEST(ldj.ok, "log_abs_det_jacobian: " << ldj.message);
      const Tensor y = forward_values(*t, c.x);
      const auto inv = vireo::testing::gradcheck(
          [&](ad::Tape&, const std::vector<ad::Var>& v) { return t->inverse(v[0]); }, {y}, {1e-8, 1e-5, 1e-6});
      // A smaller step than the default: simplex entries can be ~1e-4, where
      // a step of 1e-6 is no longer small. Off the simplex the inverse is
      // still a smooth formula, so any direction may be differenced.
      BOOST_TEST(inv.ok, "inverse: " << inv.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(table_and_names) {
  BOOST_TEST(biject_to(real())->name() == "identity");
  BOOST_TEST(biject_to(positive())->name() == "exp");
  BOOST_TEST(biject_to(simplex())->name() == "stick_breaking");
  BOOST_TEST(biject_to(lower_cholesky())->name() == "lower_cholesky");
  BOOST_TEST(interval(-1.0, 3.0).name() == "interval(-1, 3)");
  BOOST_TEST(integer_interval(0.0, 10.0).name() == "integer_interval(0, 10)");
  BOOST_TEST(nonnegative_integer().is_discrete());
  try {
    biject_to(boolean());
    BOOST_TEST(false);
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) ==
               "biject_to: no transform from unconstrained space onto 'boolean' (a discrete support)");
  }
  // Large inputs stay finite and inside the support.
  ad::Tape tape;
  const Tensor big = biject_to(simplex())->forward(tape.constant(vec({800.0, -800.0, 0.0}))).value();
  double total = 0;
  for (std::int64_t i = 0; i < big.numel(); ++i) {
    BOOST_TEST(std::isfinite(big[i]));
    total += big[i];
  }
  BOOST_TEST(std::abs(total - 1.0) < 1e-12);
  const Tensor s = softplus_transform()->inverse(tape.constant(vec({1e-12, 50.0}))).value();
  BOOST_TEST(std::isfinite(s[0]));
  BOOST_TEST(std::abs(s[1] - 50.0) < 1e-12);
}
