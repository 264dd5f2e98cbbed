// multivariate_normal.cpp — MultivariateNormal(loc, covariance_matrix | scale_tril).
// loc is [..., D] (leading axes are batch); the matrix is one D×D matrix
// shared by the batch. With L = scale_tril (or the Cholesky factor of the
// symmetrised covariance) and z = L⁻¹(x − loc):
//   log p(x) = −½ ‖z‖² − Σ log L_ii − (D/2) log 2π
#include <optional>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"
#include "stdlib/dist/ops.hpp"

namespace vireo::dist {
namespace {

using detail::without_last;

Var factor(Var loc, const std::optional<Var>& covariance, const std::optional<Var>& scale_tril) {
  check_vector("MultivariateNormal", "loc", loc);
  check_finite("MultivariateNormal", "loc", loc);
  const std::int64_t d = loc.shape()[loc.rank() - 1];
  if (scale_tril) {
    check_square("MultivariateNormal", "scale_tril", *scale_tril, d);
    check_lower_cholesky("MultivariateNormal", "scale_tril", *scale_tril);
    return *scale_tril;
  }
  const Var c = *covariance;
  check_square("MultivariateNormal", "covariance_matrix", c, d);
  check_finite("MultivariateNormal", "covariance_matrix", c);
  const Tensor cv = c.value();
  for (std::int64_t r = 0; r < d; ++r)
    for (std::int64_t k = 0; k < r; ++k)
      if (std::abs(cv[r * d + k] - cv[k * d + r]) > 1e-10 * std::max(1.0, std::abs(cv[r * d + k])))
        throw ParameterError("MultivariateNormal: covariance_matrix must be symmetric; got " +
                             std::to_string(cv[r * d + k]) + " at (" + std::to_string(r) + ", " + std::to_string(k) +
                             ") and " + std::to_string(cv[k * d + r]) + " at (" + std::to_string(k) + ", " +
                             std::to_string(r) + ")");
  try {
    return cholesky(0.5 * (c + ad::transpose(c)));
  } catch (const std::domain_error&) {
    throw ParameterError("MultivariateNormal: covariance_matrix must be positive definite; its Cholesky "
                         "factorisation failed");
  }
}

class MultivariateNormal final : public Distribution {
 public:
  MultivariateNormal(Var loc, std::optional<Var> covariance, std::optional<Var> scale_tril)
      : Distribution(detail::tape_of("MultivariateNormal", {loc, covariance ? *covariance : *scale_tril}),
                     without_last(loc.shape()), Shape{loc.shape()[loc.rank() - 1]}),
        loc_(loc), covariance_(covariance), scale_tril_(factor(loc, covariance, scale_tril)) {}
  std::string_view name() const override { return "MultivariateNormal"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::real_vector();
    return c;
  }
  bool has_rsample() const override { return true; }
  std::int64_t dim() const { return event_shape()[0]; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    return ad::detach(rsample(g, sample_shape)).value();
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Tensor eps = detail::fill_with(extended_shape(sample_shape), [&](auto) { return rng::standard_normal(g); });
    return loc_ + ad::matmul(tape().constant(eps), ad::transpose(scale_tril_));
  }
  Var mean() const override { return loc_; }
  // diag(L Lᵀ)_i = Σ_j L_ij².
  Var variance() const override {
    return ad::broadcast_to(ad::sum(ad::square(scale_tril_), -1), extended_shape({}));
  }
  Var entropy() const override {
    const double h0 = 0.5 * static_cast<double>(dim()) * (1.0 + detail::log_2pi);
    return ad::broadcast_to(h0 + ad::sum(ad::log(diagonal(scale_tril_))), batch_shape());
  }
  Var param(std::string_view n) const override {
    if (n == "loc") return loc_;
    if (n == "scale_tril") return scale_tril_;
    if (n == "covariance_matrix") return covariance_ ? *covariance_ : ad::matmul(scale_tril_, ad::transpose(scale_tril_));
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    const Var z = solve_lower(scale_tril_, x - loc_);
    return -0.5 * ad::sum(ad::square(z), -1) - ad::sum(ad::log(diagonal(scale_tril_))) -
           0.5 * static_cast<double>(dim()) * detail::log_2pi;
  }

 private:
  Var loc_;
  std::optional<Var> covariance_;
  Var scale_tril_;
};

}  // namespace

DistributionPtr multivariate_normal(Var loc, std::optional<Var> covariance_matrix, std::optional<Var> scale_tril) {
  check_one_of("MultivariateNormal", "covariance_matrix", covariance_matrix.has_value(), "scale_tril",
               scale_tril.has_value());
  return std::make_shared<MultivariateNormal>(loc, covariance_matrix, scale_tril);
}

Family multivariate_normal_family() {
  return {"MultivariateNormal", {"loc", "covariance_matrix", "scale_tril"}, [](Tape&, const Params& p) {
            detail::only_params("MultivariateNormal", p, {"loc", "covariance_matrix", "scale_tril"});
            return multivariate_normal(detail::required_param("MultivariateNormal", p, "loc"),
                                       detail::optional_param(p, "covariance_matrix"),
                                       detail::optional_param(p, "scale_tril"));
          }};
}

}  // namespace vireo::dist
