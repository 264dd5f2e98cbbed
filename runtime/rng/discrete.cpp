// discrete.cpp — Bernoulli, Poisson, binomial, categorical, geometric and
// negative-binomial samplers over Generator.
#include <cmath>

#include "runtime/rng/samplers.hpp"

namespace vireo::rng {

namespace {
// log Γ(x) without std::lgamma, which writes the global `signgam`: two fits
// sampling on two threads would race on it (glibc marks lgamma MT-Unsafe).
// lgamma_r is the same computation, reentrant.
double log_gamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}
}  // namespace

bool bernoulli(Generator& g, double probs) { return g.uniform() < probs; }

std::int64_t poisson(Generator& g, double rate) {
  if (rate <= 0.0) return 0;
  if (rate < 10.0) {
    // Multiply uniforms until the product falls below e^−rate (Knuth).
    const double limit = std::exp(-rate);
    std::int64_t k = 0;
    double product = g.uniform();
    while (product > limit) {
      ++k;
      product *= g.uniform();
    }
    return k;
  }
  // PTRS, Hörmann (1993), §3: transformed rejection with squeeze.
  const double slam = std::sqrt(rate);
  const double loglam = std::log(rate);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = g.uniform() - 0.5;
    const double v = g.uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2.0 * a / us + b) * u + rate + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::int64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -rate + k * loglam - log_gamma(k + 1.0))
      return static_cast<std::int64_t>(k);
  }
}

namespace {

// Binomial for p ≤ 1/2.
std::int64_t binomial_lower(Generator& g, std::int64_t n, double p) {
  const double q = 1.0 - p;
  const double dn = static_cast<double>(n);
  if (dn * p < 10.0) {
    // Inversion: walk the pmf with f(k+1) = f(k) · (n − k)/(k + 1) · p/q.
    const double s = p / q;
    const double a = (dn + 1.0) * s;
    for (;;) {
      double r = std::pow(q, dn);
      double u = g.uniform();
      std::int64_t k = 0;
      while (u > r && k <= n) {
        u -= r;
        ++k;
        r *= a / static_cast<double>(k) - s;
      }
      if (k <= n) return k;  // rounding walked past n: draw again
    }
  }
  // BTRS, Hörmann (1993), §4, with the exact log-pmf ratio in the final test.
  const double spq = std::sqrt(dn * p * q);
  const double b = 1.15 + 2.53 * spq;
  const double a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = dn * p + 0.5;
  const double alpha = (2.83 + 5.1 / b) * spq;
  const double vr = 0.92 - 4.2 / b;
  const double m = std::floor((dn + 1.0) * p);
  const double log_pq = std::log(p / q);
  const double log_fm = -log_gamma(m + 1.0) - log_gamma(dn - m + 1.0);
  for (;;) {
    const double u = g.uniform() - 0.5;
    double v = g.uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2.0 * a / us + b) * u + c);
    if (k < 0.0 || k > dn) continue;
    if (us >= 0.07 && v <= vr) return static_cast<std::int64_t>(k);
    v = std::log(v * alpha / (a / (us * us) + b));
    const double log_ratio = -log_gamma(k + 1.0) - log_gamma(dn - k + 1.0) - log_fm + (k - m) * log_pq;
    if (v <= log_ratio) return static_cast<std::int64_t>(k);
  }
}

}  // namespace

std::int64_t binomial(Generator& g, std::int64_t n, double p) {
  if (n <= 0 || p <= 0.0) return 0;
  if (p >= 1.0) return n;
  if (p > 0.5) return n - binomial_lower(g, n, 1.0 - p);
  return binomial_lower(g, n, p);
}

std::int64_t categorical(Generator& g, std::span<const double> weights) {
  double total = 0.0;
  for (double w : weights) total += w;
  const double u = g.uniform() * total;
  double cumulative = 0.0;
  std::int64_t last_positive = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0.0) continue;
    cumulative += weights[i];
    last_positive = static_cast<std::int64_t>(i);
    if (u < cumulative) return last_positive;
  }
  return last_positive;  // u landed on the rounding gap at the top
}

std::int64_t geometric(Generator& g, double p) {
  if (p >= 1.0) return 0;
  // P(K ≥ k) = (1 − p)^k, so K = floor(log U / log(1 − p)).
  return static_cast<std::int64_t>(std::floor(std::log(g.uniform_open()) / std::log1p(-p)));
}

std::int64_t negative_binomial(Generator& g, double total_count, double probs) {
  if (probs <= 0.0) return 0;
  const double lambda = standard_gamma(g, total_count) * probs / (1.0 - probs);
  return poisson(g, lambda);
}

}  // namespace vireo::rng
