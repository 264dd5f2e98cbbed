// Internal: the two templates every elementwise operation is an instance of.
//   unary<Op>(x, c):   out = Op::f(x, c),     dx += g * Op::d(x, out, c)
//   binary<Op>(a, b):  out = Op::f(a, b),     da += g * Op::da(a, b, out), db += g * Op::db(a, b, out)
// binary broadcasts and sums each gradient back to its input's shape.
// `c` is a per-node constant (kept in Node::daux), e.g. the 2 of x * 2.
// Arrays longer than par::kChunk are split into fixed chunks that may run on
// several threads (runtime/par/parallel.hpp); a gradient summed over a
// broadcast axis is summed per chunk, the chunks added in order.
#pragma once

#include "runtime/ad/broadcast.hpp"
#include "runtime/ad/tape.hpp"
#include "runtime/par/parallel.hpp"

#include <string>

namespace vireo::ad::detail {

inline Tape& same_tape(Var a, Var b, const char* op) {
  if (!a.valid() || !b.valid()) throw std::invalid_argument(std::string(op) + ": an empty Var");
  if (a.tape() != b.tape())
    throw std::invalid_argument(std::string(op) + ": operands belong to different tapes");
  a.tape()->check(a, op);
  a.tape()->check(b, op);
  return *a.tape();
}

inline Tape& tape_of(Var x, const char* op) {
  if (!x.valid()) throw std::invalid_argument(std::string(op) + ": an empty Var");
  x.tape()->check(x, op);
  return *x.tape();
}

inline Shape broadcast_for(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  try {
    return broadcast_shapes(a, b);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(op) + ": " + e.what());
  }
}

// From this many elements an op may switch to an Eigen-vectorised array
// form (softplus does); below it the per-call set-up costs more than it saves.
inline constexpr std::int64_t kVectorMin = 32;

// The kernels below run an array of up to par::kChunk elements as a plain
// loop in the kernel itself, and hand longer ones to an out-of-line function
// that splits them into chunks (which may run on threads) or broadcasts.
// A closure passed to par::for_range must live in memory, and with it every
// pointer it captures: on a small model's step, where most arrays hold one
// or eight numbers, that set-up cost more than the arithmetic. Each element
// is computed by the same expression on either path.

template <class Op>
[[gnu::noinline]] void unary_backward_chunks(const double* __restrict x, const double* __restrict out,
                                             const double* __restrict g, double* __restrict gx, std::int64_t n,
                                             double c) {
  par::for_range(n, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) gx[i] += g[i] * Op::d(x[i], out[i], c);
  });
}

template <class Op>
void unary_backward(Tape& t, const Node& n) {
  const Node& nx = t.node(n.in[0]);
  // The adjoint written is never one of the arrays read (each node owns its
  // value and adjoint in the arena), which lets the compiler vectorise.
  const double* __restrict x = t.val(nx);
  const double* __restrict out = t.val(n);
  const double* __restrict g = t.adj(n);
  double* __restrict gx = t.adj(nx);
  const double c = n.daux;
  const std::int64_t N = n.numel;
  if (N > par::kChunk) return unary_backward_chunks<Op>(x, out, g, gx, N, c);
  for (std::int64_t i = 0; i < N; ++i) gx[i] += g[i] * Op::d(x[i], out[i], c);
}

template <class Op>
[[gnu::noinline]] void unary_forward_chunks(const double* __restrict xv, double* __restrict out, std::int64_t n,
                                            double c) {
  par::for_range(n, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) out[i] = Op::f(xv[i], c);
  });
}

template <class Op>
void unary_forward(Tape& t, const Node& nr) {
  const double c = nr.daux;
  const double* __restrict xv = t.val(t.node(nr.in[0]));
  double* __restrict out = t.val(nr);
  const std::int64_t N = nr.numel;
  if (N > par::kChunk) return unary_forward_chunks<Op>(xv, out, N, c);
  for (std::int64_t i = 0; i < N; ++i) out[i] = Op::f(xv[i], c);
}

