// Comparisons (masks of 0.0 / 1.0, no gradient), where(mask, a, b) and clamp.
#include "runtime/ad/ad.hpp"
#include "runtime/ad/kernels.hpp"

#include <bit>

namespace vireo::ad {
namespace {

struct Lt { static bool f(double x, double y) { return x < y; } };
struct Le { static bool f(double x, double y) { return x <= y; } };
struct Gt { static bool f(double x, double y) { return x > y; } };
struct Ge { static bool f(double x, double y) { return x >= y; } };
struct Eq { static bool f(double x, double y) { return x == y; } };
struct Ne { static bool f(double x, double y) { return x != y; } };

// A mask: in[0] against in[1]; no gradient.
template <class C>
void compare_forward(Tape& t, const Node& n) {
  detail::binary_forward(t, t.node(n.in[0]), t.node(n.in[1]), n,
                         [](double x, double y) { return C::f(x, y) ? 1.0 : 0.0; });
}

template <class C>
Var compare(Var a, Var b, const char* op) {
  Tape& t = detail::same_tape(a, b, op);
  const Shape out = detail::broadcast_for(t.node(a).shape, t.node(b).shape, op);
  Var r = t.push(out, nullptr, a.index(), b.index());
  t.compute(r, &compare_forward<C>);
  return r;
}

// A mask: in[0] against the number in daux.
template <class C>
void compare_scalar_forward(Tape& t, const Node& n) {
  const Node& na = t.node(n.in[0]);
  const double* x = t.val(na);
  double* out = t.val(n);
  for (std::int64_t i = 0; i < na.numel; ++i) out[i] = C::f(x[i], n.daux) ? 1.0 : 0.0;
}

template <class C>
Var compare(Var a, double b) {
  Tape& t = detail::tape_of(a, "comparison");
  Var r = t.push(t.node(a).shape, nullptr, a.index());
  t.mutable_node(r).daux = b;
  t.compute(r, &compare_scalar_forward<C>);
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

void where_forward(Tape& t, const Node& n) {
  const Node& nm = t.node(n.in[0]);
  const Node& na = t.node(n.in[1]);
  const Node& nb = t.node(n.in[2]);
  const double* m = t.val(nm);
  const double* av = t.val(na);
  const double* bv = t.val(nb);
  double* o = t.val(n);
  detail::broadcast_loop<3>(n.shape, {&nm.shape, &na.shape, &nb.shape},
                            [&](std::int64_t i, const auto& off) {
                              o[i] = m[off[0]] != 0.0 ? av[off[1]] : bv[off[2]];
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

void clamp_forward(Tape& t, const Node& n) {
  const double lo = n.daux, hi = std::bit_cast<double>(n.iaux[0]);
  const Node& nx = t.node(n.in[0]);
  const double* xv = t.val(nx);
  double* out = t.val(n);
  for (std::int64_t i = 0; i < nx.numel; ++i) out[i] = xv[i] < lo ? lo : (xv[i] > hi ? hi : xv[i]);
}

}  // namespace

Var operator<(Var a, Var b) { return compare<Lt>(a, b, "<"); }
Var operator<=(Var a, Var b) { return compare<Le>(a, b, "<="); }
Var operator>(Var a, Var b) { return compare<Gt>(a, b, ">"); }
Var operator>=(Var a, Var b) { return compare<Ge>(a, b, ">="); }
Var operator==(Var a, Var b) { return compare<Eq>(a, b, "=="); }
Var operator!=(Var a, Var b) { return compare<Ne>(a, b, "!="); }
Var operator<(Var a, double b) { return compare<Lt>(a, b); }
Var operator<=(Var a, double b) { return compare<Le>(a, b); }
Var operator>(Var a, double b) { return compare<Gt>(a, b); }
Var operator>=(Var a, double b) { return compare<Ge>(a, b); }
Var operator==(Var a, double b) { return compare<Eq>(a, b); }
Var operator!=(Var a, double b) { return compare<Ne>(a, b); }

Var where(Var mask, Var a, Var b) {
  Tape& t = detail::same_tape(mask, a, "where");
  detail::same_tape(a, b, "where");
  const Shape out = detail::broadcast_for(
      detail::broadcast_for(t.node(mask).shape, t.node(a).shape, "where"), t.node(b).shape,
      "where");
  Var r = t.push(out, &where_backward, mask.index(), a.index(), b.index());
  t.compute(r, &where_forward);
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
  t.compute(r, &clamp_forward);
  return r;
}

}  // namespace vireo::ad
