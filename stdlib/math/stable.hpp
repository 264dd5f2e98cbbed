// stable.hpp — elementary functions written so that they neither overflow nor
// lose their digits where the mathematics is finite. Scalar, double only; the
// tape versions of these live in runtime/ad.
#pragma once

#include <cmath>
#include <limits>

namespace vireo::math {

inline constexpr double log_2pi = 1.8378770664093453;  // log(2π)
inline constexpr double inf = std::numeric_limits<double>::infinity();
inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

inline double log1p(double x) { return std::log1p(x); }
inline double expm1(double x) { return std::expm1(x); }

// log(1 − e^x) for x ≤ 0 (Mächler 2012, "Accurately computing log(1 − exp(−|a|))"):
// log(−expm1(x)) near 0, log1p(−e^x) further out.
inline double log1mexp(double x) {
  return x > -0.6931471805599453 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

// log(1 + e^x) without overflow.
inline double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// softplus⁻¹(y) = log(e^y − 1) for y > 0: the unconstrained value of a
// softplus-positive parameter (a guide's scale) that starts at y.
inline double inverse_softplus(double y) { return y > 20 ? y : std::log(std::expm1(y)); }

// log σ(x) = −softplus(−x).
inline double log_sigmoid(double x) { return -softplus(-x); }

inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

inline double logit(double p) { return std::log(p) - std::log1p(-p); }

// log(e^a + e^b), exact when either is −∞.
inline double logaddexp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double m = a > b ? a : b;
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

// x · log(y), 0 when x == 0 (the 0 · log 0 = 0 convention of entropies and pmfs).
inline double xlogy(double x, double y) { return x == 0.0 ? 0.0 : x * std::log(y); }
// x · log1p(y), 0 when x == 0.
inline double xlog1py(double x, double y) { return x == 0.0 ? 0.0 : x * std::log1p(y); }

}  // namespace vireo::math
