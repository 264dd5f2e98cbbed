// The flow transforms of auto_realnvp: soft and hard clamps, LOFT, the affine
// coupling layer. Everything is composed from runtime/ad ops.
#include "runtime/guide/flow.hpp"

#include <cmath>
#include <stdexcept>

namespace vireo::guide::flow {

namespace {

constexpr double pi = 3.14159265358979323846;

// sign(x) as a mask difference: −1, 0 or 1, no gradient.
ad::Var sign(ad::Var x) { return (x > 0.0) - (x < 0.0); }

}  // namespace

ad::Var atan(ad::Var x) {
  ad::Tape& tape = *x.tape();
  ad::Tensor v(x.shape()), d(x.shape());
  const double* p = x.data();
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    v[i] = std::atan(p[i]);
    d[i] = 1.0 / (1.0 + p[i] * p[i]);
  }
  return tape.constant(v) + tape.constant(d) * (x - ad::detach(x));
}

ad::Var soft_clamp(ad::Var s, double alpha_pos, double alpha_neg) {
  ad::Var pos = (2.0 * alpha_pos / pi) * atan(s / alpha_pos);
  ad::Var neg = (2.0 * alpha_neg / pi) * atan(s / alpha_neg);
  return ad::where(s > 0.0, pos, neg);
}

ad::Var hard_clamp(ad::Var s, double lo, double hi) { return ad::clamp(s, lo, hi); }

ad::Var clamp_log_scale(ad::Var s, const ClampOptions& o) {
  if (o.kind == "soft") return soft_clamp(s, o.alpha_pos, o.alpha_neg);
  if (o.kind == "hard") return hard_clamp(s);
  if (o.kind == "none") return s;
  throw std::invalid_argument("flow clamp '" + o.kind + "': choose soft, hard or none");
}

ad::Var loft(ad::Var z, double tau) {
  ad::Var e = ad::relu(ad::abs(z) - tau);
  return z - sign(z) * (e - ad::log1p(e));
}

ad::Var loft_log_abs_det(ad::Var z, double tau) { return -ad::log1p(ad::relu(ad::abs(z) - tau)); }

ad::Var loft_inverse(ad::Var y, double tau) {
  ad::Var e = ad::relu(ad::abs(y) - tau);
  return y + sign(y) * (ad::expm1(e) - e);
}

ad::Var mlp(const Mlp& net, ad::Var x, Activation act) {
  // A gain of 1 costs no op.
  auto gain = [](double g, ad::Var v) { return g == 1 ? v : g * v; };
  ad::Var pre = gain(net.gain, ad::matmul(net.w1, x) + net.b1);
  ad::Var h = act == Activation::relu ? ad::relu(pre) : ad::tanh(pre);
  return gain(net.gain, ad::matmul(net.w2, h) + net.b2);
}

CouplingResult affine_coupling(ad::Var x, ad::Var mask, const Mlp& scale_net, const Mlp& shift_net,
                               Activation act, const ClampOptions& clamp) {
  ad::Var xm = mask * x;
  ad::Var free = 1.0 - mask;
  ad::Var c = free * clamp_log_scale(mlp(scale_net, xm, act), clamp);
  ad::Var t = mlp(shift_net, xm, act);
  CouplingResult r;
  r.y = xm + free * (x * ad::exp(c) + t);
  r.log_det = ad::sum(c);
  return r;
}

ad::Var affine_coupling_inverse(ad::Var y, ad::Var mask, const Mlp& scale_net, const Mlp& shift_net,
                                Activation act, const ClampOptions& clamp) {
  ad::Var ym = mask * y;
  ad::Var free = 1.0 - mask;
  ad::Var c = free * clamp_log_scale(mlp(scale_net, ym, act), clamp);
  ad::Var t = mlp(shift_net, ym, act);
  return ym + free * (y - t) * ad::exp(-c);
}

}  // namespace vireo::guide::flow
