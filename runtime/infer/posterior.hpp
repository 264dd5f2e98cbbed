// Posterior draws from a fitted guide, in the constrained space, and
// posterior-predictive draws of the observed sites. No gradients are taken:
// the tape is rewound before every draw.
//   1. Run the guide under a trace: every latent site gets a value.
//   2. Replay the model against it under a trace; deterministic sites are
//      recomputed from the replayed values.
//   3. Read the values of the latent and deterministic sites (program order
//      of the model's trace). With `predictive`, observed sites are sampled
//      from their distributions instead of scored (PredictiveHandler) and
//      their draws are read as well (Pyro's Predictive with a guide).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "runtime/handlers/trace.hpp"
#include "runtime/guide/guide.hpp"
#include "runtime/handlers/handler.hpp"
#include "runtime/interp/context.hpp"

namespace vireo::infer {

struct SiteDraw {
  enum class Kind { Latent, Deterministic, Predicted };
  std::string name;  // the run-time name: `mu`, `flips[3]`, `flip#2`
  Kind kind = Kind::Latent;
  ad::Tensor value;  // constrained; row-major
  bool discrete = false;  // a draw of a discrete distribution
};

// One posterior draw: the sites of one execution, in program order.
struct PosteriorDraw {
  std::vector<SiteDraw> sites;
  // Enumerated sites (enum_elbo.hpp): their probabilities given this draw's
  // continuous values, [value * elements + element].
  std::map<std::string, std::vector<double>> probs;
};

// The model replayed against a guide trace, read as a draw; `settle`, when
// given, gives latent sites the guide did not draw their values (the
// enumerated sites, enum_elbo.hpp).
PosteriorDraw replay_draw(interp::Context& ctx, const handlers::Trace& guide_trace, bool predictive,
                          handlers::Handler* settle = nullptr);

// The draw recorded in a model trace: latent and deterministic sites (and,
// with `predictive`, the observed sites it sampled), in program order.
PosteriorDraw read_draw(const handlers::Trace& model_trace, bool predictive);

// Turns observe sites into latent draws: the site forgets its data value and
// the default behaviour samples it from its distribution.
class PredictiveHandler final : public handlers::Handler {
 public:
  void process(handlers::Message& msg) override {
    if (msg.type != handlers::MsgType::Sample || !msg.is_observed) return;
    if (msg.site && msg.site->kind == ir::SiteKind::Factor) return;  // a term of the density, nothing to draw
    msg.is_observed = false;
    msg.has_value = false;
    msg.done = false;
    msg.value = {};
  }
};

// One draw with ctx's generator and parameters (ctx.begin_step() is called here).
PosteriorDraw draw_posterior(interp::Context& ctx, guide::Guide& guide, bool predictive = false);

}  // namespace vireo::infer
