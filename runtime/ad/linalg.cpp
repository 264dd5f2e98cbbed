// Linear algebra: matmul with NumPy `@` semantics, dot, transpose.
// Every matmul is a batch of [n, k] @ [k, m] products (a rank-1 left operand
// is a 1×k row, a rank-1 right operand a k×1 column, squeezed from the
// result); batch axes broadcast. Products go through Eigen maps over the
// arena: gemv when n or m is 1, gemm otherwise. A product with many rows is
// cut into row chunks (product, product_backward) that may run on threads.
#include "runtime/ad/ad.hpp"
#include "runtime/ad/kernels.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <vector>

namespace vireo::ad {
namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMat>;
using CMatMap = Eigen::Map<const RowMat>;
using VecMap = Eigen::Map<Eigen::VectorXd>;
using CVecMap = Eigen::Map<const Eigen::VectorXd>;
using RowVecMap = Eigen::Map<Eigen::RowVectorXd>;
using CRowVecMap = Eigen::Map<const Eigen::RowVectorXd>;

struct MatmulDims {
  std::int64_t n = 1, k = 1, m = 1;
  Shape batch_a, batch_b, batch_out, out;
};

MatmulDims matmul_dims(const Shape& a, const Shape& b) {
  if (a.rank() == 0 || b.rank() == 0)
    throw std::invalid_argument("matmul: operands must have rank >= 1, got " + to_string(a) +
                                " @ " + to_string(b));
  MatmulDims d;
  const std::int64_t ka = a[a.rank() - 1];
  const std::int64_t kb = b.rank() == 1 ? b[0] : b[b.rank() - 2];
  if (ka != kb)
    throw std::invalid_argument("matmul: inner dimensions differ in " + to_string(a) + " @ " +
                                to_string(b));
  d.k = ka;
  d.n = a.rank() >= 2 ? a[a.rank() - 2] : 1;
  d.m = b.rank() >= 2 ? b[b.rank() - 1] : 1;
  for (int i = 0; i + 2 < a.rank(); ++i) d.batch_a.push_back(a[i]);
  for (int i = 0; i + 2 < b.rank(); ++i) d.batch_b.push_back(b[i]);
  try {
    d.batch_out = broadcast_shapes(d.batch_a, d.batch_b);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("matmul: batch axes: ") + e.what());
  }
  d.out = d.batch_out;
  if (a.rank() >= 2) d.out.push_back(d.n);
  if (b.rank() >= 2) d.out.push_back(d.m);
  return d;
}

// Rows per chunk of a product whose left operand has k columns: about
// kProductChunk of its elements, a function of the shape only, so that a
// large product is cut the same way on any number of threads. Eight times
// par::kChunk: each chunk is a gemv or gemm call of its own (and, backward,
// a partial A^T G added in chunk order), whose fixed cost at par::kChunk
// was most of what M2's step (N = 5000, k = 50: 31 chunks each way) paid
// beyond its hand-written form; a product of 4 chunks still splits across
// the threads, and M2 at N = 10^6 has 763.
constexpr std::int64_t kProductChunk = 8 * par::kChunk;
std::int64_t chunk_rows(std::int64_t k) { return std::max<std::int64_t>(1, kProductChunk / std::max<std::int64_t>(1, k)); }

// A bias added to a product as its chunks come out (matmul_add): one
// value, or one per element of the product, `v` then lined up with the
// product's first element. Null: none.
struct Bias {
  const double* v = nullptr;
  bool scalar = true;
};

// C[0, len) += the bias from C's element `at` of the product on: each
// element as Add's forward computes it (x + c, exact in either order).
void add_bias(double* C, std::int64_t len, std::int64_t at, const Bias& bias) {
  if (!bias.v) return;
  Eigen::Map<Eigen::ArrayXd> out(C, len);
  if (bias.scalar)
    out += *bias.v;
  else
    out += Eigen::Map<const Eigen::ArrayXd>(bias.v + at, len);
}

// C = A B for one batch element (or one chunk of its rows).
void product_block(const double* A, const double* B, double* C, std::int64_t n, std::int64_t k,
                   std::int64_t m) {
  if (n == 1 && m == 1) {
    *C = CVecMap(A, k).dot(CVecMap(B, k));
  } else if (m == 1) {
    VecMap(C, n).noalias() = CMatMap(A, n, k) * CVecMap(B, k);
  } else if (n == 1) {
    RowVecMap(C, m).noalias() = CRowVecMap(A, k) * CMatMap(B, k, m);
  } else {
    MatMap(C, n, m).noalias() = CMatMap(A, n, k) * CMatMap(B, k, m);
  }
}

