// Reductions and normalisations along an axis: sum mean max min logsumexp
// softmax log_softmax. The input is viewed as [outer, n, inner] with the
// reduced axis in the middle (a full reduction is [1, numel, 1]); the three
// sizes are kept in Node::iaux for the backward pass. A sum over more than
// par::kChunk elements adds its chunks' sums in chunk order (kernels.hpp).
#include "runtime/ad/ad.hpp"
#include "runtime/ad/kernels.hpp"

#include <cmath>
#include <limits>

namespace vireo::ad {
namespace {

struct Layout {
  std::int64_t outer = 1, n = 1, inner = 1;
  Shape reduced;  // shape of the output of a reduction
};

Layout layout_of(const Shape& s, int axis, bool keepdims) {
  Layout l;
  const int a = normalize_axis(axis, s.rank());
  for (int d = 0; d < s.rank(); ++d) {
    if (d < a) l.outer *= s[d];
    if (d > a) l.inner *= s[d];
    if (d != a) l.reduced.push_back(s[d]);
    else if (keepdims) l.reduced.push_back(1);
  }
  l.n = s[a];
  return l;
}

const Shape& checked_shape(Var x) {
  Tape& t = detail::tape_of(x, "reduction");
  t.check(x, "reduction");
  return t.node(x).shape;
}

Layout layout_all(const Shape& s) {
  Layout l;
  l.n = s.numel();
  return l;
}

// Pushes the node of a reduction or normalisation with its layout recorded.
Var push_with_layout(Var x, const Shape& out, const Layout& l, BackwardFn bw) {
  Tape& t = detail::tape_of(x, "reduction");
  Var r = t.push(out, bw, x.index());
  Node& n = t.mutable_node(r);
  n.iaux[0] = l.outer;
  n.iaux[1] = l.n;
  n.iaux[2] = l.inner;
  return r;
}

// Runs f(x_row_ptr, out_ptr, stride) for each of the outer*inner rows;
// x_row_ptr points at element j=0 of the row, elements are stride apart.
template <class F>
void for_rows(std::int64_t outer, std::int64_t n, std::int64_t inner, F f) {
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) f(o * n * inner + i, o * inner + i);
}

// ---- sum / mean (daux = scale) ----
void sum_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  const double s = nd.daux;
  if (nd.iaux[0] == 1 && inner == 1) {  // a full reduction: one broadcast, split in chunks
    const double gr = g[0] * s;
    if (n <= par::kChunk) {
      for (std::int64_t j = 0; j < n; ++j) gx[j] += gr;
      return;
    }
    par::for_range(n, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t j = b; j < e; ++j) gx[j] += gr;
    });
    return;
  }
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t ro) {
    const double gr = g[ro] * s;
    for (std::int64_t j = 0; j < n; ++j) gx[xo + j * inner] += gr;
  });
}

void sum_forward(Tape& t, const Node& nd) {
  const double* xv = t.val(t.node(nd.in[0]));
  double* o = t.val(nd);
  const double scale = nd.daux;
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  if (nd.iaux[0] == 1 && inner == 1 && n <= par::kChunk) {  // a small full reduction: sum_of's number, inline
    o[0] = scale * detail::sum_of_chunk(0, n, [&](std::int64_t j) { return xv[j]; });
    return;
  }
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t ro) {
    o[ro] = scale * detail::sum_of(n, [&](std::int64_t j) { return xv[xo + j * inner]; });
  });
}

Var sum_impl(Var x, const Shape& out, const Layout& l, double scale) {
  Var r = push_with_layout(x, out, l, &sum_backward);
  Tape& t = *x.tape();
  t.mutable_node(r).daux = scale;
  t.compute_pure(r, &sum_forward);
  return r;
}

// The summed form of node iaux[0] (Tape::set_summed_form): sum_impl's number.
void summed_forward(Tape& t, const Node& nd) {
  const Node& nx = t.node(static_cast<std::int32_t>(nd.iaux[0]));
  const double* xv = t.val(nx);
  *t.val(nd) = 1.0 * detail::sum_of(nx.numel, [&](std::int64_t j) { return xv[j]; });
}

// ---- max / min: the gradient goes to the first element equal to the result ----
void extremum_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  const double* xv = t.val(nx);
  const double* out = t.val(nd);
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t ro) {
    for (std::int64_t j = 0; j < n; ++j)
      if (xv[xo + j * inner] == out[ro]) {
        gx[xo + j * inner] += g[ro];
        return;
      }
  });
}

// daux: 1 for max, 0 for min.
void extremum_forward(Tape& t, const Node& nd) {
  const bool is_max = nd.daux != 0.0;
  const double* xv = t.val(t.node(nd.in[0]));
  double* o = t.val(nd);
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t ro) {
    double m = xv[xo];
    for (std::int64_t j = 1; j < n; ++j) {
      const double v = xv[xo + j * inner];
      if (is_max ? v > m : v < m) m = v;
    }
    o[ro] = m;
  });
}

Var extremum(Var x, const Shape& out, const Layout& l, bool is_max) {
  if (l.n == 0) throw std::invalid_argument(is_max ? "max: empty axis" : "min: empty axis");
  Var r = push_with_layout(x, out, l, &extremum_backward);
  Tape& t = *x.tape();
  t.mutable_node(r).daux = is_max ? 1.0 : 0.0;
  t.compute(r, &extremum_forward);
  return r;
}

