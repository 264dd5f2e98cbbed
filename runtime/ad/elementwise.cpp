// Elementwise functions: exp log log1p expm1 sqrt square abs sin cos tanh
// sigmoid logit softplus log_sigmoid log1m_exp relu lgamma digamma detach.
// Each is an Op struct for detail::unary: f(x) and its derivative d(x, out).
// Stable forms keep every function finite where its value is (|x| ~ 1000).
#include "runtime/ad/ad.hpp"
#include "runtime/ad/kernels.hpp"

#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>

#include <algorithm>
#include <cmath>

namespace vireo::ad {
namespace {

// Poles and domain errors give inf/NaN like std:: functions instead of throwing.
using MathPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

using ArrayMap = Eigen::Map<Eigen::ArrayXd>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXd>;

double stable_sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
// log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)).
double stable_softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

struct Exp {
  static double f(double x, double) { return std::exp(x); }
  static double d(double, double out, double) { return out; }
};
struct Log {
  static double f(double x, double) { return std::log(x); }
  static double d(double x, double, double) { return 1.0 / x; }
};
struct Log1p {
  static double f(double x, double) { return std::log1p(x); }
  static double d(double x, double, double) { return 1.0 / (1.0 + x); }
};
struct Expm1 {
  static double f(double x, double) { return std::expm1(x); }
  static double d(double, double out, double) { return out + 1.0; }
};
struct Sqrt {
  static double f(double x, double) { return std::sqrt(x); }
  static double d(double, double out, double) { return 0.5 / out; }
};
struct Square {
  static double f(double x, double) { return x * x; }
  static double d(double x, double, double) { return 2.0 * x; }
};
struct Abs {
  static double f(double x, double) { return std::abs(x); }
  static double d(double x, double, double) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }
};
struct Sin {
  static double f(double x, double) { return std::sin(x); }
  static double d(double x, double, double) { return std::cos(x); }
};
struct Cos {
  static double f(double x, double) { return std::cos(x); }
  static double d(double x, double, double) { return -std::sin(x); }
};
struct Tanh {
  static double f(double x, double) { return std::tanh(x); }
  static double d(double, double out, double) { return 1.0 - out * out; }
};
struct Sigmoid {
  static double f(double x, double) { return stable_sigmoid(x); }
  static double d(double, double out, double) { return out * (1.0 - out); }
};
struct Logit {
  static double f(double x, double) { return std::log(x) - std::log1p(-x); }
  static double d(double x, double, double) { return 1.0 / (x * (1.0 - x)); }
};
struct Softplus {
  static double f(double x, double) { return stable_softplus(x); }
  static double d(double x, double, double) { return stable_sigmoid(x); }
};

// Softplus of a large array: vectorised, keeping e = exp(-|x|) in scratch so
// the backward pass needs no second exp (M2's likelihood spends most of its
// elementwise time here).
void softplus_array_backward(Tape& t, const Node& n) {
  const Node& nx = t.node(n.in[0]);
  par::for_chunks(n.numel, [&](std::int64_t b, std::int64_t end) {
    const std::int64_t len = end - b;
    const ConstArrayMap x(t.val(nx) + b, len), e(t.scratch(n.iaux[0]) + b, len);
    // sigmoid(x) = 1 / (1 + e) for x > 0 and e / (1 + e) for x < 0, with the
    // numerator chosen without a branch: e + (1 - e) H(x), H the step
    // 0.5 (1 + sign x) (at x = 0, e = 1 and either side gives 1/2).
    ArrayMap(t.adj(nx) + b, len) += ConstArrayMap(t.adj(n) + b, len) *
                                    (e + (1.0 - e) * (0.5 + 0.5 * x.sign())) / (1.0 + e);
  });
}

// relu over arrays (a network's hidden layers): Eigen's select vectorises
// what the scalar kernel's branch per element does not.
void relu_array_backward(Tape& t, const Node& n) {
  const Node& nx = t.node(n.in[0]);
  par::for_chunks(n.numel, [&](std::int64_t b, std::int64_t e) {
    const ConstArrayMap X(t.val(nx) + b, e - b), G(t.adj(n) + b, e - b);
    ArrayMap(t.adj(nx) + b, e - b) += (X > 0.0).select(G, 0.0);
  });
}

void relu_array_forward(Tape& t, const Node& r) {
  const Node& nx = t.node(r.in[0]);
  par::for_chunks(r.numel, [&](std::int64_t b, std::int64_t e) {
    ArrayMap(t.val(r) + b, e - b) = ConstArrayMap(t.val(nx) + b, e - b).max(0.0);
  });
}

Var relu_array(Var x) {
  Tape& t = detail::tape_of(x, "relu");
  Var r = t.push(t.node(x).shape, &relu_array_backward, x.index());
  t.compute(r, &relu_array_forward);
  return r;
}

void softplus_array_forward(Tape& t, const Node& r) {
  const Node& nx = t.node(r.in[0]);
  const std::int64_t off = r.iaux[0];
  par::for_chunks(r.numel, [&](std::int64_t b, std::int64_t end) {
    const ConstArrayMap X(t.val(nx) + b, end - b);
    ArrayMap e(t.scratch(off) + b, end - b);
    e = (-X.abs()).exp();  // in (0, 1]
    // log1p(e) vectorised (Eigen's log1p is scalar): with u = 1 + e rounded,
    // log(u) - ((u - 1) - e) / u corrects u's rounding to first order, which
    // is accurate for e in (0, 1]; where u == 1 it gives e.
    ArrayMap(t.val(r) + b, end - b) = X.max(0.0) + ((1.0 + e).log() - (((1.0 + e) - 1.0) - e) / (1.0 + e));
  });
}

Var softplus_array(Var x) {
  Tape& t = detail::tape_of(x, "softplus");
  Var r = t.push(t.node(x).shape, &softplus_array_backward, x.index());
  const std::int64_t off = t.push_scratch(t.node(r).numel);
  t.mutable_node(r).iaux[0] = off;
  t.compute(r, &softplus_array_forward);
  return r;
}

struct LogSigmoid {
  static double f(double x, double) { return -stable_softplus(-x); }
  static double d(double x, double, double) { return stable_sigmoid(-x); }
};
// log(1 - e^x), x < 0 (Mächler 2012, "Accurately computing log(1 - exp(-|a|))"):
// log(-expm1(x)) near 0, log1p(-exp(x)) below -log 2.
struct Log1mExp {
  static double f(double x, double) {
    return x > -0.6931471805599453 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
  }
  static double d(double x, double, double) { return -1.0 / std::expm1(-x); }
};
struct Relu {
  static double f(double x, double) { return x > 0 ? x : 0.0; }
  static double d(double x, double, double) { return static_cast<double>(x > 0); }
};
// Boost's lgamma rather than std::lgamma, which writes the global `signgam`.
struct Lgamma {
  static double f(double x, double) { return boost::math::lgamma(x, MathPolicy()); }
  static double d(double x, double, double) { return boost::math::digamma(x, MathPolicy()); }
};
struct Digamma {
  static double f(double x, double) { return boost::math::digamma(x, MathPolicy()); }
  static double d(double x, double, double) { return boost::math::trigamma(x, MathPolicy()); }
};

}  // namespace

