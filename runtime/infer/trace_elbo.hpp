// Trace_ELBO: the evidence lower bound E_q[log p(x, z) − log q(z)] estimated
// from guide draws, and the surrogate whose gradient is an unbiased estimate
// of the ELBO's gradient (Ranganath et al. 2014; Schulman et al. 2015,
// "Gradient Estimation Using Stochastic Computation Graphs").
//   1. Run the guide under a trace: every latent site gets a value and log q.
//   2. Run the model under replay(guide trace) and a trace: log p per site.
//   3. ELBO particle = Σ scale·log p − Σ scale·log q.
//   4. Reparameterised sites carry pathwise gradients through their values.
//      Each non-reparameterised guide site s adds log q_s · detach(cost_s):
//      its score term. Rao-Blackwellised per plate element as Pyro's
//      Trace_ELBO does: element n of s is weighted by the terms outside s's
//      plates plus plate slice n of the terms inside them, never by the
//      other elements' terms (they do not depend on element n). Except
//      in a plate whose elements may mix (a reduction of a plate-indexed
//      value inside it, or the value read after it: dependencies.hpp), where
//      element n depends on them: there every element gets the whole cost.
//      Pyro assumes a plate's elements never mix, and is biased when they do.
//   5. The loss is −surrogate averaged over the particles.
#pragma once
#include <Eigen/Core>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <set>
#include <string>
#include <vector>

#include "runtime/guide/guide.hpp"
#include "runtime/handlers/trace.hpp"
#include "runtime/interp/context.hpp"

namespace vireo::infer {

struct ElboEstimate {
  ad::Var loss;       // −surrogate / particles, on ctx's tape
  double elbo = 0;    // the ELBO estimate (mean over particles)
  // When a particle's ELBO is not finite: where it came from (nonfinite.hpp).
  std::string nonfinite;
  // One particle: its ELBO's node on ctx's tape, whose value is `elbo`
  // (infer::CompiledStep replays it). Invalid for several particles.
  ad::Var elbo_node;
};

// The two traces of one particle.
struct ParticleTraces {
  handlers::Trace guide, model;
};

// Runs guide then model-replayed-against-the-guide once; checks that every
// latent model site has a guide site and vice versa; computes log-densities.
// Throws std::runtime_error naming the site on a mismatch.
void run_particle(interp::Context& ctx, guide::Guide& guide, ParticleTraces& out);

// One per-element cost: Σ of every site's scaled log p (model) and −log q
// (guide), each summed down to `frames` — dimensions of plates outside
// `frames` are summed, plates of `frames` the term lacks are broadcast, and
// plates in `unrefined` (whose elements mix) are summed and broadcast too.
ad::Var downstream_cost(ad::Tape& tape, const ParticleTraces& t, const handlers::Frames& frames,
                        const std::set<std::string>* unrefined = nullptr);

// The particles of a step, kept from step to step so that their storage
// (traces, tapes) is reused. With more than one particle each has a context
// of its own (tape, handler stack, plates) with a generator keyed by
// (the step's generator, particle), and a copy of the guide, so that the
// particles may run on several threads (runtime/par).
struct Particles {
  std::vector<ParticleTraces> traces;
  std::vector<rng::Generator> generators;  // contexts[p] draws from generators[p]
  std::vector<std::unique_ptr<interp::Context>> contexts;
  std::vector<std::unique_ptr<guide::Guide>> guides;
  std::vector<ad::Var> losses;  // particle p's share of the loss, on its tape
  // The step's parameters in their first use over the particles in order,
  // and their gradients, summed over the particles in particle order.
  std::vector<std::string> names;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<Eigen::ArrayXd> grads;
};

// The particle loop the three estimators share (Trace_ELBO, TraceGraph_ELBO,
// TraceMeanField_ELBO differ only in a particle's ELBO and its surrogate):
//   1. every particle's traces (run_particle, into traces[p]) and its ELBO,
//      elbo_of(p, its context, traces[p]), on the particle's tape; the first
//      non-finite one is described (by describe_nonfinite, else by
//      explain(p) when given);
//   2. every particle's surrogate, surrogate_of(p, its context, traces[p],
//      elbo), in particle order, which may read the other particles' traces
//      (leave-one-out baselines) and may create parameters;
//   3. the loss −Σ surrogate / P and the mean ELBO.
// One particle runs on ctx itself, drawing from ctx's generator. More run on
// their own contexts (Particles), on the threads of the calling thread's
// par::Scope: step 1 with the parameter store read-only and a copy of the
// guide per particle (when a particle would create a parameter — the first
// step — every particle runs again in order with `guide` itself), step 2 in
// order, then each particle's backward pass on its own tape; the gradients
// are summed in particle order and `loss` (on ctx's tape, with a leaf per
// parameter) passes them on when ctx's tape runs backward. The numbers do
// not depend on the number of threads.
struct ParticleSums {
  ad::Var loss;          // −Σ surrogate / P on ctx's tape
  double elbo = 0;       // mean over the particles
  std::string nonfinite; // where the first non-finite particle ELBO came from
  long ruled_out = 0;    // particles whose guide draw the model ruled out (model_rules_out)
  ad::Var elbo_node;     // one particle: its ELBO on ctx's tape (ElboEstimate::elbo_node)
};
ParticleSums run_particles(interp::Context& ctx, guide::Guide& guide, int particles, Particles& work,
                           const std::function<ad::Var(int, interp::Context&, const ParticleTraces&)>& elbo_of,
                           const std::function<ad::Var(int, interp::Context&, const ParticleTraces&, const ad::Var&)>& surrogate_of,
                           const std::function<std::string(int)>& explain = {});

// The mixing plates of a graph (dependencies.hpp), found once per graph.
class MixingPlates {
 public:
  const std::set<std::string>& of(const ir::Graph& graph);

