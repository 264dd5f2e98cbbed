// The Message: what the interpreter sends through the handler stack at every
// site (sample, observe, param, deterministic, and the choice of a plate's
// subsample indices). Handlers read and rewrite it; the interpreter then
// uses msg.value. This is Pyro's poutine message, typed.
#pragma once
#include <boost/container/small_vector.hpp>

#include <optional>
#include <string>
#include <vector>

#include "runtime/ad/ad.hpp"
#include "runtime/value/value.hpp"
#include "runtime/rng/generator.hpp"
#include "stdlib/dist/distribution.hpp"

namespace vireo::handlers {

// One enclosing plate of a site, as seen at run time.
struct Frame {
  ir::PlateId plate = ir::none;
  std::string name;
  std::int64_t size = 0;       // the plate's full size
  std::int64_t subsample = 0;  // the size inside (= size without subsampling)
  // A data-parallel fit's shard of the plate (interp::Context::Shard): the
  // whole data's size over this rank's rows; 1 otherwise.
  double weight = 1.0;
  double scale() const {
    return weight * (subsample > 0 ? static_cast<double>(size) / static_cast<double>(subsample) : 1.0);
  }
};

// A site's plates, outermost first; a site sits in a few at most, so they
// are kept inline.
using Frames = boost::container::small_vector<Frame, 3>;

enum class MsgType : std::uint8_t {
  Sample,         // a `~` site (latent, or observed when is_observed)
  Param,          // a learnable parameter; value is its constrained value
  Deterministic,  // a recorded binding
  Subsample,      // the indices of a subsampled plate; value holds them (Int)
};

struct Message {
  MsgType type = MsgType::Sample;
  std::string name;                 // the run-time name: `x`, `flips[3]`, `flip#2`
  const ir::Site* site = nullptr;   // the statement (nullptr for guide-internal sites)
  dist::DistributionPtr fn;         // the distribution (Sample)
  interp::Value value;              // set by a handler, the default behaviour, or the data (observed)
  bool has_value = false;
  // Subsample: the indices chosen for this step (mini-batches as epochs,
  // Context::epoch_batch) that the default behaviour takes; empty: it draws
  // B distinct indices independently.
  std::vector<double> indices;
  bool is_observed = false;
  bool reparameterized = false;     // value carries the pathwise derivative
  Frames frames;                    // enclosing plates, outermost first
  double scale = 1.0;               // product of plate subsample factors and `scale` blocks
  bool mask = true;                 // false: the site contributes no log-density
  rng::Generator* rng = nullptr;    // where the default behaviour draws from (seed replaces it)
  ad::Tape* tape = nullptr;         // the step's tape, for values the default behaviour makes
  // A log-density supplied together with the value (automatic guides draw in
  // the unconstrained space and know log q including the Jacobian); when set
  // the trace uses it instead of fn->log_prob(value). Per element of the
  // site's plates, unscaled.
  std::optional<ad::Var> log_prob;
  // The guide's distribution of the value, in the model's space, when the
  // value is one plain draw from it and log_prob (if set) is its log-density
  // there (AutoNormal on a real-support site; the discrete per-site guides).
  // TraceMeanField_ELBO takes KL(q_dist ‖ model's fn) in closed form where
  // the pair has one. Unset when the value went through a transform.
  dist::DistributionPtr q_dist;
  // The values of the enclosing `for` loops' variables, outermost first (the
  // `[i]` suffixes of the name), for relating instances of statements.
  std::vector<std::int64_t> loop_index;
  // A `for` loop run as one batch (interp::Interpreter::exec_batched_for):
  // the site stands for the iterations batch_first, batch_first + 1, … — its
  // arrays' leading dimension, under a frame of its own — and is named
  // `y[1..T]`; -1 for every other site.
  std::int64_t batch_first = -1;
  // `with baseline(value = e)` / `baseline(net = e)`: e evaluated at the site.
  std::optional<interp::Value> baseline_value, baseline_input;
  bool stop = false;  // set by block: handlers further out do not see it
  bool done = false;  // the value is final; the default behaviour draws nothing
};

}  // namespace vireo::handlers
