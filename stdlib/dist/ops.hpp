// ops.hpp — tape operations the distributions need beyond runtime/ad's set:
// implicitly reparameterised gamma draws, a Cholesky factorisation and a
// lower-triangular solve (unbatched matrices). Written against the Tape's
// low-level push/backward interface.
#pragma once

#include "runtime/ad/ad.hpp"
#include "runtime/rng/generator.hpp"

namespace vireo::dist {

// z ~ Gamma(concentration, 1) of `shape` (concentration broadcast to it),
// drawn by inversion z = P⁻¹(α, u) of a uniform u, so that a fixed seed holds
// the CDF value fixed. Gradient w.r.t. concentration: the implicit
// reparameterisation dz/dα = −(∂P(α, z)/∂α)/p(z; α) (math::gamma_sample_grad).
ad::Var standard_gamma_rsample(ad::Var concentration, const ad::Shape& shape, rng::Generator& g);
// The same node for given draws z (concentration must already have z's
// shape): the value is z, the gradient the implicit one. Tests build z as
// P⁻¹(α, u) to hold the CDF value u fixed.
ad::Var implicit_gamma(ad::Var concentration, const ad::Tensor& z);

// L with L Lᵀ = A for a symmetric positive definite D×D matrix; reads A's
// lower triangle only, so its gradient lives there (symmetrise first, e.g.
// (A + Aᵀ)/2, for a gradient in every entry). Throws std::domain_error if A
// is not positive definite.
ad::Var cholesky(ad::Var a);
// Z with rows z = L⁻¹ b for each row b of B ([..., D]) and a lower-triangular
// D×D matrix L (its upper triangle is never read).
ad::Var solve_lower(ad::Var l, ad::Var b);
// The diagonal of a D×D matrix, as a D-vector.
ad::Var diagonal(ad::Var a);

}  // namespace vireo::dist
