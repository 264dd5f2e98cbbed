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
  par::for_range(n.numel, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) gx[i] += g[i] * Op::d(x[i], out[i], c);
  });
}

template <class Op>
void unary_forward(Tape& t, const Node& nr) {
  const double c = nr.daux;
  const double* __restrict xv = t.val(t.node(nr.in[0]));
  double* __restrict out = t.val(nr);
  par::for_range(nr.numel, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) out[i] = Op::f(xv[i], c);
  });
}

template <class Op>
Var unary(Var x, double c = 0.0) {
  Tape& t = tape_of(x, "elementwise operation");
  Var r = t.push(t.node(x).shape, &unary_backward<Op>, x.index());
  t.mutable_node(r).daux = c;
  t.compute(r, &unary_forward<Op>);
  return r;
}

// sum_i f(i) with four independent accumulators: the compiler may not
// reassociate one floating-point sum, and a single dependent chain of adds
// is what a broadcast scalar's gradient would otherwise cost. Beyond
// par::kChunk elements: the same per chunk, the chunks' sums added in order.
template <class F>
double sum_of(std::int64_t n, F f) {
  return par::sum_chunks(n, [&](std::int64_t b, std::int64_t e) {
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
  });
}

template <class Op>
void binary_backward(Tape& t, const Node& n) {
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

// Forward of a broadcasting binary op into node `nr` from nodes `na`, `nb`.
template <class F>
void binary_forward(Tape& t, const Node& na, const Node& nb, const Node& nr, F f) {
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
  t.compute(r, &binary_node_forward<Op>);
  return r;
}

}  // namespace vireo::ad::detail
