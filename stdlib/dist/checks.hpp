// checks.hpp — parameter checks in Stan's check_positive(function, name,
// value) style: the message names the distribution, the parameter, what was
// expected and the offending value (and its index when the parameter is an
// array), e.g. "Normal: scale must be positive; got -1".
#pragma once

#include <stdexcept>
#include <string_view>

#include "runtime/ad/ad.hpp"

namespace vireo::dist {

class ParameterError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

void check_finite(std::string_view dist, std::string_view param, ad::Var v);
void check_positive(std::string_view dist, std::string_view param, ad::Var v);
void check_nonnegative(std::string_view dist, std::string_view param, ad::Var v);
void check_probability(std::string_view dist, std::string_view param, ad::Var v);  // in [0, 1]
void check_nonnegative_integer(std::string_view dist, std::string_view param, ad::Var v);
// low < high elementwise (broadcasting).
void check_less(std::string_view dist, std::string_view low_name, ad::Var low, std::string_view high_name,
                ad::Var high);
// At least one axis, a last axis of length ≥ 1 ("a vector").
void check_vector(std::string_view dist, std::string_view param, ad::Var v);
// A square D×D matrix (rank 2) matching a length-D location.
void check_square(std::string_view dist, std::string_view param, ad::Var v, std::int64_t d);
// Lower triangular with a positive diagonal.
void check_lower_cholesky(std::string_view dist, std::string_view param, ad::Var v);
// Exactly one of two alternative parameters given (probs | logits).
void check_one_of(std::string_view dist, std::string_view a, bool has_a, std::string_view b, bool has_b);

}  // namespace vireo::dist
