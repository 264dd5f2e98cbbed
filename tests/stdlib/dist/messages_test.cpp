// messages_test.cpp — invalid parameters raise ParameterError naming the
// distribution, the parameter and the value (Stan's check_positive style).
#include <boost/test/unit_test.hpp>

#include "dist_test_util.hpp"
#include "stdlib/dist/checks.hpp"

using namespace vireo;
using namespace vireo::dist;
using namespace vireo::dist::testing;

namespace {

struct BadCase {
  std::string dist;
  NamedTensors params;
  std::string message;  // the exact message
};

const std::vector<BadCase> cases = {
    {"Normal", {{"loc", 0.0}, {"scale", -1.0}}, "Normal: scale must be positive; got -1"},
    {"Normal", {{"loc", 0.0}, {"scale", vec({1.0, 0.0})}}, "Normal: scale must be positive; got 0 at flat index 1"},
    {"HalfCauchy", {{"scale", 0.0}}, "HalfCauchy: scale must be positive; got 0"},
    {"Gamma", {{"concentration", -0.5}, {"rate", 1.0}}, "Gamma: concentration must be positive; got -0.5"},
    {"Beta", {{"concentration1", 1.0}, {"concentration0", 0.0}}, "Beta: concentration0 must be positive; got 0"},
    {"Bernoulli", {{"probs", 1.5}}, "Bernoulli: probs must be in [0, 1]; got 1.5"},
    {"Bernoulli", {{"probs", 0.5}, {"logits", 0.0}}, "Bernoulli: give exactly one of probs and logits; got both"},
    {"Binomial", {{"total_count", 2.5}, {"probs", 0.5}}, "Binomial: total_count must be a non-negative integer; got 2.5"},
    {"Categorical", {{"probs", vec({0.5, -0.1})}}, "Categorical: probs must be non-negative; got -0.1 at flat index 1"},
    {"Poisson", {{"rate", -2.0}}, "Poisson: rate must be non-negative; got -2"},
    {"Geometric", {{"probs", 0.0}}, "Geometric: probs must be in (0, 1]; got 0"},
    {"NegativeBinomial", {{"total_count", 3.0}, {"probs", 1.0}}, "NegativeBinomial: probs must be in [0, 1); got 1"},
    {"Uniform", {{"low", 2.0}, {"high", 1.0}}, "Uniform: low must be less than high; got low = 2 and high = 1"},
    {"StudentT", {{"df", 0.0}, {"loc", 0.0}, {"scale", 1.0}}, "StudentT: df must be positive; got 0"},
    {"Dirichlet", {{"concentration", vec({1.0, 0.0})}}, "Dirichlet: concentration must be positive; got 0 at flat index 1"},
    {"MultivariateNormal", {{"loc", vec({0.0, 0.0})}, {"covariance_matrix", mat({{1.0, 2.0}, {2.0, 1.0}})}},
     "MultivariateNormal: covariance_matrix must be positive definite; its Cholesky factorisation failed"},
    {"MultivariateNormal", {{"loc", vec({0.0, 0.0})}, {"scale_tril", mat({{1.0, 0.0}, {0.5, -1.0}})}},
     "MultivariateNormal: scale_tril must have a positive diagonal; got -1 at (1, 1)"},
    {"Normal", {{"loc", 0.0}}, "Normal: missing parameter 'scale'"},
    {"Normal", {{"loc", 0.0}, {"scale", 1.0}, {"sigma", 1.0}}, "Normal: unknown parameter 'sigma' (expected loc, scale)"},
};

}  // namespace

BOOST_AUTO_TEST_CASE(invalid_parameters_are_named) {
  for (const BadCase& c : cases) {
    BOOST_TEST_CONTEXT(c.message) {
      ad::Tape tape;
      std::string got = "(no exception)";
      try {
        make_with_leaves(c.dist, tape, c.params);
      } catch (const ParameterError& e) {
        got = e.what();
      }
      BOOST_TEST(got == c.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_family_and_undefined_quantities) {
  ad::Tape tape;
  BOOST_CHECK_THROW(make_distribution("Normall", tape, {}), std::invalid_argument);
  try {
    cauchy(tape.leaf(0.0), tape.leaf(1.0))->mean();
    BOOST_TEST(false);
  } catch (const NotDefined& e) {
    BOOST_TEST(std::string(e.what()) == "Cauchy: mean is not defined");
  }
  rng::Generator g(1);
  BOOST_CHECK_THROW(poisson(tape.leaf(1.0))->rsample(g, {}), NotDefined);
}

BOOST_AUTO_TEST_CASE(registry_covers_the_language) {
  // LANGUAGE.md's distribution list, with its parameter names.
  const std::vector<std::pair<std::string, std::vector<std::string_view>>> language = {
      {"Normal", {"loc", "scale"}}, {"HalfNormal", {"scale"}}, {"LogNormal", {"loc", "scale"}},
      {"Cauchy", {"loc", "scale"}}, {"HalfCauchy", {"scale"}}, {"StudentT", {"df", "loc", "scale"}},
      {"Laplace", {"loc", "scale"}}, {"Exponential", {"rate"}}, {"Gamma", {"concentration", "rate"}},
      {"InverseGamma", {"concentration", "rate"}}, {"Beta", {"concentration1", "concentration0"}},
      {"Uniform", {"low", "high"}}, {"Bernoulli", {"probs", "logits"}},
      {"Binomial", {"total_count", "probs", "logits"}}, {"Categorical", {"probs", "logits"}},
      {"Poisson", {"rate"}}, {"Geometric", {"probs"}}, {"NegativeBinomial", {"total_count", "probs"}},
      {"MultivariateNormal", {"loc", "covariance_matrix", "scale_tril"}}, {"Dirichlet", {"concentration"}},
  };
  BOOST_TEST(families().size() == language.size());
  for (const auto& [name, params] : language) {
    const Family* f = find_family(name);
    BOOST_TEST_REQUIRE(f != nullptr, name);
    BOOST_TEST(f->params == params, name);
  }
}
