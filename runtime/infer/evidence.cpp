#include "runtime/infer/evidence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "runtime/infer/trace_elbo.hpp"
#include "stdlib/math/stable.hpp"

namespace vireo::infer {
namespace {

using math::inf;
using math::nan;

using math::softplus;  // log(1 + e^t) without overflow

// log(1 − θx) for x = e^{lx}, given θ < 1/max x. For θ < 0 it is
// softplus(log(−θ) + lx), finite for any lx; for θ > 0 the grid keeps
// max x below 12·(grid size), so θx is formed directly.
double log1m_theta_x(double theta, double lx) {
  if (lx == -inf || theta == 0) return 0;
  if (theta < 0) return softplus(std::log(-theta) + lx);
  return std::log1p(-theta * std::exp(lx));
}

double mean_log1m(double theta, const std::vector<double>& lx) {
  double s = 0;
  for (double v : lx) s += log1m_theta_x(theta, v);
  return s / static_cast<double>(lx.size());
}

// Two log-weights equal up to rounding in the log-densities they are sums of.
bool equal_to_rounding(double top, double bottom) { return top - bottom <= 1e-9 * std::max(1.0, std::abs(top)); }

}  // namespace

GpdFit gpd_fit(const std::vector<double>& log_x) {
  const std::size_t n = log_x.size();
  if (n == 0) return {nan, nan};
  // 1. Scale: the fit is scale-free in x (θ scales as 1/x, k not at all), so
  //    measure x in units of x* (the first quartile, Zhang & Stephens' choice)
  //    and keep only logs. A point mass (every value 0) is fitted as n equal
  //    values; a quartile of 0 (ties at the threshold) borrows the smallest
  //    positive value.
  std::vector<double> lx = log_x;
  if (lx.back() == -inf) std::fill(lx.begin(), lx.end(), 0.0);
  const auto quartile = std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(static_cast<double>(n) / 4 + 0.5)));
  double l_star = lx[quartile - 1];
  if (l_star == -inf) l_star = *std::find_if(lx.begin(), lx.end(), [](double v) { return v > -inf; });
  for (double& v : lx) v -= l_star;

  // 2. The grid θ_j = 1/x_(n) + (1 − √(m/(j − ½))) / (3 x*), j = 1..m: every
  //    θ_j < 1/x_(n), as the likelihood requires.
  const int m = 30 + static_cast<int>(std::floor(std::sqrt(static_cast<double>(n))));
  const double inv_max = std::exp(-lx.back());
  std::vector<double> theta(static_cast<std::size_t>(m)), loglik(static_cast<std::size_t>(m));
  double best = -inf;
  for (int j = 1; j <= m; ++j) {
    const double t = inv_max + (1 - std::sqrt(m / (j - 0.5))) / 3;
    // 3. Profile log-likelihood at θ: k(θ) = mean log(1 − θx), σ = −k/θ,
    //    ℓ(θ) = n (log(−θ/k) − k − 1). θ and k share no sign only at θ = 0
    //    or through rounding: such a point gets no weight.
    const double k = mean_log1m(t, lx);
    double l = -inf;
    if (t != 0 && k != 0 && (t < 0) == (k > 0))
      l = static_cast<double>(n) * (std::log(std::abs(t)) - std::log(std::abs(k)) - k - 1);
    theta[static_cast<std::size_t>(j - 1)] = t;
    loglik[static_cast<std::size_t>(j - 1)] = l;
    best = std::max(best, l);
  }
  // 4. θ̂ = the posterior mean over the grid (weights ∝ e^ℓ, flat prior).
  double wsum = 0, tsum = 0;
  for (std::size_t j = 0; j < theta.size(); ++j) {
    const double w = best == -inf ? 1.0 : std::exp(loglik[j] - best);
    wsum += w;
    tsum += w * theta[j];
  }
  const double theta_hat = tsum / wsum;
  // 5. k̂ = k(θ̂), σ̂ = −k̂/θ̂ (back in the units of x), then the weakly
  //    informative prior: k ← (n k + 10 · 0.5) / (n + 10).
  double k = mean_log1m(theta_hat, lx);
  GpdFit out;
  out.log_sigma = std::log(std::abs(k / theta_hat)) + l_star;
  const double nd = static_cast<double>(n);
  out.k = (nd * k + 10 * 0.5) / (nd + 10);
  return out;
}

long psis_tail_length(long draws) {
  const double s = static_cast<double>(draws);
  return static_cast<long>(std::ceil(std::min(0.2 * s, 3 * std::sqrt(s))));
}

