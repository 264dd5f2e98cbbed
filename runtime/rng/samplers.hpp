// samplers.hpp — sampling algorithms of our own on top of Generator.
// Never the std:: distributions: their output differs between standard
// libraries. Continuous samplers: continuous.cpp; discrete ones: discrete.cpp.
// Parameters are assumed valid (stdlib/dist checks them and names the error).
#pragma once

#include <cstdint>
#include <span>

#include "runtime/rng/generator.hpp"

namespace vireo::rng {

// ---- continuous ----
double standard_normal(Generator& g);                    // Box–Muller, one of the pair
// n standard normal draws into out. Up to par::kChunk of them come from g in
// order; more are drawn in chunks of par::kChunk, chunk c from
// Generator::keyed(k, c) with k one word of g, so that the chunks may be
// drawn on several threads and give the same numbers on any number.
void fill_standard_normal(Generator& g, double* out, std::int64_t n);
double standard_exponential(Generator& g);               // −log(1 − U)
double standard_cauchy(Generator& g);                    // tan(π(U − 1/2))
double standard_laplace(Generator& g);                   // inverse CDF
double student_t(Generator& g, double df);               // Z / sqrt(χ²_df / df)
// Gamma(shape, rate 1); shape > 0. Marsaglia & Tsang (2000) for shape ≥ 1,
// boosted for shape < 1: G(a) = G(a + 1) · U^(1/a) — computed in log space
// by log_standard_gamma so that tiny shapes do not underflow to 0 in Beta and
// Dirichlet.
double standard_gamma(Generator& g, double shape);
double log_standard_gamma(Generator& g, double shape);
// Beta(a, b) as Ga / (Ga + Gb), formed from log-gammas (stable for small a, b).
double beta(Generator& g, double a, double b);
// Dirichlet(alpha) into out (same size), normalised in log space.
void dirichlet(Generator& g, std::span<const double> alpha, std::span<double> out);

// ---- discrete ----
bool bernoulli(Generator& g, double probs);
// Poisson(rate): multiplication/inversion for rate < 10, PTRS (Hörmann 1993,
// "The transformed rejection method for generating Poisson random variables")
// above.
std::int64_t poisson(Generator& g, double rate);
// Binomial(n, p): inversion when n·min(p, 1−p) < 10, BTRS (Hörmann 1993, "The
// generation of binomial random variates") above.
std::int64_t binomial(Generator& g, std::int64_t n, double p);
// Index in [0, weights.size()) with probability weights[i] / Σ weights
// (weights ≥ 0, not necessarily normalised; at least one positive).
std::int64_t categorical(Generator& g, std::span<const double> weights);
// Failures before the first success (PyTorch's Geometric), p in (0, 1].
std::int64_t geometric(Generator& g, double p);
// PyTorch's NegativeBinomial(total_count, probs): successes (probability
// probs) before total_count failures, as Poisson(Gamma(total_count, (1−p)/p)).
std::int64_t negative_binomial(Generator& g, double total_count, double probs);

}  // namespace vireo::rng
