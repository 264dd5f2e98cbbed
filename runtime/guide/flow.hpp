// The pieces of the Real NVP flow guide (auto_realnvp), as pure functions of
// tape Vars, after Andrade, "Stable Training of Normalizing Flows for
// High-dimensional Variational Inference" (2024):
//   soft_clamp / hard_clamp   bound a coupling layer's log-scale (§3.1; Pyro clamps to [−5, 3])
//   loft / loft_inverse       the log soft extension: identity on [−τ, τ], logarithmic beyond (§3.2)
//   affine_coupling           one Real NVP layer (Dinh, Sohl-Dickstein & Bengio 2017) with its log|det J|
// The guide that strings them together is AutoRealNvp (auto_realnvp.hpp).
#pragma once
#include <string>

#include "runtime/ad/ad.hpp"

namespace vireo::guide::flow {

// atan, elementwise. The tape has no atan op: its value is computed here and
// its derivative 1 / (1 + x²) attached through x − detach(x), which is exact
// for first derivatives (all that reverse mode asks of it).
ad::Var atan(ad::Var x);

// Asymmetric soft clamp of a log-scale s (Andrade 2024, eq. 6):
//   (2 α₊ / π) atan(s / α₊) for s > 0,   (2 α₋ / π) atan(s / α₋) for s ≤ 0,
// so exp(s) stays below exp(α₊) (a layer can barely expand) but may shrink
// down to exp(−α₋). Slope 1 at 0, so a small s passes almost unchanged.
ad::Var soft_clamp(ad::Var s, double alpha_pos = 0.1, double alpha_neg = 2.0);
// Pyro's AffineCoupling: clamp(s, −5, 3), no gradient outside.
ad::Var hard_clamp(ad::Var s, double lo = -5.0, double hi = 3.0);

// How a coupling layer bounds its log-scale.
struct ClampOptions {
  std::string kind = "soft";  // soft | hard | none
  double alpha_pos = 0.1, alpha_neg = 2.0;
};
// Throws std::invalid_argument for an unknown kind.
ad::Var clamp_log_scale(ad::Var s, const ClampOptions& o);

// LOFT, per coordinate, with e = max(|z| − τ, 0):
//   y = sign(z) (min(|z|, τ) + log(1 + e)),   log|dy/dz| = −log(1 + e).
// Written as z − sign(z) (e − log1p e) so that the gradient at z = 0 is 1.
ad::Var loft(ad::Var z, double tau = 100.0);
// log|dy/dz| per coordinate.
ad::Var loft_log_abs_det(ad::Var z, double tau = 100.0);
// z = sign(y) (min(|y|, τ) + expm1(max(|y| − τ, 0))).
ad::Var loft_inverse(ad::Var y, double tau = 100.0);

// A one-hidden-layer perceptron d → H → d whose parameters enter scaled by a
// gain g: out = g (W2 act(g (W1 x + b1)) + b2), W1: [H, d], b1: [H], W2:
// [d, H], b2: [d]. Under Adam, which moves every parameter by about lr per
// step whatever the size of its gradient, the gain is the nets' learning
// rate relative to lr (AutoRealNvp's net_gain).
struct Mlp {
  ad::Var w1, b1, w2, b2;
  double gain = 1;
};
enum class Activation { relu, tanh };
ad::Var mlp(const Mlp& net, ad::Var x, Activation act);

// One affine coupling layer on a vector x of dimension d with a 0/1 mask m
// (the coordinates that pass unchanged and condition the others):
//   c = clamp(s(m x)),   y = m x + (1 − m) (x exp(c) + t(m x)),
//   log|det J| = Σ (1 − m) c.
// With W2 = 0 and b2 = 0 in both nets the layer is the identity.
struct CouplingResult {
  ad::Var y, log_det;
};
CouplingResult affine_coupling(ad::Var x, ad::Var mask, const Mlp& scale_net, const Mlp& shift_net,
                               Activation act, const ClampOptions& clamp);
// Its inverse x from y, with the same nets: x = m y + (1 − m) (y − t(m y)) exp(−c).
ad::Var affine_coupling_inverse(ad::Var y, ad::Var mask, const Mlp& scale_net, const Mlp& shift_net,
                                Activation act, const ClampOptions& clamp);

}  // namespace vireo::guide::flow