// C = A B (+ the bias) for one batch element: rows in chunks of
// chunk_rows(k), which may run on several threads (each row's result is its
// chunk's alone). The bias is added to each chunk while it is still in cache.
void product(const double* A, const double* B, double* C, std::int64_t n, std::int64_t k, std::int64_t m,
             const Bias& bias = {}) {
  const std::int64_t R = chunk_rows(k);
  if (n <= R) {
    product_block(A, B, C, n, k, m);
    add_bias(C, n * m, 0, bias);
    return;
  }
  par::for_each((n + R - 1) / R, [&](std::int64_t c) {
    const std::int64_t r0 = c * R, r1 = std::min(n, r0 + R);
    product_block(A + r0 * k, B, C + r0 * m, r1 - r0, k, m);
    add_bias(C + r0 * m, (r1 - r0) * m, r0 * m, bias);
  });
}

// gA += G B^T, gB += A^T G for one batch element (either may be null).
void product_backward_block(const double* A, const double* B, const double* G, double* gA, double* gB,
                            std::int64_t n, std::int64_t k, std::int64_t m) {
  if (n == 1 && m == 1) {
    if (gA) VecMap(gA, k) += *G * CVecMap(B, k);
    if (gB) VecMap(gB, k) += *G * CVecMap(A, k);
  } else if (m == 1) {  // A [n,k], b [k], g [n]
    if (gA) MatMap(gA, n, k).noalias() += CVecMap(G, n) * CRowVecMap(B, k);
    if (gB) VecMap(gB, k).noalias() += CMatMap(A, n, k).transpose() * CVecMap(G, n);
  } else if (n == 1) {  // a [k], B [k,m], g [m]
    if (gA) VecMap(gA, k).noalias() += CMatMap(B, k, m) * CVecMap(G, m);
    if (gB) MatMap(gB, k, m).noalias() += CVecMap(A, k) * CRowVecMap(G, m);
  } else {
    if (gA) MatMap(gA, n, k).noalias() += CMatMap(G, n, m) * CMatMap(B, k, m).transpose();
    if (gB) MatMap(gB, k, m).noalias() += CMatMap(A, n, k).transpose() * CMatMap(G, n, m);
  }
}

// The same with the rows in chunks of chunk_rows(k): gA's rows are each
// their chunk's; gB, a sum over every row, gets each chunk's A_c^T G_c
// computed on its own (on any thread) and added in chunk order.
void product_backward(const double* A, const double* B, const double* G, double* gA, double* gB,
                      std::int64_t n, std::int64_t k, std::int64_t m) {
  const std::int64_t R = chunk_rows(k);
  if (n <= R) return product_backward_block(A, B, G, gA, gB, n, k, m);
  const std::int64_t chunks = (n + R - 1) / R;
  std::vector<double> partial(gB ? static_cast<std::size_t>(chunks * k * m) : 0, 0.0);
  par::for_each(chunks, [&](std::int64_t c) {
    const std::int64_t r0 = c * R, r1 = std::min(n, r0 + R);
    product_backward_block(A + r0 * k, B, G + r0 * m, gA ? gA + r0 * k : nullptr,
                           gB ? partial.data() + c * k * m : nullptr, r1 - r0, k, m);
  });
  if (gB)
    for (std::int64_t c = 0; c < chunks; ++c) {
      const double* p = partial.data() + c * k * m;
      for (std::int64_t i = 0; i < k * m; ++i) gB[i] += p[i];
    }
}

// A batch of rows against one matrix — `z @ W` inside a plate, z [B, k] of
// per-element vectors, or [B, n, k] @ [k, m] — is one [B·n, k] @ [k, m]
// product: the batch elements' rows lie one after another in A and in C, so
// a single gemm (and, backward, two) replaces B gemv calls and B outer
// products. Returns B·n when the right operand is one matrix (its batch axes,
// if any, all of size 1), else 0.
std::int64_t folded_rows(const MatmulDims& d, const Shape& b) {
  if (b.rank() < 2) return 0;
  for (int i = 0; i < d.batch_b.rank(); ++i)
    if (d.batch_b[i] != 1) return 0;
  std::int64_t batch = 1;
  for (int i = 0; i < d.batch_out.rank(); ++i) batch *= d.batch_out[i];
  return batch > 1 ? batch * d.n : 0;
}

