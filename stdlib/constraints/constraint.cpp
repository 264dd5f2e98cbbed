// constraint.cpp — constraint names and membership checks.
#include "stdlib/constraints/constraint.hpp"

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

bool Constraint::all_inside(const double* x, const ad::Shape& shape) const {
  const std::int64_t n = shape.numel();
  // Bounds of one element, or of the value's own shape, index like the value.
  auto bound = [&](const ad::Tensor& b, std::int64_t i) { return b.numel() == 1 ? b[0] : b[i]; };
  const bool lo_ok = lower.numel() == 1 || lower.shape() == shape;
  const bool hi_ok = upper.numel() == 1 || upper.shape() == shape;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    bool in = true;
    switch (kind) {
      case Kind::real:
      case Kind::real_vector: in = !std::isnan(v); break;
      case Kind::positive: in = v > 0; break;
      case Kind::nonnegative: in = v >= 0; break;
      case Kind::greater_than: in = lo_ok && v > bound(lower, i); break;
      case Kind::less_than: in = hi_ok && v < bound(upper, i); break;
      case Kind::interval: in = lo_ok && hi_ok && v >= bound(lower, i) && v <= bound(upper, i); break;
      case Kind::unit_interval: in = v >= 0 && v <= 1; break;
      case Kind::boolean: in = v == 0 || v == 1; break;
      case Kind::nonnegative_integer: in = v >= 0 && is_integer(v); break;
      case Kind::integer_interval:
        in = lo_ok && hi_ok && is_integer(v) && v >= bound(lower, i) && v <= bound(upper, i);
        break;
      case Kind::simplex:
      case Kind::lower_cholesky:
      case Kind::positive_definite: return false;
    }
    if (!in) return false;
  }
  return true;
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
      case Kind::real:
      case Kind::real_vector: in = !std::isnan(v); break;
      case Kind::positive: in = v > 0; break;
      case Kind::nonnegative: in = v >= 0; break;
      case Kind::greater_than: in = v > lo[i]; break;
      case Kind::less_than: in = v < hi[i]; break;
      case Kind::interval: in = v >= lo[i] && v <= hi[i]; break;
      case Kind::unit_interval: in = v >= 0 && v <= 1; break;
      case Kind::boolean: in = v == 0 || v == 1; break;
      case Kind::nonnegative_integer: in = v >= 0 && is_integer(v); break;
      case Kind::integer_interval: in = is_integer(v) && v >= lo[i] && v <= hi[i]; break;
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
