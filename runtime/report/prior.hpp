// Priors with a closed form: a distribution of the table below whose
// arguments are all constants (`mu ~ Normal(0, 5)`), as the report draws
// them beside the posterior. One row per family: its density (continuous)
// or probability (discrete) at a point.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace vireo::report {

struct Prior {
  std::string family;                               // "Normal", "HalfCauchy", …
  std::vector<std::pair<std::string, double>> args;  // in the signature's order, by parameter name
  std::string text;                                  // "Normal(0, 5)"
  bool discrete = false;
  std::vector<double> category_probs;                // Categorical(probs = [...])
};

// Whether the report can draw the family (and `prior` has every argument it needs).
bool has_density(const Prior& prior);
// The density (continuous) or probability (discrete, at an integer) at x;
// 0 outside the support.
double density(const Prior& prior, double x);

}  // namespace vireo::report
