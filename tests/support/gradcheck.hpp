// The one finite-difference oracle for every gradient test (ops and log-densities).
// gradcheck(f, inputs) records f on a tape with each input as a leaf, runs
// backward, and compares every gradient element with a central difference
//   (f(x + h e_i) - f(x - h e_i)) / 2h,   h = step * max(1, |x_i|),
// accepting |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
// A non-scalar output is contracted with fixed weights (0.3, 0.7, 1.1, ...
// alternating sign) so every element's gradient is exercised at once.
// Usage: auto r = gradcheck([](Tape&, auto& x) { return exp(x[0]); }, {a});
//        BOOST_TEST(r.ok, r.message);
#pragma once

#include "runtime/ad/ad.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace vireo::testing {

struct GradCheckOptions {
  double step = 1e-6;
  double rtol = 1e-5;
  double atol = 1e-6;
};

struct GradCheckResult {
  bool ok = true;
  double worst = 0.0;  // worst |analytic - numeric| / (atol + rtol * scale); ok iff <= 1
  int input = -1;      // which input holds the worst element
  long element = -1;   // its flat index
  double analytic = 0.0;
  double numeric = 0.0;
  std::string message;  // describes the worst element
};

using GradFn = std::function<ad::Var(ad::Tape&, const std::vector<ad::Var>&)>;

namespace detail {
inline ad::Var contract(ad::Var out) {
  if (out.numel() == 1) return ad::sum(out);
  ad::Tensor w(out.shape());
  for (long i = 0; i < w.numel(); ++i) w[i] = (i % 2 ? -1.0 : 1.0) * (0.3 + 0.4 * (i % 5));
  return ad::sum(out * out.tape()->constant(w));
}
inline double evaluate(const GradFn& f, ad::Tape& tape, const std::vector<ad::Tensor>& xs) {
  tape.clear();
  std::vector<ad::Var> leaves;
  for (const auto& x : xs) leaves.push_back(tape.leaf(x));
  return contract(f(tape, leaves)).item();
}
}  // namespace detail

inline GradCheckResult gradcheck(const GradFn& f, const std::vector<ad::Tensor>& inputs,
                                 GradCheckOptions opt = {}) {
  GradCheckResult r;
  ad::Tape tape;
  std::vector<ad::Var> leaves;
  for (const auto& x : inputs) leaves.push_back(tape.leaf(x));
  ad::Var out = detail::contract(f(tape, leaves));
  tape.backward(out);
  std::vector<ad::Tensor> grads;
  for (auto v : leaves) grads.push_back(tape.grad(v));

  ad::Tape scratch;
  std::vector<ad::Tensor> xs = inputs;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    for (long i = 0; i < xs[k].numel(); ++i) {
      const double x0 = xs[k][i];
      const double h = opt.step * std::max(1.0, std::abs(x0));
      xs[k][i] = x0 + h;
      const double fp = detail::evaluate(f, scratch, xs);
      xs[k][i] = x0 - h;
      const double fm = detail::evaluate(f, scratch, xs);
      xs[k][i] = x0;
      const double numeric = (fp - fm) / (2 * h);
      const double analytic = grads[k][i];
      const double scale = std::max(std::abs(analytic), std::abs(numeric));
      double err = std::abs(analytic - numeric) / (opt.atol + opt.rtol * scale);
      if (std::isnan(err)) err = std::isnan(analytic) && std::isnan(numeric) ? 0.0 : 1e300;
      if (err > r.worst || r.input < 0) {
        r.worst = err;
        r.input = static_cast<int>(k);
        r.element = i;
        r.analytic = analytic;
        r.numeric = numeric;
      }
    }
  }
  r.ok = r.worst <= 1.0;
  std::ostringstream s;
  s.precision(10);
  s << (r.ok ? "gradient ok" : "gradient mismatch") << ": worst at input " << r.input
    << " element " << r.element << ": analytic " << r.analytic << ", numeric " << r.numeric
    << " (error " << r.worst << " x tolerance)";
  r.message = s.str();
  return r;
}

}  // namespace vireo::testing
