// constraint.cpp — constraint names and membership checks.
#include "stdlib/constraints/constraint.hpp"
#include "runtime/par/parallel.hpp"

#include <cmath>
#include <sstream>

#include "stdlib/constraints/broadcast_values.hpp"

namespace vireo::constraints {
namespace {

std::string show(const ad::Tensor& t) {
  std::ostringstream s;
  if (t.numel() == 1) {
    s << t[0];
    return s.str();
  }
  s << "tensor" << ad::to_string(t.shape());
  return s.str();
}

Constraint make(Kind kind, ad::Tensor lower = 0.0, ad::Tensor upper = 0.0) {
  Constraint c;
  c.kind = kind;
  c.lower = std::move(lower);
  c.upper = std::move(upper);
  return c;
}

bool is_integer(double x) { return std::isfinite(x) && std::floor(x) == x; }

// Reduces per-element membership over the last `event_dim` axes (all must hold).
ad::Tensor reduce_events(const ad::Tensor& ok, int event_dim) {
  if (event_dim == 0) return ok;
  ad::Shape batch;
  std::int64_t event = 1;
  for (int d = 0; d < ok.rank(); ++d) {
    if (d < ok.rank() - event_dim) batch.push_back(ok.shape()[d]);
    else event *= ok.shape()[d];
  }
  ad::Tensor out(batch, 1.0);
  for (std::int64_t i = 0; i < ok.numel(); ++i)
    if (ok[i] == 0.0) out[i / event] = 0.0;
  return out;
}

}  // namespace

Constraint real() { return make(Kind::real); }
Constraint real_vector() { return make(Kind::real_vector); }
Constraint positive() { return make(Kind::positive); }
Constraint nonnegative() { return make(Kind::nonnegative); }
Constraint greater_than(ad::Tensor lower) { return make(Kind::greater_than, std::move(lower)); }
Constraint less_than(ad::Tensor upper) { return make(Kind::less_than, 0.0, std::move(upper)); }
Constraint interval(ad::Tensor lower, ad::Tensor upper) {
  return make(Kind::interval, std::move(lower), std::move(upper));
}
Constraint unit_interval() { return make(Kind::unit_interval, 0.0, 1.0); }
Constraint simplex() { return make(Kind::simplex); }
Constraint lower_cholesky() { return make(Kind::lower_cholesky); }
Constraint positive_definite() { return make(Kind::positive_definite); }
Constraint boolean() { return make(Kind::boolean, 0.0, 1.0); }
Constraint nonnegative_integer() { return make(Kind::nonnegative_integer); }
Constraint integer_interval(ad::Tensor lower, ad::Tensor upper) {
  return make(Kind::integer_interval, std::move(lower), std::move(upper));
}

std::string Constraint::name() const {
  switch (kind) {
    case Kind::real: return "real";
    case Kind::real_vector: return "real_vector";
    case Kind::positive: return "positive";
    case Kind::nonnegative: return "nonnegative";
    case Kind::greater_than: return "greater_than(" + show(lower) + ")";
    case Kind::less_than: return "less_than(" + show(upper) + ")";
    case Kind::interval: return "interval(" + show(lower) + ", " + show(upper) + ")";
    case Kind::unit_interval: return "unit_interval";
    case Kind::simplex: return "simplex";
    case Kind::lower_cholesky: return "lower_cholesky";
    case Kind::positive_definite: return "positive_definite";
    case Kind::boolean: return "boolean";
    case Kind::nonnegative_integer: return "nonnegative_integer";
    case Kind::integer_interval: return "integer_interval(" + show(lower) + ", " + show(upper) + ")";
  }
  return "?";
}

bool Constraint::is_discrete() const {
  return kind == Kind::boolean || kind == Kind::nonnegative_integer || kind == Kind::integer_interval;
}

int Constraint::event_dim() const {
  switch (kind) {
    case Kind::real_vector:
    case Kind::simplex: return 1;
    case Kind::lower_cholesky:
    case Kind::positive_definite: return 2;
    default: return 0;
  }
}

namespace {

// Whether v lies in an elementwise support with bounds lo, hi (ignored where
// the kind has none). The event kinds (simplex, Cholesky factors, definite
// matrices) are not elementwise: false.
inline bool element_inside(Kind kind, double v, double lo, double hi) {
  switch (kind) {
    case Kind::real:
    case Kind::real_vector: return !std::isnan(v);
    case Kind::positive: return v > 0;
    case Kind::nonnegative: return v >= 0;
    case Kind::greater_than: return v > lo;
    case Kind::less_than: return v < hi;
    case Kind::interval: return v >= lo && v <= hi;
    case Kind::unit_interval: return v >= 0 && v <= 1;
    case Kind::boolean: return is_boolean(v);
    case Kind::nonnegative_integer: return v >= 0 && is_integer(v);
    case Kind::integer_interval: return is_integer(v) && v >= lo && v <= hi;
    case Kind::simplex:
    case Kind::lower_cholesky:
    case Kind::positive_definite: return false;
  }
  return false;
}

// Whether every element of x lies in the support of kind K: in chunks, which
// may run on threads (a plate's observed values, checked every step). The
// kind is a template argument, so that element_inside's switch leaves the
// loop, and the elements outside are counted in an integer
// (stdlib/dist/checks.cpp says why); the loop then vectorises.
template <Kind K>
bool all_inside_of(const double* x, std::int64_t n, const ad::Tensor& lower, const ad::Tensor& upper, bool lo_one,
                   bool hi_one) {
  return par::sum_chunks(n, [&](std::int64_t b, std::int64_t e) {
           std::int64_t outside = 0;
           for (std::int64_t i = b; i < e; ++i)
             outside += !element_inside(K, x[i], lo_one ? lower[0] : lower[i], hi_one ? upper[0] : upper[i]);
           return static_cast<double>(outside);
         }) == 0;
}

}  // namespace

bool Constraint::all_inside(const double* x, const ad::Shape& shape) const {
  if (kind == Kind::simplex || kind == Kind::lower_cholesky || kind == Kind::positive_definite) return false;
  // Bounds of one element, or of the value's own shape, index like the value;
  // bounds that broadcast otherwise are left to check().
  if (!(lower.numel() == 1 || lower.shape() == shape) || !(upper.numel() == 1 || upper.shape() == shape)) return false;
  const std::int64_t n = shape.numel();
  const bool lo_one = lower.numel() == 1, hi_one = upper.numel() == 1;
  switch (kind) {
    case Kind::real: return all_inside_of<Kind::real>(x, n, lower, upper, lo_one, hi_one);
    case Kind::real_vector: return all_inside_of<Kind::real_vector>(x, n, lower, upper, lo_one, hi_one);
    case Kind::positive: return all_inside_of<Kind::positive>(x, n, lower, upper, lo_one, hi_one);
    case Kind::nonnegative: return all_inside_of<Kind::nonnegative>(x, n, lower, upper, lo_one, hi_one);
    case Kind::greater_than: return all_inside_of<Kind::greater_than>(x, n, lower, upper, lo_one, hi_one);
    case Kind::less_than: return all_inside_of<Kind::less_than>(x, n, lower, upper, lo_one, hi_one);
    case Kind::interval: return all_inside_of<Kind::interval>(x, n, lower, upper, lo_one, hi_one);
    case Kind::unit_interval: return all_inside_of<Kind::unit_interval>(x, n, lower, upper, lo_one, hi_one);
    case Kind::boolean: return all_inside_of<Kind::boolean>(x, n, lower, upper, lo_one, hi_one);
    case Kind::nonnegative_integer: return all_inside_of<Kind::nonnegative_integer>(x, n, lower, upper, lo_one, hi_one);
    case Kind::integer_interval: return all_inside_of<Kind::integer_interval>(x, n, lower, upper, lo_one, hi_one);
    default: return false;
  }
}

ad::Tensor Constraint::check(const ad::Tensor& value) const {
  ad::Shape shape = value.shape();
  if (kind == Kind::greater_than || kind == Kind::interval || kind == Kind::integer_interval)
    shape = ad::broadcast_shapes(shape, lower.shape());
  if (kind == Kind::less_than || kind == Kind::interval || kind == Kind::integer_interval)
    shape = ad::broadcast_shapes(shape, upper.shape());
  const ad::Tensor x = broadcast_values(value, shape);
  const ad::Tensor lo = broadcast_values(lower, shape), hi = broadcast_values(upper, shape);
  ad::Tensor ok(shape, 1.0);
  const int r = shape.rank();
  const std::int64_t last = r >= 1 ? shape[r - 1] : 1;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const double v = x[i];
    bool in = true;
    switch (kind) {
      default: in = element_inside(kind, v, lo[i], hi[i]); break;
      case Kind::simplex: {
        in = v >= 0;
        if (i % last == 0) {  // whole event: the sum
          double s = 0;
          for (std::int64_t j = 0; j < last; ++j) s += x[i + j];
          in = in && std::abs(s - 1.0) <= 1e-6;
        }
        break;
      }
      case Kind::lower_cholesky:
      case Kind::positive_definite: {
        const std::int64_t row = (i / last) % shape[r - 2], col = i % last;
        if (kind == Kind::lower_cholesky) {
          in = col > row ? v == 0 : (col == row ? v > 0 : std::isfinite(v));
        } else {
          const std::int64_t mirror = i - col * 1 + row - row * last + col * last;  // (col, row)
          in = std::abs(v - x[mirror]) <= 1e-8 * std::max(1.0, std::abs(v)) && (col != row || v > 0);
        }
        break;
      }
    }
    if (!in) ok[i] = 0.0;
  }
  return reduce_events(ok, event_dim());
}

}  // namespace vireo::constraints
