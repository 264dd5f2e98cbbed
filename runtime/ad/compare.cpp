// Comparisons (masks of 0.0 / 1.0, no gradient), where(mask, a, b) and clamp.
#include "runtime/ad/ad.hpp"
#include "runtime/ad/kernels.hpp"

#include <bit>

namespace vireo::ad {
namespace {

template <class F>
Var compare(Var a, Var b, const char* op, F f) {
  Tape& t = detail::same_tape(a, b, op);
  const Shape out = detail::broadcast_for(t.node(a).shape, t.node(b).shape, op);
  Var r = t.push(out, nullptr);
  detail::binary_forward(t, a, b, r, [f](double x, double y) { return f(x, y) ? 1.0 : 0.0; });
  return r;
}

template <class F>
Var compare(Var a, double b, F f) {
  Tape& t = detail::tape_of(a, "comparison");
  Var r = t.push(t.node(a).shape, nullptr);
  const Node& na = t.node(a);
  const double* x = t.val(na);
  double* out = t.val(r);
  for (std::int64_t i = 0; i < na.numel; ++i) out[i] = f(x[i], b) ? 1.0 : 0.0;
  return r;
}

void where_backward(Tape& t, const Node& n) {
  const Node& nm = t.node(n.in[0]);
  const Node& na = t.node(n.in[1]);
  const Node& nb = t.node(n.in[2]);
  const double* m = t.val(nm);
  const double* g = t.adj(n);
  double* ga = na.adj >= 0 ? t.adj(na) : nullptr;
  double* gb = nb.adj >= 0 ? t.adj(nb) : nullptr;
  detail::broadcast_loop<3>(n.shape, {&nm.shape, &na.shape, &nb.shape},
                            [&](std::int64_t o, const auto& off) {
                              if (m[off[0]] != 0.0) {
                                if (ga) ga[off[1]] += g[o];
                              } else if (gb) {
                                gb[off[2]] += g[o];
                              }
                            });
}

// Clamp bounds: lo in daux, hi bit-copied into iaux[0].
void clamp_backward(Tape& t, const Node& n) {
  const Node& nx = t.node(n.in[0]);
  const double lo = n.daux, hi = std::bit_cast<double>(n.iaux[0]);
  const double* x = t.val(nx);
  const double* g = t.adj(n);
  double* gx = t.adj(nx);
  for (std::int64_t i = 0; i < n.numel; ++i)
    if (x[i] >= lo && x[i] <= hi) gx[i] += g[i];
}

}  // namespace

Var operator<(Var a, Var b) { return compare(a, b, "<", [](double x, double y) { return x < y; }); }
Var operator<=(Var a, Var b) { return compare(a, b, "<=", [](double x, double y) { return x <= y; }); }
Var operator>(Var a, Var b) { return compare(a, b, ">", [](double x, double y) { return x > y; }); }
Var operator>=(Var a, Var b) { return compare(a, b, ">=", [](double x, double y) { return x >= y; }); }
Var operator==(Var a, Var b) { return compare(a, b, "==", [](double x, double y) { return x == y; }); }
Var operator!=(Var a, Var b) { return compare(a, b, "!=", [](double x, double y) { return x != y; }); }
Var operator<(Var a, double b) { return compare(a, b, [](double x, double y) { return x < y; }); }
Var operator<=(Var a, double b) { return compare(a, b, [](double x, double y) { return x <= y; }); }
Var operator>(Var a, double b) { return compare(a, b, [](double x, double y) { return x > y; }); }
Var operator>=(Var a, double b) { return compare(a, b, [](double x, double y) { return x >= y; }); }
Var operator==(Var a, double b) { return compare(a, b, [](double x, double y) { return x == y; }); }
Var operator!=(Var a, double b) { return compare(a, b, [](double x, double y) { return x != y; }); }

Var where(Var mask, Var a, Var b) {
  Tape& t = detail::same_tape(mask, a, "where");
  detail::same_tape(a, b, "where");
  const Shape out = detail::broadcast_for(
      detail::broadcast_for(t.node(mask).shape, t.node(a).shape, "where"), t.node(b).shape,
      "where");
  Var r = t.push(out, &where_backward, mask.index(), a.index(), b.index());
  const Node& nm = t.node(mask);
  const Node& na = t.node(a);
  const Node& nb = t.node(b);
  const double* m = t.val(nm);
  const double* av = t.val(na);
  const double* bv = t.val(nb);
  double* o = t.val(r);
  detail::broadcast_loop<3>(out, {&nm.shape, &na.shape, &nb.shape},
                            [&](std::int64_t i, const auto& off) {
                              o[i] = m[off[0]] != 0.0 ? av[off[1]] : bv[off[2]];
                            });
  return r;
}
Var where(Var mask, Var a, double b) { return where(mask, a, detail::tape_of(mask, "where").constant(b)); }
Var where(Var mask, double a, Var b) { return where(mask, detail::tape_of(mask, "where").constant(a), b); }

Var clamp(Var x, double lo, double hi) {
  if (!(lo <= hi)) throw std::invalid_argument("clamp: lower bound above upper bound");
  Tape& t = detail::tape_of(x, "clamp");
  Var r = t.push(t.node(x).shape, &clamp_backward, x.index());
  Node& nr = t.mutable_node(r);
  nr.daux = lo;
  nr.iaux[0] = std::bit_cast<std::int64_t>(hi);
  const Node& nx = t.node(x);
  const double* xv = t.val(nx);
  double* out = t.val(nr);
  for (std::int64_t i = 0; i < nx.numel; ++i) out[i] = xv[i] < lo ? lo : (xv[i] > hi ? hi : xv[i]);
  return r;
}

}  // namespace vireo::ad
