// A compiled SVI step: the step's tape, recorded once and replayed.
//
// On a small model most of a step is the interpreter, the effect handlers
// and the traces working out, again, which operations to run; the
// arithmetic is a few dozen array operations (issue 18: eight schools took
// 4 µs where Stan's compiled gradient takes 2). When a program's structure
// is fixed (ir::Graph::fixed_structure: no `if`, loop bound, subscript or
// shape depends on a latent value or parameter), every step runs the same
// operations on the same shapes; only the parameters' values and the
// guide's standard normal draws differ. Then the tape of one step is the
// step: refill its parameter leaves from the store, draw its noise nodes
// from the step's generator in the same order, recompute every node with
// its own kernel (ad::Tape::forward), and run the backward pass. Each
// number is computed by the same code on the same inputs as running the
// program would, so a replayed step gives the same bits, and a fit's
// history does not depend on which steps were replayed.
//
// What is static is checked; what the interpreter decided at run time is
// verified before anything is replayed:
//   * the graph's structure is fixed (lang/ir/fixed_structure.cpp);
//   * one particle, Trace_ELBO or the mean-field ELBO (Elbo::replayable),
//     no KL annealing weight, one process;
//   * every node of the step's tape is a parameter leaf, a constant, a
//     noise node or an op with a ForwardFn (nothing opaque: host functions,
//     gamma draws, gradients assembled outside the tape);
//   * two interpreted steps in a row built the same tape: the same
//     operations, shapes, inputs and per-node numbers, the same constants
//     to the bit, the same leaves of the same parameters, the same loss and
//     ELBO nodes. A constant computed outside the tape from a latent value
//     (a value-dependent decision the static check could not see) differs
//     between two steps with different draws, and so is caught here;
//   * the noise nodes hold exactly the standard normals the step's
//     generator gave, in node order, and nothing else drew from it.
// A replay is dropped when the parameter store changes (a parameter added,
// removed or loaded). A replayed step whose loss, ELBO or any gradient is
// not finite is not used: the step runs again through the interpreter from
// the same generator, so its refusal names the site as always.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/ad/tape.hpp"
#include "runtime/infer/trace_elbo.hpp"
#include "runtime/interp/context.hpp"
#include "runtime/rng/generator.hpp"

namespace vireo::infer {

class CompiledStep {
 public:
  // Observed steps whose tapes differ before observing stops (until the
  // store changes): a program whose tape never repeats pays one tape copy
  // per step only this often.
  static constexpr int kMaxMismatches = 4;

  // A parameter leaf of the program: its node and its store entry.
  struct Leaf {
    std::int32_t node = -1;
    std::size_t entry = 0;
  };

  // `allowed`: the fit's settings permit a replay at all (SviOptions).
  void set_allowed(bool allowed) {
    allowed_ = allowed;
    if (!allowed) drop();
  }

  // Whether a replay is ready for ctx's store as it is now.
  bool ready(interp::Context& ctx) const;
  // Whether observe() would look at an interpreted step now, so that its
  // decisions on values should be kept (ad::Tape::want_guards).
  bool recording(interp::Context& ctx) const;

  // After an interpreted step built its loss (before its backward pass):
  // `before` is the generator as the step started. Compares the step's tape
  // with the previous observed one and, when they agree, keeps it as the
  // program. Cheap to call when replay is impossible (returns at once).
  void observe(interp::Context& ctx, const rng::Generator& before, const ElboEstimate& est);

  // Runs the program: refills the leaves, draws the noise, recomputes the
  // loss and its gradient. Returns false, with ctx's generator untouched,
  // when the loss, the ELBO or a gradient is not finite; true with the
  // generator advanced as the interpreted step would have.
  bool run(interp::Context& ctx);

  // After run(): the program's tape, its leaves, the loss node and the ELBO.
  ad::Tape& tape() { return program_; }
  const std::vector<Leaf>& leaves() const { return leaves_; }
  ad::Var loss() { return ad::Var(&program_, loss_); }
  double elbo() const { return elbo_value_; }

  // Forgets the program and what was observed; observing starts again.
  void drop();

  // Steps replayed so far, and why the last observation did not lead to a
  // program (empty when none was refused): for tests and diagnostics.
  long replayed() const { return replayed_; }
  const std::string& refused_because() const { return refused_; }

 private:
  struct Recording {
    std::vector<Leaf> leaves;
    std::int32_t loss = -1, elbo = -1;
  };
  // Why this step's tape cannot be a program at all, or nullptr.
  static const char* disqualified(interp::Context& ctx, const ElboEstimate& est);
  bool store_changed(interp::Context& ctx) const;
  Recording record(interp::Context& ctx, const ElboEstimate& est) const;
  bool noise_matches(const ad::Tape& tape, const rng::Generator& before, const rng::Generator& after);
  static bool same_tape(const ad::Tape& a, const ad::Tape& b);

  bool allowed_ = true;
  bool have_candidate_ = false;
  bool ready_ = false;
  int mismatches_ = 0;
  ad::Tape program_;  // the candidate until ready_, then the program
  std::vector<Leaf> leaves_;
  std::vector<std::int32_t> noise_;           // the program's noise nodes, in order
  std::vector<std::int32_t> ops_;             // its Op nodes, in order
  std::vector<std::int32_t> backward_order_;  // the nodes whose backward runs (found by the first replay)
  std::int32_t loss_ = -1, elbo_ = -1;
  std::uint64_t generation_ = 0;
  std::size_t store_size_ = 0;
  double elbo_value_ = 0;
  long replayed_ = 0;
  std::string refused_;
  std::vector<double> draws_;  // scratch for noise_matches
};

}  // namespace vireo::infer
