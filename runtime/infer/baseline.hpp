// Baselines for score-function terms: b is subtracted from a site's
// downstream cost (cost − b, detached) to cut the variance of log q · cost
// without bias, since E[∇log q] = 0 (Williams 1992; Mnih & Gregor 2014,
// "Neural Variational Inference and Learning in Belief Networks").
//   average   decaying average of past costs, b_t = β·b_{t−1} + (1−β)·cost;
//             a step uses the average before its own update (Pyro's rule)
//   value     a fixed number (or expression) given by the user
//   net       a small MLP of a user-named input (detached), trained by the
//             squared error against the detached cost; only its own
//             parameters receive that loss's gradient
//   average+net  both, added
//   loo       leave-one-out across particles: each particle's baseline is the
//             mean cost of the other particles (needs --particles ≥ 2)
#pragma once
#include <optional>
#include <string>

#include "lang/ir/graph.hpp"

namespace vireo::infer {

struct BaselineSpec {
  bool average = false;
  double beta = 0.9;
  bool value = false;
  double fixed = 0;  // for value baselines given as a number (`--baseline value:3`)
  bool net = false;
  int hidden = 16;
  bool leave_one_out = false;

  bool any() const { return average || value || net || leave_one_out; }
  std::string describe() const;
  // `--baseline` forms: none | avg | avg:0.95 | value:X | loo | avg+loo. Throws std::invalid_argument.
  static BaselineSpec parse(const std::string& text);
  // A site's `with baseline(...)` options.
  static BaselineSpec from_site(const ir::Baseline& b);
};

}  // namespace vireo::infer