void matmul_backward(Tape& t, const Node& nd) {
  const Node& na = t.node(nd.in[0]);
  const Node& nb = t.node(nd.in[1]);
  const MatmulDims d = matmul_dims(na.shape, nb.shape);
  const double* A = t.val(na);
  const double* B = t.val(nb);
  const double* G = t.adj(nd);
  double* gA = na.adj >= 0 ? t.adj(na) : nullptr;
  double* gB = nb.adj >= 0 ? t.adj(nb) : nullptr;
  if (const std::int64_t rows = folded_rows(d, nb.shape)) {
    product_backward(A, B, G, gA, gB, rows, d.k, d.m);
    return;
  }
  const std::int64_t sa = d.n * d.k, sb = d.k * d.m, so = d.n * d.m;
  detail::broadcast_loop<2>(d.batch_out, {&d.batch_a, &d.batch_b},
                            [&](std::int64_t o, const auto& off) {
                              product_backward(A + off[0] * sa, B + off[1] * sb, G + o * so,
                                               gA ? gA + off[0] * sa : nullptr,
                                               gB ? gB + off[1] * sb : nullptr, d.n, d.k, d.m);
                            });
}

// matmul_add's node: in[2] is the bias c. Its gradient as Add's backward
// adds it (g · 1, a broadcast scalar's by sum_of), then the product's, in
// the order the two nodes' backward passes ran (Add's first).
void matmul_add_backward(Tape& t, const Node& nd) {
  const Node& nc = t.node(nd.in[2]);
  if (nc.adj >= 0) {
    const double* g = t.adj(nd);
    double* gc = t.adj(nc);
    if (nc.numel == nd.numel)
      par::for_range(nd.numel, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t i = lo; i < hi; ++i) gc[i] += g[i] * 1.0;
      });
    else
      gc[0] += detail::sum_of(nd.numel, [&](std::int64_t i) { return g[i] * 1.0; });
  }
  matmul_backward(t, nd);
}

void transpose_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t r = nd.shape[nd.shape.rank() - 2], c = nd.shape[nd.shape.rank() - 1];
  const std::int64_t batch = nd.numel / (r * c);
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  for (std::int64_t b = 0; b < batch; ++b)
    MatMap(gx + b * r * c, c, r) += CMatMap(g + b * r * c, r, c).transpose();
}

void dense_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const Node& nw = t.node(nd.in[1]);
  const Node& nb = t.node(nd.in[2]);
  const std::int64_t k = nw.shape[0], m = nw.shape[1], rows = nx.numel / std::max<std::int64_t>(k, 1);
  const CMatMap G(t.adj(nd), rows, m);
  if (nx.adj >= 0) MatMap(t.adj(nx), rows, k).noalias() += G * CMatMap(t.val(nw), k, m).transpose();
  if (nw.adj >= 0) MatMap(t.adj(nw), k, m).noalias() += CMatMap(t.val(nx), rows, k).transpose() * G;
  if (nb.adj >= 0) RowVecMap(t.adj(nb), m) += G.colwise().sum();
}

void dense_forward(Tape& t, const Node& nd) {
  const Node& nw = t.node(nd.in[1]);
  const std::int64_t k = nw.shape[0], m = nw.shape[1], rows = nd.numel / std::max<std::int64_t>(m, 1);
  MatMap C(t.val(nd), rows, m);
  C.noalias() = CMatMap(t.val(t.node(nd.in[0])), rows, k) * CMatMap(t.val(nw), k, m);
  C.rowwise() += CRowVecMap(t.val(t.node(nd.in[2])), m);
}

void transpose_forward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t r = nx.shape[nx.shape.rank() - 2], c = nx.shape[nx.shape.rank() - 1];
  const double* xv = t.val(nx);
  double* o = t.val(nd);
  const std::int64_t batch = r * c == 0 ? 0 : nx.numel / (r * c);
  for (std::int64_t b = 0; b < batch; ++b)
    MatMap(o + b * r * c, c, r) = CMatMap(xv + b * r * c, r, c).transpose();
}

}  // namespace