double psis_khat(std::vector<double> log_w) {
  // NaN and +inf are not weights: the caller counts and reports them.
  std::erase_if(log_w, [](double v) { return std::isnan(v) || v == inf; });
  const long s = static_cast<long>(log_w.size());
  const long tail = psis_tail_length(s);
  // Five is the fewest `loo` fits a tail to.
  if (tail < 5) return inf;
  // Only the tail and its threshold need order: O(S), not O(S log S).
  const auto threshold = log_w.begin() + (s - tail - 1);
  std::nth_element(log_w.begin(), threshold, log_w.end());
  std::sort(threshold + 1, log_w.end());
  const double top = log_w.back();
  if (top == -inf) return nan;
  // Every weight equal (to rounding in the log-densities): the proposal is
  // exact, and there is no tail to fit.
  const double bottom = *std::min_element(log_w.begin(), threshold + 1);
  if (bottom > -inf && equal_to_rounding(top, bottom)) return -inf;
  // Exceedances w_i − w_cut of the tail over the (M+1)-th largest weight,
  // as logs in the scale where the largest weight is 1:
  // log(e^{a} − e^{c}) = a + log(−expm1(c − a)), 0 ↦ −inf (a tie). A tail
  // within rounding of the threshold is no tail: all ties, a point mass.
  double cut = *threshold;
  if (equal_to_rounding(top, cut)) cut = top;
  std::vector<double> log_x;
  log_x.reserve(static_cast<std::size_t>(tail));
  for (long i = s - tail; i < s; ++i) {
    const double a = log_w[static_cast<std::size_t>(i)];
    log_x.push_back(a <= cut ? -inf : (a - top) + std::log(-std::expm1(cut - a)));
  }
  return gpd_fit(log_x).k;
}

double khat_threshold(long draws) {
  return std::min(1 - 1 / std::log10(static_cast<double>(draws)), 0.7);
}

EvidenceEstimate evidence_from_log_weights(const std::vector<double>& log_w, const std::string& better_guide) {
  EvidenceEstimate e;
  e.draws = static_cast<long>(log_w.size());
  e.khat_threshold = khat_threshold(e.draws);
  // 1. Count what is not a finite weight; NaN and +inf are left out.
  long finite = 0;
  double top = -inf;
  for (double v : log_w) {
    if (std::isnan(v)) {
      ++e.nan_draws;
    } else if (v == inf) {
      ++e.inf_draws;
    } else if (v == -inf) {
      ++e.zero_draws;
    } else {
      ++finite;
      top = std::max(top, v);
    }
  }
  const long kept = finite + e.zero_draws;
  const double s = static_cast<double>(kept);
  // The verdicts about NaN and +inf come first: they spoil any estimate.
  std::vector<std::string> lines;
  if (e.nan_draws > 0)
    lines.push_back(fmt::format(
        "the evidence estimate cannot be trusted: {} of {} draws had a NaN log-weight (a log-density of the model "
        "or the guide is NaN where the guide proposed); their weights are unknown and the estimate leaves them out. "
        "Find the NaN (`vireo trace`) and fix the model or the guide",
        e.nan_draws, e.draws));
  if (e.inf_draws > 0)
    lines.push_back(fmt::format(
        "the evidence estimate cannot be trusted: {} of {} draws had a log-weight of +inf (the guide's density is 0, "
        "or the model's infinite, where the guide proposed): the weights are unbounded and the estimate leaves them "
        "out. Check the guide's support against the model's",
        e.inf_draws, e.draws));
  auto finish = [&] {
    std::string all;
    for (const auto& l : lines) all += (all.empty() ? "" : "\n") + l;
    e.warning = all + (e.warning.empty() || all.empty() ? "" : "\n") + e.warning;
    if (e.nan_draws > 0 || e.inf_draws > 0) e.reliable = false;
    return e;
  };
  if (finite == 0) {
    e.log_z = kept > 0 ? -inf : nan;
    e.se = nan;
    e.ess = 0;
    e.khat = nan;
    lines.push_back(fmt::format(
        "the evidence cannot be estimated: none of the {} draws had a finite log-weight "
        "(the model rules out what the guide proposes, or a log-density is NaN); "
        "check the model and the guide's support",
        e.draws));
    return finish();
  }
  // 2. Weights in the scale where the largest is 1: no overflow, and log Z
  //    keeps every digit of the shift.
  double sum = 0, sum2 = 0;
  for (double v : log_w) {
    if (!std::isfinite(v)) continue;
    const double w = std::exp(v - top);
    sum += w;
    sum2 += w * w;
  }
  e.log_z = top + std::log(sum) - std::log(s);
  e.ess = sum * sum / sum2;
  const double mean = sum / s;
  double dev2 = static_cast<double>(e.zero_draws) * mean * mean;
  for (double v : log_w)
    if (std::isfinite(v)) dev2 += (std::exp(v - top) - mean) * (std::exp(v - top) - mean);
  e.se = kept > 1 ? std::sqrt(dev2 / (s - 1) / s) / mean : nan;
  // 3. Pareto k̂, or an exact proposal: every weight equal to rounding.
  e.khat = psis_khat(log_w);
  e.exact = e.khat == -inf;
  e.reliable = e.khat <= e.khat_threshold;
  // A heavy tail of small weights. k̂ measures the shape of the largest
  // weights' tail, not its size: a Gaussian guide on a posterior with
  // exponential tails (a Beta in logit space) gives w ~ exp(c·ε²) far out,
  // a tail index near 1 however close the guide is. When the weights are
  // nearly equal (ESS ≥ 90% of the draws) and no draw holds more than ten
  // draws' share, the draws seen cannot move the estimate beyond its
  // standard error, and the region where the tail grows carries almost no
  // posterior mass: the estimate is reliable, with a note saying why k̂ is high.
  double largest = 0;
  for (double v : log_w)
    if (std::isfinite(v)) largest = std::max(largest, std::exp(v - top));
  const bool small_tail = std::isfinite(e.khat) && e.ess >= 0.9 * s && largest <= 10 * mean;
  if (!e.reliable && small_tail) e.reliable = true;

  if (!e.reliable) {
    const std::string stats = fmt::format("effective sample size {:.1f} of {} draws", e.ess, kept);
    if (std::isinf(e.khat)) {
      e.warning = fmt::format(
          "the evidence estimate cannot be trusted: {} draws are too few to estimate Pareto k̂ "
          "({}); use at least 100 draws",
          kept, stats);
    } else if (e.khat > 0.7 || std::isnan(e.khat)) {
      e.warning = fmt::format(
          "the evidence estimate cannot be trusted: Pareto k̂ = {:.2f} is above {:.2f}, the threshold for {} draws "
          "({}). With k̂ above 0.7 more draws will not help: the guide's tails are too light for the posterior. "
          "Fit a better guide ({}) and estimate again",
          e.khat, e.khat_threshold, kept, stats, better_guide);
    } else {
      e.warning = fmt::format(
          "the evidence estimate cannot be trusted yet: Pareto k̂ = {:.2f} is above {:.2f}, the threshold for {} "
          "draws ({}). More draws will help: k̂ = {:.2f} needs about 10^(1/(1 - k̂)) = {:.0f} draws; a better "
          "guide needs fewer",
          e.khat, e.khat_threshold, kept, stats, e.khat, std::ceil(std::pow(10.0, 1 / (1 - e.khat))));
    }
  }
  // Nearly equal weights and a heavy tail: k̂ measures the tail's shape, not
  // its size, and a reader seeing ESS ≈ S needs to know which one failed.
  if (e.khat > e.khat_threshold && small_tail) {
    e.warning += fmt::format(
        "note: Pareto k̂ = {:.2f} is above {:.2f}, but the weights are nearly equal (effective sample size {:.0f} of "
        "{}; the largest is {:.1f} times the mean): their tail is heavy in shape (the guide's tails are lighter than "
        "the posterior's) but small in size, so the estimate is trusted",
        e.khat, e.khat_threshold, e.ess, kept, largest / mean);
  } else if (e.khat > 0.7 && std::isfinite(e.khat) && e.ess >= 0.9 * s) {
    e.warning += fmt::format(
        "\nnote: the weights are nearly equal in most draws (effective sample size {:.0f} of {}), but the largest "
        "is {:.0f} times the mean, in a heavy tail: draws further out, not seen yet, can move the estimate by more "
        "than its standard error says",
        e.ess, kept, largest / mean);
  }
  if (e.zero_draws > 0) {
    if (!e.warning.empty()) e.warning += "\n";
    e.warning += fmt::format(
        "note: {} of {} draws had a log-weight of -inf (the model rules out what the guide proposed) and count as "
        "weight 0",
        e.zero_draws, e.draws);
  }
  return finish();
}

