// families.hpp — typed factories and registry rows of every family, one
// family per file (normal.cpp, bernoulli.cpp, …). Parameters are Vars of one
// tape and are checked on construction (checks.hpp).
#pragma once

#include <optional>

#include "stdlib/dist/distribution.hpp"
#include "stdlib/dist/registry.hpp"

namespace vireo::dist {

DistributionPtr normal(Var loc, Var scale);
DistributionPtr half_normal(Var scale);
DistributionPtr log_normal(Var loc, Var scale);
DistributionPtr cauchy(Var loc, Var scale);
DistributionPtr half_cauchy(Var scale);
DistributionPtr student_t(Var df, Var loc, Var scale);
DistributionPtr laplace(Var loc, Var scale);
DistributionPtr exponential(Var rate);
DistributionPtr gamma(Var concentration, Var rate);
DistributionPtr inverse_gamma(Var concentration, Var rate);
DistributionPtr beta(Var concentration1, Var concentration0);
DistributionPtr uniform(Var low, Var high);
// Exactly one of probs and logits.
DistributionPtr bernoulli(std::optional<Var> probs, std::optional<Var> logits);
DistributionPtr binomial(Var total_count, std::optional<Var> probs, std::optional<Var> logits);
DistributionPtr categorical(std::optional<Var> probs, std::optional<Var> logits);
DistributionPtr poisson(Var rate);
DistributionPtr geometric(Var probs);
DistributionPtr negative_binomial(Var total_count, Var probs);
// Exactly one of covariance_matrix and scale_tril (one D×D matrix; loc may be batched).
DistributionPtr multivariate_normal(Var loc, std::optional<Var> covariance_matrix, std::optional<Var> scale_tril);
DistributionPtr dirichlet(Var concentration);
// `factor name = e`: log_prob(anything) = log_factor (Pyro's Unit); not in the registry.
DistributionPtr factor_term(Var log_factor);

Family normal_family();
Family half_normal_family();
Family log_normal_family();
Family cauchy_family();
Family half_cauchy_family();
Family student_t_family();
Family laplace_family();
Family exponential_family();
Family gamma_family();
Family inverse_gamma_family();
Family beta_family();
Family uniform_family();
Family bernoulli_family();
Family binomial_family();
Family categorical_family();
Family poisson_family();
Family geometric_family();
Family negative_binomial_family();
Family multivariate_normal_family();
Family dirichlet_family();

}  // namespace vireo::dist