template <class Op>
Var unary(Var x, double c = 0.0) {
  Tape& t = tape_of(x, "elementwise operation");
  Var r = t.push(t.node(x).shape, &unary_backward<Op>, x.index());
  t.mutable_node(r).daux = c;
  t.compute_pure(r, &unary_forward<Op>);
  return r;
}

// sum_{b <= i < e} f(i) with four independent accumulators: the compiler
// may not reassociate one floating-point sum, and a single dependent chain
// of adds is what a broadcast scalar's gradient would otherwise cost.
template <class F>
double sum_of_chunk(std::int64_t b, std::int64_t e, F&& f) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::int64_t i = b;
  for (; i + 4 <= e; i += 4) {
    s0 += f(i);
    s1 += f(i + 1);
    s2 += f(i + 2);
    s3 += f(i + 3);
  }
  for (; i < e; ++i) s0 += f(i);
  return (s0 + s1) + (s2 + s3);
}

// sum_i f(i) over [0, n): sum_of_chunk, and beyond par::kChunk elements the
// same per chunk, the chunks' sums added in order.
template <class F>
double sum_of(std::int64_t n, F f) {
  if (n <= par::kChunk) return sum_of_chunk(0, n, f);
  return par::sum_chunks(n, [&](std::int64_t b, std::int64_t e) { return sum_of_chunk(b, e, f); });
}

// Whether a binary op's operands are each the output's size or one element:
// the forms binary_forward and binary_backward run inline when small.
inline bool full_or_scalar(const Node& na, const Node& nb, std::int64_t N) {
  return (na.numel == N || na.numel == 1) && (nb.numel == N || nb.numel == 1);
}

template <class Op>
[[gnu::noinline]] void binary_backward_general(Tape& t, const Node& n) {
  const Node& na = t.node(n.in[0]);
  const Node& nb = t.node(n.in[1]);
  const double* a = t.val(na);
  const double* b = t.val(nb);
  const double* out = t.val(n);
  const double* g = t.adj(n);
  double* ga = na.adj >= 0 ? t.adj(na) : nullptr;
  double* gb = nb.adj >= 0 ? t.adj(nb) : nullptr;
  const std::int64_t N = n.numel;
  if (na.numel == N && nb.numel == N) {
    par::for_range(N, [&](std::int64_t lo, std::int64_t hi) {
      if (ga)
        for (std::int64_t i = lo; i < hi; ++i) ga[i] += g[i] * Op::da(a[i], b[i], out[i]);
      if (gb)
        for (std::int64_t i = lo; i < hi; ++i) gb[i] += g[i] * Op::db(a[i], b[i], out[i]);
    });
  } else if (na.numel == N && nb.numel == 1) {
    const double bv = b[0];
    if (ga)
      par::for_range(N, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t i = lo; i < hi; ++i) ga[i] += g[i] * Op::da(a[i], bv, out[i]);
      });
    if (gb) gb[0] += sum_of(N, [&](std::int64_t i) { return g[i] * Op::db(a[i], bv, out[i]); });
  } else if (na.numel == 1 && nb.numel == N) {
    const double av = a[0];
    if (ga) ga[0] += sum_of(N, [&](std::int64_t i) { return g[i] * Op::da(av, b[i], out[i]); });
    if (gb)
      par::for_range(N, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t i = lo; i < hi; ++i) gb[i] += g[i] * Op::db(av, b[i], out[i]);
      });
  } else {
    broadcast_loop<2>(n.shape, {&na.shape, &nb.shape}, [&](std::int64_t o, const auto& off) {
      if (ga) ga[off[0]] += g[o] * Op::da(a[off[0]], b[off[1]], out[o]);
      if (gb) gb[off[1]] += g[o] * Op::db(a[off[0]], b[off[1]], out[o]);
    });
  }
}

