// checks.cpp — see checks.hpp.
#include "stdlib/dist/checks.hpp"

#include <Eigen/Core>
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "runtime/ad/kernels.hpp"
#include "runtime/par/parallel.hpp"
#include "stdlib/constraints/broadcast_values.hpp"

namespace vireo::dist {
namespace {

// Throws for the first element failing `ok`. A replay of the tape builds
// no distribution: when `v` is not a constant it asks `test` (the same test
// as `ok`) again of the values it computes (ad::Tape::add_guard).
template <class Ok>
void check_each(std::string_view dist, std::string_view param, ad::Var v, std::string_view must, ad::Tape::ElementTest test,
                Ok ok) {
  const double* t = v.data();  // read in place: distributions are built every step
  const std::int64_t n = v.numel();
  // A large parameter (a plate's logits) is scanned in chunks, which may run
  // on threads; only when one fails is it scanned again in order for the first.
  // The failures are counted in an integer: a count in a double is one chain
  // of dependent floating-point additions (about 4 cycles an element, which
  // the compiler may not reorder), an integer count vectorises.
  const double failed = par::sum_chunks(n, [&](std::int64_t b, std::int64_t e) {
    std::int64_t bad = 0;
    for (std::int64_t i = b; i < e; ++i) bad += !ok(t[i]);
    return static_cast<double>(bad);
  });
  if (failed == 0) {
    v.tape()->add_guard(v, test);
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    if (ok(t[i])) continue;
    std::string where = n > 1 ? fmt::format(" at flat index {}", i) : "";
    throw ParameterError(fmt::format("{}: {} must be {}; got {}{}", dist, param, must, t[i], where));
  }
}

}  // namespace

void check_finite(std::string_view dist, std::string_view param, ad::Var v) {
  // x·0 is ±0 for a finite x and NaN for ±inf and NaN, so Σ x·0 is 0 exactly
  // when every x is finite, in any order of summation: a vectorised
  // reduction (std::isfinite does not vectorise). Only when it is not is the
  // parameter scanned again, for the first offender.
  const std::int64_t n = v.numel();
  if (n >= ad::detail::kVectorMin) {
    const double* t = v.data();
    const double zeros = par::sum_chunks(n, [&](std::int64_t b, std::int64_t e) {
      return (Eigen::Map<const Eigen::ArrayXd>(t + b, e - b) * 0.0).sum();
    });
    if (zeros == 0) {
      v.tape()->add_guard(v, ad::Tape::ElementTest::Finite);
      return;
    }
  }
  check_each(dist, param, v, "finite", ad::Tape::ElementTest::Finite, [](double x) { return std::isfinite(x); });
}
void check_positive(std::string_view dist, std::string_view param, ad::Var v) {
  check_each(dist, param, v, "positive", ad::Tape::ElementTest::Positive, [](double x) { return x > 0 && !std::isnan(x); });
}
void check_nonnegative(std::string_view dist, std::string_view param, ad::Var v) {
  check_each(dist, param, v, "non-negative", ad::Tape::ElementTest::NonNegative, [](double x) { return x >= 0; });
}
void check_probability(std::string_view dist, std::string_view param, ad::Var v) {
  check_each(dist, param, v, "in [0, 1]", ad::Tape::ElementTest::Probability, [](double x) { return x >= 0 && x <= 1; });
}
void check_nonnegative_integer(std::string_view dist, std::string_view param, ad::Var v) {
  check_each(dist, param, v, "a non-negative integer", ad::Tape::ElementTest::NonNegativeInteger,
             [](double x) { return x >= 0 && std::isfinite(x) && std::floor(x) == x; });
}

void check_less(std::string_view dist, std::string_view low_name, ad::Var low, std::string_view high_name,
                ad::Var high) {
  const ad::Shape s = ad::broadcast_shapes(low.shape(), high.shape());
  const ad::Tensor lo = constraints::broadcast_values(low.value(), s);
  const ad::Tensor hi = constraints::broadcast_values(high.value(), s);
  for (std::int64_t i = 0; i < lo.numel(); ++i) {
    if (lo[i] < hi[i]) continue;
    std::string where = lo.numel() > 1 ? fmt::format(" at flat index {}", i) : "";
    throw ParameterError(fmt::format("{}: {} must be less than {}; got {} = {} and {} = {}{}", dist, low_name,
                                     high_name, low_name, lo[i], high_name, hi[i], where));
  }
  ad::Tape& tape = *low.tape();
  if (tape.guards_wanted() &&
      (tape.node(low).kind != ad::NodeKind::Constant || tape.node(high).kind != ad::NodeKind::Constant))
    tape.add_guard([l = low.index(), h = high.index(), s](const ad::Tape& t) {
      const ad::Tensor a = constraints::broadcast_values(t.value(l), s);
      const ad::Tensor b = constraints::broadcast_values(t.value(h), s);
      for (std::int64_t i = 0; i < a.numel(); ++i)
        if (!(a[i] < b[i])) return false;
      return true;
    });
}

void check_vector(std::string_view dist, std::string_view param, ad::Var v) {
  if (v.rank() < 1 || v.shape()[v.rank() - 1] < 1)
    throw ParameterError(fmt::format("{}: {} must be a non-empty vector; got shape {}", dist, param,
                                     ad::to_string(v.shape())));
}

void check_square(std::string_view dist, std::string_view param, ad::Var v, std::int64_t d) {
  if (v.rank() != 2 || v.shape()[0] != d || v.shape()[1] != d)
    throw ParameterError(fmt::format("{}: {} must be a {}x{} matrix (one matrix, matching loc); got shape {}",
                                     dist, param, d, d, ad::to_string(v.shape())));
}

void check_lower_cholesky(std::string_view dist, std::string_view param, ad::Var v) {
  const ad::Tensor t = v.value();
  const std::int64_t d = t.shape()[t.rank() - 1];
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const std::int64_t r = (i / d) % d, c = i % d;
    if (c > r && t[i] != 0.0)
      throw ParameterError(fmt::format("{}: {} must be lower triangular; got {} at ({}, {})", dist, param, t[i], r, c));
    if (c == r && !(t[i] > 0.0))
      throw ParameterError(fmt::format("{}: {} must have a positive diagonal; got {} at ({}, {})", dist, param,
                                       t[i], r, c));
  }
}

void check_one_of(std::string_view dist, std::string_view a, bool has_a, std::string_view b, bool has_b) {
  if (has_a == has_b)
    throw ParameterError(fmt::format("{}: give exactly one of {} and {}; got {}", dist, a, b,
                                     has_a ? "both" : "neither"));
}

}  // namespace vireo::dist
