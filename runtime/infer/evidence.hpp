// The evidence log p(data) by importance sampling with the guide as the
// proposal, and the Pareto k̂ diagnostic that says whether to believe it.
//   1. S draws z_s ~ q, each on a rewound tape (a tape never holds them all):
//      log w_s = Σ scale·log p(x, z_s) − Σ log q(z_s), one particle's ELBO.
//   2. log Z ≈ logsumexp(log w) − log S. Its standard error by the delta
//      method, sd(w) / (√S · mean(w)); the effective sample size
//      (Σw)² / Σw². Both in a scale shifted by max log w.
//   3. Pareto k̂: a generalized Pareto distribution fitted to the largest
//      weights (Vehtari, Simpson, Gelman, Yao & Gabry 2024, "Pareto Smoothed
//      Importance Sampling", JMLR 25(72), Sec. 3; tail length from App. H).
//      The estimate is trusted when k̂ ≤ min(1 − 1/log10 S, 0.7): below it
//      the error falls like 1/√S; above 0.7 no practical S suffices (the
//      draws needed grow like 10^{1/(1−k̂)}) and the guide must improve.
// Log-weights that are not numbers are counted, never taken for absence:
//   −inf  a draw the model rules out: weight 0, a valid importance weight;
//   NaN   a log-density that is NaN: the weight is unknown;
//   +inf  the guide's density 0 (or the model's infinite) where it proposed:
//         the weights are unbounded.
// NaN and +inf draws are left out of the estimate, counted, and make it
// unreliable. Weights all equal to rounding are an exact proposal: reported
// as such (exact, k̂ = −inf), with no tail to fit.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "runtime/guide/guide.hpp"
#include "runtime/interp/context.hpp"

namespace vireo::infer {

struct EvidenceEstimate {
  double log_z = 0;  // −inf when no draw had a finite weight
  double se = 0;     // standard error of log_z (delta method)
  double ess = 0;    // effective sample size of the weights
  double khat = 0;   // Pareto k̂ of the weights; +inf when S is too small to fit it, NaN when no weight is positive
  long draws = 0;
  double khat_threshold = 0;  // min(1 − 1/log10 S, 0.7)
  long nan_draws = 0;         // draws whose log-weight is NaN (left out)
  long inf_draws = 0;         // draws whose log-weight is +inf (left out)
  long zero_draws = 0;        // draws whose log-weight is −inf (weight 0, kept)
  bool exact = false;         // every weight equal to rounding: the guide is the posterior
  bool reliable = false;      // k̂ ≤ threshold, no NaN or +inf draw (and nothing else spoiled the estimate)
  std::string warning;        // empty when there is nothing to say
};

// A generalized Pareto fit: shape k (> 0: a heavy tail with moments only below
// 1/k) and log of the scale σ.
struct GpdFit {
  double k = 0, log_sigma = 0;
};

// Fits a generalized Pareto distribution (location 0) to a sample given by the
// logs of its values, ascending (−inf for a value of 0). Zhang & Stephens
// (2009), "A New and Efficient Estimation Method for the Generalized Pareto
// Distribution", Technometrics 51(4): the posterior mean of θ = −k/σ over a
// grid of 30 + ⌊√n⌋ points, then k by its profile maximum at that θ; k is
// then shrunk toward 0.5 by a weakly informative prior worth 10 observations,
// as in Vehtari et al. (2024) and the `loo` R package. Works in log space:
// values spanning e^{±1e4} neither overflow nor underflow. All values equal
// (or all 0) is a point mass, fitted as n equal positive values: a large
// negative k.
GpdFit gpd_fit(const std::vector<double>& log_x);

// The tail length PSIS fits: ⌈min(S/5, 3√S)⌉.
long psis_tail_length(long draws);

// Pareto k̂ of importance weights given by their logs (any order, any shift;
// −inf counts as weight 0; NaN and +inf entries are left out, S counts the
// rest): the GPD shape of the M = psis_tail_length(S) largest weights'
// exceedances over the (M+1)-th largest. −inf when every positive weight is
// equal to rounding (an exact proposal: no tail to fit), +inf when M < 5
// (too few to fit; as `loo`), NaN when no weight is positive.
double psis_khat(std::vector<double> log_w);

// min(1 − 1/log10 S, 0.7): above it the estimate's error is not ~1/√S.
double khat_threshold(long draws);

// Step 2 and 3 from log-weights already drawn.
// `better_guide` completes the advice "Fit a better guide (…)" (Guide::better_fit_advice).
EvidenceEstimate evidence_from_log_weights(
    const std::vector<double>& log_w,
    const std::string& better_guide = "more steps, or a richer family: auto_mvn, auto_lowrank_mvn, a flow");

// Steps 1–3 with `draws` draws from the guide at the current parameters
// (nothing is updated). `before_draw(i)`, when given, runs before draw i
// (the API reseeds the generator there). Throws std::invalid_argument when
// draws < 1; run errors propagate as from run_particle.
EvidenceEstimate estimate_evidence(interp::Context& ctx, guide::Guide& guide, long draws,
                                   const std::function<void(long)>& before_draw = {});

}  // namespace vireo::infer
