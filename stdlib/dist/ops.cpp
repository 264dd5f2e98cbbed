// ops.cpp — see ops.hpp. Each op: a forward that fills the node's value and
// a backward that accumulates into its inputs' adjoints.
#include "stdlib/dist/ops.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cfloat>
#include <stdexcept>

#include "runtime/rng/samplers.hpp"
#include "stdlib/constraints/broadcast_values.hpp"
#include "stdlib/math/special.hpp"

namespace vireo::dist {
namespace {

using ad::Node;
using ad::Shape;
using ad::Tape;
using ad::Tensor;
using ad::Var;
using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;

void implicit_gamma_backward(Tape& tape, const Node& node) {
  const Node& a = tape.node(node.in[0]);
  if (a.adj < 0) return;
  const double* alpha = tape.val(a);
  const double* z = tape.val(node);
  const double* g = tape.adj(node);
  double* ga = tape.adj(a);
  for (std::int64_t i = 0; i < node.numel; ++i) ga[i] += g[i] * math::gamma_sample_grad(alpha[i], z[i]);
}

void cholesky_backward(Tape& tape, const Node& node) {
  const Node& a = tape.node(node.in[0]);
  if (a.adj < 0) return;
  const std::int64_t d = node.shape[0];
  const ConstMatrixMap l(tape.val(node), d, d);
  const ConstMatrixMap lbar(tape.adj(node), d, d);
  // Murray (2016), "Differentiation of the Cholesky decomposition", eq. 10:
  // P = Φ(Lᵀ L̄) (lower triangle, diagonal halved); S = L⁻ᵀ P L⁻¹.
  Matrix p = (l.transpose() * lbar).triangularView<Eigen::Lower>();
  p.diagonal() *= 0.5;
  Matrix s = l.triangularView<Eigen::Lower>().transpose().solve(p);  // L⁻ᵀ P
  const Matrix st = s.transpose();
  s = l.triangularView<Eigen::Lower>().transpose().solve(st).transpose();  // (L⁻ᵀ (L⁻ᵀ P)ᵀ)ᵀ = L⁻ᵀ P L⁻¹
  const Matrix sym = 0.5 * (s + s.transpose());
  MatrixMap abar(tape.adj(a), d, d);
  // A's lower triangle is the input: an off-diagonal a_ij stands for both
  // A_ij and A_ji.
  for (std::int64_t r = 0; r < d; ++r)
    for (std::int64_t c = 0; c <= r; ++c) abar(r, c) += (r == c ? 1.0 : 2.0) * sym(r, c);
}

void solve_lower_backward(Tape& tape, const Node& node) {
  const Node& ln = tape.node(node.in[0]);
  const Node& bn = tape.node(node.in[1]);
  const std::int64_t d = ln.shape[0];
  const std::int64_t rows = node.numel / d;
  const ConstMatrixMap l(tape.val(ln), d, d);
  const ConstMatrixMap z(tape.val(node), rows, d);
  const ConstMatrixMap zbar(tape.adj(node), rows, d);
  // b̄ = L⁻ᵀ z̄ (per row); L̄ = −Σ_rows b̄ zᵀ on the lower triangle.
  const Matrix bbar = l.triangularView<Eigen::Lower>().transpose().solve(zbar.transpose()).transpose();
  if (bn.adj >= 0) {
    MatrixMap out(tape.adj(bn), rows, d);
    out += bbar;
  }
  if (ln.adj >= 0) {
    const Matrix g = -(bbar.transpose() * z);
    MatrixMap out(tape.adj(ln), d, d);
    out += g.triangularView<Eigen::Lower>().toDenseMatrix();
  }
}

void diagonal_backward(Tape& tape, const Node& node) {
  const Node& a = tape.node(node.in[0]);
  if (a.adj < 0) return;
  const std::int64_t d = node.numel;
  for (std::int64_t i = 0; i < d; ++i) tape.adj(a)[i * d + i] += tape.adj(node)[i];
}

void cholesky_forward(Tape& tape, const Node& node) {
  const std::int64_t d = node.shape[0];
  const Matrix m = ConstMatrixMap(tape.val(tape.node(node.in[0])), d, d);
  const Eigen::LLT<Matrix, Eigen::Lower> llt(m);
  if (llt.info() != Eigen::Success) throw std::domain_error("cholesky: matrix is not positive definite");
  const Matrix l = llt.matrixL();
  MatrixMap(tape.val(node), d, d) = l;
}

void solve_lower_forward(Tape& tape, const Node& node) {
  const std::int64_t d = tape.node(node.in[0]).shape[0];
  const std::int64_t rows = node.numel / d;
  const Matrix lv = ConstMatrixMap(tape.val(tape.node(node.in[0])), d, d);
  const Matrix bv = ConstMatrixMap(tape.val(tape.node(node.in[1])), rows, d);
  const Matrix z = lv.triangularView<Eigen::Lower>().solve(bv.transpose()).transpose();
  MatrixMap(tape.val(node), rows, d) = z;
}

void diagonal_forward(Tape& tape, const Node& node) {
  const std::int64_t d = node.numel;
  const double* src = tape.val(tape.node(node.in[0]));
  double* dst = tape.val(node);
  for (std::int64_t i = 0; i < d; ++i) dst[i] = src[i * d + i];
}

void require_square(Var a, const char* op) {
  if (a.rank() != 2 || a.shape()[0] != a.shape()[1])
    throw std::invalid_argument(std::string(op) + ": expected one square matrix; got shape " +
                                ad::to_string(a.shape()));
}

}  // namespace

Var implicit_gamma(Var concentration, const Tensor& z) {
  if (!(concentration.shape() == z.shape()))
    throw std::invalid_argument("implicit_gamma: concentration " + ad::to_string(concentration.shape()) +
                                " and draws " + ad::to_string(z.shape()) + " differ in shape");
  Tape& tape = *concentration.tape();
  // Left Opaque (no ForwardFn): the value is a draw, not a function of the
  // input, so a replay must not reuse it.
  Var out = tape.push(z.shape(), implicit_gamma_backward, concentration.index());
  std::copy(z.data(), z.data() + z.numel(), tape.val(out));
  return out;
}

Var standard_gamma_rsample(Var concentration, const Shape& shape, rng::Generator& g) {
  const Var alpha = ad::broadcast_to(concentration, shape);
  const Tensor a = alpha.value();
  // By inversion, z = P⁻¹(α, u) with u uniform: then holding the generator's
  // seed fixed holds the CDF value u fixed, so a finite difference in α at a
  // fixed seed measures exactly the implicit gradient (tests rely on this).
  // Draws that underflow are clamped to the smallest normal double.
  Tensor z(shape);
  for (std::int64_t i = 0; i < z.numel(); ++i)
    z[i] = std::max(math::gamma_p_inv(a[i], g.uniform_open()), DBL_MIN);
  return implicit_gamma(alpha, z);
}

Var cholesky(Var a) {
  require_square(a, "cholesky");
  Tape& tape = *a.tape();
  Var out = tape.push(a.shape(), cholesky_backward, a.index());
  tape.compute(out, &cholesky_forward);  // throws if A is not positive definite
  return out;
}

Var solve_lower(Var l, Var b) {
  require_square(l, "solve_lower");
  const std::int64_t d = l.shape()[0];
  if (b.rank() < 1 || b.shape()[b.rank() - 1] != d)
    throw std::invalid_argument("solve_lower: right-hand side of shape " + ad::to_string(b.shape()) +
                                " does not end in " + std::to_string(d));
  Tape& tape = *l.tape();
  Var out = tape.push(b.shape(), solve_lower_backward, l.index(), b.index());
  tape.compute(out, &solve_lower_forward);
  return out;
}

Var diagonal(Var a) {
  require_square(a, "diagonal");
  const std::int64_t d = a.shape()[0];
  Tape& tape = *a.tape();
  Var out = tape.push(Shape{d}, diagonal_backward, a.index());
  tape.compute(out, &diagonal_forward);
  return out;
}

}  // namespace vireo::dist
