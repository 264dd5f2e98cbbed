// stick_breaking.cpp — ℝ^(K−1) → the simplex in ℝ^K, as PyTorch's
// StickBreakingTransform: with x'_i = x_i − log(K − 1 − i) (so x = 0 maps to
// the centre of the simplex), z_i = σ(x'_i) is the fraction broken off the
// remaining stick: y_i = z_i Π_(j<i) (1 − z_j), y_(K−1) = Π_j (1 − z_j).
// Cumulative sums and products are matrix products with triangular 0/1
// matrices, in log space.
#include <cmath>

#include "stdlib/constraints/transform.hpp"

namespace vireo::constraints {
namespace {

using ad::Shape;
using ad::Tensor;
using ad::Var;

// log(K − 1 − i) for i < n = K − 1.
Tensor log_offsets(std::int64_t n) {
  Tensor t(Shape{n});
  for (std::int64_t i = 0; i < n; ++i) t[i] = std::log(static_cast<double>(n - i));
  return t;
}

// [rows, cols] with 1 where keep(row, col).
template <class Keep>
Tensor mask_matrix(std::int64_t rows, std::int64_t cols, Keep keep) {
  Tensor t(Shape{rows, cols});
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) t[r * cols + c] = keep(r, c) ? 1.0 : 0.0;
  return t;
}

Shape with_last(const Shape& s, std::int64_t last) {
  Shape out = s;
  out[out.rank() - 1] = last;
  return out;
}

class StickBreaking final : public Transform {
 public:
  std::string name() const override { return "stick_breaking"; }
  int unconstrained_event_dim() const override { return 1; }
  Shape unconstrained_shape(const Shape& s) const override { return with_last(s, s[s.rank() - 1] - 1); }
  Shape constrained_shape(const Shape& s) const override { return with_last(s, s[s.rank() - 1] + 1); }

  Var forward(Var x) const override {
    ad::Tape& t = *x.tape();
    const int last = x.rank() - 1;
    const std::int64_t n = x.shape()[last];
    const Var shifted = x - t.constant(log_offsets(n));
    // cum_i = Σ_(j ≤ i) log(1 − z_j).
    const Var cum = ad::matmul(ad::log_sigmoid(-shifted),
                               t.constant(mask_matrix(n, n, [](auto j, auto i) { return j <= i; })));
    const Var zero = ad::zeros(t, with_last(x.shape(), 1));
    // y_i = exp(log z_i + cum_(i−1)) for i < n, y_n = exp(cum_(n−1)).
    const Var log_z = ad::concat({ad::log_sigmoid(shifted), zero}, last);
    const Var log_rest = ad::concat({zero, cum}, last);
    return ad::exp(log_z + log_rest);
  }

  Var inverse(Var y) const override {
    ad::Tape& t = *y.tape();
    const int last = y.rank() - 1;
    const std::int64_t k = y.shape()[last], n = k - 1;
    const Var head = ad::slice(y, last, 0, n);
    // Remaining stick after i: Σ_(j > i) y_j (a tail sum, not 1 − a head sum,
    // so that tiny remainders keep their digits).
    const Var rest = ad::matmul(y, t.constant(mask_matrix(k, n, [](auto j, auto i) { return j > i; })));
    return ad::log(head) - ad::log(rest) + t.constant(log_offsets(n));
  }

  // log|det J| = Σ_i [log z_i + Σ_(j ≤ i) log(1 − z_j)] (PyTorch's
  // Σ(−x' + log σ(x') + log y_i), written without log y so that it stays
  // finite when y_i underflows).
  Var log_abs_det_jacobian(Var x, Var) const override {
    ad::Tape& t = *x.tape();
    const int last = x.rank() - 1;
    const std::int64_t n = x.shape()[last];
    const Var shifted = x - t.constant(log_offsets(n));
    const Var cum = ad::matmul(ad::log_sigmoid(-shifted),
                               t.constant(mask_matrix(n, n, [](auto j, auto i) { return j <= i; })));
    return ad::sum(ad::log_sigmoid(shifted) + cum, last);
  }
};

}  // namespace

TransformPtr stick_breaking_transform() { return std::make_shared<StickBreaking>(); }

}  // namespace vireo::constraints