// ---- logsumexp: m + log(sum exp(x - m)); d/dx = exp(x - out) ----
double row_logsumexp(const double* x, std::int64_t n, std::int64_t stride) {
  double m = -std::numeric_limits<double>::infinity();
  for (std::int64_t j = 0; j < n; ++j) m = std::max(m, x[j * stride]);
  if (!std::isfinite(m)) return m;  // all -inf gives -inf; any +inf gives +inf
  double s = 0.0;
  for (std::int64_t j = 0; j < n; ++j) s += std::exp(x[j * stride] - m);
  return m + std::log(s);
}

void logsumexp_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  const double* xv = t.val(nx);
  const double* out = t.val(nd);
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t ro) {
    if (std::isinf(out[ro]) && out[ro] < 0) return;
    for (std::int64_t j = 0; j < n; ++j)
      gx[xo + j * inner] += g[ro] * std::exp(xv[xo + j * inner] - out[ro]);
  });
}

void logsumexp_forward(Tape& t, const Node& nd) {
  const double* xv = t.val(t.node(nd.in[0]));
  double* o = t.val(nd);
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t ro) { o[ro] = row_logsumexp(xv + xo, n, inner); });
}

Var logsumexp_impl(Var x, const Shape& out, const Layout& l) {
  Var r = push_with_layout(x, out, l, &logsumexp_backward);
  x.tape()->compute(r, &logsumexp_forward);
  return r;
}

// ---- softmax / log_softmax along an axis (output has the input's shape) ----
void softmax_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  const double* out = t.val(nd);
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t) {
    double dotp = 0.0;
    for (std::int64_t j = 0; j < n; ++j) dotp += g[xo + j * inner] * out[xo + j * inner];
    for (std::int64_t j = 0; j < n; ++j)
      gx[xo + j * inner] += out[xo + j * inner] * (g[xo + j * inner] - dotp);
  });
}

void log_softmax_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  const double* out = t.val(nd);
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t) {
    double gs = 0.0;
    for (std::int64_t j = 0; j < n; ++j) gs += g[xo + j * inner];
    for (std::int64_t j = 0; j < n; ++j)
      gx[xo + j * inner] += g[xo + j * inner] - std::exp(out[xo + j * inner]) * gs;
  });
}

template <bool log_space>
void normalise_forward(Tape& t, const Node& nd) {
  const double* xv = t.val(t.node(nd.in[0]));
  double* o = t.val(nd);
  const std::int64_t n = nd.iaux[1], inner = nd.iaux[2];
  for_rows(nd.iaux[0], n, inner, [&](std::int64_t xo, std::int64_t) {
    const double lse = row_logsumexp(xv + xo, n, inner);
    for (std::int64_t j = 0; j < n; ++j) {
      const double v = xv[xo + j * inner] - lse;
      o[xo + j * inner] = log_space ? v : std::exp(v);
    }
  });
}

Var normalise(Var x, int axis, bool log_space) {
  Tape& t = detail::tape_of(x, log_space ? "log_softmax" : "softmax");
  const Shape s = t.node(x).shape;
  const Layout l = s.rank() == 0 ? layout_all(s) : layout_of(s, axis, true);
  Var r = push_with_layout(x, s, l, log_space ? &log_softmax_backward : &softmax_backward);
  t.compute(r, log_space ? &normalise_forward<true> : &normalise_forward<false>);
  return r;
}

}  // namespace

Var sum(Var x) {
  const Shape& s = checked_shape(x);
  Tape& t = *x.tape();
  if (const BackwardFn summed = t.summed_form(x)) {  // Tape::set_summed_form
    const Node& nx = t.node(x);
    Var r = t.push(Shape{}, summed, nx.in[0], nx.in[1], nx.in[2]);
    t.mutable_node(r).iaux[0] = x.index();
    t.compute(r, &summed_forward);
    return r;
  }
  return sum_impl(x, Shape{}, layout_all(s), 1.0);
}
Var sum(Var x, int axis, bool keepdims) {
  const Layout l = layout_of(checked_shape(x), axis, keepdims);
  return sum_impl(x, l.reduced, l, 1.0);
}
Var mean(Var x) {
  const Layout l = layout_all(checked_shape(x));
  return sum_impl(x, Shape{}, l, 1.0 / static_cast<double>(l.n));
}
Var mean(Var x, int axis, bool keepdims) {
  const Layout l = layout_of(checked_shape(x), axis, keepdims);
  return sum_impl(x, l.reduced, l, 1.0 / static_cast<double>(l.n));
}
Var max(Var x) { return extremum(x, Shape{}, layout_all(checked_shape(x)), true); }
Var max(Var x, int axis, bool keepdims) {
  const Layout l = layout_of(checked_shape(x), axis, keepdims);
  return extremum(x, l.reduced, l, true);
}
Var min(Var x) { return extremum(x, Shape{}, layout_all(checked_shape(x)), false); }
Var min(Var x, int axis, bool keepdims) {
  const Layout l = layout_of(checked_shape(x), axis, keepdims);
  return extremum(x, l.reduced, l, false);
}
Var logsumexp(Var x) { return logsumexp_impl(x, Shape{}, layout_all(checked_shape(x))); }
Var logsumexp(Var x, int axis, bool keepdims) {
  const Layout l = layout_of(checked_shape(x), axis, keepdims);
  return logsumexp_impl(x, l.reduced, l);
}
Var softmax(Var x, int axis) { return normalise(x, axis, false); }
Var log_softmax(Var x, int axis) { return normalise(x, axis, true); }

}  // namespace vireo::ad
