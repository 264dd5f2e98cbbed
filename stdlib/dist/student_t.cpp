// student_t.cpp — StudentT(df, loc, scale).
//   log p(x) = lgamma((df+1)/2) − lgamma(df/2) − ½ log(df π) − log scale
//              − (df+1)/2 · log(1 + ((x − loc)/scale)²/df)
// rsample as PyTorch: loc + scale · Z / sqrt(χ²/df) with χ² = 2·Gamma(df/2, 1)
// drawn with implicit reparameterisation, so df gets a pathwise gradient too.
#include <limits>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"
#include "stdlib/dist/ops.hpp"

namespace vireo::dist {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
using detail::inf;

class StudentT final : public Distribution {
 public:
  StudentT(Var df, Var loc, Var scale)
      : Distribution(detail::tape_of("StudentT", {df, loc, scale}), detail::broadcast_all({df, loc, scale})),
        df_(df), loc_(loc), scale_(scale) {
    check_positive("StudentT", "df", df);
    check_finite("StudentT", "loc", loc);
    check_positive("StudentT", "scale", scale);
  }
  std::string_view name() const override { return "StudentT"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::real();
    return c;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor df = detail::values_as(df_, s), loc = detail::values_as(loc_, s), scale = detail::values_as(scale_, s);
    return detail::fill_with(s, [&](auto i) { return loc[i] + scale[i] * rng::student_t(g, df[i]); });
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor eps = detail::fill_with(s, [&](auto) { return rng::standard_normal(g); });
    const Var chi2 = 2.0 * standard_gamma_rsample(0.5 * df_, s, g);
    return loc_ + scale_ * tape().constant(eps) / ad::sqrt(chi2 / df_);
  }
  // loc where df > 1, else undefined (NaN), as PyTorch.
  Var mean() const override { return ad::where(ad::broadcast_to(df_, batch_shape()) > 1.0, ad::broadcast_to(loc_, batch_shape()), nan); }
  // scale² df/(df − 2) where df > 2; ∞ for 1 < df ≤ 2; NaN for df ≤ 1.
  Var variance() const override {
    const Var df = ad::broadcast_to(df_, batch_shape());
    const Var finite = ad::square(scale_) * df / (df - 2.0);
    return ad::where(df > 2.0, finite, ad::where(df > 1.0, df * 0.0 + inf, nan));
  }
  Var entropy() const override {
    const Var half = 0.5 * df_, half1 = 0.5 * (df_ + 1.0);
    const Var lbeta = ad::lgamma(half) + 0.5 * detail::log_pi - ad::lgamma(half1);
    return ad::broadcast_to(ad::log(scale_) + half1 * (ad::digamma(half1) - ad::digamma(half)) +
                                0.5 * ad::log(df_) + lbeta,
                            batch_shape());
  }
  Var param(std::string_view n) const override {
    if (n == "df") return df_;
    if (n == "loc") return loc_;
    if (n == "scale") return scale_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    const Var z = (x - loc_) / scale_;
    const Var half1 = 0.5 * (df_ + 1.0);
    return ad::lgamma(half1) - ad::lgamma(0.5 * df_) - 0.5 * (ad::log(df_) + detail::log_pi) - ad::log(scale_) -
           half1 * ad::log1p(ad::square(z) / df_);
  }

 private:
  Var df_, loc_, scale_;
};

}  // namespace

DistributionPtr student_t(Var df, Var loc, Var scale) { return std::make_shared<StudentT>(df, loc, scale); }

Family student_t_family() {
  return {"StudentT", {"df", "loc", "scale"}, [](Tape&, const Params& p) {
            detail::only_params("StudentT", p, {"df", "loc", "scale"});
            return student_t(detail::required_param("StudentT", p, "df"), detail::required_param("StudentT", p, "loc"),
                             detail::required_param("StudentT", p, "scale"));
          }};
}

}  // namespace vireo::dist
