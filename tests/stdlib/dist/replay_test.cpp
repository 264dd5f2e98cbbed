// replay_test.cpp — the distributions' own tape nodes replay (Tape::forward
// after copy_from and new leaf values) to the bits a fresh build gives: the
// Normal and Bernoulli log density nodes, cholesky, solve_lower and
// diagonal. The implicit gamma node, whose value is a draw, stays Opaque.
#include "runtime/ad/replay_check.hpp"

#include "dist_test_util.hpp"
#include "stdlib/dist/ops.hpp"

#include <cmath>
#include <stdexcept>

using namespace vireo;
using namespace vireo::dist;
using ad::test::check_replay;
using ad::test::uniform;

namespace {

// x ∈ {0, 1} (every third element 1, shifted by `seed`).
ad::Tensor booleans(std::int64_t n, int seed) {
  ad::Tensor x(ad::Shape{n});
  for (std::int64_t i = 0; i < n; ++i) x[i] = (i + seed) % 3 == 0 ? 1.0 : 0.0;
  return x;
}

// Logits with large ones of both signs among moderate ones.
ad::Tensor logits(std::int64_t n, double phase) {
  ad::Tensor l(ad::Shape{n});
  for (std::int64_t i = 0; i < n; ++i)
    l[i] = i % 7 == 0 ? (i % 2 ? 40.0 : -40.0) : 3.0 * std::sin(0.7 * static_cast<double>(i) + phase);
  return l;
}

// A symmetric positive definite d×d matrix: B Bᵀ + d I.
ad::Tensor spd(std::int64_t d, unsigned seed) {
  const ad::Tensor b = uniform(ad::Shape{d, d}, -1, 1, seed);
  ad::Tensor a(ad::Shape{d, d});
  for (std::int64_t r = 0; r < d; ++r)
    for (std::int64_t c = 0; c < d; ++c) {
      double s = r == c ? static_cast<double>(d) : 0.0;
      for (std::int64_t k = 0; k < d; ++k) s += b[r * d + k] * b[c * d + k];
      a[r * d + c] = s;
    }
  return a;
}

// A lower-triangular d×d matrix with a positive diagonal.
ad::Tensor lower(std::int64_t d, unsigned seed) {
  ad::Tensor l = uniform(ad::Shape{d, d}, -1, 1, seed);
  for (std::int64_t r = 0; r < d; ++r)
    for (std::int64_t c = 0; c < d; ++c)
      if (c > r) l[r * d + c] = 0.0;
      else if (c == r) l[r * d + c] = 0.5 + std::abs(l[r * d + c]);
  return l;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay)

// loc, scale and x of one shape: the one log density node; broadcast ones: the composite.
BOOST_AUTO_TEST_CASE(normal_log_prob) {
  auto f = [](ad::Tape& t, const std::vector<ad::Var>& v) {
    return make_distribution("Normal", t, {{"loc", v[1]}, {"scale", v[2]}})->log_prob(v[0]);
  };
  for (const ad::Shape& s : {ad::Shape{}, ad::Shape{7}, ad::Shape{3, 40}}) {
    BOOST_TEST_CONTEXT("shape " << ad::to_string(s)) {
      check_replay({uniform(s, -3, 3, 1), uniform(s, -1, 1, 2), uniform(s, 0.5, 2, 3)},
                   {uniform(s, -3, 3, 4), uniform(s, -1, 1, 5), uniform(s, 0.5, 2, 6)}, f);
      // The node's own backward (not under a sum's).
      check_replay({uniform(s, -3, 3, 7), uniform(s, -1, 1, 8), uniform(s, 0.5, 2, 9)},
                   {uniform(s, -3, 3, 10), uniform(s, -1, 1, 11), uniform(s, 0.5, 2, 12)},
                   [&](ad::Tape& t, const std::vector<ad::Var>& v) { return f(t, v) * 1.5; });
    }
  }
  const ad::Shape x{3, 5}, loc{5}, scale{};
  check_replay({uniform(x, -3, 3, 13), uniform(loc, -1, 1, 14), uniform(scale, 0.5, 2, 15)},
               {uniform(x, -3, 3, 16), uniform(loc, -1, 1, 17), uniform(scale, 0.5, 2, 18)}, f);
}

// A constant scale (data, a prior's): the node reads the logarithms of the
// scales from a constant node made once, and gives the same bits as taking
// them in the kernel, forward, backward and replayed.
BOOST_AUTO_TEST_CASE(normal_log_prob_with_a_constant_scale) {
  const ad::Shape s{9};
  const ad::Tensor scale = uniform(s, 0.1, 30, 19);
  auto with_constant = [&](ad::Tape& t, const std::vector<ad::Var>& v) {
    return make_distribution("Normal", t, {{"loc", v[1]}, {"scale", t.constant(scale)}})->log_prob(v[0]);
  };
  check_replay({uniform(s, -3, 3, 20), uniform(s, -1, 1, 21)}, {uniform(s, -3, 3, 22), uniform(s, -1, 1, 23)},
               with_constant);
  ad::Tape a, b;
  const ad::Tensor x = uniform(s, -50, 50, 24), loc = uniform(s, -1, 1, 25);
  const ad::Var xa = a.leaf(x), la = a.leaf(loc), xb = b.leaf(x), lb = b.leaf(loc);
  const ad::Var pa = with_constant(a, {xa, la});
  const ad::Var pb = make_distribution("Normal", b, {{"loc", lb}, {"scale", b.leaf(scale)}})->log_prob(xb);
  a.backward(ad::sum(pa * 1.5));
  b.backward(ad::sum(pb * 1.5));
  for (std::int64_t i = 0; i < s.numel(); ++i) {
    BOOST_TEST(ad::test::same_bits(pa.value()[i], pb.value()[i]), "element " << i);
    BOOST_TEST(ad::test::same_bits(xa.grad()[i], xb.grad()[i]), "element " << i);
    BOOST_TEST(ad::test::same_bits(la.grad()[i], lb.grad()[i]), "element " << i);
  }
  // Every input a constant: so is the log density (nothing for a replay to compute).
  ad::Tape c;
  const ad::Var all = make_distribution("Normal", c, {{"loc", c.constant(loc)}, {"scale", c.constant(scale)}})
                          ->log_prob(c.constant(x));
  BOOST_TEST((c.node(all).kind == ad::NodeKind::Constant));
}

// The logits' node on the scalar path (5), the vectorised one (100, 1700: strips of 512) and
// over several par:: chunks (20000); x data or a leaf; through the summed form and not.
BOOST_AUTO_TEST_CASE(bernoulli_log_prob) {
  for (const std::int64_t n : {std::int64_t{5}, std::int64_t{100}, std::int64_t{1700}, std::int64_t{20000}}) {
    BOOST_TEST_CONTEXT("n = " << n) {
      for (const int seed : {0, 1}) {
        const ad::Tensor x = booleans(n, seed);
        auto data = [x](ad::Tape& t, const std::vector<ad::Var>& v) {
          return make_distribution("Bernoulli", t, {{"logits", v[0]}})->log_prob(t.constant(x));
        };
        check_replay({logits(n, 0.0)}, {logits(n, 0.3)}, data);
        check_replay({logits(n, 0.0)}, {logits(n, 0.3)},
                     [&](ad::Tape& t, const std::vector<ad::Var>& v) { return data(t, v) * 1.5; });
      }
      auto leaf = [](ad::Tape& t, const std::vector<ad::Var>& v) {
        return make_distribution("Bernoulli", t, {{"logits", v[0]}})->log_prob(v[1]);
      };
      check_replay({logits(n, 0.0), booleans(n, 0)}, {logits(n, 0.3), booleans(n, 1)}, leaf);
      check_replay({logits(n, 0.0), booleans(n, 0)}, {logits(n, 0.3), booleans(n, 1)},
                   [&](ad::Tape& t, const std::vector<ad::Var>& v) { return leaf(t, v) * 1.5; });
    }
  }
}

// cholesky (covariance_matrix), solve_lower and diagonal (both parameterisations).
BOOST_AUTO_TEST_CASE(multivariate_normal_log_prob) {
  const std::int64_t d = 4;
  const ad::Shape xs{3, d}, ls{d};
  auto covariance = [](ad::Tape& t, const std::vector<ad::Var>& v) {
    return make_distribution("MultivariateNormal", t, {{"loc", v[1]}, {"covariance_matrix", v[2]}})->log_prob(v[0]);
  };
  check_replay({uniform(xs, -2, 2, 1), uniform(ls, -1, 1, 2), spd(d, 3)},
               {uniform(xs, -2, 2, 4), uniform(ls, -1, 1, 5), spd(d, 6)}, covariance);
  auto scale_tril = [](ad::Tape& t, const std::vector<ad::Var>& v) {
    return make_distribution("MultivariateNormal", t, {{"loc", v[1]}, {"scale_tril", v[2]}})->log_prob(v[0]);
  };
  check_replay({uniform(xs, -2, 2, 7), uniform(ls, -1, 1, 8), lower(d, 9)},
               {uniform(xs, -2, 2, 10), uniform(ls, -1, 1, 11), lower(d, 12)}, scale_tril);
}

BOOST_AUTO_TEST_CASE(cholesky_solve_lower_diagonal) {
  const std::int64_t d = 5;
  check_replay({spd(d, 20)}, {spd(d, 21)}, [](ad::Tape&, const std::vector<ad::Var>& v) { return cholesky(v[0]); });
  check_replay({uniform(ad::Shape{d, d}, -1, 1, 22)}, {uniform(ad::Shape{d, d}, -1, 1, 23)},
               [](ad::Tape&, const std::vector<ad::Var>& v) { return diagonal(v[0]); });
  for (const ad::Shape& b : {ad::Shape{d}, ad::Shape{2, 3, d}}) {
    BOOST_TEST_CONTEXT("b " << ad::to_string(b)) {
      check_replay({lower(d, 24), uniform(b, -2, 2, 25)}, {lower(d, 26), uniform(b, -2, 2, 27)},
                   [](ad::Tape&, const std::vector<ad::Var>& v) { return solve_lower(v[0], v[1]); });
    }
  }
}

// A replay on a matrix that is not positive definite fails as building it does.
BOOST_AUTO_TEST_CASE(cholesky_replay_refuses_an_indefinite_matrix) {
  ad::Tape t, copy;
  const ad::Var a = t.leaf(spd(3, 30));
  cholesky(a);
  copy.copy_from(t);
  ad::Tensor bad = spd(3, 30);
  bad[0] = -1.0;
  std::copy(bad.data(), bad.data() + bad.numel(), copy.val(ad::Var(&copy, a.index())));
  BOOST_CHECK_THROW(copy.forward(), std::domain_error);
  BOOST_CHECK_THROW(cholesky(t.leaf(bad)), std::domain_error);
}

// Its value is a gamma draw, not a function of its input: a replay must not reuse it.
BOOST_AUTO_TEST_CASE(gamma_draws_stay_opaque) {
  ad::Tape t;
  const ad::Var alpha = t.leaf(ad::Tensor::vector({0.5, 2.0, 7.0}));
  rng::Generator g(1);
  const ad::Var z = standard_gamma_rsample(alpha, ad::Shape{3}, g);
  BOOST_TEST((t.node(z).kind == ad::NodeKind::Opaque));
  BOOST_TEST(t.first_opaque() >= 0);
}

BOOST_AUTO_TEST_SUITE_END()