template <class Op>
void binary_backward(Tape& t, const Node& n) {
  const Node& na = t.node(n.in[0]);
  const Node& nb = t.node(n.in[1]);
  const std::int64_t N = n.numel;
  if (N > par::kChunk || !full_or_scalar(na, nb, N)) return binary_backward_general<Op>(t, n);
  // binary_backward_general's numbers, in its order (a's adjoint first: x + x adds twice to one array).
  const double* a = t.val(na);
  const double* b = t.val(nb);
  const double* out = t.val(n);
  const double* g = t.adj(n);
  if (na.adj >= 0) {
    double* ga = t.adj(na);
    if (na.numel == N) {
      if (nb.numel == N)
        for (std::int64_t i = 0; i < N; ++i) ga[i] += g[i] * Op::da(a[i], b[i], out[i]);
      else
        for (std::int64_t i = 0; i < N; ++i) ga[i] += g[i] * Op::da(a[i], b[0], out[i]);
    } else {
      ga[0] += sum_of_chunk(0, N, [&](std::int64_t i) { return g[i] * Op::da(a[0], b[i], out[i]); });
    }
  }
  if (nb.adj >= 0) {
    double* gb = t.adj(nb);
    if (nb.numel == N) {
      if (na.numel == N)
        for (std::int64_t i = 0; i < N; ++i) gb[i] += g[i] * Op::db(a[i], b[i], out[i]);
      else
        for (std::int64_t i = 0; i < N; ++i) gb[i] += g[i] * Op::db(a[0], b[i], out[i]);
    } else {
      gb[0] += sum_of_chunk(0, N, [&](std::int64_t i) { return g[i] * Op::db(a[i], b[0], out[i]); });
    }
  }
}

// Forward of a broadcasting binary op into node `nr` from nodes `na`, `nb`:
// the chunked and broadcast forms.
template <class F>
[[gnu::noinline]] void binary_forward_general(Tape& t, const Node& na, const Node& nb, const Node& nr, F f) {
  const double* av = t.val(na);
  const double* bv = t.val(nb);
  double* out = t.val(nr);
  const std::int64_t N = nr.numel;
  if (na.numel == N && nb.numel == N) {
    par::for_range(N, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) out[i] = f(av[i], bv[i]);
    });
  } else if (na.numel == N && nb.numel == 1) {
    const double s = bv[0];
    par::for_range(N, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) out[i] = f(av[i], s);
    });
  } else if (na.numel == 1 && nb.numel == N) {
    const double s = av[0];
    par::for_range(N, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) out[i] = f(s, bv[i]);
    });
  } else {
    broadcast_loop<2>(nr.shape, {&na.shape, &nb.shape}, [&](std::int64_t o, const auto& off) {
      out[o] = f(av[off[0]], bv[off[1]]);
    });
  }
}

// Forward of a broadcasting binary op into node `nr` from nodes `na`, `nb`.
template <class F>
void binary_forward(Tape& t, const Node& na, const Node& nb, const Node& nr, F f) {
  const std::int64_t N = nr.numel;
  if (N > par::kChunk || !full_or_scalar(na, nb, N)) return binary_forward_general(t, na, nb, nr, f);
  const double* av = t.val(na);
  const double* bv = t.val(nb);
  double* out = t.val(nr);
  if (na.numel == N && nb.numel == N) {
    for (std::int64_t i = 0; i < N; ++i) out[i] = f(av[i], bv[i]);
  } else if (na.numel == N) {
    const double s = bv[0];
    for (std::int64_t i = 0; i < N; ++i) out[i] = f(av[i], s);
  } else {
    const double s = av[0];
    for (std::int64_t i = 0; i < N; ++i) out[i] = f(s, bv[i]);
  }
}

// The ForwardFn of binary<Op>: inputs in[0], in[1].
template <class Op>
void binary_node_forward(Tape& t, const Node& n) {
  binary_forward(t, t.node(n.in[0]), t.node(n.in[1]), n, [](double x, double y) { return Op::f(x, y); });
}

template <class Op>
Var binary(Var a, Var b, const char* op) {
  Tape& t = same_tape(a, b, op);
  const Shape out = broadcast_for(t.node(a).shape, t.node(b).shape, op);
  Var r = t.push(out, &binary_backward<Op>, a.index(), b.index());
  t.compute_pure(r, &binary_node_forward<Op>);
  return r;
}

}  // namespace vireo::ad::detail
