// transform.hpp — bijections from unconstrained space to a constraint's
// support, recorded as tape ops: forward, inverse and log|det J|. Automatic
// guides work in the unconstrained space and map through biject_to.
//   elementwise_transforms.cpp  identity, exp, softplus, bounds, sigmoid
//   stick_breaking.cpp          ℝ^(K−1) → simplex in ℝ^K (PyTorch's StickBreakingTransform)
//   lower_cholesky.cpp          ℝ^(D(D+1)/2) → lower Cholesky factors
//   biject_to.cpp               the constraint → transform table
#pragma once

#include <memory>
#include <string>

#include "runtime/ad/ad.hpp"
#include "stdlib/constraints/constraint.hpp"

namespace vireo::constraints {

class Transform {
 public:
  virtual ~Transform() = default;
  virtual std::string name() const = 0;
  // Unconstrained x → constrained y.
  virtual ad::Var forward(ad::Var x) const = 0;
  // Constrained y → unconstrained x.
  virtual ad::Var inverse(ad::Var y) const = 0;
  // log |det ∂y/∂x| at x (y = forward(x)), summed over one event: the shape
  // is x's without its last unconstrained_event_dim() axes.
  virtual ad::Var log_abs_det_jacobian(ad::Var x, ad::Var y) const = 0;
  // How many rightmost axes of x form one point (0: elementwise).
  virtual int unconstrained_event_dim() const { return 0; }
  // Shapes of one whole value in each space (batch axes pass through).
  virtual ad::Shape unconstrained_shape(const ad::Shape& constrained) const { return constrained; }
  virtual ad::Shape constrained_shape(const ad::Shape& unconstrained) const { return unconstrained; }
};

using TransformPtr = std::shared_ptr<const Transform>;

TransformPtr identity_transform();
TransformPtr exp_transform();       // positive: y = e^x
TransformPtr softplus_transform();  // positive: y = log(1 + e^x)
TransformPtr lower_bound_transform(ad::Tensor lower);  // y = lower + e^x
TransformPtr upper_bound_transform(ad::Tensor upper);  // y = upper − e^x
TransformPtr sigmoid_transform();   // unit interval: y = σ(x)
TransformPtr interval_transform(ad::Tensor lower, ad::Tensor upper);  // y = lower + (upper − lower) σ(x)
TransformPtr stick_breaking_transform();
TransformPtr lower_cholesky_transform();

}  // namespace vireo::constraints
