// continuous.cpp — normal, exponential, Cauchy, Laplace, Student-t, gamma,
// beta and Dirichlet samplers over Generator.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "runtime/par/parallel.hpp"
#include "runtime/rng/samplers.hpp"

namespace vireo::rng {

double standard_normal(Generator& g) {
  // Box–Muller; the second variate of the pair is discarded so that the
  // generator is the only state.
  const double u1 = g.uniform_open();
  const double u2 = g.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

void fill_standard_normal(Generator& g, double* out, std::int64_t n) {
  if (n <= par::kChunk) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = standard_normal(g);
    return;
  }
  const std::uint64_t key = g.next_u64();
  par::for_chunks(n, [&](std::int64_t b, std::int64_t e) {
    Generator c = Generator::keyed(key, static_cast<std::uint64_t>(b / par::kChunk));
    for (std::int64_t i = b; i < e; ++i) out[i] = standard_normal(c);
  });
}

double standard_exponential(Generator& g) { return -std::log1p(-g.uniform()); }

double standard_cauchy(Generator& g) { return std::tan(std::numbers::pi * (g.uniform_open() - 0.5)); }

double standard_laplace(Generator& g) {
  const double u = g.uniform_open() - 0.5;  // in (−1/2, 1/2)
  return u < 0 ? std::log1p(2.0 * u) : -std::log1p(-2.0 * u);
}

double log_standard_gamma(Generator& g, double shape) {
  if (shape < 1.0) {
    // Boost (Marsaglia & Tsang 2000, §6): G(a) = G(a + 1) · U^(1/a).
    return log_standard_gamma(g, shape + 1.0) + std::log(g.uniform_open()) / shape;
  }
  // Marsaglia & Tsang (2000), "A simple method for generating gamma variables".
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = standard_normal(g);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = g.uniform_open();
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return std::log(d * v);
    if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return std::log(d * v);
  }
}

double standard_gamma(Generator& g, double shape) {
  return std::exp(log_standard_gamma(g, shape));
}

double student_t(Generator& g, double df) {
  const double z = standard_normal(g);
  const double chi2 = 2.0 * standard_gamma(g, 0.5 * df);
  return z / std::sqrt(chi2 / df);
}

double beta(Generator& g, double a, double b) {
  const double la = log_standard_gamma(g, a);
  const double lb = log_standard_gamma(g, b);
  const double m = std::max(la, lb);
  const double log_sum = m + std::log(std::exp(la - m) + std::exp(lb - m));
  return std::exp(la - log_sum);
}

void dirichlet(Generator& g, std::span<const double> alpha, std::span<double> out) {
  double m = -INFINITY;
  for (std::size_t i = 0; i < alpha.size(); ++i) {
    out[i] = log_standard_gamma(g, alpha[i]);
    m = std::max(m, out[i]);
  }
  double total = 0.0;
  for (double& x : out) total += (x = std::exp(x - m));
  for (double& x : out) x /= total;
}

}  // namespace vireo::rng
