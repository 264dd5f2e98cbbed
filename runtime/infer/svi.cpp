#include "runtime/infer/svi.hpp"

#include <fmt/format.h>

#include <cmath>

namespace vireo::infer {

StepResult Svi::step() {
  ctx_.begin_step();
  ElboEstimate est = elbo_.loss(ctx_, guide_);
  StepResult r;
  r.loss = -est.elbo;
  ad::Tape& tape = ctx_.tape();
  if (!std::isfinite(est.loss.item())) {
    r.applied = false;
    r.rejected_because = "the loss is not finite";
    return r;
  }
  tape.backward(est.loss);
  // Gather every gradient first: a step is applied whole or not at all.
  std::vector<std::pair<params::Entry*, ad::Tensor>> grads;
  for (const auto& [name, leaf] : ctx_.param_leaves()) {
    params::Entry* e = ctx_.store().find(name);
    ad::Tensor g = tape.grad(leaf);
    for (std::int64_t i = 0; i < g.numel(); ++i)
      if (!std::isfinite(g[i])) {
        r.applied = false;
        r.rejected_because = fmt::format("the gradient of parameter '{}' is not finite", name);
        return r;
      }
    grads.emplace_back(e, std::move(g));
  }
  optim_.begin_step();
  for (auto& [e, g] : grads)
    optim_.update(e->name, e->unconstrained, Eigen::Map<const Eigen::ArrayXd>(g.data(), static_cast<Eigen::Index>(g.numel())));
  ++steps_;
  return r;
}

double Svi::evaluate_loss() {
  ctx_.begin_step();
  return -elbo_.loss(ctx_, guide_).elbo;
}

}  // namespace vireo::infer
