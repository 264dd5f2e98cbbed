// special.cpp — thin wrappers over <cmath> and Boost.Math with a policy that
// reports domain errors, poles and overflow as NaN/∞ instead of throwing.
#include "stdlib/math/special.hpp"

#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>
#include <boost/math/quadrature/exp_sinh.hpp>

#include <cmath>
#include <limits>

namespace vireo::math {
namespace {

namespace bm = boost::math;
using quiet = bm::policies::policy<bm::policies::domain_error<bm::policies::ignore_error>,
                                   bm::policies::pole_error<bm::policies::ignore_error>,
                                   bm::policies::overflow_error<bm::policies::ignore_error>,
                                   bm::policies::underflow_error<bm::policies::ignore_error>,
                                   bm::policies::evaluation_error<bm::policies::ignore_error>>;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double lgamma(double x) { return bm::lgamma(x, quiet()); }
double digamma(double x) { return bm::digamma(x, quiet()); }
double trigamma(double x) { return bm::trigamma(x, quiet()); }
double lbeta(double a, double b) { return lgamma(a) + lgamma(b) - lgamma(a + b); }

double gamma_p(double a, double x) {
  if (!(a > 0) || !(x >= 0)) return nan;
  return bm::gamma_p(a, x, quiet());
}
double gamma_p_inv(double a, double p) {
  if (!(a > 0) || !(p >= 0 && p <= 1)) return nan;
  return bm::gamma_p_inv(a, p, quiet());
}
double ibeta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) return nan;
  return bm::ibeta(a, b, x, quiet());
}
double ibeta_inv(double a, double b, double p) {
  if (!(a > 0) || !(b > 0) || !(p >= 0 && p <= 1)) return nan;
  return bm::ibeta_inv(a, b, p, quiet());
}

double gamma_sample_grad(double a, double z) {
  if (!(z > 0)) return 0.0;  // z underflowed to 0: it cannot move
  const double log_z = std::log(z);
  if (z > a) {
    // Upper tail: the series below would add terms up to ~e^z/z^a that
    // cancel. Instead, with ∂Q/∂a = (1/Γ(a)) ∫_z^∞ t^(a−1) e^(−t) (log t − ψ(a)) dt
    // and dz/da = (∂Q/∂a)/p(z; a), substituting t = z + s:
    //   dz/da = ∫_0^∞ (1 + s/z)^(a−1) e^(−s) (log(z + s) − ψ(a)) ds,
    // smooth and without cancellation; exp-sinh quadrature (Boost.Math).
    // Per thread: building the abscissae is the costly part, and integrate()
    // is not const in Boost 1.74.
    thread_local boost::math::quadrature::exp_sinh<double> integrator;
    const double psi_a = digamma(a);
    const auto f = [&](double s) {
      return std::exp((a - 1) * std::log1p(s / z) - s) * (std::log(z + s) - psi_a);
    };
    return integrator.integrate(f, 1e-13);
  }
  // Lower part (z ≤ a): term n is c_n · (log z − ψ(a + n + 1)) with
  // c_n = z^n Γ(a)/Γ(a + n + 1) ≤ 1/a, decreasing, so nothing cancels badly;
  // kept in log space by the recurrences log c_n = log c_(n−1) + log z −
  // log(a + n) and ψ(a + n + 1) = ψ(a + n) + 1/(a + n). The cap is a guard.
  constexpr int max_terms = 10'000'000;
  double log_c = -std::log(a);
  double psi = digamma(a + 1);
  double sum = 0.0;
  for (int n = 0; n < max_terms; ++n) {
    if (n > 0) {
      log_c += log_z - std::log(a + n);
      psi += 1.0 / (a + n);
    }
    const double term = std::exp(log_c) * (log_z - psi);
    sum += term;
    if (std::abs(term) <= 1e-17 * std::abs(sum)) break;
  }
  return -z * sum;
}

}  // namespace vireo::math
