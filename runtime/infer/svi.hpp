// SVI: stochastic variational inference — repeated gradient steps on the
// ELBO's surrogate loss, the parameters living in one ParamStore.
//   step(): 1. rewind the tape; 2. build the loss (guide + model traces);
//           3. backward; 4. refuse a non-finite loss or gradient (no NaN ever
//           reaches the parameters); 5. one optimizer update per parameter
//           that received a gradient.
#pragma once
#include <memory>
#include <string>

#include "runtime/guide/guide.hpp"
#include "runtime/infer/trace_elbo.hpp"
#include "runtime/interp/context.hpp"
#include "runtime/optim/optimizer.hpp"

namespace vireo::infer {

struct StepResult {
  double loss = 0;    // −ELBO estimate
  bool applied = true;  // false when the step was rejected as non-finite
  std::string rejected_because;  // why, naming the parameter
};

class Svi {
 public:
  Svi(interp::Context& ctx, guide::Guide& guide, optim::Optimizer& optimizer, Elbo& elbo)
      : ctx_(ctx), guide_(guide), optim_(optimizer), elbo_(elbo) {}

  StepResult step();
  // The ELBO estimate and the loss without updating anything.
  double evaluate_loss();
  long steps_taken() const { return steps_; }

 private:
  interp::Context& ctx_;
  guide::Guide& guide_;
  optim::Optimizer& optim_;
  Elbo& elbo_;
  long steps_ = 0;
};

}  // namespace vireo::infer
