// AutoRealNvp (auto_realnvp): a normalizing flow over the joint unconstrained
// vector of AutoContinuous, after Andrade, "Stable Training of Normalizing
// Flows for High-dimensional Variational Inference" (2024):
//   ε ~ N(0, I) → K affine coupling layers (alternating halves masked, the
//   log-scale soft-clamped) → LOFT → loc + softplus(scale) ⊙ · → u,
//   log q(u) = log N(ε) − Σ log|det J| of every layer.
// The coupling nets' last layers start at 0 and scale at init_scale, so the
// flow starts as AutoDiagonalNormal's N(loc, init_scale²) (up to LOFT's
// tails beyond τ). Parameters in the store, with k the layer:
//   loc, scale, layer{k}.{scale,shift}.{w1,b1,w2,b2}
#pragma once
#include <vector>

#include "runtime/guide/auto_vector.hpp"
#include "runtime/guide/flow.hpp"

namespace vireo::guide {

class AutoRealNvp final : public AutoContinuous {
 public:
  AutoRealNvp(const ir::Graph& g, GuideOptions o);
  std::string name() const override { return "auto_realnvp"; }
  // A flow has no closed-form covariance: estimated from `draws` draws of a
  // generator seeded with `seed`, with the store's parameters.
  Eigen::MatrixXd covariance(const params::ParamStore& store) const override;
  Eigen::MatrixXd sample_covariance(const params::ParamStore& store, int draws, std::uint64_t seed) const;

 protected:
  void init_params(interp::Context& ctx, const ad::Tensor& loc0) override;
  Draw draw(interp::Context& ctx) override;

 private:
  // The flow's parameters as Vars of one tape.
  struct Nets {
    std::vector<flow::Mlp> scale, shift;
    ad::Var loc, scale_raw;
  };
  Nets nets(interp::Context& ctx) const;
  Nets nets(ad::Tape& tape, const params::ParamStore& store) const;
  // u and log q(u) from ε.
  Draw forward(ad::Tape& tape, const Nets& n, ad::Var eps) const;
  // log q(u) by the inverse flow (for sticking the landing: with detached
  // parameters only the path through u carries a gradient).
  ad::Var log_q_of(ad::Tape& tape, const Nets& n, ad::Var u) const;
  const ad::Tensor& mask(std::int64_t d, int layer) const;
  std::string layer_name(int k, const char* net, const char* what) const;

  flow::ClampOptions clamp_;
  // tanh, not relu: near 0 it is linear, so a layer's nets express the
  // linear shears a correlated Gaussian posterior needs (M4 d = 100: 4
  // layers of width 32 end 1.5 nats below log Z with tanh, 2.8 with relu).
  flow::Activation act_ = flow::Activation::tanh;
  // masks_[k % 2]: layer k passes the first half (k even) or the second
  // (k odd) unchanged.
  mutable std::vector<ad::Tensor> masks_;
};

}  // namespace vireo::guide