Var dense(Var x, Var w, Var b) {
  Tape& t = detail::same_tape(x, w, "dense");
  detail::same_tape(x, b, "dense");
  const Shape xs = t.node(x).shape, ws = t.node(w).shape, bs = t.node(b).shape;
  if (xs.rank() < 1 || ws.rank() != 2 || bs.rank() != 1 || xs[xs.rank() - 1] != ws[0] || bs[0] != ws[1])
    throw std::invalid_argument("dense: expects x [..., k], w [k, m], b [m]; got " + to_string(xs) + ", " +
                                to_string(ws) + ", " + to_string(bs));
  Shape out;
  for (int d = 0; d + 1 < xs.rank(); ++d) out.push_back(xs[d]);
  out.push_back(ws[1]);
  Var r = t.push(out, &dense_backward, x.index(), w.index(), b.index());
  t.compute(r, &dense_forward);
  return r;
}

namespace {

// The products of `nd`, a node of in[0]'s and in[1]'s matmul shape, into
// its value, each plus the bias (null: none) whose element `at` lines up
// with the node's.
void matmul_into(Tape& t, const Node& nd, const double* bias, bool scalar_bias) {
  const Node& nb = t.node(nd.in[1]);
  const MatmulDims d = matmul_dims(t.node(nd.in[0]).shape, nb.shape);
  const double* A = t.val(t.node(nd.in[0]));
  const double* B = t.val(nb);
  double* C = t.val(nd);
  if (const std::int64_t rows = folded_rows(d, nb.shape)) {
    product(A, B, C, rows, d.k, d.m, Bias{bias, scalar_bias});
    return;
  }
  const std::int64_t sa = d.n * d.k, sb = d.k * d.m, so = d.n * d.m;
  detail::broadcast_loop<2>(d.batch_out, {&d.batch_a, &d.batch_b}, [&](std::int64_t o, const auto& off) {
    product(A + off[0] * sa, B + off[1] * sb, C + o * so, d.n, d.k, d.m,
            Bias{bias && !scalar_bias ? bias + o * so : bias, scalar_bias});
  });
}

void matmul_forward(Tape& t, const Node& nd) { matmul_into(t, nd, nullptr, true); }

// The bias is in[2]; iaux[0] is 1 when it is one value, 0 when it has the
// product's shape.
void matmul_add_forward(Tape& t, const Node& nd) {
  matmul_into(t, nd, t.val(t.node(nd.in[2])), nd.iaux[0] != 0);
}

}  // namespace

Var matmul(Var a, Var b) {
  Tape& t = detail::same_tape(a, b, "matmul");
  const MatmulDims d = matmul_dims(t.node(a).shape, t.node(b).shape);
  Var r = t.push(d.out, &matmul_backward, a.index(), b.index());
  t.compute(r, &matmul_forward);
  return r;
}

Var matmul_add(Var a, Var b, Var c) {
  Tape& t = detail::same_tape(a, b, "matmul");
  detail::same_tape(a, c, "+");
  const MatmulDims d = matmul_dims(t.node(a).shape, t.node(b).shape);
  const Node& nc = t.node(c);
  // One node when c is one value or has the product's shape (the GLM's
  // intercept, an offset per datum); any other broadcast, which may reshape
  // the result, is the two ops.
  const bool scalar = nc.numel == 1 && nc.shape.rank() <= d.out.rank();
  if (!scalar && nc.shape != d.out) return matmul(a, b) + c;
  Var r = t.push(d.out, &matmul_add_backward, a.index(), b.index(), c.index());
  t.mutable_node(r).iaux[0] = scalar ? 1 : 0;
  t.compute(r, &matmul_add_forward);
  return r;
}

Var dot(Var a, Var b) {
  if (a.rank() != 1 || b.rank() != 1)
    throw std::invalid_argument("dot: expects two vectors, got " + to_string(a.shape()) + " and " +
                                to_string(b.shape()));
  return matmul(a, b);
}

Var transpose(Var x) {
  Tape& t = detail::tape_of(x, "transpose");
  Shape s = t.node(x).shape;
  if (s.rank() < 2) return x;
  const int q = s.rank();
  Shape out = s;
  out[q - 2] = s[q - 1];
  out[q - 1] = s[q - 2];
  Var res = t.push(out, &transpose_backward, x.index());
  t.compute(res, &transpose_forward);
  return res;
}

}  // namespace vireo::ad