EvidenceEstimate estimate_evidence(interp::Context& ctx, guide::Guide& guide, long draws,
                                   const std::function<void(long)>& before_draw) {
  if (draws < 1) throw std::invalid_argument(fmt::format("the evidence needs at least 1 draw; got {}", draws));
  std::vector<double> log_w;
  log_w.reserve(static_cast<std::size_t>(draws));
  std::string scaled;  // a site whose log-density is scaled (a subsampled plate)
  ParticleTraces t;
  for (long i = 0; i < draws; ++i) {
    if (before_draw) before_draw(i);
    ctx.begin_step();
    run_particle(ctx, guide, t);
    log_w.push_back(particle_elbo(ctx.tape(), t).item());
    for (const auto* trace : {&t.model, &t.guide})
      for (const auto& s : trace->sites())
        if (scaled.empty() && s.msg.type == handlers::MsgType::Sample && s.msg.scale != 1.0) scaled = s.msg.name;
  }
  EvidenceEstimate e = evidence_from_log_weights(log_w, guide.better_fit_advice());
  // A scaled log-density (subsampling) is an unbiased estimate of log p, but
  // its exponential is not one of p: the weights are not importance weights.
  if (!scaled.empty()) {
    e.reliable = false;
    e.warning = fmt::format(
                    "the evidence estimate is biased: site '{}' has a scaled log-density (a subsampled plate), "
                    "so the weights are not importance weights; estimate the evidence without subsampling",
                    scaled) +
                (e.warning.empty() ? "" : "\n" + e.warning);
  }
  return e;
}

}  // namespace vireo::infer
