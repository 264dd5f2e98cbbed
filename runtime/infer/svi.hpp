// SVI: stochastic variational inference — repeated gradient steps on the
// ELBO's surrogate loss, the parameters living in one ParamStore.
//   step(): 1. the step's learning rate (schedule × any shrinking) and the
//              latent sites' weight (KL annealing), both functions of the
//              applied steps; 2. rewind the tape; 3. build the loss (guide +
//              model traces); 4. backward; 5. the guard: a non-finite loss
//              or gradient is refused, naming the first site and term where
//              it appeared; 6. clip (elements to ±clip_value, then the
//              global norm to clip_grad_norm); 7. the optimizer proposes
//              every parameter's update into scratch, refused if one would
//              be non-finite; 8. commit: parameters, optimizer state
//              (Optimizer::commit) and the estimator's per-step state
//              (Elbo::end_step), the schedule's record of the ELBOs
//              (Schedule::end_step), and the step count.
//   When the program's structure is fixed, steps 2–4 are a replay of a
//   recorded step once one is verified (compiled_step.hpp): the same
//   numbers, without the interpreter; anything not finite runs the step
//   through the interpreter instead, so 5's messages are unchanged.
//   Until 8 nothing that outlives the step has changed, so a refused step
//   leaves every piece of state as it was (parameters it created are
//   removed); only the random stream moves on (the host reseeds per attempt:
//   replaying the draw would refuse the same step again).
//   The policy for refused steps: skip (the default; stop after
//   max_consecutive refusals in a row), stop at the first, or shrink-lr
//   (halve the learning rate and go on; stop after max_consecutive) — the
//   one change a refusal makes, on purpose.
#pragma once
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "runtime/guide/guide.hpp"
#include "runtime/infer/compiled_step.hpp"
#include "runtime/infer/trace_elbo.hpp"
#include "runtime/interp/context.hpp"
#include "runtime/optim/optimizer.hpp"
#include "runtime/optim/schedule.hpp"

namespace vireo::infer {

enum class OnNonfinite { Skip, Stop, ShrinkLr };
// "skip" | "stop" | "shrink-lr"; throws std::invalid_argument otherwise.
OnNonfinite parse_on_nonfinite(const std::string& text);

struct StabilityOptions {
  double clip_grad_norm = 0;  // > 0: the gradient vector of all parameters scaled to at most this norm
  double clip_value = 0;      // > 0: every gradient element clamped to ±clip_value (before the norm)
  OnNonfinite on_nonfinite = OnNonfinite::Skip;
  int max_consecutive = 20;   // refused steps in a row that stop the fit (skip and shrink-lr)
  double shrink = 0.5;        // shrink-lr: the learning rate's factor per refused step
  optim::Schedule schedule;   // the learning rate = base lr × schedule.factor(step)
  long kl_anneal = 0;         // > 0: latent sites' weight ramps from kl_floor to 1 over this many steps
  double kl_floor = 0.01;
  // Replay a recorded step when the program allows it (compiled_step.hpp).
  // It gives the same numbers; off only to compare or to measure.
  bool replay = true;
};

struct StepResult {
  double loss = 0;      // −ELBO estimate
  bool applied = true;  // false when the step was refused as non-finite
  std::string rejected_because;  // why, naming the site or parameter
  bool stop = false;    // the policy says the fit cannot go on (rejected_because says why)
  double grad_norm = 0; // the global gradient norm before clipping
  double lr = 0;        // the learning rate used
  // When the refusal came from a distribution refusing its parameters: the
  // error, with its place in the program, for the report.
  std::optional<interp::RunError> error;
};

// A data-parallel fit's meeting of its ranks inside a step
// (runtime/api/distributed.cpp implements it over a vireo::Communicator).
// Every rank meets the others at the same points of every step: once after
// its gradients (agree, or reduce which agrees first), once after the
// proposed update (agree). A rank that failed says so at the meeting, and
// then every rank throws the same error, naming the failed rank; none
// applies the step.
class StepExchange {
 public:
  virtual ~StepExchange() = default;
  // Returns when no rank failed; otherwise throws, on every rank, the first
  // failed rank's error. `failure` is this rank's (null: none).
  virtual void agree(std::exception_ptr failure) = 0;
  // agree(nullptr), then turns this rank's share into the whole data's: the
  // ELBO and the gradients of parameters every rank holds summed over the
  // ranks (each rank's weighted by its share of the rows), those of
  // parameters only this rank holds weighted alone. Returns the squared norm
  // of the whole gradient.
  virtual double reduce(double& elbo, const std::vector<params::Entry*>& entries, std::vector<Eigen::ArrayXd>& grads) = 0;
};

class Svi {
 public:
  Svi(interp::Context& ctx, guide::Guide& guide, optim::Optimizer& optimizer, Elbo& elbo,
      StabilityOptions stability = {});

  StepResult step();
  // The loss (−ELBO estimate) at the current parameters; changes nothing
  // (parameters it had to create are removed again).
  double evaluate_loss();
  // Steps applied: the clock of the schedule and of KL annealing, which a
  // refused step does not move. Restored on resume.
  long steps_taken() const { return steps_; }
  void set_steps_taken(long n) { steps_ = n; }
  // The latent sites' weight at step t under KL annealing (1 without it).
  double latent_weight(long t) const;
  const StabilityOptions& stability() const { return opts_; }
  // The schedule in use, with what it has recorded of the ELBOs (an adaptive
  // one decides from them); saved with the fit and restored on resume.
  const optim::Schedule& schedule() const { return opts_.schedule; }
  void set_schedule(optim::Schedule s) { opts_.schedule = std::move(s); }
  // shrink-lr: the accumulated factor (1 until a step is refused). Saved with the fit.
  double lr_shrink() const { return shrink_; }
  void set_lr_shrink(double f) { shrink_ = f; }
  // The base learning rate a schedule multiplies: the optimizer's at
  // construction, which a resumed fit sets again (a loaded optimizer holds
  // the last step's scheduled rate, not the base).
  void set_base_lr(double lr) { base_lr_ = lr; }
  // A data-parallel fit: the ranks meet inside every step (StepExchange);
  // any refusal stops every rank. Null (the default): one process.
  void set_exchange(StepExchange* exchange) { exchange_ = exchange; }
  // The recorded step (compiled_step.hpp): how many steps it replayed, and
  // why it was not made, for tests and diagnostics.
  const CompiledStep& compiled() const { return compiled_; }

 private:
  // Marks r refused under the policy; removes the parameters the step
  // created (the store held `stored` entries before it).
  StepResult refuse(StepResult r, std::string why, std::size_t stored);

  interp::Context& ctx_;
  guide::Guide& guide_;
  optim::Optimizer& optim_;
  Elbo& elbo_;
  StabilityOptions opts_;
  double base_lr_;
  double shrink_ = 1;
  long steps_ = 0;
  int consecutive_ = 0;
  StepExchange* exchange_ = nullptr;
  // A step's scratch, kept to avoid allocating: the entries with a leaf, their
  // gradients, their values after the proposed update.
  std::vector<params::Entry*> entries_;
  std::vector<Eigen::ArrayXd> grads_;
  std::vector<Eigen::ArrayXd> next_;
  std::vector<std::size_t> entry_index_;  // entries_[k]'s index in the store
  CompiledStep compiled_;
};

}  // namespace vireo::infer
