// Baselines for score-function terms: b is subtracted from a site's
// downstream cost (cost − b, detached) to cut the variance of log q · cost
// without bias, since E[∇log q] = 0 (Williams 1992; Mnih & Gregor 2014,
// "Neural Variational Inference and Learning in Belief Networks").
//   average   decaying average of past costs, b_t = β·b_{t−1} + (1−β)·cost;
//             a step uses the average before its own update (Pyro's rule);
//             with several particles, all use it and it is updated once
//             with their mean cost
//   value     a fixed number (or expression) given by the user
//   net       a small MLP of a user-named input (detached), trained by the
//             squared error against the detached cost; only its own
//             parameters receive that loss's gradient
//   average+net  both, added (the net learns what the average misses)
//   loo       leave-one-out across particles: each particle's baseline is the
//             mean cost of the other particles (needs --particles ≥ 2)
// At fixed parameters, per particle (P × the variance of the P-particle
// mean; A = Σ E[|∇log q|²(cost − E cost)²], G = the exact gradient), a
// settled average updated with P costs a step gives (1 + (1−β)/((1+β)P))·A
// − |G|², and loo over K particles K/(K−1)·A − (K−2)/(K−1)·|G|². So loo
// beats even the one-particle average only when K > 1 + (1+β)/(1−β)·(1 +
// |G|²/A): β = 0.9 needs K ≥ 21 at G = 0, and M3 at its start (|G|²/A =
// 0.28) K ≥ 26. bench_tracegraph agrees: loo × 8 5.5e3, average × 1 4.8e3,
// × 8 4.46e3. What loo buys is no lag when the parameters move, which a
// variance at fixed parameters cannot show.
//   average+loo  pooled, not added (both estimate the same mean cost): the
//             other particles' costs and the bias-corrected average
//             m/(1−β^t), the average weighted as the number of costs it
//             stands for, P·(1−β^t)²(1+β)/((1−β)(1−β^{2t})) → P(1+β)/(1−β)
//             (its effective sample size over t updates of P costs each).
//             Still independent of the particle's own draw, so unbiased;
//             per particle at fixed parameters it equals the 8-particle
//             average (4.46e3 both) and beats loo alone (bench_tracegraph, M3).
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
