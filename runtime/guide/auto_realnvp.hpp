// AutoRealNvp (auto_realnvp): a normalizing flow over the joint unconstrained
// vector of AutoContinuous, after Andrade, "Stable Training of Normalizing
// Flows for High-dimensional Variational Inference" (2024):
//   ε ~ N(0, I) (or Student-t, ν learned per coordinate) → K affine coupling
//   layers (alternating halves masked, the log-scale soft-clamped) → LOFT →
//   loc + softplus(scale) ⊙ · → u,
//   log q(u) = log p_base(ε) − Σ log|det J| of every layer.
// The coupling nets' last layers start at 0 and scale at init_scale, so the
// flow starts as AutoDiagonalNormal's N(loc, init_scale²) (up to LOFT's
// tails beyond τ). Parameters in the store, with k the layer:
//   loc, scale, df (Student-t base: log ν), layer{k}.{scale,shift}.{w1,b1,w2,b2}
// (the nets' parameters stored divided by net_gain).
#pragma once
#include <vector>

#include "runtime/guide/auto_vector.hpp"
#include "runtime/guide/flow.hpp"

namespace vireo::guide {

class AutoRealNvp final : public AutoContinuous {
 public:
  AutoRealNvp(const ir::Graph& g, GuideOptions o);
  std::string name() const override { return "auto_realnvp"; }
  std::unique_ptr<Guide> clone() const override { return std::make_unique<AutoRealNvp>(*this); }
  std::string better_fit_advice() const override {
    return std::string("more steps or --particles, a larger flow (--flow-layers, --flow-hidden)") +
           (student_t() ? "" : ", or a heavy-tailed base: --flow-base student_t");
  }
  // A flow has no closed-form covariance: estimated from `draws` draws of a
  // generator seeded with `seed`, with the store's parameters.
  Eigen::MatrixXd covariance(const params::ParamStore& store) const override;
  Eigen::MatrixXd sample_covariance(const params::ParamStore& store, int draws, std::uint64_t seed) const;
  // log q(u) at a point of the unconstrained space, by the inverse flow, with
  // the store's parameters.
  double log_q(const params::ParamStore& store, const Eigen::VectorXd& u) const;

 protected:
  void init_params(interp::Context& ctx, const ad::Tensor& loc0) override;
  Draw draw(interp::Context& ctx) override;

 private:
  // The flow's parameters as Vars of one tape.
  struct Nets {
    std::vector<flow::Mlp> scale, shift;
    ad::Var loc, scale_raw;
    ad::Var df;  // the Student-t base's degrees of freedom (flow_base student_t)
  };
  // The coupling nets' learning rate relative to lr (the gain of flow::Mlp)
  // for a latent vector of dimension d: flow_net_lr, or min(1, 100/d).
  double net_gain(std::int64_t d) const;
  Nets nets(interp::Context& ctx) const;
  Nets nets(ad::Tape& tape, const params::ParamStore& store) const;
  bool student_t() const { return opts_.flow_base == "student_t"; }
  // log of the base density at ε, summed, and one draw of ε.
  ad::Var base_log_prob(ad::Tape& tape, const Nets& n, ad::Var eps) const;
  ad::Var base_draw(interp::Context& ctx, const Nets& n) const;
  // u and log q(u) from ε.
  Draw forward(ad::Tape& tape, const Nets& n, ad::Var eps) const;
  // log q(u) by the inverse flow (for sticking the landing: with detached
  // parameters only the path through u carries a gradient).
  ad::Var log_q_of(ad::Tape& tape, const Nets& n, ad::Var u) const;
  const ad::Tensor& mask(std::int64_t d, int layer) const;
  std::string layer_name(int k, const char* net, const char* what) const;

  // The Student-t base starts near a normal (ν = 30: its quantiles up to
  // 99.9% within 5% of the normal's), so the flow starts as with the normal
  // base; ν is learned per coordinate, ν = exp(df).
  static constexpr double initial_df = 30;
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