Var exp(Var x) { return detail::unary<Exp>(x); }
Var log(Var x) { return detail::unary<Log>(x); }
Var log1p(Var x) { return detail::unary<Log1p>(x); }
Var expm1(Var x) { return detail::unary<Expm1>(x); }
Var sqrt(Var x) { return detail::unary<Sqrt>(x); }
Var square(Var x) { return detail::unary<Square>(x); }
Var abs(Var x) { return detail::unary<Abs>(x); }
Var sin(Var x) { return detail::unary<Sin>(x); }
Var cos(Var x) { return detail::unary<Cos>(x); }
Var tanh(Var x) { return detail::unary<Tanh>(x); }
Var sigmoid(Var x) { return detail::unary<Sigmoid>(x); }
Var logit(Var x) { return detail::unary<Logit>(x); }
Var softplus(Var x) {
  return detail::tape_of(x, "softplus").node(x).numel >= detail::kVectorMin
             ? softplus_array(x)
             : detail::unary<Softplus>(x);
}
Var log_sigmoid(Var x) { return detail::unary<LogSigmoid>(x); }
Var log1m_exp(Var x) { return detail::unary<Log1mExp>(x); }
Var relu(Var x) {
  return detail::tape_of(x, "relu").node(x).numel >= detail::kVectorMin ? relu_array(x) : detail::unary<Relu>(x);
}
Var lgamma(Var x) { return detail::unary<Lgamma>(x); }
Var digamma(Var x) { return detail::unary<Digamma>(x); }

void detail::copy_forward(Tape& t, const Node& r) {
  const Node& nx = t.node(r.in[0]);
  std::copy(t.val(nx), t.val(nx) + nx.numel, t.val(r));
}

Var detach(Var x) {
  Tape& t = detail::tape_of(x, "detach");
  Var r = t.push(t.node(x).shape, nullptr, x.index());  // no backward: the input only feeds the value
  t.compute_pure(r, &detail::copy_forward);
  return r;
}

}  // namespace vireo::ad