 private:
  const ir::Graph* graph_ = nullptr;
  std::set<std::string> plates_;
};

// An ELBO estimator: builds a surrogate loss whose gradient estimates −∇ELBO.
class Elbo {
 public:
  virtual ~Elbo() = default;
  // Builds the loss on ctx's tape; call ctx.begin_step() first. An
  // evaluation: it changes nothing that outlives it (a diagnostic or a
  // gradient variance calls it as often as it likes). What a step would
  // advance (a decaying-average baseline) it records in a scratch that the
  // next loss() overwrites and end_step() applies.
  virtual ElboEstimate loss(interp::Context& ctx, guide::Guide& guide) = 0;
  // Called by SVI once a step built on the last loss() is accepted: the one
  // place where the estimator's per-step state advances (STYLE.md).
  virtual void end_step() {}
  virtual std::string name() const = 0;
  // Whether the estimator reads the model's observed sites only as terms to
  // sum (per plate frame), so that SVI may run the model's batchable loops
  // as one batch (interp::Context::batch_loops). Estimators that relate
  // sites to loop iterations or enumerate do not.
  virtual bool batches_loops() const { return false; }
  // Whether a step's loss is a function of the parameters and the draws
  // alone, with no state carried between steps, so that SVI may record one
  // step's tape and replay it (compiled_step.hpp). Baselines that move
  // every step, or loss terms assembled outside the tape, rule it out.
  virtual bool replayable() const { return false; }
  // A remark for the user, printed once (empty when none).
  const std::string& note() const { return note_; }
  // Particles so far whose guide draw the model ruled out (model_rules_out):
  // their step is refused, so a fit that drops many is biased towards the
  // draws the model accepts. Read it around a step to count that step's.
  long refused_draws() const { return refused_draws_; }
  // State that lives outside the parameter store (decaying-average
  // baselines), saved with the parameters so a resumed fit continues exactly.
  virtual nlohmann::json state() const { return nullptr; }
  // Throws std::runtime_error on a malformed state, changing nothing.
  virtual void load_state(const nlohmann::json& /*state*/) {}

 protected:
  std::string note_;
  long refused_draws_ = 0;
};

class TraceElbo final : public Elbo {
 public:
  explicit TraceElbo(int particles = 1);
  int particles() const { return particles_; }
  ElboEstimate loss(interp::Context& ctx, guide::Guide& guide) override;
  std::string name() const override { return "trace"; }
  bool batches_loops() const override { return true; }
  bool replayable() const override { return true; }

 private:
  int particles_;
  MixingPlates mixing_;
  Particles particles_state_;  // one per particle, refilled every step
};

// Σ of scale·log p over the model trace minus Σ of scale·log q over the
// guide trace's latent sites: one particle's ELBO (a scalar Var).
ad::Var particle_elbo(ad::Tape& tape, const ParticleTraces& t);
// The latent (non-observed sample) sites of a trace.
bool is_latent(const handlers::TraceSite& s);
// Whether the model gave a guide draw log density −∞ (a value outside a
// likelihood's support, a hard `factor`) while the guide's own log q was
// finite: the draw is refused, not mis-computed. Needs the log-probs computed.
bool model_rules_out(const ParticleTraces& t);
// Sums the plate dimensions of a term that `want` lacks and adds size-1 axes
// for the plates of `want` the term lacks: the term, aligned with `want`.
// Plates in `unrefined` are summed as if `want` lacked them, then get size-1 axes.
ad::Var sum_to_frames(const ad::Var& lp, const handlers::Frames& have, const handlers::Frames& want,
                      const std::set<std::string>* unrefined = nullptr);

}  // namespace vireo::infer
