// family_util.hpp — small helpers shared by the family files (internal).
#pragma once

#include <cmath>
#include <initializer_list>
#include <numbers>
#include <optional>
#include <string_view>

#include "stdlib/constraints/broadcast_values.hpp"
#include "stdlib/dist/checks.hpp"
#include "stdlib/dist/distribution.hpp"
#include "stdlib/dist/registry.hpp"
#include "stdlib/math/stable.hpp"

namespace vireo::dist::detail {

inline constexpr double log_2pi = 1.8378770664093453;   // log(2π)
inline constexpr double log_pi = 1.1447298858494002;    // log(π)
inline constexpr double log_2 = 0.6931471805599453;
using math::inf;

// A shape without its last dimension: the batch shape of a family whose last
// dimension is its event (Categorical's probabilities, a Dirichlet, an MVN).
inline Shape without_last(const Shape& s) {
  Shape out;
  for (int i = 0; i + 1 < s.rank(); ++i) out.push_back(s[i]);
  return out;
}

// Broadcast of the parameters' shapes: the batch shape of an elementwise family.
inline Shape broadcast_all(std::initializer_list<Var> vs) {
  Shape s;
  for (Var v : vs) s = ad::broadcast_shapes(s, v.shape());
  return s;
}

// A parameter's values broadcast to `shape` (for samplers; no gradient).
inline Tensor values_as(Var v, const Shape& shape) { return constraints::broadcast_values(v.value(), shape); }

// A tensor of `shape` filled by f(i).
template <class F>
Tensor fill_with(const Shape& shape, F f) {
  Tensor t(shape);
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = f(i);
  return t;
}

// Named-parameter access for registry rows.
inline std::optional<Var> optional_param(const Params& p, std::string_view name) {
  auto it = p.find(name);
  if (it == p.end()) return std::nullopt;
  return it->second;
}
inline Var required_param(std::string_view dist, const Params& p, std::string_view name) {
  auto it = p.find(name);
  if (it == p.end())
    throw ParameterError(std::string(dist) + ": missing parameter '" + std::string(name) + "'");
  return it->second;
}
// Rejects names the family does not take.
inline void only_params(std::string_view dist, const Params& p, std::initializer_list<std::string_view> names) {
  for (const auto& [key, value] : p) {
    bool known = false;
    for (auto n : names) known = known || n == key;
    if (!known) {
      std::string list;
      for (auto n : names) list += (list.empty() ? "" : ", ") + std::string(n);
      throw ParameterError(std::string(dist) + ": unknown parameter '" + key + "' (expected " + list + ")");
    }
  }
}

// The tape all parameters live on (they must share one).
inline Tape& tape_of(std::string_view dist, std::initializer_list<Var> vs) {
  Tape* t = nullptr;
  for (Var v : vs) {
    if (!v.valid()) throw ParameterError(std::string(dist) + ": parameter is not a value on a tape");
    if (t && v.tape() != t) throw ParameterError(std::string(dist) + ": parameters live on different tapes");
    t = v.tape();
  }
  return *t;
}

}  // namespace vireo::dist::detail

namespace vireo::dist::detail {

// A constant tensor of the integers 0..k_max laid out along a new leading
// axis, shaped [k_max + 1, 1, …, 1] (`batch_rank` ones) so that it broadcasts
// against a batch of parameters.
inline Var support_points(Tape& tape, std::int64_t k_max, int batch_rank) {
  Shape s{k_max + 1};
  for (int i = 0; i < batch_rank; ++i) s.push_back(1);
  return tape.constant(fill_with(s, [](auto i) { return static_cast<double>(i); }));
}

// −Σ_k p_k log p_k over the points k of `support_points` (axis 0), given
// log p_k there. Terms with p_k = 0 count 0.
inline Var entropy_from_log_probs(Var log_p) {
  const Var bounded = ad::clamp(log_p, -1.79e308, 0.0);  // −∞ · 0 would be NaN
  return -ad::sum(ad::exp(log_p) * bounded, 0);
}

// Largest element of a parameter's value.
inline double max_value(Var v) {
  const Tensor t = v.value();
  double m = t[0];
  for (std::int64_t i = 1; i < t.numel(); ++i) m = std::max(m, t[i]);
  return m;
}

// Integer view of a discrete value (indices for gathering).
inline ad::IntTensor to_indices(const Tensor& t) {
  ad::IntTensor out(t.shape());
  for (std::int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<std::int64_t>(t[i]);
  return out;
}

}  // namespace vireo::dist::detail
