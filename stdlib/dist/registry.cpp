// registry.cpp — the one table of distribution families.
#include "stdlib/dist/registry.hpp"

#include "stdlib/dist/families.hpp"

namespace vireo::dist {

const std::vector<Family>& families() {
  static const std::vector<Family> table = {
      normal_family(),
      half_normal_family(),
      log_normal_family(),
      cauchy_family(),
      half_cauchy_family(),
      student_t_family(),
      laplace_family(),
      exponential_family(),
      gamma_family(),
      inverse_gamma_family(),
      beta_family(),
      uniform_family(),
      bernoulli_family(),
      binomial_family(),
      categorical_family(),
      poisson_family(),
      geometric_family(),
      negative_binomial_family(),
      multivariate_normal_family(),
      dirichlet_family(),
  };
  return table;
}

namespace discrete_guide {
namespace {
constexpr double eps = 1e-3;
}
Tensor logit_of_probs(const Distribution& prior) { return ad::logit(ad::clamp(prior.param("probs"), eps, 1 - eps)).value(); }
Tensor log_of_probs(const Distribution& prior) { return ad::log(ad::clamp(prior.param("probs"), eps, 1 - eps)).value(); }
Tensor log_of_rate(const Distribution& prior) { return ad::log(ad::clamp(prior.param("rate"), eps, 1e300)).value(); }
}  // namespace discrete_guide

const Family* find_family(std::string_view name) {
  for (const Family& f : families())
    if (f.name == name) return &f;
  return nullptr;
}

DistributionPtr make_distribution(std::string_view name, Tape& tape, const Params& params) {
  const Family* f = find_family(name);
  if (!f) throw std::invalid_argument("unknown distribution '" + std::string(name) + "'");
  return f->make(tape, params);
}

}  // namespace vireo::dist
