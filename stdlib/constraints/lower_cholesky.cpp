// lower_cholesky.cpp — ℝ^(D(D+1)/2) → lower-triangular D×D matrices with a
// positive diagonal: x fills the lower triangle row by row ((0,0), (1,0),
// (1,1), (2,0), …) and the diagonal entries pass through exp, so
// log|det J| = Σ of the diagonal entries of x. The placement is a matrix
// product with a fixed 0/1 selection matrix, so batches of x just work.
#include <cmath>
#include <stdexcept>

#include "stdlib/constraints/transform.hpp"

namespace vireo::constraints {
namespace {

using ad::Shape;
using ad::Tensor;
using ad::Var;

std::int64_t dim_from_packed(std::int64_t m) {
  const auto d = static_cast<std::int64_t>(std::llround((std::sqrt(8.0 * m + 1.0) - 1.0) / 2.0));
  if (d * (d + 1) / 2 != m)
    throw std::invalid_argument("lower_cholesky transform: " + std::to_string(m) +
                                " is not a triangular number D(D+1)/2");
  return d;
}

// [m, D·D]: packed position k → matrix position (row-major).
Tensor placement(std::int64_t d) {
  const std::int64_t m = d * (d + 1) / 2;
  Tensor s(Shape{m, d * d});
  std::int64_t k = 0;
  for (std::int64_t r = 0; r < d; ++r)
    for (std::int64_t c = 0; c <= r; ++c) s[k++ * d * d + r * d + c] = 1.0;
  return s;
}

// 1 on the diagonal positions, as a D·D vector (matrix layout) or an m vector (packed layout).
Tensor diagonal_mask(std::int64_t d, bool packed) {
  Tensor t(Shape{packed ? d * (d + 1) / 2 : d * d});
  std::int64_t k = 0;
  for (std::int64_t r = 0; r < d; ++r)
    for (std::int64_t c = 0; c <= r; ++c, ++k)
      if (r == c) t[packed ? k : r * d + c] = 1.0;
  return t;
}

Shape replace_last(const Shape& s, int drop, std::initializer_list<std::int64_t> add) {
  Shape out;
  for (int i = 0; i < s.rank() - drop; ++i) out.push_back(s[i]);
  for (auto a : add) out.push_back(a);
  return out;
}

class LowerCholesky final : public Transform {
 public:
  std::string name() const override { return "lower_cholesky"; }
  int unconstrained_event_dim() const override { return 1; }
  Shape unconstrained_shape(const Shape& s) const override {
    const std::int64_t d = s[s.rank() - 1];
    return replace_last(s, 2, {d * (d + 1) / 2});
  }
  Shape constrained_shape(const Shape& s) const override {
    const std::int64_t d = dim_from_packed(s[s.rank() - 1]);
    return replace_last(s, 1, {d, d});
  }

  Var forward(Var x) const override {
    ad::Tape& t = *x.tape();
    const std::int64_t d = dim_from_packed(x.shape()[x.rank() - 1]);
    const Var diag = t.constant(diagonal_mask(d, true));
    // exp on the diagonal only; off-diagonal entries never pass through exp
    // (an overflow there would poison the gradient even where unselected).
    const Var packed = x * (1.0 - diag) + diag * ad::exp(x * diag);
    const Var flat = ad::matmul(packed, t.constant(placement(d)));
    return ad::reshape(flat, constrained_shape(x.shape()));
  }

  Var inverse(Var y) const override {
    ad::Tape& t = *y.tape();
    const std::int64_t d = y.shape()[y.rank() - 1];
    const Var flat = ad::reshape(y, replace_last(y.shape(), 2, {d * d}));
    const Var diag = t.constant(diagonal_mask(d, false));
    const Var logged = flat * (1.0 - diag) + diag * ad::log(flat * diag + (1.0 - diag));
    return ad::matmul(logged, ad::transpose(t.constant(placement(d))));
  }

  Var log_abs_det_jacobian(Var x, Var) const override {
    const std::int64_t d = dim_from_packed(x.shape()[x.rank() - 1]);
    return ad::sum(x * x.tape()->constant(diagonal_mask(d, true)), x.rank() - 1);
  }
};

}  // namespace

TransformPtr lower_cholesky_transform() { return std::make_shared<LowerCholesky>(); }

}  // namespace vireo::constraints
